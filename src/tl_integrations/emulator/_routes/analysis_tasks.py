"""``/analyze/tasks``: create (with an optional ``Idempotency-Key``), retrieve, list, cancel
and delete asynchronous analyses."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._apierror import JSONResponse
from .._backend.analysis_tasks import AnalysisTaskFilter, AnalysisTaskView
from .._backend.errors import invalid
from .._ids import rfc3339
from .params import backend_of, idempotency_of, json_body, page_request
from .shapes import page_json
from .table import RouteTable

__all__ = ["routes", "task_json"]

_LISTED_PROMPT_CHARS = 30


def _listed_params(params: dict[str, Any]) -> dict[str, Any]:
    """``request_params`` as lists show them: the prompt's first 30 characters, no JSON
    schema, and only the first segment definition."""
    listed = dict(params)
    if isinstance(listed.get("prompt"), str):
        listed["prompt"] = listed["prompt"][:_LISTED_PROMPT_CHARS]
    fmt = listed.get("response_format")
    if isinstance(fmt, dict):
        fmt = {k: v for k, v in fmt.items() if k != "json_schema"}
        if fmt.get("segment_definitions"):
            fmt["segment_definitions"] = fmt["segment_definitions"][:1]
        listed["response_format"] = fmt
    return listed


def task_json(
    view: AnalysisTaskView,
    *,
    listed: bool = False,
    webhooks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``AnalyzeTaskResponse`` object (``listed``: the shorter list form).

    ``custom_id`` is always present (null when unset); ``result`` only once ready;
    ``error`` for failed and canceled tasks, and as a warning on a ready one; ``webhooks``
    (the delivery of its event) only when a webhook URL is configured.

    Example:
        >>> task_json(view)["status"]  # doctest: +SKIP
        'processing'
    """
    rec = view.rec
    data: dict[str, Any] = {"task_id": rec.id, "custom_id": rec.custom_id}
    if rec.batch_id is not None:
        data["batch_id"] = rec.batch_id
    if rec.video_source is not None:
        data["video_source"] = rec.video_source
    params = rec.request_params
    data["request_params"] = _listed_params(params) if listed else params
    data["status"] = view.status
    data["created_at"] = rfc3339(rec.created_at)
    if view.completed_at is not None:
        data["completed_at"] = rfc3339(view.completed_at)
    if view.result is not None:
        data["result"] = view.result
    if view.error is not None:
        data["error"] = view.error
    if webhooks is not None:
        data["webhooks"] = webhooks
    return data


routes = RouteTable()


@routes.route("/analyze/tasks", "POST")
async def create_task(request: Request) -> Response:
    """``POST /analyze/tasks`` -> 202 ``{"task_id", "status"}`` (a replayed
    ``Idempotency-Key`` answers with the first task, as it is now)."""
    body = await json_body(request)
    key, scope = idempotency_of(request)
    view, replayed = await backend_of(request).analysis_tasks.create(
        body, idempotency_key=key, scope=scope
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(
        {"task_id": view.rec.id, "status": view.status}, status_code=202, headers=headers
    )


@routes.route("/analyze/tasks/{task_id}", "GET")
async def get_task(request: Request) -> Response:
    """``GET /analyze/tasks/{task_id}``."""
    tasks = backend_of(request).analysis_tasks
    view = tasks.get(request.path_params["task_id"])
    return JSONResponse(task_json(view, webhooks=tasks.webhook_records(view.rec.id)))


def _one(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise invalid(name, f"takes one value, got {values}")
    return values[0] if values and values[0] else None


@routes.route("/analyze/tasks", "GET")
async def list_tasks(request: Request) -> Response:
    """``GET /analyze/tasks``: ``status``, ``video_url``, ``asset_id``, ``analysis_mode``
    (one value each), newest first, paged."""
    flt = AnalysisTaskFilter(
        status=_one(request, "status"),
        video_url=_one(request, "video_url"),
        asset_id=_one(request, "asset_id"),
        analysis_mode=_one(request, "analysis_mode"),
    )
    tasks = backend_of(request).analysis_tasks
    page = tasks.list(flt, page_request(request.query_params))
    return page_json(
        page, lambda v: task_json(v, listed=True, webhooks=tasks.webhook_records(v.rec.id))
    )


@routes.route("/analyze/tasks/{task_id}/cancel", "POST")
async def cancel_task(request: Request) -> Response:
    """``POST /analyze/tasks/{task_id}/cancel`` -> ``{"task_id", "status": "canceled"}``."""
    view = backend_of(request).analysis_tasks.cancel(request.path_params["task_id"])
    return JSONResponse({"task_id": view.rec.id, "status": view.status})


@routes.route("/analyze/tasks/{task_id}", "DELETE")
async def delete_task(request: Request) -> Response:
    """``DELETE /analyze/tasks/{task_id}`` -> 204; 409 while the task runs."""
    backend_of(request).analysis_tasks.delete(request.path_params["task_id"])
    return Response(status_code=204)
