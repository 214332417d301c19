"""The asyncio ingest engine, :class:`AsyncVideoIngest`: the twin of ``_sync.py`` with ``await``.

Uploads run as asyncio tasks (at most ``max_concurrency`` at once); only hashing a local file,
which is disk and CPU work, goes to a thread so the event loop stays responsive.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING

from ..client._tasks_core import task_failed_error
from ..errors import NotFoundError, TaskTimeoutError
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
    aclose_iterator,
    chapter_pieces,
    content_key,
    label,
    log_start,
    records_for,
    summary_piece,
    timed_out,
    transcript_pieces,
)
from ._sync import FATAL_ERRORS

if TYPE_CHECKING:
    from ..client import AsyncTwelveLabs

__all__ = ["AsyncVideoIngest"]

logger = logging.getLogger("tl_integrations.ingest")


class AsyncVideoIngest:
    """The asyncio twin of :class:`VideoIngest`: same options, same records, same rules.

    Works inside a running event loop (a Jupyter cell) and uses the async client throughout.

    Args:
        client: the async client to use (not closed here).
        options: what to produce and how (:class:`IngestOptions`).

    Example:
        >>> from tl_integrations.client import AsyncTwelveLabs
        >>> async with AsyncTwelveLabs() as client:  # doctest: +SKIP
        ...     ingest = AsyncVideoIngest(client, IngestOptions(index_name="talks"))
        ...     async for record in ingest.run(["talk.mp4"]):
        ...         print(record.video.video_id, len(record.pieces))
    """

    def __init__(self, client: AsyncTwelveLabs, options: IngestOptions) -> None:
        self.client = client
        self.options = options

    async def run(
        self,
        videos: VideoInput | Iterable[VideoInput],
        *,
        failures: list[IngestFailure] | None = None,
    ) -> AsyncIterator[VideoRecord]:
        """Yield one record per ready input, in the order they become ready.

        Same arguments and errors as :meth:`VideoIngest.run`.
        """
        sources = resolve_inputs(videos)
        tally = Tally(on_error=self.options.on_error, failures=failures)
        progress = Progress.for_run(sources, self.options)
        try:
            index_id = await self._index_id()
            log_start(self.options, len(sources), index_id)
            run = _AsyncRun(self, index_id, tally, progress)
            try:
                async for record in run.records([Entry(source) for source in sources]):
                    yield record
            finally:
                await run.close()
        finally:
            progress.close()
        tally.finish()

    async def _index_id(self) -> str:
        if self.options.index_id is not None:
            return (await self.client.indexes.retrieve(self.options.index_id)).id
        assert self.options.index_name is not None
        return (await self.client.indexes.get_or_create(self.options.index_name)).id


class _AsyncRun:
    """The state of one async run; mirrors ``_sync._Run`` method for method."""

    def __init__(
        self, ingest: AsyncVideoIngest, index_id: str, tally: Tally, progress: Progress
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
        self.slots = asyncio.Semaphore(self.options.max_concurrency)
        self.uploads: dict[asyncio.Task[Prepared | BaseException], Entry] = {}
        self.waiting: dict[str, list[tuple[Entry, Started]]] = {}
        self.created: set[str] = set()
        self.found: list[tuple[Entry, Found]] = []

    async def records(self, entries: list[Entry]) -> AsyncIterator[VideoRecord]:
        for entry in entries:
            self._submit(entry, lookup=True)
        while self.uploads or self.waiting or self.found:
            await self._absorb(block=not (self.waiting or self.found))
            while self.found:
                async for record in self._read(*self.found.pop(0)):
                    yield record
            if self.waiting:
                async for record in self._wait_slice():
                    yield record

    async def close(self) -> None:
        for task in self.uploads:
            task.cancel()
        await asyncio.gather(*self.uploads, return_exceptions=True)

    # -- preparing: hash, look up, upload --------------------------------------------------

    def _submit(self, entry: Entry, *, lookup: bool) -> None:
        self.uploads[asyncio.ensure_future(self._prepare(entry, lookup))] = entry

    async def _prepare(self, entry: Entry, lookup: bool) -> Prepared | BaseException:
        async with self.slots:
            source = entry.source
            if source.video_id is not None:
                self.progress.set(source.source, "looking up")
                return await self._existing(source.video_id)
            if lookup:
                digest = None
                if source.path is not None:
                    self.progress.set(source.source, "hashing")
                    digest = await asyncio.to_thread(sha256_file, source.path)
                claimed = self.claims.claim(entry, content_key(source, digest))
                found = claimed if claimed is not None else await self._lookup(entry)
                if found is not None:
                    return found
            self.progress.set(source.source, "uploading")
            metadata = dict([entry.key]) if entry.key else None
            task = await self.client.tasks.create(
                index_id=self.index_id, file=source.path, video_url=source.url,
                user_metadata=metadata,
            )  # fmt: skip
            self.created.add(task.id)
            return Started(task)

    async def _lookup(self, entry: Entry) -> Prepared | None:
        self.progress.set(entry.source.source, "looking up")
        assert entry.key is not None
        async for video in self.client.videos.list(self.index_id, user_metadata=dict([entry.key])):
            logger.info("reusing video %s for %s", video.id, label(entry.source.source))
            return Found(video.id, await self._task_id_for(video))
        if entry.source.path is None:
            return None
        name = entry.source.path.name
        async for task in self.client.tasks.list(
            index_id=self.index_id, status=RUNNING_STATUSES, filename=name
        ):
            if task.id in self.created:
                continue
            logger.info("waiting on running task %s for %s", task.id, label(entry.source.source))
            return Started(task, candidate=True)
        return None

    async def _existing(self, video_id: str) -> Found:
        video = await self.client.videos.retrieve(self.index_id, video_id)
        return Found(video.id, await self._task_id_for(video))

    async def _task_id_for(self, video: Video) -> str | None:
        name = video.system_metadata.filename
        if name is None:
            return None
        async for task in self.client.tasks.list(
            index_id=self.index_id, status="ready", filename=name
        ):
            if task.video_id == video.id:
                return task.id
        return None

    # -- collecting prepared entries -------------------------------------------------------

    async def _absorb(self, *, block: bool) -> None:
        if block and self.uploads:
            await asyncio.wait(self.uploads, return_when=asyncio.FIRST_COMPLETED)
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

    async def _wait_slice(self) -> AsyncIterator[VideoRecord]:
        uploading = bool(self.uploads)
        tasks = [waiters[0][1].task for waiters in self.waiting.values()]
        span = self.deadline.next_slice(uploads_running=uploading, pending=len(tasks))
        finished = self.client.tasks.wait_many(
            tasks, timeout_s=span.timeout_s, poll=span.poll, on_update=self._on_update
        )
        try:
            async for task in finished:
                async for record in self._finished(task):
                    yield record
                if any(f.done() for f in self.uploads) or (self.uploads and not uploading):
                    return
        except TaskTimeoutError as exc:
            if self.progress.raised(exc):
                raise
            self._after_timeout()
        finally:
            await aclose_iterator(finished)

    def _after_timeout(self) -> None:
        if not self.deadline.passed():
            return
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

    async def _finished(self, task: Task) -> AsyncIterator[VideoRecord]:
        for entry, started in self.waiting.pop(task.id, ()):
            async for record in self._settle(entry, started, task):
                yield record

    async def _settle(
        self, entry: Entry, started: Started, task: Task
    ) -> AsyncIterator[VideoRecord]:
        try:
            mine = not started.candidate or (task.ready and await self._verified(entry, task))
        except FATAL_ERRORS:
            raise
        except Exception as exc:
            self._fail(entry, exc)
            return
        if not mine:
            logger.info("task %s is not for %s; uploading it", task.id, label(entry.source.source))
            self._submit(entry, lookup=False)
        elif task.ready and task.video_id is not None:
            async for record in self._read(entry, Found(task.video_id, task.id)):
                yield record
        else:
            self._fail(entry, task_failed_error(task))

    async def _verified(self, entry: Entry, task: Task) -> bool:
        assert entry.key is not None
        if task.video_id is None:
            return False
        try:
            video = await self.client.videos.retrieve(self.index_id, task.video_id)
        except NotFoundError:
            return False
        return video.user_metadata.get(entry.key[0]) == entry.key[1]

    # -- reading ---------------------------------------------------------------------------

    async def _read(self, entry: Entry, found: Found) -> AsyncIterator[VideoRecord]:
        for source in entry.sources:
            self.progress.set(source, "reading")
        try:
            video, pieces = await self._content(found.video_id)
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

    async def _content(self, video_id: str) -> tuple[Video, list[TextPiece]]:
        options, analyze = self.options, self.client.analyze
        video = await self.client.videos.retrieve(
            self.index_id, video_id, transcription="transcript" in options.content
        )
        pieces: list[TextPiece] = []
        for kind in options.content:
            if kind == "transcript":
                pieces += transcript_pieces(video, chunk_s=options.chunk_s)
            elif kind == "summary":
                answer = await analyze(video_id, options.summary_prompt)
                pieces += summary_piece(answer, video_id=video_id)
            else:
                answer = await analyze(
                    video_id, options.chapters_prompt, response_format=CHAPTERS_FORMAT
                )
                pieces += chapter_pieces(answer, video_id=video_id)
        return video, pieces

    def _fail(self, entry: Entry, exc: BaseException) -> None:
        for source in self.claims.settle(entry, exc):
            self.tally.fail(source, exc)
            self.progress.finish(source, "failed")
