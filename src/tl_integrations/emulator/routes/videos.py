"""``/indexes/{index_id}/videos``: list, retrieve (embeddings, transcription), update, delete."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..apierror import ApiError, JSONResponse
from ..ids import rfc3339
from ..state import EmulatorState
from ..store import IndexRec, SegmentSet, VideoRec
from .common import (
    as_bool,
    json_body,
    matches_range,
    matches_time,
    metadata_matches,
    page_params,
    paginate,
    sort_records,
    state_of,
)
from .tasks import METADATA_TYPES, forget_video, hls_json

__all__ = ["routes", "segment_json", "transcription_json"]

_SYSTEM_FILTERS = ("duration", "fps", "width", "height", "size")
_RESERVED = re.compile(
    r"^(page|page_limit|sort_by|sort_option|filename|user_metadata|"
    r"(duration|fps|width|height|size|created_at|updated_at)(\[(gte|lte)\])?)$"
)
_EMBEDDING_OPTIONS = ("visual", "audio", "transcription", "visual-text")


def _system_metadata(video: VideoRec, *, with_size: bool) -> dict[str, Any]:
    info = video.info
    assert info is not None
    data: dict[str, Any] = {
        "filename": info.filename,
        "duration": round(info.duration_s, 3),
        "fps": round(info.fps, 3),
        "width": info.width,
        "height": info.height,
    }
    if with_size:
        data["size"] = info.size_bytes
    return data


def _base_json(state: EmulatorState, video: VideoRec, *, with_size: bool) -> dict[str, Any]:
    indexed = state.video_ready_at(video) or video.created_at
    return {
        "_id": video.id,
        "asset_id": video.asset_id,
        "created_at": rfc3339(video.created_at),
        "updated_at": rfc3339(video.updated_at or indexed),
        "indexed_at": rfc3339(indexed),
        "system_metadata": _system_metadata(video, with_size=with_size),
    }


def segment_json(segments: SegmentSet, rows: list[int]) -> list[dict[str, Any]]:
    """v1 segment objects (``float``, ``start_offset_sec`` ...) for the given rows.

    Example:
        >>> segment_json(SegmentSet.empty(dim=4), [])
        []
    """
    return [
        {
            "start_offset_sec": float(segments.start_s[i]),
            "end_offset_sec": float(segments.end_s[i]),
            "embedding_scope": segments.scope[i],
            "embedding_option": segments.option[i],
            "float": segments.vectors[i],
        }
        for i in rows
    ]


def transcription_json(video: VideoRec) -> list[dict[str, Any]]:
    """``[{start, end, value}]`` from the video's subtitle track (empty without one).

    Example:
        >>> transcription_json(video)[0]["value"]  # doctest: +SKIP
        'Welcome back.'
    """
    info = video.info
    utterances = info.utterances if info is not None else ()
    return [{"start": u.start_s, "end": u.end_s, "value": u.text} for u in utterances]


def _embedding_json(
    state: EmulatorState, index: IndexRec, video: VideoRec, options: list[str]
) -> dict[str, Any]:
    bad = [o for o in options if o not in _EMBEDDING_OPTIONS or o not in index.embedding_options]
    if bad or not index.marengo:
        raise ApiError(
            400,
            "parameter_invalid",
            f"embedding_option {bad or options!r} is not available for this index; it offers "
            f"{index.embedding_options}.",
            details={"field": "embedding_option"},
        )
    segments = state.store.segments.get(video.id) or SegmentSet.empty(dim=index.dim)
    rows = segments.rows(options=options)
    name = {"marengo2.7": "Marengo-retrieval-2.7"}.get(index.marengo, index.marengo)
    return {"model_name": name, "video_embedding": {"segments": segment_json(segments, rows)}}


def _video_matches(state: EmulatorState, video: VideoRec, query: Any) -> bool:
    info = video.info
    if info is None or (query.get("filename") and info.filename != query["filename"]):
        return False
    values = {
        "duration": info.duration_s,
        "fps": info.fps,
        "width": info.width,
        "height": info.height,
        "size": info.size_bytes,
    }
    if not all(matches_range(values[name], query, name) for name in _SYSTEM_FILTERS):
        return False
    indexed = state.video_ready_at(video) or video.created_at
    if not (
        matches_time(video.created_at, query, "created_at")
        and matches_time(video.updated_at or indexed, query, "updated_at")
    ):
        return False
    wanted = {k: v for k, v in query.items() if not _RESERVED.match(k)}
    return metadata_matches(video.user_metadata, wanted)


async def list_videos(request: Request) -> Response:
    """``GET /indexes/{index_id}/videos``: range filters and user-metadata keys as query keys."""
    state = state_of(request)
    query = request.query_params
    page, limit = page_params(query)
    with state.lock:
        index = state.index(request.path_params["index_id"])
        found = [v for v in state.ready_videos(index.id) if _video_matches(state, v, query)]
        keys = {
            "created_at": lambda v: v.created_at,
            "updated_at": lambda v: v.updated_at or state.video_ready_at(v) or v.created_at,
        }
        items, info = paginate(sort_records(found, query, keys), page=page, limit=limit)
        data = [_base_json(state, v, with_size=True) for v in items]
    return JSONResponse({"data": data, "page_info": info})


async def get_video(request: Request) -> Response:
    """``GET /indexes/{index_id}/videos/{video_id}`` (``embedding_option``, ``transcription``)."""
    state = state_of(request)
    query = request.query_params
    with state.lock:
        index = state.index(request.path_params["index_id"])
        video = state.video(index.id, request.path_params["video_id"])
        data = _base_json(state, video, with_size=False)
        if video.user_metadata:
            data["user_metadata"] = video.user_metadata
        if video.enable_stream:
            data["hls"] = hls_json(
                request, video, status="ready", updated_at=state.video_ready_at(video) or 0.0
            )
        options = query.getlist("embedding_option")
        if options:
            data["embedding"] = _embedding_json(state, index, video, options)
        if as_bool(query.get("transcription")):
            data["transcription"] = transcription_json(video)
    return JSONResponse(data)


def _merge_metadata(video: VideoRec, update: Any) -> None:
    if not isinstance(update, dict):
        raise ApiError(
            400,
            "parameter_invalid",
            "user_metadata must be an object.",
            details={"field": "user_metadata"},
        )
    for key, value in update.items():
        if value is None:
            video.user_metadata.pop(key, None)
        elif isinstance(value, METADATA_TYPES) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            video.user_metadata[key] = value
        else:
            raise ApiError(
                400,
                "parameter_invalid",
                f"user_metadata.{key}: unsupported value {value!r}.",
                details={"field": f"user_metadata.{key}"},
            )


async def update_video(request: Request) -> Response:
    """``PATCH`` (and the older ``PUT``) with ``{"user_metadata"}``: merge; ``null`` deletes."""
    state = state_of(request)
    body = await json_body(request)
    with state.lock:
        video = state.video(request.path_params["index_id"], request.path_params["video_id"])
        _merge_metadata(video, body.get("user_metadata") or {})
        video.updated_at = state.now()
        state.save()
    return Response(status_code=204)


async def delete_video(request: Request) -> Response:
    """``DELETE /indexes/{index_id}/videos/{video_id}`` -> 204."""
    state = state_of(request)
    with state.lock:
        video = state.video(request.path_params["index_id"], request.path_params["video_id"])
        forget_video(state, video)
        state.save()
    return Response(status_code=204)


_VIDEO = "/indexes/{index_id}/videos/{video_id}"
routes = [
    Route("/indexes/{index_id}/videos", list_videos, methods=["GET"]),
    Route(_VIDEO, get_video, methods=["GET"]),
    Route(_VIDEO, update_video, methods=["PATCH", "PUT"]),
    Route(_VIDEO, delete_video, methods=["DELETE"]),
]
