"""Sliding windows and cross-correlation: the primitives under convolution and pooling.

Spatial axes are the trailing ones: ``windows``/``fold`` act on the last len(kernel_size)
axes, ``correlate`` takes x (N, C, *S) and w (O, C/groups, *K) in any number of spatial
dimensions. Output size per axis: L = ⌊(S + 2P − D·(K − 1) − 1) / stride⌋ + 1.
"""

import contextlib
import math
import weakref
from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.ops.primitive import Primitive, Tensor
from minigrad.ops.shape import _pad, getitem, pad, scatter_add
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
        target = (Ellipsis, *(slice(ki * dl, ki * dl + s * (n - 1) + 1, s)
                              for ki, dl, s, n in zip(k, dilation, stride, positions, strict=True)))
        if disjoint:  # as in pooling: no entry is in two windows, so a copy is enough
            out[target] = g[(Ellipsis, *k)]
        else:
            out[target] += g[(Ellipsis, *k)]
    return out


windows = Primitive("windows", _windows,
                    lambda g, out, x, kernel_size, stride, dilation:
                    fold(g, size=x.shape[-len(kernel_size):], kernel_size=kernel_size, stride=stride,
                         dilation=dilation))

fold = Primitive("fold", _fold,
                 lambda g, out, x, size, kernel_size, stride, dilation:
                 windows(g, kernel_size=kernel_size, stride=stride, dilation=dilation))


# ---- correlate
_SLICE_ADD_COST = 20_000  # one slice-add call costs about as much as moving this many more entries
_SHORT_ROW = 16  # image rows shorter than this make slice-adds slow (see _multiply_then_gather)


def _correlate(x: np.ndarray, w: np.ndarray, stride: Ints, padding: Ints, dilation: Ints, groups: int) -> np.ndarray:
    """y[n, o, l] = Σ_{c, k} w[o, c, k] · x_padded[n, group(o)·C/g + c, l·stride + k·dilation].

    Two orders compute it with one matrix product; the cheaper one is used:
    - gather, then multiply (im2col): copy the windows of x into columns (C/g·K·N·L
      entries), multiply by w;
    - multiply, then gather: multiply every input pixel by every kernel tap (O/g·K·N·S
      products), then add each tap's products where they land, one slice-add per tap.
      Cheaper when there are fewer output than input channels and few taps, as in the VJP for x.
    Both work channels first, (C, N, *S), so that a group's rows are contiguous.
    """
    (o, cg), kernel = w.shape[:2], w.shape[2:]
    (n, spatial), nk = (x.shape[0], x.shape[2:]), math.prod(kernel)
    positions = tuple(map(out_size, spatial, kernel, stride, padding, dilation))
    xc = x.swapaxes(0, 1)
    columns = cg * nk * n * math.prod(positions)
    products = o // groups * nk * n * math.prod(spatial) + nk * _SLICE_ADD_COST
    if products < columns:
        return _multiply_then_gather(xc, w, positions, stride, padding, dilation, groups).swapaxes(0, 1)
    y, cols, key = _gather_then_multiply(xc, w, positions, stride, padding, dilation, groups)
    y = y.swapaxes(0, 1)
    _kept_columns.keep(y, key, cols)
    return y


def _gather_then_multiply(xc: np.ndarray, w: np.ndarray, positions: Ints, stride: Ints, padding: Ints,
                          dilation: Ints, groups: int) -> tuple[np.ndarray, np.ndarray, tuple | None]:
    """im2col: one copy of the windows of xc (C, N, *S) into a column matrix, then one matrix
    product; returns y as (O, N, *L), the columns and their key (see ``_KeptColumns``).

    The columns are laid out so that the copy's innermost loop is the longer of the output
    positions and the kernel positions and, when even that row is short, runs along the batch
    too (see ``_gather``). The weight VJP's columns are taken from its forward.
    """
    n = xc.shape[1]
    (o, cg), kernel = w.shape[:2], w.shape[2:]
    nk, nl = math.prod(kernel), math.prod(positions)
    kernel_first = nl >= nk  # columns (g, C/g·K, N·L), else (g, N·L, C/g·K)
    batch_last = (positions if kernel_first else kernel)[-1] < _SHORT_ROW
    key = None if groups > 1 else _KeptColumns.key(xc, kernel, positions, stride, padding, dilation, kernel_first,
                                                   batch_last)
    cols = _kept_columns.take(key)
    if cols is None:
        cols = _gather(xc, kernel, positions, stride, padding, dilation, groups, kernel_first, batch_last)
    if kernel_first:
        y = w.reshape(groups, o // groups, cg * nk) @ cols                # (g, O/g, N·L) or (g, O/g, L·N)
        if batch_last:
            return np.ascontiguousarray(np.moveaxis(y.reshape(o, *positions, n), -1, 1)), cols, key
        return y.reshape(o, n, *positions), cols, key
    wg = np.moveaxis(w, 1, -1) if batch_last else w                       # rows (o), columns (k, c) or (c, k)
    y = cols @ wg.reshape(groups, o // groups, cg * nk).transpose(0, 2, 1)  # (g, N·L, O/g)
    return y.transpose(0, 2, 1).reshape(o, n, *positions), cols, key


def _gather(xc: np.ndarray, kernel: Ints, positions: Ints, stride: Ints, padding: Ints, dilation: Ints,
            groups: int, kernel_first: bool, batch_last: bool) -> np.ndarray:
    """The windows of xc (C, N, *S) copied into columns (g, C/g·K, N·L), or (g, N·L, C/g·K).

    With ``batch_last`` the last factor's two axes trade places — (g, C/g·K, L·N), or
    (g, N·L, K·C/g) — and the copy is made from xc rearranged so that that last axis is
    contiguous: each row of every window is then one run of (row length × N) entries, not a
    run of a few entries per image (3× faster for LeNet's 10-wide second layer).
    """
    c, n = xc.shape[:2]
    last = 1 if kernel_first else 0  # the axis that ends the columns
    source = np.moveaxis(xc, last, -1) if batch_last else xc  # (C, *S, N), (N, *S, C) or (C, N, *S)
    first = 1 if batch_last else 2                               # of the spatial axes
    if any(padding) or batch_last:  # a padded copy, contiguous in the new order
        after = ((0, 0),) * (source.ndim - first - len(padding))
        source = _pad(source, ((0, 0),) * first + tuple((p, p) for p in padding) + after, 0)
    s_sp = source.strides[first:first + len(padding)]
    if batch_last:
        s_c, s_n = (source.strides[0], source.strides[-1]) if kernel_first else (source.strides[-1], source.strides[0])
    else:
        s_c, s_n = source.strides[:2]
    at_k = tuple(dl * t for dl, t in zip(dilation, s_sp, strict=True))  # step between kernel taps
    at_l = tuple(s * t for s, t in zip(stride, s_sp, strict=True))      # step between output positions
    cg, nk, nl = c // groups, math.prod(kernel), math.prod(positions)
    if kernel_first:
        ends = ((*positions, n), (*at_l, s_n)) if batch_last else ((n, *positions), (s_n, *at_l))
        cols = as_strided(source, (groups, cg, *kernel, *ends[0]), (cg * s_c, s_c, *at_k, *ends[1]))
        return cols.reshape(groups, cg * nk, n * nl)
    ends = ((*kernel, cg), (*at_k, s_c)) if batch_last else ((cg, *kernel), (s_c, *at_k))
    cols = as_strided(source, (groups, n, *positions, *ends[0]), (cg * s_c, s_n, *at_l, *ends[1]))
    return cols.reshape(groups, n * nl, cg * nk)


class _KeptColumns:
    """The im2col columns of recent forwards, kept for their weight VJPs.

    dL/dW is a correlation of x with dL/dY in which kernel and output positions trade places
    (see ``_correlate_vjp_w``): its columns are exactly the forward's, so gathering them again
    would repeat the largest copy of the step (PERF.md's hand-written floor keeps them too).
    The weight VJP ``offer``s its forward's columns, and the correlate it runs ``take``s them
    only if their key says they are the windows it needs: same array, shape and strides, with
    kernel and positions, stride and dilation swapped when the layout is the other one.

    Columns are kept only while grad mode is on, for groups = 1, until taken or until the
    forward's output array is freed, up to 64 MB in all: beyond that they are gathered again.
    """

    budget = 64 << 20

    def __init__(self) -> None:
        self.kept: dict[int, tuple[tuple, np.ndarray]] = {}  # id(forward output) → (key, columns)
        self.bytes = 0
        self.offered: int | None = None  # id of the forward output whose weight VJP is running

    @staticmethod
    def key(xc: np.ndarray, kernel: Ints, positions: Ints, stride: Ints, padding: Ints, dilation: Ints,
            kernel_first: bool, batch_last: bool) -> tuple:
        """What the columns hold, in the kernel-first terms of the forward that gathers them."""
        if kernel_first:
            return (xc.ctypes.data, xc.shape, xc.strides, xc.dtype, kernel, positions, stride, padding, dilation,
                    batch_last)
        swap = (1, 0, *range(2, xc.ndim))
        return (xc.ctypes.data, tuple(xc.shape[a] for a in swap), tuple(xc.strides[a] for a in swap), xc.dtype,
                positions, kernel, dilation, padding, stride, batch_last)

    def keep(self, y: np.ndarray, key: tuple | None, cols: np.ndarray) -> None:
        if key is None or not switches.grad_enabled or self.bytes + cols.nbytes > self.budget:
            return
        self.kept[id(y)] = (key, cols)
        self.bytes += cols.nbytes
        weakref.finalize(y, self._drop, id(y))

    def _drop(self, ident: int) -> None:
        if ident in self.kept:
            self.bytes -= self.kept.pop(ident)[1].nbytes

    @contextlib.contextmanager
    def offer(self, y: np.ndarray) -> Iterator[None]:
        """Inside, a correlate that needs the columns kept with the forward output y takes them."""
        previous, self.offered = self.offered, id(y)
        try:
            yield
        finally:
            self.offered = previous

    def take(self, key: tuple | None) -> np.ndarray | None:
        """The offered columns if they are the ones with this key (they are then no longer kept)."""
        if key is None or self.kept.get(self.offered, (None,))[0] != key:
            return None
        cols = self.kept[self.offered][1]
        self._drop(self.offered)
        return cols


_kept_columns = _KeptColumns()


def _multiply_then_gather(xc: np.ndarray, w: np.ndarray, positions: Ints, stride: Ints, padding: Ints,
                          dilation: Ints, groups: int) -> np.ndarray:
    """z[o, k, n, s] = Σ_c w[o, c, k] · xc[group(o)·C/g + c, n, s] by one matrix product, then
    y[o, n, l] = Σ_k z[o, k, n, l·stride + k·dilation − padding] by one slice-add per kernel
    offset; taps that fall on the padding add nothing, so x is never padded. Returns (O, N, *L).

    A slice-add runs fast along long contiguous rows. When the image rows are short, the
    batch axis is put last instead, so that each row of every image is one contiguous run.
    """
    n, spatial = xc.shape[1], xc.shape[2:]
    (o, cg), kernel = w.shape[:2], w.shape[2:]
    batch_last = min(spatial[-1], positions[-1]) < _SHORT_ROW
    all_ = slice(None)

    def images(*index: slice) -> tuple[slice, ...]:  # a spatial index, with every image
        return (*index, all_) if batch_last else (all_, *index)

    if batch_last:
        xc = np.moveaxis(xc, 1, -1)                                       # (C, *S, N)
    wk = w.reshape(groups, o // groups, cg, -1).transpose(0, 1, 3, 2).reshape(groups, -1, cg)  # rows (o, k)
    z = (wk @ xc.reshape(groups, cg, -1)).reshape(o, *kernel, *xc.shape[1:])
    landings = [_landings(*axis) for axis in zip(kernel, spatial, positions, stride, padding, dilation, strict=True)]
    y = np.zeros((o, *positions, n) if batch_last else (o, n, *positions), xc.dtype)
    for k in np.ndindex(*kernel):
        into, taps = zip(*(axis[i] for axis, i in zip(landings, k, strict=True)), strict=True)
        y[(all_, *images(*into))] += z[(all_, *k, *images(*taps))]
    return np.ascontiguousarray(np.moveaxis(y, -1, 1)) if batch_last else y


def _landings(kernel: int, size: int, positions: int, stride: int, padding: int,
              dilation: int) -> list[tuple[slice, slice]]:
    """Along one axis, for each kernel offset k: the outputs l whose tap reads inside x, and
    where those taps read (l·stride + k·dilation − padding, which must lie in [0, size))."""
    slices = []
    for k in range(kernel):
        first = max(0, -((k * dilation - padding) // stride))
        count = max(min(positions - 1, (size - 1 + padding - k * dilation) // stride) - first + 1, 0)
        start = first * stride + k * dilation - padding
        stop = start + stride * (count - 1) + 1 if count else start
        slices.append((slice(first, first + count), slice(start, stop, stride)))
    return slices


def _correlate_vjp_x(g: Tensor, out: Tensor, x: Tensor, w: Tensor, stride: Ints, padding: Ints,
                     dilation: Ints, groups: int) -> Tensor:
    """dL/dX is the full correlation of dL/dY with the flipped kernel, channel axes swapped.

    The forward's stride becomes zeros inserted between the rows of dL/dY; the padding
    (D·(K − 1) − P on each side) makes every tap that touched x[i] land on output i.
    """
    if any(s > 1 for s in stride):
        spread = tuple(s * (n - 1) + 1 for s, n in zip(stride, g.shape[2:], strict=True))
        g = scatter_add(g, index=(slice(None), slice(None), *(slice(None, None, s) for s in stride)),
                        shape=g.shape[:2] + spread)
    kernel = w.shape[2:]
    before = tuple(dl * (k - 1) - p for k, p, dl in zip(kernel, padding, dilation, strict=True))
    after = tuple(s + p - n for s, p, n in zip(x.shape[2:], padding, g.shape[2:], strict=True))
    flipped = _swap_channels(w, groups)[(slice(None), slice(None), *(slice(None, None, -1) for _ in kernel))]
    if before == after and min(before) >= 0:
        return correlate(g, flipped, stride=(1,) * len(kernel), padding=before, dilation=dilation, groups=groups)
    g = _pad_or_crop(g, tuple(zip(before, after, strict=True)))
    return correlate(g, flipped, stride=(1,) * len(kernel), padding=(0,) * len(kernel), dilation=dilation,
                     groups=groups)


def _correlate_vjp_w(g: Tensor, out: Tensor, x: Tensor, w: Tensor, stride: Ints, padding: Ints,
                     dilation: Ints, groups: int) -> Tensor:
    """dL/dW[o, c, k] = Σ_{n, l} dL/dY[n, o, l] · X[n, c, l·stride + k·dilation].

    That is a correlation of X with dL/dY in which the batch axis plays the channels:
    the forward's dilation becomes the stride and its stride the dilation.
    """
    (n, c), spatial = x.shape[:2], tuple(range(2, x.ndim))
    if groups == 1:
        xt = x.transpose(1, 0, *spatial)                                     # (C, N, *S)
    else:
        xt = (x.reshape(n, groups, c // groups, *x.shape[2:])
              .transpose(2, 1, 0, *(a + 1 for a in spatial)).reshape(c // groups, groups * n, *x.shape[2:]))
    gt = g.transpose(1, 0, *spatial)                                         # (O, N, *L)
    with _kept_columns.offer(out.data):
        dw = correlate(xt, gt, stride=dilation, padding=padding, dilation=stride, groups=groups)  # (C/g, O, *K')
    if dw.shape[2:] != w.shape[2:]:  # positions past the last full window never reach the output
        dw = getitem(dw, index=(slice(None), slice(None), *(slice(0, k) for k in w.shape[2:])))
    return dw.transpose(1, 0, *spatial)


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


correlate = Primitive("correlate", _correlate, _correlate_vjp_x, _correlate_vjp_w)
