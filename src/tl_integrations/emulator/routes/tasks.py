"""``/tasks``: create (upload + index), retrieve, list, delete."""

from __future__ import annotations

import contextlib
from typing import Any

import anyio.to_thread
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..apierror import ApiError, JSONResponse
from ..ids import rfc3339
from ..ingest import Upload, probe_upload, upload_from_form
from ..lifecycle import FAIL_STAGE, plan_index_stages, task_rng
from ..media import MediaInfo
from ..segments import build_segments, index_bounds
from ..state import EmulatorState, fate_key
from ..store import IndexRec, IndexTaskRec, SegmentSet, VideoRec
from .common import (
    as_bool,
    form_of,
    matches_range,
    matches_time,
    missing,
    page_params,
    paginate,
    sort_records,
    state_of,
)

__all__ = ["METADATA_TYPES", "hls_json", "parse_user_metadata", "routes", "task_json"]

INDEX_CLIP_S = 6.0
METADATA_TYPES = (str, int, float, bool)


def parse_user_metadata(raw: str | None) -> dict[str, Any]:
    """The ``user_metadata`` form field: a JSON object of scalars (or lists of strings).

    Example:
        >>> parse_user_metadata('{"category": "news", "n": 3}')
        {'category': 'news', 'n': 3}
    """
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    ok = isinstance(data, dict) and all(
        isinstance(v, METADATA_TYPES)
        or (isinstance(v, list) and all(isinstance(i, str) for i in v))
        for v in data.values()
    )
    if not ok:
        raise ApiError(
            400,
            "parameter_invalid",
            "user_metadata must be a JSON object whose values are strings, numbers, booleans "
            f"or lists of strings; got {raw[:200]!r}.",
            details={"field": "user_metadata"},
        )
    assert isinstance(data, dict)
    return data


def hls_json(
    request: Request, video: VideoRec, *, status: str, updated_at: float
) -> dict[str, Any]:
    """The ``hls`` object; ``video_url`` serves the original file from the emulator.

    Example:
        >>> hls_json(request, video, status="ready", updated_at=0.0)["status"]  # doctest: +SKIP
        'COMPLETE'
    """
    base = str(request.base_url).rstrip("/")
    hls_status = {"ready": "COMPLETE", "failed": "ERROR"}.get(status, "PROCESSING")
    return {
        "video_url": f"{base}/_emulator/media/{video.id}",
        "thumbnail_urls": [],
        "status": hls_status,
        "updated_at": rfc3339(updated_at),
    }


def task_json(state: EmulatorState, task: IndexTaskRec) -> dict[str, Any]:
    """The task object (list form, no ``hls``)."""
    status, updated = state.task_status(task)
    video = state.store.videos.get(task.video_id)
    info = video.info if video is not None else None
    system: dict[str, Any] = {"filename": info.filename if info else None}
    if info is not None:
        system.update(duration=round(info.duration_s, 3), width=info.width, height=info.height)
    data: dict[str, Any] = {
        "_id": task.id,
        "video_id": task.video_id,
        "index_id": task.index_id,
        "status": status,
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(updated),
        "system_metadata": system,
    }
    if status == "failed":
        # Not in the API (which gives no reason); an emulator extension clients may show.
        data["error"] = task.error or {
            "code": "task_failed",
            "message": "The emulator failed this task on purpose (failure_rate or fail fault).",
        }
    return data


def index_segments(info: MediaInfo, index: IndexRec) -> SegmentSet:
    """Clip vectors of an indexed video for every embedding option the index enables."""
    return build_segments(
        info,
        dim=index.dim,
        options=index.embedding_options,
        scopes=["clip"],
        bounds=index_bounds(info, max_clip_s=INDEX_CLIP_S),
        window=(0.0, info.duration_s),
    )


async def _probe_or_defer(
    state: EmulatorState, upload: Upload
) -> tuple[MediaInfo | None, dict[str, str] | None]:
    try:
        return await probe_upload(state, upload), None
    except ApiError as err:
        if state.config.media_validation == "sync":
            raise
        return None, {"code": err.code, "message": err.message}


async def create_task(request: Request) -> Response:
    """``POST /tasks`` (multipart) -> ``{"_id", "video_id"}``."""
    state = state_of(request)
    form = await form_of(request)
    try:
        index_id = form.get("index_id")
        if not index_id:
            raise missing("index_id")
        index = state.index(index_id)
        metadata = parse_user_metadata(form.get("user_metadata"))
        stream = as_bool(form.get("enable_video_stream"), default=True)
        upload = await upload_from_form(state, form)
    finally:
        form.cleanup()
    info, error = await _probe_or_defer(state, upload)
    segments = None
    if info is not None and index.marengo:
        segments = await anyio.to_thread.run_sync(lambda: index_segments(info, index))
    task = _register(state, index, upload, info=info, error=error, metadata=metadata, stream=stream)
    if segments is not None:
        state.put_segments(task.video_id, segments)
    return JSONResponse({"_id": task.id, "video_id": task.video_id})


def _register(
    state: EmulatorState,
    index: IndexRec,
    upload: Upload,
    *,
    info: MediaInfo | None,
    error: dict[str, str] | None,
    metadata: dict[str, Any],
    stream: bool,
) -> IndexTaskRec:
    with state.lock:
        task_id, video_id, asset_id = state.new_id(), state.new_id(), state.new_id()
        stages = plan_index_stages(
            state.config.stages,
            video_duration_s=info.duration_s if info else 0.0,
            speed=state.config.speed,
            rng=task_rng(seed=state.config.seed, task_id=task_id),
        )
        key = fate_key(info, (v.info for v in state.store.videos.values()))
        fails = state.task_fails(task_id, media_key=key)
        fail_stage = "validating" if error else (FAIL_STAGE if fails else None)
        media = (
            state.persistence.store_media(upload.path, owner_id=video_id, filename=upload.filename)
            if info
            else None
        )
        now = state.now()
        task = IndexTaskRec(task_id, video_id, index.id, now, stages, fail_stage, error)
        rel = str(media.relative_to(state.persistence.root)) if media else ""
        state.store.videos[video_id] = VideoRec(
            video_id, asset_id, index.id, task_id, now, rel, info, metadata, stream
        )
        state.store.tasks[task_id] = task
        state.save()
    return task


def forget_video(state: EmulatorState, video: VideoRec) -> None:
    """Remove a video record with its vectors and media file (under the lock)."""
    del state.store.videos[video.id]
    state.drop_segments(video.id)
    if video.media_path:
        with contextlib.suppress(FileNotFoundError):
            (state.persistence.root / video.media_path).unlink()


async def get_task(request: Request) -> Response:
    """``GET /tasks/{task_id}`` (with ``hls`` when the video is stored for streaming)."""
    state = state_of(request)
    with state.lock:
        task = state.task(request.path_params["task_id"])
        data = task_json(state, task)
        video = state.store.videos.get(task.video_id)
        if video is not None and video.enable_stream:
            status, updated = state.task_status(task)
            data["hls"] = hls_json(request, video, status=status, updated_at=updated)
    return JSONResponse(data)


def _task_matches(state: EmulatorState, task: IndexTaskRec, query: Any) -> bool:
    status, updated = state.task_status(task)
    statuses = query.getlist("status")
    if (query.get("index_id") and task.index_id != query["index_id"]) or (
        statuses and status not in statuses
    ):
        return False
    video = state.store.videos.get(task.video_id)
    info = video.info if video else None
    if query.get("filename") and (info is None or info.filename != query["filename"]):
        return False
    for name, value in (
        ("duration", info.duration_s if info else None),
        ("width", info.width if info else None),
        ("height", info.height if info else None),
    ):
        if not matches_range(value, query, name):
            return False
    return matches_time(task.created_at, query, "created_at") and matches_time(
        updated, query, "updated_at"
    )


async def list_tasks(request: Request) -> Response:
    """``GET /tasks`` with filters (``status`` repeatable), sorting and paging."""
    state = state_of(request)
    query = request.query_params
    page, limit = page_params(query)
    with state.lock:
        found = [t for t in state.store.tasks.values() if _task_matches(state, t, query)]
        keys = {
            "created_at": lambda t: t.created_at,
            "updated_at": lambda t: state.task_status(t)[1],
        }
        items, info = paginate(sort_records(found, query, keys), page=page, limit=limit)
        data = [task_json(state, t) for t in items]
    return JSONResponse({"data": data, "page_info": info})


async def delete_task(request: Request) -> Response:
    """``DELETE /tasks/{task_id}``: only ready (video deleted first) or failed tasks."""
    state = state_of(request)
    with state.lock:
        task = state.task(request.path_params["task_id"])
        status, _ = state.task_status(task)
        video = state.store.videos.get(task.video_id)
        if status not in ("ready", "failed") or (status == "ready" and video is not None):
            raise ApiError(
                400,
                "task_cannot_be_deleted",
                f"The task {task.id!r} is {status}; only ready or failed tasks can be deleted, "
                "and a ready task's video must be deleted first.",
            )
        if video is not None:
            forget_video(state, video)
        del state.store.tasks[task.id]
        state.save()
    return Response(status_code=204)


routes = [
    Route("/tasks", create_task, methods=["POST"]),
    Route("/tasks", list_tasks, methods=["GET"]),
    Route("/tasks/{task_id}", get_task, methods=["GET"]),
    Route("/tasks/{task_id}", delete_task, methods=["DELETE"]),
]
