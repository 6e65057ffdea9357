"""Gradient checking as a user feature: gradcheck / gradgradcheck pass on correct functions,
catch deliberately wrong gradients with a message that says where and by how much, warn on
float32, and numerical_grad agrees with derivatives known in closed form."""

import re

import numpy as np
import pytest

import minigrad as mg

RNG = np.random.default_rng(0)


def f64(values, requires_grad=True, name=None):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad, name=name)


def scaled_gradient(t, factor):
    """t, with a hook that multiplies the gradient flowing back through it: a deliberately wrong VJP."""
    t.register_hook(lambda g: g * factor)
    return t


# ---- passing

@pytest.mark.parametrize("fn", [
    lambda x, y: (x * y.exp()).sum(axis=1),
    lambda x, y: x @ y.T,
    lambda x, y: (x.sigmoid() - y).mean(),
    lambda x, y: (x * y, (x - y).tanh()),  # a tuple of outputs
    lambda x, y: mg.concatenate([x.softmax(), y.log_softmax(axis=0)]),
])
def test_gradcheck_passes_on_correct_functions(fn):
    x, y = f64(RNG.standard_normal((2, 3))), f64(RNG.standard_normal((2, 3)))
    assert mg.gradcheck(fn, [x, y]) is True
    assert mg.gradgradcheck(fn, [x, y]) is True


def test_inputs_without_requires_grad_are_constants():
    x, c = f64([1.0, 2.0]), f64([3.0, 4.0], requires_grad=False)
    assert mg.gradcheck(lambda a, b: a * b, [x, c])
    assert mg.gradcheck(lambda a: a.exp(), x)  # a single tensor is accepted too


# ---- failing, with a message that locates the error

def number_after(label, message):
    return float(re.search(label + r"[^:]*: (\S+)", message).group(1))


def test_wrong_gradient_raises_with_input_index_values_and_primitives():
    """out_i = Σ_j exp(x_ij)·x_ij. Scaling the gradient through exp(x) by 1.5 makes autograd report
    exp(x)(1 + 1.5x) instead of exp(x)(1 + x); the worst entry is the largest x, x[1, 1] = 4 (output 1)."""
    x = f64([[1.0, 2.0], [3.0, 4.0]], name="weights")

    def fn(x):
        return (scaled_gradient(x.exp(), 1.5) * x).sum(axis=1)

    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(fn, [x])
    message = str(info.value)
    assert "input 0 (weights) of shape (2, 2)" in message
    assert "output element 1, input element (1, 1)" in message
    assert number_after("analytical", message) == pytest.approx(np.exp(4) * (1 + 1.5 * 4), rel=1e-8)
    assert number_after("numerical", message) == pytest.approx(np.exp(4) * (1 + 4), rel=1e-6)
    assert "primitives in the function's graph: exp, mul, sum" in message
    assert isinstance(info.value, RuntimeError)


def test_the_wrong_input_is_the_one_named():
    a, b = f64(RNG.standard_normal(3)), f64(RNG.standard_normal(3))
    with pytest.raises(mg.GradcheckError, match=r"input 1 of shape \(3,\)"):
        mg.gradcheck(lambda p, q: p * 2 + scaled_gradient(q * 1.0, 0.9) * 3, [a, b])


def test_small_errors_within_tolerance_pass_and_tolerance_is_respected():
    x = f64([1.0, 2.0])
    assert mg.gradcheck(lambda t: scaled_gradient(t * 1.0, 1 + 1e-5) * 1.0, [x])   # below rtol=1e-3
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(lambda t: scaled_gradient(t * 1.0, 1 + 1e-5) * 1.0, [x], atol=0, rtol=1e-7)


def test_non_finite_analytical_gradient_fails():
    x = f64([0.0, 1.0])
    with pytest.raises(mg.GradcheckError, match="input 0"), np.errstate(divide="ignore"):
        mg.gradcheck(lambda t: scaled_gradient(t * 1.0, np.inf) * 1.0, [x])


def test_gradgradcheck_catches_a_wrong_second_derivative():
    """Detaching the upstream gradient inside backward leaves first derivatives right but cuts the
    graph that second derivatives go through."""
    x = f64(RNG.standard_normal(3))

    def fn(t):
        y = t.exp()
        y.register_hook(lambda g: g.detach())
        return y

    assert mg.gradcheck(fn, [x])
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(fn, [x])


# ---- misuse

def test_float32_inputs_warn():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match=r"input 0 is float32.*float64"):
        mg.gradcheck(lambda t: t * 1.0, [x], eps=1e-2, rtol=1e-2)


def test_nothing_to_check_or_not_tensors():
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradcheck(lambda t: t * 2, [f64([1.0], requires_grad=False)])
    with pytest.raises(TypeError, match="inputs must be Tensors"):
        mg.gradcheck(lambda t: t * 2, [np.array([1.0])])
    with pytest.raises(TypeError, match="must return a Tensor"):
        mg.gradcheck(lambda t: t.data, [f64([1.0])])


# ---- numerical_grad

def test_numerical_grad_matches_known_derivatives():
    x, y = f64([0.5, -1.0, 2.0]), f64([1.5, 0.3, -0.7])
    before = x.data.copy()
    gx, gy = mg.numerical_grad(lambda a, b: a ** 3 + a * b.exp(), [x, y])
    np.testing.assert_allclose(gx.data, 3 * x.data**2 + np.exp(y.data), rtol=1e-7)
    np.testing.assert_allclose(gy.data, x.data * np.exp(y.data), rtol=1e-7)
    np.testing.assert_array_equal(x.data, before)  # perturbations are undone
    assert gx.dtype == np.float64 and not gx.requires_grad


def test_numerical_grad_with_grad_output_and_constant_inputs():
    """L = Σ v_i · x_i² · c_i, so dL/dx = 2 v x c; constants get no gradient."""
    x, c = f64([1.0, 2.0, 3.0]), f64([2.0, -1.0, 0.5], requires_grad=False)
    v = np.array([1.0, 10.0, -2.0])
    (gx,) = mg.numerical_grad(lambda a, b: a * a * b, [x, c], grad_output=v)
    np.testing.assert_allclose(gx.data, 2 * v * x.data * c.data, rtol=1e-7)
    (g_sum,) = mg.numerical_grad(lambda a: a.log().sum(), x)
    np.testing.assert_allclose(g_sum.data, 1 / x.data, rtol=1e-7)
