"""Compatibility with programs written for the official SDK (``task.wait_for_done``).

The seed program does::

    task = client.task.create(index_id=..., file=...)
    task.wait_for_done(sleep_interval=5, callback=on_task_update)
    if task.status != "ready": ...

:func:`wait_for_done` keeps that contract (poll at a fixed interval, update the task in
place, call the callback after every check, return on ``ready`` or ``failed`` without
raising) and fixes the official SDK's defects: a permanent error (401, 403, 404) raises at
once instead of being printed and retried forever, transient errors are retried with backoff
(by the request layer, then by the wait shell up to ``max_consecutive_errors`` times), and an
optional ``timeout_s`` bounds the wait.

Example:
    >>> task = client.task.create(index_id=index_id, file="talk.mp4")  # doctest: +SKIP
    >>> task.wait_for_done(sleep_interval=5, callback=lambda t: print(t.status))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .errors import InvalidRequestError
from .polling import PollPolicy, wait_for

if TYPE_CHECKING:
    from .models import Task

__all__ = ["wait_for_done"]


def wait_for_done(
    task: Task,
    *,
    sleep_interval: float = 5.0,
    callback: Callable[[Task], object] | None = None,
    timeout_s: float | None = None,
) -> Task:
    """Poll ``task`` through the client it came from; see the module docstring.

    Raises:
        InvalidRequestError: ``sleep_interval <= 0``, or the task is not bound to a sync
            client (an async client's task: use ``await client.tasks.wait(task.id)``).
        AuthenticationError, PermissionDeniedError, NotFoundError: at once.
        TaskTimeoutError: ``timeout_s`` passed.
    """
    if not isinstance(sleep_interval, (int, float)) or sleep_interval <= 0:
        raise InvalidRequestError(f"sleep_interval must be > 0 seconds, got {sleep_interval!r}")
    client = task._client
    if client is None or getattr(client, "_is_async", True):
        raise InvalidRequestError(
            f"task {task.id} is not bound to a synchronous TwelveLabs client; use "
            "client.tasks.wait(task_id) (or await it on AsyncTwelveLabs)"
        )

    def on_check(fresh: Task) -> None:
        task.update_from(fresh)
        if callback is not None:
            callback(task)

    wait_for(
        lambda: client.tasks.retrieve(task.id),
        task_id=task.id,
        status_of=lambda fresh: fresh.status,
        policy=PollPolicy.fixed(float(sleep_interval)),
        clock=client._clock,
        sleep=client._sleep,
        timeout_s=timeout_s,
        on_check=on_check,
        raise_on_failed=False,
    )
    return task
