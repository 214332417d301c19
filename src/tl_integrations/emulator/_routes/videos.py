"""The videos of an index, in their two views: ``/indexes/{index_id}/indexed-assets``
(every status; create, list, retrieve, update, delete) and ``/indexes/{index_id}/videos``
(the to-be-deprecated view: ready ones only). One record and one id serve both.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._apierror import JSONResponse
from .._backend.queries import Page
from .._backend.videos import SYSTEM_FIELDS, VideoFilter, VideoView
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
from .shapes import (
    embedding_json,
    hls_json,
    page_json,
    transcription_json,
    video_json,
)
from .table import RouteTable

__all__ = ["indexed_asset_json", "routes"]

Endpoint = Callable[[Request], Awaitable[Response]]
_RANGES = r"(duration|fps|width|height|size|created_at|updated_at)(\[(gte|lte)\])?"
# Query keys that are not user-metadata filters.
_RESERVED_VIDEOS = re.compile(
    rf"^(page|page_limit|sort_by|sort_option|filename|user_metadata|{_RANGES})$"
)
_RESERVED_INDEXED = re.compile(
    rf"^(page|page_limit|sort_by|sort_option|status|filename|user_metadata|{_RANGES})$"
)


def _ids(request: Request) -> tuple[str, str]:
    return request.path_params["index_id"], request.path_params["video_id"]


def _listed(request: Request, *, indexed: bool) -> Page[VideoView]:
    """The page a list asks for: ready videos, or (``indexed``) indexed assets of every
    status, which also filter on ``status``."""
    query = request.query_params
    flt = VideoFilter(
        filename=query.get("filename") or None,
        statuses=tuple(query.getlist("status")) if indexed else (),
        ranges=ranges_of(query, SYSTEM_FIELDS),
        created=time_range_of(query, "created_at"),
        updated=time_range_of(query, "updated_at"),
        metadata=metadata_filter(query, _RESERVED_INDEXED if indexed else _RESERVED_VIDEOS),
        updated_by_patch=indexed,
    )
    return backend_of(request).videos.list(
        request.path_params["index_id"],
        flt,
        sort_of(query),
        page_request(query),
        ready_only=not indexed,
    )


def indexed_asset_json(view: VideoView) -> dict[str, Any]:
    """An ``IndexedAsset`` (list item): the video shape plus ``status`` and user metadata.

    Example:
        >>> indexed_asset_json(view)["status"]  # doctest: +SKIP
        'indexing'
    """
    data = video_json(view, with_size=True)
    data["status"] = view.status
    if view.rec.user_metadata:
        data["user_metadata"] = view.rec.user_metadata
    if view.error is not None:
        # Not in the API (which gives no reason); an emulator extension clients may show.
        data["error"] = view.error
    return data


# ---------------------------------------------------------------------- indexed assets


_INDEXED = "/indexes/{index_id}/indexed-assets"
_VIDEOS = "/indexes/{index_id}/videos"
routes = RouteTable()


@routes.route(_INDEXED, "POST")
async def create_indexed_asset(request: Request) -> Response:
    """``POST /indexes/{index_id}/indexed-assets`` -> 202 ``{"_id", "asset_id"}`` + Location."""
    body = await json_body(request)
    index_id = request.path_params["index_id"]
    video = await backend_of(request).videos.create(
        index_id,
        asset_id=body.get("asset_id"),
        enable_stream=body.get("enable_video_stream") is not False,
        user_metadata=body.get("user_metadata"),
    )
    location = str(request.url_for("indexed_asset", index_id=index_id, video_id=video.id))
    return JSONResponse(
        {"_id": video.id, "asset_id": video.asset_id},
        status_code=202,
        headers={"Location": location},
    )


@routes.route(_INDEXED, "GET")
async def list_indexed_assets(request: Request) -> Response:
    """``GET /indexes/{index_id}/indexed-assets``: every status; filters on status, system
    metadata, times and user metadata (``?key=v`` or ``?user_metadata[key]=v``)."""
    return page_json(_listed(request, indexed=True), indexed_asset_json)


@routes.route(_INDEXED + "/{video_id}", "GET", name="indexed_asset")
async def get_indexed_asset(request: Request) -> Response:
    """``GET .../indexed-assets/{id}`` (``embedding_option``, ``transcription``)."""
    videos = backend_of(request).videos
    query = request.query_params
    index_id, video_id = _ids(request)
    view = videos.get(index_id, video_id, ready_only=False)
    data = indexed_asset_json(view)
    if view.rec.enable_stream:
        data["hls"] = hls_json(request, video_id, status=view.status, updated_at=view.status_at)
    options = query.getlist("embedding_option")
    if options:
        found = videos.embedding(index_id, video_id, options, ready_only=False)
        data["embedding"] = embedding_json(found)
    if as_bool(query.get("transcription")):
        ready = view.status == "ready"
        data["transcription"] = transcription_json(view.rec.info if ready else None)
    return JSONResponse(data)


# ---------------------------------------------------------------------- videos


@routes.route(_VIDEOS, "GET")
async def list_videos(request: Request) -> Response:
    """``GET /indexes/{index_id}/videos``: range filters and user-metadata keys as query keys."""
    return page_json(_listed(request, indexed=False), lambda v: video_json(v, with_size=True))


@routes.route(_VIDEOS + "/{video_id}", "GET")
async def get_video(request: Request) -> Response:
    """``GET /indexes/{index_id}/videos/{video_id}`` (``embedding_option``, ``transcription``)."""
    videos = backend_of(request).videos
    query = request.query_params
    index_id, video_id = _ids(request)
    view = videos.get(index_id, video_id)
    video = view.rec
    data = video_json(view, with_size=False)
    if video.user_metadata:
        data["user_metadata"] = video.user_metadata
    if video.enable_stream:
        data["hls"] = hls_json(request, video.id, status="ready", updated_at=view.status_at)
    options = query.getlist("embedding_option")
    if options:
        data["embedding"] = embedding_json(videos.embedding(index_id, video_id, options))
    if as_bool(query.get("transcription")):
        data["transcription"] = transcription_json(video.info)
    return JSONResponse(data)


# ---------------------------------------------------------------------- both


def _updater(*, ready_only: bool) -> Endpoint:
    async def update(request: Request) -> Response:
        """``PATCH`` with ``{"user_metadata"}``: merge; ``null`` deletes; 204."""
        body = await json_body(request)
        index_id, video_id = _ids(request)
        backend_of(request).videos.update(
            index_id, video_id, user_metadata=body.get("user_metadata"), ready_only=ready_only
        )
        return Response(status_code=204)

    return update


def _deleter(*, ready_only: bool) -> Endpoint:
    async def delete(request: Request) -> Response:
        """``DELETE`` -> 204."""
        index_id, video_id = _ids(request)
        backend_of(request).videos.delete(index_id, video_id, ready_only=ready_only)
        return Response(status_code=204)

    return delete


routes.add(_INDEXED + "/{video_id}", _updater(ready_only=False), "PATCH")
routes.add(_INDEXED + "/{video_id}", _deleter(ready_only=False), "DELETE")
# PUT is the older name of the same merge.
routes.add(_VIDEOS + "/{video_id}", _updater(ready_only=True), "PATCH", "PUT")
routes.add(_VIDEOS + "/{video_id}", _deleter(ready_only=True), "DELETE")
