"""Reading responses: JSON bodies, and error responses mapped to the typed exceptions.

Both error body shapes of the API (``{"code", "message"}`` and ``{"error": {...}}``), plain
text and empty bodies are understood. :mod:`tl_integrations._http` re-exports these names.

Example:
    >>> import httpx
    >>> err = error_from_response(httpx.Response(404, json={"code": "not_found"}),
    ...                           method="GET", path="/tasks/t1")
    >>> type(err).__name__, str(err)
    ('NotFoundError', 'GET /tasks/t1 failed with 404 not_found (Not Found)')
"""

from __future__ import annotations

import email.utils
import time
from typing import Any, Literal

import httpx
import orjson

from .errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from .retrying import Outcome, server_delay_s

__all__ = [
    "ErrorShape",
    "body_text",
    "connection_error",
    "error_from_response",
    "now_epoch",
    "response_json",
    "server_now",
]

ErrorShape = Literal["auto", "classic", "wrapped"]

_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: ServerError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitError,
}


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


def body_text(response: httpx.Response) -> str:
    """The body as text; a charset the body does not match (or no codec has) is not fatal.

    Example:
        >>> body_text(httpx.Response(500, content=b'{"', headers={
        ...     "content-type": "text/plain; charset=utf-16"}))
        '{"'
    """
    try:
        return response.text
    except (UnicodeError, LookupError):
        return response.content.decode("utf-8", "replace")


def response_json(response: httpx.Response) -> Any:
    """Decode a JSON body; an undecodable one raises a ServerError naming the request."""
    if not response.content:
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        request = response.request
        raise ServerError(
            f"{request.method} {request.url.path} returned {response.status_code} with a body "
            f"that is not JSON ({len(response.content)} bytes)",
            status_code=response.status_code,
            method=request.method,
            path=request.url.path,
            body=body_text(response)[:2000],
        ) from None


def _parse_error_body(response: httpx.Response) -> tuple[str | None, str | None, Any]:
    try:
        body: Any = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        text = body_text(response).strip()
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


def error_from_response(
    response: httpx.Response, *, method: str, path: str, error_shape: ErrorShape = "auto"
) -> APIStatusError:
    """Map an error response (either body shape, or empty) to the typed exception.

    ``error_shape`` is accepted for the embed resource's benefit; both shapes are always
    understood, so it only documents what the endpoint is expected to send.
    """
    del error_shape
    status = response.status_code
    code, api_message, body = _parse_error_body(response)
    retry_after = server_delay_s(
        Outcome(status_code=status, headers=response.headers, now_epoch=now_epoch(response.headers))
    )
    cls = _STATUS_ERRORS.get(status, ServerError if status >= 500 else APIStatusError)
    message = f"{method} {path} failed with {status}"
    if code:
        message += f" {code}"
    message += f": {api_message}" if api_message else f" ({response.reason_phrase or 'no body'})"
    if status == 429 and retry_after is not None:
        message += f"; retry after {retry_after:.1f} s"
    return cls(
        message,
        status_code=status,
        code=code,
        api_message=api_message,
        method=method,
        path=path,
        retry_after_s=retry_after,
        body=body,
    )


def connection_error(exc: httpx.TransportError, *, method: str, path: str) -> APIConnectionError:
    """Wrap a transport failure, naming the request (never its headers)."""
    kind = type(exc).__name__
    detail = str(exc) or "no detail"
    return APIConnectionError(f"{method} {path} failed: {kind}: {detail}")
