"""mg.viz.filters and mg.viz.feature_maps: one axes per filter or channel, each image the data scaled
by its own max|a| (colour limits ±1), and feature_maps leaves the model exactly as it found it.
matplotlib is an optional extra: without it the drawing tests skip, and ``import minigrad`` never
imports it."""

import subprocess
import sys

import numpy as np
import pytest
from helpers import rng

import minigrad as mg
import minigrad.nn as nn


@pytest.fixture
def agg():
    """matplotlib with the non-interactive Agg backend (skips the test when matplotlib is missing)."""
    matplotlib = pytest.importorskip("matplotlib", reason="mg.viz.filters and feature_maps need the 'plots' extra")
    matplotlib.use("Agg")
    return matplotlib


def scaled(a, axes):
    """a / max|a| over ``axes``, an all-zero image staying 0."""
    peak = np.abs(a).max(axis=axes, keepdims=True)
    return a / np.where(peak > 0, peak, 1.0)


def images(figure):
    return [np.asarray(ax.images[0].get_array()) for ax in figure.axes]


class Small(nn.Module):
    """conv → batch norm → ReLU → dropout → conv → flatten → linear, for 1×6×6 images."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Dropout(0.5),
                                      nn.Conv2d(3, 4, 3))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 4, 2))

    def forward(self, x):
        return self.head(self.features(x))


def test_grey_filters_are_each_scaled_by_their_largest_weight(agg):
    w = rng(0).normal(size=(5, 1, 3, 3))
    w[2] = 0.0
    figure = mg.viz.filters(mg.tensor(w), ncols=2)
    assert len(figure.axes) == 5
    assert figure.axes[4].get_subplotspec().get_geometry()[:2] == (3, 2)  # 3 rows of 2
    for image, expected in zip(images(figure), scaled(w[:, 0], (1, 2)), strict=True):
        np.testing.assert_allclose(image, expected, rtol=1e-12)
    assert not images(figure)[2].any()  # an all-zero filter stays 0 (no NaN)
    first = figure.axes[0].images[0]
    assert first.get_clim() == (-1.0, 1.0) and first.get_cmap().name == "gray"


def test_rgb_filters_are_drawn_in_colour_with_zero_at_mid_grey(agg):
    w = rng(1).normal(size=(4, 3, 2, 2))
    conv = nn.Conv2d(3, 4, 2)
    with mg.no_grad():
        conv.weight.copy_(w)
    figure = mg.viz.filters(conv.weight, cmap="viridis")  # a Parameter (float32) is read as it is
    expected = (scaled(w, (1, 2, 3)).transpose(0, 2, 3, 1) + 1) / 2
    assert len(figure.axes) == 4
    for image, e in zip(images(figure), expected, strict=True):
        np.testing.assert_allclose(image, e, rtol=1e-6)


def test_other_channel_counts_show_the_channel_mean(agg):
    w = rng(2).normal(size=(7, 2, 3, 3))
    figure = mg.viz.filters(w)
    assert len(figure.axes) == 7 and figure.axes[6].get_subplotspec().get_geometry()[:2] == (3, 3)  # ⌈√7⌉ columns
    for image, expected in zip(images(figure), scaled(w.mean(axis=1), (1, 2)), strict=True):
        np.testing.assert_allclose(image, expected, rtol=1e-12)


def test_filters_errors(agg):
    with pytest.raises(ValueError, match=r"filters: expected a convolution weight .* got \(3, 3\)"):
        mg.viz.filters(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="ncols must be a positive integer"):
        mg.viz.filters(np.zeros((2, 1, 3, 3)), ncols=0)


def test_feature_maps_of_every_conv_layer_equal_the_scaled_outputs(agg):
    mg.manual_seed(0)
    model, x = Small(), mg.randn(1, 1, 6, 6)
    model.features[1].running_mean.copy_(np.array([0.1, -0.2, 0.3]))  # eval mode must use these
    figures = mg.viz.feature_maps(model, x)
    assert list(figures) == ["features.0", "features.4"]
    assert [len(f.axes) for f in figures.values()] == [3, 4]
    model.eval()
    with mg.no_grad():
        after_bn_relu = model.features[:3](x).data[0]
        last = model.features(x).data[0]
    for image, expected in zip(images(figures["features.4"]), scaled(last, (1, 2)), strict=True):
        np.testing.assert_allclose(image, expected, rtol=1e-6)
    relu = mg.viz.feature_maps(model, x, layer="features.2", ncols=1)
    assert len(relu.axes) == 3 and relu.axes[2].get_subplotspec().get_geometry()[:2] == (3, 1)
    for image, expected in zip(images(relu), scaled(after_bn_relu, (1, 2)), strict=True):
        np.testing.assert_allclose(image, expected, rtol=1e-6)


def test_feature_maps_change_no_state(agg):
    mg.manual_seed(1)
    model = Small()
    model.head.eval()  # mixed modes come back as they were
    modes = [m.training for m in model.modules()]
    before = {k: v.data.copy() for k, v in model.state_dict().items()}
    mg.viz.feature_maps(model, mg.randn(1, 1, 6, 6))
    after = model.state_dict()
    for key, value in before.items():
        np.testing.assert_array_equal(after[key].data, value, err_msg=key)  # running statistics included
    assert [m.training for m in model.modules()] == modes and modes.count(False) == 3
    assert all(not m._forward_hooks for m in model.modules())
    assert all(p.grad is None for p in model.parameters())


def test_feature_maps_errors(agg):
    model = Small()
    with pytest.raises(ValueError, match=r"feature_maps: expected one image of shape \(1, C, H, W\), got \(2, 1, 6"):
        mg.viz.feature_maps(model, mg.randn(2, 1, 6, 6))
    with pytest.raises(ValueError, match=r"feature_maps: the model has no layer 'features.9'; its layers are features"):
        mg.viz.feature_maps(model, mg.randn(1, 1, 6, 6), layer="features.9")
    with pytest.raises(ValueError, match=r"feature_maps: layer 'head.1' gives \(1, 2\), not feature maps"):
        mg.viz.feature_maps(model, mg.randn(1, 1, 6, 6), layer="head.1")
    with pytest.raises(ValueError, match="feature_maps: the model has no convolution layer"):
        mg.viz.feature_maps(nn.Sequential(nn.ReLU()), mg.randn(1, 1, 6, 6))
    assert all(m.training for m in model.modules())  # restored after the failed calls too


def test_import_minigrad_does_not_import_matplotlib():
    code = "import sys, minigrad; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_matplotlib_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import matplotlib.figure now fails
    with pytest.raises(ImportError, match=r"pip install 'minigrad\[plots\]'"):
        mg.viz.filters(np.zeros((1, 1, 3, 3)))
