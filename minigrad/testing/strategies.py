"""Hypothesis strategies for minigrad tests: shapes, broadcastable pairs, tensors, convolutions.

They draw what minigrad's own tests draw: small shapes (gradchecks cost one backward pass
per output element), finite values in a modest range, and convolution configurations that
are valid by construction rather than filtered, so hypothesis never runs out of examples.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

try:
    import hypothesis.extra.numpy as hnp
    import hypothesis.strategies as st
except ImportError as err:
    raise ImportError("minigrad.testing.strategies needs hypothesis; install minigrad's test extra: "
                      "pip install 'minigrad[test]'") from err

from minigrad.creation import tensor
from minigrad.tensor import Tensor

Shape = tuple[int, ...]


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1, max_side: int = 5) -> st.SearchStrategy[Shape]:
    """Array shapes with ``min_dims``..``max_dims`` axes of ``min_side``..``max_side`` entries."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 1,
                         max_side: int = 5) -> st.SearchStrategy[tuple[Shape, Shape]]:
    """Pairs of shapes that broadcast against each other (numpy's rules), for binary operations."""
    pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=max_dims,
                                              min_side=min_side, max_side=max_side)
    return pairs.map(lambda drawn: (drawn.input_shapes[0], drawn.input_shapes[1]))


def tensors(shape: Shape | st.SearchStrategy[Shape] | None = None, dtype: str = "float64",
            elements: st.SearchStrategy[Any] | None = None, requires_grad: bool = True) -> st.SearchStrategy[Tensor]:
    """minigrad tensors of ``shape`` (a shape, a strategy for one, or None for ``shapes()``).

    ``elements`` (a strategy for one entry) defaults to finite values of ``dtype`` in [-2, 2];
    the default float64 and ``requires_grad=True`` make the tensors ready for ``gradcheck``.
    """
    shape = shapes() if shape is None else shape
    if elements is None:
        elements = hnp.from_dtype(np.dtype(dtype), min_value=-2, max_value=2, allow_nan=False, allow_infinity=False)
    arrays = hnp.arrays(np.dtype(dtype), shape, elements=elements)
    return arrays.map(lambda array: tensor(array, dtype=dtype, requires_grad=requires_grad))


class ConvConfig(NamedTuple):
    """Arguments of one valid ``mg.correlate`` call: every output axis has at least one position."""

    input_shape: Shape     # (N, C, *S)
    weight_shape: Shape    # (O, C / groups, *K)
    stride: Shape
    padding: Shape
    dilation: Shape
    groups: int


@st.composite
def _conv_config(draw: Any, dims: int, max_batch: int, max_channels: int, max_groups: int, max_side: int,
                 max_kernel: int, max_stride: int, max_padding: int, max_dilation: int) -> ConvConfig:
    def per_axis(low: int, high: int) -> Shape:
        return tuple(draw(st.integers(low, high)) for _ in range(dims))

    groups = draw(st.integers(1, max_groups))
    in_per_group, out_per_group = draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    kernel, stride = per_axis(1, max_kernel), per_axis(1, max_stride)
    padding, dilation = per_axis(0, max_padding), per_axis(1, max_dilation)
    # the dilated kernel spans D(K − 1) + 1 entries; the padding supplies 2P of them
    needed = [d * (k - 1) + 1 - 2 * p for k, d, p in zip(kernel, dilation, padding, strict=True)]
    sizes = tuple(draw(st.integers(max(1, n), max(1, n, max_side))) for n in needed)
    return ConvConfig(input_shape=(draw(st.integers(1, max_batch)), in_per_group * groups, *sizes),
                      weight_shape=(out_per_group * groups, in_per_group, *kernel),
                      stride=stride, padding=padding, dilation=dilation, groups=groups)


def conv_configs(dims: int = 2, max_batch: int = 2, max_channels: int = 3, max_groups: int = 2, max_side: int = 6,
                 max_kernel: int = 3, max_stride: int = 2, max_padding: int = 1,
                 max_dilation: int = 2) -> st.SearchStrategy[ConvConfig]:
    """Valid convolution configurations with ``dims`` spatial axes, as ``ConvConfig`` tuples.

    Channels are multiples of ``groups`` (``max_channels`` bounds the channels per group), and
    each input side is at least the dilated kernel's span minus the padding, so the output has
    ⌊(S + 2P − D(K − 1) − 1) / stride⌋ + 1 ≥ 1 positions per axis.
    """
    return _conv_config(dims, max_batch, max_channels, max_groups, max_side, max_kernel, max_stride,
                        max_padding, max_dilation)
