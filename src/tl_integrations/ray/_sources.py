"""Media sources as rows name them: local or shared paths, URLs, object-store URIs, video ids.

A row's source is a string:

- a path on storage the worker can read (a local disk, NFS, a mounted bucket);
- an ``http(s)://`` URL of the raw media, which the API fetches itself (never downloaded
  here; remembered by the SHA-256 of the URL, since a signed URL carries credentials);
- an object-store URI that ``pyarrow.fs`` opens (``s3://``, ``gs://``, ``abfs://``,
  ``hdfs://``, ``file://``): copied to the worker's scratch directory, hashed on the way,
  uploaded, and deleted when the batch is done;
- ``video:<id>``: a video already in the index.

:func:`staged` gives a :class:`Media` for one source: what to send, and the content key
(``user_metadata`` pair) that finds it again in the index on any worker and any run.

Example:
    >>> media = Media("video:65f0a1", "video", video_id="65f0a1")
    >>> media.key is None, media.kind
    (True, 'video')
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .._errors import InvalidVideoError
from .._ingest import HASH_KEY, URL_HASH_KEY, display_source, resolve_inputs, sha256_file, url_key
from .._ingest.inputs import upload_limit

__all__ = ["Media", "is_object_uri", "staged"]

_COPY_BLOCK_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Media:
    """One source, ready to look up and send.

    Attributes:
        source: the row's source, as given.
        kind: ``"file"`` (a local file, maybe a staged copy), ``"url"`` or ``"video"``.
        path: the local file to upload, for ``"file"``.
        url: the URL the API fetches, for ``"url"``.
        video_id: the existing video, for ``"video"``.
        digest: the hex SHA-256 of the file's bytes, or of the URL's text.

    Example:
        >>> Media("a.mp4", "file", path=Path("a.mp4"), digest="ab12").key
        ('tl_sha256', 'ab12')
    """

    source: str
    kind: Literal["file", "url", "video"]
    path: Path | None = None
    url: str | None = None
    video_id: str | None = None
    digest: str | None = None

    @property
    def key(self) -> tuple[str, str] | None:
        """The ``user_metadata`` pair a video of this content carries (None for a video id)."""
        if self.digest is None:
            return None
        return (HASH_KEY if self.kind == "file" else URL_HASH_KEY, self.digest)


def is_object_uri(source: str) -> bool:
    """True for a URI ``pyarrow.fs`` opens (``s3://``, ``gs://``, ``file://``...), not http.

    Example:
        >>> is_object_uri("s3://bucket/a.mp4"), is_object_uri("https://x/a.mp4")
        (True, False)
        >>> is_object_uri("video:65f0a1"), is_object_uri("clips/a.mp4")
        (False, False)
    """
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    return "://" in source and scheme not in ("http", "https") and len(scheme) > 1


@contextlib.contextmanager
def staged(
    source: str, *, scratch_dir: str | Path | None = None, max_bytes: int = upload_limit("assets")
) -> Iterator[Media]:
    """The :class:`Media` of one source; an object-store copy is deleted on exit.

    ``max_bytes`` is the largest file the upload path takes (:func:`upload_limit`: 10 GB as
    an asset, 2 GB through ``/tasks``); a larger one is refused before it is copied or sent.

    Raises:
        InvalidVideoError / InvalidRequestError: the source cannot be used (missing, empty,
            too large, of no accepted form), before anything is sent.

    Example:
        >>> with staged("https://cdn.example.com/a.mp4") as media:
        ...     media.kind, media.key[0]
        ('url', 'tl_url_sha256')
    """
    if is_object_uri(source):
        with _copied(source, scratch_dir, max_bytes) as media:
            yield media
        return
    resolved = resolve_inputs([source], max_bytes=max_bytes)[0]
    if resolved.kind == "file":
        assert resolved.path is not None
        yield Media(source, "file", path=resolved.path, digest=sha256_file(resolved.path))
    elif resolved.kind == "url":
        assert resolved.url is not None
        yield Media(source, "url", url=resolved.url, digest=url_key(resolved.url))
    else:
        yield Media(source, "video", video_id=resolved.video_id)


@contextlib.contextmanager
def _copied(uri: str, scratch_dir: str | Path | None, max_bytes: int) -> Iterator[Media]:
    from pyarrow import fs

    shown = display_source(uri)
    try:
        filesystem, path = fs.FileSystem.from_uri(uri)
        info = filesystem.get_file_info(path)
    except (OSError, ValueError) as exc:
        raise InvalidVideoError(f"cannot open {shown!r}: {exc}", path=shown) from exc
    if info.type != fs.FileType.File:
        raise InvalidVideoError(f"{shown!r} is not a file in its store", path=shown)
    if info.size is not None and info.size > max_bytes:
        raise InvalidVideoError(
            f"{shown!r} is {info.size} bytes, over the {max_bytes // 1024**3} GB upload limit",
            path=shown,
        )
    folder = Path(tempfile.mkdtemp(prefix="tl-ray-", dir=scratch_dir))
    try:
        # The server records the file name: keep the object's own.
        local = folder / (Path(path).name or "media")
        digest = hashlib.sha256()
        with filesystem.open_input_stream(path) as stream, local.open("wb") as out:
            while block := stream.read(_COPY_BLOCK_BYTES):
                digest.update(block)
                out.write(block)
        try:
            checked = resolve_inputs([str(local)], max_bytes=max_bytes)[
                0
            ]  # empty, unreadable...: the usual checks
        except InvalidVideoError as exc:
            raise InvalidVideoError(str(exc).replace(str(local), shown), path=shown) from None
        yield Media(uri, "file", path=checked.path, digest=digest.hexdigest())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
