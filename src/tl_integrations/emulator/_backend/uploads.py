"""Multipart upload sessions: a large file sent in chunks to presigned URLs, then reported.

A session reserves an asset, picks the chunk size and hands out single-use URLs that expire
after an hour. Each chunk is streamed straight into one sparse file at its offset (memory
stays flat whatever the file size) and answered with the MD5 of its bytes as ``ETag``.
Reporting a chunk with that ETag as proof completes it; once every chunk is reported the
session is ``completed`` and the asset goes on to processing.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import metadata
from .assets import MAX_FILENAME, Assets
from .errors import Conflict, Forbidden, Invalid, invalid, missing
from .formats import FileKind, check_filename, mime_of, safe_extension
from .lifecycle import upload_status
from .queries import Page, PageRequest, Sort, paginate
from .records import ChunkRec, GrantRec, UploadRec
from .store import Store, lookup

__all__ = [
    "MAX_URLS_PER_REQUEST",
    "ChunkView",
    "Grant",
    "ReportResult",
    "SessionView",
    "Uploads",
]

MAX_URLS_PER_REQUEST = 50
UPLOAD_TYPES = ("video", "audio", "image")
_DEFAULT_EXTENSION = {"video": ".mp4", "audio": ".mp3", "image": ".jpg"}
_DEFAULT_MIME = {"video": "video/mp4", "audio": "audio/mpeg", "image": "image/jpeg"}


@dataclass(frozen=True)
class Grant:
    """A presigned URL for one chunk: the route turns it into an address.

    Example:
        >>> Grant(1, "sig", 0.0, 3600.0).chunk_index
        1
    """

    chunk_index: int
    signature: str
    issued_at: float
    expires_at: float


@dataclass(frozen=True)
class ReportResult:
    """The answer to a report: counts, and whether the upload is now complete.

    Example:
        >>> ReportResult("a", 2, 0, 2, complete=False).duplicates
        0
    """

    asset_id: str
    processed: int
    duplicates: int
    total_completed: int
    complete: bool


@dataclass(frozen=True)
class ChunkView:
    """One chunk's state: ``completed`` (reported), ``pending`` or ``failed`` (re-upload).

    Example:
        >>> ChunkView(1, "pending", None, None, None).status
        'pending'
    """

    index: int
    status: str
    uploaded_at: float | None
    updated_at: float | None
    error: str | None


@dataclass(frozen=True)
class SessionView:
    """A session with its status and counters now.

    Example:
        >>> SessionView(rec, "active", 0, 0, 3, 0).pending  # doctest: +SKIP
        3
    """

    rec: UploadRec
    status: str
    completed: int
    failed: int
    pending: int
    uploaded_size: int


def _int(value: Any, field: str, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, f"must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise invalid(field, f"must be {bounds}, got {value}")
    return value


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid(field, f"must be true or false, got {value!r}")
    return value


def _chunk_view(index: int, chunk: ChunkRec | None) -> ChunkView:
    if chunk is None:
        return ChunkView(index, "pending", None, None, None)
    if chunk.reported_at is not None:
        return ChunkView(index, "completed", chunk.reported_at, chunk.updated_at, None)
    if chunk.error is not None:
        return ChunkView(index, "failed", None, chunk.updated_at, chunk.error)
    return ChunkView(index, "pending", None, chunk.updated_at, None)


class Uploads:
    """The multipart upload sessions of one emulator.

    Example:
        >>> rec, grants = uploads.create(filename="big.mp4", type="video",
        ...                              total_size=30 << 20, enable_hls=None,
        ...                              enable_thumbnail=None, user_metadata=None)
        ... # doctest: +SKIP
        >>> rec.total_chunks, len(grants)  # doctest: +SKIP
        (4, 4)
    """

    def __init__(self, store: Store, assets: Assets) -> None:
        self.store = store
        self.assets = assets
        self._writing: set[tuple[str, int]] = set()

    # ------------------------------------------------------------------ sessions

    def create(
        self,
        *,
        filename: Any,
        type: Any,
        total_size: Any,
        enable_hls: Any,
        enable_thumbnail: Any,
        user_metadata: Any,
    ) -> tuple[UploadRec, list[Grant]]:
        """Open a session: reserve the asset, pick the chunk size, hand out the first URLs.

        Raises:
            Invalid: For a missing or bad field, or a file over the size limit.
        """
        if not isinstance(filename, str) or not filename.strip():
            raise missing("filename")
        name = check_filename(os.path.basename(filename.strip()))
        if len(name) > MAX_FILENAME:
            raise invalid("filename", f"must be at most {MAX_FILENAME} characters")
        if type not in UPLOAD_TYPES:
            raise invalid("type", f"must be one of {list(UPLOAD_TYPES)}, got {type!r}")
        size = _int(total_size, "total_size", low=1)
        limits = self.store.config.uploads
        limit = limits.image_bytes if type == "image" else limits.multipart_bytes
        if size > limit:
            raise Invalid(
                "total_size",
                f"The {type} file {name!r} is {size} bytes; multipart uploads of {type} files "
                f"take at most {limit} bytes.",
                code="video_filesize_too_large",
            )
        hls, thumbnail = (
            _flag(enable_hls, "enable_hls"),
            _flag(enable_thumbnail, "enable_thumbnail"),
        )
        meta = metadata.without_empty(metadata.checked(user_metadata or {}))
        ext = safe_extension(name, _DEFAULT_EXTENSION[type])
        kind = FileKind(type, mime_of(ext, _DEFAULT_MIME[type]), ext)
        store = self.store
        with store.lock:
            upload_id = store.new_id()
            asset = self.assets.reserve(
                filename=name,
                kind=kind,
                upload_id=upload_id,
                enable_hls=hls,
                enable_thumbnail=thumbnail,
                user_metadata=meta,
            )
            chunk_size = limits.chunk_size_for(size)
            part = store.persistence.parts_dir / f"{upload_id}.part"
            with part.open("wb") as handle:
                handle.truncate(size)  # sparse: disk is used only where chunks land
            now = store.now()
            rec = UploadRec(
                id=upload_id,
                asset_id=asset.id,
                filename=name,
                kind=type,
                total_size=size,
                chunk_size=chunk_size,
                total_chunks=-(-size // chunk_size),
                created_at=now,
                expires_at=now + limits.session_ttl_s,
                part_path=store.persistence.relative(part),
                updated_at=now,
            )
            store.records.uploads[upload_id] = rec
            grants = self._grant(rec, range(1, min(rec.total_chunks, limits.initial_urls) + 1))
            store.save()
        return rec, grants

    def _part(self, rec: UploadRec) -> Path:
        """The file a session's chunks go into (named by its id, never by a record's path);
        a session without one is refused rather than left unable to complete."""
        path = self.store.persistence.part_file(rec.id)
        if path is None:
            raise Invalid(
                None,
                f"The upload session {rec.id!r} has no file to write into.",
                code="upload_session_broken",
            )
        return path

    def _session(self, upload_id: str) -> UploadRec:
        return lookup(self.store.records.uploads, upload_id, "upload session")

    def _grant(self, rec: UploadRec, indices: range) -> list[Grant]:
        """New single-use URLs for ``indices`` (forgetting grants long expired)."""
        now, ttl = self.store.now(), self.store.config.uploads.url_ttl_s
        rec.grants = {s: g for s, g in rec.grants.items() if g.expires_at + ttl > now}
        grants = []
        for index in indices:
            signature = secrets.token_urlsafe(24)
            rec.grants[signature] = GrantRec(index, now + ttl)
            grants.append(Grant(index, signature, now, now + ttl))
        return grants

    def _require_active(self, rec: UploadRec) -> None:
        status = upload_status(rec, now_s=self.store.now())
        if status != "active":
            raise Invalid(
                None,
                f"The upload session {rec.id!r} is {status}; it takes no more chunks.",
                code=f"upload_session_{status}",
            )

    def grant(self, upload_id: str, *, start: Any, count: Any) -> tuple[UploadRec, list[Grant]]:
        """Fresh URLs for chunks ``start`` .. ``start + count - 1`` (at most 50, within the
        file).

        Raises:
            NotFound: When there is no such session.
            Invalid: For a bad range, or a session that is completed or expired.
        """
        with self.store.lock:
            rec = self._session(upload_id)
            first = _int(start, "start", low=1, high=rec.total_chunks)
            many = _int(count, "count", low=1, high=MAX_URLS_PER_REQUEST)
            self._require_active(rec)
            last = min(rec.total_chunks, first + many - 1)
            grants = self._grant(rec, range(first, last + 1))
            rec.updated_at = self.store.now()
            self.store.save()
            return rec, grants

    # ------------------------------------------------------------------ chunks

    def _claim(
        self, upload_id: str, chunk_index: int, signature: str, length: int | None
    ) -> tuple[UploadRec, ChunkRec, int]:
        """Check and spend the URL of one chunk PUT (under the lock)."""
        rec = self._session(upload_id)
        now = self.store.now()
        grant = rec.grants.get(signature)
        if grant is None or grant.chunk_index != chunk_index:
            raise Forbidden(
                f"The URL is not valid for chunk {chunk_index} of upload {upload_id!r}.",
                code="upload_url_invalid",
            )
        if grant.used_at is not None:
            raise Forbidden(
                f"The URL of chunk {chunk_index} was already used; presigned URLs are single "
                "use: request a fresh one (POST .../presigned-urls).",
                code="upload_url_used",
            )
        if now > grant.expires_at:
            raise Forbidden(
                f"The URL of chunk {chunk_index} has expired; request a fresh one "
                "(POST .../presigned-urls).",
                code="upload_url_expired",
            )
        self._require_active(rec)
        chunk = rec.chunks.get(chunk_index)
        if chunk is not None and chunk.reported_at is not None:
            raise Conflict(
                f"Chunk {chunk_index} of upload {upload_id!r} is already reported as complete.",
                code="chunk_already_completed",
            )
        if (upload_id, chunk_index) in self._writing:
            raise Conflict(
                f"Chunk {chunk_index} of upload {upload_id!r} is being uploaded right now.",
                code="chunk_upload_in_progress",
            )
        expected = rec.expected_size(chunk_index)
        if length is not None and length != expected:
            raise Invalid(
                "Content-Length",
                f"Chunk {chunk_index} must be {expected} bytes; the request declares {length}.",
                code="chunk_size_mismatch",
            )
        grant.used_at = now
        chunk = ChunkRec(updated_at=now)  # a new upload replaces whatever was there
        rec.chunks[chunk_index] = chunk
        rec.updated_at = now
        self.store.save()
        return rec, chunk, expected

    async def write(
        self,
        upload_id: str,
        chunk_index: int,
        signature: str,
        body: AsyncIterator[bytes],
        *,
        length: int | None,
    ) -> tuple[str, int]:
        """Store the bytes of one chunk PUT; returns (ETag without quotes, size).

        The URL is spent as soon as the request is accepted, also when its bytes do not
        all arrive (as with a single-use URL).

        Raises:
            NotFound: When there is no such session.
            Forbidden: For a URL that is forged, used or expired.
            Conflict: For a chunk already reported, or being uploaded by another request.
            Invalid: When the chunk's size is not the one the session expects.
        """
        with self.store.lock:
            rec, chunk, expected = self._claim(upload_id, chunk_index, signature, length)
            self._writing.add((upload_id, chunk_index))
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            with self._part(rec).open("r+b") as out:
                out.seek((chunk_index - 1) * rec.chunk_size)
                async for piece in body:
                    size += len(piece)
                    if size > expected:
                        break
                    out.write(piece)
                    digest.update(piece)
            if size != expected:
                raise Invalid(
                    None,
                    f"Chunk {chunk_index} must be {expected} bytes; "
                    f"{'more' if size > expected else size} arrived.",
                    code="chunk_size_mismatch",
                )
        except BaseException as exc:
            self._settle(chunk, error=f"The chunk upload broke off: {exc!r}"[:300])
            raise
        finally:
            self._writing.discard((upload_id, chunk_index))
        etag = digest.hexdigest()
        self._settle(chunk, etag=etag, size=size)
        return etag, size

    def _settle(
        self, chunk: ChunkRec, *, etag: str | None = None, size: int = 0, error: str | None = None
    ) -> None:
        with self.store.lock:
            now = self.store.now()
            chunk.etag, chunk.size, chunk.error, chunk.updated_at = etag, size, error, now
            chunk.stored_at = now if etag else None
            self.store.save()

    # ------------------------------------------------------------------ reports

    async def report(self, upload_id: str, completed_chunks: Any) -> ReportResult:
        """Record uploaded chunks (any order; duplicates counted, not repeated); the report
        that completes the file hands the asset over to processing.

        Raises:
            NotFound: When there is no such session.
            Invalid: For a malformed report, a chunk not uploaded, a proof that is not the
                chunk's ETag or a size that is not the chunk's (nothing of the report is
                kept then), or an expired session.
        """
        items = _report_items(completed_chunks)
        store = self.store
        with store.lock:
            rec = self._session(upload_id)
            if rec.completed_at is None:
                self._require_active(rec)
            for n, (index, proof, size) in enumerate(items):
                self._check_proof(rec, n, index, proof, size)
            seen: set[int] = set()
            processed = duplicates = 0
            now = store.now()
            for index, _, _ in items:
                chunk = rec.chunks[index]
                if index in seen or chunk.reported_at is not None:
                    duplicates += 1
                    continue
                seen.add(index)
                chunk.reported_at = chunk.updated_at = now
                processed += 1
            done = sum(1 for c in rec.chunks.values() if c.reported_at is not None)
            finishing = done == rec.total_chunks and rec.completed_at is None
            if finishing:
                rec.completed_at = now
            rec.updated_at = now
            store.save()
        if finishing:
            await self.assets.complete(rec.asset_id, self._part(rec))
        complete = rec.completed_at is not None
        return ReportResult(rec.asset_id, processed, duplicates, done, complete)

    def _check_proof(self, rec: UploadRec, n: int, index: int, proof: str, size: int) -> None:
        field = f"completed_chunks[{n}]"
        if not 1 <= index <= rec.total_chunks:
            raise invalid(
                f"{field}.chunk_index", f"must be between 1 and {rec.total_chunks}, got {index}"
            )
        chunk = rec.chunks.get(index)
        if chunk is None or chunk.etag is None:
            raise Invalid(
                field,
                f"Chunk {index} has not been uploaded (or its upload broke off); upload it "
                "before reporting it.",
                code="chunk_not_uploaded",
            )
        if proof.strip().strip('"') != chunk.etag:
            raise Invalid(
                f"{field}.proof",
                f"The proof of chunk {index} is not the ETag its upload returned.",
                code="chunk_proof_mismatch",
            )
        if size != chunk.size:
            raise Invalid(
                f"{field}.chunk_size",
                f"Chunk {index} holds {chunk.size} bytes; the report says {size}.",
                code="chunk_size_mismatch",
            )

    # ------------------------------------------------------------------ reading

    def view(self, rec: UploadRec) -> SessionView:
        """A session's status and counters now."""
        views = [_chunk_view(n, c) for n, c in rec.chunks.items()]
        completed = sum(v.status == "completed" for v in views)
        failed = sum(v.status == "failed" for v in views)
        stored = sum(c.size for c in rec.chunks.values() if c.etag is not None)
        status = upload_status(rec, now_s=self.store.now())
        pending = rec.total_chunks - completed - failed
        return SessionView(rec, status, completed, failed, pending, stored)

    def status(self, upload_id: str, page: PageRequest) -> tuple[SessionView, Page[ChunkView]]:
        """A session with one page of its chunks (every chunk, reported or not, in order).

        Raises:
            NotFound: When there is no such session.
        """
        with self.store.lock:
            rec = self._session(upload_id)
            numbers = range(1, rec.total_chunks + 1)
            found = paginate(numbers, page)
            chunks = [_chunk_view(n, rec.chunks.get(n)) for n in found.items]
            return self.view(rec), Page(chunks, found.page, found.limit, found.total)

    def incomplete(self, page: PageRequest) -> Page[SessionView]:
        """Sessions not completed (active or expired), newest first."""
        with self.store.lock:
            open_ = [r for r in self.store.records.uploads.values() if r.completed_at is None]
            newest = Sort().apply(open_, {"created_at": lambda r: r.created_at})
            found = paginate(newest, page)
            views = [self.view(r) for r in found.items]
            return Page(views, found.page, found.limit, found.total)


def _report_items(completed_chunks: Any) -> list[tuple[int, str, int]]:
    if not isinstance(completed_chunks, list) or not completed_chunks:
        raise missing("completed_chunks")
    items = []
    for n, item in enumerate(completed_chunks):
        field = f"completed_chunks[{n}]"
        if not isinstance(item, dict):
            raise invalid(field, "must be an object")
        index = _int(item.get("chunk_index"), f"{field}.chunk_index", low=1)
        proof = item.get("proof")
        if not isinstance(proof, str) or not proof.strip():
            raise missing(f"{field}.proof")
        if item.get("proof_type") != "etag":
            raise invalid(f"{field}.proof_type", f"must be 'etag', got {item.get('proof_type')!r}")
        size = _int(item.get("chunk_size"), f"{field}.chunk_size", low=0)
        items.append((index, proof, size))
    return items
