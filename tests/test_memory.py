"""minigrad.memory: importing minigrad leaves malloc alone; ``keep_freed_memory()``, called
explicitly, makes freed arrays be reused instead of faulted back in page by page."""

import platform
import subprocess
import sys

import pytest

import minigrad as mg

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Like a training step: makes eight 2 MB arrays, then frees them all; 20 rounds. SETUP runs
# first. Prints the minor page faults (a page touched for the first time) per round.
FAULTS = """
import resource
import numpy as np
{setup}
def faults(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def round(): return [np.ones(512 << 10, np.float32) for _ in range(8)]
round()
before = faults()
for _ in range(20):
    round()
print((faults() - before) / 20)
"""
PAGES = 8 * (2 << 20) / 4096  # the pages one round touches: 4,096


def faults_per_round(setup: str) -> float:
    """Page faults per round in a fresh Python process (malloc's settings are the whole process's)."""
    out = subprocess.run([sys.executable, "-c", FAULTS.format(setup=setup)], capture_output=True, text=True,
                         check=True)
    return float(out.stdout)


@pytest.mark.skipif(not GLIBC, reason="malloc's behaviour measured here is glibc's")
def test_importing_minigrad_changes_nothing():
    # glibc's defaults hand each freed 2 MB block back to the system: every page faults again
    assert faults_per_round("") > PAGES / 2
    assert faults_per_round("import minigrad") > PAGES / 2
    assert faults_per_round("import minigrad.nn, minigrad.viz, minigrad.memory") > PAGES / 2


@pytest.mark.skipif(not GLIBC, reason="keep_freed_memory tunes glibc's malloc")
def test_keep_freed_memory_makes_big_arrays_reuse_their_pages():
    tuned = "import minigrad as mg\nassert mg.memory.keep_freed_memory() is True"
    assert faults_per_round(tuned) < PAGES / 100


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda: ("musl", "1.2"))
    assert mg.memory.keep_freed_memory() is False


def test_memory_has_no_import_time_switch():
    assert not hasattr(mg.memory, "tuned")  # nothing is decided at import
