"""Command line: draw the graph of a model from ``minigrad.models`` on a random input.

    python -m minigrad.viz lenet5 -o lenet5.svg --collapse
    python -m minigrad.viz vgg16 --input-shape 2,3,224,224 -o vgg16.pdf --format pdf --collapse --roll

Every model has a default input shape: its class's ``input_shape`` attribute where it has
one, else the paper's, from INPUT_SHAPES. Models that need constructor arguments are built
with those of EXAMPLE_ARGUMENTS (InceptionBlock: GoogLeNet's block 3a).
"""

from __future__ import annotations

import argparse
import os
import sys

import minigrad as mg
from minigrad.viz.dot import RANKDIRS
from minigrad.viz.files import FORMATS, render

INPUT_SHAPES = {  # the input each paper used, batch of one; a class's `input_shape` attribute overrides it
    "lenet5": (1, 1, 28, 28), "simplecnn": (1, 3, 32, 32), "alexnet": (1, 3, 227, 227),
    "zfnet": (1, 3, 224, 224), "googlenet": (1, 3, 224, 224), "inceptionblock": (1, 192, 28, 28),
    "vgg11": (1, 3, 224, 224), "vgg13": (1, 3, 224, 224), "vgg16": (1, 3, 224, 224), "vgg19": (1, 3, 224, 224),
}
EXAMPLE_ARGUMENTS = {"inceptionblock": (192, 64, 96, 128, 16, 32, 32)}  # GoogLeNet's block 3a


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        model = _model(args.model)
        x = mg.randn(*(args.input_shape or _input_shape(args.model, type(model))))
        x.name = "input"
        out = model(x)
        fmt = args.format or _format_of(args.output)
        written = render(out, args.output, fmt, backward=args.backward, collapse=args.collapse,
                         group_modules=args.group_modules, max_nodes=args.max_nodes, rankdir=args.rankdir,
                         roll=args.roll, hide=tuple(args.hide))
    except (ValueError, TypeError, RuntimeError, OSError) as err:
        print(f"python -m minigrad.viz: error: {err}", file=sys.stderr)
        return 1
    print(written)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minigrad.viz",
                                     description="Draws the computation graph of a model from minigrad.models "
                                                 "applied to a random input.")
    parser.add_argument("model", help="a model's lower-case name: lenet5, alexnet, vgg16, …")
    parser.add_argument("--input-shape", type=_shape, metavar="N,C,H,W",
                        help="the input's shape, batch axis included, e.g. 1,1,28,28 (default: the model's)")
    parser.add_argument("-o", "--output", required=True, metavar="PATH", help="the file to write")
    parser.add_argument("--format", choices=FORMATS, help="picture format (default: from PATH's suffix, else svg)")
    parser.add_argument("--collapse", action="store_true", help="draw each layer as one box")
    parser.add_argument("--backward", action="store_true", help="draw the graph that backward builds")
    parser.add_argument("--group-modules", action="store_true", help="a cluster per Module call")
    parser.add_argument("--max-nodes", type=int, help="at most this many nodes; a summary node stands for the rest")
    parser.add_argument("--rankdir", choices=RANKDIRS, default="TB", help="layout direction (default TB)")
    parser.add_argument("--roll", action="store_true", help="draw runs of identical blocks once, marked × N")
    parser.add_argument("--hide", action="append", default=[], metavar="PATH",
                        help="leave out a submodule by path, e.g. features.3 (repeat for more)")
    return parser


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(n) for n in text.split(","))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas (1,3,32,32), got {text!r}")
    return shape


def _format_of(path: str) -> str:
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    return suffix if suffix in FORMATS else "svg"


def zoo() -> dict[str, type]:
    """The models this command draws: each Module class of ``minigrad.models``, by its lower-case name."""
    from minigrad import models, nn

    return {n.lower(): cls for n, cls in vars(models).items() if not n.startswith("_")
            and isinstance(cls, type) and issubclass(cls, nn.Module) and cls.__module__ == models.__name__}


def _model(name: str) -> mg.nn.Module:
    """A new instance of the model in ``minigrad.models`` whose class name, lower-cased, is ``name``."""
    found = zoo()
    if name.lower() not in found:
        raise ValueError(f"unknown model {name!r}; minigrad.models has {', '.join(sorted(found))}")
    try:
        return found[name.lower()](*EXAMPLE_ARGUMENTS.get(name.lower(), ()))
    except TypeError as err:
        raise ValueError(f"{name} needs constructor arguments ({err}); build it in Python and call "
                         "minigrad.viz.render on its output instead") from None


def _input_shape(name: str, model_class: type) -> tuple[int, ...]:
    """The model class's ``input_shape`` attribute, else the paper's input from INPUT_SHAPES."""
    shape = getattr(model_class, "input_shape", None) or INPUT_SHAPES.get(name.lower())
    if shape is None:
        raise ValueError(f"{name} has no default input shape; pass --input-shape N,C,H,W")
    return tuple(shape)


if __name__ == "__main__":
    sys.exit(main())
