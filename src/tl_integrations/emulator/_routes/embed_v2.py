"""Embed API v2 (Marengo 3.0 and 3.5): ``POST /embed-v2`` and ``/embed-v2/tasks``.

Field names differ from v1 (``embedding``, ``start_sec``, scope ``asset``) and errors use the
wrapped ``{"error": {...}}`` shape (the app picks it for every ``/embed-v2`` path). Vectors
are stored at 512 dimensions and rendered here at the size the request asked for: the
prefix of each vector (and of its uncertainty vector).
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._apierror import JSONResponse
from .._backend.embeddings import EmbedView, SyncRequest
from .._backend.ingest import AssetRef, Base64Data, RemoteUrl
from .._segments import SegmentSet
from .._vectors import uncertainty
from .params import backend_of, json_body, media_source
from .shapes import embed_task_head, embed_task_page
from .table import RouteTable

__all__ = ["routes"]

_SINGLE = ("image", "text_image", "audio", "video")


def _source(item: Any, field: str) -> RemoteUrl | Base64Data | AssetRef | None:
    return media_source(item, field=field) if isinstance(item, dict) else None


def _sync_request(body: dict[str, Any]) -> SyncRequest:
    input_type = body.get("input_type")
    spec = body.get(input_type) if isinstance(input_type, str) else None
    spec = spec if isinstance(spec, dict) else {}
    sources: list[Any] = []
    if input_type in _SINGLE:
        sources = [_source(spec.get("media_source"), f"{input_type}.media_source")]
    elif input_type == "multi_input":
        items = spec.get("media_sources")
        sources = [
            _source(item, f"multi_input.media_sources[{i}]")
            for i, item in enumerate(items if isinstance(items, list) else [])
        ]
    return SyncRequest(
        model_name=body.get("model_name"),
        input_type=input_type,
        text=spec.get("input_text"),
        spec=spec,
        sources=sources,
        auto_truncate=body.get("auto_truncate"),
        dimension=body.get("embedding_dimension"),
        uncertainty=body.get("embedding_uncertainty"),
    )


routes = RouteTable()


@routes.route("/embed-v2", "POST")
async def embed_v2(request: Request) -> Response:
    """``POST /embed-v2``: the vectors in the answer (every input type of §7.1)."""
    result = await backend_of(request).embeddings.embed_v2(_sync_request(await json_body(request)))
    answer: dict[str, Any] = {
        "data": _data_json(result.segments, result.dimension, result.uncertainty)
    }
    if result.usage is not None:
        answer["usage"] = result.usage
    if result.metadata is not None:
        answer["metadata"] = result.metadata
    return JSONResponse(answer)


@routes.route("/embed-v2/tasks", "POST")
async def create_task_v2(request: Request) -> Response:
    """``POST /embed-v2/tasks`` -> 202 ``{"_id", "status": "processing", "data": null}``."""
    body = await json_body(request)
    input_type = body.get("input_type")
    spec = body.get(input_type) if isinstance(input_type, str) else None
    source = None
    if isinstance(spec, dict) and spec.get("media_source") is not None:
        source = media_source(spec["media_source"], field=f"{input_type}.media_source")
    rec = await backend_of(request).embeddings.create_v2(
        body.get("model_name"),
        input_type,
        spec,
        source=source,
        dimension=body.get("embedding_dimension"),
        uncertainty=body.get("embedding_uncertainty"),
    )
    location = str(request.url_for("embed_v2_task", task_id=rec.id))
    answer: dict[str, Any] = {"_id": rec.id, "status": "processing", "data": None}
    if rec.model_name == "marengo3.5":  # only 3.5 reports the size it makes
        answer["metadata"] = {"embedding_dimension": rec.params.get("dimension")}
    return JSONResponse(answer, status_code=202, headers={"Location": location})


def _seconds(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _data_json(segments: SegmentSet, dimension: int, uncertain: bool) -> list[dict[str, Any]]:
    """The rows at ``dimension`` (the prefix of each stored vector), with the document
    columns when the rows have them and uncertainty vectors when asked."""
    items = []
    for i in range(len(segments)):
        vector = segments.vectors[i]
        item: dict[str, Any] = {
            "embedding": vector[:dimension],
            "embedding_option": segments.option[i] or None,
            "embedding_scope": segments.scope[i] or None,
            "start_sec": _seconds(segments.start_s[i]),
            "end_sec": _seconds(segments.end_s[i]),
        }
        if uncertain:
            item["embedding_uncertainty"] = uncertainty(vector)[:dimension]
        if segments.documentary:
            item.update(_document_columns(segments, i))
        items.append(item)
    return items


def _document_columns(segments: SegmentSet, i: int) -> dict[str, Any]:
    assert segments.start_page is not None
    assert segments.end_page is not None
    assert segments.quadrant is not None
    assert segments.chunk_index is not None
    first, last = int(segments.start_page[i]), int(segments.end_page[i])
    chunk = int(segments.chunk_index[i])
    return {
        "start_page_number": first or None,
        "end_page_number": last or None,
        "quadrant": segments.quadrant[i] or None,
        "chunk_index": chunk if chunk >= 0 else None,
    }


def _task_json(view: EmbedView) -> dict[str, Any]:
    rec = view.rec
    data = embed_task_head(view, model=False)
    data["data"] = None
    data["metadata"] = rec.params.get("metadata")
    if view.segments is not None:
        data["data"] = _data_json(view.segments, view.dimension, view.uncertainty)
        if rec.params.get("usage") is not None:
            data["usage"] = rec.params["usage"]
    elif view.status == "failed":
        data["error"] = {"message": rec.error}
    return data


@routes.route("/embed-v2/tasks/{task_id}", "GET", name="embed_v2_task")
async def get_task_v2(request: Request) -> Response:
    """``GET /embed-v2/tasks/{task_id}``: status, and the vectors once ready."""
    view = backend_of(request).embeddings.get(request.path_params["task_id"], api="v2")
    return JSONResponse(_task_json(view))


def _list_item(view: EmbedView) -> dict[str, Any]:
    rec = view.rec
    meta = rec.params.get("metadata") or {}
    kind = meta.get("input_type", "video")
    listed = {k: v for k, v in meta.items() if k in ("input_url", "input_filename", "duration")}
    # The list names these in the singular (``audio_embedding_option``), unlike retrieve.
    listed[f"{kind}_embedding_scope"] = meta.get("embedding_scopes", [])
    listed[f"{kind}_embedding_option"] = meta.get("embedding_options", [])
    if kind == "video":
        listed["video_clip_length"] = meta.get("clip_length")
    return {**embed_task_head(view), f"{kind}_embedding": {"metadata": listed}}


@routes.route("/embed-v2/tasks", "GET")
async def list_tasks_v2(request: Request) -> Response:
    """``GET /embed-v2/tasks`` (same filters as v1)."""
    return embed_task_page(request, api="v2", render=_list_item)
