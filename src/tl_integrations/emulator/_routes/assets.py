"""``/assets``: direct and URL uploads, list, retrieve, delete, user metadata, transcription,
and the indexed assets made from an asset."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._apierror import JSONResponse
from .._backend.assets import AssetFilter, AssetView
from .._backend.ingest import LocalFile, RemoteUrl
from .._backend.records import IndexRec, VideoRec
from .._gate import CONTROL_PREFIX
from .._ids import rfc3339
from .._multipart import Form
from .params import (
    as_bool,
    backend_of,
    form_of,
    json_body,
    listed,
    metadata_text,
    page_request,
)
from .shapes import media_url, page_json, signed_url
from .table import RouteTable

__all__ = ["asset_json", "routes"]

# Asset status -> status of its HLS stream and thumbnail.
_PART_STATUS = {"processing": "processing", "ready": "ready", "failed": "error"}


def asset_json(view: AssetView) -> dict[str, Any]:
    """The ``Asset`` object (what ``POST /assets`` answers).

    Example:
        >>> asset_json(view)["status"]  # doctest: +SKIP
        'processing'
    """
    rec = view.rec
    data: dict[str, Any] = {
        "_id": rec.id,
        "method": rec.method,
        "status": view.status,
        "filename": rec.filename,
        "file_type": rec.file_type,
        "created_at": rfc3339(rec.created_at),
    }
    if rec.user_metadata:
        data["user_metadata"] = rec.user_metadata
    return data


def asset_detail_json(request: Request, view: AssetView) -> dict[str, Any]:
    """The ``AssetDetail`` object: the asset plus what processing found.

    Example:
        >>> asset_detail_json(request, view)["size"]  # doctest: +SKIP
        1048576
    """
    rec, status = view.rec, view.status
    data = asset_json(view)
    part_status = _PART_STATUS[status]
    if view.streamable:
        data["hls"] = {"status": part_status}
        if status == "ready":
            data["hls"]["manifest_url"] = media_url(request, rec.id)
    if view.has_thumbnail:
        data["thumbnail"] = {"status": part_status}
        if status == "ready":
            path = f"{CONTROL_PREFIX}/thumbnails/{rec.id}.png"
            data["thumbnail"]["representative_url"] = signed_url(request, path)
    if status != "processing":
        data["technical_metadata"] = rec.technical
    if status == "ready":
        data["size"] = rec.size_bytes
        if rec.info is not None:
            data["duration"] = round(rec.info.duration_s, 3)
    if status == "failed":
        data["error"] = {"message": rec.error or "The asset could not be processed."}
    return data


def _source(form: Form, method: str | None) -> LocalFile | RemoteUrl | None:
    """The file part (``method=direct``) or the URL (``method=url``) the method asks for;
    the file part is detached from the form, so its cleanup leaves it to the backend."""
    url, part = form.get("url"), form.file("file")
    if method == "url" and url:
        return RemoteUrl(url, field="url")
    if method == "direct" and part is not None:
        form.files["file"].remove(part)
        return LocalFile(part.path, part.filename or "asset")
    return None


routes = RouteTable()


@routes.route("/assets", "POST")
async def create_asset(request: Request) -> Response:
    """``POST /assets`` (multipart): ``method`` direct (``file``) or url (``url``) -> 201."""
    backend = backend_of(request)
    limits = backend.store.config.uploads
    largest = max(limits.direct_bytes, limits.image_bytes)
    with await form_of(request, max_file_bytes=largest) as form:
        user_metadata = metadata_text(form.get("user_metadata"))
        method = form.get("method")
        filename = form.get("filename")
        hls = as_bool(form.get("enable_hls"), default=True)
        thumbnail = as_bool(form.get("enable_thumbnail"), default=True)
        source = _source(form, method)
    view = await backend.assets.create(
        method=method,
        source=source,
        filename=filename,
        enable_hls=hls,
        enable_thumbnail=thumbnail,
        user_metadata=user_metadata,
    )
    return JSONResponse(asset_json(view), status_code=201)


@routes.route("/assets", "GET")
async def list_assets(request: Request) -> Response:
    """``GET /assets``: ``asset_ids``, ``asset_types`` (repeatable), ``filename`` (a
    case-insensitive part); newest first."""
    query = request.query_params
    flt = AssetFilter(
        asset_ids=listed(query, "asset_ids"),
        asset_types=listed(query, "asset_types"),
        filename=query.get("filename") or None,
    )
    page = backend_of(request).assets.list(flt, page_request(query))
    return page_json(page, lambda v: asset_detail_json(request, v))


@routes.route("/assets/{asset_id}", "GET")
async def get_asset(request: Request) -> Response:
    """``GET /assets/{asset_id}``."""
    view = backend_of(request).assets.get(request.path_params["asset_id"])
    return JSONResponse(asset_detail_json(request, view))


@routes.route("/assets/{asset_id}", "DELETE")
async def delete_asset(request: Request) -> Response:
    """``DELETE /assets/{asset_id}?force=`` -> 204; 409 while indexed assets use it."""
    force = as_bool(request.query_params.get("force"))
    backend_of(request).assets.delete(request.path_params["asset_id"], force=force)
    return Response(status_code=204)


_MODES = {"PATCH": "merge", "PUT": "replace", "DELETE": "clear"}


@routes.route("/assets/{asset_id}/user-metadata", "PATCH", "PUT", "DELETE")
async def user_metadata(request: Request) -> Response:
    """``PATCH`` (merge), ``PUT`` (replace) or ``DELETE`` (clear) the user metadata -> 204."""
    body = await json_body(request) if request.method != "DELETE" else {}
    backend_of(request).assets.update_metadata(
        request.path_params["asset_id"],
        mode=_MODES[request.method],
        user_metadata=body.get("user_metadata"),
    )
    return Response(status_code=204)


@routes.route("/assets/{asset_id}/transcription", "GET")
async def transcription(request: Request) -> Response:
    """``GET /assets/{asset_id}/transcription?include=``: words, sentences, utterances."""
    found = backend_of(request).assets.transcription(
        request.path_params["asset_id"], listed(request.query_params, "include")
    )
    data: dict[str, Any] = {"status": found.status}
    for name, spans in found.segmentations.items():
        data[name] = [
            {"start": s.start, "end": s.end, "value": s.value}
            | ({"speaker": s.speaker} if s.speaker is not None else {})
            for s in spans
        ]
    if found.error is not None:
        data["error"] = {"message": found.error}
    return JSONResponse(data)


def _indexed_in(found: tuple[VideoRec, IndexRec]) -> dict[str, Any]:
    video, index = found
    return {"_id": video.id, "index": {"_id": index.id, "name": index.name}}


@routes.route("/assets/{asset_id}/indexed-assets", "GET")
async def indexed_assets_of(request: Request) -> Response:
    """``GET /assets/{asset_id}/indexed-assets``: ``[{_id, index: {_id, name}}]``, paged."""
    page = backend_of(request).videos.by_asset(
        request.path_params["asset_id"], page_request(request.query_params)
    )
    return page_json(page, _indexed_in)
