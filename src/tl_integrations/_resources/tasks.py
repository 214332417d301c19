"""Video indexing tasks (``/tasks``): the model, the task kind, and ``client.tasks``.

The one-step upload + index that the official SDK's older examples use. The API marks it
for removal (new code uploads an asset, then indexes it: :mod:`.assets`), but it is still
served, and the seed programs run on it unchanged.

Never upload twice: every ``POST /tasks`` carries an upload token in ``user_metadata``
(``tl_upload_token``). When the POST may have reached the server but no answer came back
(a timeout, a dropped connection, a 5xx), :class:`TaskUpload` looks for what the server made
before sending the file again: a video carrying the token, or, while it is still being
indexed, one of the running or failed tasks of the index with the upload's file name (any
name, for a URL) that the server created since the upload began (its ``Date`` against their
``created_at``). Running ones are waited for (at most ``CANDIDATE_WAIT_S``) and the token
looked up again; the newest one, if it failed (a failed video is never listed), is the
upload's own. Only when none of them can be it is the file sent again.

Example:
    >>> task = Task.from_api({"_id": "t1", "status": "indexing", "index_id": "i1",
    ...                       "system_metadata": {"filename": "a.mp4", "duration": 12.5}})
    >>> task.id, task.done, task.duration_s
    ('t1', False, 12.5)
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar, TypeVar

import orjson

from .._engine import (
    Creation,
    Job,
    JobRef,
    Locate,
    TaskKind,
    WaitMany,
    create,
    fetch,
    job_id_of,
    wait,
    wait_for_done,
)
from .._errors import InvalidRequestError, TaskFailedError, TaskTimeoutError, TwelveLabsError
from .._flows import Context, Flow, emitted
from .._paging import PAGE_LIMIT_MAX, collect, pages
from .._polling import check_timeout
from .._transport import Reply, Request, path_segment, send, send_json, server_now
from .._uploads import VideoFile, check_video_name, video_source
from .._wire import as_object, field_spec, parse_page, read_fields, req_str
from . import AsyncJobResource, JobResource, awaited, streamed
from .videos import SystemMetadata, check_page_limit, list_videos_request

__all__ = [
    "TASKS",
    "UPLOAD_TOKEN_KEY",
    "AsyncTasks",
    "IndexingEvent",
    "IndexingTasks",
    "Task",
    "TaskUpload",
    "Tasks",
    "check_user_metadata",
    "epoch_s",
    "from_indexing_event",
    "indexing_event",
]

logger = logging.getLogger("tl_integrations")

UPLOAD_TOKEN_KEY = "tl_upload_token"
# At most this many candidates are waited for, for at most this long, before the upload is
# sent again (or, past the wait, not at all: sending again could pay twice).
CANDIDATES = 5
CANDIDATE_WAIT_S = 900.0
# Slack when comparing a candidate's created_at with the server's Date (1 s resolution,
# possibly from another machine than the one that stamped created_at).
CANDIDATE_MARGIN_S = 60.0
_LOOKUP_PAGES = 4

OnUpdate = Callable[["Task"], object]


@dataclass(eq=False)
class Task(Job):
    """A video indexing task (``/tasks``): upload plus indexing of one video.

    ``status`` goes ``validating -> pending -> queued -> indexing -> ready | failed``; any
    status other than ``ready`` and ``failed`` (including ones this library does not know)
    counts as not done.

    Example:
        >>> task = Task.from_api({"_id": "t1", "status": "ready", "video_id": "v1"})
        >>> task.done, task.ready, task.failed
        (True, True, False)
    """

    index_id: str | None = None
    video_id: str | None = None
    system_metadata: SystemMetadata = field(default_factory=SystemMetadata)
    hls: dict[str, Any] | None = None

    @property
    def kind(self) -> IndexingTasks:
        """The task kind of indexing tasks."""
        return TASKS

    @property
    def duration_s(self) -> float | None:
        """The video's duration in seconds, when the platform reported it."""
        return self.system_metadata.duration

    @classmethod
    def from_api(cls, data: Any, *, index_id: str | None = None) -> Task:
        """Parse a task object; ``index_id`` fills in a missing ``index_id``."""
        obj = data if type(data) is dict else as_object(data, "task")
        what = f"task {obj.get('_id', '?')}"
        older = "_id" not in obj and "id" in obj
        fields = read_fields(obj, what, _TASK_FIELDS_V12 if older else _TASK_FIELDS)
        fields["status"] = fields["status"] or "unknown"
        fields["index_id"] = fields["index_id"] or index_id
        meta = obj.get("system_metadata", obj.get("metadata"))
        return cls(**fields, system_metadata=SystemMetadata.from_api(meta), raw=obj)


_TASK_FIELDS = field_spec(
    id=("_id", "id"),
    status="str",
    index_id="str",
    video_id="str",
    created_at="str",
    updated_at="str",
    hls="obj",
)
# Some answers (webhook payloads, older API versions) name the id ``id``.
_TASK_FIELDS_V12 = (("id", "id", "id"), *_TASK_FIELDS[1:])


class IndexingTasks(TaskKind[Task]):
    """The task kind of ``/tasks``: pending tasks of one index are listed together.

    Example:
        >>> TASKS.listings("i1", ["t1", "t2"])[0].params["status"][0]
        'uploading'
    """

    noun: ClassVar[str] = "task"
    evented: ClassVar[bool] = True  # index.task.* webhooks
    pending: ClassVar[tuple[str, ...]] = (
        "uploading",
        "validating",
        "pending",
        "queued",
        "indexing",
    )

    def retrieve(self, job_id: str) -> Request:
        """``GET /tasks/{task_id}`` (which includes ``hls``)."""
        return Request("GET", f"/tasks/{path_segment(job_id, 'task_id')}")

    def parse(self, reply: Reply, *, like: Task | None) -> Task:
        """The task in a retrieve reply; a task the server answered for another id is refused."""
        task = Task.from_api(reply.json(), index_id=like.index_id if like is not None else None)
        return task

    def group(self, job: Task) -> Hashable | None:
        """Tasks of one index are listed together."""
        return job.index_id

    def listings(self, group: Hashable, ids: Sequence[str]) -> list[Request]:
        """The non-terminal tasks of the index (every page is read)."""
        params = {"index_id": group, "status": list(self.pending), "page_limit": PAGE_LIMIT_MAX}
        return [Request("GET", "/tasks", params=params)]

    def finished_listing(self, group: Hashable) -> Request | None:
        """The most recently finished tasks of the index (one page)."""
        params = {
            "index_id": group,
            "status": ["ready", "failed"],
            "sort_by": "updated_at",
            "sort_option": "desc",
            "page_limit": PAGE_LIMIT_MAX,
        }
        return Request("GET", "/tasks", params=params)

    def parse_item(self, item: Any, group: Hashable) -> Task:
        """One task of a list page."""
        return Task.from_api(item, index_id=str(group))

    def from_event(self, data: Mapping[str, Any], like: Task | None) -> Task | None:
        """The task as an ``index.task.*`` event tells it: the status (and duration) over
        what was known, so a task that ends costs no request."""
        return from_indexing_event(data, like, Task.from_api)

    def failure(self, job: Task) -> TaskFailedError:
        """The error for a failed task, with every detail the server gave."""
        return TaskFailedError(
            job.id,
            video_id=job.video_id,
            index_id=job.index_id,
            filename=job.system_metadata.filename,
            reason=job.failure_reason,
            task=job,
        )


TASKS = IndexingTasks()


@dataclass(frozen=True)
class IndexingEvent:
    """What an ``index.task.*`` event's data says about the task or indexed asset.

    Example:
        >>> indexing_event({"id": "t1", "status": "ready", "metadata": {"duration": 9}})
        IndexingEvent(job_id='t1', status='ready', duration_s=9.0)
    """

    job_id: str
    status: str
    duration_s: float | None


JobT = TypeVar("JobT", bound=Job)


def from_indexing_event(
    data: Mapping[str, Any], like: JobT | None, parse: Callable[[dict[str, Any]], JobT]
) -> JobT | None:
    """A job (task or indexed asset) as an ``index.task.*`` event tells it: ``like`` with
    the event's status (and duration, when unknown); built by ``parse`` without ``like``.

    Example:
        >>> from_indexing_event({"id": "t1", "status": "failed"}, Task("t1", "indexing"),
        ...                     Task.from_api).status
        'failed'
    """
    event = indexing_event(data)
    if event is None:
        return None
    if like is None:
        meta = {"duration": event.duration_s}
        return parse({"_id": event.job_id, "status": event.status, "system_metadata": meta})
    changes: dict[str, Any] = {"status": event.status, "raw": {**like.raw, "status": event.status}}
    system = getattr(like, "system_metadata", None)
    if isinstance(system, SystemMetadata) and system.duration is None:
        changes["system_metadata"] = dataclasses.replace(system, duration=event.duration_s)
    return dataclasses.replace(like, **changes)


def indexing_event(data: Mapping[str, Any]) -> IndexingEvent | None:
    """The id, status and duration in an ``index.task.*`` event's data; None without an id
    and a status (the job is then read instead).

    Example:
        >>> indexing_event({"id": "t1"}) is None
        True
    """
    job_id, status, meta = data.get("id"), data.get("status"), data.get("metadata")
    if not isinstance(job_id, str) or not isinstance(status, str) or not status:
        return None
    duration = meta.get("duration") if isinstance(meta, Mapping) else None
    seconds = float(duration) if isinstance(duration, (int, float)) and duration >= 0 else None
    return IndexingEvent(job_id, status, None if isinstance(duration, bool) else seconds)


def _read_task(job_id: str, ctx: Context) -> Flow[Job]:
    task = yield from fetch(TASKS, job_id, ctx)
    return task


def check_user_metadata(user_metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """User metadata maps strings to str, int, float, bool or a list of strings.

    Example:
        >>> check_user_metadata({"team": "blue", "tags": ["a", "b"]})
        {'team': 'blue', 'tags': ['a', 'b']}
    """
    metadata = dict(user_metadata or {})
    for key, value in metadata.items():
        scalar = isinstance(value, (str, int, float, bool))
        strings = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not isinstance(key, str) or not (scalar or strings):
            raise InvalidRequestError(
                "user_metadata must map strings to str, int, float, bool or a list of "
                f"strings; got {key!r}: {value!r}"
            )
    return metadata


def epoch_s(timestamp: str | None) -> float | None:
    """An RFC 3339 timestamp as epoch seconds, or None when absent or unreadable.

    Example:
        >>> epoch_s("2024-01-01T00:00:00.250Z"), epoch_s("soon")
        (1704067200.25, None)
    """
    if not timestamp:
        return None
    try:
        parsed = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def created_since(tasks: list[Task], *, now: float | None, elapsed_s: float) -> list[Task]:
    """The tasks the server created at most ``elapsed_s`` (plus a margin) before ``now``.

    Without the server's time (no ``Date`` header) or a readable ``created_at``, a task
    is kept.

    Example:
        >>> old = Task("a", "failed", created_at="2024-01-01T00:00:00Z")
        >>> new = Task("b", "failed", created_at="2024-01-01T01:00:00.5Z")
        >>> [t.id for t in created_since([new, old], now=1704070810.0, elapsed_s=5.0)]
        ['b']
    """
    if now is None:
        return tasks
    cutoff = now - elapsed_s - CANDIDATE_MARGIN_S
    return [task for task in tasks if (epoch_s(task.created_at) or cutoff) >= cutoff]


def failed_own(candidates: list[Task], finished: Iterable[Task]) -> str | None:
    """The id of the upload's own task when it failed, else None.

    A failed video is never listed, so its token cannot be checked; a stored upload is the
    newest task with its file name, so the newest candidate is taken to be it when it ended
    failed (as last seen in ``finished``).

    Example:
        >>> failed_own([Task("b", "failed"), Task("a", "failed")], [])
        'b'
    """
    if not candidates:
        return None
    latest = {task.id: task for task in finished}
    newest = latest.get(candidates[0].id, candidates[0])
    return newest.id if newest.failed else None


class TaskUpload(Creation[Task]):
    """One ``POST /tasks``: built (and the file checked) before any byte is sent.

    A ``tl_upload_token`` already in ``user_metadata`` is kept, which makes a create
    idempotent across processes too.

    Example:
        >>> upload = TaskUpload(index_id="i1", video_url="https://example.com/a.mp4")
        >>> upload.request.method, upload.token in upload.request.form["user_metadata"]
        ('POST', True)
    """

    def __init__(
        self,
        *,
        index_id: str,
        file: VideoFile | None = None,
        video_url: str | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        enable_video_stream: bool | None = None,
    ) -> None:
        path_segment(index_id, "index_id")
        if (file is None) == (video_url is None):
            raise InvalidRequestError(
                "pass exactly one of file= (a path or binary file) or video_url="
            )
        metadata = check_user_metadata(user_metadata)
        self.token = str(metadata.get(UPLOAD_TOKEN_KEY) or uuid.uuid4().hex)
        metadata[UPLOAD_TOKEN_KEY] = self.token
        source = video_source(file) if file is not None else None
        if source is not None and source.path is not None:
            check_video_name(str(file))
        self.index_id = index_id
        self.filename = source.filename if source is not None else None
        form = {
            "index_id": index_id,
            "video_url": video_url,
            "enable_video_stream": enable_video_stream,
            "user_metadata": orjson.dumps(metadata).decode(),
        }
        files = {"video_file": source} if source is not None else {}
        super().__init__(Request("POST", "/tasks", form=form, files=files))

    def created(self, reply: Reply) -> Task:
        """The task answered (``{"_id", "video_id"}``); it starts ``validating``.

        The POST returns once the upload is complete, so no extra GET is spent on it.
        """
        obj = as_object(reply.json(), "created task")
        task = Task.from_api({"status": "validating", **obj}, index_id=self.index_id)
        if task.system_metadata.filename is None and self.filename:
            task.system_metadata = SystemMetadata(filename=self.filename)
        return task

    def find(self, ctx: Context, error: TwelveLabsError, started: float) -> Flow[Task | None]:
        """The task of an upload the server may have stored, None when it has not.

        Raises:
            the original ``error`` when running candidates are still not finished after
            ``CANDIDATE_WAIT_S``: sending again could pay twice.
        """
        # Candidates first: a task that finishes between the two look-ups is then found by
        # its token (in the other order it could be in neither).
        candidates = yield from self._candidates(ctx, started)
        found = yield from self._find_by_token(ctx)
        running = [task for task in candidates if not task.done]
        if found is not None or not candidates:
            return found
        if running:
            logger.info("upload %s may be a running task; waiting", self.token)
        waiting = WaitMany(running, ctx, locate=_read_task, timeout_s=CANDIDATE_WAIT_S)
        try:
            finished, _ = yield from emitted(waiting.flow())
        except TaskTimeoutError:
            logger.warning("upload %s: cannot tell if it was stored; not sent again", self.token)
            raise error from None
        if running:
            found = yield from self._find_by_token(ctx)
        failed = failed_own(candidates, finished)
        if found is None and failed is not None:
            logger.info("upload %s: taking failed task %s as its own", self.token, failed)
            found = yield from fetch(TASKS, failed, ctx)
        return found

    def _candidates(self, ctx: Context, started: float) -> Flow[list[Task]]:
        """Running or failed tasks of the index (with the upload's file name when known)
        that the server created since the upload began, newest first."""
        params = {
            "index_id": self.index_id,
            "filename": self.filename,
            "status": [*TASKS.pending, "failed"],
            "sort_by": "created_at",
            "sort_option": "desc",
            "page_limit": CANDIDATES,
        }
        reply = yield from send(Request("GET", "/tasks", params=params), ctx)
        items, _ = parse_page(reply.json(), "task list")
        tasks = [Task.from_api(item, index_id=self.index_id) for item in items[:CANDIDATES]]
        elapsed_s = ctx.clock() - started
        return created_since(tasks, now=server_now(reply.headers), elapsed_s=elapsed_s)

    def _find_by_token(self, ctx: Context) -> Flow[Task | None]:
        request = list_videos_request(
            self.index_id, user_metadata={UPLOAD_TOKEN_KEY: self.token}, page_limit=1
        )
        body = yield from send_json(request, ctx)
        items, _ = parse_page(body, "video list")
        if not items:
            return None
        video_id = req_str(as_object(items[0], "video"), "_id", "video")
        params = {
            "index_id": self.index_id,
            "filename": self.filename,
            "sort_by": "created_at",
            "sort_option": "desc",
            "page_limit": PAGE_LIMIT_MAX,
        }
        recent = yield from collect(
            Request("GET", "/tasks", params=params),
            ctx,
            "task list",
            lambda item: Task.from_api(item, index_id=self.index_id),
            max_pages=_LOOKUP_PAGES,
        )
        for task in recent:
            if task.video_id == video_id:
                return task
        # The API often gives a task the id of its video; worth one GET before giving up.
        try:
            task = yield from fetch(TASKS, video_id, ctx)
        except TwelveLabsError:
            logger.warning("video %s was stored but its task was not found", video_id)
            return None
        return task


def list_tasks_request(
    *,
    index_id: str | None,
    status: str | Iterable[str] | None,
    filename: str | None,
    page_limit: int,
    sort_by: str | None,
    sort_option: str | None,
) -> Request:
    """``GET /tasks`` with repeated ``status`` keys."""
    statuses = [status] if isinstance(status, str) else (list(status) if status else None)
    params = {
        "index_id": None if index_id is None else path_segment(index_id, "index_id"),
        "status": statuses,
        "filename": filename,
        "page_limit": check_page_limit(page_limit),
        "sort_by": sort_by,
        "sort_option": sort_option,
    }
    return Request("GET", "/tasks", params=params)


def _list(request: Request, index_id: str | None, ctx: Context) -> Flow[None]:
    yield from pages(request, ctx, "task list", lambda item: _bound(item, index_id, ctx))


def _bound(item: Any, index_id: str | None, ctx: Context) -> Task:
    return Task.from_api(item, index_id=index_id)._bind(ctx.owner)


def _delete(task_id: JobRef, ctx: Context) -> Flow[None]:
    yield from send(Request("DELETE", TASKS.retrieve(job_id_of(task_id)).path), ctx)


def _wait_for_done(
    task_id: str | Task,
    ctx: Context,
    sleep_interval: float,
    callback: OnUpdate | None,
    timeout_s: float | None,
) -> Flow[Task]:
    task = task_id if isinstance(task_id, Task) else (yield from fetch(TASKS, task_id, ctx))
    done: Task = yield from wait_for_done(
        task, ctx, sleep_interval=sleep_interval, callback=callback, timeout_s=timeout_s
    )
    return done


def _create_and_wait(upload: TaskUpload, ctx: Context, **wait_options: Any) -> Flow[Task]:
    task = yield from create(upload, ctx)
    done: Task = yield from wait(task, ctx, **wait_options)
    return done


class Tasks(JobResource[Task]):
    """``client.tasks`` (alias ``client.task``): upload a video into an index and wait.

    Example:
        >>> task = client.tasks.create(index_id=index.id, file="talk.mp4")  # doctest: +SKIP
        >>> task = client.tasks.wait(task, timeout_s=900)  # doctest: +SKIP
        >>> task.video_id  # doctest: +SKIP
        '6650a1b2c3d4e5f601234567'
    """

    def _locator(self) -> Locate:
        return _read_task

    def create(
        self,
        *,
        index_id: str,
        file: VideoFile | None = None,
        video_url: str | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        enable_video_stream: bool | None = None,
    ) -> Task:
        """Upload a video (streamed from disk) or a URL into an index; returns at once.

        A local path is checked before any byte is sent. The upload is never made twice: if
        the POST may have reached the server without an answer (timeout, dropped connection,
        5xx), the upload is looked for (see the module docstring) before it is sent again.

        Raises:
            InvalidVideoError: the file is missing, empty, not a regular file or over 2 GB.
            InvalidRequestError: both or neither of ``file`` and ``video_url``.

        Example:
            >>> client.tasks.create(index_id=index_id, file="talk.mp4").status  # doctest: +SKIP
            'validating'
        """
        upload = TaskUpload(
            index_id=index_id,
            file=file,
            video_url=video_url,
            user_metadata=user_metadata,
            enable_video_stream=enable_video_stream,
        )
        return self._client._run(create(upload, self._ctx))

    def retrieve(self, task_id: str | Task) -> Task:
        """Fetch a task (``GET /tasks/{task_id}``, which includes ``hls``).

        Raises:
            NotFoundError: no such task.

        Example:
            >>> client.tasks.retrieve("6650a1b2c3d4e5f601234567").status  # doctest: +SKIP
            'ready'
        """
        return self._client._run(fetch(TASKS, task_id, self._ctx))

    def delete(self, task_id: str | Task) -> None:
        """Delete a task; only ``ready`` or ``failed`` tasks can be deleted.

        Example:
            >>> client.tasks.delete(task_id)  # doctest: +SKIP
        """
        return self._client._run(_delete(task_id, self._ctx))

    def create_and_wait(
        self,
        *,
        index_id: str,
        file: VideoFile | None = None,
        video_url: str | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        enable_video_stream: bool | None = None,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> Task:
        """:meth:`create` then :meth:`wait`; ``timeout_s`` bounds the wait only.

        Example:
            >>> client.tasks.create_and_wait(index_id=index_id, file="talk.mp4")  # doctest: +SKIP
        """
        upload = TaskUpload(
            index_id=index_id,
            file=file,
            video_url=video_url,
            user_metadata=user_metadata,
            enable_video_stream=enable_video_stream,
        )
        timeout_s = check_timeout(timeout_s)  # before the upload: a task it made would be lost
        flow = _create_and_wait(upload, self._ctx, timeout_s=timeout_s, on_update=on_update)
        return self._client._run(flow)

    def list(
        self,
        *,
        index_id: str | None = None,
        status: str | Iterable[str] | None = None,
        filename: str | None = None,
        page_limit: int = PAGE_LIMIT_MAX,
        sort_by: str | None = None,
        sort_option: str | None = None,
    ) -> Iterator[Task]:
        """Iterate over tasks (all pages), filtered by index, status(es) and file name.

        Example:
            >>> failed = client.tasks.list(index_id=index_id, status="failed")  # doctest: +SKIP
            >>> [task.id for task in failed]  # doctest: +SKIP
            []
        """
        request = list_tasks_request(
            index_id=index_id,
            status=status,
            filename=filename,
            page_limit=page_limit,
            sort_by=sort_by,
            sort_option=sort_option,
        )
        return self._client._iterate(_list(request, index_id, self._ctx))


class AsyncTasks(AsyncJobResource[Task]):
    """``client.tasks`` of :class:`~tl_integrations.AsyncTwelveLabs` (same methods, awaited).

    Example:
        >>> task = await client.tasks.create_and_wait(index_id=i, file="a.mp4")  # doctest: +SKIP
    """

    _locator = Tasks._locator

    create = awaited(Tasks.create)
    retrieve = awaited(Tasks.retrieve)
    delete = awaited(Tasks.delete)
    create_and_wait = awaited(Tasks.create_and_wait)
    list = streamed(Tasks.list)
