"""On-disk layout of an emulator's data directory, written atomically.

::

    <root>/state.json          indexes, assets, upload sessions, videos, tasks, embedding
                               tasks, entity collections, entities, id counter
    <root>/vectors/<id>.npz    segment vectors of a video or an embedding task
    <root>/media/<id><ext>     uploaded media (named by the asset, or by the embedding task)
    <root>/multipart/<id>.part multipart uploads in progress (kept across restarts)
    <root>/uploads/            request bodies in progress (emptied at start)

Every file is written to a temporary name in the same directory and moved into place with
``os.replace``, so a crash never leaves a half-written state behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from ..segments import SegmentSet

__all__ = ["Persistence", "atomic_write"]


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through ``write(handle)`` into a temporary file, then ``os.replace``.

    Example:
        >>> atomic_write(Path("/tmp/x.json"), lambda f: f.write(b"{}"))  # doctest: +SKIP
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write_all(handle: IO[bytes], blob: bytes) -> None:
    handle.write(blob)


class Persistence:
    """Reads and writes one data directory; with ``durable=False`` only media are kept.

    Example:
        >>> p = Persistence(Path(tempfile.mkdtemp()), durable=True)
        >>> p.save_state({"indexes": []}); p.load_state()
        {'indexes': []}
    """

    def __init__(self, root: Path, *, durable: bool) -> None:
        self.root = root
        self.durable = durable
        self.media_dir = root / "media"
        self.uploads_dir = root / "uploads"
        self.vectors_dir = root / "vectors"
        self.parts_dir = root / "multipart"
        for d in (self.media_dir, self.uploads_dir, self.vectors_dir, self.parts_dir):
            d.mkdir(parents=True, exist_ok=True)
        for leftover in self.uploads_dir.iterdir():
            with contextlib.suppress(OSError):
                leftover.unlink()

    @property
    def state_path(self) -> Path:
        """Where the JSON state lives."""
        return self.root / "state.json"

    def save_state(self, data: dict[str, Any]) -> None:
        """Write the JSON state (no-op unless durable)."""
        if self.durable:
            blob = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)
            atomic_write(self.state_path, lambda f: _write_all(f, blob))

    def load_state(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none (or not durable)."""
        if not self.durable or not self.state_path.exists():
            return None
        data: dict[str, Any] = orjson.loads(self.state_path.read_bytes())
        return data

    def save_segments(self, owner_id: str, segments: SegmentSet) -> None:
        """Write one segment set as ``vectors/<owner_id>.npz`` (no-op unless durable)."""
        if not self.durable:
            return

        def write(handle: IO[bytes]) -> None:
            np.savez(
                handle,
                vectors=segments.vectors,
                start_s=segments.start_s,
                end_s=segments.end_s,
                option=np.asarray(segments.option, dtype=str),
                scope=np.asarray(segments.scope, dtype=str),
            )

        atomic_write(self.vectors_dir / f"{owner_id}.npz", write)

    def load_segments(self) -> dict[str, SegmentSet]:
        """Every saved segment set, by owner id."""
        found: dict[str, SegmentSet] = {}
        if not self.durable:
            return found
        for path in self.vectors_dir.glob("*.npz"):
            with np.load(path) as z:
                found[path.stem] = SegmentSet(
                    z["vectors"].astype(np.float32),
                    z["start_s"],
                    z["end_s"],
                    [str(o) for o in z["option"]],
                    [str(s) for s in z["scope"]],
                )
        return found

    def delete_segments(self, owner_id: str) -> None:
        """Remove a saved segment set, if any."""
        with contextlib.suppress(FileNotFoundError):
            (self.vectors_dir / f"{owner_id}.npz").unlink()

    def store_media(self, upload: Path, *, owner_id: str, extension: str) -> Path:
        """Move an upload into ``media/`` under its owner's id, with a file extension."""
        target = self.media_dir / f"{owner_id}{extension.lower()[:8]}"
        os.replace(upload, target)
        return target

    def relative(self, path: Path) -> str:
        """A stored file's path relative to the data directory (what records keep)."""
        return str(path.relative_to(self.root))

    def clear(self) -> None:
        """Delete every record, vector, media file and partial upload (the directory stays)."""
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()
        for d in (self.media_dir, self.vectors_dir, self.parts_dir):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True, exist_ok=True)
