"""Assets: uploaded files (video, audio, image, document) that other endpoints use by id.

An asset is always ``processing`` first: its bytes are received (a direct upload, a URL, or
a multipart session), checked, and after a processing time it is ``ready`` or ``failed``.
Whether it will fail is known once the bytes are in (a file PyAV cannot read fails); the
clock decides when that shows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from .._config import UploadLimits
from .._media import (
    MediaError,
    MediaInfo,
    check_image_pixels,
    probe,
    probe_audio,
    probe_streams,
)
from . import metadata
from .errors import Conflict, Invalid, NotFound, check_among, invalid, missing
from .formats import (
    FileKind,
    check_filename,
    detect,
    document_facts,
    mime_of,
    safe_extension,
    technical_metadata,
)
from .ingest import AssetRef, LocalFile, RemoteUrl, Upload, discard, receive
from .lifecycle import asset_status, plan_asset_s, task_rng
from .queries import Page, PageRequest, Sort, paginate
from .records import AssetRec, UploadRec
from .store import Store, lookup
from .transcripts import SEGMENTATIONS, Span, segment

__all__ = [
    "ASSET_TYPES",
    "AssetFilter",
    "AssetView",
    "Assets",
    "Inspection",
    "TranscriptView",
    "inspect_file",
]

ASSET_TYPES = ("image", "video", "audio", "document")
MAX_FILENAME = 255


@dataclass(frozen=True)
class AssetView:
    """An asset with its status now (and since when).

    Example:
        >>> AssetView(rec, "ready", 12.0).status  # doctest: +SKIP
        'ready'
    """

    rec: AssetRec
    status: str
    status_at: float

    @property
    def streamable(self) -> bool:
        """Whether HLS applies (video or audio with HLS enabled)."""
        return self.rec.enable_hls and self.rec.kind in ("video", "audio")

    @property
    def has_thumbnail(self) -> bool:
        """Whether a thumbnail applies: thumbnails on, and a picture to draw it from (a
        video, an image or a PDF; not sound or plain text)."""
        rec = self.rec
        pictured = rec.kind in ("video", "image") or rec.file_type == "application/pdf"
        return rec.enable_thumbnail and pictured


@dataclass(frozen=True)
class AssetFilter:
    """The filters of ``GET /assets``: any of the ids, any of the types, a name part.

    Example:
        >>> AssetFilter(filename="Beach").matches(rec)  # doctest: +SKIP
        True
    """

    asset_ids: tuple[str, ...] = ()
    asset_types: tuple[str, ...] = ()
    filename: str | None = None

    def matches(self, rec: AssetRec) -> bool:
        """Whether an asset passes every filter (the name part ignores case)."""
        if self.asset_ids and rec.id not in self.asset_ids:
            return False
        if self.asset_types and rec.kind not in self.asset_types:
            return False
        return not (self.filename and self.filename.lower() not in rec.filename.lower())


@dataclass(frozen=True)
class TranscriptView:
    """An asset's transcription: its status and the segmentations asked for, once ready.

    Example:
        >>> TranscriptView("processing", {}, None).segmentations
        {}
    """

    status: str
    segmentations: dict[str, list[Span]] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Inspection:
    """What checking a received file found: media information, technical metadata, the
    thumbnail colour, and the error that fails the asset (if any).

    Example:
        >>> Inspection(None, {}, None, "broken").error
        'broken'
    """

    info: MediaInfo | None
    technical: dict[str, Any]
    thumbnail_rgb: list[int] | None
    error: str | None = None


def _middle_colour(info: MediaInfo) -> list[int] | None:
    if not len(info.colours):
        return None
    mean = info.colours[len(info.colours) // 2] * 255.0
    return [round(float(c)) for c in mean]


def inspect_file(path: Path, filename: str, kind: FileKind) -> Inspection:
    """Check a received file of a known kind; an unreadable file gives an error, not an
    exception (the asset then fails). Runs PyAV: call it in a worker thread.

    Example:
        >>> inspect_file(Path("a.txt"), "a.txt", FileKind("document", "text/plain", ".txt"))
        ... # doctest: +SKIP
    """
    size = path.stat().st_size
    if kind.kind == "document":
        technical = technical_metadata(size, kind, None) | document_facts(path, kind)
        white = [255, 255, 255] if kind.extension == ".pdf" else None
        return Inspection(None, technical, white)
    try:
        facts = probe_streams(path, filename=filename)
        if kind.kind == "video":
            info = probe(path, filename=filename)
            return Inspection(info, technical_metadata(size, kind, facts), _middle_colour(info))
        if kind.kind == "audio":
            if not facts.audio or not facts.duration_s > 0:
                raise MediaError(f"{filename}: the file has no audio stream")
            info = probe_audio(path, filename=filename)  # its sound, for embeddings
            return Inspection(info, technical_metadata(size, kind, facts), None)
        if not facts.video:
            raise MediaError(f"{filename}: the file has no picture")
        rgb = list(facts.picture_rgb) if facts.picture_rgb else None
        return Inspection(None, technical_metadata(size, kind, facts), rgb)
    except MediaError as exc:
        message = f"The {kind.kind} file {filename!r} cannot be read: {exc}"
        return Inspection(None, technical_metadata(size, kind, None), None, message)


def _check_pixels(path: Path, name: str, field: str) -> None:
    """Refuse (400) an image whose header declares too many pixels, before decoding it."""
    try:
        check_image_pixels(path, name)
    except MediaError as exc:
        raise Invalid(field, f"The image {name!r} is too large: {exc}", code=exc.code) from exc


def _size_limit(limits: UploadLimits, kind: str, method: str) -> int:
    if kind == "image":
        return limits.image_bytes
    if method == "direct":
        return limits.direct_bytes
    return limits.url_document_bytes if kind == "document" else limits.url_bytes


def _filename(given: str | None, upload: Upload) -> str:
    name = os.path.basename((given or "").strip()) or upload.filename or "asset"
    check_filename(name)
    if len(name) > MAX_FILENAME:
        raise invalid("filename", f"must be at most {MAX_FILENAME} characters, got {len(name)}")
    return name


class Assets:
    """The assets of one emulator.

    Example:
        >>> view = await assets.create(method="url", source=RemoteUrl("file:///tmp/a.mp4"),
        ...                            filename=None, enable_hls=True, enable_thumbnail=True,
        ...                            user_metadata={})  # doctest: +SKIP
        >>> view.status  # doctest: +SKIP
        'processing'
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ creating

    async def create(
        self,
        *,
        method: str | None,
        source: LocalFile | RemoteUrl | None,
        filename: str | None,
        enable_hls: bool,
        enable_thumbnail: bool,
        user_metadata: dict[str, Any],
    ) -> AssetView:
        """Receive a direct upload or a URL, check its kind and size, then start processing.

        Raises:
            Invalid: For a bad method, a missing file or URL, an unsupported format, a
                document that is not what its name says, or a file over the size limit.
        """
        if source is None or not _method_fits(method, source):
            if source is not None:
                discard(source)
            raise _method_error(method)
        assert method is not None
        limits = self.store.config.uploads
        upload = await receive(self.store, source, max_bytes=limits.url_bytes)
        try:
            name = _filename(filename, upload)
            kind = detect(upload.path, name, field="file" if method == "direct" else "url")
            size = upload.path.stat().st_size
            limit = _size_limit(limits, kind.kind, method)
            if size > limit:
                raise Invalid(
                    "file" if method == "direct" else "url",
                    f"The {kind.kind} file {name!r} is {size} bytes; the limit for {method} "
                    f"uploads is {limit} bytes.",
                    code="video_filesize_too_large",
                )
            if kind.kind == "image":
                _check_pixels(upload.path, name, "file" if method == "direct" else "url")
            found = await anyio.to_thread.run_sync(lambda: inspect_file(upload.path, name, kind))
        except BaseException:
            upload.discard()
            raise
        with self.store.lock:
            rec = self._new(
                method=method,
                filename=name,
                kind=kind,
                enable_hls=enable_hls,
                enable_thumbnail=enable_thumbnail,
                user_metadata=metadata.without_empty(user_metadata),
            )
            self._settle(rec, upload.path, kind, found, started_at=rec.created_at)
            return self.view(rec)

    def _new(
        self,
        *,
        method: str,
        filename: str,
        kind: FileKind,
        enable_hls: bool,
        enable_thumbnail: bool,
        user_metadata: dict[str, Any],
        asset_id: str | None = None,
        upload_id: str | None = None,
    ) -> AssetRec:
        store = self.store
        rec = AssetRec(
            id=asset_id or store.new_id(),
            method=method,
            kind=kind.kind,
            filename=filename,
            file_type=kind.mime,
            created_at=store.now(),
            user_metadata=user_metadata,
            enable_hls=enable_hls,
            enable_thumbnail=enable_thumbnail,
            upload_id=upload_id,
        )
        store.records.assets[rec.id] = rec
        store.save()
        return rec

    def _settle(
        self, rec: AssetRec, path: Path, kind: FileKind, found: Inspection, *, started_at: float
    ) -> None:
        """Keep the file under the asset's id and fix its outcome; processing starts now."""
        store = self.store
        size = path.stat().st_size
        if found.error is None:
            media = store.persistence.store_media(path, owner_id=rec.id, extension=kind.extension)
            rec.media_path = store.persistence.relative(media)
        else:
            path.unlink(missing_ok=True)
        duration = found.info.duration_s if found.info is not None else 0.0
        rec.size_bytes = size
        rec.info = found.info
        rec.technical = found.technical
        rec.thumbnail_rgb = found.thumbnail_rgb
        rec.error = found.error
        rec.processing_s = plan_asset_s(
            store.config.stages,
            media_duration_s=duration,
            speed=store.config.speed,
            rng=task_rng(seed=store.config.seed, task_id=rec.id),
        )
        rec.ready_from = started_at
        store.save()

    def reserve(
        self,
        *,
        filename: str,
        kind: FileKind,
        upload_id: str,
        enable_hls: bool,
        enable_thumbnail: bool,
        user_metadata: dict[str, Any],
    ) -> AssetRec:
        """An asset for a multipart upload: ``processing`` until :meth:`complete`."""
        with self.store.lock:
            return self._new(
                method="multipart",
                filename=filename,
                kind=kind,
                enable_hls=enable_hls,
                enable_thumbnail=enable_thumbnail,
                user_metadata=user_metadata,
                upload_id=upload_id,
            )

    async def complete(self, asset_id: str, part: Path) -> None:
        """Take the assembled file of a finished multipart upload and start processing."""
        await anyio.to_thread.run_sync(lambda: self.complete_now(asset_id, part))

    def complete_now(self, asset_id: str, part: Path) -> None:
        """:meth:`complete` in the caller's thread (also used at start, for an upload whose
        last report came just before the emulator was killed)."""
        with self.store.lock:
            rec = self.store.records.assets.get(asset_id)
        if rec is None:  # deleted while its upload ran
            part.unlink(missing_ok=True)
            return
        kind = detect_stored(rec)
        started = self.store.now()
        found = inspect_file(part, rec.filename, kind)
        with self.store.lock:
            settled = self.store.records.assets.get(asset_id) is rec
            if settled:
                self._settle(rec, part, kind, found, started_at=started)
        if not settled:
            part.unlink(missing_ok=True)

    def adopt(
        self, upload: Upload, *, asset_id: str, info: MediaInfo | None, error: str | None
    ) -> AssetRec:
        """The asset behind a legacy ``/tasks`` upload: ready at once (the task already
        received and probed the file), so that analysis can name it by ``asset_id``."""
        name = upload.filename or "video"
        ext = safe_extension(name, ".mp4")
        kind = FileKind("video", mime_of(ext), ext)
        with self.store.lock:
            rec = self._new(
                method="url" if upload.input_url else "direct",
                filename=name,
                kind=kind,
                enable_hls=True,
                enable_thumbnail=True,
                user_metadata={},
                asset_id=asset_id,
            )
            size = upload.path.stat().st_size if upload.path.exists() else 0
            if info is not None:
                media = self.store.persistence.store_media(
                    upload.path, owner_id=rec.id, extension=ext
                )
                rec.media_path = self.store.persistence.relative(media)
                rec.thumbnail_rgb = _middle_colour(info)
            rec.size_bytes = info.size_bytes if info is not None else size
            rec.info = info
            rec.technical = technical_metadata(rec.size_bytes, kind, None)
            rec.error = error
            rec.ready_from = rec.created_at
            self.store.save()
            return rec

    # ------------------------------------------------------------------ reading

    def _upload_of(self, rec: AssetRec) -> UploadRec | None:
        return self.store.records.uploads.get(rec.upload_id) if rec.upload_id else None

    def view(self, rec: AssetRec) -> AssetView:
        """The asset's status now."""
        status, at = asset_status(rec, now_s=self.store.now(), upload=self._upload_of(rec))
        return AssetView(rec, status, at)

    def _asset(self, asset_id: str) -> AssetRec:
        return lookup(self.store.records.assets, asset_id, "asset")

    def get(self, asset_id: str) -> AssetView:
        """One asset.

        Raises:
            NotFound: When there is no such asset.
        """
        with self.store.lock:
            return self.view(self._asset(asset_id))

    def list(self, flt: AssetFilter, page: PageRequest) -> Page[AssetView]:
        """Filtered assets, newest first (later uploads first among equal times), paged.

        Raises:
            Invalid: For an unknown asset type.
        """
        check_among("asset_types", flt.asset_types, ASSET_TYPES)
        with self.store.lock:
            recs = [r for r in self.store.records.assets.values() if flt.matches(r)]
            newest = Sort().apply(recs, {"created_at": lambda r: r.created_at})
            found = paginate(newest, page)
            return Page([self.view(r) for r in found.items], found.page, found.limit, found.total)

    def ready(self, ref: AssetRef) -> AssetRec:
        """An asset that other endpoints may use.

        Raises:
            NotFound: When there is no such asset.
            Invalid: When it is still processing, or failed.
        """
        view = self.view(self._asset(ref.asset_id))
        if view.status != "ready":
            raise Invalid(
                ref.field,
                f"The asset {ref.asset_id!r} is {view.status}; only ready assets can be used.",
            )
        return view.rec

    def transcription(self, asset_id: str, include: Sequence[str]) -> TranscriptView:
        """The asset's transcription in the segmentations asked for (default ``words``).

        Raises:
            NotFound: For an unknown asset, or one without sound (images, documents).
            Invalid: For an unknown segmentation.
        """
        wanted = list(dict.fromkeys(include)) or ["words"]
        check_among("include", wanted, SEGMENTATIONS)
        with self.store.lock:
            view = self.view(self._asset(asset_id))
        if view.rec.kind not in ("video", "audio"):
            raise NotFound("transcription of asset", asset_id)
        if view.status == "failed":
            return TranscriptView("failed", error=view.rec.error or "The asset failed.")
        if view.status != "ready":
            return TranscriptView("processing")
        return TranscriptView("ready", {w: segment(view.rec.info, w) for w in wanted})

    # ------------------------------------------------------------------ changing

    def update_metadata(self, asset_id: str, *, mode: str, user_metadata: Any = None) -> None:
        """Change user metadata: ``merge`` (PATCH), ``replace`` (PUT) or ``clear`` (DELETE).

        Raises:
            NotFound: When there is no such asset.
            Invalid: For a body without a valid ``user_metadata`` object.
        """
        if mode != "clear" and user_metadata is None:
            raise missing("user_metadata")
        update = metadata.checked(user_metadata) if mode != "clear" else {}
        with self.store.lock:
            rec = self._asset(asset_id)
            if mode == "merge":
                metadata.merge(rec.user_metadata, update, ignore_empty=True)
            else:
                metadata.replace(rec.user_metadata, update)
            self.store.save()

    def delete(self, asset_id: str, *, force: bool) -> None:
        """Delete an asset; refused while indexed assets use it, unless ``force``.

        Raises:
            NotFound: When there is no such asset.
            Conflict: ``asset_in_use`` when indexed assets refer to it and not ``force``.
        """
        store = self.store
        with store.lock:
            rec = self._asset(asset_id)
            users = [v.id for v in store.records.videos.values() if v.asset_id == asset_id]
            if users and not force:
                raise Conflict(
                    f"The asset {asset_id!r} is used by {len(users)} indexed asset(s) "
                    f"({', '.join(users[:5])}); delete them first or pass force=true.",
                    code="asset_in_use",
                )
            del store.records.assets[asset_id]
            store.release_media(rec.media_path)
            session = self._upload_of(rec)
            if session is not None:  # an upload into a deleted asset has nowhere to go
                del store.records.uploads[session.id]
                part = store.persistence.part_file(session.id)
                if part is not None:
                    part.unlink(missing_ok=True)
            store.save()


def detect_stored(rec: AssetRec) -> FileKind:
    """The kind of an asset whose type was declared (a multipart upload).

    Example:
        >>> detect_stored(AssetRec("a", "multipart", "video", "a.mov", "video/quicktime", 0.0))
        FileKind(kind='video', mime='video/quicktime', extension='.mov')
    """
    # The name is a record's (perhaps one an older emulator accepted): only a plain
    # extension may become part of the stored file's name.
    ext = safe_extension(rec.filename, {"image": ".jpg", "audio": ".mp3"}.get(rec.kind, ".mp4"))
    return FileKind(rec.kind, rec.file_type, ext)


def _method_fits(method: str | None, source: LocalFile | RemoteUrl) -> bool:
    return (method == "direct" and isinstance(source, LocalFile)) or (
        method == "url" and isinstance(source, RemoteUrl)
    )


def _method_error(method: str | None) -> Invalid:
    if not method:
        return missing("method")
    if method == "direct":
        return missing("file")
    if method == "url":
        return missing("url")
    return invalid("method", f"must be direct or url, got {method!r}")
