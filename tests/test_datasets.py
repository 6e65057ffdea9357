"""mg.datasets: scikit-learn's digits (sizes, values, stratified reproducible split, the missing
scikit-learn message) and the synthetic oriented bars (shapes, labels, orientation, determinism)."""

import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import datasets
from minigrad.data import TensorDataset

# ---- digits


@pytest.fixture(scope="module")
def raw_digits():
    return pytest.importorskip("sklearn.datasets").load_digits()


@pytest.fixture(scope="module")
def split(raw_digits):
    return datasets.digits()


def test_digits_sizes_and_types(split):
    train, test = split
    assert isinstance(train, TensorDataset) and isinstance(test, TensorDataset)
    assert len(train) + len(test) == 1797
    assert len(test) == pytest.approx(0.2 * 1797, abs=5)
    for ds in split:
        images, labels = ds.tensors
        assert images.shape == (len(ds), 1, 8, 8) and labels.shape == (len(ds),)
        assert images.dtype == np.float32 and labels.dtype == np.int64
        assert images.data.min() == 0.0 and images.data.max() == 1.0
        assert set(np.unique(labels.data)) == set(range(10))


def test_digits_are_the_real_images_split_without_loss(raw_digits, split):
    # train ∪ test is exactly the original set of (image / 16, label) rows
    def rows(images, labels):
        table = np.concatenate([images.reshape(len(images), -1), labels[:, None]], axis=1).astype(np.float64)
        return table[np.lexsort(table.T[::-1])]

    images, labels = (np.concatenate([ds.tensors[i].data for ds in split]) for i in (0, 1))
    got = rows(images, labels)
    np.testing.assert_array_equal(got, rows(raw_digits.images / 16, raw_digits.target))


@pytest.mark.parametrize("test_size", [0.2, 0.5, 0.33])
def test_digits_split_is_stratified(raw_digits, test_size):
    train, test = datasets.digits(test_size=test_size, seed=1)
    whole = np.bincount(raw_digits.target, minlength=10)
    in_test = np.bincount(test.tensors[1].data, minlength=10)
    assert np.all(np.abs(in_test - test_size * whole) <= 1), (in_test, test_size * whole)
    np.testing.assert_array_equal(in_test + np.bincount(train.tensors[1].data, minlength=10), whole)


def test_digits_split_is_reproducible(split):
    again = datasets.digits(seed=0)
    for ds, ds2 in zip(split, again, strict=True):
        for t, t2 in zip(ds.tensors, ds2.tensors, strict=True):
            np.testing.assert_array_equal(t.data, t2.data)
    other = datasets.digits(seed=1)
    assert not np.array_equal(other[1].tensors[0].data, split[1].tensors[0].data)


def test_digits_test_size_must_be_a_fraction():
    with pytest.raises(ValueError, match=r"digits: test_size.*\(0, 1\); got 1.5"):
        datasets.digits(test_size=1.5)


def test_digits_do_not_import_scikit_learn():
    """The images are read from scikit-learn's file: importing scikit-learn would take ~1 s."""
    pytest.importorskip("sklearn", reason="the digits ship with scikit-learn")
    run = subprocess.run([sys.executable, "-c", "import sys, minigrad; minigrad.datasets.digits(); "
                          "print('sklearn' in sys.modules)"], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"


def test_digits_without_scikit_learn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes finding it fail
    with pytest.raises(ImportError, match=r'pip install "minigrad\[examples\]"'):
        datasets.digits()


# ---- bars


def test_bars_shapes_labels_and_range():
    ds = datasets.bars(n=100, size=10, seed=0)
    images, labels = ds.tensors
    assert images.shape == (100, 1, 10, 10) and images.dtype == np.float32
    assert labels.shape == (100,) and labels.dtype == np.int64
    assert images.data.min() >= 0.0 and images.data.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(labels.data), [25, 25, 25, 25])
    eight = datasets.bars(n=80, size=9, orientations=8).tensors[1].data
    np.testing.assert_array_equal(np.bincount(eight), [10] * 8)


def test_bars_are_deterministic():
    a, b, c = (datasets.bars(n=40, size=8, seed=s) for s in (3, 3, 4))
    for t, t2 in zip(a.tensors, b.tensors, strict=True):
        np.testing.assert_array_equal(t.data, t2.data)
    assert not np.array_equal(a.tensors[0].data, c.tensors[0].data)
    mg.manual_seed(0)  # minigrad's own generator plays no part
    np.testing.assert_array_equal(datasets.bars(n=40, size=8, seed=3).tensors[0].data, a.tensors[0].data)


def test_bars_have_the_labelled_orientation():
    images, labels = datasets.bars(n=200, size=11, noise=0.0, seed=5).tensors
    images, labels = images.data[:, 0], labels.data
    assert np.all(images.max(axis=(1, 2)) > 0.5)  # every image shows a bar
    assert np.all(images.mean(axis=(1, 2)) < 0.5)  # on a dark ground
    rows, cols = np.indices((11, 11))
    # each class is constant along its direction: rows (—), anti-diagonals (/), columns (|), diagonals (\)
    lines = {0: rows, 1: rows + cols, 2: cols, 3: rows - cols}
    for img, label in zip(images, labels, strict=True):
        line = lines[label]
        for k in np.unique(line):
            values = img[line == k]
            np.testing.assert_allclose(values, values[0], atol=1e-6)
        assert not all(np.ptp(img[lines[other] == k]) < 1e-6 for other in lines if other != label
                       for k in np.unique(lines[other]))


def test_bars_noise_is_added():
    clean = datasets.bars(n=20, size=8, noise=0.0, seed=1).tensors[0].data
    noisy = datasets.bars(n=20, size=8, noise=0.2, seed=1).tensors[0].data
    diff = noisy - clean
    assert 0.05 < diff.std() < 0.2 and noisy.min() >= 0 and noisy.max() <= 1


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n": 0}, "n must be an integer >= 1"),
    ({"size": 2}, "size must be an integer >= 3"),
    ({"orientations": 1}, "orientations must be an integer >= 2"),
    ({"noise": -0.1}, "noise is a standard deviation"),
])
def test_bars_errors(kwargs, match):
    with pytest.raises(ValueError, match=f"bars: {match}"):
        datasets.bars(**kwargs)
