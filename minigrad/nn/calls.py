"""Functional calls stamped on the tensors they make, as Module calls are, so pictures can fold them.

``F.cross_entropy(logits, y)`` is some thirty primitive applications; a picture of a model
trained with it would be mostly loss. ``@function_call`` makes each public function of
``nn.functional`` stamp a ``FunctionCall`` on every tensor it makes, so that
``viz.to_dot(..., collapse=True)`` draws it as one box, like ``nn.CrossEntropyLoss``.

Only calls from code outside minigrad are stamped: the ``F.conv2d`` inside ``nn.Conv2d`` is
already inside that layer's box, and the ``log_softmax`` inside ``cross_entropy`` is part
of its box. Tensors made by such calls carry exactly the Module calls they did before.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from minigrad.state import annotate

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # minigrad/
_call_numbers = itertools.count()

F = TypeVar("F", bound=Callable[..., Any])


class FunctionCall(NamedTuple):
    """One call of an ``nn.functional`` function from user code; ``call`` is a number unique to the call."""

    name: str
    call: int

    @property
    def path(self) -> str:
        """How pictures title it (and how ``hide=`` names it): "F.cross_entropy"."""
        return f"F.{self.name}"


def function_call(fn: F) -> F:
    """Decorates a function of ``nn.functional`` so that, called from user code, its tensors record the call."""
    name = fn.__name__

    @functools.wraps(fn)
    def stamped(*args: Any, **kwargs: Any) -> Any:
        if sys._getframe(1).f_code.co_filename.startswith(_PACKAGE_DIR):  # minigrad's own use: no stamp
            return fn(*args, **kwargs)
        with annotate(FunctionCall(name, next(_call_numbers))):
            return fn(*args, **kwargs)

    return stamped  # type: ignore[return-value]


def function_calls(annotations: tuple[Any, ...]) -> tuple[FunctionCall, ...]:
    """The functional calls among a tensor's annotations, outermost first."""
    return tuple([a for a in annotations if isinstance(a, FunctionCall)])
