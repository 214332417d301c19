"""On-disk layout of an emulator's data directory, written atomically, used by one emulator
at a time.

::

    <root>/state.json          indexes, assets, upload sessions, videos, tasks, embedding
                               tasks, entity collections, entities, id counter, URL-signing
                               secret
    <root>/emulator.lock       held (``flock``) by the emulator using the directory; says
                               which process that is
    <root>/vectors/<id>.npz    segment vectors of a video or an embedding task
    <root>/media/<id><ext>     uploaded media (named by the asset)
    <root>/multipart/<id>.part multipart uploads in progress (kept across restarts)
    <root>/uploads/            request bodies in progress (emptied at start)

Every file is written to a temporary name in the same directory and moved into place with
``os.replace``, so a crash never leaves a half-written state behind.

The emulator only ever deletes files it named itself (``state.json``, ``<24 hex id>.*`` in
``media/``, ``vectors/`` and ``multipart/``, its own temporary files): a directory that
holds anything else is refused at start, and nothing else is touched by a reset.

Links placed in the directory never lead it elsewhere: a sub-directory or a lock file that is
a symbolic link is refused at start, ``state.json`` is neither read nor written through one,
and a sweep unlinks a link (never its target) and never enters a linked directory.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from .._segments import SegmentSet

__all__ = ["DataDirError", "DataDirInUse", "Persistence", "atomic_write"]

STATE_FILE = "state.json"
LOCK_FILE = "emulator.lock"
_OWN_DIRS = ("media", "uploads", "vectors", "multipart")
_OWN_NAMES = frozenset({STATE_FILE, LOCK_FILE, *_OWN_DIRS})
# What the emulator names itself, per sub-directory (ids are 24 hex characters).
_OWN_FILES = {
    "media": re.compile(r"^[0-9a-f]{24}(\..{0,7})?$", re.DOTALL),
    "vectors": re.compile(r"^([0-9a-f]{24})\.npz$|^\.[0-9a-f]{24}\.npz\..+$"),
    "multipart": re.compile(r"^[0-9a-f]{24}\.part$"),
    "uploads": re.compile(r"^(upload|fetch)-.+$"),
}
_OWN_TEMP = re.compile(r"^\.state\.json\..+$")
_ID = re.compile(r"^[0-9a-f]{24}$")
# Open the last component itself, never what a link there points to (0 where unknown).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
# Where a directory can be listed and its entries removed through an open handle of it.
_BY_DIR_FD = os.scandir in os.supports_fd and os.unlink in os.supports_dir_fd


class DataDirError(OSError):
    """A data directory the emulator cannot use; the message names the file and the fix.

    Example:
        >>> str(DataDirError("/tmp/x/state.json is not JSON; move it aside"))
        '/tmp/x/state.json is not JSON; move it aside'
    """


class DataDirInUse(DataDirError):
    """Another emulator (in this process or another) uses the data directory.

    Attributes:
        path: The data directory.
        holder: What the holder wrote about itself (``pid``, and ``url`` once serving).

    Example:
        >>> busy = DataDirInUse(Path("/tmp/d"), {"pid": 42})
        >>> str(busy).split(";")[0]
        'the data directory /tmp/d is in use by another emulator (pid 42)'
    """

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        who = f"pid {holder.get('pid', '?')}"
        if holder.get("url"):
            who += f", serving {holder['url']}"
        super().__init__(
            f"the data directory {path} is in use by another emulator ({who}); stop it, or "
            "give another data directory"
        )
        self.path = path
        self.holder = holder

    def wait(self) -> None:
        """Block until the emulator holding the directory has stopped (Ctrl-C interrupts).

        The directory may be taken again by someone else before the caller gets to it: try
        again, and wait again if so.

        Example:
            >>> busy.wait()  # doctest: +SKIP
        """
        fd = _open_lock(self.path)
        try:
            _lock(fd, wait=True)
            _unlock(fd)
        finally:
            os.close(fd)


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


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int, *, wait: bool) -> bool:
        mode = msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK
        while True:
            try:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, mode, 1)
                return True
            except OSError:
                if not wait:
                    return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int, *, wait: bool) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _open_lock(root: Path) -> int:
    """Open (or create) the lock file itself: never a file a link there points to, nor
    another file's bytes under a second name (the emulator truncates and writes it)."""
    path = root / LOCK_FILE
    refused = DataDirError(
        f"the emulator's lock file {path} is a link to another file, or not a plain file; "
        "delete it (the emulator makes its own), or give another data directory"
    )
    if not _NOFOLLOW and path.is_symlink():  # pragma: no cover - no O_NOFOLLOW (Windows)
        raise refused
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o644)
    except OSError as exc:
        if path.is_symlink():  # ELOOP on Linux and macOS, EMLINK on FreeBSD
            raise refused from exc
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:  # a hard link shares bytes
        os.close(fd)
        raise refused
    return fd


def _linked_dir(directory: Path) -> DataDirError:
    return DataDirError(
        f"the emulator's directory {directory} is a symbolic link (or not a directory): the "
        "emulator writes and deletes files only in a directory of its own; replace the link "
        "by a real directory (move the files in), or give another data directory"
    )


def _refuse_foreign(root: Path) -> None:
    """Refuse a directory that holds something the emulator did not make (a reset or an
    orphan sweep there could otherwise delete a user's files)."""
    foreign = sorted(
        e.name for e in root.iterdir() if not e.name.startswith(".") and e.name not in _OWN_NAMES
    )
    if foreign:
        shown = ", ".join(repr(n) for n in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise DataDirError(
            f"the data directory {root} holds files that are not the emulator's ({shown}); "
            "give an empty or new directory"
        )


class Persistence:
    """Reads and writes one data directory; with ``durable=False`` only media are kept.

    A durable directory is locked for the lifetime of the object (until :meth:`close`).

    Raises:
        DataDirError: For a path that is a file, cannot be created, or holds files that are
            not the emulator's.
        DataDirInUse: When another emulator uses the directory.

    Example:
        >>> p = Persistence(Path(tempfile.mkdtemp()), durable=True)
        >>> p.save_state({"indexes": []}); p.load_state()
        {'indexes': []}
        >>> p.close()
    """

    def __init__(self, root: Path, *, durable: bool) -> None:
        self.root = root
        self.durable = durable
        self.media_dir = root / "media"
        self.uploads_dir = root / "uploads"
        self.vectors_dir = root / "vectors"
        self.parts_dir = root / "multipart"
        self._lock_fd: int | None = None
        try:
            if root.exists() and not root.is_dir():
                raise DataDirError(f"the data directory {root} is a file; give a directory")
            root.mkdir(parents=True, exist_ok=True)
            if durable:
                _refuse_foreign(root)
                self._take_lock()
            for d in (self.media_dir, self.uploads_dir, self.vectors_dir, self.parts_dir):
                if d.is_symlink():  # it would make the emulator write and delete elsewhere
                    raise _linked_dir(d)
                d.mkdir(exist_ok=True)
                if d.is_symlink() or not d.is_dir():
                    raise _linked_dir(d)
        except DataDirError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            reason = exc.strerror or str(exc)
            raise DataDirError(
                f"cannot use the data directory {root}: {reason} ({exc.filename or root}); "
                "give a directory you can write to"
            ) from exc
        with contextlib.suppress(OSError):
            self._delete(self.uploads_dir, self._own(self.uploads_dir))

    # ------------------------------------------------------------------ the lock

    def _take_lock(self) -> None:
        fd = _open_lock(self.root)
        if not _lock(fd, wait=False):
            try:
                holder = orjson.loads(os.read(fd, 4096) or b"{}")
            except orjson.JSONDecodeError:
                holder = {}
            os.close(fd)
            raise DataDirInUse(self.root, holder if isinstance(holder, dict) else {})
        self._lock_fd = fd
        self.announce({})

    def announce(self, facts: dict[str, Any]) -> None:
        """Write who holds the directory (the process id, plus ``facts`` such as the URL)
        into the lock file, for the message another emulator gets.

        Example:
            >>> p.announce({"url": "http://127.0.0.1:8765"})  # doctest: +SKIP
        """
        if self._lock_fd is None:
            return
        blob = orjson.dumps({"pid": os.getpid(), **facts})
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, blob, 0)

    def close(self) -> None:
        """Release the directory (another emulator may use it from now on)."""
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._lock_fd, 0)
                _unlock(self._lock_fd)
            os.close(self._lock_fd)
            self._lock_fd = None

    # ------------------------------------------------------------------ state

    @property
    def state_path(self) -> Path:
        """Where the JSON state lives."""
        return self.root / STATE_FILE

    def save_state(self, data: dict[str, Any]) -> None:
        """Write the JSON state (no-op unless durable)."""
        if self.durable:
            blob = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)
            atomic_write(self.state_path, lambda f: _write_all(f, blob))

    def load_state(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none (or not durable).

        Raises:
            DataDirError: When ``state.json`` cannot be read or is not a JSON object.
        """
        if not self.durable or not self.state_path.exists():
            return None
        try:
            if self.state_path.is_symlink():  # read no other file as the state
                raise OSError("a symbolic link, not the emulator's file")
            fd = os.open(self.state_path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_BINARY", 0))
            with os.fdopen(fd, "rb") as handle:
                data = orjson.loads(handle.read())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise self.damaged(self.state_path, exc) from exc
        if not isinstance(data, dict):
            raise self.damaged(self.state_path, TypeError("not a JSON object"))
        return data

    def damaged(self, path: Path, exc: BaseException) -> DataDirError:
        """The error for a file of the directory that cannot be read back.

        Example:
            >>> str(p.damaged(p.state_path, ValueError("bad")))  # doctest: +SKIP
            '.../state.json is damaged (bad); move it aside to start afresh ...'
        """
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if path == self.state_path:
            fix = (
                f"move it aside to start afresh (its media stay in {self.media_dir}), or "
                "give another data directory"
            )
        else:
            fix = "delete it: a video's vectors are made again at start, an embedding task fails"
        return DataDirError(f"the emulator's file {path} is damaged ({reason}); {fix}")

    # ------------------------------------------------------------------ vectors

    def save_segments(self, owner_id: str, segments: SegmentSet) -> None:
        """Write one segment set as ``vectors/<owner_id>.npz`` (no-op unless durable)."""
        if not self.durable:
            return

        document: dict[str, Any] = {}
        if segments.documentary:  # pages, quadrants and chunks of a document's rows
            document = {
                "start_page": segments.start_page,
                "end_page": segments.end_page,
                "quadrant": np.asarray(segments.quadrant, dtype=str),
                "chunk_index": segments.chunk_index,
            }

        def write(handle: IO[bytes]) -> None:
            np.savez(
                handle,
                vectors=segments.vectors,
                start_s=segments.start_s,
                end_s=segments.end_s,
                option=np.asarray(segments.option, dtype=str),
                scope=np.asarray(segments.scope, dtype=str),
                **document,
            )

        atomic_write(self.vectors_dir / f"{owner_id}.npz", write)

    def load_segments(self) -> dict[str, SegmentSet]:
        """Every saved segment set, by owner id.

        Raises:
            DataDirError: When a vectors file cannot be read back.
        """
        found: dict[str, SegmentSet] = {}
        if not self.durable:
            return found
        for path in self.vectors_dir.glob("*.npz"):
            try:
                # An open handle of ours: np.load leaks its own when the archive is damaged.
                with path.open("rb") as handle, np.load(handle) as z:
                    document = "start_page" in z.files
                    found[path.stem] = SegmentSet(
                        z["vectors"].astype(np.float32),
                        z["start_s"],
                        z["end_s"],
                        [str(o) for o in z["option"]],
                        [str(s) for s in z["scope"]],
                        z["start_page"] if document else None,
                        z["end_page"] if document else None,
                        [str(q) for q in z["quadrant"]] if document else None,
                        z["chunk_index"] if document else None,
                    )
            except Exception as exc:  # numpy raises many kinds for a damaged archive
                raise self.damaged(path, exc) from exc
        return found

    def delete_segments(self, owner_id: str) -> None:
        """Remove a saved segment set, if any."""
        with contextlib.suppress(FileNotFoundError):
            (self.vectors_dir / f"{owner_id}.npz").unlink()

    # ------------------------------------------------------------------ media

    def store_media(self, upload: Path, *, owner_id: str, extension: str) -> Path:
        """Move an upload into ``media/`` under its owner's id, with a file extension."""
        target = self.media_dir / f"{owner_id}{extension.lower()[:8]}"
        os.replace(upload, target)
        return target

    def relative(self, path: Path) -> str:
        """A stored file's path relative to the data directory (what records keep)."""
        return str(path.relative_to(self.root))

    def inside(self, relative: str) -> Path | None:
        """The file a record names, or None when the name leads out of the directory (a
        record is data: it never makes the emulator read or delete elsewhere).

        Symbolic links are followed before the check: a name whose real path is not under
        the data directory (``media/x.png`` linked to ``/etc/passwd``) gives None too.

        Example:
            >>> p.inside("media/x.mp4") is not None, p.inside("../x.mp4")  # doctest: +SKIP
            (True, None)
        """
        if not isinstance(relative, str) or not relative or "\x00" in relative:
            return None
        parts = Path(relative).parts
        if Path(relative).is_absolute() or ".." in parts or parts[0] not in _OWN_DIRS:
            return None
        path = self.root / relative
        root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        if os.path.commonpath([root, real]) != root or real == root:
            return None
        if os.path.realpath(self.root / parts[0]) != os.path.join(root, parts[0]):
            return None  # the sub-directory itself is a link elsewhere
        return path

    def part_file(self, upload_id: str) -> Path | None:
        """The file a multipart upload's chunks go into, named by the upload id alone (never
        by a path a record holds), or None for an id the emulator would not have made.

        Example:
            >>> p.part_file("0" * 24).name, p.part_file("../x")  # doctest: +SKIP
            ('000000000000000000000000.part', None)
        """
        if not isinstance(upload_id, str) or not _ID.match(upload_id):
            return None
        return self.inside(f"multipart/{upload_id}.part")

    # ------------------------------------------------------------------ cleaning

    def _own(self, directory: Path) -> list[str]:
        """The names of the files (or links) of one sub-directory that the emulator named
        itself; none when the sub-directory is missing or has become a link (never entered)."""
        pattern = _OWN_FILES[directory.name]
        with self._opened(directory) as handle:
            if handle is None:
                return []
            with os.scandir(handle) as entries:
                # A link counts by its name (unlinking it leaves its target alone).
                kept = (e for e in entries if e.is_symlink() or e.is_file(follow_symlinks=False))
                return [e.name for e in kept if pattern.match(e.name)]

    @contextlib.contextmanager
    def _opened(self, directory: Path) -> Iterator[int | str | None]:
        """An open handle of a sub-directory itself (not of what a link there points to),
        or None when it is missing or a link; a path where handles cannot be used."""
        if not _BY_DIR_FD:  # pragma: no cover - Windows
            yield None if directory.is_symlink() or not directory.is_dir() else str(directory)
            return
        try:
            fd = os.open(directory, os.O_RDONLY | _DIRECTORY | _NOFOLLOW)
        except OSError:  # missing, a link (ELOOP), or not a directory
            yield None
            return
        try:
            yield fd
        finally:
            os.close(fd)

    def _delete(self, directory: Path, names: Iterable[str]) -> int:
        """Unlink ``names`` in a sub-directory (a link goes, never its target); how many went."""
        gone = 0
        with self._opened(directory) as handle:
            for name in names:
                with contextlib.suppress(FileNotFoundError):
                    if isinstance(handle, int):
                        os.unlink(name, dir_fd=handle)
                    elif isinstance(handle, str):  # pragma: no cover - Windows
                        os.unlink(os.path.join(handle, name))
                    else:  # missing, or a link: nothing in it is touched
                        break
                    gone += 1
        return gone

    def sweep(self, *, ids: set[str], files: set[str]) -> int:
        """Delete what a killed emulator left behind: temporary files, and media, vectors
        and partial uploads that no record names. Returns how many files went.

        Links are unlinked themselves (never their targets), and a sub-directory that has
        become a link is not entered.

        Args:
            ids: Every record id (a vectors file is kept when its owner exists).
            files: Every file a record names, relative to the directory.

        Example:
            >>> p.sweep(ids=set(), files=set())  # doctest: +SKIP
            0
        """
        gone = 0
        for entry in [e for e in self.root.iterdir() if _OWN_TEMP.match(e.name)]:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()  # a link itself, never its target
                gone += 1
        media = [n for n in self._own(self.media_dir) if f"media/{n}" not in files]
        gone += self._delete(self.media_dir, media)
        # A partial upload is named by its session's id (whatever path the record holds).
        parts = [
            n
            for n in self._own(self.parts_dir)
            if f"multipart/{n}" not in files and n.removesuffix(".part") not in ids
        ]
        gone += self._delete(self.parts_dir, parts)
        vectors = []
        for name in self._own(self.vectors_dir):
            match = _OWN_FILES["vectors"].match(name)
            if match is None or match.group(1) not in ids:
                vectors.append(name)
        gone += self._delete(self.vectors_dir, vectors)
        return gone

    def clear(self) -> None:
        """Delete every record, vector, media file and partial upload: the files the
        emulator named itself, and nothing else (the directory and the lock stay)."""
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()
        for directory in (self.media_dir, self.vectors_dir, self.parts_dir):
            self._delete(directory, self._own(directory))

    def remove(self) -> None:
        """Delete the whole directory (only for a temporary one the emulator made)."""
        self.close()
        shutil.rmtree(self.root, ignore_errors=True)
