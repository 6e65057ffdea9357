"""Linear primitives that move, copy or sum entries without arithmetic on values.

They come in adjoint pairs, and each one's VJP is its partner:
broadcast_to/sum_to, getitem/scatter_add, pad/getitem (crop), reshape/reshape,
transpose/transpose (inverse permutation), concatenate/getitem.
"""

import numpy as np

from minigrad.ops.primitive import Primitive, Tensor


def _sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sums x over the axes that broadcasting to x.shape added or stretched."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    stretched = tuple(lead + i for i, d in enumerate(shape) if d == 1 and x.shape[lead + i] != 1)
    return x.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)


def _scatter_add(x: np.ndarray, index: tuple, shape: tuple[int, ...]) -> np.ndarray:
    """zeros(shape) with x added at ``index``; repeated integer indices accumulate."""
    out = np.zeros(shape, dtype=x.dtype)
    if any(isinstance(i, np.ndarray) for i in index):
        np.add.at(out, index, x)
    else:
        out[index] = x  # basic indices never repeat an entry
    return out


def padded(x: np.ndarray, pad_width: tuple[tuple[int, int], ...], value: float) -> np.ndarray:
    """x in a new array grown by pad_width[i] = (before, after) entries of ``value`` on each axis i."""
    out = np.full([d + a + b for d, (a, b) in zip(x.shape, pad_width, strict=True)], value, dtype=x.dtype)
    out[_interior(x.shape, pad_width)] = x
    return out


def _interior(shape: tuple[int, ...], pad_width: tuple[tuple[int, int], ...]) -> tuple[slice, ...]:
    """The slices of a padded array that hold the original."""
    return tuple(slice(a, a + d) for d, (a, _) in zip(shape, pad_width, strict=True))


def _concatenate_vjp(i: int, g: Tensor, out: Tensor, *xs: Tensor, axis: int) -> Tensor:
    start = int(np.sum([x.shape[axis] for x in xs[:i]], dtype=int))
    return getitem(g, index=(slice(None),) * axis + (slice(start, start + xs[i].shape[axis]),))


def _inverse(axes: tuple[int, ...]) -> tuple[int, ...]:
    """The inverse permutation: where each axis went (numpy's argsort of ``axes``, without numpy's call cost)."""
    return tuple(sorted(range(len(axes)), key=axes.__getitem__))


def unbroadcast(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """g summed down to ``shape``: the VJP of numpy's implicit broadcasting (free when shapes match)."""
    return g if g.shape == shape else sum_to(g, shape=shape)


reshape: Primitive = Primitive("reshape", lambda x, shape: x.reshape(shape),
                    lambda g, out, x, shape: reshape(g, shape=x.shape))

transpose: Primitive = Primitive("transpose", lambda x, axes: x.transpose(axes),
                      lambda g, out, x, axes: transpose(g, axes=_inverse(axes)))

broadcast_to: Primitive = Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
                         lambda g, out, x, shape: unbroadcast(g, x.shape))

sum_to: Primitive = Primitive("sum_to", _sum_to,
                   lambda g, out, x, shape: broadcast_to(g, shape=x.shape))

getitem: Primitive = Primitive("getitem", lambda x, index: x[index],
                    lambda g, out, x, index: scatter_add(g, index=index, shape=x.shape))

scatter_add: Primitive = Primitive("scatter_add", _scatter_add,
                        lambda g, out, x, index, shape: getitem(g, index=index))

pad: Primitive = Primitive("pad", padded,
                lambda g, out, x, pad_width, value: getitem(g, index=_interior(x.shape, pad_width)))

concatenate: Primitive = Primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis),
                        vjp_argnum=_concatenate_vjp)
