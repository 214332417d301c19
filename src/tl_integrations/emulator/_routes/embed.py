"""Embed API v1: ``POST /embed`` (text) and ``/embed/tasks`` (video embedding tasks)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._apierror import JSONResponse
from .._backend.embeddings import EmbedView
from .._backend.errors import invalid
from .params import (
    as_float,
    backend_of,
    form_of,
    media_from_form,
)
from .shapes import embed_task_head, embed_task_page, segment_json
from .table import RouteTable

__all__ = ["routes"]


routes = RouteTable()


@routes.route("/embed", "POST")
async def embed_sync(request: Request) -> Response:
    """``POST /embed`` (multipart): text only; image and audio answer a clear 400."""
    backend = backend_of(request)
    with await form_of(request) as form:
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
    return JSONResponse({"model_name": name, "text_embedding": {"segments": [{"float": vector}]}})


@routes.route("/embed/tasks", "POST")
async def create_embed_task(request: Request) -> Response:
    """``POST /embed/tasks`` (multipart) -> ``{"_id"}``."""
    backend = backend_of(request)
    with await form_of(request) as form:
        name = form.get("model_name")
        clip_s = as_float(form.get("video_clip_length"), field="video_clip_length")
        scopes = form.getlist("video_embedding_scope") or ["clip"]
        start = as_float(form.get("video_start_offset_sec"), field="video_start_offset_sec")
        end = as_float(form.get("video_end_offset_sec"), field="video_end_offset_sec")
        source = media_from_form(form, file_field="video_file", url_field="video_url")
    rec = await backend.embeddings.create_v1(
        name, source=source, clip_s=clip_s, scopes=scopes, start_s=start, end_s=end
    )
    return JSONResponse({"_id": rec.id})


def _summary(view: EmbedView) -> dict[str, Any]:
    rec = view.rec
    video: dict[str, Any] = {"metadata": rec.params.get("metadata", {})}
    if view.status == "failed":
        video["error_message"] = rec.error
    return {**embed_task_head(view), "video_embedding": video}


@routes.route("/embed/tasks/{task_id}/status", "GET")
async def embed_task_status(request: Request) -> Response:
    """``GET /embed/tasks/{task_id}/status`` (no segments)."""
    view = backend_of(request).embeddings.get(request.path_params["task_id"], api="v1")
    summary = _summary(view)
    keep = ("_id", "model_name", "status", "video_embedding")
    return JSONResponse({k: summary[k] for k in keep})


@routes.route("/embed/tasks/{task_id}", "GET")
async def get_embed_task(request: Request) -> Response:
    """``GET /embed/tasks/{task_id}`` (``embedding_option`` repeatable; default: all)."""
    embeddings = backend_of(request).embeddings
    view = embeddings.get(request.path_params["task_id"], api="v1")
    data = _summary(view)
    rows = embeddings.v1_rows(view, request.query_params.getlist("embedding_option"))
    if view.segments is not None:
        data["video_embedding"]["segments"] = segment_json(view.segments, rows)
    return JSONResponse(data)


@routes.route("/embed/tasks", "GET")
async def list_embed_tasks(request: Request) -> Response:
    """``GET /embed/tasks``: the last 7 days unless dates are given, newest first."""
    return embed_task_page(request, api="v1", render=_summary)
