"""The emulator as the benchmarks need it: its own process, a virtual clock both sides share.

The emulator runs in a child process so that neither client competes with it for the GIL of
the process being measured (100 SDK polling threads and a Python server in one process would
measure the GIL, not the clients). Its clock is a :class:`SharedClock`: virtual seconds since
the epoch kept in shared memory, running ``speed`` times faster than the wall clock. The
benchmark can pause it (while tasks are being created, so every task starts at the same
virtual moment), resume it, and set it back (to replay the same server-side schedule for the
next client). Clients sleep ``virtual_s / speed`` wall seconds, so every interval and every
lag is expressed in emulator seconds.

Example:
    >>> # with EmulatorProcess(speed=10.0, config={"seed": 1}) as emu:
    >>> #     emu.clock.resume(); ...; emu.request_counts()
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import multiprocessing.sharedctypes
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import httpx

_CTX = mp.get_context("spawn")
EPOCH_START_S = 1_750_000_000.0
"""Where the virtual clock starts (a fixed, recent-looking epoch second)."""


class SharedClock:
    """Virtual epoch seconds shared between processes; pausable, resettable, ``speed``x fast.

    Example:
        >>> clock = SharedClock(speed=10.0, paused=True)
        >>> clock() == EPOCH_START_S
        True
        >>> clock.set(EPOCH_START_S + 5)
        >>> clock()
        1750000005.0
    """

    # layout of the shared array: wall anchor, virtual base, speed, paused flag
    def __init__(
        self, *, speed: float, start_s: float = EPOCH_START_S, paused: bool = False
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = float(speed)
        flag = 1.0 if paused else 0.0
        self._arr: Any = _CTX.Array("d", [time.time(), float(start_s), self.speed, flag])

    def __call__(self) -> float:
        """The current virtual time (epoch seconds)."""
        with self._arr.get_lock():
            anchor, base, speed, paused = self._arr[:]
        return float(base if paused else base + speed * (time.time() - anchor))

    def pause(self) -> float:
        """Freeze the clock at its current value and return it."""
        with self._arr.get_lock():
            now = self._now_locked()
            self._arr[1], self._arr[3] = now, 1.0
        return now

    def resume(self) -> None:
        """Let the clock run again from its current value."""
        with self._arr.get_lock():
            self._arr[0], self._arr[3] = time.time(), 0.0

    def set(self, virtual_s: float) -> None:
        """Jump to ``virtual_s`` (forwards or back); keeps the paused/running state."""
        with self._arr.get_lock():
            self._arr[0], self._arr[1] = time.time(), float(virtual_s)

    def sleep(self, virtual_s: float) -> None:
        """Sleep ``virtual_s`` emulator seconds (``virtual_s / speed`` of wall time)."""
        if virtual_s > 0:
            time.sleep(virtual_s / self.speed)

    def _now_locked(self) -> float:
        anchor, base, speed, paused = self._arr[:]
        return float(base if paused else base + speed * (time.time() - anchor))


@dataclass(frozen=True)
class EmulatorInfo:
    """Where the child emulator listens."""

    base_url: str
    api_key: str


def _serve(conn: Connection, config: Mapping[str, Any], clock: SharedClock | None) -> None:
    """Child process body: start the emulator, report its address, serve until told to stop."""
    from tl_integrations.emulator import Emulator, EmulatorConfig
    from tl_integrations.emulator._config import RateLimits

    kwargs = dict(config)
    if clock is not None:
        kwargs["clock"] = clock
    if isinstance(kwargs.get("rate_limits"), Mapping):
        kwargs["rate_limits"] = RateLimits(**kwargs["rate_limits"])
    if isinstance(kwargs.get("stages"), Mapping):
        kwargs["stages"] = _stage_model(kwargs["stages"])
    if isinstance(kwargs.get("media"), Mapping):
        from tl_integrations.emulator._config import MediaLimits

        kwargs["media"] = MediaLimits(**kwargs["media"])
    try:
        with Emulator(config=EmulatorConfig(**kwargs)) as emu:
            conn.send(("ok", emu.base_url, emu.api_key))
            conn.recv()  # any message (or EOF) stops the server
    except EOFError:
        pass
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}", ""))


def _stage_model(spec: Mapping[str, Any]) -> Any:
    """Build a StageModel from ``{"indexing": (base_s, per_video_s), "jitter": 0.0}``."""
    from tl_integrations.emulator._config import Stage, StageModel

    kwargs: dict[str, Any] = {}
    for key, value in spec.items():
        kwargs[key] = value if key == "jitter" else Stage(*value)
    return StageModel(**kwargs)


class EmulatorProcess:
    """Run the emulator in a child process; a context manager.

    Args:
        speed: emulator seconds per wall second; with ``virtual_clock`` the child emulator
            gets a :class:`SharedClock` (and ``speed=1``, since the clock is already fast),
            otherwise the emulator's own ``speed`` setting.
        config: keyword arguments of ``EmulatorConfig`` (``stages``, ``rate_limits`` and
            ``media`` may be plain dicts; see :func:`_stage_model`).
        virtual_clock: share a pausable clock with this process (``.clock``); it runs from
            the start, like the emulator's own clock, until the caller pauses it.

    Example:
        >>> # with EmulatorProcess(speed=20) as emu: httpx.get(emu.base_url + "/indexes", ...)
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        config: Mapping[str, Any] | None = None,
        virtual_clock: bool = True,
        start_timeout_s: float = 60.0,
    ) -> None:
        self.speed = speed
        self.clock = SharedClock(speed=speed) if virtual_clock else None
        cfg = dict(config or {})
        cfg["speed"] = 1.0 if virtual_clock else speed
        self._config = cfg
        self._start_timeout_s = start_timeout_s
        self._conn: Connection | None = None
        self._proc: Any = None
        self.info: EmulatorInfo | None = None

    @property
    def base_url(self) -> str:
        """The API base URL (ends in ``/v1.3``)."""
        assert self.info is not None, "emulator not started"
        return self.info.base_url

    @property
    def api_key(self) -> str:
        """The key to send (any non-empty key unless the config fixed one)."""
        assert self.info is not None, "emulator not started"
        return self.info.api_key or "bench-key"

    @property
    def root_url(self) -> str:
        """Server root, where ``/_emulator/*`` control endpoints live."""
        return self.base_url.rsplit("/v1", 1)[0]

    def __enter__(self) -> EmulatorProcess:
        parent, child = _CTX.Pipe()
        self._proc = _CTX.Process(target=_serve, args=(child, self._config, self.clock))
        self._proc.daemon = True
        self._proc.start()
        self._conn = parent
        deadline = time.monotonic() + self._start_timeout_s
        while not parent.poll(0.05):
            if not self._proc.is_alive() or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("the emulator process did not start (see its stderr)")
        state, url, key = parent.recv()
        if state != "ok":
            self.__exit__()
            raise RuntimeError(f"the emulator process failed to start: {url}")
        self.info = EmulatorInfo(base_url=url, api_key=key)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self._conn.send("stop")
        if self._proc is not None:
            self._proc.join(timeout=10)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(timeout=5)

    # --- control endpoints -----------------------------------------------------------------

    @property
    def pid(self) -> int:
        """The emulator process's id (to read its memory from ``/proc``)."""
        assert self._proc is not None, "emulator not started"
        return int(self._proc.pid)

    def headers(self) -> dict[str, str]:
        """Headers for direct API calls."""
        return {"x-api-key": self.api_key}

    def stats(self) -> dict[str, Any]:
        """``GET /_emulator/stats`` as a dict."""
        resp = httpx.get(f"{self.root_url}/_emulator/stats", headers=self.headers(), timeout=30)
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    def request_counts(self) -> dict[str, int]:
        """API request counts keyed ``"METHOD /route"`` (control endpoints excluded)."""
        return route_counts(self.stats())


def route_counts(stats: Mapping[str, Any]) -> dict[str, int]:
    """Extract ``{"GET /tasks/{id}": n, ...}`` from the emulator's stats document.

    Accepts the shapes ``{"requests": {"GET /v1.3/tasks": n}}`` and
    ``{"requests": {"GET": {"/tasks": n}}}``; the version prefix is dropped, and so are
    control routes (``/_emulator``).

    Example:
        >>> route_counts({"requests": {"GET /v1.3/tasks": 3, "POST /_emulator/reset": 1}})
        {'GET /tasks': 3}
    """
    raw = stats.get("requests", stats.get("by_route", {}))
    out: dict[str, int] = {}
    for key, value in raw.items():
        if isinstance(value, Mapping):
            for route, n in value.items():
                out[f"{key} {route}"] = int(n)
        elif isinstance(value, (int, float)):
            out[str(key)] = int(value)
    return {re.sub(r" /v\d+(\.\d+)?/", " /", k): v for k, v in out.items() if "/_emulator" not in k}


def count_delta(
    before: Mapping[str, int], after: Mapping[str, int], *, keep: Callable[[str], bool]
) -> int:
    """Requests made between two :func:`route_counts` snapshots, on the routes ``keep`` picks.

    Example:
        >>> count_delta({"GET /tasks": 1}, {"GET /tasks": 4, "POST /tasks": 2},
        ...             keep=lambda r: r.startswith("GET"))
        3
    """
    return sum(n - before.get(route, 0) for route, n in after.items() if keep(route))
