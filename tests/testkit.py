"""Test support shared by every test directory: the one fake client clock, and the one way
to run an emulator for a test (:func:`start_emulator`; tests use the ``emulator_for``
fixture of ``tests/conftest.py``, fixtures of wider scope call it with their ``request``).

``tests/conftest.py`` (the top-level conftest, loaded before any test) puts ``tests/`` on
``sys.path`` under pytest's default ``prepend`` import mode, so any test module, packaged
(``tests/core``) or not (``tests/embed``), imports this as ``from testkit import FakeClock``.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock, make_sample_image


class FakeClock:
    """The client's clock and sleeps, for tests: sleeping moves time instead of waiting.

    Every sleep is recorded in ``sleeps`` and then runs the ``on_sleep`` hooks (a test's way
    to change the world while the client sleeps). Alone, the clock holds its own time
    (``now`` may be set). Given an emulator's :class:`ManualClock` as ``server``, it reads
    and moves that clock instead: the client's sleeps move the server's time, so waits,
    ``Retry-After`` and polling cost no wall time. Given the running :class:`Emulator` as
    ``emulator``, it moves time with :meth:`Emulator.advance`, which also sends the webhook
    events that fall due. Sleeps are thread-safe: concurrent sleepers move the clock one
    after the other.

    Pass the clock itself as ``clock=``, ``sleep`` as ``sleep=`` and ``async_sleep`` as the
    async client's ``sleep=``.

    Example:
        >>> clock = FakeClock(5.0)
        >>> clock.sleep(2.0); clock(), clock.sleeps
        (7.0, [2.0])
        >>> server = ManualClock(start_s=0.0)
        >>> FakeClock(server=server).sleep(3.0); server()
        3.0
    """

    def __init__(
        self,
        start: float = 0.0,
        *,
        server: ManualClock | None = None,
        emulator: Emulator | None = None,
    ) -> None:
        if emulator is not None:
            assert emulator.clock is not None, "the emulator must run on a ManualClock"
            server = emulator.clock
        self.server = server
        self._advance = emulator.advance if emulator is not None else None
        self._now = start
        self.sleeps: list[float] = []
        self.on_sleep: list[Callable[[], object]] = []
        self._lock = threading.Lock()

    @property
    def now(self) -> float:
        """The current time: the server's, when there is one."""
        return self.server() if self.server is not None else self._now

    @now.setter
    def now(self, value: float) -> None:
        if self.server is not None:
            raise AttributeError("a clock on an emulator's ManualClock moves only by sleeping")
        self._now = value

    def __call__(self) -> float:
        return self.now

    @property
    def slept_s(self) -> float:
        """All the time slept so far."""
        return sum(self.sleeps)

    def sleep(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward, then run the ``on_sleep`` hooks."""
        assert seconds >= 0, seconds
        with self._lock:
            self.sleeps.append(seconds)
            if self._advance is not None:
                self._advance(seconds)
            elif self.server is not None:
                self.server.advance(seconds)
            else:
                self._now += seconds
        for action in self.on_sleep:
            action()

    async def async_sleep(self, seconds: float) -> None:
        """The async client's sleep; yields to the loop once so that other tasks run."""
        self.sleep(seconds)
        await asyncio.sleep(0)


def start_emulator(
    request: pytest.FixtureRequest, config: EmulatorConfig | None = None, **overrides: Any
) -> Emulator:
    """Start an :class:`Emulator` that stops when the requesting fixture (or test) ends.

    ``config`` and ``overrides`` are those of ``Emulator(...)``; pass ``clock=ManualClock()``
    for an emulator whose time moves only when moved. A fixture of any scope passes its own
    ``request``, so the emulator lives exactly as long as that fixture::

        @pytest.fixture(scope="module")
        def server(request: pytest.FixtureRequest) -> Emulator:
            return start_emulator(request, clock=ManualClock(), seed=2)
    """
    emulator = Emulator(config, **overrides).start()
    request.addfinalizer(emulator.stop)
    return emulator


def png_bytes(rgb: tuple[int, int, int], *, width: int, height: int) -> bytes:
    """The bytes of a ``width`` x ``height`` PNG of one colour (made with the public
    :func:`make_sample_image`).

    Example:
        >>> png_bytes((200, 30, 30), width=2, height=2)[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    with tempfile.TemporaryDirectory() as folder:
        return make_sample_image(Path(folder) / "one.png", [rgb], size=(width, height)).read_bytes()
