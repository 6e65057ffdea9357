"""minigrad's pytest plugin, registered through the ``pytest11`` entry point on install.

It gives every test session:

- the ``gradcheck`` fixture: ``gradcheck(fn, inputs, **options)`` checks ``fn``'s gradients
  like ``mg.gradcheck`` and fails the test with its diagnostics (see
  ``assert_gradients_close``); before the test runs it seeds minigrad's generator and numpy's
  global one, so random inputs and weights are the same on every run;
- ``--gradcheck-seed N``: the seed the fixture uses (default 0);
- ``--gradcheck-examples N``: hypothesis's ``max_examples``, through a settings profile named
  "minigrad" that the plugin registers and loads (tests that fix ``max_examples`` in their own
  ``@settings`` keep theirs).

Hypothesis is imported only when ``--gradcheck-examples`` is given, so the plugin costs a
session nothing beyond importing minigrad.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from minigrad.creation import manual_seed
from minigrad.tensor import Tensor
from minigrad.testing.assertions import assert_gradients_close

PROFILE = "minigrad"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("minigrad", "minigrad gradient checks")
    group.addoption("--gradcheck-seed", type=int, default=0, metavar="N",
                    help="seed minigrad's and numpy's random numbers for the gradcheck fixture (default 0)")
    group.addoption("--gradcheck-examples", type=int, default=None, metavar="N",
                    help=f"hypothesis max_examples for tests without their own (loads the '{PROFILE}' profile)")


@pytest.hookimpl(trylast=True)  # after hypothesis's own plugin has loaded any --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    examples = config.getoption("--gradcheck-examples")
    if examples is not None:
        from hypothesis import settings  # only here: a session without the option never imports it

        settings.register_profile(PROFILE, settings.default, max_examples=examples)
        settings.load_profile(PROFILE)


def pytest_report_header(config: pytest.Config) -> str:
    examples = config.getoption("--gradcheck-examples")
    budget = "" if examples is None else f", hypothesis max_examples={examples}"
    return f"minigrad: gradcheck seed={config.getoption('--gradcheck-seed')}{budget}"


@pytest.fixture
def gradcheck(request: pytest.FixtureRequest) -> Callable[..., bool]:
    """``mg.gradcheck`` that fails the test with its diagnostics; random numbers seeded first."""
    seed = request.config.getoption("--gradcheck-seed")
    manual_seed(seed)
    np.random.seed(seed)  # users' tests draw from numpy's global generator too

    def check(fn: Callable[..., Any], inputs: Tensor | Sequence[Tensor], **options: Any) -> bool:
        __tracebackhide__ = True
        assert_gradients_close(fn, inputs, **options)
        return True

    return check
