"""Embed API v1: ``POST /embed`` (text) and ``/embed/tasks`` (video embedding tasks)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._apierror import JSONResponse
from .._backend.embeddings import EmbedView
from .._backend.errors import invalid
from .._ids import rfc3339
from .params import (
    as_float,
    backend_of,
    form_of,
    media_from_form,
)
from .shapes import embed_task_page, segment_json

__all__ = ["routes"]


async def embed_sync(request: Request) -> Response:
    """``POST /embed`` (multipart): text only; image and audio answer a clear 400."""
    backend = backend_of(request)
    form = await form_of(request)
    try:
        name = form.get("model_name")
        for field in ("image_url", "image_file", "audio_url", "audio_file"):
            if name and (form.get(field) or form.file(field)):
                raise invalid(
                    field,
                    "the emulator embeds text only; image and audio embeddings are not supported",
                )
        vector = backend.embeddings.text_v1(
            name, form.get("text"), truncate=form.get("text_truncate") or "end"
        )
    finally:
        form.cleanup()
    return JSONResponse({"model_name": name, "text_embedding": {"segments": [{"float": vector}]}})


async def create_embed_task(request: Request) -> Response:
    """``POST /embed/tasks`` (multipart) -> ``{"_id"}``."""
    backend = backend_of(request)
    form = await form_of(request)
    try:
        name = form.get("model_name")
        clip_s = as_float(form.get("video_clip_length"), field="video_clip_length")
        scopes = form.getlist("video_embedding_scope") or ["clip"]
        start = as_float(form.get("video_start_offset_sec"), field="video_start_offset_sec")
        end = as_float(form.get("video_end_offset_sec"), field="video_end_offset_sec")
        source = media_from_form(form, file_field="video_file", url_field="video_url")
    finally:
        form.cleanup()
    rec = await backend.embeddings.create_v1(
        name, source=source, clip_s=clip_s, scopes=scopes, start_s=start, end_s=end
    )
    return JSONResponse({"_id": rec.id})


def _summary(view: EmbedView) -> dict[str, Any]:
    rec = view.rec
    video: dict[str, Any] = {"metadata": rec.params.get("metadata", {})}
    if view.status == "failed":
        video["error_message"] = rec.error
    return {
        "_id": rec.id,
        "model_name": rec.model_name,
        "status": view.status,
        "created_at": rfc3339(rec.created_at),
        "updated_at": rfc3339(view.updated_at),
        "video_embedding": video,
    }


async def embed_task_status(request: Request) -> Response:
    """``GET /embed/tasks/{task_id}/status`` (no segments)."""
    view = backend_of(request).embeddings.get(request.path_params["task_id"], api="v1")
    summary = _summary(view)
    keep = ("_id", "model_name", "status", "video_embedding")
    return JSONResponse({k: summary[k] for k in keep})


async def get_embed_task(request: Request) -> Response:
    """``GET /embed/tasks/{task_id}`` (``embedding_option`` repeatable; default: all)."""
    embeddings = backend_of(request).embeddings
    view = embeddings.get(request.path_params["task_id"], api="v1")
    data = _summary(view)
    rows = embeddings.v1_rows(view, request.query_params.getlist("embedding_option"))
    if view.segments is not None:
        data["video_embedding"]["segments"] = segment_json(view.segments, rows)
    return JSONResponse(data)


async def list_embed_tasks(request: Request) -> Response:
    """``GET /embed/tasks``: the last 7 days unless dates are given, newest first."""
    return embed_task_page(request, api="v1", render=_summary)


routes = [
    Route("/embed", embed_sync, methods=["POST"]),
    Route("/embed/tasks", create_embed_task, methods=["POST"]),
    Route("/embed/tasks", list_embed_tasks, methods=["GET"]),
    Route("/embed/tasks/{task_id}/status", embed_task_status, methods=["GET"]),
    Route("/embed/tasks/{task_id}", get_embed_task, methods=["GET"]),
]
