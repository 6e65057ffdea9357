"""Differential testing against PyTorch: hypothesis writes small programs of minigrad's
operations and layers, and each is run through minigrad and through PyTorch; forward values,
first derivatives and Hessian-vector products (double backward) must agree.

The budget is small in the test suite; set MINIGRAD_FUZZ_EXAMPLES (e.g. 1000) for a long run.
Every mismatch a run has found is kept as a named regression test in tests/test_edges.py.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the differential fuzz needs it")
TF = torch.nn.functional

EXAMPLES = int(os.environ.get("MINIGRAD_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                suppress_health_check=[HealthCheck.too_slow])
TOLERANCE = {"float64": {"rtol": 1e-9, "atol": 1e-10}, "float32": {"rtol": 2e-4, "atol": 2e-5}}
dtypes = st.sampled_from(["float64", "float32"])

# ---- programs of elementwise operations, reductions and reshapes
# Each operation is (arity, minigrad's form, PyTorch's form). Inputs are kept where every
# operation is smooth (log and division see values ≥ 1, pow a positive base), so the
# comparison is of the derivatives themselves, not of how NaN spreads (tests/test_edges.py).
UNARY = {
    "neg": (lambda x: -x, lambda x: -x),
    "exp": (lambda x: (x * 0.3).exp(), lambda x: (x * 0.3).exp()),
    "log": (lambda x: (x * x + 1).log(), lambda x: (x * x + 1).log()),
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh()),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    "relu": (lambda x: x.relu(), lambda x: x.relu()),
    "abs": (lambda x: x.abs(), lambda x: x.abs()),
    "sqrt": (lambda x: (x * x + 1).sqrt(), lambda x: (x * x + 1).sqrt()),
    "pow": (lambda x: (x * x + 0.5) ** 1.7, lambda x: (x * x + 0.5) ** 1.7),
    "square": (lambda x: x * x, lambda x: x * x),
    "clip": (lambda x: x.clip(-0.5, 0.7), lambda x: x.clamp(-0.5, 0.7)),
    "softmax": (lambda x: x.softmax(-1), lambda x: x.softmax(-1)),
    "log_softmax": (lambda x: x.log_softmax(-1), lambda x: x.log_softmax(-1)),
    "transpose": (lambda x: x.T, lambda x: x.permute(*reversed(range(x.ndim)))),
    "flip_last": (lambda x: x[..., ::-1], lambda x: x.flip(-1)),
    "sum_keep": (lambda x: x.sum(axis=-1, keepdims=True), lambda x: x.sum(dim=-1, keepdim=True)),
    "mean_keep": (lambda x: x.mean(axis=0, keepdims=True), lambda x: x.mean(dim=0, keepdim=True)),
    "max_keep": (lambda x: x.max(axis=-1, keepdims=True), lambda x: x.amax(dim=-1, keepdim=True)),
    "var_keep": (lambda x: x.var(axis=-1, keepdims=True), lambda x: x.var(dim=-1, keepdim=True, unbiased=False)),
}
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    "maximum": (lambda a, b: mg.maximum(a, b), lambda a, b: torch.maximum(a, b)),
    "minimum": (lambda a, b: mg.minimum(a, b), lambda a, b: torch.minimum(a, b)),
    "where": (lambda a, b: mg.where(a > b, a, b * 2), lambda a, b: torch.where(a > b, a, b * 2)),
}


RESHAPES = {  # how the unary operations that change a shape change it
    "transpose": lambda s: s[::-1], "sum_keep": lambda s: (*s[:-1], 1), "max_keep": lambda s: (*s[:-1], 1),
    "var_keep": lambda s: (*s[:-1], 1), "mean_keep": lambda s: (1, *s[1:]),
}


def _broadcast(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


@st.composite
def programs(draw):
    """(input shapes, steps): each step applies an operation to earlier values (inputs first);
    binary operations take two values whose shapes broadcast."""
    rank = draw(st.integers(1, 3))
    base = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    shapes = [tuple(base), tuple(1 if draw(st.booleans()) else d for d in base)]  # the second broadcasts
    values, steps = list(shapes), []
    for _ in range(draw(st.integers(1, 6))):
        a = draw(st.integers(0, len(values) - 1))
        partners = [b for b in range(len(values)) if _broadcast(values[a], values[b]) is not None]
        if draw(st.booleans()):
            b = draw(st.sampled_from(partners))
            steps.append((draw(st.sampled_from(sorted(BINARY))), a, b))
            values.append(_broadcast(values[a], values[b]))
        else:
            name = draw(st.sampled_from(sorted(UNARY)))
            steps.append((name, a))
            values.append(RESHAPES.get(name, lambda s: s)(values[a]))
    return shapes, steps


def run(program, inputs, framework):
    """The program's scalar output: a weighted sum of its last value (weights fixed by its shape)."""
    _, steps = program
    values = list(inputs)
    for name, *args in steps:
        table = BINARY if len(args) == 2 else UNARY
        values.append(table[name][framework](*(values[a] for a in args)))
    last = values[-1]
    weights = np.linspace(-1.0, 1.5, int(np.prod(last.shape))).reshape(last.shape)
    return (last * (mg.tensor(weights) if framework == 0 else torch.tensor(weights))).sum()


def compare(mg_fn, torch_fn, arrays, dtype):
    """Forward value, gradient and a Hessian-vector product of a scalar function, in both frameworks."""
    tol = TOLERANCE[dtype]
    xs = [mg.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    out, t_out = mg_fn(xs), torch_fn(ts)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), **tol)
    grads = mg.grad(out, xs, create_graph=True, allow_unused=True)
    t_grads = torch.autograd.grad(t_out, ts, create_graph=True, allow_unused=True)
    rng = np.random.default_rng(len(arrays))
    vs = [rng.standard_normal(a.shape).astype(dtype) for a in arrays]
    for g, tg, a in zip(grads, t_grads, arrays, strict=True):
        expected = np.zeros(a.shape) if tg is None else tg.detach().numpy()
        np.testing.assert_allclose(np.zeros(a.shape) if g is None else g.data, expected, **tol)
    used = [(g, tg, v) for g, tg, v in zip(grads, t_grads, vs, strict=True) if g is not None and tg is not None]
    if not used or not any(g.requires_grad for g, _, _ in used):
        return
    hv_out = sum(((g * mg.tensor(v)).sum() for g, _, v in used), mg.tensor(np.zeros((), dtype)))
    t_hv_out = sum((tg * torch.tensor(v)).sum() for _, tg, v in used)
    hvs = mg.grad(hv_out, xs, allow_unused=True) if hv_out.requires_grad else [None] * len(xs)
    t_hvs = torch.autograd.grad(t_hv_out, ts, allow_unused=True) if t_hv_out.requires_grad else [None] * len(ts)
    for h, th, a in zip(hvs, t_hvs, arrays, strict=True):
        np.testing.assert_allclose(np.zeros(a.shape) if h is None else h.data,
                                   np.zeros(a.shape) if th is None else th.detach().numpy(), **tol)


@FUZZ
@given(programs(), st.integers(0, 2**32 - 1), dtypes)
def test_random_programs_match_pytorch(program, seed, dtype):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-2, 2, shape) for shape in program[0]]
    compare(lambda xs: run(program, xs, 0), lambda ts: run(program, ts, 1), arrays, dtype)


# ---- layers
@st.composite
def conv_cases(draw):
    groups = draw(st.integers(1, 2))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride, dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))), (draw(st.integers(1, 2)),) * 2
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 1)))
    size = tuple(dl * (kk - 1) + 1 + draw(st.integers(0, 4)) for kk, dl in zip(k, dilation, strict=True))
    return (draw(st.integers(1, 3)), c, *size), (o, c // groups, *k), {"stride": stride, "padding": padding,
                                                                          "dilation": dilation, "groups": groups}


@FUZZ
@given(conv_cases(), st.integers(0, 2**32 - 1), dtypes)
def test_conv2d_matches_pytorch(case, seed, dtype):
    x_shape, w_shape, params = case
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])]

    compare(lambda v: (F.conv2d(*v, **params).tanh() ** 2).sum(),
            lambda v: (TF.conv2d(*v, **params).tanh() ** 2).sum(), arrays, dtype)


@st.composite
def pool_cases(draw):
    k = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    padding = draw(st.integers(0, k // 2))
    size = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), k + draw(st.integers(0, 4)), k + draw(st.integers(0, 4)))
    return size, {"kernel_size": k, "stride": stride, "padding": padding}


@FUZZ
@given(pool_cases(), st.integers(0, 2**32 - 1), dtypes, st.sampled_from(["max", "avg"]))
def test_pooling_matches_pytorch(case, seed, dtype, kind):
    shape, params = case
    rng = np.random.default_rng(seed)
    mine, theirs = (F.max_pool2d, TF.max_pool2d) if kind == "max" else (F.avg_pool2d, TF.avg_pool2d)
    compare(lambda v: (mine(v[0], **params) ** 2).sum(), lambda v: (theirs(v[0], **params) ** 2).sum(),
            [rng.standard_normal(shape)], dtype)


@FUZZ
@given(st.integers(2, 5), st.integers(1, 3), st.integers(0, 2**32 - 1), dtypes)
def test_batch_norm_and_losses_match_pytorch(n, c, seed, dtype):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((n, c, 3)), rng.uniform(0.5, 2, c), rng.standard_normal(c)
    target = rng.integers(0, c + 1, n)
    zeros, ones = np.zeros(c), np.ones(c)

    def mine(v):
        y = F.batch_norm(v[0], zeros.astype(dtype), ones.astype(dtype), v[1], v[2], training=True)
        logits = y.mean(axis=2) @ mg.tensor(np.eye(c, c + 1).astype(dtype))
        return F.cross_entropy(logits, target) + F.mse_loss(y, mg.tensor(np.ones(y.shape, dtype)))

    def theirs(v):
        y = TF.batch_norm(v[0], torch.zeros(c, dtype=v[0].dtype), torch.ones(c, dtype=v[0].dtype), v[1], v[2],
                          training=True)
        logits = y.mean(dim=2) @ torch.tensor(np.eye(c, c + 1).astype(dtype))
        return TF.cross_entropy(logits, torch.tensor(target)) + TF.mse_loss(y, torch.ones_like(y))

    compare(mine, theirs, [x, w, b], dtype)
