"""The engine's switches, one set per thread: grad mode, anomaly mode, the kernels in use,
and the annotations stamped on new graph nodes.

Each thread starts with recording on, anomaly checks off, the fast kernels on and no
annotation, whatever other threads do (as PyTorch keeps grad mode per thread): a ``no_grad``
block or a backward in one thread never changes what another thread records.
"""

from __future__ import annotations

import contextlib
import os
import threading
import traceback
from typing import Any

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class _Switches(threading.local):
    grad_enabled = True                 # record graphs?
    anomaly = False                     # check every forward and VJP result for NaN/Inf?
    fast_kernels = os.environ.get("MINIGRAD_KERNELS", "fast").lower() != "textbook"
    annotations: tuple[Any, ...] = ()   # stamped on every new tensor (nn stamps its Module calls)


switches = _Switches()


class _Set(contextlib.ContextDecorator):
    """Sets one switch for a block (or a decorated function) and puts the old value back after it."""

    def __init__(self, name: str, value: Any) -> None:
        self.name, self.value = name, value

    def _recreate_cm(self) -> _Set:  # each call of a decorated function gets its own
        return _Set(self.name, self.value)

    def __enter__(self) -> None:
        self.previous = getattr(switches, self.name)
        setattr(switches, self.name, self.value)

    def __exit__(self, *exc: object) -> None:
        setattr(switches, self.name, self.previous)


def is_grad_enabled() -> bool:
    """Whether operations in this thread record the graph."""
    return switches.grad_enabled


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Inside ``with mg.no_grad():`` operations record no graph (inference, optimizer steps)."""
    return _Set("grad_enabled", False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Turns graph recording back on inside a ``no_grad`` block."""
    return _Set("grad_enabled", True)


def set_grad_enabled(mode: bool) -> contextlib.AbstractContextManager[None]:
    """Recording on or off for the block, as ``mode`` says."""
    return _Set("grad_enabled", bool(mode))


def detect_anomaly(enabled: bool = True) -> contextlib.AbstractContextManager[None]:
    """Checks every forward result and every VJP result for NaN/Inf.

    The error names the primitive and the line of your code that created the node, so the
    first operation that went wrong is found without bisecting by hand.
    """
    return _Set("anomaly", enabled)


def textbook_kernels() -> contextlib.AbstractContextManager[None]:
    """Inside, primitives compute by their textbook definition instead of the tuned kernels.

    The numbers are the same (up to the order of floating-point sums); only the speed differs.
    Setting the environment variable ``MINIGRAD_KERNELS=textbook`` does the same for a whole run.
    """
    return _Set("fast_kernels", False)


def annotate(tag: Any) -> contextlib.AbstractContextManager[None]:
    """Every tensor made inside the block records ``tag`` (after the tags of outer blocks) in
    ``tensor.annotations``. The engine never reads them: ``nn`` stamps each Module call, and
    the pictures group nodes by those stamps. A VJP's tensors get the annotations of the node
    it differentiates."""
    return _Set("annotations", (*switches.annotations, tag))


def annotated(tags: tuple[Any, ...]) -> contextlib.AbstractContextManager[None]:
    """Every tensor made inside the block records exactly ``tags``."""
    return _Set("annotations", tags)


def user_frame() -> str:
    """'file:line: code' of the innermost stack frame outside the minigrad package."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno}: {frame.line}"
    return "<unknown>"


def check_finite(data: np.ndarray, what: str, origin: str | None = None) -> None:
    """Under ``detect_anomaly``: raises FloatingPointError when ``data`` holds NaN or Inf."""
    if data.dtype.kind == "f" and not np.isfinite(data).all():
        where = f" (the node was created at {origin})" if origin else f" at {user_frame()}"
        raise FloatingPointError(f"detect_anomaly: {what} produced NaN or Inf{where}")
