"""The backward pass: accumulation, retain_graph and freeing, higher-order derivatives,
deep graphs, grad modes, detach / retain_grad / hooks, mg.grad, detect_anomaly, and dtypes."""

import gc
import time
import weakref

import numpy as np
import pytest

import minigrad as mg

RNG = np.random.default_rng(0)


def f64(values, requires_grad=True):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ---- accumulation

def test_reused_nodes_accumulate():
    """y = x·x + 3x uses x three times: dy/dx = 2x + 3."""
    x = f64([1.0, -2.0, 0.5])
    (x * x + 3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3)


def test_diamond_graph_accumulates_through_both_branches():
    """h = x²; y = h·exp(h) reaches x along two paths that meet again: dy/dx = (1 + h)·eʰ·2x."""
    x = f64([0.3, -0.7])
    h = x * x
    (h * h.exp()).sum().backward()
    hv = x.data ** 2
    np.testing.assert_allclose(x.grad.data, (1 + hv) * np.exp(hv) * 2 * x.data)


def test_backward_twice_accumulates_into_grad():
    x = f64([1.0, 2.0])
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3)


def test_backward_with_explicit_gradient():
    x = f64([[1.0, 2.0], [3.0, 4.0]])
    g = np.array([[1.0, -1.0], [0.5, 2.0]])
    (x * x).backward(gradient=g)
    np.testing.assert_allclose(x.grad.data, 2 * x.data * g)


# ---- retain_graph and freed graphs

def test_retain_graph_allows_a_second_backward():
    x = f64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * (np.exp(x.data) * (1 + x.data)))


def test_second_backward_through_a_freed_graph_raises():
    x = f64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        y.backward()


def test_saved_arrays_are_released_after_backward():
    x = f64(RNG.standard_normal(1000))
    h = x.exp()
    m = h * h
    y = m.sum()
    refs = [weakref.ref(h.data), weakref.ref(m.data)]
    del h, m
    gc.collect()
    assert all(r() is not None for r in refs)  # the graph holds them until backward
    y.backward()
    gc.collect()
    assert all(r() is None for r in refs)
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(2 * x.data))


def test_retain_graph_keeps_saved_arrays():
    x = f64(RNG.standard_normal(10))
    h = x.exp()
    y = (h * h).sum()
    ref = weakref.ref(h.data)
    del h
    y.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None


def test_a_100000_op_chain_backpropagates_iteratively():
    """y = x + x + ... (100,000 adds deep): no RecursionError, and dy/dx = 100,001."""
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + x
    start = time.perf_counter()
    y.backward()
    seconds = time.perf_counter() - start
    assert x.grad.item() == 100_001
    assert seconds < 10, f"backward through 100,000 adds took {seconds:.1f} s"
    del y  # dropping a deep graph must not overflow the stack either
    gc.collect()


# ---- higher order

def test_create_graph_gives_higher_order_derivatives():
    """y = x⁴: dy/dx = 4x³, d²y/dx² = 12x², d³y/dx³ = 24x."""
    x = f64(1.5)
    y = x ** 4
    (d1,) = mg.grad(y, x, create_graph=True)
    (d2,) = mg.grad(d1, x, create_graph=True)
    (d3,) = mg.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == pytest.approx((4 * 1.5**3, 12 * 1.5**2, 24 * 1.5))


def test_backward_with_create_graph_makes_grad_differentiable():
    x = f64([0.5, -1.0])
    (x.exp() * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (d2,) = mg.grad(x.grad.sum(), x)
    np.testing.assert_allclose(d2.data, np.exp(x.data) * (2 + x.data))  # d²/dx² (x eˣ) = eˣ (2 + x)


def loss(x, A):
    """f(x) = Σ log(1 + exp(A x)) + ½ Σ x⁴: a smooth function with a dense Hessian."""
    z = A @ x
    return (1 + z.exp()).log().sum() + 0.5 * (x ** 4).sum()


def gradient_of_loss(x_values, A):
    x = f64(x_values)
    return mg.grad(loss(x, A), x)[0].data


def test_hessian_vector_product_matches_numerical_differences():
    A = mg.tensor(RNG.standard_normal((4, 3)))
    x0, v = RNG.standard_normal(3), RNG.standard_normal(3)
    x = f64(x0)
    (g,) = mg.grad(loss(x, A), x, create_graph=True)
    (hvp,) = mg.grad((g * mg.tensor(v)).sum(), x)
    eps = 1e-5
    numerical = (gradient_of_loss(x0 + eps * v, A) - gradient_of_loss(x0 - eps * v, A)) / (2 * eps)
    np.testing.assert_allclose(hvp.data, numerical, rtol=1e-6, atol=1e-8)
    # and the Hessian written out: Aᵀ diag(σ(z)(1 − σ(z))) A + diag(6x²)
    s = 1 / (1 + np.exp(-(A.data @ x0)))
    hessian = A.data.T @ np.diag(s * (1 - s)) @ A.data + np.diag(6 * x0**2)
    np.testing.assert_allclose(hvp.data, hessian @ v, rtol=1e-10)


# ---- grad modes

def test_no_grad_records_nothing_and_enable_grad_turns_it_back_on():
    x = f64([1.0])
    with mg.no_grad():
        y = x * 2
        with mg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and not z.is_leaf
    assert (x * 2).requires_grad  # restored on exit


def test_no_grad_is_restored_after_an_exception():
    x = f64([1.0])
    with pytest.raises(KeyError), mg.no_grad():
        raise KeyError("inside no_grad")
    assert (x * 2).requires_grad


def test_grad_modes_work_as_decorators():
    x = f64([1.0])

    @mg.no_grad()
    def without():
        return x * 2

    @mg.enable_grad()
    def with_():
        return x * 2

    assert not without().requires_grad
    with mg.no_grad():
        assert with_().requires_grad


# ---- detach, retain_grad, hooks

def test_detach_shares_data_and_cuts_the_graph():
    x = f64([1.0, 2.0])
    d = (x * 3).detach()
    assert d.is_leaf and not d.requires_grad
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, d.data)  # d is a constant: no 2·3x term
    h = x * 1.0
    assert np.shares_memory(h.detach().data, h.data)


def test_retain_grad_fills_a_non_leaf_grad():
    x = f64([1.0, 2.0])
    h = x * x
    h.retain_grad()
    other = x * 2
    (h * 3 + other).sum().backward()
    np.testing.assert_allclose(h.grad.data, [3.0, 3.0])
    assert other.grad is None  # not retained
    np.testing.assert_allclose(x.grad.data, 6 * x.data + 2)


def test_register_hook_observes_the_gradient():
    x = f64([1.0, 2.0])
    h = x * x
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    (h * mg.tensor([5.0, 7.0])).sum().backward()
    np.testing.assert_allclose(seen[0], [5.0, 7.0])
    np.testing.assert_allclose(x.grad.data, 2 * x.data * [5.0, 7.0])


def test_register_hook_replaces_the_gradient_and_can_be_removed():
    x = f64([1.0, 2.0])
    remove = x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 20 * x.data)
    remove()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_hook_on_an_intermediate_changes_what_flows_upstream():
    x = f64([1.0, 2.0])
    h = x * 3
    h.register_hook(lambda g: -g)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.data, [-3.0, -3.0])


# ---- mg.grad

def test_grad_returns_gradients_without_touching_dot_grad():
    x, w = f64([1.0, 2.0]), f64([3.0, -1.0])
    h = x * w
    h.retain_grad()
    gx, gw = mg.grad((h * h).sum(), [x, w])
    np.testing.assert_allclose(gx.data, 2 * x.data * w.data**2)
    np.testing.assert_allclose(gw.data, 2 * w.data * x.data**2)
    assert x.grad is None and w.grad is None and h.grad is None


def test_grad_of_an_intermediate_and_with_grad_outputs():
    x = f64([1.0, 2.0])
    h = x * x
    (gh,) = mg.grad(h.exp(), h, grad_outputs=mg.tensor(np.array([1.0, 2.0])))
    np.testing.assert_allclose(gh.data, np.exp(h.data) * [1.0, 2.0])


def test_grad_allow_unused():
    x, unused = f64([1.0]), f64([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"input 1.*not used.*allow_unused=True"):
        mg.grad(y, [x, unused], retain_graph=True)
    gx, gu = mg.grad(y, [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.data, [2.0])


# ---- detect_anomaly

def test_detect_anomaly_names_the_primitive_and_line_of_a_forward_nan():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    with mg.detect_anomaly(), pytest.raises(FloatingPointError) as info, np.errstate(invalid="ignore"):
        x.log()  # the line the message must name
    message = str(info.value)
    assert "'log'" in message and "NaN or Inf" in message
    assert "test_autograd.py" in message and "x.log()  # the line the message must name" in message


def test_detect_anomaly_names_the_primitive_and_creation_line_of_a_vjp_inf():
    """sqrt at 0 is finite, its gradient 1/(2√0) is not; the error points at where sqrt was taken."""
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(divide="ignore"):
        y = x.sqrt().sum()  # the node whose VJP fails
        with pytest.raises(FloatingPointError) as info:
            y.backward()
    message = str(info.value)
    assert "'pow'" in message and "VJP" in message
    assert "y = x.sqrt().sum()  # the node whose VJP fails" in message


def test_without_detect_anomaly_nan_passes_silently():
    x = mg.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.log().data).all()


# ---- dtypes

def test_float32_is_the_default_and_python_scalars_do_not_promote_it():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert x.dtype == np.float32
    y = (x * 2.5 + 1 - 0.5) / 3.0 ** 2
    y = (y ** 2).mean() + x.var() + x.exp().sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_float64_is_preserved_through_forward_and_backward():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert x.dtype == np.float64
    y = ((x * 2.5).sigmoid() + x.softmax()).sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64


def test_mixed_float32_and_float64_give_each_input_its_own_dtype_of_gradient():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
