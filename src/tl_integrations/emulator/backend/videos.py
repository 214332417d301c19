"""The videos of an index: the ready results of indexing, their metadata and vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..segments import SegmentSet
from . import metadata
from .errors import Invalid, NotFound
from .lifecycle import index_status
from .queries import Page, PageRequest, Range, Sort, TimeRange, metadata_matches, paginate
from .records import IndexRec, IndexTaskRec, VideoRec
from .store import Store

__all__ = ["EMBEDDING_OPTIONS", "SYSTEM_FIELDS", "Embedding", "VideoFilter", "VideoView", "Videos"]

SYSTEM_FIELDS = ("duration", "fps", "width", "height", "size")
EMBEDDING_OPTIONS = ("visual", "audio", "transcription", "visual-text")


def system_values(video: VideoRec) -> dict[str, float]:
    """The numbers the range filters look at (empty without media information).

    Example:
        >>> system_values(VideoRec("v", "a", "i", "t", 0.0, "", None))
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


@dataclass(frozen=True)
class VideoView:
    """A ready video with the times its answers show.

    Example:
        >>> VideoView(video, indexed_at=5.0, updated_at=5.0).indexed_at  # doctest: +SKIP
        5.0
    """

    rec: VideoRec
    indexed_at: float
    updated_at: float


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
    """The filters of ``GET /indexes/{id}/videos``.

    Example:
        >>> VideoFilter(ranges={"duration": Range(gte=10)}).filename is None
        True
    """

    filename: str | None = None
    ranges: Mapping[str, Range] = field(default_factory=dict)
    created: TimeRange = field(default_factory=TimeRange)
    updated: TimeRange = field(default_factory=TimeRange)
    metadata: Mapping[str, str] = field(default_factory=dict)


class Videos:
    """Videos of indexes, visible once their indexing task is ready.

    Example:
        >>> videos = Videos(store)  # doctest: +SKIP
        >>> videos.ready(index_id)  # doctest: +SKIP
        []
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def task_status(self, task: IndexTaskRec) -> tuple[str, float]:
        """(status, updated_at) of an indexing task now."""
        return index_status(task, now_s=self.store.now())

    def ready_at(self, video: VideoRec) -> float | None:
        """When the video's task became ready, or None while it is not (or failed)."""
        task = self.store.records.tasks.get(video.task_id)
        if task is None:
            return video.created_at
        status, at = self.task_status(task)
        return at if status == "ready" else None

    def updated_at(self, video: VideoRec) -> float:
        """The last metadata update, else the time indexing finished."""
        return video.updated_at or self.ready_at(video) or video.created_at

    def ready(self, index_id: str) -> list[VideoRec]:
        """Videos of an index whose task is ready, oldest first."""
        videos = [v for v in self.store.records.videos.values() if v.index_id == index_id]
        return [v for v in videos if self.ready_at(v) is not None]

    def view(self, video: VideoRec) -> VideoView:
        """A ready video with its times."""
        indexed = self.ready_at(video) or video.created_at
        return VideoView(video, indexed, video.updated_at or indexed)

    def _ready(self, index_id: str, video_id: str) -> VideoRec:
        self.store.index(index_id)
        rec = self.store.records.videos.get(video_id)
        if rec is None or rec.index_id != index_id or self.ready_at(rec) is None:
            raise NotFound("video", video_id)
        return rec

    def get(self, index_id: str, video_id: str) -> VideoView:
        """A ready video of an index.

        Raises:
            NotFound: When the index or the ready video does not exist.
        """
        with self.store.lock:
            return self.view(self._ready(index_id, video_id))

    def find(self, ident: str) -> VideoRec:
        """A ready video by video id or asset id (any index).

        Raises:
            NotFound: When no ready video has that id.
        """
        for rec in self.store.records.videos.values():
            if ident in (rec.id, rec.asset_id) and self.ready_at(rec) is not None:
                return rec
        raise NotFound("video", ident)

    def _matches(self, video: VideoRec, flt: VideoFilter) -> bool:
        info = video.info
        if info is None or (flt.filename and info.filename != flt.filename):
            return False
        values = system_values(video)
        if not all(r.matches(values.get(name)) for name, r in flt.ranges.items()):
            return False
        if not (
            flt.created.matches(video.created_at) and flt.updated.matches(self.updated_at(video))
        ):
            return False
        return metadata_matches(video.user_metadata, flt.metadata)

    def list(
        self, index_id: str, flt: VideoFilter, sort: Sort, page: PageRequest
    ) -> Page[VideoView]:
        """Ready videos of an index, filtered, sorted and paged."""
        keys = {
            "created_at": lambda v: v.rec.created_at,
            "updated_at": lambda v: v.updated_at,
        }
        with self.store.lock:
            index = self.store.index(index_id)
            found = [self.view(v) for v in self.ready(index.id) if self._matches(v, flt)]
            return paginate(sort.apply(found, keys), page)

    def embedding(self, index_id: str, video_id: str, options: Sequence[str]) -> Embedding:
        """The vectors of a ready video for ``options``, with the index's model name.

        Raises:
            NotFound: When the index or the ready video does not exist.
            Invalid: When an option is not available for the index.
        """
        with self.store.lock:
            index = self.store.index(index_id)
            video = self._ready(index_id, video_id)
            return self._embedding(index, video, options)

    def _embedding(self, index: IndexRec, video: VideoRec, options: Sequence[str]) -> Embedding:
        bad = [o for o in options if o not in EMBEDDING_OPTIONS or o not in index.embedding_options]
        if bad or not index.marengo:
            raise Invalid(
                "embedding_option",
                f"embedding_option {bad or options!r} is not available for this index; it "
                f"offers {index.embedding_options}.",
            )
        segments = self.store.records.segments.get(video.id) or SegmentSet.empty(dim=index.dim)
        name = {"marengo2.7": "Marengo-retrieval-2.7"}.get(index.marengo, index.marengo)
        return Embedding(name, segments, segments.rows(options=list(options)))

    def update(self, index_id: str, video_id: str, *, user_metadata: Any) -> None:
        """Merge user metadata into a ready video (``None`` deletes a key)."""
        store = self.store
        with store.lock:
            video = self._ready(index_id, video_id)
            metadata.merge(video.user_metadata, metadata.checked(user_metadata or {}))
            video.updated_at = store.now()
            store.save()

    def delete(self, index_id: str, video_id: str) -> None:
        """Delete a ready video with its vectors and media."""
        with self.store.lock:
            self.forget(self._ready(index_id, video_id))
            self.store.save()

    def forget(self, video: VideoRec) -> None:
        """Remove a video record with its vectors and media file."""
        store = self.store
        with store.lock:
            del store.records.videos[video.id]
            store.drop_segments(video.id)
            store.delete_media(video.media_path)
