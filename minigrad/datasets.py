"""Image data to train on without downloading anything.

- ``digits()``: the 1,797 real 8×8 handwritten digits that scikit-learn ships, split into
  train and test sets that keep each class's share.
- ``bars()``: synthetic images of straight bars labelled by their orientation, generated
  on the fly from a seed — the oriented-edge features a first convolution layer learns.

Both give TensorDatasets of images (N, 1, H, W) float32 in [0, 1] and int64 labels (N,).
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np

from minigrad.data import TensorDataset
from minigrad.tensor import Tensor, is_int, is_real


def digits(test_size: float = 0.2, seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    """scikit-learn's handwritten digits as (train, test): images (N, 1, 8, 8) = pixel / 16, labels 0–9.

    The split is stratified: for each class, a permutation drawn from
    ``np.random.default_rng(seed)`` puts round(test_size × class count) of its images in
    the test set, so both sets have the class proportions of the whole. The same seed gives
    the same split. Images keep their original order within each set.
    """
    if not is_real(test_size) or not 0 < test_size < 1:
        raise ValueError(f"digits: test_size is the test set's fraction, in (0, 1); got {test_size!r}")
    raw = np.loadtxt(_digits_file(), delimiter=",")  # 1,797 rows: 64 pixels (0–16), then the label
    images = (raw[:, :-1] / 16).astype(np.float32).reshape(-1, 1, 8, 8)
    labels = raw[:, -1].astype(np.int64)
    is_test = _stratified_test_mask(labels, test_size, np.random.default_rng(seed))
    return (TensorDataset(Tensor(images[~is_test]), Tensor(labels[~is_test])),
            TensorDataset(Tensor(images[is_test]), Tensor(labels[is_test])))


def _digits_file() -> Path:
    """scikit-learn's file of the digits, found without importing scikit-learn (which takes ~1 s)."""
    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" if spec and spec.origin else None
    if path is None or not path.is_file():
        raise ImportError('digits: needs scikit-learn, which ships the images (sklearn/datasets/data/digits.csv.gz); '
                          'install it with pip install "minigrad[examples]" (or pip install scikit-learn)')
    return path


def _stratified_test_mask(labels: np.ndarray, test_size: float, rng: np.random.Generator) -> np.ndarray:
    """True for the samples drawn into the test set: round(test_size × count) of each class."""
    is_test = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        is_test[members[:round(test_size * len(members))]] = True
    return is_test


def bars(n: int = 1000, size: int = 12, seed: int = 0, noise: float = 0.1, orientations: int = 4) -> TensorDataset:
    """``n`` images (n, 1, size, size) of one bright bar each on a dark ground; the label is its orientation.

    Class k is a bar at k·180°/orientations counter-clockwise from horizontal. With the default
    four: 0 horizontal (—), 1 rising diagonal (/), 2 vertical (|), 3 falling diagonal (\\).
    Each bar crosses the image at a random offset from the centre (up to size/4 pixels) with a
    random width (1 to 2.5 pixels) and anti-aliased edges; Gaussian noise of standard
    deviation ``noise`` is added and the result clipped to [0, 1]. Classes are balanced, and
    everything comes from ``np.random.default_rng(seed)``: the same arguments give the same images
    (use another seed for a test set).
    """
    _check_int(n, 1, "n")
    _check_int(size, 3, "size")
    _check_int(orientations, 2, "orientations")
    if not is_real(noise) or not noise >= 0:
        raise ValueError(f"bars: noise is a standard deviation, >= 0; got {noise!r}")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % orientations)
    angle = (labels * math.pi / orientations)[:, None, None]
    offset = rng.uniform(-size / 4, size / 4, (n, 1, 1))
    width = rng.uniform(1.0, 2.5, (n, 1, 1))
    centre = (size - 1) / 2
    x = np.arange(size)[None, None, :] - centre  # rightwards
    y = centre - np.arange(size)[None, :, None]  # upwards: rows count down
    distance = np.abs(y * np.cos(angle) - x * np.sin(angle) - offset)  # from the bar's centre line
    images = np.clip(width / 2 + 0.5 - distance, 0, 1) + noise * rng.standard_normal((n, size, size))
    return TensorDataset(Tensor(np.clip(images, 0, 1).astype(np.float32)[:, None]), Tensor(labels.astype(np.int64)))


def _check_int(value: int, low: int, name: str) -> None:
    if not is_int(value) or value < low:
        raise ValueError(f"bars: {name} must be an integer >= {low}, got {value!r}")
