"""minigrad.testing, the toolkit for users' own gradient tests: assert_gradients_close turns
gradcheck's diagnostics into a test failure, the hypothesis strategies draw valid shapes,
tensors and convolution configurations, and the pytest plugin (installed through the pytest11
entry point) gives a seeded ``gradcheck`` fixture and the --gradcheck-seed/-examples options."""

import importlib
import importlib.metadata
import subprocess
import sys

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
from minigrad.testing import assert_gradients_close
from minigrad.testing.strategies import broadcastable_shapes, conv_configs, shapes, tensors

pytest_plugins = ["pytester"]
FAST = settings(max_examples=15, deadline=None)


@pytest.fixture
def registry():
    """minigrad's primitive registry, with the primitives a test defines removed afterwards."""
    before = set(mg.ops.registry)
    yield mg.ops.registry
    for name in set(mg.ops.registry) - before:
        del mg.ops.registry[name]


def f64(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ---- assert_gradients_close

def test_passes_silently_on_a_correct_function():
    x, w = f64([[0.5, -1.0], [2.0, 0.25]]), f64([1.5, -0.5])
    assert assert_gradients_close(lambda x, w: (x * w).tanh().sum(axis=1), [x, w]) is None
    assert assert_gradients_close(lambda x: x.exp() * x, x, second_order=True) is None


def test_a_wrong_vjp_fails_with_gradchecks_diagnostics(registry):
    """d(x²)/dx is 2x; the VJP says x. The worst entry is the largest |x|, x[2] = 3."""
    wrong_square = mg.ops.Primitive("testing_wrong_square", lambda x: x * x, lambda g, out, x: g * x)
    with pytest.raises(AssertionError) as info:
        assert_gradients_close(lambda x: wrong_square(x), [f64([1.0, -2.0, 3.0])])
    message = str(info.value)
    assert not isinstance(info.value, mg.GradcheckError)
    assert "first derivatives of test_a_wrong_vjp_fails_with_gradchecks_diagnostics.<locals>.<lambda>" in message
    assert "input 0 of shape (3,)" in message
    assert "output element 2, input element (2,)" in message
    assert "analytical (autograd): 3\n" in message and "numerical (central differences): 6" in message
    assert "primitives in the function's graph: testing_wrong_square" in message


def test_options_reach_gradcheck(registry):
    """The wrong VJP above is off by |x| ≤ 0.6·|2x|: a loose rtol lets it pass."""
    wrong_square = mg.ops.Primitive("testing_wrong_square", lambda x: x * x, lambda g, out, x: g * x)
    assert_gradients_close(wrong_square, [f64([1.0, -2.0])], rtol=0.6)


def test_second_order_catches_a_vjp_that_autograd_cannot_differentiate(registry):
    """2·x.data is right as a value but a constant to autograd: first derivatives pass, second fail."""
    square = mg.ops.Primitive("testing_constant_vjp_square", lambda x: x * x,
                              lambda g, out, x: g * mg.tensor(2 * x.data))
    x = f64([1.0, -2.0])
    assert_gradients_close(square, [x])
    with pytest.raises(AssertionError, match=r"second derivatives of .*testing_constant_vjp_square"):
        assert_gradients_close(square, [x], second_order=True)


# ---- strategies

@FAST
@given(shapes(min_dims=1, max_dims=3, max_side=4))
def test_shapes_keep_their_bounds(shape):
    assert 1 <= len(shape) <= 3 and all(1 <= side <= 4 for side in shape)


@FAST
@given(broadcastable_shapes())
def test_broadcastable_shapes_broadcast(pair):
    a, b = pair
    assert len(np.broadcast_shapes(a, b)) <= 4


@FAST
@given(tensors(), tensors(shape=(2, 3), dtype="float32", requires_grad=False),
       tensors(shape=shapes(max_dims=2), elements=st.floats(0.5, 1.0)))
def test_tensors_are_finite_leaves_of_the_asked_kind(default, fixed, positive):
    assert default.dtype == np.float64 and default.requires_grad and default.op is None
    assert np.all(np.abs(default.data) <= 2) and default.ndim <= 4
    assert fixed.shape == (2, 3) and fixed.dtype == np.float32 and not fixed.requires_grad
    assert np.all((positive.data >= 0.5) & (positive.data <= 1.0))


def correlate_by_loops(x, w, stride, padding, dilation, groups):
    """y[n, o, l] = Σ_{c in o's group, k} w[o, c, k] · x_padded[n, c, l·stride + k·dilation], one output at a time."""
    x = np.pad(x, [(0, 0), (0, 0), *[(p, p) for p in padding]])
    spans = [d * (k - 1) + 1 for k, d in zip(w.shape[2:], dilation, strict=True)]
    sizes = [(s - span) // step + 1 for s, span, step in zip(x.shape[2:], spans, stride, strict=True)]
    per_group_in, per_group_out = w.shape[1], w.shape[0] // groups
    y = np.zeros((x.shape[0], w.shape[0], *sizes))
    for n, o, *at in np.ndindex(*y.shape):
        group = o // per_group_out
        channels = slice(group * per_group_in, (group + 1) * per_group_in)
        window = tuple(slice(i * step, i * step + span, d)
                       for i, step, span, d in zip(at, stride, spans, dilation, strict=True))
        y[(n, o, *at)] = np.sum(x[(n, channels, *window)] * w[o])
    return y


@pytest.mark.parametrize("dims", [1, 2])
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_conv_configs_are_valid_and_correlate_matches_loops(dims, data):
    config = data.draw(conv_configs(dims=dims))
    x, w = data.draw(tensors(config.input_shape)), data.draw(tensors(config.weight_shape))
    assert config.input_shape[1] == config.weight_shape[1] * config.groups
    assert config.weight_shape[0] % config.groups == 0
    y = mg.correlate(x, w, stride=config.stride, padding=config.padding, dilation=config.dilation,
                     groups=config.groups)
    assert y.ndim == dims + 2 and all(side >= 1 for side in y.shape)
    np.testing.assert_allclose(y.data, correlate_by_loops(x.data, w.data, *config[2:]), rtol=1e-12, atol=1e-12)


def test_strategies_name_the_test_extra_when_hypothesis_is_missing(monkeypatch):
    for name in ("hypothesis", "hypothesis.extra.numpy", "hypothesis.strategies"):
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules makes the import fail
    monkeypatch.delitem(sys.modules, "minigrad.testing.strategies")
    with pytest.raises(ImportError, match=r"pip install 'minigrad\[test\]'"):
        importlib.import_module("minigrad.testing.strategies")


def test_importing_minigrad_and_the_plugin_does_not_import_hypothesis():
    code = ("import sys, minigrad, minigrad.testing, minigrad.testing.plugin; "
            "assert 'hypothesis' not in sys.modules, 'hypothesis was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- the pytest plugin

def test_the_plugin_is_registered_through_pytest11():
    (entry,) = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "minigrad"]
    assert entry.value == "minigrad.testing.plugin"


USER_TESTS = '''
import numpy as np
from hypothesis import given, settings

import minigrad as mg
from minigrad.testing.strategies import tensors

EXAMPLES = []


def test_a_correct_layer(gradcheck):
    x = mg.randn(2, 3, dtype="float64", requires_grad=True)
    assert gradcheck(lambda x: x * x.sigmoid(), [x])


def test_the_fixture_seeds_minigrad_and_numpy(gradcheck):
    drawn, numpy_drawn = mg.randn(4).numpy(), np.random.rand()
    mg.manual_seed(3)
    np.random.seed(3)
    np.testing.assert_array_equal(drawn, mg.randn(4).numpy())
    assert numpy_drawn == np.random.rand()


@given(tensors(shape=(2,)))
def test_strategies_take_the_example_budget(x):
    EXAMPLES.append(x)
    assert settings.default.max_examples == 5


def test_the_budget_was_spent():
    assert 1 <= len(EXAMPLES) <= 5


def test_a_wrong_vjp(gradcheck):
    square = mg.ops.Primitive("testing_wrong_square", lambda x: x * x, lambda g, out, x: g * x)
    gradcheck(lambda x: square(x), [mg.tensor([1.0, 3.0], dtype="float64", requires_grad=True)])
'''


def test_fixture_and_options_in_a_users_test_session(pytester, monkeypatch):
    """Run in a subprocess: the user's primitive and hypothesis profile stay out of this session."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makepyfile(test_user_layer=USER_TESTS)
    result = pytester.runpytest_subprocess("--gradcheck-seed", "3", "--gradcheck-examples", "5",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines([
        "minigrad: gradcheck seed=3, hypothesis max_examples=5",
        "*gradcheck(lambda x: square(x)*",
        "E * first derivatives of test_a_wrong_vjp.<locals>.<lambda> disagree with central differences",
        "E * analytical (autograd): 3",
        "E * numerical (central differences): 6.0000*",
        "E * primitives in the function's graph: testing_wrong_square",
    ])
