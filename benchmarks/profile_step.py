"""Where a LeNet-5 training step's time goes: per primitive, forward and VJP apart, and the rest.

The step is the one of benchmarks/train_step.py — ``mg.models.LeNet5``, ``F.cross_entropy``,
backward, ``optim.SGD`` — with ``mg.memory.keep_freed_memory()`` called first, as there. For
the duration of this script only, every primitive in ``mg.ops.registry`` has its ``forward`` and
its VJP functions (``vjps`` and ``vjp_argnum``) replaced by timed wrappers; they are put back
after each timed block, so the library itself is never changed. Rows:

  - ``<name>  forward``: the primitive's numpy forward, applied by the model and the loss;
  - ``<name>  forward in backward``: the same, applied by the engine's backward loop itself
    (summing the gradients of a tensor used twice: ``add``; casting a gradient: ``cast``);
  - ``<name>  VJP``: the primitive's VJP functions, inclusive — a VJP is written with Tensor
    operations, so its time holds the primitives it applies, their forwards and their
    bookkeeping; the column ``in fwds`` is the part spent in those forwards (numpy);
  - ``optimizer``: ``optimizer.zero_grad()`` and ``optimizer.step()`` (SGD's numpy update);
  - ``timers``: the wrappers' own cost, estimated as calls × the cost of one wrapped call;
  - ``bookkeeping (rest)``: everything else — making Tensors and graph nodes
    (``Primitive.__call__`` around the forward), Module calls, argument checks, the backward
    loop (topological order, hooks, version checks, ``Primitive.vjp``'s checks), ``loss.item()``.

Blocks of unwrapped and wrapped steps are timed in turn (``--rounds`` of each, a short pause
between), so the unwrapped step time printed below the table is measured in the same run;
times are means over the blocks, so that the rows add up to the wrapped step.

    python benchmarks/profile_step.py [--batches 1 64] [--rounds 7]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F


class Profiler:
    """Timed wrappers for every primitive's forward and VJPs: ``install()`` puts them in, ``remove()`` out."""

    def __init__(self) -> None:
        self.originals = {name: (p.forward, p.vjps, p.vjp_argnum) for name, p in mg.ops.registry.items()}
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.nested: dict[tuple[str, str], float] = defaultdict(float)  # forwards applied inside each VJP
        self.calls: dict[tuple[str, str], int] = defaultdict(int)
        self.phase = "forward"       # set by the step: "forward" or "backward"
        self.vjp: tuple[str, str] | None = None  # the VJP running now, if any
        self.wrapped_calls = 0

    def _forward(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                self.wrapped_calls += 1
                if self.vjp is not None:  # applied by a VJP: part of that VJP's (inclusive) time
                    self.nested[self.vjp] += spent
                else:
                    key = (name, "forward" if self.phase == "forward" else "forward in backward")
                    self.seconds[key] += spent
                    self.calls[key] += 1
        return timed

    def _vjp(self, name: str, fn: Callable[..., Any] | None) -> Callable[..., Any] | None:
        if fn is None:
            return None

        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.vjp is not None:  # a VJP inside a VJP (double backward): counted in the outer one
                return fn(*args, **kwargs)
            key = self.vjp = (name, "VJP")
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - start
                self.calls[key] += 1
                self.wrapped_calls += 1
                self.vjp = None
        return timed

    def install(self) -> None:
        for name, (forward, vjps, vjp_argnum) in self.originals.items():
            p = mg.ops.registry[name]
            p.forward = self._forward(name, forward)
            p.vjps = tuple(self._vjp(name, v) for v in vjps)
            p.vjp_argnum = self._vjp(name, vjp_argnum)

    def remove(self) -> None:
        for name, (forward, vjps, vjp_argnum) in self.originals.items():
            p = mg.ops.registry[name]
            p.forward, p.vjps, p.vjp_argnum = forward, vjps, vjp_argnum


def timer_cost() -> float:
    """Seconds one wrapped call adds: a wrapped no-op forward against the bare no-op, fastest of several tries."""
    profiler, bare = Profiler(), (lambda x: x)
    wrapped, n, best = profiler._forward("noop", bare), 20000, float("inf")
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(n):
            bare(0)
        middle = time.perf_counter()
        for _ in range(n):
            wrapped(0)
        best = min(best, (time.perf_counter() - middle) - (middle - start))
    return max(best, 0.0) / n


def profile(batch: int, rounds: int, block: int, rng: np.random.Generator) -> None:
    mg.manual_seed(0)
    model = mg.models.LeNet5()
    optimizer = mg.optim.SGD(model.parameters(), lr=0.01)
    images = mg.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32))
    labels = mg.tensor(rng.integers(0, 10, batch))
    profiler = Profiler()
    optimizer_seconds = 0.0

    def step(timed: bool) -> float:
        nonlocal optimizer_seconds
        profiler.phase = "forward"
        loss = F.cross_entropy(model(images), labels)
        start = time.perf_counter()
        optimizer.zero_grad()
        middle = time.perf_counter()
        profiler.phase = "backward"
        loss.backward()
        resume = time.perf_counter()
        optimizer.step()
        if timed:
            optimizer_seconds += (middle - start) + (time.perf_counter() - resume)
        return loss.item()

    for _ in range(2):  # warm up
        step(False)
    unwrapped, wrapped = 0.0, 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(block):
            step(False)
        unwrapped += time.perf_counter() - start
        time.sleep(0.2)  # let BLAS threads go idle
        profiler.install()
        try:
            start = time.perf_counter()
            for _ in range(block):
                step(True)
            wrapped += time.perf_counter() - start
        finally:
            profiler.remove()
        time.sleep(0.2)
    steps = rounds * block
    timers = profiler.wrapped_calls * timer_cost()
    rows = [(f"{name:<12} {kind}", seconds, profiler.calls[name, kind], profiler.nested.get((name, kind)))
            for (name, kind), seconds in profiler.seconds.items()]
    rows.append(("optimizer (zero_grad + SGD step)", optimizer_seconds, None, None))
    rows.append(("timers (estimated)", timers, None, None))
    rest = wrapped - sum(seconds for _, seconds, _, _ in rows)
    rows.append(("bookkeeping (rest)", rest, None, None))
    rows.sort(key=lambda row: -row[1])
    per_step = wrapped / steps * 1e3
    print(f"\nbatch {batch}: {steps} steps in {rounds} blocks; wrapped step {per_step:.3f} ms")
    print(f"{'':<34} {'calls':>6} {'ms/step':>8} {'% step':>7} {'in fwds':>8}")
    for label, seconds, calls, nested in rows:
        ms = seconds / steps * 1e3
        calls_text = "" if calls is None else f"{calls / steps:.0f}"
        nested_text = "" if nested is None else f"{nested / steps * 1e3:.3f}"
        print(f"{label:<34} {calls_text:>6} {ms:>8.3f} {ms / per_step * 100:>6.1f}% {nested_text:>8}")
    primitives = sum(seconds for label, seconds, calls, _ in rows if calls is not None) / steps * 1e3
    print(f"{'primitives (forwards + VJPs)':<34} {'':>6} {primitives:>8.3f} {primitives / per_step * 100:>6.1f}%")
    print(f"{'total, wrapped':<34} {'':>6} {per_step:>8.3f} {100:>6.1f}%")
    print(f"{'unwrapped step, same run':<34} {'':>6} {unwrapped / steps * 1e3:>8.3f} "
          f"{unwrapped / wrapped * 100:>6.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description="Where a LeNet-5 training step's time goes, per primitive")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    mg.memory.keep_freed_memory()
    rng = np.random.default_rng(0)
    print("LeNet-5 training step, float32, minigrad with mg.memory.keep_freed_memory(); ms per step, "
          "means over the timed blocks")
    print("(VJP rows are inclusive: 'in fwds' is the part spent in the forwards of the primitives a VJP applies)")
    for batch in args.batches:
        profile(batch, args.rounds, max(2, min(50, 400 // batch)), rng)


if __name__ == "__main__":
    main()
