"""TensorDataset and DataLoader: batching, drop_last, shuffling (seeded, fresh each epoch, every
sample once), alignment of the tensors, one gather per tensor per batch, errors; the RandomShift
transform (each image moved with zero fill, seeded) and the loader's per-batch transform."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, RandomShift, TensorDataset

N = 10
IDS = np.arange(N)
X = mg.tensor(np.stack([IDS * 10.0, IDS * 10.0 + 1], axis=1).astype(np.float32))  # row i = [10i, 10i + 1]
Y = mg.tensor(IDS)


def dataset():
    return TensorDataset(X, Y)


def epoch_ids(loader):
    """The sample ids of one epoch, batch by batch, checking images and labels stay aligned."""
    batches = []
    for x, y in loader:
        np.testing.assert_array_equal(x.data[:, 0], y.data * 10.0)
        batches.append(y.data)
    return batches


def test_tensor_dataset():
    ds = dataset()
    assert len(ds) == N and ds.tensors == (X, Y)
    x, y = ds[3]
    np.testing.assert_array_equal(x.data, [30.0, 31.0])
    assert y.item() == 3 and isinstance(ds[3], tuple)
    xs, ys = ds[np.array([4, 1])]
    np.testing.assert_array_equal(xs.data, [[40.0, 41.0], [10.0, 11.0]])
    np.testing.assert_array_equal(ys.data, [4, 1])
    assert repr(ds) == "TensorDataset(10 samples of (2,) float32, () int64)"


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match=r"same size of the first axis.*\(10, 2\), \(9,\)"):
        TensorDataset(X, mg.arange(9))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(TypeError, match=r"argument 1 is a ndarray.*mg\.tensor"):
        TensorDataset(X, IDS)
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(mg.tensor(1.0))


def test_batches_in_order():
    loader = DataLoader(dataset(), batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [x.shape for x, _ in batches] == [(4, 2), (4, 2), (2, 2)]
    assert all(isinstance(b, tuple) and len(b) == 2 for b in batches)
    np.testing.assert_array_equal(np.concatenate([x.data for x, _ in batches]), X.data)
    assert [list(b) for b in epoch_ids(loader)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_default_batch_size_is_one_and_exact_division():
    assert len(DataLoader(dataset())) == N
    assert [y.shape for _, y in DataLoader(dataset())] == [(1,)] * N
    assert len(DataLoader(dataset(), batch_size=5)) == len(DataLoader(dataset(), batch_size=5, drop_last=True)) == 2


def test_drop_last():
    loader = DataLoader(dataset(), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [list(b) for b in epoch_ids(loader)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(dataset(), batch_size=11, drop_last=True)) == 0
    assert list(DataLoader(dataset(), batch_size=11, drop_last=True)) == []
    shuffled = DataLoader(dataset(), batch_size=3, shuffle=True, drop_last=True, seed=0)
    ids = np.concatenate(epoch_ids(shuffled))
    assert len(ids) == 9 and len(set(ids)) == 9


def test_shuffle_covers_every_sample_once_and_reshuffles_each_epoch():
    loader = DataLoader(dataset(), batch_size=3, shuffle=True, seed=0)
    epochs = [np.concatenate(epoch_ids(loader)) for _ in range(4)]
    for ids in epochs:
        np.testing.assert_array_equal(np.sort(ids), IDS)
    assert len({tuple(ids) for ids in epochs}) == 4
    assert any(not np.array_equal(ids, IDS) for ids in epochs)


def test_shuffle_is_reproducible_with_a_seed():
    def orders(seed):
        loader = DataLoader(dataset(), batch_size=4, shuffle=True, seed=seed)
        return [np.concatenate(epoch_ids(loader)).tolist() for _ in range(3)]

    assert orders(7) == orders(7)
    assert orders(7) != orders(8)


def test_unseeded_shuffle_follows_manual_seed():
    def orders():
        loader = DataLoader(dataset(), batch_size=4, shuffle=True)
        return [np.concatenate(epoch_ids(loader)).tolist() for _ in range(2)]

    mg.manual_seed(3)
    first = orders()
    mg.manual_seed(3)
    assert orders() == first
    mg.manual_seed(4)
    assert orders() != first


def test_one_gather_per_tensor_per_batch(monkeypatch):
    calls = []
    getitem = mg.Tensor.__getitem__

    def counting(self, index):
        calls.append(index)
        return getitem(self, index)

    monkeypatch.setattr(mg.Tensor, "__getitem__", counting)
    batches = list(DataLoader(dataset(), batch_size=4, shuffle=True, seed=1))
    assert len(calls) == 2 * len(batches) == 6


def test_any_dataset_of_tuples_is_stacked():
    class Squares:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return mg.tensor([i, i * i], dtype=np.float32), i

    (x, y), _, (x3, _) = DataLoader(Squares(), batch_size=2)
    np.testing.assert_array_equal(x.data, [[0, 0], [1, 1]])
    np.testing.assert_array_equal(y.data, [0, 1])
    np.testing.assert_array_equal(x3.data, [[4, 16]])
    assert x.dtype == np.float32 and y.dtype == np.int64

    class NotTuples(Squares):
        def __getitem__(self, i):
            return mg.tensor([i])

    with pytest.raises(TypeError, match=r"samples must be tuples.*Tensor"):
        list(DataLoader(NotTuples(), batch_size=2))


@pytest.mark.parametrize("batch_size", [0, -1, 2.5])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match="DataLoader: batch_size"):
        DataLoader(dataset(), batch_size=batch_size)


# ---- transforms
def moved(image, dy, dx):
    """image (C, H, W) moved down by dy and right by dx, zeros coming in: out[i, j] = image[i − dy, j − dx]."""
    _, h, w = image.shape
    out = np.zeros_like(image)
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def offsets(images, shifted, max_shift):
    """The (dy, dx) that turns each image into its shifted copy (the images' values are all distinct and nonzero)."""
    found = []
    for image, out in zip(images, shifted, strict=True):
        matches = [(dy, dx) for dy in range(-max_shift, max_shift + 1) for dx in range(-max_shift, max_shift + 1)
                   if np.array_equal(moved(image, dy, dx), out)]
        assert len(matches) == 1, "not a shift of the image with zero fill"
        found.append(matches[0])
    return found


IMAGES = mg.tensor(np.arange(1, 1 + 200 * 2 * 5 * 6, dtype=np.float32).reshape(200, 2, 5, 6))


def test_random_shift_moves_each_image_with_zero_fill():
    shifted = RandomShift(2, seed=0)(IMAGES)
    assert shifted.shape == IMAGES.shape and shifted.dtype == np.float32 and not shifted.requires_grad
    found = offsets(IMAGES.data, shifted.data, 2)
    assert set(found) == {(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)}  # every offset, per image


def test_random_shift_is_reproducible_and_fresh_each_call():
    a, b = RandomShift(1, seed=5), RandomShift(1, seed=5)
    first = a(IMAGES).data
    np.testing.assert_array_equal(first, b(IMAGES).data)
    assert not np.array_equal(first, a(IMAGES).data)             # the next batch gets new offsets
    assert not np.array_equal(first, RandomShift(1, seed=6)(IMAGES).data)
    mg.manual_seed(2)
    unseeded = RandomShift(1)(IMAGES).data
    mg.manual_seed(2)
    np.testing.assert_array_equal(RandomShift(1)(IMAGES).data, unseeded)
    assert repr(a) == "RandomShift(max_shift=1, seed=5)"


def test_random_shift_by_zero_is_the_identity():
    np.testing.assert_array_equal(RandomShift(0, seed=0)(IMAGES).data, IMAGES.data)


def test_loader_transforms_the_inputs_of_each_batch():
    images, labels = IMAGES[:10], mg.tensor(np.arange(10))
    calls = []

    def shift(batch):
        calls.append(batch.shape)
        return transform(batch)

    transform = RandomShift(1, seed=0)
    loader = DataLoader(TensorDataset(images, labels), batch_size=4, shuffle=True, seed=1, transform=shift)
    for x, y in loader:
        offsets(images.data[y.data], x.data, 1)  # each input is a shift of the image its label names
    assert calls == [(4, 2, 5, 6), (4, 2, 5, 6), (2, 2, 5, 6)]
    with pytest.raises(TypeError, match="DataLoader: transform must be callable"):
        DataLoader(TensorDataset(images, labels), transform=1)


@pytest.mark.parametrize("max_shift", [-1, 1.0, True, None])
def test_random_shift_needs_a_non_negative_integer(max_shift):
    with pytest.raises(ValueError, match="RandomShift: max_shift must be a non-negative integer"):
        RandomShift(max_shift)


def test_random_shift_needs_a_batch_of_images():
    with pytest.raises(ValueError, match=r"RandomShift: expected a batch of images \(N, C, H, W\), got \(2, 5, 6\)"):
        RandomShift(1, seed=0)(IMAGES[0])
