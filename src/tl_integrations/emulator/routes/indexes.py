"""``/indexes``: create, list, retrieve, rename, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..apierror import ApiError, JSONResponse
from ..ids import rfc3339
from ..state import EmulatorState
from ..store import MARENGO_DIMS, IndexRec
from .common import json_body, matches_time, missing, page_params, paginate, sort_records, state_of
from .tasks import forget_video

__all__ = ["delete_index_data", "index_json", "routes"]

KNOWN_MODELS = frozenset({*MARENGO_DIMS, "pegasus1.2", "pegasus1.5"})
MODEL_OPTIONS = ("visual", "audio")


def index_json(state: EmulatorState, rec: IndexRec) -> dict[str, Any]:
    """The index object of the API (``video_count`` and ``total_duration`` from ready videos).

    Example:
        >>> index_json(state, rec)["index_name"]  # doctest: +SKIP
        'news'
    """
    videos = state.ready_videos(rec.id)
    return {
        "_id": rec.id,
        "index_name": rec.name,
        "created_at": rfc3339(rec.created_at),
        "updated_at": rfc3339(rec.updated_at),
        "expires_at": None,
        "video_count": len(videos),
        "total_duration": round(sum(v.info.duration_s for v in videos if v.info), 3),
        "models": rec.models,
        "addons": rec.addons,
    }


def _bad(message: str, field: str) -> ApiError:
    return ApiError(400, "parameter_invalid", message, details={"field": field})


def _check_models(models: Any) -> list[dict[str, Any]]:
    if not isinstance(models, list) or not models:
        raise missing("models")
    checked = []
    for model in models:
        if not isinstance(model, dict) or model.get("model_name") not in KNOWN_MODELS:
            name = model.get("model_name") if isinstance(model, dict) else model
            raise _bad(
                f"models: unknown model_name {name!r}; use one of {sorted(KNOWN_MODELS)}.", "models"
            )
        options = model.get("model_options")
        if (
            not isinstance(options, list)
            or not 1 <= len(options) <= 2
            or len(set(options)) != len(options)
            or any(o not in MODEL_OPTIONS for o in options)
        ):
            raise _bad(
                f"models: model_options must be 1-2 of {list(MODEL_OPTIONS)}, got {options!r}.",
                "models",
            )
        checked.append({"model_name": model["model_name"], "model_options": list(options)})
    return checked


def _check_name(state: EmulatorState, name: Any, *, exclude: str | None = None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise missing("index_name")
    if any(r.name == name and r.id != exclude for r in state.store.indexes.values()):
        raise ApiError(400, "index_name_already_exists", f"An index named {name!r} already exists.")
    return name


async def create_index(request: Request) -> Response:
    """``POST /indexes`` -> 201 ``{"_id"}``."""
    state = state_of(request)
    body = await json_body(request)
    models = _check_models(body.get("models"))
    addons = body.get("addons") or []
    if not isinstance(addons, list) or any(a != "thumbnail" for a in addons):
        raise _bad(f"addons: only 'thumbnail' is supported, got {addons!r}.", "addons")
    if addons and not any(m["model_name"] in MARENGO_DIMS for m in models):
        raise _bad("addons: add-ons need a Marengo model.", "addons")
    with state.lock:
        name = _check_name(state, body.get("index_name"))
        now = state.now()
        rec = IndexRec(state.new_id(), name, models, list(addons), now, now)
        state.store.indexes[rec.id] = rec
        state.save()
    return JSONResponse({"_id": rec.id}, status_code=201)


def _index_matches(rec: IndexRec, query: Any) -> bool:
    if query.get("index_name") and rec.name != query["index_name"]:
        return False
    wanted = [o for o in (query.get("model_options") or "").split(",") if o]
    if any(o not in rec.model_options for o in wanted):
        return False
    family = query.get("model_family")
    if family and not any(m["model_name"].startswith(family) for m in rec.models):
        return False
    return matches_time(rec.created_at, query, "created_at") and matches_time(
        rec.updated_at, query, "updated_at"
    )


async def list_indexes(request: Request) -> Response:
    """``GET /indexes`` with filters, sorting and paging."""
    state = state_of(request)
    query = request.query_params
    page, limit = page_params(query)
    with state.lock:
        recs = [r for r in state.store.indexes.values() if _index_matches(r, query)]
        keys = {
            "created_at": lambda r: r.created_at,
            "updated_at": lambda r: r.updated_at,
            "index_name": lambda r: r.name,
        }
        items, info = paginate(sort_records(recs, query, keys), page=page, limit=limit)
        data = [index_json(state, r) for r in items]
    return JSONResponse({"data": data, "page_info": info})


async def get_index(request: Request) -> Response:
    """``GET /indexes/{index_id}``."""
    state = state_of(request)
    with state.lock:
        return JSONResponse(index_json(state, state.index(request.path_params["index_id"])))


async def rename_index(request: Request) -> Response:
    """``PUT /indexes/{index_id}`` with ``{"index_name"}`` -> 204."""
    state = state_of(request)
    body = await json_body(request)
    with state.lock:
        rec = state.index(request.path_params["index_id"])
        rec.name = _check_name(state, body.get("index_name"), exclude=rec.id)
        rec.updated_at = state.now()
        state.save()
    return Response(status_code=204)


def delete_index_data(state: EmulatorState, index_id: str) -> None:
    """Remove the videos and tasks of an index, with their media and vectors (under lock)."""
    for video in [v for v in state.store.videos.values() if v.index_id == index_id]:
        forget_video(state, video)
    for task in [t for t in state.store.tasks.values() if t.index_id == index_id]:
        del state.store.tasks[task.id]


async def delete_index(request: Request) -> Response:
    """``DELETE /indexes/{index_id}`` -> 204; its videos and tasks go too."""
    state = state_of(request)
    with state.lock:
        rec = state.index(request.path_params["index_id"])
        delete_index_data(state, rec.id)
        del state.store.indexes[rec.id]
        state.save()
    return Response(status_code=204)


routes = [
    Route("/indexes", create_index, methods=["POST"]),
    Route("/indexes", list_indexes, methods=["GET"]),
    Route("/indexes/{index_id}", get_index, methods=["GET"]),
    Route("/indexes/{index_id}", rename_index, methods=["PUT"]),
    Route("/indexes/{index_id}", delete_index, methods=["DELETE"]),
]
