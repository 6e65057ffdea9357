"""minigrad: reverse-mode automatic differentiation on numpy, small enough to read.

A Tensor records the primitives applied to it; ``backward`` runs their vector-Jacobian
products in reverse. Layers, losses and activations are compositions of those primitives.
"""

from minigrad import data, datasets, memory, models, nn, ops, optim, viz
from minigrad.autograd import grad
from minigrad.creation import arange, full, manual_seed, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from minigrad.serialization import CheckpointError, load, save
from minigrad.state import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled, textbook_kernels
from minigrad.summary import summary
from minigrad.tensor import Tensor
from minigrad.tensor_functions import (
    as_tensor,
    cat,
    concatenate,
    correlate,
    matmul,
    maximum,
    minimum,
    pad,
    stack,
    where,
    windows,
)

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "GradcheckError",
    "Tensor",
    "arange",
    "as_tensor",
    "cat",
    "concatenate",
    "correlate",
    "data",
    "datasets",
    "detect_anomaly",
    "enable_grad",
    "full",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "load",
    "manual_seed",
    "matmul",
    "maximum",
    "memory",
    "minimum",
    "models",
    "nn",
    "no_grad",
    "numerical_grad",
    "ones",
    "ones_like",
    "ops",
    "optim",
    "pad",
    "rand",
    "randn",
    "save",
    "set_grad_enabled",
    "stack",
    "summary",
    "tensor",
    "textbook_kernels",
    "viz",
    "where",
    "windows",
    "zeros",
    "zeros_like",
]
