"""In-place writes and version counters: every in-place write minigrad makes bumps the tensor's
``version``; backward through a node that read an older version (or a replaced array) raises,
instead of computing a gradient from values that are no longer there."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import optim

MODIFIED = r"was modified in place after the forward used it"


def test_an_optimizer_step_between_forward_and_backward_raises():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = mg.randn(4, 3)
    loss = model(x).sum()
    loss.backward(retain_graph=True)
    version = model.weight.version
    opt.step()
    assert model.weight.version == version + 1
    with pytest.raises(RuntimeError, match=rf"input 1 \(shape \(2,\)\) of the 'add' node.*{MODIFIED}"):  # the bias
        loss.backward()


def test_setitem_bumps_the_version_and_backward_names_the_primitive_and_input():
    x = mg.tensor([1.0, 2.0, 3.0])
    w = mg.tensor([0.5, 0.5, 0.5], requires_grad=True)
    loss = (w * x).sum()
    x[1] = 10.0
    assert x.version == 1 and x.tolist() == [1.0, 10.0, 3.0]
    with pytest.raises(RuntimeError, match=rf"input 1 \(shape \(3,\)\) of the 'mul' node.*{MODIFIED}"):
        loss.backward()


def test_assigning_data_is_seen_by_backward():
    x = mg.tensor([1.0, 2.0])
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    loss = (w * x).sum()
    x.data = np.array([0.0, 0.0], dtype=np.float32)
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_a_modified_output_is_seen_too():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()          # exp's VJP reads its output
    with mg.no_grad():
        y[0] = 0.0
    with pytest.raises(RuntimeError, match=rf"its output \(shape \(2,\)\) of the 'exp' node.*{MODIFIED}"):
        y.backward(mg.ones(2))


def test_numpy_gives_a_read_only_view():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    view = x.numpy()
    assert np.shares_memory(view, x.data)
    with pytest.raises(ValueError, match="read-only"):
        view[0] = 5.0


def test_setitem_on_a_tensor_that_requires_grad_needs_no_grad():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"setitem: a tensor that requires grad .* mg\.no_grad"):
        w[0] = 3.0
    with mg.no_grad():
        w[0] = 3.0
    assert w.tolist() == [3.0, 2.0] and w.version == 1


def test_copy_and_init_and_load_state_dict_bump_versions():
    layer = nn.Linear(2, 2)
    versions = layer.weight.version
    nn.init.zeros_(layer.weight)
    assert layer.weight.version == versions + 1
    layer.load_state_dict(layer.state_dict())
    assert layer.weight.version == versions + 2
    buffer = mg.zeros(2)
    buffer.copy_(mg.ones(2))
    assert buffer.version == 1 and buffer.tolist() == [1.0, 1.0]


def test_batch_norm_running_statistics_bump_their_versions():
    bn = nn.BatchNorm1d(2)
    bn(mg.randn(4, 2))
    assert bn.running_mean.version == 1 and bn.running_var.version == 1 and bn.num_batches_tracked.version == 1


def test_writes_after_backward_are_fine():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        F.mse_loss(model(mg.randn(4, 3)), mg.zeros(4, 2)).backward()
        opt.step()


def test_gradcheck_leaves_its_inputs_as_they_were():
    x = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    values, version = x.data, x.version
    y = (x * x).sum()
    assert mg.gradcheck(lambda t: (t * t).sum(), [x])
    assert x.data is values and x.version == version
    y.backward()  # the graph made before gradcheck is still valid
    assert x.grad.tolist() == [2.0, 4.0]
