"""Local video files for upload: checked before any byte is sent, streamed from disk.

A path is validated up front (exists, is a regular readable file, is not empty, fits the
endpoint's 2 GB limit) and every failure is an
:class:`~tl_integrations.errors.InvalidVideoError` naming the file and the fix. The file is
then opened once per attempt and handed to httpx as a file object, which reads it in 64 KiB
chunks while sending, so a video is never held in memory and a retried upload starts again at
byte 0.

Example:
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp, "clip.mp4")
    ...     _ = path.write_bytes(b"0" * 10)
    ...     source = video_source(path)
    ...     with source.opened() as (name, fileobj, content_type):
    ...         print(name, content_type, fileobj.read(2))
    clip.mp4 video/mp4 b'00'
"""

from __future__ import annotations

import contextlib
import io
import mimetypes
import os
import pathlib
import stat
from collections.abc import Iterator
from typing import IO, BinaryIO

from .errors import InvalidVideoError

__all__ = ["MAX_UPLOAD_BYTES", "UploadSource", "validate_video_path", "video_source"]

MAX_UPLOAD_BYTES = 2 * 1024**3
"""Size limit of ``POST /tasks`` and ``POST /embed/tasks`` uploads (2 GB)."""

VideoFile = str | os.PathLike[str] | IO[bytes]


class UploadSource:
    """A video to upload that can be opened again for every attempt.

    Build one with :func:`video_source`. For a path the file is opened (and closed) per
    attempt; a caller's file object is rewound instead and never closed here.

    Example:
        >>> UploadSource(filename="a.mp4", fileobj=io.BytesIO(b"x")).rewindable
        True
    """

    def __init__(
        self,
        *,
        filename: str,
        path: pathlib.Path | None = None,
        fileobj: IO[bytes] | None = None,
        size_bytes: int | None = None,
    ) -> None:
        if (path is None) == (fileobj is None):
            raise ValueError("give exactly one of path or fileobj")
        self.filename = filename
        self.path = path
        self.fileobj = fileobj
        self.size_bytes = size_bytes
        self.content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        self._opens = 0

    @property
    def rewindable(self) -> bool:
        """True when the bytes can be sent again (a path, or a seekable file object)."""
        if self.fileobj is None:
            return True
        try:
            return bool(self.fileobj.seekable())
        except (AttributeError, ValueError):
            return False

    @contextlib.contextmanager
    def opened(self) -> Iterator[tuple[str, BinaryIO, str]]:
        """Open the video for one attempt: yields ``(filename, file object, content type)``.

        Raises:
            InvalidVideoError: the file vanished since validation, or a non-seekable stream
                would have to be sent a second time.
        """
        self._opens += 1
        if self.fileobj is not None:
            yield self.filename, self._rewound(), self.content_type
            return
        assert self.path is not None
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise InvalidVideoError(
                f"cannot open video file '{self.path}' for upload: {exc.strerror}; "
                "check that it still exists and is readable",
                path=str(self.path),
            ) from exc
        with handle:
            yield self.filename, handle, self.content_type

    def _rewound(self) -> BinaryIO:
        fileobj = self.fileobj
        assert fileobj is not None
        if self._opens > 1:
            if not self.rewindable:
                raise InvalidVideoError(
                    f"cannot resend '{self.filename}': the stream is not seekable; "
                    "pass a path or a seekable file to allow retries",
                    path=self.filename,
                )
            fileobj.seek(0)
        return fileobj  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"UploadSource(filename={self.filename!r}, size_bytes={self.size_bytes})"


def video_source(file: VideoFile, *, max_bytes: int = MAX_UPLOAD_BYTES) -> UploadSource:
    """Validate a path or binary file object and wrap it for upload.

    Args:
        file: a path (str or PathLike) or a file object opened in binary mode.
        max_bytes: the endpoint's size limit in bytes.

    Raises:
        InvalidVideoError: the file is missing, not a regular file, unreadable, empty, too
            large, or a text-mode file object.

    Example:
        >>> video_source(io.BytesIO(b"abc")).size_bytes
        3
    """
    if isinstance(file, (str, os.PathLike)):
        path = validate_video_path(file, max_bytes=max_bytes)
        return UploadSource(filename=path.name, path=path, size_bytes=path.stat().st_size)
    return _fileobj_source(file, max_bytes=max_bytes)


def validate_video_path(
    file: str | os.PathLike[str], *, max_bytes: int = MAX_UPLOAD_BYTES
) -> pathlib.Path:
    """Check a local video path before uploading it; return it as a Path.

    Raises:
        InvalidVideoError: naming the file and the fix.

    Example:
        >>> validate_video_path("/no/such/video.mp4")
        Traceback (most recent call last):
        ...
        tl_integrations.errors.InvalidVideoError: video file not found: '/no/such/video.mp4'; ...
    """
    path = pathlib.Path(file).expanduser()
    shown = str(file)
    try:
        info = path.stat()
    except FileNotFoundError:
        where = "" if path.is_absolute() else f" (relative to {os.getcwd()})"
        raise InvalidVideoError(
            f"video file not found: '{shown}'; check the path{where}", path=shown
        ) from None
    except OSError as exc:
        raise InvalidVideoError(
            f"cannot access video file '{shown}': {exc.strerror}; check the path and permissions",
            path=shown,
        ) from exc
    _check_kind(info, shown)
    if not os.access(path, os.R_OK):
        raise InvalidVideoError(
            f"video file '{shown}' is not readable; fix its permissions (chmod u+r)", path=shown
        )
    _check_size(info.st_size, shown, max_bytes)
    return path


def _check_kind(info: os.stat_result, shown: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise InvalidVideoError(
            f"'{shown}' is a directory, not a video file; pass the path of one video file",
            path=shown,
        )
    if not stat.S_ISREG(info.st_mode):
        raise InvalidVideoError(
            f"'{shown}' is not a regular file (a pipe or device?); copy the video to a "
            "regular file first",
            path=shown,
        )


def _check_size(size: int, shown: str, max_bytes: int) -> None:
    if size == 0:
        raise InvalidVideoError(
            f"video file '{shown}' is empty (0 bytes); re-export or re-download it", path=shown
        )
    if size > max_bytes:
        raise InvalidVideoError(
            f"video file '{shown}' is {size / 1024**3:.2f} GB but uploads are limited to "
            f"{max_bytes / 1024**3:.0f} GB; compress or split the video, or pass video_url=",
            path=shown,
        )


def _fileobj_source(fileobj: IO[bytes], *, max_bytes: int) -> UploadSource:
    name = pathlib.Path(str(getattr(fileobj, "name", "") or "upload.mp4")).name
    if isinstance(fileobj, io.TextIOBase) or "b" not in getattr(fileobj, "mode", "b"):
        raise InvalidVideoError(
            f"'{name}' is open in text mode; open the video with open(path, 'rb')", path=name
        )
    if not callable(getattr(fileobj, "read", None)):
        raise InvalidVideoError(
            f"{type(fileobj).__name__} is not a path or a binary file object; "
            "pass a path or open(path, 'rb')",
            path=name,
        )
    size = _fileobj_size(fileobj)
    if size is not None:
        _check_size(size, name, max_bytes)
    return UploadSource(filename=name, fileobj=fileobj, size_bytes=size)


def _fileobj_size(fileobj: IO[bytes]) -> int | None:
    try:
        return os.fstat(fileobj.fileno()).st_size
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    if isinstance(fileobj, io.BytesIO):
        return len(fileobj.getbuffer())
    return None
