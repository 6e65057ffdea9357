"""The text inside each box of a picture: graphviz HTML-like labels for tensors, ops and layers.

Everything here turns one value into one short, readable string; nothing here decides
which boxes exist (that is ``graph.py``) or what they look like (``dot.py``).
"""

from __future__ import annotations

import html
import inspect
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from minigrad.ops import Primitive

SMALL = 16        # tensors with at most this many elements show every value; bigger ones a summary
PARAM_WIDTH = 44  # longest op parameter shown in full; longer ones end in "…"
LINE_WIDTH = 28   # op parameters wrap onto a new line past this many characters
LAYER_WIDTH = 36  # a collapsed layer's repr wraps past this many
SPATIAL = ("kernel_size", "stride", "padding", "dilation")  # shown as one number when all axes agree
QUIET = {"dilation": 1, "groups": 1, "padding": 0, "keepdims": False, "value": 0.0}  # left out at these values
SAVED = ("columns",)  # arrays a VJP hands on (correlate's im2col columns): data, not settings; left out


def escape(text: str) -> str:
    """Text made safe inside an HTML-like label (&, < and > escaped)."""
    return html.escape(text, quote=False)


def shape_text(shape: tuple[int, ...]) -> str:
    """(2, 3) → '(2, 3)'; a 0-d tensor is a 'scalar'."""
    return "scalar" if shape == () else f"({', '.join(map(str, shape))})" if len(shape) > 1 else f"({shape[0]},)"


def values_text(data: np.ndarray) -> str:
    """Every value of a small array, else its mean/min/max (bool arrays: how many are true)."""
    if data.dtype == bool and data.size > 1:
        return f"{int(data.sum())} of {data.size} true"
    if data.size <= SMALL:
        return np.array2string(data, separator=", ", max_line_width=40,
                               formatter={"float_kind": lambda v: f"{v + 0.0:.4g}"})  # + 0.0: no "-0"
    if data.size == 0:
        return "empty"
    return f"mean {data.mean():.4g}, min {data.min():.4g}, max {data.max():.4g}"


def lines(text: str) -> str:
    """Multi-line text as label lines (graphviz HTML ignores newlines; <br/> breaks them)."""
    return "<br/>".join(escape(line) for line in text.splitlines())


def tensor_label(title: str | None, shape: tuple[int, ...], dtype: np.dtype, values: str | None,
                 grad: str | None) -> str:
    """A tensor's box: its name (bold), shape and dtype, then values and gradient when asked for.

    ``values``/``grad`` are already-formatted texts ('' to leave the row out).
    """
    rows = [f"<b>{escape(title)}</b>"] if title else []
    rows.append(f"{shape_text(shape)} {dtype}")
    if values:
        rows.append(f'<font face="Courier" point-size="10">{lines(values)}</font>')
    if grad:
        rows.append(f'<font face="Courier" point-size="10" color="#b71c1c">{lines(grad)}</font>')
    return "<" + "<br/>".join(rows) + ">"


def op_label(op: Primitive, params: Mapping[str, Any]) -> str:
    """A primitive application: its name in bold, then its parameters (stride, axis, …) in small type."""
    shown = [f"{k}={_param(k, v)}" for k, v in params.items() if not _quiet(k, v)]
    small = "".join(f'<br/><font point-size="9">{escape(w)}</font>' for w in wrap(shown, ", "))
    return f"<<b>{escape(op.name)}</b>{small}>"


def wrap(items: list[str], separator: str, width: int = LINE_WIDTH) -> list[str]:
    """The items joined by ``separator`` into lines of about ``width`` characters (the separator ends a line)."""
    out, line = [], ""
    for item in items:
        if line and len(line) + len(item) + len(separator) > width:
            out.append(line + separator.rstrip())
            line = ""
        line = f"{line}{separator}{item}" if line else item
    return [*out, line] if line else out


def op_tooltip(op: Primitive, params: Mapping[str, Any]) -> str:
    """The op with every parameter but saved arrays in full (shown on hover in SVG)."""
    shown = (f"{k}={_value(k, v, limit=None)}" for k, v in params.items() if k not in SAVED)
    return f"{op.name}(" + ", ".join(shown) + ")"


def layer_label(path: str, description: str, outputs: list[tuple[str | None, tuple[int, ...]]], params: int) -> str:
    """A collapsed call: its path in bold, its repr or type, each output (its title, if any: "∂loss/∂fc1.weight",
    and shape) and its parameter count."""
    rows = [f"<b>{escape(path)}</b>"]
    if description != path:
        rows.append(f'<font point-size="10">{lines(description)}</font>')
    rows += [f"→ {escape(title)} {shape_text(s)}" if title else f"→ {shape_text(s)}" for title, s in outputs]
    if params:
        rows.append(f'<font point-size="9">{params:,} parameters</font>')
    return "<" + "<br/>".join(rows) + ">"


def input_names(op: Primitive, n: int) -> list[str]:
    """What each input of ``op`` is called: the names its VJP gives them (correlate: x, w; where: cond, a, b).

    A VJP is ``vjp(g, out, *inputs, **params)``, so the names after ``g`` and ``out`` are the
    inputs'. Primitives taking any number of inputs (concatenate) number them instead.
    """
    fn = op.vjp_argnum or next(v for v in op.vjps if v is not None)
    names = [p.name for p in inspect.signature(fn).parameters.values()
             if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD][2:]
    return names[:n] if op.vjp_argnum is None and len(names) >= n else [str(i) for i in range(n)]


def arguments(call: str) -> list[str]:
    """'Conv2d(1, 4, kernel_size=(3, 3))' split at the commas between its arguments:
    ['Conv2d(1', '4', 'kernel_size=(3, 3))'] (commas inside brackets stay)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(call):
        depth += (char in "([{") - (char in ")]}")
        if char == "," and depth == 1:
            parts.append(call[start:i])
            start = i + 1
    return [p.strip() for p in [*parts, call[start:]]]


def _quiet(name: str, value: Any) -> bool:
    """True for parameters at their do-nothing value (dilation 1, groups 1, padding 0, …) and saved arrays."""
    if name in SAVED:
        return True
    if name not in QUIET:
        return False
    flat = value if isinstance(value, tuple) else (value,)
    return all(v == QUIET[name] for v in flat)


def _param(name: str, value: Any) -> str:
    return _value(name, value, limit=PARAM_WIDTH)


def _value(name: str, value: Any, limit: int | None) -> str:
    """One parameter value, compactly: stride=2 for (2, 2), index as numpy writes it ([:, ::2])."""
    if name == "index":
        text = _index(value)
    elif name in SPATIAL and isinstance(value, tuple) and value and len(set(value)) == 1:
        text = str(value[0])
    elif isinstance(value, np.dtype | type):
        text = str(np.dtype(value))
    else:
        text = _compact(value)
    return text if limit is None or len(text) <= limit else text[:limit - 1] + "…"


def _compact(value: Any) -> str:
    """Tuples without spaces ((0,0),(1,1)), numbers as Python writes them, arrays by shape."""
    if isinstance(value, tuple):
        inner = ",".join(_compact(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, np.ndarray):
        return f"array{shape_text(value.shape)}"
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return str(value.item() if isinstance(value, np.generic) else value)
    return str(value)


def _index(index: tuple) -> str:
    """An index tuple as numpy code writes it: (slice(None), 0, slice(None, None, 2)) → '[:, 0, ::2]'."""
    parts = []
    for item in index:
        if isinstance(item, slice):
            start = "" if item.start is None else item.start
            stop = "" if item.stop is None else item.stop
            parts.append(f"{start}:{stop}" + ("" if item.step in (None, 1) else f":{item.step}"))
        elif item is Ellipsis:
            parts.append("...")
        elif isinstance(item, np.ndarray):
            parts.append(str(item.tolist()) if item.size <= 4 else f"<{item.size} indices>")
        else:
            parts.append(str(item))
    return "[" + ", ".join(parts) + "]"
