"""From a request's media to probed media on disk: uploaded files, URLs and base64 strings.

The HTTP layer says *where* the media is (a :class:`Source`); this module brings it into the
data directory and probes it, as a video, or (:func:`probe_as`) as whatever an embedding
reads it as: a sound, a picture or a document. Existing assets are resolved by the services
that own them.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import anyio.to_thread

from .._media import (
    Document,
    MediaError,
    MediaInfo,
    Picture,
    probe_audio,
    probe_picture,
    read_document,
)
from .errors import Invalid
from .fetch import decode_base64, fetch_url
from .media_rules import check_media, probe_media
from .store import Store

__all__ = [
    "AssetRef",
    "Base64Data",
    "LocalFile",
    "Probed",
    "RemoteUrl",
    "Source",
    "Upload",
    "discard",
    "probe_as",
    "probe_upload",
    "receive",
]


@dataclass(frozen=True)
class LocalFile:
    """A file the request uploaded, already on disk in the uploads directory.

    Example:
        >>> LocalFile(Path("/tmp/upload-1"), "a.mp4").filename
        'a.mp4'
    """

    path: Path
    filename: str


@dataclass(frozen=True)
class RemoteUrl:
    """Media to fetch from a URL (loopback ``http(s)``, or ``file://`` in an allowed
    directory).

    Example:
        >>> RemoteUrl("file:///tmp/a.mp4", field="video_url").field
        'video_url'
    """

    url: str
    field: str = "url"


@dataclass(frozen=True)
class Base64Data:
    """Media sent inline as base64.

    Example:
        >>> Base64Data("aGVsbG8=", field="media_source.base64_string").data
        'aGVsbG8='
    """

    data: str
    field: str = "base64_string"


@dataclass(frozen=True)
class AssetRef:
    """Media the platform already holds, named by its asset id.

    Example:
        >>> AssetRef("0123", field="video.asset_id").asset_id
        '0123'
    """

    asset_id: str
    field: str = "asset_id"


Source: TypeAlias = "LocalFile | RemoteUrl | Base64Data | AssetRef"


@dataclass
class Upload:
    """Media received for one request, in the upload directory until it is kept.

    Example:
        >>> Upload(Path("/tmp/x"), "a.mp4", None).input_url is None
        True
    """

    path: Path
    filename: str
    input_url: str | None
    owned: bool = True

    def discard(self) -> None:
        """Delete the file unless it belongs to something stored."""
        if self.owned:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def metadata(self) -> dict[str, str]:
        """``{"input_url": ...}`` or ``{"input_filename": ...}`` for task metadata."""
        if self.input_url is not None:
            return {"input_url": self.input_url}
        return {"input_filename": self.filename}


def discard(source: Source) -> None:
    """Delete an uploaded file that will not be used (a request refused before receiving).

    Example:
        >>> discard(RemoteUrl("file:///tmp/a.mp4"))  # only uploaded files are deleted
    """
    if isinstance(source, LocalFile):
        with contextlib.suppress(FileNotFoundError):
            source.path.unlink()


async def receive(
    store: Store, source: LocalFile | RemoteUrl | Base64Data, *, max_bytes: int | None = None
) -> Upload:
    """Bring ``source`` into the uploads directory (a no-op for an uploaded file).

    Args:
        store: Where the uploads directory and the size limits are.
        source: The media.
        max_bytes: The size limit of a URL download (default: the media file size limit);
            base64 strings have their own limit.

    Raises:
        Invalid: For a URL that cannot be fetched, bad base64 or a too-large file.

    Example:
        >>> upload = await receive(store, RemoteUrl("file:///tmp/a.mp4"))  # doctest: +SKIP
    """
    limits = store.config.media
    if isinstance(source, LocalFile):
        return Upload(source.path, source.filename, None)
    if isinstance(source, RemoteUrl):
        path, name = await fetch_url(
            source.url,
            dest_dir=store.persistence.uploads_dir,
            max_bytes=limits.max_file_size_bytes if max_bytes is None else max_bytes,
            field=source.field,
            file_dirs=store.config.file_dirs,
        )
        return Upload(path, name, source.url)
    path = decode_base64(
        source.data,
        dest_dir=store.persistence.uploads_dir,
        max_bytes=limits.max_base64_bytes,
        name=source.field,
    )
    return Upload(path, "media", None)


async def probe_upload(store: Store, upload: Upload, *, picture: bool = True) -> MediaInfo:
    """Probe in a worker thread and apply the media rules; discards the file on failure.

    Raises:
        Invalid: With the API's code (``video_file_broken``, ``video_duration_too_short`` ...).

    Example:
        >>> info = await probe_upload(store, upload)  # doctest: +SKIP
        >>> info.duration_s  # doctest: +SKIP
        12.0
    """
    try:
        info = await anyio.to_thread.run_sync(
            lambda: probe_media(upload.path, filename=upload.filename)
        )
        check_media(info, store.config.media, picture=picture)
    except Invalid:
        upload.discard()
        raise
    return info


@dataclass(frozen=True)
class Probed:
    """A medium read as one input type: a video or a sound (``info``), a picture, or a
    document; ``named`` is how task metadata names the input.

    Example:
        >>> Probed("image", {"input_filename": "a.png"}, 10).document is None
        True
    """

    kind: str
    named: dict[str, str]
    size_bytes: int
    info: MediaInfo | None = None
    picture: Picture | None = None
    document: Document | None = None


def probe_as(path: Path, filename: str, kind: str, named: dict[str, str]) -> Probed:
    """Read a file as ``kind`` (video, audio, image or document). Runs PyAV or reads the
    whole document: call it in a worker thread.

    Raises:
        Invalid: ``video_file_broken`` (or a document that is neither a PDF nor UTF-8
            text) when the file cannot be read as that kind.

    Example:
        >>> probe_as(Path("a.mp3"), "a.mp3", "audio", {}).info.duration_s  # doctest: +SKIP
        12.0
    """
    size = path.stat().st_size
    try:
        if kind == "video":
            return Probed(kind, named, size, info=probe_media(path, filename=filename))
        if kind == "audio":
            return Probed(kind, named, size, info=probe_audio(path, filename=filename))
        if kind == "image":
            return Probed(kind, named, size, picture=probe_picture(path, filename=filename))
    except MediaError as exc:
        raise Invalid(
            None, f"The {kind} file {filename!r} cannot be read: {exc}", code=exc.code
        ) from exc
    document = read_document(path, filename=filename)
    if document.format == "text" and "\ufffd" in document.text[:4096]:
        raise Invalid(None, f"The document {filename!r} is neither a PDF nor UTF-8 text.")
    return Probed(kind, named, size, document=document)
