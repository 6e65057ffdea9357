"""minigrad.memory: freed arrays are reused instead of being faulted back in page by page."""

import os
import platform
import subprocess
import sys

import pytest

import minigrad as mg

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Like a training step: makes eight 2 MB arrays, then frees them all; 20 rounds.
# Prints the minor page faults per round.
FAULTS = """
import resource, numpy as np, minigrad
def faults(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def round(): return [np.ones(512 << 10, np.float32) for _ in range(8)]
round()
before = faults()
for _ in range(20):
    round()
print((faults() - before) / 20)
"""


def faults_per_round(**env: str) -> float:
    out = subprocess.run([sys.executable, "-c", FAULTS], env={**os.environ, **env}, capture_output=True, text=True,
                         check=True)
    return float(out.stdout)


@pytest.mark.skipif(not GLIBC, reason="malloc is tuned only where the C library is glibc")
def test_import_tunes_malloc_so_big_arrays_reuse_their_pages():
    assert mg.memory.tuned == (os.environ.get("MINIGRAD_MALLOC", "").lower() != "system")
    pages = 8 * (2 << 20) / 4096
    assert faults_per_round(MINIGRAD_MALLOC="system") > pages / 2  # glibc's default: every page faults again
    assert faults_per_round(MINIGRAD_MALLOC="") < pages / 100


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda: ("musl", "1.2"))
    assert mg.memory.keep_freed_memory() is False
