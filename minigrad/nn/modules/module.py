"""Module, the base of every layer and model; Parameter; and the containers Sequential and ModuleList.

A Module holds Parameters (tensors to train), buffers (state that is saved but not
trained, like batch norm's running statistics) and submodules, each registered when it
is assigned as an attribute. ``model(x)`` runs ``forward`` and records which module call
made each tensor (``tensor.annotations``), for pictures of the graph:

    class TwoLayers(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(4, 8)     # registered as a submodule: hidden.weight, hidden.bias
            self.out = nn.Linear(8, 2)

        def forward(self, x):
            return self.out(self.hidden(x).relu())
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from minigrad.state import annotate, no_grad, switches
from minigrad.tensor import Tensor, as_array


class Parameter(Tensor):
    """A tensor that a Module trains: a floating-point leaf that requires grad.

    Assigned as a Module attribute it is registered under that name. Its ``name`` is given
    once, the first time it is named: by the first call of its module (the attribute path
    from the outermost module called, "features.0.weight") or by the first
    ``named_parameters()`` that lists it, whichever comes first. minigrad never changes it
    afterwards, so a layer shared by two models keeps the name the first one gave it (you
    may set it yourself). Pictures of the graph label the parameter with it.
    """

    def __init__(self, data: Any) -> None:
        array = data.data if isinstance(data, Tensor) else as_array(data, op="Parameter")
        if array.dtype.kind != "f":
            raise TypeError(f"Parameter: parameters must be floating point, got dtype {array.dtype}")
        self._init(array)
        self.requires_grad = True

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class ModuleCall(NamedTuple):
    """One call of a module, stamped on every tensor made inside it (``tensor.annotations``).

    ``path`` is the module's attribute path from the outermost module called ("features.0";
    the outermost module's own path is its class name, and so is the path of a module that is
    not below its caller, such as one built inside ``forward``), ``call`` a number unique to the call.
    """

    path: str
    module: Module
    call: int

    def __repr__(self) -> str:  # without the module, whose repr is the whole model's for the outermost call
        return f"ModuleCall(path={self.path!r}, call={self.call})"


def module_calls(annotations: tuple[Any, ...]) -> tuple[ModuleCall, ...]:
    """The Module calls among a tensor's annotations, outermost first (other tags are skipped)."""
    return tuple([a for a in annotations if isinstance(a, ModuleCall)])


_call_numbers = itertools.count()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` found missing from the given dict and what it did not expect."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: subclasses set attributes in ``__init__`` and define ``forward``."""

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _modules: dict[str, Module]
    _forward_hooks: list[Callable[[Module, tuple, Any], Any]]
    _unnamed: bool                          # a parameter was registered that may have no name yet
    _child_names: dict[Module, str] | None  # the submodules' names, built when first asked for

    def __init__(self) -> None:
        for name, value in (("_parameters", {}), ("_buffers", {}), ("_modules", {}), ("_forward_hooks", []),
                            ("training", True), ("_unnamed", False), ("_child_names", None)):
            object.__setattr__(self, name, value)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Runs ``forward`` inside ``annotate(ModuleCall(…))``, so every tensor it makes records this call.

        The path comes from the calls active in this thread, so threads running different
        models never see each other's paths. The first call also names this module's parameters.
        """
        path, prefix = _place(self, module_calls(switches.annotations))
        if self._unnamed:
            self._name_parameters(prefix)
        with annotate(ModuleCall(path, self, next(_call_numbers))):
            out = self.forward(*args, **kwargs)
        for hook in self._forward_hooks:
            replaced = hook(self, args, out)
            out = out if replaced is None else replaced
        return out

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> Callable[[], None]:
        """Calls ``hook(module, inputs, output)`` after each forward (a returned value replaces the output).

        Returns a function that removes the hook.
        """
        self._forward_hooks.append(hook)
        return lambda: self._forward_hooks.remove(hook)

    # ---- registration
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter | Module):
            if "_modules" not in self.__dict__:
                raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before Module.__init__() "
                                     f"is called (call super().__init__() first in {type(self).__name__})")
            if isinstance(value, Parameter):  # a name already registered keeps its place (as in PyTorch)
                self._modules.pop(name, None)
                self._parameters[name] = value
                object.__setattr__(self, "_unnamed", True)
            else:
                self._parameters.pop(name, None)
                self._modules[name] = value
                object.__setattr__(self, "_child_names", None)
        elif name in self.__dict__.get("_buffers", ()):
            self._buffers[name] = value
        else:
            self._forget(name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        self._buffers.pop(name, None)
        object.__delattr__(self, name)

    def _forget(self, name: str) -> None:
        """Unregisters ``name`` as a parameter or submodule, if it is one."""
        self.__dict__.get("_parameters", {}).pop(name, None)
        if self.__dict__.get("_modules", {}).pop(name, None) is not None:
            object.__setattr__(self, "_child_names", None)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Registers state that is saved in ``state_dict`` but not trained (e.g. running statistics)."""
        self._forget(name)
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)

    # ---- walking the tree
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(path, module) for this module ("" or ``prefix``) and every submodule below it, each once."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            stack.extend(reversed([(f"{path}.{name}" if path else name, m) for name, m in module._modules.items()]))

    def modules(self) -> Iterator[Module]:
        return (m for _, m in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        return iter(self._modules.items())

    def children(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def path_to(self, module: Module) -> str | None:
        """The attribute path from this module down to ``module`` ("head", "blocks.0"), or None
        when it is not below this one: a child's name at once, else the shortest path below."""
        name = self._names_of_children().get(module)
        if name is not None:
            return name
        queue, seen = [(f"{name}.", child) for name, child in self._modules.items()], {self}
        for prefix, parent in queue:  # breadth first: the queue grows while we walk it
            if parent in seen:
                continue
            seen.add(parent)
            name = parent._names_of_children().get(module)
            if name is not None:
                return prefix + name
            queue += [(f"{prefix}{name}.", child) for name, child in parent._modules.items()]
        return None

    def _names_of_children(self) -> dict[Module, str]:
        """Each submodule's attribute name (the first, if it has two), kept until a submodule is assigned."""
        names = self._child_names
        if names is None:
            names = {m: n for n, m in reversed(self._modules.items())}
            object.__setattr__(self, "_child_names", names)
        return names

    def _name_parameters(self, prefix: str) -> None:
        """Names this module's parameters that have no name yet: ``prefix`` + attribute name."""
        for name, p in self._parameters.items():
            if p is not None and p.name is None:
                p.name = prefix + name
        object.__setattr__(self, "_unnamed", False)

    def _named_members(self, registry: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        for path, module in self.named_modules() if recurse else [("", self)]:
            for name, value in getattr(module, registry).items():
                if value is not None and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{path}.{name}" if path else name), value

    def named_parameters(self, recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(attribute path, parameter), e.g. ("features.0.weight", …), each parameter once.

        A parameter that has no ``name`` yet takes this path as its name.
        """
        for path, p in self._named_members("_parameters", recurse):
            if p.name is None:
                p.name = path
            yield path, p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return (p for _, p in self._named_members("_parameters", recurse))

    def named_buffers(self, recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers(recurse))

    # ---- training
    def zero_grad(self) -> None:
        """Forgets every parameter's gradient (sets ``.grad`` to None)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Sets training mode (dropout active, batch norm on batch statistics) here and below."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Sets evaluation mode: dropout off, batch norm on its running statistics."""
        return self.train(False)

    def to(self, dtype: Any) -> Module:
        """Converts every floating-point parameter and buffer to ``dtype`` in place (the objects stay)."""
        dtype = np.dtype(dtype)
        for t in itertools.chain(self.parameters(), self.buffers()):
            if t.dtype.kind == "f":
                t.data = t.data.astype(dtype)
        return self

    def double(self) -> Module:
        """Float64 parameters and buffers (what gradcheck needs)."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Float32 parameters and buffers (minigrad's default)."""
        return self.to(np.float32)

    # ---- saving and loading
    def _state(self) -> dict[str, Tensor]:
        """Every parameter and buffer by path: per module its parameters, then its buffers."""
        state: dict[str, Tensor] = {}
        for path, module in self.named_modules():
            for name, value in itertools.chain(module._parameters.items(), module._buffers.items()):
                if value is not None:
                    state.setdefault(f"{path}.{name}" if path else name, value)
        return state

    def state_dict(self) -> dict[str, Tensor]:
        """A snapshot of the parameters and buffers by path ("features.0.weight", "bn.running_mean", …).

        The tensors are copies: training further does not change a state dict already taken.
        """
        return {name: Tensor.wrap(t.data.copy()) for name, t in self._state().items()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copies the values of ``state_dict`` into the parameters and buffers, in place.

        With ``strict`` (the default) the keys must match exactly; the error lists the missing
        and unexpected keys. Every value is checked before any is copied — its shape, and that
        it converts to the parameter's dtype without loss (no overflow to inf, no complex, no
        None, no fractions into integers) — so a failed load changes nothing.
        """
        own = self._state()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {', '.join(unexpected)}")
        values = {}
        for k in (k for k in own if k in state_dict):
            try:
                values[k] = _loadable(state_dict[k], own[k])
            except ValueError as err:
                problems.append(f"{k}: {err}")
        if problems:
            raise RuntimeError(f"load_state_dict: cannot load into {type(self).__name__} (nothing was changed): "
                               + "; ".join(problems))
        with no_grad():
            for k, value in values.items():
                own[k][...] = value
        return IncompatibleKeys(missing, unexpected)

    # ---- printing
    def extra_repr(self) -> str:
        """The layer's settings, shown inside the parentheses of its repr."""
        return ""

    def __repr__(self) -> str:
        lines = [self.extra_repr()] if self.extra_repr() else []
        lines += [f"({name}): {m!r}" for name, m in self._modules.items()]
        if not self._modules:
            return f"{type(self).__name__}({self.extra_repr()})"
        body = "\n".join(lines).replace("\n", "\n  ")
        return f"{type(self).__name__}(\n  {body}\n)"


def _place(module: Module, calls: tuple[ModuleCall, ...]) -> tuple[str, str]:
    """The path of ``module`` when called inside ``calls``, and the prefix of its parameters' names.

    The outermost module's path is its class name and its parameters' prefix is empty; a
    module below its caller extends the caller's path ("features" → "features.0").
    """
    if calls:
        below = calls[-1].module.path_to(module)
        if below is not None:
            path = below if len(calls) == 1 else f"{calls[-1].path}.{below}"
            return path, path + "."
    return type(module).__name__, ""


class Sequential(Module):
    """Modules applied one after another: ``Sequential(conv, relu, pool)(x) == pool(relu(conv(x)))``.

    Submodules are named "0", "1", …; a Sequential can be indexed, sliced, iterated and measured.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> Sequential:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: expected a Module, got {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            part = object.__new__(type(self))
            Module.__init__(part)
            for module in modules[index]:
                part.append(module)
            return part
        try:
            return modules[index]
        except (IndexError, TypeError):
            raise IndexError(f"{type(self).__name__}: index {index!r} is out of range for {len(modules)} "
                             "modules") from None

    def __setitem__(self, index: int, module: Module) -> None:
        """Replaces the module at ``index`` (its name, "0", "1", …, stays)."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: expected a Module, got {type(module).__name__}")
        names = list(self._modules)
        try:
            name = names[index]
        except (IndexError, TypeError):
            raise IndexError(f"{type(self).__name__}: index {index!r} is out of range for {len(names)} "
                             "modules") from None
        setattr(self, name, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(Sequential):
    """A list of submodules that registers them (named "0", "1", …) but defines no forward."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__(*modules)

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward: call its modules yourself")


def _loadable(value: Any, like: Tensor) -> np.ndarray:
    """``value`` as an array of like's shape and dtype, or ValueError when that would lose something.

    Rounding to a narrower float is allowed (as PyTorch's copy does); an overflow to inf is not,
    nor a complex, object or None value, nor a fraction or an out-of-range number into integers.
    """
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"a value of dtype {array.dtype} ({type(value).__name__}) cannot become {like.dtype}")
    if array.shape != like.shape:
        raise ValueError(f"expected shape {like.shape}, got {array.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        converted = array.astype(like.dtype)
        if like.dtype.kind == "f":
            lossless = not (np.isinf(converted) & np.isfinite(array)).any()
        else:
            lossless = bool(np.array_equal(converted.astype(array.dtype), array))
    if not lossless:
        raise ValueError(f"its {array.dtype} values do not fit {like.dtype} without loss")
    return converted
