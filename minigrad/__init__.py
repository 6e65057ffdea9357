"""minigrad: reverse-mode automatic differentiation on numpy, small enough to read.

A Tensor records the primitives applied to it; ``backward`` runs their vector-Jacobian
products in reverse. Layers, losses and activations are compositions of those primitives.
"""

from minigrad import memory  # noqa: I001 (first: it tunes malloc before any array is made)
from minigrad.tensor import Tensor  # Tensor next: the rest builds on it
from minigrad import ops
from minigrad.autograd import detect_anomaly, enable_grad, grad, no_grad
from minigrad.creation import (arange, full, manual_seed, ones, ones_like, rand, randn, tensor, zeros,
                               zeros_like)
from minigrad.functions import concatenate, correlate, matmul, maximum, minimum, pad, stack, where, windows
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from minigrad.serialization import load, save
from minigrad import data, datasets, models, nn, optim, viz
from minigrad.summary import summary

__version__ = "0.1.0"

__all__ = ["GradcheckError", "Tensor", "arange", "concatenate", "correlate", "data", "datasets", "detect_anomaly",
           "enable_grad", "full", "grad", "gradcheck", "gradgradcheck", "load", "manual_seed", "matmul", "maximum",
           "memory", "minimum", "models", "nn", "no_grad", "numerical_grad", "ones", "ones_like", "ops", "optim",
           "pad", "rand", "randn", "save", "stack", "summary", "tensor", "viz", "where", "windows", "zeros",
           "zeros_like"]
