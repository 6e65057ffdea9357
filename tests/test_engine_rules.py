"""The engine's rules that are not about numbers: engine state is per thread, imports run one
way, importing minigrad changes nothing outside it, and backward frees the graph by letting
go of references (never by overwriting values)."""

import ast
import gc
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

PACKAGE = Path(mg.__file__).parent


# ---- per-thread state
def _in_threads(*targets):
    """Runs each target in its own thread, all started together; re-raises the first error."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    inside, recorded = threading.Event(), threading.Event()
    seen = {}

    def quiet():
        with mg.no_grad():
            inside.set()
            recorded.wait(5)
            seen["quiet"] = (mg.ones(2, requires_grad=True) * 2).requires_grad

    def busy():
        inside.wait(5)
        seen["busy"] = (mg.ones(2, requires_grad=True) * 2).requires_grad
        recorded.set()

    _in_threads(quiet, busy)
    assert seen == {"quiet": False, "busy": True}


def test_detect_anomaly_in_one_thread_does_not_raise_in_another():
    inside, done = threading.Event(), threading.Event()

    def checking():
        with mg.detect_anomaly():
            inside.set()
            done.wait(5)

    def other():
        inside.wait(5)
        with np.errstate(divide="ignore"):
            out = mg.tensor([0.0]).log()  # -inf: an anomaly only where anomaly mode is on
        assert np.isneginf(out.data).all()
        done.set()

    _in_threads(checking, other)


def test_threads_training_separate_models_get_their_own_gradients():
    """Each thread's gradients equal the ones the same model gets when trained alone."""
    def make(seed):
        mg.manual_seed(seed)
        return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))

    def train(model, x, y, out):
        for _ in range(30):
            model.zero_grad()
            F.cross_entropy(model(x), y).backward()
            out.append([p.grad.data.copy() for p in model.parameters()])

    rng = np.random.default_rng(0)
    data = [(mg.tensor(rng.standard_normal((5, 6))), mg.tensor(rng.integers(0, 3, 5))) for _ in range(2)]
    alone, together = [[], []], [[], []]
    for i in range(2):
        train(make(i), *data[i], alone[i])
    models = [make(0), make(1)]
    _in_threads(*(lambda i=i: train(models[i], *data[i], together[i]) for i in range(2)))
    for a, b in zip(alone, together, strict=True):
        for grads_a, grads_b in zip(a, b, strict=True):
            for ga, gb in zip(grads_a, grads_b, strict=True):
                np.testing.assert_array_equal(ga, gb)


def test_a_thread_starts_with_the_default_switches():
    seen = {}
    with mg.no_grad(), mg.textbook_kernels():
        thread = threading.Thread(target=lambda: seen.update(grad=mg.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == {"grad": True}


# ---- imports
def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import statement in the file, at any depth."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            source = ".".join([*base, node.module] if node.module else base)
            found.append((source, [a.name for a in node.names]))
    return found


def _import_graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}

    def owner(name):  # the module of ours that an import of ``name`` runs
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    edges, private = {m: set() for m in modules}, []
    for m, path in modules.items():
        for source, names in _imports(path):
            for name in names or [""]:
                target = owner(f"{source}.{name}" if f"{source}.{name}" in modules else source)
                if target and target != m:
                    edges[m].add(target)
                    if name.startswith("_") and not name.startswith("__") and f"{source}.{name}" not in modules:
                        private.append(f"{m} takes {name} from {source}")
    return edges, private


def test_imports_form_no_cycle():
    edges, _ = _import_graph()
    state = {}  # 1: on the current path, 2: finished

    def visit(start):
        stack = [(start, iter(sorted(edges[start])))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    path = [n for n, _ in stack]
                    raise AssertionError(f"import cycle: {' -> '.join([*path[path.index(child):], child])}")
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(sorted(edges[child]))))
                    break
            else:
                state[node] = 2
                stack.pop()

    for module in sorted(edges):
        if module not in state:
            visit(module)
    assert "minigrad.tensor" not in edges["minigrad.autograd"]
    assert not any(m.startswith("minigrad.tensor") for m in edges["minigrad.ops.primitive"])


def test_no_private_name_is_imported_from_another_module():
    assert _import_graph()[1] == []


def test_importing_minigrad_changes_nothing_outside_it():
    """No call into the C library (malloc tuning) and no warnings filter or print at import
    (numpy and graphviz, minigrad's dependencies, are imported first: their own filters are theirs)."""
    code = ("import ctypes, warnings, numpy, graphviz\n"
            "calls = []\n"
            "real = ctypes.CDLL\n"
            "ctypes.CDLL = lambda *a, **k: calls.append(a) or real(*a, **k)\n"
            "filters = list(warnings.filters)\n"
            "import minigrad\n"
            "assert calls == [], calls\n"
            "assert warnings.filters == filters\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""


# ---- freeing
def test_backward_lets_go_of_what_only_the_graph_held():
    x = mg.randn(50, 50, requires_grad=True)
    hidden = (x * 2).exp()
    kept = weakref.ref(hidden.data)
    loss = (hidden * 3).sum()
    del hidden
    gc.collect()
    assert kept() is not None  # the graph holds it until backward
    loss.backward()
    gc.collect()
    assert kept() is None
    assert loss.freed and loss.inputs == () and loss.op is mg.ops.registry["sum"]


def test_backward_never_overwrites_values_a_user_holds():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    hidden = x * x
    loss = hidden.sum()
    loss.backward()
    np.testing.assert_array_equal(hidden.data, [[1.0, 4.0], [9.0, 16.0]])
    assert loss.item() == 30.0


def test_a_second_backward_through_a_freed_graph_raises():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_retain_graph_keeps_the_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_backward_reads_every_graph_through_one_topological_order():
    a = mg.tensor(1.0, requires_grad=True)
    b = a * 2
    c = b + a
    d = c * b
    order = mg.autograd.topological_order([d])
    assert len(order) == 5  # the constant 2 too
    assert order.index(a) < order.index(b) < order.index(c) < order.index(d) == 4
    assert mg.autograd.topological_order([d], lambda t: [x for x in t.inputs if x.requires_grad]) == [a, b, c, d]
