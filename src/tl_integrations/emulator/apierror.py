"""Error answers in the API's shapes, and a fast JSON response.

Classic endpoints answer ``{"code", "message", "docs_url"}``; Embed API v2 answers the wrapped
``{"error": {"code", "message", "details"}}`` with UPPER_SNAKE codes; 429 from ``/search`` and
``/analyze`` has an empty body (as documented).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

__all__ = ["ApiError", "JSONResponse", "error_response", "not_found"]

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


def not_found(kind: str, ident: str) -> ApiError:
    """A 404 ``resource_not_exist`` naming what was looked for.

    Example:
        >>> not_found("task", "abc").message
        "The task 'abc' does not exist."
    """
    return ApiError(404, "resource_not_exist", f"The {kind} {ident!r} does not exist.")


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
