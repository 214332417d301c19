"""Fixtures for every test directory (shared helpers live in ``testkit.py``, next to this).

Being the top-level conftest, this also puts ``tests/`` on ``sys.path`` (pytest's default
``prepend`` import mode), which is how test modules anywhere import ``testkit``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

from testkit import start_emulator
from tl_integrations.emulator import Emulator


@pytest.fixture
def emulator_for(request: pytest.FixtureRequest) -> Callable[..., Emulator]:
    """Start emulators for this test: ``emulator_for(clock=ManualClock(), seed=3)`` takes what
    ``Emulator(...)`` takes and returns a running emulator, stopped when the test ends."""
    return functools.partial(start_emulator, request)
