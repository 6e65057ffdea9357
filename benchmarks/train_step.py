"""One LeNet-5 training step — forward, cross-entropy, backward, SGD update — side by side.

Prints ms/step and images/s at batch 1, 16, 64 and 256 for
  - minigrad (``mg.models.LeNet5``, ``F.cross_entropy``, ``optim.SGD``), with its tuned
    kernels (the default) and with the textbook forward (``mg.textbook_kernels()``),
  - the same step hand-written in plain numpy (benchmarks/numpy_lenet.py: the floor for any
    numpy engine, since it builds no graph and reuses the forward's im2col columns),
  - PyTorch CPU with 2 threads, when it is installed,
  - DeZero (``pip install dezero``; it needs ``np.int``, gone in numpy 2, which this script
    puts back before importing it), when it is installed: the same LeNet-5 written with its
    layers (``L.Conv2d``, ``F.pooling``, ``L.Linear``), ``F.softmax_cross_entropy``, its SGD,
  - tinygrad (``pip install tinygrad``) on its CPU device with kernels compiled by clang
    (``DEV=CPU:CLANG``), when it is installed and clang is there: the same LeNet-5 with its ``nn``
    layers, ``sparse_categorical_crossentropy``, its SGD, the step under ``TinyJit`` as tinygrad's
    own examples train (eager, each step spends ~150 ms on 2 cores scheduling its kernels in Python),
with the ratios measured in the same run; and what recording Module calls (for graph
pictures) costs per step. The script first asks malloc to keep freed memory
(``mg.memory.keep_freed_memory()``, as a training script would) for the whole process, so the
numpy floor and the other frameworks run with the same allocator settings.

The column ``no keep`` is minigrad's step with glibc's default malloc settings — the cost of
not making that call. A malloc setting cannot be undone inside a process, so that column is
timed first, in a fresh child process (``--no-keep-child``) that never makes the call, with the
same blocks and repeats; being from another process minutes earlier, its ratio ``nk/mg``
carries the machine's drift between the two (±30 % on a busy machine), not only the setting's cost.

    python benchmarks/train_step.py [--batches 1 16 64 256] [--repeats 7]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
import numpy_lenet  # a sibling script, not a package


def time_blocks(steps: list[Callable[[], object] | None], repeats: int, block: int,
                statistic: Callable[[list[float]], float] = statistics.median) -> list[float]:
    """ms per step of each contender: the median over ``repeats`` rounds, each round timing one
    block of ``block`` steps per contender in turn (blocks, not single steps, since one step is
    too short to time alone; interleaved rounds, so that a machine slowing down for a while
    hits every contender alike)."""
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(2):  # warm up: first calls allocate, and thread pools start
        for step in filter(None, steps):
            step()
    for _ in range(repeats):
        for step, spent in zip(steps, times, strict=True):
            if step is None:
                continue
            start = time.perf_counter()
            for _ in range(block):
                step()
            spent.append((time.perf_counter() - start) / block * 1e3)
            time.sleep(0.2)  # let BLAS threads go idle before the next contender
    return [statistic(spent) if spent else float("nan") for spent in times]


def minigrad_step(batch: int, rng: np.random.Generator, textbook: bool = False) -> Callable[[], float]:
    """One step of minigrad's LeNet-5; ``textbook``: with the fast kernels off."""
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

    def textbook_step() -> float:
        with mg.textbook_kernels():
            return step()
    return textbook_step if textbook else step


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


def dezero_step(batch: int, rng: np.random.Generator) -> Callable[[], float] | None:
    """The same LeNet-5 step in DeZero (float32 layers, plain SGD), or None when it is not installed."""
    if not hasattr(np, "int"):
        np.int = int  # DeZero 0.0.13 still uses np.int, which numpy 2 removed
    try:
        import dezero
        import dezero.functions as DF
        import dezero.layers as L
    except ImportError:
        return None

    class LeNet5(dezero.Model):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.conv2 = L.Conv2d(6, 5, pad=2, in_channels=1), L.Conv2d(16, 5, in_channels=6)
            self.fc1, self.fc2 = L.Linear(120, in_size=400), L.Linear(84, in_size=120)
            self.fc3 = L.Linear(10, in_size=84)

        def forward(self, x):  # DeZero's Variables
            x = DF.pooling(DF.relu(self.conv1(x)), 2, 2)
            x = DF.pooling(DF.relu(self.conv2(x)), 2, 2)
            x = DF.reshape(x, (x.shape[0], -1))
            return self.fc3(DF.relu(self.fc2(DF.relu(self.fc1(x)))))

    model = LeNet5()
    optimizer = dezero.optimizers.SGD(lr=0.01).setup(model)
    images = rng.random((batch, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, batch)

    def step() -> float:
        loss = DF.softmax_cross_entropy(model(images), labels)
        model.cleargrads()
        loss.backward()
        optimizer.update()
        return float(loss.data)
    return step


@functools.cache
def tinygrad_cpu() -> ModuleType | None:
    """tinygrad, set to run on its CPU device with clang-compiled kernels, or None when it is not installed or that
    device cannot run (no clang). Checked by running one small kernel compiled afresh, since a kernel from
    tinygrad's disk cache would run without clang; cached, since the setting and the check are for the process."""
    try:
        import tinygrad
        from tinygrad.helpers import DEV, Context
    except ImportError:
        return None
    DEV.value = "CPU:CLANG"  # tinygrad 0.14 picks device and renderer so (CPU=1, setting Device.DEFAULT: errors)
    try:
        with Context(CACHELEVEL=0):
            (tinygrad.Tensor([1.0]) + 1).item()
    except (OSError, RuntimeError, subprocess.CalledProcessError):
        return None
    return tinygrad


def tinygrad_step(batch: int, rng: np.random.Generator) -> Callable[[], float] | None:
    """The same LeNet-5 step in tinygrad on its CPU device, or None when it cannot run there (see ``tinygrad_cpu``).

    The step is a ``TinyJit`` function, as tinygrad trains: its first call compiles the kernels (seconds), the second
    captures them, later calls replay them. It is warmed up here until it replays, so that none of that is timed
    whatever warm-up ``time_blocks`` does. Loss and updated parameters are realized in one schedule each call, and
    reading the loss waits for it."""
    if (tinygrad := tinygrad_cpu()) is None:
        return None
    from tinygrad import Context, Tensor, TinyJit, nn
    from tinygrad.nn.state import get_parameters

    Tensor.manual_seed(0)
    layers = [nn.Conv2d(1, 6, 5, padding=2), Tensor.relu, Tensor.max_pool2d, nn.Conv2d(6, 16, 5), Tensor.relu,
              Tensor.max_pool2d, lambda x: x.flatten(1), nn.Linear(400, 120), Tensor.relu, nn.Linear(120, 84),
              Tensor.relu, nn.Linear(84, 10)]
    parameters = get_parameters(layers)
    optimizer = nn.optim.SGD(parameters, lr=0.01)
    images = Tensor(rng.random((batch, 1, 28, 28), dtype=np.float32)).realize()
    labels = Tensor(rng.integers(0, 10, batch)).realize()
    Tensor.realize(*parameters)  # the random initial values, so that the first step's graph is every step's

    @TinyJit
    @Context(TRAINING=1)  # tinygrad's optimizers refuse to step outside training mode
    def jitted() -> tinygrad.Tensor:
        optimizer.zero_grad()
        loss = images.sequential(layers).sparse_categorical_crossentropy(labels).backward()
        return loss.realize(*optimizer.schedule_step())

    def step() -> float:
        return jitted().item()
    for _ in range(3):  # run and compile, capture, first replay
        step()
    return step


def no_keep_times(batches: list[int], repeats: int) -> dict[int, float]:
    """ms per minigrad step at each batch, timed in a fresh child process that keeps glibc's malloc defaults."""
    run = subprocess.run([sys.executable, __file__, "--no-keep-child", "--repeats", str(repeats),
                          "--batches", *map(str, batches)], capture_output=True, text=True, check=True)
    return {int(batch): ms for batch, ms in json.loads(run.stdout).items()}


def block_size(batch: int) -> int:
    return max(2, min(50, 400 // batch))


def recording_cost(repeats: int) -> float:
    """µs that ``Module.__call__`` adds to one call (recording the call on the tensors it makes,
    for graph pictures): a ReLU on a small tensor called through the module against its bare forward."""
    layer, x = mg.nn.ReLU(), mg.randn(4, requires_grad=True)
    recorded, bare = time_blocks([lambda: layer(x), lambda: layer.forward(x)], 3 * repeats, 2000, min)
    return (recorded - bare) * 1e3  # the fastest rounds: a difference of a few µs drowns in the noise of medians


def main() -> None:
    parser = argparse.ArgumentParser(description="LeNet-5 training step: minigrad vs numpy vs PyTorch")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-keep-child", action="store_true",
                        help="(internal) time minigrad alone with malloc's defaults and print JSON")
    args = parser.parse_args()
    if args.no_keep_child:  # the child process of no_keep_times: keep_freed_memory() is never called here
        rng = np.random.default_rng(0)
        times = {batch: time_blocks([minigrad_step(batch, rng)], args.repeats, block_size(batch))[0]
                 for batch in args.batches}
        print(json.dumps(times))
        return
    no_keep = no_keep_times(args.batches, args.repeats)  # first, while this process has not run anything heavy
    mg.memory.keep_freed_memory()
    rng = np.random.default_rng(0)
    has_torch, has_dezero = torch_step(1, rng) is not None, dezero_step(1, rng) is not None
    has_tinygrad = tinygrad_cpu() is not None
    print(f"LeNet-5 training step, float32, ms/step (median of {args.repeats} interleaved rounds)")
    header = (f"{'batch':>5} {'minigrad':>10} {'numpy':>9} {'torch':>9} {'mg/numpy':>9} {'mg/torch':>9} "
              f"{'mg img/s':>10} {'textbook':>9} {'tb/numpy':>9} {'tb/torch':>9} {'no keep':>9} {'nk/mg':>7} "
              f"{'dezero':>9} {'dz/mg':>7} {'tinygrad':>9} {'tg/mg':>7}")
    print(header)
    for batch in args.batches:
        contenders = [minigrad_step(batch, rng), numpy_step(batch, rng), torch_step(batch, rng),
                      minigrad_step(batch, rng, textbook=True), dezero_step(batch, rng), tinygrad_step(batch, rng)]
        mine, floor, theirs, textbook, dezero, tiny = time_blocks(contenders, args.repeats, block_size(batch))
        print(f"{batch:>5} {mine:>10.2f} {floor:>9.2f} {theirs:>9.2f} {mine / floor:>8.2f}× {mine / theirs:>8.2f}× "
              f"{batch / mine * 1e3:>10,.0f} {textbook:>9.2f} {textbook / floor:>8.2f}× {textbook / theirs:>8.2f}× "
              f"{no_keep[batch]:>9.2f} {no_keep[batch] / mine:>6.2f}× {dezero:>9.2f} {dezero / mine:>6.2f}× "
              f"{tiny:>9.2f} {tiny / mine:>6.2f}×")
    if not has_torch:
        print("(PyTorch is not installed: `pip install torch` to print its column)")
    if not has_dezero:
        print("(DeZero is not installed: `pip install dezero` to print its column)")
    if not has_tinygrad:
        print("(tinygrad's CPU device cannot run: `pip install tinygrad` and clang to print its column)")
    print("(no keep: minigrad without mg.memory.keep_freed_memory(), timed first in a fresh process; "
          "nk/mg = its cost)")
    cost, calls = recording_cost(args.repeats), len(list(mg.models.LeNet5().modules()))
    print(f"\nModule-call recording (for graph pictures): {cost:.1f} µs per call; LeNet-5 makes {calls} calls "
          f"per step, {cost * calls:.0f} µs in all")

if __name__ == "__main__":
    main()
