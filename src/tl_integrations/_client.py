"""The clients, :class:`TwelveLabs` (sync) and :class:`AsyncTwelveLabs` (asyncio).

Both hold one connection pool, the resolved key and base URL, and the policies; every
resource hanging off them runs the same flows through the client's driver (see
:mod:`tl_integrations._flows`). They differ only in that driver.

Example:
    >>> client = TwelveLabs(api_key="tlk_example")
    >>> client
    TwelveLabs(base_url='https://api.twelvelabs.io/v1.3')
    >>> client.close()
"""

from __future__ import annotations

import functools
import os
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx

from ._closing import Closing
from ._engine import EventSource, WaitMany
from ._errors import InvalidRequestError, check_int
from ._flows import AsyncDriver, Context, Flow, SyncDriver
from ._polling import PollPolicy, check_timeout
from ._resources import AsyncWaiting, Waiting
from ._resources.analyze import Analyze, AsyncAnalyze
from ._resources.assets import Assets, AsyncAssets
from ._resources.entities import (
    AsyncEntities,
    AsyncEntityCollections,
    Entities,
    EntityCollections,
)
from ._resources.indexed_assets import (
    AsyncIndexedAssets,
    AsyncIndexing,
    IndexedAssets,
    Indexing,
)
from ._resources.indexes import AsyncIndexes, Indexes
from ._resources.search import AsyncSearch, Search
from ._resources.tasks import AsyncTasks, Tasks
from ._resources.videos import AsyncVideos, Videos
from ._retrying import RetryPolicy

if TYPE_CHECKING:
    from ._resources.embed import AsyncEmbed, Embed
from ._transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    AsyncTransport,
    RequestBudget,
    SyncTransport,
    bound_every_read,
    is_loopback,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "AsyncTwelveLabs",
    "ClientConfig",
    "TwelveLabs",
    "resolve_config",
]

T = TypeVar("T")


class _Runs(Protocol):
    """Runs a flow to its value: the sync driver's ``run``."""

    def __call__(self, flow: Flow[T], /) -> T: ...


class _AsyncRuns(Protocol):
    """Runs a flow to its value, awaited: the async driver's ``run``."""

    def __call__(self, flow: Flow[T], /) -> Coroutine[Any, Any, T]: ...


DEFAULT_BASE_URL = "https://api.twelvelabs.io/v1.3"
DEFAULT_TIMEOUT_S = 600.0
DEFAULT_MAX_RETRIES = 3
_USER_AGENT = "tl-integrations/0.1.0"
# Keys shorter than this are never searched for in text to scrub them (a one-letter key would
# mangle every word containing that letter); they are still never printed.
MIN_SCRUB_KEY_CHARS = 8


@dataclass(frozen=True)
class ClientConfig:
    """The resolved key and base URL (the key is never shown by ``repr``).

    Example:
        >>> ClientConfig(api_key="secret", base_url="https://api.twelvelabs.io/v1.3")
        ClientConfig(base_url='https://api.twelvelabs.io/v1.3')
    """

    api_key: str = field(repr=False)
    base_url: str


def check_api_key(key: str) -> str:
    """A key must be printable ASCII without spaces; the error never shows the key.

    A key with CR, LF or NUL could split headers (and used to be echoed in connection
    errors); a non-ASCII key made httpx raise a bare ``UnicodeEncodeError`` holding it.

    Example:
        >>> check_api_key("tlk_abc")
        'tlk_abc'
        >>> check_api_key("tlk\\nabc")
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: the TwelveLabs API key contains ...
    """
    if not key.isascii() or not key.isprintable() or any(ch.isspace() for ch in key):
        raise InvalidRequestError(
            "the TwelveLabs API key contains characters no key has (spaces, line breaks, "
            "control or non-ASCII characters); copy it again from the dashboard "
            f"({len(key)} characters given, not shown)"
        )
    return key


def resolve_config(
    api_key: str | None,
    base_url: str | None,
    *,
    allow_insecure: bool = False,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Fill the key and base URL from the environment and check they may be used together.

    Raises:
        InvalidRequestError: no key anywhere, a malformed key or base URL, or plain
            ``http://`` to a host that is not loopback without ``allow_insecure=True``.

    Example:
        >>> resolve_config("k", None, env={}).base_url
        'https://api.twelvelabs.io/v1.3'
    """
    environ = os.environ if env is None else env
    key = api_key if api_key is not None else environ.get("TWELVELABS_API_KEY")
    if not isinstance(key, str) or not key.strip():
        raise InvalidRequestError(
            "no TwelveLabs API key: set the TWELVELABS_API_KEY environment variable or pass "
            "TwelveLabs(api_key=...); to work offline, run the local emulator "
            "(`tl-integrations emulator`) and point TWELVELABS_BASE_URL at it"
        )
    base = (base_url or environ.get("TWELVELABS_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    check_transport_security(base, allow_insecure=allow_insecure)
    return ClientConfig(api_key=check_api_key(key.strip()), base_url=base)


def check_transport_security(base_url: str, *, allow_insecure: bool) -> None:
    """Refuse to send the key in clear text to any host that is not this machine.

    Example:
        >>> check_transport_security("http://127.0.0.1:8000/v1.3", allow_insecure=False)
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {base_url!r}"
        )
    if parts.scheme == "http" and not allow_insecure and not is_loopback(parts.hostname):
        raise InvalidRequestError(
            f"refusing to send the API key over plain http to {parts.hostname!r}; use https, "
            "or pass allow_insecure=True if this host is trusted"
        )


def _check_events(events: object) -> EventSource | None:
    if events is None or isinstance(events, EventSource):
        return events
    raise InvalidRequestError(
        "events must be a tl_integrations.WebhookReceiver (or another object with "
        f"subscribe() and latest()), got {type(events).__name__}"
    )


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
SleepT = TypeVar("SleepT")


class _Client(Generic[HttpT, SleepT]):
    """Configuration, construction, ``repr`` and policies: what both clients share.

    The two clients differ in their HTTP client, their sleep function and their driver;
    the constructor is this one, typed by those two (see :class:`TwelveLabs` for the
    arguments).
    """

    _is_async: ClassVar[bool] = False

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout_s: float | None = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: HttpT | None = None,
        allow_insecure: bool = False,
        poll_policy: PollPolicy | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] | None = None,
        sleep: SleepT | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        budget: RequestBudget | None = None,
        events: EventSource | None = None,
    ) -> None:
        self._config = resolve_config(api_key, base_url, allow_insecure=allow_insecure)
        timeout = check_timeout(timeout_s)
        if timeout == 0:
            raise InvalidRequestError("timeout_s must be > 0 seconds (or None for no bound)")
        self._timeout_s = timeout
        if retry_policy is None:
            retry_policy = RetryPolicy(max_retries=check_int("max_retries", max_retries, least=0))
        self._ctx = Context(
            retry=retry_policy,
            poll=poll_policy or PollPolicy(),
            clock=clock or time.monotonic,
            timeout_s=timeout,
            owner=self,
            budget=budget,
            events=_check_events(events),
        )
        transport = {
            "base_url": self._config.base_url,
            "api_key": self._config.api_key,
            "max_response_bytes": check_int("max_response_bytes", max_response_bytes, least=1024),
            "user_agent": _USER_AGENT,
        }
        self._owns_http = http_client is None
        self._http: HttpT = http_client or self._new_http(
            httpx.Timeout(timeout, connect=min(10.0, timeout or 10.0))
        )
        self._start(transport, sleep)

    def _new_http(self, timeout: httpx.Timeout) -> HttpT:
        raise NotImplementedError

    def _start(self, transport: dict[str, Any], sleep: SleepT | None) -> None:
        raise NotImplementedError

    def _twin_options(self) -> dict[str, Any]:
        """Settings a client of the other kind inherits (not the HTTP pool nor sleep)."""
        return {
            "api_key": self._config.api_key,
            "base_url": self._config.base_url,
            "timeout_s": self._timeout_s,
            "allow_insecure": True,  # this base URL already passed the check (or was allowed)
            "poll_policy": self._ctx.poll,
            "retry_policy": self._ctx.retry,
            "clock": self._ctx.clock,
            "budget": self._ctx.budget,
            "events": self._ctx.events,
        }

    @property
    def events(self) -> EventSource | None:
        """Where job events arrive without polling (a webhook receiver), or None.

        Example:
            >>> TwelveLabs(api_key="tlk_example").events is None
            True
        """
        events: EventSource | None = self._ctx.events
        return events

    @property
    def base_url(self) -> str:
        """The API base URL, including the version (``https://api.twelvelabs.io/v1.3``)."""
        return self._config.base_url

    @property
    def poll_policy(self) -> PollPolicy:
        """How this client waits for jobs (read-only; pass ``poll_policy=`` to change it).

        Example:
            >>> TwelveLabs(api_key="tlk_example").poll_policy.initial_interval_s
            1.0
        """
        return self._ctx.poll

    @property
    def retry_policy(self) -> RetryPolicy:
        """How this client retries failed requests (read-only).

        Example:
            >>> TwelveLabs(api_key="tlk_example").retry_policy.max_retries
            3
        """
        return self._ctx.retry

    @property
    def clock(self) -> Callable[[], float]:
        """The monotonic clock this client's waits and deadlines use (seconds).

        Example:
            >>> isinstance(TwelveLabs(api_key="tlk_example").clock(), float)
            True
        """
        return self._ctx.clock

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._config.base_url!r})"


class TwelveLabs(_Client[httpx.Client, Callable[[float], None]], Closing):
    """The TwelveLabs API client (synchronous): one connection pool, retries, polling.

    Args:
        api_key: the API key; falls back to ``TWELVELABS_API_KEY``.
        base_url: the API base including the version; falls back to ``TWELVELABS_BASE_URL``,
            then ``https://api.twelvelabs.io/v1.3``.
        timeout_s: bound on one request attempt as a whole, in seconds, reads and all: a server
            dripping or stalling cannot stretch it (connect is capped at 10 s; for an upload
            the bound starts once the file is sent); None: no bound.
        max_retries: retries of a failed request (ignored when ``retry_policy`` is given).
        http_client: your own ``httpx.Client`` (proxies, ``httpx.MockTransport``); it is not
            closed by :meth:`close`, and its redirect setting is not used (the key never
            follows a redirect to another host). It is not modified either, so on it
            ``timeout_s`` bounds each read and the body, not a server dripping its headers.
        allow_insecure: allow sending the key over plain ``http://`` to a non-loopback host.
        poll_policy / retry_policy: how to wait for jobs and retry requests.
        clock / sleep: monotonic seconds and the sleep function (inject them in tests).
        max_response_bytes: the largest response body read, decoded (default 512 MiB).
        budget: a request budget shared with other clients (for example across a Ray
            cluster); every attempt waits for its go-ahead.
        events: a :class:`~tl_integrations.WebhookReceiver` (or another event source):
            waits then finish jobs from webhook events without requests, and poll only
            every minute as a safety net. The default ``sleep`` is cut short by an event;
            an injected one is not.

    Attributes:
        indexes, tasks (alias ``task``), videos, assets, search, analyze, embed,
            entity_collections (with ``.entities``): the resources.

    Raises:
        InvalidRequestError: no key or a malformed one, or an insecure base URL.

    Example:
        >>> with TwelveLabs(api_key="tlk_...") as client:  # doctest: +SKIP
        ...     index = client.indexes.get_or_create("talks")
        ...     task = client.tasks.create_and_wait(index_id=index.id, file="talk.mp4")
        ...     print(task.video_id)
    """

    _is_async: ClassVar[bool] = False

    def _new_http(self, timeout: httpx.Timeout) -> httpx.Client:
        http = httpx.Client(timeout=timeout)
        # httpx bounds each read; timeout_s bounds the whole answer, headers included.
        bound_every_read(http)
        # Scripts (like the official SDK's examples) often never close the client: release
        # the pool's sockets when the client is collected rather than leak them.
        weakref.finalize(self, http.close)
        return http

    def _start(self, transport: dict[str, Any], sleep: Callable[[float], None] | None) -> None:
        self._driver = SyncDriver(SyncTransport(self._http, **transport), sleep=sleep)
        self._run = self._driver.run
        self._iterate = self._driver.iterate
        self.indexes = Indexes(self)
        self.indexes.indexed_assets = IndexedAssets(self)
        self.index = Indexing(self)
        self.tasks = Tasks(self)
        self.task = self.tasks
        self.videos = Videos(self)
        self.assets = Assets(self)
        self.search = Search(self)
        self.analyze = Analyze(self)
        self.entity_collections = EntityCollections(self)
        self.entity_collections.entities = Entities(self)

    @functools.cached_property
    def embed(self) -> Embed:
        """``client.embed``: embeddings of text, video, audio, images and documents.

        Made on first use: it brings numpy, which a client that never embeds need not load.

        Example:
            >>> client.embed.text("a red car", model_name="marengo3.5").dim  # doctest: +SKIP
            512
        """
        from ._resources.embed import Embed

        return Embed(self)

    # The driver's own methods, bound once: a request costs no call through the client.
    _run: _Runs
    _iterate: Callable[[Flow[Any]], Iterator[Any]]

    def _waiting(self, wait: WaitMany) -> Waiting[Any]:
        return Waiting(self, wait)

    def _sleep(self, seconds: float) -> None:
        self._driver.sleep(seconds)

    def twin(self) -> AsyncTwelveLabs:
        """A new async client with this one's key, base URL, timeout and policies.

        Adapters use it to run a caller's client configuration on the other side of the
        sync/async divide. The twin has its own connection pool and default sleep; close it
        when done.

        Example:
            >>> with TwelveLabs(api_key="tlk_example") as client:
            ...     other = client.twin()
            ...     type(other).__name__, other.base_url == client.base_url
            ('AsyncTwelveLabs', True)
        """
        return AsyncTwelveLabs(**self._twin_options())

    def close(self) -> None:
        """Close the connection pool (not an ``http_client`` you passed in).

        Example:
            >>> client = TwelveLabs(api_key="tlk_example")
            >>> client.close()  # or: with TwelveLabs() as client: ...
        """
        if self._owns_http:
            self._http.close()

    def _close_on_exit(self) -> None:
        self.close()


class AsyncTwelveLabs(_Client[httpx.AsyncClient, Callable[[float], Awaitable[None]]]):
    """The TwelveLabs API client for asyncio: same resources and methods, awaited.

    Arguments as :class:`TwelveLabs`, with an ``httpx.AsyncClient`` and an async ``sleep``.
    ``list``, ``wait_many`` and ``search.query`` are async iterators (``async for``).

    Example:
        >>> async with AsyncTwelveLabs() as client:  # doctest: +SKIP
        ...     index = await client.indexes.get_or_create("talks")
        ...     task = await client.tasks.create_and_wait(index_id=index.id, file="talk.mp4")
    """

    _is_async: ClassVar[bool] = True

    def _new_http(self, timeout: httpx.Timeout) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=timeout)

    def _start(
        self, transport: dict[str, Any], sleep: Callable[[float], Awaitable[None]] | None
    ) -> None:
        self._driver = AsyncDriver(AsyncTransport(self._http, **transport), sleep=sleep)
        self._run = self._driver.run
        self._iterate = self._driver.iterate
        self.indexes = AsyncIndexes(self)
        self.indexes.indexed_assets = AsyncIndexedAssets(self)
        self.index = AsyncIndexing(self)
        self.tasks = AsyncTasks(self)
        self.task = self.tasks
        self.videos = AsyncVideos(self)
        self.assets = AsyncAssets(self)
        self.search = AsyncSearch(self)
        self.analyze = AsyncAnalyze(self)
        self.entity_collections = AsyncEntityCollections(self)
        self.entity_collections.entities = AsyncEntities(self)

    @functools.cached_property
    def embed(self) -> AsyncEmbed:
        """``client.embed``, awaitable (see :attr:`TwelveLabs.embed`).

        Example:
            >>> (await client.embed.text("a red car")).dim  # doctest: +SKIP
            512
        """
        from ._resources.embed import AsyncEmbed

        return AsyncEmbed(self)

    _run: _AsyncRuns
    _iterate: Callable[[Flow[Any]], AsyncIterator[Any]]

    def _waiting(self, wait: WaitMany) -> AsyncWaiting[Any]:
        return AsyncWaiting(self, wait)

    async def _sleep(self, seconds: float) -> None:
        await self._driver.sleep(seconds)

    def twin(self) -> TwelveLabs:
        """A new sync client with this one's key, base URL, timeout and policies.

        Example:
            >>> import asyncio
            >>> async def main() -> str:
            ...     async with AsyncTwelveLabs(api_key="tlk_example") as client:
            ...         with client.twin() as other:
            ...             return type(other).__name__
            >>> asyncio.run(main())
            'TwelveLabs'
        """
        return TwelveLabs(**self._twin_options())

    async def aclose(self) -> None:
        """Close the connection pool (not an ``http_client`` you passed in).

        Example:
            >>> client = AsyncTwelveLabs(api_key="tlk_example")
            >>> await client.aclose()  # doctest: +SKIP
        """
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncTwelveLabs:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
