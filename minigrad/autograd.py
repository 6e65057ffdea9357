"""Reverse-mode differentiation: walk the graph from the output back to the leaves.

Each node's VJP turns dL/d(output) into dL/d(input) for every input that requires grad;
gradients of a tensor used several times are summed. The walk is iterative (no recursion
limit), and afterwards the graph lets go of the arrays it held unless ``retain_graph``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import traceback
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from minigrad.tensor import Tensor


class _State:
    enabled = True   # record graphs?
    anomaly = False  # check every forward and VJP result for NaN/Inf?
    scope: tuple[Any, ...] = ()  # the Module calls in progress, outermost first (nn's ModuleCall records)


state = _State()
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


@contextlib.contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    previous, state.enabled = state.enabled, enabled
    try:
        yield
    finally:
        state.enabled = previous


def no_grad() -> contextlib.AbstractContextManager:
    """Inside ``with mg.no_grad():`` operations record no graph (inference, optimizer steps)."""
    return _grad_mode(False)


def enable_grad() -> contextlib.AbstractContextManager:
    """Turns graph recording back on inside a ``no_grad`` block."""
    return _grad_mode(True)


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Checks every forward result and every VJP result for NaN/Inf.

    The error names the primitive and the line of your code that created the node, so the
    first operation that went wrong is found without bisecting by hand.
    """
    previous, state.anomaly = state.anomaly, True
    try:
        yield
    finally:
        state.anomaly = previous


def user_frame() -> str:
    """'file:line: code' of the innermost stack frame outside the minigrad package."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno}: {frame.line}"
    return "<unknown>"


def check_finite(data: np.ndarray, what: str, origin: str | None = None) -> None:
    if data.dtype.kind == "f" and not np.isfinite(data).all():
        where = f" (the node was created at {origin})" if origin else f" at {user_frame()}"
        raise FloatingPointError(f"detect_anomaly: {what} produced NaN or Inf{where}")


def backward(root: Tensor, gradient: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Accumulates d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
    grads = _run([root], [gradient], None, retain_graph, create_graph)
    for t, g in grads.items():
        t.grad = g if t.grad is None else t.grad + g


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs) as a tuple of Tensors, leaving every ``.grad`` untouched.

    With ``create_graph=True`` the results are themselves differentiable (Hessian-vector
    products, gradient penalties).
    """
    outputs = [outputs] if _is_tensor(outputs) else list(outputs)
    inputs = [inputs] if _is_tensor(inputs) else list(inputs)
    if grad_outputs is None or _is_tensor(grad_outputs):
        grad_outputs = [grad_outputs] * len(outputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    found = _run(outputs, list(grad_outputs), inputs, retain_graph, create_graph)
    result = tuple(found.get(t) for t in inputs)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {inputs[i].shape}) was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
    return result


def _is_tensor(x: Any) -> bool:
    from minigrad.tensor import Tensor
    return isinstance(x, Tensor)


def _seed(root: Tensor, gradient: Any) -> Tensor:
    from minigrad.tensor import Tensor, as_array
    if not root.requires_grad:
        raise RuntimeError(f"backward: the tensor of shape {root.shape} does not require grad and has no graph")
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(f"backward: the output has shape {root.shape}; backward without a gradient "
                               "needs a scalar (one element) — pass gradient= of the output's shape")
        return Tensor._make(np.ones_like(root.data))
    g = gradient if isinstance(gradient, Tensor) else Tensor._make(as_array(gradient, root.dtype, "backward"))
    if g.shape != root.shape:
        raise ValueError(f"backward: gradient of shape {g.shape} does not match the output's shape {root.shape}")
    return g


def _run(roots: list[Tensor], seeds: list[Any], inputs: list[Tensor] | None,
         retain_graph: bool | None, create_graph: bool) -> dict[Tensor, Tensor]:
    """The backward pass. Returns the gradient of every leaf (or of each of ``inputs``)."""
    grads = {r: _seed(r, s) for r, s in zip(roots, seeds, strict=True)}
    order = _reverse_topological(roots)
    wanted = set(inputs) if inputs is not None else None
    found: dict[Tensor, Tensor] = {}
    with _grad_mode(create_graph):
        for t in order:
            g = grads.pop(t, None)
            if g is None:
                continue
            for hook in t._hooks or ():
                replaced = hook(g)
                g = g if replaced is None else replaced
            if wanted is not None:
                if t in wanted:
                    found[t] = g
            elif t._op is None:
                found[t] = g
            elif t._retain:
                t.grad = g if t.grad is None else t.grad + g
            if t._op is not None:
                _propagate(t, g, grads)
    if not (create_graph if retain_graph is None else retain_graph):
        _release(order)
    return found


def _propagate(t: Tensor, g: Tensor, grads: dict[Tensor, Tensor]) -> None:
    """Adds each input's share dL/d(input) = VJP(dL/d(t)) to ``grads``."""
    if t._freed:
        raise RuntimeError(f"backward: trying to backward through the graph a second time (at a "
                           f"'{t._op.name}' node of shape {t.shape}); its arrays were freed by the first "
                           "backward — pass retain_graph=True to the first call if you need to go through it twice")
    for i, x in enumerate(t._inputs):
        if not x.requires_grad:
            continue
        if state.anomaly or t._origin:  # check the VJP's result against t's origin, not each step inside it
            previous, state.anomaly = state.anomaly, False
            try:
                gx = t._op.vjp(i, g, t)
            finally:
                state.anomaly = previous
            check_finite(gx.data, f"the VJP of '{t._op.name}' (input {i})", t._origin)
        else:
            gx = t._op.vjp(i, g, t)
        if gx.dtype != x.dtype:  # a gradient has its tensor's dtype (as in PyTorch), whatever the op promoted to
            gx = gx.astype(x.dtype)
        assert gx.shape == x.shape, f"VJP of {t._op.name} gave shape {gx.shape} for input of shape {x.shape}"
        grads[x] = grads[x] + gx if x in grads else gx


def _reverse_topological(roots: list[Tensor]) -> list[Tensor]:
    """Every tensor that requires grad and leads to a root, each after all of its consumers."""
    order, visited = [], set()
    stack = [(r, False) for r in roots if r.requires_grad]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
        elif t not in visited:
            visited.add(t)
            stack.append((t, True))
            stack.extend((x, False) for x in t._inputs if x.requires_grad and x not in visited)
    order.reverse()
    return order


def _release(order: list[Tensor]) -> None:
    """Lets the graph drop the arrays it holds, keeping its structure (for pictures).

    Each recorded input that is not a parameter-like leaf is replaced by a data-free stand-in
    with the same shape, dtype, name, op and gradient; nodes are marked freed, so a second
    backward raises instead of silently using stale values.
    """
    stand_ins: dict[Tensor, Tensor] = {}
    for t in reversed(order):  # inputs before the nodes that consume them
        if t._op is None:
            continue
        t._inputs = tuple(x if x._op is None and x.requires_grad else _stand_in(x, stand_ins)
                          for x in t._inputs)
        t._freed = True


def _stand_in(x: Tensor, memo: dict[Tensor, Tensor]) -> Tensor:
    if x in memo:
        return memo[x]
    s = object.__new__(type(x))
    s.data, s._freed = _no_memory(x.shape, x.dtype), True  # the same record, without the array
    (s.grad, s.requires_grad, s.name, s._op, s._inputs, s._params, s._hooks, s._retain, s._origin, s._scope) = (
        x.grad, x.requires_grad, x.name, x._op, x._inputs, x._params, x._hooks, x._retain, x._origin, x._scope)
    memo[x] = s
    return s


@functools.lru_cache(maxsize=256)
def _no_memory(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A read-only array of this shape and dtype that holds no memory (all strides 0), shared."""
    return np.broadcast_to(np.zeros((), dtype), shape)
