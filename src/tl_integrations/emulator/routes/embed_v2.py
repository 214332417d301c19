"""Embed API v2 (Marengo 3.0): ``POST /embed-v2`` (text) and ``/embed-v2/tasks``.

Field names differ from v1 (``embedding``, ``start_sec``, scope ``asset``) and errors use the
wrapped ``{"error": {...}}`` shape (the app picks it for every ``/embed-v2`` path).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import semantics
from ..apierror import ApiError, JSONResponse
from ..ids import rfc3339
from ..ingest import probe_upload, upload_from_source
from ..media import MediaInfo
from ..segments import build_segments, clip_bounds, scene_bounds
from ..state import EmulatorState
from ..store import EmbedTaskRec, SegmentSet
from .common import invalid, json_body, missing, state_of
from .embed import create_embed_task_rec, list_embed_tasks_of, truncate_text

__all__ = ["routes"]

MODEL = "marengo3.0"
DIM = 512
TEXT_LIMIT = 500
_OPTIONS = {"video": ("visual", "audio", "transcription"), "audio": ("audio", "transcription")}


def _model(body: dict[str, Any]) -> None:
    if body.get("model_name") != MODEL:
        raise invalid(
            "model_name", f"the emulator serves {MODEL!r}; got {body.get('model_name')!r}"
        )


async def embed_v2(request: Request) -> Response:
    """``POST /embed-v2``: ``input_type: text`` only; other types answer a clear 400."""
    body = await json_body(request)
    _model(body)
    if body.get("input_type") != "text":
        raise invalid(
            "input_type",
            f"the emulator embeds text synchronously; got {body.get('input_type')!r} "
            "(use /embed-v2/tasks for video and audio)",
        )
    text_obj = body.get("text")
    text = text_obj.get("input_text") if isinstance(text_obj, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise missing("text.input_text")
    mode = "end" if body.get("auto_truncate", True) is not False else "none"
    vector = semantics.embed_text(
        truncate_text(text, limit=TEXT_LIMIT, mode=mode, field="text.input_text"), dim=DIM
    )
    item = {
        "embedding": vector,
        "embedding_option": None,
        "embedding_scope": None,
        "start_sec": None,
        "end_sec": None,
    }
    return JSONResponse({"data": [item]})


def _list_field(
    spec: dict[str, Any], name: str, allowed: tuple[str, ...], default: list[str]
) -> list[str]:
    value = spec.get(name)
    if value is None:
        return list(default)
    if not isinstance(value, list) or not value or any(v not in allowed for v in value):
        raise invalid(name, f"must be a non-empty list of {list(allowed)}, got {value!r}")
    return [v for v in allowed if v in value]


def _bounds(
    spec: dict[str, Any], info: MediaInfo, window: tuple[float, float]
) -> tuple[list[tuple[float, float]], float]:
    seg = spec.get("segmentation") or {"strategy": "fixed", "fixed": {"duration_sec": 6}}
    strategy = seg.get("strategy") if isinstance(seg, dict) else None
    if strategy == "dynamic":
        min_s = float((seg.get("dynamic") or {}).get("min_duration_sec", 4))
        return scene_bounds(info, *window, min_duration_s=min_s), min_s
    if strategy == "fixed":
        length = float((seg.get("fixed") or {}).get("duration_sec", 6))
        if not 1.0 <= length <= 10.0:
            raise invalid(
                "segmentation", f"fixed.duration_sec must be between 1 and 10, got {length}"
            )
        return clip_bounds(*window, clip_length_s=length), length
    raise invalid("segmentation", f"strategy must be fixed or dynamic, got {strategy!r}")


def _window(spec: dict[str, Any], info: MediaInfo) -> tuple[float, float]:
    start = float(spec.get("start_sec") or 0.0)
    end = float(spec.get("end_sec") or info.duration_s)
    if not 0 <= start < end <= info.duration_s + 1e-6:
        raise invalid(
            "start_sec",
            f"need 0 <= start_sec < end_sec <= duration ({info.duration_s:.2f}), "
            f"got {start}, {end}",
        )
    return start, min(end, info.duration_s)


def _plan(
    input_type: str, spec: dict[str, Any], info: MediaInfo, meta: dict[str, Any]
) -> tuple[dict[str, Any], SegmentSet]:
    options = _list_field(
        spec, "embedding_option", _OPTIONS[input_type], list(_OPTIONS[input_type])
    )
    scopes = _list_field(spec, "embedding_scope", ("clip", "asset"), ["clip", "asset"])
    types = _list_field(
        spec, "embedding_type", ("separate_embedding", "fused_embedding"), ["separate_embedding"]
    )
    window = _window(spec, info)
    bounds, clip_s = _bounds(spec, info, window)
    metadata = {
        "input_type": input_type,
        **meta,
        "clip_length": round(clip_s),
        "embedding_scopes": scopes,
        "embedding_options": options,
        "duration": round(info.duration_s, 3),
        "start_offset_sec": window[0],
        "end_offset_sec": window[1],
        "embedding_dimension": DIM,
    }
    segments = build_segments(
        info,
        dim=DIM,
        options=options,
        scopes=scopes,
        bounds=bounds,
        window=window,
        video_scope="asset",
        fused="fused_embedding" in types,
    )
    if "separate_embedding" not in types:
        keep = [i for i, o in enumerate(segments.option) if o == "fused"]
        segments = SegmentSet(
            segments.vectors[keep],
            segments.start_s[keep],
            segments.end_s[keep],
            ["fused"] * len(keep),
            [segments.scope[i] for i in keep],
        )
    return metadata, segments


async def create_task_v2(request: Request) -> Response:
    """``POST /embed-v2/tasks`` -> 202 ``{"_id", "status": "processing", "data": null}``."""
    state = state_of(request)
    body = await json_body(request)
    _model(body)
    input_type = body.get("input_type")
    if input_type not in _OPTIONS:
        raise invalid(
            "input_type", f"the emulator embeds video or audio in tasks; got {input_type!r}"
        )
    spec = body.get(input_type)
    if not isinstance(spec, dict):
        raise missing(input_type)
    upload = await upload_from_source(
        state, spec.get("media_source"), field=f"{input_type}.media_source"
    )
    try:
        info = await probe_upload(state, upload, picture=input_type == "video")
    except ApiError as err:
        if state.config.media_validation == "sync":
            raise
        rec = create_embed_task_rec(
            state,
            api="v2",
            model_name=MODEL,
            info=None,
            params={"metadata": {"input_type": input_type, **upload.metadata()}},
            error=err.message,
        )
        return _accepted(request, rec)
    upload.discard()
    metadata, segments = await anyio.to_thread.run_sync(
        lambda: _plan(input_type, spec, info, upload.metadata())
    )
    rec = create_embed_task_rec(
        state, api="v2", model_name=MODEL, info=info, params={"metadata": metadata}, error=None
    )
    state.put_segments(rec.id, segments)
    return _accepted(request, rec)


def _accepted(request: Request, rec: EmbedTaskRec) -> Response:
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


def _task_json(state: EmulatorState, rec: EmbedTaskRec) -> dict[str, Any]:
    status, updated = state.embed_task_status(rec)
    data: dict[str, Any] = {
        "_id": rec.id,
        "status": status,
        "created_at": rfc3339(rec.created_at),
        "updated_at": rfc3339(updated),
        "data": None,
        "metadata": rec.params.get("metadata"),
    }
    if status == "ready":
        data["data"] = _data_json(state.store.segments.get(rec.id) or SegmentSet.empty(dim=DIM))
    elif status == "failed":
        data["error"] = {"message": rec.error}
    return data


async def get_task_v2(request: Request) -> Response:
    """``GET /embed-v2/tasks/{task_id}``: status, and the vectors once ready."""
    state = state_of(request)
    with state.lock:
        return JSONResponse(
            _task_json(state, state.embed_task(request.path_params["task_id"], api="v2"))
        )


def _list_item(state: EmulatorState, rec: EmbedTaskRec) -> dict[str, Any]:
    status, updated = state.embed_task_status(rec)
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
        "status": status,
        "created_at": rfc3339(rec.created_at),
        "updated_at": rfc3339(updated),
        f"{kind}_embedding": {"metadata": v1_meta},
    }


async def list_tasks_v2(request: Request) -> Response:
    """``GET /embed-v2/tasks`` (same filters as v1)."""
    state = state_of(request)
    with state.lock:
        items, info = list_embed_tasks_of(state, request, api="v2")
        data = [_list_item(state, r) for r in items]
    return JSONResponse({"data": data, "page_info": info})


routes = [
    Route("/embed-v2", embed_v2, methods=["POST"]),
    Route("/embed-v2/tasks", create_task_v2, methods=["POST"]),
    Route("/embed-v2/tasks", list_tasks_v2, methods=["GET"]),
    Route("/embed-v2/tasks/{task_id}", get_task_v2, methods=["GET"], name="embed_v2_task"),
]
