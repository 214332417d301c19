"""The ASGI layer in front of the routes: the doors, stats, faults, auth, rate limits and
headers.

Every request first shows a ``Host`` the emulator serves (loopback names, or those
configured in ``allowed_hosts``; a web page that points its own name at 127.0.0.1, DNS
rebinding, gets a 403), and its body must keep arriving (``RequestLimits.read_timeout_s``).

Order for an API request (``/v1.3/...``): count it, draw a fault (latency, an error status,
or a dropped connection; a planned fault for this request comes first), check
``x-api-key``, take a rate-limit token, then run the route and add ``X-Api-Version`` and
``X-Ratelimit-*`` to its answer (which the ``lost`` fault throws away, closing the
connection instead).

A chunk PUT to a presigned URL (``/_upload/...``) stands for a storage provider: it is
counted and draws faults like an API request, but needs no key and has no rate limit.

Control requests (``/_emulator/...``) need the key when one is configured, and a POST
must be ``application/json``: a web page can send a form or ``text/plain`` anywhere
without asking, but not JSON. The media and thumbnail links the API hands out carry a
signature (``?sig=``) that stands for the key, so that a ``<video>`` tag can play them.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._apierror import ApiError, error_response
from ._ratelimit import Decision, category_of
from ._state import EmulatorState

__all__ = ["API_PREFIX", "CONTROL_PREFIX", "STORAGE_PREFIX", "ConnectionDropped", "Gate"]

API_PREFIX = "/v1.3"
CONTROL_PREFIX = "/_emulator"
STORAGE_PREFIX = "/_upload"
API_VERSION = "1.3"
_ID_SEGMENT = re.compile(r"/[0-9a-f]{24}(?=/|$)")
_SEARCH_TOKEN = re.compile(r"^(/v1\.3/search/)[^/]+$")
_CHUNK = re.compile(r"^(/_upload/\{id\}/)\d+$")
# Control paths handed out as signed links: the signature stands for the key.
SIGNED_PREFIXES = (CONTROL_PREFIX + "/media/", CONTROL_PREFIX + "/thumbnails/")
_READS = ("GET", "HEAD", "OPTIONS")
Serve = Callable[..., Awaitable[None]]
_STATUS_TEXT = {"500": "Internal Server Error", "502": "Bad Gateway", "503": "Service Unavailable"}


class ConnectionDropped(ConnectionError):
    """Raised to the ASGI server when a dropped connection cannot be simulated natively."""


def route_key(method: str, path: str) -> str:
    """``"GET /v1.3/tasks/{id}"``: the request with ids replaced, for the stats.

    Example:
        >>> route_key("GET", "/v1.3/indexes/0123456789abcdef01234567/videos")
        'GET /v1.3/indexes/{id}/videos'
        >>> route_key("PUT", "/_upload/0123456789abcdef01234567/7")
        'PUT /_upload/{id}/{n}'
    """
    path = _SEARCH_TOKEN.sub(r"\1{page_token}", _ID_SEGMENT.sub("/{id}", path))
    path = _CHUNK.sub(r"\1{n}", path)
    return f"{method} {path}"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _is_json(scope: Scope) -> bool:
    media_type = (_header(scope, b"content-type") or "").partition(";")[0].strip().lower()
    return media_type == "application/json"


async def _swallow(message: Message) -> None:
    """A ``send`` that loses the response (the ``lost`` fault)."""


async def _drop_connection(send: Send) -> None:
    """Close the socket without any response (uvicorn's h11/httptools cycles expose it)."""
    cycle: Any = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionDropped("emulator fault: connection dropped")
    cycle.disconnected = True
    transport.abort()


class Gate:
    """Wraps the Starlette app; see the module docstring.

    Example:
        >>> app = Gate(starlette_app, state)  # doctest: +SKIP
    """

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        wrapped = path.startswith(API_PREFIX + "/embed-v2")
        host = _header(scope, b"host")
        if host is not None and not self.state.config.serves_host(host):
            await self._refuse_host(scope, receive, send, host=host, wrapped=wrapped)
            return
        receive = self._timed(receive, send)
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            rel = path[len(API_PREFIX) :] or "/"
            await self._faulty(scope, receive, send, rel=rel, wrapped=wrapped, serve=self._serve)
        elif path.startswith(STORAGE_PREFIX + "/"):
            await self._faulty(scope, receive, send, rel=path, wrapped=False, serve=self._store)
        elif path.startswith(CONTROL_PREFIX + "/"):
            if await self._control_allowed(scope, receive, send):
                await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _timed(self, receive: Receive, send: Send) -> Receive:
        """``receive`` that gives up on a body that stops arriving: the connection is
        closed and the route sees the client gone. Once the body is complete, waiting is
        for the client to leave (during a long download), and is not timed."""
        timeout_s = self.state.config.requests.read_timeout_s
        complete = False

        async def timed_receive() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            with anyio.move_on_after(timeout_s):
                message = await receive()
                complete = message["type"] != "http.request" or not message.get("more_body")
                return message
            await _drop_connection(send)
            complete = True
            return {"type": "http.disconnect"}

        return timed_receive

    async def _refuse_host(
        self, scope: Scope, receive: Receive, send: Send, *, host: str, wrapped: bool
    ) -> None:
        err = ApiError(
            403,
            "host_not_allowed",
            f"The emulator does not serve the host {host!r}: it answers loopback names "
            "(localhost, 127.0.0.1, ::1). Start it with --allow-host NAME "
            "(EmulatorConfig(allowed_hosts=...)) to serve another name.",
        )
        await error_response(err, wrapped=wrapped)(scope, receive, send)

    async def _control_allowed(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """A control request with the key (or a signed link), and JSON when it writes."""
        path: str = scope["path"]
        if path.startswith(SIGNED_PREFIXES) and self._signed(scope):
            return True
        if not await self._authorised(scope, receive, send, wrapped=False):
            return False
        if scope["method"] in _READS or _is_json(scope):
            return True
        err = ApiError(
            415,
            "unsupported_media_type",
            f"{scope['method']} {path} takes a JSON body: send Content-Type: "
            "application/json (an empty body is fine).",
        )
        await error_response(err, wrapped=False)(scope, receive, send)
        return False

    def _signed(self, scope: Scope) -> bool:
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
        signature = (query.get("sig") or [""])[0]
        return bool(signature) and self.state.backend.store.signed(signature, scope["path"])

    async def _faulty(
        self, scope: Scope, receive: Receive, send: Send, *, rel: str, wrapped: bool, serve: Serve
    ) -> None:
        """Count the request, apply a drawn fault, and serve it unless the fault answered."""
        with self.state.lock:
            self.state.stats.requests[route_key(scope["method"], scope["path"])] += 1
        fault = await self._fault(scope, receive, send, rel=rel, wrapped=wrapped)
        if fault == "answered":
            return
        if fault != "lost":
            await serve(scope, receive, send, rel=rel, wrapped=wrapped)
            return
        try:
            await serve(scope, receive, _swallow, rel=rel, wrapped=wrapped)
        finally:
            await _drop_connection(send)

    async def _store(
        self, scope: Scope, receive: Receive, send: Send, *, rel: str, wrapped: bool
    ) -> None:
        """Run a storage route: no key (the URL is signed) and no rate limit."""
        await self.app(scope, receive, self._decorate(send, None))

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, *, rel: str, wrapped: bool
    ) -> None:
        """Check the key, take a rate-limit token and run the route."""
        method: str = scope["method"]
        if not await self._authorised(scope, receive, send, wrapped=wrapped):
            return
        category = category_of(method, rel)
        decision = self.state.limiter.take(category)
        if not decision.allowed:
            with self.state.lock:
                self.state.stats.rate_limited += 1
            await self._too_many(scope, receive, send, decision=decision, rel=rel, wrapped=wrapped)
            return
        await self.app(scope, receive, self._decorate(send, decision))

    def _decorate(self, send: Send, decision: Decision | None) -> Send:
        """Add the rate-limit headers (API requests) and the Date; count the status."""
        extra = []
        if decision is not None:
            extra += [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
            extra.append((b"x-api-version", API_VERSION.encode()))
        # The emulator's own clock (a manual one in tests), like created_at and
        # X-Ratelimit-Reset, so that a client can relate the three.
        extra.append((b"date", email.utils.formatdate(self.state.now(), usegmt=True).encode()))

        async def wrapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
                with self.state.lock:
                    self.state.stats.statuses[str(message["status"])] += 1
            await send(message)

        return wrapped_send

    async def _fault(
        self, scope: Scope, receive: Receive, send: Send, *, rel: str, wrapped: bool
    ) -> str | None:
        """Apply the drawn fault: ``"answered"`` when it answered (or dropped) the request,
        ``"lost"`` when the request is to be handled and its answer lost, else None."""
        draw = self.state.faults.draw(scope["method"], rel)
        if draw.delay_s > 0:
            with self.state.lock:
                self.state.stats.faults["latency"] += 1
            await anyio.sleep(draw.delay_s)
        if draw.action is None:
            return None
        with self.state.lock:
            self.state.stats.faults[draw.action] += 1
        if draw.action == "lost":
            return "lost"
        if draw.action == "drop":
            await _drop_connection(send)
        elif draw.action == "429":
            err = ApiError(
                429,
                "too_many_requests",
                "Injected fault: rate limited.",
                headers={"Retry-After": "1"},
            )
            await error_response(err, wrapped=wrapped, empty=rel in ("/search", "/analyze"))(
                scope, receive, send
            )
        else:
            text = _STATUS_TEXT[draw.action]
            err = ApiError(
                int(draw.action), "generic_error", f"Injected fault: {draw.action} {text}."
            )
            await error_response(err, wrapped=wrapped)(scope, receive, send)
        return "answered"

    async def _authorised(
        self, scope: Scope, receive: Receive, send: Send, *, wrapped: bool
    ) -> bool:
        key = _header(scope, b"x-api-key")
        expected = self.state.config.api_key
        if key and (expected is None or key == expected):
            return True
        if not key and scope["path"].startswith(CONTROL_PREFIX) and expected is None:
            return True
        err = ApiError(
            401,
            "api_key_invalid",
            "The API key is missing or invalid; send it in the x-api-key header.",
        )
        await error_response(err, wrapped=wrapped)(scope, receive, send)
        return False

    async def _too_many(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        decision: Decision,
        rel: str,
        wrapped: bool,
    ) -> None:
        err = ApiError(
            429,
            "too_many_requests",
            f"Too many requests: the limit is {decision.limit} requests per minute; retry "
            f"after {decision.retry_after_s} s.",
            details={"retryAfter": str(decision.retry_after_s)},
            headers={**decision.headers(), "X-Api-Version": API_VERSION},
        )
        empty = rel in ("/search", "/analyze")
        await error_response(err, wrapped=wrapped, empty=empty)(scope, receive, send)
