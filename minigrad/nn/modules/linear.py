"""Fully connected layers: Linear (y = x Wᵀ + b) and Identity."""

from __future__ import annotations

from typing import Any

from minigrad.creation import zeros
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.modules.module import Module, Parameter
from minigrad.tensor import Tensor


class Linear(Module):
    """y = x Wᵀ + b: every output is a weighted sum of all ``in_features`` inputs.

    ``weight`` is (out_features, in_features) and ``bias`` (out_features,), both initialised
    from U(−1/√in_features, 1/√in_features) as in PyTorch.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features))
        self.bias = Parameter(zeros(out_features)) if bias else None
        init.default_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (a placeholder where a layer is optional)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x
