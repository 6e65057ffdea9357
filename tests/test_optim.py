"""Optimizers and StepLR: updates against the formulas written out in numpy (and torch.optim when
importable), dtype and identity of the parameters, errors, and state_dict round trips."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

RNG = np.random.default_rng(0)
P0 = RNG.standard_normal((3, 4)).astype(np.float32)
GRADS = [RNG.standard_normal((3, 4)).astype(np.float32) for _ in range(5)]


def run(make_optimizer, p0=P0, grads=GRADS):
    """Applies the given gradients one step each; returns the parameter's final array."""
    p = mg.tensor(p0, requires_grad=True)
    opt = make_optimizer([p])
    for g in grads:
        p.grad = mg.tensor(g)
        opt.step()
    return p.data


# ---- the formulas, written out independently in float64

def sgd_reference(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf = p.astype(np.float64), None
    for g in grads:
        d = g + weight_decay * p
        if momentum:
            buf = d if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
    return p


def adam_reference(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    p = p.astype(np.float64)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g**2
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("kwargs", [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
    {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.01},
    {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05, "nesterov": True},
])
def test_sgd_matches_formula(kwargs):
    got = run(lambda ps: optim.SGD(ps, **kwargs))
    np.testing.assert_allclose(got, sgd_reference(P0, GRADS, **kwargs), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [
    {"lr": 0.01},
    {"lr": 0.1, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
])
def test_adam_matches_formula(kwargs):
    got = run(lambda ps: optim.Adam(ps, **kwargs))
    np.testing.assert_allclose(got, adam_reference(P0, GRADS, **kwargs), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"lr": 0.01}, {"lr": 0.1, "weight_decay": 0.3, "betas": (0.5, 0.9)}])
def test_adamw_matches_formula_with_decoupled_decay(kwargs):
    got = run(lambda ps: optim.AdamW(ps, **kwargs))
    expected = adam_reference(P0, GRADS, decoupled=True, **{"weight_decay": 1e-2, **kwargs})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_hand_computed_scalar_updates():
    # constant gradient 1 from p = 0, lr 0.1
    ones = [np.ones((), np.float32)] * 3
    zero = np.zeros((), np.float32)
    # momentum 0.9: buffers 1, 1.9, 2.71 -> p = -0.1, -0.29, -0.561
    assert run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), zero, ones) == pytest.approx(-0.561, rel=1e-6)
    # nesterov: buffers 1, 1.9; steps 1 + 0.9·1 = 1.9 and 1 + 0.9·1.9 = 2.71 -> p = -0.461
    got = run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True), zero, ones[:2])
    assert got == pytest.approx(-0.461, rel=1e-6)
    # Adam with a constant gradient: the bias-corrected moments are g and g², so each step is lr·g/(|g| + eps)
    g = [np.full((), 4.0, np.float32)] * 3
    assert run(lambda ps: optim.Adam(ps, lr=0.1, eps=1.0), zero, g) == pytest.approx(-3 * 0.1 * 4 / 5, rel=1e-6)
    # AdamW adds p ← p·(1 − lr·wd) before each step: from p = 1, lr 0.1, wd 0.5, eps 0
    expected = 1.0
    for _ in range(3):
        expected = expected * 0.95 - 0.1
    got = run(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.5, eps=0.0), np.ones((), np.float32), g)
    assert got == pytest.approx(expected, rel=1e-6)


def test_adam_weight_decay_is_l2_in_the_gradient_not_decoupled():
    # zero gradient, p = 1: Adam sees g = 0.5·p and takes a normalized step of lr; AdamW only shrinks p
    zero, one = [np.zeros((), np.float32)], np.ones((), np.float32)
    adam = run(lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.5), one, zero)
    adamw = run(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.5), one, zero)
    assert adam == pytest.approx(1 - 0.1, rel=1e-6)
    assert adamw == pytest.approx(1 - 0.1 * 0.5, rel=1e-6)


@pytest.mark.parametrize("opt", [optim.SGD, optim.Adam, optim.AdamW])
def test_updates_keep_float32_and_the_same_array(opt):
    p = mg.tensor(P0, requires_grad=True)
    arr = p.data
    o = opt([p], lr=np.float64(0.1)) if opt is optim.SGD else opt([p], lr=0.1, weight_decay=0.1)
    p.grad = mg.tensor(GRADS[0])
    o.step()
    assert p.data is arr and arr.dtype == np.float32
    assert not np.array_equal(arr, P0)
    assert all(v.dtype == np.float32 for s in o.state.values() for v in s.values() if isinstance(v, np.ndarray))


def test_float64_parameters_stay_float64():
    p = mg.tensor(P0.astype(np.float64), requires_grad=True)
    o = optim.Adam([p], lr=0.1)
    p.grad = mg.tensor(GRADS[0].astype(np.float64))
    o.step()
    assert p.dtype == np.float64 and o.state[p]["exp_avg"].dtype == np.float64


def test_parameters_without_grad_are_skipped_and_zero_grad_sets_none():
    a, b = mg.tensor(P0, requires_grad=True), mg.tensor(P0, requires_grad=True)
    o = optim.SGD([a, b], lr=0.1, momentum=0.9)
    (a * 2).sum().backward()
    o.step()
    np.testing.assert_allclose(a.data, P0 - 0.2, rtol=1e-6)
    np.testing.assert_array_equal(b.data, P0)
    assert b not in o.state or not o.state[b]
    o.zero_grad()
    assert a.grad is None and b.grad is None


def test_param_groups_take_their_own_hyperparameters():
    a, b = mg.tensor(P0, requires_grad=True), mg.tensor(P0, requires_grad=True)
    o = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in o.param_groups] == [0.1, 0.5]
    a.grad, b.grad = mg.ones(3, 4), mg.ones(3, 4)
    o.step()
    np.testing.assert_allclose(a.data, P0 - 0.1, rtol=1e-6)
    np.testing.assert_allclose(b.data, P0 - 0.5, rtol=1e-6)


def test_against_torch_on_a_least_squares_problem():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    W0, b0 = rng.standard_normal((3, 5)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    X, Y = rng.standard_normal((8, 5)).astype(np.float32), rng.standard_normal((8, 3)).astype(np.float32)
    cases = [(optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
             (optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.5, "dampening": 0.5}),
             (optim.Adam, torch.optim.Adam, {"lr": 0.05, "weight_decay": 0.1}),
             (optim.AdamW, torch.optim.AdamW, {"lr": 0.05, "betas": (0.8, 0.9)})]
    for ours, theirs, kwargs in cases:
        W, b = mg.tensor(W0, requires_grad=True), mg.tensor(b0, requires_grad=True)
        tW, tb = torch.tensor(W0, requires_grad=True), torch.tensor(b0, requires_grad=True)
        o = ours([{"params": [W]}, {"params": [b], "lr": 0.01}], **kwargs)
        t = theirs([{"params": [tW]}, {"params": [tb], "lr": 0.01}], **kwargs)
        for _ in range(6):
            o.zero_grad()
            ((mg.tensor(X) @ W.T + b - mg.tensor(Y)) ** 2).mean().backward()
            o.step()
            t.zero_grad()
            ((torch.tensor(X) @ tW.T + tb - torch.tensor(Y)) ** 2).mean().backward()
            t.step()
        np.testing.assert_allclose(W.data, tW.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=ours.__name__)
        np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=ours.__name__)


# ---- StepLR

def test_step_lr_schedule():
    a, b = mg.tensor(P0, requires_grad=True), mg.tensor(P0, requires_grad=True)
    o = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    sched = optim.StepLR(o, step_size=3, gamma=0.5)
    assert optim.lr_scheduler.StepLR is optim.StepLR
    seen = [sched.get_last_lr()]
    for _ in range(7):
        sched.step()
        seen.append(sched.get_last_lr())
    factors = [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    np.testing.assert_allclose(seen, [[0.1 * f, 1.0 * f] for f in factors], rtol=1e-12)
    assert [g["lr"] for g in o.param_groups] == seen[-1]


def test_step_lr_matches_torch():
    torch = pytest.importorskip("torch")
    o = optim.SGD([mg.tensor(P0, requires_grad=True)], lr=0.3)
    t = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    ours, theirs = optim.StepLR(o, 2, gamma=0.7), torch.optim.lr_scheduler.StepLR(t, 2, gamma=0.7)
    for _ in range(9):
        o.step()
        t.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)


def test_step_lr_errors():
    o = optim.SGD([mg.tensor(P0, requires_grad=True)], lr=0.3)
    with pytest.raises(ValueError, match="step_size"):
        optim.StepLR(o, 0)
    with pytest.raises(ValueError, match="gamma"):
        optim.StepLR(o, 2, gamma=-1.0)


# ---- errors

def test_errors():
    p = mg.tensor(P0, requires_grad=True)
    with pytest.raises(ValueError, match=r"SGD: invalid lr -0\.1"):
        optim.SGD([p], lr=-0.1)
    with pytest.raises(ValueError, match="nesterov needs momentum"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="nesterov needs momentum"):
        optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="invalid momentum"):
        optim.SGD([p], lr=0.1, momentum=-0.9)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([{"params": []}])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match=r"floating-point.*int64"):
        optim.SGD([mg.tensor([1, 2])], lr=0.1)
    with pytest.raises(TypeError, match="must be Tensors, got ndarray"):
        optim.SGD([P0], lr=0.1)
    with pytest.raises(ValueError, match=r"leaf tensors.*computed by mul"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="Adam: betas"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="AdamW: invalid weight_decay"):
        optim.AdamW([p], weight_decay=-1.0)
    with pytest.raises(ValueError, match="invalid lr"):
        optim.SGD([{"params": [p], "lr": -1.0}], lr=0.1)
    with pytest.raises(ValueError, match="needs a 'params' entry"):
        optim.SGD([{"lr": 1.0}], lr=0.1)


# ---- state_dict

def loss_of(W, X):
    return ((X @ W).tanh() ** 2).sum()


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda ps: optim.Adam(ps, lr=0.05, betas=(0.8, 0.95)),
    lambda ps: optim.AdamW(ps, lr=0.05),
])
def test_state_dict_round_trip_continues_training_identically(make, tmp_path):
    X = mg.tensor(RNG.standard_normal((6, 3)).astype(np.float32))
    W = mg.tensor(P0, requires_grad=True)
    opt = make([{"params": [W]}])
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)

    def train(W, opt, sched, steps):
        for _ in range(steps):
            opt.zero_grad()
            loss_of(W, X).backward()
            opt.step()
            sched.step()

    train(W, opt, sched, 3)
    mg.save({"W": W, "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ckpt.npz")
    train(W, opt, sched, 4)

    saved = mg.load(tmp_path / "ckpt.npz")
    W2 = mg.tensor(saved["W"].data, requires_grad=True)
    opt2 = make([W2])
    opt2.load_state_dict(saved["optimizer"])
    sched2 = optim.StepLR(opt2, step_size=99)
    sched2.load_state_dict(saved["scheduler"])
    train(W2, opt2, sched2, 4)

    np.testing.assert_array_equal(W2.data, W.data)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert {k: v for k, v in opt2.param_groups[0].items() if k != "params"} == \
           {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    for key, value in opt.state[W].items():
        np.testing.assert_array_equal(opt2.state[W2][key], value)


def test_state_dict_holds_copies_indexed_by_position():
    a, b = mg.tensor(P0, requires_grad=True), mg.tensor(P0[:2], requires_grad=True)
    o = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    b.grad = mg.ones(2, 4)
    o.step()
    sd = o.state_dict()
    assert list(sd["state"]) == [1]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    buf = sd["state"][1]["momentum_buffer"]
    o.step()
    np.testing.assert_array_equal(buf, np.ones((2, 4)))  # the later step did not change the saved copy


def test_load_state_dict_errors():
    a, b = mg.tensor(P0, requires_grad=True), mg.tensor(P0[:2], requires_grad=True)
    o = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = mg.ones(3, 4), mg.ones(2, 4)
    o.step()
    sd = o.state_dict()
    with pytest.raises(ValueError, match=r"groups of sizes \[2\].*has \[1\]"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"state\[1\]\['momentum_buffer'\] has shape \(2, 4\).*\(3, 4\)"):
        optim.SGD([a, mg.tensor(P0, requires_grad=True)], lr=0.1).load_state_dict(sd)


def test_repr_lists_groups():
    text = repr(optim.SGD([mg.tensor(P0, requires_grad=True)], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    momentum: 0.9" in text
