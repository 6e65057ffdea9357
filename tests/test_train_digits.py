"""The main example: a LeNet-style CNN trained on scikit-learn's real digits."""

import runpy
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

pytest.importorskip("sklearn")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "train_digits.py"


@pytest.fixture(scope="module")
def example() -> dict:
    return runpy.run_path(str(EXAMPLE))


@pytest.mark.slow
def test_reaches_97_percent_and_saves_weights_and_picture(example: dict, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    accuracy = example["main"](["--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert accuracy >= 0.97, printed
    assert "epoch 30" in printed and "images/s" in printed and "final test accuracy" in printed
    reloaded = example["DigitsCNN"]()
    reloaded.load_state_dict(mg.load(tmp_path / "digits_cnn.npz"))
    _, test = mg.datasets.digits(seed=0)
    assert example["accuracy"](reloaded, test) == pytest.approx(accuracy)  # the saved weights are the trained ones
    svg = tmp_path / "digits_cnn.svg"
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg")) and "features.0" in svg.read_text()


def test_same_seed_same_run(example: dict, tmp_path: Path) -> None:
    runs = [example["train"](epochs=1, seed=3, out_dir=str(tmp_path / str(i)), verbose=False)[0] for i in range(2)]
    other = example["train"](epochs=1, seed=4, out_dir=str(tmp_path / "other"), verbose=False)[0]
    first, second, third = (dict(m.state_dict()) for m in (*runs, other))
    assert first.keys() == second.keys()
    for key in first:
        assert np.array_equal(first[key].data, second[key].data), key  # bit-identical
    assert not all(np.array_equal(first[k].data, third[k].data) for k in first)
