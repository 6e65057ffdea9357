"""``mg.summary(model, input_shape)``: what every layer of a network does, as a table.

    print(mg.summary(mg.models.LeNet5(), (1, 1, 28, 28)))

One forward pass on zeros of ``input_shape`` (batch axis included) gives one row per call
of a leaf layer (a Module without children), in call order: its path ("features.0"), type,
output shape, own parameter count, receptive field and jump, multiply-adds, and a note
when its stride does not tile its input. Forward hooks on the leaf layers watch the pass
and are removed afterwards, even when the pass fails. The model runs in eval mode (dropout
off, batch norm on its running statistics: nothing in it changes, no random number is
drawn) and every module gets its mode back.

**Receptive field and jump.** For one output unit, the receptive field r is how many input
pixels along an axis can influence it; the jump j is how many input pixels apart two
neighbouring output units are (the layer's effective stride). The input has r = 1, j = 1,
and a layer with kernel k, stride s and dilation d gives

    k_eff = d·(k − 1) + 1,    r_out = r_in + (k_eff − 1)·j_in,    j_out = j_in·s.

(Padding shifts where a field starts, not its size.) r counts padded positions too, so in
deep networks it can exceed the image. Layers that keep the spatial grid (activations,
normalization, dropout) keep r and j. Global pooling, Flatten and Linear mix every position:
from there on r is the whole input (its spatial size) and j is None, shown as "—". A
transposed convolution with stride s puts s outputs per input step, so j_out = j_in / s (a
fraction, such as 1/2), and each output is fed by at most n = ⌈k·g / s⌉ taps that are
d/g inputs apart (g = gcd(d, s)): r_out = r_in + (n − 1)·(d/g)·j_in, rounded up.

Values are per spatial axis, given as one int when all axes agree (a square field) and as
a tuple (H, W) otherwise; None when the input has no spatial axes (a flat vector).

Geometry belongs to tensors, not to the order of rows. The pass records the graph (it is
not run under ``no_grad``) so that a tensor no layer produced — a concatenation of
branches, a reshape inside a ``forward`` — gets the largest field among the layer outputs
it was computed from: an Inception block's output has the field of its widest branch,
whichever branch ran last. A leaf layer that summary does not know and that changes the
grid gives None (unknown) from there on.

**Multiply-adds** (batch included, bias excluded): a convolution makes each output element
from (in_channels / groups) × kernel area products; a Linear from in_features. A transposed
convolution scatters instead of gathering: each *input* element meets (out_channels /
groups) × kernel area weights, which is the work it does (counting per output element
would also count the zeros a stride inserts). Every other layer counts 0.

**Activations and memory.** A row's activations are its output's element count, batch
included (``row.activations``); its memory is that count times the bytes per element of the
output's dtype (``row.memory_bytes``: 4 for float32, minigrad's default; 8 for float64). The
table shows them with their totals in MB (10⁶ bytes) and names the dtypes in a footnote. The
total sums every row's output, each a separate array (a ReLU's output too), not the input.

**Notes.** When (W − F + 2P) is not divisible by S, the last (W − F + 2P) mod S rows or
columns of the padded input are never covered by a window; the note says how many of them
are input (not padding).

**Errors.** When the forward pass fails, ``summary`` raises ValueError naming the innermost
module call the error came through (its path, type and input shapes, read from the
traceback's frames of ``Module.__call__``), the original error, and the table of the rows
recorded before it.
"""

from __future__ import annotations

import functools
import math
import numbers
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from minigrad import nn
from minigrad.autograd import topological_order
from minigrad.creation import zeros
from minigrad.state import enable_grad
from minigrad.tensor import Tensor

AxisValue = int | Fraction | tuple | None


@dataclass(frozen=True)
class Geometry:
    """Receptive field and jump per spatial axis; ``jump`` is None once every position is mixed."""

    field: tuple[Fraction, ...]
    jump: tuple[Fraction, ...] | None


@dataclass(frozen=True)
class Row:
    """One leaf layer call: see the module docstring for what each value means."""

    name: str
    type: str
    output_shape: tuple[int, ...]
    params: int
    receptive_field: AxisValue
    jump: AxisValue
    macs: int
    dtype: str
    note: str = ""

    @property
    def activations(self) -> int:
        """The output's element count, batch included: the product of ``output_shape``."""
        return math.prod(self.output_shape)

    @property
    def memory_bytes(self) -> int:
        """activations × bytes per element of the output's dtype."""
        return self.activations * np.dtype(self.dtype).itemsize


class Summary:
    """The rows of ``mg.summary`` with their totals; ``print(summary)`` shows the table."""

    def __init__(self, model_name: str, input_shape: tuple[int, ...], rows: list[Row], total_params: int) -> None:
        self.model_name, self.input_shape, self.rows = model_name, input_shape, rows
        self.total_params = total_params
        self.total_macs = sum(r.macs for r in rows)
        self.total_activations = sum(r.activations for r in rows)
        self.total_memory_bytes = sum(r.memory_bytes for r in rows)

    def __repr__(self) -> str:
        return (f"Summary({self.model_name}, input {self.input_shape}: {len(self.rows)} layers, "
                f"{self.total_params:,} parameters, {self.total_macs:,} multiply-adds)")

    def __str__(self) -> str:
        out = [f"{self.model_name} on input {self.input_shape}", *_table(self.rows),
               f"total parameters:     {self.total_params:,}",
               f"total multiply-adds:  {self.total_macs:,}",
               f"total activations:    {self.total_activations:,} ({_megabytes(self.total_memory_bytes)} MB)",
               "field: receptive field in input pixels; jump: input pixels between neighbouring outputs "
               "(— : every output sees the whole input)",
               f"memory: activations × bytes per element ({_dtypes(self.rows)}); 1 MB = 10⁶ bytes"]
        return "\n".join(out + _notes(self.rows))


def _notes(rows: list[Row]) -> list[str]:
    notes = [f"  {r.name}: {r.note}" for r in rows if r.note]
    return ["notes:", *notes] if notes else []


def _table(rows: list[Row]) -> list[str]:
    """The rows as aligned lines between rules, under a header."""
    header = ("layer", "type", "output shape", "params", "field", "jump", "mult-adds", "activations", "memory (MB)")
    cells = [(r.name, r.type, str(r.output_shape), f"{r.params:,}", _text(r.receptive_field), _text(r.jump),
              f"{r.macs:,}", f"{r.activations:,}", _megabytes(r.memory_bytes)) for r in rows]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    numeric = {3, 6, 7, 8}  # right-aligned columns

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if i in numeric else v.ljust(w)
                         for i, (v, w) in enumerate(zip(values, widths, strict=True))).rstrip()

    rule = "-" * len(line(header))
    return [rule, line(header), rule, *(line(c) for c in cells), rule]


def summary(model: nn.Module, input_shape: Sequence[int]) -> Summary:
    """Runs ``model`` once on zeros of ``input_shape`` (batch axis included) and tabulates its layers.

    The model is put in eval mode for the pass (dropout off, batch norm on its running
    statistics, so nothing in the model changes) and every module's mode is restored after.
    When the pass fails, ValueError names the failing layer and shows the rows before it.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"summary: expected an nn.Module, got {type(model).__name__}")
    shape = tuple(input_shape) if isinstance(input_shape, Sequence) and not isinstance(input_shape, str) else ()
    if not shape or not all(isinstance(n, numbers.Integral) and n > 0 for n in shape):
        raise ValueError(f"summary: input_shape must be positive ints with the batch axis first, "
                         f"e.g. (1, 3, 32, 32); got {input_shape!r}")
    shape = tuple(int(n) for n in shape)
    x = zeros(*shape).requires_grad_()  # requires grad so that the graph links every tensor to x
    recorder = _Recorder(x)
    with _eval_mode(model), enable_grad(), _leaf_calls(model, recorder.record):
        try:
            model(x)
        except Exception as err:
            raise ValueError(_failure(model, err, recorder.rows)) from err
    return Summary(type(model).__name__, shape, recorder.rows, sum(p.numel() for p in model.parameters()))


# ---- the forward pass, observed
@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


@contextmanager
def _leaf_calls(model: nn.Module, record: Any) -> Iterator[None]:
    """Calls ``record(path, module, inputs, output)`` after each leaf module's forward; unhooks after."""
    removers = []
    try:
        for module, name in _paths(model).items():
            if next(module.children(), None) is None:
                removers.append(module.register_forward_hook(functools.partial(record, name)))
        yield
    finally:
        for remove in removers:
            remove()


def _paths(model: nn.Module) -> dict[nn.Module, str]:
    """Every module's path in ``model``; the model itself is named by its type (a model may be a single layer)."""
    return {module: path or type(module).__name__ for path, module in model.named_modules()}


def _failure(model: nn.Module, err: Exception, rows: list[Row]) -> str:
    """What failed (the innermost module call in the traceback), on what input, and the rows before it."""
    calls = [frame.f_locals for frame, _ in traceback.walk_tb(err.__traceback__)
             if frame.f_code is nn.Module.__call__.__code__]
    module, inputs = calls[-1]["self"], calls[-1]["args"]
    layer = f"{_paths(model).get(module, '(unregistered)')} ({type(module).__name__})"
    shapes = ", ".join(str(t.shape) for t in inputs if isinstance(t, Tensor)) or "no tensor"
    before = ["the rows before it:", *_table(rows), *_notes(rows)] if rows else ["no layer finished before it"]
    return "\n".join([f"summary: {type(model).__name__} failed in layer {layer} on input of shape {shapes}: "
                      f"{type(err).__name__}: {err}", *before])


class _Recorder:
    """Builds one Row per leaf call, carrying each tensor's geometry from layer to layer."""

    def __init__(self, x: Tensor) -> None:
        self.spatial = x.shape[2:]
        self.geometry: dict[Tensor, Geometry | None] = {x: Geometry((Fraction(1),) * len(self.spatial),
                                                                    (Fraction(1),) * len(self.spatial))}
        self.rows: list[Row] = []

    def record(self, name: str, module: nn.Module, inputs: tuple, output: Any) -> None:
        if not isinstance(output, Tensor):
            raise TypeError(f"summary: layer {name} ({type(module).__name__}) returned "
                            f"{type(output).__name__}, not a Tensor")
        x = next((t for t in inputs if isinstance(t, Tensor)), None)
        before = _merge([self._geometry_of(t) for t in inputs if isinstance(t, Tensor)])
        after = _layer_geometry(module, before, x, output, self.spatial)
        self.geometry[output] = after
        self.rows.append(Row(name, type(module).__name__, tuple(output.shape),
                             sum(p.numel() for p in module.parameters()),
                             _value(after.field if after else None), _value(after.jump if after else None),
                             _macs(module, x, output), str(output.dtype), _note(module, x)))

    def _geometry_of(self, t: Tensor) -> Geometry | None:
        """The geometry of ``t``, or the largest among the known tensors it was computed from
        (the walk back from ``t`` stops at each tensor whose geometry is known)."""
        walked = topological_order([t], lambda u: () if u in self.geometry else u.inputs)
        found = [self.geometry[u] for u in walked if u in self.geometry]
        return _merge(found) if found else None


def _merge(geometries: list[Geometry | None]) -> Geometry | None:
    """A tensor computed from several: unknown if any is, whole if any is, else the largest field."""
    known = [g for g in geometries if g is not None]
    if not known or len(known) < len(geometries) or len({len(g.field) for g in known}) > 1:
        return None
    field = tuple(max(axis) for axis in zip(*(g.field for g in known), strict=True))
    jumps = [g.jump for g in known if g.jump is not None]
    if len(jumps) < len(known):
        return Geometry(field, None)
    return Geometry(field, tuple(max(axis) for axis in zip(*jumps, strict=True)))


# ---- geometry arithmetic
_CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.LocallyConnected2d)
_WINDOWED = (*_CONVOLUTIONS, nn.MaxPool2d, nn.AvgPool2d, nn.LPPool2d)  # a window slides over the input
_MIXING = (nn.Linear, nn.Flatten, nn.GlobalAvgPool2d)                   # every position meets every other


def _layer_geometry(module: nn.Module, g: Geometry | None, x: Tensor | None, out: Tensor,
                    spatial: tuple[int, ...]) -> Geometry | None:
    if g is None or g.jump is None:
        return g
    jump = g.jump
    if isinstance(module, _MIXING):
        return Geometry(tuple(Fraction(n) for n in spatial), None)
    if isinstance(module, (*_WINDOWED, nn.ConvTranspose2d)):
        k, s, _, d = _window(module, len(g.field))
        if len(k) != len(g.field):
            return None
        if isinstance(module, nn.ConvTranspose2d):
            return _transposed(g.field, jump, k, s, d)
        return Geometry(tuple(r + (dk * (kk - 1)) * j for r, j, kk, dk in zip(g.field, jump, k, d, strict=True)),
                        tuple(j * sk for j, sk in zip(jump, s, strict=True)))
    same_grid = x is not None and x.ndim == out.ndim and x.shape[2:] == out.shape[2:]
    return g if same_grid else None


def _transposed(field_in: tuple[Fraction, ...], jump: tuple[Fraction, ...], k: tuple, s: tuple, d: tuple) -> Geometry:
    field = []
    for r, j, kk, sk, dk in zip(field_in, jump, k, s, d, strict=True):
        common = math.gcd(dk, sk)
        taps = -(-kk * common // sk)  # at most ⌈k·g / s⌉ taps reach one output, d/g inputs apart
        field.append(Fraction(math.ceil(r + (taps - 1) * Fraction(dk, common) * j)))
    return Geometry(tuple(field), tuple(j / sk for j, sk in zip(jump, s, strict=True)))


def _window(module: Any, n: int) -> tuple[tuple[int, ...], ...]:
    """(kernel, stride, padding, dilation) of a sliding-window layer (any module with a
    ``kernel_size``), one int per axis."""
    k = _ints(module.kernel_size, n)
    s = _ints(getattr(module, "stride", None) or k, n)
    d = _ints(getattr(module, "dilation", 1), n)
    padding = getattr(module, "padding", 0)
    if padding == "valid":
        padding = 0
    elif padding == "same":  # stride 1 only, so its exact split never decides a note
        padding = tuple(dk * (kk - 1) // 2 for kk, dk in zip(k, d, strict=True))
    return k, s, _ints(padding, n), d


def _ints(value: int | Sequence[int], n: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, Sequence) else (value,) * n


# ---- work and warnings
def _macs(module: nn.Module, x: Tensor | None, out: Tensor) -> int:
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    if isinstance(module, nn.ConvTranspose2d) and x is not None:
        return x.numel() * module.out_channels // module.groups * math.prod(_ints(module.kernel_size, 2))
    if isinstance(module, _CONVOLUTIONS):
        kernel = _ints(module.kernel_size, out.ndim - 2)
        return out.numel() * module.in_channels // getattr(module, "groups", 1) * math.prod(kernel)
    return 0


_AXES = {1: ("position",), 2: ("row", "column")}


def _note(module: nn.Module, x: Tensor | None) -> str:
    """Says how many input rows/columns no window reaches when the stride does not tile the input."""
    if not isinstance(module, _WINDOWED) or x is None or getattr(module, "ceil_mode", False):
        return ""
    size = x.shape[2:]
    k, s, p, d = _window(module, len(size))
    spans = [(w, pp, dk * (kk - 1) + 1) for w, pp, kk, dk in zip(size, p, k, d, strict=True)]
    left = [(w + 2 * pp - f) % sk for (w, pp, f), sk in zip(spans, s, strict=True)]
    if not any(left):
        return ""
    sums = [f"{w}+2·{pp}−{f}" for w, pp, f in spans]
    head = f"stride {_value(s)} does not tile {sums[0] if len(set(sums)) == 1 else '(' + ', '.join(sums) + ')'}"
    lost = [max(0, m - pp) for m, pp in zip(left, p, strict=True)]  # the rest of the leftover is padding
    if any(lost):
        return f"{head}: the last {_counted(lost)} never seen"
    return f"{head}: the last {_counted(left)} padding that no window reaches; no input pixel is lost"


def _counted(counts: list[int]) -> str:
    """'1 row and 2 columns are', '1 row is': the nonzero counts per axis, with the verb."""
    parts = [f"{c} {axis}{'s' if c > 1 else ''}" for c, axis in zip(counts, _AXES[len(counts)], strict=True) if c]
    return " and ".join(parts) + (" is" if [c for c in counts if c] == [1] else " are")


# ---- presentation
def _value(values: tuple | None) -> AxisValue:
    """One number when every axis agrees, a tuple otherwise; ints where exact."""
    if not values:
        return None
    exact = tuple(int(v) if Fraction(v).denominator == 1 else Fraction(v) for v in values)
    return exact[0] if len(set(exact)) == 1 else exact


def _megabytes(n: int) -> str:
    return f"{n / 1e6:,.3f}"


def _dtypes(rows: list[Row]) -> str:
    """'float32: 4 bytes', one entry per dtype among the outputs, in order of first appearance."""
    names = dict.fromkeys(r.dtype for r in rows)
    return ", ".join(f"{name}: {np.dtype(name).itemsize} bytes" for name in names) or "no output"


def _text(value: AxisValue) -> str:
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ")"
    return str(value)
