"""The synchronous client, :class:`TwelveLabs`."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from .._http import send
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
from ._resources_sync import Analyze, Indexes, Search, Videos
from ._tasks_sync import Tasks

if TYPE_CHECKING:
    from ..embed.resource import Embed
    from ._async import AsyncTwelveLabs

__all__ = ["TwelveLabs"]


class TwelveLabs(ClientCore):
    """The TwelveLabs API client (synchronous): one connection pool, retries, polling.

    Args:
        api_key: the API key; falls back to ``TWELVELABS_API_KEY``.
        base_url: the API base including the version; falls back to ``TWELVELABS_BASE_URL``,
            then ``https://api.twelvelabs.io/v1.3``.
        timeout_s: per-operation network timeout in seconds (connect is capped at 10 s); not
            applied to an ``http_client`` you pass.
        max_retries: retries of a failed request (ignored when ``retry_policy`` is given).
        http_client: your own ``httpx.Client`` (for proxies or ``httpx.MockTransport``); it is
            not closed by :meth:`close`.
        allow_insecure: allow sending the key over plain ``http://`` to a non-loopback host.
        poll_policy / retry_policy: how to wait for tasks and retry requests.
        clock / sleep: monotonic seconds and the sleep function (inject them in tests).

    Raises:
        InvalidRequestError: no key, or an insecure base URL.

    Example:
        >>> with TwelveLabs(api_key="tlk_...") as client:  # doctest: +SKIP
        ...     index = client.indexes.get_or_create("talks")
        ...     task = client.tasks.create_and_wait(index_id=index.id, file="talk.mp4")
        ...     print(task.video_id)
    """

    _is_async: ClassVar[bool] = False

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        allow_insecure: bool = False,
        poll_policy: PollPolicy | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
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
        self._sleep: Callable[[float], None] = sleep or time.sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=make_timeout(timeout_s))
        if self._owns_http:
            # Scripts (like the official SDK's examples) often never close the client: release
            # the pool's sockets when the client is collected rather than leak them.
            weakref.finalize(self, self._http.close)
        self.indexes = Indexes(self)
        self.tasks = Tasks(self)
        self.task = self.tasks
        self.videos = Videos(self)
        self.search = Search(self)
        self.analyze = Analyze(self)
        # Imported here: the embed resource imports this package for its types.
        from ..embed.resource import Embed

        self.embed: Embed = Embed(self)

    def _request(
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
        return send(
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
        from ._async import AsyncTwelveLabs

        return AsyncTwelveLabs(**self._twin_options())

    def close(self) -> None:
        """Close the connection pool (not an ``http_client`` you passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> TwelveLabs:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
