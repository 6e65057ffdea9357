"""Sliding windows and cross-correlation: the primitives under convolution and pooling.

Spatial axes are the trailing ones: ``windows``/``fold`` act on the last len(kernel_size)
axes, ``correlate`` takes x (N, C, *S) and w (O, C/groups, *K) in any number of spatial
dimensions. Output size per axis: L = ⌊(S + 2P − D·(K − 1) − 1) / stride⌋ + 1.

Each forward here is the textbook definition and each VJP its derivation. Only correlate's
forward has a faster twin, in ops/kernels.py, used while the fast kernels are on (the default;
``mg.textbook_kernels()`` turns them off): the same sums in another order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.ops import kernels
from minigrad.ops.primitive import Primitive, Tensor
from minigrad.ops.shape import getitem, pad, padded, scatter_add
from minigrad.state import switches

Ints = tuple[int, ...]


def out_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Number of window positions along one axis: ⌊(W + 2P − D(F − 1) − 1) / S⌋ + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


# ---- windows / fold
def _windows(x: np.ndarray, kernel_size: Ints, stride: Ints, dilation: Ints) -> np.ndarray:
    """A read-only view (*lead, *L, *K): out[..., l, k] = x[..., l·stride + k·dilation]. No copy."""
    d = len(kernel_size)
    steps = x.strides[-d:]
    positions = tuple(map(out_size, x.shape[-d:], kernel_size, stride, (0,) * d, dilation))
    return as_strided(x, x.shape[:-d] + positions + tuple(kernel_size),
                      x.strides[:-d] + tuple(s * t for s, t in zip(stride, steps, strict=True))
                      + tuple(dl * t for dl, t in zip(dilation, steps, strict=True)), writeable=False)


def _fold(g: np.ndarray, size: Ints, kernel_size: Ints, stride: Ints, dilation: Ints) -> np.ndarray:
    """The adjoint of ``windows``: each window is added back where it came from (overlaps sum)."""
    d = len(kernel_size)
    positions = g.shape[-2 * d:-d]
    out = np.zeros(g.shape[:-2 * d] + tuple(size), dtype=g.dtype)
    disjoint = all(s >= dl * (k - 1) + 1 for k, s, dl in zip(kernel_size, stride, dilation, strict=True))
    for k in np.ndindex(*kernel_size):  # one strided slice-add per kernel offset
        target: tuple[Any, ...] = (Ellipsis, *(slice(ki * dl, ki * dl + s * (n - 1) + 1, s)
                                                for ki, dl, s, n in zip(k, dilation, stride, positions, strict=True)))
        tap: tuple[Any, ...] = (Ellipsis, *k)
        if disjoint:  # as in pooling: no entry is in two windows, so a copy is enough
            out[target] = g[tap]
        else:
            out[target] += g[tap]
    return out


windows: Primitive = Primitive("windows", _windows,
                               lambda g, out, x, kernel_size, stride, dilation:
                               fold(g, size=x.shape[-len(kernel_size):], kernel_size=kernel_size, stride=stride,
                                    dilation=dilation))

fold: Primitive = Primitive("fold", _fold,
                            lambda g, out, x, size, kernel_size, stride, dilation:
                            windows(g, kernel_size=kernel_size, stride=stride, dilation=dilation))


# ---- correlate
def _correlate(x: np.ndarray, w: np.ndarray, stride: Ints, padding: Ints, dilation: Ints, groups: int,
               columns: kernels.Columns | None = None) -> tuple[np.ndarray, kernels.Columns | None]:
    """y[n, o, l] = Σ_{c, k} w[o, c, k] · x_padded[n, group(o)·C/g + c, l·stride + k·dilation].

    Pad x, take its sliding windows (a strided view, no copy) and contract each window with
    the kernels of its group: one einsum, whose subscripts are the formula. Returns (y, saved).
    With ``switches.fast_kernels`` on, ops/kernels.py computes the same sums in a faster order
    and saves its im2col columns, which the weight VJP hands back as ``columns``; the
    textbook saves nothing and ignores them.
    """
    if switches.fast_kernels:
        positions = tuple(map(out_size, x.shape[2:], w.shape[2:], stride, padding, dilation))
        return kernels.correlate(x, w, positions, stride, padding, dilation, groups, columns)
    (o, cg), kernel = w.shape[:2], w.shape[2:]
    x = padded(x, ((0, 0), (0, 0), *((p, p) for p in padding)), 0)
    taps = _windows(x, kernel, stride, dilation)                     # (N, C, *L, *K)
    n, positions = taps.shape[0], taps.shape[2:2 + len(kernel)]
    taps = taps.reshape(n, groups, cg, *positions, -1)              # (N, g, C/g, *L, K): the K taps in a row
    y = np.einsum("ngc...k,gock->ngo...", taps, w.reshape(groups, o // groups, cg, -1), optimize=True)
    return y.reshape(n, o, *positions), None


# The VJPs are given every parameter of their node, ``columns`` too; only ops/kernels.py reads it.
def _correlate_vjp_x(g: Tensor, out: Tensor, x: Tensor, w: Tensor, stride: Ints, padding: Ints,
                     dilation: Ints, groups: int, columns: kernels.Columns | None = None) -> Tensor:
    """dL/dX: the adjoint of correlate in x, applied to dL/dY (see ``correlate_transpose``)."""
    return correlate_transpose(g, w, x.shape[2:], stride, padding, dilation, groups)


def _correlate_vjp_w(g: Tensor, out: Tensor, x: Tensor, w: Tensor, stride: Ints, padding: Ints,
                     dilation: Ints, groups: int, columns: kernels.Columns | None = None) -> Tensor:
    """dL/dW[o, c, k] = Σ_{n, l} dL/dY[n, o, l] · X[n, c, l·stride + k·dilation].

    That is a correlation of X with dL/dY in which the batch axis plays the channels:
    the forward's dilation becomes the stride and its stride the dilation. It takes the same
    windows of X as the forward, so it is handed the forward's saved im2col columns, if any.
    """
    (n, c), spatial = x.shape[:2], tuple(range(2, x.ndim))
    if groups == 1:
        xt = x.transpose(1, 0, *spatial)                                     # (C, N, *S)
    else:
        xt = (x.reshape(n, groups, c // groups, *x.shape[2:])
              .transpose(2, 1, 0, *(a + 1 for a in spatial)).reshape(c // groups, groups * n, *x.shape[2:]))
    gt = g.transpose(1, 0, *spatial)                                         # (O, N, *L)
    dw = correlate(xt, gt, stride=dilation, padding=padding, dilation=stride, groups=groups,
                   columns=out.saved)                                        # (C/g, O, *K')
    if dw.shape[2:] != w.shape[2:]:  # positions past the last full window never reach the output
        dw = getitem(dw, index=(slice(None), slice(None), *(slice(0, k) for k in w.shape[2:])))
    return dw.transpose(1, 0, *spatial)


def correlate_transpose(g: Tensor, w: Tensor, size: Ints, stride: Ints, padding: Ints, dilation: Ints,
                        groups: int) -> Tensor:
    """The adjoint of correlate in x: from g (N, O, *L) to (N, C, *size), where size is x's.

    It is the full correlation of g with the flipped kernel, channel axes swapped. The
    forward's stride becomes zeros inserted between the rows of g; the padding
    (D·(K − 1) − P on each side) makes every tap that touched x[i] land on position i.
    dL/dX is this applied to dL/dY, and a transposed convolution is this applied to its input.
    """
    if any(s > 1 for s in stride):
        spread = tuple(s * (n - 1) + 1 for s, n in zip(stride, g.shape[2:], strict=True))
        g = scatter_add(g, index=(slice(None), slice(None), *(slice(None, None, s) for s in stride)),
                        shape=g.shape[:2] + spread)
    kernel = w.shape[2:]
    before = tuple(dl * (k - 1) - p for k, p, dl in zip(kernel, padding, dilation, strict=True))
    after = tuple(s + p - n for s, p, n in zip(size, padding, g.shape[2:], strict=True))
    flip = (slice(None), slice(None), *(slice(None, None, -1) for _ in kernel))
    flipped = _swap_channels(w, groups)[flip]
    if before == after and min(before) >= 0:
        return correlate(g, flipped, stride=(1,) * len(kernel), padding=before, dilation=dilation, groups=groups)
    g = _pad_or_crop(g, tuple(zip(before, after, strict=True)))
    return correlate(g, flipped, stride=(1,) * len(kernel), padding=(0,) * len(kernel), dilation=dilation,
                     groups=groups)


def _swap_channels(w: Tensor, groups: int) -> Tensor:
    """(O, C/g, *K) → (C, O/g, *K): within each group, input and output channels trade places."""
    spatial = tuple(range(2, w.ndim))
    if groups == 1:
        return w.transpose(1, 0, *spatial)
    o, cg = w.shape[:2]
    return (w.reshape(groups, o // groups, cg, *w.shape[2:]).transpose(0, 2, 1, *(a + 1 for a in spatial))
            .reshape(groups * cg, o // groups, *w.shape[2:]))


def _pad_or_crop(t: Tensor, widths: tuple[tuple[int, int], ...]) -> Tensor:
    """Pads the spatial axes by the positive widths and crops them by the negative ones."""
    crop = tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(widths, t.shape[2:], strict=True))
    if any(a < 0 or b < 0 for a, b in widths):
        t = getitem(t, index=(slice(None), slice(None), *crop))
    grow = ((0, 0), (0, 0), *((max(a, 0), max(b, 0)) for a, b in widths))
    return pad(t, pad_width=grow, value=0.0) if any(map(any, grow)) else t


correlate: Primitive = Primitive("correlate", _correlate, _correlate_vjp_x, _correlate_vjp_w, saves=True)
