"""Making tensors: from data, filled with constants, or random from minigrad's seeded generator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.tensor import DEFAULT_DTYPE, Tensor, as_array, is_int

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seeds minigrad's random numbers: the same seed gives the same weights, shuffles and dropout."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The generator behind randn, rand, weight initialisation and dropout."""
    return _generator


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (Python floats become float32)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, name=name)


def _shape(shape: tuple, op: str) -> tuple[int, ...]:
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], Sequence) else shape
    if not all(is_int(d) and d >= 0 for d in shape):
        raise ValueError(f"{op}: a shape is non-negative integers, got {shape}")
    return tuple(int(d) for d in shape)


def _dtype(dtype: Any, op: str) -> np.dtype:
    return DEFAULT_DTYPE if dtype is None else as_array(np.zeros(0, dtype), op=op).dtype


def _leaf(data: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor.wrap(data).requires_grad_(requires_grad) if requires_grad else Tensor.wrap(data)


def zeros(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.zeros(_shape(shape, "zeros"), _dtype(dtype, "zeros")), requires_grad)


def ones(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.ones(_shape(shape, "ones"), _dtype(dtype, "ones")), requires_grad)


def full(shape: Sequence[int], value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.full(_shape((shape,), "full"), value, _dtype(dtype, "full")), requires_grad)


def randn(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples from the standard normal distribution."""
    dt = _dtype(dtype, "randn")
    return _leaf(_generator.standard_normal(_shape(shape, "randn")).astype(dt), requires_grad)


def rand(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples uniformly from [0, 1)."""
    dt = _dtype(dtype, "rand")
    return _leaf(_generator.random(_shape(shape, "rand")).astype(dt), requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """numpy's arange; float arguments give float32 unless ``dtype`` says otherwise."""
    data = np.arange(start, stop, step) if stop is not None else np.arange(start, step=step)
    if dtype is None and data.dtype.kind == "f":
        dtype = DEFAULT_DTYPE
    return _leaf(data if dtype is None else data.astype(_dtype(dtype, "arange")), requires_grad)


def zeros_like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(*x.shape, dtype=x.dtype if dtype is None else dtype, requires_grad=requires_grad)


def ones_like(x: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(*x.shape, dtype=x.dtype if dtype is None else dtype, requires_grad=requires_grad)
