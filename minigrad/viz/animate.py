"""Backprop as an animation: one self-contained HTML page that steps through backward, one node's VJPs a frame.

The page holds root's forward graph as inline SVG (``draw``'s picture with values, laid out
by graphviz's ``dot -Tsvg``, which must be installed), the steps of ``trace(root)`` as JSON,
and a few lines of inline CSS and JavaScript: previous/next buttons, a slider and the arrow
keys choose the step. Each frame outlines the node whose VJPs run, marks in red the inputs
whose gradients they just filled in and writes the gradient under every box that has one so
far (values for small tensors, else the shape). Nothing is fetched from the network.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import overload

import graphviz

from minigrad.atomic import write_atomically
from minigrad.tensor import Tensor
from minigrad.viz.dot import digraph, node_ids
from minigrad.viz.files import INSTALL
from minigrad.viz.graph import build
from minigrad.viz.trace import Step, Trace, trace

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Backprop of $out, step by step</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1em; }
.controls { display: flex; gap: 0.6em; align-items: center; }
.controls input { flex: 1; max-width: 40em; }
#caption { font-family: monospace; white-space: pre; min-height: 4.5em; }
.graph { overflow: auto; border: 1px solid #ddd; }
.mg-current path, .mg-current polygon, .mg-current ellipse { stroke: #1565c0; stroke-width: 3; }
.mg-filled path, .mg-filled polygon, .mg-filled ellipse { stroke: #b71c1c; stroke-width: 3; }
text.mg-grad { font-family: monospace; font-size: 10px; fill: #b71c1c; }
text.mg-old { fill: #9e9e9e; }
</style>
</head>
<body>
<h1>Backprop of $out, one node's VJPs at a time</h1>
<div class="controls">
<button id="prev">&#9664; previous</button>
<input id="slider" type="range" min="1" max="$count" value="1" aria-label="step">
<button id="next">next &#9654;</button>
<span id="counter"></span>
</div>
<p id="caption"></p>
<div class="graph">$svg</div>
<script type="application/json" id="frames">$frames</script>
<script>
const frames = JSON.parse(document.getElementById("frames").textContent);
const svgNamespace = document.querySelector(".graph svg").namespaceURI;
const boxes = {};
for (const g of document.querySelectorAll("g.node")) { boxes[g.querySelector("title").textContent] = g; }
const slider = document.getElementById("slider");
function show(k) {
  slider.value = k;
  document.getElementById("counter").textContent = "step " + k + " of " + frames.length;
  document.getElementById("caption").textContent = frames[k - 1].caption;
  for (const g of Object.values(boxes)) { g.classList.remove("mg-current", "mg-filled"); }
  for (const t of document.querySelectorAll("text.mg-grad")) { t.remove(); }
  const texts = {};
  frames.slice(0, k).forEach((f, j) => {
    texts[f.node] = [f.incoming, j];
    for (const g of f.filled) { texts[g.node] = [g.text, j]; }
  });
  const frame = frames[k - 1];
  for (const id of [frame.node, frame.op]) { boxes[id].classList.add("mg-current"); }
  for (const g of frame.filled) { boxes[g.node].classList.add("mg-filled"); }
  for (const [id, [words, j]] of Object.entries(texts)) {
    const box = boxes[id].getBBox();
    const text = document.createElementNS(svgNamespace, "text");
    text.setAttribute("x", box.x);
    text.setAttribute("y", box.y + box.height + 10);
    text.setAttribute("class", j === k - 1 ? "mg-grad" : "mg-grad mg-old");
    text.textContent = words;
    boxes[id].appendChild(text);
  }
}
slider.oninput = () => show(Number(slider.value));
document.getElementById("prev").onclick = () => show(Math.max(1, Number(slider.value) - 1));
document.getElementById("next").onclick = () => show(Math.min(frames.length, Number(slider.value) + 1));
document.onkeydown = (e) => {
  if (e.key === "ArrowLeft") document.getElementById("prev").click();
  if (e.key === "ArrowRight") document.getElementById("next").click();
};
show(1);
</script>
</body>
</html>
""")


@dataclass(frozen=True)
class Animation:
    """The page, for Jupyter: ``_repr_html_`` shows it inline, in an iframe; ``html`` is its text."""

    html: str

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html)}" style="width: 100%; height: 640px; '
                'border: 1px solid #ddd"></iframe>')


@overload
def animate(root: Tensor, path: None = None, *, rankdir: str = "TB") -> Animation: ...
@overload
def animate(root: Tensor, path: str | os.PathLike, *, rankdir: str = "TB") -> str: ...


def animate(root: Tensor, path: str | os.PathLike | None = None, *, rankdir: str = "TB") -> str | Animation:
    """Writes one HTML page that steps through root's backward, one frame per step of ``trace(root)``.

    Returns the path written (the file appears complete or not at all); without a path, an
    ``Animation`` that Jupyter shows inline. No ``.grad`` changes. Needs graphviz's ``dot``
    program to lay out the graph (a RuntimeError says how to install it); rankdir is ``to_dot``'s.
    """
    steps = trace(root)
    page = PAGE.substitute(out=html.escape(steps.out), count=len(steps), svg=_svg(root, rankdir),
                           frames=json.dumps(_frames(steps, _ids(root)), ensure_ascii=False).replace("<", "\\u003c"))
    if path is None:
        return Animation(page)
    target = os.fspath(path)
    write_atomically(target, lambda tmp: _write(tmp, page), "animate")
    return target


def _svg(root: Tensor, rankdir: str) -> str:
    """The forward graph with values as inline SVG: graphviz's output without its XML prolog and namespaces
    (HTML gives inline SVG its namespace; their URLs would look like network addresses)."""
    picture = digraph("animate", root, values=True, grads=False, backward=False, group_modules=False,
                      collapse=False, max_nodes=None, rankdir=rankdir)
    try:
        svg = picture.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        raise RuntimeError(f"animate: graphviz's `dot` program is not on PATH; it lays out the graph. "
                           f"To animate backprop, {INSTALL}") from None
    return re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg[svg.index("<svg"):])


def _ids(root: Tensor) -> dict[tuple[str, Tensor | None], str]:
    """The DOT name of each tensor's box ("box", t) and of the op oval that made it ("op", t)."""
    return {("op" if n.kind == "op" else "box", n.tensor): name
            for n, name in node_ids(build(root)).items() if n.tensor is not None}


def _frames(steps: Trace, ids: dict[tuple[str, Tensor | None], str]) -> list[dict]:
    """One frame per step: the node's box and op, its caption, and each gradient it filled in."""
    return [{"node": ids["box", s.incoming.tensor], "op": ids["op", s.incoming.tensor],
             "incoming": s.incoming.equation(steps.out), "caption": _caption(s, steps.out),
             "filled": [{"node": ids["box", g.tensor], "text": g.equation(steps.out)} for g in s.produced]}
            for s in steps]


def _caption(step: Step, out: str) -> str:
    """'mul at L: ∂L/∂L = 1' and one line per gradient its VJPs sent."""
    sent = "".join(f"\n  → {g.equation(out)}" for g in step.produced)
    return f"{step.op} at {step.node}, its gradient complete: {step.incoming.equation(out)}{sent}"


def _write(path: str, text: str) -> None:
    Path(path).write_text(text, encoding="utf-8")
