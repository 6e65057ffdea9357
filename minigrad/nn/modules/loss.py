"""Loss functions as layers: ``loss_fn = nn.CrossEntropyLoss(); loss = loss_fn(logits, labels)``."""

from __future__ import annotations

from typing import Any

from minigrad.nn import functional as F
from minigrad.nn.modules.module import Module
from minigrad.tensor import Tensor


class _Loss(Module):
    """A loss with a ``reduction``: 'mean' (the default), 'sum' or 'none' (one value per sample)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction


class CrossEntropyLoss(_Loss):
    """−log softmax(logits)[target], averaged: logits (N, C), target integer classes (N,)."""

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(logits, target, self.reduction)


class NLLLoss(_Loss):
    """−log_probs[target], averaged: for outputs that already went through log_softmax."""

    def forward(self, log_probs: Tensor, target: Any) -> Tensor:
        return F.nll_loss(log_probs, target, self.reduction)


class MSELoss(_Loss):
    """Mean squared error between the input and a target of the same shape."""

    def forward(self, x: Tensor, target: Any) -> Tensor:
        return F.mse_loss(x, target, self.reduction)


class MultiMarginLoss(_Loss):
    """The multi-class hinge loss: Σ_{i≠y} max(0, margin − x[y] + x[i])^p / C, averaged."""

    def __init__(self, p: int = 1, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.p, self.margin = p, margin

    def forward(self, x: Tensor, target: Any) -> Tensor:
        return F.multi_margin_loss(x, target, self.p, self.margin, self.reduction)
