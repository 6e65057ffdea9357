"""What a primitive is, how applying one records a graph node, and the registry of all of them.

A primitive is a numpy ``forward`` plus one vector-Jacobian product (VJP) per input.
Everything else in minigrad is a composition of primitives, so its gradient is derived.
VJPs are written with Tensor operations, which is why backward is itself differentiable.

Users define their own the same way (see docs/primitives.md)::

    square = mg.ops.Primitive("square", lambda x: x * x,
                              lambda g, out, x: 2 * g * x)   # dL/dx = dL/dy · 2x
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.state import check_finite, switches

Tensor = Any  # minigrad.tensor.Tensor, which imports this module (imports run one way)

registry: dict[str, Primitive] = {}


class Primitive:
    """One differentiable operation: ``forward(*arrays, **params) -> array`` and its VJPs.

    ``vjps[i](g, out, *inputs, **params)`` returns dL/d(input i), a Tensor of input i's shape,
    given g = dL/d(out); ``None`` marks an input with no gradient (a condition, say).
    A primitive with a variable number of inputs gives ``vjp_argnum(i, g, out, *inputs,
    **params)`` instead. A forward declared with ``saves=True`` returns ``(array, saved)``:
    ``saved`` is what its VJPs need beyond the inputs and the output (a convolution's
    im2col columns, say), kept on the node as ``out.saved`` and let go with it.
    A name already in the registry is refused unless ``replace=True``.
    """

    def __init__(self, name: str, forward: Callable[..., Any], *vjps: Callable[..., Tensor] | None,
                 vjp_argnum: Callable[..., Tensor] | None = None, saves: bool = False, replace: bool = False) -> None:
        if name in registry and not replace:
            raise ValueError(f"Primitive: a primitive named '{name}' exists already; "
                             "pass replace=True to replace it")
        if not callable(forward) or not all(v is None or callable(v) for v in (*vjps, vjp_argnum)):
            raise TypeError(f"Primitive '{name}': forward and the VJPs must be functions")
        self.name, self.forward, self.vjps, self.vjp_argnum, self.saves = name, forward, vjps, vjp_argnum, saves
        registry[name] = self

    def __call__(self, *inputs: Tensor, **params: Any) -> Tensor:
        """Applies the primitive: computes the forward and, if any input requires grad, records the node."""
        arrays = [t.data for t in inputs]
        try:
            result = self.forward(*arrays, **params)
        except (ValueError, IndexError, TypeError) as err:
            shapes = " and ".join(str(t.shape) for t in inputs)
            raise type(err)(f"{self.name}: cannot apply to shapes {shapes}: {err}") from None
        if self.saves and not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(f"{self.name}: a primitive made with saves=True must return (array, saved) from its "
                            f"forward, got {type(result).__name__}")
        data, saved = result if self.saves else (result, None)
        if type(data) is not np.ndarray:  # numpy reductions return scalars
            data = np.asarray(data)
        if switches.anomaly:
            check_finite(data, f"the forward of '{self.name}'")
        out = inputs[0].wrap(data)
        if switches.grad_enabled and any([t.requires_grad for t in inputs]):  # noqa: C419 (a list is faster)
            out.op, out.inputs, out.params, out.saved, out.requires_grad = self, inputs, params, saved, True
            out.input_arrays, out.input_versions = arrays, [t.version for t in inputs]  # what the forward read
        return out

    def vjp(self, i: int, g: Tensor, out: Tensor) -> Tensor:
        """dL/d(input i) of the node ``out``, given g = dL/d(out), checked to be a Tensor of the input's shape."""
        vjp = self.vjps[i] if i < len(self.vjps) else None
        if self.vjp_argnum is not None:
            gx = self.vjp_argnum(i, g, out, *out.inputs, **out.params)
        elif vjp is not None:
            gx = vjp(g, out, *out.inputs, **out.params)
        else:
            raise RuntimeError(f"backward: primitive '{self.name}' has no VJP for input {i} (shape "
                               f"{out.inputs[i].shape}), which requires grad")
        if not isinstance(gx, type(g)):
            raise TypeError(f"backward: the VJP of '{self.name}' for input {i} returned a "
                            f"{type(gx).__name__}; a VJP must return a Tensor (wrap an array with g.wrap(array))")
        if gx.data.shape != out.inputs[i].data.shape:
            raise ValueError(f"backward: the VJP of '{self.name}' for input {i} returned shape {gx.shape}, "
                             f"but the input has shape {out.inputs[i].shape}")
        return gx

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"
