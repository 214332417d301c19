"""Local video files for upload: checked before any byte is sent, streamed from disk.

A path is validated up front (exists, is a regular readable file, is not empty, fits the
endpoint's 2 GB limit) and every failure is an
:class:`~tl_integrations.InvalidVideoError` naming the file and the fix. The file is
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
import hashlib
import io
import mimetypes
import os
import pathlib
import stat
from collections.abc import AsyncIterator, Iterator
from typing import IO, BinaryIO, Literal

from ._errors import InvalidVideoError

__all__ = [
    "DIRECT_LIMITS",
    "MAX_UPLOAD_BYTES",
    "MULTIPART_LIMITS",
    "FileSlice",
    "MediaType",
    "UploadSource",
    "check_video_name",
    "media_type_of",
    "safe_filename",
    "sha256_file",
    "url_key",
    "validate_video_path",
    "video_source",
]

MAX_UPLOAD_BYTES = 2 * 1024**3
"""Size limit of ``POST /tasks`` and ``POST /embed/tasks`` uploads (2 GB)."""

MB = 1024**2
GB = 1024**3
MediaType = Literal["video", "audio", "image", "document"]
"""What an asset holds; it decides the size limits and which models take it."""

_EXTENSIONS: dict[MediaType, frozenset[str]] = {
    "video": frozenset(
        ("mp4", "mov", "m4v", "mkv", "webm", "avi", "wmv", "flv", "mpg", "mpeg", "ts", "mts")
    )
    | {"m2ts", "3gp", "ogv"},
    "audio": frozenset(
        ("mp3", "wav", "m4a", "aac", "flac", "ogg", "oga", "opus", "wma", "aif", "aiff")
    ),
    "image": frozenset(("jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff", "heic")),
    "document": frozenset(("pdf", "txt", "md")),
}
DIRECT_LIMITS: dict[MediaType, int] = {
    "video": 200 * MB,
    "audio": 200 * MB,
    "image": 32 * MB,
    "document": 200 * MB,
}
"""The largest local file ``POST /assets`` takes in one request, by media type."""
MULTIPART_LIMITS: dict[MediaType, int] = {"video": 10 * GB, "audio": 10 * GB, "image": 32 * MB}
"""The largest local file a multipart upload session takes (documents: none)."""

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
        with _reopened(self.path, f"open video file '{self.path}'") as handle:
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


def safe_filename(name: str, default: str = "upload.mp4") -> str:
    r"""The name sent for an upload: the last path part, without what multipart escapes.

    httpx escapes ``"``, backslashes and control characters in a multipart file name, so
    the server would store another name than the one we know, and a lost answer could not
    be found again by it. The name sent is therefore one the server keeps verbatim: the
    part after the last ``/`` or ``\\`` (a Windows path on Linux is one name), with ``"``
    and control characters replaced by ``_``.

    Example:
        >>> safe_filename("C:\\videos\\talk.mp4"), safe_filename('a"b\tc.mp4')
        ('talk.mp4', 'a_b_c.mp4')
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join("_" if ch == '"' or ord(ch) < 32 or ord(ch) == 127 else ch for ch in base)
    return cleaned.strip() or default


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
        return UploadSource(
            filename=safe_filename(path.name), path=path, size_bytes=path.stat().st_size
        )
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
        tl_integrations.InvalidVideoError: video file not found: '/no/such/video.mp4'; ...
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
    name = safe_filename(str(getattr(fileobj, "name", "") or "upload.mp4"))
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


class FileSlice:
    """A byte range of a local file, read from disk in pieces while it is sent.

    Multipart uploads PUT each chunk straight from the source file at its offset: no
    temporary chunk files, never more than one read buffer of a chunk in memory.

    Example:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = pathlib.Path(tmp, "v.bin")
        ...     _ = path.write_bytes(b"abcdefgh")
        ...     b"".join(FileSlice(path, offset=2, length=3).pieces())
        b'cde'
    """

    READ_BYTES = 1024 * 1024

    def __init__(self, path: pathlib.Path, *, offset: int, length: int) -> None:
        if offset < 0 or length < 0:
            raise ValueError(f"a file slice needs offset, length >= 0, got {offset}, {length}")
        self.path = path
        self.offset = offset
        self.length = length

    def pieces(self) -> Iterator[bytes]:
        """The slice's bytes, ``READ_BYTES`` at a time (a fresh read on every call).

        Raises:
            InvalidVideoError: the file shrank or vanished since the upload began.
        """
        with _reopened(self.path, f"read '{self.path}'") as handle:
            handle.seek(self.offset)
            left = self.length
            while left > 0:
                piece = handle.read(min(self.READ_BYTES, left))
                if not piece:
                    raise InvalidVideoError(
                        f"'{self.path}' shrank while it was being uploaded; upload it again "
                        "once it is complete",
                        path=str(self.path),
                    )
                left -= len(piece)
                yield piece

    async def apieces(self) -> AsyncIterator[bytes]:
        """:meth:`pieces` for an async HTTP client (reads are small and local)."""
        for piece in self.pieces():
            yield piece

    def __repr__(self) -> str:
        return f"FileSlice({self.path.name!r}, offset={self.offset}, length={self.length})"


def media_type_of(name: str) -> MediaType | None:
    """The media type a file name's extension says (case-insensitive), None if unknown.

    Example:
        >>> media_type_of("Talk.MP4"), media_type_of("notes.md"), media_type_of("x.exe")
        ('video', 'document', None)
    """
    suffix = pathlib.PurePath(name).suffix.lower().lstrip(".")
    for kind, suffixes in _EXTENSIONS.items():
        if suffix in suffixes:
            return kind
    return None


def check_video_name(name: str) -> None:
    """Refuse a file whose extension says it is an image, audio or a document, before it is
    uploaded to be indexed (an unknown extension passes: the server decides).

    Raises:
        InvalidVideoError: naming the file, its kind and the fix.

    Example:
        >>> check_video_name("talk.mp4")
        >>> check_video_name("notes.txt")
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidVideoError: 'notes.txt' is a document file by its extension; ...
    """
    kind = media_type_of(name)
    if kind is not None and kind != "video":
        article = "an" if kind in ("image", "audio") else "a"
        raise InvalidVideoError(
            f"{name!r} is {article} {kind} file by its extension; only videos are indexed "
            "(rename it if it is a video)",
            path=name,
        )


def sha256_file(path: pathlib.Path, *, block_bytes: int = 1024 * 1024) -> str:
    """The hex SHA-256 of a file, read in blocks (memory stays flat for any size).

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile() as f:
        ...     _ = f.write(b"abc"); f.flush()
        ...     sha256_file(pathlib.Path(f.name))[:16]
        'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(block_bytes):
            digest.update(block)
    return digest.hexdigest()


def url_key(url: str) -> str:
    """The hex SHA-256 of a URL's text: what identifies media fetched from that URL.

    Example:
        >>> len(url_key("https://example.com/a.mp4"))
        64
    """
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def _reopened(path: pathlib.Path, doing: str) -> BinaryIO:
    # The file was checked before the upload began; by the time its bytes are read it may
    # have gone, which is the caller's mistake to fix, not an internal error.
    try:
        return path.open("rb")
    except OSError as exc:
        raise InvalidVideoError(
            f"cannot {doing} for upload: {exc.strerror}; check that it still exists and is "
            "readable",
            path=str(path),
        ) from exc
