"""Dropout: a regularizer that zeroes random activations while training."""

from __future__ import annotations

from minigrad.nn import functional as F
from minigrad.nn.modules.module import Module
from minigrad.tensor import Tensor, is_real


class Dropout(Module):
    """Zeroes each entry with probability ``p`` in training mode and scales the rest by 1/(1 − p);
    in evaluation mode (``model.eval()``) it passes its input through."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not is_real(p) or not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1], got {p!r}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Dropout):
    """Zeroes whole channels of (N, C, H, W) with probability ``p`` in training mode (see F.dropout2d)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout2d(x, self.p, self.training)
