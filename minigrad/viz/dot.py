"""The picture as graphviz DOT: a styled box per node, clusters per Module call, and a legend.

``to_dot`` gives the DOT text and needs no graphviz program; ``draw`` gives a
``graphviz.Digraph``, which Jupyter shows inline. A long collapsed picture is wrapped into
bands of BAND ranks placed side by side, so that VGG-16 is not one 3,000-point column.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from typing import Any

import graphviz

from minigrad.nn.modules.module import ModuleCall
from minigrad.tensor import Tensor
from minigrad.viz import labels
from minigrad.viz.graph import TENSOR_KINDS, Call, Graph, Node, Repeat, build

RANKDIRS = ("TB", "LR", "BT", "RL")
BAND = 12  # collapsed pictures longer than this many ranks wrap into bands of this many

# fill and border colour of each kind of node, and the legend's words for it
STYLES: dict[str, dict[str, str]] = {
    "parameter": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dcf0dc", "color": "#2e7d32"},
    "input": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbe8f7", "color": "#1f5f99"},
    "constant": {"shape": "box", "style": "rounded,filled", "fillcolor": "#f2f2f2", "color": "#9e9e9e",
                 "fontsize": "9"},
    "intermediate": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff", "color": "#616161"},
    "saved": {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": "#f3e8f7", "color": "#7b4f9d"},
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#ffe0b2", "color": "#e65100"},
    "freed": {"shape": "note", "style": "filled,dashed", "fillcolor": "#f5f5f5", "color": "#757575", "fontsize": "9"},
    "layer": {"shape": "box3d", "style": "filled", "fillcolor": "#e3e7f7", "color": "#3949ab"},
    "summary": {"shape": "note", "style": "filled", "fillcolor": "#fdecea", "color": "#c62828"},
}
ROOT_STYLE = {"fillcolor": "#fff3c4", "color": "#b8860b", "penwidth": "2.5"}
LEGEND = {
    "parameter": "parameter (leaf that requires grad)",
    "input": "input (leaf, no grad)",
    "constant": "constant (scalar or mask)",
    "intermediate": "intermediate result",
    "saved": "forward tensor the VJPs use",
    "op": "primitive op",
    "freed": "inputs freed by backward()",
    "layer": "Module or functional call, collapsed",
    "root": "output",
}
BRIDGE_STYLE = {"style": "dashed", "tooltip": "through hidden modules"}
WRAP_STYLE = {"constraint": "false"}  # this edge goes on to the next band
CLUSTER_FILLS = ("#f5f7fc", "#eaeef8", "#dfe5f4")
FREED_LABEL = ("<<b>inputs freed by backward()</b><br/>draw before backward(),<br/>"
               "or call backward(retain_graph=True)>")


def to_dot(root: Tensor, *, values: bool = False, grads: bool = False, backward: bool = False,
           group_modules: bool = False, collapse: bool = False, max_nodes: int | None = None,
           rankdir: str = "TB", roll: bool = False, hide: tuple[str, ...] = ()) -> str:
    """The DOT source of root's computation graph (no graphviz program needed).

    values/grads: print each small tensor's values/``.grad`` (a summary for big ones).
    backward: draw the graph that root's backward pass builds (each VJP as ops) instead.
    group_modules: a cluster per Module call. collapse: each layer call, and each functional
    call from your code (``F.cross_entropy``), as one box.
    max_nodes: at most this many nodes; the rest become one summary node (with a warning).
    rankdir: graphviz's layout direction, "TB" (top to bottom) or "LR", "BT", "RL".
    roll: runs of identical consecutive blocks drawn once, in a dashed "× N" frame.
    hide: module paths ("features.3", "F.cross_entropy") whose nodes are left out, at any
    depth; dashed edges join what fed them to what they fed.
    """
    return digraph("to_dot", root, values=values, grads=grads, backward=backward, group_modules=group_modules,
                   collapse=collapse, max_nodes=max_nodes, rankdir=rankdir, roll=roll, hide=hide).source


def draw(root: Tensor, *, values: bool = False, grads: bool = False, backward: bool = False,
         group_modules: bool = False, collapse: bool = False, max_nodes: int | None = None,
         rankdir: str = "TB", roll: bool = False, hide: tuple[str, ...] = ()) -> graphviz.Digraph:
    """The picture as a ``graphviz.Digraph`` (shown inline in Jupyter); options as in ``to_dot``."""
    return digraph("draw", root, values=values, grads=grads, backward=backward, group_modules=group_modules,
                   collapse=collapse, max_nodes=max_nodes, rankdir=rankdir, roll=roll, hide=hide)


def digraph(caller: str, root: Tensor, *, values: bool, grads: bool, backward: bool, group_modules: bool,
            collapse: bool, max_nodes: int | None, rankdir: str, roll: bool = False,
            hide: tuple[str, ...] = ()) -> graphviz.Digraph:
    """Checks the options, builds the graph and styles it; ``caller`` names the function in errors."""
    _check(caller, root, max_nodes, rankdir, hide)
    try:
        graph = build(root, backward=backward, collapse=collapse, max_nodes=max_nodes, roll=roll, hide=tuple(hide))
    except (ValueError, RuntimeError) as err:
        raise type(err)(f"{caller}: {err}") from None
    _warn_if_cut(caller, graph, max_nodes, collapse)
    dot = graphviz.Digraph("minigrad", graph_attr={
        "rankdir": rankdir, "bgcolor": "white", "fontname": "Helvetica", "nodesep": "0.25", "ranksep": "0.35"},
        node_attr={"fontname": "Helvetica", "fontsize": "11", "margin": "0.12,0.06"},
        edge_attr={"color": "#555555", "arrowsize": "0.7", "fontname": "Helvetica", "fontsize": "9",
                   "fontcolor": "#757575"})
    if backward:
        dot.attr(label=f"backward graph of {root.name or 'out'}: every VJP that backward runs, as ops",
                 labelloc="t", fontsize="13")
    ids = node_ids(graph)

    def add(container: graphviz.Digraph, node: Node) -> None:
        container.node(ids[node], **_attributes(node, values, grads, collapse, graph.of))

    def clustered(node: Node) -> tuple[Call, ...]:
        return node.calls if group_modules else tuple(c for c in node.calls if isinstance(c, Repeat))

    _add_clusters(dot, graph.nodes, clustered, 0, add)
    wrapped = _wrap_into_bands(dot, graph, ids) if collapse or roll else set()
    for a, b, label in graph.edges:
        dot.edge(ids[a], ids[b], label=f" {label}" if label else None,
                 **(BRIDGE_STYLE if (a, b) in graph.bridges else {}), **(WRAP_STYLE if (a, b) in wrapped else {}))
    dot.node("legend", label=_legend(graph), shape="plain", fontsize="9")
    return dot


def node_ids(graph: Graph) -> dict[Node, str]:
    """The DOT name of each node: its kind ("t" for tensors) and position, as t3, op4, layer7."""
    return {n: f"{'t' if n.kind in TENSOR_KINDS else n.kind}{i}" for i, n in enumerate(graph.nodes)}


def _check(caller: str, root: Any, max_nodes: Any, rankdir: Any, hide: Any) -> None:
    if not isinstance(root, Tensor):
        raise TypeError(f"{caller}: root must be a minigrad Tensor, got {type(root).__name__}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 2):
        raise ValueError(f"{caller}: max_nodes must be an integer ≥ 2 (one node and the summary), got {max_nodes!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"{caller}: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if isinstance(hide, str) or not all(isinstance(p, str) for p in hide):
        raise TypeError(f"{caller}: hide must be a tuple of module paths such as ('features.3',), got {hide!r}")


def _warn_if_cut(caller: str, graph: Graph, max_nodes: int | None, collapse: bool) -> None:
    """Says so when max_nodes left nodes out (stacklevel: the user's call to to_dot/draw/render)."""
    summary = next((n for n in graph.nodes if n.kind == "summary"), None)
    if summary is not None:
        advice = "" if collapse else "; pass collapse=True to draw each layer as one box"
        warnings.warn(f"{caller}: the graph has {len(graph.nodes) - 1 + summary.hidden} nodes, more than "
                      f"max_nodes={max_nodes}; drawing the {len(graph.nodes) - 1} nearest the output and one "
                      f"summary node for the other {summary.hidden}{advice}", stacklevel=4)


def _add_clusters(dot: graphviz.Digraph, nodes: list[Node], chain: Callable[[Node], tuple[Call, ...]], depth: int,
                  add: Callable[[graphviz.Digraph, Node], None]) -> None:
    """Adds the nodes; those whose ``chain`` of calls is longer than ``depth`` go in a cluster per call, nested."""
    calls: dict[tuple[str, int], tuple[Call, list[Node]]] = {}
    for n in nodes:
        outer = chain(n)
        if len(outer) > depth:
            calls.setdefault((type(outer[depth]).__name__, outer[depth].call), (outer[depth], []))[1].append(n)
        else:
            add(dot, n)
    for (kind, number), (call, members) in calls.items():
        with dot.subgraph(name=f"cluster_{kind}_{number}") as cluster:
            if isinstance(call, Repeat):
                cluster.attr(label=f"<<b>{labels.escape(call.path)}</b>>", style="dashed,rounded", color="#3949ab",
                             fontname="Helvetica", fontsize="14", labeljust="r")
            else:
                cluster.attr(label=_cluster_title(call), style="rounded,filled", color="#9fa8da",
                             fillcolor=CLUSTER_FILLS[depth % len(CLUSTER_FILLS)], fontname="Helvetica",
                             fontsize="11", labeljust="l")
            _add_clusters(cluster, members, chain, depth + 1, add)


def _cluster_title(call: Call) -> str:
    """A Module call's cluster title: its path in bold, then its type when that says more."""
    kind = type(call.module).__name__ if isinstance(call, ModuleCall) else ""
    suffix = f" · {labels.escape(kind)}" if kind not in ("", call.path) else ""
    return f"<<b>{labels.escape(call.path)}</b>{suffix}>"


def _ranks(graph: Graph) -> dict[Node, int]:
    """Each node's rank: the length of the longest path to it from a node without inputs."""
    rank: dict[Node, int] = {}
    inputs: dict[Node, list[Node]] = {n: [] for n in graph.nodes}
    for a, b, _ in graph.edges:
        inputs[b].append(a)
    for n in graph.nodes:  # data-flow order: inputs first
        rank[n] = max((rank.get(a, 0) + 1 for a in inputs[n]), default=0)
    return rank


def _wrap_into_bands(dot: graphviz.Digraph, graph: Graph, ids: dict[Node, str]) -> set[tuple[Node, Node]]:
    """Wraps a picture longer than 2·BAND ranks into bands of BAND ranks, side by side in order.

    Returns the edges that cross from one band to the next: drawn without constraining the
    layout, they let each band start again at the top. The first node of each band shares
    one rank with the others, chained left to right by invisible edges.
    """
    rank = _ranks(graph)
    if max(rank.values(), default=0) < 2 * BAND:
        return set()
    starts: dict[int, Node] = {}
    for n in graph.nodes:
        if rank[n] % BAND == 0:
            starts.setdefault(rank[n] // BAND, n)
    dot.attr(newrank="true")
    with dot.subgraph() as row:
        row.attr(rank="same")
        for n in starts.values():
            row.node(ids[n])
    firsts = [ids[n] for _, n in sorted(starts.items())]
    for a, b in itertools.pairwise(firsts):
        dot.edge(a, b, style="invis")
    return {(a, b) for a, b, _ in graph.edges if rank[a] // BAND < rank[b] // BAND}


def _attributes(node: Node, values: bool, grads: bool, collapse: bool, of: str | None) -> dict[str, str]:
    """Label, tooltip, style and SVG class of one node."""
    attrs = dict(STYLES[node.kind])
    attrs["class"] = node.kind + (" root" if node.root else "")
    if node.root:
        attrs |= ROOT_STYLE
    t, call = node.tensor, node.call
    if node.kind == "summary":
        advice = "a larger max_nodes" if collapse else "collapse=True or a larger max_nodes"
        attrs["label"] = f"<<b>… {node.hidden:,} more nodes</b><br/>use {advice}>"
    elif isinstance(call, ModuleCall):  # a layer
        attrs["label"] = labels.layer_label(call.path, _describe(call.module), _outputs(node, of),
                                            sum(p.numel() for p in call.module.parameters()))
        attrs["tooltip"] = " ".join(repr(call.module).split())
    elif call is not None:  # a functional call
        attrs["label"] = labels.layer_label(call.path, "nn.functional", _outputs(node, of), 0)
    elif node.kind == "freed":
        attrs["label"] = FREED_LABEL
    elif t is not None and t.op is not None and node.kind == "op":
        attrs["label"] = labels.op_label(t.op, t.params)
        attrs["tooltip"] = labels.op_tooltip(t.op, t.params)
    elif t is not None:
        attrs["label"] = _tensor_label(node, t, values, grads)
    return attrs


def _tensor_label(node: Node, t: Tensor, values: bool, grads: bool) -> str:
    title = node.caption or t.name
    scalar_constant = node.kind == "constant" and t.numel() <= 1
    if scalar_constant:
        title = labels.values_text(t.data)  # a scalar constant is its value
    shown = labels.values_text(t.data) if values and not scalar_constant else None
    grad = None
    if grads and t.grad is not None:
        text = labels.values_text(t.grad.data)
        grad = f"grad\n{text}" if "\n" in text else f"grad {text}"
    elif grads and node.kind == "parameter":
        grad = "grad None"
    return labels.tensor_label(title, t.shape, t.dtype, shown, grad)


def _outputs(layer: Node, of: str | None) -> list[tuple[str | None, tuple[int, ...]]]:
    """What leaves a box: each output's title (which gradient it is, in a backward picture) and shape.

    A gradient whose forward tensor has no name is the gradient of the box's input: ∂L/∂x.
    """
    return [(o.caption or (f"∂{of}/∂x" if o.gradient else None), o.tensor.shape)
            for o in layer.outputs if o.tensor is not None]


def _describe(module: Any) -> str:
    """A one-line repr (Conv2d(3, 8, kernel_size=(3, 3), …)) wrapped at commas, else the module's type."""
    text = repr(module)
    if "\n" in text or len(text) > 3 * labels.LAYER_WIDTH:
        return type(module).__name__
    return "\n".join(labels.wrap(labels.arguments(text), ", ", labels.LAYER_WIDTH))


def _legend(graph: Graph) -> str:
    """A small table: a swatch and a few words for each kind of node in this picture."""
    present = {n.kind for n in graph.nodes} | ({"root"} if any(n.root for n in graph.nodes) else set())
    rows = []
    for kind, words in LEGEND.items():
        if kind in present:
            style = ROOT_STYLE if kind == "root" else STYLES[kind]
            rows.append(f'<tr><td bgcolor="{style["fillcolor"]}" border="1" color="{style["color"]}" width="16"> </td>'
                        f'<td align="left">{labels.escape(words)}</td></tr>')
    return '<<table border="0" cellborder="0" cellspacing="2" cellpadding="2">' + "".join(rows) + "</table>>"
