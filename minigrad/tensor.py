"""The Tensor: a numpy array that remembers which primitive made it, from which inputs.

Leaves are tensors the user made; every other tensor records ``_op`` (a primitive),
``_inputs`` and ``_params``. That record is the computation graph that backward walks.
The methods below are the user-facing API; all of them are compositions of primitives.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad import autograd

DEFAULT_DTYPE = np.dtype(np.float32)
SUPPORTED_KINDS = "biuf"  # bool, signed and unsigned integers, floats
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

    __slots__ = ("data", "grad", "requires_grad", "name", "_op", "_inputs", "_params",
                 "_hooks", "_retain", "_freed", "_origin", "_scope", "__weakref__")
    __array_ufunc__ = None  # numpy defers to Tensor's reflected operators: array * tensor is a Tensor

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False,
                 name: str | None = None) -> None:
        self._init(as_array(data, dtype), None, (), {})
        if requires_grad:
            self.requires_grad_()
        self.name = name

    def _init(self, data: np.ndarray, op: Any, inputs: tuple, params: dict) -> None:
        self.data, self._op, self._inputs, self._params = data, op, inputs, params
        self.requires_grad = op is not None
        self.grad = self.name = self._hooks = self._origin = None
        self._retain = self._freed = False
        self._scope = autograd.state.scope
        if autograd.state.anomaly:
            self._origin = autograd.user_frame()

    @classmethod
    def _make(cls, data: np.ndarray, op: Any = None, inputs: tuple = (), params: dict | None = None) -> Tensor:
        """A tensor from an array minigrad computed (no copy, no checks); a leaf when op is None."""
        t = object.__new__(cls)
        t._init(data, op, inputs, params or {})
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
        return self._op is None

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
        return self.data

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
        if self._op is not None:
            extras.append(f"op={self._op.name}")
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
        return Tensor._make(self.data)

    def retain_grad(self) -> None:
        """Asks backward to fill ``.grad`` for this non-leaf tensor too."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self._retain = True

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Calls ``fn(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it.

        Returns a function that removes the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        self._hooks = [*(self._hooks or []), fn]
        return lambda: self._hooks.remove(fn)

    # ---- arithmetic: + - * / ** @ broadcast like numpy
    def __add__(self, other: Any) -> Tensor:
        return ops.add(*_pair(self, other, "add"))

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(*_pair(other, self, "add"))

    def __sub__(self, other: Any) -> Tensor:
        a, b = _pair(self, other, "sub")
        return ops.add(a, ops.neg(b))

    def __rsub__(self, other: Any) -> Tensor:
        a, b = _pair(other, self, "sub")
        return ops.add(a, ops.neg(b))

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(*_pair(self, other, "mul"))

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(*_pair(other, self, "mul"))

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(*_pair(self, other, "div"))

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(*_pair(other, self, "div"))

    def __pow__(self, other: Any) -> Tensor:
        return ops.pow(*_pair(self, other, "pow"))

    def __rpow__(self, other: Any) -> Tensor:
        return ops.pow(*_pair(other, self, "pow"))

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __matmul__(self, other: Any) -> Tensor:
        return functions.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return functions.matmul(other, self)

    # ---- comparisons give bool tensors and carry no gradient
    def _compare(self, other: Any, ufunc: np.ufunc) -> Tensor:
        a, b = _pair(self, other, ufunc.__name__)
        return Tensor._make(ufunc(a.data, b.data))

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
        """|x| = maximum(x, -x); at 0 the two shares of the gradient cancel, giving 0 (as PyTorch)."""
        return ops.maximum(self, ops.neg(self))

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002 (numpy's names)
        out = self if min is None else functions.maximum(self, min)
        return out if max is None else functions.minimum(out, max)

    def relu(self) -> Tensor:
        """max(x, 0), with gradient 0 at x = 0 (as PyTorch)."""
        return functions.where(self > 0, self, 0)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e^-x), computed from e^-|x| so that no exp overflows for large |x|.

        e^-|x| is taken as e^-x or e^x by ``where`` (not ``abs``, whose gradient at 0 is 0),
        so that the derivative at x = 0 is σ(0)(1 − σ(0)) = ¼.
        """
        positive = self >= 0
        e = functions.where(positive, -self, self).exp()
        return functions.where(positive, 1 / (1 + e), e / (1 + e))

    def tanh(self) -> Tensor:
        """tanh(x) = 2·sigmoid(2x) − 1."""
        return 2 * (2 * self).sigmoid() - 1

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x − log Σ exp(x), shifted by the (constant) max so that exp never overflows."""
        axis = normalize_axes(axis, self.ndim, "log_softmax")
        shifted = self - self.max(axis=axis, keepdims=True).detach()
        return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / Σ exp(x) along ``axis``."""
        return self.log_softmax(normalize_axes(axis, self.ndim, "softmax")).exp()

    def astype(self, dtype: Any) -> Tensor:
        dtype = as_array(np.zeros(0, dtype), op="astype").dtype
        return self if dtype == self.dtype else ops.cast(self, dtype=dtype)

    # ---- reductions
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return ops.sum(self, axis=normalize_axes(axis, self.ndim, "sum"), keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Largest values along ``axis``; at ties the gradient is shared equally."""
        if self.numel() == 0:
            raise ValueError(f"max: cannot reduce an empty tensor of shape {self.shape}")
        return ops.max(self, axis=normalize_axes(axis, self.ndim, "max"), keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return -((-self).max(normalize_axes(axis, self.ndim, "min"), keepdims))

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        axes = normalize_axes(axis, self.ndim, "mean")
        return self.sum(axes, keepdims) / _count(self.shape, axes)

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Σ (x − mean)² / (n − ddof): numpy's variance (ddof=0 by default)."""
        axes = normalize_axes(axis, self.ndim, "var")
        centred = self - self.mean(axes, keepdims=True)
        return (centred * centred).sum(axes, keepdims) / (_count(self.shape, axes) - ddof)

    def argmax(self, axis: int | None = None) -> Tensor:
        return Tensor._make(np.asarray(self.data.argmax(axis=_one_axis(axis, self.ndim, "argmax"))))

    def argmin(self, axis: int | None = None) -> Tensor:
        return Tensor._make(np.asarray(self.data.argmin(axis=_one_axis(axis, self.ndim, "argmin"))))

    # ---- shape
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        new = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], Sequence) else shape
        try:
            new = _resolve_shape(self.shape, new)
        except ValueError as err:
            raise ValueError(f"reshape: {err}") from None
        return self if new == self.shape else ops.reshape(self, shape=new)

    def flatten(self, start_axis: int = 0) -> Tensor:
        start = _one_axis(start_axis, self.ndim, "flatten") if self.ndim else 0
        return self.reshape(*self.shape[:start], -1)

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """numpy's transpose: ``axes`` is a full permutation; none reverses the axes."""
        perm = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], Sequence) else axes
        perm = perm or tuple(reversed(range(self.ndim)))
        if not (all(type(a) is int for a in perm) and sorted(perm) == list(range(self.ndim))):
            if sorted(normalize_axes(perm, self.ndim, "transpose")) != list(range(self.ndim)):
                raise ValueError(f"transpose: axes {perm} are not a permutation of the axes of shape {self.shape}")
            perm = tuple(int(a) % self.ndim for a in perm)
        return self if perm == tuple(range(self.ndim)) else ops.transpose(self, axes=perm)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index=normalize_index(index, self.shape))


def _pair(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; a Python scalar takes the other side's dtype (it never promotes it)."""
    if not isinstance(a, Tensor):
        a = _operand(a, b, op)
    elif not isinstance(b, Tensor):
        b = _operand(b, a, op)
    if a.shape != b.shape and not broadcastable(a.shape, b.shape):
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not broadcast")
    return a, b


def broadcastable(*shapes: tuple[int, ...]) -> bool:
    """numpy's rule: aligned from the right, each axis's sizes are equal or 1."""
    return all(len(set(sizes) - {1}) <= 1 for sizes in itertools.zip_longest(*map(reversed, shapes), fillvalue=1))


def _operand(x: Any, like: Tensor, op: str) -> Tensor:
    if isinstance(x, numbers.Number) and not isinstance(x, np.generic):
        return Tensor._make(np.asarray(x, dtype=np.result_type(like.dtype, x)))
    return Tensor._make(as_array(x, op=op))


def normalize_axes(axis: Axis, ndim: int, op: str) -> tuple[int, ...] | None:
    """Axis arguments as a tuple of non-negative ints (None means all axes)."""
    if axis is None:
        return None
    axes = (axis,) if is_int(axis) else tuple(axis)
    for a in axes:
        if not is_int(a) or not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of {ndim} dimensions")
    out = tuple(int(a) % max(ndim, 1) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return out


def is_int(x: Any) -> bool:
    """An integer (Python's or numpy's); plain ints are tested first, that being the common case."""
    return type(x) is int or isinstance(x, numbers.Integral)


def _one_axis(axis: int | None, ndim: int, op: str) -> int | None:
    return None if axis is None else normalize_axes(axis, ndim, op)[0]


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    return math.prod(shape if axes is None else [shape[a] for a in axes])


def _resolve_shape(old: tuple[int, ...], new: tuple[int, ...]) -> tuple[int, ...]:
    size = math.prod(old)
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
    out = []
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


from minigrad import functions, ops  # noqa: E402 (ops are built on Tensor; Tensor's methods call ops)
