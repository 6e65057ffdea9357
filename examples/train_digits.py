"""Train a LeNet-style CNN on real handwritten digits, then save it, its history and pictures of it.

The data are the 1,797 8×8 digits that scikit-learn ships (no download). The network is
LeNet-5's pattern — CONV → POOL → CONV → FC → FC — sized for 8×8 images, with batch
normalization after each convolution (it makes training on so few images much steadier):

    input                1 × 8 × 8
    conv 3×3, BN, ReLU  16 × 8 × 8    (8 − 3 + 2·1)/1 + 1 = 8
    max pool 2×2        16 × 4 × 4    (8 − 2)/2 + 1 = 4
    conv 3×3, BN, ReLU  64 × 4 × 4    (4 − 3 + 2·1)/1 + 1 = 4
    flatten → 1024 → 128 → ReLU → dropout → 10 classes

It trains for 8 epochs of batches of 64 with Adam on a one-cycle schedule: the learning rate
climbs linearly to its peak over the first quarter of the steps, then falls to 0 along a half
cosine — large steps while far from a minimum, small ones to settle into it, so that few epochs
suffice. (Augmenting the images, e.g. with ``RandomShift(1)``, pays off over thirty epochs but
slows a run this short.) Run as a script, it first asks malloc to keep freed memory for reuse
(``mg.memory.keep_freed_memory()``), as a training script should: each step frees and
allocates the same large arrays again.

It writes to ``--out`` (runs/digits): the weights (digits_cnn.npz), the history of every epoch
(history.csv: loss, accuracy on the epoch's training batches as they were trained on, test
accuracy, images/s), the model's graph (digits_cnn.svg, drawn in evaluation mode so batch
norm's running statistics stay as saved) and, when matplotlib is installed (the ``plots``
extra), the curves (curves.png) and the first layer's learned filters (filters.png).

    python examples/train_digits.py            # a few seconds on two cores, ~98–98.6 % test accuracy
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.data import DataLoader, TensorDataset

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HISTORY_FIELDS = ("epoch", "loss", "train_accuracy", "test_accuracy", "images_per_second")


class DigitsCNN(nn.Module):
    """Two convolutions (with batch norm) and two fully connected layers, for 1×8×8 images."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 64, kernel_size=3, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Dropout(0.5),
                                        nn.Linear(128, num_classes))

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.classifier(self.features(x))


def accuracy(model: nn.Module, dataset: TensorDataset) -> float:
    """Fraction of ``dataset`` classified correctly, in evaluation mode and without a graph."""
    images, labels = dataset.tensors
    model.eval()
    with mg.no_grad():
        predicted = model(images).argmax(axis=1)
    model.train()
    return float((predicted.data == labels.data).mean())


def one_cycle(step: int, total: int, peak: float) -> float:
    """The learning rate of step ``step`` of ``total``: up linearly to ``peak`` over the first quarter, then
    down to 0 along a half cosine."""
    warmup = total / 4
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (1 + math.cos(math.pi * (step - warmup) / (total - warmup))) / 2


def train(epochs: int = 8, batch_size: int = 64, lr: float = 5e-3, seed: int = 0,
          out_dir: str = "runs/digits", verbose: bool = True) -> tuple[DigitsCNN, float]:
    """Trains with Adam (peak learning rate ``lr``, one cycle) and cross-entropy; saves the weights,
    history and pictures to ``out_dir``; returns (model, test accuracy)."""
    say = print if verbose else (lambda *args: None)
    mg.manual_seed(seed)  # the same seed gives the same weights, batches and therefore the same run
    train_set, test_set = mg.datasets.digits(seed=seed)
    model = DigitsCNN()
    optimizer = mg.optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, seed=seed)
    steps, total_steps = 0, epochs * len(loader)
    history: list[dict[str, float]] = []
    say(f"{len(train_set)} training and {len(test_set)} test images; "
        f"{sum(p.numel() for p in model.parameters()):,} parameters")
    for epoch in range(1, epochs + 1):
        start, total_loss, correct = time.perf_counter(), 0.0, 0
        for images, labels in loader:
            optimizer.param_groups[0]["lr"] = one_cycle(steps, total_steps, lr)
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
            total_loss += loss.item() * len(labels)
            correct += int((logits.data.argmax(axis=1) == labels.data).sum())  # no second pass over the data
        seconds = time.perf_counter() - start
        history.append({"epoch": epoch, "loss": total_loss / len(train_set), "train_accuracy": correct / len(train_set),
                        "test_accuracy": accuracy(model, test_set), "images_per_second": len(train_set) / seconds})
        say("epoch {epoch:2d}  loss {loss:.4f}  train acc {train_accuracy:.3f}  test acc {test_accuracy:.3f}  "
            "{images_per_second:,.0f} images/s".format(**history[-1]))
    test_accuracy = accuracy(model, test_set)
    say(f"final test accuracy: {test_accuracy:.2%}")
    save(model, history, test_set, out_dir, say)
    return model, test_accuracy


def save(model: DigitsCNN, history: list[dict[str, float]], test_set: TensorDataset, out_dir: str,
         say: Callable[..., None]) -> None:
    """Writes the weights, the history, the model's graph and (with matplotlib) the curves and filters."""
    os.makedirs(out_dir, exist_ok=True)
    weights = os.path.join(out_dir, "digits_cnn.npz")
    mg.save(model.state_dict(), weights)
    say(f"saved the weights to {weights}")
    with open(os.path.join(out_dir, "history.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows(history)
    say(f"saved the history to {f.name}")
    draw_graph(model, test_set.tensors[0][:1], out_dir, say)
    draw_pictures(model, history, out_dir, say)


def draw_graph(model: nn.Module, sample: mg.Tensor, out_dir: str, say: Callable[..., None]) -> None:
    """The graph of one forward in evaluation mode, to digits_cnn.svg (when graphviz can render).

    In training mode the forward would move batch norm's running statistics away from the
    saved ones; in evaluation mode it only reads them (and dropout is off, as at test time).
    """
    model.eval()
    try:
        picture = mg.viz.render(model(sample), os.path.join(out_dir, "digits_cnn"), format="svg", group_modules=True)
        say(f"drew the model's graph to {picture}")
    except RuntimeError as err:  # no graphviz binary: the .dot source was still written
        say(f"no picture of the graph: {err}")
    finally:
        model.train()


def draw_pictures(model: DigitsCNN, history: list[dict[str, float]], out_dir: str,
                  say: Callable[..., None]) -> None:
    """curves.png (loss and accuracy per epoch) and filters.png (the first layer's filters), with matplotlib."""
    try:
        figures = {"filters.png": mg.viz.filters(model.features[0].weight, ncols=8), "curves.png": curves(history)}
    except ImportError as err:
        say(f"no curves.png or filters.png: {err}")
        return
    for name, figure in figures.items():
        figure.savefig(os.path.join(out_dir, name), dpi=100)
        say(f"drew {name} in {out_dir}")


def curves(history: list[dict[str, float]]) -> Figure:
    """Two panels against the epoch: the mean training loss, and the train and test accuracy."""
    from matplotlib.figure import Figure

    epochs = [row["epoch"] for row in history]
    fig = Figure(figsize=(9, 3.5), layout="constrained")
    loss, acc = fig.subplots(1, 2)
    loss.plot(epochs, [row["loss"] for row in history])
    loss.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log", title="training loss")
    for split in ("train", "test"):
        acc.plot(epochs, [row[f"{split}_accuracy"] for row in history], label=split)
    acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    acc.legend()
    return fig


def main(argv: Sequence[str] | None = None) -> float:
    mg.memory.keep_freed_memory()  # reuse freed arrays' memory from step to step (docs/performance.md)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=5e-3, help="the one-cycle schedule's peak learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/digits", help="folder for the weights, the history and the pictures")
    args = parser.parse_args(argv)
    _, test_accuracy = train(args.epochs, args.batch_size, args.lr, args.seed, args.out)
    return test_accuracy


if __name__ == "__main__":
    main()
