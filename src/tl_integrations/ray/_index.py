"""``IndexVideos``: rows of media sources in, rows of indexed videos out, nothing paid twice.

For each row of a batch, on the worker's threads:

1. *stage*: hash a local file (or copy an object-store file to scratch, hashing it on the
   way); a URL is keyed by its own hash; ``video:<id>`` is read from the index;
2. *claim* the content at the index desk: another input of the run with the same content,
   on any worker, is ``skipped`` (its row says which input holds it);
3. *look up*: an indexed asset of the index with that content (its SHA-256 is in its
   ``user_metadata``) is reused when ready, and waited for when a killed run left it
   indexing;
4. *upload and index* what is still missing: the file becomes an asset once per account
   (``client.assets.upload``, which finds an asset with the same bytes before sending
   any), then an indexed asset of the index, the hash in its ``user_metadata``.

With ``upload="tasks"`` the older one-step path is taken instead: the look-up reads the
index's videos and the tasks still running with the file's name (checked once ready), and
the upload is ``POST /tasks``.

Then the batch's jobs join the desk's shared wait (one list request per page of pending
jobs for the whole cluster, or none when the desk hears webhooks), and each row ends
``indexed``, ``skipped`` or ``failed`` with a reason. Failures never escape as
exceptions, except those no input can survive (a wrong key, a forbidden index), which stop
the job at once.

Example:
    >>> index = ClusterIndex.open(index_name="talks")  # doctest: +SKIP
    >>> videos = ds.map_batches(IndexVideos, fn_constructor_args=(index,),
    ...                         batch_size=16, compute=worker_pool(4))  # doctest: +SKIP
    >>> videos.filter(lambda row: row["status"] == "failed").take(5)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from dataclasses import dataclass
from typing import Any, Literal

from .._engine import Job
from .._errors import (
    AuthenticationError,
    InvalidRequestError,
    PermissionDeniedError,
)
from .._ingest import display_source
from .._ingest.inputs import upload_limit
from .._resources.assets import Uploader
from .._resources.indexed_assets import IndexedAsset
from .._resources.tasks import Task
from .._resources.videos import Video
from ._cluster import ClusterIndex
from ._desk import RowReport
from ._pool import PoolWorker
from ._rows import rows_of, source_column, table_of
from ._sources import Media, staged

__all__ = ["INDEXED_COLUMNS", "UPLOAD_PATHS", "IndexVideos", "UploadPath", "check_upload"]

logger = logging.getLogger("tl_integrations.ray")

INDEXED_COLUMNS = (
    "status",
    "reason",
    "uploaded",
    "video_id",
    "task_id",
    "asset_id",
    "index_id",
    "filename",
    "duration_s",
    "content_key",
)
"""The columns :class:`IndexVideos` adds to every row (``task_id``: the indexing task, or
the indexed asset, that made the video)."""
UploadPath = Literal["assets", "tasks"]
"""How a video gets into the index: ``"assets"`` (an asset, uploaded once per account,
then an indexed asset) or ``"tasks"`` (the older one-step ``POST /tasks``)."""
UPLOAD_PATHS: tuple[UploadPath, ...] = ("assets", "tasks")
_TYPES = {name: "str" for name in INDEXED_COLUMNS} | {"uploaded": "bool", "duration_s": "float"}

# Errors no other input would escape either: the job stops at once.
FATAL_ERRORS = (AuthenticationError, PermissionDeniedError)
RUNNING_STATUSES = ("validating", "pending", "queued", "indexing")


def check_upload(upload: object) -> None:
    """Refuse an upload path other than ``"assets"`` and ``"tasks"``.

    Example:
        >>> check_upload("s3")
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: upload must be 'assets' or 'tasks', got 's3'
    """
    if upload not in UPLOAD_PATHS:
        raise InvalidRequestError(f"upload must be 'assets' or 'tasks', got {upload!r}")


def reason_of(exc: BaseException) -> str:
    """One line saying why, for a row's ``reason``.

    Example:
        >>> reason_of(ValueError("bad input"))
        'ValueError: bad input'
    """
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@dataclass
class _Row:
    """One input on its way through the batch."""

    source: str
    status: str = ""
    reason: str = ""
    uploaded: bool = False
    media: Media | None = None
    task: Job | None = None
    candidate: bool = False
    video_id: str | None = None
    asset_id: str | None = None
    filename: str | None = None
    duration_s: float | None = None

    @property
    def open(self) -> bool:
        return not self.status

    @property
    def content_key(self) -> str | None:
        key = self.media.key if self.media is not None else None
        return None if key is None else f"{key[0]}:{key[1]}"

    def fail(self, reason: str) -> None:
        self.status, self.reason = "failed", reason

    def skip(self, reason: str) -> None:
        self.status, self.reason = "skipped", reason

    def found(self, video: Video) -> None:
        self.status = "indexed"
        self.video_id = video.id
        self.asset_id = video.asset_id
        self.filename = video.system_metadata.filename
        self.duration_s = video.duration_s

    def ready(self, job: Job) -> None:
        self.status = "indexed"
        self.task = job
        if isinstance(job, IndexedAsset):  # an indexed asset's id is its video's
            self.video_id, self.asset_id = job.id, job.asset_id or self.asset_id
            self.filename = job.system_metadata.filename or self.filename
            self.duration_s = job.duration_s
        else:
            assert isinstance(job, Task)
            self.video_id = job.video_id
            self.filename = job.system_metadata.filename or self.filename
            self.duration_s = job.duration_s

    def out(self, index_id: str) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "uploaded": self.uploaded,
            "video_id": self.video_id,
            "task_id": self.task.id if self.task is not None else None,
            "asset_id": self.asset_id,
            "index_id": index_id,
            "filename": self.filename,
            "duration_s": self.duration_s,
            "content_key": self.content_key,
        }


class IndexVideos(PoolWorker):
    """A ``map_batches`` callable: upload and index each row's video, once per content.

    One row out per row in: the input's columns, plus ``status`` (``indexed``, ``skipped``
    or ``failed``), ``reason``, ``uploaded`` (bytes or URL sent by this run),
    ``video_id``, ``task_id``, ``asset_id``, ``index_id``, ``filename``, ``duration_s``
    and ``content_key`` (the ``user_metadata`` pair that finds the video again). Each worker
    holds one client; all of them share the cluster's request budget and the index's desk.

    A batch waits for its videos as a whole; give each worker several batches at once
    (``compute=worker_pool(n)``) so that it prepares the next ones meanwhile. Concurrent
    batches of one worker share its client and its ``max_concurrency`` slots.

    Args:
        index: the :class:`ClusterIndex` (made on the driver).
        source_column: the column holding paths, URLs, object-store URIs or ``video:<id>``.
        max_concurrency: rows prepared (hashed, looked up, uploaded) at once, per worker.
        timeout_s: how long a batch waits for its indexing tasks; a row still pending then
            fails with a reason (its task keeps running, and a re-run picks it up).
        scratch_dir: where object-store files are copied while they are uploaded.
        upload: ``"assets"`` (the default: an asset per content for the whole account,
            then an indexed asset; Pegasus can analyse the videos) or ``"tasks"`` (the
            older ``POST /tasks``; see :data:`UploadPath`).

    Raises:
        InvalidRequestError: from the constructor, for a bad argument.
        AuthenticationError / PermissionDeniedError: from ``__call__``, at once (no input
            could succeed).

    Example:
        >>> videos = ray.data.from_items([{"source": "s3://bucket/talk.mp4"}]).map_batches(
        ...     IndexVideos, fn_constructor_args=(index,), batch_size=8, compute=worker_pool(2),
        ... )  # doctest: +SKIP
        >>> videos.take(1)[0]["status"]  # doctest: +SKIP
        'indexed'
    """

    def __init__(
        self,
        index: ClusterIndex,
        *,
        source_column: str = "source",
        max_concurrency: int = 4,
        timeout_s: float | None = None,
        scratch_dir: str | None = None,
        upload: UploadPath = "assets",
    ) -> None:
        check_upload(upload)
        self._column = source_column
        self._timeout_s = timeout_s
        self._scratch_dir = scratch_dir
        self._assets = upload == "assets"
        self._max_bytes = upload_limit(upload)
        super().__init__(index, max_concurrency, threads="tl-index")

    def __call__(self, batch: Any) -> Any:
        """Index the batch's videos; one output row per input row."""
        rows_in = rows_of(batch)
        rows = [_Row(source) for source in source_column(rows_in, self._column)]
        with _Scratch() as scratch:
            list(self._pool.map(lambda row: self._prepare(row, scratch), rows))
            self._settle(rows)
            again = [row for row in rows if row.open]  # candidates that were not ours
            list(self._pool.map(self._upload_or_fail, again))
            self._settle(again)
        self._claim_videos(rows)
        self._index.report([_report(row) for row in rows])
        index_id = self._index.index_id
        out = [{**row_in, **row.out(index_id)} for row_in, row in zip(rows_in, rows, strict=True)]
        return table_of(out, types=_TYPES)

    # -- one row ---------------------------------------------------------------------------

    def _prepare(self, row: _Row, scratch: _Scratch) -> None:
        try:
            media = row.media = scratch.enter(
                staged(row.source, scratch_dir=self._scratch_dir, max_bytes=self._max_bytes)
            )
            if media.kind == "video":
                assert media.video_id is not None
                row.found(self._client.videos.retrieve(self._index.index_id, media.video_id))
                return
            key = media.key
            assert key is not None
            owner = self._claim(f"{key[0]}:{key[1]}", row.source)
            if owner != row.source:
                row.skip(f"same content as {display_source(owner)}")
                return
            if self._assets:
                if not self._indexed(row, key):
                    self._upload(row)
                return
            video = self._existing(key)
            if video is not None:
                logger.info("reusing video %s for %s", video.id, display_source(row.source))
                row.found(video)
                return
            if media.path is not None and self._running_task(row, media, key):
                return
            self._upload(row)
        except FATAL_ERRORS:
            raise
        except Exception as exc:
            row.fail(reason_of(exc))

    def _claim(self, key: str, source: str) -> str:
        import ray

        owner: str = ray.get(self._index.desk.claim.remote(key, source, self._member))
        return owner

    def _existing(self, key: tuple[str, str]) -> Video | None:
        found = self._client.videos.list(
            self._index.index_id, user_metadata=dict([key]), page_limit=1
        )
        with contextlib.closing(found):  # type: ignore[type-var]
            return next(iter(found), None)

    def _indexed(self, row: _Row, key: tuple[str, str]) -> bool:
        """An indexed asset of the index with this content: reused when ready, waited for
        when a killed run (or this input's retried batch) left it indexing. Indexed assets
        are the index's videos, so one made through ``/tasks`` is found too."""
        found = self._client.indexes.indexed_assets.list(
            self._index.index_id, user_metadata=dict([key]), page_limit=10
        )
        with contextlib.closing(found):
            matching = [ia for ia in itertools.islice(found, 10) if not ia.failed]
        if not matching:
            return False  # none, or only failed ones: index it again (the asset is reused)
        indexed = next((ia for ia in matching if ia.ready), matching[0])
        logger.info("reusing indexed asset %s for %s", indexed.id, display_source(row.source))
        if indexed.ready:
            row.ready(indexed)
        else:
            row.task = indexed
        return True

    def _running_task(self, row: _Row, media: Media, key: tuple[str, str]) -> bool:
        """A task left running by an earlier run (or by this input's retried batch)."""
        import ray

        assert media.path is not None
        listed = self._client.tasks.list(
            index_id=self._index.index_id, status=RUNNING_STATUSES, filename=media.path.name
        )
        with contextlib.closing(listed):  # type: ignore[type-var]
            tasks = list(listed)
        if not tasks:
            return False
        mine: dict[str, str] = ray.get(
            self._index.desk.created_here.remote([task.id for task in tasks])
        )
        wanted = f"{key[0]}:{key[1]}"
        for task in tasks:
            made_for = mine.get(task.id)
            if made_for is None or made_for == wanted:
                logger.info("waiting on running task %s for %s", task.id, row.source)
                row.task, row.candidate = task, made_for is None
                return True
        return False

    def _upload(self, row: _Row) -> None:
        media = row.media
        assert media is not None
        assert media.key is not None
        row.candidate = False
        if self._assets:
            self._index_asset(row, media, media.key)
            return
        task = self._client.tasks.create(
            index_id=self._index.index_id,
            file=media.path,
            video_url=media.url,
            user_metadata=dict([media.key]),
        )
        row.task, row.uploaded = task, True
        self._index.desk.note_created.remote({task.id: row.content_key})

    def _index_asset(self, row: _Row, media: Media, key: tuple[str, str]) -> None:
        """The content as an asset (its bytes sent once per account), then indexed."""
        if media.path is not None:
            # Finds an asset with the same bytes (any run, any worker) before sending; the
            # stage's hash goes with it, so the file is not read a second time to hash it.
            client = self._client
            flow = Uploader.of(client).upload(
                media.path,
                client.assets._ctx,
                timeout_s=self._timeout_s,
                playable=True,
                digest=media.digest,
            )
            asset = client._run(flow)
            row.uploaded = not asset.reused
        else:
            # A URL is fetched by the API: nothing of ours is sent but the address.
            assert media.url is not None
            made = self._client.assets.create(url=media.url, user_metadata=dict([key]))
            asset = self._client.assets.wait(made, timeout_s=self._timeout_s)
            row.uploaded = True
        row.asset_id = asset.id
        row.task = self._client.indexes.indexed_assets.create(
            self._index.index_id, asset, user_metadata=dict([key])
        )

    def _upload_or_fail(self, row: _Row) -> None:
        try:
            self._upload(row)
        except FATAL_ERRORS:
            raise
        except Exception as exc:
            row.fail(reason_of(exc))

    # -- waiting ---------------------------------------------------------------------------

    def _settle(self, rows: list[_Row]) -> None:
        import ray
        from ray.exceptions import GetTimeoutError

        waiting = [row for row in rows if row.open and row.task is not None]
        if not waiting:
            return
        tasks = [row.task for row in waiting]
        ref = self._index.desk.wait.remote(tasks, self._member)
        try:
            finished: list[Job | str] = ray.get(ref, timeout=self._timeout_s)
        except GetTimeoutError:
            for row in waiting:
                assert row.task is not None
                row.fail(
                    f"task {row.task.id} was not finished after {self._timeout_s} s; it keeps "
                    "running, and a re-run picks it up"
                )
            return
        for row, done in zip(waiting, finished, strict=True):
            try:
                self._finished(row, done)
            except FATAL_ERRORS:
                raise
            except Exception as exc:
                row.fail(reason_of(exc))

    def _finished(self, row: _Row, done: Job | str) -> None:
        if isinstance(done, str):
            row.fail(done)
        elif not row.candidate:
            if done.ready:
                row.ready(done)
            else:
                row.fail(str(done.kind.failure(done)))
        elif done.ready and isinstance(done, Task) and self._holds_content(row, done):
            row.ready(done)
        else:
            logger.info("task %s is not for %s; uploading it", done.id, row.source)
            row.task, row.candidate = None, False  # left open: uploaded in the second round

    def _holds_content(self, row: _Row, task: Task) -> bool:
        key = row.media.key if row.media is not None else None
        if key is None or task.video_id is None:
            return False
        video = self._client.videos.retrieve(self._index.index_id, task.video_id)
        return bool(video.user_metadata.get(key[0]) == key[1])

    def _claim_videos(self, rows: list[_Row]) -> None:
        # Two inputs may name one video (its id, and a file already in the index): it is
        # read once, by the first.
        for row in rows:
            if row.status != "indexed" or row.video_id is None:
                continue
            owner = self._claim(f"video:{row.video_id}", row.source)
            if owner != row.source:
                row.skip(f"same video ({row.video_id}) as {display_source(owner)}")


def _report(row: _Row) -> RowReport:
    status = row.status if row.status in ("indexed", "skipped", "failed") else "failed"
    return RowReport(row.source, status, row.reason, uploaded=row.uploaded)  # type: ignore[arg-type]


class _Scratch:
    """Staged sources of one batch, released together (thread-safe)."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._lock = threading.Lock()

    def enter(self, context: contextlib.AbstractContextManager[Media]) -> Media:
        media = context.__enter__()
        with self._lock:
            self._stack.push(context.__exit__)
        return media

    def __enter__(self) -> _Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
