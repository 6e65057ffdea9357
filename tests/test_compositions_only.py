"""The compositions-only rule, enforced: every node in the graph of every layer's output (and of
its gradient) is a registered primitive, and no file under minigrad/nn defines a gradient."""

import ast
import pathlib

import numpy as np
import pytest
from helpers import graph_of

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import ops

NN_DIR = pathlib.Path(nn.__file__).parent


def x4(*shape):
    return mg.tensor(np.random.default_rng(0).uniform(0.5, 1.5, shape), requires_grad=True)


LAYERS = [nn.Linear(4, 3), nn.Conv1d(2, 3, 3, padding="same"), nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2),
          nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1), nn.LocallyConnected2d(2, 3, (5, 5), 3),
          nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(2), nn.LPPool2d(2, 2), nn.GlobalAvgPool2d(), nn.ReLU(), nn.LeakyReLU(),
          nn.Sigmoid(), nn.Tanh(), nn.Softmax(dim=1), nn.LogSoftmax(dim=1), nn.Flatten(), nn.Dropout(0.5),
          nn.BatchNorm2d(2), nn.BatchNorm2d(2).eval(), nn.LocalResponseNorm(3), nn.LocalContrastNorm(3),
          # (Identity makes no node)
          nn.Sequential(nn.Conv2d(2, 2, 3), nn.ReLU()), nn.AdaptiveAvgPool2d((2, 3)), nn.Dropout2d(0.5)]
INPUTS = {"Linear": (2, 4), "Conv1d": (2, 2, 6), "GlobalAvgPool2d": (2, 2, 3, 3)}
FUNCTIONS = {
    "conv2d": lambda x: F.conv2d(x, x4(3, 2, 2, 2), x4(3), padding="same"),
    "convolve2d": lambda x: F.convolve2d(x, x4(3, 2, 2, 2)),
    "conv_transpose2d": lambda x: F.conv_transpose2d(x, x4(2, 3, 3, 3), x4(3), stride=2, padding=1),
    "locally_connected2d": lambda x: F.locally_connected2d(x, x4(4, 4, 3, 2, 2, 2), x4(3, 4, 4)),
    "max_pool2d": lambda x: F.max_pool2d(x, 2, 1, 1, 2),
    "sum_pool2d": lambda x: F.sum_pool2d(x, 2, padding=1),
    "lp_pool2d": lambda x: F.lp_pool2d(x, 3, 2),
    "batch_norm": lambda x: F.batch_norm(x, np.zeros(2), np.ones(2), x4(2), x4(2), training=True),
    "local_response_norm": lambda x: F.local_response_norm(x, 2),
    "local_contrast_norm": lambda x: F.local_contrast_norm(x, 3),
    "flatten": F.flatten,
    "cross_entropy": lambda x: F.cross_entropy(F.flatten(x), np.array([0, 1])),
    "nll_loss": lambda x: F.nll_loss(F.flatten(x).log_softmax(), np.array([3, 1])),
    "mse_loss": lambda x: F.mse_loss(x, np.zeros(x.shape)),
    "multi_margin_loss": lambda x: F.multi_margin_loss(F.flatten(x), np.array([2, 0]), p=2),
    "dropout": lambda x: F.dropout(x, 0.3),
    "leaky_relu": F.leaky_relu,
}



def assert_only_primitives(out, *inputs):
    """Each node's op is a primitive of the registry; so is every node of the gradient's graph."""
    nodes = [t for t in graph_of(out) if t.op is not None]
    assert nodes, "the output records no graph"
    for t in nodes:
        assert ops.registry.get(t.op.name) is t.op, f"{t.op!r} is not a registered primitive"
    grads = mg.grad(out.sum(), inputs, create_graph=True, allow_unused=True)
    for g in grads:
        for t in graph_of(g) if g is not None else []:
            assert t.op is None or ops.registry.get(t.op.name) is t.op


@pytest.mark.parametrize("layer", LAYERS, ids=lambda m: type(m).__name__)
def test_every_layer_is_a_composition_of_primitives(layer):
    x = x4(*INPUTS.get(type(layer).__name__, (2, 2, 5, 5)))
    layer.double()  # float64 inputs need float64 weights (a layer refuses to mix precisions)
    assert_only_primitives(layer(x), x, *layer.parameters())


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_is_a_composition_of_primitives(name):
    x = x4(2, 2, 5, 5)
    assert_only_primitives(FUNCTIONS[name](x), x)


def test_every_function_in_functional_is_covered():
    """A new function in nn.functional must be added to FUNCTIONS or be the form of a layer above."""
    through_layers = {"conv1d", "linear", "avg_pool2d", "global_avg_pool2d", "relu", "sigmoid", "tanh", "softmax",
                      "log_softmax", "adaptive_avg_pool2d", "dropout2d"}
    assert set(F.__all__) == set(FUNCTIONS) | through_layers


def test_no_file_under_nn_defines_a_gradient():
    """No Primitive is built, no VJP or backward is written, no hook rewrites a gradient, and ``.grad``
    is only ever reset to None (zero_grad)."""
    files = sorted(NN_DIR.rglob("*.py"))
    assert len(files) >= 10
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                assert "vjp" not in node.name.lower() and "backward" not in node.name.lower(), f"{path}: {node.name}"
            if isinstance(node, ast.Name | ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
                assert name not in ("Primitive", "register_hook", "vjp", "vjps"), f"{path}:{node.lineno} uses {name}"
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "grad"
                                                    for t in node.targets):
                assert isinstance(node.value, ast.Constant) and node.value.value is None, \
                    f"{path}:{node.lineno} sets a gradient"
            if isinstance(node, ast.ImportFrom):
                assert node.module != "minigrad.ops.primitive", f"{path} imports the primitive machinery"
