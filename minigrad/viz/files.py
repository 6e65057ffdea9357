"""Writing a picture to a file with graphviz's ``dot`` program.

The file appears complete or not at all: ``dot`` writes a temporary file beside the
target, which then replaces it. Without ``dot`` the DOT source is written instead, so
nothing is lost, and the error says how to install graphviz.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from minigrad.atomic import write_atomically
from minigrad.tensor import Tensor
from minigrad.viz.dot import digraph

FORMATS = ("svg", "png", "pdf")
INSTALL = ("install graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) "
           "or `conda install -c conda-forge graphviz`")


def render(root: Tensor, path: str | os.PathLike, format: str = "svg", *,  # noqa: A002 (graphviz's name)
           values: bool = False, grads: bool = False, backward: bool = False, group_modules: bool = False,
           collapse: bool = False, max_nodes: int | None = None, rankdir: str = "TB", roll: bool = False,
           hide: tuple[str, ...] = ()) -> str:
    """Draws root's graph into ``path`` (the format's suffix is added when path has none); returns the path.

    The options are ``to_dot``'s. Needs graphviz's ``dot`` program; without it, raises
    RuntimeError naming the package to install, and writes the DOT source to path.dot.
    """
    if format not in FORMATS:
        raise ValueError(f"render: unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    target = _target(os.fspath(path), format)
    source = digraph("render", root, values=values, grads=grads, backward=backward, group_modules=group_modules,
                     collapse=collapse, max_nodes=max_nodes, rankdir=rankdir, roll=roll, hide=hide).source
    program = shutil.which("dot")
    if program is None:
        beside = os.path.splitext(target)[0] + ".dot"
        write_atomically(beside, lambda tmp: _write_text(tmp, source), "render")
        raise RuntimeError(f"render: graphviz's `dot` program is not on PATH, so {target!r} could not be drawn; "
                           f"the DOT source is in {beside!r}. To draw pictures, {INSTALL}; then call render "
                           f"again, or run `dot -T{format} {beside} -o {target}`")
    write_atomically(target, lambda tmp: _run_dot(program, format, source, tmp), "render")
    return target


def _target(path: str, format: str) -> str:  # noqa: A002
    """``path`` with ``.format`` added unless it already ends so; a different picture suffix is an error."""
    if not path or path.endswith(("/", os.sep)):
        raise ValueError(f"render: path must name a file, got {path!r}")
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if suffix == format:
        return path
    if suffix in FORMATS:
        raise ValueError(f"render: {path!r} ends in .{suffix} but format is {format!r}; "
                         f"pass format={suffix!r} or change the file name")
    return f"{path}.{format}"


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _run_dot(program: str, format: str, source: str, out: str) -> None:  # noqa: A002
    result = subprocess.run([program, f"-T{format}", "-o", out], input=source.encode("utf-8"),
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"render: graphviz's dot failed (exit {result.returncode}): "
                           f"{result.stderr.decode(errors='replace').strip()}")
