"""A learner's PyTorch habits work on minigrad's Tensor: PyTorch's method names and keywords,
compared with PyTorch itself where it is installed (and with hand-written shapes where not)."""

import numpy as np
import pytest

import minigrad as mg

try:
    import torch
except ImportError:  # the comparisons with PyTorch are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
DATA = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7 - 1

CALLS = {  # name: the same call on a minigrad tensor and on a torch tensor
    "transpose(1, 2)": lambda t: t.transpose(1, 2),
    "transpose(0, -1)": lambda t: t.transpose(0, -1),
    "permute(2, 0, 1)": lambda t: t.permute(2, 0, 1),
    "view(6, 4)": lambda t: t.view(6, 4),
    "view(-1)": lambda t: t.view(-1),
    "unsqueeze(0)": lambda t: t.unsqueeze(0),
    "unsqueeze(-1)": lambda t: t.unsqueeze(-1),
    "unsqueeze(1).squeeze()": lambda t: t.unsqueeze(1).squeeze(),
    "squeeze(0) of length 2 keeps it": lambda t: t.squeeze(0),
    "sum(dim=1, keepdim=True)": lambda t: t.sum(dim=1, keepdim=True),
    "mean(dim=(0, 2))": lambda t: t.mean(dim=(0, 2)),
    "softmax(dim=1)": lambda t: t.softmax(dim=1),
    "log_softmax(dim=0)": lambda t: t.log_softmax(dim=0),
    "clone()": lambda t: t.clone() * 2,
    "float()": lambda t: t.float(),
    "double()": lambda t: t.double(),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_methods_give_pytorchs_values_and_gradients(name):
    x = mg.tensor(DATA, requires_grad=True)
    y = CALLS[name](x)
    weights = np.linspace(-1, 1, y.numel()).reshape(y.shape)
    (y * mg.tensor(weights.astype(y.dtype))).sum().backward()
    if torch is None:
        assert x.grad.shape == x.shape
        return
    t = torch.tensor(DATA, requires_grad=True)
    ty = CALLS[name](t)
    (ty * torch.tensor(weights).to(ty.dtype)).sum().backward()
    assert y.shape == tuple(ty.shape) and str(y.dtype) == str(ty.dtype).removeprefix("torch.")
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-6)


def test_size_and_dim_reductions():
    x = mg.tensor(DATA)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.max(dim=2).shape == (2, 3) and x.min(dim=0, keepdim=True).shape == (1, 3, 4)
    assert x.argmax(dim=1).tolist() == DATA.argmax(axis=1).tolist()
    assert x.var(dim=1).shape == (2, 4)
    assert x.flatten(start_dim=1).shape == (2, 12)
    assert mg.nn.functional.softmax(x, dim=1).shape == x.shape
    np.testing.assert_allclose(mg.nn.functional.log_softmax(x, dim=0).data, x.log_softmax(axis=0).data)
    with pytest.raises(TypeError, match=r"give axis \(numpy.s word\) or dim \(PyTorch.s\), not both"):
        x.sum(axis=0, dim=1)


def test_comparison_then_float_counts_matches():
    pred, y = mg.tensor([1, 2, 3, 3]), mg.tensor([1, 0, 3, 2])
    assert (pred == y).float().mean().item() == 0.5
    assert (pred == y).float().dtype == np.float32


def test_cat_and_dim_for_stack_and_concatenate():
    a, b = mg.ones(2, 3), mg.zeros(2, 3)
    assert mg.cat([a, b], dim=1).shape == (2, 6)
    assert mg.concatenate([a, b], dim=0).shape == (4, 3)
    assert mg.stack([a, b], dim=2).shape == (2, 3, 2)


def test_numpy_sees_the_values():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert np.asarray(x).dtype == np.float32 and np.asarray(x).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert np.array([x.sum(), x.max()]).tolist() == [10.0, 4.0]


def test_to_takes_a_dtype():
    assert mg.ones(2).to(np.float64).dtype == np.float64
    assert mg.ones(2).to("float16").dtype == np.float16


def test_clone_is_a_copy_that_gradients_flow_through():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c is not x and not np.shares_memory(c.data, x.data)
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_a_layer_computes_in_its_weights_precision():
    """A float64 input into a float32 layer gives float32 (never a silently float64 layer); the
    input's gradient comes back as float64."""
    layer, x = mg.nn.Linear(3, 2), mg.tensor(np.ones((4, 3)), requires_grad=True)
    y = layer(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float64 and layer.weight.grad.dtype == np.float32
    image = mg.tensor(np.ones((1, 1, 5, 5)))
    for conv in (mg.nn.Conv2d(1, 2, 3), mg.nn.ConvTranspose2d(1, 2, 3), mg.nn.LocallyConnected2d(1, 2, 5, 3)):
        assert conv(image).dtype == np.float32
    assert mg.nn.Linear(3, 2).double()(mg.ones(1, 3)).dtype == np.float64


def test_adaptive_average_pooling_matches_pytorchs_windows():
    x = np.arange(2 * 3 * 7 * 5, dtype=np.float64).reshape(2, 3, 7, 5)
    y = mg.nn.AdaptiveAvgPool2d((3, 2))(mg.tensor(x))
    # row windows of 7 → 3: [0, 3), [2, 5), [4, 7); column windows of 5 → 2: [0, 3), [2, 5)
    expected = np.array([[x[..., r0:r1, c0:c1].mean(axis=(-2, -1)) for c0, c1 in ((0, 3), (2, 5))]
                         for r0, r1 in ((0, 3), (2, 5), (4, 7))]).transpose(2, 3, 0, 1)
    np.testing.assert_allclose(y.data, expected)
    assert mg.nn.AdaptiveAvgPool2d(1)(mg.tensor(x)).shape == (2, 3, 1, 1)
    if torch is not None:
        np.testing.assert_allclose(y.data, torch.nn.AdaptiveAvgPool2d((3, 2))(torch.tensor(x)).numpy())


def test_dropout2d_zeroes_whole_channels():
    mg.manual_seed(0)
    y = mg.nn.Dropout2d(0.5)(mg.ones(4, 8, 3, 3)).data
    per_channel = y.reshape(4, 8, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all()  # all of a channel, or none of it
    assert 0 < (per_channel[..., 0] == 0).sum() < 32
    assert (mg.nn.Dropout2d(0.5).eval()(mg.ones(2, 2, 2, 2)).data == 1).all()


def test_sequential_item_assignment():
    net = mg.nn.Sequential(mg.nn.Linear(2, 3), mg.nn.ReLU(), mg.nn.Linear(3, 1))
    net[1] = mg.nn.Tanh()
    assert isinstance(net[1], mg.nn.Tanh) and [name for name, _ in net.named_children()] == ["0", "1", "2"]
    net[-1] = mg.nn.Linear(3, 4)
    assert net(mg.ones(1, 2)).shape == (1, 4)
    with pytest.raises(IndexError, match="out of range"):
        net[3] = mg.nn.ReLU()
    with pytest.raises(TypeError, match="expected a Module"):
        net[0] = "relu"


def test_replacing_a_submodule_keeps_its_place():
    net = mg.nn.Sequential(mg.nn.Linear(2, 3), mg.nn.ReLU(), mg.nn.Linear(3, 1))
    net[0] = mg.nn.Linear(2, 3, bias=False)
    assert list(net.state_dict()) == ["0.weight", "2.weight", "2.bias"]
