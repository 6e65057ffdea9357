"""Every primitive in ``minigrad.ops.registry``: its forward equals the numpy expression (or
explicit loop) it stands for, and its VJP passes gradcheck and gradgradcheck in float64 on
shapes drawn by hypothesis. A test also pins the registry to the primitive set of docs/design.md, and
another checks that every registered primitive is covered here."""

import math

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from helpers import leaf
from hypothesis import given, settings

import minigrad as mg
from minigrad import ops
from minigrad.testing import assert_gradients_close, strategies

FAST = settings(max_examples=20, deadline=None)
DESIGN_PRIMITIVES = {"add", "mul", "div", "neg", "pow", "exp", "log", "maximum", "where", "sum", "max", "matmul",
                     "reshape", "transpose", "broadcast_to", "sum_to", "getitem", "scatter_add", "pad",
                     "concatenate", "windows", "fold", "correlate", "cast",
                     "tanh"}  # for accuracy near 0, which no composition of exp keeps
COVERED: set[str] = set()


def covers(*names):
    """Marks a test as the check of these primitives (see test_every_primitive_is_tested)."""
    COVERED.update(names)
    return lambda test: test


shapes = strategies.shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
pairs = strategies.broadcastable_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
seeds = st.integers(0, 2**32 - 1)



def uniform(seed, shape, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def away_from_zero(seed, shape):
    """Values in ±[0.5, 2]: safe denominators."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(seed, shape):
    """Values at least 0.1 apart, so that max/maximum are differentiable everywhere (no ties)."""
    n = math.prod(shape)
    return np.random.default_rng(seed).permutation(n).reshape(shape) * 0.1 - 0.05 * n


def check(fn, inputs, expected, eps=1e-6):
    """Forward equals ``expected``; first and second derivatives pass the numerical checks."""
    out = fn(*inputs)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert_gradients_close(fn, inputs, eps=eps, second_order=True)


# ---- the registry

def test_registry_is_designs_primitive_set():
    assert set(ops.registry) == DESIGN_PRIMITIVES  # tests that define primitives remove them again
    assert all(p.name == name for name, p in ops.registry.items())


def test_every_primitive_is_tested():
    """Every registered primitive has a test below (``covers`` runs at import, before any test)."""
    assert set(ops.registry) - COVERED == set()


# ---- elementwise, binary (broadcasting pairs)

@covers("add")
@FAST
@given(pairs, seeds)
def test_add(sh, seed):
    a, b = uniform(seed, sh[0]), uniform(seed + 1, sh[1])
    check(ops.add, [leaf(a), leaf(b)], a + b)


@covers("mul")
@FAST
@given(pairs, seeds)
def test_mul(sh, seed):
    a, b = uniform(seed, sh[0]), uniform(seed + 1, sh[1])
    check(ops.mul, [leaf(a), leaf(b)], a * b)


@covers("div")
@FAST
@given(pairs, seeds)
def test_div(sh, seed):
    a, b = uniform(seed, sh[0]), away_from_zero(seed + 1, sh[1])
    check(ops.div, [leaf(a), leaf(b)], a / b)


@covers("pow")
@FAST
@given(pairs, seeds)
def test_pow(sh, seed):
    """Positive bases, so that a**b and its derivative in b (a**b · log a) exist."""
    a, b = uniform(seed, sh[0], 0.5, 2.0), uniform(seed + 1, sh[1])
    check(ops.pow, [leaf(a), leaf(b)], a ** b)


@covers("maximum")
@FAST
@given(pairs, seeds)
def test_maximum(sh, seed):
    """a on even multiples of 0.1, b on odd ones: never tied, always at least 0.1 apart."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-10, 10, sh[0]) * 0.2
    b = rng.integers(-10, 10, sh[1]) * 0.2 + 0.1
    check(ops.maximum, [leaf(a), leaf(b)], np.maximum(a, b))


def test_maximum_shares_the_gradient_at_ties():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([1.0, 5.0, 0.0])
    ops.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.data, [0.5, 1.0, 0.0])


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_maximum_gradient_stays_in_the_inputs_precision(dtype):
    a = mg.tensor(np.array([1.0, 2.0, 3.0, np.nan], dtype=dtype), requires_grad=True)
    b = mg.tensor(np.array([1.0, 5.0, 0.0, 1.0], dtype=dtype), requires_grad=True)
    ops.maximum(a, b).sum().backward()
    for grad, expected in ((a.grad.data, [0.5, 0.0, 1.0, 1.0]), (b.grad.data, [0.5, 1.0, 0.0, 1.0])):
        assert grad.dtype == dtype
        np.testing.assert_array_equal(grad, expected)


@covers("where")
@FAST
@given(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3), seeds)
def test_where(sh, seed):
    cond = np.random.default_rng(seed).random(sh.input_shapes[0]) < 0.5
    a, b = uniform(seed + 1, sh.input_shapes[1]), uniform(seed + 2, sh.input_shapes[2])
    check(ops.where, [mg.tensor(cond), leaf(a), leaf(b)], np.where(cond, a, b))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("values", [[-0.0, 0.0, -2.5, 3.0], [np.nan, np.inf, -np.inf, -0.0, 0.0, -2.5, 3.0]])
def test_where_with_a_zero_scalar_is_bit_exact(dtype, values):
    """where(cond, a, 0) (relu, where's VJPs) is np.where, the textbook path, bit for bit with the
    fast kernels on (an integer multiply): NaN, ±inf and −0.0 where cond holds, +0.0 elsewhere,
    also under a non-finite a; a −0.0 scalar stays −0.0."""
    a = np.array(values * 2, dtype=dtype)
    cond = np.repeat([True, False], len(values))
    unsigned = f"u{a.itemsize}"
    for b in (0.0, -0.0):
        zero = np.array(b, dtype=dtype)
        got = ops.where(mg.tensor(cond), mg.tensor(a), mg.tensor(zero)).data
        assert got.dtype == a.dtype
        np.testing.assert_array_equal(got.view(unsigned), np.where(cond, a, zero).view(unsigned))


# ---- elementwise, unary

@covers("neg")
@FAST
@given(shapes, seeds)
def test_neg(shape, seed):
    a = uniform(seed, shape)
    check(ops.neg, [leaf(a)], -a)


@covers("exp")
@FAST
@given(shapes, seeds)
def test_exp(shape, seed):
    a = uniform(seed, shape)
    check(ops.exp, [leaf(a)], np.exp(a))


@covers("log")
@FAST
@given(shapes, seeds)
def test_log(shape, seed):
    a = uniform(seed, shape, 0.5, 3.0)
    check(ops.log, [leaf(a)], np.log(a))


@covers("tanh")
@FAST
@given(shapes, seeds)
def test_tanh(shape, seed):
    a = uniform(seed, shape, -3.0, 3.0)
    check(ops.tanh, [leaf(a)], np.tanh(a))


@covers("cast")
@FAST
@given(shapes, seeds)
def test_cast_round_trip_through_float32(shape, seed):
    """float64 → float32 → float64: the identity up to float32 rounding, so a coarse eps is exact enough."""
    a = uniform(seed, shape)

    def fn(x):
        return ops.cast(ops.cast(x, dtype=np.dtype(np.float32)), dtype=np.dtype(np.float64))

    assert ops.cast(leaf(a), dtype=np.dtype(np.float32)).dtype == np.float32
    check(fn, [leaf(a)], a.astype(np.float32).astype(np.float64), eps=1e-3)


def test_cast_gradient_has_the_input_dtype():
    x = mg.tensor([1.0, 2.0], requires_grad=True)  # float32
    y = ops.cast(x, dtype=np.dtype(np.float64))
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


# ---- reductions

@st.composite
def shape_and_axes(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    axes = draw(st.none() | st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True).map(tuple))
    return shape, axes, draw(st.booleans())


@covers("sum")
@FAST
@given(shape_and_axes(), seeds)
def test_sum(case, seed):
    shape, axis, keepdims = case
    a = uniform(seed, shape)
    check(lambda x: ops.sum(x, axis=axis, keepdims=keepdims), [leaf(a)], np.sum(a, axis=axis, keepdims=keepdims))


@covers("max")
@FAST
@given(shape_and_axes(), seeds)
def test_max(case, seed):
    shape, axis, keepdims = case
    a = distinct(seed, shape)
    check(lambda x: ops.max(x, axis=axis, keepdims=keepdims), [leaf(a)], np.max(a, axis=axis, keepdims=keepdims))


def test_max_shares_the_gradient_equally_among_ties():
    x = leaf([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    ops.max(x, axis=(1,), keepdims=False).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0.5, 0.0, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    y = leaf([[1.0, 4.0], [4.0, 0.0]])
    ops.max(y, axis=None, keepdims=False).backward()
    np.testing.assert_array_equal(y.grad.data, [[0.0, 0.5], [0.5, 0.0]])

    z = leaf([[5.0, 5.0], [np.nan, 0.0]])  # one winner per row in all, but row 0 is a tie
    ops.max(z, axis=(1,), keepdims=False).sum().backward()
    np.testing.assert_array_equal(z.grad.data[0], [0.5, 0.5])


@pytest.mark.parametrize("ties", [255, 256, 70_000])
def test_max_shares_among_more_ties_than_a_byte_counts(ties):
    x = leaf(np.zeros((2, ties)))
    ops.max(x, axis=(1,), keepdims=False).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, ties), 1 / ties))

# ---- matmul (batched, leading axes broadcast)

@covers("matmul")
@FAST
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=2),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), seeds)
def test_matmul(batch, m, k, n, seed):
    a = uniform(seed, (*batch.input_shapes[0], m, k))
    b = uniform(seed + 1, (*batch.input_shapes[1], k, n))
    expected = np.sum(a[..., :, :, None] * b[..., None, :, :], axis=-2)  # Σ_k a[..., i, k] · b[..., k, j]
    check(ops.matmul, [leaf(a), leaf(b)], expected)


# ---- shape primitives (linear; their VJPs are their adjoint partners)

@st.composite
def shape_and_reshape(draw):
    shape = draw(shapes)
    n = math.prod(shape)
    return shape, draw(st.sampled_from([shape[::-1], (n,), (1, n), (*shape, 1), (n, 1, 1)]))


@covers("reshape")
@FAST
@given(shape_and_reshape(), seeds)
def test_reshape(case, seed):
    shape, new = case
    a = uniform(seed, shape)
    check(lambda x: ops.reshape(x, shape=new), [leaf(a)], a.reshape(new))


@st.composite
def shape_and_permutation(draw):
    shape = draw(shapes)
    return shape, tuple(draw(st.permutations(range(len(shape)))))


@covers("transpose")
@FAST
@given(shape_and_permutation(), seeds)
def test_transpose(case, seed):
    shape, axes = case
    a = uniform(seed, shape)
    check(lambda x: ops.transpose(x, axes=axes), [leaf(a)], np.transpose(a, axes))


@st.composite
def small_and_big_shape(draw):
    """A shape and a shape it broadcasts to."""
    small = draw(shapes)
    other = draw(hnp.broadcastable_shapes(small, min_dims=0, max_dims=3, max_side=3))
    return small, np.broadcast_shapes(small, other)


@covers("broadcast_to")
@FAST
@given(small_and_big_shape(), seeds)
def test_broadcast_to(case, seed):
    small, big = case
    a = uniform(seed, small)
    check(lambda x: ops.broadcast_to(x, shape=big), [leaf(a)], np.broadcast_to(a, big))


def sum_to_loops(x, shape):
    """Each entry of x added to the entry of ``shape`` it was broadcast from (explicit loop)."""
    out = np.zeros(shape)
    lead = x.ndim - len(shape)
    for idx in np.ndindex(*x.shape):
        out[tuple(0 if d == 1 else i for i, d in zip(idx[lead:], shape, strict=True))] += x[idx]
    return out


@covers("sum_to")
@FAST
@given(small_and_big_shape(), seeds)
def test_sum_to(case, seed):
    small, big = case
    a = uniform(seed, big)
    check(lambda x: ops.sum_to(x, shape=small), [leaf(a)], sum_to_loops(a, small))


@st.composite
def shape_and_index(draw):
    """A shape and a basic index (ints, slices with steps, None, ...) or integer arrays (repeats allowed)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True)
                 | hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)))
    return shape, index if isinstance(index, tuple) else (index,)


@covers("getitem")
@FAST
@given(shape_and_index(), seeds)
def test_getitem(case, seed):
    shape, index = case
    a = uniform(seed, shape)
    check(lambda x: ops.getitem(x, index=index), [leaf(a)], a[index])


def test_getitem_repeated_indices_accumulate():
    x = leaf([1.0, 2.0, 3.0])
    ops.getitem(x, index=(np.array([0, 2, 0, 0]),)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


def scatter_add_loops(x, index, shape):
    """Each entry of x added at the position of ``shape`` that ``index`` picks for it (explicit loop)."""
    positions = np.arange(math.prod(shape)).reshape(shape)[index]
    out = np.zeros(math.prod(shape))
    for j in np.ndindex(*x.shape):
        out[positions[j]] += x[j]
    return out.reshape(shape)


@covers("scatter_add")
@FAST
@given(shape_and_index(), seeds)
def test_scatter_add(case, seed):
    shape, index = case
    a = uniform(seed, np.zeros(shape)[index].shape)
    check(lambda x: ops.scatter_add(x, index=index, shape=shape), [leaf(a)], scatter_add_loops(a, index, shape))


@covers("pad")
@FAST
@given(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), st.data(), st.floats(-3, 3), seeds)
def test_pad(shape, data, value, seed):
    widths = tuple(data.draw(st.tuples(st.integers(0, 2), st.integers(0, 2))) for _ in shape)
    a = uniform(seed, shape)
    check(lambda x: ops.pad(x, pad_width=widths, value=value), [leaf(a)],
          np.pad(a, widths, mode="constant", constant_values=value))


@covers("concatenate")
@FAST
@given(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), st.data(), seeds)
def test_concatenate(shape, data, seed):
    axis = data.draw(st.integers(0, len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    arrays = [uniform(seed + i, (*shape[:axis], s, *shape[axis + 1:])) for i, s in enumerate(sizes)]
    check(lambda *xs: ops.concatenate(*xs, axis=axis), [leaf(a) for a in arrays], np.concatenate(arrays, axis=axis))


# ---- sliding windows and their adjoint

@st.composite
def window_geometry(draw):
    """(lead shape, spatial size, kernel, stride, dilation) for 1 or 2 spatial axes, kernel fitting."""
    d = draw(st.integers(1, 2))
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=2))
    kernel, stride, dilation, size = [], [], [], []
    for _ in range(d):
        k, dl = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        kernel.append(k)
        dilation.append(dl)
        stride.append(draw(st.integers(1, 3)))
        size.append(draw(st.integers(dl * (k - 1) + 1, dl * (k - 1) + 4)))
    return lead, tuple(size), tuple(kernel), tuple(stride), tuple(dilation)


def positions(size, kernel, stride, dilation):
    """L = ⌊(S − D(K − 1) − 1) / stride⌋ + 1 window positions per axis."""
    return tuple((s - dl * (k - 1) - 1) // t + 1 for s, k, t, dl in zip(size, kernel, stride, dilation, strict=True))


def source(pk, stride, dilation):
    """The input position p·stride + k·dilation that window position p, kernel offset k reads."""
    d = len(stride)
    return tuple(p * s + k * dl for p, k, s, dl in zip(pk[:d], pk[d:], stride, dilation, strict=True))


def windows_loops(x, kernel, stride, dilation):
    """out[..., l, k] = x[..., l·stride + k·dilation], one window entry at a time."""
    d, L = len(kernel), positions(x.shape[-len(kernel):], kernel, stride, dilation)
    out = np.zeros(x.shape[:-d] + L + kernel)
    for pk in np.ndindex(*L, *kernel):
        out[(Ellipsis, *pk)] = x[(Ellipsis, *source(pk, stride, dilation))]
    return out


def fold_loops(g, size, kernel, stride, dilation):
    """The adjoint of windows_loops: each window entry added back where it was taken from."""
    d, L = len(kernel), g.shape[-2 * len(kernel):-len(kernel)]
    out = np.zeros(g.shape[:-2 * d] + size)
    for pk in np.ndindex(*L, *kernel):
        out[(Ellipsis, *source(pk, stride, dilation))] += g[(Ellipsis, *pk)]
    return out


@covers("windows")
@FAST
@given(window_geometry(), seeds)
def test_windows(geometry, seed):
    lead, size, kernel, stride, dilation = geometry
    a = uniform(seed, lead + size)
    check(lambda x: ops.windows(x, kernel_size=kernel, stride=stride, dilation=dilation), [leaf(a)],
          windows_loops(a, kernel, stride, dilation))


@covers("fold")
@FAST
@given(window_geometry(), seeds)
def test_fold(geometry, seed):
    lead, size, kernel, stride, dilation = geometry
    g = uniform(seed, lead + positions(size, kernel, stride, dilation) + kernel)
    check(lambda x: ops.fold(x, size=size, kernel_size=kernel, stride=stride, dilation=dilation), [leaf(g)],
          fold_loops(g, size, kernel, stride, dilation))


@pytest.mark.parametrize(("size", "kernel", "stride", "dilation"), [
    ((4, 6), (2, 2), (2, 2), (1, 1)),   # 2×2/2 pooling: the windows tile the input
    ((7, 5), (2, 2), (3, 2), (2, 1)),   # gaps between windows and an uncovered edge
])
def test_fold_of_windows_that_do_not_overlap(size, kernel, stride, dilation):
    """Where stride ≥ the window's span, fold copies every window into place at once; what no
    window covers stays zero."""
    g = uniform(3, (2, *positions(size, kernel, stride, dilation), *kernel))
    out = ops.fold(mg.tensor(g), size=size, kernel_size=kernel, stride=stride, dilation=dilation)
    np.testing.assert_array_equal(out.data, fold_loops(g, size, kernel, stride, dilation))


@FAST
@given(window_geometry(), seeds)
def test_windows_and_fold_are_adjoint(geometry, seed):
    """<windows(x), g> = <x, fold(g)> for all x, g: the defining property of an adjoint pair."""
    lead, size, kernel, stride, dilation = geometry
    x = mg.tensor(uniform(seed, lead + size))
    g = mg.tensor(uniform(seed + 1, lead + positions(size, kernel, stride, dilation) + kernel))
    lhs = np.sum(ops.windows(x, kernel_size=kernel, stride=stride, dilation=dilation).data * g.data)
    rhs = np.sum(x.data * ops.fold(g, size=size, kernel_size=kernel, stride=stride, dilation=dilation).data)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


# ---- correlate

@st.composite
def correlate_geometry(draw):
    """Shapes and hyper-parameters of a valid 1-D or 2-D correlation, groups included."""
    d, groups = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n, cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel, stride, padding, dilation, size = [], [], [], [], []
    for _ in range(d):
        k, dl, p = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1))
        kernel.append(k)
        dilation.append(dl)
        padding.append(p)
        stride.append(draw(st.integers(1, 2)))
        size.append(draw(st.integers(max(1, dl * (k - 1) + 1 - 2 * p), dl * (k - 1) + 3)))
    return ((n, cg * groups, *size), (og * groups, cg, *kernel),
            {"stride": tuple(stride), "padding": tuple(padding), "dilation": tuple(dilation), "groups": groups})


def correlate_reference(x, w, stride, padding, dilation, groups):
    """y[n, o, l] = Σ_{c,k} w[o, c, k] · x_pad[n, group(o)·C/g + c, l·stride + k·dilation],
    summed one kernel offset at a time with numpy slicing (no im2col, no strided tricks)."""
    d = len(stride)
    xp = np.pad(x, ((0, 0), (0, 0), *((p, p) for p in padding)))
    L = positions(xp.shape[2:], w.shape[2:], stride, dilation)
    o, cg = w.shape[:2]
    y = np.zeros((x.shape[0], o, *L))
    for g in range(groups):
        xs, ws = xp[:, g * cg:(g + 1) * cg], w[g * (o // groups):(g + 1) * (o // groups)]
        for k in np.ndindex(*w.shape[2:]):
            taps = xs[(slice(None), slice(None), *(slice(ki * dl, ki * dl + s * (n - 1) + 1, s)
                                                   for ki, dl, s, n in zip(k, dilation, stride, L, strict=True)))]
            y[:, g * (o // groups):(g + 1) * (o // groups)] += np.tensordot(taps, ws[(Ellipsis, *k)], axes=([1], [1])) \
                .transpose(0, d + 1, *range(1, d + 1))
    return y


@covers("correlate")
@settings(max_examples=25, deadline=None)
@given(correlate_geometry(), seeds)
def test_correlate(geometry, seed):
    x_shape, w_shape, params = geometry
    x, w = uniform(seed, x_shape), uniform(seed + 1, w_shape)
    check(lambda a, b: ops.correlate(a, b, **params), [leaf(x), leaf(w)], correlate_reference(x, w, **params))
