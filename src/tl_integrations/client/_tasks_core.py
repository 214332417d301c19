"""The pure core of ``client.tasks``: upload plans, de-duplication, and ``wait_many`` planning.

Never upload twice: every ``POST /tasks`` carries an upload token in ``user_metadata``
(``tl_upload_token``). When the POST may have reached the server but no answer came back (a
timeout, a dropped connection, a 5xx), the shells look for a video carrying that token before
sending the file again. A video is listed only once it is ready, so the running (and failed)
tasks with the same file name are listed first; when no video carries the token, the running
ones are waited for (at most ``CANDIDATE_WAIT_S``) and the token looked up again; the newest
one, if it failed (a failed video is never listed), is taken as the upload's own. Only tasks
the server created after the upload began (its ``Date`` against their ``created_at``) are
candidates. Only when none of them can be it is the file sent again.

``wait_many`` polls with the list endpoint: while two or more pending tasks share an index,
one ``GET /tasks?index_id=...&status=<non-terminal statuses>`` (50 a page) tells which of them
are still running; those that dropped out of it are resolved with one
``GET /tasks?status=ready&status=failed&sort_by=updated_at`` page, and any left over (or any
task whose index is unknown or whose status is not one we know) with ``GET /tasks/{id}``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from .._http import can_resend, transport_failure
from ..errors import (
    APIConnectionError,
    InvalidRequestError,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
    TwelveLabsError,
)
from ..models import SystemMetadata, Task, as_object
from ..polling import PollPolicy, PollState
from ..retrying import Outcome, RetryPolicy
from ..uploads import VideoFile, video_source
from . import _stored
from ._calls import Call, check_id, check_page_limit, list_call, seg

__all__ = [
    "PAGE_SIZE",
    "PENDING_STATUSES",
    "UPLOAD_TOKEN_KEY",
    "BatchWait",
    "UploadPlan",
    "task_failed_error",
]

logger = logging.getLogger("tl_integrations")

UPLOAD_TOKEN_KEY = "tl_upload_token"
PENDING_STATUSES = ("uploading", "validating", "pending", "queued", "indexing")
TERMINAL_STATUSES = ("ready", "failed")
_LOOKUP_PAGES = 4
PAGE_SIZE = 50


def task_id_of(ref: str | Task) -> str:
    """The id of a task given as an id or a Task."""
    if isinstance(ref, Task):
        return ref.id
    return check_id(ref, "task_id")


def task_status(task: Task) -> str:
    """Status accessor for the wait shells."""
    return task.status


def task_duration(task: Task) -> float | None:
    """Duration accessor for the wait shells (spaces out checks of long videos)."""
    return task.system_metadata.duration


def task_failed_error(task: Task) -> TaskFailedError:
    """The error for a failed task, with every detail the server gave."""
    return TaskFailedError(
        task.id,
        video_id=task.video_id,
        index_id=task.index_id,
        filename=task.system_metadata.filename,
        reason=task.failure_reason,
        task=task,
    )


def task_path(task_id: str) -> str:
    """``/tasks/{task_id}``."""
    return f"/tasks/{seg(task_id, 'task_id')}"


def list_tasks(
    *,
    index_id: str | None,
    status: str | Iterable[str] | None,
    filename: str | None,
    page_limit: int,
    sort_by: str | None,
    sort_option: str | None,
) -> Call:
    """``GET /tasks`` with repeated ``status`` keys."""
    statuses = [status] if isinstance(status, str) else (list(status) if status else None)
    params = {
        "index_id": None if index_id is None else check_id(index_id, "index_id"),
        "status": statuses,
        "filename": filename,
        "page_limit": check_page_limit(page_limit),
        "sort_by": sort_by,
        "sort_option": sort_option,
    }
    return list_call("/tasks", params)


def _check_metadata(user_metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    metadata = dict(user_metadata or {})
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, (str, int, float, bool)):
            raise InvalidRequestError(
                f"user_metadata must map strings to str, int, float or bool; got {key!r}: {value!r}"
            )
    return metadata


@dataclass(frozen=True)
class UploadPlan:
    """Everything ``POST /tasks`` sends, built (and the file validated) before any request.

    A ``tl_upload_token`` already in ``user_metadata`` is kept, which makes a create
    idempotent across processes too.
    """

    index_id: str
    form: Mapping[str, Any]
    files: Mapping[str, Any]
    token: str
    filename: str | None

    @classmethod
    def build(
        cls,
        *,
        index_id: str,
        file: VideoFile | None,
        video_url: str | None,
        user_metadata: Mapping[str, Any] | None,
        enable_video_stream: bool | None,
    ) -> UploadPlan:
        """Validate the arguments (and the local file) and build the plan."""
        check_id(index_id, "index_id")
        if (file is None) == (video_url is None):
            raise InvalidRequestError(
                "pass exactly one of file= (a path or binary file) or video_url="
            )
        metadata = _check_metadata(user_metadata)
        token = str(metadata.get(UPLOAD_TOKEN_KEY) or uuid.uuid4().hex)
        metadata[UPLOAD_TOKEN_KEY] = token
        source = video_source(file) if file is not None else None
        form = {
            "index_id": index_id,
            "video_url": video_url,
            "enable_video_stream": enable_video_stream,
            "user_metadata": _json(metadata),
        }
        files = {"video_file": source} if source is not None else {}
        filename = source.filename if source is not None else None
        return cls(index_id=index_id, form=form, files=files, token=token, filename=filename)

    @property
    def resendable(self) -> bool:
        """False when the video is a non-seekable stream, which can be sent only once."""
        return can_resend(self.files)

    def call(self) -> Call:
        """The POST itself (retried by ``_request`` only when that is safe)."""
        return Call("POST", "/tasks", data=self.form, files=self.files)

    def find_video_call(self) -> Call:
        """The videos of the index carrying this upload's token."""
        params = {UPLOAD_TOKEN_KEY: self.token, "page_limit": 1}
        return Call("GET", f"/indexes/{seg(self.index_id, 'index_id')}/videos", params=params)

    def candidates_call(self) -> Call | None:
        """The newest running or failed tasks of the index with this file name (None for a
        URL): the upload, if the server stored it, is the newest of them (see
        :func:`~._stored.created_since` for telling it from older ones)."""
        if self.filename is None:
            return None
        params = {
            "index_id": self.index_id,
            "filename": self.filename,
            "status": [*PENDING_STATUSES, "failed"],
            "sort_by": "created_at",
            "sort_option": "desc",
            "page_limit": _stored.CANDIDATES,
        }
        return Call("GET", "/tasks", params=params)

    def find_task_call(self, page: int) -> Call:
        """Recent tasks of the index (for this file name, when known), newest first."""
        params = {
            "index_id": self.index_id,
            "filename": self.filename,
            "sort_by": "created_at",
            "sort_option": "desc",
            "page_limit": PAGE_SIZE,
            "page": page,
        }
        return Call("GET", "/tasks", params=params)

    def created(self, body: Any, client: Any) -> Task:
        """The Task answered by ``POST /tasks`` (``{"_id", "video_id"}``).

        The POST returns once the upload is complete, so the status starts at
        ``validating`` unless the server said otherwise; no extra GET is spent on it.
        """
        obj = as_object(body, "created task")
        task = Task.from_api({"status": "validating", **obj}, index_id=self.index_id, client=client)
        if task.system_metadata.filename is None and self.filename:
            task.system_metadata = SystemMetadata(filename=self.filename)
        return task


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def may_have_arrived(error: TwelveLabsError) -> bool:
    """True when a failed POST may nevertheless have been stored by the server."""
    if isinstance(error, ServerError):
        return True
    cause = error.__cause__
    if isinstance(error, APIConnectionError) and isinstance(cause, httpx.TransportError):
        return transport_failure(cause) == "maybe_sent"
    return False


def redo_delay_s(policy: RetryPolicy, attempt: int, error: TwelveLabsError) -> float | None:
    """Delay before re-sending an upload that is known not to be stored (None: give up)."""
    status = getattr(error, "status_code", None)
    outcome = Outcome(
        status_code=status if isinstance(status, int) else None,
        transport_failure=None if isinstance(status, int) else "maybe_sent",
        idempotent=True,
    )
    return policy.decide(attempt, outcome)


def first_video_id(body: Any) -> str | None:
    """The id of the first video in a list page, if any."""
    data = as_object(body, "video list").get("data") or []
    if not isinstance(data, list) or not data:
        return None
    first = as_object(data[0], "video")
    video_id = first.get("_id")
    return str(video_id) if video_id else None


def match_video(body: Any, video_id: str, index_id: str, client: Any) -> tuple[Task | None, bool]:
    """Find the task of ``video_id`` in a task list page; also say whether more pages exist."""
    obj = as_object(body, "task list")
    items = obj.get("data") or []
    for item in items if isinstance(items, list) else []:
        entry = as_object(item, "task")
        if entry.get("video_id") == video_id:
            return Task.from_api(entry, index_id=index_id, client=client), False
    info = obj.get("page_info")
    total = info.get("total_page") if isinstance(info, dict) else None
    page = info.get("page") if isinstance(info, dict) else None
    more = bool(items) and (not isinstance(total, int) or not isinstance(page, int) or page < total)
    return None, more


def lookup_pages() -> range:
    """Pages of recent tasks scanned for a stored upload."""
    return range(1, _LOOKUP_PAGES + 1)


@dataclass
class RoundPlan:
    """What one ``wait_many`` round asks: list calls per shared index, GETs for the rest."""

    groups: dict[str, list[str]] = field(default_factory=dict)
    singles: list[str] = field(default_factory=list)


class BatchWait:
    """The pure state of ``wait_many``: who is pending, what to ask next, when to stop."""

    def __init__(
        self,
        refs: Iterable[str | Task],
        *,
        policy: PollPolicy,
        clock: Any,
        timeout_s: float | None,
    ) -> None:
        self.pending: dict[str, Task | None] = {}
        for ref in refs:
            self.pending.setdefault(task_id_of(ref), ref if isinstance(ref, Task) else None)
        first = next(iter(self.pending), "")
        self.waited = len(self.pending)
        self.state = PollState(task_id=first, policy=policy, clock=clock, timeout_s=timeout_s)
        self.policy = policy
        self.rounds = 0
        self._odd: set[str] = set()
        self._seen: dict[str, str] = {}
        self._changes: list[Task] = []
        self._finished: list[Task] = []

    def _grouping(self) -> RoundPlan:
        by_index: dict[str, list[str]] = {}
        plan = RoundPlan()
        for task_id, task in self.pending.items():
            if task is None or not task.index_id or task_id in self._odd:
                plan.singles.append(task_id)
            else:
                by_index.setdefault(task.index_id, []).append(task_id)
        for index_id, ids in by_index.items():
            if len(ids) >= 2:
                plan.groups[index_id] = ids
            else:
                plan.singles.extend(ids)
        return plan

    def plan(self) -> RoundPlan:
        """Start a round: group pending tasks by index."""
        self.rounds += 1
        plan = self._grouping()
        logger.debug(
            "wait_many round %d: %d pending, %d index lists, %d single GETs",
            self.rounds,
            len(self.pending),
            len(plan.groups),
            len(plan.singles),
        )
        return plan

    @staticmethod
    def pending_call(index_id: str) -> Call:
        """The non-terminal tasks of an index (all pages are read)."""
        params = {"index_id": index_id, "status": list(PENDING_STATUSES), "page_limit": PAGE_SIZE}
        return list_call("/tasks", params)

    @staticmethod
    def finished_call(index_id: str) -> Call:
        """The most recently finished tasks of an index (one page)."""
        params = {
            "index_id": index_id,
            "status": list(TERMINAL_STATUSES),
            "sort_by": "updated_at",
            "sort_option": "desc",
            "page_limit": PAGE_SIZE,
        }
        return list_call("/tasks", params)

    def absorb(self, task: Task) -> None:
        """Record a fresh view of a task (ignored when it is not one we wait for)."""
        if task.id not in self.pending:
            return
        if self._seen.get(task.id) != task.status:
            self._seen[task.id] = task.status
            self._changes.append(task)
        if task.done:
            del self.pending[task.id]
            self._finished.append(task)
            return
        self.pending[task.id] = task

    def absorb_single(self, task: Task) -> None:
        """A per-task GET; a pending status the list filter does not know makes the task odd."""
        self.absorb(task)
        if task.id in self.pending and task.status not in PENDING_STATUSES:
            self._odd.add(task.id)

    def absorb_listing(self, ids: list[str], listed: Iterable[Task]) -> list[str]:
        """Absorb a listing; return those of ``ids`` still pending and absent from it."""
        listed_ids: set[str] = set()
        for task in listed:
            listed_ids.add(task.id)
            self.absorb(task)
        return [tid for tid in ids if tid in self.pending and tid not in listed_ids]

    def take_changes(self) -> list[Task]:
        """Tasks whose status changed this round (for ``on_update``)."""
        changes, self._changes = self._changes, []
        return changes

    def take_finished(self) -> list[Task]:
        """Tasks that became ready or failed this round, in the order they finished.

        Within one round the server's ``updated_at`` (RFC 3339, so it sorts as text) orders
        them; tasks without it keep the order they were seen in.
        """
        finished, self._finished = self._finished, []
        finished.sort(key=lambda task: task.updated_at or "")
        return finished

    def next_delay_s(self) -> float:
        """Sleep before the next round, clipped to the deadline (raises TaskTimeoutError)."""
        # A round costs one request per shared index (or for a lone task), so it can look
        # often; many tasks in different indexes cost one request each and back off further.
        plan = self._grouping()
        if plan.groups or len(self.pending) == 1:
            interval = self.policy.batch_interval_s(
                self.rounds, pending=len(self.pending), waited=self.waited
            )
        else:
            interval = self.policy.interval_s(self.rounds)
        try:
            return self.state.clip(interval)
        except TaskTimeoutError:
            raise self.timeout_error() from None

    def after_error(self, error: TwelveLabsError) -> float | None:
        """A transient error in a round: the sleep before the next, or None to re-raise.

        At the deadline: TaskTimeoutError naming every pending task, chained from ``error``.
        """
        try:
            return self.state.after_error(error)
        except TaskTimeoutError:
            raise self.timeout_error() from error

    def timeout_error(self) -> TaskTimeoutError:
        """TaskTimeoutError naming every still-pending task."""
        ids = list(self.pending)
        first = self.pending.get(ids[0]) if ids else None
        self.state.last_status = None if first is None else first.status
        return self.state.timeout_error(ids)
