"""The type hints are checked: ``mypy minigrad``, with the settings in pyproject.toml, finds
no error; and the wheel ships ``py.typed`` so that users' type checkers read the hints."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed (it is in the `test` extra: pip install -e '.[test]')")
def test_mypy_finds_no_error():
    run = subprocess.run([sys.executable, "-m", "mypy", "minigrad"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_package_marks_itself_typed():
    assert (ROOT / "minigrad" / "py.typed").is_file()
    assert "py.typed" in (ROOT / "setup.cfg").read_text(encoding="utf-8")  # package data: the wheel ships it
