"""The main example: a LeNet-style CNN trained on scikit-learn's real digits."""

import csv
import importlib.util
import runpy
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

pytest.importorskip("sklearn")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "train_digits.py"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def example() -> dict:
    return runpy.run_path(str(EXAMPLE))


@pytest.fixture(scope="module")
def one_epoch(example: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """(model, output folder) of a one-epoch run with seed 3."""
    out = tmp_path_factory.mktemp("one_epoch")
    return example["train"](epochs=1, seed=3, out_dir=str(out), verbose=False)[0], out


@pytest.mark.slow
def test_reaches_98_percent_and_saves_weights_history_and_pictures(example: dict, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    accuracy = example["main"](["--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert accuracy >= 0.98, printed
    assert "epoch  8 " in printed and "images/s" in printed and "final test accuracy" in printed
    reloaded = example["DigitsCNN"]()
    reloaded.load_state_dict(mg.load(tmp_path / "digits_cnn.npz"))
    _, test = mg.datasets.digits(seed=0)
    assert example["accuracy"](reloaded, test) == pytest.approx(accuracy)  # the saved weights are the trained ones
    svg = tmp_path / "digits_cnn.svg"
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg")) and "features.0" in svg.read_text()
    with open(tmp_path / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 9))
    assert float(rows[-1]["test_accuracy"]) == pytest.approx(accuracy)
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"]) and all(float(r["images_per_second"]) > 0 for r in rows)
    if importlib.util.find_spec("matplotlib") is None:
        assert "no curves.png or filters.png" in printed and "minigrad[plots]" in printed
    else:
        for name in ("curves.png", "filters.png"):
            assert (tmp_path / name).read_bytes().startswith(PNG), name


def test_same_seed_same_run(example: dict, one_epoch: tuple, tmp_path: Path) -> None:
    runs = [one_epoch[0], example["train"](epochs=1, seed=3, out_dir=str(tmp_path / "again"), verbose=False)[0]]
    other = example["train"](epochs=1, seed=4, out_dir=str(tmp_path / "other"), verbose=False)[0]
    first, second, third = (dict(m.state_dict()) for m in (*runs, other))
    assert first.keys() == second.keys()
    for key in first:
        assert np.array_equal(first[key].data, second[key].data), key  # bit-identical
    assert not all(np.array_equal(first[k].data, third[k].data) for k in first)


def test_drawing_the_graph_leaves_the_saved_state(one_epoch: tuple) -> None:
    """The graph is drawn in evaluation mode after saving: batch norm's running statistics (and
    everything else) are still the checkpoint's, and the model is back in training mode."""
    model, out = one_epoch
    saved = mg.load(out / "digits_cnn.npz")
    state = model.state_dict()
    assert saved.keys() == state.keys() and any("running_mean" in key for key in saved)
    for key, value in state.items():
        np.testing.assert_array_equal(saved[key].data, value.data, err_msg=key)
    assert all(m.training for m in model.modules())
    assert (out / "history.csv").read_text().splitlines()[0] == \
        "epoch,loss,train_accuracy,test_accuracy,images_per_second"
