"""Elementwise primitives. Binary ones broadcast like numpy; their VJPs sum the gradient
back to each input's shape with ``sum_to``, the adjoint of broadcasting."""

import numpy as np

from minigrad.ops import kernels
from minigrad.ops.primitive import Primitive, Tensor
from minigrad.ops.shape import unbroadcast
from minigrad.state import switches


def _tied_share(a: Tensor, b: Tensor) -> Tensor:
    """1 where a wins, ½ where a and b tie, 0 where b wins: a's share of maximum's gradient.
    Where either is NaN (so is the result) each side gets all of it, as in PyTorch. Built in
    the result's dtype (0, ½ and 1 are exact in each), not in float64 as ``0.5 * mask`` would be."""
    dtype = np.result_type(a.dtype, b.dtype)
    share = np.add(a.data > b.data, np.isnan(a.data) | np.isnan(b.data), dtype=dtype)
    share += np.multiply(a.data == b.data, 0.5, dtype=dtype)
    return a.wrap(share)


def _zero(like: Tensor) -> Tensor:
    return like.wrap(np.zeros((), like.dtype))


add: Primitive = Primitive("add", np.add,
                lambda g, out, a, b: unbroadcast(g, a.shape),
                lambda g, out, a, b: unbroadcast(g, b.shape))

mul: Primitive = Primitive("mul", np.multiply,
                lambda g, out, a, b: unbroadcast(g * b, a.shape),
                lambda g, out, a, b: unbroadcast(g * a, b.shape))

div: Primitive = Primitive("div", np.divide,
                lambda g, out, a, b: unbroadcast(g / b, a.shape),
                lambda g, out, a, b: unbroadcast(-g * out / b, b.shape))

neg: Primitive = Primitive("neg", np.negative,
                lambda g, out, a: -g)

def _pow_vjp_a(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """d(aᵇ)/da = b·aᵇ⁻¹, and 0 where b = 0 (aᵇ⁻¹ would be 1/0 at a = 0; the exponent is set to 1 there)."""
    return unbroadcast(g * b * a ** (b - 1).where(b != 0, 1), a.shape)


def _pow_vjp_b(g: Tensor, out: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """d(aᵇ)/db = aᵇ·log a, and 0 where a = 0 (log 0 would be −inf; 1 is taken instead)."""
    return unbroadcast(g * out * a.where(a != 0, 1).log(), b.shape)


pow: Primitive = Primitive("pow", np.power, _pow_vjp_a, _pow_vjp_b)

exp: Primitive = Primitive("exp", np.exp,
                lambda g, out, a: g * out)

log: Primitive = Primitive("log", np.log,
                lambda g, out, a: g / a)

tanh: Primitive = Primitive("tanh", np.tanh,  # a primitive for accuracy near 0 (see Tensor.tanh)
                 lambda g, out, a: g * (1 - out * out))

maximum: Primitive = Primitive("maximum", np.maximum,
                    lambda g, out, a, b: unbroadcast(g * _tied_share(a, b), a.shape),
                    lambda g, out, a, b: unbroadcast(g * _tied_share(b, a), b.shape))

def _where(cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """out = a where cond holds, else b. With ``switches.fast_kernels`` on, ops/kernels.py
    computes it bit for bit by an integer multiply when b is a scalar +0.0 (relu, where's VJPs)."""
    if switches.fast_kernels:
        return kernels.where(cond, a, b)
    return np.where(cond, a, b)


where: Primitive = Primitive("where", _where,
                  None,  # the condition has no gradient
                  lambda g, out, cond, a, b: unbroadcast(where(cond, g, _zero(g)), a.shape),
                  lambda g, out, cond, a, b: unbroadcast(where(cond, _zero(g), g), b.shape))

cast: Primitive = Primitive("cast", lambda a, dtype: a.astype(dtype),
                 lambda g, out, a, dtype: cast(g, dtype=a.dtype))
