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
import random as _random
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import TypeVar

from .errors import (
    APIConnectionError,
    RateLimitError,
    ServerError,
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

READY_STATUSES: frozenset[str] = frozenset({"ready"})
FAILED_STATUSES: frozenset[str] = frozenset({"failed"})
TRANSIENT_ERRORS: tuple[type[TwelveLabsError], ...] = (
    ServerError,
    RateLimitError,
    APIConnectionError,
)


@dataclass(frozen=True)
class PollPolicy:
    """When to check a task again.

    Attributes:
        initial_interval_s: the wait after the first check.
        multiplier: growth of the interval after every check.
        max_interval_s: cap on the interval.
        jitter: +/- fraction of randomness on every interval (spreads many clients apart).
        duration_ratio: while the status is one of ``slow_statuses``, the interval is at least
            ``duration_ratio * video duration`` (capped at ``max_interval_s``), so a one-hour
            video is not polled every second.
        slow_statuses: statuses during which the work scales with the video's duration.
        max_batch_interval_s: cap on the interval of ``wait_many``: one list request covers up
            to 50 tasks, so it can afford to look more often.
        min_batch_interval_s: floor on the interval of ``wait_many``.
        min_request_gap_s: ``wait_many`` sends at most one list request per this many seconds
            on average (a round over many pages waits longer), to stay clear of rate limits.
        batch_request_budget_s: ``wait_many`` spends at most about one request per task it
            waits for per this many seconds. A list request covers up to 50 tasks, so a large
            batch is looked at often (down to ``min_batch_interval_s``) and a finished task is
            noticed sooner; a batch of a few backs off towards the cap.
        max_consecutive_errors: transient errors in a row tolerated by a wait that has no
            deadline (a wait with one rides errors out until its deadline).
        random: source of uniform numbers in [0, 1), injectable for tests.

    Example:
        >>> policy = PollPolicy(jitter=0.0)
        >>> [policy.interval_s(n) for n in (1, 2, 3)]
        [1.0, 1.5, 2.25]
        >>> policy.interval_s(1, status="indexing", duration_s=600.0)
        12.0
    """

    initial_interval_s: float = 1.0
    multiplier: float = 1.5
    max_interval_s: float = 15.0
    jitter: float = 0.1
    duration_ratio: float = 0.02
    slow_statuses: frozenset[str] = frozenset({"indexing", "processing"})
    max_batch_interval_s: float = 5.0
    min_batch_interval_s: float = 0.5
    min_request_gap_s: float = 0.25
    batch_request_budget_s: float = 30.0
    max_consecutive_errors: int = 5
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)

    @classmethod
    def fixed(cls, interval_s: float) -> PollPolicy:
        """A policy that always waits ``interval_s`` (no growth, no jitter, no hints).

        Example:
            >>> PollPolicy.fixed(5.0).interval_s(7, status="indexing", duration_s=9999.0)
            5.0
        """
        return cls(
            initial_interval_s=interval_s,
            multiplier=1.0,
            max_interval_s=interval_s,
            jitter=0.0,
            duration_ratio=0.0,
            max_batch_interval_s=interval_s,
            min_batch_interval_s=interval_s,
            min_request_gap_s=0.0,
        )

    def interval_s(
        self, checks: int, *, status: str | None = None, duration_s: float | None = None
    ) -> float:
        """Seconds to wait after the ``checks``-th check (1-based), before the deadline clip.

        Args:
            checks: how many checks were made so far (at least 1).
            status: the last status seen, if any.
            duration_s: the video's duration in seconds, if known.

        Example:
            >>> PollPolicy(jitter=0.0).interval_s(100)
            15.0
        """
        base = self._grown(checks, self.max_interval_s)
        if duration_s and status in self.slow_statuses:
            base = max(base, min(self.max_interval_s, duration_s * self.duration_ratio))
        return self._jittered(base)

    def batch_interval_s(
        self, rounds: int, *, pending: int = 1, waited: int | None = None, per_request: int = 50
    ) -> float:
        """Seconds to wait after the ``rounds``-th round of ``wait_many`` list requests.

        Args:
            rounds: rounds made so far (at least 1).
            pending: tasks still pending; a round costs ``ceil(pending / per_request)``
                requests.
            waited: tasks the whole ``wait_many`` covers (default: ``pending``). The budget
                of ``batch_request_budget_s`` per task is over these, so the cadence holds
                while the batch drains and the last tasks are noticed as soon as the first.
            per_request: tasks one list request covers.

        Example:
            >>> policy = PollPolicy(jitter=0.0)
            >>> policy.batch_interval_s(50), policy.batch_interval_s(50, pending=100)
            (5.0, 0.6)
            >>> policy.batch_interval_s(50, pending=3, waited=100)
            0.5
            >>> policy.batch_interval_s(50, pending=10), policy.batch_interval_s(50, pending=1000)
            (3.0, 5.0)
        """
        requests = -(-max(1, pending) // max(1, per_request))
        tasks = max(1, pending if waited is None else waited, pending)
        budget = self.batch_request_budget_s * requests / tasks
        cap = min(self.max_interval_s, self.max_batch_interval_s, budget)
        floor = max(self.min_batch_interval_s, requests * self.min_request_gap_s)
        cap = max(cap, min(floor, self.max_batch_interval_s))
        return self._jittered(min(cap, self._grown(rounds, cap)))

    def _grown(self, count: int, cap: float) -> float:
        # Grow geometrically, but stop multiplying once the cap is reached: a wait of many
        # hours makes thousands of checks, and multiplier**count would overflow a float.
        seconds = self.initial_interval_s
        for _ in range(max(0, count - 1)):
            if seconds >= cap or self.multiplier <= 1.0:
                break
            seconds *= self.multiplier
        return min(cap, seconds)

    def _jittered(self, seconds: float) -> float:
        spread = seconds * self.jitter
        return max(0.0, seconds - spread + 2.0 * spread * self.random())


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
