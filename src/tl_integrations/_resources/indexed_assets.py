"""Indexed assets (``/indexes/{index_id}/indexed-assets``) and ``client.index(...)``.

Indexing is now its own step: a ready asset is placed into an index, as an *indexed asset*
that goes ``validating -> pending -> queued -> indexing -> ready | failed``; once ready it is
a video of the index (its id is the video's id and the search results' ``video_id``).

``client.index(path_or_url, index_name=...)`` does the whole way for one file: upload (once:
see ``client.assets.upload``), index (once: an indexed asset carrying the file's SHA-256 in
its ``user_metadata`` is found before a new one is made, also after a lost answer), wait, and
return the video.

Example:
    >>> ia = IndexedAsset.from_api({"_id": "v1", "asset_id": "a1", "status": "indexing"},
    ...                            index_id="i1")
    >>> ia.done, ia.kind.noun, ia.index_id
    (False, 'indexed asset', 'i1')
"""

from __future__ import annotations

import functools
import logging
import os
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._claims import CLAIMS, kept
from .._engine import (
    Creation,
    Job,
    Locate,
    TaskKind,
    WaitMany,
    create,
    job_id_of,
    wait,
)
from .._errors import InvalidRequestError, TaskFailedError, TwelveLabsError
from .._flows import Context, Flow, emitted
from .._paging import PAGE_LIMIT_MAX, pages
from .._polling import check_timeout
from .._transport import Reply, Request, path_segment, send
from .._uploads import check_video_name, url_key
from .._wire import as_object, opt_list, opt_obj, opt_str, req_str
from . import AsyncResource, Resource, Waiting, awaited, located_under, streamed, waited
from .assets import (
    HASH_KEY,
    Asset,
    AssetCreation,
    UploadPlan,
    find_by_metadata,
    plan_upload,
    upload_asset,
)
from .indexes import get_or_create_index, retrieve_index
from .tasks import UPLOAD_TOKEN_KEY, check_user_metadata, from_indexing_event
from .uploads import OnProgress
from .videos import SystemMetadata, Utterance, Video, parse_utterances, retrieve_video

logger = logging.getLogger("tl_integrations")

__all__ = [
    "INDEXED_ASSETS",
    "AsyncIndexedAssets",
    "AsyncIndexing",
    "IndexedAsset",
    "IndexedAssets",
    "Indexing",
    "converge_indexed",
]

OnUpdate = Callable[["IndexedAsset"], object]
_LIST_RESERVED = frozenset(
    {"page", "page_limit", "sort_by", "sort_option", "status", "filename", "duration", "fps"}
    | {"width", "height", "size", "created_at", "updated_at"}
)


@dataclass(eq=False)
class IndexedAsset(Job):
    """An asset placed into an index; once ``ready`` it is a video of the index.

    Attributes:
        index_id: the index.
        asset_id: the source asset.
        system_metadata: what the platform measured (file name, duration, frame size...).
        user_metadata: your key/value pairs.
        hls: the stream, when ``enable_video_stream`` was set.
        transcription: timed phrases, when asked for.
        indexed_at: when it became ready.

    Example:
        >>> IndexedAsset("v1", "ready", index_id="i1").ready
        True
    """

    index_id: str | None = None
    asset_id: str | None = None
    system_metadata: SystemMetadata = field(default_factory=SystemMetadata)
    user_metadata: dict[str, Any] = field(default_factory=dict)
    hls: dict[str, Any] | None = None
    transcription: list[Utterance] | None = None
    indexed_at: str | None = None

    @property
    def kind(self) -> IndexedAssetKind:
        """The task kind of indexed assets."""
        return INDEXED_ASSETS

    @property
    def duration_s(self) -> float | None:
        """The media's duration in seconds, once known."""
        return self.system_metadata.duration

    @classmethod
    def from_api(cls, data: Any, *, index_id: str | None = None) -> IndexedAsset:
        """Parse an indexed asset (create, retrieve or list item)."""
        obj = as_object(data, "indexed asset")
        what = f"indexed asset {obj.get('_id', '?')}"
        transcription = opt_list(obj, "transcription", what)
        return cls(
            id=req_str(obj, "_id", "indexed asset"),
            status=opt_str(obj, "status", what) or "validating",
            index_id=index_id,
            asset_id=opt_str(obj, "asset_id", what),
            system_metadata=SystemMetadata.from_api(obj.get("system_metadata")),
            user_metadata=opt_obj(obj, "user_metadata", what) or {},
            hls=opt_obj(obj, "hls", what),
            transcription=None
            if transcription is None
            else parse_utterances(transcription, f"{what}.transcription"),
            indexed_at=opt_str(obj, "indexed_at", what),
            created_at=opt_str(obj, "created_at", what),
            updated_at=opt_str(obj, "updated_at", what),
            raw=obj,
        )


def _base(index_id: str) -> str:
    return f"/indexes/{path_segment(index_id, 'index_id')}/indexed-assets"


class IndexedAssetKind(TaskKind[IndexedAsset]):
    """The task kind of indexed assets: pending ones of an index are listed together.

    The index is part of an indexed asset's address: one given by id alone cannot be read,
    so pass the objects ``create`` returns to ``wait`` and ``wait_many``.

    Example:
        >>> INDEXED_ASSETS.listings("i1", ["v1", "v2"])[0].path
        '/indexes/i1/indexed-assets'
    """

    noun: ClassVar[str] = "indexed asset"
    evented: ClassVar[bool] = True  # index.task.* webhooks (named by its own id)
    pending: ClassVar[tuple[str, ...]] = ("validating", "pending", "queued", "indexing")

    def retrieve(self, job_id: str) -> Request:
        """Needs the index: see :func:`retrieve_request`."""
        raise InvalidRequestError(
            "an indexed asset is read with its index: pass the IndexedAsset object (as "
            "create() returns it), or use client.indexes.indexed_assets.retrieve(index_id, id)"
        )

    def parse(self, reply: Reply, *, like: IndexedAsset | None) -> IndexedAsset:
        """The indexed asset in a retrieve reply."""
        return IndexedAsset.from_api(reply.json(), index_id=like.index_id if like else None)

    def group(self, job: IndexedAsset) -> Hashable | None:
        """Indexed assets of one index are listed together."""
        return job.index_id

    def listings(self, group: Hashable, ids: Sequence[str]) -> list[Request]:
        """The index's indexed assets that are not finished (every page is read)."""
        params = {"status": list(self.pending), "page_limit": PAGE_LIMIT_MAX}
        return [Request("GET", _base(str(group)), params=params)]

    def finished_listing(self, group: Hashable) -> Request | None:
        """The index's most recently changed ready or failed indexed assets (one page)."""
        params = {
            "status": ["ready", "failed"],
            "sort_by": "updated_at",
            "sort_option": "desc",
            "page_limit": PAGE_LIMIT_MAX,
        }
        return Request("GET", _base(str(group)), params=params)

    def parse_item(self, item: Any, group: Hashable) -> IndexedAsset:
        """One indexed asset of a list page."""
        return IndexedAsset.from_api(item, index_id=str(group))

    def failure(self, job: IndexedAsset) -> TaskFailedError:
        """A failed indexing, naming its file and index (the server's reason, if any)."""
        return TaskFailedError(
            job.id,
            index_id=job.index_id,
            filename=job.system_metadata.filename,
            reason=job.failure_reason,
            task=job,
            noun=self.noun,
        )

    def from_event(self, data: Mapping[str, Any], like: IndexedAsset | None) -> IndexedAsset | None:
        """The indexed asset as an ``index.task.*`` event tells it (the event's ``id`` is
        the indexed asset's, which is also its video's): the status (and duration) over
        what was known, so one that ends costs no request."""
        return from_indexing_event(
            data, like, lambda obj: IndexedAsset.from_api(obj, index_id=None)
        )


INDEXED_ASSETS = IndexedAssetKind()


def retrieve_request(
    index_id: str,
    indexed_asset_id: str,
    *,
    transcription: bool = False,
    embedding_options: Iterable[str] | None = None,
) -> Request:
    """``GET /indexes/{index_id}/indexed-assets/{id}`` with the optional extras."""
    params: dict[str, Any] = {}
    if transcription:
        params["transcription"] = True
    if embedding_options:
        params["embedding_option"] = list(embedding_options)
    path = f"{_base(index_id)}/{path_segment(indexed_asset_id, 'indexed_asset_id')}"
    return Request("GET", path, params=params or None)


def read_indexed(
    ref: IndexedAsset | None, index_id: str, job_id: str, ctx: Context
) -> Flow[IndexedAsset]:
    reply = yield from send(retrieve_request(index_id, job_id), ctx)
    return IndexedAsset.from_api(reply.json(), index_id=index_id)._bind(ctx.owner)


def _locator(index_ids: dict[str, str]) -> Locate:
    unknown = "indexed asset {job_id}: its index is not known; pass the IndexedAsset object"
    return located_under(index_ids, functools.partial(read_indexed, None), unknown)


def _index_ids(refs: Iterable[IndexedAsset | str], index_id: str | None) -> dict[str, str]:
    known: dict[str, str] = {}
    for ref in refs:
        job_id = job_id_of(ref, "indexed_asset_id")
        where = ref.index_id if isinstance(ref, IndexedAsset) and ref.index_id else index_id
        if where is not None:
            known[job_id] = where
    return known


class IndexedAssetCreation(Creation[IndexedAsset]):
    """``POST /indexes/{index_id}/indexed-assets``; found again by its token when lost.

    Example:
        >>> IndexedAssetCreation("i1", "a1").request.json["asset_id"]
        'a1'
    """

    def __init__(
        self,
        index_id: str,
        asset_id: str,
        *,
        user_metadata: Mapping[str, Any] | None = None,
        enable_video_stream: bool | None = None,
    ) -> None:
        path_segment(asset_id, "asset_id")
        metadata = check_user_metadata(user_metadata)
        self.token = str(metadata.get(UPLOAD_TOKEN_KEY) or uuid.uuid4().hex)
        metadata[UPLOAD_TOKEN_KEY] = self.token
        self.index_id = index_id
        body: dict[str, Any] = {"asset_id": asset_id, "user_metadata": metadata}
        if enable_video_stream is not None:
            body["enable_video_stream"] = enable_video_stream
        super().__init__(Request("POST", _base(index_id), json=body))

    def created(self, reply: Reply) -> IndexedAsset:
        """The indexed asset answered (``{_id, asset_id}``); it starts ``validating``."""
        obj = as_object(reply.json(), "created indexed asset")
        return IndexedAsset.from_api({"status": "validating", **obj}, index_id=self.index_id)

    def find(
        self, ctx: Context, error: TwelveLabsError, started: float
    ) -> Flow[IndexedAsset | None]:
        """The server filters by user metadata, so the token finds it exactly."""
        found = yield from find_indexed(self.index_id, UPLOAD_TOKEN_KEY, self.token, ctx)
        return found


def find_indexed(index_id: str, key: str, value: str, ctx: Context) -> Flow[IndexedAsset | None]:
    matching = yield from _indexed_with(index_id, key, value, ctx)
    usable = [ia for ia in matching if not ia.failed] or matching
    return usable[0]._bind(ctx.owner) if usable else None


def _indexed_with(index_id: str, key: str, value: str, ctx: Context) -> Flow[list[IndexedAsset]]:
    """The indexed assets of ``index_id`` whose ``user_metadata[key] == value``."""
    request = Request("GET", _base(index_id), params={key: value, "page_limit": PAGE_LIMIT_MAX})
    items: list[IndexedAsset]
    items, _ = yield from emitted(
        pages(
            request,
            ctx,
            "indexed asset list",
            lambda item: IndexedAsset.from_api(item, index_id=index_id),
            max_pages=1,
        )
    )
    # The server's filter is exact; this check is belt and braces.
    return [ia for ia in items if ia.user_metadata.get(key) == value]


def converge_indexed(
    made: IndexedAsset, index_id: str, key: str, value: str, ctx: Context
) -> Flow[IndexedAsset]:
    """``made``, or the indexed asset with the same marker another process created first
    (ours is then deleted): every creator keeps the same one (:func:`~.._claims.kept`).

    Called right after a create, so the later of two concurrent creators always sees both.
    """
    twins = yield from _indexed_with(index_id, key, value, ctx)
    chosen = kept(made, [ia for ia in twins if not ia.failed])
    if chosen is made:
        return made
    logger.info("indexed asset %s duplicates %s made at the same time", made.id, chosen.id)
    yield from _delete(index_id, made.id, ctx)
    return chosen._bind(ctx.owner)


def find_indexed_asset_of(asset_id: str, index_id: str, ctx: Context) -> Flow[IndexedAsset | None]:
    """A working indexed asset of ``asset_id`` in ``index_id``, however it was made; or None.

    ``GET /assets/{asset_id}/indexed-assets`` lists the indexes an asset was placed into;
    the one in ``index_id`` is read for its status (a failed one does not count).
    """
    path = f"/assets/{path_segment(asset_id, 'asset_id')}/indexed-assets"
    request = Request("GET", path, params={"page_limit": PAGE_LIMIT_MAX})
    summaries: list[dict[str, Any]]
    summaries, _ = yield from emitted(
        pages(request, ctx, "asset's indexed assets", lambda item: as_object(item, "item"))
    )
    for summary in summaries:
        where = summary.get("index")
        if isinstance(where, Mapping) and where.get("_id") == index_id:
            found = yield from read_indexed(None, index_id, req_str(summary, "_id", "item"), ctx)
            if not found.failed:
                return found
    return None


def _list_request(
    index_id: str,
    *,
    status: str | Iterable[str] | None,
    filename: str | None,
    user_metadata: Mapping[str, Any] | None,
    page_limit: int,
    sort_by: str | None,
    sort_option: str | None,
) -> Request:
    if not 1 <= page_limit <= PAGE_LIMIT_MAX:
        raise InvalidRequestError(f"page_limit must be 1 to {PAGE_LIMIT_MAX}, got {page_limit}")
    params: dict[str, Any] = {
        "status": [status] if isinstance(status, str) else (list(status) if status else None),
        "filename": filename,
        "page_limit": page_limit,
        "sort_by": sort_by,
        "sort_option": sort_option,
    }
    for key, value in (user_metadata or {}).items():
        if key in _LIST_RESERVED:
            raise InvalidRequestError(
                f"user_metadata key {key!r} collides with a list filter of the same name"
            )
        params[key] = value
    return Request("GET", _base(index_id), params=params)


def _list(request: Request, index_id: str, ctx: Context) -> Flow[None]:
    yield from pages(
        request,
        ctx,
        "indexed asset list",
        lambda item: IndexedAsset.from_api(item, index_id=index_id)._bind(ctx.owner),
    )


def _retrieve(
    index_id: str, job_id: str, transcription: bool, options: Iterable[str] | None, ctx: Context
) -> Flow[IndexedAsset]:
    request = retrieve_request(
        index_id, job_id, transcription=transcription, embedding_options=options
    )
    reply = yield from send(request, ctx)
    return IndexedAsset.from_api(reply.json(), index_id=index_id)._bind(ctx.owner)


def _update(index_id: str, job_id: str, metadata: Mapping[str, Any], ctx: Context) -> Flow[None]:
    request = retrieve_request(index_id, job_id)
    yield from send(Request("PATCH", request.path, json={"user_metadata": dict(metadata)}), ctx)


def _delete(index_id: str, job_id: str, ctx: Context) -> Flow[None]:
    yield from send(Request("DELETE", retrieve_request(index_id, job_id).path), ctx)


def _create(creation: IndexedAssetCreation, ctx: Context) -> Flow[IndexedAsset]:
    made: IndexedAsset = yield from create(creation, ctx)
    return made


def _wait_one(
    ref: IndexedAsset | str, index_id: str | None, ctx: Context, **options: Any
) -> Flow[IndexedAsset]:
    locate = _locator(_index_ids([ref], index_id))
    done: IndexedAsset = yield from wait(ref, ctx, locate=locate, **options)
    return done


class IndexedAssets(Resource):
    """``client.indexes.indexed_assets``: put ready assets into an index, and wait.

    Example:
        >>> ia = client.indexes.indexed_assets.create(index.id, asset.id)  # doctest: +SKIP
        >>> client.indexes.indexed_assets.wait(ia).status  # doctest: +SKIP
        'ready'
    """

    def create(
        self,
        index_id: str,
        asset_id: str | Asset,
        *,
        user_metadata: Mapping[str, Any] | None = None,
        enable_video_stream: bool | None = None,
    ) -> IndexedAsset:
        """Index a ready asset; returns at once (``validating``).

        A create whose answer is lost is found again by the token it carries in
        ``user_metadata`` rather than made twice.

        Example:
            >>> client.indexes.indexed_assets.create(index_id, asset_id).status  # doctest: +SKIP
            'validating'
        """
        creation = IndexedAssetCreation(
            index_id,
            job_id_of(asset_id, "asset_id"),
            user_metadata=user_metadata,
            enable_video_stream=enable_video_stream,
        )
        return self._client._run(_create(creation, self._ctx))

    def retrieve(
        self,
        index_id: str,
        indexed_asset_id: str,
        *,
        transcription: bool = False,
        embedding_options: Iterable[str] | None = None,
    ) -> IndexedAsset:
        """Fetch an indexed asset (its transcription and embeddings on request).

        Example:
            >>> client.indexes.indexed_assets.retrieve(index_id, ia_id).status  # doctest: +SKIP
            'ready'
        """
        flow = _retrieve(index_id, indexed_asset_id, transcription, embedding_options, self._ctx)
        return self._client._run(flow)

    def list(
        self,
        index_id: str,
        *,
        status: str | Iterable[str] | None = None,
        filename: str | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        page_limit: int = PAGE_LIMIT_MAX,
        sort_by: str | None = None,
        sort_option: str | None = None,
    ) -> Iterator[IndexedAsset]:
        """Iterate over an index's indexed assets, filtered by status, name and metadata.

        Example:
            >>> failed = client.indexes.indexed_assets.list(i, status="failed")  # doctest: +SKIP
            >>> [ia.id for ia in failed]  # doctest: +SKIP
            []
        """
        request = _list_request(
            index_id,
            status=status,
            filename=filename,
            user_metadata=user_metadata,
            page_limit=page_limit,
            sort_by=sort_by,
            sort_option=sort_option,
        )
        return self._client._iterate(_list(request, index_id, self._ctx))

    def update(
        self, index_id: str, indexed_asset_id: str, *, user_metadata: Mapping[str, Any]
    ) -> None:
        """Merge ``user_metadata`` into the indexed asset's (a None value deletes a key).

        Example:
            >>> resource = client.indexes.indexed_assets  # doctest: +SKIP
            >>> resource.update(i, ia_id, user_metadata={"x": 1})  # doctest: +SKIP
        """
        return self._client._run(_update(index_id, indexed_asset_id, user_metadata, self._ctx))

    def delete(self, index_id: str, indexed_asset_id: str) -> None:
        """Remove an indexed asset (the video) from its index; the asset stays.

        Example:
            >>> client.indexes.indexed_assets.delete(index_id, ia_id)  # doctest: +SKIP
        """
        return self._client._run(_delete(index_id, indexed_asset_id, self._ctx))

    def wait(
        self,
        indexed_asset: IndexedAsset | str,
        *,
        index_id: str | None = None,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> IndexedAsset:
        """Poll until ready (returned) or failed (raised); ``index_id`` for an id alone.

        Example:
            >>> client.indexes.indexed_assets.wait(ia, timeout_s=900).status  # doctest: +SKIP
            'ready'
        """
        flow = _wait_one(
            indexed_asset, index_id, self._ctx, timeout_s=timeout_s, on_update=on_update
        )
        return self._client._run(flow)

    def wait_many(
        self,
        indexed_assets: Iterable[IndexedAsset | str],
        *,
        index_id: str | None = None,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
        open: bool = False,
    ) -> Waiting[IndexedAsset]:
        """Wait for many, yielding each as it finishes; those of one index share list requests.

        Example:
            >>> for ia in client.indexes.indexed_assets.wait_many(made):  # doctest: +SKIP
            ...     print(ia.id, ia.status)
        """
        refs = list(indexed_assets)
        known = _index_ids(refs, index_id)
        waiting = WaitMany(
            refs,
            self._ctx,
            locate=_locator(known),
            timeout_s=timeout_s,
            on_update=on_update,
            open=open,
        )
        return self._client._waiting(waiting)


class AsyncIndexedAssets(AsyncResource):
    """``client.indexes.indexed_assets`` of an async client (same methods, awaited).

    Example:
        >>> ia = await client.indexes.indexed_assets.create(index_id, asset_id)  # doctest: +SKIP
    """

    create = awaited(IndexedAssets.create)
    retrieve = awaited(IndexedAssets.retrieve)
    list = streamed(IndexedAssets.list)
    update = awaited(IndexedAssets.update)
    delete = awaited(IndexedAssets.delete)
    wait = awaited(IndexedAssets.wait)
    wait_many = waited(IndexedAssets.wait_many)


# --- client.index(...) ---------------------------------------------------------------------


def _index_media(
    source: str | UploadPlan,
    ctx: Context,
    *,
    index_id: str | None,
    index_name: str | None,
    user_metadata: Mapping[str, Any] | None,
    enable_video_stream: bool | None,
    timeout_s: float | None,
    on_progress: OnProgress | None,
    on_update: OnUpdate | None,
    base_url: str,
    journal: Any,
) -> Flow[Video]:
    timeout_s = check_timeout(timeout_s)  # before any request
    index = (
        (yield from retrieve_index(index_id, ctx))
        if index_id is not None
        else (yield from get_or_create_index(str(index_name), ctx))
    )
    if isinstance(source, str):
        asset = yield from _url_asset(source, user_metadata, ctx, timeout_s)
    else:
        asset = yield from upload_asset(
            source,
            ctx,
            base_url=base_url,
            journal=journal,
            max_concurrency=5,
            on_progress=on_progress,
            timeout_s=timeout_s,
        )
    digest = asset.user_metadata.get(HASH_KEY)
    # Another flow of this process indexing the same bytes into this index goes first.
    with (yield from CLAIMS.hold((base_url, index.id, HASH_KEY, str(digest or asset.id)))):
        existing = (
            (yield from find_indexed(index.id, HASH_KEY, str(digest), ctx)) if digest else None
        )
        if existing is None:
            # Indexed by other means (indexed_assets.create carries no hash): the asset knows.
            existing = yield from find_indexed_asset_of(asset.id, index.id, ctx)
        if existing is None:
            metadata = {**(user_metadata or {}), **({HASH_KEY: digest} if digest else {})}
            creation = IndexedAssetCreation(
                index.id,
                asset.id,
                user_metadata=metadata,
                enable_video_stream=enable_video_stream,
            )
            existing = yield from create(creation, ctx)
            if digest:
                existing = yield from converge_indexed(
                    existing, index.id, HASH_KEY, str(digest), ctx
                )
    yield from wait(
        existing,
        ctx,
        locate=_locator({existing.id: index.id}),
        timeout_s=timeout_s,
        on_update=on_update,
    )
    video = yield from retrieve_video(ctx, index.id, existing.id)
    return video


def _url_asset(
    url: str, user_metadata: Mapping[str, Any] | None, ctx: Context, timeout_s: float | None
) -> Flow[Asset]:
    digest = url_key(url)
    creation = AssetCreation(url=url, user_metadata={**(user_metadata or {}), HASH_KEY: digest})
    asset = yield from find_by_metadata(ctx, creation.filename, HASH_KEY, digest)
    if asset is None or asset.failed:
        asset = yield from create(creation, ctx)
    ready: Asset = yield from wait(asset, ctx, timeout_s=timeout_s)
    return ready


class Indexing(Resource):
    """``client.index(path_or_url, index_name=...)``: upload, index, wait; the video back.

    Example:
        >>> video = client.index("talk.mp4", index_name="talks")  # doctest: +SKIP
        >>> video.id, video.asset_id  # doctest: +SKIP
    """

    def __call__(
        self,
        source: str | os.PathLike[str],
        *,
        index_id: str | None = None,
        index_name: str | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        enable_video_stream: bool | None = None,
        timeout_s: float | None = None,
        on_progress: OnProgress | None = None,
        on_update: OnUpdate | None = None,
    ) -> Video:
        """Index one file (or URL) and return the indexed video; nothing is done twice.

        The file's bytes are uploaded once per account and indexed once per index: an
        asset and an indexed asset carrying its SHA-256 are found before anything is sent
        (so calling again after a crash, a timeout or on another machine costs nothing).

        Raises:
            InvalidRequestError / InvalidVideoError: refused before any upload.
            TaskFailedError: the asset or its indexing failed (the server's reason).
            TaskTimeoutError: ``timeout_s`` passed (per wait; call again to resume).

        Example:
            >>> url = "https://example.com/demo.mp4"
            >>> client.index(url, index_name="demos").id  # doctest: +SKIP
            '6711a0d9e4a1b37f8a9c5d20'
        """
        if (index_id is None) == (index_name is None):
            raise InvalidRequestError("give index_id or index_name (one of them)")
        # A local file is checked here, before the index is read (or made) for it.
        checked = (
            source
            if isinstance(source, str) and "://" in source
            else plan_upload(source, user_metadata=user_metadata)
        )
        if not isinstance(checked, str):
            check_video_name(str(source))
        flow = _index_media(
            checked,
            self._ctx,
            index_id=index_id,
            index_name=index_name,
            user_metadata=user_metadata,
            enable_video_stream=enable_video_stream,
            timeout_s=timeout_s,
            on_progress=on_progress,
            on_update=on_update,
            base_url=self._client.base_url,
            journal=self._client.assets._journal,
        )
        return self._client._run(flow)


class AsyncIndexing(AsyncResource):
    """``client.index`` of :class:`~tl_integrations.AsyncTwelveLabs` (awaited).

    Example:
        >>> video = await client.index("talk.mp4", index_name="talks")  # doctest: +SKIP
    """

    __call__ = awaited(Indexing.__call__)
