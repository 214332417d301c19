"""The webhook receiver: verified events in, waits that end without polling out.

A :class:`WebhookReceiver` is three things at once:

- a plain **ASGI application**: mount it in your FastAPI or Starlette service
  (``app.mount("/twelvelabs/webhooks", receiver)``); nothing here imports a framework;
- an **event source** for the client: ``TwelveLabs(events=receiver)`` makes every ``wait``
  and ``wait_many`` (and the loader and reader built on them) finish jobs from events, with
  no request, and poll only every minute as a safety net;
- with :meth:`WebhookReceiver.serve`, a **small standalone server** (uvicorn, from the
  ``emulator`` extra) for notebooks and ``tl-integrations webhooks``.

Each request is verified (:func:`~tl_integrations.verify_webhook`); forged, stale and
malformed ones are answered 401/400 and change nothing. Events are deduplicated by their
``id`` (the platform repeats it on every delivery retry) and kept per job, newest first, so
a wait that starts after its job's event arrived still sees it. The secret is never logged
and never shown in a ``repr``.

Example:
    >>> from tl_integrations._webhooks import sign_webhook
    >>> receiver = WebhookReceiver("whsec_demo", clock=lambda: 1_790_000_000.0)
    >>> body = b'{"id": "e1", "type": "index.task.ready", "data": {"id": "t1"}}'
    >>> headers = {"TL-Signature": sign_webhook(body, "whsec_demo", timestamp=1_790_000_000)}
    >>> receiver.receive(body, headers).status, receiver.receive(body, headers)
    ('ready', None)
    >>> receiver.latest(["t1", "t2"])
    {'t1': {'id': 't1', 'status': 'ready'}}
    >>> receiver
    WebhookReceiver(events=1, duplicates=1, rejected=0)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping
from datetime import datetime
from typing import Any, Protocol

import orjson

from ._errors import WebhookVerificationError, check_int
from ._serving import BackgroundServer, bind_socket
from ._webhooks import (
    DEFAULT_TOLERANCE_S,
    Headers,
    WebhookEvent,
    check_tolerance,
    resolve_secret,
    verify_webhook,
)

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_REMEMBERED", "WebhookReceiver", "WebhookServer"]

logger = logging.getLogger("tl_integrations")

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Bodies larger than this are refused (413): events are a few hundred bytes."""
DEFAULT_REMEMBERED = 100_000
"""Event ids (for deduplication) and jobs (their newest event) remembered, oldest dropped
first. A job whose event was dropped is still found by the waits' fallback polling."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _Settable(Protocol):
    def set(self) -> None: ...


class WebhookReceiver:
    """Receives TwelveLabs webhooks: an ASGI app, an event source for waits, a server.

    Args:
        secret: the webhook secret; None reads ``TWELVELABS_WEBHOOK_SECRET``.
        tolerance_s: how old (or early) a signed timestamp may be, in seconds.
        clock: wall-clock seconds since the epoch for the timestamp check (default
            ``time.time``; the emulator's clock when it runs on a virtual one).
        on_event: called with each new :class:`~tl_integrations.WebhookEvent` (not with
            duplicates), on the thread that received it; keep it quick. Its errors are
            logged, never answered to the sender.
        max_body_bytes: larger bodies are refused with 413.
        remembered: how many event ids and jobs are remembered.

    Raises:
        InvalidRequestError: no secret, or bad limits.

    Example:
        >>> receiver = WebhookReceiver("whsec_demo")  # doctest: +SKIP
        >>> app.mount("/twelvelabs/webhooks", receiver)  # FastAPI/Starlette  # doctest: +SKIP
        >>> client = TwelveLabs(events=receiver)  # doctest: +SKIP
        >>> for task in client.tasks.wait_many(tasks):  # no polling  # doctest: +SKIP
        ...     print(task.id, task.status)
    """

    def __init__(
        self,
        secret: str | bytes | None = None,
        *,
        tolerance_s: float = DEFAULT_TOLERANCE_S,
        clock: Callable[[], float] | None = None,
        on_event: Callable[[WebhookEvent], object] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        remembered: int = DEFAULT_REMEMBERED,
    ) -> None:
        self.__secret = resolve_secret(secret)
        self.tolerance_s = check_tolerance(tolerance_s)
        for name, value in (("max_body_bytes", max_body_bytes), ("remembered", remembered)):
            check_int(name, value)
        self.clock = clock or time.time
        self.on_event = on_event
        self.max_body_bytes = max_body_bytes
        self.remembered = remembered
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._jobs: OrderedDict[str, WebhookEvent] = OrderedDict()
        self._signals: list[_Settable] = []
        self._counts = {"events": 0, "duplicates": 0, "rejected": 0}

    # --- receiving ---------------------------------------------------------------------

    def receive(self, body: bytes | str, headers: Headers) -> WebhookEvent | None:
        """Verify one request and record its event; None when it is a duplicate.

        Frameworks other than ASGI ones call this from their own handler: answer 2xx when
        it returns (duplicates too, or the platform keeps retrying), 4xx when it raises.

        Raises:
            WebhookVerificationError: forged, stale or malformed (nothing is recorded).

        Example:
            >>> receiver.receive(await request.body(), request.headers)  # doctest: +SKIP
        """
        try:
            event = verify_webhook(
                body, headers, self.__secret, tolerance_s=self.tolerance_s, clock=self.clock
            )
        except WebhookVerificationError as exc:
            with self._lock:
                self._counts["rejected"] += 1
            logger.warning("webhook refused (%s): %s", exc.reason, exc)
            raise
        with self._lock:
            if event.id in self._seen:
                self._counts["duplicates"] += 1
                self._seen.move_to_end(event.id)
                return None
            self._remember(self._seen, event.id, None)
            self._counts["events"] += 1
            newer = self._jobs.get(event.job_id)
            if newer is None or not _older(event, newer):
                self._remember(self._jobs, event.job_id, event)
            signals = list(self._signals)
        logger.debug("webhook %s: %s %s is %s", event.id, event.type, event.job_id, event.status)
        for signal in signals:
            signal.set()
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                logger.exception("the on_event callback failed on webhook %s", event.id)
        return event

    def _remember(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.remembered:
            table.popitem(last=False)

    # --- the event source of waits -------------------------------------------------------

    def subscribe(self, signal: _Settable) -> Callable[[], None]:
        """Set ``signal`` on every new event until the returned function is called.

        Example:
            >>> class Flag:
            ...     def set(self) -> None: print("event!")
            >>> stop = WebhookReceiver("s").subscribe(Flag()); stop()
        """
        with self._lock:
            self._signals.append(signal)

        def stop() -> None:
            with self._lock:
                if signal in self._signals:
                    self._signals.remove(signal)

        return stop

    def latest(self, job_ids: Collection[str]) -> dict[str, Mapping[str, Any]]:
        """The newest event's ``data`` (with its ``status``) for each job that has one.

        Example:
            >>> WebhookReceiver("s").latest(["t1"])
            {}
        """
        with self._lock:
            found = [self._jobs.get(job_id) for job_id in job_ids]
        return {event.job_id: event.job_data() for event in found if event is not None}

    def event_for(self, job_id: str) -> WebhookEvent | None:
        """The newest event received about ``job_id``, or None.

        Example:
            >>> WebhookReceiver("s").event_for("t1") is None
            True
        """
        with self._lock:
            return self._jobs.get(job_id)

    @property
    def stats(self) -> dict[str, int]:
        """Counts: ``events`` accepted, ``duplicates`` ignored, ``rejected`` requests.

        Example:
            >>> WebhookReceiver("s").stats
            {'events': 0, 'duplicates': 0, 'rejected': 0}
        """
        with self._lock:
            return dict(self._counts)

    def __repr__(self) -> str:
        counts = self.stats
        return (
            f"WebhookReceiver(events={counts['events']}, duplicates={counts['duplicates']}, "
            f"rejected={counts['rejected']})"
        )

    def __reduce__(self) -> Any:
        # A pickle would carry the secret to wherever it goes; a receiver stays where it runs.
        raise TypeError("a WebhookReceiver cannot be pickled (it holds the webhook secret)")

    # --- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection: ``POST`` an event; ``GET`` says the receiver is up."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # websockets are not for us; closing the scope refuses them
        method = scope.get("method", "GET")
        if method in ("GET", "HEAD"):
            await _answer(send, 200, {"receiver": "tl-integrations", **self.stats})
            return
        if method != "POST":
            await _answer(send, 405, {"error": "method_not_allowed"}, allow="POST, GET")
            return
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            await _answer(send, 413, {"error": "body_too_large"})
            return
        try:
            event = self.receive(body, scope.get("headers") or [])
        except WebhookVerificationError as exc:
            status = 400 if exc.reason == "body" else 401
            await _answer(send, status, {"error": exc.reason})
            return
        await _answer(send, 200, {"received": True, "duplicate": event is None})

    # --- standalone server ---------------------------------------------------------------

    def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> WebhookServer:
        """Serve this receiver on ``host:port`` in a background thread (uvicorn).

        Register ``server.url`` (through a tunnel or a public host) as the webhook URL.

        Raises:
            ImportError: uvicorn is missing (``pip install 'tl-integrations[emulator]'``).

        Example:
            >>> with WebhookReceiver().serve(port=8000) as server:  # doctest: +SKIP
            ...     print(server.url)
            http://127.0.0.1:8000/
        """
        return WebhookServer(self, host=host, port=port).start()


def _older(event: WebhookEvent, than: WebhookEvent) -> bool:
    """Whether ``event`` was created before ``than`` (late deliveries never win)."""
    mine, theirs = _epoch(event.created_at), _epoch(than.created_at)
    return mine is not None and theirs is not None and mine < theirs


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(send: Send, status: int, payload: dict[str, Any], *, allow: str = "") -> None:
    body = orjson.dumps(payload)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if allow:
        headers.append((b"allow", allow.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class WebhookServer(BackgroundServer):
    """A :class:`WebhookReceiver` served by uvicorn on a background thread.

    Made by :meth:`WebhookReceiver.serve`; a context manager that stops the server.

    Attributes:
        receiver: what it serves.
        host / port: where it listens (``port`` is the real one when 0 was asked).

    Example:
        >>> server = WebhookReceiver("whsec_demo").serve(port=0)  # doctest: +SKIP
        >>> server.url  # doctest: +SKIP
        'http://127.0.0.1:53211/'
        >>> server.close()  # doctest: +SKIP
    """

    def __init__(self, receiver: WebhookReceiver, *, host: str, port: int) -> None:
        check_int("port", port, least=0, most=65535)
        self.receiver = receiver
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        """Where the receiver listens, e.g. ``http://127.0.0.1:8000/``."""
        return self._origin + "/"

    def start(self) -> WebhookServer:
        """Bind and start serving (once); returns ``self``.

        Raises:
            ImportError: uvicorn is missing.
            OSError: the port cannot be bound.

        Example:
            >>> server = WebhookReceiver("whsec_demo").serve(port=0)  # doctest: +SKIP
            >>> server.start() is server  # already started by serve(): a no-op  # doctest: +SKIP
            True
        """
        if self._thread is not None:
            return self
        from ._extras import install_hint

        try:
            import uvicorn
        except ImportError as exc:
            raise ModuleNotFoundError(
                f"serving webhooks needs uvicorn, which is not installed: "
                f"{install_hint('emulator')}; or mount the WebhookReceiver, a plain ASGI app, "
                "in your own server",
                name="uvicorn",
            ) from exc
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.receiver, log_level="warning", access_log=False, lifespan="off", http="h11"
        )
        if not self._serve(uvicorn.Server(config), sock, f"tl-webhooks-{self.port}"):
            raise OSError(f"the webhook server did not start on {self.host}:{self.port}")
        return self

    def close(self) -> None:
        """Stop serving and wait for the thread (idempotent).

        Example:
            >>> server = WebhookReceiver("whsec_demo").serve(port=0)  # doctest: +SKIP
            >>> server.close()  # doctest: +SKIP
        """
        self._stop_serving()

    def __repr__(self) -> str:
        return f"WebhookServer(url={self.url!r})"
