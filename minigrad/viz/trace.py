"""Backprop as a table: the steps that backward runs, in order, with the gradients each passes on.

``trace(L)`` runs L's backward through ``autograd.walk`` — the same loop, in the same order,
as ``L.backward()``, but storing no ``.grad`` — and records one step per node: the
primitive, the gradient that reached the node (∂L/∂node) and the gradient its VJP sends to
each input that requires grad. Printed, a ``Trace`` is the table a learner draws by hand;
in Jupyter it shows as an HTML table.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from minigrad import autograd
from minigrad.nn.modules.module import module_calls
from minigrad.tensor import Tensor
from minigrad.viz.labels import shape_text, values_text

SMALL = 8  # a gradient with at most this many elements keeps its values; a bigger one only its shape
COLUMNS = ("step", "op", "node", "∂{out}/∂node", "gradients it sends")


@dataclass(frozen=True)
class Gradient:
    """∂L/∂``name``: its shape, and its values (flattened) when it has at most SMALL elements.

    ``adds`` says that the tensor already received a gradient from an earlier step (it is used
    more than once): backward adds this one to it. ``tensor`` is the tensor it is the gradient of.
    """

    name: str
    shape: tuple[int, ...]
    values: tuple[float, ...] | None = None
    adds: bool = False
    tensor: Tensor | None = field(default=None, compare=False, repr=False)

    def value_text(self) -> str:
        """Its values as numpy prints them, on one line; its shape when it is too big to list."""
        if self.values is None:
            return shape_text(self.shape)
        return " ".join(values_text(np.array(self.values).reshape(self.shape)).split())

    def equation(self, out: str) -> str:
        """'∂L/∂d = -2'; '∂L/∂x += [1, 2]' when added to an earlier gradient; '∂L/∂W: (8, 3)' when big.

        A name with spaces is put in brackets: ∂L/∂(fc1 · matmul)."""
        wrt = f"({self.name})" if " " in self.name else self.name
        if self.values is None:
            return f"∂{out}/∂{wrt}{' (added)' if self.adds else ''}: {self.value_text()}"
        return f"∂{out}/∂{wrt} {'+=' if self.adds else '='} {self.value_text()}"


@dataclass(frozen=True)
class Step:
    """One node of the backward pass: the VJPs of ``op`` turned ``incoming`` (∂L/∂node, complete
    by now) into ``produced`` (∂L/∂input for each input that requires grad, in input order)."""

    number: int
    op: str
    node: str
    incoming: Gradient
    produced: tuple[Gradient, ...]


@dataclass(frozen=True)
class Trace:
    """The steps of one backward pass, in the order they ran; ``out`` names the output (the L of ∂L/∂x).

    Iterate over it for the rows; ``print`` it for a plain-text table; Jupyter shows an HTML table.
    """

    out: str
    steps: tuple[Step, ...]

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, index: int) -> Step:
        return self.steps[index]

    def rows(self) -> list[tuple[str, ...]]:
        """The table's cells: one line per gradient sent, the step's own cells on its first line only."""
        rows = []
        for s in self.steps:
            first = (str(s.number), s.op, s.node, s.incoming.value_text())
            for i, g in enumerate(s.produced):
                rows.append((*(first if i == 0 else ("",) * len(first)), g.equation(self.out)))
        return rows

    def header(self) -> tuple[str, ...]:
        return tuple(c.format(out=self.out) for c in COLUMNS)

    def __str__(self) -> str:
        table = [self.header(), *self.rows()]
        widths = [max(len(row[c]) for row in table) for c in range(len(COLUMNS))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                         for row in table)

    def _repr_html_(self) -> str:
        """The same table as HTML, for Jupyter."""
        def cells(row: tuple[str, ...], tag: str) -> str:
            return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row) + "</tr>"

        body = "".join(cells(row, "td") for row in self.rows())
        return (f'<table style="font-family: monospace; text-align: left"><thead>{cells(self.header(), "th")}'
                f"</thead><tbody>{body}</tbody></table>")


def trace(root: Tensor) -> Trace:
    """Runs root's backward without changing any ``.grad`` and returns its steps in the order they ran.

    root is a scalar that requires grad, whose graph no earlier backward has freed (a
    RuntimeError says so). The graph is kept, so that ``root.backward()`` can follow.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"trace: root must be a minigrad Tensor, got {type(root).__name__}")
    forward = autograd.topological_order([root])
    if any(t.freed for t in forward):
        raise RuntimeError("trace: an earlier backward() without retain_graph=True has freed this graph, so there "
                           "is no backward pass left to watch; trace before calling backward, or call "
                           "backward(retain_graph=True)")
    names = _names(forward)
    reached: set[Tensor] = set()
    steps: list[Step] = []

    def observe(t: Tensor, g: Tensor, produced: list[tuple[int, Tensor]]) -> None:
        sent = []
        for i, gx in produced:
            x = t.inputs[i]
            sent.append(_gradient(x, gx, names[x], adds=x in reached))
            reached.add(x)
        steps.append(Step(len(steps) + 1, t.op.name, names[t], _gradient(t, g, names[t]), tuple(sent)))

    autograd.walk(root, observe)
    return Trace(root.name or "out", tuple(steps))


def _names(forward: list[Tensor]) -> dict[Tensor, str]:
    """Each tensor's name; else its Module call's path and op ('fc1 · matmul', numbered '#1', '#2', …
    when the call has several such nodes); else 'node 3' (its place in the forward order)."""
    names: dict[Tensor, str] = {}
    made: Counter[str] = Counter()
    for number, t in enumerate(forward, start=1):
        calls = module_calls(t.annotations)
        names[t] = t.name or (f"{calls[-1].path} · {t.op.name}" if calls and t.op is not None else f"node {number}")
        made[names[t]] += t.name is None
    seen: Counter[str] = Counter()
    for t, name in names.items():
        if t.name is None and made[name] > 1:
            seen[name] += 1
            names[t] = f"{name} #{seen[name]}"
    return names


def _gradient(t: Tensor, g: Tensor, name: str, adds: bool = False) -> Gradient:
    values = tuple(float(v) for v in g.data.ravel()) if g.data.size <= SMALL else None
    return Gradient(name, g.shape, values, adds, t)
