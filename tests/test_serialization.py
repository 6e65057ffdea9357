"""mg.save / mg.load: round trips of tensors, arrays and nested containers; loading never
unpickles; saving is atomic (a failed save leaves the old file and no temporary file)."""

import itertools
import json
import os
import pathlib
import pickle
import subprocess
import sys

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
    with pytest.raises(mg.CheckpointError, match=r"load: .*evil\.npz.*pickled data"):
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


# ---- files minigrad did not write, and damaged files: one exception type, naming the path

def test_a_non_minigrad_npz_is_a_clear_error(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.ones(2))
    with pytest.raises(mg.CheckpointError, match=r"load: .*other\.npz.* not written by minigrad\.save"):
        mg.load(path)


def write_npy(path):
    with path.open("wb") as f:  # a file object: np.save would add .npy to the name
        np.save(f, np.ones(2))


@pytest.mark.parametrize("make", [
    write_npy,
    lambda p: p.write_text("hello"),
    lambda p: p.write_bytes(b""),
    lambda p: p.write_bytes(pickle.dumps({"w": [1.0]})),
], ids=["npy", "text", "empty", "pickle"])
def test_a_file_that_is_not_a_checkpoint_is_a_clear_error(tmp_path, make):
    path = tmp_path / "thing.npz"
    make(path)
    with pytest.raises(mg.CheckpointError, match=r"load: .*thing\.npz.* not a file written by minigrad\.save"):
        mg.load(path)


def test_checkpoint_error_is_a_value_error():
    assert issubclass(mg.CheckpointError, ValueError)


CHECKPOINT = {"weight": mg.tensor(np.arange(6.0).reshape(2, 3)), "step": 7, "betas": (0.9, 0.999), "name": "fc"}


def saved_bytes(tmp_path):
    mg.save(CHECKPOINT, tmp_path / "good.npz")
    return (tmp_path / "good.npz").read_bytes()


def test_every_truncation_is_a_clear_error(tmp_path):
    data = saved_bytes(tmp_path)
    path = tmp_path / "cut.npz"
    for length in range(len(data)):
        path.write_bytes(data[:length])
        with pytest.raises(mg.CheckpointError, match=r"load: .*cut\.npz"):
            mg.load(path)


def test_every_flipped_bit_is_an_error_or_changes_nothing(tmp_path):
    """A flipped bit in the arrays, the description or the archive's structure raises; one in a
    field the reader never uses (a timestamp, say) loads the same values. Never a wrong value."""
    data = saved_bytes(tmp_path)
    path, errors = tmp_path / "flipped.npz", 0
    for position, bit in itertools.product(range(len(data)), range(8)):
        damaged = bytearray(data)
        damaged[position] ^= 1 << bit
        path.write_bytes(bytes(damaged))
        try:
            loaded = mg.load(path)
        except mg.CheckpointError:
            errors += 1
            continue
        assert_same(loaded, CHECKPOINT)
    assert errors > 4 * len(data)


@pytest.mark.parametrize(("tree", "fragment"), [
    ({"tensor": "7"}, "names no array"),
    ({"tensor": 0}, "names no array"),
    ({"set": [1]}, "malformed description"),
    ({"dict": [[1.5, {"value": 1}]]}, "malformed description"),
    ({"dict": {"a": 1}}, "malformed description"),
    ({"value": [1, 2]}, "malformed description"),
    ([1, 2], "not an entry of one kind"),
    ({"list": [], "tuple": []}, "not an entry of one kind"),
    ("nested", "nested more than"),
])
def test_a_malformed_description_is_a_clear_error(tmp_path, tree, fragment):
    if tree == "nested":
        tree = {"value": 1}
        for _ in range(mg.serialization.MAX_DEPTH + 5):
            tree = {"list": [tree]}
    path = tmp_path / "bad.npz"
    np.savez(path, **{"0": np.ones(2), "__minigrad_tree__": np.frombuffer(json.dumps(tree).encode(), np.uint8)})
    with pytest.raises(mg.CheckpointError, match=fragment):
        mg.load(path)


def test_an_oversized_member_is_refused_before_it_is_read(tmp_path, monkeypatch):
    mg.save({"w": mg.ones(1000)}, tmp_path / "big.npz")
    monkeypatch.setattr(mg.serialization, "MAX_ARRAY_BYTES", 1000)
    with pytest.raises(mg.CheckpointError, match=r"holds 4,128 bytes, more than the 1,000"):
        mg.load(tmp_path / "big.npz")


# ---- saving safely

def test_saving_to_a_folder_names_the_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"save: .* is a folder"):
        mg.save(mg.ones(1), tmp_path)


def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    path = tmp_path / "model.npz"
    code = ("import os, minigrad as mg, numpy as np\n"
            "np.savez = lambda f, **a: (f.write(b'half'), f.flush(), os._exit(9))\n"
            f"mg.save(mg.ones(3), {str(path)!r})\n")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 9
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.npz.minigrad-tmp-")
    mg.save(mg.ones(3), path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_a_saved_file_has_the_usual_permissions_of_a_new_file(tmp_path):
    mask = os.umask(0o022)
    try:
        mg.save(mg.ones(1), tmp_path / "w.npz")
    finally:
        os.umask(mask)
    assert (tmp_path / "w.npz").stat().st_mode & 0o777 == 0o644
