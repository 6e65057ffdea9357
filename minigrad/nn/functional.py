"""The function form of every layer: convolution, pooling, activations, normalization, losses.

Each one is a composition of minigrad's primitives (``correlate``, ``windows``, ``max``,
``sum``, ``where``, ``matmul``, …), so none of them has a hand-written gradient: backward
differentiates the composition. Names and semantics follow ``torch.nn.functional``;
axis arguments use numpy's word (``softmax(x, axis=-1)``).

Shapes: images are (N, C, H, W), sequences (N, C, L); a convolution weight is
(out_channels, in_channels / groups, *kernel). Bad shapes raise at the call, naming the
function and the expected layout.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigrad.creation import generator
from minigrad.nn.calls import function_call
from minigrad.ops.conv import correlate_transpose
from minigrad.tensor import Tensor, normalize_axis
from minigrad.tensor_functions import (
    IntOrTuple,
    Padding,
    as_tensor,
    check_fits,
    check_groups,
    correlate,
    int_tuple,
    matmul,
    maximum,
    pad,
    where,
    windows,
)

_LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)"}
_KERNELS = {1: "kL", 2: "kH, kW"}


# ---- checking arguments
def _input(x: Any, ndim: int, layout: str, op: str) -> Tensor:
    """x as a Tensor, checked to have ``ndim`` axes (the error shows the expected layout)."""
    x = as_tensor(x, op)
    if x.ndim != ndim:
        raise ValueError(f"{op}: expected input of shape {layout}, got {x.shape}")
    return x


def _check_bias(op: str, b: Tensor, channels: int) -> None:
    if b.shape != (channels,):
        raise ValueError(f"{op}: expected bias of shape ({channels},) (one per output channel), got {b.shape}")


def _channel_bias(y: Tensor, b: Any, op: str) -> Tensor:
    """y + b on the channel axis (axis 1)."""
    if b is None:
        return y
    b = as_tensor(b, op)
    _check_bias(op, b, y.shape[1])
    return y + b.reshape(1, -1, *(1,) * (y.ndim - 2))


# ---- convolution
def _conv(op: str, d: int, x: Any, w: Any, b: Any, stride: IntOrTuple, padding: Padding,
          dilation: IntOrTuple, groups: int) -> Tensor:
    """The N-d convolution (cross-correlation) behind conv1d and conv2d: ``correlate`` plus a bias."""
    x, w = _input(x, d + 2, _LAYOUTS[d], op), as_tensor(w, op)
    if w.ndim != d + 2:
        raise ValueError(f"{op}: expected weight of shape (out_channels, in_channels/groups, {_KERNELS[d]}), "
                         f"got {w.shape}")
    return _channel_bias(correlate(_in_precision_of(x, w), w, stride, padding, dilation, groups, op=op), b, op)


def _in_precision_of(x: Tensor, w: Tensor) -> Tensor:
    """x cast to the weight's floating-point dtype: a layer computes in its weight's precision, so
    a float64 image into a float32 layer gives float32, never a silently float64 layer (PyTorch
    refuses the mix instead; x's gradient comes back in x's own dtype)."""
    return x.astype(w.dtype) if x.dtype != w.dtype and x.dtype.kind == "f" and w.dtype.kind == "f" else x


@function_call
def conv1d(x: Any, w: Any, b: Any = None, stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
           groups: int = 1) -> Tensor:
    """1-D convolution of x (N, C, L) with w (O, C/groups, kL), b (O,) or None:

    y[n, o, l] = b[o] + Σ_{c,k} w[o, c, k] · x_padded[n, c, l·s + k·d] (see conv2d).
    """
    return _conv("conv1d", 1, x, w, b, stride, padding, dilation, groups)


@function_call
def conv2d(x: Any, w: Any, b: Any = None, stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
           groups: int = 1) -> Tensor:
    """2-D convolution (as deep learning uses the word: a cross-correlation, the kernel not flipped).

    x is (N, C, H, W), w (O, C/groups, kH, kW), b (O,) or None;
    y[n, o, i, j] = b[o] + Σ_{c, p, q} w[o, c, p, q] · x_padded[n, c, i·s + p·d, j·s + q·d], and
    each output axis has ⌊(W + 2P − D(K − 1) − 1) / S⌋ + 1 positions. ``padding`` is an int, a
    pair, 'valid' (none) or 'same' (output as large as the input; stride 1 only).
    """
    return _conv("conv2d", 2, x, w, b, stride, padding, dilation, groups)


@function_call
def convolve2d(x: Any, w: Any, b: Any = None, stride: IntOrTuple = 1, padding: Padding = 0, dilation: IntOrTuple = 1,
               groups: int = 1) -> Tensor:
    """True convolution, as in signal processing: conv2d with the kernel flipped in both spatial axes.

    y[n, o, i, j] = Σ_{c, p, q} w[o, c, p, q] · x[n, c, i − p, j − q] (shifted to start at 0).
    """
    w = as_tensor(w, "convolve2d")
    if w.ndim != 4:
        raise ValueError(f"convolve2d: expected weight of shape (out_channels, in_channels/groups, kH, kW), "
                         f"got {w.shape}")
    return _conv("convolve2d", 2, x, w[:, :, ::-1, ::-1], b, stride, padding, dilation, groups)


@function_call
def conv_transpose2d(x: Any, w: Any, b: Any = None, stride: IntOrTuple = 1, padding: IntOrTuple = 0,
                     output_padding: IntOrTuple = 0, groups: int = 1, dilation: IntOrTuple = 1) -> Tensor:
    """Transposed convolution ("deconvolution"): the adjoint of conv2d, as used to upsample.

    x is (N, C_in, H, W) and w (C_in, C_out/groups, kH, kW) (PyTorch's layout). Each output axis has
    (H − 1)·S − 2P + D(K − 1) + output_padding + 1 positions. It is exactly what carries dL/dY back
    to dL/dX in conv2d with weight w (``correlate_transpose``, in ops/conv.py): S − 1 zeros are
    inserted between the input's pixels, the result is padded by D(K − 1) − P (output_padding
    more after; negative widths crop), and correlated with the kernel flipped and its two
    channel axes swapped.
    """
    op = "conv_transpose2d"
    x, w = _input(x, 4, _LAYOUTS[2], op), as_tensor(w, op)
    if w.ndim != 4:
        raise ValueError(f"{op}: expected weight of shape (in_channels, out_channels/groups, kH, kW), got {w.shape}")
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"{op}: input {x.shape} has {x.shape[1]} channels, but weight {w.shape} expects {w.shape[0]}")
    groups = check_groups(op, groups, {"input channels": x.shape[1]})
    stride, dilation = int_tuple(stride, 2, "stride", op, 1), int_tuple(dilation, 2, "dilation", op, 1)
    padding, extra = int_tuple(padding, 2, "padding", op, 0), int_tuple(output_padding, 2, "output_padding", op, 0)
    if any(e >= max(s, dl) for e, s, dl in zip(extra, stride, dilation, strict=True)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than the stride {stride} or the dilation "
                         f"{dilation}")
    kernel = w.shape[2:]
    size = tuple((h - 1) * s - 2 * p + dl * (k - 1) + e + 1
                 for h, s, p, dl, k, e in zip(x.shape[2:], stride, padding, dilation, kernel, extra, strict=True))
    if min(size) < 1:
        raise ValueError(f"{op}: input {x.shape} with kernel {kernel}, stride {stride}, padding {padding} gives an "
                         f"empty output {size}")
    return _channel_bias(correlate_transpose(_in_precision_of(x, w), w, size, stride, padding, dilation, groups), b, op)


@function_call
def linear(x: Any, w: Any, b: Any = None) -> Tensor:
    """y = x Wᵀ + b for x (*, in_features), w (out_features, in_features), b (out_features,)."""
    x, w = as_tensor(x, "linear"), as_tensor(w, "linear")
    if w.ndim != 2:
        raise ValueError(f"linear: expected weight of shape (out_features, in_features), got {w.shape}")
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: expected input of shape (*, {w.shape[1]}) (in_features last), got {x.shape} "
                         f"for weight {w.shape}")
    y = _in_precision_of(x, w) @ w.T
    if b is None:
        return y
    b = as_tensor(b, "linear")
    _check_bias("linear", b, w.shape[0])
    return y + b


@function_call
def locally_connected2d(x: Any, weight: Any, bias: Any = None, stride: IntOrTuple = 1,
                        padding: IntOrTuple = 0) -> Tensor:
    """A convolution whose filters are not shared: each output position has its own.

    x is (N, C, H, W), weight (H_out, W_out, O, C, kH, kW), bias (O, H_out, W_out);
    y[n, o, i, j] = bias[o, i, j] + Σ_{c,p,q} weight[i, j, o, c, p, q] · x_padded[n, c, i·s + p, j·s + q].
    The windows are gathered as (H_out·W_out) matrices of shape (N, C·kH·kW) and multiplied by
    their own (C·kH·kW, O) filters in one batched matrix product.
    """
    op = "locally_connected2d"
    x, weight = _input(x, 4, _LAYOUTS[2], op), as_tensor(weight, op)
    if weight.ndim != 6:
        raise ValueError(f"{op}: expected weight of shape (H_out, W_out, out_channels, in_channels, kH, kW), "
                         f"got {weight.shape}")
    h_out, w_out, o, c, kh, kw = weight.shape
    if x.shape[1] != c:
        raise ValueError(f"{op}: input {x.shape} has {x.shape[1]} channels, but weight {weight.shape} expects {c}")
    stride, padding = int_tuple(stride, 2, "stride", op, 1), int_tuple(padding, 2, "padding", op, 0)
    check_fits(op, tuple(s + 2 * p for s, p in zip(x.shape[2:], padding, strict=True)), (kh, kw), (1, 1))
    x = pad(_in_precision_of(x, weight), ((0, 0), (0, 0), *((p, p) for p in padding)))
    taps = windows(x, (kh, kw), stride)                                   # (N, C, H_out, W_out, kH, kW)
    if taps.shape[2:4] != (h_out, w_out):
        raise ValueError(f"{op}: weight {weight.shape} has filters for {h_out}×{w_out} output positions, but the "
                         f"input with kernel {(kh, kw)}, stride {stride}, padding {padding} gives "
                         f"{taps.shape[2]}×{taps.shape[3]}")
    n = x.shape[0]
    columns = taps.transpose(2, 3, 0, 1, 4, 5).reshape(h_out, w_out, n, c * kh * kw)
    filters = weight.reshape(h_out, w_out, o, c * kh * kw).transpose(0, 1, 3, 2)
    y = matmul(columns, filters).transpose(2, 3, 0, 1)                    # (N, O, H_out, W_out)
    if bias is None:
        return y
    bias = as_tensor(bias, op)
    if bias.shape != (o, h_out, w_out):
        raise ValueError(f"{op}: expected bias of shape {(o, h_out, w_out)} (out_channels, H_out, W_out), "
                         f"got {bias.shape}")
    return y + bias


# ---- pooling
def _taps(op: str, x: Any, kernel_size: IntOrTuple, stride: IntOrTuple | None, padding: IntOrTuple,
          dilation: IntOrTuple, fill: float) -> Tensor:
    """Every pooling window's kH·kW taps as (kH·kW, N, C, H_out, W_out).

    The input is padded with ``fill``, cut into windows (a strided view), and the two kernel
    axes are moved to the front and made contiguous: reducing over axis 0 is then an
    elementwise max/sum of kH·kW large arrays, which numpy does fast (reducing over the last
    two axes of the strided view was 4–5× slower, forward and backward).
    """
    x = _input(x, 4, _LAYOUTS[2], op)
    kernel = int_tuple(kernel_size, 2, "kernel_size", op, 1)
    stride = kernel if stride is None else int_tuple(stride, 2, "stride", op, 1)
    padding, dilation = int_tuple(padding, 2, "padding", op, 0), int_tuple(dilation, 2, "dilation", op, 1)
    if any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel}")
    check_fits(op, tuple(s + 2 * p for s, p in zip(x.shape[2:], padding, strict=True)), kernel, dilation)
    if any(padding):
        x = pad(x, ((0, 0), (0, 0), *((p, p) for p in padding)), value=fill)
    taps = windows(x, kernel, stride, dilation)                           # (N, C, H_out, W_out, kH, kW)
    return taps.transpose(4, 5, 0, 1, 2, 3).reshape(kernel[0] * kernel[1], *taps.shape[:4])


@function_call
def max_pool2d(x: Any, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0,
               dilation: IntOrTuple = 1) -> Tensor:
    """The largest value in each kH×kW window (stride defaults to the kernel size; padding is −∞).

    At ties the gradient is shared equally among the tied entries, as for ``Tensor.max``
    (PyTorch gives it all to one of them); the value is the same. A NaN wins its window.
    """
    return _taps("max_pool2d", x, kernel_size, stride, padding, dilation, -np.inf).max(axis=0)


@function_call
def sum_pool2d(x: Any, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0) -> Tensor:
    """The sum of each kH×kW window (zero padding)."""
    return _taps("sum_pool2d", x, kernel_size, stride, padding, 1, 0.0).sum(axis=0)


@function_call
def avg_pool2d(x: Any, kernel_size: IntOrTuple, stride: IntOrTuple | None = None, padding: IntOrTuple = 0) -> Tensor:
    """The mean of each kH×kW window; padded zeros count in the mean (PyTorch's default)."""
    taps = _taps("avg_pool2d", x, kernel_size, stride, padding, 1, 0.0)
    return taps.sum(axis=0) / taps.shape[0]


@function_call
def lp_pool2d(x: Any, norm_type: float, kernel_size: IntOrTuple, stride: IntOrTuple | None = None) -> Tensor:
    """L^p pooling: the L^p norm of each window, (Σ_window |x|^p)^(1/p), no padding.

    p = 1 sums the magnitudes, p = 2 is the Euclidean norm of each window, p → ∞ approaches
    max pooling of |x|. The absolute value keeps every result real: PyTorch computes
    (Σ x^p)^(1/p), which is NaN for a negative entry when p is not an integer and lets
    negative entries cancel positive ones when p is odd. For x ≥ 0 (e.g. after a ReLU), and
    for every x when p is even, the two agree. The gradient is defined away from 0 (at an
    all-zero window (Σ)^(1/p − 1) is infinite, as in PyTorch).

    Each window is computed as m·(Σ (|x|/m)^p)^(1/p) with m its largest |x| (a constant: the
    identity holds for any m > 0, so the gradient is unchanged), so that x^p cannot overflow:
    float32 4^64 would be inf.
    """
    if not isinstance(norm_type, numbers.Real) or norm_type == 0:
        raise ValueError(f"lp_pool2d: norm_type must be a nonzero number, got {norm_type!r}")
    x = as_tensor(x, "lp_pool2d")
    taps = _taps("lp_pool2d", x.abs(), kernel_size, stride, 0, 1, 0.0)             # (kH·kW, N, C, H_out, W_out)
    largest = taps.max(axis=0).detach().maximum(1e-30)  # (any m > 0 will do for an all-zero window)
    return largest * ((taps / largest) ** norm_type).sum(axis=0) ** (1.0 / norm_type)


@function_call
def adaptive_avg_pool2d(x: Any, output_size: IntOrTuple) -> Tensor:
    """Average pooling to a fixed output size (H_out, W_out), whatever the input's size.

    Output row i averages input rows ⌊i·H/H_out⌋ … ⌈(i + 1)·H/H_out⌉ − 1 (PyTorch's windows; they
    overlap when H_out does not divide H). Averaging blocks of rows is a linear map, so it is
    two matrix products with constant averaging matrices: y = P_H · x · P_Wᵀ.
    """
    x = _input(x, 4, _LAYOUTS[2], "adaptive_avg_pool2d")
    out = int_tuple(output_size, 2, "output_size", "adaptive_avg_pool2d", 1)
    rows, cols = (Tensor.wrap(_averaging(n, m).astype(x.dtype)) for n, m in zip(x.shape[2:], out, strict=True))
    return rows @ x @ cols.T


def _averaging(size: int, out: int) -> np.ndarray:
    """(out, size): row i is 1/len over input positions ⌊i·size/out⌋ … ⌈(i + 1)·size/out⌉ − 1."""
    matrix = np.zeros((out, size))
    for i in range(out):
        start, stop = i * size // out, -(-(i + 1) * size // out)
        matrix[i, start:stop] = 1 / (stop - start)
    return matrix


@function_call
def global_avg_pool2d(x: Any) -> Tensor:
    """The mean over each channel's whole H×W map: (N, C, H, W) → (N, C)."""
    return _input(x, 4, _LAYOUTS[2], "global_avg_pool2d").mean(axis=(2, 3))


# ---- activations
@function_call
def relu(x: Any) -> Tensor:
    """max(x, 0); the gradient at 0 is 0 (as PyTorch)."""
    return as_tensor(x, "relu").relu()


@function_call
def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope·x otherwise."""
    x = as_tensor(x, "leaky_relu")
    return where(x > 0, x, x * negative_slope)


@function_call
def sigmoid(x: Any) -> Tensor:
    """1 / (1 + e^−x), without overflow for large |x|."""
    return as_tensor(x, "sigmoid").sigmoid()


@function_call
def tanh(x: Any) -> Tensor:
    return as_tensor(x, "tanh").tanh()


@function_call
def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """exp(x_i) / Σ_j exp(x_j) along ``axis`` (or PyTorch's ``dim``), shifted by the max so that it
    never overflows."""
    return as_tensor(x, "softmax").softmax(axis, dim=dim)


@function_call
def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """x_i − log Σ_j exp(x_j) along ``axis`` (or PyTorch's ``dim``; log-sum-exp shifted by the max:
    stable for huge logits)."""
    return as_tensor(x, "log_softmax").log_softmax(axis, dim=dim)


# ---- regularization and normalization
@function_call
def dropout(x: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Zeroes each entry with probability p while training and scales the rest by 1/(1 − p).

    The expected value of every entry is unchanged, so evaluation (``training=False``)
    returns x as it is. The mask comes from minigrad's seeded generator (``mg.manual_seed``).
    """
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    x = as_tensor(x, "dropout")
    if not training or p == 0:
        return x
    keep = generator().random(x.shape) >= p
    scale = keep / (1 - p) if p < 1 else np.zeros(x.shape)
    return x * Tensor.wrap(scale.astype(x.dtype))


@function_call
def dropout2d(x: Any, p: float = 0.5, training: bool = True) -> Tensor:
    """Zeroes whole channels of (N, C, H, W) with probability p while training and scales the rest
    by 1/(1 − p): neighbouring pixels of a feature map are alike, so dropping single pixels
    regularizes little (Tompson et al. 2015)."""
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout2d: p must be a probability in [0, 1], got {p!r}")
    x = _input(x, 4, _LAYOUTS[2], "dropout2d")
    if not training or p == 0:
        return x
    keep = generator().random((*x.shape[:2], 1, 1)) >= p
    scale = keep / (1 - p) if p < 1 else np.zeros(keep.shape)
    return x * Tensor.wrap(scale.astype(x.dtype))


def _array(t: Any) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else t


def _move_towards(stat: Any, value: np.ndarray, momentum: float) -> None:
    """stat ← (1 − momentum)·stat + momentum·value, in place (a Tensor's version is bumped)."""
    stat[...] = (1 - momentum) * _array(stat) + momentum * value


@function_call
def batch_norm(x: Any, running_mean: Any, running_var: Any, weight: Any = None, bias: Any = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalizes each channel (axis 1) of x (N, C, *) to mean 0 and variance 1, then scales and shifts.

    y = (x − μ) / √(σ² + ε) · weight + bias. While training, μ and σ² are the batch's mean and
    biased variance over every axis but the channels, and the running statistics (arrays or
    Tensors, updated in place, outside the graph) move towards them:
    running_mean ← (1 − momentum)·running_mean + momentum·μ, and the same for running_var with
    the unbiased variance σ²·n/(n − 1). In evaluation the running statistics are used instead.
    """
    x = as_tensor(x, "batch_norm")
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C) or (N, C, *), got {x.shape}")
    c, axes = x.shape[1], (0, *range(2, x.ndim))
    shape = (1, c, *(1,) * (x.ndim - 2))
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None and _array(stat).shape != (c,):
            raise ValueError(f"batch_norm: {name} has shape {_array(stat).shape}, expected ({c},) for input {x.shape}")
    if training:
        n = x.numel() // c
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input {x.shape}")
        mean = x.mean(axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axes, keepdims=True)
        if running_mean is not None:
            _move_towards(running_mean, mean.data.reshape(c), momentum)
        if running_var is not None:
            _move_towards(running_var, var.data.reshape(c) * (n / (n - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation (training=False) needs running_mean and running_var")
        centred = x - Tensor.wrap(_array(running_mean).reshape(shape).astype(x.dtype))
        var = Tensor.wrap(_array(running_var).reshape(shape).astype(x.dtype))
    out = centred / (var + eps).sqrt()
    if weight is not None:
        out = out * as_tensor(weight, "batch_norm").reshape(shape)
    if bias is not None:
        out = out + as_tensor(bias, "batch_norm").reshape(shape)
    return out


@function_call
def local_response_norm(x: Any, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """AlexNet's normalization across channels, with PyTorch's convention for alpha:

        b_c = a_c / (k + (alpha / size) · Σ_{c'} a_{c'}²)^beta,

    the sum running over the ``size`` channels c − ⌊size/2⌋ … c + ⌈size/2⌉ − 1 (zeros past the
    edges). The paper's α multiplies the plain sum, so its α = 10⁻⁴ with n = 5 is alpha = 5·10⁻⁴ here.
    """
    x = as_tensor(x, "local_response_norm")
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected input of shape (N, C, *), got {x.shape}")
    if not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive integer, got {size!r}")
    c = x.shape[1]
    squares = pad(x * x, ((0, 0), (size // 2, (size - 1) // 2), *((0, 0),) * (x.ndim - 2)))
    window_sum = squares[:, 0:c]
    for i in range(1, size):  # one shifted slice per channel offset
        window_sum = window_sum + squares[:, i:i + c]
    return x / (k + (alpha / size) * window_sum) ** beta


def _gaussian_window(channels: int, size: int, sigma: float, dtype: np.dtype) -> Tensor:
    """Weights (1, channels, size, size): exp(−(p² + q²) / 2σ²) over space, equal over channels, Σ w = 1."""
    r = np.arange(size) - size // 2
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma**2))
    return Tensor.wrap(np.broadcast_to(g / (channels * g.sum()), (1, channels, size, size)).astype(dtype))


def _window_mean(t: Tensor, w: Tensor) -> Tensor:
    """Σ_{c,p,q} w_{c,p,q} · t_{c,i+p,j+q} at every (i, j): (N, C, H, W) → (N, 1, H, W).

    Where the window hangs over the border, the sum runs over the part inside the image and is
    divided by that part's total weight (so the border is not pulled towards the zero padding).
    """
    padding = w.shape[-1] // 2
    inside = conv2d(Tensor.wrap(np.ones((1, *t.shape[1:]), t.dtype)), w, padding=padding)
    return conv2d(t, w, padding=padding) / inside


@function_call
def local_contrast_norm(x: Any, size: int = 9, sigma: float | None = None, eps: float = 1e-4) -> Tensor:
    """Local contrast normalization (Jarrett et al. 2009): subtractive, then divisive normalization.

    With w a Gaussian window over space (size × size, standard deviation ``sigma``, by default
    size / 4) and uniform over all C channels, normalised so that Σ w = 1:

        v_{c,i,j} = x_{c,i,j} − Σ_{c',p,q} w_{c',p,q} · x_{c',i+p,j+q}          (remove the local mean)
        σ_{i,j}   = sqrt(max(Σ_{c',p,q} w_{c',p,q} · v²_{c',i+p,j+q}, eps²))    (local standard deviation)
        y_{c,i,j} = v_{c,i,j} / max(m, σ_{i,j}),   m = the mean of σ over the image's positions

    Dividing by max(m, σ) rather than σ leaves low-contrast regions (σ below the image's mean)
    un-amplified; eps keeps a flat patch's σ, and the gradient of the square root, finite.
    At the borders the window is cut to the image and renormalised (Torch's
    SpatialContrastiveNormalization does the same). Input (N, C, H, W), output the same shape;
    ``size`` is odd, so the window is centred.
    """
    op = "local_contrast_norm"
    x = _input(x, 4, _LAYOUTS[2], op)
    (size,) = int_tuple(size, 1, "size", op, 1)
    if size % 2 == 0:
        raise ValueError(f"{op}: size must be odd (a window centred on each position), got {size}")
    sigma = size / 4 if sigma is None else sigma
    if not isinstance(sigma, numbers.Real) or not sigma > 0:
        raise ValueError(f"{op}: sigma must be a positive number, got {sigma!r}")
    w = _gaussian_window(x.shape[1], size, float(sigma), x.dtype)
    v = x - _window_mean(x, w)
    local_std = maximum(_window_mean(v * v, w), eps * eps).sqrt()
    return v / maximum(local_std, local_std.mean(axis=(2, 3), keepdims=True))


@function_call
def flatten(x: Any, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Merges axes start_dim … end_dim into one (the function form of ``nn.Flatten``)."""
    x = as_tensor(x, "flatten")
    start, end = (normalize_axis(a, x.ndim, "flatten") for a in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    return x.reshape(*x.shape[:start], -1, *x.shape[end + 1:])


# ---- losses
_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return loss if reduction == "none" else loss.mean() if reduction == "mean" else loss.sum()


def _class_targets(op: str, scores: Tensor, target: Any) -> np.ndarray:
    """Integer class indices for scores (N, C, *), checked to have shape (N, *) and values in [0, C)."""
    if scores.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (N, C, *), got {scores.shape}")
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype} "
                        "(for one-hot or probability targets, pick the class with argmax)")
    expected = scores.shape[:1] + scores.shape[2:]
    if t.shape != expected:
        raise ValueError(f"{op}: target of shape {t.shape} does not match input {scores.shape}: expected {expected}")
    bad = t[(t < 0) | (t >= scores.shape[1])]
    if bad.size:
        raise ValueError(f"{op}: target values must be class indices in [0, {scores.shape[1]}) for input "
                         f"{scores.shape}, got {bad[:5].tolist()}")
    return t


def _picked(scores: Tensor, t: np.ndarray) -> Tensor:
    """scores[n, t[n, …], …]: each sample's score for its target class, shaped like t."""
    flat = scores if scores.ndim == 2 else scores.transpose(0, *range(2, scores.ndim), 1).reshape(-1, scores.shape[1])
    return flat[np.arange(t.size), t.reshape(-1)].reshape(*t.shape)


@function_call
def nll_loss(log_probs: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: −log_probs[n, target[n]], averaged over the batch."""
    log_probs = as_tensor(log_probs, "nll_loss")
    return _reduce(-_picked(log_probs, _class_targets("nll_loss", log_probs, target)), reduction, "nll_loss")


@function_call
def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Tensor:
    """−log softmax(logits)[target] = log Σ_j exp(z_j) − z_target, averaged over the batch.

    ``logits`` is (N, C) (or (N, C, *)), ``target`` integer class indices (N,) (or (N, *)),
    as a Tensor or an array. Computed through log_softmax, so logits in the thousands are fine.
    """
    logits = as_tensor(logits, "cross_entropy")
    t = _class_targets("cross_entropy", logits, target)
    return _reduce(-_picked(logits.log_softmax(axis=1), t), reduction, "cross_entropy")


@function_call
def mse_loss(x: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: mean((x − target)²) over every entry."""
    x, target = as_tensor(x, "mse_loss"), as_tensor(target, "mse_loss")
    if x.shape != target.shape:
        raise ValueError(f"mse_loss: input {x.shape} and target {target.shape} must have the same shape")
    diff = x - target.astype(x.dtype)
    return _reduce(diff * diff, reduction, "mse_loss")


@function_call
def multi_margin_loss(x: Any, target: Any, p: int = 1, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """The multi-class hinge loss (a linear SVM's), PyTorch's formula:

        loss_n = Σ_{i ≠ y} max(0, margin − x[y] + x[i])^p / C,   y = target[n],

    for scores x (N, C) and integer targets (N,); averaged over the batch.
    """
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p!r}")
    x = as_tensor(x, "multi_margin_loss")
    if x.ndim != 2:
        raise ValueError(f"multi_margin_loss: expected input of shape (N, C), got {x.shape}")
    t = _class_targets("multi_margin_loss", x, target)
    hinge = (margin - _picked(x, t).reshape(-1, 1) + x).relu()
    if p == 2:
        hinge = hinge * hinge
    is_target = np.arange(x.shape[1]) == t[:, None]
    return _reduce(where(is_target, 0.0, hinge).sum(axis=1) / x.shape[1], reduction, "multi_margin_loss")


__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "conv1d", "conv2d", "conv_transpose2d", "convolve2d",
           "cross_entropy", "dropout", "dropout2d", "flatten", "global_avg_pool2d", "leaky_relu", "linear",
           "local_contrast_norm", "local_response_norm", "locally_connected2d", "log_softmax", "lp_pool2d",
           "max_pool2d", "mse_loss", "multi_margin_loss", "nll_loss", "relu", "sigmoid", "softmax", "sum_pool2d",
           "tanh"]
