"""Draw the pictures of docs/visualization.md into docs/images/ (needs graphviz's `dot` program).

Each picture is one call to ``minigrad.viz.render``; the functions below build the
computations it draws, from a three-number expression to VGG-16.

    python examples/draw_graphs.py            # writes docs/images/*.svg
    python examples/draw_graphs.py -o /tmp/pictures
"""

import argparse
from pathlib import Path

import minigrad as mg
import minigrad.nn as nn
from minigrad import models, viz

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def micrograd_expression() -> mg.Tensor:
    """L = relu(a·b + c), micrograd's README example, after a backward that keeps every value and grad."""
    a = mg.tensor(2.0, requires_grad=True, name="a")
    b = mg.tensor(-3.0, requires_grad=True, name="b")
    c = mg.tensor(10.0, requires_grad=True, name="c")
    e = a * b
    e.name = "e"
    d = e + c
    d.name = "d"
    loss = d.relu()
    loss.name = "L"
    for t in (e, d):
        t.retain_grad()  # backward fills .grad of intermediates only when asked
    loss.backward(retain_graph=True)  # keep the values, so that the picture can show them
    return loss


def convolution() -> mg.Tensor:
    """One strided, padded convolution and a sum: its backward graph is two more correlations."""
    mg.manual_seed(0)
    x = mg.randn(1, 2, 5, 5, requires_grad=True)
    w = mg.randn(3, 2, 3, 3, requires_grad=True)
    x.name, w.name = "x", "w"
    loss = mg.correlate(x, w, stride=2, padding=1).sum()
    loss.name = "loss"
    return loss


def small_cnn() -> mg.Tensor:
    """A Sequential CNN on one 8×8 image: conv, ReLU, pool, flatten, linear."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 3))
    x = mg.randn(1, 1, 8, 8)
    x.name = "image"
    return model(x)


def model_output(model: nn.Module, *shape: int) -> mg.Tensor:
    mg.manual_seed(0)
    x = mg.randn(*shape)
    x.name = "image"
    return model(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=IMAGES, help=f"folder to write to (default {IMAGES})")
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    expression = micrograd_expression()
    pictures = {
        "micrograd": (expression, {"values": True, "grads": True, "rankdir": "LR"}),
        "micrograd_backward": (expression, {"backward": True, "values": True, "rankdir": "LR"}),
        "conv_backward": (convolution(), {"backward": True}),
        "cnn_modules": (small_cnn(), {"group_modules": True}),
        "lenet5": (model_output(models.LeNet5(), 1, 1, 28, 28), {"collapse": True, "group_modules": True}),
        "vgg16": (model_output(models.VGG16(), 1, 3, 224, 224), {"collapse": True, "group_modules": True}),
    }
    for name, (root, options) in pictures.items():
        print(viz.render(root, folder / name, **options))


if __name__ == "__main__":
    main()
