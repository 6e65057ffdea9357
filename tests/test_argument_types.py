"""Every int-or-tuple argument of every layer and function refuses floats, None and bools with a
TypeError that names the function and the argument (``stride=2.0`` is refused, not rounded)."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

X4, W4 = mg.randn(1, 2, 6, 6), mg.randn(2, 2, 3, 3)
CALLS = {  # name: (call taking the argument's value, the argument's name, the name the error gives)
    "correlate stride": (lambda v: mg.correlate(X4, W4, stride=v), "stride", "correlate"),
    "correlate padding": (lambda v: mg.correlate(X4, W4, padding=v), "padding", "correlate"),
    "correlate dilation": (lambda v: mg.correlate(X4, W4, dilation=v), "dilation", "correlate"),
    "correlate groups": (lambda v: mg.correlate(X4, W4, groups=v), "groups", "correlate"),
    "windows kernel_size": (lambda v: mg.windows(X4, kernel_size=v), "kernel_size", "windows"),
    "windows stride": (lambda v: mg.windows(X4, kernel_size=2, stride=v), "stride", "windows"),
    "conv1d stride": (lambda v: F.conv1d(mg.randn(1, 2, 6), mg.randn(2, 2, 3), stride=v), "stride", "conv1d"),
    "conv2d stride": (lambda v: F.conv2d(X4, W4, stride=v), "stride", "conv2d"),
    "conv2d padding": (lambda v: F.conv2d(X4, W4, padding=v), "padding", "conv2d"),
    "conv2d dilation": (lambda v: F.conv2d(X4, W4, dilation=v), "dilation", "conv2d"),
    "conv2d groups": (lambda v: F.conv2d(X4, W4, groups=v), "groups", "conv2d"),
    "conv_transpose2d stride": (lambda v: F.conv_transpose2d(X4, W4, stride=v), "stride", "conv_transpose2d"),
    "conv_transpose2d output_padding": (lambda v: F.conv_transpose2d(X4, W4, stride=2, output_padding=v),
                                        "output_padding", "conv_transpose2d"),
    "max_pool2d kernel_size": (lambda v: F.max_pool2d(X4, v), "kernel_size", "max_pool2d"),
    "max_pool2d stride": (lambda v: F.max_pool2d(X4, 2, stride=v), "stride", "max_pool2d"),
    "max_pool2d padding": (lambda v: F.max_pool2d(X4, 2, padding=v), "padding", "max_pool2d"),
    "avg_pool2d kernel_size": (lambda v: F.avg_pool2d(X4, v), "kernel_size", "avg_pool2d"),
    "lp_pool2d kernel_size": (lambda v: F.lp_pool2d(X4, 2, v), "kernel_size", "lp_pool2d"),
    "locally_connected2d stride": (lambda v: F.locally_connected2d(X4, mg.randn(4, 4, 2, 2, 3, 3), stride=v),
                                   "stride", "locally_connected2d"),
    "Conv2d kernel_size": (lambda v: nn.Conv2d(2, 2, v), "kernel_size", "Conv2d"),
    "Conv2d stride": (lambda v: nn.Conv2d(2, 2, 3, stride=v), "stride", "Conv2d"),
    "Conv2d padding": (lambda v: nn.Conv2d(2, 2, 3, padding=v), "padding", "Conv2d"),
    "Conv2d dilation": (lambda v: nn.Conv2d(2, 2, 3, dilation=v), "dilation", "Conv2d"),
    "Conv1d kernel_size": (lambda v: nn.Conv1d(2, 2, v), "kernel_size", "Conv1d"),
    "ConvTranspose2d stride": (lambda v: nn.ConvTranspose2d(2, 2, 3, stride=v), "stride", "ConvTranspose2d"),
    "LocallyConnected2d input_size": (lambda v: nn.LocallyConnected2d(2, 2, v, 3), "input_size",
                                      "LocallyConnected2d"),
    "LocallyConnected2d kernel_size": (lambda v: nn.LocallyConnected2d(2, 2, 6, v), "kernel_size",
                                       "LocallyConnected2d"),
    "MaxPool2d kernel_size": (lambda v: nn.MaxPool2d(v), "kernel_size", "MaxPool2d"),
    "MaxPool2d stride": (lambda v: nn.MaxPool2d(2, stride=v), "stride", "MaxPool2d"),
    "MaxPool2d padding": (lambda v: nn.MaxPool2d(2, padding=v), "padding", "MaxPool2d"),
    "AvgPool2d kernel_size": (lambda v: nn.AvgPool2d(v), "kernel_size", "AvgPool2d"),
    "LPPool2d kernel_size": (lambda v: nn.LPPool2d(2, v), "kernel_size", "LPPool2d"),
}
BAD = [2.0, None, True, (2, 2.5), (True, 1), "2"]


def meaningful(case, value):
    """Leaves out the values that mean something there: stride=None (the kernel size), padding
    strings ('same'; an unknown one is a ValueError), and tuples for groups (never a tuple)."""
    _, name, op = CALLS[case]
    return not ((value is None and name == "stride" and op in ("windows", "max_pool2d", "MaxPool2d"))
                or (name == "groups" and isinstance(value, tuple))
                or (name == "padding" and value == "2" and op in ("conv2d", "Conv2d", "correlate")))


@pytest.mark.parametrize(("case", "value"), [(c, v) for c in sorted(CALLS) for v in BAD if meaningful(c, v)],
                         ids=lambda v: repr(v) if not isinstance(v, str) or v == "2" else v)
def test_non_integers_are_refused_with_the_argument_named(case, value):
    call, name, op = CALLS[case]
    with pytest.raises(TypeError, match=rf"{op}: {name} must be an int"):
        call(value)


@pytest.mark.parametrize("value", [2, np.int64(2), (2, 2)])
def test_integers_of_any_kind_are_taken(value):
    assert nn.Conv2d(2, 2, 3, stride=value)(X4).shape == (1, 2, 2, 2)
    assert F.max_pool2d(X4, value).shape == (1, 2, 3, 3)
