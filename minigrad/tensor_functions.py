"""Functions on tensors (``mg.maximum``, ``mg.where``, ``mg.concatenate``, ``mg.correlate``, …):
argument checking and conversion around the primitives, plus compositions of them."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.tensor import Tensor, as_array, is_int, normalize_axes, operands

IntOrTuple = int | Sequence[int]


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


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Joins tensors along an existing axis (numpy's concatenate)."""
    ts = [as_tensor(t, "concatenate") for t in tensors]
    if not ts:
        raise ValueError("concatenate: needs at least one tensor")
    if any(t.ndim == 0 for t in ts):
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated; use stack")
    ax = normalize_axes(axis, ts[0].ndim, "concatenate")[0]
    for t in ts:
        if t.ndim != ts[0].ndim or t.shape[:ax] + t.shape[ax + 1:] != ts[0].shape[:ax] + ts[0].shape[ax + 1:]:
            raise ValueError(f"concatenate: shapes {[x.shape for x in ts]} differ outside axis {axis}")
    if len({t.dtype for t in ts}) > 1:
        dtype = np.result_type(*(t.dtype for t in ts))
        ts = [t.astype(dtype) for t in ts]
    return ops.concatenate(*ts, axis=ax)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Joins same-shaped tensors along a new axis (numpy's stack)."""
    ts = [as_tensor(t, "stack") for t in tensors]
    if not ts:
        raise ValueError("stack: needs at least one tensor")
    if len({t.shape for t in ts}) > 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {[t.shape for t in ts]}")
    ax = normalize_axes(axis, ts[0].ndim + 1, "stack")[0]
    return concatenate([t.reshape(*t.shape[:ax], 1, *t.shape[ax:]) for t in ts], axis=ax)


def pad(x: Any, pad_width: Any, value: float = 0.0) -> Tensor:
    """Pads with a constant; ``pad_width`` is numpy's: n, (before, after) or ((before, after), ...)."""
    x = as_tensor(x, "pad")
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=object), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape {x.shape}") from None
    if not all(isinstance(w, numbers.Integral) and w >= 0 for w in widths.flat):
        raise ValueError(f"pad: pad_width {pad_width!r} must hold non-negative integers")
    widths = tuple((int(a), int(b)) for a, b in widths)
    return ops.pad(x, pad_width=widths, value=value) if any(map(any, widths)) else x


def int_tuple(value: IntOrTuple, d: int, name: str, op: str, minimum: int) -> tuple[int, ...]:
    """An int or a d-tuple as a d-tuple, checked to be at least ``minimum``."""
    out = (value,) * d if is_int(value) else tuple(value)
    if len(out) != d or not all(is_int(v) and v >= minimum for v in out):
        raise ValueError(f"{op}: {name} must be an integer ≥ {minimum} or {d} of them, got {value!r}")
    return tuple(int(v) for v in out)


def correlate(x: Any, w: Any, stride: IntOrTuple = 1, padding: IntOrTuple = 0, dilation: IntOrTuple = 1,
              groups: int = 1) -> Tensor:
    """Batched multi-channel cross-correlation (what deep-learning libraries call convolution).

    x is (N, C, *S), w is (O, C/groups, *K) with any number of spatial axes;
    y[n, o, l] = Σ_{c,k} w[o, c, k] · x_padded[n, c, l·stride + k·dilation], and each output
    axis has ⌊(S + 2P − D(K − 1) − 1) / stride⌋ + 1 positions.
    """
    x, w = as_tensor(x, "correlate"), as_tensor(w, "correlate")
    d = w.ndim - 2
    if d < 1 or x.ndim != w.ndim:
        raise ValueError(f"correlate: input {x.shape} and weight {w.shape} must be (N, C, *spatial) and "
                         "(out_channels, in_channels/groups, *kernel) with the same number of spatial axes")
    stride, padding = int_tuple(stride, d, "stride", "correlate", 1), int_tuple(padding, d, "padding", "correlate", 0)
    dilation = int_tuple(dilation, d, "dilation", "correlate", 1)
    if not isinstance(groups, numbers.Integral) or groups < 1 or x.shape[1] % groups or w.shape[0] % groups:
        raise ValueError(f"correlate: groups={groups} must divide both the input's {x.shape[1]} channels "
                         f"and the weight's {w.shape[0]} output channels")
    if x.shape[1] != w.shape[1] * groups:
        raise ValueError(f"correlate: input {x.shape} has {x.shape[1]} channels but weight {w.shape} expects "
                         f"{w.shape[1] * groups} ({w.shape[1]} per group × {groups} groups)")
    for s, k, p, dl in zip(x.shape[2:], w.shape[2:], padding, dilation, strict=True):
        if ops.out_size(s, k, 1, p, dl) < 1:
            raise ValueError(f"correlate: kernel {w.shape[2:]} (dilation {dilation}) is larger than the padded "
                             f"input {tuple(n + 2 * q for n, q in zip(x.shape[2:], padding, strict=True))}")
    if x.dtype != w.dtype:
        dtype = np.result_type(x.dtype, w.dtype)
        x, w = x.astype(dtype), w.astype(dtype)
    return ops.correlate(x, w, stride=stride, padding=padding, dilation=dilation, groups=int(groups))


def windows(x: Any, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, dilation: IntOrTuple = 1) -> Tensor:
    """Sliding windows over the last len(kernel_size) axes: (*lead, *S) → (*lead, *L, *K).

    ``stride`` defaults to the kernel size (non-overlapping windows, as pooling does).
    """
    x = as_tensor(x, "windows")
    d = 1 if isinstance(kernel_size, numbers.Integral) else len(kernel_size)
    kernel = int_tuple(kernel_size, d, "kernel_size", "windows", 1)
    stride = kernel if stride is None else int_tuple(stride, d, "stride", "windows", 1)
    dilation = int_tuple(dilation, d, "dilation", "windows", 1)
    if x.ndim < d:
        raise ValueError(f"windows: a {d}-D kernel needs at least {d} axes, got shape {x.shape}")
    for s, k, dl in zip(x.shape[-d:], kernel, dilation, strict=True):
        if dl * (k - 1) + 1 > s:
            raise ValueError(f"windows: kernel {kernel} (dilation {dilation}) is larger than the input's "
                             f"trailing axes {x.shape[-d:]}")
    return ops.windows(x, kernel_size=kernel, stride=stride, dilation=dilation)
