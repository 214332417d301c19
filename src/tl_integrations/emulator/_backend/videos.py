"""Videos of indexes, also called indexed assets: one record and one id for both.

Indexing an asset (``POST /indexes/{id}/indexed-assets``, or a legacy ``POST /tasks``) makes
a video record whose status walks validating, pending, queued and indexing to ready or
failed. The indexed-asset endpoints show it in every status; the video endpoints and search
only once it is ready. Its ``_id`` is the search ``video_id``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from .._media import MediaInfo
from .._segments import AUDIO_MEANING, SegmentSet, build_segments, index_bounds
from . import metadata
from .assets import Assets
from .errors import Invalid, NotFound, check_among, missing
from .ingest import AssetRef
from .lifecycle import FAIL_STAGE, index_status, plan_index_stages, task_rng
from .media_rules import check_media
from .queries import Page, PageRequest, Range, Sort, TimeRange, metadata_matches, paginate
from .records import AssetRec, IndexRec, VideoRec
from .store import Store, fate_key
from .webhooks import Webhooks

__all__ = [
    "EMBEDDING_OPTIONS",
    "INDEXING_FAILED",
    "INDEX_CLIP_S",
    "INDEX_STATUSES",
    "SYSTEM_FIELDS",
    "Embedding",
    "VideoFilter",
    "VideoView",
    "Videos",
    "check_receives",
    "index_segments",
    "system_values",
]

SYSTEM_FIELDS = ("duration", "fps", "width", "height", "size")
EMBEDDING_OPTIONS = ("visual", "audio", "transcription", "visual-text")
INDEX_STATUSES = ("validating", "pending", "queued", "indexing", "ready", "failed")
INDEX_CLIP_S = 6.0


def index_segments(info: MediaInfo, index: IndexRec) -> SegmentSet:
    """Clip vectors of an indexed video for every embedding option the index enables.

    Example:
        >>> index_segments(info, index).scope[0]  # doctest: +SKIP
        'clip'
    """
    return build_segments(
        info,
        dim=index.dim,
        options=index.embedding_options,
        scopes=["clip"],
        bounds=index_bounds(info, max_clip_s=INDEX_CLIP_S),
        window=(0.0, info.duration_s),
        audio=AUDIO_MEANING.get(index.marengo or "", "speech"),
    )


def system_values(video: VideoRec) -> dict[str, float]:
    """The numbers the range filters look at (empty without media information).

    Example:
        >>> system_values(VideoRec("v", "a", "i", 0.0, "", None))
        {}
    """
    info = video.info
    if info is None:
        return {}
    return {
        "duration": info.duration_s,
        "fps": info.fps,
        "width": info.width,
        "height": info.height,
        "size": info.size_bytes,
    }


INDEXING_FAILED = "The emulator failed this indexing on purpose (failure_rate or fail fault)."


@dataclass(frozen=True)
class VideoView:
    """A video with its status now: since when, and when indexing finished (if it has).

    ``updated_at`` is the later of the last status change and the last metadata update.

    Example:
        >>> VideoView(video, "ready", 5.0, 5.0).updated_at  # doctest: +SKIP
        5.0
    """

    rec: VideoRec
    status: str
    status_at: float
    indexed_at: float | None

    @property
    def updated_at(self) -> float:
        """When the video last changed (status or metadata)."""
        return max(self.status_at, self.rec.updated_at or 0.0)

    @property
    def error(self) -> dict[str, str] | None:
        """Why indexing failed (the media rule it broke, or the emulator's own draw)."""
        if self.status != "failed":
            return None
        return self.rec.error or {"message": INDEXING_FAILED}


@dataclass(frozen=True)
class Embedding:
    """The segment vectors of a video for some embedding options.

    Example:
        >>> Embedding("marengo3.0", SegmentSet.empty(dim=512), []).rows
        []
    """

    model_name: str
    segments: SegmentSet
    rows: list[int]


@dataclass(frozen=True)
class VideoFilter:
    """The filters of ``GET /indexes/{id}/videos`` and ``GET /indexes/{id}/indexed-assets``.

    ``updated`` looks at the last change (status or metadata); with ``updated_by_patch``
    (indexed assets, as the API documents) at metadata updates only.

    Example:
        >>> VideoFilter(ranges={"duration": Range(gte=10)}).filename is None
        True
    """

    filename: str | None = None
    statuses: tuple[str, ...] = ()
    ranges: Mapping[str, Range] = field(default_factory=dict)
    created: TimeRange = field(default_factory=TimeRange)
    updated: TimeRange = field(default_factory=TimeRange)
    metadata: Mapping[str, str] = field(default_factory=dict)
    updated_by_patch: bool = False

    def matches(self, view: VideoView) -> bool:
        """Whether a video passes every filter."""
        video = view.rec
        info = video.info
        if self.statuses and view.status not in self.statuses:
            return False
        if self.filename and (info is None or info.filename != self.filename):
            return False
        values = system_values(video)
        if not all(r.matches(values.get(name)) for name, r in self.ranges.items()):
            return False
        if not self.created.matches(video.created_at):
            return False
        updated = video.updated_at if self.updated_by_patch else view.updated_at
        if self.updated.active and (updated is None or not self.updated.matches(updated)):
            return False
        return metadata_matches(video.user_metadata, self.metadata)


def check_receives(index: IndexRec) -> None:
    """Refuse new videos for an index without Marengo (an index made with Pegasus 1.2
    only): Pegasus is no index model any more. On a Marengo + Pegasus 1.2 index new videos
    are indexed with Marengo only.

    Raises:
        Invalid: For an index without a Marengo model.

    Example:
        >>> check_receives(IndexRec("i", "old", [{"model_name": "pegasus1.2",
        ...                "model_options": ["visual"]}], [], 0.0, 0.0))
        Traceback (most recent call last):
        ...
        tl_integrations.emulator._backend.errors.Invalid: The index 'old' has only Pegasus ...
    """
    if index.marengo is None:
        raise Invalid(
            "index_id",
            f"The index {index.name!r} has only Pegasus 1.2, which no longer indexes videos; "
            "index them into a marengo3.0 index and analyse their assets with Pegasus 1.5.",
        )


class Videos:
    """The videos (indexed assets) of every index.

    Example:
        >>> video = await videos.create(index_id, asset_id=asset_id, enable_stream=True,
        ...                             user_metadata={})  # doctest: +SKIP
        >>> videos.view(video).status  # doctest: +SKIP
        'validating'
    """

    def __init__(self, store: Store, assets: Assets, webhooks: Webhooks | None = None) -> None:
        self.store = store
        self.assets = assets
        self.webhooks = webhooks

    # ------------------------------------------------------------------ status

    def view(self, video: VideoRec) -> VideoView:
        """The video's status now."""
        status, at = index_status(video, now_s=self.store.now())
        return VideoView(video, status, at, at if status == "ready" else None)

    def ready(self, index_id: str) -> list[VideoRec]:
        """Ready videos of an index, oldest first."""
        videos = [v for v in self.store.records.videos.values() if v.index_id == index_id]
        return [v for v in videos if self.view(v).status == "ready"]

    # ------------------------------------------------------------------ creating

    async def create(
        self, index_id: str, *, asset_id: Any, enable_stream: bool, user_metadata: Any
    ) -> VideoRec:
        """Index a ready video asset (``POST /indexes/{id}/indexed-assets``).

        With ``media_validation="sync"`` a video that breaks a media rule is refused;
        with ``"async"`` it is accepted and fails after its validating stage.

        Raises:
            NotFound: When the index or the asset does not exist.
            Invalid: For an asset that is not ready, not a video, or (sync) breaks a rule.
        """
        if not isinstance(asset_id, str) or not asset_id:
            raise missing("asset_id")
        meta = metadata.without_empty(metadata.checked(user_metadata or {}))
        store = self.store
        with store.lock:
            index = store.index(index_id)
            check_receives(index)
            asset = self.assets.ready(AssetRef(asset_id))
        if asset.kind != "video" or asset.info is None:
            raise Invalid(
                "asset_id",
                f"The asset {asset_id!r} is {asset.kind}; only video assets can be indexed.",
            )
        info = asset.info
        error = self._rule_error(info)
        segments = None
        if error is None and index.marengo:
            segments = await anyio.to_thread.run_sync(lambda: index_segments(info, index))
        with store.lock:
            video_id = store.new_id()
            if segments is not None:
                # Vectors first, then the record that makes the video findable: a kill in
                # between leaves a stray file (swept at start), never a video search misses.
                store.put_segments(video_id, segments)
            return self.start(
                index,
                video_id=video_id,
                asset=asset,
                error=error,
                user_metadata=meta,
                stream=enable_stream,
                plan_key=video_id,
            )

    def _rule_error(self, info: MediaInfo) -> dict[str, str] | None:
        """The media rule the video breaks (raised in sync mode, returned in async mode)."""
        try:
            check_media(info, self.store.config.media)
        except Invalid as err:
            if self.store.config.media_validation == "sync":
                raise
            return {"code": err.code, "message": err.message}
        return None

    def start(
        self,
        index: IndexRec,
        *,
        video_id: str,
        asset: AssetRec,
        error: dict[str, str] | None,
        user_metadata: dict[str, Any],
        stream: bool,
        plan_key: str,
        task_id: str | None = None,
    ) -> VideoRec:
        """Register a video and plan its indexing (call under the lock).

        ``plan_key`` seeds the stage durations (the task id for legacy tasks, so their
        timing stays what it was). A video that broke a rule fails after validating; any
        other may fail by ``failure_rate`` or the ``fail`` fault, drawn per media.
        """
        store = self.store
        info = asset.info
        stages = plan_index_stages(
            store.config.stages,
            video_duration_s=info.duration_s if info else 0.0,
            speed=store.config.speed,
            rng=task_rng(seed=store.config.seed, task_id=plan_key),
        )
        key = fate_key(info, (v.info for v in store.records.videos.values()))
        fails = store.task_fails(plan_key, media_key=key)
        video = VideoRec(
            id=video_id,
            asset_id=asset.id,
            index_id=index.id,
            created_at=store.now(),
            media_path=asset.media_path,
            info=info,
            user_metadata=user_metadata,
            enable_stream=stream,
            durations_s=stages,
            fail_stage="validating" if error else (FAIL_STAGE if fails else None),
            error=error,
            task_id=task_id,
        )
        store.records.videos[video_id] = video
        store.save()
        if self.webhooks is not None:
            self.webhooks.publish_indexing(video, index)
        return video

    def resume_webhooks(self) -> None:
        """Publish again the events of videos still being indexed (after a restart: the
        event queue lives in memory, the records on disk)."""
        if self.webhooks is None or not self.webhooks.enabled:
            return
        with self.store.lock:
            videos = list(self.store.records.videos.values())
            running = [v for v in videos if self.view(v).status not in ("ready", "failed")]
            for video in running:
                index = self.store.records.indexes.get(video.index_id)
                if index is not None:
                    self.webhooks.publish_indexing(video, index)

    # ------------------------------------------------------------------ reading

    def _video(self, index_id: str, video_id: str, *, ready_only: bool) -> VideoRec:
        self.store.index(index_id)
        rec = self.store.records.videos.get(video_id)
        if rec is None or rec.index_id != index_id:
            raise NotFound("indexed asset" if not ready_only else "video", video_id)
        if ready_only and self.view(rec).status != "ready":
            raise NotFound("video", video_id)
        return rec

    def get(self, index_id: str, video_id: str, *, ready_only: bool = True) -> VideoView:
        """A video of an index: only once ready (``/videos``) or in any status
        (``/indexed-assets``).

        Raises:
            NotFound: When the index or the video does not exist (or is not ready).
        """
        with self.store.lock:
            return self.view(self._video(index_id, video_id, ready_only=ready_only))

    def find(self, video_id: str) -> VideoRec:
        """A ready video of any index, by id.

        Raises:
            NotFound: When no ready video has that id.
        """
        rec = self.store.records.videos.get(video_id)
        if rec is None or self.view(rec).status != "ready":
            raise NotFound("video", video_id)
        return rec

    def list(
        self,
        index_id: str,
        flt: VideoFilter,
        sort: Sort,
        page: PageRequest,
        *,
        ready_only: bool = True,
    ) -> Page[VideoView]:
        """Videos of an index (ready ones, or all for indexed assets), filtered, sorted, paged.

        Raises:
            NotFound: When the index does not exist.
            Invalid: For an unknown status or sort key.
        """
        check_among("status", flt.statuses, INDEX_STATUSES)
        keys = {"created_at": lambda v: v.rec.created_at, "updated_at": lambda v: v.updated_at}
        with self.store.lock:
            index = self.store.index(index_id)
            videos = [v for v in self.store.records.videos.values() if v.index_id == index.id]
            views = [self.view(v) for v in videos]
            if ready_only:
                views = [v for v in views if v.status == "ready"]
            found = [v for v in views if flt.matches(v)]
            return paginate(sort.apply(found, keys), page)

    def by_asset(self, asset_id: str, page: PageRequest) -> Page[tuple[VideoRec, IndexRec]]:
        """The indexed assets made from an asset, with their indexes (oldest first).

        Raises:
            NotFound: When the asset does not exist.
        """
        with self.store.lock:
            self.assets.get(asset_id)
            records = self.store.records
            pairs = [
                (v, records.indexes[v.index_id])
                for v in records.videos.values()
                if v.asset_id == asset_id and v.index_id in records.indexes
            ]
            return paginate(pairs, page)

    def embedding(
        self, index_id: str, video_id: str, options: Sequence[str], *, ready_only: bool = True
    ) -> Embedding:
        """The vectors of a video for ``options``, with the index's model name (none until
        the video is ready).

        Raises:
            NotFound: When the index or the video does not exist.
            Invalid: When an option is not available for the index.
        """
        with self.store.lock:
            index = self.store.index(index_id)
            video = self._video(index_id, video_id, ready_only=ready_only)
            bad = [
                o for o in options if o not in EMBEDDING_OPTIONS or o not in index.embedding_options
            ]
            if bad or not index.marengo:
                raise Invalid(
                    "embedding_option",
                    f"embedding_option {bad or list(options)!r} is not available for this index; "
                    f"it offers {index.embedding_options}.",
                )
            segments = SegmentSet.empty(dim=index.dim)
            if self.view(video).status == "ready":
                segments = self.store.records.segments.get(video.id) or segments
            name = {"marengo2.7": "Marengo-retrieval-2.7"}.get(index.marengo, index.marengo)
            return Embedding(name, segments, segments.rows(options=list(options)))

    # ------------------------------------------------------------------ changing

    def update(
        self, index_id: str, video_id: str, *, user_metadata: Any, ready_only: bool = True
    ) -> None:
        """Merge user metadata into a video (``None`` deletes a key).

        Raises:
            NotFound: When the index or the video does not exist.
            Invalid: For metadata that is not an object of allowed values.
        """
        store = self.store
        update = metadata.checked(user_metadata or {})
        with store.lock:
            video = self._video(index_id, video_id, ready_only=ready_only)
            metadata.merge(video.user_metadata, update)
            video.updated_at = store.now()
            store.save()

    def delete(self, index_id: str, video_id: str, *, ready_only: bool = True) -> None:
        """Delete a video with its vectors (its file goes when nothing else uses it).

        Raises:
            NotFound: When the index or the video does not exist.
        """
        with self.store.lock:
            self.forget(self._video(index_id, video_id, ready_only=ready_only))
            self.store.save()

    def forget(self, video: VideoRec) -> None:
        """Remove a video record with its vectors, and its file unless an asset keeps it."""
        store = self.store
        if self.webhooks is not None and video.task_id is None:
            # A legacy task outlives its video, and its event is the task's: only an
            # indexed asset's own event goes with it.
            self.webhooks.withdraw(video.id)
        with store.lock:
            del store.records.videos[video.id]
            store.drop_segments(video.id)
            store.release_media(video.media_path)
