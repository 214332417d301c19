"""The asynchronous client, :class:`AsyncTwelveLabs`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from .._http import async_send
from ..polling import PollPolicy
from ..retrying import RetryPolicy
from ._base import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    ClientCore,
    make_timeout,
    retry_mode,
    shape,
)
from ._resources_async import AsyncAnalyze, AsyncIndexes, AsyncSearch, AsyncVideos
from ._tasks_async import AsyncTasks

if TYPE_CHECKING:
    from ..embed.resource import AsyncEmbed
    from ._sync import TwelveLabs

__all__ = ["AsyncTwelveLabs"]


class AsyncTwelveLabs(ClientCore):
    """The TwelveLabs API client for asyncio: the twin of :class:`TwelveLabs`, with ``await``.

    Args:
        api_key: the API key; falls back to ``TWELVELABS_API_KEY``.
        base_url: the API base including the version; falls back to ``TWELVELABS_BASE_URL``,
            then ``https://api.twelvelabs.io/v1.3``.
        timeout_s: per-operation network timeout in seconds (connect is capped at 10 s); not
            applied to an ``http_client`` you pass.
        max_retries: retries of a failed request (ignored when ``retry_policy`` is given).
        http_client: your own ``httpx.AsyncClient`` (for proxies or ``httpx.MockTransport``); it is
            not closed by :meth:`aclose`.
        allow_insecure: allow sending the key over plain ``http://`` to a non-loopback host.
        poll_policy / retry_policy: how to wait for tasks and retry requests.
        clock / sleep: monotonic seconds and the sleep function (inject them in tests).

    Raises:
        InvalidRequestError: no key, or an insecure base URL.

    Example:
        >>> async with AsyncTwelveLabs(api_key="tlk_...") as client:  # doctest: +SKIP
        ...     index = await client.indexes.get_or_create("talks")
        ...     async for task in client.tasks.wait_many(task_ids):
        ...         print(task.id, task.status)
    """

    _is_async: ClassVar[bool] = True

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        allow_insecure: bool = False,
        poll_policy: PollPolicy | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self._init_core(
            api_key,
            base_url=base_url,
            max_retries=max_retries,
            allow_insecure=allow_insecure,
            poll_policy=poll_policy,
            retry_policy=retry_policy,
            clock=clock or time.monotonic,
            timeout_s=timeout_s,
        )
        self._sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=make_timeout(timeout_s))
        self.indexes = AsyncIndexes(self)
        self.tasks = AsyncTasks(self)
        self.task = self.tasks
        self.videos = AsyncVideos(self)
        self.search = AsyncSearch(self)
        self.analyze = AsyncAnalyze(self)
        # Imported here: the embed resource imports this package for its types.
        from ..embed.resource import AsyncEmbed

        self.embed: AsyncEmbed = AsyncEmbed(self)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        retry: str = "auto",
        error_shape: str = "auto",
    ) -> httpx.Response:
        """Send one logical request with retries; return the 2xx response or raise.

        ``path`` is relative to the base URL. ``retry="auto"`` retries idempotent methods,
        and a POST only when it never reached the server or got a 429; ``"always"`` treats
        the request as idempotent; ``"never"`` disables retries. ``files={}`` forces a
        multipart body without files.
        """
        build = self._builder(
            self._http,
            method,
            path,
            params=params,
            json=json,
            data=data,
            files=files,
            retry=retry,
            error_shape=error_shape,
        )
        return await async_send(
            self._http,
            build,
            method=method.upper(),
            path=path,
            files=files,
            retry=retry_mode(retry),
            error_shape=shape(error_shape),
            policy=self._retry_policy,
            sleep=self._sleep,
        )

    def twin(self) -> TwelveLabs:
        """A new sync client with this one's key, base URL, timeout and policies.

        Adapters use it to run a caller's client configuration on the other side of the
        sync/async divide. The twin has its own connection pool and default sleep; close it
        when done.

        Example:
            >>> client = AsyncTwelveLabs(api_key="tlk_example")
            >>> with client.twin() as other:
            ...     type(other).__name__, other.base_url == client.base_url
            ('TwelveLabs', True)
        """
        from ._sync import TwelveLabs

        return TwelveLabs(**self._twin_options())

    async def aclose(self) -> None:
        """Close the connection pool (not an ``http_client`` you passed in)."""
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
