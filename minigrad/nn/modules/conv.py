"""Convolution layers: Conv1d, Conv2d, ConvTranspose2d, and LocallyConnected2d (unshared filters).

Each output position of a convolution sees a kernel-sized window of the input, and every
window is multiplied by the same filter; along each axis the output has
⌊(W + 2P − D(K − 1) − 1) / S⌋ + 1 positions (W input size, K kernel, P padding, S stride,
D dilation). Weights start from PyTorch's default initialisation.
"""

from __future__ import annotations

import math

from minigrad.creation import zeros
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.modules.module import Module, Parameter
from minigrad.ops import out_size
from minigrad.tensor import Tensor
from minigrad.tensor_functions import IntOrTuple, int_tuple, padding_widths


class _Conv(Module):
    """What Conv1d, Conv2d and ConvTranspose2d share: settings, weight and bias, repr."""

    dims = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple, stride: IntOrTuple = 1,
                 padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1, bias: bool = True,
                 output_padding: IntOrTuple = 0) -> None:
        super().__init__()
        layer, d = type(self).__name__, self.dims
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1 or n % groups:
                raise ValueError(f"{layer}: {what} ({n}) must be divisible by groups ({groups!r})")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = int_tuple(kernel_size, d, "kernel_size", layer, 1)
        self.stride = int_tuple(stride, d, "stride", layer, 1)
        self.dilation = int_tuple(dilation, d, "dilation", layer, 1)
        self.output_padding = int_tuple(output_padding, d, "output_padding", layer, 0)
        padding_widths(padding, self.kernel_size, self.stride, self.dilation, layer)  # checked now, not at the call
        self.padding = padding if isinstance(padding, str) else int_tuple(padding, d, "padding", layer, 0)
        shape = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(zeros(*shape, *self.kernel_size))
        self.bias = Parameter(zeros(out_channels)) if bias else None
        init.default_(self.weight, self.bias)

    def extra_repr(self) -> str:
        d = self.dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * d:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * d:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * d:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s if self.bias is not None else s + ", bias=False"


class Conv1d(_Conv):
    """1-D convolution over (N, C, L) sequences; weight (out_channels, in_channels/groups, kL)."""

    dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple, stride: IntOrTuple = 1,
                 padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_Conv):
    """2-D convolution over (N, C, H, W) images; weight (out_channels, in_channels/groups, kH, kW).

    ``padding`` is an int, a pair, 'valid' or 'same'; ``groups`` splits the channels into
    groups that are convolved separately (groups = in_channels is a depthwise convolution).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple, stride: IntOrTuple = 1,
                 padding: IntOrTuple | str = 0, dilation: IntOrTuple = 1, groups: int = 1, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose2d(_Conv):
    """Transposed convolution, which upsamples: each axis grows to (H − 1)·S − 2P + D(K − 1) + output_padding + 1.

    weight is (in_channels, out_channels/groups, kH, kW), as in PyTorch.
    """

    transposed = True
    padding: tuple[int, ...]  # never 'valid' or 'same': __init__ refuses strings

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTuple, stride: IntOrTuple = 1,
                 padding: IntOrTuple = 0, output_padding: IntOrTuple = 0, groups: int = 1, bias: bool = True,
                 dilation: IntOrTuple = 1) -> None:
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a pair, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         output_padding)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)


class LocallyConnected2d(Module):
    """Like Conv2d, but every output position has its own filter (no weight sharing).

    ``input_size`` is the input's (H, W), which fixes the output positions; ``weight`` is
    (H_out, W_out, out_channels, in_channels, kH, kW) and ``bias`` (out_channels, H_out, W_out).
    It has H_out·W_out times the parameters of the matching Conv2d — what sharing saves.
    """

    def __init__(self, in_channels: int, out_channels: int, input_size: IntOrTuple, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: IntOrTuple = 0, bias: bool = True) -> None:
        super().__init__()
        layer = "LocallyConnected2d"
        self.in_channels, self.out_channels = in_channels, out_channels
        self.input_size = int_tuple(input_size, 2, "input_size", layer, 1)
        self.kernel_size = int_tuple(kernel_size, 2, "kernel_size", layer, 1)
        self.stride = int_tuple(stride, 2, "stride", layer, 1)
        self.padding = int_tuple(padding, 2, "padding", layer, 0)
        self.output_size = tuple(map(out_size, self.input_size, self.kernel_size, self.stride, self.padding))
        if min(self.output_size) < 1:
            raise ValueError(f"{layer}: kernel {self.kernel_size} is larger than the padded input "
                             f"{tuple(s + 2 * p for s, p in zip(self.input_size, self.padding, strict=True))}")
        self.weight = Parameter(zeros(*self.output_size, out_channels, in_channels, *self.kernel_size))
        self.bias = Parameter(zeros(out_channels, *self.output_size)) if bias else None
        init.default_(self.weight, self.bias, fan_in=in_channels * math.prod(self.kernel_size))

    def forward(self, x: Tensor) -> Tensor:
        return F.locally_connected2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, input_size={self.input_size}, "
             f"kernel_size={self.kernel_size}, stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        return s if self.bias is not None else s + ", bias=False"
