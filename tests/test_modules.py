"""minigrad.nn modules: every layer's gradient (gradcheck in float64, inputs and parameters), its
agreement with the functional form and with PyTorch, and the Module machinery — registration,
naming by attribute path, state dicts, train/eval, reprs, initialisation and the module-call
records stamped on tensors for pictures."""

import math

import numpy as np
import pytest
from helpers import distinct, graph_of, leaf, rng

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.nn import init

# ---- every layer: gradcheck on the input and every parameter, in float64
LAYERS = {  # name: (make, input shape)
    "Linear": (lambda: nn.Linear(4, 3), (2, 4)),
    "Conv1d": (lambda: nn.Conv1d(2, 3, 3, stride=2, padding=1), (2, 2, 7)),
    "Conv2d": (lambda: nn.Conv2d(2, 4, 3, stride=(2, 1), padding=1, groups=2), (1, 2, 5, 4)),
    "Conv2d same": (lambda: nn.Conv2d(1, 2, (2, 3), padding="same", dilation=2), (1, 1, 5, 5)),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1), (1, 2, 3, 3)),
    "LocallyConnected2d": (lambda: nn.LocallyConnected2d(2, 2, (4, 5), 2, stride=2, padding=1), (2, 2, 4, 5)),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (1, 2, 5, 5)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2, padding=1), (1, 2, 5, 5)),
    "LPPool2d": (lambda: nn.LPPool2d(2, 2, stride=1), (1, 2, 4, 4)),
    "GlobalAvgPool2d": (nn.GlobalAvgPool2d, (2, 3, 3, 2)),
    "ReLU": (nn.ReLU, (3, 4)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), (3, 4)),
    "Sigmoid": (nn.Sigmoid, (3, 4)),
    "Tanh": (nn.Tanh, (3, 4)),
    "Softmax": (lambda: nn.Softmax(dim=1), (3, 4)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), (3, 4)),
    "Flatten": (nn.Flatten, (2, 3, 2)),
    "Dropout": (lambda: nn.Dropout(0.5), (3, 4)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), (4, 3)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
    "LocalResponseNorm": (lambda: nn.LocalResponseNorm(3, alpha=0.5, k=2.0), (1, 4, 2, 2)),
    "Identity": (nn.Identity, (2, 3)),
    "Sequential": (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                         nn.Linear(8, 3)), (2, 1, 6, 6)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_gradcheck(name):
    make, shape = LAYERS[name]
    mg.manual_seed(0)
    layer = make().double()
    x = leaf(distinct(shape) / 5 + 0.01)  # no entry at 0, where ReLU has no derivative
    params = list(layer.parameters())
    assert all(p.dtype == np.float64 for p in params)
    assert layer(x).dtype == np.float64

    def run(x, *ps):
        mg.manual_seed(1)  # the same dropout mask at every evaluation
        return layer(x)

    assert mg.gradcheck(run, [x, *params])


@pytest.mark.parametrize("loss", [nn.CrossEntropyLoss(), nn.NLLLoss(), nn.MultiMarginLoss(p=2, margin=0.5)])
def test_loss_modules_are_their_functions(loss):
    x, target = leaf(rng(1).normal(size=(4, 3))), np.array([0, 2, 1, 2])
    fn = {"CrossEntropyLoss": F.cross_entropy, "NLLLoss": F.nll_loss,
          "MultiMarginLoss": lambda x, t: F.multi_margin_loss(x, t, p=2, margin=0.5)}[type(loss).__name__]
    assert loss(x, target).item() == fn(x, target).item()
    assert mg.gradcheck(lambda x: loss(x, target), [x])


def test_mse_loss_module():
    x, y = leaf(rng(2).normal(size=(3, 2))), rng(3).normal(size=(3, 2))
    np.testing.assert_allclose(nn.MSELoss()(x, y).item(), ((x.data - y) ** 2).mean())
    np.testing.assert_allclose(nn.MSELoss(reduction="sum")(x, y).item(), ((x.data - y) ** 2).sum())


# ---- agreement with PyTorch, weights copied over
def _copy_into_torch(ours, theirs):
    import torch
    with torch.no_grad():
        for (name, p), (tname, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
            assert name == tname and p.shape == tuple(q.shape)
            q.copy_(torch.from_numpy(p.data))


TORCH_LAYERS = {
    "Conv2d": (lambda m: m.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)), (2, 3, 7, 6)),
    "Conv2d groups": (lambda m: m.Conv2d(4, 6, 3, padding=1, groups=2, bias=False), (1, 4, 5, 5)),
    "Conv1d": (lambda m: m.Conv1d(2, 3, 4, stride=2, padding="valid"), (2, 2, 9)),
    "ConvTranspose2d": (lambda m: m.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2,
                                                    dilation=2), (2, 4, 3, 4)),
    "Linear": (lambda m: m.Linear(5, 3), (4, 5)),
    "MaxPool2d": (lambda m: m.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 7)),
    "AvgPool2d": (lambda m: m.AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 7)),
    "LocalResponseNorm": (lambda m: m.LocalResponseNorm(4, alpha=0.3, beta=0.6, k=1.5), (2, 6, 2, 3)),
    "LeakyReLU": (lambda m: m.LeakyReLU(0.3), (3, 4)),
    "LogSoftmax": (lambda m: m.LogSoftmax(dim=1), (3, 4)),
}


@pytest.mark.parametrize("name", TORCH_LAYERS)
def test_layers_match_torch(name):
    torch = pytest.importorskip("torch")
    make, shape = TORCH_LAYERS[name]
    mg.manual_seed(0)
    ours, theirs = make(nn).double(), make(torch.nn).double()
    _copy_into_torch(ours, theirs)
    x = distinct(shape) / 7
    xo, xt = leaf(x), torch.tensor(x, requires_grad=True)
    out, expected = ours(xo), theirs(xt)
    g = rng(4).normal(size=tuple(expected.shape))
    out.backward(mg.tensor(g))
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_batch_norm_matches_torch_in_training_and_evaluation():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm2d(3, momentum=0.2).double(), torch.nn.BatchNorm2d(3, momentum=0.2).double()
    for seed in range(3):  # three training steps: the running statistics follow the same path
        x = rng(seed).normal(1.0, 2.0, size=(4, 3, 2, 3))
        np.testing.assert_allclose(ours(mg.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-9)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].data, value.numpy(), rtol=1e-12)
    ours.eval(), theirs.eval()
    x = rng(9).normal(size=(2, 3, 2, 2))
    np.testing.assert_allclose(ours(mg.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-9)


def test_batch_norm_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [rng(i).normal(size=(5, 2)).astype(np.float32) for i in range(3)]
    for b in batches:
        bn(mg.tensor(b))
    np.testing.assert_allclose(bn.running_mean.data, np.mean([b.mean(axis=0) for b in batches], axis=0), rtol=1e-5)
    assert bn.num_batches_tracked.item() == 3


def test_reprs_match_torch():
    torch = pytest.importorskip("torch")
    for make in [lambda m: m.Conv2d(1, 6, 5), lambda m: m.Conv2d(3, 8, 3, stride=2, padding=1, groups=1, bias=False),
                 lambda m: m.Conv2d(4, 4, (3, 5), padding="same", dilation=2, groups=4),
                 lambda m: m.Conv1d(2, 3, 4, stride=2),
                 lambda m: m.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1),
                 lambda m: m.Linear(400, 120), lambda m: m.Linear(3, 2, bias=False), lambda m: m.ReLU(),
                 lambda m: m.LeakyReLU(0.2), lambda m: m.Softmax(dim=1), lambda m: m.Flatten(),
                 lambda m: m.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0), lambda m: m.AvgPool2d(2),
                 lambda m: m.Identity(), lambda m: m.CrossEntropyLoss(), lambda m: m.Sigmoid(),
                 lambda m: m.Sequential(m.Conv2d(1, 2, 3), m.Sequential(m.Tanh(), m.Identity()), m.Linear(2, 2))]:
        assert repr(make(nn)) == repr(make(torch.nn))


def test_reprs_of_layers_torch_prints_differently():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1)"
    assert repr(nn.Dropout(0.5)) == "Dropout(p=0.5)"
    assert repr(nn.BatchNorm2d(6)) == "BatchNorm2d(6, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    assert repr(nn.LPPool2d(2, 3)) == "LPPool2d(norm_type=2, kernel_size=3, stride=None)"
    assert repr(nn.GlobalAvgPool2d()) == "GlobalAvgPool2d()"
    assert repr(nn.LocallyConnected2d(1, 4, (8, 8), 3)) == \
        "LocallyConnected2d(1, 4, input_size=(8, 8), kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv2d(1, 6, 5)) == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(nn.Sequential(nn.ReLU(), nn.Sequential(nn.Tanh()))) == \
        "Sequential(\n  (0): ReLU()\n  (1): Sequential(\n    (0): Tanh()\n  )\n)"
    assert repr(nn.Parameter(mg.zeros(2))).startswith("Parameter containing:\ntensor([0., 0.]")


# ---- registration and naming
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.BatchNorm2d(2))
        self.head = nn.Linear(8, 3)
        self.scale = nn.Parameter(mg.ones(1))

    def forward(self, x):
        return self.head(self.features(x).flatten(1)) * self.scale


def test_parameters_are_named_by_attribute_path():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == [
        "scale", "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias", "head.weight",
        "head.bias"]
    assert [name for name, _ in net.named_modules()] == ["", "features", "features.0", "features.1", "features.2",
                                                          "head"]
    assert [name for name, _ in net.named_children()] == ["features", "head"]
    assert list(net.children()) == [net.features, net.head]
    assert [p.name for p in net.parameters()] == [name for name, _ in net.named_parameters()]


def test_a_parameter_is_named_by_the_first_call_of_its_module():
    net = Net()
    assert net.head.weight.name is None  # registering names nothing: the path is not known yet
    assert [p.name for p in net.parameters()] == [None] * 7  # parameters() names nothing either
    net(mg.randn(2, 1, 4, 4))
    assert [p.name for p in net.parameters()] == [name for name, _ in Net().named_parameters()]


def test_parameter_is_a_float_leaf_that_requires_grad():
    p = nn.Parameter(mg.tensor([1, 2]).astype("float64"))
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.is_leaf and p.dtype == np.float64
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    with pytest.raises(TypeError, match="Parameter: parameters must be floating point, got dtype int64"):
        nn.Parameter(np.array([1, 2]))


def test_reassigning_and_deleting_attributes_updates_the_registry():
    net = Net()
    net.head = nn.Linear(8, 5)
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    del net.head
    assert [name for name, _ in net.named_children()] == ["features"]
    with pytest.raises(AttributeError, match=r"before Module\.__init__"):
        class Broken(nn.Module):
            def __init__(self):
                self.layer = nn.Linear(2, 2)
        Broken()


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(3, 3)
    net = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(net.parameters())) == 2
    assert len(list(net.modules())) == 3


def test_sequential_indexing():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and seq[-1] is seq[2]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[1]
    x = mg.randn(4, 2)
    np.testing.assert_allclose(seq(x).data, seq[2](seq[1](seq[0](x))).data)
    with pytest.raises(IndexError, match="Sequential: index 3 is out of range for 3 modules"):
        seq[3]
    with pytest.raises(TypeError, match="Sequential: expected a Module, got int"):
        nn.Sequential(3)


def test_module_list_registers_without_forward():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])
    assert [name for name, _ in layers.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert isinstance(layers[:1], nn.ModuleList) and len(layers) == 2
    with pytest.raises(NotImplementedError):
        layers(mg.randn(1, 2))


def test_zero_grad_and_train_eval():
    net = Net()
    net(mg.randn(2, 1, 4, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.eval() is net and not any(m.training for m in net.modules())
    assert all(m.training for m in net.train().modules())


def test_dropout_active_only_in_training():
    mg.manual_seed(0)
    drop, x = nn.Dropout(0.5), mg.ones(10, 10)
    assert (drop(x).data == 0).any()
    drop.eval()
    assert drop(x) is x


def test_batch_norm_train_eval():
    bn = nn.BatchNorm1d(2)
    x = mg.tensor(rng(5).normal(3.0, 2.0, size=(8, 2)).astype(np.float32))
    out = bn(x)
    np.testing.assert_allclose(out.data.mean(axis=0), 0, atol=1e-5)
    assert bn.num_batches_tracked.item() == 1 and bn.running_mean.data.any()
    bn.eval()
    before = bn.running_mean.data.copy()
    expected = (x.data - before) / np.sqrt(bn.running_var.data + 1e-5)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-5)
    np.testing.assert_array_equal(bn.running_mean.data, before)
    assert bn.num_batches_tracked.item() == 1


def test_forward_hooks():
    seen = []
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    remove = net[0].register_forward_hook(lambda m, inputs, out: seen.append((m, inputs[0].shape, out.shape)))
    net(mg.randn(3, 2))
    assert seen == [(net[0], (3, 2), (3, 2))]
    remove()
    net(mg.randn(3, 2))
    assert len(seen) == 1
    net[1].register_forward_hook(lambda m, inputs, out: out * 0)
    assert not net(mg.randn(3, 2)).data.any()


# ---- state dicts
def test_state_dict_keys_like_torch_and_round_trip(tmp_path):
    mg.manual_seed(0)
    net = Net()
    assert list(net.state_dict()) == [
        "scale", "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
        "features.2.running_mean", "features.2.running_var", "features.2.num_batches_tracked", "head.weight",
        "head.bias"]
    net(mg.randn(4, 1, 4, 4))  # moves the running statistics
    mg.save(net.state_dict(), tmp_path / "net.npz")
    other = Net()
    result = other.load_state_dict(mg.load(tmp_path / "net.npz"))
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (k, a), (_, b) in zip(net.state_dict().items(), other.state_dict().items(), strict=True):
        np.testing.assert_array_equal(a.data, b.data, err_msg=k)
        assert a.dtype == b.dtype
    x = mg.randn(2, 1, 4, 4)
    net.eval(), other.eval()
    np.testing.assert_array_equal(net(x).data, other(x).data)


def test_state_dict_is_a_snapshot_and_loading_keeps_the_parameter_objects():
    net = nn.Linear(2, 2)
    state, weight = net.state_dict(), net.weight
    net.weight.data += 1
    assert not np.array_equal(state["weight"].data, net.weight.data)
    net.load_state_dict(state)
    assert net.weight is weight
    np.testing.assert_array_equal(net.weight.data, state["weight"].data)


def test_load_state_dict_lists_the_keys_at_fault():
    net = Net()
    state = net.state_dict()
    del state["head.bias"], state["features.0.weight"]
    state["extra.weight"] = mg.zeros(1)
    state["head.weight"] = mg.zeros(3, 9)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(state)
    message = str(err.value)
    assert "missing keys: features.0.weight, head.bias" in message
    assert "unexpected keys: extra.weight" in message
    assert "head.weight: expected shape (3, 8), got (3, 9)" in message
    state["head.weight"] = mg.zeros(3, 8)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["features.0.weight", "head.bias"] and result.unexpected_keys == ["extra.weight"]
    assert not net.head.weight.data.any()


@pytest.mark.parametrize(("value", "fragment"), [
    (np.full((3, 8), 1e39), "float64 values do not fit float32 without loss"),   # would overflow to inf
    (np.ones((3, 8), dtype=complex), "dtype complex128"),
    (None, "dtype object"),
    (np.ones((3, 8), dtype=object), "dtype object"),
])
def test_load_state_dict_refuses_lossy_values_and_changes_nothing(value, fragment):
    net = Net()
    before = {k: t.data.copy() for k, t in net.state_dict().items()}
    state = {k: mg.tensor(v + 1) for k, v in before.items()}  # every other entry is fine, and listed first
    state["head.weight"] = value
    with pytest.raises(RuntimeError, match=r"nothing was changed.*head\.weight: .*" + fragment):
        net.load_state_dict(state)
    for k, t in net.state_dict().items():
        np.testing.assert_array_equal(t.data, before[k])


def test_load_state_dict_rounds_float64_into_float32_and_checks_integers():
    net = nn.BatchNorm1d(2)
    state = net.state_dict()
    state["weight"] = np.array([0.1, 0.2])                       # float64: rounded, as PyTorch's copy does
    state["num_batches_tracked"] = np.array(2.5)                  # a fraction into an integer: refused
    with pytest.raises(RuntimeError, match="num_batches_tracked: its float64 values do not fit int64"):
        net.load_state_dict(state)
    state["num_batches_tracked"] = np.array(3.0)
    net.load_state_dict(state)
    np.testing.assert_array_equal(net.weight.data, np.float32([0.1, 0.2]))
    assert net.num_batches_tracked.item() == 3


def test_double_converts_parameters_and_buffers_in_place():
    bn = nn.BatchNorm2d(2)
    weight = bn.weight
    bn.double()
    assert bn.weight is weight and weight.dtype == np.float64 and bn.running_var.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64
    assert bn.float().weight.dtype == np.float32


# ---- initialisation
def test_same_seed_same_weights():
    mg.manual_seed(7)
    a = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Linear(4, 2), nn.LocallyConnected2d(1, 2, (4, 4), 2))
    mg.manual_seed(7)
    b = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Linear(4, 2), nn.LocallyConnected2d(1, 2, (4, 4), 2))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize(("make", "fan_in"), [
    (lambda: nn.Linear(50, 40), 50), (lambda: nn.Conv2d(6, 16, 5), 150), (lambda: nn.Conv2d(8, 16, 3, groups=4), 18),
    (lambda: nn.ConvTranspose2d(4, 12, 3, groups=2), 54), (lambda: nn.Conv1d(3, 5, 4), 12),
    (lambda: nn.LocallyConnected2d(3, 4, (6, 6), 3), 27),
])
def test_default_init_is_pytorch_kaiming_uniform_a_sqrt5(make, fan_in):
    """Weights and biases from U(−1/√fan_in, 1/√fan_in): kaiming_uniform_(a=√5) and PyTorch's bias rule."""
    mg.manual_seed(1)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(layer.bias.data).max() <= bound
    assert 0.8 * bound < np.abs(layer.weight.data).max() <= bound  # ≥ 60 draws: the largest is near the bound
    mg.manual_seed(1)
    w = mg.zeros(*layer.weight.shape)
    if w.ndim == 6:  # LocallyConnected2d: fan_in is in_channels · kernel area, not the generic rule
        return
    np.testing.assert_allclose(init.kaiming_uniform_(w, a=math.sqrt(5)).data, layer.weight.data, rtol=1e-6)


def test_init_functions_have_the_right_spread():
    mg.manual_seed(0)
    w = mg.zeros(200, 100, 3, 3)
    fan_in, fan_out = 900, 1800
    assert init.fans(w) == (fan_in, fan_out)
    cases = {
        "kaiming_normal_ relu": (lambda: init.kaiming_normal_(w, nonlinearity="relu"), math.sqrt(2 / fan_in)),
        "kaiming_uniform_ relu": (lambda: init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(2 / fan_in)),
        "kaiming fan_out": (lambda: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
                            math.sqrt(2 / fan_out)),
        "xavier_uniform_": (lambda: init.xavier_uniform_(w), math.sqrt(2 / (fan_in + fan_out))),
        "xavier_normal_ tanh": (lambda: init.xavier_normal_(w, gain=5 / 3), 5 / 3 * math.sqrt(2 / (fan_in + fan_out))),
        "normal_": (lambda: init.normal_(w, 1.0, 0.5), 0.5),
        "uniform_": (lambda: init.uniform_(w, -3.0, 3.0), math.sqrt(3)),
    }
    for name, (fill, std) in cases.items():
        assert fill() is w
        assert abs(w.data.std() - std) < 0.02 * std, name
    assert not init.zeros_(w).data.any() and (init.ones_(w).data == 1).all()
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="init: mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(w, mode="fan")
    with pytest.raises(ValueError, match=r"fan in and fan out need a weight with at least 2 dimensions"):
        init.xavier_uniform_(mg.zeros(3))


# ---- module calls recorded on tensors (for pictures)


def test_tensors_carry_the_module_calls_that_made_them():
    net, x = Net(), mg.randn(2, 1, 4, 4)
    out = net(x)
    paths = {tuple(r.path for r in t.annotations) for t in graph_of(out) if t.op is not None}
    assert paths == {("Net",), ("Net", "features", "features.0"), ("Net", "features", "features.1"),
                     ("Net", "features", "features.2"), ("Net", "head")}
    conv = next(t for t in graph_of(out) if t.op is not None and t.op.name == "correlate")
    outer, seq, layer = conv.annotations
    assert isinstance(outer, nn.ModuleCall) and outer.module is net and seq.module is net.features
    assert layer.module is net.features[0] and outer.call < seq.call < layer.call
    assert not any(t.annotations for t in [x, *net.parameters()])  # made outside any call


def test_call_numbers_are_unique_per_call():
    layer = nn.Linear(2, 2)
    calls = [layer(mg.randn(1, 2)).annotations[0] for _ in range(3)]
    assert len({c.call for c in calls}) == 3 and {c.path for c in calls} == {"Linear"}


def test_paths_are_relative_to_the_outermost_module_called():
    net = Net()
    out = net.head(mg.randn(1, 8))  # called on its own: it is the outermost module
    assert out.annotations[0].path == "Linear" and net.head.weight.name == "weight"
    out = net(mg.randn(1, 1, 4, 4))
    assert [r.path for r in out.inputs[0].annotations] == ["Net", "head"]
    assert net.head.weight.name == "weight" and net.features[0].weight.name == "features.0.weight"
    net.head = nn.Linear(8, 3)  # a new submodule is named by its first call
    out = net(mg.randn(1, 1, 4, 4))
    assert net.head.weight.name == "head.weight"
    assert [r.path for r in out.inputs[0].annotations] == ["Net", "head"]


def paths_of(module, out):
    """The paths of ``module``'s calls that made nodes of out's graph."""
    return {t.annotations[-1].path for t in graph_of(out) if t.op is not None and t.annotations[-1].module is module}


def test_a_shared_layer_keeps_the_names_its_first_model_gave():
    shared = nn.Linear(3, 3)
    first, second = nn.Sequential(shared, nn.ReLU()), nn.Sequential(nn.ReLU(), nn.ReLU(), shared)
    x = mg.randn(2, 3)
    for _ in range(3):  # neither repeated calls nor the other model rename it
        a, b = first(x), second(x)
        assert (shared.weight.name, shared.bias.name) == ("0.weight", "0.bias")
        assert paths_of(shared, a) == {"0"} and paths_of(shared, b) == {"2"}
    assert [name for name, _ in second.named_parameters()] == ["2.weight", "2.bias"]  # paths, not names
    assert shared.weight.name == "0.weight"


def test_named_parameters_names_what_no_call_has_named():
    net = Net()
    net.head.weight.name = "mine"  # a name the user gave is kept
    assert dict(net.named_parameters())["head.weight"] is net.head.weight
    net(mg.randn(1, 1, 4, 4))
    assert net.head.weight.name == "mine" and net.head.bias.name == "head.bias" and net.scale.name == "scale"


def test_a_layer_called_through_a_container_without_forward_gets_its_full_path():
    class Blocks(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

        def forward(self, x):
            for block in self.blocks:  # ModuleList is never called: its children are called from here
                x = block(x)
            return x

    net = Blocks()
    out = net(mg.randn(1, 2))
    assert [r.path for r in out.annotations] == ["Blocks", "blocks.1"]
    assert net.blocks[1].weight.name == "blocks.1.weight"


def test_threads_running_two_models_see_their_own_paths():
    import threading

    models = [Net(), nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.Linear(4, 2)))]
    inputs = [mg.randn(1, 1, 4, 4), mg.randn(1, 3)]
    expected = [{("Net",), ("Net", "features", "features.0"), ("Net", "features", "features.1"),
                 ("Net", "features", "features.2"), ("Net", "head")},
                {("Sequential", "0"), ("Sequential", "1", "1.0"), ("Sequential", "1", "1.1")}]
    wrong = []
    start = threading.Barrier(2)

    def run(i):
        start.wait()
        for _ in range(200):
            out = models[i](inputs[i])
            paths = {tuple(r.path for r in t.annotations) for t in graph_of(out) if t.op is not None}
            if paths != expected[i]:
                wrong.append((i, paths))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    assert [p.name for p in models[1].parameters()] == ["0.weight", "0.bias", "1.1.weight", "1.1.bias"]


def test_a_module_built_inside_forward_gets_its_class_name():
    class Dynamic(nn.Module):
        def forward(self, x):
            return nn.ReLU()(x)

    out = Dynamic()(mg.randn(2, requires_grad=True))
    assert [r.path for r in out.annotations] == ["Dynamic", "ReLU"]
