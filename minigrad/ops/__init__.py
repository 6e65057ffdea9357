"""minigrad's primitives: the only operations that carry a hand-written gradient (VJP).

``registry`` maps each primitive's name to it; everything else in minigrad is built from these.
"""

from minigrad.ops.conv import correlate, fold, out_size, windows
from minigrad.ops.elementwise import add, cast, div, exp, log, maximum, mul, neg, pow, tanh, where
from minigrad.ops.linalg import matmul
from minigrad.ops.primitive import Primitive, registry
from minigrad.ops.reduce import max, sum
from minigrad.ops.shape import (
                                broadcast_to,
                                concatenate,
                                getitem,
                                pad,
                                reshape,
                                scatter_add,
                                sum_to,
                                transpose,
                                unbroadcast,
)

__all__ = ["Primitive", "add", "broadcast_to", "cast", "concatenate", "correlate", "div", "exp", "fold",
           "getitem", "log", "matmul", "max", "maximum", "mul", "neg", "out_size", "pad", "pow", "registry",
           "reshape", "scatter_add", "sum", "sum_to", "tanh", "transpose", "unbroadcast", "where", "windows"]
