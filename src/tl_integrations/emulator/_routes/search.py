"""``POST /search`` (multipart) and ``GET /search/{page_token}``: clips ranked against text,
images (``query_media_url`` / ``query_media_file``, repeatable) and entities, each with a
thumbnail the emulator serves (a frame of the video in the middle of the clip)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._apierror import JSONResponse
from .._backend.errors import Invalid
from .._backend.ingest import LocalFile, RemoteUrl
from .._backend.search import THRESHOLDS, Hit, SearchPage, SearchRequest, VideoGroup
from .._gate import CONTROL_PREFIX
from .._ids import rfc3339
from .._multipart import Form
from .params import as_bool, as_int, backend_of, form_of, json_text
from .shapes import signed_url
from .table import RouteTable

__all__ = ["confidence", "routes", "thumbnail_url"]


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
    data = json_text(raw)
    if data is None:
        raise Invalid(
            "filter",
            f"filter must be a JSON object, got {(raw or '')[:200]!r}.",
            code="search_filter_invalid",
        )
    return data


def _images(form: Form) -> tuple[LocalFile | RemoteUrl, ...]:
    """The query images: every URL, then every file part (detached from the form, so the
    search deletes them once read)."""
    urls = [RemoteUrl(u, field="query_media_url") for u in form.fields.get("query_media_url", [])]
    parts = form.files.pop("query_media_file", [])
    return (*urls, *(LocalFile(p.path, p.filename or "image") for p in parts))


def _request(form: Form) -> SearchRequest:
    transcription = form.getlist("transcription_options")
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
        media_type=form.get("query_media_type") or None,
        transcription_options=tuple(transcription) if transcription else None,
        images=_images(form),
    )


def thumbnail_url(request: Request, video_id: str, start_s: float, end_s: float) -> str:
    """Where the emulator serves the frame in the middle of a clip, signed (as the API's
    thumbnail links work without the key).

    Example:
        >>> thumbnail_url(request, "v1", 2.0, 5.0)  # doctest: +SKIP
        'http://127.0.0.1:8765/_emulator/thumbnails/v1/3.5.png?sig=5f0c...'
    """
    at_s = round((start_s + end_s) / 2, 3)
    return signed_url(request, f"{CONTROL_PREFIX}/thumbnails/{video_id}/{at_s:g}.png")


def _hit_json(request: Request, hit: Hit, *, marengo: str, with_metadata: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "video_id": hit.video.id,
        "start": hit.start_s,
        "end": hit.end_s,
        "thumbnail_url": thumbnail_url(request, hit.video.id, hit.start_s, hit.end_s),
    }
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


def _page_json(request: Request, page: SearchPage, *, with_metadata: bool) -> dict[str, Any]:
    session = page.session

    def render(item: Hit | VideoGroup) -> dict[str, Any]:
        if isinstance(item, VideoGroup):
            return {"id": item.video_id, "clips": [render(c) for c in item.clips]}
        return _hit_json(request, item, marengo=session.marengo, with_metadata=with_metadata)

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


routes = RouteTable()


@routes.route("/search", "POST")
async def search(request: Request) -> Response:
    """``POST /search`` (multipart): text, image, composed and entity queries over clips,
    grouped by clip or video."""
    backend = backend_of(request)
    with await form_of(request, max_file_bytes=backend.store.config.uploads.image_bytes) as form:
        search_request = _request(form)
    page = await backend.search.run(search_request)
    return JSONResponse(_page_json(request, page, with_metadata=search_request.with_metadata))


@routes.route("/search/{page_token}", "GET")
async def next_page(request: Request) -> Response:
    """``GET /search/{page_token}?include_user_metadata=``: another page of an earlier
    search, with user metadata as this request says (as the first request said when it
    says nothing)."""
    page = backend_of(request).search.page(request.path_params["page_token"])
    raw = request.query_params.get("include_user_metadata")
    with_metadata = as_bool(raw, default=page.session.with_metadata)
    return JSONResponse(_page_json(request, page, with_metadata=with_metadata))
