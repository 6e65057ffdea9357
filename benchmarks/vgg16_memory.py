"""VGG16 forward + backward at batch 8 (3×224×224, float32): time and memory, minigrad against PyTorch.

Each framework runs in a fresh child process of its own, so that neither sees the other's
memory. A child builds VGG16 (``mg.models.VGG16``; for PyTorch the same layers written with
``torch.nn``, in training mode: dropout on), makes a random batch of 8 images and labels, and
then, for each of ``--steps`` steps:

  - times forward, cross-entropy and backward (no optimizer update) — wall seconds;
  - reads the process's peak RSS (``resource.getrusage(...).ru_maxrss``) — the high-water
    mark of the whole process, model and gradients included;
  - drops the loss, the output and the parameters' gradients, runs ``gc.collect()`` and reads
    the current RSS (VmRSS in /proc/self/status): against the RSS just before the step, this
    says whether the graph's memory (activations, saved values) went back to the system.

Neither child calls ``mg.memory.keep_freed_memory()`` (the library's default; with ``--keep``
the minigrad child does, which keeps up to 256 MB of freed memory inside the process on purpose).
Ratios minigrad / PyTorch are printed at the end. It takes a minute or two on 2 cores.

    python benchmarks/vgg16_memory.py [--steps 1] [--keep]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

BATCH, SIZE, CLASSES = 8, 224, 1000


def rss_mb() -> float:
    """The process's resident memory now, in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def minigrad_parts(keep: bool) -> tuple[Callable[[], Any], Callable[[], None], int]:
    import minigrad as mg
    import minigrad.nn.functional as F

    if keep:
        mg.memory.keep_freed_memory()
    mg.manual_seed(0)
    model = mg.models.VGG16()
    rng = np.random.default_rng(0)
    images = mg.tensor(rng.random((BATCH, 3, SIZE, SIZE), dtype=np.float32))
    labels = mg.tensor(rng.integers(0, CLASSES, BATCH))

    def step() -> Any:
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        return loss

    def drop_grads() -> None:
        model.zero_grad()
    return step, drop_grads, sum(p.data.size for p in model.parameters())


def torch_parts(keep: bool) -> tuple[Callable[[], Any], Callable[[], None], int]:
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers: list[nn.Module] = []
    channels = 3
    for width, n in zip((64, 128, 256, 512, 512), (2, 2, 3, 3, 3), strict=True):
        for _ in range(n):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
        layers.append(nn.MaxPool2d(2, stride=2))
    model = nn.Sequential(*layers, nn.Flatten(),
                          nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, CLASSES))
    rng = np.random.default_rng(0)
    images = torch.tensor(rng.random((BATCH, 3, SIZE, SIZE), dtype=np.float32))
    labels = torch.tensor(rng.integers(0, CLASSES, BATCH))

    def step() -> Any:
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        return loss

    def drop_grads() -> None:
        model.zero_grad(set_to_none=True)
    return step, drop_grads, sum(p.numel() for p in model.parameters())


def child(framework: str, steps: int, keep: bool) -> None:
    """Runs in the fresh process: prints one JSON object of measurements."""
    parts = minigrad_parts if framework == "minigrad" else torch_parts
    step, drop_grads, parameters = parts(keep)
    gc.collect()
    results: dict[str, Any] = {"parameters": parameters, "model_rss_mb": rss_mb(), "steps": []}
    for _ in range(steps):
        before = rss_mb()
        start = time.perf_counter()
        loss = step()
        seconds = time.perf_counter() - start
        after_backward, peak = rss_mb(), peak_mb()
        del loss
        drop_grads()
        gc.collect()
        results["steps"].append({"seconds": seconds, "peak_mb": peak, "rss_before_mb": before,
                                 "rss_after_backward_mb": after_backward, "rss_after_del_mb": rss_mb()})
    print(json.dumps(results))


def run_child(framework: str, steps: int, keep: bool) -> dict[str, Any] | None:
    command = [sys.executable, __file__, "--child", framework, "--steps", str(steps), *(["--keep"] if keep else [])]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        if "No module named 'torch'" in run.stderr:
            return None
        raise RuntimeError(f"{framework} child failed:\n{run.stderr}")
    return json.loads(run.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description="VGG16 forward+backward at batch 8: time and peak memory")
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="the minigrad child calls mg.memory.keep_freed_memory()")
    parser.add_argument("--child", choices=["minigrad", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.steps, args.keep)
        return
    print(f"VGG16 forward + cross-entropy + backward, batch {BATCH}, 3×{SIZE}×{SIZE}, float32, "
          f"a fresh process each{'; minigrad with keep_freed_memory()' if args.keep else ''}")
    print(f"{'framework':<9} {'step':>4} {'seconds':>8} {'peak RSS MB':>12} {'RSS before':>11} "
          f"{'after bwd':>10} {'after del':>10} {'returned':>9}")
    found = {}
    for framework in ("minigrad", "torch"):
        results = run_child(framework, args.steps, args.keep)
        if results is None:
            print(f"{framework:<9} (not installed)")
            continue
        found[framework] = results
        for i, s in enumerate(results["steps"], 1):
            returned = "yes" if s["rss_after_del_mb"] - s["rss_before_mb"] < 50 else "NO"
            print(f"{framework:<9} {i:>4} {s['seconds']:>8.2f} {s['peak_mb']:>12,.0f} {s['rss_before_mb']:>11,.0f} "
                  f"{s['rss_after_backward_mb']:>10,.0f} {s['rss_after_del_mb']:>10,.0f} {returned:>9}")
    print("(RSS before: just before the step, model built; after del: loss, output and gradients dropped, "
          "gc.collect(); returned: within 50 MB of before)")
    if len(found) == 2:
        print()
        for i, (mine, theirs) in enumerate(zip(found["minigrad"]["steps"], found["torch"]["steps"], strict=True), 1):
            print(f"minigrad / PyTorch, step {i}: time {mine['seconds'] / theirs['seconds']:.2f}×, "
                  f"peak RSS {mine['peak_mb'] / theirs['peak_mb']:.2f}×")
        print("targets (issue 13): time ≤ 2×, peak RSS ≤ 1.5×")


if __name__ == "__main__":
    main()
