"""The textbook derivation of the convolution gradients, written out as explicit loops that
know nothing of minigrad, and matched by autograd through ``mg.correlate``.

For Y = X ⋆ W (cross-correlation, stride 1, one channel): Y[r, c] = Σ_{a,b} X[r+a, c+b]·W[a, b], so
    dL/dW[a, b] = Σ_{r,c} dL/dY[r, c] · X[r+a, c+b]         (X correlated with dL/dY)
    dL/dX       = the full convolution of dL/dY with W     (dL/dY padded by K−1, kernel flipped).
Then the general case — batch, channels, stride, padding, dilation, groups — in 2-D and 1-D,
with the forward and both gradients as plain loops over every index; and torch when importable.
"""

import itertools

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg

RNG = np.random.default_rng(0)


def autograd_grads(x, w, dY, **params):
    """(Y, dL/dX, dL/dW) from minigrad for L = Σ Y · dL/dY."""
    xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    y = mg.correlate(xt, wt, **params)
    (y * mg.tensor(dY)).sum().backward()
    return y.data, xt.grad.data, wt.grad.data


# ---- stride 1, one channel: the two formulas exactly as written

def correlate_2d(X, W):
    """Y[r, c] = Σ_{a,b} X[r+a, c+b] · W[a, b]."""
    (H, Wd), (K, L) = X.shape, W.shape
    Y = np.zeros((H - K + 1, Wd - L + 1))
    for r, c, a, b in itertools.product(range(Y.shape[0]), range(Y.shape[1]), range(K), range(L)):
        Y[r, c] += X[r + a, c + b] * W[a, b]
    return Y


def dL_dW_by_hand(X, dY, kernel_shape):
    """dL/dW[a, b] = Σ_{r,c} dL/dY[r, c] · X[r+a, c+b]."""
    dW = np.zeros(kernel_shape)
    for a, b, r, c in itertools.product(range(kernel_shape[0]), range(kernel_shape[1]),
                                        range(dY.shape[0]), range(dY.shape[1])):
        dW[a, b] += dY[r, c] * X[r + a, c + b]
    return dW


def dL_dX_by_hand(dY, W):
    """The full convolution of dL/dY with W: pad dL/dY by K−1 on every side, slide the flipped W.

    dX[i, j] = Σ_{a,b} dY_padded[i+a, j+b] · W[K−1−a, L−1−b]  (= Σ_{a,b} dY[i−a, j−b] · W[a, b]).
    """
    K, L = W.shape
    padded = np.zeros((dY.shape[0] + 2 * (K - 1), dY.shape[1] + 2 * (L - 1)))
    padded[K - 1:K - 1 + dY.shape[0], L - 1:L - 1 + dY.shape[1]] = dY
    dX = np.zeros((dY.shape[0] + K - 1, dY.shape[1] + L - 1))
    for i, j, a, b in itertools.product(range(dX.shape[0]), range(dX.shape[1]), range(K), range(L)):
        dX[i, j] += padded[i + a, j + b] * W[K - 1 - a, L - 1 - b]
    return dX


@pytest.mark.parametrize(("image", "kernel"), [((5, 5), (3, 3)), ((6, 4), (2, 3)), ((4, 7), (4, 1)), ((3, 3), (3, 3))])
def test_stride_1_single_channel_matches_the_textbook_formulas(image, kernel):
    X, W = RNG.standard_normal(image), RNG.standard_normal(kernel)
    dY = RNG.standard_normal((image[0] - kernel[0] + 1, image[1] - kernel[1] + 1))
    Y, dX, dW = autograd_grads(X[None, None], W[None, None], dY[None, None])
    np.testing.assert_allclose(Y[0, 0], correlate_2d(X, W), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dW[0, 0], dL_dW_by_hand(X, dY, kernel), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dX[0, 0], dL_dX_by_hand(dY, W), rtol=1e-12, atol=1e-12)


def test_dL_dW_is_X_correlated_with_dL_dY():
    """The weight gradient is itself a correlation: of the input with the upstream gradient."""
    X, dY = RNG.standard_normal((6, 5)), RNG.standard_normal((4, 3))
    np.testing.assert_allclose(dL_dW_by_hand(X, dY, (3, 3)), correlate_2d(X, dY), rtol=1e-12)


# ---- the general case: every index written out

def out_shape(x_shape, w_shape, stride, padding, dilation):
    """(N, O, *L) with L = ⌊(S + 2P − D(K − 1) − 1) / stride⌋ + 1 per spatial axis."""
    return (x_shape[0], w_shape[0], *((s + 2 * p - d * (k - 1) - 1) // st + 1 for s, k, st, p, d in
                                      zip(x_shape[2:], w_shape[2:], stride, padding, dilation, strict=True)))


def padded_input(x, padding):
    return np.pad(x, ((0, 0), (0, 0), *((p, p) for p in padding)))


def taps(kernel, L, stride, dilation):
    """Every (output position p, kernel offset k, input position p·stride + k·dilation)."""
    for p in itertools.product(*map(range, L)):
        for k in itertools.product(*map(range, kernel)):
            yield p, k, tuple(pi * s + ki * d for pi, ki, s, d in zip(p, k, stride, dilation, strict=True))


def general_by_hand(x, w, dY, stride, padding, dilation, groups):
    """Forward, dL/dX and dL/dW of the grouped, strided, padded, dilated correlation, one product at a time:

        Y[n, o, l]         = Σ_{c,k} W[o, c, k] · Xp[n, g(o)·C_g + c, l·s + k·d]
        dL/dW[o, c, k]     = Σ_{n,l} dL/dY[n, o, l] · Xp[n, g(o)·C_g + c, l·s + k·d]
        dL/dXp[n, g(o)·C_g + c, l·s + k·d] += dL/dY[n, o, l] · W[o, c, k],   then crop the padding.
    """
    xp = padded_input(x, padding)
    N, (Cout, Cg), kernel = x.shape[0], w.shape[:2], w.shape[2:]
    L = out_shape(x.shape, w.shape, stride, padding, dilation)[2:]
    y, dxp, dw = np.zeros((N, Cout, *L)), np.zeros_like(xp), np.zeros_like(w)
    for n, o, c in itertools.product(range(N), range(Cout), range(Cg)):
        channel = (o // (Cout // groups)) * Cg + c
        for p, k, i in taps(kernel, L, stride, dilation):
            y[(n, o, *p)] += w[(o, c, *k)] * xp[(n, channel, *i)]
            dw[(o, c, *k)] += dY[(n, o, *p)] * xp[(n, channel, *i)]
            dxp[(n, channel, *i)] += dY[(n, o, *p)] * w[(o, c, *k)]
    crop = tuple(slice(p, p + s) for p, s in zip(padding, x.shape[2:], strict=True))
    return y, dxp[(slice(None), slice(None), *crop)], dw


GEOMETRY = ("x_shape", "w_shape", "stride", "padding", "dilation", "groups")
CASES_2D = [  # (N, C, H, W), (O, C/groups, kh, kw), stride, padding, dilation, groups
    ((2, 3, 5, 5), (4, 3, 3, 3), (1, 1), (0, 0), (1, 1), 1),
    ((2, 3, 7, 6), (2, 3, 3, 3), (2, 2), (0, 0), (1, 1), 1),
    ((1, 2, 6, 7), (3, 2, 3, 2), (2, 3), (1, 0), (1, 1), 1),      # stride that does not tile the input
    ((2, 2, 5, 6), (2, 2, 3, 3), (1, 1), (2, 1), (1, 1), 1),      # padding wider than the kernel's overhang
    ((1, 2, 8, 7), (2, 2, 3, 2), (1, 1), (0, 0), (2, 3), 1),
    ((2, 4, 6, 6), (6, 2, 3, 3), (1, 1), (1, 1), (1, 1), 2),
    ((1, 4, 9, 8), (4, 1, 3, 3), (2, 1), (1, 2), (2, 1), 4),      # depthwise
    ((2, 6, 9, 9), (3, 2, 2, 3), (3, 2), (1, 1), (2, 2), 3),      # everything at once
]
CASES_1D = [  # (N, C, W), (O, C/groups, k), stride, padding, dilation, groups
    ((2, 3, 9), (4, 3, 3), (1,), (0,), (1,), 1),
    ((2, 2, 10), (2, 2, 4), (3,), (2,), (1,), 1),
    ((1, 4, 11), (2, 2, 3), (2,), (1,), (3,), 2),
    ((3, 3, 6), (3, 1, 2), (1,), (3,), (2,), 3),
]


def assert_autograd_matches_the_loops(rng, x_shape, w_shape, stride, padding, dilation, groups):
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    dY = rng.standard_normal(out_shape(x_shape, w_shape, stride, padding, dilation))
    for got, want in zip(autograd_grads(x, w, dY, **params), general_by_hand(x, w, dY, **params), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(GEOMETRY, CASES_2D)
def test_2d_with_stride_padding_dilation_groups_matches_the_loops(x_shape, w_shape, stride, padding, dilation, groups):
    assert_autograd_matches_the_loops(RNG, x_shape, w_shape, stride, padding, dilation, groups)


@pytest.mark.parametrize(GEOMETRY, CASES_1D)
def test_1d_matches_the_loops(x_shape, w_shape, stride, padding, dilation, groups):
    assert_autograd_matches_the_loops(RNG, x_shape, w_shape, stride, padding, dilation, groups)


@st.composite
def geometries(draw):
    """A random valid 1-D or 2-D correlation: (x shape, w shape, stride, padding, dilation, groups)."""
    d, groups = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    cg, og, n = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride, padding, dilation = (tuple(draw(st.integers(lo, hi)) for _ in range(d))
                                 for lo, hi in ((1, 3), (0, 2), (1, 2)))
    size = tuple(max(1, dl * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4))
                 for k, p, dl in zip(kernel, padding, dilation, strict=True))
    return (n, cg * groups, *size), (og * groups, cg, *kernel), stride, padding, dilation, groups


@settings(max_examples=25, deadline=None)
@given(geometries(), st.integers(0, 2**32 - 1))
def test_random_geometries_match_the_loops(geometry, seed):
    assert_autograd_matches_the_loops(np.random.default_rng(seed), *geometry)


@pytest.mark.parametrize(GEOMETRY, [*CASES_2D[1::3], *CASES_1D[2:]])
def test_second_derivatives_pass_gradgradcheck(x_shape, w_shape, stride, padding, dilation, groups):
    """The VJPs are correlations too, so they are differentiable again."""
    x = mg.tensor(RNG.standard_normal(x_shape)[:1], requires_grad=True)
    w = mg.tensor(RNG.standard_normal(w_shape), requires_grad=True)
    assert mg.gradgradcheck(lambda a, b: mg.correlate(a, b, stride=stride, padding=padding, dilation=dilation,
                                                      groups=groups), [x, w])


@pytest.mark.parametrize(GEOMETRY, CASES_2D + CASES_1D)
def test_matches_torch(x_shape, w_shape, stride, padding, dilation, groups):
    torch = pytest.importorskip("torch")
    conv = torch.nn.functional.conv2d if len(x_shape) == 4 else torch.nn.functional.conv1d
    x, w = RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = conv(xt, wt, stride=stride, padding=padding, dilation=dilation, groups=groups)
    dY = RNG.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(dY))
    y, dx, dw = autograd_grads(x, w, dY, stride=stride, padding=padding, dilation=dilation, groups=groups)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-10, atol=1e-12)
