"""Indexes (``/indexes``): the models and ``client.indexes``.

Today an index holds Marengo only (``marengo3.0``); Pegasus is no longer an index model
(analysis takes an asset, see :mod:`.analyze`). Indexes made earlier may still list
``pegasus1.2``: they keep working for search and are never assumed to analyse.

Example:
    >>> Index.from_api({"_id": "i1", "index_name": "talks", "video_count": 2.0}).video_count
    2
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._errors import BadRequestError, ConflictError, InvalidRequestError
from .._flows import Context, Flow, emitted
from .._paging import PAGE_LIMIT_MAX, pages
from .._transport import Request, RetryMode, path_segment, send, send_json
from .._wire import as_object, opt_float, opt_int, opt_list, opt_str, req_str
from . import AsyncResource, Resource, awaited, streamed
from .videos import check_page_limit

__all__ = [
    "DEFAULT_MODELS",
    "AsyncIndexes",
    "Index",
    "IndexModel",
    "Indexes",
    "get_or_create_index",
    "retrieve_index",
]


@dataclass(frozen=True)
class IndexModel:
    """One model of an index: ``IndexModel("marengo3.0", ("visual", "audio"))``.

    Example:
        >>> IndexModel("marengo3.0").to_api()
        {'model_name': 'marengo3.0', 'model_options': ['visual', 'audio']}
    """

    name: str
    options: tuple[str, ...] = ("visual", "audio")

    def to_api(self) -> dict[str, Any]:
        """The wire form used by ``POST /indexes``."""
        return {"model_name": self.name, "model_options": list(self.options)}


DEFAULT_MODELS: tuple[IndexModel, ...] = (IndexModel("marengo3.0", ("visual", "audio")),)
"""Marengo 3.0 with visual and audio: search and embeddings (the only index model today)."""

ModelSpec = IndexModel | Mapping[str, Any]


@dataclass(frozen=True)
class Index:
    """An index: a named collection of videos processed by a fixed set of models.

    Example:
        >>> Index.from_api({"_id": "i1", "models": [{"model_name": "marengo3.0",
        ...                 "model_options": ["visual"]}]}).models[0].name
        'marengo3.0'
    """

    id: str
    name: str | None = None
    models: tuple[IndexModel, ...] = ()
    created_at: str | None = None
    updated_at: str | None = None
    expires_at: str | None = None
    video_count: int | None = None
    total_duration: float | None = None
    addons: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> Index:
        """Parse an index object (v1.2's ``engines`` are read as models too)."""
        obj = as_object(data, "index")
        what = f"index {obj.get('_id', '?')}"
        return cls(
            id=req_str(obj, "_id", "index"),
            name=opt_str(obj, "index_name", what),
            models=_index_models(obj, what),
            created_at=opt_str(obj, "created_at", what),
            updated_at=opt_str(obj, "updated_at", what),
            expires_at=opt_str(obj, "expires_at", what),
            video_count=opt_int(obj, "video_count", what, non_negative=True),
            total_duration=opt_float(obj, "total_duration", what, non_negative=True),
            addons=tuple(str(a) for a in opt_list(obj, "addons", what) or ()),
            raw=obj,
        )


def _index_models(obj: Mapping[str, Any], what: str) -> tuple[IndexModel, ...]:
    items = opt_list(obj, "models", what) or opt_list(obj, "engines", what) or []
    models = []
    for item in items:
        entry = as_object(item, f"{what}.models[]")
        name = opt_str(entry, "model_name", what) or opt_str(entry, "engine_name", what)
        options = opt_list(entry, "model_options", what) or opt_list(entry, "engine_options", what)
        models.append(IndexModel(name or "", tuple(str(o) for o in options or ())))
    return tuple(models)


def _model_api(model: ModelSpec) -> dict[str, Any]:
    if isinstance(model, IndexModel):
        return model.to_api()
    if isinstance(model, Mapping) and "model_name" in model:
        return dict(model)
    raise InvalidRequestError(
        f"models must hold IndexModel(...) or {{'model_name', 'model_options'}} dicts, "
        f"got {model!r}"
    )


def _create_request(
    name: str, models: Sequence[ModelSpec], addons: Sequence[str] | None, retry: RetryMode
) -> Request:
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequestError(f"name must be a non-empty string, got {name!r}")
    body: dict[str, Any] = {"index_name": name, "models": [_model_api(m) for m in models]}
    if not body["models"]:
        raise InvalidRequestError("an index needs at least one model; see DEFAULT_MODELS")
    if addons:
        body["addons"] = list(addons)
    return Request("POST", "/indexes", json=body, retry=retry)


def _create(request: Request, ctx: Context) -> Flow[Index]:
    created = as_object((yield from send_json(request, ctx)), "created index")
    return Index.from_api({**request.json, **created})


def retrieve_index(index_id: str, ctx: Context) -> Flow[Index]:
    """Read one index (``GET /indexes/{index_id}``)."""
    path = f"/indexes/{path_segment(index_id, 'index_id')}"
    return Index.from_api((yield from send_json(Request("GET", path), ctx)))


def _delete(index_id: str, ctx: Context) -> Flow[None]:
    yield from send(Request("DELETE", f"/indexes/{path_segment(index_id, 'index_id')}"), ctx)


def _list_request(
    name: str | None, page_limit: int, sort_by: str | None, sort_option: str | None
) -> Request:
    params = {
        "index_name": name,
        "page_limit": check_page_limit(page_limit),
        "sort_by": sort_by,
        "sort_option": sort_option,
    }
    return Request("GET", "/indexes", params=params)


def _list(request: Request, ctx: Context) -> Flow[None]:
    yield from pages(request, ctx, "index list", Index.from_api)


def _find(name: str, ctx: Context) -> Flow[Index | None]:
    request = _list_request(name, PAGE_LIMIT_MAX, None, None)
    indexes, _ = yield from emitted(_list(request, ctx))
    return next((index for index in indexes if index.name == name), None)


def get_or_create_index(
    name: str,
    ctx: Context,
    models: Sequence[ModelSpec] = DEFAULT_MODELS,
    addons: Sequence[str] | None = None,
) -> Flow[Index]:
    """The index called ``name``, created when there is none (see ``Indexes.get_or_create``)."""
    # Built (so checked) first: a bad name or model is refused before the look-up is sent.
    # A name exists once per account, so the create is safe to repeat after a lost answer.
    request = _create_request(name, models, addons, "always")
    found = yield from _find(name, ctx)
    if found is not None:
        return found
    try:
        return (yield from _create(request, ctx))
    except (BadRequestError, ConflictError):
        # Someone (or our own first attempt, whose answer was lost) created it meanwhile.
        found = yield from _find(name, ctx)
        if found is None:
            raise
        return found


class Indexes(Resource):
    """``client.indexes``: create, find and delete indexes.

    Attributes:
        indexed_assets: assets placed into indexes
            (:class:`~tl_integrations._resources.indexed_assets.IndexedAssets`).

    Example:
        >>> index = client.indexes.get_or_create("talks")  # doctest: +SKIP
        >>> [i.name for i in client.indexes.list()]  # doctest: +SKIP
        ['talks']
    """

    indexed_assets: Any

    def create(
        self,
        name: str,
        *,
        models: Sequence[ModelSpec] = DEFAULT_MODELS,
        addons: Sequence[str] | None = None,
    ) -> Index:
        """Create an index (``POST /indexes``); names are unique per account.

        Raises:
            BadRequestError: e.g. ``index_name_already_exists``.

        Example:
            >>> client.indexes.create("talks").name  # doctest: +SKIP
            'talks'
        """
        return self._client._run(_create(_create_request(name, models, addons, "auto"), self._ctx))

    def retrieve(self, index_id: str) -> Index:
        """Fetch one index.

        Raises:
            NotFoundError: no such index.

        Example:
            >>> client.indexes.retrieve(index_id).name  # doctest: +SKIP
            'talks'
        """
        return self._client._run(retrieve_index(index_id, self._ctx))

    def delete(self, index_id: str) -> None:
        """Delete an index and every video in it.

        Example:
            >>> client.indexes.delete(index_id)  # doctest: +SKIP
        """
        return self._client._run(_delete(index_id, self._ctx))

    def get_or_create(
        self,
        name: str,
        *,
        models: Sequence[ModelSpec] = DEFAULT_MODELS,
        addons: Sequence[str] | None = None,
    ) -> Index:
        """The index called ``name``, created (with ``models``) when there is none.

        An existing index is returned as it is, whatever its models. The create is safe to
        repeat (a name exists once), so it is retried after 5xx answers and lost responses.

        Example:
            >>> client.indexes.get_or_create("talks").id  # doctest: +SKIP
            '6650a1b2c3d4e5f601234567'
        """
        _create_request(name, models, addons, "always")  # refuse bad arguments before sending
        return self._client._run(get_or_create_index(name, self._ctx, models, addons))

    def list(
        self,
        *,
        name: str | None = None,
        page_limit: int = PAGE_LIMIT_MAX,
        sort_by: str | None = None,
        sort_option: str | None = None,
    ) -> Iterator[Index]:
        """Iterate over every index (all pages), optionally filtered by name.

        Example:
            >>> [i.name for i in client.indexes.list(name="talks")]  # doctest: +SKIP
            ['talks']
        """
        request = _list_request(name, page_limit, sort_by, sort_option)
        return self._client._iterate(_list(request, self._ctx))


class AsyncIndexes(AsyncResource):
    """``client.indexes`` of :class:`~tl_integrations.AsyncTwelveLabs` (same, awaited).

    Example:
        >>> index = await client.indexes.get_or_create("talks")  # doctest: +SKIP
    """

    indexed_assets: Any

    create = awaited(Indexes.create)
    retrieve = awaited(Indexes.retrieve)
    delete = awaited(Indexes.delete)
    get_or_create = awaited(Indexes.get_or_create)
    list = streamed(Indexes.list)
