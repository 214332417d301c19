"""Which API the CLI talks to: the real one (with a key) or the embedded emulator.

Without ``--api-key`` / ``TWELVELABS_API_KEY`` (and without a base URL), commands start the
embedded emulator on a loopback port for the duration of the command. Its state lives in
``--data-dir`` (default ``~/.cache/tl-integrations/emulator``), so ``index`` then ``search``
work across invocations, offline.

Example:
    >>> import argparse
    >>> ns = argparse.Namespace(api_key=None, base_url=None, data_dir=None,
    ...                         emulator_speed=None, debug=False, json=False)
    >>> Settings.from_args(ns, environ={}).uses_emulator
    True
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .._extras import install_hint
from .output import Console

if TYPE_CHECKING:
    from .._client import TwelveLabs
    from .._polling import PollPolicy
    from ..emulator import Emulator

__all__ = [
    "Backend",
    "Settings",
    "UsageError",
    "connect",
    "default_data_dir",
    "emulator_poll_policy",
]

# Stage durations of the emulator are divided by this: statuses still visibly move, but a
# short video is ready in about a second rather than the real API's minutes.
CLI_EMULATOR_SPEED = 4.0


class UsageError(Exception):
    """The command was called wrongly (exit status 2); the message says how to fix it.

    Example:
        >>> str(UsageError("give --index"))
        'give --index'
    """


@dataclass(frozen=True)
class Settings:
    """Global options after the environment is taken into account.

    Attributes:
        api_key: the key from ``--api-key`` or ``TWELVELABS_API_KEY``; None: the emulator.
        base_url: from ``--base-url`` or ``TWELVELABS_BASE_URL``.
        data_dir: ``--data-dir`` when given (the embedded emulator's state).
        emulator_speed: the embedded emulator's speed-up, when given.
        debug: show tracebacks and debug logs.
        json: print JSON for scripts.

    Example:
        >>> ns = argparse.Namespace(api_key="k", base_url=None, data_dir=None,
        ...                         emulator_speed=None, debug=False, json=True)
        >>> Settings.from_args(ns, environ={}).uses_emulator
        False
    """

    api_key: str | None
    base_url: str | None
    data_dir: Path | None
    emulator_speed: float | None
    debug: bool
    json: bool

    @classmethod
    def from_args(
        cls, args: argparse.Namespace, *, environ: Mapping[str, str] | None = None
    ) -> Settings:
        """Merge the parsed flags with ``TWELVELABS_API_KEY`` and ``TWELVELABS_BASE_URL``."""
        env = os.environ if environ is None else environ
        data_dir = getattr(args, "data_dir", None)
        return cls(
            api_key=getattr(args, "api_key", None) or env.get("TWELVELABS_API_KEY") or None,
            base_url=getattr(args, "base_url", None) or env.get("TWELVELABS_BASE_URL") or None,
            data_dir=Path(data_dir).expanduser() if data_dir else None,
            emulator_speed=getattr(args, "emulator_speed", None),
            debug=bool(getattr(args, "debug", False)),
            json=bool(getattr(args, "json", False)),
        )

    @property
    def uses_emulator(self) -> bool:
        """True when no key and no base URL are set: the embedded emulator is used."""
        return not self.api_key and not self.base_url


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the embedded emulator keeps its state between runs.

    Example:
        >>> default_data_dir({"XDG_CACHE_HOME": "/tmp/cache"}).as_posix()
        '/tmp/cache/tl-integrations/emulator'
    """
    env = os.environ if environ is None else environ
    cache = env.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(cache) / "tl-integrations" / "emulator"


@dataclass
class Backend:
    """An open client, and the embedded emulator behind it when there is one.

    Example:
        >>> Backend.__name__
        'Backend'
    """

    client: TwelveLabs
    emulator: Emulator | None


@contextlib.contextmanager
def connect(settings: Settings, console: Console) -> Iterator[Backend]:
    """Open a client on the real API, or start the embedded emulator and point one at it.

    Args:
        settings: the global options.
        console: where the one-line notice about the emulator goes (stderr).

    Raises:
        UsageError: a base URL was given without a key, or the emulator extra is missing.

    Example:
        >>> with connect(settings, console) as backend:  # doctest: +SKIP
        ...     backend.client.indexes.list()
    """
    if settings.uses_emulator:
        from .cache import disk_usage, grown_notice

        state = settings.data_dir or default_data_dir()
        speed = settings.emulator_speed or CLI_EMULATOR_SPEED
        size_before = disk_usage(state)
        try:
            with _embedded(state, speed=speed, console=console) as emulator:
                console.notice(f"No API key set: using the embedded emulator (state in {state}).")
                poll = emulator_poll_policy(speed)
                with _client(emulator.api_key, emulator.base_url, poll=poll) as client:
                    yield Backend(client, emulator)
        finally:
            grown = grown_notice(state, size_before)  # also when the command failed midway
            if grown is not None:
                console.notice(grown)
        return
    if not settings.api_key:
        raise UsageError(
            "--base-url needs an API key: set TWELVELABS_API_KEY or pass --api-key "
            "(an emulator accepts any non-empty key)"
        )
    with _client(settings.api_key, settings.base_url) as client:
        yield Backend(client, None)


@contextlib.contextmanager
def _embedded(data_dir: Path, *, speed: float, console: Console) -> Iterator[Emulator]:
    """Start the embedded emulator on ``data_dir``; while another command (or an emulator
    server) uses that directory, wait for it: one emulator per directory, so that two
    commands at once never write over each other's state."""
    try:
        from ..emulator import DataDirInUse, Emulator, EmulatorConfig
    except ImportError as exc:
        raise UsageError(
            f"no API key is set and the embedded emulator needs its extra ({exc.name} is "
            f"missing): {install_hint('emulator')}; or set TWELVELABS_API_KEY"
        ) from exc
    config = EmulatorConfig(speed=speed, data_dir=data_dir)
    while True:
        try:
            emulator = Emulator(config=config).start()
            break
        except DataDirInUse as busy:
            console.notice(f"Waiting: {busy} (Ctrl-C to give up).")
            busy.wait()
    try:
        yield emulator
    finally:
        emulator.stop()


def emulator_poll_policy(speed: float) -> PollPolicy:
    """The default poll policy with its intervals divided by the emulator's ``speed``.

    The emulator's tasks run ``speed`` times faster than real ones, so polling at the real
    API's pace would mostly wait for nothing (and see no status but the first and last).

    Example:
        >>> emulator_poll_policy(4.0).initial_interval_s
        0.25
    """
    from .._polling import PollPolicy

    # A slowed-down emulator (or a speed that is not a number) is polled like the real API.
    return PollPolicy().faster(max(1.0, speed))


@contextlib.contextmanager
def _client(
    api_key: str, base_url: str | None, *, poll: PollPolicy | None = None
) -> Iterator[TwelveLabs]:
    from .._client import TwelveLabs

    with TwelveLabs(api_key, base_url=base_url, poll_policy=poll) as client:
        yield client
