"""``/assets/multipart-uploads``: sessions of large uploads sent in chunks.

The chunks themselves go to presigned URLs that the emulator serves too (``storage.py``);
this module renders those URLs from the backend's grants.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._apierror import JSONResponse
from .._backend.uploads import Grant, SessionView
from .._gate import STORAGE_PREFIX
from .._ids import rfc3339
from .params import backend_of, json_body, page_request
from .shapes import media_url, page_info, page_json
from .table import RouteTable

__all__ = ["UPLOAD_HEADERS", "routes"]

#: Headers a chunk PUT should carry (the emulator accepts any, as S3 does for this one).
UPLOAD_HEADERS = {"Content-Type": "application/octet-stream"}


def _urls(request: Request, upload_id: str, grants: list[Grant]) -> list[dict[str, Any]]:
    base = str(request.base_url).rstrip("/")
    return [
        {
            "chunk_index": g.chunk_index,
            "url": f"{base}{STORAGE_PREFIX}/{upload_id}/{g.chunk_index}?sig={g.signature}",
            "expires_at": rfc3339(g.expires_at),
        }
        for g in grants
    ]


_ONE = "/assets/multipart-uploads/{upload_id}"
routes = RouteTable()


@routes.route("/assets/multipart-uploads", "POST")
async def create_session(request: Request) -> Response:
    """``POST /assets/multipart-uploads`` -> 201 with the first presigned URLs."""
    body = await json_body(request)
    rec, grants = backend_of(request).uploads.create(
        filename=body.get("filename"),
        type=body.get("type"),
        total_size=body.get("total_size"),
        enable_hls=body.get("enable_hls"),
        enable_thumbnail=body.get("enable_thumbnail"),
        user_metadata=body.get("user_metadata"),
    )
    data = {
        "upload_id": rec.id,
        "asset_id": rec.asset_id,
        "upload_urls": _urls(request, rec.id, grants),
        "upload_headers": UPLOAD_HEADERS,
        "chunk_size": rec.chunk_size,
        "total_chunks": rec.total_chunks,
        "expires_at": rfc3339(rec.expires_at),
    }
    return JSONResponse(data, status_code=201)


@routes.route(_ONE, "POST")
async def report_chunks(request: Request) -> Response:
    """``POST /assets/multipart-uploads/{upload_id}``: report uploaded chunks; ``url``
    appears once every chunk is reported."""
    body = await json_body(request)
    result = await backend_of(request).uploads.report(
        request.path_params["upload_id"], body.get("completed_chunks")
    )
    data: dict[str, Any] = {
        "asset_id": result.asset_id,
        "processed_chunks": result.processed,
        "duplicate_chunks": result.duplicates,
        "total_completed": result.total_completed,
    }
    if result.complete:
        data["url"] = media_url(request, result.asset_id)
    return JSONResponse(data)


@routes.route(_ONE + "/presigned-urls", "POST")
async def presigned_urls(request: Request) -> Response:
    """``POST /assets/multipart-uploads/{upload_id}/presigned-urls`` ``{start, count}``."""
    body = await json_body(request)
    upload_id = request.path_params["upload_id"]
    rec, grants = backend_of(request).uploads.grant(
        upload_id, start=body.get("start"), count=body.get("count")
    )
    data = {
        "upload_id": rec.id,
        "start_index": grants[0].chunk_index,
        "count": len(grants),
        "upload_urls": _urls(request, rec.id, grants),
        "generated_at": rfc3339(grants[0].issued_at),
        "expires_at": rfc3339(grants[0].expires_at),
    }
    return JSONResponse(data)


def _times(view: SessionView) -> dict[str, Any]:
    rec = view.rec
    return {
        "created_at": rfc3339(rec.created_at),
        "updated_at": rfc3339(rec.updated_at or rec.created_at),
    }


@routes.route(_ONE, "GET")
async def session_status(request: Request) -> Response:
    """``GET /assets/multipart-uploads/{upload_id}``: status, counters and a page of chunks."""
    view, page = backend_of(request).uploads.status(
        request.path_params["upload_id"], page_request(request.query_params)
    )
    chunks = []
    for c in page.items:
        chunk: dict[str, Any] = {
            "index": c.index,
            "status": c.status,
            "uploaded_at": rfc3339(c.uploaded_at) if c.uploaded_at is not None else None,
            "updated_at": rfc3339(c.updated_at) if c.updated_at is not None else None,
        }
        if c.error is not None:
            chunk["error"] = c.error
        chunks.append(chunk)
    data = {
        "upload_id": view.rec.id,
        "status": view.status,
        "uploaded_chunks": chunks,
        "chunks_completed": view.completed,
        "chunks_failed": view.failed,
        "chunks_pending": view.pending,
        "page_info": page_info(page),
        "total_size": view.rec.total_size,
        "uploaded_size": view.uploaded_size,
        **_times(view),
    }
    return JSONResponse(data)


def _session_summary(view: SessionView) -> dict[str, Any]:
    return {
        "upload_id": view.rec.id,
        "status": view.status,
        "total_size": view.rec.total_size,
        "chunk_size": view.rec.chunk_size,
        "total_chunks": view.rec.total_chunks,
        "created_at": rfc3339(view.rec.created_at),
        "expires_at": rfc3339(view.rec.expires_at),
    }


@routes.route("/assets/multipart-uploads", "GET")
async def list_sessions(request: Request) -> Response:
    """``GET /assets/multipart-uploads``: sessions not completed, newest first."""
    page = backend_of(request).uploads.incomplete(page_request(request.query_params))
    return page_json(page, _session_summary)
