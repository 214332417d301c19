"""The ingest engine, written once as a flow: inputs in, one record per ready video out.

Each input goes through *prepare* (hash a local file, look its content up in the index,
upload it when it is new), then waits (every created task joins one shared ``wait_many`` of
the task engine as soon as it exists, so nothing time-slices the wait), then *read* (the
transcript, summary and chapters). Prepares and reads run side by side in a task group;
hashing a file holds one of ``max_concurrency`` hashing slots and sending one holds one of
as many upload slots, while the light steps (look-ups, index creates, reads) of up to four
times as many inputs go on beside them, so round trips never queue behind an upload, and
no upload holds back another input's hash and look-up (which may find it already
indexed). The records are emitted as each video is read.
:class:`VideoIngest` and :class:`AsyncVideoIngest` only hand this flow to their client.

Example:
    >>> claims = Claims()
    >>> a, b = Entry(VideoSource("a.mp4", "file")), Entry(VideoSource("b.mp4", "file"))
    >>> claims.claim(a, ("tl_sha256", "ab12")) is None
    True
    >>> claims.claim(b, ("tl_sha256", "ab12")), a.sources
    (Joined(), ['a.mp4', 'b.mp4'])
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._claims import CLAIMS, Slots, kept, oldest
from .._engine import Job, WaitMany, create, fetch, wait
from .._errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    TaskFailedError,
    TaskTimeoutError,
)
from .._flows import Call, Context, Emit, Flow, Next, Spawn, TaskGroup, emitted
from .._paging import collect, pages
from .._resources import streamed
from .._resources.analyze import (
    ANALYSIS_TASKS,
    AnalysisTask,
    AnalyzeResult,
    SegmentDefinition,
    SegmentField,
    analysis_body,
    create_analysis,
    reader_of,
    segmentation_body,
    with_result,
)
from .._resources.assets import AssetCreation, Uploader, find_by_metadata
from .._resources.indexed_assets import (
    IndexedAsset,
    IndexedAssetCreation,
    converge_indexed,
    find_indexed,
    read_indexed,
)
from .._resources.indexes import get_or_create_index, retrieve_index
from .._resources.tasks import TASKS, Task, TaskUpload, list_tasks_request
from .._resources.uploads import UploadJournal
from .._resources.videos import Video, list_videos_request, retrieve_video, video_path
from .._transport import Request, send
from .content import (
    CHAPTERS_SCHEMA,
    TextPiece,
    VideoInfo,
    VideoRecord,
    chunk_transcript,
    parse_chapters,
    segment_pieces,
)
from .inputs import (
    HASH_KEY,
    URL_HASH_KEY,
    IngestOptions,
    VideoInput,
    VideoSource,
    display_source,
    resolve_inputs,
    sha256_file,
    upload_limit,
    url_key,
)
from .outcome import IngestFailure, Progress, Tally

if TYPE_CHECKING:
    from .._client import AsyncTwelveLabs, TwelveLabs

__all__ = ["AsyncVideoIngest", "Claims", "Entry", "VideoIngest"]

logger = logging.getLogger("tl_integrations._ingest")

CHAPTERS_FORMAT: dict[str, Any] = {"type": "json_schema", "json_schema": CHAPTERS_SCHEMA}
RUNNING_STATUSES = ("validating", "pending", "queued", "indexing")
# Tasks a lookup by file name may wait on. "ready" too: a task another run just finished
# can be ready before its video is listed by its metadata (the listing lags the task).
CANDIDATE_STATUSES = (*RUNNING_STATUSES, "ready")
# Errors no other input would escape either: the whole run stops at once.
FATAL_ERRORS = (AuthenticationError, PermissionDeniedError)
_WAITER = "wait"
LIGHT_PER_SLOT = 4
"""Inputs in their light steps (look-ups, index creates, reads: one short request each) per
``max_concurrency`` slot: those steps are bound by the API's round trip, not by bandwidth."""


@dataclass(frozen=True)
class Found:
    """A ready video to read (reused, or named as ``video:<id>``)."""

    video_id: str
    task_id: str | None
    asset_id: str | None = None


@dataclass(frozen=True)
class Started:
    """A job to wait for (an indexing task or an indexed asset); ``candidate`` when a task
    was found by file name only (its hash is checked once it is ready)."""

    task: Task | IndexedAsset
    candidate: bool = False


DEFAULT_SEGMENTS = (
    SegmentDefinition(
        "scene",
        "each distinct scene or topic of the video",
        fields=(
            SegmentField("description", "string", "one or two sentences on what happens"),
            SegmentField("people", "array", "who is on screen or speaking", items="string"),
            SegmentField("mood", "string", "the mood of the scene in one word"),
        ),
    ),
)
"""What the ``segments`` content kind looks for unless ``segment_definitions`` says."""


@dataclass(frozen=True)
class Joined:
    """The input has the same content as another entry of this run and rides along."""


Prepared = Found | Started | Joined


@dataclass(eq=False)
class Entry:
    """One unit of work: an input plus any later input with the same content.

    Attributes:
        source: the resolved input.
        sources: every input string answered by this entry (the first is ``source.source``).
        key: the ``(user_metadata key, value)`` that identifies its content, once known.
        outcome: a :class:`Found` or the exception, once the entry is settled.
    """

    source: VideoSource
    sources: list[str] = field(default_factory=list)
    key: tuple[str, str] | None = None
    outcome: Found | BaseException | None = None

    def __post_init__(self) -> None:
        self.sources = self.sources or [self.source.source]


def content_key(source: VideoSource, file_digest: str | None) -> tuple[str, str] | None:
    """The user-metadata pair a video from this input carries (None for ``video:<id>``).

    Example:
        >>> content_key(VideoSource("a.mp4", "file"), "ab12")
        ('tl_sha256', 'ab12')
    """
    if source.kind == "file" and file_digest is not None:
        return (HASH_KEY, file_digest)
    if source.kind == "url" and source.url is not None:
        return (URL_HASH_KEY, url_key(source.url))
    return None


class Claims:
    """Which entry owns which content in this run, so equal files are uploaded once."""

    def __init__(self) -> None:
        self._owners: dict[tuple[str, str], Entry] = {}
        self._lock = threading.Lock()

    def claim(self, entry: Entry, key: tuple[str, str] | None) -> Prepared | BaseException | None:
        """None when ``entry`` owns ``key``; otherwise what the owner's outcome means for it."""
        entry.key = key
        if key is None:
            return None
        with self._lock:
            owner = self._owners.setdefault(key, entry)
            if owner is entry:
                return None
            if owner.outcome is None:
                owner.sources.append(entry.source.source)
                return Joined()
            return owner.outcome

    def settle(self, entry: Entry, outcome: Found | BaseException) -> list[str]:
        """Record the entry's outcome; return every input it answers (a stable snapshot)."""
        with self._lock:
            entry.outcome = outcome
            return list(entry.sources)


def _label(source: str) -> str:
    return display_source(source)


def transcript_pieces(video: Video, *, chunk_s: float) -> list[TextPiece]:
    """Transcript windows of a video; an empty list (and an info log) when nothing is said."""
    pieces = chunk_transcript(video.transcription or (), chunk_s=chunk_s)
    if not pieces:
        name = video.system_metadata.filename or "?"
        logger.info("video %s (%s) has no speech: no transcript documents", video.id, name)
    return pieces


def summary_piece(result: AnalyzeResult, *, video_id: str) -> list[TextPiece]:
    """The summary as one piece; none (and a warning) when the answer is empty."""
    text = result.text.strip()
    if not text:
        logger.warning("video %s: the summary came back empty; no summary document", video_id)
        return []
    return [TextPiece(text, "summary")]


def chapter_pieces(result: AnalyzeResult, *, video_id: str) -> list[TextPiece]:
    """Chapter pieces from a JSON-schema answer; none (and a warning) when there are none."""
    pieces = parse_chapters(result.data)
    if not pieces:
        logger.warning("video %s: no chapters in the answer; no chapter documents", video_id)
    return pieces


class _Run:
    """The state of one run, and the flows that make it progress."""

    def __init__(
        self, ctx: Context, options: IngestOptions, tally: Tally, progress: Progress
    ) -> None:
        self.ctx = ctx
        self.options = options
        self.tally = tally
        self.progress = progress
        self.claims = Claims()
        self.index_id = ""
        self.created: set[str] = set()
        # Usually one entry per task; two when a candidate turns out to be a task of this run.
        self.waiting: dict[str, list[tuple[Entry, Started]]] = {}
        self.timed_out = False
        # Hashing and sending files each hold one of max_concurrency slots of their own; the
        # light steps of more inputs run beside them, so round trips do not queue behind
        # uploads, and an upload does not hold back the hash (and look-up) of another input.
        self.hashing = Slots(options.max_concurrency)
        self.sending = Slots(options.max_concurrency)
        self.group = TaskGroup(limit=LIGHT_PER_SLOT * options.max_concurrency + 1)  # +1: wait
        self.wait = WaitMany(
            [],
            ctx,
            locate=self._locate,
            timeout_s=options.timeout_s,
            on_update=self._on_update,
            open=True,
        )
        self.uploader = Uploader(str(getattr(ctx.owner, "base_url", "")), _journal_of(ctx.owner))
        self.in_flight: set[tuple[str, Entry]] = set()  # prepares and reads running
        self.last_seen: dict[str, Job] = {}  # each task as the shared wait last saw it
        # Tasks the shared wait has yielded: it yields each once, and one may come back
        # later (an input whose create answered slowly, after another input waited on its
        # task as a same-named candidate); such a late one is settled at once from here.
        self.finished: dict[str, Job] = {}

    # -- the main loop --------------------------------------------------------------------

    def flow(self, sources: list[VideoSource]) -> Flow[None]:
        self.index_id = yield from self._index_id()
        logger.info(
            "ingesting %d video(s) into index %s: %s",
            len(sources),
            self.index_id,
            ", ".join(self.options.content),
        )
        yield Spawn(self.group, _WAITER, self.wait.flow)
        for source in sources:
            yield from self._spawn_prepare(Entry(source), lookup=True)
        self._close_wait_when_idle()
        while self.in_flight or self.waiting:
            event = yield Next(self.group)
            if event.kind == "error" and (
                isinstance(event.value, FATAL_ERRORS) or self.progress.raised(event.value)
            ):
                raise event.value
            if event.key == _WAITER:
                yield from self._waiter_event(event.kind, event.value)
            else:
                self.in_flight.discard(event.key)
                stage, entry = event.key
                if stage == "prepare":
                    yield from self._prepared(entry, event.value, failed=event.kind == "error")
                else:
                    yield from self._read_done(entry, event.kind, event.value)
            self._close_wait_when_idle()
        self.tally.finish()

    def _index_id(self) -> Flow[str]:
        if self.options.index_id is not None:
            # One GET, so that a wrong id fails here and not once per video.
            index = yield from retrieve_index(self.options.index_id, self.ctx)
        else:
            assert self.options.index_name is not None
            index = yield from get_or_create_index(self.options.index_name, self.ctx)
        return index.id

    def _close_wait_when_idle(self) -> None:
        # Once nothing can add a task any more (no prepare running, and no candidate whose
        # hash may not match, which would send the input back to prepare), the shared wait
        # may end as soon as its jobs do.
        preparing = any(stage == "prepare" for stage, _ in self.in_flight)
        candidates = any(s.candidate for group in self.waiting.values() for _, s in group)
        if not preparing and not candidates:
            self.wait.close()

    def _spawn_prepare(self, entry: Entry, *, lookup: bool) -> Flow[None]:
        key = ("prepare", entry)
        self.in_flight.add(key)
        yield Spawn(self.group, key, lambda: self._prepare(entry, lookup))

    def _spawn_read(self, entry: Entry, found: Found) -> Flow[None]:
        for source in entry.sources:
            self.progress.set(source, "reading")
        key = ("read", entry)
        self.in_flight.add(key)
        yield Spawn(self.group, key, lambda: self._read(entry, found))

    # -- prepare: hash, look up, upload ---------------------------------------------------

    def _prepare(self, entry: Entry, lookup: bool) -> Flow[Prepared]:
        source = entry.source
        if source.video_id is not None:
            self.progress.set(source.source, "looking up")
            found = yield from self._existing(source.video_id)
            return found
        if lookup:
            digest = None
            if source.path is not None:
                with (yield from self.hashing.take()):
                    self.progress.set(source.source, "hashing")
                    digest = yield Call(sha256_file, (source.path,), blocking=True)
            claimed = self.claims.claim(entry, content_key(source, digest))
            if isinstance(claimed, BaseException):
                raise claimed
            if claimed is not None:
                return claimed
        if entry.key is None:
            prepared = yield from self._upload(entry)
            return prepared
        # Another run of this process (another thread, another loader on the same client)
        # may be uploading the same content into the same index: wait for it, then look up.
        key = (self.uploader.base_url, self.index_id, *entry.key)
        with (yield from CLAIMS.hold(key)):
            existing = (yield from self._lookup(entry)) if lookup else None
            if existing is not None:
                return existing
            prepared = yield from self._upload(entry)
        return prepared

    def _upload(self, entry: Entry) -> Flow[Started | Found]:
        source = entry.source
        metadata = dict([entry.key]) if entry.key else None
        if self.options.upload == "assets":
            job = yield from self._index_asset(entry, metadata)
            return Started(job) if not job.ready else Found(job.id, None, job.asset_id)
        upload = TaskUpload(
            index_id=self.index_id, file=source.path, video_url=source.url, user_metadata=metadata
        )
        with (yield from self.sending.take()):
            self.progress.set(source.source, "uploading")
            task = yield from create(upload, self.ctx)
        self.created.add(task.id)
        return Started(task)

    def _index_asset(self, entry: Entry, metadata: dict[str, Any] | None) -> Flow[IndexedAsset]:
        """Upload (once per account) and index (once per index) through assets."""
        source = entry.source
        if source.path is not None:

            def progress(done: int, total: int) -> None:
                if self.options.on_progress is not None:
                    self.options.on_progress(source.source, done, total)

            with (yield from self.sending.take()):
                self.progress.set(source.source, "uploading")
                asset = yield from self.uploader.upload(
                    source.path,
                    self.ctx,
                    timeout_s=self.options.timeout_s,
                    playable=True,
                    digest=entry.key[1] if entry.key and entry.key[0] == HASH_KEY else None,
                    max_concurrency=4,
                    on_progress=progress,
                )
        else:
            assert source.url is not None
            assert entry.key is not None
            self.progress.set(source.source, "uploading")
            creation = AssetCreation(url=source.url, user_metadata=dict([entry.key]))
            found = yield from find_by_metadata(self.ctx, creation.filename, *entry.key)
            made = found if found is not None and not found.failed else None
            if made is None:
                made = yield from create(creation, self.ctx)
            asset = yield from wait(made, self.ctx, timeout_s=self.options.timeout_s)
        # No status of its own here: the indexed asset's statuses follow (validating...).
        creation_ia = IndexedAssetCreation(self.index_id, asset.id, user_metadata=metadata)
        job: IndexedAsset = yield from create(creation_ia, self.ctx)
        if entry.key is not None:
            # Another process may have indexed the same content at the same moment.
            job = yield from converge_indexed(job, self.index_id, *entry.key, self.ctx)
        self.created.add(job.id)
        return job

    def _lookup(self, entry: Entry) -> Flow[Prepared | None]:
        self.progress.set(entry.source.source, "looking up")
        assert entry.key is not None
        if self.options.upload == "assets":
            # Indexed assets are the index's videos under their current name, listed in every
            # status with their metadata: one listing sees what the video list shows and what
            # a running task is making, so the two lookups below would add nothing here.
            indexed = yield from find_indexed(self.index_id, entry.key[0], entry.key[1], self.ctx)
            if indexed is None or indexed.failed:
                return None
            logger.info("reusing video %s for %s", indexed.id, _label(entry.source.source))
            if indexed.ready:
                return Found(indexed.id, None, indexed.asset_id)
            return Started(indexed)
        request = list_videos_request(self.index_id, user_metadata=dict([entry.key]))
        videos = yield from collect(request, self.ctx, "video list", Video.from_api, max_pages=1)
        for video in videos[:1]:
            logger.info("reusing video %s for %s", video.id, _label(entry.source.source))
            task_id = yield from self._task_id_for(video)
            return Found(video.id, task_id)
        if entry.source.path is None:
            return None
        # A task still running (or just finished) has no listed video yet; its file name is
        # all we can match now, so it is a candidate whose hash is checked once it is ready.
        name = entry.source.path.name
        running = yield from self._tasks_named(name, CANDIDATE_STATUSES)
        for task in running:
            if task.id in self.created:
                continue  # another input of this run (same name, other content)
            logger.info("waiting on running task %s for %s", task.id, _label(entry.source.source))
            return Started(task, candidate=True)
        return None

    def _tasks_named(self, filename: str, status: str | Sequence[str]) -> Flow[list[Task]]:
        """This index's tasks with ``status`` whose video has ``filename``."""
        request = list_tasks_request(
            index_id=self.index_id,
            status=status,
            filename=filename,
            page_limit=50,
            sort_by=None,
            sort_option=None,
        )
        tasks: list[Task]
        tasks, _ = yield from emitted(
            pages(
                request, self.ctx, "task list", lambda i: Task.from_api(i, index_id=self.index_id)
            )
        )
        return tasks

    def _existing(self, video_id: str) -> Flow[Found]:
        video = yield from retrieve_video(self.ctx, self.index_id, video_id)
        task_id = yield from self._task_id_for(video)
        return Found(video.id, task_id)

    def _task_id_for(self, video: Video) -> Flow[str | None]:
        name = video.system_metadata.filename
        if name is None:
            return None
        tasks = yield from self._tasks_named(name, "ready")
        return next((task.id for task in tasks if task.video_id == video.id), None)

    def _prepared(self, entry: Entry, value: Any, *, failed: bool) -> Flow[None]:
        if failed:
            self._fail(entry, value)
        elif isinstance(value, Found):
            yield from self._spawn_read(entry, value)
        elif isinstance(value, Started):
            if self.timed_out:
                self._fail(entry, _timed_out(value.task, self.options.timeout_s))
                return
            done = self.finished.get(value.task.id)
            if done is not None:
                yield from self._settle(entry, value, done)
                return
            self.waiting.setdefault(value.task.id, []).append((entry, value))
            self._on_update(value.task)
            self.wait.add(value.task)

    # -- waiting --------------------------------------------------------------------------

    def _waiter_event(self, kind: str, value: Any) -> Flow[None]:
        if kind == "emit":
            self.finished[value.id] = value
            for entry, started in self.waiting.pop(value.id, ()):
                yield from self._settle(entry, started, value)
        elif kind == "error":
            if not isinstance(value, TaskTimeoutError):
                raise value
            self.timed_out = True
            waiters = [waiter for group in self.waiting.values() for waiter in group]
            self.waiting.clear()
            for entry, started in waiters:
                task = self.last_seen.get(started.task.id, started.task)
                self._fail(entry, _timed_out(task, self.options.timeout_s))

    def _locate(self, job_id: str, ctx: Context) -> Flow[Job]:
        job: Job
        if job_id in self.created_indexed:
            job = yield from read_indexed(None, self.index_id, job_id, ctx)
        else:
            job = yield from fetch(TASKS, job_id, ctx)
        return job

    @property
    def created_indexed(self) -> set[str]:
        return {
            started.task.id
            for group in self.waiting.values()
            for _, started in group
            if isinstance(started.task, IndexedAsset)
        }

    def _on_update(self, task: Job) -> None:
        self.last_seen[task.id] = task
        if task.failed:
            return  # reported as the input's "failed" if it fails the input (see _settle)
        for entry, _ in self.waiting.get(task.id, ()):
            for source in entry.sources:
                self.progress.set(source, task.status)

    def _settle(self, entry: Entry, started: Started, task: Any) -> Flow[None]:
        try:
            mine = not started.candidate or (
                task.ready and (yield from self._verified(entry, task))
            )
        except FATAL_ERRORS:
            raise
        except Exception as exc:
            self._fail(entry, exc)
            return
        if not mine:
            logger.info("task %s is not for %s; uploading it", task.id, _label(entry.source.source))
            yield from self._spawn_prepare(entry, lookup=False)
        elif task.ready and isinstance(task, IndexedAsset):
            yield from self._spawn_read(entry, Found(task.id, None, task.asset_id))
        elif task.ready and task.video_id is not None:
            yield from self._spawn_read(entry, Found(task.video_id, task.id))
        else:
            self._fail(entry, task.kind.failure(task))

    def _verified(self, entry: Entry, task: Task) -> Flow[bool]:
        assert entry.key is not None
        if task.video_id is None:
            return False
        try:
            video = yield from retrieve_video(self.ctx, self.index_id, task.video_id)
        except NotFoundError:
            return False
        return bool(video.user_metadata.get(entry.key[0]) == entry.key[1])

    def _converge_video(self, key: tuple[str, str], found: Found) -> Flow[Found]:
        """The video this run's task made, or the one with the same content another process
        made at the same time (ours is then deleted): every run keeps the oldest.

        A task carries no metadata a listing shows, so twins are only seen as videos, once
        ready: an older same-named task still running is waited for first, so that the run
        whose task finished first cannot keep its video while an older one is on its way.
        """
        assert found.task_id is not None
        ours = yield from retrieve_video(self.ctx, self.index_id, found.video_id)
        name = ours.system_metadata.filename
        if name is not None:
            running = yield from self._tasks_named(name, RUNNING_STATUSES)
            seen = self.last_seen.get(found.task_id)
            mine = seen if seen is not None else Task(found.task_id, "ready", created_at=None)
            for task in running:
                if task.id not in self.created and oldest([task, mine]) is task:
                    with contextlib.suppress(TaskFailedError):  # a failed twin is no twin
                        yield from wait(task, self.ctx, timeout_s=self.options.timeout_s)
        request = list_videos_request(self.index_id, user_metadata=dict([key]))
        twins = yield from collect(request, self.ctx, "video list", Video.from_api, max_pages=1)
        chosen = kept(ours, twins)
        if chosen is ours:
            return found
        logger.info("video %s duplicates %s made at the same time", ours.id, chosen.id)
        yield from send(Request("DELETE", video_path(self.index_id, ours.id)), self.ctx)
        task_id = yield from self._task_id_for(chosen)
        return Found(chosen.id, task_id)

    # -- reading --------------------------------------------------------------------------

    def _read(self, entry: Entry, found: Found) -> Flow[tuple[Found, Video, list[TextPiece]]]:
        options = self.options
        if found.task_id is not None and found.task_id in self.created and entry.key is not None:
            found = yield from self._converge_video(entry.key, found)
        video = yield from retrieve_video(
            self.ctx, self.index_id, found.video_id, transcription="transcript" in options.content
        )
        asked = [kind for kind in options.content if kind != "transcript"]
        answers = (yield from self._analyses(video, asked)) if asked else {}
        pieces: list[TextPiece] = []
        for kind in options.content:
            if kind == "transcript":
                pieces += transcript_pieces(video, chunk_s=options.chunk_s)
            elif kind == "summary":
                pieces += summary_piece(answers[kind].result(), video_id=video.id)
            elif kind == "chapters":
                result = answers[kind].result({"type": "json_schema"})
                pieces += chapter_pieces(result, video_id=video.id)
            else:
                pieces += segment_pieces(answers[kind].segments())
        return found, video, pieces

    def _analyses(self, video: Video, kinds: Sequence[str]) -> Flow[dict[str, AnalysisTask]]:
        """One analysis task per kind, reused when this video already has its answer
        (cached by a ``custom_id`` naming the request), all waited for together."""
        if not video.asset_id:
            raise TaskFailedError(
                video.id,
                video_id=video.id,
                index_id=self.index_id,
                reason="the video has no asset_id, so Pegasus cannot read it (it was indexed "
                "before assets existed); index the file again with upload='assets'",
                noun="video",
            )
        tasks: dict[str, AnalysisTask] = {}
        for kind in kinds:
            body = self._analysis_body(kind)
            task = yield from create_analysis(
                video.asset_id, body, self.ctx, self.uploader, reuse=True
            )
            tasks[kind] = task
        pending = [task for task in tasks.values() if not task.done]
        if pending:
            waiting = WaitMany(pending, self.ctx, locate=reader_of(ANALYSIS_TASKS))
            finished, _ = yield from emitted(waiting.flow())
            latest = {task.id: task for task in finished}
            tasks = {kind: latest.get(task.id, task) for kind, task in tasks.items()}
        for task in tasks.values():
            if task.failed:
                # Name the video: the task itself only knows its asset.
                raise TaskFailedError(
                    task.id,
                    video_id=video.id,
                    index_id=self.index_id,
                    filename=video.system_metadata.filename,
                    reason=task.failure_reason,
                    task=task,
                    noun=task.kind.noun,
                )
        for task in tasks.values():
            yield from with_result(task, self.ctx)  # a webhook event carried no result
        return tasks

    def _analysis_body(self, kind: str) -> dict[str, Any]:
        options = self.options
        # A summary and chapters are one prompt each (chapters answered as JSON); segments
        # have no prompt: their definitions are wrapped around the same base body.
        prompts = {"summary": options.summary_prompt, "chapters": options.chapters_prompt}
        body = analysis_body(
            model=options.pegasus_model,
            prompt=prompts.get(kind),
            temperature=None,
            max_tokens=None,
            response_format=CHAPTERS_FORMAT if kind == "chapters" else None,
            start_s=None,
            end_s=None,
        )
        if kind in prompts:
            return body
        definitions = options.segment_definitions or DEFAULT_SEGMENTS
        return segmentation_body(
            definitions=list(definitions),
            min_segment_s=None,
            max_segment_s=None,
            custom_id=None,
            base=body,
        )

    def _read_done(self, entry: Entry, kind: str, value: Any) -> Flow[None]:
        if kind == "error":
            self._fail(entry, value)
            return
        found, video, pieces = value
        sources = self.claims.settle(entry, found)
        meta = video.system_metadata
        for source in sources:
            info = VideoInfo(
                source,
                video.id,
                self.index_id,
                task_id=found.task_id,
                filename=meta.filename,
                duration_s=meta.duration,
                asset_id=video.asset_id or found.asset_id,
            )
            self.progress.finish(source, "done")
            yield Emit(VideoRecord(info, tuple(pieces)))

    def _fail(self, entry: Entry, exc: BaseException) -> None:
        for source in self.claims.settle(entry, exc):
            self.tally.fail(source, exc)
            self.progress.finish(source, "failed")


def _journal_of(owner: Any) -> UploadJournal:
    assets = getattr(owner, "assets", None)
    journal = getattr(assets, "_journal", None)
    return journal if isinstance(journal, UploadJournal) else UploadJournal()


def _timed_out(task: Job, timeout_s: float | None) -> TaskTimeoutError:
    return TaskTimeoutError(
        task.id, last_status=task.status, timeout_s=timeout_s, noun=task.kind.noun
    )


def _ingest(
    ctx: Context, options: IngestOptions, sources: list[VideoSource], tally: Tally
) -> Flow[None]:
    # Made first: a missing tqdm is reported before anything is sent.
    progress = Progress.for_run(sources, options)
    try:
        yield from _Run(ctx, options, tally, progress).flow(sources)
    finally:
        progress.close()


class VideoIngest:
    """Videos in, text records out: upload (once), wait, and read what TwelveLabs knows.

    Inputs are checked before anything is sent. Each local file's SHA-256 (streamed) is put
    in the video's ``user_metadata``; a later run finds the video by it and uploads nothing.
    At most ``options.max_concurrency`` inputs hash or upload at a time, and the look-ups
    and reads of up to four times as many go on beside them; every
    task joins one shared wait as soon as it is created, and a :class:`VideoRecord` is
    yielded as soon as each video is ready and read.

    Args:
        client: the client to use (not closed here).
        options: what to produce and how (:class:`IngestOptions`).

    Example:
        >>> from tl_integrations import TwelveLabs
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

        Example:
            >>> failed: list[IngestFailure] = []
            >>> options = IngestOptions(index_name="talks", on_error="skip")
            >>> ingest = VideoIngest(client, options)  # doctest: +SKIP
            >>> for record in ingest.run(["talk.mp4", "talks/"], failures=failed):  # doctest: +SKIP
            ...     print(record.video.video_id, len(record.pieces))
        """
        sources = resolve_inputs(videos, max_bytes=upload_limit(self.options.upload))
        tally = Tally(on_error=self.options.on_error, failures=failures)
        return self.client._iterate(_ingest(self.client._ctx, self.options, sources, tally))


class AsyncVideoIngest:
    """The asyncio :class:`VideoIngest`: ``async for record in ingest.run(videos)``.

    Example:
        >>> async with AsyncTwelveLabs() as client:  # doctest: +SKIP
        ...     async for record in AsyncVideoIngest(client, options).run(["talk.mp4"]):
        ...         print(record.video.video_id)
    """

    def __init__(self, client: AsyncTwelveLabs, options: IngestOptions) -> None:
        self.client = client
        self.options = options

    # The same body as the sync run: on an async client ``_iterate`` gives an async iterator.
    run = streamed(VideoIngest.run)
