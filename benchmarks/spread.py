"""Why a training step swings on a busy machine: the batch-64 LeNet-5 step, quiet and beside a busy process.

Times minigrad's step (``mg.models.LeNet5``, cross-entropy, backward, SGD, as in
benchmarks/train_step.py) and the hand-written numpy floor (benchmarks/numpy_lenet.py), each in a
fresh child process, in four settings: the machine as it is ("quiet") or with one extra process
spinning on a core ("busy"), and numpy's BLAS (OpenBLAS) on 2 threads or on 1
(``OPENBLAS_NUM_THREADS``, which must be set before numpy is imported, hence the children).
Each child times ``--blocks`` blocks of steps, the two contenders alternating, and reports every
block. Printed per setting: the median ms per step, and the spread — the slowest block over
the fastest — of each contender.

On 2 cores, a BLAS call split over 2 threads waits for its slower half: when another process
holds one core, every call waits for that thread to be scheduled again. A step that makes more
BLAS calls, each shorter, loses more to those waits.

    python benchmarks/spread.py [--batch 64] [--blocks 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def child(batch: int, blocks: int) -> None:
    """Times both contenders in this process (BLAS threads as the environment set them); prints JSON."""
    from pathlib import Path

    import numpy as np

    import minigrad as mg
    sys.path.insert(0, str(Path(__file__).parent))
    from train_step import block_size, minigrad_step, numpy_step  # a sibling script, not a package

    mg.memory.keep_freed_memory()
    steps = {"minigrad": minigrad_step(batch, np.random.default_rng(0)),
             "numpy": numpy_step(batch, np.random.default_rng(0))}
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in [*steps.values()] * 2:  # warm up
        step()
    for _ in range(blocks):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(block_size(batch)):
                step()
            times[name].append((time.perf_counter() - start) / block_size(batch) * 1e3)
    print(json.dumps(times))


def measure(batch: int, blocks: int, threads: int, busy: bool) -> dict[str, list[float]]:
    """ms per step of every block of both contenders, in a fresh child with ``threads`` BLAS threads,
    beside a spinning process when ``busy``."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
        run = subprocess.run([sys.executable, __file__, "--child", "--batch", str(batch), "--blocks", str(blocks)],
                             capture_output=True, text=True, check=True, env=env)
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    return json.loads(run.stdout)


def summary(blocks: list[float]) -> tuple[float, float]:
    """The median block, and the spread: the slowest block over the fastest."""
    return statistics.median(blocks), max(blocks) / min(blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=15)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.batch, args.blocks)
        return
    print(f"LeNet-5 step at batch {args.batch}, ms per step: median of {args.blocks} blocks, "
          "spread = slowest block / fastest")
    print(f"{'machine':<8}{'BLAS threads':>13}{'minigrad':>10}{'spread':>8}{'numpy':>9}{'spread':>8}{'mg/numpy':>10}")
    for busy in (False, True):
        for threads in (2, 1):
            t = measure(args.batch, args.blocks, threads, busy)
            (mg_ms, mg_spread), (np_ms, np_spread) = (summary(t[name]) for name in ("minigrad", "numpy"))
            print(f"{'busy' if busy else 'quiet':<8}{threads:>13}{mg_ms:10.2f}{mg_spread:7.2f}×"
                  f"{np_ms:9.2f}{np_spread:7.2f}×{mg_ms / np_ms:9.2f}×")
    print("(busy: one extra process spinning on a core for the whole measurement)")


if __name__ == "__main__":
    main()
