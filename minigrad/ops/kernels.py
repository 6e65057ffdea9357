"""Tuned kernels: the sums of the textbook ``correlate`` (ops/conv.py), ordered for speed.

conv.py's forward is the definition — pad, take every window, contract with the kernel —
and its one choice point sends the work here while ``switches.fast_kernels`` is on
(``mg.textbook_kernels()`` or ``MINIGRAD_KERNELS=textbook`` turn it off). The results are
the same sums in another order, so they agree up to floating-point rounding (exactly, when
every sum is exact). Two orders compute a correlation with one matrix product:

- gather, then multiply (im2col): copy the windows of x into a column matrix, multiply by w;
- multiply, then gather: multiply every input pixel by every kernel tap, then add each tap's
  products where they land, one slice-add per kernel offset.

``correlate`` estimates the cost of both and runs the cheaper. The weight VJP is a
correlation whose im2col columns are exactly the forward's, so the forward returns its
columns, the VJP hands them back, and the largest copy of a training step is made once.
Everything works channels first, (C, N, *S), so that a group's rows are contiguous.

Correlations whose columns are too large to keep are cut into chunks of images and of
channels, each still one matrix product, so that no copy passes CHUNK_BYTES: memory, not
speed, is why there is a loop.

``where`` (ops/elementwise.py) sends its work here from its own choice point, under the same
switch: with a +0.0 scalar for b — relu, and where's own VJPs — an integer multiply gives
np.where's result bit for bit, ~10× faster on an unpredictable mask.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.ops.shape import padded

Ints = tuple[int, ...]

# The cost model. Both constants were tuned on one 2-core x86 machine; other values change
# only the speed, never the results (tests/test_kernels.py forces each choice both ways).
_SLICE_ADD_COST = 20_000  # one slice-add call costs about as much as moving this many more entries
_SHORT_ROW = 16  # rows shorter than this are copied or slice-added with the batch axis laid out last
# Columns larger than this (bytes) are not kept on the node for the weight VJP, which gathers
# them again: VGG16's first layers at 224×224 would otherwise hold GBs until backward.
KEEP_COLUMNS = 32 << 20
# A correlation whose columns (or products) are too large to keep is computed in chunks of
# images and channels, each chunk's columns under this many bytes: see ``correlate``.
CHUNK_BYTES = 16 << 20


@dataclass(frozen=True, repr=False)
class Columns:
    """A correlation's im2col columns and their layout: (g, C/g·K, N·L) when ``kernel_first``,
    else (g, N·L, C/g·K); with ``batch_last`` the last factor's two axes trade places (see ``_gather``)."""

    array: np.ndarray
    kernel_first: bool
    batch_last: bool

    def __repr__(self) -> str:  # never the entries: a graph picture may show the parameter
        return f"Columns{self.array.shape}"


def correlate(x: np.ndarray, w: np.ndarray, positions: Ints, stride: Ints, padding: Ints, dilation: Ints,
              groups: int, columns: Columns | None = None) -> tuple[np.ndarray, Columns | None]:
    """y = correlate(x, w) (see ops/conv.py) by the cheaper order, and the columns worth keeping.

    Multiply-then-gather makes O/g·K·N·S products and K slice-adds; im2col copies C/g·K·N·L
    entries. The first wins when there are fewer output than input channels and few taps, as
    in the VJP for x. ``columns``, the forward's, are given to the weight VJP's correlation: in
    it kernel and output positions trade places, so the forward's layout is read the other way.
    Columns are returned (to be kept on the graph node) for groups = 1, up to KEEP_COLUMNS bytes.

    When that copy (or multiply-then-gather's products) is too large to keep, and larger than
    CHUNK_BYTES, the sums are split: y[:, n] = Σ_{chunks c} w[:, c] ⋆ xc[c, n] for chunks n of
    the images and c of each group's channels (see ``_chunks``), each chunk still one matrix
    product. VGG16's first layers at batch 8 would otherwise copy 0.9 GB at once.
    """
    (o, cg), kernel, n = w.shape[:2], w.shape[2:], x.shape[0]
    nk, nl, xc = math.prod(kernel), math.prod(positions), x.swapaxes(0, 1)     # xc: (C, N, *S)
    cols = _read_the_other_way(columns, (groups, cg * nk, n * nl), x.dtype)
    if cols is not None:
        y = _multiply(cols, w, positions, n, groups)
    else:
        products = o // groups * nk * math.prod(x.shape[2:])  # per image
        gather_first = n * products + nk * _SLICE_ADD_COST >= cg * nk * n * nl
        if gather_first:  # the columns of one image and one channel; split first the axis cheaper to repeat
            cell, channels, channels_first = groups * nk * nl * x.itemsize, cg, w.size > o * n * nl
        else:  # an image's products need all its channels: only the images are split
            cell, channels, channels_first = groups * products * x.itemsize, 1, False
        chunks = _chunks(n, channels, cell, channels_first) if n * channels * cell > KEEP_COLUMNS else (1, 1)
        if chunks != (1, 1):
            y = _in_chunks(xc, w, positions, stride, padding, dilation, groups, gather_first, chunks)
            return y.swapaxes(0, 1), None
        y, cols = _in_order(xc, w, positions, stride, padding, dilation, groups, gather_first)
    return y.swapaxes(0, 1), cols if cols is not None and groups == 1 and cols.array.nbytes <= KEEP_COLUMNS else None


def _chunks(n: int, c: int, cell: int, channels_first: bool) -> tuple[int, int]:
    """How many chunks of the n images and of the c channels keep each chunk's transient under
    CHUNK_BYTES, ``cell`` bytes of it being one image's and one channel's share.

    A chunk of images reads all of w again, a chunk of channels adds into all of y again: the
    axis whose repetition costs less is split first, the other only when one slice of the first
    is still too big. (In the weight VJP, where the batch axis plays the channels and dL/dY the
    kernel, that is the images.)
    """
    first, second = (c, n) if channels_first else (n, c)
    take_first = min(first, max(1, CHUNK_BYTES // (second * cell)))  # per chunk, with all of second
    take_second = min(second, max(1, CHUNK_BYTES // (take_first * cell)))
    parts = _ceil(first, take_first), _ceil(second, take_second)
    return parts[::-1] if channels_first else parts


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _in_chunks(xc: np.ndarray, w: np.ndarray, positions: Ints, stride: Ints, padding: Ints, dilation: Ints,
               groups: int, gather_first: bool, chunks: tuple[int, int]) -> np.ndarray:
    """y (O, N, *L) from ``chunks`` = (parts of the images, parts of each group's channels):
    y[:, n] = Σ_c y_c[:, n], each chunk by ``_in_order``. Returns a new array."""
    n, spatial, cg = xc.shape[1], xc.shape[2:], w.shape[1]
    by_group = xc.reshape(groups, cg, n, *spatial)
    y = np.empty((w.shape[0], n, *positions), xc.dtype)
    for images in _spans(n, chunks[0]):
        parts = (_in_order(by_group[:, channels, images].reshape(-1, images.stop - images.start, *spatial),
                           w[:, channels], positions, stride, padding, dilation, groups, gather_first)[0]
                 for channels in _spans(cg, chunks[1]))
        y[:, images] = functools.reduce(np.add, parts)
    return y


def _spans(size: int, parts: int) -> list[slice]:
    """range(size) cut into consecutive slices of ⌈size / parts⌉ (the last one shorter if need be)."""
    step = _ceil(size, parts)
    return [slice(start, min(start + step, size)) for start in range(0, size, step)]


def _in_order(xc: np.ndarray, w: np.ndarray, positions: Ints, stride: Ints, padding: Ints, dilation: Ints,
              groups: int, gather_first: bool) -> tuple[np.ndarray, Columns | None]:
    """y (O, N, *L) by im2col (``gather_first``) or by multiply-then-gather, and the columns if any."""
    if not gather_first:
        return _multiply_then_gather(xc, w, positions, stride, padding, dilation, groups), None
    cols = _gather(xc, w.shape[2:], positions, stride, padding, dilation, groups)
    return _multiply(cols, w, positions, xc.shape[1], groups), cols


def _read_the_other_way(columns: Columns | None, kernel_first: tuple[int, int, int], dtype: np.dtype,
                        ) -> Columns | None:
    """The forward's ``columns`` as the weight VJP's correlation reads them, or None if they do
    not fit (``kernel_first``: the shape of its own kernel-first columns). Kernel and output
    positions trade places: the forward's (g, C/g·K, N·L) are (g, N'·L', C'/g·K') here."""
    if columns is None or columns.array.dtype != dtype:
        return None
    groups, rows, width = kernel_first
    if columns.array.shape != ((groups, width, rows) if columns.kernel_first else kernel_first):
        return None
    return Columns(columns.array, not columns.kernel_first, columns.batch_last)


def _gather(xc: np.ndarray, kernel: Ints, positions: Ints, stride: Ints, padding: Ints, dilation: Ints,
            groups: int) -> Columns:
    """im2col: the windows of xc (C, N, *S) copied into columns (g, C/g·K, N·L), or (g, N·L, C/g·K).

    The copy's innermost loop runs along the last axis, so the longer of the output positions
    and the kernel positions goes last (``kernel_first``: the positions). When even that row is
    short and there are several images, ``batch_last``: the last factor's two axes trade
    places — (g, C/g·K, L·N), or (g, N·L, K·C/g) — and the copy is made from xc rearranged so
    that that last axis is contiguous: each row of every window is then one run of (row length
    × N) entries, not a run of a few entries per image (3× faster for LeNet's 10-wide second
    layer). With one image that run would be a single entry.
    """
    c, n = xc.shape[:2]
    kernel_first = math.prod(positions) >= math.prod(kernel)
    batch_last = n > 1 and (positions if kernel_first else kernel)[-1] < _SHORT_ROW
    last = 1 if kernel_first else 0  # the axis that ends the columns
    source = np.moveaxis(xc, last, -1) if batch_last else xc  # (C, *S, N), (N, *S, C) or (C, N, *S)
    first = 1 if batch_last else 2                               # of the spatial axes
    if any(padding) or batch_last:  # a padded copy, contiguous in the new order
        after = ((0, 0),) * (source.ndim - first - len(padding))
        source = padded(source, ((0, 0),) * first + tuple((p, p) for p in padding) + after, 0)
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
        view = as_strided(source, (groups, cg, *kernel, *ends[0]), (cg * s_c, s_c, *at_k, *ends[1]))
        return Columns(view.reshape(groups, cg * nk, n * nl), kernel_first, batch_last)
    ends = ((*kernel, cg), (*at_k, s_c)) if batch_last else ((cg, *kernel), (s_c, *at_k))
    view = as_strided(source, (groups, n, *positions, *ends[0]), (cg * s_c, s_n, *at_l, *ends[1]))
    return Columns(view.reshape(groups, n * nl, cg * nk), kernel_first, batch_last)


def _multiply(cols: Columns, w: np.ndarray, positions: Ints, n: int, groups: int) -> np.ndarray:
    """The matrix product of w (O, C/g, *K) with columns in any layout; returns y as (O, N, *L)."""
    (o, cg), kernel = w.shape[:2], w.shape[2:]
    if cols.kernel_first:
        y = w.reshape(groups, o // groups, cg * math.prod(kernel)) @ cols.array  # (g, O/g, N·L) or (g, O/g, L·N)
        if cols.batch_last:
            return np.ascontiguousarray(np.moveaxis(y.reshape(o, *positions, n), -1, 1))
        return y.reshape(o, n, *positions)
    wg = np.moveaxis(w, 1, -1) if cols.batch_last else w                  # rows (o), columns (k, c) or (c, k)
    y = cols.array @ wg.reshape(groups, o // groups, -1).transpose(0, 2, 1)  # (g, N·L, O/g)
    return y.transpose(0, 2, 1).reshape(o, n, *positions)


def _multiply_then_gather(xc: np.ndarray, w: np.ndarray, positions: Ints, stride: Ints, padding: Ints,
                          dilation: Ints, groups: int) -> np.ndarray:
    """z[o, k, n, s] = Σ_c w[o, c, k] · xc[group(o)·C/g + c, n, s] by one matrix product, then
    y[o, n, l] = Σ_k z[o, k, n, l·stride + k·dilation − padding] by one slice-add per kernel
    offset; taps that fall on the padding add nothing, so x is never padded. Returns (O, N, *L).

    A slice-add runs fast along long contiguous rows. When the image rows are short (and there
    are several images), the batch axis is put last instead, so that each row of every image is
    one contiguous run.
    """
    n, spatial = xc.shape[1], xc.shape[2:]
    (o, cg), kernel = w.shape[:2], w.shape[2:]
    batch_last = n > 1 and min(spatial[-1], positions[-1]) < _SHORT_ROW
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
        target, source = (all_, *images(*into)), (all_, *k, *images(*taps))
        y[target] += z[source]
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


# ---- where
_BITS = {np.dtype(np.float16): np.uint16, np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}


def where(cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.where(cond, a, b), bit for bit. When b is a scalar +0.0 (relu, and where's own VJPs),
    it is a's bit pattern times cond (1 or 0) as unsigned integers of a's width (``_BITS``):
    each entry is a's exactly (NaN, ±inf and −0.0 included) or all zero bits, which is +0.0.
    numpy vectorizes that product, while np.where branches per element and is ~10× slower on
    an unpredictable mask."""
    bits = _BITS.get(a.dtype)
    if bits is not None and cond.dtype == bool and b.ndim == 0 and a.dtype == np.result_type(a, b) \
            and not b.astype(a.dtype).view(bits):
        return np.multiply(a.view(bits), cond).view(a.dtype)
    return np.where(cond, a, b)
