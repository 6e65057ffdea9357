"""Pooling layers: summarize each window of a feature map by its max, mean, sum or L^p norm.

Pooling has no parameters. With kernel K and stride S (by default S = K: windows that tile
the map without overlap) each spatial axis shrinks to ⌊(W + 2P − K) / S⌋ + 1.
"""

from __future__ import annotations

from minigrad.nn import functional as F
from minigrad.nn.modules.module import Module
from minigrad.tensor import Tensor
from minigrad.tensor_functions import IntOrTuple, int_tuple


def _check_window(layer: str, kernel_size: IntOrTuple, stride: IntOrTuple | None, padding: IntOrTuple = 0,
                  dilation: IntOrTuple = 1) -> None:
    """Checks the window settings when the layer is made, as the function form does at each call."""
    stride = kernel_size if stride is None else stride  # (the default: windows that tile)
    for name, value, minimum in (("kernel_size", kernel_size, 1), ("stride", stride, 1), ("padding", padding, 0),
                                 ("dilation", dilation, 1)):
        int_tuple(value, 2, name, layer, minimum)


class MaxPool2d(Module):
    """The largest value of each window (padding counts as −∞)."""

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
                 dilation: IntOrTuple = 1) -> None:
        super().__init__()
        _check_window("MaxPool2d", kernel_size, stride, padding, dilation)
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, dilation={self.dilation}"


class AvgPool2d(Module):
    """The mean of each window; padded zeros count in the mean (PyTorch's default)."""

    def __init__(self, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0) -> None:
        super().__init__()
        _check_window("AvgPool2d", kernel_size, stride, padding)
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class LPPool2d(Module):
    """(Σ_window |x|^p)^(1/p) for p = ``norm_type``: between sum pooling (p = 1) and max pooling (p → ∞)."""

    def __init__(self, norm_type: float, kernel_size: IntOrTuple, stride: IntOrTuple | None = None) -> None:
        super().__init__()
        _check_window("LPPool2d", kernel_size, stride)
        self.norm_type, self.kernel_size, self.stride = norm_type, kernel_size, stride

    def forward(self, x: Tensor) -> Tensor:
        return F.lp_pool2d(x, self.norm_type, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}"


class GlobalAvgPool2d(Module):
    """The mean of each channel's whole map: (N, C, H, W) → (N, C), as before a network's classifier."""

    def forward(self, x: Tensor) -> Tensor:
        return F.global_avg_pool2d(x)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed (H_out, W_out) whatever the input's size (as before a classifier)."""

    def __init__(self, output_size: IntOrTuple) -> None:
        super().__init__()
        int_tuple(output_size, 2, "output_size", "AdaptiveAvgPool2d", 1)
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
