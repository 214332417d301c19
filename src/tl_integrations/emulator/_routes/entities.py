"""``/entity-collections``: collections and the entities in them (made of image assets),
their images, and ``GET /assets/{asset_id}/entities``.

Unknown collections and entities answer 400 here (see ``apierror``), as the API documents no
other error status for these endpoints.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._apierror import JSONResponse
from .._backend.entities import EntityFilter, EntityView
from .._backend.records import EntityCollectionRec
from .._ids import rfc3339
from .params import backend_of, json_body, listed, page_request, sort_of
from .shapes import page_json
from .table import RouteTable

__all__ = ["collection_json", "entity_json", "routes"]


def collection_json(rec: EntityCollectionRec) -> dict[str, Any]:
    """An ``EntityCollection``.

    Example:
        >>> collection_json(EntityCollectionRec("c", "players", None, 0.0, 0.0))["name"]
        'players'
    """
    return {
        "_id": rec.id,
        "name": rec.name,
        "description": rec.description,
        "created_at": rfc3339(rec.created_at),
        "updated_at": rfc3339(rec.updated_at),
    }


def entity_json(view: EntityView) -> dict[str, Any]:
    """An ``Entity``, with its status now.

    Example:
        >>> entity_json(view)["status"]  # doctest: +SKIP
        'processing'
    """
    rec = view.rec
    return {
        "_id": rec.id,
        "entity_collection_id": rec.collection_id,
        "name": rec.name,
        "description": rec.description,
        "metadata": rec.metadata,
        "asset_ids": list(view.asset_ids),
        "status": view.status,
        "created_at": rfc3339(rec.created_at),
        "updated_at": rfc3339(view.updated_at),
    }


def _collection_id(request: Request) -> str:
    return str(request.path_params["collection_id"])


def _ids(request: Request) -> tuple[str, str]:
    return _collection_id(request), str(request.path_params["entity_id"])


# ---------------------------------------------------------------------- collections


_COLLECTION = "/entity-collections/{collection_id}"
_ENTITY = _COLLECTION + "/entities/{entity_id}"
routes = RouteTable()


@routes.route("/entity-collections", "POST")
async def create_collection(request: Request) -> Response:
    """``POST /entity-collections`` ``{name, description?}`` -> 201."""
    body = await json_body(request)
    rec = backend_of(request).entities.create_collection(
        name=body.get("name"), description=body.get("description")
    )
    return JSONResponse(collection_json(rec), status_code=201)


@routes.route("/entity-collections", "GET")
async def list_collections(request: Request) -> Response:
    """``GET /entity-collections``: ``name`` (exact), ``sort_by`` created_at, updated_at or
    name, ``sort_option``, paged."""
    query = request.query_params
    page = backend_of(request).entities.list_collections(
        name=query.get("name") or None, sort=sort_of(query), page=page_request(query)
    )
    return page_json(page, collection_json)


@routes.route(_COLLECTION, "GET")
async def get_collection(request: Request) -> Response:
    """``GET /entity-collections/{collection_id}``."""
    rec = backend_of(request).entities.get_collection(_collection_id(request))
    return JSONResponse(collection_json(rec))


@routes.route(_COLLECTION, "PATCH")
async def update_collection(request: Request) -> Response:
    """``PATCH /entity-collections/{collection_id}`` ``{name?, description?}``: the
    collection as it is now."""
    body = await json_body(request)
    rec = backend_of(request).entities.update_collection(
        _collection_id(request), name=body.get("name"), description=body.get("description")
    )
    return JSONResponse(collection_json(rec))


@routes.route(_COLLECTION, "DELETE")
async def delete_collection(request: Request) -> Response:
    """``DELETE /entity-collections/{collection_id}`` (with its entities) -> 204."""
    backend_of(request).entities.delete_collection(_collection_id(request))
    return Response(status_code=204)


# ---------------------------------------------------------------------- entities


@routes.route(_COLLECTION + "/entities", "POST")
async def create_entity(request: Request) -> Response:
    """``POST .../entities`` ``{name, asset_ids, description?, metadata?}`` -> 201."""
    body = await json_body(request)
    view = backend_of(request).entities.create(_collection_id(request), body)
    return JSONResponse(entity_json(view), status_code=201)


@routes.route(_COLLECTION + "/entities/bulk", "POST")
async def create_entities(request: Request) -> Response:
    """``POST .../entities/bulk`` ``{entities: [...]}`` -> 201 with what was made and what
    was refused (by position)."""
    body = await json_body(request)
    result = backend_of(request).entities.create_many(_collection_id(request), body.get("entities"))
    return JSONResponse(
        {
            "success_count": len(result.made),
            "failed_count": len(result.errors),
            "entities": [
                {"_id": v.rec.id, "name": v.rec.name, "status": v.status} for v in result.made
            ],
            "errors": [
                {"entity_index": e.index, "entity_name": e.name, "error_reason": e.reason}
                for e in result.errors
            ],
        },
        status_code=201,
    )


@routes.route(_COLLECTION + "/entities", "GET")
async def list_entities(request: Request) -> Response:
    """``GET .../entities``: ``name`` (exact), ``status`` (processing or ready), ``sort_by``
    created_at, updated_at or name, ``sort_option``, paged."""
    query = request.query_params
    flt = EntityFilter(name=query.get("name") or None, statuses=listed(query, "status"))
    page = backend_of(request).entities.list(
        _collection_id(request), flt, sort_of(query), page_request(query)
    )
    return page_json(page, entity_json)


@routes.route(_ENTITY, "GET")
async def get_entity(request: Request) -> Response:
    """``GET .../entities/{entity_id}``."""
    view = backend_of(request).entities.get(*_ids(request))
    return JSONResponse(entity_json(view))


@routes.route(_ENTITY, "PATCH")
async def update_entity(request: Request) -> Response:
    """``PATCH .../entities/{entity_id}`` ``{name?, description?, metadata?}``: the entity
    as it is now (metadata is replaced whole)."""
    body = await json_body(request)
    view = backend_of(request).entities.update(*_ids(request), body)
    return JSONResponse(entity_json(view))


@routes.route(_ENTITY, "DELETE")
async def delete_entity(request: Request) -> Response:
    """``DELETE .../entities/{entity_id}`` -> 204."""
    backend_of(request).entities.delete(*_ids(request))
    return Response(status_code=204)


@routes.route(_ENTITY + "/assets", "POST", "DELETE")
async def entity_assets(request: Request) -> Response:
    """``POST`` (add) or ``DELETE`` (remove) ``.../entities/{entity_id}/assets`` with a JSON
    body ``{asset_ids}``: the entity as it is now (processing again if its images
    changed)."""
    body = await json_body(request)
    entities = backend_of(request).entities
    change = entities.add_assets if request.method == "POST" else entities.remove_assets
    view = change(*_ids(request), body.get("asset_ids"))
    return JSONResponse(entity_json(view))


@routes.route("/assets/{asset_id}/entities", "GET")
async def entities_of_asset(request: Request) -> Response:
    """``GET /assets/{asset_id}/entities``: the entities having this image, paged."""
    page = backend_of(request).entities.by_asset(
        request.path_params["asset_id"], page_request(request.query_params)
    )
    return page_json(page, entity_json)
