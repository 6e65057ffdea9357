"""What a picture contains: its nodes, the edges between them and the Module call of each.

``build`` walks the computation graph back from the root and makes one node per tensor
and one per primitive application, with edges in data-flow order (inputs → op → output).
The options then reshape that graph: ``backward`` draws the gradients that backward
computes instead of the root, ``hide`` removes chosen submodules (bridging their edges),
``collapse`` folds each layer's nodes (and each functional call, such as
``F.cross_entropy``) into one box, ``roll`` draws runs of identical consecutive blocks
once, and ``max_nodes`` replaces what does not fit by one summary node. A node whose graph an earlier
backward freed (it keeps its primitive but no longer its inputs) gets a "freed" node as its
only input. How nodes are labelled and coloured is decided elsewhere (``labels.py``, ``dot.py``).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from minigrad import autograd
from minigrad.nn.calls import FunctionCall, function_calls
from minigrad.nn.modules.module import ModuleCall, module_calls
from minigrad.tensor import Tensor
from minigrad.viz.labels import input_names, shape_text

TENSOR_KINDS = ("parameter", "input", "constant", "intermediate", "saved")
PLACED_BY_USE = ("parameter", "constant", "saved")  # leaves-like nodes drawn where they are used
MAX_PERIOD = 16  # roll: the longest block (in boxes) looked for


class Repeat(NamedTuple):
    """roll: a run of ``times`` identical blocks, drawn once; it sits in ``Node.calls`` like a Module call."""

    times: int
    call: int  # a number unique among the picture's Repeats

    @property
    def path(self) -> str:
        return f"× {self.times}"


Call = ModuleCall | FunctionCall | Repeat


@dataclass(eq=False)
class Node:
    """One box of the picture.

    ``kind`` is a tensor kind (TENSOR_KINDS), "op" (a primitive application; ``tensor`` is
    what it produced), "freed" (the inputs of ``tensor``, which backward let go of), "layer"
    (a collapsed Module call) or "summary" (nodes left out).
    ``calls`` holds the Module calls, outermost first, that the node is drawn inside (and
    the Repeats that roll put it in); ``function`` the functional call it was made in, if
    any, outside every layer.
    """

    kind: str
    tensor: Tensor | None = None
    calls: tuple[Call, ...] = ()
    caption: str | None = None  # a title that is not the tensor's name (which gradient it is)
    root: bool = False
    function: FunctionCall | None = None
    gradient: bool = False      # backward: the gradient of a forward tensor (a box's output is ∂L/∂x)
    call: ModuleCall | FunctionCall | None = None  # layer: the call it stands for
    members: list[Node] = field(default_factory=list)  # layer: the nodes folded into it
    outputs: list[Node] = field(default_factory=list)  # layer: its members that leave it
    hidden: int = 0             # summary: how many nodes it replaces


@dataclass
class Graph:
    nodes: list[Node]                   # in data-flow order
    edges: list[tuple[Node, Node, str]]  # (from, to, label)
    of: str | None = None               # backward: the name of the output differentiated ("loss")
    bridges: set[tuple[Node, Node]] = field(default_factory=set)  # hide: edges that stand for hidden nodes


def build(root: Tensor, *, backward: bool = False, collapse: bool = False, max_nodes: int | None = None,
          roll: bool = False, hide: tuple[str, ...] = ()) -> Graph:
    """The picture's graph for ``root`` (see the module docstring for what each option does)."""
    if backward:
        roots, captions, seed = _gradients(root)
        graph = _expand(roots, captions, saved=set(_trace([root])), seed=seed)
        graph.of = root.name or "out"
    else:
        graph = _expand([root], {}, saved=set(), seed=None)
    if hide:
        graph = _hide(graph, hide)
    if collapse:
        graph = _collapse(graph)
    if roll:
        graph = _roll(graph)
    if max_nodes is not None and len(graph.nodes) > max_nodes:
        graph = _cut(graph, max_nodes)
    return graph


def _trace(roots: list[Tensor], stop: Container[Tensor] = frozenset()) -> list[Tensor]:
    """Every tensor that leads to the roots, each after its inputs; tensors in ``stop`` are not opened.

    Computed inputs are visited before leaves, so that a leaf comes just before its first use.
    """
    return autograd.topological_order(
        roots, lambda t: () if t in stop else sorted(t.inputs, key=lambda x: x.op is None or x in stop))


def _expand(roots: list[Tensor], captions: dict[Tensor, str | None], saved: set[Tensor], seed: Tensor | None) -> Graph:
    """A node per tensor and per primitive application; ``saved`` tensors are drawn but not opened."""
    tensors = _trace(roots, saved)
    outputs = set(roots)
    node = {t: Node(_kind(t, saved, seed), t, module_calls(t.annotations), captions.get(t), t in outputs,
                    _function(t.annotations), gradient=t in captions) for t in tensors}
    nodes: list[Node] = []
    edges: list[tuple[Node, Node, str]] = []
    for t in tensors:
        if t.op is not None and t not in saved:
            op = Node("op", t, node[t].calls, function=node[t].function)
            if t.freed:  # its inputs are gone: a mark stands in their place
                nodes.append(Node("freed", t, node[t].calls, function=node[t].function))
                edges.append((nodes[-1], op, ""))
            names = input_names(t.op, len(t.inputs)) if len(t.inputs) > 1 else [""] * len(t.inputs)
            edges += [(node[x], op, name) for x, name in zip(t.inputs, names, strict=True)]
            edges.append((op, node[t], ""))
            nodes.append(op)
        nodes.append(node[t])
    _place_by_use(nodes, edges)
    return Graph(nodes, edges)


def _function(annotations: tuple[Any, ...]) -> FunctionCall | None:
    """The outermost functional call made after the innermost Module call (the one a box stands for), if any."""
    after = annotations[max((i + 1 for i, a in enumerate(annotations) if isinstance(a, ModuleCall)), default=0):]
    found = function_calls(after)
    return found[0] if found else None


def _is_parameter(t: Tensor) -> bool:
    return t.op is None and t.requires_grad


def _kind(t: Tensor, saved: set[Tensor], seed: Tensor | None) -> str:
    """parameter: a leaf that requires grad; input: other leaves (data, targets) and backward's seed;
    constant: a scalar or mask made on the way (in a backward graph: any leaf a VJP made);
    intermediate: an op's result; saved: a forward result that backward's VJPs use."""
    if t.op is not None:
        return "saved" if t in saved else "intermediate"
    if t is seed:
        return "input"
    if t.requires_grad:
        return "parameter"
    made_by_a_vjp = bool(saved) and t not in saved
    if made_by_a_vjp or (t.name is None and (t.numel() <= 1 or t.dtype == bool)):
        return "constant"
    return "input"


def _place_by_use(nodes: list[Node], edges: list[tuple[Node, Node, str]]) -> None:
    """Parameters, constants and saved tensors go inside the deepest Module call common to all their uses.

    A parameter is made when its Module is built, outside any call; drawing it in the call
    that uses it puts ``conv1.weight`` inside the ``conv1`` box.
    """
    uses = defaultdict(list)
    for a, b, _ in edges:
        uses[a].append(b)
    for n in nodes:
        if n.kind in PLACED_BY_USE and uses[n]:
            n.calls = _common_prefix([u.calls for u in uses[n]])
            functions = {u.function for u in uses[n]}
            n.function = functions.pop() if len(functions) == 1 and all(u.calls == n.calls for u in uses[n]) else None


def _common_prefix(call_lists: list[tuple[Call, ...]]) -> tuple[Call, ...]:
    first = call_lists[0]
    depth = 0
    while depth < len(first) and all(len(c) > depth and _key(c[depth]) == _key(first[depth]) for c in call_lists):
        depth += 1
    return first[:depth]


# ---- backward=True
def _gradients(root: Tensor) -> tuple[list[Tensor], dict[Tensor, str | None], Tensor]:
    """The gradient of root with respect to each leaf, computed with create_graph=True so that it has a graph.

    The seed ∂root/∂root = 1 is made to require grad, so that every VJP — even those whose
    inputs are constants — is recorded. No ``.grad`` changes. Returns the leaves' gradients,
    a caption for every gradient backward computes (∂out/∂a where the forward tensor has a
    name, else None) and the seed.
    """
    if not root.requires_grad:
        raise ValueError(f"backward=True: the root (shape {root.shape}) does not require grad, "
                         "so backward has no graph to draw")
    forward = _trace([root])
    if any(t.freed for t in forward):
        raise RuntimeError("backward=True: an earlier backward() without retain_graph=True has freed this graph; "
                           "draw it before calling backward, or call backward(retain_graph=True)")
    wrt = [t for t in forward if t.requires_grad and t is not root]
    out = root.name or "out"
    seed = Tensor.wrap(np.ones_like(root.data)).requires_grad_()
    seed.name = f"∂{out}/∂{out}"
    grads = autograd.grad(root, wrt, grad_outputs=seed, retain_graph=True, create_graph=True, allow_unused=True)
    captions: dict[Tensor, str | None] = {}
    for t, g in zip(wrt, grads, strict=True):
        if g is None:
            continue
        name = t.name or (f"(leaf {shape_text(t.shape)})" if t.op is None else None)
        caption = f"∂{out}/∂{name}" if name else None
        earlier = captions.get(g)
        captions[g] = f"{earlier}, {caption}" if earlier and caption else earlier or caption
    leaves = {g for t, g in zip(wrt, grads, strict=True) if g is not None and _is_parameter(t)}
    return [g for g in captions if g in leaves], captions, seed


# ---- hide=
def _hide(graph: Graph, paths: tuple[str, ...]) -> Graph:
    """Removes every node made inside a call whose path is in ``paths`` (at any depth); an edge — a
    bridge, drawn dashed — joins each node that fed them to each node they fed."""
    known = {c.path for n in graph.nodes for c in (*n.calls, n.function) if c is not None}
    if unknown := [p for p in paths if p not in known]:
        raise ValueError(f"hide: no module or functional call has the path {', '.join(map(repr, unknown))}; "
                         f"this graph has {', '.join(sorted(known)) or 'none'}")
    wanted = set(paths)
    hidden = {n for n in graph.nodes if any(c.path in wanted for c in (*n.calls, n.function) if c is not None)}
    users = defaultdict(list)
    for a, b, _ in graph.edges:
        users[a].append(b)
    edges, bridges = [], set(graph.bridges)
    for a, b, label in graph.edges:
        if a in hidden:
            continue
        if b not in hidden:
            edges.append((a, b, label))
            continue
        for c in _beyond(b, users, hidden):
            if (a, c) not in bridges:
                bridges.add((a, c))
                edges.append((a, c, ""))
    return Graph([n for n in graph.nodes if n not in hidden], edges, graph.of, bridges)


def _beyond(start: Node, users: dict[Node, list[Node]], hidden: set[Node]) -> list[Node]:
    """The visible nodes that ``start``, a hidden node, feeds through hidden nodes only, in order found."""
    found: list[Node] = []
    seen, todo = {start}, [start]
    while todo:
        for b in users[todo.pop()]:
            if b in seen:
                continue
            seen.add(b)
            (todo if b in hidden else found).append(b)
    return found


# ---- collapse=True
def _collapse(graph: Graph) -> Graph:
    """Folds the nodes of each innermost Module call (a layer: Conv2d, ReLU, Linear, …) into one box,
    and so the nodes of each functional call made outside a layer (``F.cross_entropy`` in a model's code).

    Other nodes made outside any layer (a reshape in a model's own forward, the input) stay
    as they are; edges into and out of a box connect to the box. A "freed" mark stays
    visible, beside its layer's box.
    """
    outer = {_key(r) for n in graph.nodes for r in n.calls[:-1]}
    boxes: dict[tuple[str, int], Node] = {}
    owner: dict[Node, Node] = {}
    nodes = []
    for n in graph.nodes:
        if n.kind == "freed":  # beside its layer's box, not folded into it
            n.calls, n.function = (n.calls[:-1] if n.calls and _key(n.calls[-1]) not in outer else n.calls), None
        unit = _unit(n, outer)
        if unit is None:
            nodes.append(n)
            continue
        parents, call = unit
        if _key(call) not in boxes:
            boxes[_key(call)] = Node("layer", calls=parents, call=call)
            nodes.append(boxes[_key(call)])
        box = owner[n] = boxes[_key(call)]
        box.members.append(n)
        box.root = box.root or n.root
    edges, seen = [], set()
    for a, b, label in graph.edges:
        box_a, box_b = owner.get(a, a), owner.get(b, b)
        if box_a is box_b:
            continue
        if box_a is not a and a not in box_a.outputs:
            box_a.outputs.append(a)
        if (box_a, box_b) not in seen:
            seen.add((box_a, box_b))
            edges.append((box_a, box_b, label if box_b is b else ""))  # the label names an input of b
    for box in boxes.values():
        box.outputs += [n for n in box.members if n.root and n not in box.outputs]
    bridges = {(owner.get(a, a), owner.get(b, b)) for a, b in graph.bridges}
    return Graph(_data_flow_order(nodes, edges), edges, graph.of, bridges)


def _unit(n: Node, outer: set[tuple[str, int]]) -> tuple[tuple[Call, ...], ModuleCall | FunctionCall] | None:
    """The box that n folds into (the calls around it, its call): its layer, else its functional call, else none."""
    last = n.calls[-1] if n.calls else None
    if isinstance(last, ModuleCall) and _key(last) not in outer:
        return n.calls[:-1], last
    return (n.calls, n.function) if n.function is not None else None


def _key(call: Call) -> tuple[str, int]:
    """Tells calls apart: Module calls, functional calls and Repeats are numbered by separate counters."""
    return type(call).__name__, call.call


def _data_flow_order(nodes: list[Node], edges: list[tuple[Node, Node, str]]) -> list[Node]:
    """The nodes re-ordered so that each comes after its inputs, otherwise keeping their order (Kahn's algorithm)."""
    position = {n: i for i, n in enumerate(nodes)}
    waiting = dict.fromkeys(nodes, 0)
    users = defaultdict(list)
    for a, b, _ in edges:
        waiting[b] += 1
        users[a].append(b)
    ready = [position[n] for n in nodes if waiting[n] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        n = nodes[heapq.heappop(ready)]
        order.append(n)
        for user in users[n]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, position[user])
    return order + [n for n in nodes if waiting[n] > 0]  # nodes on a cycle, if any, keep their places


# ---- roll=True
def _roll(graph: Graph) -> Graph:
    """Draws each run of identical consecutive blocks once, inside a Repeat ("× N").

    A block is a stretch of the node order (up to MAX_PERIOD boxes); the blocks of a run
    have the same signatures (type, repr, shapes) and are chained: each takes its inputs
    from the one before, and the edges between them follow the same pattern. The first
    block stays; the last one's outgoing edges now leave from it.
    """
    nodes, edges = graph.nodes, graph.edges
    position = {n: i for i, n in enumerate(nodes)}
    keys = [_signature(n) for n in nodes]
    into: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    out_of: dict[int, list[int]] = defaultdict(list)
    for a, b, label in edges:
        into[position[b]].append((position[a], position[b], label))
        out_of[position[a]].append(position[b])
    kept: dict[Node, Node] = {}  # each node of a later block → its counterpart in the first
    start, runs = 0, 0
    while start < len(nodes):
        period, times = max(((p, _times(start, p, keys, into, out_of)) for p in range(1, MAX_PERIOD + 1)),
                            key=lambda pt: ((pt[1] - 1) * pt[0], -pt[0]))
        if times < 2:
            start += 1
            continue
        span = nodes[start:start + period * times]
        depth = len(_common_prefix([n.calls for n in span]))
        mark = Repeat(times, runs)
        runs += 1
        for n in span[:period]:
            n.calls = (*n.calls[:depth], mark, *n.calls[depth:])
        for i, n in enumerate(span[period:]):
            kept[n] = span[i % period]
            kept[n].root = kept[n].root or n.root
        start += period * times
    rolled = [(kept.get(a, a), b, label) for a, b, label in edges if b not in kept and kept.get(a) is not b]
    bridges = {(kept.get(a, a), b) for a, b in graph.bridges if b not in kept}
    return Graph([n for n in nodes if n not in kept], rolled, graph.of, bridges)


def _times(start: int, period: int, keys: list[Any], into: dict[int, list[tuple[int, int, str]]],
           out_of: dict[int, list[int]]) -> int:
    """How many chained blocks of ``period`` nodes, equal to the one at ``start``, follow one another there."""
    def pattern(s: int) -> list[tuple[int, int, str]]:  # the edges into block s, relative to its start
        return sorted((a - s, b - s, label) for b in range(s, s + period) for a, b, label in into[b])

    first = keys[start:start + period]
    times, expected = 1, None
    while True:
        s = start + times * period
        if keys[s:s + period] != first:
            return times
        edges = pattern(s)
        leaves_block = any(not s - period <= b < s + period for a in range(s - period, s) for b in out_of[a])
        internal = [e for e in edges if e[0] >= 0] == [e for e in pattern(start) if e[0] >= 0]
        if leaves_block or not internal or min((e[0] for e in edges), default=0) < -period \
                or expected not in (None, edges):
            return times
        expected = edges
        times += 1


def _signature(n: Node) -> Any:
    """What two nodes must share to be the same step of identical blocks: type, settings and shapes."""
    if n.call is not None:
        what = repr(n.call.module) if isinstance(n.call, ModuleCall) else n.call.path
        return "layer", what, tuple(o.tensor.shape for o in n.outputs if o.tensor is not None)
    t = n.tensor
    if t is None:
        return n.kind, id(n)  # a summary or freed mark is never repeated
    if n.kind == "op" and t.op is not None:
        return "op", t.op.name, repr(t.params), t.shape
    return n.kind, t.shape, t.dtype


# ---- max_nodes
def _cut(graph: Graph, max_nodes: int) -> Graph:
    """Keeps the max_nodes − 1 nodes nearest the output; one summary node stands for the rest."""
    inputs = defaultdict(list)
    for a, b, _ in graph.edges:
        inputs[b].append(a)
    order = [n for n in graph.nodes if n.root]
    seen = set(order)
    for n in order:  # breadth-first towards the inputs; order grows while we walk it
        if len(order) >= max_nodes - 1:
            break
        for x in inputs[n]:
            if x not in seen:
                seen.add(x)
                order.append(x)
    keep = set(order[:max_nodes - 1])
    summary = Node("summary", hidden=len(graph.nodes) - len(keep))
    edges, fed = [], set()
    for a, b, label in graph.edges:
        if b not in keep:
            continue
        if a in keep:
            edges.append((a, b, label))
        elif b not in fed:
            fed.add(b)
            edges.append((summary, b, ""))
    return Graph([summary, *(n for n in graph.nodes if n in keep)], edges)
