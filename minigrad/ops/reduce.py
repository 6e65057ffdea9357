"""Reductions over axes. Their VJPs spread the gradient back over the reduced axes."""

import numpy as np

from minigrad.ops.primitive import Primitive, Tensor
from minigrad.ops.shape import broadcast_to, reshape


def _unreduce(g: Tensor, shape: tuple[int, ...], axis: tuple[int, ...] | None, keepdims: bool) -> Tensor:
    """g back to a shape with the reduced axes kept as size 1, so that it broadcasts against the input."""
    return g if keepdims or g.ndim == len(shape) else reshape(g, shape=_kept_shape(shape, axis))


def _kept_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` with the reduced axes kept as size 1."""
    return tuple(1 if axis is None or i in axis else d for i, d in enumerate(shape))


def _max_vjp(g: Tensor, out: Tensor, x: Tensor, axis: tuple[int, ...] | None, keepdims: bool) -> Tensor:
    """The gradient goes to the entries equal to the max, shared equally among ties; where the
    max is NaN, the NaN entries won (as in PyTorch's max pooling)."""
    best = out.data if keepdims else out.data.reshape(_kept_shape(x.shape, axis))
    share = x.data == best
    if np.isnan(best).any():
        share |= np.isnan(x.data) & np.isnan(best)
    if np.count_nonzero(share) != out.data.size:  # some max is tied
        counts = np.min_scalar_type(x.data.size // out.data.size)  # fits one window's count; int64 is ~3× slower
        share = share / share.sum(axis=axis, keepdims=True, dtype=counts).astype(x.dtype)
    share_t = g.wrap(share)
    share_t.name = "max winners (ties share)"  # how pictures of the backward graph title the mask
    return _unreduce(g, x.shape, axis, keepdims) * share_t


sum: Primitive = Primitive("sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
                lambda g, out, x, axis, keepdims: broadcast_to(_unreduce(g, x.shape, axis, keepdims), shape=x.shape))

max: Primitive = Primitive("max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
                _max_vjp)
