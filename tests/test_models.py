"""mg.models: the published parameter counts, layer paths, output shapes and block wiring.

VGG16's forward pass (output (1, 1000) on 224×224) is exercised once, by test_summary.py.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad import models, nn


def count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(("model", "expected"), [
    (models.LeNet5, 156 + 2_416 + 48_120 + 10_164 + 850),  # 61,706
    (models.SimpleCNN, 12 * 3 * 3 * 3 + 12 + 12 * 16 * 16 * 10 + 10),  # 31,066
    (models.AlexNet, 62_378_344),
    (models.VGG16, 138_357_544),
])
def test_parameter_totals(model, expected):
    assert count(model()) == expected


def test_num_classes_changes_only_the_last_layer():
    assert count(models.LeNet5()) - count(models.LeNet5(num_classes=3)) == 7 * 84 + 7


def test_alexnet_layers_as_in_the_paper():
    net = models.AlexNet()
    shapes = {name: p.shape for name, p in net.named_parameters()}
    assert shapes == {
        "features.0.weight": (96, 3, 11, 11), "features.0.bias": (96,),
        "features.4.weight": (256, 96, 5, 5), "features.4.bias": (256,),
        "features.8.weight": (384, 256, 3, 3), "features.8.bias": (384,),
        "features.10.weight": (384, 384, 3, 3), "features.10.bias": (384,),
        "features.12.weight": (256, 384, 3, 3), "features.12.bias": (256,),
        "classifier.0.weight": (4096, 9216), "classifier.0.bias": (4096,),
        "classifier.3.weight": (4096, 4096), "classifier.3.bias": (4096,),
        "classifier.6.weight": (1000, 4096), "classifier.6.bias": (1000,),
    }
    conv1, pool = net.features[0], net.features[3]
    assert _pair(conv1.stride) == (4, 4) and _pair(conv1.padding) == (0, 0)
    assert _pair(pool.kernel_size) == (3, 3) and _pair(pool.stride) == (2, 2)  # overlapping pooling
    assert [type(m).__name__ for m in net.classifier] == ["Linear", "ReLU", "Dropout"] * 2 + ["Linear"]


def _pair(v):
    return tuple(v) if isinstance(v, tuple) else (v, v)


def test_alexnet_normalization_is_the_papers():
    """b = a / (k + α Σ a²)^β over 5 neighbouring channels, k = 2, α = 1e-4, β = 0.75 (the paper's sum)."""
    lrn = models.AlexNet(num_classes=2).features[2]
    a = np.random.default_rng(0).normal(scale=30.0, size=(2, 7, 3, 3))
    squares = np.pad(a ** 2, ((0, 0), (2, 2), (0, 0), (0, 0)))
    window_sum = sum(squares[:, i:i + 7] for i in range(5))
    expected = a / (2.0 + 1e-4 * window_sum) ** 0.75
    np.testing.assert_allclose(lrn(mg.tensor(a)).data, expected, rtol=1e-10)


def test_alexnet_forward_shape():
    with mg.no_grad():
        assert models.AlexNet(num_classes=7)(mg.zeros(1, 3, 227, 227)).shape == (1, 7)


@pytest.mark.parametrize(("model", "shape"), [(models.LeNet5, (2, 1, 28, 28)), (models.SimpleCNN, (2, 3, 32, 32))])
def test_small_models_classify(model, shape):
    out = model()(mg.randn(*shape))
    assert out.shape == (2, 10)
    assert np.isfinite(out.data).all()


def test_small_models_train():
    """One SGD step on one batch lowers the loss: gradients reach every parameter."""
    mg.manual_seed(0)
    net = models.SimpleCNN()
    x, y = mg.randn(8, 3, 32, 32), np.arange(8) % 10
    loss = nn.functional.cross_entropy(net(x), y)
    loss.backward()
    assert all(p.grad is not None and np.abs(p.grad.data).sum() > 0 for p in net.parameters())
    mg.optim.SGD(net.parameters(), lr=0.01).step()
    assert nn.functional.cross_entropy(net(x), y).item() < loss.item()


# ---- InceptionBlock
def test_inception_3a_parameters():
    block = models.InceptionBlock(192, 64, 96, 128, 16, 32, 32)  # GoogLeNet's block 3a
    assert [(name, p.shape) for name, p in block.named_parameters()] == [
        ("branch1.0.weight", (64, 192, 1, 1)), ("branch1.0.bias", (64,)),
        ("branch2.0.weight", (96, 192, 1, 1)), ("branch2.0.bias", (96,)),
        ("branch2.2.weight", (128, 96, 3, 3)), ("branch2.2.bias", (128,)),
        ("branch3.0.weight", (16, 192, 1, 1)), ("branch3.0.bias", (16,)),
        ("branch3.2.weight", (32, 16, 5, 5)), ("branch3.2.bias", (32,)),
        ("branch4.1.weight", (32, 192, 1, 1)), ("branch4.1.bias", (32,)),
    ]
    assert count(block) == 12_352 + 18_528 + 110_720 + 3_088 + 12_832 + 6_176  # 163,696


def test_inception_concatenates_branches_in_order():
    block = models.InceptionBlock(3, 2, 2, 4, 1, 3, 5)
    for name, p in block.named_parameters():  # zero weights: each branch outputs its last bias
        p.data[...] = 0.0
        if name.endswith("bias"):
            p.data[...] = float(name[len("branch")])
    out = block(mg.randn(2, 3, 5, 6))
    assert out.shape == (2, 2 + 4 + 3 + 5, 5, 6)
    channel_values = out.data.mean(axis=(0, 2, 3))
    np.testing.assert_array_equal(channel_values, [1] * 2 + [2] * 4 + [3] * 3 + [4] * 5)


def test_inception_matches_torch():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    block = models.InceptionBlock(4, 3, 2, 5, 2, 3, 2)

    def conv_relu(c_in, c_out, k):
        return [tnn.Conv2d(c_in, c_out, k, padding=k // 2), tnn.ReLU()]

    reference = tnn.ModuleList([
        tnn.Sequential(*conv_relu(4, 3, 1)),
        tnn.Sequential(*conv_relu(4, 2, 1), *conv_relu(2, 5, 3)),
        tnn.Sequential(*conv_relu(4, 2, 1), *conv_relu(2, 3, 5)),
        tnn.Sequential(tnn.MaxPool2d(3, stride=1, padding=1), *conv_relu(4, 2, 1)),
    ]).double()
    for p, q in zip(block.parameters(), reference.parameters(), strict=True):
        p.data = q.detach().numpy().copy()
    x = np.random.default_rng(1).normal(size=(2, 4, 7, 6))
    expected = torch.cat([branch(torch.from_numpy(x)) for branch in reference], dim=1).detach().numpy()
    np.testing.assert_allclose(block(mg.tensor(x)).data, expected, rtol=1e-10, atol=1e-12)
