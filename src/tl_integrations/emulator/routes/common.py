"""Helpers shared by the route modules: state access, bodies, paging, filters."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request

from ..apierror import ApiError
from ..ids import parse_time
from ..multipart import Form, parse_form
from ..state import EmulatorState

__all__ = [
    "as_bool",
    "form_of",
    "json_body",
    "matches_range",
    "page_params",
    "paginate",
    "state_of",
]

T = TypeVar("T")
MAX_PAGE_LIMIT = 50


def state_of(request: Request) -> EmulatorState:
    """The emulator state attached to the app.

    Example:
        >>> state_of(request).config.seed  # doctest: +SKIP
        0
    """
    state: EmulatorState = request.app.state.emulator
    return state


def invalid(field: str, message: str) -> ApiError:
    """A 400 ``parameter_invalid`` naming the field.

    Example:
        >>> invalid("page", "must be >= 1").code
        'parameter_invalid'
    """
    return ApiError(400, "parameter_invalid", f"{field}: {message}", details={"field": field})


def missing(field: str) -> ApiError:
    """A 400 ``parameter_not_provided`` naming the field.

    Example:
        >>> missing("index_id").message
        'The index_id parameter is required.'
    """
    return ApiError(
        400,
        "parameter_not_provided",
        f"The {field} parameter is required.",
        details={"field": field},
    )


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 400.

    Example:
        >>> await json_body(request)  # doctest: +SKIP
        {'index_name': 'news', ...}
    """
    raw = await request.body()
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "parameter_invalid", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "parameter_invalid", "The body must be a JSON object.")
    return data


async def form_of(request: Request) -> Form:
    """Parse a multipart body (files streamed to the uploads directory) and count it.

    Example:
        >>> form = await form_of(request)  # doctest: +SKIP
    """
    state = state_of(request)
    form = await parse_form(
        request,
        tmp_dir=state.persistence.uploads_dir,
        max_file_bytes=state.config.media.max_file_size_bytes,
    )
    with state.lock:
        state.stats.bytes_received += form.bytes_received
        state.stats.uploads += sum(len(parts) for parts in form.files.values())
    return form


def as_bool(value: str | None, *, default: bool = False) -> bool:
    """Parse ``true``/``false`` (any case, also 1/0) as sent by httpx and curl.

    Example:
        >>> as_bool("True"), as_bool(None, default=True), as_bool("0")
        (True, True, False)
    """
    if value is None or value == "":
        return default
    return value.strip().lower() in ("true", "1", "yes", "on")


def as_int(value: str | None, *, field: str, default: int) -> int:
    """Parse an integer query or form value, or a 400 naming the field.

    Example:
        >>> as_int("5", field="page", default=1), as_int(None, field="page", default=1)
        (5, 1)
    """
    if value is None or value == "":
        return default
    try:
        return int(float(value))
    except ValueError:
        raise invalid(field, f"must be an integer, got {value!r}") from None


def page_params(
    query: QueryParams | Mapping[str, str], *, default_limit: int = 10
) -> tuple[int, int]:
    """``(page, page_limit)`` from a query, validated (page >= 1, 1 <= page_limit <= 50).

    Example:
        >>> page_params({"page": "2", "page_limit": "5"})
        (2, 5)
    """
    page = as_int(query.get("page"), field="page", default=1)
    limit = as_int(query.get("page_limit"), field="page_limit", default=default_limit)
    if page < 1:
        raise invalid("page", f"must be >= 1, got {page}")
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise invalid("page_limit", f"must be between 1 and {MAX_PAGE_LIMIT}, got {limit}")
    return page, limit


def paginate(items: Sequence[T], *, page: int, limit: int) -> tuple[list[T], dict[str, int]]:
    """One page of ``items`` and its ``page_info``; past the end the page is empty.

    Example:
        >>> paginate([1, 2, 3], page=2, limit=2)
        ([3], {'limit_per_page': 2, 'page': 2, 'total_page': 2, 'total_results': 3})
        >>> paginate([1, 2, 3], page=5, limit=2)[0]
        []
    """
    total = len(items)
    info = {
        "limit_per_page": limit,
        "page": page,
        "total_page": max(1, math.ceil(total / limit)),
        "total_results": total,
    }
    return list(items[(page - 1) * limit : page * limit]), info


def sort_records(
    items: list[T], query: QueryParams | Mapping[str, str], keys: Mapping[str, Callable[[T], Any]]
) -> list[T]:
    """Sort by ``sort_by`` (one of ``keys``; default created_at) and ``sort_option``.

    Example:
        >>> sort_records([1, 3, 2], {"sort_option": "asc"}, {"created_at": lambda x: x})
        [1, 2, 3]
    """
    sort_by = query.get("sort_by") or "created_at"
    option = (query.get("sort_option") or "desc").lower()
    if sort_by not in keys:
        raise invalid("sort_by", f"must be one of {sorted(keys)}, got {sort_by!r}")
    if option not in ("asc", "desc"):
        raise invalid("sort_option", f"must be asc or desc, got {option!r}")
    return sorted(items, key=keys[sort_by], reverse=option == "desc")


def _number(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise invalid(field, f"must be a number, got {value!r}") from None


def matches_range(value: float | None, query: QueryParams | Mapping[str, str], name: str) -> bool:
    """Apply ``name=v`` (exact), ``name[gte]=a`` and ``name[lte]=b`` filters to ``value``.

    Example:
        >>> matches_range(12.0, {"duration[gte]": "10", "duration[lte]": "20"}, "duration")
        True
        >>> matches_range(12.0, {"duration": "11"}, "duration")
        False
    """
    checks = {name: "eq", f"{name}[gte]": "gte", f"{name}[lte]": "lte"}
    for key, op in checks.items():
        raw = query.get(key)
        if raw is None or raw == "":
            continue
        if value is None:
            return False
        bound = _number(raw, key)
        if (
            (op == "eq" and abs(value - bound) > 1e-6)
            or (op == "gte" and value < bound)
            or (op == "lte" and value > bound)
        ):
            return False
    return True


def _time(raw: str, field: str) -> float:
    try:
        return parse_time(raw)
    except ValueError:
        raise invalid(field, f"must be an RFC 3339 time, got {raw!r}") from None


def matches_time(value: float, query: QueryParams | Mapping[str, str], name: str) -> bool:
    """``created_at``/``updated_at`` filters: a bare time keeps items from that time to the
    end of its day; ``[gte]``/``[lte]`` bounds are inclusive.

    Example:
        >>> matches_time(120.0, {"created_at": "1970-01-01T00:01:00Z"}, "created_at")
        True
        >>> matches_time(120.0, {"created_at[lte]": "1970-01-01T00:01:00Z"}, "created_at")
        False
    """
    raw = query.get(name)
    if raw:
        since = _time(raw, name)
        if not since <= value < since - since % 86400 + 86400:
            return False
    low, high = query.get(f"{name}[gte]"), query.get(f"{name}[lte]")
    if low and value < _time(low, f"{name}[gte]"):
        return False
    return not (high and value > _time(high, f"{name}[lte]"))


def metadata_matches(metadata: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    """User-metadata filters from query strings: ``"true"`` matches True, ``"5"`` matches 5.

    Example:
        >>> metadata_matches({"cat": "news", "n": 5, "ok": True}, {"n": "5", "ok": "true"})
        True
    """
    for key, raw in wanted.items():
        if key not in metadata:
            return False
        value = metadata[key]
        if isinstance(value, bool):
            if as_bool(raw) != value or raw.lower() not in ("true", "false", "1", "0"):
                return False
        elif isinstance(value, (int, float)):
            try:
                if float(raw) != float(value):
                    return False
            except ValueError:
                return False
        elif isinstance(value, list):
            if raw not in [str(v) for v in value]:
                return False
        elif str(value) != raw:
            return False
    return True
