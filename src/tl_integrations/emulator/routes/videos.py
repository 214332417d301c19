"""``/indexes/{index_id}/videos``: list, retrieve (embeddings, transcription), update, delete."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..apierror import JSONResponse
from ..backend.videos import SYSTEM_FIELDS, VideoFilter, VideoView
from ..ids import rfc3339
from .params import (
    as_bool,
    backend_of,
    json_body,
    metadata_filter,
    page_request,
    ranges_of,
    sort_of,
    time_range_of,
)
from .shapes import hls_json, page_info, segment_json, system_metadata, transcription_json

__all__ = ["routes"]

_RESERVED = re.compile(
    r"^(page|page_limit|sort_by|sort_option|filename|user_metadata|"
    r"(duration|fps|width|height|size|created_at|updated_at)(\[(gte|lte)\])?)$"
)


def _base_json(view: VideoView, *, with_size: bool) -> dict[str, Any]:
    video = view.rec
    return {
        "_id": video.id,
        "asset_id": video.asset_id,
        "created_at": rfc3339(video.created_at),
        "updated_at": rfc3339(view.updated_at),
        "indexed_at": rfc3339(view.indexed_at),
        "system_metadata": system_metadata(video.info, with_size=with_size),
    }


async def list_videos(request: Request) -> Response:
    """``GET /indexes/{index_id}/videos``: range filters and user-metadata keys as query keys."""
    query = request.query_params
    flt = VideoFilter(
        filename=query.get("filename") or None,
        ranges=ranges_of(query, SYSTEM_FIELDS),
        created=time_range_of(query, "created_at"),
        updated=time_range_of(query, "updated_at"),
        metadata=metadata_filter(query, _RESERVED),
    )
    page = backend_of(request).videos.list(
        request.path_params["index_id"], flt, sort_of(query), page_request(query)
    )
    data = [_base_json(v, with_size=True) for v in page.items]
    return JSONResponse({"data": data, "page_info": page_info(page)})


async def get_video(request: Request) -> Response:
    """``GET /indexes/{index_id}/videos/{video_id}`` (``embedding_option``, ``transcription``)."""
    videos = backend_of(request).videos
    query = request.query_params
    index_id, video_id = request.path_params["index_id"], request.path_params["video_id"]
    view = videos.get(index_id, video_id)
    video = view.rec
    data = _base_json(view, with_size=False)
    if video.user_metadata:
        data["user_metadata"] = video.user_metadata
    if video.enable_stream:
        data["hls"] = hls_json(request, video.id, status="ready", updated_at=view.indexed_at)
    options = query.getlist("embedding_option")
    if options:
        found = videos.embedding(index_id, video_id, options)
        data["embedding"] = {
            "model_name": found.model_name,
            "video_embedding": {"segments": segment_json(found.segments, found.rows)},
        }
    if as_bool(query.get("transcription")):
        data["transcription"] = transcription_json(video.info)
    return JSONResponse(data)


async def update_video(request: Request) -> Response:
    """``PATCH`` (and the older ``PUT``) with ``{"user_metadata"}``: merge; ``null`` deletes."""
    body = await json_body(request)
    backend_of(request).videos.update(
        request.path_params["index_id"],
        request.path_params["video_id"],
        user_metadata=body.get("user_metadata"),
    )
    return Response(status_code=204)


async def delete_video(request: Request) -> Response:
    """``DELETE /indexes/{index_id}/videos/{video_id}`` -> 204."""
    backend_of(request).videos.delete(
        request.path_params["index_id"], request.path_params["video_id"]
    )
    return Response(status_code=204)


_VIDEO = "/indexes/{index_id}/videos/{video_id}"
routes = [
    Route("/indexes/{index_id}/videos", list_videos, methods=["GET"]),
    Route(_VIDEO, get_video, methods=["GET"]),
    Route(_VIDEO, update_video, methods=["PATCH", "PUT"]),
    Route(_VIDEO, delete_video, methods=["DELETE"]),
]
