"""``assert_gradients_close``: a gradient check that fails the way a test fails.

``mg.gradcheck`` raises ``GradcheckError`` (a RuntimeError), which pytest reports as an error
inside the library; as an ``AssertionError`` the same diagnostics read as a failed check of
the user's function, and the helper's own frame is hidden from the traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.tensor import Tensor


def assert_gradients_close(fn: Callable[..., Any], inputs: Tensor | Sequence[Tensor], *,
                           second_order: bool = False, **gradcheck_options: Any) -> None:
    """Asserts that autograd's gradients of ``fn`` at ``inputs`` match central differences.

    ``gradcheck_options`` (``eps``, ``atol``, ``rtol``) go to ``mg.gradcheck``; with
    ``second_order=True`` the gradients of the gradients are checked too (``mg.gradgradcheck``).
    Raises ``AssertionError`` carrying gradcheck's diagnostics: which input, which entry, the
    analytical and numerical values, and the primitives in ``fn``'s graph.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this helper's
    checks = (gradcheck, gradgradcheck) if second_order else (gradcheck,)
    for check in checks:
        try:
            check(fn, inputs, **gradcheck_options)
        except GradcheckError as err:
            order = "second" if check is gradgradcheck else "first"
            raise AssertionError(f"{order} derivatives of {_name(fn)} disagree with central differences\n"
                                 f"{err}") from None


def _name(fn: Callable[..., Any]) -> str:
    """``fn``'s qualified name, for the first line of the failure message."""
    return getattr(fn, "__qualname__", None) or repr(fn)
