"""How fast is minigrad's convolution, and what does the engine cost per operation?

For two convolution layers, times the forward of ``correlate`` plus both of its VJPs
(through minigrad: forward, then backward from a given upstream gradient with input and
weight requiring grad) beside the same three computations written directly in numpy —
im2col + one GEMM for the output, one for dW reusing the forward's columns, one for dX's
columns folded back by one slice-add per kernel offset (the kernels of numpy_lenet.py) —
and, when torch is importable, PyTorch CPU's conv2d forward + backward. minigrad runs twice:
with its tuned kernels (the default) and with the textbook forward (``mg.textbook_kernels()``).
float32 throughout. Targets (issue 13): minigrad ≤ 1.0× the direct numpy time, and ≤ 4 µs per small op
(PyTorch's when the target was set). malloc is asked to keep freed memory (``mg.memory.keep_freed_memory()``) for every
contender, as a training script would.

Timing: each contender runs in blocks of repetitions, blocks of the contenders alternate
with ~0.2 s pauses between them (so that one library's spinning BLAS threads do not slow the
next), and the medians are compared: single runs are too noisy.
Run: python benchmarks/conv.py
"""

import statistics
import time
from collections.abc import Callable

import numpy as np
from numpy_lenet import col2im, im2col  # a sibling script: its folder is on sys.path when this runs

import minigrad as mg

try:
    import torch
except ImportError:
    torch = None

# (label, batch, in channels, out channels, kernel, padding); 28×28 images
CASES = [("N=64, 16→32, 3×3, pad 1", 64, 16, 32, 3, 1),
         ("N=64,  1→6,  5×5, pad 2", 64, 1, 6, 5, 2)]
SIZE = 28
BLOCKS, REPS, PAUSE = 7, 4, 0.2
CHAIN = 1000  # adds in the overhead measurement


def numpy_conv(x: np.ndarray, w: np.ndarray, gy: np.ndarray, pad: int) -> tuple[np.ndarray, ...]:
    """y = correlate(x, w, padding=pad) and its dL/dW and dL/dX for dL/dy = gy, by hand.

    Channels-first im2col, then y = W·cols, dW = dY·colsᵀ (the forward's columns reused) and
    dX = col2im(Wᵀ·dY), cropped by the padding.
    """
    n, c, h, wd = x.shape
    o, k = w.shape[0], w.shape[-1]
    cols, (ho, wo) = im2col(x.transpose(1, 0, 2, 3), k, pad)
    wm = w.reshape(o, -1)
    y = (wm @ cols).reshape(o, n, ho, wo).transpose(1, 0, 2, 3)
    g = gy.transpose(1, 0, 2, 3).reshape(o, -1)
    dw = (g @ cols.T).reshape(w.shape)
    dx = col2im(wm.T @ g, (c, n, h + 2 * pad, wd + 2 * pad), k)
    return y, dw, dx[:, :, pad:pad + h, pad:pad + wd].transpose(1, 0, 2, 3)


def minigrad_conv(x: mg.Tensor, w: mg.Tensor, gy: mg.Tensor, pad: int) -> tuple[np.ndarray, ...]:
    """The same through minigrad: forward, then backward from gy (x and w require grad)."""
    x.grad = w.grad = None
    y = mg.correlate(x, w, padding=pad)
    y.backward(gy)
    return y.data, w.grad.data, x.grad.data


def textbook_conv(x: mg.Tensor, w: mg.Tensor, gy: mg.Tensor, pad: int) -> tuple[np.ndarray, ...]:
    """The same with minigrad's fast kernels off: the textbook forward in every correlate."""
    with mg.textbook_kernels():
        return minigrad_conv(x, w, gy, pad)


def torch_conv(x: "torch.Tensor", w: "torch.Tensor", gy: "torch.Tensor", pad: int) -> None:
    """The same through PyTorch's conv2d."""
    x.grad = w.grad = None
    torch.nn.functional.conv2d(x, w, padding=pad).backward(gy)


def time_blocks(contenders: dict[str, Callable[[], object]], reps: int = REPS) -> dict[str, float]:
    """Median seconds per call of each contender, over BLOCKS alternating blocks of ``reps`` calls."""
    blocks: dict[str, list[float]] = {name: [] for name in contenders}
    for fn in contenders.values():  # warm up caches, allocators and thread pools
        fn()
    for _ in range(BLOCKS):
        for name, fn in contenders.items():
            time.sleep(PAUSE)
            start = time.perf_counter()
            for _ in range(reps):
                fn()
            blocks[name].append((time.perf_counter() - start) / reps)
    return {name: statistics.median(times) for name, times in blocks.items()}


def conv_case(batch: int, cin: int, cout: int, k: int, pad: int) -> dict[str, float]:
    """Seconds per forward + backward of each contender, after checking that they agree."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, cin, SIZE, SIZE), dtype=np.float32)
    w = rng.standard_normal((cout, cin, k, k), dtype=np.float32) / np.float32(np.sqrt(cin * k * k))
    gy = rng.standard_normal((batch, cout, SIZE, SIZE), dtype=np.float32)
    mx, mw, mgy = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True), mg.tensor(gy)
    for fn in (minigrad_conv, textbook_conv):
        for ours, theirs in zip(fn(mx, mw, mgy, pad), numpy_conv(x, w, gy, pad), strict=True):
            assert ours.dtype == np.float32 and np.allclose(ours, theirs, rtol=1e-4, atol=1e-3), "results differ"
    contenders = {"numpy": lambda: numpy_conv(x, w, gy, pad), "minigrad": lambda: minigrad_conv(mx, mw, mgy, pad),
                  "textbook": lambda: textbook_conv(mx, mw, mgy, pad)}
    if torch is not None:
        tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        tgy = torch.tensor(gy)
        contenders["torch"] = lambda: torch_conv(tx, tw, tgy, pad)
    return time_blocks(contenders)


def minigrad_chain(x: mg.Tensor, b: mg.Tensor, seed: mg.Tensor) -> None:
    """CHAIN adds y ← y + b starting from x (which requires grad), then one backward."""
    x.grad = None
    y = x
    for _ in range(CHAIN):
        y = y + b
    y.backward(seed)


def torch_chain(x: "torch.Tensor", b: "torch.Tensor", seed: "torch.Tensor") -> None:
    """The same chain in PyTorch."""
    x.grad = None
    y = x
    for _ in range(CHAIN):
        y = y + b
    y.backward(seed)


def overhead() -> dict[str, float]:
    """Seconds per op of a chain of CHAIN small adds (x requires grad), forward + one backward."""
    x, b = np.ones(4, np.float32), np.full(4, 0.5, np.float32)
    contenders = {"minigrad": lambda: minigrad_chain(mg.tensor(x, requires_grad=True), mg.tensor(b), mg.tensor(x))}
    if torch is not None:
        contenders["torch"] = lambda: torch_chain(torch.tensor(x, requires_grad=True), torch.tensor(b),
                                                  torch.tensor(x))
    return {name: t / CHAIN for name, t in time_blocks(contenders, reps=2).items()}


def main() -> None:
    mg.memory.keep_freed_memory()
    if torch is not None:
        torch.set_num_threads(2)  # as many as this 2-core machine has, like numpy's BLAS
    print("correlate: forward + dL/dX + dL/dW, float32, 28×28, ms (median of blocks)")
    header = (f"{'layer':<26}{'numpy':>9}{'minigrad':>10}{'ratio':>8}{'textbook':>10}{'ratio':>8}"
              + (f"{'torch':>9}{'mg/torch':>9}" if torch else ""))
    print(header + "\n" + "-" * len(header))
    for label, *shape in CASES:
        t = conv_case(*shape)
        line = (f"{label:<26}{t['numpy'] * 1e3:9.2f}{t['minigrad'] * 1e3:10.2f}{t['minigrad'] / t['numpy']:7.2f}×"
                f"{t['textbook'] * 1e3:10.2f}{t['textbook'] / t['numpy']:7.2f}×")
        print(line + (f"{t['torch'] * 1e3:9.2f}{t['minigrad'] / t['torch']:8.2f}×" if torch else ""))
    print("ratio: to numpy; target for minigrad (fast kernels): ≤ 1.0×; textbook: the fast kernels off\n")
    t = overhead()
    print(f"engine overhead, one small add with requires_grad, forward + backward ({CHAIN}-add chain):")
    print(f"  minigrad {t['minigrad'] * 1e6:6.2f} µs per op" + (
        f"   torch {t['torch'] * 1e6:.2f}   mg/torch {t['minigrad'] / t['torch']:.2f}×" if torch else ""))
    print("target (issue 13): ≤ 4 µs per op, PyTorch's when the target was set")


if __name__ == "__main__":
    main()
