"""minigrad.nn.functional: every op's forward against an independent numpy computation (explicit
loops over output positions for convolution, pooling, LRN and locally connected layers), its
gradient by gradcheck in float64, PyTorch's results where torch is importable, and the errors
that bad input gets."""

import itertools

import numpy as np
import pytest
from helpers import distinct, leaf, rng
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F

FAST = settings(max_examples=15, deadline=None)





def close(actual, expected, tol=1e-10):
    np.testing.assert_allclose(actual.data if isinstance(actual, mg.Tensor) else actual, expected, rtol=tol, atol=tol)


# ---- references: explicit loops over output positions
def conv_loop(x, w, b=None, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """y[n, o, i, j] = b[o] + Σ_{c, p, q} w[o, c, p, q] · x_padded[n, g·C/g + c, i·s + p·d, j·s + q·d]."""
    x = np.pad(x, ((0, 0), (0, 0), *padding))
    n, _c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    ho = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, o, ho, wo))
    for b_, oc, i, j in itertools.product(range(n), range(o), range(ho), range(wo)):
        g = oc // (o // groups)
        for ci, p, q in itertools.product(range(cg), range(kh), range(kw)):
            y[b_, oc, i, j] += w[oc, ci, p, q] * x[b_, g * cg + ci, i * stride[0] + p * dilation[0],
                                                  j * stride[1] + q * dilation[1]]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def conv_transpose_loop(x, w, stride, padding, output_padding, groups, dilation):
    """Each input pixel scatters its kernel-weighted copy: y[n, o, i·s − p + k·d] += x[n, c, i] · w[c, o, k]."""
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    out = [(size - 1) * s - 2 * p + d * (k - 1) + e + 1
           for size, s, p, d, k, e in zip((h, wd), stride, padding, dilation, (kh, kw), output_padding, strict=False)]
    full = np.zeros((n, og * groups, out[0] + 2 * padding[0], out[1] + 2 * padding[1]))
    for b_, ci, i, j, oc, p, q in itertools.product(range(n), range(c), range(h), range(wd), range(og), range(kh),
                                                     range(kw)):
        g = ci // (c // groups)
        full[b_, g * og + oc, i * stride[0] + p * dilation[0], j * stride[1] + q * dilation[1]] += \
            x[b_, ci, i, j] * w[ci, oc, p, q]
    return full[:, :, padding[0]:padding[0] + out[0], padding[1]:padding[1] + out[1]]


def pool_loop(x, reduce, kernel, stride, padding=(0, 0), dilation=(1, 1), fill=0.0):
    """reduce(window) for every window of every (n, c) map."""
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2), constant_values=fill)
    n, c, h, w = x.shape
    ho = (h - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    wo = (w - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    y = np.zeros((n, c, ho, wo))
    for b_, ch, i, j in itertools.product(range(n), range(c), range(ho), range(wo)):
        rows = i * stride[0] + dilation[0] * np.arange(kernel[0])
        cols = j * stride[1] + dilation[1] * np.arange(kernel[1])
        y[b_, ch, i, j] = reduce(x[b_, ch][np.ix_(rows, cols)])
    return y


# ---- convolution
CONV_CASES = [  # stride, padding, dilation, groups, channels in/out
    {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "c": 2, "o": 3},
    {"stride": 2, "padding": 1, "dilation": 1, "groups": 1, "c": 2, "o": 3},
    {"stride": (1, 2), "padding": (2, 0), "dilation": (2, 1), "groups": 1, "c": 1, "o": 2},
    {"stride": 1, "padding": 1, "dilation": 1, "groups": 2, "c": 4, "o": 2},
    {"stride": 2, "padding": 0, "dilation": 2, "groups": 3, "c": 3, "o": 6},
]


def pair(v):
    return v if isinstance(v, tuple) else (v, v)


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_matches_loop_and_gradcheck(case):
    c, o, groups = case["c"], case["o"], case["groups"]
    x, w, b = rng(1).normal(size=(2, c, 7, 6)), rng(2).normal(size=(o, c // groups, 3, 2)), rng(3).normal(size=o)
    kwargs = {k: case[k] for k in ("stride", "padding", "dilation", "groups")}
    expected = conv_loop(x, w, b, pair(case["stride"]), tuple((p, p) for p in pair(case["padding"])),
                         pair(case["dilation"]), groups)
    close(F.conv2d(mg.tensor(x), mg.tensor(w), mg.tensor(b), **kwargs), expected)
    small = [leaf(x[:1, :, :5, :5]), leaf(w), leaf(b)]
    assert mg.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kwargs), small)


@pytest.mark.parametrize(("kernel", "dilation"), [((3, 3), 1), ((2, 4), 1), ((2, 3), (2, 1))])
def test_conv2d_same_and_valid_padding(kernel, dilation):
    """'same' pads D(K − 1) in total, the odd one after (PyTorch), so the output has the input's size."""
    x, w = rng(4).normal(size=(1, 2, 6, 7)), rng(5).normal(size=(3, 2, *kernel))
    d = pair(dilation)
    totals = [dl * (k - 1) for k, dl in zip(kernel, d, strict=False)]
    pads = tuple((t // 2, t - t // 2) for t in totals)
    same = F.conv2d(mg.tensor(x), mg.tensor(w), padding="same", dilation=dilation)
    assert same.shape == (1, 3, 6, 7)
    close(same, conv_loop(x, w, padding=pads, dilation=d))
    close(F.conv2d(mg.tensor(x), mg.tensor(w), padding="valid", dilation=dilation), conv_loop(x, w, dilation=d))
    close(mg.correlate(mg.tensor(x), mg.tensor(w), padding="same", dilation=dilation), same.data)  # one parser
    assert mg.gradcheck(lambda x, w: F.conv2d(x, w, padding="same", dilation=dilation), [leaf(x), leaf(w)])


def test_conv1d_matches_loop():
    x, w, b = rng(6).normal(size=(2, 3, 9)), rng(7).normal(size=(4, 3, 3)), rng(8).normal(size=4)
    expected = conv_loop(x[:, :, None], w[:, :, None], b, (1, 2), ((0, 0), (1, 1)), (1, 2))[:, :, 0]
    close(F.conv1d(mg.tensor(x), mg.tensor(w), mg.tensor(b), stride=2, padding=1, dilation=2), expected)
    assert mg.gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), [leaf(x[:1]), leaf(w), leaf(b)])


def test_convolve2d_flips_the_kernel():
    """True convolution: y[i, j] = Σ_{p,q} w[p, q] · x[i + (K − 1) − p, j + (K − 1) − q] on the valid part."""
    x, w = rng(9).normal(size=(1, 1, 5, 6)), rng(10).normal(size=(1, 1, 3, 2))
    expected = np.zeros((1, 1, 3, 5))
    for i, j, p, q in itertools.product(range(3), range(5), range(3), range(2)):
        expected[0, 0, i, j] += w[0, 0, p, q] * x[0, 0, i + 2 - p, j + 1 - q]
    close(F.convolve2d(mg.tensor(x), mg.tensor(w)), expected)
    assert mg.gradcheck(F.convolve2d, [leaf(x), leaf(w)])


TRANSPOSE_CASES = [  # stride, padding, output_padding, groups, dilation
    ((1, 1), (0, 0), (0, 0), 1, (1, 1)),
    ((2, 2), (1, 0), (1, 0), 1, (1, 1)),
    ((3, 2), (2, 1), (2, 1), 1, (1, 2)),
    ((2, 1), (0, 1), (0, 0), 2, (2, 1)),
    ((1, 1), (2, 2), (0, 0), 1, (1, 1)),   # padding larger than D(K − 1): the output is cropped
]


@pytest.mark.parametrize(("stride", "padding", "output_padding", "groups", "dilation"), TRANSPOSE_CASES)
def test_conv_transpose2d_matches_scatter_loop(stride, padding, output_padding, groups, dilation):
    x, w, b = rng(11).normal(size=(2, 4, 4, 3)), rng(12).normal(size=(4, 3, 3, 3)), rng(13).normal(size=3 * groups)
    args = (stride, padding, output_padding, groups, dilation)
    expected = conv_transpose_loop(x, w, *args) + b.reshape(1, -1, 1, 1)
    close(F.conv_transpose2d(mg.tensor(x), mg.tensor(w), mg.tensor(b), *args), expected)
    assert mg.gradcheck(lambda x, w: F.conv_transpose2d(x, w, None, *args), [leaf(x[:1, :, :3, :3]), leaf(w)])


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """⟨conv2d(x, w), y⟩ = ⟨x, conv_transpose2d(y, w)⟩ for the same stride, padding and dilation."""
    x, w = rng(14).normal(size=(2, 3, 9, 8)), rng(15).normal(size=(4, 3, 3, 3))
    kw = {"stride": 2, "padding": 1, "dilation": 1}
    y = rng(16).normal(size=F.conv2d(mg.tensor(x), mg.tensor(w), **kw).shape)
    back = F.conv_transpose2d(mg.tensor(y), mg.tensor(w), output_padding=(0, 1), **kw)
    assert back.shape == x.shape
    np.testing.assert_allclose((F.conv2d(mg.tensor(x), mg.tensor(w), **kw).data * y).sum(), (x * back.data).sum())
    xt = mg.tensor(x, requires_grad=True)
    F.conv2d(xt, mg.tensor(w), **kw).backward(mg.tensor(y))
    np.testing.assert_array_equal(xt.grad.data, back.data)  # one derivation: conv2d's VJP for x is this function


def test_linear_matches_numpy():
    x, w, b = rng(17).normal(size=(5, 4)), rng(18).normal(size=(3, 4)), rng(19).normal(size=3)
    close(F.linear(mg.tensor(x), mg.tensor(w), mg.tensor(b)), x @ w.T + b)
    close(F.linear(mg.tensor(x[0]), mg.tensor(w)), w @ x[0])
    assert mg.gradcheck(F.linear, [leaf(x), leaf(w), leaf(b)])


def test_locally_connected2d_matches_loop():
    """Each output position (i, j) has its own filter weight[i, j]."""
    x = rng(20).normal(size=(2, 2, 5, 4))
    ho, wo = 3, 2  # kernel 2×2, stride (2, 3), padding 1: (5 + 2 − 2)//2 + 1 = 3, (4 + 2 − 2)//3 + 1 = 2
    weight, bias = rng(21).normal(size=(ho, wo, 3, 2, 2, 2)), rng(22).normal(size=(3, ho, wo))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.zeros((2, 3, ho, wo))
    for n, o, i, j in itertools.product(range(2), range(3), range(ho), range(wo)):
        window = padded[n, :, 2 * i:2 * i + 2, 3 * j:3 * j + 2]
        expected[n, o, i, j] = (weight[i, j, o] * window).sum() + bias[o, i, j]
    out = F.locally_connected2d(mg.tensor(x), mg.tensor(weight), mg.tensor(bias), stride=(2, 3), padding=1)
    close(out, expected)
    assert mg.gradcheck(lambda x, w, b: F.locally_connected2d(x, w, b, stride=(2, 3), padding=1),
                        [leaf(x[:1]), leaf(weight[:, :, :2]), leaf(bias[:2])])


def test_locally_connected2d_with_shared_filters_is_conv2d():
    x, w = rng(23).normal(size=(2, 3, 6, 6)), rng(24).normal(size=(4, 3, 3, 3))
    shared = np.broadcast_to(w, (4, 4, *w.shape))
    close(F.locally_connected2d(mg.tensor(x), mg.tensor(shared)), F.conv2d(mg.tensor(x), mg.tensor(w)).data)


# ---- pooling
POOL_CASES = [  # kernel, stride, padding, dilation
    ((2, 2), (2, 2), (0, 0), (1, 1)),
    ((3, 3), (2, 2), (1, 1), (1, 1)),   # overlapping, padded
    ((2, 3), (1, 2), (1, 0), (2, 1)),   # dilated
    ((3, 2), (3, 2), (0, 1), (1, 1)),   # windows that do not tile the input
]


@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation"), POOL_CASES)
def test_max_pool2d_matches_loop(kernel, stride, padding, dilation):
    x = distinct((2, 3, 7, 6))
    expected = pool_loop(x, np.max, kernel, stride, padding, dilation, fill=-np.inf)
    close(F.max_pool2d(mg.tensor(x), kernel, stride, padding, dilation), expected)
    assert mg.gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding, dilation), [leaf(x[:1, :2])])


def test_max_pool2d_default_stride_is_the_kernel():
    x = distinct((1, 1, 4, 4))
    close(F.max_pool2d(mg.tensor(x), 2), pool_loop(x, np.max, (2, 2), (2, 2)))


def test_max_pool2d_shares_the_gradient_of_ties_equally():
    """As Tensor.max (DESIGN): a window of four equal values gives each a quarter of the gradient."""
    x = leaf(np.array([[[[1.0, 1.0, 0.0, 5.0], [1.0, 1.0, 2.0, 5.0]]]]))
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[0.25, 0.25, 0, 0.5], [0.25, 0.25, 0, 0.5]]]])


@pytest.mark.parametrize(("kernel", "stride", "padding"), [((2, 2), None, 0), ((3, 3), (2, 1), (1, 1))])
def test_avg_and_sum_pool2d_match_loop(kernel, stride, padding):
    """avg_pool2d counts the padded zeros (divides by the kernel area everywhere), as PyTorch does by default."""
    x = rng(25).normal(size=(2, 2, 6, 5))
    s, p = stride or kernel, pair(padding)
    close(F.avg_pool2d(mg.tensor(x), kernel, stride, padding), pool_loop(x, np.mean, kernel, s, p))
    close(F.sum_pool2d(mg.tensor(x), kernel, stride, padding), pool_loop(x, np.sum, kernel, s, p))
    assert mg.gradcheck(lambda x: F.avg_pool2d(x, kernel, stride, padding), [leaf(x[:1])])
    assert mg.gradcheck(lambda x: F.sum_pool2d(x, kernel, stride, padding), [leaf(x[:1])])


@pytest.mark.parametrize("p", [1, 2, 3])
def test_lp_pool2d_matches_loop(p):
    x = rng(26).uniform(0.5, 2.0, size=(1, 2, 5, 5))
    expected = pool_loop(x, lambda win: (win ** p).sum() ** (1 / p), (2, 2), (1, 2))
    close(F.lp_pool2d(mg.tensor(x), p, 2, stride=(1, 2)), expected)
    assert mg.gradcheck(lambda x: F.lp_pool2d(x, p, 2, stride=(1, 2)), [leaf(x)])


def test_global_avg_pool2d():
    x = rng(27).normal(size=(2, 3, 4, 5))
    close(F.global_avg_pool2d(mg.tensor(x)), x.mean(axis=(2, 3)))
    assert mg.gradcheck(F.global_avg_pool2d, [leaf(x)])


# ---- activations
def test_activations_match_numpy():
    x = rng(28).normal(size=(3, 4)) * 3
    t = mg.tensor(x)
    close(F.relu(t), np.maximum(x, 0))
    close(F.leaky_relu(t, 0.2), np.where(x > 0, x, 0.2 * x))
    close(F.sigmoid(t), 1 / (1 + np.exp(-x)))
    close(F.tanh(t), np.tanh(x))
    e = np.exp(x - x.max(axis=0))
    close(F.softmax(t, axis=0), e / e.sum(axis=0))
    close(F.log_softmax(t), x - np.log(np.exp(x).sum(axis=-1, keepdims=True)))
    for fn in (F.relu, lambda x: F.leaky_relu(x, 0.2), F.sigmoid, F.tanh, F.softmax, F.log_softmax):
        assert mg.gradcheck(fn, [leaf(x)])


def test_log_softmax_and_cross_entropy_are_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [5000.0, 5001.0, 4999.0]])
    expected = logits - (logits.max(axis=1, keepdims=True)
                         + np.log(np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)))
    close(F.log_softmax(mg.tensor(logits)), expected)
    loss = F.cross_entropy(leaf(logits), np.array([1, 1]))
    assert np.isfinite(loss.item())
    close(loss, -(expected[0, 1] + expected[1, 1]) / 2)


# ---- dropout
def test_dropout_zeroes_a_fraction_p_and_rescales():
    mg.manual_seed(0)
    x = mg.ones(100, 100)
    y = F.dropout(x, 0.3)
    kept = y.data != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y.data[kept], 1 / 0.7, rtol=1e-6)


def test_dropout_is_seeded_and_gradient_follows_the_mask():
    x = leaf(rng(29).normal(size=(4, 5)))
    mg.manual_seed(3)
    y = F.dropout(x, 0.5)
    mg.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, y.data)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, (y.data != 0) * 2.0)


def test_dropout_in_evaluation_and_extremes():
    x = mg.tensor(rng(30).normal(size=(3, 3)))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, 0)


# ---- normalization
def test_batch_norm_training_uses_batch_statistics_and_updates_running_ones():
    x = rng(31).normal(2.0, 3.0, size=(4, 3, 2, 2))
    weight, bias = rng(32).normal(size=3), rng(33).normal(size=3)
    running_mean, running_var = np.zeros(3), np.ones(3)
    out = F.batch_norm(mg.tensor(x), running_mean, running_var, mg.tensor(weight), mg.tensor(bias), training=True)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    expected = (x - mean.reshape(1, 3, 1, 1)) / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-5)
    close(out, expected * weight.reshape(1, 3, 1, 1) + bias.reshape(1, 3, 1, 1))
    close(running_mean, 0.1 * mean)
    close(running_var, 0.9 + 0.1 * var * 16 / 15)  # unbiased: n = 4·2·2 = 16 values per channel


def test_batch_norm_evaluation_uses_running_statistics():
    x = rng(34).normal(size=(5, 2))
    rm, rv = np.array([0.5, -1.0]), np.array([2.0, 0.5])
    close(F.batch_norm(mg.tensor(x), rm, rv), (x - rm) / np.sqrt(rv + 1e-5))
    rm_before = rm.copy()
    F.batch_norm(mg.tensor(x), mg.tensor(rm), mg.tensor(rv))
    np.testing.assert_array_equal(rm, rm_before)


def test_batch_norm_gradcheck():
    x, w, b = rng(35).normal(size=(3, 2, 2, 2)), rng(36).normal(size=2), rng(37).normal(size=2)
    assert mg.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [leaf(x), leaf(w), leaf(b)])
    assert mg.gradcheck(lambda x: F.batch_norm(x, np.zeros(2), np.ones(2)), [leaf(x)])


def lrn_loop(a, size, alpha, beta, k):
    c = a.shape[1]
    out = np.empty_like(a)
    for ch in range(c):
        lo, hi = max(0, ch - size // 2), min(c, ch + (size - 1) // 2 + 1)
        out[:, ch] = a[:, ch] / (k + alpha / size * (a[:, lo:hi] ** 2).sum(axis=1)) ** beta
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_local_response_norm_matches_loop(size):
    a = rng(38).normal(scale=3.0, size=(2, 6, 3, 2))
    close(F.local_response_norm(mg.tensor(a), size, alpha=0.1, beta=0.75, k=2.0), lrn_loop(a, size, 0.1, 0.75, 2.0))
    assert mg.gradcheck(lambda a: F.local_response_norm(a, size, alpha=0.1, k=2.0), [leaf(a[:1])])


def test_flatten():
    x = mg.tensor(rng(39).normal(size=(2, 3, 4, 5)))
    assert F.flatten(x).shape == (2, 60)
    assert F.flatten(x, 0).shape == (120,)
    assert F.flatten(x, 1, 2).shape == (2, 12, 5)
    close(F.flatten(x), x.data.reshape(2, -1))


# ---- losses
def test_cross_entropy_and_nll_loss_match_numpy():
    logits, target = rng(40).normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -log_p[np.arange(5), target]
    close(F.cross_entropy(mg.tensor(logits), target), expected.mean())
    close(F.cross_entropy(mg.tensor(logits), mg.tensor(target), reduction="sum"), expected.sum())
    close(F.cross_entropy(mg.tensor(logits), target, reduction="none"), expected)
    close(F.nll_loss(mg.tensor(log_p), target), expected.mean())
    assert mg.gradcheck(lambda z: F.cross_entropy(z, target), [leaf(logits)])
    assert mg.gradcheck(lambda z: F.nll_loss(z, target), [leaf(log_p)])


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    logits, target = leaf(rng(41).normal(size=(3, 4))), np.array([2, 0, 3])
    F.cross_entropy(logits, target).backward()
    p = np.exp(logits.data) / np.exp(logits.data).sum(axis=1, keepdims=True)
    close(logits.grad, (p - np.eye(4)[target]) / 3)


def test_cross_entropy_over_spatial_axes():
    """(N, C, H, W) scores with (N, H, W) targets, as in segmentation."""
    logits, target = rng(42).normal(size=(2, 3, 2, 2)), rng(43).integers(0, 3, size=(2, 2, 2))
    flat = logits.transpose(0, 2, 3, 1).reshape(-1, 3)
    expected = -(flat - np.log(np.exp(flat).sum(axis=1, keepdims=True)))[np.arange(8), target.reshape(-1)].mean()
    close(F.cross_entropy(mg.tensor(logits), target), expected)


def test_mse_loss():
    x, y = rng(44).normal(size=(3, 2)), rng(45).normal(size=(3, 2))
    close(F.mse_loss(mg.tensor(x), mg.tensor(y)), ((x - y) ** 2).mean())
    assert mg.gradcheck(lambda x: F.mse_loss(x, y), [leaf(x)])


@pytest.mark.parametrize(("p", "margin"), [(1, 1.0), (2, 0.5)])
def test_multi_margin_loss_matches_loop(p, margin):
    x, target = rng(46).normal(size=(4, 5)), np.array([0, 4, 2, 2])
    expected = np.mean([sum(max(0.0, margin - x[n, target[n]] + x[n, i]) ** p for i in range(5) if i != target[n]) / 5
                        for n in range(4)])
    close(F.multi_margin_loss(mg.tensor(x), target, p=p, margin=margin), expected)
    assert mg.gradcheck(lambda x: F.multi_margin_loss(x, target, p=p, margin=margin), [leaf(x)])


# ---- random shapes
@FAST
@given(n=st.integers(1, 2), c=st.integers(1, 3), o=st.integers(1, 3), h=st.integers(3, 6), w=st.integers(3, 6),
       k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1), seed=st.integers(0, 2**16))
def test_conv2d_random_shapes(n, c, o, h, w, k, s, p, seed):
    x, wt = rng(seed).normal(size=(n, c, h, w)), rng(seed + 1).normal(size=(o, c, k, k))
    close(F.conv2d(mg.tensor(x), mg.tensor(wt), stride=s, padding=p), conv_loop(x, wt, None, (s, s), ((p, p), (p, p))))


@FAST
@given(h=st.integers(2, 7), w=st.integers(2, 7), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1),
       seed=st.integers(0, 2**16))
def test_max_pool2d_random_shapes(h, w, k, s, p, seed):
    k, p = min(k, h, w), min(p, min(k, h, w) // 2)
    x = rng(seed).normal(size=(1, 2, h, w))
    expected = pool_loop(x, np.max, (k, k), (s, s), (p, p), fill=-np.inf)
    close(F.max_pool2d(mg.tensor(x), k, s, p), expected)


# ---- PyTorch
TORCH_CASES = {
    "conv2d": (lambda F, x, w: F.conv2d(x, w, None, 2, 1, 1, 2), ((2, 4, 7, 7), (6, 2, 3, 3))),
    "conv2d same": (lambda F, x, w: F.conv2d(x, w, padding="same", dilation=2), ((1, 2, 6, 5), (3, 2, 2, 3))),
    "conv1d": (lambda F, x, w: F.conv1d(x, w, stride=2, padding=2), ((2, 3, 9), (4, 3, 3))),
    "conv_transpose2d": (lambda F, x, w: F.conv_transpose2d(x, w, None, 2, 1, 1, 2, (1, 2)),
                         ((2, 4, 4, 5), (4, 3, 3, 3))),
    "max_pool2d": (lambda F, x: F.max_pool2d(x, 3, 2, 1), ((2, 3, 7, 8),)),
    "max_pool2d dilated": (lambda F, x: F.max_pool2d(x, 2, 1, 1, 2), ((1, 2, 6, 6),)),
    "avg_pool2d": (lambda F, x: F.avg_pool2d(x, 3, 2, 1), ((2, 3, 7, 8),)),
    "lp_pool2d": (lambda F, x: F.lp_pool2d(x.abs(), 2, 2, 1), ((1, 2, 5, 5),)),
    "local_response_norm": (lambda F, x: F.local_response_norm(x, 3, 0.5, 0.75, 2.0), ((2, 5, 3, 3),)),
    "log_softmax": (lambda F, x: F.log_softmax(x, 1) if F.__name__.startswith("torch") else F.log_softmax(x, axis=1),
                    ((3, 4),)),
    "leaky_relu": (lambda F, x: F.leaky_relu(x, 0.1), ((3, 4),)),
    "batch_norm": (lambda F, x: F.batch_norm(x, None, None, training=True), ((4, 3, 2, 2),)),
}


@pytest.mark.parametrize("name", TORCH_CASES)
def test_matches_torch(name):
    """Forward values and input gradients equal PyTorch's in float64."""
    torch = pytest.importorskip("torch")
    fn, shapes = TORCH_CASES[name]
    arrays = [distinct(s, seed=i) / 10 for i, s in enumerate(shapes)]
    ours = [leaf(a) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = fn(F, *ours), fn(torch.nn.functional, *theirs)
    g = rng(47).normal(size=expected.shape)
    out.backward(mg.tensor(g))
    expected.backward(torch.tensor(g))
    close(out, expected.detach().numpy(), 1e-9)
    for a, b in zip(ours, theirs, strict=False):
        close(a.grad, b.grad.numpy(), 1e-9)


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x, target = rng(48).normal(size=(6, 4)) * 3, np.array([0, 1, 2, 3, 3, 1])
    tx, tt = torch.tensor(x), torch.tensor(target)
    close(F.cross_entropy(mg.tensor(x), target), tf.cross_entropy(tx, tt).item())
    close(F.nll_loss(mg.tensor(x), target), tf.nll_loss(tx, tt).item())
    close(F.multi_margin_loss(mg.tensor(x), target), tf.multi_margin_loss(tx, tt).item())
    close(F.multi_margin_loss(mg.tensor(x), target, p=2, margin=0.7),
          tf.multi_margin_loss(tx, tt, p=2, margin=0.7).item())
    close(F.mse_loss(mg.tensor(x), x[::-1].copy()), tf.mse_loss(tx, torch.tensor(x[::-1].copy())).item())


# ---- bad input
@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: F.conv2d(mg.zeros(3, 28, 28), mg.zeros(6, 3, 5, 5)), ValueError,
     r"conv2d: expected input of shape \(N, C, H, W\), got \(3, 28, 28\)"),
    (lambda: F.conv1d(mg.zeros(3, 28, 28, 1), mg.zeros(6, 3, 5)), ValueError,
     r"conv1d: expected input of shape \(N, C, L\)"),
    (lambda: F.conv2d(mg.zeros(1, 3, 8, 8), mg.zeros(6, 2, 3, 3)), ValueError,
     r"conv2d: input \(1, 3, 8, 8\) has 3 channels, but weight \(6, 2, 3, 3\) expects 2"),
    (lambda: F.conv2d(mg.zeros(1, 1, 4, 4), mg.zeros(2, 1, 5, 5), padding=0), ValueError,
     r"conv2d: kernel \(5, 5\) .* is larger than the padded input \(4, 4\)"),
    (lambda: F.conv2d(mg.zeros(1, 4, 8, 8), mg.zeros(6, 2, 3, 3), groups=3), ValueError,
     r"conv2d: groups=3 must be a positive integer dividing the 4 input channels and the 6 output channels"),
    (lambda: F.conv2d(mg.zeros(1, 1, 8, 8), mg.zeros(2, 1, 3, 3), stride=2, padding="same"), ValueError,
     r"conv2d: padding='same' needs stride 1"),
    (lambda: F.conv2d(mg.zeros(1, 1, 8, 8), mg.zeros(2, 1, 3, 3), mg.zeros(3)), ValueError,
     r"conv2d: expected bias of shape \(2,\)"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 2, 4, 4), mg.zeros(3, 2, 3, 3)), ValueError,
     r"conv_transpose2d: input \(1, 2, 4, 4\) has 2 channels, but weight \(3, 2, 3, 3\) expects 3"),
    (lambda: F.conv_transpose2d(mg.zeros(1, 2, 4, 4), mg.zeros(2, 2, 3, 3), stride=2, output_padding=2), ValueError,
     r"conv_transpose2d: output_padding \(2, 2\) must be smaller than the stride"),
    (lambda: F.linear(mg.zeros(64, 400), mg.zeros(120, 300)), ValueError,
     r"linear: expected input of shape \(\*, 300\) .* got \(64, 400\)"),
    (lambda: F.max_pool2d(mg.zeros(1, 1, 4, 4), 2, stride=0), ValueError,
     r"max_pool2d: stride must be .* ≥ 1.* got 0"),
    (lambda: F.avg_pool2d(mg.zeros(1, 1, 4, 4), 2, stride=(1, 0)), ValueError, r"avg_pool2d: stride"),
    (lambda: F.max_pool2d(mg.zeros(1, 4, 4), 2), ValueError, r"max_pool2d: expected input of shape \(N, C, H, W\)"),
    (lambda: F.max_pool2d(mg.zeros(1, 1, 2, 2), 3), ValueError, r"max_pool2d: kernel \(3, 3\) .* larger than"),
    (lambda: F.max_pool2d(mg.zeros(1, 1, 6, 6), 2, padding=2), ValueError,
     r"max_pool2d: padding \(2, 2\) must be at most half the kernel size \(2, 2\)"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([0.0, 1.0])), TypeError,
     r"cross_entropy: target must hold integer class indices, got dtype float64"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([0, 3])), ValueError,
     r"cross_entropy: target values must be class indices in \[0, 3\) .* got \[3\]"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([-1, 0])), ValueError,
     r"cross_entropy: target values .* got \[-1\]"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([0, 1, 2])), ValueError,
     r"cross_entropy: target of shape \(3,\) does not match input \(2, 3\): expected \(2,\)"),
    (lambda: F.nll_loss(mg.zeros(3), np.array([0])), ValueError, r"nll_loss: expected input of shape \(N, C\)"),
    (lambda: F.mse_loss(mg.zeros(2, 3), mg.zeros(3, 2)), ValueError, r"mse_loss: input \(2, 3\) and target \(3, 2\)"),
    (lambda: F.cross_entropy(mg.zeros(2, 3), np.array([0, 1]), reduction="avg"), ValueError,
     r"reduction must be one of"),
    (lambda: F.dropout(mg.zeros(2), 1.5), ValueError, r"dropout: p must be a probability"),
    (lambda: F.batch_norm(mg.zeros(1, 3), None, None, training=True), ValueError,
     r"batch_norm: expected more than 1 value per channel when training"),
    (lambda: F.batch_norm(mg.zeros(4, 3), np.zeros(2), np.ones(3)), ValueError,
     r"batch_norm: running_mean has shape \(2,\), expected \(3,\)"),
    (lambda: F.local_response_norm(mg.zeros(4, 3), 2), ValueError,
     r"local_response_norm: expected input of shape \(N, C, \*\)"),
    (lambda: F.locally_connected2d(mg.zeros(1, 1, 5, 5), mg.zeros(2, 2, 1, 1, 3, 3)), ValueError,
     r"locally_connected2d: weight \(2, 2, 1, 1, 3, 3\) has filters for 2×2 output positions, .* gives 3×3"),
    (lambda: F.locally_connected2d(mg.zeros(1, 1, 5, 5), mg.zeros(3, 3, 1, 3, 3)), ValueError,
     r"locally_connected2d: expected weight of shape \(H_out, W_out, out_channels, in_channels, kH, kW\)"),
    (lambda: F.multi_margin_loss(mg.zeros(2, 3), np.array([0, 1]), p=3), ValueError,
     r"multi_margin_loss: p must be 1 or 2"),
])
def test_bad_input_raises_naming_the_function(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- L^p pooling of signed inputs: the L^p norm of each window
@pytest.mark.parametrize("p", [1, 1.5, 2, 2.5, 3])
def test_lp_pool2d_is_the_window_norm_and_never_nan(p):
    """(Σ |x|^p)^(1/p): real for negative entries (PyTorch's Σ x^p gives NaN for p = 1.5, 2.5)."""
    x = rng(60).uniform(-2.0, 2.0, size=(2, 2, 5, 6))
    out = F.lp_pool2d(mg.tensor(x), p, 2, stride=(1, 2))
    assert not np.isnan(out.data).any()
    close(out, pool_loop(x, lambda win: (np.abs(win) ** p).sum() ** (1 / p), (2, 2), (1, 2)))


@pytest.mark.parametrize("p", [1, 1.5, 3])
def test_lp_pool2d_gradcheck_on_negative_inputs(p):
    """Away from 0 (|x| ≥ 0.5, signs mixed) the gradient is p·|x|^(p−1)·sign(x)·(Σ|x|^p)^(1/p − 1)."""
    r = rng(61)
    x = r.uniform(0.5, 2.0, size=(1, 2, 4, 4)) * r.choice([-1.0, 1.0], size=(1, 2, 4, 4))
    assert mg.gradcheck(lambda x: F.lp_pool2d(x, p, 2, stride=1), [leaf(x)])


@pytest.mark.parametrize(("p", "low"), [(1, 0.0), (1.5, 0.0), (2, -1.0), (2.5, 0.0), (3, 0.0), (4, -1.0)])
def test_lp_pool2d_equals_torch_where_torch_is_real(p, low):
    """Equal to PyTorch (values and gradients) for x ≥ 0 with any p, and for any x with p even."""
    torch = pytest.importorskip("torch")
    x = rng(62).uniform(low, 1.0, size=(2, 3, 6, 5)) + (0.1 if low == 0 else 0.0)
    ours, theirs = leaf(x), torch.tensor(x, requires_grad=True)
    out = F.lp_pool2d(ours, p, (2, 3), stride=(2, 1))
    expected = torch.nn.functional.lp_pool2d(theirs, p, (2, 3), (2, 1))
    g = rng(63).normal(size=expected.shape)
    out.backward(mg.tensor(g))
    expected.backward(torch.tensor(g))
    close(out, expected.detach().numpy())
    close(ours.grad, theirs.grad.numpy())


# ---- local contrast normalization
def lcn_loop(x, size, sigma, eps=1e-4):
    """Jarrett et al.'s formulas position by position: Gaussian weights over the part of the window
    inside the image (renormalised to sum to 1), v = x − Σ w·x, σ = sqrt(max(Σ w·v², eps²)),
    y = v / max(mean σ, σ)."""
    _, c, h, w = x.shape
    half = size // 2

    def window_mean(t, i, j):
        rows = np.arange(max(i - half, 0), min(i + half + 1, h))
        cols = np.arange(max(j - half, 0), min(j + half + 1, w))
        g = np.exp(-((rows[:, None] - i) ** 2 + (cols[None, :] - j) ** 2) / (2 * sigma**2))
        return (t[:, :, rows[:, None], cols[None, :]] * g).sum(axis=(1, 2, 3)) / (c * g.sum())

    def each_position(t):
        return np.stack([np.stack([window_mean(t, i, j) for j in range(w)], -1) for i in range(h)], -2)[:, None]

    v = x - each_position(x)
    s = np.sqrt(np.maximum(each_position(v**2), eps**2))
    return v / np.maximum(s, s.mean(axis=(2, 3), keepdims=True))


def test_local_contrast_norm_by_hand():
    """One pixel, size 1 or 3 (the window cut to the image is the pixel): v = x − mean over channels,
    σ = sqrt(mean v²) = m, so y = v / σ. x = (3, 1): v = (1, −1), σ = 1. x = (0, 0, 3): v = (−1, −1, 2), σ = √2."""
    for size in (1, 3):
        close(F.local_contrast_norm(mg.tensor([[[[3.0]], [[1.0]]]]), size), [[[[1.0]], [[-1.0]]]])
        close(F.local_contrast_norm(mg.tensor([[[[0.0]], [[0.0]], [[3.0]]]]), size),
              np.array([-1.0, -1.0, 2.0]).reshape(1, 3, 1, 1) / np.sqrt(2), tol=1e-7)


@pytest.mark.parametrize(("size", "sigma"), [(3, 1.0), (5, 1.3), (9, None)])
def test_local_contrast_norm_matches_loop(size, sigma):
    x = rng(64).normal(size=(2, 3, 7, 6))
    close(F.local_contrast_norm(mg.tensor(x), size, sigma), lcn_loop(x, size, size / 4 if sigma is None else sigma))


def test_local_contrast_norm_gradcheck():
    x = rng(65).normal(size=(1, 2, 5, 4))
    assert mg.gradcheck(lambda x: F.local_contrast_norm(x, 3), [leaf(x)])


def test_local_contrast_norm_output_statistics():
    """A linear ramp has zero local contrast (the Gaussian mean of a plane is its centre value): 0 away
    from the borders. Adding a constant or scaling by a > 0 changes nothing; the output's mean is ~0."""
    i, j = np.meshgrid(np.arange(12), np.arange(11), indexing="ij")
    ramp = np.broadcast_to(2.0 + 0.5 * i - 0.3 * j, (1, 3, 12, 11))
    assert np.abs(F.local_contrast_norm(mg.tensor(ramp), 5).data[..., 2:-2, 2:-2]).max() < 1e-12
    x = rng(66).normal(size=(2, 3, 12, 11))
    y = F.local_contrast_norm(mg.tensor(x)).data
    close(F.local_contrast_norm(mg.tensor(x + 7.0)), y, 1e-9)
    close(F.local_contrast_norm(mg.tensor(3.0 * x)), y, 1e-9)
    assert abs(y.mean()) < 0.02 and 0.5 < y.std() < 1.5


def test_local_contrast_norm_flat_image_gives_zeros_and_finite_gradients():
    x = mg.zeros(1, 2, 4, 4, dtype=np.float64, requires_grad=True)
    y = F.local_contrast_norm(x)
    y.sum().backward()
    assert not y.data.any() and np.isfinite(x.grad.data).all()


def test_local_contrast_norm_layer_and_dtype():
    import minigrad.nn as nn

    x = mg.randn(2, 3, 6, 6)
    layer = nn.LocalContrastNorm(5, sigma=1.0)
    assert repr(layer) == "LocalContrastNorm(size=5, sigma=1.0, eps=0.0001)"
    y = layer(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_array_equal(y.data, F.local_contrast_norm(x, 5, 1.0).data)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"size": 4}, ValueError, r"local_contrast_norm: size must be odd"),
    ({"size": 3.0}, TypeError, r"local_contrast_norm.*size"),
    ({"sigma": 0.0}, ValueError, r"local_contrast_norm: sigma must be a positive number"),
])
def test_local_contrast_norm_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        F.local_contrast_norm(mg.zeros(1, 1, 5, 5), **kwargs)
    with pytest.raises(ValueError, match=r"local_contrast_norm: expected input of shape \(N, C, H, W\)"):
        F.local_contrast_norm(mg.zeros(1, 5, 5))


def test_lp_pool2d_does_not_overflow_for_large_p():
    """float32 4^64 is inf; the pooled value is the window's L^64 norm, just above its max."""
    x = mg.tensor(np.array([[[[4.0, 1.0], [2.0, -3.0]]]], dtype=np.float32), requires_grad=True)
    y = F.lp_pool2d(x, 64, 2)
    expected = 4.0 * (1 + (1 / 4) ** 64 + (2 / 4) ** 64 + (3 / 4) ** 64) ** (1 / 64)
    np.testing.assert_allclose(y.data, [[[[expected]]]], rtol=1e-6)
    y.sum().backward()
    assert np.isfinite(x.grad.data).all() and x.grad.data[0, 0, 0, 0] == pytest.approx(1.0, rel=1e-6)
