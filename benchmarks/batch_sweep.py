"""Step time against batch size: one LeNet-5 training step for minigrad, the numpy floor and PyTorch.

The step is benchmarks/train_step.py's — forward, cross-entropy, backward, SGD update, the
same models and random data — timed with its helpers, in interleaved blocks, at batch sizes
1 to 256. It prints ms/step for each contender and minigrad's ratios to the other two; with
``--plot`` it also draws ms/step against batch size (log-log), one line per contender, so the
batch size where minigrad's fixed Python cost per step stops dominating can be read off.
The script first asks malloc to keep freed memory (``mg.memory.keep_freed_memory()``), as
train_step.py and a training script do. It takes about a minute on two quiet cores.

    python benchmarks/batch_sweep.py [--repeats 5] [--plot [PATH]]   # PATH: docs/images/step_time_vs_batch.png
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

import minigrad as mg

sys.path.insert(0, str(Path(__file__).parent))
import train_step  # a sibling script, not a package: its steps and timing helpers

BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
CONTENDERS = ("minigrad", "numpy", "PyTorch")
DEFAULT_PLOT = Path(__file__).resolve().parent.parent / "docs" / "images" / "step_time_vs_batch.png"


def time_batch(batch: int, repeats: int, rng: np.random.Generator) -> list[float]:
    """ms/step of minigrad, the numpy floor and PyTorch (NaN when it is not installed) at one batch size."""
    steps = [train_step.minigrad_step(batch, rng), train_step.numpy_step(batch, rng), train_step.torch_step(batch, rng)]
    return train_step.time_blocks(steps, repeats, train_step.block_size(batch))


def row(batch: int, mine: float, floor: float, theirs: float) -> str:
    """One line of the table: the three times and minigrad's ratios to the numpy floor and to PyTorch."""
    return f"{batch:>5} {mine:>10.2f} {floor:>9.2f} {theirs:>9.2f} {mine / floor:>8.2f}× {mine / theirs:>8.2f}×"


def plot(times: dict[int, list[float]], path: Path) -> None:
    """ms/step against batch size, log-log, one line per contender that was timed, into the PNG ``path``."""
    from matplotlib.figure import Figure  # only for --plot: the table needs no matplotlib

    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    batches = list(times)
    for i, name in enumerate(CONTENDERS):
        ms = [times[b][i] for b in batches]
        if not any(math.isnan(t) for t in ms):
            ax.plot(batches, ms, marker="o", label=name)
    ax.set(xscale="log", yscale="log", xlabel="batch size (images per step)", ylabel="time per step (ms)",
           title="One LeNet-5 training step (float32, 2 threads)")
    ax.set_xticks(batches, [str(b) for b in batches])
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    print(f"drew {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description="LeNet-5 step time against batch size: minigrad, numpy, PyTorch")
    parser.add_argument("--batches", type=int, nargs="+", default=list(BATCHES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--plot", type=Path, nargs="?", const=DEFAULT_PLOT, metavar="PATH",
                        help="draw ms/step against batch size into PATH (default docs/images/step_time_vs_batch.png)")
    args = parser.parse_args()
    mg.memory.keep_freed_memory()  # as train_step.py: freed arrays' memory reused from step to step
    rng = np.random.default_rng(0)
    print(f"LeNet-5 training step, float32, ms/step (median of {args.repeats} interleaved rounds)")
    print(f"{'batch':>5} {'minigrad':>10} {'numpy':>9} {'torch':>9} {'mg/numpy':>9} {'mg/torch':>9}")
    times = {}
    for batch in args.batches:
        times[batch] = time_batch(batch, args.repeats, rng)
        print(row(batch, *times[batch]), flush=True)
    if train_step.torch_step(1, rng) is None:
        print("(PyTorch is not installed: `pip install torch` to time and draw it)")
    if args.plot:
        plot(times, args.plot)


if __name__ == "__main__":
    main()
