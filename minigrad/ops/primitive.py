"""What a primitive is, how applying one records the graph, and the registry of all of them.

A primitive is a numpy ``forward`` plus one vector-Jacobian product (VJP) per input.
Everything else in minigrad is a composition of primitives, so its gradient is derived.
VJPs are written with Tensor operations, which is why backward is itself differentiable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.tensor import Tensor

registry: dict[str, Primitive] = {}


class Primitive:
    """One differentiable operation: ``forward(*arrays, **params) -> array`` and its VJPs.

    ``vjps[i](g, out, *inputs, **params)`` returns dL/d(input i) given g = dL/d(out).
    A primitive with a variable number of inputs gives ``vjp_argnum(i, g, out, *inputs,
    **params)`` instead. Calling the primitive on Tensors applies it and records the graph.
    """

    def __init__(self, name: str, forward: Callable[..., np.ndarray], *vjps: Callable[..., Tensor],
                 vjp_argnum: Callable[..., Tensor] | None = None) -> None:
        self.name, self.forward, self.vjps, self.vjp_argnum = name, forward, vjps, vjp_argnum
        registry[name] = self

    def vjp(self, i: int, g: Tensor, out: Tensor) -> Tensor:
        """dL/d(input i) of the node ``out``, given g = dL/d(out)."""
        if self.vjp_argnum is not None:
            return self.vjp_argnum(i, g, out, *out._inputs, **out._params)
        return self.vjps[i](g, out, *out._inputs, **out._params)

    def __call__(self, *inputs: Tensor, **params: Any) -> Tensor:
        try:
            data = self.forward(*[t.data for t in inputs], **params)
        except (ValueError, IndexError, TypeError) as err:
            shapes = " and ".join(str(t.shape) for t in inputs)
            raise type(err)(f"{self.name}: cannot apply to shapes {shapes}: {err}") from None
        if type(data) is not np.ndarray:  # numpy reductions return scalars
            data = np.asarray(data)
        state = autograd.state
        if state.anomaly:
            autograd.check_finite(data, f"the forward of '{self.name}'")
        if state.enabled:
            for t in inputs:
                if t.requires_grad:
                    return Tensor._make(data, self, inputs, params)
        return Tensor._make(data)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"
