"""TwelveLabs webhooks: check a signed request and read the event it carries.

TwelveLabs POSTs an event to the URL registered in its dashboard when an indexing or an
analysis task ends. Each request carries ``TL-Signature: t=<unix seconds>,v1=<hex>``, where
``v1`` is the HMAC-SHA256, keyed with the webhook secret, of ``"<t>.<raw body>"``.
:func:`verify_webhook` checks that signature in constant time, refuses a timestamp outside
the tolerance window (a replayed or long-delayed request), and only then parses the body
into a typed event: :class:`IndexTaskEvent` (``index.task.ready`` / ``index.task.failed``),
:class:`AnalyzeTaskEvent` (``analyze.task.ready`` / ``.failed`` / ``.canceled``), or a
plain :class:`WebhookEvent` for types this library does not know yet.

Every refusal is a :class:`~tl_integrations.WebhookVerificationError` whose ``reason`` says
what was wrong (``signature``, ``timestamp`` or ``body``). Deliveries are retried by the
platform with the same event ``id``; remembering ids is the receiver's job
(:class:`~tl_integrations.WebhookReceiver`), since this function keeps no state.

Example:
    >>> body = b'{"id": "whe_1", "type": "index.task.ready", "created_at": "2026-10-02T09:15:04Z",'
    >>> body += b' "data": {"id": "6650a1b2c3d4e5f601234567", "status": "ready"}}'
    >>> headers = {"TL-Signature": sign_webhook(body, "whsec_demo", timestamp=1_790_000_000)}
    >>> event = verify_webhook(body, headers, "whsec_demo", clock=lambda: 1_790_000_010.0)
    >>> type(event).__name__, event.job_id, event.status
    ('IndexTaskEvent', '6650a1b2c3d4e5f601234567', 'ready')
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson

from ._errors import InvalidRequestError, WebhookVerificationError

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "SECRET_ENV",
    "SIGNATURE_HEADER",
    "AnalyzeTaskEvent",
    "IndexTaskEvent",
    "WebhookEvent",
    "check_tolerance",
    "resolve_secret",
    "sign_webhook",
    "verify_webhook",
]

SIGNATURE_HEADER = "TL-Signature"
SECRET_ENV = "TWELVELABS_WEBHOOK_SECRET"
DEFAULT_TOLERANCE_S = 300.0
"""The API's documented window: a request signed more than 5 minutes ago is refused."""

# A real header is ~80 characters; bounds keep a hostile one from costing much work.
_MAX_HEADER_CHARS = 2048
_MAX_SIGNATURES = 8
_MAX_TIMESTAMP_DIGITS = 12

Headers = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]
"""A mapping (any case) or ASGI-style ``(name, value)`` pairs, as bytes or text."""


@dataclass(frozen=True)
class WebhookEvent:
    """One verified webhook event: the envelope, with the ``data`` object as sent.

    Attributes:
        id: the event's id, the same on every delivery retry (deduplicate on it).
        type: the event type (``index.task.ready``, ``analyze.task.failed``...).
        created_at: when the platform created the event (RFC 3339), when it said.
        data: the event's ``data`` object; ``data["id"]`` is the job the event is about.

    Example:
        >>> event = WebhookEvent("whe_1", "video.thing.done", None, {"id": "j1"})
        >>> event.job_id, event.status
        ('j1', 'done')
    """

    types: ClassVar[frozenset[str]] = frozenset()

    id: str
    type: str
    created_at: str | None
    data: Mapping[str, Any] = field(repr=False)

    @property
    def job_id(self) -> str:
        """The id of the task the event is about (``data["id"]``)."""
        return str(self.data["id"])

    @property
    def status(self) -> str | None:
        """The job's status: ``data["status"]``, else the last word of ``type``."""
        status = self.data.get("status")
        if isinstance(status, str) and status:
            return status
        last = self.type.rsplit(".", 1)[-1]
        return last if "." in self.type and last else None

    def job_data(self) -> dict[str, Any]:
        """``data`` with ``status`` filled in: what a wait reads (see ``EventSource``).

        Example:
            >>> WebhookEvent("e", "index.task.ready", None, {"id": "t1"}).job_data()
            {'id': 't1', 'status': 'ready'}
        """
        data = dict(self.data)
        if self.status is not None:
            data["status"] = self.status
        return data

    @staticmethod
    def from_payload(payload: Any) -> WebhookEvent:
        """The typed event of a decoded webhook body.

        Raises:
            WebhookVerificationError: (reason ``body``) not an event envelope.

        Example:
            >>> event = WebhookEvent.from_payload({"id": "e1", "type": "analyze.task.ready",
            ...     "data": {"id": "t1", "custom_id": None, "status": "ready"}})
            >>> type(event).__name__
            'AnalyzeTaskEvent'
        """
        if not isinstance(payload, dict):
            raise _body_error(f"expected a JSON object, got {type(payload).__name__}")
        event_id, event_type, data = payload.get("id"), payload.get("type"), payload.get("data")
        if not isinstance(event_id, str) or not event_id:
            raise _body_error("the event has no string 'id'")
        if not isinstance(event_type, str) or not event_type:
            raise _body_error(f"event {event_id} has no string 'type'")
        if not isinstance(data, dict):
            raise _body_error(f"event {event_id} has no 'data' object")
        job_id = data.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise _body_error(f"event {event_id} names no job ('data.id' is not a string)")
        created = payload.get("created_at")
        cls = next((c for c in _TYPED if event_type in c.types), WebhookEvent)
        return cls(event_id, event_type, created if isinstance(created, str) else None, data)


@dataclass(frozen=True)
class IndexTaskEvent(WebhookEvent):
    """``index.task.ready`` or ``index.task.failed``: an indexing task, or an indexed asset,
    reached a terminal status (``job_id`` is the task's or the indexed asset's id).

    Example:
        >>> event = IndexTaskEvent("e1", "index.task.ready", None,
        ...     {"id": "t1", "status": "ready", "metadata": {"duration": 12.5}})
        >>> event.status, event.duration_s
        ('ready', 12.5)
    """

    types: ClassVar[frozenset[str]] = frozenset({"index.task.ready", "index.task.failed"})

    @property
    def duration_s(self) -> float | None:
        """The video's duration in seconds, when the event says."""
        meta = self.data.get("metadata")
        value = meta.get("duration") if isinstance(meta, dict) else None
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def models(self) -> list[dict[str, Any]]:
        """The index's models (``[{"name", "options"}]``), when the event lists them."""
        models = self.data.get("models")
        return [m for m in models if isinstance(m, dict)] if isinstance(models, list) else []


@dataclass(frozen=True)
class AnalyzeTaskEvent(WebhookEvent):
    """``analyze.task.ready``, ``.failed`` or ``.canceled``: an analysis task ended.

    The event carries no result: read it with ``client.analyze.tasks.retrieve(job_id)``.

    Example:
        >>> event = AnalyzeTaskEvent("e1", "analyze.task.failed", None, {"id": "t1",
        ...     "custom_id": "job-42", "status": "failed", "error": {"message": "too long"}})
        >>> event.custom_id, event.error_message
        ('job-42', 'too long')
    """

    types: ClassVar[frozenset[str]] = frozenset(
        {"analyze.task.ready", "analyze.task.failed", "analyze.task.canceled"}
    )

    @property
    def custom_id(self) -> str | None:
        """The ``custom_id`` given when the task was created."""
        value = self.data.get("custom_id")
        return value if isinstance(value, str) else None

    @property
    def video_source(self) -> dict[str, Any] | None:
        """What was analysed (``{"type", "asset_id" | "url"..., "system_metadata"}``)."""
        value = self.data.get("video_source")
        return value if isinstance(value, dict) else None

    @property
    def error_message(self) -> str | None:
        """Why it failed (or, on a ready task, why the result is partial)."""
        error = self.data.get("error")
        message = error.get("message") if isinstance(error, dict) else None
        return message if isinstance(message, str) else None


_TYPED: tuple[type[WebhookEvent], ...] = (IndexTaskEvent, AnalyzeTaskEvent)


def resolve_secret(secret: str | bytes | None) -> bytes:
    """The webhook secret as bytes: the argument, else ``TWELVELABS_WEBHOOK_SECRET``.

    Raises:
        InvalidRequestError: no secret anywhere (the message never shows one).

    Example:
        >>> resolve_secret("whsec_demo")
        b'whsec_demo'
    """
    value = secret if secret is not None else os.environ.get(SECRET_ENV)
    if isinstance(value, str):
        value = value.strip().encode()
    if not isinstance(value, bytes) or not value:
        raise InvalidRequestError(
            "no webhook secret: pass secret=... or set TWELVELABS_WEBHOOK_SECRET to the "
            "secret shown where the webhook URL was registered (the TwelveLabs dashboard)"
        )
    return value


def check_tolerance(tolerance_s: object) -> float:
    """A replay window must be a finite number of seconds > 0.

    Raises:
        InvalidRequestError: it is not.

    Example:
        >>> check_tolerance(300)
        300.0
    """
    if isinstance(tolerance_s, bool) or not isinstance(tolerance_s, (int, float)):
        raise InvalidRequestError(f"tolerance_s must be seconds > 0, got {tolerance_s!r}")
    if not 0 < tolerance_s < math.inf:
        raise InvalidRequestError(f"tolerance_s must be seconds > 0, got {tolerance_s!r}")
    return float(tolerance_s)


def sign_webhook(body: bytes | str, secret: str | bytes, *, timestamp: int) -> str:
    """The ``TL-Signature`` header value of ``body`` signed at ``timestamp`` (unix seconds).

    What the platform sends; useful to test a receiver.

    Example:
        >>> sign_webhook(b"{}", "s", timestamp=1)[:5]
        't=1,v'
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    return f"t={int(timestamp)},v1={_digest(resolve_secret(secret), int(timestamp), raw)}"


def verify_webhook(
    body: bytes | bytearray | memoryview | str,
    headers: Headers,
    secret: str | bytes | None,
    *,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    clock: Callable[[], float] | None = None,
) -> WebhookEvent:
    """Check a webhook request and return its typed event.

    The signature is checked (in constant time) before the body is parsed; then the
    timestamp must be within ``tolerance_s`` of ``clock()``, either way.

    Args:
        body: the raw request body, exactly as received (a re-serialised JSON would not
            match the signature).
        headers: the request headers (any case), or ASGI ``(name, value)`` pairs.
        secret: the webhook secret; None reads ``TWELVELABS_WEBHOOK_SECRET``.
        tolerance_s: how far the signed timestamp may be from now, in seconds.
        clock: wall-clock seconds since the epoch (default ``time.time``).

    Returns:
        :class:`IndexTaskEvent`, :class:`AnalyzeTaskEvent`, or :class:`WebhookEvent` for
        another type.

    Raises:
        WebhookVerificationError: ``reason`` ``signature`` (missing, malformed, forged),
            ``timestamp`` (stale or from the future: a replay, or a wrong clock) or
            ``body`` (signed, but not an event).
        InvalidRequestError: no secret, or a bad ``tolerance_s``.

    Example:
        >>> verify_webhook(b"{}", {}, "whsec_demo")
        Traceback (most recent call last):
        ...
        tl_integrations.WebhookVerificationError: the request has no TL-Signature header; ...
    """
    key = resolve_secret(secret)
    check_tolerance(tolerance_s)
    raw = body.encode() if isinstance(body, str) else bytes(body)
    timestamp, signatures = _parse_signature(_header(headers, SIGNATURE_HEADER))
    expected = _digest(key, timestamp, raw)
    # Compare every candidate, always: how long this takes says nothing about which failed.
    matches = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    if not any(matches):
        raise WebhookVerificationError(
            "TL-Signature does not match the body: forged, altered, or signed with another "
            "secret (check TWELVELABS_WEBHOOK_SECRET)",
            reason="signature",
        )
    age_s = (clock or time.time)() - timestamp
    if abs(age_s) > tolerance_s:
        when = f"{age_s:.0f} s old" if age_s > 0 else f"{-age_s:.0f} s in the future"
        raise WebhookVerificationError(
            f"TL-Signature timestamp is {when} (tolerance {tolerance_s:g} s): a replayed or "
            "long-delayed request, or this machine's clock is off",
            reason="timestamp",
        )
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _body_error(f"the body is not JSON ({exc})") from exc
    return WebhookEvent.from_payload(payload)


def _digest(key: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _header(headers: Headers, name: str) -> str | None:
    wanted = name.lower()
    pairs: Iterable[tuple[Any, Any]] = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if text.lower() == wanted:
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


def _parse_signature(value: str | None) -> tuple[int, list[str]]:
    if value is None or not value.strip():
        raise WebhookVerificationError(
            "the request has no TL-Signature header; it did not come from TwelveLabs",
            reason="signature",
        )
    if len(value) > _MAX_HEADER_CHARS:
        raise WebhookVerificationError("TL-Signature is too long", reason="signature")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in value.split(","):
        key, _, raw = item.strip().partition("=")
        raw = raw.strip()
        if key == "t" and raw.isascii() and raw.isdigit() and len(raw) <= _MAX_TIMESTAMP_DIGITS:
            timestamp = int(raw)
        elif key == "v1" and raw:
            signatures.append(raw.lower())
    if timestamp is None or not signatures or len(signatures) > _MAX_SIGNATURES:
        raise WebhookVerificationError(
            "TL-Signature must read t=<unix seconds>,v1=<hex HMAC-SHA256>", reason="signature"
        )
    return timestamp, signatures


def _body_error(message: str) -> WebhookVerificationError:
    return WebhookVerificationError(f"not a TwelveLabs event: {message}", reason="body")
