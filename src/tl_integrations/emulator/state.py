"""The live state of one emulator: records, clock, ids, limits, faults, stats and storage.

Route handlers run on the server's event loop; ``Emulator`` methods (stats, reset,
set_faults) run on the caller's thread; both take ``lock`` around mutations.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .apierror import not_found
from .config import EmulatorConfig, Faults
from .faults import FaultInjector
from .ids import IdFactory
from .lifecycle import embed_status, index_status, task_rng
from .media import MediaInfo
from .persistence import Persistence
from .ratelimit import RateLimiter
from .store import EmbedTaskRec, IndexRec, IndexTaskRec, SegmentSet, Store, VideoRec

__all__ = ["EmulatorState", "Stats", "fate_key"]


def fate_key(info: MediaInfo | None, earlier: Iterable[MediaInfo | None]) -> str | None:
    """What decides a task's fate: its media (name, size, duration) and how many earlier
    tasks of this emulator had the same media, so that sending a video again draws anew.

    Example:
        >>> fate_key(None, []) is None
        True
    """
    if info is None:
        return None

    def ident(media: MediaInfo) -> tuple[str, int, float]:
        return (media.filename, media.size_bytes, round(media.duration_s, 3))

    mine = ident(info)
    seen = sum(1 for other in earlier if other is not None and ident(other) == mine)
    return f"{mine[0]}:{mine[1]}:{mine[2]}:{seen}"


@dataclass
class Stats:
    """Counters for ``/_emulator/stats``.

    Example:
        >>> s = Stats(); s.requests["GET /v1.3/indexes"] += 1; s.to_dict()["requests_total"]
        1
    """

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    uploads: int = 0
    bytes_received: int = 0
    rate_limited: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot."""
        return {
            "requests_total": sum(self.requests.values()),
            "requests": dict(sorted(self.requests.items())),
            "statuses": dict(sorted(self.statuses.items())),
            "faults": dict(sorted(self.faults.items())),
            "uploads": self.uploads,
            "bytes_received": self.bytes_received,
            "rate_limited": self.rate_limited,
        }


class EmulatorState:
    """Everything one emulator instance knows; shared by the app and the ``Emulator`` handle.

    Example:
        >>> st = EmulatorState(EmulatorConfig(seed=3))
        >>> len(st.new_id())
        24
        >>> st.close()
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self._own_root = config.data_dir is None
        root = (
            Path(tempfile.mkdtemp(prefix="tl-emulator-"))
            if self._own_root
            else Path(str(config.data_dir))
        )
        self.persistence = Persistence(root, durable=not self._own_root)
        self.ids = IdFactory(seed=config.seed)
        self.store = Store()
        self.limiter = RateLimiter(config.rate_limits, clock=config.clock)
        self.faults = FaultInjector(config.faults, seed=config.seed)
        self.stats = Stats()
        self.search_pages: dict[str, Any] = {}
        self._load()

    # ------------------------------------------------------------------ basics

    def now(self) -> float:
        """The emulator's time, seconds since the epoch."""
        return float(self.config.clock())

    def new_id(self) -> str:
        """A fresh 24-hex id."""
        return self.ids.new()

    def _load(self) -> None:
        data = self.persistence.load_state()
        if data is None:
            return
        self.store = Store.from_json(data)
        self.store.segments = self.persistence.load_segments()
        self.ids.counter = int(data.get("id_counter", 0))

    def save(self) -> None:
        """Persist the records (call after every mutation, under ``lock``)."""
        with self.lock:
            data = self.store.to_json()
            data["id_counter"] = self.ids.counter
            self.persistence.save_state(data)

    def put_segments(self, owner_id: str, segments: SegmentSet) -> None:
        """Store (and persist) the segment vectors of a video or an embedding task."""
        with self.lock:
            self.store.segments[owner_id] = segments
        self.persistence.save_segments(owner_id, segments)

    def drop_segments(self, owner_id: str) -> None:
        """Forget the segment vectors of a deleted owner."""
        with self.lock:
            self.store.segments.pop(owner_id, None)
        self.persistence.delete_segments(owner_id)

    def reset(self) -> None:
        """Forget every record, media file, stat and search page; restore configured faults."""
        with self.lock:
            self.store = Store()
            self.stats = Stats()
            self.search_pages.clear()
            self.persistence.clear()
            self.limiter.reset()
            self.faults.set(self.config.faults, seed=self.config.seed)

    def set_faults(self, faults: Faults, *, seed: int | None = None) -> None:
        """Replace the fault probabilities (the generator restarts from the seed)."""
        self.faults.set(faults, seed=self.config.seed if seed is None else seed)

    def close(self) -> None:
        """Remove the temporary data directory (when no ``data_dir`` was configured)."""
        if self._own_root:
            shutil.rmtree(self.persistence.root, ignore_errors=True)

    # ------------------------------------------------------------------ decisions

    def task_fails(self, task_id: str, *, media_key: str | None = None) -> bool:
        """Whether a new task fails: ``failure_rate`` and the ``fail`` fault.

        The draw is keyed by ``media_key`` when given (see :func:`fate_key`), else by the
        task id. Ids are handed out in arrival order, so keying by media keeps the fate of
        each video the same for a given seed however concurrent uploads interleave.
        """
        p_ok = (1.0 - self.config.failure_rate) * (1.0 - self.faults.faults.fail)
        key = task_id if media_key is None else media_key
        return task_rng(seed=self.config.seed, task_id=key + ":fail").random() >= p_ok

    # ------------------------------------------------------------------ lookups

    def index(self, index_id: str) -> IndexRec:
        """The index, or a 404."""
        rec = self.store.indexes.get(index_id)
        if rec is None:
            raise not_found("index", index_id)
        return rec

    def task(self, task_id: str) -> IndexTaskRec:
        """The indexing task, or a 404."""
        rec = self.store.tasks.get(task_id)
        if rec is None:
            raise not_found("task", task_id)
        return rec

    def embed_task(self, task_id: str, *, api: str) -> EmbedTaskRec:
        """The embedding task of that API version (``v1``/``v2``), or a 404."""
        rec = self.store.embed_tasks.get(task_id)
        if rec is None or rec.api != api:
            raise not_found("embedding task", task_id)
        return rec

    def task_status(self, task: IndexTaskRec) -> tuple[str, float]:
        """(status, updated_at) of an indexing task now."""
        return index_status(task, now_s=self.now())

    def embed_task_status(self, task: EmbedTaskRec) -> tuple[str, float]:
        """(status, updated_at) of an embedding task now."""
        return embed_status(task, now_s=self.now())

    def video_ready_at(self, video: VideoRec) -> float | None:
        """When the video's task became ready, or None while it is not (or failed)."""
        task = self.store.tasks.get(video.task_id)
        if task is None:
            return video.created_at
        status, at = self.task_status(task)
        return at if status == "ready" else None

    def video(self, index_id: str, video_id: str) -> VideoRec:
        """A ready video of an index, or a 404."""
        self.index(index_id)
        rec = self.store.videos.get(video_id)
        if rec is None or rec.index_id != index_id or self.video_ready_at(rec) is None:
            raise not_found("video", video_id)
        return rec

    def ready_videos(self, index_id: str) -> list[VideoRec]:
        """Videos of an index whose task is ready, oldest first."""
        videos = [v for v in self.store.videos.values() if v.index_id == index_id]
        return [v for v in videos if self.video_ready_at(v) is not None]

    def find_video(self, ident: str) -> VideoRec:
        """A ready video by video id or asset id (any index), or a 404."""
        for rec in self.store.videos.values():
            if ident in (rec.id, rec.asset_id) and self.video_ready_at(rec) is not None:
                return rec
        raise not_found("video", ident)
