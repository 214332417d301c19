"""The records of one emulator with what keeps them consistent: lock, clock, ids and disk.

Every service of the backend works on one :class:`Store`. Route handlers run on the server's
event loop and ``Emulator`` methods (reset) on the caller's thread; both go through methods
that take ``lock`` around mutations.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from ..config import EmulatorConfig
from ..ids import IdFactory
from ..media import MediaInfo
from ..segments import SegmentSet
from .errors import NotFound
from .lifecycle import task_rng
from .persistence import Persistence
from .records import AssetRec, IndexRec, Records, VideoRec

__all__ = ["Store", "fate_key"]


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


class Store:
    """Records, their persistence, the clock and the id sequence of one emulator.

    Args:
        config: The emulator's settings (clock, seed, data directory, failure rate).
        fail_share: The current share of tasks the ``fail`` fault fails (it can change while
            the emulator runs).

    Example:
        >>> store = Store(EmulatorConfig(seed=3))
        >>> len(store.new_id())
        24
        >>> store.close()
    """

    def __init__(
        self, config: EmulatorConfig, *, fail_share: Callable[[], float] = lambda: 0.0
    ) -> None:
        self.config = config
        self.lock = threading.RLock()
        self._fail_share = fail_share
        self._own_root = config.data_dir is None
        root = (
            Path(tempfile.mkdtemp(prefix="tl-emulator-"))
            if self._own_root
            else Path(str(config.data_dir))
        )
        self.persistence = Persistence(root, durable=not self._own_root)
        self.ids = IdFactory(seed=config.seed)
        self.records = Records()
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
        self.records = Records.from_json(data)
        self.records.segments = self.persistence.load_segments()
        self.ids.counter = int(data.get("id_counter", 0))

    def save(self) -> None:
        """Persist the records (call after every mutation); a no-op without a data directory."""
        if not self.persistence.durable:
            return
        with self.lock:
            data = self.records.to_json()
            data["id_counter"] = self.ids.counter
            self.persistence.save_state(data)

    def put_segments(self, owner_id: str, segments: SegmentSet) -> None:
        """Store (and persist) the segment vectors of a video or an embedding task."""
        with self.lock:
            self.records.segments[owner_id] = segments
        self.persistence.save_segments(owner_id, segments)

    def drop_segments(self, owner_id: str) -> None:
        """Forget the segment vectors of a deleted owner."""
        with self.lock:
            self.records.segments.pop(owner_id, None)
        self.persistence.delete_segments(owner_id)

    def release_media(self, media_path: str) -> None:
        """Delete a stored media file (a path relative to the data directory) unless an asset
        or a video still refers to it: a video keeps its file after a forced asset delete."""
        if not media_path:
            return
        with self.lock:
            records = self.records
            holders: list[AssetRec | VideoRec] = [
                *records.assets.values(),
                *records.videos.values(),
            ]
            if any(h.media_path == media_path for h in holders):
                return
            with contextlib.suppress(FileNotFoundError):
                (self.persistence.root / media_path).unlink()

    def reset(self) -> None:
        """Forget every record, media file and vector."""
        with self.lock:
            self.records = Records()
            self.persistence.clear()

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
        p_ok = (1.0 - self.config.failure_rate) * (1.0 - self._fail_share())
        key = task_id if media_key is None else media_key
        return task_rng(seed=self.config.seed, task_id=key + ":fail").random() >= p_ok

    # ------------------------------------------------------------------ lookups

    def index(self, index_id: str) -> IndexRec:
        """The index.

        Raises:
            NotFound: When there is no such index.
        """
        rec = self.records.indexes.get(index_id)
        if rec is None:
            raise NotFound("index", index_id)
        return rec
