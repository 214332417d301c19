"""The pure core of ``client.tasks``: upload plans and de-duplication.

Never upload twice: every ``POST /tasks`` carries an upload token in ``user_metadata``
(``tl_upload_token``). When the POST may have reached the server but no answer came back (a
timeout, a dropped connection, a 5xx), the shells look for a video carrying that token before
sending the file again. A video is listed only once it is ready, so the running (and failed)
tasks with the same file name are listed first; when no video carries the token, the running
ones are waited for (at most ``CANDIDATE_WAIT_S``) and the token looked up again; the newest
one, if it failed (a failed video is never listed), is taken as the upload's own. Only tasks
the server created after the upload began (its ``Date`` against their ``created_at``) are
candidates. Only when none of them can be it is the file sent again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from .._http import can_resend, transport_failure
from ..errors import (
    APIConnectionError,
    InvalidRequestError,
    ServerError,
    TaskFailedError,
    TwelveLabsError,
)
from ..models import SystemMetadata, Task, as_object
from ..retrying import Outcome, RetryPolicy
from ..uploads import VideoFile, video_source
from . import _stored
from ._calls import Call, check_id, check_page_limit, list_call, seg

__all__ = [
    "PAGE_SIZE",
    "PENDING_STATUSES",
    "UPLOAD_TOKEN_KEY",
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
