"""One LeNet-5 training step — forward, cross-entropy, backward, SGD update — side by side.

Prints ms/step and images/s at batch 1, 16, 64 and 256 for
  - minigrad (``mg.models.LeNet5``, ``F.cross_entropy``, ``optim.SGD``),
  - the same step hand-written in plain numpy (benchmarks/numpy_lenet.py: the floor for any
    numpy engine, see ../shared/PERF.md),
  - PyTorch CPU with 2 threads, when it is installed,
with the ratios measured in the same run; and what recording Module calls (for graph
pictures) costs per step.

    python benchmarks/train_step.py [--batches 1 16 64 256] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
import numpy_lenet  # a sibling script, not a package


def time_block(step: Callable[[], object], repeats: int, block: int) -> float:
    """Median over ``repeats`` blocks of ``block`` steps, in ms per step (PERF.md's way: blocks, not single steps)."""
    for _ in range(3):  # warm up: first calls allocate, and thread pools start
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(block):
            step()
        times.append((time.perf_counter() - start) / block * 1e3)
    time.sleep(0.2)  # let BLAS threads go idle before the next contender
    return statistics.median(times)


def minigrad_step(batch: int, rng: np.random.Generator) -> Callable[[], float]:
    mg.manual_seed(0)
    model = mg.models.LeNet5()
    optimizer = mg.optim.SGD(model.parameters(), lr=0.01)
    images = mg.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32))
    labels = mg.tensor(rng.integers(0, 10, batch))

    def step() -> float:
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def numpy_step(batch: int, rng: np.random.Generator) -> Callable[[], float]:
    params = numpy_lenet.init_params(rng)
    images = rng.random((batch, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, batch)
    return lambda: numpy_lenet.train_step(params, images, labels, 0.01)


def torch_step(batch: int, rng: np.random.Generator) -> Callable[[], float] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                          nn.Linear(84, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    images = torch.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32))
    labels = torch.tensor(rng.integers(0, 10, batch))

    def step() -> float:
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def recording_cost(batch: int, rng: np.random.Generator, repeats: int) -> float:
    """ms per step that Module-call recording adds: the step timed again with ``Module.__call__``
    reduced to a bare ``forward`` call (a benchmark-only patch, undone afterwards)."""
    module = mg.nn.Module
    recorded = time_block(minigrad_step(batch, rng), repeats, 20)
    original = module.__call__
    module.__call__ = lambda self, *args, **kwargs: self.forward(*args, **kwargs)
    try:
        bare = time_block(minigrad_step(batch, rng), repeats, 20)
    finally:
        module.__call__ = original
    return recorded - bare


def main() -> None:
    parser = argparse.ArgumentParser(description="LeNet-5 training step: minigrad vs numpy vs PyTorch")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    has_torch = torch_step(1, rng) is not None
    print(f"LeNet-5 training step, float32, ms/step (median of {args.repeats} blocks)")
    header = f"{'batch':>5} {'minigrad':>10} {'numpy':>9} {'torch':>9} {'mg/numpy':>9} {'mg/torch':>9} {'mg img/s':>10}"
    print(header)
    for batch in args.batches:
        block = max(2, min(50, 400 // batch))
        mine = time_block(minigrad_step(batch, rng), args.repeats, block)
        floor = time_block(numpy_step(batch, rng), args.repeats, block)
        theirs = time_block(torch_step(batch, rng), args.repeats, block) if has_torch else float("nan")
        print(f"{batch:>5} {mine:>10.2f} {floor:>9.2f} {theirs:>9.2f} {mine / floor:>8.2f}× {mine / theirs:>8.2f}× "
              f"{batch / mine * 1e3:>10,.0f}")
    if not has_torch:
        print("(PyTorch is not installed: `pip install torch` to print its column)")
    cost = recording_cost(16, rng, args.repeats)
    print(f"\nModule-call recording (for graph pictures) at batch 16: {cost * 1e3:+.0f} µs per step "
          f"({len(list(mg.models.LeNet5().modules()))} module calls)")


if __name__ == "__main__":
    main()
