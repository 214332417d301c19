"""Request parsing shared by the route modules: bodies, forms, query values and filters.

Everything here turns wire values (strings, repeated keys, bracketed keys, JSON) into the
backend's types, and refuses malformed values with the backend's ``Invalid`` errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request

from .._backend import Backend, metadata
from .._backend.analysis_rules import source_of
from .._backend.embeddings import EmbedTaskFilter
from .._backend.errors import Invalid, check_among, invalid
from .._backend.ingest import AssetRef, Base64Data, LocalFile, RemoteUrl
from .._backend.queries import PageRequest, Range, Sort, TimeRange
from .._ids import parse_time
from .._multipart import Form, parse_form, read_limited
from .._state import EmulatorState

__all__ = [
    "EMBED_TASK_STATUSES",
    "MAX_JSON_DEPTH",
    "MAX_JSON_VALUES",
    "MAX_QUERY_INT",
    "as_bool",
    "as_float",
    "as_int",
    "backend_of",
    "embed_task_filter",
    "form_of",
    "idempotency_of",
    "json_body",
    "json_depth",
    "json_text",
    "listed",
    "media_from_form",
    "media_source",
    "metadata_filter",
    "metadata_text",
    "page_request",
    "ranges_of",
    "sort_of",
    "state_of",
    "time_range_of",
]

MAX_PAGE_LIMIT = 50
#: The largest integer a query or form value may hold (2**53 - 1, exact in a double): a
#: larger one ("1e300", "99999999999999999999999") is refused, not carried into pages or
#: answers that cannot hold it.
MAX_QUERY_INT = 2**53 - 1
#: How deeply a JSON body may nest (objects and arrays); orjson cannot write past ~254
#: levels, so deeper bodies would break saving the records that keep them.
MAX_JSON_DEPTH = 128
#: How many values (counted as the commas, ``[`` and ``{`` of the raw body, an upper bound)
#: a JSON body may hold. Parsing makes a Python object of each value, about 50 to 100
#: bytes apiece, so a body of the allowed size made of ``[{},{},...]`` would cost gigabytes
#: to parse; real bodies hold a few hundred values (base64 media is one long string).
MAX_JSON_VALUES = 200_000
#: The ``status`` values of ``GET /embed/tasks`` and ``GET /embed-v2/tasks``.
EMBED_TASK_STATUSES = ("processing", "ready", "failed")
Query = QueryParams | Mapping[str, str]


def state_of(request: Request) -> EmulatorState:
    """The emulator state attached to the app.

    Example:
        >>> state_of(request).config.seed  # doctest: +SKIP
        0
    """
    state: EmulatorState = request.app.state.emulator
    return state


def backend_of(request: Request) -> Backend:
    """The backend behind the app.

    Example:
        >>> backend_of(request).indexes  # doctest: +SKIP
    """
    return state_of(request).backend


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object.

    Raises:
        Invalid: When the body is not a JSON object, nests deeper than
            :data:`MAX_JSON_DEPTH` levels or may hold more than :data:`MAX_JSON_VALUES`
            values (checked on the raw bytes, before parsing).
        ApiError: 413 for a body over ``RequestLimits.json_bytes``.

    Example:
        >>> await json_body(request)  # doctest: +SKIP
        {'index_name': 'news', ...}
    """
    limit = state_of(request).config.requests.json_bytes
    raw = await read_limited(request, max_bytes=limit, what="The JSON body", setting="json_bytes")
    values = raw.count(b",") + raw.count(b"[") + raw.count(b"{")  # C speed, no objects made
    if values > MAX_JSON_VALUES:
        raise Invalid(
            None,
            f"The JSON body holds too many values (about {values}); at most {MAX_JSON_VALUES} "
            "are accepted.",
        )
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise Invalid(None, f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise Invalid(None, "The body must be a JSON object.")
    if json_depth(data) > MAX_JSON_DEPTH:
        raise Invalid(
            None, f"The JSON body nests too deeply; at most {MAX_JSON_DEPTH} levels are accepted."
        )
    return data


def json_depth(value: Any) -> int:
    """How many levels of objects and arrays ``value`` nests (0 for a scalar), without
    recursion.

    Example:
        >>> json_depth(1), json_depth({"a": [1, {"b": 2}]}), json_depth([])
        (0, 3, 1)
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def json_text(raw: str | None) -> dict[str, Any] | None:
    """The JSON object a form field holds as text: ``{}`` when absent, None when the text is
    not a JSON object (the caller says what it should have been).

    Example:
        >>> json_text('{"a": 1}'), json_text(None), json_text("[1]"), json_text("{")
        ({'a': 1}, {}, None, None)
    """
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def metadata_text(raw: str | None, *, field: str = "user_metadata") -> dict[str, Any]:
    """The ``user_metadata`` form field: a JSON-encoded object (empty when absent).

    Raises:
        Invalid: When the text is not a JSON object of allowed values.

    Example:
        >>> metadata_text('{"category": "news", "n": 3}')
        {'category': 'news', 'n': 3}
    """
    data = json_text(raw)
    if data is None or not all(metadata.allowed(v) for v in data.values()):
        raise Invalid(
            field,
            f"{field} must be a JSON object whose values are strings, numbers, booleans "
            f"or lists of strings; got {(raw or '')[:200]!r}.",
        )
    return data


async def form_of(request: Request, *, max_file_bytes: int | None = None) -> Form:
    """Parse a multipart body (files streamed to the uploads directory) and count it.

    Args:
        request: The request.
        max_file_bytes: Largest file part accepted (default: the media file size limit).

    Example:
        >>> with await form_of(request) as form:  # doctest: +SKIP
        ...     index_id = form.get("index_id")  # the files are deleted on leaving
    """
    state = state_of(request)
    store = state.backend.store
    form = await parse_form(
        request,
        tmp_dir=store.persistence.uploads_dir,
        max_file_bytes=store.config.media.max_file_size_bytes
        if max_file_bytes is None
        else max_file_bytes,
        limits=store.config.requests,
    )
    with state.lock:
        state.stats.bytes_received += form.bytes_received
        state.stats.uploads += sum(len(parts) for parts in form.files.values())
    return form


def idempotency_of(request: Request) -> tuple[str | None, str]:
    """The request's ``Idempotency-Key`` (None without one) and the scope keys live in
    (the API key).

    Raises:
        Invalid: For an empty key.

    Example:
        >>> idempotency_of(request)  # doctest: +SKIP
        ('tl-3f2a...', 'tl-emulator-key')
    """
    key = request.headers.get("idempotency-key")
    if key is not None and not key.strip():
        raise invalid("Idempotency-Key", "must not be empty")
    return key, request.headers.get("x-api-key", "")


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
    """Parse an integer query or form value.

    Raises:
        Invalid: Naming the field, when the value is not a number, or not a finite one
            within +-:data:`MAX_QUERY_INT`.

    Example:
        >>> as_int("5", field="page", default=1), as_int(None, field="page", default=1)
        (5, 1)
    """
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise invalid(field, f"must be an integer, got {value!r}") from None
    if not math.isfinite(number) or abs(number) > MAX_QUERY_INT:
        raise invalid(
            field,
            f"must be an integer between {-MAX_QUERY_INT} and {MAX_QUERY_INT}, got {value!r}",
        )
    return int(number)


def as_float(value: str | None, *, field: str) -> float | None:
    """Parse a number query or form value (None when absent).

    Raises:
        Invalid: Naming the field, when the value is not a finite number.

    Example:
        >>> as_float("2.5", field="x"), as_float("", field="x")
        (2.5, None)
    """
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise invalid(field, f"must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise invalid(field, f"must be a finite number, got {value!r}")
    return number


def listed(query: QueryParams, name: str) -> tuple[str, ...]:
    """A list parameter sent as repeated keys, comma-separated values, or both.

    Example:
        >>> listed(QueryParams("include=words&include=sentences,utterances"), "include")
        ('words', 'sentences', 'utterances')
    """
    return tuple(v.strip() for raw in query.getlist(name) for v in raw.split(",") if v.strip())


def page_request(query: Query, *, default_limit: int = 10) -> PageRequest:
    """``page`` and ``page_limit`` from a query (page >= 1, 1 <= page_limit <= 50).

    Raises:
        Invalid: For a value out of range.

    Example:
        >>> page_request({"page": "2", "page_limit": "5"})
        PageRequest(page=2, limit=5)
    """
    page = as_int(query.get("page"), field="page", default=1)
    limit = as_int(query.get("page_limit"), field="page_limit", default=default_limit)
    if page < 1:
        raise invalid("page", f"must be >= 1, got {page}")
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise invalid("page_limit", f"must be between 1 and {MAX_PAGE_LIMIT}, got {limit}")
    return PageRequest(page, limit)


def sort_of(query: Query) -> Sort:
    """``sort_by`` (default ``created_at``) and ``sort_option`` (default ``desc``).

    Raises:
        Invalid: For a direction other than asc or desc.

    Example:
        >>> sort_of({"sort_option": "asc"})
        Sort(by='created_at', descending=False)
    """
    option = (query.get("sort_option") or "desc").lower()
    if option not in ("asc", "desc"):
        raise invalid("sort_option", f"must be asc or desc, got {option!r}")
    return Sort(by=query.get("sort_by") or "created_at", descending=option == "desc")


def ranges_of(query: Query, names: Iterable[str]) -> dict[str, Range]:
    """``name=v``, ``name[gte]=a`` and ``name[lte]=b`` filters for each name.

    Raises:
        Invalid: For a bound that is not a number.

    Example:
        >>> ranges_of({"duration[gte]": "10"}, ["duration"])
        {'duration': Range(eq=None, gte=10.0, lte=None)}
    """
    found = {}
    for name in names:
        bounds = Range(
            eq=as_float(query.get(name), field=name),
            gte=as_float(query.get(f"{name}[gte]"), field=f"{name}[gte]"),
            lte=as_float(query.get(f"{name}[lte]"), field=f"{name}[lte]"),
        )
        if bounds.active:
            found[name] = bounds
    return found


def _time(raw: str | None, field: str) -> float | None:
    if not raw:
        return None
    try:
        return parse_time(raw)
    except ValueError:
        raise invalid(field, f"must be an RFC 3339 time, got {raw!r}") from None


def time_range_of(query: Query, name: str) -> TimeRange:
    """``name`` (that day from that time), ``name[gte]`` and ``name[lte]`` as times.

    Raises:
        Invalid: For a value that is not an RFC 3339 time.

    Example:
        >>> time_range_of({"created_at": "1970-01-01T00:01:00Z"}, "created_at").on
        60.0
    """
    return TimeRange(
        on=_time(query.get(name), name),
        gte=_time(query.get(f"{name}[gte]"), f"{name}[gte]"),
        lte=_time(query.get(f"{name}[lte]"), f"{name}[lte]"),
    )


def embed_task_filter(query: QueryParams) -> EmbedTaskFilter:
    """``started_at``, ``ended_at`` and ``status`` (repeatable) of the embedding task lists.

    Raises:
        Invalid: When a date is not an RFC 3339 time, or a status is not one of
            ``processing``, ``ready`` or ``failed``.

    Example:
        >>> embed_task_filter(QueryParams("started_at=1970-01-01T00:01:00Z")).since_s
        60.0
    """
    try:
        since = parse_time(query["started_at"]) if query.get("started_at") else None
        until = parse_time(query["ended_at"]) if query.get("ended_at") else None
    except ValueError:
        raise invalid("started_at", "started_at and ended_at must be RFC 3339 times") from None
    statuses = tuple(query.getlist("status"))
    check_among("status", statuses, EMBED_TASK_STATUSES)
    return EmbedTaskFilter(since, until, statuses)


_BRACKETED = re.compile(r"^user_metadata\[(?P<key>[^\]]+)\]$")


def metadata_filter(query: Query, reserved: re.Pattern[str]) -> dict[str, str]:
    """User-metadata filters: every key that is not a reserved parameter, in either wire form
    (``?category=news`` or ``?user_metadata[category]=news``).

    Example:
        >>> metadata_filter({"page": "1", "a": "x", "user_metadata[b]": "y"}, re.compile("page"))
        {'a': 'x', 'b': 'y'}
    """
    wanted = {}
    for key, value in query.items():
        bracketed = _BRACKETED.match(key)
        if bracketed:
            wanted[bracketed["key"]] = value
        elif not reserved.match(key):
            wanted[key] = value
    return wanted


def media_from_form(form: Form, *, file_field: str, url_field: str) -> LocalFile | RemoteUrl:
    """The media of a multipart request; the URL wins when both are sent (as documented).

    The file part is detached from the form, so the form's cleanup leaves it to the backend.

    Raises:
        Invalid: ``parameter_not_provided`` when neither is present.

    Example:
        >>> media_from_form(Form(fields={"video_url": ["file:///a.mp4"]}),
        ...                 file_field="video_file", url_field="video_url")
        RemoteUrl(url='file:///a.mp4', field='video_url')
    """
    url = form.get(url_field)
    part = form.file(file_field)
    if url:
        return RemoteUrl(url, field=url_field)
    if part is not None:
        form.files[file_field].remove(part)
        return LocalFile(part.path, part.filename or "video")
    raise Invalid(
        None,
        f"Provide the video as {file_field} (a file) or {url_field} (a URL).",
        code="parameter_not_provided",
    )


def media_source(source: Any, *, field: str) -> RemoteUrl | Base64Data | AssetRef | None:
    """A JSON ``media_source`` object: exactly one of ``url``, ``base64_string`` or
    ``asset_id`` (None when it has none of them).

    Raises:
        Invalid: When ``source`` is not an object, or holds more than one source (checked
            as analysis' ``image[]`` is).

    Example:
        >>> media_source({"asset_id": "abc"}, field="video.media_source")
        AssetRef(asset_id='abc', field='video.media_source.asset_id')
    """
    if not isinstance(source, dict):
        raise Invalid(field, f"{field} must be an object.")
    if not any(source.get(k) for k in ("url", "base64_string", "asset_id")):
        return None
    return source_of(source, field)
