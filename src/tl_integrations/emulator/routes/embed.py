"""Embed API v1: ``POST /embed`` (text) and ``/embed/tasks`` (video embedding tasks)."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import semantics
from ..apierror import ApiError, JSONResponse
from ..ids import parse_time, rfc3339
from ..ingest import probe_upload, upload_from_form
from ..lifecycle import plan_embedding_s, task_rng
from ..media import MediaInfo
from ..segments import build_segments, clip_bounds
from ..state import EmulatorState, fate_key
from ..store import EmbedTaskRec, SegmentSet
from .common import form_of, invalid, missing, page_params, paginate, state_of
from .videos import segment_json

__all__ = ["V1_MODELS", "create_embed_task_rec", "routes", "truncate_text"]

# model_name -> (dimension, embedding options, text token limit)
V1_MODELS: dict[str, tuple[int, tuple[str, ...], int]] = {
    "Marengo-retrieval-2.7": (1024, ("visual-text", "audio"), 77),
    "marengo2.7": (1024, ("visual-text", "audio"), 77),
    "marengo3.0": (512, ("visual", "audio", "transcription"), 500),
}
_WEEK_S = 7 * 86400.0


def model_spec(name: str | None) -> tuple[int, tuple[str, ...], int]:
    """Dimension, options and text limit of a v1 model name, or a 400."""
    if not name:
        raise missing("model_name")
    if name not in V1_MODELS:
        raise invalid("model_name", f"unknown model {name!r}; use one of {sorted(V1_MODELS)}")
    return V1_MODELS[name]


def truncate_text(text: str, *, limit: int, mode: str, field: str = "text") -> str:
    """Apply a token limit (words stand in for tokens): ``end`` cuts the end, ``start`` the
    start, ``none`` refuses.

    Example:
        >>> truncate_text("a b c", limit=2, mode="end")
        'a b'
        >>> truncate_text("a b c", limit=2, mode="start")
        'b c'
    """
    words = text.split()
    if len(words) <= limit:
        return text
    if mode == "none":
        raise ApiError(
            400,
            "parameter_invalid",
            f"{field}: the text has {len(words)} tokens; the limit is {limit}.",
            details={"field": field},
        )
    return " ".join(words[-limit:] if mode == "start" else words[:limit])


async def embed_sync(request: Request) -> Response:
    """``POST /embed`` (multipart): text only; image and audio answer a clear 400."""
    state = state_of(request)
    form = await form_of(request)
    try:
        name = form.get("model_name")
        dim, _, limit = model_spec(name)
        for field in ("image_url", "image_file", "audio_url", "audio_file"):
            if form.get(field) or form.file(field):
                raise invalid(
                    field,
                    "the emulator embeds text only; image and audio embeddings are not supported",
                )
        text = form.get("text")
        if not text:
            raise missing("text")
        mode = form.get("text_truncate") or "end"
        if mode not in ("start", "end", "none"):
            raise invalid("text_truncate", f"must be start, end or none, got {mode!r}")
        vector = semantics.embed_text(truncate_text(text, limit=limit, mode=mode), dim=dim)
    finally:
        form.cleanup()
    del state
    return JSONResponse({"model_name": name, "text_embedding": {"segments": [{"float": vector}]}})


def _float_field(raw: str | None, field: str) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise invalid(field, f"must be a number, got {raw!r}") from None


def _window(
    info: MediaInfo, start: float | None, end: float | None, clip_s: float
) -> tuple[float, float]:
    if (start is None) != (end is None):
        raise invalid(
            "video_end_offset_sec" if end is None else "video_start_offset_sec",
            "set both video_start_offset_sec and video_end_offset_sec, or neither",
        )
    lo, hi = (0.0, info.duration_s) if start is None or end is None else (start, end)
    if lo < 0 or lo > max(0.0, info.duration_s - clip_s):
        raise invalid(
            "video_start_offset_sec", f"must be between 0 and duration - clip length, got {lo}"
        )
    if hi > info.duration_s + 1e-6 or hi < lo + clip_s:
        raise invalid(
            "video_end_offset_sec",
            "must be at least start + clip length and at most the duration "
            f"{info.duration_s:.2f}, got {hi}",
        )
    return lo, min(hi, info.duration_s)


def create_embed_task_rec(
    state: EmulatorState,
    *,
    api: str,
    model_name: str,
    info: MediaInfo | None,
    params: dict[str, Any],
    error: str | None,
) -> EmbedTaskRec:
    """Register an embedding task with its planned duration and fate (under the lock)."""
    with state.lock:
        task_id = state.new_id()
        rng = task_rng(seed=state.config.seed, task_id=task_id)
        duration = plan_embedding_s(
            state.config.stages,
            video_duration_s=info.duration_s if info else 0.0,
            speed=state.config.speed,
            rng=rng,
        )
        key = fate_key(info, (t.info for t in state.store.embed_tasks.values()))
        if error is None and state.task_fails(task_id, media_key=key):
            error = "The emulator failed this task on purpose (failure_rate or fail fault)."
        rec = EmbedTaskRec(task_id, api, model_name, state.now(), duration, info, params, error)
        state.store.embed_tasks[task_id] = rec
        state.save()
    return rec


def _v1_options(form: Any) -> tuple[float, list[str], float | None, float | None]:
    clip_s = _float_field(form.get("video_clip_length"), "video_clip_length") or 6.0
    if not 2.0 <= clip_s <= 10.0:
        raise invalid("video_clip_length", f"must be between 2 and 10 seconds, got {clip_s}")
    scopes = form.getlist("video_embedding_scope") or ["clip"]
    if any(s not in ("clip", "video") for s in scopes):
        raise invalid("video_embedding_scope", f"values must be clip or video, got {scopes}")
    start = _float_field(form.get("video_start_offset_sec"), "video_start_offset_sec")
    end = _float_field(form.get("video_end_offset_sec"), "video_end_offset_sec")
    return clip_s, ["clip", *[s for s in scopes if s == "video"][:1]], start, end


async def create_embed_task(request: Request) -> Response:
    """``POST /embed/tasks`` (multipart) -> ``{"_id"}``."""
    state = state_of(request)
    form = await form_of(request)
    try:
        name = form.get("model_name")
        dim, options, _ = model_spec(name)
        assert name is not None
        clip_s, scopes, start, end = _v1_options(form)
        upload = await upload_from_form(state, form)
    finally:
        form.cleanup()
    try:
        info = await probe_upload(state, upload)
    except ApiError as err:
        if state.config.media_validation == "sync":
            raise
        params: dict[str, Any] = {"metadata": upload.metadata()}
        rec = create_embed_task_rec(
            state, api="v1", model_name=name, info=None, params=params, error=err.message
        )
        return JSONResponse({"_id": rec.id})
    upload.discard()
    window = _window(info, start, end, clip_s)
    metadata: dict[str, Any] = {
        **upload.metadata(),
        "video_clip_length": clip_s,
        "video_embedding_scope": scopes,
        "video_embedding_option": list(options),
        "duration": round(info.duration_s, 3),
    }
    bounds = clip_bounds(*window, clip_length_s=clip_s)
    segments = await anyio.to_thread.run_sync(
        lambda: build_segments(
            info, dim=dim, options=options, scopes=scopes, bounds=bounds, window=window
        )
    )
    params = {"metadata": metadata, "window": list(window)}
    rec = create_embed_task_rec(
        state, api="v1", model_name=name, info=info, params=params, error=None
    )
    state.put_segments(rec.id, segments)
    return JSONResponse({"_id": rec.id})


def _v1_summary(state: EmulatorState, rec: EmbedTaskRec) -> dict[str, Any]:
    status, updated = state.embed_task_status(rec)
    video: dict[str, Any] = {"metadata": rec.params.get("metadata", {})}
    if status == "failed":
        video["error_message"] = rec.error
    return {
        "_id": rec.id,
        "model_name": rec.model_name,
        "status": status,
        "created_at": rfc3339(rec.created_at),
        "updated_at": rfc3339(updated),
        "video_embedding": video,
    }


async def embed_task_status(request: Request) -> Response:
    """``GET /embed/tasks/{task_id}/status`` (no segments)."""
    state = state_of(request)
    with state.lock:
        summary = _v1_summary(state, state.embed_task(request.path_params["task_id"], api="v1"))
    keep = ("_id", "model_name", "status", "video_embedding")
    return JSONResponse({k: summary[k] for k in keep})


async def get_embed_task(request: Request) -> Response:
    """``GET /embed/tasks/{task_id}`` (``embedding_option`` repeatable; default: all)."""
    state = state_of(request)
    with state.lock:
        rec = state.embed_task(request.path_params["task_id"], api="v1")
        data = _v1_summary(state, rec)
        dim, options, _ = V1_MODELS[rec.model_name]
        wanted = request.query_params.getlist("embedding_option") or list(options)
        if any(o not in options for o in wanted):
            raise invalid(
                "embedding_option",
                f"{wanted} not available for {rec.model_name}; use {list(options)}",
            )
        if data["status"] == "ready":
            segments = state.store.segments.get(rec.id) or SegmentSet.empty(dim=dim)
            data["video_embedding"]["segments"] = segment_json(
                segments, segments.rows(options=wanted)
            )
    return JSONResponse(data)


def list_embed_tasks_of(
    state: EmulatorState, request: Request, *, api: str
) -> tuple[list[EmbedTaskRec], dict[str, int]]:
    """Filter (``started_at``/``ended_at``/``status``), sort newest first and page tasks."""
    query = request.query_params
    page, limit = page_params(query)
    try:
        since = parse_time(query["started_at"]) if query.get("started_at") else None
        until = parse_time(query["ended_at"]) if query.get("ended_at") else None
    except ValueError:
        raise invalid("started_at", "started_at and ended_at must be RFC 3339 times") from None
    if since is None and until is None:
        since = state.now() - _WEEK_S
    statuses = query.getlist("status")
    found = [
        r
        for r in state.store.embed_tasks.values()
        if r.api == api
        and (since is None or r.created_at >= since)
        and (until is None or r.created_at <= until)
        and (not statuses or state.embed_task_status(r)[0] in statuses)
    ]
    found.sort(key=lambda r: r.created_at, reverse=True)
    return paginate(found, page=page, limit=limit)


async def list_embed_tasks(request: Request) -> Response:
    """``GET /embed/tasks``: the last 7 days unless dates are given, newest first."""
    state = state_of(request)
    with state.lock:
        items, info = list_embed_tasks_of(state, request, api="v1")
        data = [_v1_summary(state, r) for r in items]
    return JSONResponse({"data": data, "page_info": info})


routes = [
    Route("/embed", embed_sync, methods=["POST"]),
    Route("/embed/tasks", create_embed_task, methods=["POST"]),
    Route("/embed/tasks", list_embed_tasks, methods=["GET"]),
    Route("/embed/tasks/{task_id}/status", embed_task_status, methods=["GET"]),
    Route("/embed/tasks/{task_id}", get_embed_task, methods=["GET"]),
]
