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
import minigrad.nn.functional as F
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


def _small_model_and_images(n: int) -> tuple[nn.Sequential, mg.Tensor]:
    """The small CNN of the pictures (conv, ReLU, pool, flatten, linear) and n seeded 8×8 images."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 3))
    x = mg.randn(n, 1, 8, 8)
    x.name = "image"
    return model, x


def small_cnn() -> mg.Tensor:
    """A Sequential CNN on one 8×8 image: conv, ReLU, pool, flatten, linear."""
    model, x = _small_model_and_images(1)
    return model(x)


def cnn_loss() -> mg.Tensor:
    """The small CNN's F.cross_entropy loss on two images: its backward graph, collapsed, is readable."""
    model, x = _small_model_and_images(2)
    loss = F.cross_entropy(model(x), mg.tensor([0, 2]))
    loss.name = "loss"
    return loss


def max_pool() -> mg.Tensor:
    """A 2×2 max pool with a tie: its backward graph multiplies the gradient by the winners mask."""
    x = mg.tensor([[[[1.0, 3.0], [3.0, 0.0]]]], requires_grad=True, name="x")
    loss = F.max_pool2d(x, 2).sum()
    loss.name = "loss"
    return loss


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
    vgg16 = model_output(models.VGG16(), 1, 3, 224, 224)
    loss = cnn_loss()
    pictures = {
        "micrograd": (expression, {"values": True, "grads": True, "rankdir": "LR"}),
        "micrograd_backward": (expression, {"backward": True, "values": True, "rankdir": "LR"}),
        "conv_backward": (convolution(), {"backward": True}),
        "cnn_modules": (small_cnn(), {"group_modules": True}),
        "lenet5": (model_output(models.LeNet5(), 1, 1, 28, 28), {"collapse": True, "group_modules": True}),
        "vgg16": (vgg16, {"collapse": True, "group_modules": True}),
        "vgg16_rolled": (vgg16, {"collapse": True, "group_modules": True, "roll": True}),
        "cnn_loss_backward": (loss, {"backward": True, "collapse": True}),
        "cnn_loss_hidden": (loss, {"collapse": True, "hide": ("1", "2")}),
        "max_pool_backward": (max_pool(), {"backward": True, "values": True, "rankdir": "LR"}),
    }
    for name, (root, options) in pictures.items():
        print(viz.render(root, folder / name, **options))


if __name__ == "__main__":
    main()
