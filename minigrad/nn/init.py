"""Weight initialisation, in place on a parameter's array, from minigrad's seeded generator.

The same ``mg.manual_seed`` gives the same weights. The formulas are PyTorch's:

- ``kaiming_*`` (He et al., 2015) keep the variance of activations through ReLU layers:
  std = gain / √fan, with gain = √(2 / (1 + a²)) for leaky ReLU of slope a (√2 for ReLU);
- ``xavier_*`` (Glorot & Bengio, 2010) balance forward and backward: std = gain·√(2 / (fan_in + fan_out));
- a uniform distribution U(−b, b) has std b/√3, so the uniform variants use b = √3·std.

fan_in of a weight (out, in, *kernel) is in·kernel area (the inputs that reach one output);
fan_out is out·kernel area.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.creation import generator
from minigrad.state import no_grad
from minigrad.tensor import Tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps the activations' scale through ``nonlinearity`` (PyTorch's values)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv_transpose2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def fans(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError(f"init: fan in and fan out need a weight with at least 2 dimensions, got shape {tensor.shape}")
    area = math.prod(tensor.shape[2:])
    return tensor.shape[1] * area, tensor.shape[0] * area


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fans(tensor)[mode == "fan_out"]


def _draw_dtype(tensor: Tensor) -> type:
    """Float32 tensors get float32 samples: half the memory and faster (VGG16 has 138 million weights)."""
    return np.float32 if tensor.dtype == np.float32 else np.float64


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fills ``tensor`` with samples from U(a, b)."""
    u = generator().random(tensor.shape, dtype=_draw_dtype(tensor))
    u *= b - a
    u += a
    with no_grad():
        tensor[...] = u
    return tensor


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fills ``tensor`` with samples from N(mean, std²)."""
    z = generator().standard_normal(tensor.shape, dtype=_draw_dtype(tensor))
    z *= std
    z += mean
    with no_grad():
        tensor[...] = z
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    with no_grad():
        tensor[...] = 0
    return tensor


def ones_(tensor: Tensor) -> Tensor:
    with no_grad():
        tensor[...] = 1
    return tensor


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """U(−b, b) with b = gain·√(3 / fan)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return uniform_(tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """N(0, std²) with std = gain / √fan."""
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """U(−b, b) with b = gain·√(6 / (fan_in + fan_out))."""
    bound = gain * math.sqrt(6.0 / sum(fans(tensor)))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / sum(fans(tensor))))


def default_(weight: Tensor, bias: Tensor | None, fan_in: int | None = None) -> None:
    """PyTorch's default for Linear and convolution layers: weight and bias from U(−1/√fan_in, 1/√fan_in).

    For the weight that is ``kaiming_uniform_(weight, a=√5)``: gain √(2/6) times √(3/fan_in).
    ``fan_in`` defaults to that of the weight's (out, in, *kernel) layout.
    """
    fan_in = fans(weight)[0] if fan_in is None else fan_in
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    uniform_(weight, -bound, bound)
    if bias is not None:
        uniform_(bias, -bound, bound)
