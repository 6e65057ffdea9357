"""Reductions over axes. Their VJPs spread the gradient back over the reduced axes."""

import numpy as np

from minigrad.ops.elementwise import where
from minigrad.ops.primitive import Primitive, Tensor
from minigrad.ops.shape import broadcast_to, reshape


def _unreduce(g: Tensor, shape: tuple[int, ...], axis: tuple[int, ...] | None, keepdims: bool) -> Tensor:
    """g back to a shape with the reduced axes kept as size 1, so that it broadcasts against the input."""
    return g if keepdims or g.ndim == len(shape) else reshape(g, shape=_kept_shape(shape, axis))


def _kept_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` with the reduced axes kept as size 1."""
    return tuple(1 if axis is None or i in axis else d for i, d in enumerate(shape))


def _max_vjp(g: Tensor, out: Tensor, x: Tensor, axis: tuple[int, ...] | None, keepdims: bool) -> Tensor:
    """dL/dx = where(winner, dL/dy / k, 0): the gradient goes to the entries equal to the max
    (the winners), shared equally among the k that tie; the others get +0 whatever dL/dy is,
    inf and NaN included. Where the max is NaN, the NaN entries won (as in PyTorch's max pooling)."""
    best = out.data if keepdims else out.data.reshape(_kept_shape(x.shape, axis))
    winners = x.data == best
    if np.isnan(best).any():
        winners |= np.isnan(x.data) & np.isnan(best)
    g = _unreduce(g, x.shape, axis, keepdims)
    if np.count_nonzero(winners) != out.data.size:  # some max is tied
        k = winners.sum(axis=axis, keepdims=True, dtype=np.min_scalar_type(x.data.size // out.data.size))
        share = g.wrap(np.reciprocal(k.astype(x.dtype)))  # (k in a count's smallest dtype: int64 is ~3× slower)
        share.name = "1/k (k winners tie)"  # how pictures of the backward graph title the constants
        g = g * share
    mask = g.wrap(winners)
    mask.name = "max winners"
    return where(mask, g, g.wrap(np.zeros((), g.dtype)))


sum: Primitive = Primitive("sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
                lambda g, out, x, axis, keepdims: broadcast_to(_unreduce(g, x.shape, axis, keepdims), shape=x.shape))

max: Primitive = Primitive("max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
                _max_vjp)
