"""Where the demo runs: the embedded emulator (no key) or the real API (asks first).

Example:
    >>> DEMO_SPEED > 1
    True
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from ..cli._backend import emulator_poll_policy

if TYPE_CHECKING:
    from ..client import TwelveLabs
    from ..emulator import Emulator

__all__ = ["DEMO_SPEED", "DemoBackend", "RequestCounter", "ask_to_spend", "open_backend"]

# Fast enough that the whole demo takes seconds, slow enough that the poller sees the
# indexing statuses change (each stage lasts a few tenths of a second).
DEMO_SPEED = 2.5
_TIMEOUT_S = 120.0


class RequestCounter:
    """Counts the requests an httpx client sends (an event hook), by method.

    Example:
        >>> counter = RequestCounter()
        >>> counter(httpx.Request("GET", "http://x/tasks"))
        >>> counter.total
        1
    """

    def __init__(self) -> None:
        self.by_method: Counter[str] = Counter()

    def __call__(self, request: httpx.Request) -> None:
        self.by_method[request.method] += 1

    @property
    def total(self) -> int:
        """Requests sent so far (retries included)."""
        return sum(self.by_method.values())


@dataclass
class DemoBackend:
    """The client the demo uses, and what it needs to build the adapters' clients.

    Attributes:
        client: a client shared by the loader and the embeddings.
        api_key: the key (the emulator's placeholder when offline); never printed.
        base_url: the API base URL.
        emulator: the embedded emulator, when offline.
        counter: requests sent through ``client``.
    """

    client: TwelveLabs
    api_key: str
    base_url: str
    emulator: Emulator | None
    counter: RequestCounter = field(default_factory=RequestCounter)

    def stats(self) -> dict[str, Any] | None:
        """The emulator's request statistics (None on the real API)."""
        return self.emulator.stats() if self.emulator is not None else None


@contextlib.contextmanager
def open_backend(
    *, api_key: str | None, base_url: str | None, speed: float = DEMO_SPEED
) -> Iterator[DemoBackend]:
    """Start the embedded emulator (no key), or connect to the real API (with a key).

    The emulator keeps its state in a temporary directory: the demo leaves nothing behind.

    Example:
        >>> with open_backend(api_key=None, base_url=None) as backend:  # doctest: +SKIP
        ...     backend.emulator is not None
        True
    """
    if api_key:
        with _client(api_key, base_url, poll=None) as (client, counter):
            yield DemoBackend(client, api_key, client.base_url, None, counter)
        return
    from ..emulator import Emulator, EmulatorConfig

    with Emulator(EmulatorConfig(speed=speed)) as emulator:
        poll = emulator_poll_policy(speed)
        with _client(emulator.api_key, emulator.base_url, poll=poll) as (client, counter):
            yield DemoBackend(client, emulator.api_key, emulator.base_url, emulator, counter)


@contextlib.contextmanager
def _client(
    api_key: str, base_url: str | None, *, poll: Any
) -> Iterator[tuple[TwelveLabs, RequestCounter]]:
    from ..client import TwelveLabs

    counter = RequestCounter()
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [counter]}
    with (
        httpx.Client(timeout=_TIMEOUT_S, event_hooks=hooks) as http,
        TwelveLabs(api_key, base_url=base_url, http_client=http, poll_policy=poll) as client,
    ):
        yield client, counter


def ask_to_spend(base_url: str, *, ask: Callable[[str], str] = input) -> bool | None:
    """Ask before using a real API key; None when nobody can answer (no terminal).

    Example:
        >>> ask_to_spend("https://api.twelvelabs.io/v1.3", ask=lambda prompt: "y")  # doctest: +SKIP
        True
    """
    if not sys.stdin or not sys.stdin.isatty():
        return None
    prompt = (
        f"TWELVELABS_API_KEY is set: the demo will upload, index and embed 3 short videos "
        f"(36 s) on {base_url}, which uses API credits. Continue? [y/N] "
    )
    try:
        answer = ask(prompt)
    except EOFError:
        return None
    return answer.strip().lower() in ("y", "yes")
