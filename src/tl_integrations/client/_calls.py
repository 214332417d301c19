"""Pure request builders and response parsers for indexes, videos, search and analyze.

Each builder returns a :class:`Call` (what to send); each parser turns a decoded body into
models. The sync and async resources only pass a ``Call`` to ``_request`` and parse what
comes back, so both twins send exactly the same requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from ..errors import InvalidRequestError
from ..models import (
    AnalyzeResult,
    Index,
    IndexModel,
    MalformedResponseError,
    SearchClip,
    as_object,
)

__all__ = ["PAGE_LIMIT_MAX", "Call", "check_id", "seg"]

PAGE_LIMIT_MAX = 50
_VIDEO_LIST_RESERVED = frozenset(
    {"page", "page_limit", "sort_by", "sort_option", "filename", "duration", "fps", "width"}
    | {"height", "size", "created_at", "updated_at"}
)


@dataclass(frozen=True)
class Call:
    """One request to make: the arguments of ``client._request``.

    Example:
        >>> Call("GET", "/indexes/i1").kwargs()["path"]
        '/indexes/i1'
    """

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Mapping[str, Any] | None = None
    files: Mapping[str, Any] | None = None
    retry: str = "auto"

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``_request``."""
        return {
            "method": self.method,
            "path": self.path,
            "params": self.params,
            "json": self.json,
            "data": self.data,
            "files": self.files,
            "retry": self.retry,
        }

    def page(self, number: int) -> Call:
        """The same list call for page ``number`` (1-based)."""
        return Call(self.method, self.path, params={**(self.params or {}), "page": number})


def check_id(value: object, name: str) -> str:
    """An id must be a non-empty string; say which argument was wrong otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{name} must be a non-empty string, got {value!r}")
    return value


def seg(value: object, name: str) -> str:
    """An id made safe for a URL path segment."""
    return quote(check_id(value, name), safe="")


def check_page_limit(page_limit: int) -> int:
    """Page sizes are 1 to 50 on every list endpoint."""
    if not 1 <= page_limit <= PAGE_LIMIT_MAX:
        raise InvalidRequestError(f"page_limit must be 1 to {PAGE_LIMIT_MAX}, got {page_limit}")
    return page_limit


def list_call(path: str, params: Mapping[str, Any]) -> Call:
    """A page-numbered GET list starting at page 1."""
    return Call("GET", path, params={**params, "page": 1})


# Indexes ---------------------------------------------------------------------------------


def _model_api(model: IndexModel | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(model, IndexModel):
        return model.to_api()
    if isinstance(model, Mapping) and "model_name" in model:
        return dict(model)
    raise InvalidRequestError(
        f"models must hold IndexModel(...) or {{'model_name', 'model_options'}} dicts, "
        f"got {model!r}"
    )


def create_index(
    name: str,
    models: Sequence[IndexModel | Mapping[str, Any]],
    addons: Sequence[str] | None,
) -> Call:
    """``POST /indexes``."""
    body: dict[str, Any] = {
        "index_name": check_id(name, "name"),
        "models": [_model_api(m) for m in models],
    }
    if not body["models"]:
        raise InvalidRequestError("an index needs at least one model; see DEFAULT_MODELS")
    if addons:
        body["addons"] = list(addons)
    return Call("POST", "/indexes", json=body)


def created_index(body: Any, call: Call) -> Index:
    """An Index from the ``{"_id"}`` answer plus what was asked for."""
    sent = call.json or {}
    created = as_object(body, "created index")
    return Index.from_api({**sent, **created})


def list_indexes(
    name: str | None, page_limit: int, sort_by: str | None, sort_option: str | None
) -> Call:
    """``GET /indexes``."""
    params = {
        "index_name": name,
        "page_limit": check_page_limit(page_limit),
        "sort_by": sort_by,
        "sort_option": sort_option,
    }
    return list_call("/indexes", params)


# Videos ----------------------------------------------------------------------------------


def retrieve_video(
    index_id: str, video_id: str, transcription: bool, embedding_options: Iterable[str] | None
) -> Call:
    """``GET /indexes/{index_id}/videos/{video_id}``."""
    params: dict[str, Any] = {}
    if transcription:
        params["transcription"] = True
    if embedding_options:
        params["embedding_option"] = list(embedding_options)
    path = f"/indexes/{seg(index_id, 'index_id')}/videos/{seg(video_id, 'video_id')}"
    return Call("GET", path, params=params or None)


def list_videos(
    index_id: str,
    *,
    user_metadata: Mapping[str, Any] | None,
    filename: str | None,
    page_limit: int,
    sort_by: str | None,
    sort_option: str | None,
) -> Call:
    """``GET /indexes/{index_id}/videos``; user-metadata filters become top-level keys."""
    params: dict[str, Any] = {
        "page_limit": check_page_limit(page_limit),
        "filename": filename,
        "sort_by": sort_by,
        "sort_option": sort_option,
    }
    for key, value in (user_metadata or {}).items():
        if key in _VIDEO_LIST_RESERVED:
            raise InvalidRequestError(
                f"user_metadata key {key!r} collides with a list filter of the same name; "
                "rename the metadata key"
            )
        params[key] = value
    return list_call(f"/indexes/{seg(index_id, 'index_id')}/videos", params)


# Search ----------------------------------------------------------------------------------


def search(
    *,
    index_id: str,
    query_text: str,
    search_options: Sequence[str],
    group_by: str,
    page_limit: int,
    filter: Mapping[str, Any] | None,
    operator: str | None,
) -> Call:
    """``POST /search`` (multipart, safe to repeat)."""
    if not query_text or not query_text.strip():
        raise InvalidRequestError("query_text must be a non-empty string")
    if isinstance(search_options, str) or not search_options:
        raise InvalidRequestError(
            f"search_options must be a non-empty list such as ('visual', 'audio'), "
            f"got {search_options!r}"
        )
    if group_by not in ("clip", "video"):
        raise InvalidRequestError(f"group_by must be 'clip' or 'video', got {group_by!r}")
    data: dict[str, Any] = {
        "index_id": check_id(index_id, "index_id"),
        "query_text": query_text,
        "search_options": list(search_options),
        "group_by": group_by,
        "page_limit": check_page_limit(page_limit),
        "operator": operator,
        "filter": orjson.dumps(dict(filter)).decode() if filter else None,
    }
    return Call("POST", "/search", data=data, files={}, retry="always")


def next_search_page(token: str, seen: set[str] | None = None) -> Call:
    """``GET /search/{page_token}``; a token already in ``seen`` (the tokens followed so
    far, updated here) raises MalformedResponseError instead of looping forever.

    Example:
        >>> seen: set[str] = set()
        >>> next_search_page("t1", seen).path, seen
        ('/search/t1', {'t1'})
    """
    if seen is not None:
        if token in seen:
            raise MalformedResponseError(
                f"search response: page token {token[:40]!r} was already followed; stopping "
                "instead of asking for the same page forever"
            )
        seen.add(token)
    return Call("GET", f"/search/{seg(token, 'page_token')}")


def search_page(body: Any) -> tuple[list[SearchClip], str | None]:
    """The clips of one search page (video groups flattened) and the next page token."""
    obj = as_object(body, "search response")
    items = obj.get("data") or []
    if not isinstance(items, list):
        raise MalformedResponseError("search response: 'data' should be a list", body=obj)
    clips: list[SearchClip] = []
    for item in items:
        entry = as_object(item, "search result")
        if isinstance(entry.get("clips"), list):
            video_id = str(entry.get("id") or entry.get("video_id") or "")
            clips.extend(SearchClip.from_api(c, video_id=video_id) for c in entry["clips"])
        else:
            clips.append(SearchClip.from_api(entry))
    info = obj.get("page_info")
    token = info.get("next_page_token") if isinstance(info, dict) else None
    return clips, (str(token) if token else None)


# Analyze ---------------------------------------------------------------------------------


def analyze(
    video_id: str,
    prompt: str,
    *,
    temperature: float | None,
    response_format: Mapping[str, Any] | None,
    max_tokens: int | None,
) -> Call:
    """``POST /analyze`` with ``stream`` explicitly false (the API defaults it to true)."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequestError("prompt must be a non-empty string")
    if temperature is not None and not 0.0 <= temperature <= 1.0:
        raise InvalidRequestError(f"temperature must be 0 to 1, got {temperature}")
    body: dict[str, Any] = {"video_id": check_id(video_id, "video_id"), "prompt": prompt}
    body["stream"] = False
    if temperature is not None:
        body["temperature"] = temperature
    if response_format is not None:
        body["response_format"] = dict(response_format)
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return Call("POST", "/analyze", json=body, retry="always")


def analyze_result(body: Any, response_format: Mapping[str, Any] | None) -> AnalyzeResult:
    """Parse the answer; decode the JSON text when a ``json_schema`` format was asked for."""
    obj = dict(as_object(body, "analyze response"))
    raw_data = obj.get("data")
    if isinstance(raw_data, (dict, list)):
        try:
            obj["data"] = orjson.dumps(raw_data).decode()
        except orjson.JSONEncodeError as exc:
            raise MalformedResponseError(f"analyze response: 'data' is not JSON: {exc}") from exc
        return AnalyzeResult.from_api(obj, data=raw_data)
    wants_json = bool(response_format) and (response_format or {}).get("type") == "json_schema"
    if not wants_json:
        return AnalyzeResult.from_api(obj)
    text = raw_data if isinstance(raw_data, str) else ""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        reason = obj.get("finish_reason")
        hint = "; raise max_tokens" if reason == "length" else ""
        raise MalformedResponseError(
            f"analyze returned text that is not the requested JSON (finish_reason={reason!r})"
            f"{hint}",
            body=obj,
        ) from None
    return AnalyzeResult.from_api(obj, data=parsed)
