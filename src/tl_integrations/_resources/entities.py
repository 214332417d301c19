"""Entity collections and entities (``/entity-collections``): people and things to search for.

An entity is a named person or object defined by one or more image assets; a search finds
it when its query text mentions it as ``<@entity_id>`` (:attr:`Entity.mention`). Entities
live in collections. A new entity (and one whose assets change) is ``processing`` for a
while, then ``ready``: an entity is a job of the task engine, so ``wait`` and ``wait_many``
work as for every other kind (entities of one collection are polled with one list
request).

Example:
    >>> entity = Entity.from_api({"_id": "e1", "entity_collection_id": "c1", "name": "Ada",
    ...                           "asset_ids": ["a1"], "status": "processing"})
    >>> entity.done, entity.mention, entity.kind.noun
    (False, '<@e1>', 'entity')
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from .._engine import Creation, Job, Locate, TaskKind, WaitMany, create, job_id_of, wait
from .._errors import InvalidRequestError, TwelveLabsError
from .._flows import Context, Flow, emitted
from .._paging import PAGE_LIMIT_MAX, pages
from .._transport import Reply, Request, path_segment, send, send_json
from .._wire import as_object, opt_int, opt_list, opt_obj, opt_str, req_str
from . import AsyncResource, Resource, Waiting, awaited, located_under, streamed, waited
from .assets import Asset
from .tasks import UPLOAD_TOKEN_KEY
from .videos import check_page_limit

__all__ = [
    "ENTITIES",
    "AsyncEntities",
    "AsyncEntityCollections",
    "BulkEntities",
    "Entities",
    "Entity",
    "EntityCollection",
    "EntityCollections",
]

T = TypeVar("T")
OnUpdate = Callable[["Entity"], object]
_SORT_BY = ("created_at", "updated_at", "name")


@dataclass(frozen=True)
class EntityCollection:
    """A named set of entities.

    Example:
        >>> EntityCollection.from_api({"_id": "c1", "name": "players"}).name
        'players'
    """

    id: str
    name: str | None = None
    description: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> EntityCollection:
        """Parse an entity collection object."""
        obj = as_object(data, "entity collection")
        what = f"entity collection {obj.get('_id', '?')}"
        return cls(
            id=req_str(obj, "_id", "entity collection"),
            name=opt_str(obj, "name", what),
            description=opt_str(obj, "description", what),
            created_at=opt_str(obj, "created_at", what),
            updated_at=opt_str(obj, "updated_at", what),
            raw=obj,
        )


@dataclass(eq=False)
class Entity(Job):
    """A person or object defined by image assets: ``processing`` -> ``ready``.

    Attributes:
        entity_collection_id: the collection it belongs to.
        name / description: what it is called and says.
        metadata: your key/value pairs (strings, numbers, booleans).
        asset_ids: the image assets that define it.

    Example:
        >>> Entity("e1", "ready", entity_collection_id="c1").mention
        '<@e1>'
    """

    entity_collection_id: str | None = None
    name: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    asset_ids: list[str] = field(default_factory=list)

    @property
    def kind(self) -> EntityKind:
        """The task kind of entities."""
        return ENTITIES

    @property
    def mention(self) -> str:
        """How a search query names this entity: ``"<@entity_id>"``.

        Example:
            >>> f"{Entity('e9', 'ready').mention} walks in"
            '<@e9> walks in'
        """
        return f"<@{self.id}>"

    @classmethod
    def from_api(cls, data: Any, *, collection_id: str | None = None) -> Entity:
        """Parse an entity (a bulk create answers only ``_id``, ``name`` and ``status``)."""
        obj = as_object(data, "entity")
        what = f"entity {obj.get('_id', '?')}"
        return cls(
            id=req_str(obj, "_id", "entity"),
            status=opt_str(obj, "status", what) or "processing",
            entity_collection_id=opt_str(obj, "entity_collection_id", what) or collection_id,
            name=opt_str(obj, "name", what),
            description=opt_str(obj, "description", what),
            metadata=opt_obj(obj, "metadata", what) or {},
            asset_ids=[str(a) for a in opt_list(obj, "asset_ids", what) or ()],
            created_at=opt_str(obj, "created_at", what),
            updated_at=opt_str(obj, "updated_at", what),
            raw=obj,
        )


def _collection_path(collection_id: str) -> str:
    return f"/entity-collections/{path_segment(collection_id, 'entity_collection_id')}"


def _entities_path(collection_id: str) -> str:
    return f"{_collection_path(collection_id)}/entities"


def _entity_path(collection_id: str, entity_id: str) -> str:
    return f"{_entities_path(collection_id)}/{path_segment(entity_id, 'entity_id')}"


class EntityKind(TaskKind[Entity]):
    """The task kind of entities: pending ones of a collection are listed together.

    An entity's address includes its collection, which the entity object carries; pass
    entities (as ``create`` returns them) to ``wait`` and ``wait_many``, or ids with their
    ``collection_id``.

    Example:
        >>> ENTITIES.listings("c1", ["e1", "e2"])[0].params["status"]
        'processing'
    """

    noun: ClassVar[str] = "entity"
    pending: ClassVar[tuple[str, ...]] = ("processing",)

    def retrieve(self, job_id: str) -> Request:
        """Needs the collection: see :meth:`Entities.retrieve`."""
        raise InvalidRequestError(
            f"entity {job_id} is read with its collection: pass the Entity object, or its "
            "id with collection_id="
        )

    def parse(self, reply: Reply, *, like: Entity | None) -> Entity:
        """The entity in a retrieve reply."""
        return Entity.from_api(
            reply.json(), collection_id=like.entity_collection_id if like else None
        )

    def group(self, job: Entity) -> Hashable | None:
        """Entities of one collection are listed together."""
        return job.entity_collection_id

    def listings(self, group: Hashable, ids: Sequence[str]) -> list[Request]:
        """The collection's entities still processing (every page is read)."""
        params = {"status": "processing", "page_limit": PAGE_LIMIT_MAX}
        return [Request("GET", _entities_path(str(group)), params=params)]

    def finished_listing(self, group: Hashable) -> Request | None:
        """The collection's most recently changed ready entities (one page)."""
        params = {
            "status": "ready",
            "sort_by": "updated_at",
            "sort_option": "desc",
            "page_limit": PAGE_LIMIT_MAX,
        }
        return Request("GET", _entities_path(str(group)), params=params)

    def parse_item(self, item: Any, group: Hashable) -> Entity:
        """One entity of a list page."""
        return Entity.from_api(item, collection_id=str(group))


ENTITIES = EntityKind()


@dataclass(frozen=True)
class BulkEntityError:
    """One entity of a bulk create that was not made, and why.

    Example:
        >>> BulkEntityError(2, "Ada", "asset not found").index
        2
    """

    index: int
    name: str | None
    reason: str | None


@dataclass(frozen=True)
class BulkEntities:
    """What a bulk create made (``entities``, in order) and what it refused (``errors``).

    Example:
        >>> result = BulkEntities.from_api({"entities": [{"_id": "e1", "name": "Ada",
        ...     "status": "processing"}], "errors": [{"entity_index": 1,
        ...     "entity_name": "Bob", "error_reason": "no assets"}]}, collection_id="c1")
        >>> [e.name for e in result.entities], result.errors[0].reason
        (['Ada'], 'no assets')
    """

    entities: list[Entity]
    errors: list[BulkEntityError]

    @classmethod
    def from_api(cls, data: Any, *, collection_id: str) -> BulkEntities:
        """Parse a bulk create answer."""
        obj = as_object(data, "bulk entity response")
        what = "bulk entity response"
        errors = []
        for item in opt_list(obj, "errors", what) or ():
            entry = as_object(item, f"{what}.errors[]")
            errors.append(
                BulkEntityError(
                    index=opt_int(entry, "entity_index", what, non_negative=True) or 0,
                    name=opt_str(entry, "entity_name", what),
                    reason=opt_str(entry, "error_reason", what),
                )
            )
        made = [
            Entity.from_api(item, collection_id=collection_id)
            for item in opt_list(obj, "entities", what) or ()
        ]
        return cls(made, errors)


# --- checking ------------------------------------------------------------------------------


def _name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequestError(f"{what} must be a non-empty string, got {name!r}")
    return name


def _asset_ids(asset_ids: Any, *, what: str = "asset_ids") -> list[str]:
    if isinstance(asset_ids, (str, Asset)):
        asset_ids = [asset_ids]
    ids = [job_id_of(a, "asset_id") for a in asset_ids or ()]
    if not ids:
        raise InvalidRequestError(f"{what} needs at least one image asset id")
    for asset_id in ids:
        path_segment(asset_id, "asset_id")
    return list(dict.fromkeys(ids))


def _metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise InvalidRequestError(f"metadata must be a dict, got {metadata!r}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InvalidRequestError(f"metadata keys must be non-empty strings, got {key!r}")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise InvalidRequestError(
                f"metadata[{key!r}]: entity metadata values are strings, numbers or booleans "
                f"(encode others as strings), got {value!r}"
            )
    return dict(metadata)


def _entity_body(
    name: str,
    asset_ids: Any,
    description: str | None,
    metadata: Mapping[str, Any] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": _name(name, "name"), "asset_ids": _asset_ids(asset_ids)}
    if description is not None:
        body["description"] = description
    checked = _metadata(metadata)
    if checked is not None:
        body["metadata"] = checked
    return body


def _list_params(
    page_limit: int, sort_by: str | None, sort_option: str | None, **filters: Any
) -> dict[str, Any]:
    if sort_by is not None and sort_by not in _SORT_BY:
        raise InvalidRequestError(f"sort_by must be one of {_SORT_BY}, got {sort_by!r}")
    if sort_option not in (None, "asc", "desc"):
        raise InvalidRequestError(f"sort_option must be 'asc' or 'desc', got {sort_option!r}")
    return {
        "page_limit": check_page_limit(page_limit),
        "sort_by": sort_by,
        "sort_option": sort_option,
        **filters,
    }


# --- flows ---------------------------------------------------------------------------------


class EntityCreation(Creation[Entity]):
    """``POST /entity-collections/{id}/entities``; found again by a token when lost.

    The token goes into the entity's ``metadata`` (``tl_upload_token``), and the entities
    with the same name are listed to find it after a timeout or a 5xx.

    Example:
        >>> EntityCreation("c1", {"name": "Ada", "asset_ids": ["a1"]}).request.path
        '/entity-collections/c1/entities'
    """

    def __init__(self, collection_id: str, body: dict[str, Any]) -> None:
        self.collection_id = collection_id
        metadata = dict(body.get("metadata") or {})
        self.token = str(metadata.get(UPLOAD_TOKEN_KEY) or uuid.uuid4().hex)
        metadata[UPLOAD_TOKEN_KEY] = self.token
        self.name = str(body["name"])
        super().__init__(
            Request("POST", _entities_path(collection_id), json={**body, "metadata": metadata})
        )

    def created(self, reply: Reply) -> Entity:
        """The entity answered (``processing``)."""
        return Entity.from_api(reply.json(), collection_id=self.collection_id)

    def find(self, ctx: Context, error: TwelveLabsError, started: float) -> Flow[Entity | None]:
        """The entity of this name carrying this create's token, None when none was made."""
        request = Request(
            "GET",
            _entities_path(self.collection_id),
            params={"name": self.name, "page_limit": PAGE_LIMIT_MAX},
        )
        found: list[Entity]
        found, _ = yield from emitted(
            pages(
                request,
                ctx,
                "entity list",
                lambda item: Entity.from_api(item, collection_id=self.collection_id),
                max_pages=4,
            )
        )
        mine = [e for e in found if e.metadata.get(UPLOAD_TOKEN_KEY) == self.token]
        return mine[0] if mine else None


def _read_entity(collection_id: str, entity_id: str, ctx: Context) -> Flow[Entity]:
    body = yield from send_json(Request("GET", _entity_path(collection_id, entity_id)), ctx)
    return Entity.from_api(body, collection_id=collection_id)._bind(ctx.owner)


def _locator(collections: dict[str, str]) -> Locate:
    unknown = "entity {job_id}: its collection is not known; pass the Entity object or "
    return located_under(collections, _read_entity, unknown + "collection_id=")


def _collections_of(refs: Iterable[Entity | str], collection_id: str | None) -> dict[str, str]:
    known: dict[str, str] = {}
    for ref in refs:
        job_id = job_id_of(ref, "entity_id")
        where = (
            ref.entity_collection_id
            if isinstance(ref, Entity) and ref.entity_collection_id
            else collection_id
        )
        if where is None:
            raise InvalidRequestError(
                f"entity {job_id}: pass the Entity object or collection_id= (its collection)"
            )
        known[job_id] = path_segment(where, "collection_id") and where
    return known


def _json_flow(request: Request, parse: Callable[[Any], T], ctx: Context) -> Flow[T]:
    body = yield from send_json(request, ctx)
    return parse(body)


def _no_content(request: Request, ctx: Context) -> Flow[None]:
    yield from send(request, ctx)


def _change_assets(
    method: str, collection_id: str, entity_id: str, asset_ids: Any, ctx: Context
) -> Flow[Entity]:
    path = f"{_entity_path(collection_id, entity_id)}/assets"
    request = Request(method, path, json={"asset_ids": _asset_ids(asset_ids)})
    entity: Entity = yield from _json_flow(
        request, lambda b: Entity.from_api(b, collection_id=collection_id)._bind(ctx.owner), ctx
    )
    return entity


def _created(creation: EntityCreation, ctx: Context) -> Flow[Entity]:
    entity: Entity = yield from create(creation, ctx)
    return entity


def _list(request: Request, parse: Callable[[Any], Any], what: str, ctx: Context) -> Flow[None]:
    yield from pages(request, ctx, what, parse)


def _get_or_create(name: str, description: str | None, ctx: Context) -> Flow[EntityCollection]:
    request = Request("GET", "/entity-collections", params=_list_params(50, None, None, name=name))
    found: list[EntityCollection]
    found, _ = yield from emitted(
        pages(request, ctx, "entity collection list", EntityCollection.from_api)
    )
    for collection in found:
        if collection.name == name:
            return collection
    body = {"name": name, **({"description": description} if description is not None else {})}
    made: EntityCollection = yield from _json_flow(
        Request("POST", "/entity-collections", json=body), EntityCollection.from_api, ctx
    )
    return made


# --- the resources -------------------------------------------------------------------------


class Entities(Resource):
    """``client.entity_collections.entities``: create entities from images, wait for them.

    Example:
        >>> people = client.entity_collections.get_or_create("people")  # doctest: +SKIP
        >>> ada = client.entity_collections.entities.create(
        ...     people.id, name="Ada", asset_ids=[photo.id])  # doctest: +SKIP
        >>> ada = client.entity_collections.entities.wait(ada)  # doctest: +SKIP
        >>> client.search.query(index_id=i, query_text=f"{ada.mention} on stage")  # doctest: +SKIP
    """

    def create(
        self,
        collection_id: str,
        *,
        name: str,
        asset_ids: Sequence[str | Asset] | str | Asset,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Entity:
        """Create an entity from one or more ready image assets; returns it ``processing``.

        A create whose answer is lost is found again (by a token in ``metadata``) rather
        than made twice.

        Raises:
            InvalidRequestError: no name, no assets, or metadata the API would refuse.

        Example:
            >>> entities = client.entity_collections.entities  # doctest: +SKIP
            >>> entities.create(c.id, name="Ada", asset_ids=["6711..."]).status  # doctest: +SKIP
            'processing'
        """
        path_segment(collection_id, "collection_id")
        body = _entity_body(name, asset_ids, description, metadata)
        return self._client._run(_created(EntityCreation(collection_id, body), self._ctx))

    def create_many(
        self, collection_id: str, entities: Sequence[Mapping[str, Any]]
    ) -> BulkEntities:
        """Create several entities in one request (``POST .../entities/bulk``).

        Each item is ``{"name", "asset_ids", "description"?, "metadata"?}``. Entities the
        server refuses are reported in ``errors`` (with their index in ``entities``), not
        raised.

        Example:
            >>> result = client.entity_collections.entities.create_many(c.id, [
            ...     {"name": "Ada", "asset_ids": [a1]}, {"name": "Bob", "asset_ids": [b1]},
            ... ])  # doctest: +SKIP
            >>> [e.name for e in result.entities], result.errors  # doctest: +SKIP
        """
        path_segment(collection_id, "collection_id")
        if isinstance(entities, Mapping) or not entities:
            raise InvalidRequestError("entities must be a non-empty list of entity dicts")
        items = []
        for n, item in enumerate(entities):
            if not isinstance(item, Mapping) or "name" not in item or "asset_ids" not in item:
                raise InvalidRequestError(
                    f"entities[{n}] must be a dict with 'name' and 'asset_ids', got {item!r}"
                )
            unknown = sorted(set(item) - {"name", "asset_ids", "description", "metadata"})
            if unknown:
                raise InvalidRequestError(f"entities[{n}]: unknown keys {unknown}")
            items.append(
                _entity_body(
                    item["name"], item["asset_ids"], item.get("description"), item.get("metadata")
                )
            )
        request = Request("POST", f"{_entities_path(collection_id)}/bulk", json={"entities": items})
        flow = _json_flow(
            request,
            lambda body: BulkEntities.from_api(body, collection_id=collection_id),
            self._ctx,
        )
        return self._client._run(flow)

    def retrieve(self, collection_id: str, entity_id: str) -> Entity:
        """Fetch one entity.

        Example:
            >>> client.entity_collections.entities.retrieve(c.id, e_id).status  # doctest: +SKIP
            'ready'
        """
        return self._client._run(_read_entity(collection_id, entity_id, self._ctx))

    def list(
        self,
        collection_id: str,
        *,
        name: str | None = None,
        status: str | None = None,
        sort_by: str | None = None,
        sort_option: str | None = None,
        page_limit: int = PAGE_LIMIT_MAX,
    ) -> Iterator[Entity]:
        """Iterate over a collection's entities, filtered by name and status.

        Example:
            >>> entities = client.entity_collections.entities  # doctest: +SKIP
            >>> [e.name for e in entities.list(c.id, status="ready")]  # doctest: +SKIP
            ['Ada']
        """
        if status not in (None, "processing", "ready"):
            raise InvalidRequestError(f"status must be 'processing' or 'ready', got {status!r}")
        params = _list_params(page_limit, sort_by, sort_option, name=name, status=status)
        request = Request("GET", _entities_path(collection_id), params=params)
        ctx = self._ctx

        def parse(item: Any) -> Entity:
            return Entity.from_api(item, collection_id=collection_id)._bind(ctx.owner)

        return self._client._iterate(_list(request, parse, "entity list", ctx))

    def list_by_asset(
        self, asset_id: str | Asset, *, page_limit: int = PAGE_LIMIT_MAX
    ) -> Iterator[Entity]:
        """Iterate over the entities (of every collection) that an asset defines.

        Example:
            >>> entities = client.entity_collections.entities  # doctest: +SKIP
            >>> [e.name for e in entities.list_by_asset(photo)]  # doctest: +SKIP
        """
        asset = path_segment(job_id_of(asset_id, "asset_id"), "asset_id")
        request = Request(
            "GET", f"/assets/{asset}/entities", params={"page_limit": check_page_limit(page_limit)}
        )
        ctx = self._ctx
        return self._client._iterate(
            _list(request, lambda item: Entity.from_api(item)._bind(ctx.owner), "entity list", ctx)
        )

    def update(
        self,
        collection_id: str,
        entity_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Entity:
        """Change an entity's name, description or metadata (metadata is replaced whole).

        Example:
            >>> entities = client.entity_collections.entities  # doctest: +SKIP
            >>> entities.update(c.id, e_id, name="Ada L.").name  # doctest: +SKIP
            'Ada L.'
        """
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = _name(name, "name")
        if description is not None:
            body["description"] = description
        if metadata is not None:
            body["metadata"] = _metadata(metadata)
        if not body:
            raise InvalidRequestError("give name, description or metadata to update")
        request = Request("PATCH", _entity_path(collection_id, entity_id), json=body)
        flow = _json_flow(
            request, lambda b: Entity.from_api(b, collection_id=collection_id), self._ctx
        )
        return self._client._run(flow)

    def add_assets(
        self, collection_id: str, entity_id: str, asset_ids: Sequence[str | Asset] | str
    ) -> Entity:
        """Add image assets to an entity; it is ``processing`` again for a while.

        Example:
            >>> client.entity_collections.entities.add_assets(c.id, e_id, [a2])  # doctest: +SKIP
        """
        flow = _change_assets("POST", collection_id, entity_id, asset_ids, self._ctx)
        return self._client._run(flow)

    def remove_assets(
        self, collection_id: str, entity_id: str, asset_ids: Sequence[str | Asset] | str
    ) -> Entity:
        """Remove image assets from an entity (not its last one; the assets stay).

        Example:
            >>> client.entity_collections.entities.remove_assets(c.id, e_id, [a2])  # doctest: +SKIP
        """
        flow = _change_assets("DELETE", collection_id, entity_id, asset_ids, self._ctx)
        return self._client._run(flow)

    def delete(self, collection_id: str, entity_id: str) -> None:
        """Delete an entity (its assets stay).

        Example:
            >>> client.entity_collections.entities.delete(c.id, e_id)  # doctest: +SKIP
        """
        request = Request("DELETE", _entity_path(collection_id, entity_id))
        return self._client._run(_no_content(request, self._ctx))

    def wait(
        self,
        entity: Entity | str,
        *,
        collection_id: str | None = None,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> Entity:
        """Poll until the entity is ready (returned) or failed (raised), within ``timeout_s``.

        Example:
            >>> client.entity_collections.entities.wait(ada, timeout_s=300).status  # doctest: +SKIP
            'ready'
        """
        locate = _locator(_collections_of([entity], collection_id))
        flow: Flow[Entity] = wait(
            entity, self._ctx, locate=locate, timeout_s=timeout_s, on_update=on_update
        )
        return self._client._run(flow)

    def wait_many(
        self,
        entities: Iterable[Entity | str],
        *,
        collection_id: str | None = None,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
        open: bool = False,
    ) -> Waiting[Entity]:
        """Wait for many entities, yielding each as it is ready; one collection's entities
        are polled together (one list request a round).

        Example:
            >>> entities = client.entity_collections.entities  # doctest: +SKIP
            >>> made = entities.create_many(c.id, roster)  # doctest: +SKIP
            >>> for e in entities.wait_many(made.entities):  # doctest: +SKIP
            ...     print(e.name, e.status)
        """
        refs = list(entities)
        waiting = WaitMany(
            refs,
            self._ctx,
            locate=_locator(_collections_of(refs, collection_id)),
            timeout_s=timeout_s,
            on_update=on_update,
            open=open,
        )
        return self._client._waiting(waiting)


class AsyncEntities(AsyncResource):
    """``client.entity_collections.entities`` of an async client (same methods, awaited).

    Example:
        >>> ada = await client.entity_collections.entities.create(c.id, name="Ada",
        ...                                                       asset_ids=[a1])  # doctest: +SKIP
    """

    create = awaited(Entities.create)
    create_many = awaited(Entities.create_many)
    retrieve = awaited(Entities.retrieve)
    list = streamed(Entities.list)
    list_by_asset = streamed(Entities.list_by_asset)
    update = awaited(Entities.update)
    add_assets = awaited(Entities.add_assets)
    remove_assets = awaited(Entities.remove_assets)
    delete = awaited(Entities.delete)
    wait = awaited(Entities.wait)
    wait_many = waited(Entities.wait_many)


class EntityCollections(Resource):
    """``client.entity_collections``: named sets of entities (and ``.entities`` in them).

    Attributes:
        entities: the entities of the collections (:class:`Entities`).

    Example:
        >>> people = client.entity_collections.create("people")  # doctest: +SKIP
        >>> [c.name for c in client.entity_collections.list()]  # doctest: +SKIP
        ['people']
    """

    entities: Any

    def create(self, name: str, *, description: str | None = None) -> EntityCollection:
        """Create a collection.

        Example:
            >>> client.entity_collections.create("players").id  # doctest: +SKIP
        """
        body = {"name": _name(name, "name")}
        if description is not None:
            body["description"] = description
        request = Request("POST", "/entity-collections", json=body)
        return self._client._run(_json_flow(request, EntityCollection.from_api, self._ctx))

    def get_or_create(self, name: str, *, description: str | None = None) -> EntityCollection:
        """The collection called ``name``, created when there is none.

        Example:
            >>> client.entity_collections.get_or_create("players").name  # doctest: +SKIP
            'players'
        """
        return self._client._run(_get_or_create(_name(name, "name"), description, self._ctx))

    def retrieve(self, collection_id: str) -> EntityCollection:
        """Fetch one collection.

        Example:
            >>> client.entity_collections.retrieve(c_id).name  # doctest: +SKIP
        """
        request = Request("GET", _collection_path(collection_id))
        return self._client._run(_json_flow(request, EntityCollection.from_api, self._ctx))

    def list(
        self,
        *,
        name: str | None = None,
        sort_by: str | None = None,
        sort_option: str | None = None,
        page_limit: int = PAGE_LIMIT_MAX,
    ) -> Iterator[EntityCollection]:
        """Iterate over the collections (every page), optionally by name.

        Example:
            >>> [c.name for c in client.entity_collections.list()]  # doctest: +SKIP
        """
        params = _list_params(page_limit, sort_by, sort_option, name=name)
        request = Request("GET", "/entity-collections", params=params)
        return self._client._iterate(
            _list(request, EntityCollection.from_api, "entity collection list", self._ctx)
        )

    def update(
        self, collection_id: str, *, name: str | None = None, description: str | None = None
    ) -> EntityCollection:
        """Rename a collection or change its description.

        Example:
            >>> client.entity_collections.update(c_id, name="cast").name  # doctest: +SKIP
            'cast'
        """
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = _name(name, "name")
        if description is not None:
            body["description"] = description
        if not body:
            raise InvalidRequestError("give name or description to update")
        request = Request("PATCH", _collection_path(collection_id), json=body)
        return self._client._run(_json_flow(request, EntityCollection.from_api, self._ctx))

    def delete(self, collection_id: str) -> None:
        """Delete a collection and its entities.

        Example:
            >>> client.entity_collections.delete(c_id)  # doctest: +SKIP
        """
        request = Request("DELETE", _collection_path(collection_id))
        return self._client._run(_no_content(request, self._ctx))


class AsyncEntityCollections(AsyncResource):
    """``client.entity_collections`` of an async client (same methods, awaited).

    Example:
        >>> people = await client.entity_collections.get_or_create("people")  # doctest: +SKIP
    """

    entities: Any

    create = awaited(EntityCollections.create)
    get_or_create = awaited(EntityCollections.get_or_create)
    retrieve = awaited(EntityCollections.retrieve)
    list = streamed(EntityCollections.list)
    update = awaited(EntityCollections.update)
    delete = awaited(EntityCollections.delete)
