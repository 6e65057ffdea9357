"""Optimizers that turn gradients into parameter updates, and a learning-rate schedule.

The formulas are PyTorch's, so a training loop moves between the two unchanged:

    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in loader:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

An update works on the parameters' numpy arrays in place (the Parameter objects stay the
same), records no graph, and keeps their dtype: hyperparameters are Python floats, which
never turn a float32 array into float64. Parameters may be split into groups, each with
its own hyperparameters: ``SGD([{"params": body}, {"params": head, "lr": 0.01}], lr=0.1)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

import numpy as np

from minigrad.state import no_grad
from minigrad.tensor import Tensor, is_int, is_real

ParamsArg = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Holds parameter groups and per-parameter state; subclasses say how one parameter moves.

    ``param_groups`` is a list of dicts: ``"params"`` (a list of Tensors) plus that group's
    hyperparameters. ``state[p]`` holds what the method remembers about ``p`` between steps
    (momentum buffers, moment estimates) as numpy arrays and numbers.
    """

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if isinstance(params, Tensor) or not isinstance(params, Iterable):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts, got {type(params).__name__}")
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        groups: list[Any] = list(params)  # Tensors, or dicts that add_param_group checks
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Adds a group of parameters; hyperparameters it does not set come from the defaults."""
        name = type(self).__name__
        if not isinstance(group, dict):
            raise TypeError(f"{name}: a parameter group is a dict, got {type(group).__name__}")
        if "params" not in group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry, got keys {list(group)}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        for p in params:
            _check_parameter(p, name)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) < len(params) or seen & {id(p) for p in params}:
            raise ValueError(f"{name}: a parameter appears more than once; give each parameter to one group only")
        group = {**self.defaults, **group, "params": params}
        self._check_hyperparameters(group)
        self.param_groups.append(group)

    def zero_grad(self) -> None:
        """Forgets every parameter's gradient (sets ``.grad`` to None) before the next backward."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        """Moves every parameter that has a gradient by one update of this method."""
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p.data, p.grad.data, self.state.setdefault(p, {}), group)
                        p.mark_modified()

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Updates the array ``p`` in place, given its gradient ``g``."""
        raise NotImplementedError

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Raises ValueError for a hyperparameter outside its range."""
        _check_at_least(self, group, "lr", 0.0)

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's hyperparameters and state, with parameters named by their position.

        ``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}`` as in
        PyTorch; it holds copies (arrays, numbers, strings only), so ``mg.save`` can store it.
        """
        index = {id(p): i for i, p in enumerate(self._parameters())}
        return {
            "state": {index[id(p)]: _copy_state(s) for p, s in self.state.items() if s},
            "param_groups": [{**{k: v for k, v in g.items() if k != "params"},
                              "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores what ``state_dict`` returned, onto this optimizer's own parameters (same layout)."""
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        saved_sizes = [len(g["params"]) for g in saved_groups]
        sizes = [len(g["params"]) for g in self.param_groups]
        if saved_sizes != sizes:
            raise ValueError(f"{name}.load_state_dict: the saved state has parameter groups of sizes {saved_sizes}, "
                             f"this optimizer has {sizes}")
        groups = [{**group, **{k: v for k, v in saved.items() if k != "params"}}
                  for group, saved in zip(self.param_groups, saved_groups, strict=True)]
        for group in groups:
            self._check_hyperparameters(group)
        params = self._parameters()
        state = {}
        for i, saved in state_dict["state"].items():
            if not 0 <= int(i) < len(params):
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, but there are {len(params)}")
            p = params[int(i)]
            state[p] = {k: _restore(v, p, f"{name}.load_state_dict: state[{i}][{k!r}]") for k, v in saved.items()}
        self.param_groups, self.state = groups, state

    def _parameters(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join([*lines, ")"])


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and L2 weight decay.

    With g = grad + weight_decay·p, and b the momentum buffer (b = g at the first step):
        b ← momentum·b + (1 − dampening)·g
        p ← p − lr·(g + momentum·b)   with nesterov, else   p ← p − lr·b
    Without momentum, simply p ← p − lr·g.
    """

    def __init__(self, params: ParamsArg, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov})

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        super()._check_hyperparameters(group)
        _check_at_least(self, group, "momentum", 0.0)
        _check_at_least(self, group, "weight_decay", 0.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov needs momentum > 0 and dampening = 0, got momentum={group['momentum']} "
                             f"and dampening={group['dampening']}")

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, momentum, weight_decay = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                buf += (1 - float(group["dampening"])) * g
            g = g + momentum * buf if group["nesterov"] else buf
        p -= lr * g


class Adam(Optimizer):
    """Adam: steps scaled per coordinate by running estimates of the gradient's first two moments.

    With g = grad + weight_decay·p (L2 decay folded into the gradient) and t the step count:
        m ← β1·m + (1 − β1)·g            v ← β2·v + (1 − β2)·g²
        p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
    Dividing by 1 − β^t corrects the bias of m and v towards their zero start.
    """

    decoupled_weight_decay = False

    def __init__(self, params: ParamsArg, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay})

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        super()._check_hyperparameters(group)
        _check_at_least(self, group, "eps", 0.0)
        _check_at_least(self, group, "weight_decay", 0.0)
        betas = group["betas"]
        if len(betas) != 2 or not all(is_real(b) and 0 <= b < 1 for b in betas):
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1), got {betas}")

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if weight_decay and self.decoupled_weight_decay:
            p *= 1 - lr * weight_decay
        elif weight_decay:
            g = g + weight_decay * p
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
        state["step"] += 1
        m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        denom = np.sqrt(v) / math.sqrt(1 - beta2**t) + eps
        p -= lr / (1 - beta1**t) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p ← p·(1 − lr·weight_decay) before the
    Adam step, which then sees the plain gradient — so decay is not rescaled by √v as in ``Adam``.
    """

    decoupled_weight_decay = True

    def __init__(self, params: ParamsArg, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


class StepLR:
    """Multiplies each group's learning rate by ``gamma`` every ``step_size`` calls to ``step()``.

    After n calls, lr = initial_lr · gamma^⌊n / step_size⌋ (call ``step()`` once per epoch,
    after that epoch's optimizer steps). It sets ``group["lr"]``, overriding manual changes.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if not is_int(step_size) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        if not is_real(gamma) or gamma <= 0:
            raise ValueError(f"StepLR: gamma must be a positive number, got {gamma!r}")
        self.optimizer, self.step_size, self.gamma = optimizer, int(step_size), float(gamma)
        self.base_lrs = [float(g["lr"]) for g in optimizer.param_groups]
        self.last_epoch = 0

    def step(self) -> None:
        """Ends an epoch: sets every group's lr for the next one."""
        self.last_epoch += 1
        factor = self.gamma ** (self.last_epoch // self.step_size)
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base_lr * factor

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group, as last set."""
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Where the schedule stands, for resuming a training run (storable with ``mg.save``)."""
        return {"step_size": self.step_size, "gamma": self.gamma, "base_lrs": list(self.base_lrs),
                "last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.step_size, self.gamma = int(state_dict["step_size"]), float(state_dict["gamma"])
        self.base_lrs, self.last_epoch = list(state_dict["base_lrs"]), int(state_dict["last_epoch"])


lr_scheduler = SimpleNamespace(StepLR=StepLR)  # PyTorch's path: optim.lr_scheduler.StepLR


def _check_parameter(p: Any, name: str) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(f"{name}: parameters must be Tensors, got {type(p).__name__}")
    if p.dtype.kind != "f":
        raise TypeError(f"{name}: can only optimize floating-point tensors, got one of dtype {p.dtype} "
                        f"and shape {p.shape}")
    if not p.is_leaf:
        raise ValueError(f"{name}: can only optimize leaf tensors; got one of shape {p.shape} computed by "
                         f"{p.op.name} (optimize the tensors it was computed from, or detach() it)")


def _check_at_least(optimizer: Optimizer, group: dict[str, Any], key: str, low: float) -> None:
    value = group[key]
    if not is_real(value) or isinstance(value, bool) or not value >= low:
        raise ValueError(f"{type(optimizer).__name__}: invalid {key} {value!r} (must be a number >= {low})")


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}


def _restore(value: Any, p: Tensor, where: str) -> Any:
    """A saved state entry, as a fresh array of the parameter's shape and dtype (numbers unchanged)."""
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, np.ndarray):
        return value
    if value.shape != p.shape:
        raise ValueError(f"{where} has shape {value.shape}, but the parameter has shape {p.shape}")
    return np.array(value, dtype=p.dtype)
