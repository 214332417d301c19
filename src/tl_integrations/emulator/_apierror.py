"""Error answers in the API's shapes, and a fast JSON response.

Classic endpoints answer ``{"code", "message", "docs_url"}``; Embed API v2 answers the wrapped
``{"error": {"code", "message", "details"}}`` with UPPER_SNAKE codes; 429 from ``/search`` and
``/analyze`` has an empty body (as documented). :func:`api_error_of` is the one place where
the backend's domain errors become HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from ._backend.errors import Conflict, EmulatorError, Forbidden, NotFound, TooLarge, Unprocessable

__all__ = ["ApiError", "JSONResponse", "api_error_of", "error_response"]

DOCS_URL = "https://docs.twelvelabs.io/v1.3/api-reference/error-codes"

# Wrapped-shape (embed-v2) codes for the classic ones; others are upper-cased.
_WRAPPED_CODES = {
    "parameter_invalid": "VALIDATION_ERROR",
    "parameter_not_provided": "VALIDATION_ERROR",
    "parameter_unknown": "VALIDATION_ERROR",
    "too_many_requests": "RATE_LIMIT_EXCEEDED",
    "resource_not_exist": "NOT_FOUND",
    "generic_error": "INTERNAL_SERVER_ERROR",
}


class JSONResponse(Response):
    """A JSON response rendered with orjson (numpy arrays allowed).

    Example:
        >>> JSONResponse({"_id": "a"}, status_code=201).body
        b'{"_id":"a"}'
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise ``content`` (dicts, lists, numpy arrays)."""
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


class ApiError(Exception):
    """An error answer: raise it from a handler and the app renders it in the right shape.

    Args:
        status: HTTP status code.
        code: The API error code (``parameter_invalid``, ``video_file_broken`` ...).
        message: Human-readable explanation naming the offending value.
        details: Extra fields for the wrapped (embed-v2) shape, e.g. ``{"field": "text"}``.
        headers: Extra response headers (``Retry-After``).

    Example:
        >>> err = ApiError(400, "parameter_invalid", "page_limit must be <= 50")
        >>> error_response(err, wrapped=False).status_code
        400
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


# Domain error class -> HTTP status; anything else the backend refuses is a 400.
_STATUS_OF: tuple[tuple[type[EmulatorError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (Unprocessable, 422),
    (TooLarge, 413),
)


# The entity endpoints document no status but 400 (the SDK maps only 400 to an error class
# there), so an unknown collection or entity is a 400 too.
_NOT_FOUND_AS_400 = frozenset({"entity collection", "entity"})


def api_error_of(err: EmulatorError) -> ApiError:
    """The answer to a domain error: its status by class, its code, message and field.

    Example:
        >>> api_error_of(NotFound("task", "abc")).status
        404
        >>> api_error_of(NotFound("entity", "abc")).status
        400
        >>> from ._backend.errors import invalid
        >>> api_error_of(invalid("page", "must be >= 1")).details
        {'field': 'page'}
    """
    status = next((code for cls, code in _STATUS_OF if isinstance(err, cls)), 400)
    if isinstance(err, NotFound) and err.kind in _NOT_FOUND_AS_400:
        status = 400
    details = {"field": err.field} if err.field else None
    return ApiError(status, err.code, err.message, details=details)


def error_response(err: ApiError, *, wrapped: bool, empty: bool = False) -> Response:
    """Render ``err`` as the classic or wrapped JSON shape (or an empty body).

    Example:
        >>> r = error_response(ApiError(400, "parameter_invalid", "bad"), wrapped=True)
        >>> orjson.loads(r.body)["error"]["code"]
        'VALIDATION_ERROR'
    """
    if empty:
        return Response(b"", status_code=err.status, headers=err.headers)
    body: dict[str, Any]
    if wrapped:
        code = _WRAPPED_CODES.get(err.code, err.code.upper())
        inner: dict[str, Any] = {"code": code, "message": err.message}
        if err.details:
            inner["details"] = err.details
        body = {"error": inner}
    else:
        body = {"code": err.code, "message": err.message, "docs_url": DOCS_URL}
    return JSONResponse(body, status_code=err.status, headers=err.headers)
