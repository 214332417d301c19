"""Video indexing tasks (``/tasks``) and the system metadata of a video file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._read import as_object, opt_float, opt_int, opt_obj, opt_str, req_str

__all__ = ["TASK_FAILED", "TASK_READY", "SystemMetadata", "Task"]

TASK_READY = "ready"
TASK_FAILED = "failed"
_TERMINAL = frozenset({TASK_READY, TASK_FAILED})


@dataclass(frozen=True)
class SystemMetadata:
    """What the platform measured about a video file.

    Attributes:
        filename: the uploaded file's name.
        duration: length in seconds.
        width / height: frame size in pixels.
        fps: frames per second.
        size: file size in bytes (video lists only).
        raw: every field as sent.

    Example:
        >>> SystemMetadata.from_api({"duration": 3, "fps": 25}).duration
        3.0
    """

    filename: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    size: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> SystemMetadata:
        """Parse a ``system_metadata`` object (v1.2's ``metadata`` has the same keys)."""
        if data is None:
            return cls()
        obj = as_object(data, "system_metadata")
        what = "system_metadata"
        return cls(
            filename=opt_str(obj, "filename", what),
            duration=opt_float(obj, "duration", what),
            width=opt_int(obj, "width", what),
            height=opt_int(obj, "height", what),
            fps=opt_float(obj, "fps", what),
            size=opt_int(obj, "size", what),
            raw=obj,
        )


@dataclass(eq=False)
class Task:
    """A video indexing task (``/tasks``): upload plus indexing of one video.

    ``status`` goes ``validating -> pending -> queued -> indexing -> ready | failed``; any
    status other than ``ready`` and ``failed`` (including ones this library does not know)
    counts as not done. A task that came from a client remembers it, so the seed-style
    ``task.wait_for_done()`` works; a pickled or copied task is not bound to any client.

    Example:
        >>> task = Task.from_api({"_id": "t1", "status": "ready", "video_id": "v1"})
        >>> task.done, task.ready, task.failed
        (True, True, False)
    """

    id: str
    status: str
    index_id: str | None = None
    video_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    system_metadata: SystemMetadata = field(default_factory=SystemMetadata)
    hls: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    _client: Any = field(default=None, repr=False)

    @classmethod
    def from_api(cls, data: Any, *, index_id: str | None = None, client: Any = None) -> Task:
        """Parse a task object; ``index_id`` fills in a missing ``index_id``."""
        obj = as_object(data, "task")
        what = f"task {obj.get('_id', '?')}"
        meta = obj.get("system_metadata", obj.get("metadata"))
        return cls(
            id=req_str(obj, "id" if "_id" not in obj and "id" in obj else "_id", "task"),
            status=opt_str(obj, "status", what) or "unknown",
            index_id=opt_str(obj, "index_id", what) or index_id,
            video_id=opt_str(obj, "video_id", what),
            created_at=opt_str(obj, "created_at", what),
            updated_at=opt_str(obj, "updated_at", what),
            system_metadata=SystemMetadata.from_api(meta),
            hls=opt_obj(obj, "hls", what),
            raw=obj,
            _client=client,
        )

    @property
    def done(self) -> bool:
        """True once the task is ``ready`` or ``failed``."""
        return self.status in _TERMINAL

    @property
    def ready(self) -> bool:
        """True when the video is indexed and usable."""
        return self.status == TASK_READY

    @property
    def failed(self) -> bool:
        """True when the task ended in ``failed``."""
        return self.status == TASK_FAILED

    @property
    def duration_s(self) -> float | None:
        """The video's duration in seconds, when the platform reported it."""
        return self.system_metadata.duration

    @property
    def failure_reason(self) -> str | None:
        """The reason the server gave for a failure, when it gave one (undocumented field)."""
        for key in ("error_message", "error", "reason", "message"):
            value = self.raw.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("code")
            if isinstance(value, str) and value:
                return value
        return None

    def __getstate__(self) -> dict[str, Any]:
        # A pickle (or copy) of a task is its data: the client, with its connection pool and
        # API key, stays behind. Without this, pickling a TaskFailedError or IngestError (as
        # multiprocessing and job queues do) failed on the client's locks.
        return {**self.__dict__, "_client": None}

    def update_from(self, other: Task) -> None:
        """Copy every field of ``other`` (a fresher view of the same task) into this one."""
        self.status = other.status
        self.index_id = other.index_id or self.index_id
        self.video_id = other.video_id or self.video_id
        self.created_at = other.created_at
        self.updated_at = other.updated_at
        self.system_metadata = other.system_metadata
        self.hls = other.hls if other.hls is not None else self.hls
        self.raw = other.raw

    def wait_for_done(
        self,
        sleep_interval: float = 5.0,
        callback: Callable[[Task], object] | None = None,
        *,
        timeout_s: float | None = None,
    ) -> Task:
        """Poll until ready or failed, updating this task in place (official-SDK style).

        Calls ``callback(task)`` after every check and returns this task when it is ``ready``
        or ``failed``, without raising on ``failed`` (check ``task.status``). Unlike the
        official SDK it raises at once on 401/403/404 and retries transient errors with
        backoff. Prefer ``client.tasks.wait()``, which raises on failure.

        Raises:
            InvalidRequestError: bad ``sleep_interval``, or the task has no sync client.
            TaskTimeoutError: ``timeout_s`` passed.

        Example:
            >>> task = client.task.create(index_id=index_id, file="talk.mp4")  # doctest: +SKIP
            >>> task.wait_for_done(sleep_interval=5, callback=print)  # doctest: +SKIP
        """
        from .._compat import wait_for_done

        return wait_for_done(
            self, sleep_interval=sleep_interval, callback=callback, timeout_s=timeout_s
        )
