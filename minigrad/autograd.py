"""Reverse-mode differentiation: walk the graph from the output back to the leaves.

For L = root and each node t = op(x₁, …, xₙ), in reverse topological order:

    dL/dxᵢ += VJPᵢ(dL/dt)        (the chain rule, one vector-Jacobian product per input)

The walk is iterative (no recursion limit). Gradients of a tensor used several times are
summed. Afterwards the graph lets go of what it saved, unless ``retain_graph``.
This module walks tensors without importing their class: it only reads each node's record
(``op``, ``inputs``) and makes new tensors with ``wrap``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from minigrad.state import annotated, check_finite, detect_anomaly, set_grad_enabled, switches

Tensor = Any  # minigrad.tensor.Tensor, which imports this module (imports run one way)
Observer = Callable[[Tensor, Tensor, list[tuple[int, Tensor]]], None]  # (node, dL/dnode, [(i, dL/dinput_i)])


def topological_order(roots: Iterable[Tensor], inputs: Callable[[Tensor], Iterable[Tensor]] | None = None,
                      ) -> list[Tensor]:
    """Every tensor that leads to the roots, each after all of its inputs.

    A depth-first walk that lists a tensor once all its inputs are listed (inputs in their
    order). ``inputs(t)`` says which inputs of t to walk into (default: all of them); the
    pictures stop at some nodes.
    """
    follow = inputs or (lambda t: t.inputs)
    order: list[Tensor] = []
    listed: set[Tensor] = set()  # by identity: a Tensor's hash is its id
    for root in roots:
        if root in listed:
            continue
        listed.add(root)
        stack = [(root, iter(follow(root)))]
        while stack:
            t, rest = stack[-1]
            for x in rest:
                if x not in listed:
                    listed.add(x)
                    stack.append((x, iter(follow(x))))
                    break
            else:  # every input of t is listed
                stack.pop()
                order.append(t)
    return order


def backward(root: Tensor, gradient: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Accumulates d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
    for t, g in _run([root], [gradient], None, retain_graph, create_graph).items():
        t.grad = g if t.grad is None else t.grad + g


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs) as a tuple of Tensors, leaving every ``.grad`` untouched.

    With ``create_graph=True`` the results are themselves differentiable (Hessian-vector
    products, gradient penalties).
    """
    outputs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
    inputs = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
    if grad_outputs is None or not isinstance(grad_outputs, list | tuple):
        grad_outputs = [grad_outputs] * len(outputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    found = _run(outputs, list(grad_outputs), set(inputs), retain_graph, create_graph)
    result = tuple(found.get(t) for t in inputs)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {inputs[i].shape}) was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
    return result


def walk(root: Tensor, observe: Observer) -> None:
    """Runs root's backward pass (a scalar root) storing no gradient and keeping the graph; after each
    node's VJPs it calls ``observe(node, dL/dnode, [(i, dL/dinput_i) for each input i that requires grad])``.

    This is how ``mg.viz.trace`` and ``mg.viz.animate`` watch backprop: the same loop, in the same
    order, tensor hooks included.
    """
    _run([root], [None], set(), True, False, observe)


def _run(roots: list[Tensor], seeds: list[Any], wanted: set[Tensor] | None,
         retain_graph: bool | None, create_graph: bool, observe: Observer | None = None) -> dict[Tensor, Tensor]:
    """The backward pass. Returns the gradient of every leaf (or of each tensor in ``wanted``).

    ``wanted`` is a set, so that membership goes by identity (a Tensor's ``==`` compares values).
    """
    grads = {r: _seed(r, s) for r, s in zip(roots, seeds, strict=True)}
    order = topological_order(roots)  # the tensors that require no grad are leaves, and get no gradient
    checking = switches.anomaly  # under detect_anomaly, each VJP's result is checked, not each step inside it
    found: dict[Tensor, Tensor] = {}
    with set_grad_enabled(create_graph), detect_anomaly(False), annotated(()):  # (VJPs are recorded only to
        for t in reversed(order):                                               # differentiate them again)
            g = grads.pop(t, None)  # each node comes after every node that uses it: its gradient is complete
            if g is None:
                continue
            if t.hooks:
                g = _run_hooks(t, g)
            if t in wanted if wanted is not None else t.op is None:
                found[t] = g
            if t.retains_grad and wanted is None:
                t.grad = g if t.grad is None else t.grad + g
            if t.op is not None:
                _check_alive(t)
                produced = _propagate(t, g, grads, checking or t.origin is not None)
                if observe is not None:
                    observe(t, g, produced)
    if not (create_graph if retain_graph is None else retain_graph):
        _release(order)
    return found


def _seed(root: Tensor, gradient: Any) -> Tensor:
    """dL/dL: ones for a scalar root, else the ``gradient`` given."""
    if not root.requires_grad:
        raise RuntimeError(f"backward: the tensor of shape {root.shape} does not require grad and has no graph")
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(f"backward: the output has shape {root.shape}; backward without a gradient "
                               "needs a scalar (one element) — pass gradient= of the output's shape")
        return root.wrap(np.ones_like(root.data))
    if type(gradient) is type(root):
        g = gradient
    else:
        try:
            g = root.wrap(np.asarray(gradient, dtype=root.dtype))
        except (ValueError, TypeError) as err:
            raise ValueError(f"backward: cannot make a tensor from {type(gradient).__name__} data: {err}") from None
    if g.shape != root.shape:
        raise ValueError(f"backward: gradient of shape {g.shape} does not match the output's shape {root.shape}")
    return g


def _run_hooks(t: Tensor, g: Tensor) -> Tensor:
    """Each hook of t sees the gradient; one that returns a Tensor replaces it."""
    for hook in t.hooks:
        replaced = hook(g)
        g = g if replaced is None else replaced
    return g


def _check_alive(t: Tensor) -> None:
    """Raises when t's graph was freed, or when a tensor its VJPs read was changed in place since
    the forward: its array replaced, or written (which bumps its ``version``)."""
    if t.freed:
        raise RuntimeError(f"backward: trying to backward through the graph a second time (at a "
                           f"'{t.op.name}' node of shape {t.shape}); its saved values were freed by the first "
                           "backward — pass retain_graph=True to the first call if you need to go through it twice")
    arrays, versions = t.input_arrays, t.input_versions
    for i, x in enumerate(t.inputs):
        if x.data is not arrays[i] or x.version != versions[i]:
            _modified(t, f"input {i}", x, versions[i])
    if t.version:
        _modified(t, "its output", t, 0)


def _modified(t: Tensor, what: str, x: Tensor, version: int) -> None:
    raise RuntimeError(f"backward: {what} (shape {x.shape}) of the '{t.op.name}' node of shape {t.shape} was "
                       f"modified in place after the forward used it (version {x.version}, the node saw version "
                       f"{version}), so its gradient would be wrong. Change it after backward, or compute with "
                       "a copy of it")


def _propagate(t: Tensor, g: Tensor, grads: dict[Tensor, Tensor], checking: bool) -> list[tuple[int, Tensor]]:
    """Adds dL/d(input) = VJP(dL/dt) to ``grads`` for each input of t that requires grad; returns them by input.

    The tensors a VJP makes carry t's annotations (nn's Module calls: the pictures group them).
    """
    switches.annotations = t.annotations
    produced = []
    for i, x in enumerate(t.inputs):
        if x.requires_grad:
            gx = t.op.vjp(i, g, t)
            if checking:
                check_finite(gx.data, f"the VJP of '{t.op.name}' (input {i})", t.origin)
            if gx.data.dtype != x.data.dtype:  # a gradient has its tensor's dtype (as in PyTorch)
                gx = gx.astype(x.data.dtype)
            before = grads.get(x)
            grads[x] = gx if before is None else before + gx
            produced.append((i, gx))
    return produced


def _release(order: list[Tensor]) -> None:
    """The nodes drop their inputs and saved values, so that memory nobody else holds is freed.

    Each node keeps its primitive and parameters (pictures can still name it) and is marked
    ``freed``, so that a second backward raises instead of going nowhere.
    """
    for t in order:
        if t.op is not None:
            t.inputs, t.input_arrays, t.input_versions, t.saved, t.freed = (), (), (), None, True
