"""``POST /search`` (multipart) and ``GET /search/{page_token}``: cosine ranking of clips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import semantics
from ..apierror import ApiError, JSONResponse
from ..ids import rfc3339
from ..multipart import Form
from ..segments import segment_text
from ..state import EmulatorState
from ..store import IndexRec, VideoRec
from .common import as_bool, as_int, form_of, invalid, missing, state_of
from .embed import truncate_text

__all__ = ["confidence", "routes"]

# search option -> embedding option, per Marengo version
_SEARCH_OPTIONS = {
    "marengo2.7": {"visual": "visual-text", "audio": "audio"},
    "marengo3.0": {"visual": "visual", "audio": "audio", "transcription": "transcription"},
}
_TEXT_LIMITS = {"marengo2.7": 77, "marengo3.0": 500}
_THRESHOLDS = {"high": 0.5, "medium": 0.3, "low": 0.15, "none": -1.0}
MIN_SIMILARITY = 0.05  # below this a clip is noise, not a match
_MAX_SESSIONS = 1000


def confidence(similarity: float) -> str:
    """Marengo 2.7's confidence label for a cosine similarity.

    Example:
        >>> confidence(0.62), confidence(0.2), confidence(0.01)
        ('high', 'low', 'extremely low')
    """
    for label in ("high", "medium", "low"):
        if similarity >= _THRESHOLDS[label]:
            return label
    return "extremely low"


@dataclass
class SearchSession:
    """The ranked results of one search, served page by page."""

    id: str
    pages: list[list[dict[str, Any]]]
    page_limit: int
    total_results: int
    total_inner_matches: int | None
    pool: dict[str, Any]
    expires_at: float


def _filter_ok(video: VideoRec, flt: dict[str, Any]) -> bool:
    info = video.info
    assert info is not None
    system = {
        "duration": info.duration_s,
        "width": info.width,
        "height": info.height,
        "size": info.size_bytes,
        "fps": info.fps,
    }
    for key, want in flt.items():
        if key == "id":
            ok = video.id in (want if isinstance(want, list) else [want])
        elif key == "filename":
            ok = info.filename == want
        elif key in system and isinstance(want, dict):
            ok = want.get("gte", -np.inf) <= system[key] <= want.get("lte", np.inf)
        elif key in system:
            ok = abs(system[key] - float(want)) < 1e-6
        else:
            have = video.user_metadata.get(key)
            ok = have == want or (isinstance(want, list) and have in want)
        if not ok:
            return False
    return True


def _parse_filter(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise ApiError(
            400, "search_filter_invalid", f"filter must be a JSON object, got {raw[:200]!r}."
        )
    return data


def _clip_scores(
    state: EmulatorState,
    video: VideoRec,
    query: NDArray[np.float32],
    options: list[str],
    operator: str,
) -> list[tuple[float, float, float]]:
    segments = state.store.segments.get(video.id)
    if segments is None:
        return []
    per_option = []
    for option in options:
        rows = segments.rows(options=[option], scope="clip")
        per_option.append((rows, segments.vectors[rows] @ query if rows else np.zeros(0)))
    rows0 = per_option[0][0]
    stacked = np.vstack([sims for _, sims in per_option]) if rows0 else np.zeros((1, 0))
    combined = stacked.max(axis=0) if operator == "or" else stacked.min(axis=0)
    return [
        (float(segments.start_s[r]), float(segments.end_s[r]), float(s))
        for r, s in zip(rows0, combined, strict=True)
    ]


def _item(
    video: VideoRec,
    start: float,
    end: float,
    sim: float,
    rank: int,
    *,
    marengo: str,
    with_meta: bool,
) -> dict[str, Any]:
    item: dict[str, Any] = {"video_id": video.id, "start": start, "end": end}
    if marengo == "marengo3.0":
        item["rank"] = rank
    else:
        item.update(score=round(max(sim, 0.0) * 100.0, 2), confidence=confidence(sim))
    assert video.info is not None
    text = segment_text(video.info, start, end)
    if text:
        item["transcription"] = text
    if with_meta:
        item["user_metadata"] = video.user_metadata
    return item


def _options(form: Form, index: IndexRec) -> list[str]:
    wanted = form.getlist("search_options")
    if not wanted:
        raise missing("search_options")
    table = _SEARCH_OPTIONS[index.marengo or "marengo3.0"]
    for option in wanted:
        if option not in table or table[option] not in index.embedding_options:
            raise ApiError(
                400,
                "search_option_not_supported",
                f"The search option {option!r} is not supported by this index "
                f"({index.marengo}, options {index.model_options}).",
            )
    return [table[o] for o in dict.fromkeys(wanted)]


def _rank(
    state: EmulatorState, index: IndexRec, form: Form, query: NDArray[np.float32]
) -> list[tuple[VideoRec, float, float, float]]:
    options = _options(form, index)
    operator = (form.get("operator") or "or").lower()
    if operator not in ("or", "and"):
        raise invalid("operator", f"must be or/and, got {operator!r}")
    floor = MIN_SIMILARITY
    if index.marengo == "marengo2.7":
        floor = max(floor, _THRESHOLDS.get((form.get("threshold") or "low").lower(), 0.15))
    flt = _parse_filter(form.get("filter"))
    hits = []
    for video in state.ready_videos(index.id):
        if _filter_ok(video, flt):
            hits += [
                (video, s, e, sim)
                for s, e, sim in _clip_scores(state, video, query, options, operator)
                if sim >= floor
            ]
    hits.sort(key=lambda h: (-h[3], h[0].created_at, h[1]))
    return hits


def _paged(
    hits: list[tuple[VideoRec, float, float, float]],
    *,
    index: IndexRec,
    by_video: bool,
    limit: int,
    with_meta: bool,
) -> tuple[list[list[dict[str, Any]]], int]:
    items = [
        _item(v, s, e, sim, n + 1, marengo=index.marengo or "", with_meta=with_meta)
        for n, (v, s, e, sim) in enumerate(hits)
    ]
    if by_video:
        groups: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            groups.setdefault(item["video_id"], []).append(item)
        items = [{"id": vid, "clips": clips} for vid, clips in groups.items()]
    pages = [items[i : i + limit] for i in range(0, len(items), limit)] or [[]]
    return pages, len(items)


def _page(session: SearchSession, number: int) -> dict[str, Any]:
    info: dict[str, Any] = {
        "limit_per_page": session.page_limit,
        "total_results": session.total_results,
        "page_expires_at": rfc3339(session.expires_at),
        "next_page_token": f"{session.id}-{number + 1}"
        if number + 1 < len(session.pages)
        else None,
        "prev_page_token": f"{session.id}-{number - 1}" if number > 0 else None,
    }
    if session.total_inner_matches is not None:
        info["total_inner_matches"] = session.total_inner_matches
    return {"search_pool": session.pool, "data": session.pages[number], "page_info": info}


async def search(request: Request) -> Response:
    """``POST /search`` (multipart): text queries over clips, grouped by clip or video."""
    state = state_of(request)
    form = await form_of(request)
    try:
        session = _search(state, form)
    finally:
        form.cleanup()
    return JSONResponse(_page(session, 0))


def _request_params(form: Form) -> tuple[str, str, str, int]:
    """(index_id, query_text, group_by, page_limit), validated."""
    index_id = form.get("index_id")
    if not index_id:
        raise missing("index_id")
    if form.get("query_media_url") or form.file("query_media_file") or form.get("query_media_type"):
        raise invalid("query_media_type", "the emulator searches with text only (query_text)")
    text = form.get("query_text")
    if not text:
        raise missing("query_text")
    group_by = form.get("group_by") or "clip"
    if group_by not in ("clip", "video"):
        raise invalid("group_by", f"must be clip or video, got {group_by!r}")
    limit = as_int(form.get("page_limit"), field="page_limit", default=10)
    if not 1 <= limit <= 50:
        raise invalid("page_limit", f"must be between 1 and 50, got {limit}")
    return index_id, text, group_by, limit


def _pool(state: EmulatorState, index: IndexRec) -> dict[str, Any]:
    videos = state.ready_videos(index.id)
    duration = sum(v.info.duration_s for v in videos if v.info)
    return {"total_count": len(videos), "total_duration": round(duration, 3), "index_id": index.id}


def _search(state: EmulatorState, form: Form) -> SearchSession:
    index_id, text, group_by, limit = _request_params(form)
    with state.lock:
        index = state.index(index_id)
        if not index.marengo:
            message = f"The index {index_id!r} has no Marengo model."
            raise ApiError(400, "index_not_supported_for_search", message)
        text = truncate_text(
            text, limit=_TEXT_LIMITS[index.marengo], mode="end", field="query_text"
        )
        hits = _rank(state, index, form, semantics.embed_text(text, dim=index.dim))
        by_video = group_by == "video"
        with_meta = as_bool(form.get("include_user_metadata"))
        pages, total = _paged(
            hits, index=index, by_video=by_video, limit=limit, with_meta=with_meta
        )
        expires = state.now() + state.config.search_page_ttl_s
        inner = len(hits) if by_video else None
        session = SearchSession(
            state.new_id(), pages, limit, total, inner, _pool(state, index), expires
        )
        _remember(state, session)
    return session


def _remember(state: EmulatorState, session: SearchSession) -> None:
    pages = state.search_pages
    pages[session.id] = session
    while len(pages) > _MAX_SESSIONS:
        pages.pop(next(iter(pages)))


async def next_page(request: Request) -> Response:
    """``GET /search/{page_token}``: another page of an earlier search."""
    state = state_of(request)
    token: str = request.path_params["page_token"]
    sid, _, raw = token.rpartition("-")
    with state.lock:
        session = state.search_pages.get(sid)
        if session is None or not raw.isdigit() or int(raw) >= len(session.pages):
            raise invalid("page_token", f"unknown page token {token!r}")
        if state.now() > session.expires_at:
            raise ApiError(
                400, "search_page_token_expired", f"The page token {token!r} has expired."
            )
        data = _page(session, int(raw))
    return JSONResponse(data)


routes = [
    Route("/search", search, methods=["POST"]),
    Route("/search/{page_token}", next_page, methods=["GET"]),
]
