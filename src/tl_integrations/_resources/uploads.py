"""Multipart upload sessions (``/assets/multipart-uploads``): large files, in parallel, resumable.

A file over the direct-upload size goes up in chunks. The server chooses the chunk size and
hands out presigned, single-use URLs; each chunk is read straight from the source file at
its offset (:class:`~tl_integrations._uploads.FileSlice`: no temporary chunk files, never
more than a read buffer of it in memory) and PUT with the session's ``upload_headers``, at
most ``max_concurrency`` at a time. Each chunk's ETag is its proof; proofs are reported in
batches of at most 50 while the next chunks go up. A chunk whose PUT fails (or whose URL
expired) gets a fresh URL and is sent again with backoff.

**Resuming.** The server does not say which session belongs to which file, so a small
journal on this machine does: ``~/.cache/tl-integrations/uploads/<sha256>.json`` (the file's
content hash, and the server it went to) holds the session's id, its asset's id and the
ETags of the chunks already sent. The same call after a crash, a kill or Ctrl-C reads it,
asks the server which chunks it has, reports the journaled ones it has not seen yet, and
sends only the rest. A session the server no longer knows (expired after 24 h) is forgotten
and the upload starts over cleanly. The journal is deleted once the upload completes.

Example:
    >>> journal = UploadJournal(pathlib.Path("/tmp/tl-journal-example"))
    >>> journal.path_for("ab" * 32, "https://api.twelvelabs.io/v1.3").name[:8]
    'abababab'
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import pathlib
import tempfile
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._engine import Creation, Job, TaskKind, create
from .._errors import (
    APIConnectionError,
    MalformedResponseError,
    NotFoundError,
    ServerError,
    TwelveLabsError,
)
from .._flows import Call, Context, Flow, Next, Sleep, Spawn, TaskGroup
from .._transport import Reply, Request, path_segment, send, send_json
from .._uploads import FileSlice, MediaType
from .._wire import as_object, opt_int, opt_list, opt_obj, opt_str, req_str

__all__ = [
    "UPLOAD_SESSIONS",
    "UploadJournal",
    "UploadSession",
    "multipart_upload",
]

logger = logging.getLogger("tl_integrations")

REPORT_BATCH = 50
"""Chunks per report and per request for fresh URLs (the API's maximum)."""


def chunk_retries(max_retries: int) -> int:
    """Retries of one chunk PUT, each with a fresh URL, under the client's ``max_retries``.

    One more than a single request gets: an upload is many PUTs, and a failed one costs one
    chunk, not the upload. ``max_retries=0`` still means no retrying.

    Example:
        >>> chunk_retries(3), chunk_retries(0)
        (4, 0)
    """
    return max_retries + 1 if max_retries > 0 else 0


OnProgress = Callable[[int, int], object]
"""``on_progress(bytes_done, total_bytes)``: called as chunks arrive."""


@dataclass(eq=False)
class UploadSession(Job):
    """A multipart upload session: ``active`` -> ``completed`` (or ``failed`` / ``expired``).

    Attributes:
        asset_id: the asset the session fills (usable once it is ready).
        chunk_size: bytes per chunk (the last may be shorter), chosen by the server.
        total_chunks: how many chunks the file is cut into.
        total_size: the file's size in bytes.
        completed_chunks: the 1-based indices of the chunks the server has (and knows).
        expires_at: when the session can no longer be resumed (RFC 3339).

    Example:
        >>> UploadSession("u1", "active", chunk_size=8, total_chunks=2).done
        False
    """

    asset_id: str | None = None
    chunk_size: int = 0
    total_chunks: int = 0
    total_size: int = 0
    completed_chunks: frozenset[int] = frozenset()
    expires_at: str | None = None

    @property
    def kind(self) -> UploadSessions:
        """The task kind of upload sessions."""
        return UPLOAD_SESSIONS


class UploadSessions(TaskKind[UploadSession]):
    """The task kind of multipart upload sessions (read one at a time).

    Example:
        >>> sorted(UPLOAD_SESSIONS.terminal)
        ['completed', 'expired', 'failed']
    """

    noun: ClassVar[str] = "upload session"
    ready: ClassVar[frozenset[str]] = frozenset({"completed"})
    failed: ClassVar[frozenset[str]] = frozenset({"failed", "expired"})
    pending: ClassVar[tuple[str, ...]] = ("active",)

    def retrieve(self, job_id: str) -> Request:
        """The session's first status page (its chunk list is paged)."""
        return Request("GET", session_path(job_id), params={"page": 1, "page_limit": 50})

    def parse(self, reply: Reply, *, like: UploadSession | None) -> UploadSession:
        """The session's status (one page of its chunks)."""
        return _session_status(reply.json(), like)

    def group(self, job: UploadSession) -> Hashable | None:
        """Sessions are read one by one."""
        return None


UPLOAD_SESSIONS = UploadSessions()


def session_path(upload_id: str) -> str:
    """``/assets/multipart-uploads/{upload_id}``.

    Example:
        >>> session_path("u1")
        '/assets/multipart-uploads/u1'
    """
    return f"/assets/multipart-uploads/{path_segment(upload_id, 'upload_id')}"


def _session_status(body: Any, like: UploadSession | None) -> UploadSession:
    obj = as_object(body, "upload session")
    what = "upload session"
    chunks = opt_list(obj, "uploaded_chunks", what) or []
    completed = {
        index
        for chunk in chunks
        if (entry := as_object(chunk, f"{what} chunk")).get("status") == "completed"
        and (index := opt_int(entry, "index", what, non_negative=True)) is not None
    }
    return UploadSession(
        id=req_str(obj, "upload_id", what),
        status=opt_str(obj, "status", what) or "active",
        asset_id=like.asset_id if like else None,
        chunk_size=like.chunk_size if like else 0,
        total_chunks=like.total_chunks if like else 0,
        total_size=opt_int(obj, "total_size", what, non_negative=True) or 0,
        completed_chunks=frozenset(completed),
        created_at=opt_str(obj, "created_at", what),
        updated_at=opt_str(obj, "updated_at", what),
        raw=obj,
    )


# --- the journal -------------------------------------------------------------------------


def default_journal_dir() -> pathlib.Path:
    """``$XDG_CACHE_HOME/tl-integrations/uploads`` (``~/.cache/...`` by default).

    Example:
        >>> default_journal_dir().parts[-2:]
        ('tl-integrations', 'uploads')
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(pathlib.Path.home() / ".cache")
    return pathlib.Path(base) / "tl-integrations" / "uploads"


class UploadJournal:
    """Which upload session this machine opened for which file, and what it sent.

    One JSON file per (content hash, server), written atomically (a temporary file renamed
    over it), so a crash never leaves half a journal. Thread-safe.

    Example:
        >>> import tempfile
        >>> journal = UploadJournal(pathlib.Path(tempfile.mkdtemp()))
        >>> journal.save("ab" * 32, "https://x/v1.3", {"upload_id": "u1", "etags": {}})
        >>> journal.load("ab" * 32, "https://x/v1.3")["upload_id"]
        'u1'
        >>> journal.forget("ab" * 32, "https://x/v1.3"); journal.load("ab" * 32, "https://x/v1.3")
    """

    def __init__(self, directory: pathlib.Path | None = None) -> None:
        self.directory = directory or default_journal_dir()
        self._lock = threading.Lock()

    def path_for(self, sha256: str, base_url: str) -> pathlib.Path:
        """The journal file of one file on one server."""
        server = hashlib.sha256(base_url.encode("utf-8")).hexdigest()[:12]
        return self.directory / f"{sha256}.{server}.json"

    def load(self, sha256: str, base_url: str) -> dict[str, Any] | None:
        """The journal entry, or None (none, or unreadable: the upload then starts over)."""
        path = self.path_for(sha256, base_url)
        try:
            entry = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return (
            entry if isinstance(entry, dict) and isinstance(entry.get("upload_id"), str) else None
        )

    def save(self, sha256: str, base_url: str, entry: dict[str, Any]) -> None:
        """Write the entry atomically."""
        path = self.path_for(sha256, base_url)
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".journal-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(entry, out)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

    def forget(self, sha256: str, base_url: str) -> None:
        """Delete the entry (the upload completed, or its session is gone)."""
        with contextlib.suppress(OSError):
            self.path_for(sha256, base_url).unlink()


# --- the upload flow ---------------------------------------------------------------------


@dataclass
class _Upload:
    """The state of one multipart upload (the flow's, and the journal's)."""

    path: pathlib.Path
    size: int
    sha256: str
    upload_id: str
    asset_id: str
    chunk_size: int
    total_chunks: int
    headers: dict[str, str]
    expires_at: str | None = None
    urls: dict[int, str] = field(default_factory=dict)
    etags: dict[int, str] = field(default_factory=dict)  # sent, maybe not reported yet
    reported: set[int] = field(default_factory=set)

    def chunk(self, index: int) -> FileSlice:
        offset = (index - 1) * self.chunk_size
        return FileSlice(self.path, offset=offset, length=min(self.chunk_size, self.size - offset))

    def journal_entry(self) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id,
            "asset_id": self.asset_id,
            "chunk_size": self.chunk_size,
            "total_chunks": self.total_chunks,
            "size": self.size,
            "headers": self.headers,
            "expires_at": self.expires_at,
            "etags": {str(k): v for k, v in self.etags.items()},
        }

    def bytes_done(self) -> int:
        return sum(self.chunk(index).length for index in self.etags)


class SessionCreation(Creation[_Upload]):
    """``POST /assets/multipart-uploads``; a lost answer leaves an orphan asset, removed."""

    def __init__(
        self,
        *,
        path: pathlib.Path,
        size: int,
        sha256: str,
        filename: str,
        media_type: MediaType,
        user_metadata: dict[str, Any],
        enable_hls: bool,
        enable_thumbnail: bool,
        remove_orphan: Callable[[Context], Flow[None]],
    ) -> None:
        self.path, self.size, self.sha256 = path, size, sha256
        self.remove_orphan = remove_orphan
        self.filename = filename
        self.user_metadata = user_metadata
        body = {
            "filename": filename,
            "type": media_type,
            "total_size": size,
            "enable_hls": enable_hls,
            "enable_thumbnail": enable_thumbnail,
            "user_metadata": user_metadata,
        }
        super().__init__(Request("POST", "/assets/multipart-uploads", json=body))

    def created(self, reply: Reply) -> _Upload:
        """The session in the answer: ids, chunking, the first URLs."""
        obj = as_object(reply.json(), "upload session")
        what = "upload session"
        chunk_size = opt_int(obj, "chunk_size", what, non_negative=True) or 0
        if chunk_size <= 0:
            raise MalformedResponseError(f"{what}: no chunk_size", body=obj)
        total = opt_int(obj, "total_chunks", what) or -(-self.size // chunk_size)
        upload = _Upload(
            path=self.path,
            size=self.size,
            sha256=self.sha256,
            upload_id=req_str(obj, "upload_id", what),
            asset_id=req_str(obj, "asset_id", what),
            chunk_size=chunk_size,
            total_chunks=total,
            headers={
                str(k): str(v) for k, v in (opt_obj(obj, "upload_headers", what) or {}).items()
            },
            expires_at=opt_str(obj, "expires_at", what),
        )
        upload.urls.update(_urls(obj, what))
        return upload

    def find(self, ctx: Context, error: TwelveLabsError, started: float) -> Flow[_Upload | None]:
        """A session whose answer was lost cannot be resumed (its id is unknown): remove the
        asset it reserved, if it made one, and open another."""
        yield from self.remove_orphan(ctx)
        return None


def _urls(obj: dict[str, Any], what: str) -> dict[int, str]:
    urls: dict[int, str] = {}
    for item in opt_list(obj, "upload_urls", what) or []:
        entry = as_object(item, f"{what}.upload_urls[]")
        index = opt_int(entry, "chunk_index", what, non_negative=True)
        url = opt_str(entry, "url", what)
        if index is not None and url:
            urls[index] = url
    return urls


def _fresh_urls(upload: _Upload, start: int, ctx: Context) -> Flow[None]:
    count = min(REPORT_BATCH, upload.total_chunks - start + 1)
    body = {"start": start, "count": count}
    request = Request(
        "POST", session_path(upload.upload_id) + "/presigned-urls", json=body, retry="always"
    )
    answer = yield from send_json(request, ctx)
    upload.urls.update(_urls(as_object(answer, "presigned urls"), "presigned urls"))


def _put_chunk(upload: _Upload, index: int, ctx: Context) -> Flow[tuple[int, str]]:
    """PUT one chunk; on failure get a fresh URL (they are single use) and try again."""
    attempt = 0
    while True:
        url = upload.urls.pop(index, None)
        if url is None:
            yield from _fresh_urls(upload, index, ctx)
            url = upload.urls.pop(index, None)
            if url is None:
                raise MalformedResponseError(f"the server gave no upload URL for chunk {index}")
        request = Request(
            "PUT",
            url,
            body=upload.chunk(index),
            headers=upload.headers,
            presigned=True,
            retry="never",
        )
        try:
            reply = yield from send(request, ctx)
        except (ServerError, APIConnectionError, TwelveLabsError) as error:
            attempt += 1
            if attempt > chunk_retries(ctx.retry.max_retries) or not _retryable_chunk(error):
                raise
            logger.debug(
                "chunk %d of %s failed (%s); sending it again", index, upload.path.name, error
            )
            yield Sleep(ctx.retry.backoff_s(attempt - 1))
            continue
        etag = reply.headers.get("etag", "").strip().strip('"')
        if not etag:
            raise MalformedResponseError(f"the storage answered chunk {index} without an ETag")
        return index, etag


def _retryable_chunk(error: TwelveLabsError) -> bool:
    status = getattr(error, "status_code", None)
    # A presigned URL that expired or was used answers 403/404 (S3) or 400: a fresh one helps.
    return status is None or status in (400, 403, 404, 408, 429) or status >= 500


def _report(upload: _Upload, indices: Sequence[int], ctx: Context) -> Flow[str | None]:
    """Report proofs; return the asset URL once the server says the upload is complete."""
    url = None
    for start in range(0, len(indices), REPORT_BATCH):
        batch = indices[start : start + REPORT_BATCH]
        chunks = [
            {
                "chunk_index": index,
                "proof": upload.etags[index],
                "proof_type": "etag",
                "chunk_size": upload.chunk(index).length,
            }
            for index in batch
        ]
        request = Request(
            "POST",
            session_path(upload.upload_id),
            json={"completed_chunks": chunks},
            retry="always",
        )
        answer = as_object((yield from send_json(request, ctx)), "chunk report")
        upload.reported.update(batch)
        url = opt_str(answer, "url", "chunk report") or url
    return url


def _server_chunks(upload_id: str, ctx: Context) -> Flow[tuple[str, set[int]]]:
    """The session's status and every chunk the server has (all pages)."""
    completed: set[int] = set()
    page = 1
    while True:
        request = Request("GET", session_path(upload_id), params={"page": page, "page_limit": 50})
        body = yield from send_json(request, ctx)
        status = _session_status(body, None)
        before = len(completed)
        completed |= set(status.completed_chunks)
        info = opt_obj(as_object(body, "upload session"), "page_info", "upload session") or {}
        total_page = opt_int(info, "total_page", "upload session.page_info")
        chunks = opt_list(as_object(body, "upload session"), "uploaded_chunks", "upload") or []
        if (
            not chunks
            or (total_page is not None and page >= total_page)
            or (total_page is None and len(completed) == before)
        ):
            return status.status, completed
        page += 1


def _resumed(
    creation: SessionCreation, journal: UploadJournal, base_url: str, ctx: Context
) -> Flow[_Upload | str | None]:
    """The journaled session to go on with; its asset id when it had completed (the crash
    came after the last report); None to open a new one."""
    entry = journal.load(creation.sha256, base_url)
    if entry is None or entry.get("size") != creation.size:
        return None
    try:
        status, on_server = yield from _server_chunks(entry["upload_id"], ctx)
    except (NotFoundError, TwelveLabsError) as error:
        if not isinstance(error, NotFoundError) and getattr(error, "status_code", 500) >= 500:
            raise
        status, on_server = "expired", set()
    if status == "completed":
        return str(entry["asset_id"])
    if status != "active":
        logger.info("upload session %s is %s; starting over", entry["upload_id"], status)
        # Its asset can never be filled: remove it, so that only the new one holds the file.
        stale = f"/assets/{path_segment(str(entry['asset_id']), 'asset_id')}"
        with contextlib.suppress(NotFoundError):
            yield from send(Request("DELETE", stale, params={"force": True}), ctx)
        journal.forget(creation.sha256, base_url)
        return None
    upload = _Upload(
        path=creation.path,
        size=creation.size,
        sha256=creation.sha256,
        upload_id=entry["upload_id"],
        asset_id=entry["asset_id"],
        chunk_size=int(entry["chunk_size"]),
        total_chunks=int(entry["total_chunks"]),
        headers=dict(entry.get("headers") or {}),
        expires_at=entry.get("expires_at"),
    )
    upload.etags = {int(k): str(v) for k, v in (entry.get("etags") or {}).items()}
    upload.etags.update({index: upload.etags.get(index, "") for index in on_server})
    upload.reported = set(on_server)
    logger.info(
        "resuming upload session %s of %s: %d of %d chunks already there",
        upload.upload_id,
        creation.path.name,
        len(on_server),
        upload.total_chunks,
    )
    return upload


def multipart_upload(
    creation: SessionCreation,
    ctx: Context,
    *,
    journal: UploadJournal,
    base_url: str,
    max_concurrency: int,
    on_progress: OnProgress | None,
) -> Flow[str]:
    """Upload a file in chunks (resuming a journaled session); return its asset id.

    The asset is still ``processing`` when this returns: wait for it (``assets.wait``).
    """
    upload = yield from _resumed(creation, journal, base_url, ctx)
    if isinstance(upload, str):
        journal.forget(creation.sha256, base_url)
        return upload
    if upload is None:
        upload = yield from create(creation, ctx)
        journal.save(creation.sha256, base_url, upload.journal_entry())
    # Chunks sent before a crash but never reported are reported first.
    unreported = sorted(i for i, etag in upload.etags.items() if etag and i not in upload.reported)
    url = (yield from _report(upload, unreported, ctx)) if unreported else None
    todo = [i for i in range(1, upload.total_chunks + 1) if i not in upload.etags]
    if on_progress is not None:
        yield Call(on_progress, (upload.bytes_done(), upload.size))
    url = (
        yield from _send_chunks(upload, todo, ctx, journal, base_url, max_concurrency, on_progress)
    ) or url
    if url is None and len(upload.reported) >= upload.total_chunks:
        # Every chunk was reported, the last answer lost: the session says if it is complete.
        status, _ = yield from _server_chunks(upload.upload_id, ctx)
        url = "" if status == "completed" else None
    if url is None:
        raise MalformedResponseError(
            f"upload session {upload.upload_id} has every chunk of {upload.path.name} but the "
            "server did not complete it; call upload() again to resume"
        )
    journal.forget(creation.sha256, base_url)
    return upload.asset_id


def _send_chunks(
    upload: _Upload,
    todo: list[int],
    ctx: Context,
    journal: UploadJournal,
    base_url: str,
    max_concurrency: int,
    on_progress: OnProgress | None,
) -> Flow[str | None]:
    group = TaskGroup(limit=max_concurrency)
    queue = list(todo)
    running = 0
    url: str | None = None
    while queue or running:
        while queue and running < max_concurrency:
            index = queue.pop(0)
            if index not in upload.urls:
                yield from _fresh_urls(upload, index, ctx)
            yield Spawn(group, index, functools.partial(_put_chunk, upload, index, ctx))
            running += 1
        event = yield Next(group)
        running -= 1
        if event.kind == "error":
            raise event.value
        index, etag = event.value
        upload.etags[index] = etag
        journal.save(upload.sha256, base_url, upload.journal_entry())
        if on_progress is not None:
            yield Call(on_progress, (upload.bytes_done(), upload.size))
        pending = sorted(i for i in upload.etags if i not in upload.reported)
        if len(pending) >= REPORT_BATCH or not (queue or running):
            url = (yield from _report(upload, pending, ctx)) or url
    return url
