"""``/indexes``: create, list, retrieve, rename, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._apierror import JSONResponse
from .._backend.errors import check_among
from .._backend.indexes import IndexFilter, IndexView
from .._ids import rfc3339
from .params import backend_of, json_body, page_request, sort_of, time_range_of
from .shapes import page_json
from .table import RouteTable

__all__ = ["index_json", "routes"]


def index_json(view: IndexView) -> dict[str, Any]:
    """The index object of the API.

    Example:
        >>> index_json(view)["index_name"]  # doctest: +SKIP
        'news'
    """
    rec = view.rec
    return {
        "_id": rec.id,
        "index_name": rec.name,
        "created_at": rfc3339(rec.created_at),
        "updated_at": rfc3339(rec.updated_at),
        "expires_at": None,
        "video_count": view.video_count,
        "total_duration": view.total_duration_s,
        "models": rec.models,
        "addons": rec.addons,
    }


routes = RouteTable()

#: The ``model_family`` values ``GET /indexes`` filters on.
MODEL_FAMILIES = ("marengo", "pegasus")


@routes.route("/indexes", "POST")
async def create_index(request: Request) -> Response:
    """``POST /indexes`` -> 201 ``{"_id"}``."""
    body = await json_body(request)
    rec = backend_of(request).indexes.create(
        name=body.get("index_name"), models=body.get("models"), addons=body.get("addons")
    )
    return JSONResponse({"_id": rec.id}, status_code=201)


@routes.route("/indexes", "GET")
async def list_indexes(request: Request) -> Response:
    """``GET /indexes`` with filters, sorting and paging."""
    query = request.query_params
    family = query.get("model_family") or None
    if family is not None:
        check_among("model_family", [family], MODEL_FAMILIES)
    flt = IndexFilter(
        name=query.get("index_name") or None,
        model_options=tuple(o for o in (query.get("model_options") or "").split(",") if o),
        model_family=family,
        created=time_range_of(query, "created_at"),
        updated=time_range_of(query, "updated_at"),
    )
    page = backend_of(request).indexes.list(flt, sort_of(query), page_request(query))
    return page_json(page, index_json)


@routes.route("/indexes/{index_id}", "GET")
async def get_index(request: Request) -> Response:
    """``GET /indexes/{index_id}``."""
    return JSONResponse(
        index_json(backend_of(request).indexes.get(request.path_params["index_id"]))
    )


@routes.route("/indexes/{index_id}", "PUT")
async def rename_index(request: Request) -> Response:
    """``PUT /indexes/{index_id}`` with ``{"index_name"}`` -> 204."""
    body = await json_body(request)
    backend_of(request).indexes.rename(request.path_params["index_id"], name=body.get("index_name"))
    return Response(status_code=204)


@routes.route("/indexes/{index_id}", "DELETE")
async def delete_index(request: Request) -> Response:
    """``DELETE /indexes/{index_id}`` -> 204; its videos and tasks go too."""
    backend_of(request).indexes.delete(request.path_params["index_id"])
    return Response(status_code=204)
