"""mg.viz.trace (backprop as a table) and mg.viz.animate (backprop as a page), and Jupyter display."""

import html
import json
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad import viz
from minigrad.viz.trace import Gradient, Step

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot program is not installed")


def micrograd() -> dict[str, mg.Tensor]:
    """micrograd's first example: L = (a·b + c)·f, every tensor named."""
    a, b, c, f = (mg.tensor(v, requires_grad=True, name=n) for v, n in ((2.0, "a"), (-3.0, "b"), (10.0, "c"),
                                                                        (-2.0, "f")))
    e = a * b
    d = e + c
    L = d * f
    e.name, d.name, L.name = "e", "d", "L"
    return {"a": a, "b": b, "c": c, "f": f, "e": e, "d": d, "L": L}


def scalar(name: str, value: float, adds: bool = False) -> Gradient:
    return Gradient(name, (), (value,), adds)


def small_cnn() -> tuple[nn.Module, mg.Tensor]:
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 3))
    loss = nn.CrossEntropyLoss()(model(mg.randn(2, 1, 8, 8)), mg.tensor([0, 2]))
    return model, loss


# ---- trace
def test_micrograd_rows_are_the_hand_derived_ones() -> None:
    L = micrograd()["L"]
    assert list(viz.trace(L)) == [  # by hand: dL/dd = f, dL/df = d; add passes it on; mul swaps the operands
        Step(1, "mul", "L", scalar("L", 1.0), (scalar("d", -2.0), scalar("f", 4.0))),
        Step(2, "add", "d", scalar("d", -2.0), (scalar("e", -2.0), scalar("c", -2.0))),
        Step(3, "mul", "e", scalar("e", -2.0), (scalar("a", 6.0), scalar("b", -4.0))),
    ]


def test_the_printed_table() -> None:
    text = str(viz.trace(micrograd()["L"]))
    assert text.splitlines() == [
        "step  op   node  ∂L/∂node  gradients it sends",
        "1     mul  L     1         ∂L/∂d = -2",
        "                           ∂L/∂f = 4",
        "2     add  d     -2        ∂L/∂e = -2",
        "                           ∂L/∂c = -2",
        "3     mul  e     -2        ∂L/∂a = 6",
        "                           ∂L/∂b = -4",
    ]


def test_no_grad_changes_and_backward_can_follow() -> None:
    t = micrograd()
    t["d"].retain_grad()
    t["L"].backward(retain_graph=True)
    before = {name: x.grad.item() for name, x in t.items() if x.grad is not None}
    viz.trace(t["L"])
    assert {name: x.grad.item() for name, x in t.items() if x.grad is not None} == before
    t["L"].backward()  # the trace kept the graph
    assert t["a"].grad.item() == 12.0


def test_a_tensor_used_twice_gets_its_gradient_added() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * x + x
    y.name = "y"
    out = y.sum()
    rows = list(viz.trace(out))
    to_x = [g for s in rows for g in s.produced if g.name == "x"]
    assert [g.adds for g in to_x] == [False, True, True]
    out.backward()
    np.testing.assert_allclose(np.sum([g.values for g in to_x], axis=0), x.grad.data)  # 2x + 1
    assert "∂out/∂x += [1, 2]" in str(viz.trace((x * x + x).sum()))


def test_unnamed_nodes_are_named_by_module_path_or_number() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert [s.node for s in viz.trace((x * 3.0).sum())] == ["node 4", "node 3"]
    _, loss = small_cnn()
    nodes = [s.node for s in viz.trace(loss)]
    assert "4 · matmul" in nodes and "0 · correlate" in nodes
    assert "CrossEntropyLoss · add #1" in nodes and "CrossEntropyLoss · add #2" in nodes  # two adds, told apart


def test_small_cnn_shapes() -> None:
    model, loss = small_cnn()
    rows = viz.trace(loss)
    sent = {g.name: g for s in rows for g in s.produced}
    for name, p in model.named_parameters():
        assert sent[name].shape == p.shape
    assert sent["0.weight"].values is None and sent["4.bias"].values is not None  # 36 values; 3 values
    assert all(g.shape == g.tensor.shape for s in rows for g in s.produced)
    assert [p.grad for p in model.parameters()] == [None] * 4


def test_html_table_for_jupyter() -> None:
    page = viz.trace(micrograd()["L"])._repr_html_()
    assert page.startswith("<table") and page.count("<tr>") == 1 + 6
    assert "∂L/∂a = 6" in page


def test_a_freed_graph_raises_clearly() -> None:
    L = micrograd()["L"]
    L.backward()
    with pytest.raises(RuntimeError, match=r"trace: an earlier backward\(\) .* freed this graph"):
        viz.trace(L)


def test_root_must_be_a_tensor() -> None:
    with pytest.raises(TypeError, match="trace: root must be a minigrad Tensor"):
        viz.trace(3.0)


# ---- animate
class Page(HTMLParser):
    """Checks that tags nest and close; collects the frames' JSON and the SVG nodes' DOT names."""

    VOID = frozenset({"meta", "input", "br", "img", "link", "hr"})  # HTML tags that have no end tag

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.frames = ""
        self.titles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list) -> None:  # <path ... />: opened and closed
        pass

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1][0] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.stack:
            return
        tag, attrs = self.stack[-1]
        if tag == "script" and attrs.get("id") == "frames":
            self.frames += data
        elif tag == "title" and len(self.stack) > 1 and "node" in self.stack[-2][1].get("class", "").split():
            self.titles.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    assert page.stack == []
    return page


@needs_dot
@pytest.mark.parametrize("example", ["micrograd", "cnn"])
def test_animate_writes_one_offline_page_with_a_frame_per_step(example: str, tmp_path) -> None:
    root = micrograd()["L"] if example == "micrograd" else small_cnn()[1]
    path = viz.animate(root, tmp_path / "backprop.html")
    assert path == str(tmp_path / "backprop.html")
    text = (tmp_path / "backprop.html").read_text(encoding="utf-8")
    for network in ("http://", "https://", "<script src", "<link"):
        assert network not in text
    page = parse(text)
    frames = json.loads(page.frames)
    rows = viz.trace(root)
    assert len(frames) == len(rows)
    for frame, step in zip(frames, rows, strict=True):
        assert {frame["node"], frame["op"], *(f["node"] for f in frame["filled"])} <= set(page.titles)
        assert [f["text"] for f in frame["filled"]] == [g.equation(rows.out) for g in step.produced]
    assert f'max="{len(rows)}"' in text


@needs_dot
def test_animate_frames_point_at_the_right_boxes() -> None:
    L = micrograd()["L"]
    animation = viz.animate(L)
    first = json.loads(parse(animation.html).frames)[0]
    assert first["incoming"] == "∂L/∂L = 1"
    assert [f["text"] for f in first["filled"]] == ["∂L/∂d = -2", "∂L/∂f = 4"]
    dot = viz.to_dot(L, values=True)
    for name, box in (("L", first["node"]), ("d", first["filled"][0]["node"]), ("f", first["filled"][1]["node"])):
        assert any(line.strip().startswith(f"{box} ") and f"<b>{name}</b>" in line for line in dot.splitlines())


@needs_dot
def test_animate_inline_for_jupyter() -> None:
    animation = viz.animate(micrograd()["L"])
    shown = animation._repr_html_()
    assert shown.startswith("<iframe srcdoc=")
    assert html.unescape(shown.split('srcdoc="')[1].split('"')[0]) == animation.html


def test_animate_without_dot_says_what_to_install(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here
    with pytest.raises(RuntimeError, match=r"animate: graphviz's `dot` program is not on PATH.*install graphviz"):
        viz.animate(micrograd()["L"], tmp_path / "page.html")
    assert not (tmp_path / "page.html").exists()


def test_animate_on_a_freed_graph_raises() -> None:
    L = micrograd()["L"]
    L.backward()
    with pytest.raises(RuntimeError, match="freed this graph"):
        viz.animate(L)


@needs_dot
def test_draw_displays_itself_in_jupyter() -> None:
    bundle = viz.draw(micrograd()["L"])._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]
