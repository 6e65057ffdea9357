"""The tuned kernels (minigrad/ops/kernels.py) compute the textbook correlate's sums.

Every strategy — im2col in each of its four column layouts, multiply-then-gather with the
batch axis first or last, and the weight VJP reading the forward's columns the other way —
agrees with the textbook forward (ops/conv.py) and its VJPs on random configurations:
bitwise where every sum is exact (small integers in float64), to 1e-12 otherwise.
Switching the fast kernels off, by ``mg.textbook_kernels()`` or ``MINIGRAD_KERNELS=textbook``,
gives the same numbers. The forward's columns live on its graph node and nowhere else.
"""

import contextlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import rng

import minigrad as mg
from minigrad import ops
from minigrad.ops import kernels
from minigrad.viz import to_dot

# (x shape, w shape, stride, padding, dilation, groups), chosen so that together they take
# every path: columns kernel-first (more output than kernel positions) or not, the last axis
# short (< 16: the batch axis laid out last) or long, for both orders; 1-D, 2-D and 3-D;
# batch 1 and larger; strides, padding, dilation and groups.
CONFIGS = [
    ((2, 3, 7, 6), (4, 3, 3, 2), (1, 1), (1, 0), (1, 1), 1),      # kernel-first, short rows
    ((3, 2, 5, 24), (3, 2, 2, 3), (2, 1), (0, 1), (1, 2), 1),     # kernel-first, long rows
    ((2, 3, 6, 6), (2, 3, 5, 5), (1, 1), (0, 0), (1, 1), 1),      # kernel positions outnumber outputs
    ((2, 2, 20), (3, 2, 17), (1,), (0,), (1,), 1),                # …with a long kernel row
    ((1, 4, 9, 9), (6, 2, 3, 3), (2, 2), (1, 1), (1, 1), 2),      # groups, batch 1
    ((16, 6, 10, 10), (4, 3, 5, 5), (1, 1), (2, 2), (1, 1), 2),   # a larger batch, LeNet-like
    ((2, 2, 5, 4, 6), (3, 2, 2, 3, 2), (1, 2, 1), (1, 0, 1), (2, 1, 1), 1),  # 3-D
    ((2, 8, 18, 18), (2, 8, 3, 3), (1, 1), (1, 1), (1, 1), 1),    # few output channels: multiply first
    ((1, 4, 13), (8, 1, 4), (3,), (2,), (2,), 4),                 # depthwise, 1-D
]
ORDERS = {"cost model": None, "gather then multiply": 10 ** 15, "multiply then gather": -10 ** 15}
# How correlations are cut into chunks (only ever those whose columns are too large to keep): not
# at all (these shapes are small), into
# single images and channels (a 1-byte budget), or into halves of the images and of each group's
# channels, rounded up, so that the last chunk is shorter when there are 9 images or 3 channels.
CHUNKS = {"whole": {}, "one image and channel": {"KEEP_COLUMNS": 0, "CHUNK_BYTES": 1},
          "halves": {"KEEP_COLUMNS": 0, "_chunks": lambda n, c, cell, channels_first: (min(n, 2), min(c, 2))}}


def config_params(stride, padding, dilation, groups):
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def forward_and_vjps(x, w, upstream, params, textbook=False):
    """y, dL/dX, dL/dW for L = Σ y · upstream, as arrays."""
    xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    with mg.textbook_kernels() if textbook else contextlib.nullcontext():
        y = ops.correlate(xt, wt, **params)
        y.backward(mg.tensor(upstream))
    return y.data, xt.grad.data, wt.grad.data


def draw(seed, shape, integers):
    """Small integers (every sum exact in float64) or standard normal float64 values."""
    r = rng(seed)
    return r.integers(-3, 4, shape).astype(np.float64) if integers else r.standard_normal(shape)


def random_config(seed):
    """A random valid configuration: 1-3 spatial axes, batch 1 or 9, rows short or long."""
    r = rng(seed)
    d, groups, n = int(r.integers(1, 4)), int(r.integers(1, 3)), int(r.choice([1, 9]))
    kernel = tuple(int(k) for k in r.integers(1, 4, d))
    stride, dilation = tuple(int(s) for s in r.integers(1, 3, d)), tuple(int(s) for s in r.integers(1, 3, d))
    padding = tuple(int(p) for p in r.integers(0, 2, d))
    longest = 20 if d < 3 else 7
    size = tuple(int(r.integers(dl * (k - 1) + 1, dl * (k - 1) + 1 + longest))
                 for k, dl in zip(kernel, dilation, strict=True))
    cg, og = int(r.integers(1, 4)), int(r.integers(1, 4))
    return (n, cg * groups, *size), (og * groups, cg, *kernel), stride, padding, dilation, groups


def outputs(x_shape, w_shape, stride, padding, dilation, groups):
    spatial = map(ops.out_size, x_shape[2:], w_shape[2:], stride, padding, dilation)
    return (x_shape[0], w_shape[0], *spatial)


ALL_CONFIGS = CONFIGS + [random_config(seed) for seed in range(12)]


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("integers", [True, False], ids=["exact sums", "float64"])
@pytest.mark.parametrize("config", ALL_CONFIGS)
def test_fast_kernels_agree_with_the_textbook(monkeypatch, config, integers, order, chunks):
    if ORDERS[order] is not None:
        monkeypatch.setattr(kernels, "_SLICE_ADD_COST", ORDERS[order])
    for name, value in CHUNKS[chunks].items():
        monkeypatch.setattr(kernels, name, value)
    x_shape, w_shape, *hyper = config
    params = config_params(*hyper)
    x, w, upstream = draw(1, x_shape, integers), draw(2, w_shape, integers), draw(3, outputs(*config), integers)
    fast = forward_and_vjps(x, w, upstream, params)
    textbook = forward_and_vjps(x, w, upstream, params, textbook=True)
    for mine, reference in zip(fast, textbook, strict=True):
        if integers:
            np.testing.assert_array_equal(mine, reference)
        else:
            np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12 * np.abs(reference).max())


def test_the_configurations_take_every_column_layout(monkeypatch):
    """CONFIGS gather columns in all four layouts, forwards and weight VJPs together."""
    layouts = set()
    gather = kernels._gather

    def spy(*args):
        columns = gather(*args)
        layouts.add((columns.kernel_first, columns.batch_last))
        return columns
    monkeypatch.setattr(kernels, "_gather", spy)
    monkeypatch.setattr(kernels, "_SLICE_ADD_COST", 10 ** 15)
    for x_shape, w_shape, *hyper in CONFIGS:
        forward_and_vjps(draw(1, x_shape, True), draw(2, w_shape, True),
                         draw(3, outputs(x_shape, w_shape, *hyper), True), config_params(*hyper))
    assert layouts == {(True, True), (True, False), (False, True), (False, False)}


@pytest.mark.parametrize("n", [1, 2])
def test_the_batch_goes_last_only_when_there_are_several_images(n):
    """Short rows (LeNet's 10-wide second layer) put the batch axis last, to copy runs of
    row × N entries; with one image that run would be one entry, so the rows stay as they are."""
    xc = np.zeros((6, n, 14, 14), np.float32)
    columns = kernels._gather(xc, (5, 5), (10, 10), (1, 1), (0, 0), (1, 1), 1)
    assert columns.kernel_first and columns.batch_last == (n > 1)


def test_the_textbook_forward_is_the_definition():
    """The textbook path against the formula summed one kernel offset at a time."""
    x, w = draw(4, (2, 4, 7, 5), False), draw(5, (6, 2, 3, 2), False)
    params = config_params((2, 1), (1, 2), (1, 2), 2)
    with mg.textbook_kernels():
        y = ops.correlate(mg.tensor(x), mg.tensor(w), **params).data
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)))
    expected = np.zeros(y.shape)
    for o in range(6):
        c = slice(o // 3 * 2, o // 3 * 2 + 2)  # the channels of o's group
        for i, j in np.ndindex(*y.shape[2:]):
            window = xp[:, c, 2 * i:2 * i + 3, j:j + 3:2]
            expected[:, o, i, j] = (window * w[o]).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(y, expected, rtol=1e-12)


# ---- the forward's columns: saved on its node, reused by the weight VJP, freed with the node

def conv_step(x, w, params):
    """The forward, then the weight gradient: returns (y, dL/dW) for L = Σ y²/2."""
    w.grad = None
    y = ops.correlate(x, w, **params)
    y.backward(mg.tensor(y.data))
    return y, w.grad.data


REUSED = [CONFIGS[0], CONFIGS[2], CONFIGS[3],
          ((2, 3, 9, 9), (4, 3, 3, 3), (2, 2), (1, 1), (1, 1), 1),
          ((1, 2, 4, 5, 6), (2, 2, 2, 2, 3), (1, 1, 1), (0, 1, 1), (1, 1, 2), 1)]


@pytest.mark.parametrize("config", REUSED)
def test_the_weight_vjp_reuses_the_forward_columns(monkeypatch, config):
    """The weight VJP gathers no columns of its own, and its gradient equals one from fresh columns.

    (Not where a stride leaves the input's last rows unread, as in config 1: the weight VJP's
    correlation then also computes taps past the kernel, and gathers columns of its own.)
    """
    gathered = []
    gather = kernels._gather
    monkeypatch.setattr(kernels, "_gather", lambda *args: gathered.append(args) or gather(*args))
    monkeypatch.setattr(kernels, "_SLICE_ADD_COST", 10 ** 15)  # the dX VJP gathers too: count it out
    x_shape, w_shape, *hyper = config
    params = config_params(*hyper)
    x, w = mg.tensor(draw(1, x_shape, True)), mg.tensor(draw(2, w_shape, True), requires_grad=True)
    _, reused = conv_step(x, w, params)
    assert len(gathered) == 1  # the forward's
    monkeypatch.setattr(kernels, "KEEP_COLUMNS", 0)
    gathered.clear()
    _, fresh = conv_step(x, w, params)
    assert len(gathered) == 2
    np.testing.assert_array_equal(reused, fresh)


def test_columns_live_on_the_node_and_go_with_it(monkeypatch):
    monkeypatch.setattr(kernels, "_SLICE_ADD_COST", 10 ** 15)
    x, w = mg.tensor(draw(1, (2, 3, 6, 6), False)), mg.tensor(draw(2, (4, 3, 3, 3), False), requires_grad=True)
    params = config_params((1, 1), (1, 1), (1, 1), 1)
    y = ops.correlate(x, w, **params)
    assert isinstance(y.saved, kernels.Columns) and y.saved.array.nbytes == 3 * 9 * 2 * 36 * 8  # C·K × N·L
    assert "array(" not in repr(y.saved) and "[" not in repr(y.saved)
    y.sum().backward()
    assert y.saved is None  # let go with the graph
    with mg.no_grad():
        assert ops.correlate(x, w, **params).saved is None
    with mg.textbook_kernels():
        assert ops.correlate(x, w, **params).saved is None
    monkeypatch.setattr(kernels, "KEEP_COLUMNS", 3 * 9 * 2 * 36 * 8 - 1)  # over the per-node cap
    assert ops.correlate(x, w, **params).saved is None


def test_columns_that_do_not_fit_are_gathered_again():
    """Columns handed to a correlation they were not made for (another shape) are not used."""
    x, w = draw(1, (2, 3, 8, 8), False), draw(2, (4, 3, 3, 3), False)
    params = config_params((1, 1), (0, 0), (1, 1), 1)
    positions = (6, 6)
    _, columns = kernels.correlate(x, w, positions, **params)
    other = draw(3, (2, 3, 9, 8), False)
    y_other, _ = kernels.correlate(other, w, (7, 6), **params, columns=columns)
    with mg.textbook_kernels():
        expected = ops.correlate(mg.tensor(other), mg.tensor(w), **params).data
    np.testing.assert_allclose(y_other, expected, rtol=1e-12)


def test_writing_into_x_between_forward_and_backward():
    """The old im2col cache was keyed on x's memory address: after ``x.data[...] = 0`` the
    weight gradient was the old data's or zero, depending on whether the cache hit. Now the
    forward's columns are saved on its own node, so dL/dW is the gradient of the forward
    that ran: what the textbook path gives for the data that forward saw.

    (The textbook path saves nothing and reads x during backward, so it sees the zeros: writing
    into ``.data`` between forward and backward is outside what any saved-value engine defines.)
    """
    x0, w0 = draw(1, (2, 3, 8, 8), False), draw(2, (4, 3, 3, 3), False)
    params = config_params((1, 1), (1, 1), (1, 1), 1)
    x, w = mg.tensor(x0.copy()), mg.tensor(w0, requires_grad=True)
    y = ops.correlate(x, w, **params)
    assert y.saved is not None
    x.data[...] = 0
    y.backward(mg.tensor(y.data))
    with mg.textbook_kernels():
        _, seen = conv_step(mg.tensor(x0), mg.tensor(w0, requires_grad=True), params)
    np.testing.assert_allclose(w.grad.data, seen, rtol=1e-12)
    assert np.abs(seen).sum() > 0


def test_a_graph_picture_shows_no_columns():
    x, w = mg.randn(1, 2, 6, 6, requires_grad=True), mg.randn(3, 2, 3, 3, requires_grad=True)
    y = mg.correlate(x, w, padding=1)
    _, dw = mg.grad(y.sum(), [x, w], create_graph=True)
    source = to_dot(dw.sum())  # the graph of the weight VJP, whose correlate was handed the columns
    assert "correlate" in source and "columns" not in source and "Columns" not in source


# ---- chunks: a correlation whose columns would pass CHUNK_BYTES is cut into images and channels

@pytest.mark.parametrize("n, c, cell, channels_first", [
    (8, 64, 9 * 50176 * 4, False),   # VGG16's conv1_2 forward at batch 8: single images, then channels
    (64, 8, 9 * 50176 * 4, True),    # …and its weight VJP: the images (here channels) split first
    (9, 3, 1000, False), (9, 3, 1000, True), (7, 5, 3, False), (1, 1, 10 ** 9, True)])
def test_chunks_fit_the_budget_splitting_the_cheaper_axis_first(monkeypatch, n, c, cell, channels_first):
    monkeypatch.setattr(kernels, "CHUNK_BYTES", 4000 if cell < 10 ** 5 else 16 << 20)
    images, channels = kernels._chunks(n, c, cell, channels_first)
    chunk = -(-n // images) * -(-c // channels)
    assert chunk * cell <= kernels.CHUNK_BYTES or chunk == 1
    first, (size, rest) = (channels, (c, images)) if channels_first else (images, (n, channels))
    assert rest == 1 or first == size  # the other axis is split only once the first is split through
    if first > 1 and rest == 1:  # and no more than needed
        assert -(-size // (first - 1)) * (n * c // size) * cell > kernels.CHUNK_BYTES


@pytest.mark.parametrize("order", ["gather then multiply", "multiply then gather"])
def test_chunked_correlations_stay_under_the_budget_and_keep_no_columns(monkeypatch, order):
    """With a budget of one image's and channel's columns (or a few), the three correlations
    run in chunks, every gather stays under the budget, nothing is kept on the node, and the
    forward and VJPs are the unchunked ones."""
    monkeypatch.setattr(kernels, "_SLICE_ADD_COST", ORDERS[order])
    config = ((7, 6, 9, 9), (4, 3, 3, 3), (2, 1), (1, 1), (1, 2), 2)
    x, w, upstream = draw(1, config[0], True), draw(2, config[1], True), draw(3, outputs(*config), True)
    params = config_params(*config[2:])
    whole = forward_and_vjps(x, w, upstream, params)
    chunks, columns = [], []
    in_order, gather = kernels._in_order, kernels._gather
    monkeypatch.setattr(kernels, "_in_order", lambda *args: chunks.append(1) or in_order(*args))
    monkeypatch.setattr(kernels, "_gather", lambda *args: columns.append(gather(*args).array.nbytes) or gather(*args))
    monkeypatch.setattr(kernels, "KEEP_COLUMNS", 0)
    monkeypatch.setattr(kernels, "CHUNK_BYTES", 12_000)  # the x VJP's cell: 2 groups · 9 taps · 81 positions · 8 B
    assert ops.correlate(mg.tensor(x), mg.tensor(w, requires_grad=True), **params).saved is None
    chunks.clear()
    for mine, reference in zip(forward_and_vjps(x, w, upstream, params), whole, strict=True):
        np.testing.assert_array_equal(mine, reference)
    assert len(chunks) >= 3 * 2 and max(columns, default=0) <= 12_000


# ---- switching the fast kernels off

SCRIPT = """
import json, sys
import numpy as np
import minigrad as mg
r = np.random.default_rng(0)
x = mg.tensor(r.standard_normal((3, 4, 9, 7)), requires_grad=True)
w = mg.tensor(r.standard_normal((6, 2, 3, 3)), requires_grad=True)
y = mg.correlate(x, w, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
y.backward(mg.tensor(r.standard_normal(y.shape)))
print(json.dumps({"fast": mg.state.switches.fast_kernels,
                  "arrays": [a.tolist() for a in (y.data, x.grad.data, w.grad.data)]}))
"""


def run_script(env_value):
    env = {"MINIGRAD_KERNELS": env_value} if env_value else {}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True,
                          env={**os.environ, **env})
    return json.loads(done.stdout)


def test_the_environment_variable_and_the_context_manager_give_the_same_numbers():
    textbook, fast = run_script("textbook"), run_script(None)
    assert textbook["fast"] is False and fast["fast"] is True
    r = np.random.default_rng(0)
    x, w = r.standard_normal((3, 4, 9, 7)), r.standard_normal((6, 2, 3, 3))
    params = config_params((2, 1), (1, 1), (1, 2), 2)
    upstream = r.standard_normal(outputs(x.shape, w.shape, *params.values()))
    in_process = forward_and_vjps(x, w, upstream, params, textbook=True)
    for from_env, mine, from_fast in zip(textbook["arrays"], in_process, fast["arrays"], strict=True):
        np.testing.assert_array_equal(np.array(from_env), mine)
        np.testing.assert_allclose(np.array(from_fast), mine, rtol=1e-12, atol=1e-12)
