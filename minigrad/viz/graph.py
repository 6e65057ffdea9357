"""What a picture contains: its nodes, the edges between them and the Module call of each.

``build`` walks the computation graph back from the root and makes one node per tensor
and one per primitive application, with edges in data-flow order (inputs → op → output).
The options then reshape that graph: ``backward`` draws the gradients that backward
computes instead of the root, ``collapse`` folds each layer's nodes into one box, and
``max_nodes`` replaces what does not fit by one summary node. A node whose graph an earlier
backward freed (it keeps its primitive but no longer its inputs) gets a "freed" node as its
only input. How nodes are labelled and coloured is decided elsewhere (``labels.py``, ``dot.py``).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass, field

import numpy as np

from minigrad import autograd
from minigrad.nn.modules.module import ModuleCall, module_calls
from minigrad.tensor import Tensor
from minigrad.viz.labels import input_names, shape_text

TENSOR_KINDS = ("parameter", "input", "constant", "intermediate", "saved")
PLACED_BY_USE = ("parameter", "constant", "saved")  # leaves-like nodes drawn where they are used


@dataclass(eq=False)
class Node:
    """One box of the picture.

    ``kind`` is a tensor kind (TENSOR_KINDS), "op" (a primitive application; ``tensor`` is
    what it produced), "freed" (the inputs of ``tensor``, which backward let go of), "layer"
    (a collapsed Module call) or "summary" (nodes left out).
    ``calls`` holds the Module calls, outermost first, that the node is drawn inside.
    """

    kind: str
    tensor: Tensor | None = None
    calls: tuple[ModuleCall, ...] = ()
    caption: str | None = None  # a title that is not the tensor's name (which gradient it is)
    root: bool = False
    call: ModuleCall | None = None  # layer: the Module call it stands for
    members: list[Node] = field(default_factory=list)  # layer: the nodes folded into it
    outputs: list[Node] = field(default_factory=list)  # layer: its members that leave it
    hidden: int = 0             # summary: how many nodes it replaces


@dataclass
class Graph:
    nodes: list[Node]                   # in data-flow order
    edges: list[tuple[Node, Node, str]]  # (from, to, label)


def build(root: Tensor, *, backward: bool = False, collapse: bool = False, max_nodes: int | None = None) -> Graph:
    """The picture's graph for ``root`` (see the module docstring for what each option does)."""
    if backward:
        roots, captions, seed = _gradients(root)
        graph = _expand(roots, captions, saved=set(_trace([root])), seed=seed)
    else:
        graph = _expand([root], {}, saved=set(), seed=None)
    if collapse:
        graph = _collapse(graph)
    if max_nodes is not None and len(graph.nodes) > max_nodes:
        graph = _cut(graph, max_nodes)
    return graph


def _trace(roots: list[Tensor], stop: Container[Tensor] = frozenset()) -> list[Tensor]:
    """Every tensor that leads to the roots, each after its inputs; tensors in ``stop`` are not opened.

    Computed inputs are visited before leaves, so that a leaf comes just before its first use.
    """
    return autograd.topological_order(
        roots, lambda t: () if t in stop else sorted(t.inputs, key=lambda x: x.op is None or x in stop))


def _expand(roots: list[Tensor], captions: dict[Tensor, str], saved: set[Tensor], seed: Tensor | None) -> Graph:
    """A node per tensor and per primitive application; ``saved`` tensors are drawn but not opened."""
    tensors = _trace(roots, saved)
    outputs = set(roots)
    node = {t: Node(_kind(t, saved, seed), t, module_calls(t.annotations), captions.get(t), t in outputs)
            for t in tensors}
    nodes: list[Node] = []
    edges: list[tuple[Node, Node, str]] = []
    for t in tensors:
        if t.op is not None and t not in saved:
            op = Node("op", t, node[t].calls)
            if t.freed:  # its inputs are gone: a mark stands in their place
                nodes.append(Node("freed", t, node[t].calls))
                edges.append((nodes[-1], op, ""))
            names = input_names(t.op, len(t.inputs)) if len(t.inputs) > 1 else [""] * len(t.inputs)
            edges += [(node[x], op, name) for x, name in zip(t.inputs, names, strict=True)]
            edges.append((op, node[t], ""))
            nodes.append(op)
        nodes.append(node[t])
    _place_by_use(nodes, edges)
    return Graph(nodes, edges)


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
        uses[a].append(b.calls)
    for n in nodes:
        if n.kind in PLACED_BY_USE and uses[n]:
            n.calls = _common_prefix(uses[n])


def _common_prefix(call_lists: list[tuple[ModuleCall, ...]]) -> tuple[ModuleCall, ...]:
    first = call_lists[0]
    depth = 0
    while depth < len(first) and all(len(c) > depth and c[depth].call == first[depth].call for c in call_lists):
        depth += 1
    return first[:depth]


# ---- backward=True
def _gradients(root: Tensor) -> tuple[list[Tensor], dict[Tensor, str], Tensor]:
    """The gradient of root with respect to each leaf, computed with create_graph=True so that it has a graph.

    The seed ∂root/∂root = 1 is made to require grad, so that every VJP — even those whose
    inputs are constants — is recorded. No ``.grad`` changes. Returns the gradients, a
    caption for each (∂out/∂a) and the seed.
    """
    if not root.requires_grad:
        raise ValueError(f"backward=True: the root (shape {root.shape}) does not require grad, "
                         "so backward has no graph to draw")
    forward = _trace([root])
    if any(t.freed for t in forward):
        raise RuntimeError("backward=True: an earlier backward() without retain_graph=True has freed this graph; "
                           "draw it before calling backward, or call backward(retain_graph=True)")
    leaves = [t for t in forward if _is_parameter(t)]
    out = root.name or "out"
    seed = Tensor.wrap(np.ones_like(root.data)).requires_grad_()
    seed.name = f"∂{out}/∂{out}"
    grads = autograd.grad(root, leaves, grad_outputs=seed, retain_graph=True, create_graph=True, allow_unused=True)
    captions: dict[Tensor, str] = {}
    for leaf, g in zip(leaves, grads, strict=True):
        if g is not None:
            wrt = f"∂{out}/∂{leaf.name}" if leaf.name else f"∂{out}/∂(leaf {shape_text(leaf.shape)})"
            captions[g] = f"{captions[g]}, {wrt}" if g in captions else wrt
    return list(captions), captions, seed


# ---- collapse=True
def _collapse(graph: Graph) -> Graph:
    """Folds the nodes of each innermost Module call (a layer: Conv2d, ReLU, Linear, …) into one box.

    Nodes made outside any layer (a reshape in a model's own forward, the input) stay as
    they are; edges into and out of a box connect to the box. A "freed" mark stays visible,
    beside its layer's box.
    """
    outer = {r.call for n in graph.nodes for r in n.calls[:-1]}
    boxes: dict[int, Node] = {}
    owner: dict[Node, Node] = {}
    nodes = []
    for n in graph.nodes:
        if n.kind == "freed" and n.calls and n.calls[-1].call not in outer:
            n.calls = n.calls[:-1]  # beside its layer's box, not folded into it
        if not n.calls or n.calls[-1].call in outer:
            nodes.append(n)
            continue
        call = n.calls[-1]
        if call.call not in boxes:
            boxes[call.call] = Node("layer", calls=n.calls[:-1], call=call)
            nodes.append(boxes[call.call])
        box = owner[n] = boxes[call.call]
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
    return Graph(_data_flow_order(nodes, edges), edges)


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
