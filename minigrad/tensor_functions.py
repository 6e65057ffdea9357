"""Functions on tensors (``mg.maximum``, ``mg.where``, ``mg.concatenate``, ``mg.correlate``, …):
argument checking and conversion around the primitives, plus compositions of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.tensor import Tensor, as_array, is_int, normalize_axis, operands

IntOrTuple = int | Sequence[int]
Padding = IntOrTuple | str


def as_tensor(x: Any, op: str = "as_tensor") -> Tensor:
    """x itself if it is a Tensor, else a new leaf holding it (``op`` names the caller in errors)."""
    return x if isinstance(x, Tensor) else Tensor.wrap(as_array(x, op=op))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise larger of a and b; at ties each side gets half the gradient."""
    a, b = operands(a, b, "maximum")
    return a.maximum(b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise smaller of a and b: −maximum(−a, −b)."""
    a, b = operands(a, b, "minimum")
    return a.minimum(b)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (broadcasting); the gradient follows the choice."""
    a, b = operands(a, b, "where")
    return a.where(condition, b)


def matmul(a: Any, b: Any) -> Tensor:
    """numpy's matmul: 1-D operands act as a row (left) or a column (right) and that axis is dropped."""
    a, b = operands(a, b, "matmul", broadcast=False)
    return a.matmul(b)


def concatenate(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Joins tensors along an existing axis (numpy's concatenate; ``dim`` is PyTorch's word for axis)."""
    axis = axis if dim is None else dim
    ts = [as_tensor(t, "concatenate") for t in tensors]
    if not ts:
        raise ValueError("concatenate: needs at least one tensor")
    if any(t.ndim == 0 for t in ts):
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated; use stack")
    ax = normalize_axis(axis, ts[0].ndim, "concatenate")
    for t in ts:
        if t.ndim != ts[0].ndim or t.shape[:ax] + t.shape[ax + 1:] != ts[0].shape[:ax] + ts[0].shape[ax + 1:]:
            raise ValueError(f"concatenate: shapes {[x.shape for x in ts]} differ outside axis {axis}")
    return ops.concatenate(*promote(*ts), axis=ax)


def promote(*ts: Tensor) -> list[Tensor]:
    """The tensors cast to one dtype, numpy's promotion of theirs (each unchanged if they agree)."""
    if all(t.dtype == ts[0].dtype for t in ts):
        return list(ts)
    dtype = np.result_type(*(t.dtype for t in ts))
    return [t.astype(dtype) for t in ts]


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """PyTorch's name for ``concatenate``."""
    return concatenate(tensors, dim)


def stack(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Joins same-shaped tensors along a new axis (numpy's stack; ``dim`` is PyTorch's word for axis)."""
    axis = axis if dim is None else dim
    ts = [as_tensor(t, "stack") for t in tensors]
    if not ts:
        raise ValueError("stack: needs at least one tensor")
    if len({t.shape for t in ts}) > 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {[t.shape for t in ts]}")
    ax = normalize_axis(axis, ts[0].ndim + 1, "stack")
    return concatenate([t.reshape(*t.shape[:ax], 1, *t.shape[ax:]) for t in ts], axis=ax)


def pad(x: Any, pad_width: Any, value: float = 0.0) -> Tensor:
    """Pads with a constant; ``pad_width`` is numpy's: n, (before, after) or ((before, after), ...)."""
    x = as_tensor(x, "pad")
    try:
        given = np.broadcast_to(np.asarray(pad_width, dtype=object), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape {x.shape}") from None
    if not all(is_int(w) and w >= 0 for w in given.flat):
        raise ValueError(f"pad: pad_width {pad_width!r} must hold non-negative integers")
    widths = tuple((int(a), int(b)) for a, b in given)
    return ops.pad(x, pad_width=widths, value=value) if any(map(any, widths)) else x


def int_tuple(value: IntOrTuple, d: int, name: str, op: str, minimum: int) -> tuple[int, ...]:
    """An int or a d-tuple as a d-tuple, checked to be at least ``minimum``.

    TypeError for anything but integers (floats, None and bools included: ``stride=2.0`` is
    refused, not rounded); ValueError for the wrong count or a value below ``minimum``.
    """
    out = value if type(value) is tuple else (value,) * d if is_int(value) else \
        tuple(value) if isinstance(value, Sequence) else (value,)
    if len(out) == d and all([type(v) is int and v >= minimum for v in out]):  # noqa: C419 (the common case)
        return out
    if not all(is_int(v) and not isinstance(v, bool | np.bool_) for v in out):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {d} ints, got {value!r}")
    if len(out) != d or not all(v >= minimum for v in out):
        raise ValueError(f"{op}: {name} must be an integer ≥ {minimum} or {d} of them, got {value!r}")
    return tuple(int(v) for v in out)


def padding_widths(padding: Padding, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
                   op: str) -> tuple[tuple[int, int], ...]:
    """(before, after) per spatial axis, from an int or a tuple (both sides), 'valid' (none) or
    'same' (the output as large as the input, stride 1 only: D(K − 1) split, the extra after)."""
    if not isinstance(padding, str):
        return tuple((p, p) for p in int_tuple(padding, len(kernel), "padding", op, 0))
    if padding not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    if padding == "same" and any(s != 1 for s in stride):
        raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
    totals = [dl * (k - 1) if padding == "same" else 0 for k, dl in zip(kernel, dilation, strict=True)]
    return tuple((t // 2, t - t // 2) for t in totals)


def check_fits(op: str, size: tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...],
               what: str = "padded input") -> None:
    """Raises unless a kernel, spanning D·(K − 1) + 1 entries per axis, fits in ``size``."""
    if any(dl * (k - 1) + 1 > s for s, k, dl in zip(size, kernel, dilation, strict=True)):
        raise ValueError(f"{op}: kernel {kernel} (dilation {dilation}) is larger than the {what} {size}")


def check_groups(op: str, groups: Any, channels: dict[str, int]) -> int:
    """``groups`` checked to be a positive integer dividing each of the named channel counts."""
    if not is_int(groups) or isinstance(groups, bool | np.bool_):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1 or any(n % groups for n in channels.values()):
        counts = " and ".join(f"the {n} {what}" for what, n in channels.items())
        raise ValueError(f"{op}: groups={groups!r} must be a positive integer dividing {counts}")
    return int(groups)


def correlate(x: Any, w: Any, stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
              groups: int = 1, op: str = "correlate") -> Tensor:
    """Batched multi-channel cross-correlation (what deep-learning libraries call convolution).

    x is (N, C, *S), w is (O, C/groups, *K) with any number of spatial axes;
    y[n, o, l] = Σ_{c,k} w[o, c, k] · x_padded[n, c, l·stride + k·dilation], and each output
    axis has ⌊(S + 2P − D(K − 1) − 1) / stride⌋ + 1 positions. ``padding`` is an int, a
    tuple, 'valid' or 'same' (see ``padding_widths``); ``op`` names the caller in errors.
    """
    x, w = as_tensor(x, op), as_tensor(w, op)
    d = w.ndim - 2
    if d < 1 or x.ndim != w.ndim:
        raise ValueError(f"{op}: input {x.shape} and weight {w.shape} must be (N, C, *spatial) and "
                         "(out_channels, in_channels/groups, *kernel) with the same number of spatial axes")
    groups = check_groups(op, groups, {"input channels": x.shape[1], "output channels": w.shape[0]})
    if x.shape[1] != w.shape[1] * groups:
        raise ValueError(f"{op}: input {x.shape} has {x.shape[1]} channels, but weight {w.shape} expects "
                         f"{w.shape[1] * groups} ({w.shape[1]} per group × {groups} groups)")
    stride, dilation = int_tuple(stride, d, "stride", op, 1), int_tuple(dilation, d, "dilation", op, 1)
    pads = padding_widths(padding, w.shape[2:], stride, dilation, op)
    check_fits(op, tuple(s + a + b for s, (a, b) in zip(x.shape[2:], pads, strict=True)), w.shape[2:], dilation)
    if any(a != b for a, b in pads):  # 'same' with an even kernel: pad unevenly first
        x, pads = pad(x, ((0, 0), (0, 0), *pads)), ((0, 0),) * d
    x, w = promote(x, w)
    return ops.correlate(x, w, stride=stride, padding=tuple(a for a, _ in pads), dilation=dilation, groups=groups)


def windows(x: Any, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, dilation: IntOrTuple = 1) -> Tensor:
    """Sliding windows over the last len(kernel_size) axes: (*lead, *S) → (*lead, *L, *K).

    ``stride`` defaults to the kernel size (non-overlapping windows, as pooling does).
    """
    x = as_tensor(x, "windows")
    d = len(kernel_size) if isinstance(kernel_size, Sequence) else 1
    kernel = int_tuple(kernel_size, d, "kernel_size", "windows", 1)
    stride = kernel if stride is None else int_tuple(stride, d, "stride", "windows", 1)
    dilation = int_tuple(dilation, d, "dilation", "windows", 1)
    if x.ndim < d:
        raise ValueError(f"windows: a {d}-D kernel needs at least {d} axes, got shape {x.shape}")
    check_fits("windows", x.shape[-d:], kernel, dilation, "input's trailing axes")
    return ops.windows(x, kernel_size=kernel, stride=stride, dilation=dilation)
