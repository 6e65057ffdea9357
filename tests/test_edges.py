"""Edges where a framework can be silently wrong: NaN, signed zeros, kinks and bounds, tiny
arguments, and the dtype of mixed operands. Expected values follow PyTorch's definitions
(stated beside each); where PyTorch is installed the same cases are also run through it."""

import math

import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:  # the comparisons with PyTorch are skipped
    torch = None

NAN = float("nan")


def value_and_grad(fn, data, dtype="float64"):
    x = mg.tensor(np.array(data, dtype=dtype), requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.data, x.grad.data


def torch_value_and_grad(fn, data, dtype="float64"):
    x = torch.tensor(np.array(data, dtype=dtype), requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy()


CASES = [  # (name, minigrad fn, torch fn, input, expected value, expected gradient)
    # relu: NaN passes through; the gradient is 1 where not x ≤ 0 (so at NaN), 0 at and below 0.
    ("relu", lambda x: x.relu(), lambda x: torch.relu(x), [NAN, 0.0, -1.0, 2.0], [NAN, 0.0, 0.0, 2.0],
     [1.0, 0.0, 0.0, 1.0]),
    # clip: gradient 1 inside [lo, hi] including the bounds, 0 outside and at NaN; NaN stays NaN.
    ("clip", lambda x: x.clip(1.0, 2.0), lambda x: torch.clamp(x, 1.0, 2.0), [0.5, 1.0, 1.5, 2.0, 3.0, NAN],
     [1.0, 1.0, 1.5, 2.0, 2.0, NAN], [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]),
    ("clip min only", lambda x: x.clip(min=1.0), lambda x: torch.clamp(x, min=1.0), [0.5, 1.0, 3.0],
     [1.0, 1.0, 3.0], [0.0, 1.0, 1.0]),
    # x ** 0 is 1 everywhere, so its derivative is 0, also at x = 0 (b·x^(b−1) would be 0·inf).
    ("x**0", lambda x: x ** 0, lambda x: x ** 0, [0.0, 2.0], [1.0, 1.0], [0.0, 0.0]),
    # 0 ** b: d/db = 0^b · log 0 is taken as 0 (PyTorch masks it).
    ("2**x at 0 base", lambda x: mg.tensor([0.0, 2.0], dtype="float64") ** x,
     lambda x: torch.tensor([0.0, 2.0], dtype=torch.float64) ** x, [2.0, 3.0], [0.0, 8.0], [0.0, 8.0 * math.log(2)]),
    # maximum: where either side is NaN the result is NaN and each side's gradient is 1; a tie shares.
    ("maximum", lambda x: mg.maximum(x, mg.tensor([1.0, NAN, 2.0], dtype="float64")),
     lambda x: torch.maximum(x, torch.tensor([1.0, NAN, 2.0], dtype=torch.float64)), [NAN, 1.0, 2.0],
     [NAN, NAN, 2.0], [1.0, 1.0, 0.5]),
    # max pooling: a NaN wins its window and takes the gradient.
    ("max_pool2d", lambda x: mg.nn.functional.max_pool2d(x.reshape(1, 1, 2, 2), 2),
     lambda x: torch.nn.functional.max_pool2d(x.reshape(1, 1, 2, 2), 2), [1.0, NAN, 3.0, 4.0], [[[[NAN]]]],
     [0.0, 1.0, 0.0, 0.0]),
    # max over an axis: as torch.max(dim) (values): the NaN entry takes the gradient.
    ("max axis", lambda x: x.reshape(2, 2).max(axis=1), lambda x: x.reshape(2, 2).max(dim=1).values,
     [1.0, NAN, 3.0, 4.0], [NAN, 4.0], [0.0, 1.0, 0.0, 1.0]),
    # |x|: +0.0 at ±0 (so that 1/|x| = +inf), gradient 0 there.
    ("abs", lambda x: x.abs(), lambda x: x.abs(), [0.0, -0.0, -2.0], [0.0, 0.0, 2.0], [0.0, 0.0, -1.0]),
]


@pytest.mark.parametrize(("name", "fn", "torch_fn", "data", "value", "grad"), CASES, ids=[c[0] for c in CASES])
def test_edge_values_and_gradients(name, fn, torch_fn, data, value, grad):
    y, g = value_and_grad(fn, data)
    np.testing.assert_array_equal(y, value)
    np.testing.assert_array_equal(g, grad)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize(("name", "fn", "torch_fn", "data", "value", "grad"), CASES, ids=[c[0] for c in CASES])
def test_edges_match_pytorch(name, fn, torch_fn, data, value, grad):
    y, g = value_and_grad(fn, data)
    ty, tg = torch_value_and_grad(torch_fn, data)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(g, tg)


def test_abs_of_positive_zero_is_positive():
    assert math.copysign(1.0, mg.tensor([0.0]).abs().item()) == 1.0
    assert (1 / mg.tensor([0.0]).abs()).item() == math.inf


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("x", [1e-8, 4.7e-6, 1e-12, -3e-9, 0.3, 5.0, 30.0])
def test_tanh_keeps_full_relative_accuracy(dtype, x):
    got = mg.tensor(np.array([x], dtype=dtype)).tanh().item()
    exact = math.tanh(x)
    assert abs(got - exact) <= 2 * np.finfo(dtype).eps * abs(exact)


def test_tanh_gradient_is_one_minus_tanh_squared():
    assert mg.gradcheck(lambda x: x.tanh(), [mg.tensor([-2.0, 0.0, 1e-8, 3.0], dtype="float64", requires_grad=True)])


@pytest.mark.parametrize("scalar", [np.sqrt(np.float64(2.0)), np.float64(0.5), np.array(2.0), 2.0, 3, True])
def test_numbers_do_not_promote_a_float32_tensor(scalar):
    x = mg.tensor([1.0, 2.0])
    for result in (x * scalar, scalar * x, x + scalar, x - scalar, scalar / x):
        assert result.dtype == np.float32


def test_a_float_number_with_an_integer_tensor_gives_float32():
    assert (mg.tensor([1, 2]) * 0.5).dtype == np.float32
    assert (mg.tensor([1, 2]) * np.float64(0.5)).dtype == np.float32
    assert (mg.tensor([1, 2]) * 2).dtype == np.int64
    assert (mg.tensor([True]) + 1).dtype == np.int64


@pytest.mark.parametrize("number", [1j, np.complex64(1 + 2j), np.array(1j)])
def test_complex_numbers_are_refused(number):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="mul: unsupported dtype complex"):
        x * number



@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_keeps_every_value_exactly_and_never_gives_negative_zero(dtype):
    """relu(x) is x bit for bit where not x ≤ 0 (NaN and +inf too) and +0.0 elsewhere, −0.0 and −inf
    too (PyTorch keeps −0.0); its gradient is the upstream one there, NaN and inf included, and +0.0
    elsewhere, bit for bit as PyTorch's."""
    data = np.array([-0.0, 0.0, -np.inf, np.inf, NAN, -3.0, 3.0], dtype=dtype)
    upstream = np.array([NAN, -1.0, np.inf, -np.inf, -0.0, NAN, np.inf], dtype=dtype)
    expected_y = np.array([0.0, 0.0, 0.0, np.inf, NAN, 0.0, 3.0], dtype=dtype)
    expected_grad = np.array([0.0, 0.0, 0.0, -np.inf, -0.0, 0.0, np.inf], dtype=dtype)
    x = mg.tensor(data, requires_grad=True)
    y = x.relu()
    y.backward(mg.tensor(upstream))
    results = [(y.data, expected_y), (x.grad.data, expected_grad)]
    if torch is not None:
        tx = torch.tensor(data, requires_grad=True)
        ty = torch.relu(tx)
        ty.backward(torch.tensor(upstream))
        np.testing.assert_array_equal(ty.detach().numpy(), expected_y)  # equal, −0.0 == +0.0
        results.append((tx.grad.numpy(), expected_grad))
    bits = f"u{data.itemsize}"
    for got, expected in results:
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got.view(bits), expected.view(bits))


@pytest.mark.parametrize("upstream", [math.inf, -math.inf, NAN])
def test_max_pool_gives_non_winners_zero_whatever_the_upstream_gradient(upstream):
    # As PyTorch's max pooling routes dL/dy to the winner only: an inf or NaN upstream gradient
    # reaches the winners (shared among ties), and every other entry of the window gets +0.
    x = mg.tensor([[[[1.0, 3.0, 2.0, 5.0], [3.0, 0.0, 1.0, 4.0]]]], requires_grad=True)
    y = mg.nn.functional.max_pool2d(x, 2)
    y.backward(mg.tensor(np.full(y.shape, upstream, np.float32)))
    winners = np.array([[0, 1, 0, 1], [1, 0, 0, 0]], bool)  # the first window ties (3, 3)
    grad = x.grad.data[0, 0]
    np.testing.assert_array_equal(grad[winners], [upstream / 2, upstream, upstream / 2])
    assert not np.signbit(grad[~winners]).any() and (grad[~winners] == 0).all()
    if torch is not None:  # PyTorch gives the whole gradient to one of the tied entries; the others agree
        xt = torch.tensor(x.data, requires_grad=True)
        yt = torch.nn.functional.max_pool2d(xt, 2)
        yt.backward(torch.full(yt.shape, upstream))
        np.testing.assert_array_equal(xt.grad.numpy()[0, 0][:, 2:], grad[:, 2:])
