"""``/tasks``: create (upload + index), retrieve, list, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._apierror import JSONResponse
from .._backend.errors import check_among, missing
from .._backend.tasks import TaskFilter, TaskView
from .._ids import rfc3339
from .params import (
    as_bool,
    backend_of,
    form_of,
    media_from_form,
    metadata_text,
    page_request,
    ranges_of,
    sort_of,
    time_range_of,
)
from .shapes import hls_json, page_json
from .table import RouteTable

__all__ = ["routes", "task_json"]


def task_json(view: TaskView) -> dict[str, Any]:
    """The task object (list form, no ``hls``).

    Example:
        >>> task_json(view)["status"]  # doctest: +SKIP
        'indexing'
    """
    task, info = view.rec, view.video.info if view.video is not None else None
    system: dict[str, Any] = {"filename": info.filename if info else None}
    if info is not None:
        system.update(duration=round(info.duration_s, 3), width=info.width, height=info.height)
    data: dict[str, Any] = {
        "_id": task.id,
        "video_id": task.video_id,
        "index_id": task.index_id,
        "status": view.status,
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(view.updated_at),
        "system_metadata": system,
    }
    if view.error is not None:
        # Not in the API (which gives no reason); an emulator extension clients may show.
        data["error"] = view.error
    return data


routes = RouteTable()

#: The ``status`` values ``GET /tasks`` filters on (``TasksListRequestStatusItem``).
TASK_STATUSES = ("ready", "uploading", "validating", "pending", "queued", "indexing", "failed")


@routes.route("/tasks", "POST")
async def create_task(request: Request) -> Response:
    """``POST /tasks`` (multipart) -> ``{"_id", "video_id"}``."""
    backend = backend_of(request)
    with await form_of(request) as form:
        index_id = form.get("index_id")
        if not index_id:
            raise missing("index_id")
        user_metadata = metadata_text(form.get("user_metadata"))
        stream = as_bool(form.get("enable_video_stream"), default=True)
        source = media_from_form(form, file_field="video_file", url_field="video_url")
    task = await backend.tasks.create(
        index_id, source=source, user_metadata=user_metadata, stream=stream
    )
    return JSONResponse({"_id": task.id, "video_id": task.video_id})


@routes.route("/tasks/{task_id}", "GET")
async def get_task(request: Request) -> Response:
    """``GET /tasks/{task_id}`` (with ``hls`` when the video is stored for streaming)."""
    view = backend_of(request).tasks.get(request.path_params["task_id"])
    data = task_json(view)
    if view.video is not None and view.video.enable_stream:
        data["hls"] = hls_json(
            request, view.video.id, status=view.status, updated_at=view.updated_at
        )
    return JSONResponse(data)


@routes.route("/tasks", "GET")
async def list_tasks(request: Request) -> Response:
    """``GET /tasks`` with filters (``status`` repeatable), sorting and paging."""
    query = request.query_params
    statuses = tuple(query.getlist("status"))
    check_among("status", statuses, TASK_STATUSES)
    flt = TaskFilter(
        index_id=query.get("index_id") or None,
        statuses=statuses,
        filename=query.get("filename") or None,
        ranges=ranges_of(query, ("duration", "width", "height")),
        created=time_range_of(query, "created_at"),
        updated=time_range_of(query, "updated_at"),
    )
    page = backend_of(request).tasks.list(flt, sort_of(query), page_request(query))
    return page_json(page, task_json)


@routes.route("/tasks/{task_id}", "DELETE")
async def delete_task(request: Request) -> Response:
    """``DELETE /tasks/{task_id}``: only ready (video deleted first) or failed tasks."""
    backend_of(request).tasks.delete(request.path_params["task_id"])
    return Response(status_code=204)
