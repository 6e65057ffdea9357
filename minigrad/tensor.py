"""The Tensor: a numpy array that remembers which primitive made it, from which inputs.

Leaves are tensors the user made; every other tensor is a graph node that records ``op``
(the primitive), ``inputs``, ``params`` and ``saved`` (what its VJPs need beyond those).
That record is the computation graph that backward walks (autograd.py). The methods below
are the user-facing API; all of them are compositions of primitives (ops/).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeGuard

import numpy as np

from minigrad import autograd, ops
from minigrad.state import switches, user_frame

DEFAULT_DTYPE = np.dtype(np.float32)
SUPPORTED_KINDS = "biuf"  # bool, signed and unsigned integers, floats
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < floating point: a number's dtype counts only upwards
Axis = int | Sequence[int] | None


def as_array(data: Any, dtype: Any = None, op: str = "tensor") -> np.ndarray:
    """Converts user data to an ndarray: Python floats become float32, arrays keep their dtype."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        arr = np.array(data, dtype=dtype)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{op}: cannot make a tensor from {type(data).__name__} data: {err}") from None
    if arr.dtype.kind not in SUPPORTED_KINDS:
        raise TypeError(f"{op}: unsupported dtype {arr.dtype} (from {type(data).__name__} data); "
                        "minigrad supports bool, integer and floating-point data")
    if dtype is None and arr.dtype == np.float64 and not isinstance(data, np.ndarray | np.generic):
        arr = arr.astype(DEFAULT_DTYPE)
    return arr


class Tensor:
    """An n-dimensional array that records the operations applied to it, for backprop."""

    __array_ufunc__ = None  # numpy defers to Tensor's reflected operators: array * tensor is a Tensor
    data: np.ndarray
    # The rest starts as a leaf's; a tensor stores only what differs (making one is then cheap).
    grad: Tensor | None = None
    requires_grad: bool = False
    name: str | None = None
    op: Any = None                         # the Primitive that made this tensor; None for a leaf
    inputs: tuple[Tensor, ...] = ()
    params: Mapping[str, Any] = MappingProxyType({})  # the primitive's keyword arguments (axis, stride, …)
    saved: Any = None                      # what the primitive's forward kept for its VJPs, if anything
    input_arrays: Sequence[np.ndarray] = ()  # each input's array and version, as the forward read them
    input_versions: Sequence[int] = ()
    freed: bool = False                    # backward let go of inputs and saved values
    version: int = 0                       # counts in-place writes (see mark_modified)
    hooks: tuple[Callable[[Tensor], Tensor | None], ...] = ()
    retains_grad: bool = False
    annotations: tuple[Any, ...] = ()      # tags of the blocks the tensor was made in (nn: Module calls)
    origin: str | None = None              # the user's line that made it, under detect_anomaly

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False,
                 name: str | None = None) -> None:
        self._init(as_array(data, dtype))
        if requires_grad:
            self.requires_grad_()
        self.name = name

    def _init(self, data: np.ndarray) -> None:
        """A leaf holding ``data``; a primitive that records a node fills in the graph fields."""
        self.data = data
        annotations = switches.annotations
        if annotations:
            self.annotations = annotations
        if switches.anomaly:
            self.origin = user_frame()  # where an anomaly error will point

    @staticmethod
    def wrap(data: np.ndarray) -> Tensor:
        """A new leaf around an array minigrad computed (no copy, no checks).

        A static method, so that the modules this one imports (the primitives, autograd) can
        make tensors as ``g.wrap(array)`` without importing this class.
        """
        t = object.__new__(Tensor)
        t._init(data)
        return t

    # ---- what it is
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    @property
    def T(self) -> Tensor:  # noqa: N802 (numpy's and PyTorch's name)
        return self.transpose()

    def numel(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor with one element can become a Python number, got shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The values as a read-only numpy view (no copy): a write through it would change values
        that a graph may have saved, behind backward's back. ``.copy()`` it to get an array to change."""
        view = self.data.view()
        view.flags.writeable = False
        return view

    # ---- writing in place
    def __setitem__(self, index: Any, value: Any) -> None:
        """Writes ``value`` into the entries at ``index``, in place (bumps ``version``).

        Only where no graph is being recorded through this tensor: a tensor that requires grad
        is written under ``mg.no_grad()`` (as an optimizer or an initializer does).
        """
        if self.requires_grad and switches.grad_enabled:
            raise RuntimeError(f"setitem: a tensor that requires grad (shape {self.shape}) cannot be written in "
                               "place while the graph is recorded; do it under mg.no_grad(), or build a new tensor "
                               "(mg.where, mg.concatenate)")
        values = value.data if isinstance(value, Tensor) else value
        try:
            self.data[normalize_index(index, self.shape)] = values
        except (ValueError, IndexError, TypeError) as err:
            raise type(err)(f"setitem: cannot write into a tensor of shape {self.shape}: {err}") from None
        self.mark_modified()

    def copy_(self, src: Any) -> Tensor:
        """Copies ``src``'s values into this tensor, in place (broadcasting; PyTorch's name)."""
        self[...] = src
        return self

    def mark_modified(self) -> None:
        """Records that ``data`` was changed in place by bumping ``version``.

        minigrad's own in-place writes call it (optimizer steps, initializers, ``load_state_dict``,
        batch norm's running statistics, ``x[i] = v``); code that writes into ``.data`` itself
        should too. Backward through a node that read the tensor at an older version raises,
        instead of computing a gradient from values that are no longer there.
        """
        self.version += 1

    def tolist(self) -> Any:
        return self.data.tolist()

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = [f"dtype={self.dtype}"] if self.dtype not in (DEFAULT_DTYPE, np.int64, np.bool_) else []
        if self.op is not None:
            extras.append(f"op={self.op.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    __hash__ = object.__hash__

    # ---- autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not self.is_leaf:
            raise RuntimeError("requires_grad_: only leaf tensors can change requires_grad; use detach()")
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"requires_grad: only floating-point tensors can require grad, got {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulates d(self)/d(leaf) into every leaf's ``.grad`` (self must be scalar, or give ``gradient``)."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def detach(self) -> Tensor:
        """The same data as a new leaf that does not require grad: the graph stops here."""
        return Tensor.wrap(self.data)

    def retain_grad(self) -> None:
        """Asks backward to fill ``.grad`` for this non-leaf tensor too."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self.retains_grad = True

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Calls ``fn(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it.

        Returns a function that removes the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        self.hooks = (*self.hooks, fn)

        def remove() -> None:
            self.hooks = tuple(h for h in self.hooks if h is not fn)
        return remove

    # ---- arithmetic: + - * / ** @ broadcast like numpy
    def __add__(self, other: Any) -> Tensor:
        return ops.add(*operands(self, other, "add"))

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(*operands(other, self, "add"))

    def __sub__(self, other: Any) -> Tensor:
        a, b = operands(self, other, "sub")
        return ops.add(a, ops.neg(b))

    def __rsub__(self, other: Any) -> Tensor:
        a, b = operands(other, self, "sub")
        return ops.add(a, ops.neg(b))

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(*operands(self, other, "mul"))

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(*operands(other, self, "mul"))

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(*operands(self, other, "div"))

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(*operands(other, self, "div"))

    def __pow__(self, other: Any) -> Tensor:
        return ops.pow(*operands(self, other, "pow"))

    def __rpow__(self, other: Any) -> Tensor:
        return ops.pow(*operands(other, self, "pow"))

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __matmul__(self, other: Any) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return operands(other, self, "matmul", broadcast=False)[0].matmul(self)

    def matmul(self, other: Any) -> Tensor:
        """numpy's matmul: 1-D operands act as a row (left) or a column (right) and that axis is dropped."""
        a, b = operands(self, other, "matmul", broadcast=False)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must have at least one dimension, got shapes {a.shape} and {b.shape}")
        inner = b.shape[-2 if b.ndim > 1 else 0]
        if a.shape[-1] != inner:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align on {a.shape[-1]} vs {inner}")
        if not broadcastable(a.shape[:-2], b.shape[:-2]):
            raise ValueError(f"matmul: batch axes of shapes {a.shape} and {b.shape} do not broadcast")
        out = ops.matmul(a.reshape(1, -1) if a.ndim == 1 else a, b.reshape(-1, 1) if b.ndim == 1 else b)
        if a.ndim == 1:
            out = out.reshape(*out.shape[:-2], out.shape[-1])
        return out.reshape(*out.shape[:-1]) if b.ndim == 1 else out

    def maximum(self, other: Any) -> Tensor:
        """Elementwise larger of self and other; at ties each side gets half the gradient."""
        return ops.maximum(*operands(self, other, "maximum"))

    def minimum(self, other: Any) -> Tensor:
        """Elementwise smaller of self and other: −maximum(−self, −other)."""
        a, b = operands(self, other, "minimum")
        return -(-a).maximum(-b)

    def where(self, condition: Any, other: Any) -> Tensor:
        """self where ``condition`` is true, else ``other`` (broadcasting; PyTorch's ``x.where(cond, y)``).

        The gradient follows the choice: each entry's goes to the side it was taken from.
        """
        cond = condition if isinstance(condition, Tensor) else Tensor.wrap(as_array(condition, op="where"))
        if cond.dtype != bool:
            cond = Tensor.wrap(cond.data.astype(bool))
        a, b = operands(self, other, "where")
        if not broadcastable(cond.shape, a.shape, b.shape):
            raise ValueError(f"where: condition {cond.shape} and values {a.shape}, {b.shape} do not broadcast")
        return ops.where(cond, a, b)

    # ---- comparisons give bool tensors and carry no gradient
    def _compare(self, other: Any, ufunc: np.ufunc) -> Tensor:
        a, b = operands(self, other, ufunc.__name__)
        return Tensor.wrap(ufunc(a.data, b.data))

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    # ---- logic on bool tensors (masks; no gradient)
    def __invert__(self) -> Tensor:
        if self.dtype != bool:
            raise TypeError(f"invert: ~ needs a bool tensor, got {self.dtype}")
        return Tensor.wrap(~self.data)

    def __and__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_and)

    def __or__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_or)

    # ---- elementwise functions
    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def sqrt(self) -> Tensor:
        return self ** 0.5

    def square(self) -> Tensor:
        return self * self

    def abs(self) -> Tensor:
        """|x| = maximum(x, −x); at 0 the two shares of the gradient cancel, giving 0 (as PyTorch).

        (+ 0 turns the −0.0 that maximum(+0.0, −0.0) returns into +0.0, so that 1/|x| is +inf at 0.)
        """
        return ops.maximum(self, ops.neg(self)) + 0

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002 (numpy's names)
        """x inside [min, max] (the bounds included: gradient 1, as PyTorch), else the bound it crossed
        (gradient 0). NaN stays NaN, with gradient 0."""
        low = self if min is None else self.maximum(min)
        clipped = low if max is None else low.minimum(max)
        inside = (self >= (-math.inf if min is None else min)) & (self <= (math.inf if max is None else max))
        return self.where(inside, clipped.detach())

    def relu(self) -> Tensor:
        """x where x > 0, else 0 — written as "0 where x ≤ 0", so that NaN passes through with its
        gradient, as in PyTorch; the gradient at 0 is 0."""
        return self.where(~(self <= 0), 0)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e^-x), computed from e^-|x| so that no exp overflows for large |x|.

        e^-|x| is taken as e^-x or e^x by ``where`` (not ``abs``, whose gradient at 0 is 0),
        so that the derivative at x = 0 is σ(0)(1 − σ(0)) = ¼.
        """
        positive = self >= 0
        e = (-self).where(positive, self).exp()
        return (1 / (1 + e)).where(positive, e / (1 + e))

    def tanh(self) -> Tensor:
        """(e^x − e^−x) / (e^x + e^−x): a primitive, since no composition of exp keeps its relative
        accuracy near 0 (2·sigmoid(2x) − 1 gives 0 for float32 x = 1e-8)."""
        return ops.tanh(self)

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """x − log Σ exp(x), shifted by the (constant) max so that exp never overflows."""
        axes = normalize_axes(_either(axis, dim, -1, "log_softmax"), self.ndim, "log_softmax")
        shifted = self - self.max(axis=axes, keepdims=True).detach()
        return shifted - shifted.exp().sum(axis=axes, keepdims=True).log()

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """exp(x) / Σ exp(x) along ``axis``."""
        return self.log_softmax(_either(axis, dim, -1, "softmax")).exp()

    # ---- dtype
    def astype(self, dtype: Any) -> Tensor:
        dtype = as_array(np.zeros(0, dtype), op="astype").dtype
        return self if dtype == self.dtype else ops.cast(self, dtype=dtype)

    def to(self, dtype: Any) -> Tensor:
        """PyTorch's name for ``astype`` (minigrad has one device, the CPU)."""
        return self.astype(dtype)

    def float(self) -> Tensor:
        """As float32 (``(pred == y).float()`` counts matches)."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """As float64 (what gradient checks want)."""
        return self.astype(np.float64)

    def clone(self) -> Tensor:
        """A copy of the values that gradients flow through (a cast to its own dtype copies)."""
        return ops.cast(self, dtype=self.dtype)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """numpy's protocol: ``np.asarray(t)`` gives the values (a copy only when one is asked for)."""
        return np.array(self.data, dtype=dtype, copy=copy)

    # ---- reductions (numpy's words axis/keepdims, or PyTorch's dim/keepdim)
    def sum(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None,
            ) -> Tensor:
        axes = normalize_axes(_either(axis, dim, None, "sum"), self.ndim, "sum")
        return ops.sum(self, axis=axes, keepdims=_kept(keepdims, keepdim))

    def max(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None,
            ) -> Tensor:
        """Largest values along ``axis`` (values only; ``argmax`` gives indices); at ties the gradient
        is shared equally."""
        if self.numel() == 0:
            raise ValueError(f"max: cannot reduce an empty tensor of shape {self.shape}")
        axes = normalize_axes(_either(axis, dim, None, "max"), self.ndim, "max")
        return ops.max(self, axis=axes, keepdims=_kept(keepdims, keepdim))

    def min(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None,
            ) -> Tensor:
        axes = normalize_axes(_either(axis, dim, None, "min"), self.ndim, "min")
        return -((-self).max(axes, _kept(keepdims, keepdim)))

    def mean(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None,
             ) -> Tensor:
        axes = normalize_axes(_either(axis, dim, None, "mean"), self.ndim, "mean")
        return self.sum(axes, _kept(keepdims, keepdim)) / _count(self.shape, axes)

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0, *, dim: Axis = None,
            keepdim: bool | None = None) -> Tensor:
        """Σ (x − mean)² / (n − ddof): numpy's variance (ddof=0 by default)."""
        axes = normalize_axes(_either(axis, dim, None, "var"), self.ndim, "var")
        centred = self - self.mean(axes, keepdims=True)
        return (centred * centred).sum(axes, _kept(keepdims, keepdim)) / (_count(self.shape, axes) - ddof)

    def argmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        axis = _one_axis(_either(axis, dim, None, "argmax"), self.ndim, "argmax")
        return Tensor.wrap(np.asarray(self.data.argmax(axis=axis)))

    def argmin(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        axis = _one_axis(_either(axis, dim, None, "argmin"), self.ndim, "argmin")
        return Tensor.wrap(np.asarray(self.data.argmin(axis=axis)))

    # ---- shape
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        try:
            new = _resolve_shape(self.shape, _unpack(shape))
        except ValueError as err:
            raise ValueError(f"reshape: {err}") from None
        return self if new == self.shape else ops.reshape(self, shape=new)

    def view(self, *shape: int | Sequence[int]) -> Tensor:
        """PyTorch's name for ``reshape`` (numpy arrays have no storage to share it with)."""
        return self.reshape(*shape)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or one axis's length (PyTorch's ``x.size()``, ``x.size(0)``)."""
        return self.shape if dim is None else self.shape[normalize_axis(dim, self.ndim, "size")]

    def unsqueeze(self, dim: int) -> Tensor:
        """A new axis of length 1 at ``dim`` (−1 appends it)."""
        at = normalize_axis(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(*self.shape[:at], 1, *self.shape[at:])

    def squeeze(self, dim: int | None = None) -> Tensor:
        """Without the axes of length 1 (or only ``dim``, if it has length 1; as PyTorch)."""
        drop = [i for i, n in enumerate(self.shape) if n == 1] if dim is None else \
            [normalize_axis(dim, self.ndim, "squeeze")]
        return self.reshape(*(n for i, n in enumerate(self.shape) if i not in drop or n != 1))

    def flatten(self, start_axis: int = 0, *, start_dim: int | None = None) -> Tensor:
        """The axes from ``start_axis`` (PyTorch: ``start_dim``) on, merged into one."""
        start = _one_axis(_either(start_axis, start_dim, 0, "flatten"), self.ndim, "flatten") if self.ndim else 0
        return self.reshape(*self.shape[:start], -1)

    def permute(self, *dims: int | Sequence[int]) -> Tensor:
        """The axes in the order ``dims`` (a full permutation; PyTorch's name for numpy's transpose)."""
        perm = _unpack(dims)
        if len(perm) != self.ndim:
            raise ValueError(f"permute: {perm} does not give one position for each of the {self.ndim} axes")
        return self.transpose(*perm)

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """numpy's transpose: ``axes`` is a full permutation; none reverses the axes. Two axes of a
        tensor with more dimensions are swapped, as PyTorch's ``transpose(d0, d1)``."""
        perm = _unpack(axes) or tuple(reversed(range(self.ndim)))
        if len(perm) == 2 and self.ndim > 2:
            d0, d1 = (normalize_axis(d, self.ndim, "transpose") for d in perm)
            swapped = list(range(self.ndim))
            swapped[d0], swapped[d1] = d1, d0
            perm = tuple(swapped)
        if not (all([type(a) is int for a in perm]) and sorted(perm) == list(range(self.ndim))):  # noqa: C419
            if sorted(normalize_axes(perm, self.ndim, "transpose") or ()) != list(range(self.ndim)):
                raise ValueError(f"transpose: axes {perm} are not a permutation of the axes of shape {self.shape}")
            perm = tuple(int(a) % self.ndim for a in perm)
        return self if perm == tuple(range(self.ndim)) else ops.transpose(self, axes=perm)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index=normalize_index(index, self.shape))


def operands(a: Any, b: Any, op: str, broadcast: bool = True) -> tuple[Tensor, Tensor]:
    """Both operands of a binary operation as Tensors, checked to broadcast (unless told not to).

    A number never promotes a tensor, as in PyTorch (see ``_with_number``).
    """
    if not isinstance(a, Tensor):
        b, a = _with_number(b, a, op)
    elif not isinstance(b, Tensor):
        a, b = _with_number(a, b, op)
    if broadcast and a.data.shape != b.data.shape and not broadcastable(a.data.shape, b.data.shape):
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not broadcast")
    return a, b


def broadcastable(*shapes: tuple[int, ...]) -> bool:
    """numpy's rule: aligned from the right, each axis's sizes are equal or 1."""
    if len(set(shapes) - {()}) <= 1:  # one shape, and numbers
        return True
    return all(len(set(sizes) - {1}) <= 1 for sizes in itertools.zip_longest(*map(reversed, shapes), fillvalue=1))


_PYTHON_KINDS = {bool: "b", int: "i", float: "f"}  # the kinds of the numbers most often met, known without numpy


def _with_number(t: Tensor, x: Any, op: str) -> tuple[Tensor, Tensor]:
    """t and the other operand x as Tensors. A number x — a Python or numpy scalar, or a 0-d
    array — takes t's dtype, unless it is of a higher category (bool < integer < float): then both
    become float32 (or int64). So ``x * np.sqrt(2.0)`` stays float32 and ``labels * 0.5`` is
    float32, as in PyTorch; anything else follows numpy."""
    kind = _PYTHON_KINDS.get(type(x))
    if kind is None:
        if not (isinstance(x, complex | np.generic) or np.ndim(x) == 0):
            return t, Tensor.wrap(as_array(x, op=op))
        kind = np.asarray(x).dtype.kind
        if kind not in _CATEGORY:
            raise TypeError(f"{op}: unsupported dtype {np.asarray(x).dtype} (from {type(x).__name__} data {x!r}); "
                            "minigrad supports bool, integer and floating-point data")
    if _CATEGORY[kind] > _CATEGORY[t.data.dtype.kind]:
        t = t.astype(DEFAULT_DTYPE if kind == "f" else np.int64)
    return t, Tensor.wrap(np.asarray(x, dtype=t.data.dtype))


def normalize_axes(axis: Axis, ndim: int, op: str) -> tuple[int, ...] | None:
    """Axis arguments as a tuple of non-negative ints (None means all axes)."""
    if axis is None:
        return None
    out = tuple(normalize_axis(a, ndim, op) for a in (axis if isinstance(axis, Sequence) else (axis,)))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return out


def normalize_axis(axis: int, ndim: int, op: str) -> int:
    """One axis argument as a non-negative int (−1 is the last axis)."""
    if not is_int(axis) or not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor of {ndim} dimensions")
    return int(axis) % max(ndim, 1)


def is_int(x: Any) -> TypeGuard[int]:
    """An integer (Python's or numpy's); plain ints are tested first, that being the common case."""
    return type(x) is int or isinstance(x, numbers.Integral)


def is_real(x: Any) -> TypeGuard[float]:
    """A real number (Python's or numpy's, integers and bools included), in a form mypy follows
    (it does not count float and int as ``numbers.Real``)."""
    return isinstance(x, numbers.Real)


def _either(axis: Any, dim: Any, default: Any, op: str) -> Any:
    """The axis given by numpy's word (``axis``) or PyTorch's (``dim``); not both."""
    if dim is not None and axis is not None and axis != default:
        raise TypeError(f"{op}: give axis (numpy's word) or dim (PyTorch's), not both")
    return axis if dim is None else dim


def _kept(keepdims: bool, keepdim: bool | None) -> bool:
    """``keepdims`` (numpy's word), unless PyTorch's ``keepdim`` is given."""
    return keepdims if keepdim is None else keepdim


def _one_axis(axis: int | None, ndim: int, op: str) -> int | None:
    return None if axis is None else normalize_axis(axis, ndim, op)


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    return math.prod(shape if axes is None else [shape[a] for a in axes])


def _unpack(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """(3, 4) both from f(3, 4) and from f((3, 4)): reshape's and transpose's two spellings."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], Sequence) else args


def _resolve_shape(old: tuple[int, ...], new: tuple[int, ...]) -> tuple[int, ...]:
    size = math.prod(old)
    if all([type(d) is int and d >= 0 for d in new]) and math.prod(new) == size:  # noqa: C419 (the common case)
        return new
    if new.count(-1) == 1 and all([type(d) is int and d >= -1 for d in new]):  # noqa: C419
        known = -math.prod(new)
        if known and not size % known:
            return tuple(size // known if d == -1 else d for d in new)
    if sum(d == -1 for d in new) > 1 or any(d < -1 for d in new):
        raise ValueError(f"invalid target shape {new}")
    known = math.prod(d for d in new if d != -1)
    if -1 in new:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape a tensor of shape {old} ({size} elements) into {new}")
        new = tuple(size // known if d == -1 else d for d in new)
    if math.prod(new) != size:
        raise ValueError(f"cannot reshape a tensor of shape {old} ({size} elements) into {new}")
    return tuple(int(d) for d in new)


def normalize_index(index: Any, shape: tuple[int, ...]) -> tuple:
    """An index as a tuple numpy understands: Tensors become arrays, boolean masks become integer arrays."""
    index = index if isinstance(index, tuple) else (index,)
    out: list[Any] = []
    for item in index:
        if isinstance(item, Tensor):
            item = item.data
        if isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray):
            if item.dtype == bool:
                out.extend(item.nonzero())
                continue
            if item.dtype.kind not in "iu":
                raise IndexError(f"getitem: index arrays must be integers or booleans, got {item.dtype}")
        out.append(item)
    return tuple(out)

