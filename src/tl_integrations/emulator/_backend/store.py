"""The records of one emulator with what keeps them consistent: lock, clock, ids and disk.

Every service of the backend works on one :class:`Store`. Route handlers run on the server's
event loop and ``Emulator`` methods (reset) on the caller's thread; both go through methods
that take ``lock`` around mutations.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from .._config import EmulatorConfig
from .._ids import IdFactory
from .._media import MediaInfo
from .._segments import SegmentSet
from .errors import NotFound
from .lifecycle import task_rng
from .persistence import Persistence
from .records import AssetRec, IndexRec, Records, VideoRec

__all__ = ["Store", "fate_key", "lookup", "references"]

_RecT = TypeVar("_RecT")


def lookup(table: Mapping[str, _RecT], ident: str, kind: str) -> _RecT:
    """The record ``ident`` of ``table``.

    Raises:
        NotFound: When there is none, naming it as a ``kind``.

    Example:
        >>> lookup({"t1": "task one"}, "t1", "task")
        'task one'
        >>> lookup({}, "t2", "task")
        Traceback (most recent call last):
        tl_integrations.emulator._backend.errors.NotFound: The task 't2' does not exist.
    """
    rec = table.get(ident)
    if rec is None:
        raise NotFound(kind, ident)
    return rec


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


def references(data: Any) -> tuple[set[str], set[str]]:
    """(every record id, every stored file) a saved state names, found wherever they are,
    so that a record kind added later keeps its files without teaching this function.

    Example:
        >>> references({"videos": [{"id": "v1", "media_path": "media/a1.mp4"}], "n": 3})
        ({'v1'}, {'media/a1.mp4'})
    """
    ids: set[str] = set()
    files: set[str] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("id"), str):
                ids.add(item["id"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item.startswith(("media/", "multipart/")):
            files.add(item)
    return ids, files


class Store:
    """Records, their persistence, the clock and the id sequence of one emulator.

    Args:
        config: The emulator's settings (clock, seed, data directory, failure rate).
        fail_share: The current share of tasks the ``fail`` fault fails (it can change while
            the emulator runs).

    Raises:
        DataDirError: For a data directory that cannot be used or read back (the message
            names the file and the fix).
        DataDirInUse: When another emulator uses the data directory.

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
        # A temporary directory goes with its store even when nobody calls close(): at
        # garbage collection or interpreter exit (tests and notebooks forget; /tmp does not).
        self._cleanup = (
            weakref.finalize(self, shutil.rmtree, root, True) if self._own_root else None
        )
        self.ids = IdFactory(seed=config.seed)
        self.records = Records()
        # Signs the media and thumbnail URLs the API hands out (they work without the key,
        # like a CDN's signed links); kept with the state so that old links stay valid.
        self.url_secret = secrets.token_bytes(32)
        try:
            self._load()
        except BaseException:
            self.persistence.close()
            raise

    # ------------------------------------------------------------------ basics

    def now(self) -> float:
        """The emulator's time, seconds since the epoch."""
        return float(self.config.clock())

    def new_id(self) -> str:
        """A fresh 24-hex id."""
        return self.ids.new()

    def _load(self) -> None:
        persistence = self.persistence
        data = persistence.load_state()
        if persistence.durable:
            # Files written just before a kill, whose record never reached state.json.
            ids, files = references(data or {})
            persistence.sweep(ids=ids, files=files)
        if data is None:
            return
        try:
            self.records = Records.from_json(data)
            self.ids.counter = int(data.get("id_counter", 0))
            if "url_secret" in data:
                self.url_secret = bytes.fromhex(data["url_secret"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            reason = exc if not isinstance(exc, KeyError) else f"a record lacks {exc}"
            raise persistence.damaged(persistence.state_path, ValueError(reason)) from exc
        self.records.segments = persistence.load_segments()

    def save(self) -> None:
        """Persist the records (call after every mutation); a no-op without a data directory."""
        if not self.persistence.durable:
            return
        with self.lock:
            data = self.records.to_json()
            data["id_counter"] = self.ids.counter
            data["url_secret"] = self.url_secret.hex()
            self.persistence.save_state(data)

    def sign(self, path: str) -> str:
        """The signature of a URL path the emulator serves without the API key.

        Example:
            >>> store = Store(EmulatorConfig())
            >>> sig = store.sign("/_emulator/media/abc")
            >>> store.signed(sig, "/_emulator/media/abc"), store.signed(sig, "/_emulator/media/abd")
            (True, False)
            >>> store.close()
        """
        digest = hmac.new(self.url_secret, path.encode(), hashlib.sha256).hexdigest()
        return digest[:32]

    def signed(self, signature: str, path: str) -> bool:
        """Whether ``signature`` is this emulator's signature of ``path``."""
        return hmac.compare_digest(signature.encode(), self.sign(path).encode())

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
            path = self.persistence.inside(media_path)
            if path is not None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def reset(self) -> None:
        """Forget every record, and delete the media, vectors and partial uploads the
        emulator stored for them (never another file of the data directory)."""
        with self.lock:
            self.records = Records()
            self.persistence.clear()

    def close(self) -> None:
        """Release the data directory, or remove it when it is a temporary one (no
        ``data_dir`` configured)."""
        if self._own_root:
            self.persistence.remove()
            if self._cleanup is not None:
                self._cleanup.detach()  # removed already
        else:
            self.persistence.close()

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
        return lookup(self.records.indexes, index_id, "index")
