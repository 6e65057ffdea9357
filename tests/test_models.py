"""mg.models: the published parameter counts, layer paths, output shapes and block wiring.

Expected counts are computed here from the layer shapes — a convolution c → o with k×k
filters in g groups has (k·k·c/g + 1)·o parameters, a Linear n → m has (n + 1)·m — from the
papers' tables written out again below, and checked against the literal numbers quoted
(torchvision's, for the VGGs). VGG16's forward pass (output (1, 1000) on 224×224) is
exercised once, by test_summary.py; GoogLeNet's, by the summary below.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad import models, nn


def count(model):
    return sum(p.numel() for p in model.parameters())


def conv(c, o, k, groups=1):
    return (k * k * c // groups + 1) * o


def linear(n, m):
    return (n + 1) * m


HEAD = linear(9216, 4096) + linear(4096, 4096) + linear(4096, 1000)  # AlexNet's and ZFNet's classifier


@pytest.mark.parametrize(("model", "expected"), [
    (models.LeNet5, 156 + 2_416 + 48_120 + 10_164 + 850),  # 61,706
    (models.SimpleCNN, 12 * 3 * 3 * 3 + 12 + 12 * 16 * 16 * 10 + 10),  # 31,066
    (models.AlexNet, 62_378_344),  # VGGs: test_vgg_layers_and_counts
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


# ---- AlexNet's two towers
def test_alexnet_two_towers():
    net = models.AlexNet(groups=2)
    expected = (conv(3, 96, 11) + conv(96, 256, 5, groups=2) + conv(256, 384, 3) + conv(384, 384, 3, groups=2)
                + conv(384, 256, 3, groups=2) + HEAD)
    assert count(net) == expected == 60_965_224
    shapes = {name: p.shape for name, p in net.named_parameters() if name.endswith("weight")}
    assert shapes["features.4.weight"] == (256, 48, 5, 5)      # each filter sees the 48 channels of its tower
    assert shapes["features.8.weight"] == (384, 256, 3, 3)     # conv3 sees both towers
    assert shapes["features.10.weight"] == (384, 192, 3, 3)
    assert shapes["features.12.weight"] == (256, 192, 3, 3)
    with mg.no_grad():
        assert net(mg.zeros(1, 3, 227, 227)).shape == (1, 1000)


# ---- ZFNet
def test_zfnet_count_and_sizes():
    net = models.ZFNet()
    expected = (conv(3, 96, 7) + conv(96, 256, 5) + conv(256, 384, 3) + conv(384, 384, 3) + conv(384, 256, 3)
                + HEAD)
    assert count(net) == expected == 62_357_608
    s = mg.summary(net, (1, 3, 224, 224))
    sizes = [(r.name, r.output_shape[1:]) for r in s.rows if r.type in ("Conv2d", "MaxPool2d")]
    assert sizes == [("features.0", (96, 110, 110)), ("features.2", (96, 55, 55)),   # the paper's figure 3
                     ("features.4", (256, 26, 26)), ("features.6", (256, 13, 13)),
                     ("features.8", (384, 13, 13)), ("features.10", (384, 13, 13)), ("features.12", (256, 13, 13)),
                     ("features.14", (256, 6, 6))]
    assert [r.type for r in s.rows[:4]] == ["Conv2d", "ReLU", "MaxPool2d", "LocalResponseNorm"]  # norm after pool
    conv1 = net.features[0]
    assert (conv1.kernel_size, conv1.stride) == ((7, 7), (2, 2))
    assert s.rows[-1].output_shape == (1, 1000)


# ---- VGG: Simonyan & Zisserman's table 1, written out again
VGG_CONFIGS = {
    models.VGG11: ([64], [128], [256, 256], [512, 512], [512, 512]),
    models.VGG13: ([64, 64], [128, 128], [256, 256], [512, 512], [512, 512]),
    models.VGG16: ([64, 64], [128, 128], [256] * 3, [512] * 3, [512] * 3),
    models.VGG19: ([64, 64], [128, 128], [256] * 4, [512] * 4, [512] * 4),
}
TORCHVISION = {models.VGG11: 132_863_336, models.VGG13: 133_047_848, models.VGG16: 138_357_544,
               models.VGG19: 143_667_240}


@pytest.mark.parametrize("model", list(VGG_CONFIGS), ids=lambda m: m.__name__)
def test_vgg_layers_and_counts(model):
    net = model()
    widths = [w for block in VGG_CONFIGS[model] for w in block]
    convs = list(zip([3, *widths[:-1]], widths, strict=True))  # (in, out) channels
    expected = [(w, c, 3, 3) for c, w in convs]
    assert [p.shape for p in net.features.parameters() if p.ndim == 4] == expected
    pools = [i for i, m in enumerate(net.features) if isinstance(m, nn.MaxPool2d)]
    assert pools == list(np.cumsum([2 * len(block) + 1 for block in VGG_CONFIGS[model]]) - 1)  # one per block
    head = linear(512 * 7 * 7, 4096) + linear(4096, 4096) + linear(4096, 1000)
    assert count(net) == sum(conv(c, w, 3) for c, w in convs) + head == TORCHVISION[model]
    assert [type(m).__name__ for m in net.classifier] == ["Linear", "ReLU", "Dropout"] * 2 + ["Linear"]
    with mg.no_grad():  # 3×3 convolutions keep the size, five pools divide it by 32
        assert net.features(mg.zeros(1, 3, 32, 32)).shape == (1, 512, 1, 1)


# ---- GoogLeNet: the paper's table 1
INCEPTION = {  # in, #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj; output size
    "3a": ((192, 64, 96, 128, 16, 32, 32), 28), "3b": ((256, 128, 128, 192, 32, 96, 64), 28),
    "4a": ((480, 192, 96, 208, 16, 48, 64), 14), "4b": ((512, 160, 112, 224, 24, 64, 64), 14),
    "4c": ((512, 128, 128, 256, 24, 64, 64), 14), "4d": ((512, 112, 144, 288, 32, 64, 64), 14),
    "4e": ((528, 256, 160, 320, 32, 128, 128), 14), "5a": ((832, 256, 160, 320, 32, 128, 128), 7),
    "5b": ((832, 384, 192, 384, 48, 128, 128), 7),
}


def inception_count(c, b1, r3, b3, r5, b5, pool):
    return conv(c, b1, 1) + conv(c, r3, 1) + conv(r3, b3, 3) + conv(c, r5, 1) + conv(r5, b5, 5) + conv(c, pool, 1)


def aux_count(c):
    return conv(c, 128, 1) + linear(128 * 4 * 4, 1024) + linear(1024, 1000)


@pytest.fixture(scope="module")
def googlenet_summary():
    net = models.GoogLeNet(aux_logits=True)
    outputs = []
    net.register_forward_hook(lambda module, inputs, out: outputs.append(out))
    return mg.summary(net, (1, 3, 224, 224)), outputs  # ≈ 2.5 s


def test_googlenet_count():
    stem = conv(3, 64, 7) + conv(64, 64, 1) + conv(64, 192, 3)
    expected = stem + sum(inception_count(*channels) for channels, _ in INCEPTION.values()) + linear(1024, 1000)
    assert count(models.GoogLeNet()) == expected == 6_998_552
    assert count(models.GoogLeNet(aux_logits=True)) == expected + aux_count(512) + aux_count(528) == 13_378_280
    assert count(models.GoogLeNet(num_classes=10)) == expected - 990 * 1025


def test_googlenet_blocks_as_in_the_paper(googlenet_summary):
    s, _ = googlenet_summary
    rows = {r.name: r for r in s.rows}
    for name, (channels, size) in INCEPTION.items():
        _, b1, _, b3, _, b5, pool = channels
        assert rows[f"inception{name}.branch1.0"].output_shape == (1, b1, size, size), name
        assert sum(rows[f"inception{name}.{b}"].output_shape[1] for b in
                   ("branch1.1", "branch2.3", "branch3.3", "branch4.2")) == b1 + b3 + b5 + pool
        assert sum(r.params for r in s.rows if r.name.startswith(f"inception{name}.")) == inception_count(*channels)
    stem = [(r.name, r.type, r.output_shape[1:]) for r in s.rows if r.name.startswith("stem.")]
    assert stem == [("stem.0", "Conv2d", (64, 112, 112)), ("stem.1", "ReLU", (64, 112, 112)),
                    ("stem.2", "MaxPool2d", (64, 56, 56)), ("stem.3", "LocalResponseNorm", (64, 56, 56)),
                    ("stem.4", "Conv2d", (64, 56, 56)), ("stem.5", "ReLU", (64, 56, 56)),
                    ("stem.6", "Conv2d", (192, 56, 56)), ("stem.7", "ReLU", (192, 56, 56)),
                    ("stem.8", "LocalResponseNorm", (192, 56, 56)), ("stem.9", "MaxPool2d", (192, 28, 28))]
    head = [(r.name, r.type, r.output_shape) for r in s.rows if r.name.startswith("classifier.")]
    assert head == [("classifier.0", "AvgPool2d", (1, 1024, 1, 1)), ("classifier.1", "Flatten", (1, 1024)),
                    ("classifier.2", "Dropout", (1, 1024)), ("classifier.3", "Linear", (1, 1000))]


def test_googlenet_eval_runs_no_auxiliary_head(googlenet_summary):
    s, outputs = googlenet_summary
    assert not any(r.name.startswith("aux") for r in s.rows)
    (logits,) = outputs  # summary runs in eval mode: the logits alone
    assert isinstance(logits, mg.Tensor) and logits.shape == (1, 1000)


def test_googlenet_auxiliary_heads():
    net = models.GoogLeNet(num_classes=5, aux_logits=True)
    assert net.classifier[2].p == 0.4 and net.aux1[6].p == 0.7
    with mg.no_grad():
        assert net.aux1(mg.zeros(2, 512, 14, 14)).shape == (2, 5)   # (14 − 5)/3 + 1 = 4: 128·4·4 features
        assert net.aux2(mg.zeros(2, 528, 14, 14)).shape == (2, 5)


@pytest.mark.slow
def test_googlenet_training_forward_returns_three_logits():
    net = models.GoogLeNet(num_classes=5, aux_logits=True)
    with mg.no_grad():
        out = net(mg.zeros(1, 3, 224, 224))  # ≈ 3 s
    assert isinstance(out, tuple) and [t.shape for t in out] == [(1, 5)] * 3
