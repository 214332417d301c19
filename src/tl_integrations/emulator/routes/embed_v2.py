"""Embed API v2 (Marengo 3.0): ``POST /embed-v2`` (text) and ``/embed-v2/tasks``.

Field names differ from v1 (``embedding``, ``start_sec``, scope ``asset``) and errors use the
wrapped ``{"error": {...}}`` shape (the app picks it for every ``/embed-v2`` path).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..apierror import JSONResponse
from ..backend.embeddings import EmbedView
from ..ids import rfc3339
from ..segments import SegmentSet
from .params import backend_of, embed_task_filter, json_body, media_source, page_request
from .shapes import page_info

__all__ = ["routes"]


async def embed_v2(request: Request) -> Response:
    """``POST /embed-v2``: ``input_type: text`` only; other types answer a clear 400."""
    body = await json_body(request)
    text_obj = body.get("text")
    vector = backend_of(request).embeddings.text_v2(
        body.get("model_name"),
        body.get("input_type"),
        text_obj.get("input_text") if isinstance(text_obj, dict) else None,
        auto_truncate=body.get("auto_truncate", True) is not False,
    )
    item = {
        "embedding": vector,
        "embedding_option": None,
        "embedding_scope": None,
        "start_sec": None,
        "end_sec": None,
    }
    return JSONResponse({"data": [item]})


async def create_task_v2(request: Request) -> Response:
    """``POST /embed-v2/tasks`` -> 202 ``{"_id", "status": "processing", "data": null}``."""
    body = await json_body(request)
    input_type = body.get("input_type")
    spec = body.get(input_type) if isinstance(input_type, str) else None
    source = None
    if isinstance(spec, dict) and spec.get("media_source") is not None:
        source = media_source(spec["media_source"], field=f"{input_type}.media_source")
    rec = await backend_of(request).embeddings.create_v2(
        body.get("model_name"), input_type, spec, source=source
    )
    location = str(request.url_for("embed_v2_task", task_id=rec.id))
    return JSONResponse(
        {"_id": rec.id, "status": "processing", "data": None},
        status_code=202,
        headers={"Location": location},
    )


def _data_json(segments: SegmentSet) -> list[dict[str, Any]]:
    return [
        {
            "embedding": segments.vectors[i],
            "embedding_option": segments.option[i],
            "embedding_scope": segments.scope[i],
            "start_sec": float(segments.start_s[i]),
            "end_sec": float(segments.end_s[i]),
        }
        for i in range(len(segments))
    ]


def _task_json(view: EmbedView) -> dict[str, Any]:
    rec = view.rec
    data: dict[str, Any] = {
        "_id": rec.id,
        "status": view.status,
        "created_at": rfc3339(rec.created_at),
        "updated_at": rfc3339(view.updated_at),
        "data": None,
        "metadata": rec.params.get("metadata"),
    }
    if view.segments is not None:
        data["data"] = _data_json(view.segments)
    elif view.status == "failed":
        data["error"] = {"message": rec.error}
    return data


async def get_task_v2(request: Request) -> Response:
    """``GET /embed-v2/tasks/{task_id}``: status, and the vectors once ready."""
    view = backend_of(request).embeddings.get(request.path_params["task_id"], api="v2")
    return JSONResponse(_task_json(view))


def _list_item(view: EmbedView) -> dict[str, Any]:
    rec = view.rec
    meta = rec.params.get("metadata") or {}
    kind = meta.get("input_type", "video")
    v1_meta = {k: v for k, v in meta.items() if k in ("input_url", "input_filename", "duration")}
    v1_meta[f"{kind}_embedding_scope"] = meta.get("embedding_scopes", [])
    v1_meta[f"{kind}_embedding_option"] = meta.get("embedding_options", [])
    if kind == "video":
        v1_meta["video_clip_length"] = meta.get("clip_length")
    return {
        "_id": rec.id,
        "model_name": rec.model_name,
        "status": view.status,
        "created_at": rfc3339(rec.created_at),
        "updated_at": rfc3339(view.updated_at),
        f"{kind}_embedding": {"metadata": v1_meta},
    }


async def list_tasks_v2(request: Request) -> Response:
    """``GET /embed-v2/tasks`` (same filters as v1)."""
    query = request.query_params
    page = backend_of(request).embeddings.list(
        api="v2", flt=embed_task_filter(query), page=page_request(query)
    )
    data = [_list_item(v) for v in page.items]
    return JSONResponse({"data": data, "page_info": page_info(page)})


routes = [
    Route("/embed-v2", embed_v2, methods=["POST"]),
    Route("/embed-v2/tasks", create_task_v2, methods=["POST"]),
    Route("/embed-v2/tasks", list_tasks_v2, methods=["GET"]),
    Route("/embed-v2/tasks/{task_id}", get_task_v2, methods=["GET"], name="embed_v2_task"),
]
