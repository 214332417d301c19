"""Entity collections and entities: people and things defined by image assets, searched for
as ``<@entity_id>`` in a query's text.

An entity names one or more ready image assets. It is ``processing`` for a while after it is
made and after each change of its images, then ``ready``; only a ready entity can be searched
for. The emulator recognises an entity the only way it sees anything, by colour: an entity
looks like the mean colours of its images, and a clip shows it when one of those colours fills
at least half of the clip (see :meth:`Entities.looks` and ``semantics.colour_share``).

An image asset deleted with ``force=true`` no longer counts as one of its entities' images.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .assets import Assets
from .errors import Invalid, NotFound, check_among, invalid, missing
from .ingest import AssetRef
from .lifecycle import entity_status, plan_entity_s, task_rng
from .queries import Page, PageRequest, Sort, paginate
from .records import EntityCollectionRec, EntityRec
from .store import Store, lookup

__all__ = [
    "ENTITY_STATUSES",
    "BulkEntities",
    "BulkError",
    "Entities",
    "EntityFilter",
    "EntityView",
    "Look",
]

ENTITY_STATUSES = ("processing", "ready")
_SCALARS = (str, int, float, bool)

#: The mean colours (8-bit RGB) of an entity's images: how the emulator recognises it.
Look = list[tuple[int, int, int]]


@dataclass(frozen=True)
class EntityView:
    """An entity with its status now, and the images it still has.

    ``updated_at`` is the later of the last edit and the moment it became ready.

    Example:
        >>> rec = EntityRec("e", "c", "Ada", None, {}, ["a"], 0.0, 1.0, 0.0, 2.0)
        >>> EntityView(rec, "ready", 2.0, ("a",)).updated_at
        2.0
    """

    rec: EntityRec
    status: str
    status_at: float
    asset_ids: tuple[str, ...]

    @property
    def updated_at(self) -> float:
        """When the entity last changed (an edit, or becoming ready)."""
        became = self.status_at if self.status == "ready" else 0.0
        return max(self.rec.updated_at, became)


@dataclass(frozen=True)
class BulkError:
    """One entity of a bulk create that was refused: its place in the request and why.

    Example:
        >>> BulkError(1, "Bob", "asset_ids: at least one asset id is needed").index
        1
    """

    index: int
    name: str | None
    reason: str


@dataclass(frozen=True)
class BulkEntities:
    """What a bulk create made (in request order) and what it refused.

    Example:
        >>> BulkEntities([], [BulkError(0, None, "name is required")]).errors[0].index
        0
    """

    made: list[EntityView]
    errors: list[BulkError]


@dataclass(frozen=True)
class EntityFilter:
    """The filters of an entity list: an exact name, and statuses (any of them).

    Example:
        >>> EntityFilter(statuses=("ready",)).name is None
        True
    """

    name: str | None = None
    statuses: tuple[str, ...] = ()

    def matches(self, view: EntityView) -> bool:
        """Whether an entity passes every filter."""
        if self.name is not None and view.rec.name != self.name:
            return False
        return not self.statuses or view.status in self.statuses


def _name(value: Any, field: str = "name") -> str:
    if value is None:
        raise missing(field)
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, f"must be a non-empty string, got {value!r}")
    return value


def _description(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid("description", f"must be a string, got {value!r}")
    return value


def _metadata(value: Any) -> dict[str, Any]:
    """Flat key/value pairs: strings, numbers or booleans (a ``null`` value is dropped)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("metadata", f"must be an object, got {value!r}")
    for key, item in value.items():
        if not key:
            raise invalid("metadata", "keys must be non-empty strings")
        if item is not None and not isinstance(item, _SCALARS):
            raise invalid(
                f"metadata.{key}",
                f"values are strings, numbers or booleans (encode others as strings), got {item!r}",
            )
    return {k: v for k, v in value.items() if v is not None}


def _asset_ids(value: Any) -> list[str]:
    if value is None:
        raise missing("asset_ids")
    if not isinstance(value, list) or not value:
        raise invalid("asset_ids", f"must be a non-empty list of asset ids, got {value!r}")
    if not all(isinstance(a, str) and a for a in value):
        raise invalid("asset_ids", f"every asset id must be a non-empty string, got {value!r}")
    return list(dict.fromkeys(value))


class Entities:
    """The entity collections and entities of one emulator.

    Args:
        store: The records.
        assets: The assets (an entity's images are image assets).

    Example:
        >>> people = entities.create_collection(name="people", description=None)
        ... # doctest: +SKIP
        >>> ada = entities.create(people.id, {"name": "Ada", "asset_ids": [photo_id]})
        ... # doctest: +SKIP
        >>> ada.status  # doctest: +SKIP
        'processing'
    """

    def __init__(self, store: Store, assets: Assets) -> None:
        self.store = store
        self.assets = assets

    # ------------------------------------------------------------------ collections

    def _collection(self, collection_id: str) -> EntityCollectionRec:
        return lookup(self.store.records.entity_collections, collection_id, "entity collection")

    def create_collection(self, *, name: Any, description: Any) -> EntityCollectionRec:
        """A new, empty collection (names need not be unique).

        Raises:
            Invalid: For a missing name or a description that is not a string.
        """
        checked = _name(name)
        about = _description(description)
        store = self.store
        with store.lock:
            now = store.now()
            rec = EntityCollectionRec(store.new_id(), checked, about, now, now)
            store.records.entity_collections[rec.id] = rec
            store.save()
            return rec

    def get_collection(self, collection_id: str) -> EntityCollectionRec:
        """One collection.

        Raises:
            NotFound: When there is no such collection.
        """
        with self.store.lock:
            return self._collection(collection_id)

    def list_collections(
        self, *, name: str | None, sort: Sort, page: PageRequest
    ) -> Page[EntityCollectionRec]:
        """Collections with exactly this name (all when None), sorted and paged.

        Raises:
            Invalid: For an unknown sort key.
        """
        keys: dict[str, Callable[[EntityCollectionRec], Any]] = {
            "created_at": lambda r: r.created_at,
            "updated_at": lambda r: r.updated_at,
            "name": lambda r: r.name,
        }
        with self.store.lock:
            recs = [
                r
                for r in self.store.records.entity_collections.values()
                if name is None or r.name == name
            ]
            return paginate(sort.apply(recs, keys), page)

    def update_collection(
        self, collection_id: str, *, name: Any, description: Any
    ) -> EntityCollectionRec:
        """Rename a collection or change its description (None leaves a field as it is).

        Raises:
            NotFound: When there is no such collection.
            Invalid: For an empty name or a description that is not a string.
        """
        new_name = None if name is None else _name(name)
        about = _description(description)
        store = self.store
        with store.lock:
            rec = self._collection(collection_id)
            rec.name = new_name if new_name is not None else rec.name
            rec.description = about if about is not None else rec.description
            rec.updated_at = store.now()
            store.save()
            return rec

    def delete_collection(self, collection_id: str) -> None:
        """Delete a collection with its entities.

        Raises:
            NotFound: When there is no such collection.
        """
        store = self.store
        with store.lock:
            self._collection(collection_id)
            records = store.records
            for entity_id in [e.id for e in records.entities.values()]:
                if records.entities[entity_id].collection_id == collection_id:
                    del records.entities[entity_id]
            del records.entity_collections[collection_id]
            store.save()

    # ------------------------------------------------------------------ entities

    def view(self, rec: EntityRec) -> EntityView:
        """The entity's status now, and its images that still exist."""
        status, at = entity_status(rec, now_s=self.store.now())
        live = tuple(a for a in rec.asset_ids if a in self.store.records.assets)
        return EntityView(rec, status, at, live)

    def _entity(self, collection_id: str, entity_id: str) -> EntityRec:
        self._collection(collection_id)
        rec = self.store.records.entities.get(entity_id)
        if rec is None or rec.collection_id != collection_id:
            raise NotFound("entity", entity_id)
        return rec

    def _images(self, asset_ids: list[str]) -> list[str]:
        """Check that each asset is a ready image (call under the lock)."""
        for asset_id in asset_ids:
            try:
                asset = self.assets.ready(AssetRef(asset_id, field="asset_ids"))
            except NotFound:
                raise invalid("asset_ids", f"the asset {asset_id!r} does not exist") from None
            if asset.kind != "image":
                raise invalid(
                    "asset_ids",
                    f"the asset {asset_id!r} is {asset.kind}; an entity is made of image assets",
                )
        return asset_ids

    def _start_processing(self, rec: EntityRec) -> None:
        """The entity's images changed: it processes them anew from now."""
        store = self.store
        rec.changed_at = rec.updated_at = store.now()
        rec.processing_s = plan_entity_s(
            store.config.stages,
            speed=store.config.speed,
            rng=task_rng(seed=store.config.seed, task_id=f"{rec.id}@{rec.changed_at}"),
        )

    def _new(self, collection_id: str, spec: Any) -> EntityView:
        """Check one entity's fields and register it (call under the lock)."""
        if not isinstance(spec, dict):
            raise Invalid(None, f"An entity must be an object, got {spec!r}.")
        name = _name(spec.get("name"))
        wanted = _asset_ids(spec.get("asset_ids"))
        about = _description(spec.get("description"))
        metadata = _metadata(spec.get("metadata"))
        assets = self._images(wanted)
        store = self.store
        now = store.now()
        rec = EntityRec(
            store.new_id(), collection_id, name, about, metadata, assets, now, now, now, 0.0
        )

        self._start_processing(rec)
        store.records.entities[rec.id] = rec
        return self.view(rec)

    def create(self, collection_id: str, spec: Any) -> EntityView:
        """A new entity (``{name, asset_ids, description?, metadata?}``), ``processing``.

        Raises:
            NotFound: When there is no such collection.
            Invalid: For a missing name, no assets, an asset that is not a ready image, or
                metadata that is not flat.
        """
        with self.store.lock:
            self._collection(collection_id)
            view = self._new(collection_id, spec)
            self.store.save()
            return view

    def create_many(self, collection_id: str, specs: Any) -> BulkEntities:
        """Create each entity of ``specs`` that is valid; report the others by position.

        Raises:
            NotFound: When there is no such collection.
            Invalid: When ``specs`` is not a non-empty list.
        """
        if specs is None:
            raise missing("entities")
        if not isinstance(specs, list) or not specs:
            raise invalid("entities", f"must be a non-empty list of entities, got {specs!r}")
        made: list[EntityView] = []
        errors: list[BulkError] = []
        with self.store.lock:
            self._collection(collection_id)
            for index, spec in enumerate(specs):
                try:
                    made.append(self._new(collection_id, spec))
                except Invalid as err:
                    name = spec.get("name") if isinstance(spec, dict) else None
                    named = name if isinstance(name, str) else None
                    errors.append(BulkError(index, named, err.message))
            self.store.save()
        return BulkEntities(made, errors)

    def get(self, collection_id: str, entity_id: str) -> EntityView:
        """One entity of a collection.

        Raises:
            NotFound: When the collection or the entity (in that collection) does not exist.
        """
        with self.store.lock:
            return self.view(self._entity(collection_id, entity_id))

    def list(
        self, collection_id: str, flt: EntityFilter, sort: Sort, page: PageRequest
    ) -> Page[EntityView]:
        """The entities of a collection, filtered, sorted and paged.

        Raises:
            NotFound: When there is no such collection.
            Invalid: For an unknown status or sort key.
        """
        check_among("status", flt.statuses, ENTITY_STATUSES)
        with self.store.lock:
            self._collection(collection_id)
            views = [
                self.view(e)
                for e in self.store.records.entities.values()
                if e.collection_id == collection_id
            ]
            return paginate(_sorted([v for v in views if flt.matches(v)], sort), page)

    def by_asset(self, asset_id: str, page: PageRequest) -> Page[EntityView]:
        """The entities (of any collection) that have this asset among their images, newest
        first.

        Raises:
            NotFound: When there is no such asset.
        """
        with self.store.lock:
            self.assets.get(asset_id)
            views = [
                self.view(e)
                for e in self.store.records.entities.values()
                if asset_id in e.asset_ids
            ]
            return paginate(_sorted(views, Sort()), page)

    def update(self, collection_id: str, entity_id: str, fields: Mapping[str, Any]) -> EntityView:
        """Change ``name``, ``description`` or ``metadata`` (replaced whole); absent or
        ``null`` fields stay as they are.

        Raises:
            NotFound: When the collection or the entity does not exist.
            Invalid: For an empty name, or metadata that is not flat.
        """
        name = None if fields.get("name") is None else _name(fields["name"])
        about = _description(fields.get("description"))
        metadata = None if fields.get("metadata") is None else _metadata(fields["metadata"])
        store = self.store
        with store.lock:
            rec = self._entity(collection_id, entity_id)
            rec.name = name if name is not None else rec.name
            rec.description = about if about is not None else rec.description
            rec.metadata = metadata if metadata is not None else rec.metadata
            rec.updated_at = store.now()
            store.save()
            return self.view(rec)

    def delete(self, collection_id: str, entity_id: str) -> None:
        """Delete an entity (its image assets stay).

        Raises:
            NotFound: When the collection or the entity does not exist.
        """
        with self.store.lock:
            rec = self._entity(collection_id, entity_id)
            del self.store.records.entities[rec.id]
            self.store.save()

    def add_assets(self, collection_id: str, entity_id: str, asset_ids: Any) -> EntityView:
        """Add images to an entity; it processes again when one is new to it (adding an
        image it has changes nothing, so a repeated request is harmless).

        Raises:
            NotFound: When the collection or the entity does not exist.
            Invalid: For no asset ids, or an asset that is not a ready image.
        """
        wanted = _asset_ids(asset_ids)
        with self.store.lock:
            rec = self._entity(collection_id, entity_id)
            new = [a for a in self._images(wanted) if a not in rec.asset_ids]
            if new:
                rec.asset_ids = rec.asset_ids + new
                self._start_processing(rec)
                self.store.save()
            return self.view(rec)

    def remove_assets(self, collection_id: str, entity_id: str, asset_ids: Any) -> EntityView:
        """Take images from an entity; it processes again when it lost one. Ids it does not
        have are ignored (a repeated request is harmless), but it must keep one image.

        Raises:
            NotFound: When the collection or the entity does not exist.
            Invalid: For no asset ids, or a request that would leave no image.
        """
        unwanted = set(_asset_ids(asset_ids))
        with self.store.lock:
            rec = self._entity(collection_id, entity_id)
            kept = [a for a in rec.asset_ids if a not in unwanted]
            if not kept:
                raise invalid(
                    "asset_ids",
                    f"an entity keeps at least one asset; removing {sorted(unwanted)} would "
                    f"leave {entity_id!r} with none (add another image first, or delete it)",
                )
            if len(kept) < len(rec.asset_ids):
                rec.asset_ids = kept
                self._start_processing(rec)
                self.store.save()
            return self.view(rec)

    # ------------------------------------------------------------------ search

    def looks(self, entity_ids: Sequence[str]) -> dict[str, Look]:
        """How each entity looks: the mean colours of its images (call under the lock).

        Raises:
            Invalid: For an unknown entity, or one still processing (field ``query_text``).
        """
        found: dict[str, Look] = {}
        for entity_id in entity_ids:
            rec = self.store.records.entities.get(entity_id)
            if rec is None:
                raise invalid("query_text", f"the entity <@{entity_id}> does not exist")
            view = self.view(rec)
            if view.status != "ready":
                raise invalid(
                    "query_text",
                    f"the entity <@{entity_id}> is {view.status}; search for it once it is ready",
                )
            colours = (self.store.records.assets[a].thumbnail_rgb for a in view.asset_ids)
            found[entity_id] = [(c[0], c[1], c[2]) for c in colours if c is not None]
        return found


def _sorted(views: list[EntityView], sort: Sort) -> list[EntityView]:
    keys: dict[str, Callable[[EntityView], Any]] = {
        "created_at": lambda v: v.rec.created_at,
        "updated_at": lambda v: v.updated_at,
        "name": lambda v: v.rec.name,
    }
    return sort.apply(views, keys)
