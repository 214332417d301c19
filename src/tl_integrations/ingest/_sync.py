"""The synchronous ingest engine, :class:`VideoIngest`. Its twin is in ``_async.py``."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from ..client._tasks_core import task_failed_error
from ..errors import AuthenticationError, NotFoundError, PermissionDeniedError, TaskTimeoutError
from ..models import Task, Video
from ._content import TextPiece, VideoRecord
from ._inputs import IngestOptions, VideoInput, resolve_inputs, sha256_file
from ._outcome import IngestFailure, Progress, Tally
from ._plan import (
    CHAPTERS_FORMAT,
    RUNNING_STATUSES,
    Claims,
    Deadline,
    Entry,
    Found,
    Prepared,
    Started,
    chapter_pieces,
    close_iterator,
    content_key,
    label,
    log_start,
    records_for,
    summary_piece,
    timed_out,
    transcript_pieces,
)

if TYPE_CHECKING:
    from ..client import TwelveLabs

__all__ = ["VideoIngest"]

logger = logging.getLogger("tl_integrations.ingest")
# Errors no other input would escape either: the whole run stops at once.
FATAL_ERRORS = (AuthenticationError, PermissionDeniedError)


class VideoIngest:
    """Videos in, text records out: upload (once), wait, and read what TwelveLabs knows.

    Inputs are checked before anything is sent. Each local file's SHA-256 (streamed) is put
    in the video's ``user_metadata``; a later run finds the video by it and uploads nothing.
    At most ``options.max_concurrency`` inputs hash, look up and upload at a time; indexing
    is awaited with ``client.tasks.wait_many``, and a :class:`VideoRecord` is yielded as soon
    as each video is ready and read.

    Args:
        client: the client to use (not closed here).
        options: what to produce and how (:class:`IngestOptions`).

    Example:
        >>> from tl_integrations.client import TwelveLabs
        >>> with TwelveLabs() as client:  # doctest: +SKIP
        ...     ingest = VideoIngest(client, IngestOptions(index_name="talks"))
        ...     for record in ingest.run(["talk.mp4", "video:6650a1b2c3d4e5f601234567"]):
        ...         for doc_id, text, metadata in record.items():
        ...             print(metadata["content_kind"], metadata.get("start_s"), text[:40])
    """

    def __init__(self, client: TwelveLabs, options: IngestOptions) -> None:
        self.client = client
        self.options = options

    def run(
        self,
        videos: VideoInput | Iterable[VideoInput],
        *,
        failures: list[IngestFailure] | None = None,
    ) -> Iterator[VideoRecord]:
        """Yield one record per ready input, in the order they become ready.

        Args:
            videos: paths, ``http(s)`` URLs or ``"video:<id>"`` strings (one or many).
            failures: a list that receives every failed input (else a fresh one is used).

        Raises:
            InvalidVideoError / InvalidRequestError: a bad input, before anything is sent.
            IngestError: at the end, with ``on_error="raise"``, if any input failed.
            AuthenticationError / PermissionDeniedError: at once; no input can succeed.
        """
        sources = resolve_inputs(videos)
        tally = Tally(on_error=self.options.on_error, failures=failures)
        # Made first: a missing tqdm is reported before anything is sent.
        progress = Progress.for_run(sources, self.options)
        try:
            index_id = self._index_id()
            log_start(self.options, len(sources), index_id)
            run = _Run(self, index_id, tally, progress)
            try:
                yield from run.records([Entry(source) for source in sources])
            finally:
                run.close()
        finally:
            progress.close()
        tally.finish()

    def _index_id(self) -> str:
        if self.options.index_id is not None:
            # One GET, so that a wrong id fails here and not once per video.
            return self.client.indexes.retrieve(self.options.index_id).id
        assert self.options.index_name is not None
        return self.client.indexes.get_or_create(self.options.index_name).id


class _Run:
    """The state of one run: uploads in flight, tasks being waited on, found videos."""

    def __init__(
        self, ingest: VideoIngest, index_id: str, tally: Tally, progress: Progress
    ) -> None:
        self.client = ingest.client
        self.options = ingest.options
        self.index_id = index_id
        self.tally = tally
        self.progress = progress
        self.claims = Claims()
        # The client's clock and poll policy are internal members it shares with its users.
        self.deadline = Deadline(
            self.options.timeout_s, clock=self.client.clock, poll=self.client.poll_policy
        )
        self.pool = ThreadPoolExecutor(self.options.max_concurrency, thread_name_prefix="tl-ingest")
        self.uploads: dict[Future[Prepared | BaseException], Entry] = {}
        # Usually one entry per task; two when a candidate turns out to be a task of this run.
        self.waiting: dict[str, list[tuple[Entry, Started]]] = {}
        self.created: set[str] = set()
        self.found: list[tuple[Entry, Found]] = []

    def records(self, entries: list[Entry]) -> Iterator[VideoRecord]:
        for entry in entries:
            self._submit(entry, lookup=True)
        while self.uploads or self.waiting or self.found:
            self._absorb(block=not (self.waiting or self.found))
            while self.found:
                yield from self._read(*self.found.pop(0))
            if self.waiting:
                yield from self._wait_slice()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    # -- preparing: hash, look up, upload (worker threads) ---------------------------------

    def _submit(self, entry: Entry, *, lookup: bool) -> None:
        self.uploads[self.pool.submit(self._prepare, entry, lookup)] = entry

    def _prepare(self, entry: Entry, lookup: bool) -> Prepared | BaseException:
        source = entry.source
        if source.video_id is not None:
            self.progress.set(source.source, "looking up")
            return self._existing(source.video_id)
        if lookup:
            digest = None
            if source.path is not None:
                self.progress.set(source.source, "hashing")
                digest = sha256_file(source.path)
            claimed = self.claims.claim(entry, content_key(source, digest))
            found = claimed if claimed is not None else self._lookup(entry)
            if found is not None:
                return found
        self.progress.set(source.source, "uploading")
        metadata = dict([entry.key]) if entry.key else None
        task = self.client.tasks.create(
            index_id=self.index_id, file=source.path, video_url=source.url, user_metadata=metadata
        )
        self.created.add(task.id)
        return Started(task)

    def _lookup(self, entry: Entry) -> Prepared | None:
        self.progress.set(entry.source.source, "looking up")
        assert entry.key is not None
        for video in self.client.videos.list(self.index_id, user_metadata=dict([entry.key])):
            logger.info("reusing video %s for %s", video.id, label(entry.source.source))
            return Found(video.id, self._task_id_for(video))
        if entry.source.path is None:
            return None
        # A task still running has no listed video yet; its file name is all we can match
        # now, so it is a candidate whose hash is checked once it is ready.
        name = entry.source.path.name
        for task in self.client.tasks.list(
            index_id=self.index_id, status=RUNNING_STATUSES, filename=name
        ):
            if task.id in self.created:
                continue  # another input of this run (same name, other content)
            logger.info("waiting on running task %s for %s", task.id, label(entry.source.source))
            return Started(task, candidate=True)
        return None

    def _existing(self, video_id: str) -> Found:
        video = self.client.videos.retrieve(self.index_id, video_id)
        return Found(video.id, self._task_id_for(video))

    def _task_id_for(self, video: Video) -> str | None:
        name = video.system_metadata.filename
        if name is None:
            return None
        for task in self.client.tasks.list(index_id=self.index_id, status="ready", filename=name):
            if task.video_id == video.id:
                return task.id
        return None

    # -- collecting prepared entries (main thread) -----------------------------------------

    def _absorb(self, *, block: bool) -> None:
        if block and self.uploads:
            wait(self.uploads, return_when=FIRST_COMPLETED)
        for future in [f for f in self.uploads if f.done()]:
            entry = self.uploads.pop(future)
            try:
                prepared = future.result()
            except FATAL_ERRORS:
                raise
            except Exception as exc:
                if self.progress.raised(exc):
                    raise
                prepared = exc
            self._route(entry, prepared)

    def _route(self, entry: Entry, prepared: Prepared | BaseException) -> None:
        if isinstance(prepared, BaseException):
            self._fail(entry, prepared)
        elif isinstance(prepared, Found):
            self.found.append((entry, prepared))
        elif isinstance(prepared, Started):
            self.waiting.setdefault(prepared.task.id, []).append((entry, prepared))
            self._on_update(prepared.task)

    # -- waiting ---------------------------------------------------------------------------

    def _wait_slice(self) -> Iterator[VideoRecord]:
        uploading = bool(self.uploads)
        tasks = [waiters[0][1].task for waiters in self.waiting.values()]
        span = self.deadline.next_slice(uploads_running=uploading, pending=len(tasks))
        finished = self.client.tasks.wait_many(
            tasks, timeout_s=span.timeout_s, poll=span.poll, on_update=self._on_update
        )
        try:
            for task in finished:
                yield from self._finished(task)
                if any(f.done() for f in self.uploads) or (self.uploads and not uploading):
                    return  # new tasks join the next wait_many, within a bounded slice
        except TaskTimeoutError as exc:
            if self.progress.raised(exc):
                raise
            self._after_timeout()
        finally:
            close_iterator(finished)

    def _after_timeout(self) -> None:
        if not self.deadline.passed():
            return  # only a slice ended; the next one goes on
        waiters = [waiter for group in self.waiting.values() for waiter in group]
        self.waiting.clear()
        for entry, started in waiters:
            self._fail(entry, timed_out(started.task, self.deadline.timeout_s))

    def _on_update(self, task: Task) -> None:
        if task.failed:
            return  # reported as the input's "failed" if it fails the input (see _settle)
        for entry, _ in self.waiting.get(task.id, ()):
            for source in entry.sources:
                self.progress.set(source, task.status)

    def _finished(self, task: Task) -> Iterator[VideoRecord]:
        for entry, started in self.waiting.pop(task.id, ()):
            yield from self._settle(entry, started, task)

    def _settle(self, entry: Entry, started: Started, task: Task) -> Iterator[VideoRecord]:
        try:
            mine = not started.candidate or (task.ready and self._verified(entry, task))
        except FATAL_ERRORS:
            raise
        except Exception as exc:
            self._fail(entry, exc)
            return
        if not mine:
            logger.info("task %s is not for %s; uploading it", task.id, label(entry.source.source))
            self._submit(entry, lookup=False)
        elif task.ready and task.video_id is not None:
            yield from self._read(entry, Found(task.video_id, task.id))
        else:
            self._fail(entry, task_failed_error(task))

    def _verified(self, entry: Entry, task: Task) -> bool:
        assert entry.key is not None
        if task.video_id is None:
            return False
        try:
            video = self.client.videos.retrieve(self.index_id, task.video_id)
        except NotFoundError:
            return False
        return video.user_metadata.get(entry.key[0]) == entry.key[1]

    # -- reading ---------------------------------------------------------------------------

    def _read(self, entry: Entry, found: Found) -> Iterator[VideoRecord]:
        for source in entry.sources:
            self.progress.set(source, "reading")
        try:
            video, pieces = self._content(found.video_id)
        except FATAL_ERRORS:
            raise
        except Exception as exc:
            self._fail(entry, exc)
            return
        sources = self.claims.settle(entry, found)
        for record in records_for(
            sources, video, index_id=self.index_id, task_id=found.task_id, pieces=pieces
        ):
            self.progress.finish(record.video.source, "done")
            yield record

    def _content(self, video_id: str) -> tuple[Video, list[TextPiece]]:
        options, analyze = self.options, self.client.analyze
        video = self.client.videos.retrieve(
            self.index_id, video_id, transcription="transcript" in options.content
        )
        pieces: list[TextPiece] = []
        for kind in options.content:
            if kind == "transcript":
                pieces += transcript_pieces(video, chunk_s=options.chunk_s)
            elif kind == "summary":
                pieces += summary_piece(
                    analyze(video_id, options.summary_prompt), video_id=video_id
                )
            else:
                answer = analyze(video_id, options.chapters_prompt, response_format=CHAPTERS_FORMAT)
                pieces += chapter_pieces(answer, video_id=video_id)
        return video, pieces

    def _fail(self, entry: Entry, exc: BaseException) -> None:
        for source in self.claims.settle(entry, exc):
            self.tally.fail(source, exc)
            self.progress.finish(source, "failed")
