"""mg.save / mg.load: round trips of tensors, arrays and nested containers; loading never
unpickles; saving is atomic (a failed save leaves the old file and no temporary file)."""

import json
import os
import pathlib

import numpy as np
import pytest

import minigrad as mg


def assert_same(loaded, original):
    """Equal values, types and dtypes, recursively."""
    assert type(loaded) is type(original)
    if isinstance(original, mg.Tensor | np.ndarray):
        assert loaded.dtype == original.dtype and loaded.shape == original.shape
        np.testing.assert_array_equal(np.asarray(loaded.data), np.asarray(original.data))
    elif isinstance(original, dict):
        assert list(loaded) == list(original)  # keys and their order
        for k in original:
            assert_same(loaded[k], original[k])
    elif isinstance(original, list | tuple):
        assert len(loaded) == len(original)
        for a, b in zip(loaded, original, strict=True):
            assert_same(a, b)
    elif isinstance(original, float) and np.isnan(original):
        assert np.isnan(loaded)
    else:
        assert loaded == original


@pytest.mark.parametrize("obj", [
    mg.tensor([[1.0, 2.0], [3.0, 4.0]]),
    mg.tensor(np.arange(6.0).reshape(2, 3)),
    mg.tensor(np.array([1, 2, 3], dtype=np.int32)),
    mg.tensor([True, False]),
    mg.tensor(3.5),
    mg.zeros(0, 3),
    np.arange(12, dtype=np.int64).reshape(3, 4).T,  # a non-contiguous view
    np.array([0.5, np.inf, -np.inf], dtype=np.float16),
    {"weight": mg.randn(3, 2), "bias": mg.zeros(2), "step": 7, "lr": 0.01, "name": "fc", "done": True,
     "none": None},
    {"state": {0: {"exp_avg": mg.ones(2), "step": 3}, 1: {"exp_avg": mg.zeros(1), "step": 3}},
     "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1]}]},
    [1, 2.5, [3, [4.0, mg.ones(1)]], (5, "six"), float("inf"), float("nan")],
    (np.float64(2.5), np.int64(3)),
    {},
    [],
])
def test_round_trip(obj, tmp_path):
    path = tmp_path / "obj.npz"
    mg.save(obj, path)
    loaded = mg.load(path)
    if isinstance(obj, tuple) and all(isinstance(v, np.generic) for v in obj):
        obj = tuple(v.item() for v in obj)  # numpy scalars come back as Python numbers
    assert_same(loaded, obj)


def test_loaded_tensors_are_leaves_without_grad(tmp_path):
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    mg.save({"w": w}, tmp_path / "w.npz")
    loaded = mg.load(str(tmp_path / "w.npz"))["w"]  # str paths work as well as Path
    assert loaded.is_leaf and not loaded.requires_grad and loaded.grad is None
    np.testing.assert_array_equal(loaded.data, w.data)


# ---- never unpickles

class CreatesAFileWhenUnpickled:
    """Unpickling this object touches ``marker``: proof of whether a loader unpickled it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def test_a_pickled_object_array_is_refused(tmp_path):
    marker = tmp_path / "unpickled"
    payload = np.array([CreatesAFileWhenUnpickled(marker)], dtype=object)
    tree = np.frombuffer(json.dumps({"array": "0"}).encode(), dtype=np.uint8)
    path = tmp_path / "evil.npz"
    np.savez(path, **{"0": payload, "__minigrad_tree__": tree})  # numpy pickles the object array
    with pytest.raises(ValueError, match=r"load: .*evil\.npz.*pickled data"):
        mg.load(path)
    assert not marker.exists()


def test_save_refuses_what_it_could_only_pickle(tmp_path):
    for obj, where in [(np.array([object()], dtype=object), "obj has dtype object"),
                       ({"a": [1, {2, 3}]}, "obj['a'][1] is a set"),
                       ({"z": np.array([1j])}, "obj['z'] has dtype complex128"),
                       ({(1, 2): 3}, "obj has keys that are not strings or ints")]:
        with pytest.raises(TypeError, match=r"save: " + where.replace("[", r"\[").replace("(", r"\(")):
            mg.save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


# ---- atomic writes

def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.npz"
    mg.save({"w": mg.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="save"):
        mg.save({"w": mg.zeros(3), "bad": [1, object()]}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]
    np.testing.assert_array_equal(mg.load(path)["w"].data, np.ones(3))


def test_a_save_interrupted_while_writing_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    mg.save({"w": mg.ones(3)}, path)
    before = path.read_bytes()

    def write_half_then_fail(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        mg.save({"w": mg.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_save_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(OSError, match=r"save: cannot write to .*missing"):
        mg.save(mg.ones(1), tmp_path / "missing" / "x.npz")


# ---- files minigrad did not write

def test_a_non_minigrad_npz_is_a_clear_error(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.ones(2))
    with pytest.raises(ValueError, match=r"load: .*other\.npz.* was not written by minigrad\.save"):
        mg.load(path)


def test_a_npy_or_a_text_file_is_a_clear_error(tmp_path):
    np.save(tmp_path / "one.npy", np.ones(2))
    with pytest.raises(ValueError, match=r"load: .*one\.npy.*not a file written by minigrad\.save"):
        mg.load(tmp_path / "one.npy")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"load: .*notes\.txt.* was not written by minigrad\.save"):
        mg.load(tmp_path / "notes.txt")
