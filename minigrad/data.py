"""Feeding a training loop: datasets of samples, a loader that cuts them into minibatches, and
transforms that augment each batch.

    train = TensorDataset(images, labels)              # sample i is (images[i], labels[i])
    for x, y in DataLoader(train, batch_size=64, shuffle=True, seed=0, transform=RandomShift(1, seed=0)):
        ...                                            # x: (64, ...) shifted images, y: (64,) labels

Shuffling and transforms use their own seeded generators, so the order of batches and the
augmentation are reproducible and independent of everything else that draws random numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np

from minigrad.creation import generator
from minigrad.tensor import Tensor, is_int
from minigrad.tensor_functions import stack


def _fresh_seed() -> int:
    """A seed drawn from minigrad's generator, so that ``mg.manual_seed`` makes what uses it reproducible."""
    return int(generator().integers(2**63))


class Dataset(Protocol):
    """What DataLoader needs: a length, and sample i as a tuple (e.g. (image, label))."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> tuple: ...


class TensorDataset:
    """Samples are slices of tensors along their first axis: ``dataset[i] == (t[i] for t in tensors)``."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, not a Tensor "
                                "(wrap arrays with mg.tensor)")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is 0-d; each tensor needs a first axis of samples")
        if len({len(t) for t in tensors}) > 1:
            raise ValueError("TensorDataset: all tensors must have the same size of the first axis, got shapes "
                             f"{[t.shape for t in tensors]}")
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        """Sample ``index`` of every tensor; an array of indices gathers a whole batch at once."""
        return tuple(t[index] for t in self.tensors)

    def __repr__(self) -> str:
        fields = ", ".join(f"{t.shape[1:]} {t.dtype}" for t in self.tensors)
        return f"TensorDataset({len(self)} samples of {fields})"


class RandomShift:
    """Data augmentation: moves each image of a batch (N, C, H, W) by its own random offset.

    The offsets dy, dx are drawn uniformly from −max_shift … max_shift, independently per
    image; pixels moved in from outside are 0:

        out[n, c, i, j] = x[n, c, i − dy_n, j − dx_n]   (0 where that index is outside the image)

    A digit moved by a pixel is the same digit, so a network trained on shifted copies learns
    not to care where it sits. The offsets come from ``np.random.default_rng(seed)`` (seed=None:
    one drawn from minigrad's generator, so ``mg.manual_seed`` fixes them too). The result is a
    new tensor outside any graph (augmentation prepares inputs; nothing flows back through it).
    """

    def __init__(self, max_shift: int, seed: int | None = None) -> None:
        if not is_int(max_shift) or isinstance(max_shift, bool) or max_shift < 0:
            raise ValueError(f"RandomShift: max_shift must be a non-negative integer, got {max_shift!r}")
        self.max_shift = int(max_shift)
        self.seed = _fresh_seed() if seed is None else seed
        self._rng = np.random.default_rng(self.seed)

    def __call__(self, images: Tensor) -> Tensor:
        if not isinstance(images, Tensor) or images.ndim != 4:
            raise ValueError(f"RandomShift: expected a batch of images (N, C, H, W), got "
                             f"{getattr(images, 'shape', type(images).__name__)}")
        n, _, h, w = images.shape
        m = self.max_shift
        padded = np.pad(images.data, ((0, 0), (0, 0), (m, m), (m, m)))
        views = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(2, 3))  # (N, C, 2m+1, 2m+1, H, W)
        top, left = self._rng.integers(0, 2 * m + 1, size=(2, n))  # the window's corner: dy = m − top
        return Tensor.wrap(views[np.arange(n), :, top, left])

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift}, seed={self.seed})"


class DataLoader:
    """Iterates over ``dataset`` in batches: each is a tuple of Tensors with a leading batch axis.

    ``shuffle`` draws a new order every epoch (every ``iter``) from the loader's own
    ``np.random.default_rng(seed)``; with ``seed=None`` the seed comes from minigrad's
    generator, so ``mg.manual_seed`` makes the order reproducible too. ``drop_last`` skips a
    final batch smaller than ``batch_size``. A TensorDataset's batch is gathered with one
    fancy index per tensor; other datasets are read sample by sample and stacked.

    ``transform`` (e.g. ``RandomShift(1)``) is applied to each batch's first tensor, the
    inputs; the other tensors (labels) pass unchanged. Transforming whole batches rather than
    single samples (PyTorch's ``Dataset(transform=...)``) does one numpy operation per batch.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, transform: Callable[[Tensor], Tensor] | None = None) -> None:
        if not is_int(batch_size) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform must be callable, got a {type(transform).__name__}")
        if shuffle and seed is None:
            seed = _fresh_seed()
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, int(batch_size), shuffle, drop_last
        self.seed, self.transform = seed, transform
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        n = len(self.dataset)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            inputs, *rest = self._fetch(order[start:start + self.batch_size])
            yield (inputs if self.transform is None else self.transform(inputs), *rest)

    def _fetch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        if isinstance(self.dataset, TensorDataset):
            return self.dataset[indices]
        samples = [self.dataset[int(i)] for i in indices]
        for s in samples:
            if not isinstance(s, tuple):
                raise TypeError(f"DataLoader: the dataset's samples must be tuples (e.g. (image, label)), "
                                f"got a {type(s).__name__}")
        return tuple(stack(field) for field in zip(*samples, strict=True))
