"""Waiting for asynchronous tasks: a pure poll policy and two small wait shells.

Polling (the task is not finished yet, ask again later) is not retrying (a request failed);
retries happen inside each ``fetch`` (see :mod:`tl_integrations.retrying`). The decisions live
in :class:`PollPolicy` and :class:`PollState`, which do no I/O; :func:`wait_for` and
:func:`async_wait_for` only fetch, call back and sleep, so the sync and async clients (and the
embedding tasks) share one behaviour:

- the first check happens at once, then the interval grows (1 s, 1.5 s, 2.25 s ... 15 s) with
  jitter, and while a long video is being processed it is never shorter than a small fraction
  of the video's duration;
- every wait can have a deadline; no sleep ever goes past it, the last check happens at the
  deadline, and then :class:`~tl_integrations.errors.TaskTimeoutError` is raised;
- a failed task raises :class:`~tl_integrations.errors.TaskFailedError` (unless asked not to);
- transient errors left over after the request's own retries (5xx, 429, connection) are
  ridden out until the deadline (without one, up to ``max_consecutive_errors`` checks in a
  row); a deadline that passes during an outage raises ``TaskTimeoutError`` chained from
  the last error (its ``__cause__``), so the caller still gets the ids to resume with;
  anything else propagates at once, and so do ``KeyboardInterrupt`` and
  ``asyncio.CancelledError``.

Example:
    >>> import itertools
    >>> statuses = iter(["pending", "indexing", "ready"])
    >>> now = itertools.count()
    >>> wait_for(lambda: next(statuses), task_id="t1", status_of=str,
    ...          policy=PollPolicy(), clock=lambda: float(next(now)), sleep=lambda s: None)
    'ready'
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import TypeVar

from ._poll_policy import FAILED_STATUSES, READY_STATUSES, TRANSIENT_ERRORS, PollPolicy
from .errors import (
    TaskFailedError,
    TaskTimeoutError,
    TwelveLabsError,
)

__all__ = [
    "FAILED_STATUSES",
    "READY_STATUSES",
    "TRANSIENT_ERRORS",
    "PollPolicy",
    "PollState",
    "async_wait_for",
    "wait_for",
]

T = TypeVar("T")

logger = logging.getLogger("tl_integrations")


class PollState:
    """The pure bookkeeping of one wait: checks made, last status, errors, the deadline.

    Both shells (and ``wait_many``) use it, so they decide identically.

    Example:
        >>> state = PollState(task_id="t1", policy=PollPolicy(jitter=0.0), clock=lambda: 0.0,
        ...                   timeout_s=0.5)
        >>> state.observe("pending")
        True
        >>> state.next_delay_s()
        0.5
    """

    def __init__(
        self,
        *,
        task_id: str,
        policy: PollPolicy,
        clock: Callable[[], float],
        timeout_s: float | None = None,
    ) -> None:
        if timeout_s is not None and timeout_s < 0:
            raise ValueError(f"timeout_s must be >= 0, got {timeout_s}")
        self.task_id = task_id
        self.policy = policy
        self.timeout_s = timeout_s
        self._clock = clock
        self.deadline = None if timeout_s is None else clock() + timeout_s
        self.checks = 0
        self.errors = 0
        self.last_status: str | None = None

    def observe(self, status: str) -> bool:
        """Record one successful check; True when the status changed (or is the first seen)."""
        self.checks += 1
        self.errors = 0
        changed = status != self.last_status
        self.last_status = status
        logger.debug("task %s is %r (check %d)", self.task_id, status, self.checks)
        return changed

    def next_delay_s(self, *, duration_s: float | None = None) -> float:
        """The next sleep, clipped to the deadline; raises TaskTimeoutError once it passed."""
        interval = self.policy.interval_s(
            max(1, self.checks), status=self.last_status, duration_s=duration_s
        )
        delay = self.clip(interval)
        logger.debug("next check of task %s in %.2f s", self.task_id, delay)
        return delay

    def clip(self, delay_s: float) -> float:
        """Clip a sleep to the deadline; raise TaskTimeoutError when no time is left."""
        if self.deadline is None:
            return delay_s
        remaining = self.deadline - self._clock()
        if remaining <= 0:
            raise self.timeout_error()
        return min(delay_s, remaining)

    def after_error(self, error: TwelveLabsError) -> float | None:
        """Record a transient error; the sleep before the next check, or None to re-raise.

        With a deadline, errors are ridden out until it (a server restart or a network
        blip shorter than the deadline costs nothing); at the deadline the
        :class:`TaskTimeoutError` is raised, chained from ``error``. Without
        a deadline, ``max_consecutive_errors`` errors in a row end the wait with ``error``.
        """
        self.errors += 1
        if self.deadline is None and self.errors > self.policy.max_consecutive_errors:
            return None
        interval = self.policy.interval_s(max(1, self.checks + self.errors))
        hinted = getattr(error, "retry_after_s", None)
        if isinstance(hinted, (int, float)):
            interval = max(interval, float(hinted))
        logger.debug("checking task %s failed (%s); again in %.2f s", self.task_id, error, interval)
        try:
            return self.clip(interval)
        except TaskTimeoutError as timeout:
            raise timeout from error

    def timeout_error(self, task_ids: Collection[str] | None = None) -> TaskTimeoutError:
        """The error to raise at the deadline (naming ``task_ids`` when several are pending)."""
        ids = list(task_ids) if task_ids is not None else [self.task_id]
        return TaskTimeoutError(ids, last_status=self.last_status, timeout_s=self.timeout_s)


def wait_for(
    fetch: Callable[[], T],
    *,
    task_id: str,
    status_of: Callable[[T], str],
    policy: PollPolicy,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    timeout_s: float | None = None,
    on_update: Callable[[T], object] | None = None,
    on_check: Callable[[T], object] | None = None,
    ready_statuses: Collection[str] = READY_STATUSES,
    failed_statuses: Collection[str] = FAILED_STATUSES,
    failure: Callable[[T], TaskFailedError] | None = None,
    duration_of: Callable[[T], float | None] | None = None,
    raise_on_failed: bool = True,
) -> T:
    """Poll ``fetch`` until the task is ready (returned) or failed (raised), within a deadline.

    Args:
        fetch: one check: returns the current task object (it does its own retries).
        task_id: named in errors.
        status_of: reads the status string of a task object.
        policy: when to check again; clock/sleep: monotonic seconds and the sleep to use.
        timeout_s: deadline in seconds from now; None waits as long as it takes.
        on_update: called with the task whenever its status changes (and on the first check).
        on_check: called with the task after every check.
        ready_statuses / failed_statuses: the terminal statuses; any other status is pending.
        failure: builds the TaskFailedError for a failed task (default: names only the id).
        duration_of: reads the video duration in seconds, used to space out checks.
        raise_on_failed: False returns a failed task instead of raising.

    Raises:
        TaskFailedError: the task failed (and ``raise_on_failed``).
        TaskTimeoutError: the deadline passed; the task keeps running on the server.

    Example:
        >>> wait_for(lambda: "ready", task_id="t1", status_of=str, policy=PollPolicy(),
        ...          clock=lambda: 0.0, sleep=lambda s: None)
        'ready'
    """
    state = PollState(task_id=task_id, policy=policy, clock=clock, timeout_s=timeout_s)
    while True:
        try:
            item = fetch()
        except TRANSIENT_ERRORS as error:
            delay = state.after_error(error)
            if delay is None:
                raise
            sleep(delay)
            continue
        status = status_of(item)
        if state.observe(status) and on_update is not None:
            on_update(item)
        if on_check is not None:
            on_check(item)
        if _finished(
            item, status, task_id, ready_statuses, failed_statuses, raise_on_failed, failure
        ):
            return item
        sleep(state.next_delay_s(duration_s=duration_of(item) if duration_of else None))


async def async_wait_for(
    fetch: Callable[[], Awaitable[T]],
    *,
    task_id: str,
    status_of: Callable[[T], str],
    policy: PollPolicy,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    timeout_s: float | None = None,
    on_update: Callable[[T], object] | None = None,
    on_check: Callable[[T], object] | None = None,
    ready_statuses: Collection[str] = READY_STATUSES,
    failed_statuses: Collection[str] = FAILED_STATUSES,
    failure: Callable[[T], TaskFailedError] | None = None,
    duration_of: Callable[[T], float | None] | None = None,
    raise_on_failed: bool = True,
) -> T:
    """The async twin of :func:`wait_for`; callbacks may be plain or async functions.

    Example:
        >>> import asyncio
        >>> async def fetch() -> str:
        ...     return "ready"
        >>> async def nap(s: float) -> None:
        ...     pass
        >>> asyncio.run(async_wait_for(fetch, task_id="t1", status_of=str, policy=PollPolicy(),
        ...                            clock=lambda: 0.0, sleep=nap))
        'ready'
    """
    state = PollState(task_id=task_id, policy=policy, clock=clock, timeout_s=timeout_s)
    while True:
        try:
            item = await fetch()
        except TRANSIENT_ERRORS as error:
            delay = state.after_error(error)
            if delay is None:
                raise
            await sleep(delay)
            continue
        status = status_of(item)
        if state.observe(status) and on_update is not None:
            await maybe_await(on_update(item))
        if on_check is not None:
            await maybe_await(on_check(item))
        if _finished(
            item, status, task_id, ready_statuses, failed_statuses, raise_on_failed, failure
        ):
            return item
        await sleep(state.next_delay_s(duration_s=duration_of(item) if duration_of else None))


async def maybe_await(value: object) -> None:
    """Await ``value`` when a callback returned an awaitable (async callbacks are allowed)."""
    if inspect.isawaitable(value):
        await value


def _finished(
    item: T,
    status: str,
    task_id: str,
    ready_statuses: Collection[str],
    failed_statuses: Collection[str],
    raise_on_failed: bool,
    failure: Callable[[T], TaskFailedError] | None,
) -> bool:
    if status in ready_statuses:
        return True
    if status not in failed_statuses:
        return False
    if not raise_on_failed:
        return True
    if failure is not None:
        raise failure(item)
    raise TaskFailedError(task_id, task=item)
