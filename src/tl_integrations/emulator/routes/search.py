"""``POST /search`` (multipart) and ``GET /search/{page_token}``: cosine ranking of clips."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..apierror import JSONResponse
from ..backend.errors import Invalid
from ..backend.search import THRESHOLDS, Hit, SearchPage, SearchRequest, VideoGroup
from ..ids import rfc3339
from ..multipart import Form
from .params import as_bool, as_int, backend_of, form_of

__all__ = ["confidence", "routes"]


def confidence(similarity: float) -> str:
    """Marengo 2.7's confidence label for a cosine similarity.

    Example:
        >>> confidence(0.62), confidence(0.2), confidence(0.01)
        ('high', 'low', 'extremely low')
    """
    for label in ("high", "medium", "low"):
        if similarity >= THRESHOLDS[label]:
            return label
    return "extremely low"


def _filter(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise Invalid(
            "filter",
            f"filter must be a JSON object, got {raw[:200]!r}.",
            code="search_filter_invalid",
        )
    return data


def _request(form: Form) -> SearchRequest:
    return SearchRequest(
        index_id=form.get("index_id"),
        text=form.get("query_text"),
        options=form.getlist("search_options"),
        operator=(form.get("operator") or "or").lower(),
        threshold=form.get("threshold"),
        filter=_filter(form.get("filter")),
        group_by=form.get("group_by") or "clip",
        page_limit=as_int(form.get("page_limit"), field="page_limit", default=10),
        with_metadata=as_bool(form.get("include_user_metadata")),
        media_query=bool(
            form.get("query_media_url")
            or form.file("query_media_file")
            or form.get("query_media_type")
        ),
    )


def _hit_json(hit: Hit, *, marengo: str, with_metadata: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"video_id": hit.video.id, "start": hit.start_s, "end": hit.end_s}
    if marengo == "marengo3.0":
        item["rank"] = hit.rank
    else:
        item.update(
            score=round(max(hit.similarity, 0.0) * 100.0, 2), confidence=confidence(hit.similarity)
        )
    if hit.transcription:
        item["transcription"] = hit.transcription
    if with_metadata:
        item["user_metadata"] = hit.video.user_metadata
    return item


def _page_json(page: SearchPage) -> dict[str, Any]:
    session = page.session

    def render(item: Hit | VideoGroup) -> dict[str, Any]:
        if isinstance(item, VideoGroup):
            return {"id": item.video_id, "clips": [render(c) for c in item.clips]}
        return _hit_json(item, marengo=session.marengo, with_metadata=session.with_metadata)

    info: dict[str, Any] = {
        "limit_per_page": session.page_limit,
        "total_results": session.total_results,
        "page_expires_at": rfc3339(session.expires_at),
        "next_page_token": page.next_token,
        "prev_page_token": page.prev_token,
    }
    if session.total_inner_matches is not None:
        info["total_inner_matches"] = session.total_inner_matches
    return {"search_pool": session.pool, "data": [render(i) for i in page.items], "page_info": info}


async def search(request: Request) -> Response:
    """``POST /search`` (multipart): text queries over clips, grouped by clip or video."""
    backend = backend_of(request)
    form = await form_of(request)
    try:
        search_request = _request(form)
    finally:
        form.cleanup()
    return JSONResponse(_page_json(backend.search.run(search_request)))


async def next_page(request: Request) -> Response:
    """``GET /search/{page_token}``: another page of an earlier search."""
    page = backend_of(request).search.page(request.path_params["page_token"])
    return JSONResponse(_page_json(page))


routes = [
    Route("/search", search, methods=["POST"]),
    Route("/search/{page_token}", next_page, methods=["GET"]),
]
