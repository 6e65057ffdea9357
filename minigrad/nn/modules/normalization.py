"""Normalization layers: batch normalization, AlexNet's local response normalization and Jarrett et al.'s
local contrast normalization."""

from __future__ import annotations

import numpy as np

from minigrad.creation import ones, zeros
from minigrad.nn import functional as F
from minigrad.nn.modules.module import Module, Parameter
from minigrad.tensor import Tensor


class _BatchNorm(Module):
    """Per-channel normalization with learned scale (``weight``) and shift (``bias``).

    In training mode each channel is normalized with the batch's mean and (biased) variance,
    and the buffers ``running_mean``/``running_var`` follow them with ``momentum`` (the
    variance unbiased, as in PyTorch); in evaluation mode the running statistics are used.
    ``momentum=None`` makes them the plain average over all batches so far.
    """

    layouts: tuple[int, ...] = ()
    layout = ""
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(ones(num_features)) if affine else None
        self.bias = Parameter(zeros(num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features))
            self.register_buffer("running_var", ones(num_features))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x: Tensor) -> Tensor:
        layer = type(self).__name__
        if x.ndim not in self.layouts:
            raise ValueError(f"{layer}: expected input of shape {self.layout}, got {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{layer}: expected {self.num_features} channels (num_features), got input {x.shape}")
        momentum = self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.copy_(self.num_batches_tracked.data + 1)
            if momentum is None:
                momentum = 1.0 / self.num_batches_tracked.item()
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                            0.0 if momentum is None else momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) features or (N, C, L) sequences."""

    layouts = (2, 3)
    layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) feature maps: statistics per channel over N, H and W."""

    layouts = (4,)
    layout = "(N, C, H, W)"


class LocalResponseNorm(Module):
    """b_c = a_c / (k + (alpha/size) · Σ a_{c'}²)^beta over ``size`` neighbouring channels (PyTorch's alpha)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: Tensor) -> Tensor:
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class LocalContrastNorm(Module):
    """y = v / max(mean σ, σ) with v = x − Σ w·x and σ = sqrt(Σ w·v²), over a Gaussian window
    (``size`` × ``size``, standard deviation ``sigma``) and all channels: ``F.local_contrast_norm``."""

    def __init__(self, size: int = 9, sigma: float | None = None, eps: float = 1e-4) -> None:
        super().__init__()
        self.size, self.sigma, self.eps = size, sigma, eps

    def forward(self, x: Tensor) -> Tensor:
        return F.local_contrast_norm(x, self.size, self.sigma, self.eps)

    def extra_repr(self) -> str:
        return f"size={self.size}, sigma={self.sigma}, eps={self.eps}"
