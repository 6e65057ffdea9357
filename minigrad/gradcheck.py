"""Checking gradients: autograd against central differences, for any function of tensors.

Use it on your own functions and layers:

    >>> x = mg.randn(3, 4, dtype="float64", requires_grad=True)
    >>> mg.gradcheck(lambda x: (x * x.sigmoid()).sum(axis=1), [x])
    True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.autograd import grad, topological_order
from minigrad.tensor import Tensor
from minigrad.tensor_functions import concatenate


class GradcheckError(RuntimeError):
    """Autograd and numerical differentiation disagree; the message says where and by how much."""


def _as_list(inputs: Tensor | Sequence[Tensor]) -> list[Tensor]:
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not all(isinstance(x, Tensor) for x in inputs):
        raise TypeError(f"gradcheck: inputs must be Tensors, got {[type(x).__name__ for x in inputs]}")
    return inputs


def _flat(out: Tensor | Sequence[Tensor]) -> Tensor:
    """The function's output(s) as one flat tensor."""
    outs = [out] if isinstance(out, Tensor) else list(out)
    if not outs or not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"gradcheck: the function must return a Tensor or a tuple of Tensors, got {type(out).__name__}")
    flat = [o.reshape(-1) for o in outs]
    return flat[0] if len(flat) == 1 else concatenate(flat)


def _evaluate(fn: Callable[..., Any], inputs: list[Tensor]) -> np.ndarray:
    return _flat(fn(*inputs)).data.astype(np.float64)


def numerical_grad(fn: Callable[..., Any], inputs: Tensor | Sequence[Tensor], eps: float = 1e-6,
                   grad_output: Any = None) -> tuple[Tensor, ...]:
    """∂L/∂x for every input that requires grad, by central differences:

        ∂L/∂x_j ≈ (L(x + ε·e_j) − L(x − ε·e_j)) / 2ε,   L = Σ fn(inputs) · grad_output

    (``grad_output`` defaults to ones, i.e. the gradient of the sum of the outputs).
    """
    inputs = _as_list(inputs)
    jacobians = _numerical_jacobians(fn, inputs, eps)
    weights = np.ones(len(_evaluate(fn, inputs))) if grad_output is None else \
        np.asarray(grad_output.data if isinstance(grad_output, Tensor) else grad_output, np.float64).reshape(-1)
    return tuple(Tensor.wrap((weights @ j).reshape(x.shape).astype(x.dtype))
                 for x, j in zip([x for x in inputs if x.requires_grad], jacobians, strict=True))


def _numerical_jacobians(fn: Callable[..., Any], inputs: list[Tensor], eps: float) -> list[np.ndarray]:
    """d(flat output)/d(flat input), shape (outputs, input elements), for each input that requires grad."""
    jacobians = []
    for x in inputs:
        if not x.requires_grad:
            continue
        columns, values = [], x.data
        x.data = values.copy()  # the copy is perturbed; the user's array is put back untouched
        try:
            for j in np.ndindex(*x.shape):
                x.data[j] = values[j] + eps
                plus = _evaluate(fn, inputs)
                x.data[j] = values[j] - eps
                minus = _evaluate(fn, inputs)
                x.data[j] = values[j]
                columns.append((plus - minus) / (2 * eps))
        finally:
            x.data = values
        jacobians.append(np.stack(columns, axis=1) if columns else np.zeros((len(_evaluate(fn, inputs)), 0)))
    return jacobians


def _analytical_jacobians(out: Tensor, diff: list[Tensor]) -> list[np.ndarray]:
    """The same Jacobians from autograd: one backward pass per output element."""
    rows: list[list[np.ndarray]] = [[] for _ in diff]
    for i in range(out.numel()):
        seed = np.zeros(out.shape, out.dtype)
        seed[i] = 1
        grads = grad(out, diff, Tensor.wrap(seed), retain_graph=True, allow_unused=True) \
            if out.requires_grad else (None,) * len(diff)
        for r, x, g in zip(rows, diff, grads, strict=True):
            r.append(np.zeros(x.numel()) if g is None else g.data.astype(np.float64).reshape(-1))
    return [np.array(r).reshape(out.numel(), x.numel()) for r, x in zip(rows, diff, strict=True)]


def primitives_in(out: Tensor) -> list[str]:
    """Names of the primitives in the graph that produced ``out``."""
    return sorted({t.op.name for t in topological_order([out]) if t.op is not None})


def gradcheck(fn: Callable[..., Any], inputs: Tensor | Sequence[Tensor], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Checks autograd's Jacobian of ``fn`` against central differences, entry by entry.

    ``fn(*inputs)`` returns a Tensor (or a tuple of them); every input with
    ``requires_grad=True`` is checked. Each entry must satisfy
    |analytical − numerical| ≤ atol + rtol·|numerical|. Use float64 inputs: in float32 the
    differences are dominated by rounding, and a warning says so.

    Returns True, or raises ``GradcheckError`` naming the input, the worst entry's
    (output, input) index, both values, and the primitives in ``fn``'s graph.
    """
    inputs = _as_list(inputs)
    diff = [x for x in inputs if x.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i, x in enumerate(inputs):
        if x.requires_grad and x.dtype != np.float64:
            warnings.warn(f"gradcheck: input {i} is {x.dtype}; central differences are unreliable below float64 "
                          "— make the inputs float64", UserWarning, stacklevel=2)
    out = _flat(fn(*inputs))
    analytical = _analytical_jacobians(out, diff)
    numerical = _numerical_jacobians(fn, inputs, eps)
    for x, a, n in zip(diff, analytical, numerical, strict=True):
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
        if excess.size and (excess.max() > 0 or not np.isfinite(a).all()):
            worst = np.unravel_index(np.nanargmax(np.where(np.isfinite(a), excess, np.inf)), excess.shape)
            where = tuple(int(i) for i in np.unravel_index(worst[1], x.shape))
            number = next(i for i, t in enumerate(inputs) if t is x)  # not inputs.index: == is elementwise
            label = f"input {number}" + (f" ({x.name})" if x.name else "") + f" of shape {x.shape}"
            raise GradcheckError(
                f"gradcheck: the gradient of {label} is wrong.\n"
                f"  worst entry: output element {int(worst[0])}, input element {where}\n"
                f"  analytical (autograd): {a[worst]:.10g}\n  numerical (central differences): {n[worst]:.10g}\n"
                f"  tolerance: atol={atol} + rtol={rtol}·|numerical|\n"
                f"  primitives in the function's graph: {', '.join(primitives_in(out)) or 'none'}")
    return True


def gradgradcheck(fn: Callable[..., Any], inputs: Tensor | Sequence[Tensor], grad_outputs: Any = None,
                  eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0) -> bool:
    """Checks second derivatives: gradcheck of (inputs, v) ↦ vᵀ·∂fn/∂inputs, built with create_graph=True.

    ``grad_outputs`` (v) defaults to a random tensor drawn with ``seed``; v is checked too.
    """
    inputs = _as_list(inputs)
    n = len(inputs)
    out = fn(*inputs)
    outs = [out] if isinstance(out, Tensor) else list(out)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor.wrap(rng.standard_normal(o.shape).astype(o.dtype)) for o in outs]
    vs = [Tensor.wrap(np.asarray(v.data if isinstance(v, Tensor) else v, o.dtype)).requires_grad_()
          for v, o in zip([grad_outputs] if isinstance(grad_outputs, Tensor) else grad_outputs, outs, strict=True)]

    def first_derivatives(*args: Tensor) -> Tensor:
        xs = list(args[:n])
        diff = [x for x in xs if x.requires_grad]
        result = fn(*xs)
        result = [result] if isinstance(result, Tensor) else list(result)
        grads = grad(result, diff, list(args[n:]), create_graph=True, allow_unused=True)
        return concatenate([Tensor.wrap(np.zeros(x.numel(), x.dtype)) if g is None else g.reshape(-1)
                            for x, g in zip(diff, grads, strict=True)])

    return gradcheck(first_derivatives, [*inputs, *vs], eps=eps, atol=atol, rtol=rtol)
