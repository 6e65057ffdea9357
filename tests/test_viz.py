"""Graph pictures: the DOT is parsed back into nodes and edges and checked structurally;
with graphviz's ``dot`` program, the SVG is parsed too."""

from __future__ import annotations

import html
import itertools
import os
import re
import shutil
import stat
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad import models
from minigrad.viz import draw, render, to_dot

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="graphviz's dot program is not installed")
SVG = "{http://www.w3.org/2000/svg}"


# ---- reading DOT back
@dataclass
class Parsed:
    nodes: dict[str, dict[str, str]]  # id -> attributes, plus "text": the label's visible text
    edges: list[tuple[str, str, str]]  # (from, to, label)

    def kinds(self, kind: str) -> list[str]:
        return [i for i, a in self.nodes.items() if kind in a.get("class", "").split()]

    def titled(self, first_line: str) -> str:
        (found,) = [i for i, a in self.nodes.items() if a["text"].split("\n")[0] == first_line]
        return found

    def inputs(self, node: str) -> list[str]:
        return [a for a, b, _ in self.edges if b == node]

    def outputs(self, node: str) -> list[str]:
        return [b for a, b, _ in self.edges if a == node]


ATTR = re.compile(r'\s*(\w+)=("(?:[^"\\]|\\.)*"|<|[^\s\]]+)')


def parse_attrs(text: str) -> dict[str, str]:
    """key=value pairs, where a value is "quoted", <HTML with nested <tags>> or bare."""
    attrs, i = {}, 0
    while i < len(text) and text[i:].strip():
        m = ATTR.match(text, i)
        assert m, f"cannot parse attributes at {text[i:]!r}"
        key, value = m.group(1), m.group(2)
        i = m.end()
        if value == "<":
            depth, start = 1, i - 1
            while depth:
                depth += {"<": 1, ">": -1}.get(text[i], 0)
                i += 1
            value = text[start:i]
        elif value.startswith('"'):
            value = value[1:-1].replace('\\"', '"')
        attrs[key] = value
    return attrs


def visible_text(label: str) -> str:
    """An HTML-like label's text, one line per <br/> or table cell."""
    body = label[1:-1] if label.startswith("<") else label
    text = re.sub(r"<br\s*/>|</td>", "\n", body)
    return "\n".join(line for line in html.unescape(re.sub(r"<[^>]*>", "", text)).split("\n") if line.strip())


def parse(dot: str) -> Parsed:
    nodes, edges = {}, []
    for line in dot.splitlines():
        edge = re.match(r"^\s+(\w+) -> (\w+)(?: \[(.*)\])?$", line)
        node = re.match(r"^\s+(\w+) \[(.*)\]$", line)
        if edge:
            edges.append((edge.group(1), edge.group(2), parse_attrs(edge.group(3) or "").get("label", "").strip()))
        elif node and node.group(1) not in ("graph", "node", "edge", "legend"):
            attrs = parse_attrs(node.group(2))
            attrs["text"] = visible_text(attrs.get("label", ""))
            nodes[node.group(1)] = attrs
    return Parsed(nodes, edges)


def cluster_titles(dot: str) -> list[str]:
    """The label of each cluster (its attributes are the line after ``subgraph cluster_…``)."""
    lines = dot.splitlines()
    return [visible_text(parse_attrs(lines[i + 1].strip())["label"]) for i, line in enumerate(lines)
            if line.strip().startswith("subgraph cluster_")]


def cluster_body(dot: str, title: str) -> str:
    """The DOT lines inside the cluster titled ``title``, nested clusters included."""
    lines = dot.splitlines()
    (start,) = [i for i, line in enumerate(lines[:-1]) if line.strip().startswith("subgraph cluster_")
                and visible_text(parse_attrs(lines[i + 1].strip())["label"]) == title]
    depth = 0
    for end in range(start, len(lines)):
        depth += lines[end].count("{") - lines[end].count("}")  # labels hold no braces
        if depth == 0:
            return "\n".join(lines[start:end + 1])
    raise AssertionError(f"cluster {title!r} is not closed")


# ---- graphs to draw
def named(t: mg.Tensor, name: str) -> mg.Tensor:
    t.name = name
    return t


def micrograd_expression() -> mg.Tensor:
    """relu(a·b + c) with a = 2, b = −3, c = 10, as in micrograd's README picture."""
    a = mg.tensor(2.0, requires_grad=True, name="a")
    b = mg.tensor(-3.0, requires_grad=True, name="b")
    c = mg.tensor(10.0, requires_grad=True, name="c")
    out = (a * b + c).relu()
    out.name = "out"
    return out


def sequential_cnn() -> mg.Tensor:
    """Sequential(Conv2d, ReLU, MaxPool2d, Flatten, Linear) on a (2, 1, 8, 8) input."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3))
    return model(named(mg.randn(2, 1, 8, 8), "x"))


# ---- what a picture shows
def test_micrograd_expression_nodes_labels_values_and_edges() -> None:
    out = micrograd_expression()
    out.backward(retain_graph=True)
    p = parse(to_dot(out, values=True, grads=True))
    assert sorted(p.nodes[i]["text"].split("\n")[0] for i in p.kinds("parameter")) == ["a", "b", "c"]
    assert sorted(p.nodes[i]["text"].split("\n")[0] for i in p.kinds("op")) == ["add", "mul", "where"]
    assert len(p.kinds("intermediate")) == 3 and p.kinds("root") == [p.titled("out")]
    # values and gradients: d(relu(ab + c))/da = b, /db = a, /dc = 1 while ab + c = 4 > 0
    assert p.nodes[p.titled("a")]["text"].split("\n")[1:] == ["scalar float32", "2", "grad -3"]
    assert p.nodes[p.titled("b")]["text"].split("\n")[1:] == ["scalar float32", "-3", "grad 2"]
    assert p.nodes[p.titled("c")]["text"].split("\n")[1:] == ["scalar float32", "10", "grad 1"]
    assert p.nodes[p.titled("out")]["text"].split("\n")[1:] == ["scalar float32", "4"]
    # edges in data-flow order: a, b → mul → (−6) → add ← c → (4) → where → out
    mul, add, where = p.titled("mul"), p.titled("add"), p.titled("where")
    assert sorted(p.inputs(mul)) == sorted([p.titled("a"), p.titled("b")])
    (ab,) = p.outputs(mul)
    assert p.nodes[ab]["text"] == "scalar float32\n-6"
    assert sorted(p.inputs(add)) == sorted([ab, p.titled("c")])
    (s,) = p.outputs(add)
    assert p.nodes[s]["text"] == "scalar float32\n4"
    assert p.outputs(where) == [p.titled("out")] and p.outputs(p.titled("out")) == []
    labels = {p.nodes[a_]["text"].split("\n")[0]: label for a_, b_, label in p.edges if b_ == where}
    assert labels == {"True": "cond", "scalar float32": "a", "0": "b"}  # where(ab + c > 0, ab + c, 0)
    assert len(p.edges) == 10 and all(p.nodes[b_]["class"] == "op" for a_, b_, _ in p.edges
                                       if p.nodes[a_]["class"] != "op")


def test_a_freed_graph_shows_its_last_op_and_says_what_freed_the_rest() -> None:
    out = micrograd_expression()
    out.backward()  # no retain_graph: every node lets go of its inputs
    p = parse(to_dot(out, values=True, grads=True))
    (freed,) = p.kinds("freed")
    assert p.nodes[freed]["text"] == ("inputs freed by backward()\ndraw before backward(),\n"
                                      "or call backward(retain_graph=True)")
    assert p.outputs(freed) == [p.titled("where")] and p.inputs(p.titled("where")) == [freed]
    assert p.nodes[p.titled("out")]["text"].endswith("4")  # the output keeps its own value
    assert len(p.nodes) == 3  # nothing below the freed mark: a, b and c are no longer reachable


def test_a_freed_mark_stays_beside_a_collapsed_layer() -> None:
    out = sequential_cnn()
    out.sum().backward()
    dot = to_dot(out, collapse=True, group_modules=True)
    p = parse(dot)
    (freed,) = p.kinds("freed")
    assert [p.nodes[i]["text"].split("\n")[0] for i in p.outputs(freed)] == ["4"]  # feeds the Linear's box
    assert "class=freed" in cluster_body(dot, "Sequential") and cluster_titles(dot) == ["Sequential"]


def test_a_new_graph_on_a_freed_one_draws_its_own_ops() -> None:
    out = micrograd_expression()
    out.backward()
    p = parse(to_dot(out * 2, group_modules=True))
    assert [p.nodes[i]["text"].split("\n")[0] for i in p.kinds("op")] == ["where", "mul"]
    assert p.kinds("freed") and p.inputs(p.kinds("freed")[0]) == []


def test_big_tensors_show_a_summary_and_small_ones_every_value() -> None:
    x = mg.tensor(np.arange(20.0).reshape(4, 5), name="x")
    w = mg.tensor([[0.5, -1.0, 0.0, 2.0, 0.25]], requires_grad=True, name="w")
    y = (x * w).sum(axis=1, keepdims=True)
    p = parse(to_dot(y, values=True))
    assert p.nodes[p.titled("x")]["text"].split("\n")[1:] == ["(4, 5) float64", "mean 9.5, min 0, max 19"]
    assert p.nodes[p.titled("w")]["text"].split("\n")[1:] == ["(1, 5) float32", "[[0.5, -1, 0, 2, 0.25]]"]
    assert "axis=(1,), keepdims=True" in p.nodes[p.titled("sum")]["text"]


def test_op_parameters_are_shown_compactly() -> None:
    x = mg.randn(1, 2, 6, 6, requires_grad=True)
    w = named(mg.randn(3, 2, 3, 3, requires_grad=True), "w")
    y = mg.correlate(x, w, stride=2, padding=1)[:, 1:, ::2]
    p = parse(to_dot(y))
    assert p.nodes[p.titled("correlate")]["text"] == "correlate\nstride=2, padding=1"  # dilation=1, groups=1 left out
    assert p.nodes[p.titled("getitem")]["text"] == "getitem\nindex=[:, 1:, ::2]"
    assert [label for a, b, label in p.edges if b == p.titled("correlate")] == ["x", "w"]
    assert p.nodes[p.titled("w")]["class"] == "parameter" and p.nodes[p.inputs(p.titled("correlate"))[0]]["text"] \
        == "(1, 2, 6, 6) float32"


def test_kinds_are_styled_apart() -> None:
    x = mg.tensor([1.0, 2.0, 3.0], name="x")
    w = mg.tensor([0.1, 0.2, 0.3], requires_grad=True, name="w")
    p = parse(to_dot((x * w * 2).sum()))
    fills = {p.nodes[i]["class"]: p.nodes[i]["fillcolor"] for i in p.nodes if i not in p.kinds("root")}
    assert set(fills) == {"input", "parameter", "constant", "op", "intermediate"}
    assert len(set(fills.values())) == len(fills)
    root = p.nodes[p.kinds("root")[0]]
    assert float(root["penwidth"]) > 1 and root["fillcolor"] not in fills.values()


# ---- backward=True
def test_backward_graph_of_a_convolution_has_correlate_nodes_and_changes_no_grad() -> None:
    x = named(mg.randn(2, 3, 7, 7, requires_grad=True), "x")
    w = named(mg.randn(4, 3, 3, 3, requires_grad=True), "w")
    loss = mg.correlate(x, w, stride=2, padding=1).sum()
    loss.name = "loss"
    p = parse(to_dot(loss, backward=True))
    assert [p.nodes[i]["text"].split("\n")[0] for i in p.kinds("op")].count("correlate") == 2  # dL/dx and dL/dW
    assert {p.nodes[i]["text"].split("\n")[0] for i in p.kinds("root")} == {"∂loss/∂x", "∂loss/∂w"}
    assert x.grad is None and w.grad is None
    loss.backward()  # the forward graph was retained: backward still works afterwards
    assert x.grad.shape == x.shape


def test_backward_graph_values_are_the_gradients() -> None:
    out = micrograd_expression()
    p = parse(to_dot(out, backward=True, values=True))
    assert p.nodes[p.titled("∂out/∂a")]["text"].endswith("-3")  # = b
    assert p.nodes[p.titled("∂out/∂b")]["text"].endswith("2")  # = a
    assert p.nodes[p.titled("∂out/∂out")]["class"] == "input"  # the seed


def test_second_order_graph_after_create_graph() -> None:
    x = mg.tensor([0.5, -1.0], requires_grad=True, name="x")
    (g,) = mg.grad((x * x * x).sum(), x, create_graph=True)  # 3x²
    g.name = "g"
    p = parse(to_dot(g.sum(), backward=True, values=True))
    (hess,) = p.kinds("root")
    assert p.nodes[hess]["text"].split("\n")[0] == "∂out/∂x"
    np.testing.assert_allclose(eval(p.nodes[hess]["text"].split("\n")[-1]), 6 * x.data, rtol=1e-6)  # d(Σ3x²)/dx


def test_backward_needs_a_graph_that_is_not_freed() -> None:
    out = micrograd_expression()
    out.backward()
    with pytest.raises(RuntimeError, match=r"to_dot: backward=True: .*freed.*retain_graph=True"):
        to_dot(out, backward=True)
    with pytest.raises(ValueError, match="does not require grad"):
        to_dot(mg.tensor([1.0]) * 2, backward=True)


# ---- Module calls
def test_group_modules_clusters_nodes_by_module_call() -> None:
    dot = to_dot(sequential_cnn(), group_modules=True)
    assert cluster_titles(dot) == ["Sequential", "0 · Conv2d", "1 · ReLU", "2 · MaxPool2d", "3 · Flatten", "4 · Linear"]
    conv = cluster_body(dot, "0 · Conv2d")
    assert "0.weight" in conv and "0.bias" in conv  # parameters are drawn in the call that uses them
    assert dot.index("<b>x</b>") < dot.index("Sequential")  # the input is outside every call


def test_tags_other_than_module_calls_are_not_clusters() -> None:
    from minigrad.state import annotate

    with annotate("a tag of the user's"):  # recorded on every tensor beside the Module calls
        dot = to_dot(sequential_cnn(), group_modules=True)
    assert cluster_titles(dot) == ["Sequential", "0 · Conv2d", "1 · ReLU", "2 · MaxPool2d", "3 · Flatten", "4 · Linear"]


def test_collapse_draws_each_layer_as_one_box() -> None:
    p = parse(to_dot(sequential_cnn(), collapse=True))
    layers = [p.nodes[i]["text"].split("\n") for i in p.kinds("layer")]
    assert [lines[0] for lines in layers] == ["0", "1", "2", "3", "4"]
    assert layers[0][1:] == ["Conv2d(1, 4, kernel_size=(3, 3),", "stride=(1, 1), padding=(1, 1))", "→ (2, 4, 8, 8)",
                             "40 parameters"]  # 4·1·3·3 weights + 4 biases
    assert layers[4][-2:] == ["→ (2, 3)", "195 parameters"] and "root" in p.nodes[p.kinds("layer")[4]]["class"]
    assert len(p.nodes) == 6 and len(p.edges) == 5  # the input, then a chain of boxes


def test_backward_collapsed_follows_the_layers_in_reverse() -> None:
    p = parse(to_dot(sequential_cnn().sum(), backward=True, collapse=True))
    chain = [p.nodes[i]["text"].split("\n")[0] for i in p.kinds("layer")]
    assert chain == ["4", "3", "2", "1", "0"]
    for earlier, later in itertools.pairwise(p.kinds("layer")):
        assert later in p.outputs(earlier)


# ---- size limits
def test_max_nodes_replaces_the_excess_by_one_summary_node() -> None:
    x = mg.tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(50):
        y = y * 1.01
    total = len(parse(to_dot(y)).nodes)
    with pytest.warns(UserWarning, match=r"more than max_nodes=20.*collapse=True"):
        p = parse(to_dot(y, max_nodes=20))
    assert len(p.nodes) == 20
    (summary,) = p.kinds("summary")
    assert p.nodes[summary]["text"].split("\n")[0] == f"… {total - 19} more nodes"
    assert p.kinds("root") and all(a == summary or a in p.nodes for a, _, _ in p.edges)
    assert p.inputs(summary) == [] and len(p.outputs(summary)) >= 1
    assert len(parse(to_dot(y, max_nodes=total)).nodes) == total  # no warning, nothing cut


# ---- rendering
@needs_dot
def test_render_svg_of_a_sequential_cnn(tmp_path: Path) -> None:
    out = sequential_cnn()
    out.name = "logits"
    path = render(out, tmp_path / "cnn", group_modules=True, values=True)
    assert path == str(tmp_path / "cnn.svg")
    svg = ET.parse(path).getroot()
    groups = svg.iter(f"{SVG}g")
    nodes, clusters = {}, []
    for g in groups:
        text = " ".join(t.text or "" for t in g.iter(f"{SVG}text"))
        if g.get("class", "").startswith("node"):
            nodes[g.find(f"{SVG}title").text] = (g.get("class"), text)
        elif g.get("class") == "cluster":
            clusters.append("".join(t.text or "" for t in g.iter(f"{SVG}text")))
    assert len(nodes) == len(parse(to_dot(out, group_modules=True)).nodes) + 1  # + the legend
    assert clusters == ["Sequential", "0 · Conv2d", "1 · ReLU", "2 · MaxPool2d", "3 · Flatten", "4 · Linear"]
    (root,) = [text for cls, text in nodes.values() if "root" in cls.split()]
    assert root.startswith("logits (2, 3) float32")


@needs_dot
@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_render_png_and_pdf(tmp_path: Path, fmt: str, magic: bytes) -> None:
    out = micrograd_expression()
    path = render(out, tmp_path / f"g.{fmt}", fmt, rankdir="LR")
    assert Path(path).read_bytes().startswith(magic) and os.listdir(tmp_path) == [f"g.{fmt}"]


def test_without_dot_the_error_names_the_package_and_the_source_is_written(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = micrograd_expression()
    with pytest.raises(RuntimeError, match=r"`dot` program is not on PATH.*apt-get install graphviz.*brew install"):
        render(out, tmp_path / "graph.svg")
    assert sorted(os.listdir(tmp_path)) == ["bin", "graph.dot"]
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8") == to_dot(out)


@pytest.mark.skipif(sys.platform == "win32", reason="uses a shell script as a fake dot")
def test_a_failing_dot_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nfor a; do out="$a"; done\necho half > "$out"\necho "syntax error" >&2\nexit 1\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent))
    out = micrograd_expression()
    with pytest.raises(RuntimeError, match=r"dot failed \(exit 1\): syntax error"):
        render(out, tmp_path / "graph.svg")
    assert os.listdir(tmp_path) == ["bin"]


# ---- bad input
def test_bad_inputs_get_clear_errors_and_write_nothing(tmp_path: Path) -> None:
    out = micrograd_expression()
    with pytest.raises(TypeError, match="to_dot: root must be a minigrad Tensor, got ndarray"):
        to_dot(np.ones(3))
    with pytest.raises(TypeError, match="render: root must be a minigrad Tensor, got list"):
        render([1.0], tmp_path / "g.svg")
    with pytest.raises(ValueError, match="render: unknown format 'gif'; choose one of svg, png, pdf"):
        render(out, tmp_path / "g", "gif")
    with pytest.raises(ValueError, match=r"ends in \.png but format is 'svg'; pass format='png'"):
        render(out, tmp_path / "g.png")
    with pytest.raises(OSError, match=r"render: cannot write to .*missing"):
        render(out, tmp_path / "missing" / "g.svg")
    with pytest.raises(ValueError, match="draw: max_nodes must be an integer ≥ 2"):
        draw(out, max_nodes=1)
    with pytest.raises(ValueError, match="rankdir must be one of TB, LR, BT, RL, got 'up'"):
        to_dot(out, rankdir="up")
    assert os.listdir(tmp_path) == []


def test_unwritable_folder(tmp_path: Path) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(OSError, match=r"render: cannot write to .*Permission denied"):
            render(micrograd_expression(), locked / "g.svg")
        assert os.listdir(locked) == []
    finally:
        locked.chmod(stat.S_IRWXU)


def test_draw_gives_a_graphviz_digraph() -> None:
    import graphviz
    out = micrograd_expression()
    g = draw(out, rankdir="LR")
    assert isinstance(g, graphviz.Digraph) and "rankdir=LR" in g.source and g.source == to_dot(out, rankdir="LR")


# ---- models and the command line
def test_collapse_keeps_the_ops_a_model_does_between_layers() -> None:
    mg.manual_seed(0)
    block = models.InceptionBlock(4, 2, 2, 3, 2, 3, 2)
    out = block(mg.randn(1, 4, 6, 6))
    dot = to_dot(out, collapse=True, group_modules=True)
    p = parse(dot)
    assert [p.nodes[i]["text"].split("\n")[0] for i in p.kinds("op")] == ["concatenate"]
    assert [label for _, b, label in p.edges if b == p.kinds("op")[0]] == ["0", "1", "2", "3"]
    assert len(p.kinds("layer")) == 13  # 6 convolutions, 6 ReLUs and a max pool, in 4 branches
    assert cluster_titles(dot) == ["InceptionBlock", "branch1 · Sequential", "branch2 · Sequential",
                                   "branch3 · Sequential", "branch4 · Sequential"]


def test_backward_nodes_are_grouped_under_the_layer_they_differentiate() -> None:
    dot = to_dot(sequential_cnn().sum(), backward=True, group_modules=True)
    conv = cluster_body(dot, "0 · Conv2d")
    assert conv.count("<b>correlate</b>") == 1  # dL/dW (the input x needs no gradient)
    assert "∂out/∂0.weight" in conv and "∂out/∂0.bias" in conv


@pytest.mark.slow
def test_collapse_makes_vgg16_readable() -> None:
    out = models.VGG16()(mg.randn(1, 3, 224, 224))  # ≈ 5 s, mostly initialising 138M parameters
    full = parse(to_dot(out))
    p = parse(to_dot(out, collapse=True))
    assert len(full.nodes) > 200 and len(p.nodes) <= 40
    assert len(p.kinds("layer")) == 39  # 31 in features, flatten, 7 in classifier
    assert p.nodes[p.kinds("root")[0]]["text"].split("\n")[0] == "classifier.6"


@needs_dot
def test_command_line_draws_a_model(tmp_path: Path) -> None:
    import subprocess
    result = subprocess.run([sys.executable, "-m", "minigrad.viz", "lenet5", "--input-shape", "1,1,28,28",
                             "-o", str(tmp_path / "lenet5.svg"), "--collapse"], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "lenet5.svg")
    svg = ET.parse(tmp_path / "lenet5.svg").getroot()
    layers = [g for g in svg.iter(f"{SVG}g") if "layer" in g.get("class", "").split()]
    assert len(layers) == 12  # features 0–5, flatten, classifier 0–4


@needs_dot
@pytest.mark.parametrize(("name", "model"), [("zfnet", models.ZFNet), ("googlenet", models.GoogLeNet)])
def test_command_line_draws_the_networks_the_notes_name(tmp_path: Path, name: str, model: type) -> None:
    from minigrad.viz.__main__ import main
    path = tmp_path / f"{name}.svg"
    assert main([name, "--input-shape", "1,3,224,224", "-o", str(path), "--collapse"]) == 0
    svg = ET.parse(path).getroot()
    layers = [g for g in svg.iter(f"{SVG}g") if "layer" in g.get("class", "").split()]
    leaves = [m for m in model().modules() if next(m.children(), None) is None]
    assert len(layers) == len(leaves)  # one box per layer call; GoogLeNet: 10 + 9·13 + 2 + 4 = 133


def test_command_line_lists_every_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from minigrad.viz.__main__ import main
    assert main(["resnet", "--input-shape", "1,3,8,8", "-o", str(tmp_path / "g.svg")]) == 1
    listed = capsys.readouterr().err.split("minigrad.models has ")[1].strip().split(", ")
    assert listed == ["alexnet", "googlenet", "inceptionblock", "lenet5", "simplecnn", "vgg11", "vgg13", "vgg16",
                      "vgg19", "zfnet"]


def test_command_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from minigrad.viz.__main__ import main
    assert main(["resnet", "--input-shape", "1,3,8,8", "-o", str(tmp_path / "g.svg")]) == 1
    assert re.search(r"unknown model 'resnet'; minigrad.models has .*lenet5.*vgg16", capsys.readouterr().err)
    assert main(["inceptionblock", "--input-shape", "1,3,8,8", "-o", str(tmp_path / "g.svg")]) == 1
    assert "has 3 channels, but weight (64, 192, 1, 1) expects 192" in capsys.readouterr().err
    assert main(["lenet5", "--input-shape", "1,1,28,28", "-o", str(tmp_path / "no" / "g.svg")]) == 1
    assert "render: cannot write to" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["lenet5", "--input-shape", "1,x", "-o", str(tmp_path / "g.svg")])
    assert "expected positive integers separated by commas" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


# ---- readable backward pictures, functional boxes, roll, hide, layout
def cnn_with_functional_loss() -> mg.Tensor:
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 3))
    image = mg.randn(2, 1, 8, 8)
    image.name = "image"
    loss = nn.functional.cross_entropy(model(image), mg.tensor([0, 2]))
    loss.name = "loss"
    return loss


def test_collapsed_backward_boxes_say_which_gradient_each_output_is() -> None:
    p = parse(to_dot(cnn_with_functional_loss(), backward=True, collapse=True))
    linear = p.nodes[p.titled("4")]["text"].split("\n")
    assert [line for line in linear if line.startswith("→")] == [
        "→ ∂loss/∂x (2, 64)", "→ ∂loss/∂4.weight (3, 64)", "→ ∂loss/∂4.bias (3,)"]
    assert "→ ∂loss/∂x (2, 3)" in p.nodes[p.titled("F.cross_entropy")]["text"]


def test_named_intermediates_are_titled_by_their_gradient() -> None:
    a, b, c = (mg.tensor(v, requires_grad=True, name=n) for v, n in ((2.0, "a"), (-3.0, "b"), (10.0, "c")))
    e = a * b
    d = e + c
    loss = d.relu()
    e.name, d.name, loss.name = "e", "d", "L"
    titles = {a["text"].split("\n")[0] for a in parse(to_dot(loss, backward=True)).nodes.values()}
    assert "∂L/∂e, ∂L/∂c, ∂L/∂d" in titles  # add hands ∂L/∂d on unchanged to both its inputs


def test_max_pool_backward_names_the_winners_mask() -> None:
    p = parse(to_dot(cnn_with_functional_loss(), backward=True))
    (mask,) = [i for i, a in p.nodes.items() if a["text"].startswith("max winners")]
    assert "constant" in p.nodes[mask]["class"] and p.outputs(mask) and "where" in p.nodes[p.outputs(mask)[0]]["text"]


def test_a_functional_loss_collapses_to_one_box_like_its_module() -> None:
    loss = cnn_with_functional_loss()
    raw, p = parse(to_dot(loss)), parse(to_dot(loss, collapse=True))
    (box,) = [i for i in p.kinds("layer") if p.nodes[i]["text"].startswith("F.cross_entropy")]
    assert "root" in p.nodes[box]["class"] and len(raw.edges) > 4 * len(p.edges)
    assert not p.kinds("op")  # nothing of the loss is left as raw ops


def test_functional_calls_inside_minigrad_are_not_stamped() -> None:
    from minigrad.nn.calls import FunctionCall
    out = nn.Linear(2, 2)(mg.randn(1, 2))  # nn.Linear calls F.linear: its box is the layer's
    assert not any(isinstance(a, FunctionCall) for a in out.annotations)
    loss = cnn_with_functional_loss()
    assert [a.path for a in loss.annotations] == ["F.cross_entropy"]  # not its inner log_softmax


def repeated_blocks() -> mg.Tensor:
    mg.manual_seed(0)
    layers = [nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()]
    layers += [m for _ in range(13) for m in (nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())]
    return nn.Sequential(*layers)(mg.randn(1, 3, 6, 6))


@pytest.mark.parametrize("group_modules", [False, True])
def test_roll_draws_identical_consecutive_blocks_once(group_modules: bool) -> None:
    out = repeated_blocks()
    dot = to_dot(out, collapse=True, roll=True, group_modules=group_modules)
    p = parse(dot)
    assert len(p.kinds("layer")) == 4  # the first conv and ReLU, then one conv-ReLU block × 13
    assert re.search(r"label=<<b>× 13</b>>", dot) and len(p.kinds("root")) == 1
    assert len(parse(to_dot(out, collapse=True)).kinds("layer")) == 28


def test_hide_removes_submodules_and_bridges_their_edges() -> None:
    loss = cnn_with_functional_loss()
    p = parse(to_dot(loss, collapse=True, hide=("1", "2")))
    titles = [p.nodes[i]["text"].split("\n")[0] for i in p.kinds("layer")]
    assert titles == ["0", "3", "4", "F.cross_entropy"]
    assert re.search(r"layer\d+ -> layer\d+ \[style=dashed", to_dot(loss, collapse=True, hide=("1", "2")))
    nested = parse(to_dot(models.InceptionBlock(4, 2, 2, 3, 2, 3, 2)(mg.randn(1, 4, 6, 6)), hide=("branch2.1",)))
    assert len(nested.nodes) < len(parse(to_dot(models.InceptionBlock(4, 2, 2, 3, 2, 3, 2)(
        mg.randn(1, 4, 6, 6)))).nodes)
    with pytest.raises(ValueError, match="hide: no module or functional call has the path 'nope'"):
        to_dot(loss, hide=("nope",))
    with pytest.raises(TypeError, match="hide must be a tuple"):
        to_dot(loss, hide="1")  # type: ignore[arg-type]


@needs_dot
def test_long_collapsed_pictures_wrap_into_columns(tmp_path: Path) -> None:
    import minigrad.viz.dot as viz_dot
    out = repeated_blocks()
    sizes = {}
    for band in (10**6, viz_dot.BAND):
        viz_dot.BAND = band
        svg = ET.parse(render(out, tmp_path / f"g{band}", collapse=True)).getroot()
        sizes[band] = float(svg.get("height", "0pt")[:-2]) / float(svg.get("width", "0pt")[:-2])
    viz_dot.BAND = 12
    assert sizes[12] < sizes[10**6] / 3  # one very tall column became a few side by side


@needs_dot
def test_command_line_draws_every_listed_model_with_its_default_input(tmp_path: Path) -> None:
    from minigrad.viz.__main__ import main, zoo
    for name in zoo():  # ≈ 10 s for the ten models of the zoo
        assert main([name, "-o", str(tmp_path / f"{name}.svg"), "--collapse", "--roll"]) == 0, name
