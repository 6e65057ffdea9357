"""TensorDataset and DataLoader: batching, drop_last, shuffling (seeded, fresh each epoch, every
sample once), alignment of the tensors, one gather per tensor per batch, errors."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import DataLoader, TensorDataset

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
