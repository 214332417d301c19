"""The embedding task model, and its seed-compatible ``wait_for_done``.

An :class:`EmbeddingTask` is what ``client.embed.tasks.create`` and ``status`` return. It
remembers the client that made it so that the seed's ``task.wait_for_done(...)`` can poll.

Example:
    >>> task = parse_task({"_id": "t1", "status": "processing"}, protocol="v2")
    >>> task.id, task.model_name, task.done
    ('t1', 'marengo3.0', False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequestError
from .params import MODELS, ProtocolName
from .vectors import EmbeddingDecodeError

if TYPE_CHECKING:
    from ._shared import TasksCore
    from ._tasks_sync import EmbedTasks

__all__ = [
    "FAILED_STATUSES",
    "TERMINAL_STATUSES",
    "EmbeddingTask",
    "parse_task",
]

TERMINAL_STATUSES = frozenset({"ready", "failed"})
FAILED_STATUSES = frozenset({"failed"})
_DEFAULT_MODEL = {"v1": "Marengo-retrieval-2.7", "v2": "marengo3.0"}


@dataclass(eq=False)
class EmbeddingTask:
    """A video embedding task (Embed v1 or v2; the caller need not care which).

    Attributes:
        id: the task id.
        model_name: the model computing the vectors.
        status: ``processing``, ``ready`` or ``failed`` (an unknown value counts as running).
        created_at, updated_at: RFC 3339 timestamps, when the server sent them.
        duration_s: the video's duration in seconds, when known.
        reason: why the task failed, when the server said (Embed v2 ``error.message``).
        raw: the task object as the server last sent it (without v2's bulky ``data``).

    Example:
        >>> task = parse_task({"_id": "t1", "model_name": "Marengo-retrieval-2.7",
        ...                    "status": "ready"}, protocol="v1")
        >>> task
        EmbeddingTask(id='t1', model_name='Marengo-retrieval-2.7', status='ready', ...)
        >>> task.done
        True
    """

    id: str
    model_name: str
    status: str
    created_at: str | None = None
    updated_at: str | None = None
    duration_s: float | None = None
    reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    _protocol: ProtocolName | None = field(default=None, repr=False)
    _owner: TasksCore | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        """True once the task is ``ready`` or ``failed``.

        Example:
            >>> EmbeddingTask(id="t", model_name="marengo3.0", status="failed").done
            True
        """
        return self.status in TERMINAL_STATUSES

    @property
    def protocol(self) -> ProtocolName:
        """``"v1"`` or ``"v2"``: which Embed API the task lives in.

        Example:
            >>> EmbeddingTask(id="t", model_name="marengo3.0", status="ready").protocol
            'v2'
        """
        if self._protocol is not None:
            return self._protocol
        spec = MODELS.get(self.model_name)
        return spec.protocol if spec is not None else "v2"

    def _update(self, other: EmbeddingTask) -> None:
        for name in ("status", "created_at", "updated_at", "duration_s", "reason", "raw"):
            setattr(self, name, getattr(other, name))

    def wait_for_done(
        self,
        sleep_interval: float = 5.0,
        callback: Callable[[EmbeddingTask], object] | None = None,
        *,
        timeout_s: float | None = None,
    ) -> str:
        """Poll until ``ready`` or ``failed``; return the final status (seed compatible).

        Updates this task in place and calls ``callback(task)`` after every check. Unlike
        the official SDK it raises at once on a permanent error (401, 403, 404) instead of
        printing and spinning, and gives up at ``timeout_s`` when one is set. It does not
        raise on ``failed``: the caller checks the returned status. Prefer
        ``client.embed.tasks.wait``, which raises on failure.

        Raises:
            InvalidRequestError: ``sleep_interval`` is not positive, or the task belongs to
                an ``AsyncTwelveLabs`` (use ``await task.async_wait_for_done(...)``).
            TaskTimeoutError: ``timeout_s`` passed first.

        Example:
            >>> status = task.wait_for_done(sleep_interval=2, callback=print)  # doctest: +SKIP
        """
        owner = self._sync_owner()
        _check_interval(sleep_interval)
        return owner._wait_for_done_compat(
            self, sleep_interval_s=float(sleep_interval), callback=callback, timeout_s=timeout_s
        )

    async def async_wait_for_done(
        self,
        sleep_interval: float = 5.0,
        callback: Callable[[EmbeddingTask], object] | None = None,
        *,
        timeout_s: float | None = None,
    ) -> str:
        """The async twin of :meth:`wait_for_done`, for tasks made by ``AsyncTwelveLabs``.

        Example:
            >>> status = await task.async_wait_for_done(sleep_interval=2)  # doctest: +SKIP
        """
        from ._tasks_async import AsyncEmbedTasks

        if not isinstance(self._owner, AsyncEmbedTasks):
            raise InvalidRequestError(f"task {self.id} was not made by an AsyncTwelveLabs client")
        _check_interval(sleep_interval)
        return await self._owner._wait_for_done_compat(
            self, sleep_interval_s=float(sleep_interval), callback=callback, timeout_s=timeout_s
        )

    def _sync_owner(self) -> EmbedTasks:
        from ._tasks_sync import EmbedTasks

        if isinstance(self._owner, EmbedTasks):
            return self._owner
        if self._owner is None:
            raise InvalidRequestError(
                f"task {self.id} is not bound to a client; use client.embed.tasks.wait()"
            )
        raise InvalidRequestError(
            f"task {self.id} belongs to an AsyncTwelveLabs client; "
            "use `await task.async_wait_for_done(...)`"
        )


def _check_interval(sleep_interval: float) -> None:
    if not sleep_interval > 0:
        raise InvalidRequestError(f"sleep_interval must be > 0 s, got {sleep_interval!r}")


def _reason(doc: Mapping[str, Any]) -> str | None:
    error = doc.get("error")
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        return str(error["message"])
    embedding = doc.get("video_embedding")
    if isinstance(embedding, Mapping) and isinstance(embedding.get("error_message"), str):
        return str(embedding["error_message"])
    return None


def _duration(doc: Mapping[str, Any]) -> float | None:
    meta = doc.get("metadata")
    embedding = doc.get("video_embedding")
    if not isinstance(meta, Mapping) and isinstance(embedding, Mapping):
        meta = embedding.get("metadata")
    value = meta.get("duration") if isinstance(meta, Mapping) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_task(
    doc: Mapping[str, Any],
    *,
    protocol: ProtocolName,
    model_name: str | None = None,
    task_id: str | None = None,
) -> EmbeddingTask:
    """Build an :class:`EmbeddingTask` from a task object of either protocol.

    Tolerant: unknown fields are kept in ``raw``; a missing status reads ``processing``
    and a missing model is the protocol's model.

    Raises:
        EmbeddingDecodeError: the object has no ``_id`` and none was given.

    Example:
        >>> parse_task({"_id": "t", "status": "failed", "error": {"message": "broken"}},
        ...            protocol="v2").reason
        'broken'
    """
    found_id = _opt_str(doc.get("_id")) or _opt_str(doc.get("id")) or task_id
    if not found_id:
        raise EmbeddingDecodeError(f"the server's task object has no _id: {dict(doc)!r:.200}")
    raw = {key: value for key, value in doc.items() if key != "data"}
    return EmbeddingTask(
        id=found_id,
        model_name=_opt_str(doc.get("model_name")) or model_name or _DEFAULT_MODEL[protocol],
        status=_opt_str(doc.get("status")) or "processing",
        created_at=_opt_str(doc.get("created_at")),
        updated_at=_opt_str(doc.get("updated_at")),
        duration_s=_duration(doc),
        reason=_reason(doc),
        raw=raw,
        _protocol=protocol,
    )
