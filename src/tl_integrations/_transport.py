"""Sending requests: one request description, one attempt, and the retrying send flow.

A :class:`Request` says what to send, once, and goes to the transport as it is. The only
I/O is :meth:`SyncTransport.attempt` / :meth:`AsyncTransport.attempt`: build the httpx request
(opening upload files for this attempt, so a retry starts again at byte 0), send it, read the
body within the attempt's time bound and the size cap, and return a :class:`Reply`. Everything
else is pure: :func:`send` is the flow that retries (see :mod:`tl_integrations._retrying`) and
maps error replies to the typed exceptions.

Guarantees:

- ``timeout_s`` bounds a whole attempt (connecting, the server's answer, reading the body), not
  each read: a server dripping a byte at a time, or stalling, cannot hold a request for
  longer. For an upload the bound starts once the last byte is sent, since sending gigabytes
  legitimately takes long. (The sync client bounds the headers too on the connection pool it
  builds itself; httpx gives no hook for that on a pool you pass in, where each read is still
  bounded, and the body as a whole.)
- Bodies over ``max_response_bytes`` (decoded size, so a gzip bomb counts as what it inflates
  to) are refused before they fill memory, and so is a body that inflates more than
  :data:`MAX_COMPRESSION_RATIO` times: a 1 MB bomb is stopped after a few MB, not at the cap.
- The key goes only to the origin it was given for: redirects are followed here, never by
  httpx, and a redirect to another origin drops ``x-api-key``.

Form bodies: ``form`` is sent as multipart/form-data whenever ``files`` is given, even an
empty mapping (``/tasks``, ``/search``, ``/embed/tasks`` and ``/assets`` accept only
multipart).

Example:
    >>> reply = Reply(400, httpx.Headers(), b'{"code": "parameter_invalid", "message": "bad"}',
    ...               method="GET", path="/tasks/x")
    >>> err = error_from_reply(reply)
    >>> type(err).__name__, err.code
    ('BadRequestError', 'parameter_invalid')
    >>> str(err)
    'GET /tasks/x failed with 400 parameter_invalid: bad'
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import io
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote, urljoin, urlsplit

import httpx
import orjson

from ._errors import (
    APIConnectionError,
    APIStatusError,
    InvalidRequestError,
    MalformedResponseError,
    RateLimitError,
    ServerError,
    TwelveLabsError,
    error_type,
)
from ._flows import Attempt, Call, Context, Flow, Sleep
from ._retrying import IDEMPOTENT_METHODS, Outcome, server_delay_s
from ._uploads import FileSlice, UploadSource

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "MAX_COMPRESSION_RATIO",
    "AsyncTransport",
    "AttemptBound",
    "Reply",
    "Request",
    "RequestBudget",
    "RetryMode",
    "SyncTransport",
    "bound_every_read",
    "error_from_reply",
    "is_loopback",
    "path_segment",
    "send",
    "server_now",
]

logger = logging.getLogger("tl_integrations")

RetryMode = Literal["auto", "always", "never"]
"""``"auto"``: retry idempotent methods, and a POST only when it never reached the server or
got a 429; ``"always"``: the request is safe to repeat (a search, an idempotency key);
``"never"``: one attempt."""

DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024 * 1024
"""Largest response body read (decoded): far above any embedding task's, far below RAM."""
MAX_COMPRESSION_RATIO = 200
"""A compressed body may inflate this many times (JSON compresses 3-20x); more is a bomb."""
_RATIO_FLOOR_BYTES = 16 * 1024 * 1024  # below this, any ratio is harmless

_CONNECT_TIMEOUT_S = 10.0
_MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# httpx raises these before a single byte of the request left this machine.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


H = TypeVar("H", httpx.Client, httpx.AsyncClient)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def path_segment(value: object, name: str) -> str:
    """An id made safe for one URL path segment; ``name`` is the argument it came from.

    Ids are refused when empty, when they are ``.`` or ``..`` (a path walk: ``".."`` would
    turn a video's path into its index's), or when they hold control characters.

    Example:
        >>> path_segment("6650a1b2c3d4e5f601234567", "video_id")
        '6650a1b2c3d4e5f601234567'
        >>> path_segment("..", "video_id")
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: video_id must be an id, got '..'
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{name} must be a non-empty string, got {value!r}")
    if value.strip() in (".", "..") or _CONTROL.search(value):
        raise InvalidRequestError(f"{name} must be an id, got {value!r}")
    return quote(value, safe="")


@dataclass(frozen=True)
class Request:
    """One request to make, described once.

    Attributes:
        method: the HTTP method.
        path: relative to the base URL (``/tasks/t1``), or a whole URL when ``presigned``.
        params: query parameters; None values are dropped, lists repeat the key, booleans
            are ``true``/``false``.
        json: a JSON body.
        form: form fields (multipart when ``files`` is not None, else urlencoded).
        files: upload parts, a mapping or (name, source) pairs when a name repeats (up to
            ten ``query_media_file`` images); ``{}`` forces multipart without a file.
        body: a byte range of a local file sent as the raw body (multipart chunk PUTs).
        headers: extra headers (``Idempotency-Key``, a presigned URL's ``upload_headers``).
        retry: which failures may be retried (see :data:`RetryMode`).
        presigned: ``path`` is a storage URL: no API key and no base URL.
        stream: the answer is a stream of lines, read as it comes (a 2xx reply then holds
            a line reader in ``Reply.lines`` instead of a body).

    Example:
        >>> Request("GET", "/tasks", params={"page": 1}).page(3).params
        {'page': 3}
    """

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    form: Mapping[str, Any] | None = None
    files: Mapping[str, UploadSource] | Sequence[tuple[str, UploadSource]] | None = None
    body: FileSlice | None = None
    headers: Mapping[str, str] | None = None
    retry: RetryMode = "auto"
    presigned: bool = False
    stream: bool = False

    def page(self, number: int) -> Request:
        """The same list request for page ``number`` (1-based)."""
        return replace(self, params={**(self.params or {}), "page": number})

    @property
    def idempotent(self) -> bool:
        """Whether a failure after the request was sent may be retried."""
        return self.retry == "always" or self.method.upper() in IDEMPOTENT_METHODS

    @property
    def resendable(self) -> bool:
        """False when an upload is a non-seekable stream, which can be sent only once."""
        return not self.files or all(source.rewindable for _, source in self.parts)

    @property
    def parts(self) -> list[tuple[str, UploadSource]]:
        """The upload parts as (name, source) pairs; a name may repeat."""
        files = self.files or ()
        return list(files.items() if isinstance(files, Mapping) else files)

    @property
    def uploads(self) -> bool:
        """Whether the request carries a file's bytes."""
        return bool(self.files) or self.body is not None

    @property
    def label(self) -> str:
        """``METHOD path`` for messages: never the headers (presigned upload headers may carry
        credentials) nor a presigned URL's query (its signature)."""
        return f"{self.method.upper()} {_shown_path(self)}"

    def __repr__(self) -> str:
        return f"Request({self.label})"


@dataclass(frozen=True)
class Reply:
    """The server's answer to one attempt, body read in full (within the cap).

    Example:
        >>> Reply(200, httpx.Headers(), b'{"_id": "t1"}', method="GET", path="/tasks/t1").json()
        {'_id': 't1'}
    """

    status_code: int
    headers: httpx.Headers
    content: bytes
    method: str = "GET"
    path: str = ""
    reason_phrase: str = field(default="", compare=False)
    lines: Any = field(default=None, compare=False, repr=False)

    @property
    def is_success(self) -> bool:
        """True for 2xx."""
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        """The decoded JSON body (None when empty).

        Raises:
            MalformedResponseError: the body is not JSON.
        """
        if not self.content:
            return None
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError:
            raise MalformedResponseError(
                f"{self.method} {self.path} returned {self.status_code} with a body that is "
                f"not JSON ({len(self.content)} bytes)",
                body=body_text(self)[:2000],
            ) from None

    def text(self) -> str:
        """The body as text (undecodable bytes replaced)."""
        return body_text(self)


# --- building ---------------------------------------------------------------------------


class _ForceMultipart(dict[str, Any]):
    """An empty files mapping that is truthy, so httpx encodes the form as multipart."""

    def __bool__(self) -> bool:
        return True


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def encode_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Query parameters as httpx wants them: no None, repeated lists, ``true``/``false``.

    Example:
        >>> encode_params({"status": ["ready", "failed"], "x": None, "b": True})
        {'status': ['ready', 'failed'], 'b': 'true'}
    """
    if params is None:
        return None
    cleaned: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            cleaned[key] = [_scalar(item) for item in value]
        else:
            cleaned[key] = _scalar(value)
    return cleaned


def _form(data: Mapping[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            form[key] = [str(_scalar(item)) for item in value]
        else:
            form[key] = str(_scalar(value))
    return form


@contextlib.contextmanager
def _opened(request: Request) -> Iterator[Any]:
    """Open every upload file of ``request`` for one attempt; close them afterwards."""
    if request.files is None:
        yield None
        return
    if not request.files:
        yield _ForceMultipart()
        return
    with contextlib.ExitStack() as stack:
        yield [(name, stack.enter_context(src.opened())) for name, src in request.parts]


_NO_FILES = contextlib.nullcontext()  # what _opened gives a request without files, sooner


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


class Transport(Generic[H]):
    """What both transports share: the httpx client, the base URL, the key, and building
    httpx requests.

    Args:
        http: the ``httpx.Client`` (or ``httpx.AsyncClient``) that sends.
        base_url: the API base including the version.
        api_key: sent as ``x-api-key`` to ``base_url``'s origin only.
        max_response_bytes: the largest body read (decoded bytes).
        user_agent: the ``User-Agent`` header.
    """

    def __init__(
        self,
        http: H,
        *,
        base_url: str,
        api_key: str,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        user_agent: str = "tl-integrations",
    ) -> None:
        self.http: H = http
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.max_response_bytes = max_response_bytes
        self._user_agent = user_agent
        self._origin = httpx.URL(self.base_url)
        self._origin_key = (self._origin.scheme, self._origin.host, self._origin.port)

    def url(self, request: Request) -> str:
        """The absolute URL of ``request`` (paths are concatenated, never ``urljoin``-ed)."""
        if request.presigned:
            return request.path
        path = request.path if request.path.startswith("/") else "/" + request.path
        return self.base_url + path

    def build(
        self,
        request: Request,
        url: httpx.URL | None,
        files: Any,
        bound: AttemptBound,
        body: Any,
    ) -> httpx.Request:
        """The httpx request of one attempt (an upload tells ``bound`` when it is sent), to
        ``url`` (None: the request's own, as :meth:`url` gives it; a redirect gives another).

        The API key goes only to the API's own origin (never to a presigned URL, nor to
        another host a redirect leads to).
        """
        if url is None:  # self.url(request), inline: every request comes here
            path = request.path
            if not request.presigned:
                path = self.base_url + (path if path.startswith("/") else "/" + path)
            url = httpx.URL(path)
        headers = {"Accept": "application/json", "User-Agent": self._user_agent}
        # The origin compared inline (not with _same_origin): this runs for every request.
        if not request.presigned and (url.scheme, url.host, url.port) == self._origin_key:
            headers["x-api-key"] = self._api_key
        if request.json is not None:
            headers["Content-Type"] = "application/json"
        if request.body is not None:
            headers["Content-Length"] = str(request.body.length)
            headers["Content-Type"] = "application/octet-stream"
        headers.update(request.headers or {})
        timeout_s = bound.timeout_s
        content: Any = orjson.dumps(request.json) if request.json is not None else body
        form = _form(request.form) if request.form is not None else None
        timeout = (
            httpx.Timeout(None, connect=_CONNECT_TIMEOUT_S)
            if timeout_s is None
            else httpx.Timeout(timeout_s, connect=min(_CONNECT_TIMEOUT_S, timeout_s))
        )
        built: httpx.Request = self.http.build_request(
            request.method,
            url,
            params=encode_params(request.params) if request.params else None,
            content=content,
            data=form,
            files=files,
            headers=headers,
            timeout=timeout,
        )
        if bound.upload:
            asynchronous = isinstance(self.http, httpx.AsyncClient)
            built.extensions["trace"] = bound.aon_trace if asynchronous else bound.on_trace
        return built

    def redirect(
        self, request: Request, reply: Reply, url: httpx.URL
    ) -> tuple[Request, httpx.URL] | None:
        """Where to go next after a redirect status from ``url`` (None: return the 3xx as it
        is). The caller checks the status first: most replies are not redirects.

        A request carrying a file is not redirected (its bytes would be sent twice). Another
        origin is followed without the key, and only over https or to this machine.
        """
        location = reply.headers.get("location")
        if not location or request.uploads:
            return None
        target = httpx.URL(urljoin(str(url), location))
        if not _same_origin(target, self._origin) and not _safe_elsewhere(target):
            return None
        method = "GET" if reply.status_code == 303 else request.method
        # The target URL carries its own query; the key follows only to the same origin.
        return replace(request, method=method, params=None), target

    def streaming(self, response: httpx.Response, request: Request, lines: Any) -> Reply:
        """A 2xx reply whose body is read line by line, later, through ``lines``."""
        return Reply(
            response.status_code,
            response.headers,
            b"",
            method=request.method.upper(),
            path=_shown_path(request),
            reason_phrase=response.reason_phrase,
            lines=lines,
        )

    def too_large(self, request: Request, size: int) -> MalformedResponseError:
        """The error for a body over the cap."""
        return MalformedResponseError(
            f"{request.method} {_shown_path(request)}: the response body is over "
            f"{self.max_response_bytes} bytes ({size}+); refusing to read it (raise "
            "max_response_bytes if this server really sends such bodies)"
        )


def _safe_elsewhere(url: httpx.URL) -> bool:
    return url.scheme == "https" or is_loopback(url.host)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1).

    Example:
        >>> is_loopback("localhost"), is_loopback("10.0.0.1")
        (True, False)
    """
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _shown_path(request: Request) -> str:
    if request.presigned:
        return urlsplit(request.path)._replace(query="").geturl()
    return request.path


class AttemptBound:
    """When one attempt must be over: ``timeout_s`` after it starts, or, for an upload, after
    its last byte is sent (sending gigabytes legitimately takes long).

    The transport checks it as the body arrives; the sync client's own connections also end
    every read by it (:func:`bound_every_read`), and the async transport cancels at it, so a
    server dripping its headers a byte at a time is cut off too.

    Example:
        >>> bound = AttemptBound(5.0, upload=True)
        >>> bound.left_s() is None  # an upload is unbounded while it is being sent
        True
        >>> bound.on_trace("http11.receive_response_headers.started", {})
        >>> 0 < bound.left_s() <= 5.0
        True
    """

    def __init__(self, timeout_s: float | None, *, upload: bool) -> None:
        self.timeout_s = timeout_s
        self.upload = upload
        self.on_start: Callable[[float], object] | None = None
        # start() inline: nothing listens yet, and every request makes a bound.
        self.ends: float | None = (
            None if upload or timeout_s is None else time.monotonic() + timeout_s
        )

    def start(self) -> None:
        """Start the clock (at once, or for an upload once it is sent)."""
        if self.timeout_s is not None and self.ends is None:
            self.ends = time.monotonic() + self.timeout_s
            if self.on_start is not None:
                self.on_start(self.timeout_s)

    def on_trace(self, name: str, info: Any) -> None:
        """httpcore's ``trace`` hook: an upload's bound starts when the answer is awaited."""
        if name.endswith("receive_response_headers.started"):
            self.start()

    async def aon_trace(self, name: str, info: Any) -> None:
        """:meth:`on_trace` for an async client (httpcore awaits the hook there)."""
        self.on_trace(name, info)

    def left_s(self) -> float | None:
        """Seconds left (None: unbounded, or not started)."""
        return None if self.ends is None else self.ends - time.monotonic()

    def timeout(self, request: httpx.Request) -> httpx.ReadTimeout:
        """The error of an attempt over its bound."""
        return httpx.ReadTimeout(
            f"the answer took longer than {self.timeout_s:.1f} s to arrive", request=request
        )


# The bound of the attempt this thread (or task) is making; read by bounded connections.
_BOUND: contextvars.ContextVar[AttemptBound | None] = contextvars.ContextVar(
    "tl_attempt_bound", default=None
)


def _bounded(timeout: float | None, phase: str) -> float | None:
    """A read, write or connect timeout clipped to the current attempt's bound."""
    bound = _BOUND.get()
    left = None if bound is None else bound.left_s()
    if left is None:
        return timeout
    if left <= 0:
        import httpcore  # already loaded: it is what calls us

        error = {"connect": httpcore.ConnectTimeout, "write": httpcore.WriteTimeout}
        raise error.get(phase, httpcore.ReadTimeout)("the attempt is over its time bound")
    return left if timeout is None else min(timeout, left)


class _BoundedStream:
    """A connection's network stream whose every read and write ends by the attempt's bound
    (httpx bounds each read only, so a server dripping bytes could hold a request forever)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._inner.read(max_bytes, _bounded(timeout, "read"))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, "write"))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> _BoundedStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, "connect"))
        return _BoundedStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend:
    """httpcore's network backend, handing out :class:`_BoundedStream` connections."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> Any:
        timeout = _bounded(timeout, "connect")
        return _BoundedStream(
            self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> Any:
        timeout = _bounded(timeout, "connect")
        return _BoundedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bound_every_read(http: httpx.Client) -> bool:
    """Make the connections of a client this library built end every read by the bound of
    the attempt it serves (headers included); False when httpx's insides are not as known.

    Only for clients we create: a caller's client is never modified (its reads are bounded
    one by one, and the body as a whole, by :class:`SyncTransport`).

    Example:
        >>> bound_every_read(httpx.Client())
        True
    """
    transports = [getattr(http, "_transport", None), *getattr(http, "_mounts", {}).values()]
    pools = [getattr(transport, "_pool", None) for transport in transports]
    pools = [pool for pool in pools if hasattr(pool, "_network_backend")]
    for pool in pools:
        backend = pool._network_backend  # type: ignore[union-attr]
        if not isinstance(backend, _BoundedBackend):
            pool._network_backend = _BoundedBackend(backend)  # type: ignore[union-attr]
    return bool(pools)


class _Reading:
    """The bound and the caps of reading one response body (pure bookkeeping)."""

    def __init__(
        self,
        transport: Transport[Any],
        request: Request,
        bound: AttemptBound,
        response: httpx.Response,
    ) -> None:
        self.transport = transport
        self.request = request
        self.bound = bound
        self.response = response
        self.buffer = io.BytesIO()  # one growing copy, not a list of chunks joined into a second
        self.size = 0
        # Only a compressed body can inflate; an identity body (or one an in-process
        # transport hands over without counting downloaded bytes) is bounded by the cap.
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        self.compressed = encoding not in ("", "identity")
        # A body declared over the cap is refused before any of it is read.
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > transport.max_response_bytes:
            raise transport.too_large(request, int(declared))

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.transport.max_response_bytes:
            raise self.transport.too_large(self.request, self.size)
        if self.compressed and self.size > _RATIO_FLOOR_BYTES:
            downloaded = max(1, self.response.num_bytes_downloaded)
            if self.size > MAX_COMPRESSION_RATIO * downloaded:
                raise MalformedResponseError(
                    f"{self.request.label}: the response inflates {self.size // downloaded}-fold "
                    f"({downloaded} bytes to {self.size}+); refusing a decompression bomb"
                )
        self.buffer.write(chunk)
        ends = self.bound.ends  # bound.left_s(), inline: this runs for every chunk
        if ends is not None and time.monotonic() > ends:
            raise self.bound.timeout(self.response.request)

    def reply(self) -> Reply:
        return Reply(
            self.response.status_code,
            self.response.headers,
            self.buffer.getvalue(),
            method=self.request.method.upper(),
            # _shown_path, inline: only a presigned URL hides something (its signature).
            path=_shown_path(self.request) if self.request.presigned else self.request.path,
            reason_phrase=self.response.reason_phrase,
        )


class _Lines:
    """What both kinds of streamed lines share: the response, the cap, the request."""

    def __init__(self, response: httpx.Response, cap: int, request: Request) -> None:
        self._response = response
        self._cap = cap
        self._request = request

    def _checked(self, line: str) -> str:
        if len(line) > self._cap:
            raise MalformedResponseError("a streamed line is over the response size cap")
        return line


class SyncLines(_Lines):
    """The lines of a streamed answer, read one at a time (a line over the size cap is
    refused); the driver closes it when the flow that opened it ends.

    Example:
        >>> lines = SyncLines(httpx.Response(200, content=b"a\\nb\\n"), 1024, Request("GET", "/x"))
        >>> lines.next_line(), lines.next_line(), lines.next_line()
        ('a', 'b', None)
    """

    def __init__(self, response: httpx.Response, cap: int, request: Request) -> None:
        super().__init__(response, cap, request)
        self._lines = response.iter_lines()

    def next_line(self) -> str | None:
        """The next line (without its end), or None at the end of the stream.

        Raises:
            APIConnectionError: the connection broke mid-stream (what arrived was read).
        """
        try:
            line = next(self._lines, None)
        except httpx.TransportError as exc:
            raise connection_error(exc, self._request) from exc
        return None if line is None else self._checked(line)

    def close(self) -> None:
        """Stop reading and release the connection."""
        self._response.close()


class AsyncLines(_Lines):
    """:class:`SyncLines` for an async client.

    Example:
        >>> AsyncLines.__name__
        'AsyncLines'
    """

    def __init__(self, response: httpx.Response, cap: int, request: Request) -> None:
        super().__init__(response, cap, request)
        self._lines = response.aiter_lines()

    async def next_line(self) -> str | None:
        """The next line, or None at the end of the stream.

        Raises:
            APIConnectionError: the connection broke mid-stream (what arrived was read).
        """
        try:
            line = await self._lines.__anext__()
        except StopAsyncIteration:
            return None
        except httpx.TransportError as exc:
            raise connection_error(exc, self._request) from exc
        return self._checked(line)

    async def close(self) -> None:
        """Stop reading and release the connection."""
        await self._response.aclose()


class SyncTransport(Transport[httpx.Client]):
    """Sends one attempt with an ``httpx.Client``.

    Example:
        >>> transport = SyncTransport(httpx.Client(), base_url="https://api.example/v1.3",
        ...                           api_key="k")
        >>> transport.url(Request("GET", "/indexes"))
        'https://api.example/v1.3/indexes'
    """

    def attempt(self, request: Request, *, timeout_s: float | None) -> Reply:
        """Send ``request`` once (following redirects) and read the whole answer.

        Raises:
            httpx.TransportError: the exchange failed or outlasted ``timeout_s`` (the retry
                flow decides what next).
            MalformedResponseError: the body is over the size cap.
        """
        url: httpx.URL | None = None  # the request's own URL, until a redirect
        upload = bool(request.files) or request.body is not None  # request.uploads, inline
        for _ in range(_MAX_REDIRECTS + 1):
            bound = AttemptBound(timeout_s, upload=upload)
            token = _BOUND.set(bound)
            try:
                with _opened(request) if request.files is not None else _NO_FILES as files:
                    body = request.body.pieces() if request.body is not None else None
                    built = self.build(request, url, files, bound, body)
                    response = self.http.send(built, stream=True, follow_redirects=False)
                    if request.stream and response.is_success:
                        lines = SyncLines(response, self.max_response_bytes, request)
                        return self.streaming(response, request, lines)
                    try:
                        reading = _Reading(self, request, bound, response)
                        for chunk in response.iter_bytes():
                            reading.add(chunk)
                    finally:
                        response.close()
            finally:
                _BOUND.reset(token)
            reply = reading.reply()
            if reply.status_code not in _REDIRECTS:
                return reply
            moved = self.redirect(request, reply, built.url)
            if moved is None:
                return reply
            request, url = moved
        raise APIConnectionError(f"{request.method} {_shown_path(request)}: too many redirects")


class AsyncTransport(Transport[httpx.AsyncClient]):
    """Sends one attempt with an ``httpx.AsyncClient`` (see :class:`SyncTransport`).

    Example:
        >>> transport = AsyncTransport(httpx.AsyncClient(), base_url="https://api.example/v1",
        ...                            api_key="k")
        >>> transport.url(Request("GET", "/indexes"))
        'https://api.example/v1/indexes'
    """

    async def attempt(self, request: Request, *, timeout_s: float | None) -> Reply:
        """The async twin of :meth:`SyncTransport.attempt`; the bound cancels the attempt
        wherever it is (connecting, awaiting headers, reading the body)."""
        import anyio  # httpx's own dependency; imported here to keep the package light

        url: httpx.URL | None = None  # the request's own URL, until a redirect
        upload = bool(request.files) or request.body is not None  # request.uploads, inline
        for _ in range(_MAX_REDIRECTS + 1):
            bound = AttemptBound(timeout_s, upload=upload)
            with anyio.CancelScope() as scope:

                def cancel_at(seconds: float, scope: anyio.CancelScope = scope) -> None:
                    scope.deadline = anyio.current_time() + seconds

                bound.on_start = cancel_at
                if bound.ends is not None:
                    cancel_at(bound.ends - time.monotonic())
                with _opened(request) if request.files is not None else _NO_FILES as files:
                    body = request.body.apieces() if request.body is not None else None
                    built = self.build(request, url, files, bound, body)
                    response = await self.http.send(built, stream=True, follow_redirects=False)
                    if request.stream and response.is_success:
                        lines = AsyncLines(response, self.max_response_bytes, request)
                        return self.streaming(response, request, lines)
                    try:
                        reading = _Reading(self, request, bound, response)
                        async for chunk in response.aiter_bytes():
                            reading.add(chunk)
                    finally:
                        await response.aclose()
            if scope.cancelled_caught:
                raise bound.timeout(built)
            reply = reading.reply()
            if reply.status_code not in _REDIRECTS:
                return reply
            moved = self.redirect(request, reply, built.url)
            if moved is None:
                return reply
            request, url = moved
        raise APIConnectionError(f"{request.method} {_shown_path(request)}: too many redirects")


# --- reading errors -----------------------------------------------------------------------


def server_now(headers: httpx.Headers | None) -> float | None:
    """The server's time from its ``Date`` header (epoch seconds), or None.

    Example:
        >>> server_now(httpx.Headers({"date": "Mon, 01 Jan 2024 00:00:00 GMT"}))
        1704067200.0
    """
    value = headers.get("date") if headers is not None else None
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def now_epoch(headers: httpx.Headers | None) -> float:
    """The server's idea of now (its ``Date`` header) or the local wall clock."""
    now = server_now(headers)
    return time.time() if now is None else now


def body_text(reply: Reply) -> str:
    """The body as text; a charset the body does not match is not fatal.

    Example:
        >>> body_text(Reply(500, httpx.Headers({"content-type": "text/plain; charset=nope"}),
        ...                 b'{"'))
        '{"'
    """
    charset = "utf-8"
    content_type = reply.headers.get("content-type", "")
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return reply.content.decode(charset)
    except (UnicodeError, LookupError):
        return reply.content.decode("utf-8", "replace")


def _parse_error_body(reply: Reply) -> tuple[str | None, str | None, Any]:
    try:
        body: Any = orjson.loads(reply.content) if reply.content else None
    except orjson.JSONDecodeError:
        text = body_text(reply).strip()
        return None, (text[:500] or None), text
    if not isinstance(body, dict):
        return None, None, body
    inner = body.get("error")
    source = inner if isinstance(inner, dict) else body
    code = source.get("code", source.get("error_code"))
    message = source.get("message")
    if isinstance(inner, str) and message is None:
        message = inner
    return (
        None if code is None else str(code),
        None if message is None else str(message),
        body,
    )


def error_from_reply(reply: Reply) -> APIStatusError:
    """Map an error reply (either body shape of the API, plain text, or empty) to its type."""
    status = reply.status_code
    code, api_message, body = _parse_error_body(reply)
    retry_after = server_delay_s(
        Outcome(status_code=status, headers=reply.headers, now_epoch=now_epoch(reply.headers))
    )
    cls = error_type(status)
    message = f"{reply.method} {reply.path} failed with {status}"
    if code:
        message += f" {code}"
    message += f": {api_message}" if api_message else f" ({reply.reason_phrase or 'no body'})"
    if status == 429 and retry_after is not None:
        message += f"; retry after {retry_after:.1f} s"
    return cls(
        message,
        status_code=status,
        code=code,
        api_message=api_message,
        method=reply.method,
        path=reply.path,
        retry_after_s=retry_after,
        body=body,
    )


def connection_error(exc: httpx.TransportError, request: Request) -> APIConnectionError:
    """Wrap a transport failure, naming the request (never its headers or a URL's query)."""
    detail = str(exc) or "no detail"
    return APIConnectionError(f"{request.label} failed: {type(exc).__name__}: {detail}")


def transport_failure(exc: BaseException) -> Literal["not_sent", "maybe_sent"]:
    """``"not_sent"`` when the connection never opened, else ``"maybe_sent"``."""
    return "not_sent" if isinstance(exc, _NOT_SENT) else "maybe_sent"


def may_have_arrived(error: TwelveLabsError) -> bool:
    """True when a failed POST may nevertheless have been handled by the server.

    Example:
        >>> may_have_arrived(ServerError("502", status_code=502))
        True
        >>> may_have_arrived(error_type(400)("no", status_code=400))
        False
    """
    if isinstance(error, ServerError):
        return True
    cause = error.__cause__
    if isinstance(error, APIConnectionError) and isinstance(cause, httpx.TransportError):
        return transport_failure(cause) == "maybe_sent"
    return False


# --- the send flow ------------------------------------------------------------------------


class _Attempts:
    """The pure bookkeeping of one logical request's attempts."""

    def __init__(self, request: Request, ctx: Context) -> None:
        self.request = request
        policy = ctx.retry
        if request.retry == "never" or not request.resendable:
            policy = policy.with_max_retries(0)
        self.policy = policy
        self.attempt = 0
        self.paced_s = 0.0

    def after_reply(self, reply: Reply) -> tuple[float, TwelveLabsError]:
        """A non-2xx reply: the delay before retrying and the error if we stop; or raise."""
        error = error_from_reply(reply)
        outcome = Outcome(
            status_code=reply.status_code,
            headers=reply.headers,
            idempotent=self.request.idempotent,
            now_epoch=now_epoch(reply.headers),
        )
        paced = self.policy.pacing_s(outcome, waited_s=self.paced_s)
        if paced is not None:
            self.paced_s += self.policy.pacing_cost_s(paced)
            logger.debug(
                "retrying %r after 429 in %.2f s (paced by the server)", self.request, paced
            )
            return paced, error
        delay = self.policy.decide(self.attempt, outcome)
        if delay is None:
            raise error
        return self._retrying(delay, f"status {reply.status_code}"), error

    def after_transport_error(self, exc: httpx.TransportError) -> tuple[float, TwelveLabsError]:
        """A transport failure: the delay before retrying and the error if we stop; or raise."""
        error = connection_error(exc, self.request)
        error.__cause__ = exc
        failure = transport_failure(exc)
        outcome = Outcome(transport_failure=failure, idempotent=self.request.idempotent)
        delay = self.policy.decide(self.attempt, outcome)
        if delay is None:
            raise error from exc
        return self._retrying(delay, f"{type(exc).__name__} ({failure})"), error

    def _retrying(self, delay: float, why: str) -> float:
        self.attempt += 1
        logger.debug(
            "retrying %s after %s in %.2f s (retry %d of %d)",
            self.request.label,
            why,
            delay,
            self.attempt,
            self.policy.max_retries,
        )
        return delay


@runtime_checkable
class RequestBudget(Protocol):
    """A request budget shared by several clients (threads, processes, machines).

    The send flow asks :meth:`acquire` before every attempt and waits as long as it says
    (then asks again), and reports every answer to :meth:`settle`, so that the budget
    follows the server's own rate-limit headers. Either method may return an awaitable
    (an async client awaits it). ``tl_integrations.ray`` gives one held by a Ray actor.

    Example:
        >>> class Unlimited:
        ...     def acquire(self, request: Request) -> float:
        ...         return 0.0
        ...     def settle(self, request: Request, status: int | None, headers: Any) -> None:
        ...         pass
        >>> isinstance(Unlimited(), RequestBudget)
        True
    """

    def acquire(self, request: Request) -> Any:
        """Seconds to wait before sending ``request`` (0: send now)."""

    def settle(self, request: Request, status: int | None, headers: Any) -> Any:
        """What came back: the status (None: no answer) and the headers."""


def _budgeted(request: Request, ctx: Context) -> Flow[None]:
    while True:
        wait_s = yield Call(ctx.budget.acquire, (request,))
        if not wait_s or wait_s <= 0:
            return
        remaining = ctx.remaining_s()
        if remaining is not None and wait_s >= remaining:
            raise RateLimitError(
                f"{request.label}: the shared request budget has no room before the deadline",
                status_code=429,
                retry_after_s=float(wait_s),
            )
        yield Sleep(float(wait_s))


def send(request: Request, ctx: Context) -> Flow[Reply]:
    """Send one logical request with retries; return the 2xx reply or raise a typed error.

    Within a wait (``ctx.deadline``), each attempt gets only the time left, and a retry that
    would start after the deadline raises the error it would have retried (the wait turns
    it into :class:`~tl_integrations.TaskTimeoutError`).

    Raises:
        APIStatusError subclasses: the mapped error reply, once retrying is over.
        APIConnectionError: a transport failure, once retrying is over.
        DeadlinePassed: no time was left for an attempt.
    """
    attempts: _Attempts | None = None  # made at the first failure: most requests have none
    while True:
        if ctx.budget is not None:
            yield from _budgeted(request, ctx)
        timeout_s = ctx.timeout_s if ctx.deadline is None else ctx.attempt_timeout_s()
        try:
            reply: Reply = yield Attempt(request, timeout_s)
        except httpx.TransportError as exc:
            if ctx.budget is not None:
                yield Call(ctx.budget.settle, (request, None, None))
            attempts = attempts or _Attempts(request, ctx)
            delay, error = attempts.after_transport_error(exc)
        else:
            logger.debug("%r -> %d", request, reply.status_code)
            if ctx.budget is not None:
                yield Call(ctx.budget.settle, (request, reply.status_code, reply.headers))
            if 200 <= reply.status_code < 300:  # Reply.is_success, without the call
                return reply
            attempts = attempts or _Attempts(request, ctx)
            delay, error = attempts.after_reply(reply)
        remaining = ctx.remaining_s()
        if remaining is not None and delay >= remaining:
            raise error
        yield Sleep(delay)


def send_json(request: Request, ctx: Context) -> Flow[Any]:
    """:func:`send`, then the decoded JSON body."""
    reply = yield from send(request, ctx)
    return reply.json()
