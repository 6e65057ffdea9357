"""Elementwise primitives. Binary ones broadcast like numpy; their VJPs sum the gradient
back to each input's shape with ``sum_to``, the adjoint of broadcasting."""

import numpy as np

from minigrad.ops.primitive import Primitive, Tensor
from minigrad.ops.shape import unbroadcast


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

_BITS = {np.dtype(np.float16): np.uint16, np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}


def _where(cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.where(cond, a, b). When b is a scalar +0.0 (relu, and where's own VJPs), it is a's bit
    pattern times cond (1 or 0) as unsigned integers of a's width (``_BITS``): each entry is
    a's exactly (NaN, ±inf and −0.0 included) or all zero bits, which is +0.0. numpy vectorizes
    that product, while np.where branches per element and is ~10× slower on an unpredictable mask."""
    bits = _BITS.get(a.dtype)
    if bits is not None and cond.dtype == bool and b.ndim == 0 and a.dtype == np.result_type(a, b) \
            and not b.astype(a.dtype).view(bits):
        return np.multiply(a.view(bits), cond).view(a.dtype)
    return np.where(cond, a, b)


where: Primitive = Primitive("where", _where,
                  None,  # the condition has no gradient
                  lambda g, out, cond, a, b: unbroadcast(where(cond, g, _zero(g)), a.shape),
                  lambda g, out, cond, a, b: unbroadcast(where(cond, _zero(g), g), b.shape))

cast: Primitive = Primitive("cast", lambda a, dtype: a.astype(dtype),
                 lambda g, out, a, dtype: cast(g, dtype=a.dtype))
