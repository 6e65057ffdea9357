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
