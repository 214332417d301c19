"""``/analyze/batches``: create, retrieve, list, cancel and delete batches of analyses, and
read their results as JSON Lines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio.lowlevel
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .._apierror import JSONResponse
from .._backend.analysis_tasks import AnalysisTaskView
from .._backend.batches import BatchFilter, BatchView, item_status
from .._ids import rfc3339
from .params import backend_of, idempotency_of, json_body, listed, page_request
from .shapes import page_json
from .table import RouteTable

__all__ = ["batch_json", "result_line", "routes"]

_ENDED_AT = {"completed": "completed_at", "canceled": "canceled_at", "expired": "expired_at"}


def batch_json(view: BatchView) -> dict[str, Any]:
    """The ``AnalyzeBatchStatusResponse`` object: status, counters and times.

    Example:
        >>> batch_json(view)["total_items"]  # doctest: +SKIP
        3
    """
    rec = view.rec
    data: dict[str, Any] = {
        "batch_id": rec.id,
        "analysis_mode": rec.mode,
        "model_name": rec.model,
        "status": view.status,
        "total_items": len(rec.task_ids),
        "created_at": rfc3339(rec.created_at),
        "expires_at": rfc3339(rec.expires_at),
    }
    if view.status in _ENDED_AT:
        data[_ENDED_AT[view.status]] = rfc3339(view.status_at)
    return data | view.counts


def result_line(task: AnalysisTaskView) -> dict[str, Any]:
    """One ``BatchResultItem``: ``data`` only when ready, ``error`` only when failed.

    Example:
        >>> result_line(view)["status"]  # doctest: +SKIP
        'ready'
    """
    status = item_status(task.status)
    line: dict[str, Any] = {"task_id": task.rec.id, "custom_id": task.rec.custom_id}
    line["status"] = status
    if status == "ready" and task.result is not None:
        line["data"] = task.result
    if status == "failed" and task.error is not None:
        line["error"] = task.error
    return line


routes = RouteTable()


@routes.route("/analyze/batches", "POST")
async def create_batch(request: Request) -> Response:
    """``POST /analyze/batches`` -> 202 with the batch and one task id per item."""
    body = await json_body(request)
    key, scope = idempotency_of(request)
    view, replayed = await backend_of(request).batches.create(
        body, idempotency_key=key, scope=scope
    )
    rec = view.rec
    data = {
        "batch_id": rec.id,
        "status": view.status,
        "total_items": len(rec.task_ids),
        "created_at": rfc3339(rec.created_at),
        "expires_at": rfc3339(rec.expires_at),
        "items": [{"task_id": t.rec.id, "custom_id": t.rec.custom_id} for t in view.tasks],
    }
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(data, status_code=202, headers=headers)


@routes.route("/analyze/batches/{batch_id}", "GET")
async def get_batch(request: Request) -> Response:
    """``GET /analyze/batches/{batch_id}``."""
    view = backend_of(request).batches.get(request.path_params["batch_id"])
    return JSONResponse(batch_json(view))


@routes.route("/analyze/batches", "GET")
async def list_batches(request: Request) -> Response:
    """``GET /analyze/batches``: ``status`` and ``analysis_mode`` (repeatable), newest first."""
    query = request.query_params
    flt = BatchFilter(statuses=listed(query, "status"), modes=listed(query, "analysis_mode"))
    page = backend_of(request).batches.list(flt, page_request(query))
    return page_json(page, batch_json)


@routes.route("/analyze/batches/{batch_id}/results", "GET")
async def batch_results(request: Request) -> Response:
    """``GET /analyze/batches/{batch_id}/results``: one JSON line per item, in request
    order (readable while the batch runs)."""
    view = backend_of(request).batches.get(request.path_params["batch_id"])
    return StreamingResponse(_lines(view.tasks), media_type="application/jsonl")


async def _lines(tasks: list[AnalysisTaskView]) -> AsyncIterator[bytes]:
    for task in tasks:
        yield orjson.dumps(result_line(task)) + b"\n"
        await anyio.lowlevel.checkpoint()  # each line goes out as it is made


@routes.route("/analyze/batches/{batch_id}/cancel", "POST")
async def cancel_batch(request: Request) -> Response:
    """``POST /analyze/batches/{batch_id}/cancel`` -> the batch now (usually canceling)."""
    view = backend_of(request).batches.cancel(request.path_params["batch_id"])
    return JSONResponse(batch_json(view))


@routes.route("/analyze/batches/{batch_id}", "DELETE")
async def delete_batch(request: Request) -> Response:
    """``DELETE /analyze/batches/{batch_id}`` -> 204 (with its tasks); 409 while active."""
    backend_of(request).batches.delete(request.path_params["batch_id"])
    return Response(status_code=204)
