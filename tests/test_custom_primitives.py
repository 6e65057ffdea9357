"""Users' own primitives (docs/primitives.md): ``mg.ops.Primitive(name, forward, *vjps)``.

A user's primitive records a graph node like the built-in ones, passes gradcheck (and
gradgradcheck, its VJP being written in Tensor operations), may save values for its VJP on
the node, and every mistake gets a clear error: an existing name is refused unless
``replace=True``; at backward, a VJP that returns a numpy array (TypeError), the wrong shape
(ValueError) or is missing (RuntimeError) is named with the primitive and the shapes.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad.ops import Primitive, registry

BUILT_IN = set(registry)


@pytest.fixture(autouse=True)
def forget_test_primitives():
    """The registry is the process's: each test's primitives are removed after it."""
    yield
    for name in set(registry) - BUILT_IN:
        del registry[name]


def leaf(*values: float) -> mg.Tensor:
    return mg.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def make_square(name: str = "test_square") -> Primitive:
    return Primitive(name, lambda x: x * x, lambda g, out, x: 2 * g * x)


def softplus_forward(x: np.ndarray) -> np.ndarray:
    """log(1 + eˣ) without overflow: max(x, 0) + log1p(e^-|x|)."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


# ---- defining one

def test_a_primitive_records_a_node_and_its_vjp_gives_the_gradient():
    square = make_square()
    x = leaf(1.0, -2.0, 3.0)
    y = square(x)
    assert np.array_equal(y.data, [1.0, 4.0, 9.0])
    assert y.op is square and y.inputs == (x,) and y.params == {} and y.saved is None
    assert registry["test_square"] is square
    y.sum().backward()
    assert np.array_equal(x.grad.data, [2.0, -4.0, 6.0])


def test_without_grad_no_node_is_recorded():
    square = make_square()
    assert square(mg.tensor([2.0])).op is None
    with mg.no_grad():
        assert square(leaf(2.0)).op is None


def test_a_stable_softplus_passes_gradcheck_and_gradgradcheck():
    softplus = Primitive("test_softplus", softplus_forward, lambda g, out, x: g * x.sigmoid())
    assert np.isfinite(softplus(leaf(-1000.0, 1000.0)).data).all()  # no overflow at the extremes
    x = leaf(-3.0, -0.5, 0.0, 0.7, 4.0)
    assert mg.gradcheck(lambda x: softplus(x), [x])
    assert mg.gradgradcheck(lambda x: softplus(x), [x])  # the VJP is Tensor ops: differentiable again


def test_parameters_reach_forward_and_vjps():
    scale = Primitive("test_scale", lambda x, factor: x * factor, lambda g, out, x, factor: g * factor)
    x = leaf(1.0, 2.0)
    y = scale(x, factor=3.0)
    assert y.params == {"factor": 3.0}
    y.sum().backward()
    assert np.array_equal(x.grad.data, [3.0, 3.0])


def test_two_inputs_and_a_constant_made_with_wrap():
    # f(a, b) = a·b + 1: the VJPs of both inputs; g.wrap turns an array into a constant tensor
    affine = Primitive("test_affine", lambda a, b: a * b + 1,
                       lambda g, out, a, b: g * b,
                       lambda g, out, a, b: g * a + g.wrap(np.zeros(b.shape)))
    a, b = leaf(1.0, 2.0), leaf(3.0, 5.0)
    assert mg.gradcheck(affine, [a, b])


def test_saves_keeps_what_the_vjp_needs_on_the_node_and_backward_lets_it_go():
    def forward(x):  # the largest entry of each row; saves where it was
        mask = np.zeros_like(x)
        mask[np.arange(len(x)), x.argmax(axis=1)] = 1
        return x.max(axis=1), mask

    rowmax = Primitive("test_rowmax", forward,
                       lambda g, out, x: g.reshape(len(g), 1) * g.wrap(out.saved), saves=True)
    x = mg.tensor(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]), requires_grad=True)
    y = rowmax(x)
    assert np.array_equal(y.data, [5.0, 7.0])
    assert np.array_equal(y.saved, [[0, 1, 0], [1, 0, 0]])  # on the node, visible
    assert mg.gradcheck(rowmax, [x])
    y.sum().backward()
    assert np.array_equal(x.grad.data, [[0, 1, 0], [1, 0, 0]])
    assert y.saved is None and y.freed  # backward freed the graph, and the saved mask with it


def test_saved_values_stay_while_the_graph_is_retained():
    rowmax = Primitive("test_rowmax_kept", lambda x: (x.max(), x == x.max()),
                       lambda g, out, x: g * g.wrap(out.saved.astype(x.dtype)), saves=True)
    x = leaf(1.0, 4.0, 2.0)
    y = rowmax(x)
    y.backward(retain_graph=True)
    assert y.saved is not None
    y.backward()
    assert np.array_equal(x.grad.data, [0.0, 2.0, 0.0])


def test_a_variable_number_of_inputs_uses_vjp_argnum():
    total = Primitive("test_total", lambda *xs: sum(xs), vjp_argnum=lambda i, g, out, *xs: g)
    xs = [leaf(1.0, 2.0) for _ in range(3)]
    total(*xs).sum().backward()
    assert all(np.array_equal(x.grad.data, [1.0, 1.0]) for x in xs)


# ---- the registry

def test_an_existing_name_is_refused():
    square = make_square()
    with pytest.raises(ValueError, match=r"'test_square' exists already.*replace=True"):
        make_square()
    assert registry["test_square"] is square


def test_built_in_names_are_refused():
    for name in sorted(BUILT_IN):
        original = registry[name]
        with pytest.raises(ValueError, match=f"'{name}' exists already"):
            Primitive(name, np.negative, lambda g, out, x: -g)
        assert registry[name] is original


def test_replace_true_replaces():
    make_square()
    cube = Primitive("test_square", lambda x: x ** 3, lambda g, out, x: 3 * g * x * x, replace=True)
    assert registry["test_square"] is cube
    x = leaf(2.0)
    cube(x).backward()
    assert x.grad.item() == 12.0


def test_forward_and_vjps_must_be_functions():
    with pytest.raises(TypeError, match="test_notfn"):
        Primitive("test_notfn", "x * x")
    with pytest.raises(TypeError, match="test_notfn"):
        Primitive("test_notfn", np.square, np.ones(3))
    assert "test_notfn" not in registry  # a refused primitive is not registered


# ---- mistakes in a VJP, caught at backward

def test_a_vjp_returning_a_numpy_array_raises_typeerror_naming_the_primitive():
    raw = Primitive("test_raw_vjp", np.square, lambda g, out, x: 2 * g.data * x.data)
    y = raw(leaf(1.0, 2.0)).sum()  # the forward is fine: the mistake shows when the VJP runs
    with pytest.raises(TypeError, match=r"VJP of 'test_raw_vjp' for input 0 returned a ndarray.*g\.wrap"):
        y.backward()


@pytest.mark.parametrize("returned", [None, 1.0], ids=["None", "float"])
def test_a_vjp_returning_no_tensor_raises_typeerror(returned):
    lazy = Primitive("test_lazy_vjp", np.square, lambda g, out, x: returned)
    with pytest.raises(TypeError, match=f"'test_lazy_vjp'.*returned a {type(returned).__name__}"):
        lazy(leaf(1.0, 2.0)).sum().backward()


def test_a_vjp_of_the_wrong_shape_raises_valueerror_naming_both_shapes():
    summed = Primitive("test_wrong_shape", np.square, lambda g, out, x: (2 * g * x).sum())
    with pytest.raises(ValueError, match=r"VJP of 'test_wrong_shape' for input 0 returned shape \(\), "
                                         r"but the input has shape \(2, 3\)"):
        summed(mg.tensor(np.ones((2, 3)), requires_grad=True)).sum().backward()


def test_a_vjp_that_forgets_to_unbroadcast_is_caught():
    add = Primitive("test_add_no_unbroadcast", np.add, lambda g, out, a, b: g, lambda g, out, a, b: g)
    a, b = mg.tensor(np.ones((2, 3)), requires_grad=True), mg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"'test_add_no_unbroadcast' for input 1 returned shape \(2, 3\), "
                                         r"but the input has shape \(3,\)"):
        add(a, b).sum().backward()


def test_a_missing_vjp_raises_runtimeerror_naming_the_primitive():
    forward_only = Primitive("test_forward_only", np.square)
    with pytest.raises(RuntimeError, match=r"'test_forward_only' has no VJP for input 0 \(shape \(2,\)\)"):
        forward_only(leaf(1.0, 2.0)).sum().backward()


def test_an_input_marked_without_gradient_is_fine_until_it_needs_one():
    pick = Primitive("test_pick", lambda cond, x: np.where(cond, x, 0),
                     None, lambda g, out, cond, x: g * g.wrap(cond.data.astype(g.dtype)))
    cond, x = mg.tensor([True, False]), leaf(3.0, 4.0)
    pick(cond, x).sum().backward()
    assert np.array_equal(x.grad.data, [1.0, 0.0])
    with pytest.raises(RuntimeError, match="'test_pick' has no VJP for input 0"):
        pick(leaf(1.0, 0.0), x).sum().backward()
