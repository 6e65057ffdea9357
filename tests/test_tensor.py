"""The Tensor's public API, as README.md and docs/ use it: creation and dtype rules, properties, every
method and operator (forward against numpy, gradient by gradcheck in float64), numerical
stability, indexing, the ``mg.*`` functions, matmul's 1-D and batched forms, and repr."""

import numpy as np
import pytest

import minigrad as mg

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3, 4))  # the input of the method table below


def f64(values, requires_grad=True):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def away_from(values, *points, gap=0.05):
    """values, with every entry closer than ``gap`` to one of ``points`` pushed 2·gap away (no kinks)."""
    values = values.copy()
    for p in points:
        values[np.abs(values - p) < gap] += 2 * gap
    return values


def distinct(shape, seed=1):
    """Entries at least 0.1 apart: max/min without ties."""
    n = int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(shape) * 0.1 - 0.05 * n


def softmax_ref(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---- creation and dtype rules

def test_tensor_dtype_rules():
    assert mg.tensor([1.0, 2.0]).dtype == np.float32          # Python floats → float32
    assert mg.tensor(3.0).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == np.int64                # integers stay integers
    assert mg.tensor([True, False]).dtype == np.bool_
    assert mg.tensor(np.array([1.0, 2.0])).dtype == np.float64  # an array keeps its dtype
    assert mg.tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int32
    assert mg.tensor(np.float64(2.0)).dtype == np.float64
    assert mg.tensor([1, 2], dtype="float64").dtype == np.float64
    assert mg.tensor(np.array([1.0]), dtype=np.float16).dtype == np.float16
    assert mg.Tensor([1.0], requires_grad=True).requires_grad


def test_tensor_copies_its_data():
    source = np.array([1.0, 2.0])
    t = mg.tensor(source)
    source[0] = 99.0
    assert t.data[0] == 1.0
    assert not np.shares_memory(mg.tensor(t).data, t.data)


def test_tensor_from_tensor_nested_lists_and_name():
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="w")
    assert t.shape == (2, 2) and t.name == "w" and t.requires_grad and t.is_leaf and t.grad is None
    t.name = "weight"
    assert t.name == "weight"
    np.testing.assert_array_equal(mg.tensor(t).data, t.data)


@pytest.mark.parametrize(("make", "fill"), [(mg.zeros, 0.0), (mg.ones, 1.0)])
def test_zeros_and_ones(make, fill):
    a, b = make(2, 3), make((2, 3), dtype="float64", requires_grad=True)
    assert a.shape == b.shape == (2, 3)
    assert a.dtype == np.float32 and b.dtype == np.float64
    assert not a.requires_grad and b.requires_grad
    assert (a.data == fill).all() and (b.data == fill).all()
    assert make().shape == ()


def test_zeros_like_and_ones_like_keep_shape_and_dtype():
    x = mg.tensor(np.arange(6.0).reshape(2, 3))
    z, o = mg.zeros_like(x), mg.ones_like(x, requires_grad=True)
    assert z.shape == o.shape == (2, 3) and z.dtype == o.dtype == np.float64
    assert (z.data == 0).all() and (o.data == 1).all() and o.requires_grad
    assert mg.zeros_like(x, dtype="float32").dtype == np.float32


def test_randn_and_rand():
    mg.manual_seed(0)
    n, u = mg.randn(20000), mg.rand(20000)
    assert n.dtype == u.dtype == np.float32 and n.shape == u.shape == (20000,)
    assert abs(n.data.mean()) < 0.05 and abs(n.data.std() - 1) < 0.05
    assert u.data.min() >= 0 and u.data.max() < 1 and abs(u.data.mean() - 0.5) < 0.02
    assert mg.randn(2, 3, dtype="float64", requires_grad=True).requires_grad
    assert mg.rand((2, 3), dtype="float64").dtype == np.float64


def test_manual_seed_makes_random_tensors_reproducible():
    mg.manual_seed(123)
    a, b = mg.randn(3, 4), mg.rand(5)
    mg.manual_seed(123)
    np.testing.assert_array_equal(mg.randn(3, 4).data, a.data)
    np.testing.assert_array_equal(mg.rand(5).data, b.data)
    mg.manual_seed(124)
    assert not np.array_equal(mg.randn(3, 4).data, a.data)


def test_arange():
    np.testing.assert_array_equal(mg.arange(5).data, np.arange(5))
    assert mg.arange(5).dtype == np.int64
    a = mg.arange(0.0, 1.0, 0.25)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a.data, [0.0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(mg.arange(2, 8, 3).data, [2, 5])
    assert mg.arange(3, dtype="float64").dtype == np.float64


# ---- properties

def test_properties():
    x = mg.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.dtype == np.float64 and x.numel() == 24
    assert x.is_leaf and not (x * 2).is_leaf and len(x) == 2
    assert np.shares_memory(x.numpy(), x.data) and not x.numpy().flags.writeable
    assert x.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(x.T.data, x.data.T)
    assert mg.tensor([[2.5]]).item() == 2.5 and isinstance(mg.tensor([[2.5]]).item(), float)
    assert mg.tensor(7).item() == 7


def test_comparisons_give_bool_tensors_without_grad():
    a = f64([1.0, 2.0, 3.0])
    b = np.array([2.0, 2.0, 2.0])
    for got, want in [(a < b, a.data < b), (a <= 2, a.data <= 2), (a > b, a.data > b),
                      (a >= 2, a.data >= 2), (a == b, a.data == b), (a != 2, a.data != 2)]:
        assert got.dtype == np.bool_ and not got.requires_grad
        np.testing.assert_array_equal(got.data, want)


# ---- every method: forward against numpy, gradient by gradcheck (float64)

CASES = {  # name: (minigrad function, numpy reference, input)
    "exp": (lambda x: x.exp(), np.exp, X),
    "log": (lambda x: x.log(), np.log, np.abs(X) + 0.1),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, np.abs(X) + 0.1),
    "square": (lambda x: x.square(), np.square, X),
    "abs": (lambda x: x.abs(), np.abs, away_from(X, 0.0)),
    "clip": (lambda x: x.clip(-0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), away_from(X, -0.5, 0.7)),
    "clip min only": (lambda x: x.clip(min=0.2), lambda x: np.clip(x, 0.2, None), away_from(X, 0.2)),
    "relu": (lambda x: x.relu(), lambda x: np.maximum(x, 0), away_from(X, 0.0)),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), 3 * X),
    "tanh": (lambda x: x.tanh(), np.tanh, 2 * X),
    "softmax": (lambda x: x.softmax(), lambda x: softmax_ref(x, -1), X),
    "softmax axis 1": (lambda x: x.softmax(axis=1), lambda x: softmax_ref(x, 1), X),
    "log_softmax": (lambda x: x.log_softmax(), lambda x: np.log(softmax_ref(x, -1)), X),
    "log_softmax axis 0": (lambda x: x.log_softmax(0), lambda x: np.log(softmax_ref(x, 0)), X),
    "sum": (lambda x: x.sum(), np.sum, X),
    "sum axis": (lambda x: x.sum(axis=1), lambda x: x.sum(axis=1), X),
    "sum axes keepdims": (lambda x: x.sum(axis=(0, 2), keepdims=True), lambda x: x.sum(axis=(0, 2), keepdims=True), X),
    "sum negative axis": (lambda x: x.sum(axis=-1), lambda x: x.sum(axis=-1), X),
    "mean": (lambda x: x.mean(), np.mean, X),
    "mean axes": (lambda x: x.mean(axis=(1, 2)), lambda x: x.mean(axis=(1, 2)), X),
    "mean keepdims": (lambda x: x.mean(axis=0, keepdims=True), lambda x: x.mean(axis=0, keepdims=True), X),
    "var": (lambda x: x.var(), np.var, X),
    "var axis": (lambda x: x.var(axis=2), lambda x: x.var(axis=2), X),
    "var ddof": (lambda x: x.var(axis=(0, 1), ddof=1), lambda x: x.var(axis=(0, 1), ddof=1), X),
    "var keepdims": (lambda x: x.var(axis=1, keepdims=True), lambda x: x.var(axis=1, keepdims=True), X),
    "max": (lambda x: x.max(), np.max, distinct(X.shape)),
    "max axis": (lambda x: x.max(axis=1), lambda x: x.max(axis=1), distinct(X.shape)),
    "max keepdims": (lambda x: x.max(axis=(0, 2), keepdims=True), lambda x: x.max(axis=(0, 2), keepdims=True),
                     distinct(X.shape)),
    "min": (lambda x: x.min(), np.min, distinct(X.shape)),
    "min axis": (lambda x: x.min(axis=-1), lambda x: x.min(axis=-1), distinct(X.shape)),
    "reshape": (lambda x: x.reshape(6, -1), lambda x: x.reshape(6, -1), X),
    "reshape tuple": (lambda x: x.reshape((4, 6)), lambda x: x.reshape(4, 6), X),
    "flatten": (lambda x: x.flatten(), lambda x: x.reshape(-1), X),
    "flatten 1": (lambda x: x.flatten(1), lambda x: x.reshape(2, -1), X),
    "transpose": (lambda x: x.transpose(), np.transpose, X),
    "transpose axes": (lambda x: x.transpose(1, 0, 2), lambda x: x.transpose(1, 0, 2), X),
    "transpose tuple": (lambda x: x.transpose((2, 0, 1)), lambda x: x.transpose(2, 0, 1), X),
    "T": (lambda x: x.T, lambda x: x.T, X),
    "astype": (lambda x: x.astype("float64") * 2, lambda x: x * 2, X),
    "neg": (lambda x: -x, np.negative, X),
    "add scalar": (lambda x: x + 2, lambda x: x + 2, X),
    "radd": (lambda x: 2.5 + x, lambda x: 2.5 + x, X),
    "sub": (lambda x: x - 1.5, lambda x: x - 1.5, X),
    "rsub": (lambda x: 1.5 - x, lambda x: 1.5 - x, X),
    "mul": (lambda x: x * 3, lambda x: x * 3, X),
    "rmul": (lambda x: 3 * x, lambda x: 3 * x, X),
    "div": (lambda x: x / 4, lambda x: x / 4, X),
    "rdiv": (lambda x: 2 / x, lambda x: 2 / x, away_from(X, 0.0, gap=0.2)),
    "pow": (lambda x: x ** 3, lambda x: x ** 3, X),
    "pow fractional": (lambda x: x ** 1.5, lambda x: x ** 1.5, np.abs(X) + 0.1),
    "rpow": (lambda x: 2 ** x, lambda x: 2 ** x, X),
    "array operand": (lambda x: x * np.arange(4.0), lambda x: x * np.arange(4.0), X),
    "array left operand": (lambda x: np.arange(4.0) - x, lambda x: np.arange(4.0) - x, X),
}


@pytest.mark.parametrize("name", CASES)
def test_method_forward_and_gradient(name):
    fn, reference, values = CASES[name]
    x = f64(values)
    out = fn(x)
    np.testing.assert_allclose(out.data, reference(values), rtol=1e-12, atol=1e-12)
    assert out.dtype == np.float64
    assert mg.gradcheck(fn, [x])


BINARY = {  # broadcasting pairs
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "pow": (lambda a, b: a ** b, np.power),
    "maximum": (mg.maximum, np.maximum),
    "minimum": (mg.minimum, np.minimum),
}


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize(("shape_a", "shape_b"), [((2, 3), (2, 3)), ((2, 1, 3), (4, 1)), ((), (3,)), ((3,), (2, 1))])
def test_binary_operators_broadcast(name, shape_a, shape_b):
    fn, reference = BINARY[name]
    a = np.random.default_rng(2).uniform(0.5, 2.0, shape_a)
    b = np.random.default_rng(3).uniform(0.5, 2.0, shape_b) + 0.01  # never equal to a: no ties
    ta, tb = f64(a), f64(b)
    out = fn(ta, tb)
    assert out.shape == np.broadcast_shapes(shape_a, shape_b)
    np.testing.assert_allclose(out.data, reference(a, b), rtol=1e-12)
    assert mg.gradcheck(fn, [ta, tb])


def test_argmax_and_argmin_have_no_grad():
    values = distinct((3, 4))
    x = f64(values)
    for got, want in [(x.argmax(), values.argmax()), (x.argmax(axis=1), values.argmax(axis=1)),
                      (x.argmin(axis=0), values.argmin(axis=0))]:
        assert not got.requires_grad
        np.testing.assert_array_equal(got.data, want)


# ---- ties and kinks, as PyTorch

def test_max_and_min_share_the_gradient_equally_among_ties():
    x = f64([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])
    y = f64([[1.0, 0.0], [0.0, 0.0]])
    y.min().backward()
    np.testing.assert_allclose(y.grad.data, [[0.0, 1 / 3], [1 / 3, 1 / 3]])


def test_maximum_and_minimum_share_the_gradient_at_ties():
    a, b = f64([1.0, 2.0]), f64([1.0, 3.0])
    (mg.maximum(a, b) + mg.minimum(a, b) * 10).sum().backward()
    np.testing.assert_allclose(a.grad.data, [0.5 + 5.0, 10.0])
    np.testing.assert_allclose(b.grad.data, [0.5 + 5.0, 1.0])


@pytest.mark.parametrize("method", ["abs", "relu"])
def test_abs_and_relu_have_zero_gradient_at_zero(method):
    x = f64([-1.0, 0.0, 2.0])
    getattr(x, method)().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0 if method == "abs" else 0.0, 0.0, 1.0])


# ---- numerical stability

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_are_stable_for_logits_in_the_thousands(dtype):
    logits = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -3000.0], [5000.0, 0.0, -5000.0]], dtype=dtype)
    x = mg.tensor(logits, requires_grad=True)
    g = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0], [1.0, 1.0, -2.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, ls = x.softmax(), x.log_softmax()
        (ls * mg.tensor(g)).sum().backward()
    expected = softmax_ref(logits.astype(np.float64), -1)
    assert s.dtype == ls.dtype == dtype
    np.testing.assert_allclose(s.data, expected, rtol=1e-6, atol=1e-30)
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    np.testing.assert_allclose(ls.data, shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True)), rtol=1e-6)
    # d/dx Σ g · log_softmax(x) = g − softmax(x) Σ g
    np.testing.assert_allclose(x.grad.data, g - expected * g.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_tanh_are_stable_for_large_inputs(dtype):
    values = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=dtype)
    x = mg.tensor(values, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, t = x.sigmoid(), x.tanh()
        (s + t).sum().backward()
    v = values.astype(np.float64)
    np.testing.assert_allclose(s.data, np.exp(-np.logaddexp(0, -v)), rtol=1e-6)
    np.testing.assert_allclose(t.data, np.tanh(v), rtol=1e-6)
    e, e2 = np.exp(-np.abs(v)), np.exp(-2 * np.abs(v))  # σ'(v) = e^-|v| / (1 + e^-|v|)², tanh'(v) = 4σ'(2v)
    np.testing.assert_allclose(x.grad.data, e / (1 + e) ** 2 + 4 * e2 / (1 + e2) ** 2, rtol=1e-5, atol=1e-30)
    assert s.dtype == t.dtype == dtype


# ---- indexing

INDICES = {
    "int": 1,
    "negative int": -1,
    "slice": (slice(None), slice(1, 3)),
    "step": (Ellipsis, slice(None, None, 2)),
    "negative step": (slice(None), slice(None, None, -1)),
    "newaxis": (None, 0),
    "int and slice": (1, slice(None), 2),
    "integer array with repeats": np.array([0, 1, 0, 0]),
    "integer list": [1, 0],
    "two integer arrays": (np.array([0, 1, 1]), np.array([2, 0, 2])),
    "integer array and slice": (slice(None), np.array([[0, 2], [2, 2]])),
    "boolean mask": X[:, :, 0] > 0,
    "tensor index": mg.tensor([1, 1, 0]),
}


@pytest.mark.parametrize("name", INDICES)
def test_indexing_forward_and_gradient(name):
    index = INDICES[name]
    x = f64(X)
    numpy_index = index.data if isinstance(index, mg.Tensor) else index
    np.testing.assert_array_equal(x[index].data, X[numpy_index])
    assert mg.gradcheck(lambda t: t[index], [x])


def test_repeated_integer_indices_accumulate_gradients():
    x = f64([10.0, 20.0, 30.0])
    (x[[0, 2, 0, 0]] * f64([1.0, 2.0, 3.0, 4.0], requires_grad=False)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [8.0, 0.0, 2.0])
    m = f64(np.zeros((2, 2)))
    m[np.array([1, 1]), np.array([0, 0])].sum().backward()
    np.testing.assert_array_equal(m.grad.data, [[0.0, 0.0], [2.0, 0.0]])


# ---- mg.* functions

def test_where():
    cond = X > 0
    a, b = f64(X), f64(2 * X[:1])
    out = mg.where(cond, a, b)
    np.testing.assert_array_equal(out.data, np.where(cond, X, 2 * X[:1]))
    assert mg.gradcheck(lambda p, q: mg.where(cond, p, q), [a, b])
    np.testing.assert_array_equal(mg.where(mg.tensor(cond), a, 0.0).data, np.where(cond, X, 0.0))


def test_maximum_and_minimum_with_scalars():
    values = away_from(X, 0.3)
    x = f64(values)
    np.testing.assert_array_equal(mg.maximum(x, 0.3).data, np.maximum(values, 0.3))
    np.testing.assert_array_equal(mg.minimum(0.3, x).data, np.minimum(0.3, values))
    assert mg.gradcheck(lambda t: mg.maximum(t, 0.3) + mg.minimum(0.3, t) * 2, [x])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(axis):
    parts = [RNG.standard_normal(tuple(k if i == axis % 3 else s for i, s in enumerate((2, 3, 4))))
             for k in (1, 2, 3)]
    ts = [f64(p) for p in parts]
    np.testing.assert_array_equal(mg.concatenate(ts, axis=axis).data, np.concatenate(parts, axis=axis))
    assert mg.gradcheck(lambda *xs: mg.concatenate(xs, axis=axis), ts)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(axis):
    parts = [RNG.standard_normal((2, 3)) for _ in range(3)]
    ts = [f64(p) for p in parts]
    np.testing.assert_array_equal(mg.stack(ts, axis=axis).data, np.stack(parts, axis=axis))
    assert mg.gradcheck(lambda *xs: mg.stack(xs, axis=axis), ts)


@pytest.mark.parametrize("pad_width", [1, (1, 2), ((0, 1), (2, 0), (1, 1)), ((1, 1),)])
def test_pad(pad_width):
    x = f64(X)
    np.testing.assert_array_equal(mg.pad(x, pad_width, value=-2.0).data,
                                  np.pad(X, pad_width, mode="constant", constant_values=-2.0))
    assert mg.gradcheck(lambda t: mg.pad(t, pad_width), [x])


# ---- matmul

@pytest.mark.parametrize(("shape_a", "shape_b"), [
    ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3,)), ((3,), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (4, 3, 2)),
])
def test_matmul_with_1d_and_batched_operands(shape_a, shape_b):
    a, b = RNG.standard_normal(shape_a), RNG.standard_normal(shape_b)
    ta, tb = f64(a), f64(b)
    out = ta @ tb
    assert out.shape == np.matmul(a, b).shape
    np.testing.assert_allclose(out.data, np.matmul(a, b), rtol=1e-12)
    np.testing.assert_allclose(mg.matmul(ta, tb).data, np.matmul(a, b), rtol=1e-12)
    assert mg.gradcheck(lambda p, q: p @ q, [ta, tb])


def test_matmul_with_an_array_operand():
    a = RNG.standard_normal((2, 3))
    x = f64(RNG.standard_normal((3, 4)))
    np.testing.assert_allclose((a @ x).data, a @ x.data)
    np.testing.assert_allclose((x.T @ a.T).data, x.data.T @ a.T)


# ---- repr

def test_repr():
    assert repr(mg.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(mg.tensor([1.0, 2.0], requires_grad=True) * 2) == "tensor([2., 4.], op=mul)"
    assert repr(mg.tensor(np.array([1.0, 2.0]))) == "tensor([1., 2.], dtype=float64)"
    assert repr(mg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(mg.tensor(3.0, name="t")) == "tensor(3., name='t')"
    assert repr(mg.tensor([[1.5, 2.0], [3.0, 4.0]])) == "tensor([[1.5, 2. ],\n        [3. , 4. ]])"
