"""Waiting for jobs: when to look again (:class:`PollPolicy`) and one wait's bookkeeping.

Polling (the job is not finished yet, ask again later) is not retrying (a request failed);
retries happen inside each request (see :mod:`tl_integrations._retrying`). Both classes here
are pure: no I/O, no sleeping. The task engine (:mod:`tl_integrations._engine`) asks them
what to do and yields the sleeps.

- the first check happens at once, then the interval grows (1 s, 1.5 s, 2.25 s ... 15 s) with
  jitter, and while a long video is being processed it is never shorter than a small fraction
  of the video's duration;
- every wait can have a deadline; no sleep ever goes past it, the last check happens at the
  deadline, and then :class:`~tl_integrations.TaskTimeoutError` is raised;
- transient errors left over after the request's own retries (5xx, 429, connection) are
  ridden out until the deadline (without one, up to ``max_consecutive_errors`` checks in a
  row).

Example:
    >>> PollPolicy(jitter=0.0).interval_s(3)
    2.25
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random as _random
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields

from ._errors import (
    APIConnectionError,
    InvalidRequestError,
    RateLimitError,
    ServerError,
    TaskTimeoutError,
    TwelveLabsError,
)

__all__ = ["MIN_FASTER_INTERVAL_S", "TRANSIENT_ERRORS", "PollPolicy", "PollState"]

logger = logging.getLogger("tl_integrations")

TRANSIENT_ERRORS: tuple[type[TwelveLabsError], ...] = (
    ServerError,
    RateLimitError,
    APIConnectionError,
)


_POSITIVE_POLL = (
    "initial_interval_s",
    "max_interval_s",
    "max_batch_interval_s",
    "min_batch_interval_s",
    "batch_request_budget_s",
)
_NON_NEGATIVE_POLL = ("duration_ratio", "min_request_gap_s", "max_consecutive_errors")
# The shortest interval PollPolicy.faster makes: however fast the jobs, a wait never spins.
MIN_FASTER_INTERVAL_S = 0.02


def check_policy_numbers(
    policy: object, *, positive: Collection[str], non_negative: Collection[str]
) -> None:
    """Refuse NaN, infinite, zero or negative settings of a policy with a typed error.

    Example:
        >>> check_policy_numbers(PollPolicy(), positive=("max_interval_s",), non_negative=())
    """
    name = type(policy).__name__
    for attr in (f.name for f in fields(policy)):  # type: ignore[arg-type]
        if attr not in positive and attr not in non_negative:
            continue
        value = getattr(policy, attr)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidRequestError(f"{name}.{attr} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise InvalidRequestError(f"{name}.{attr} must be finite, got {value!r}")
        if attr in positive and value <= 0:
            raise InvalidRequestError(f"{name}.{attr} must be > 0, got {value!r}")
        if value < 0:
            raise InvalidRequestError(f"{name}.{attr} must be >= 0, got {value!r}")


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

    def __post_init__(self) -> None:
        # A zero interval once made 4,760 requests in 2 s, and NaN never times out: refuse
        # both here, with the name of the setting, rather than misbehave later.
        check_policy_numbers(self, positive=_POSITIVE_POLL, non_negative=_NON_NEGATIVE_POLL)
        if self.multiplier < 1.0:
            raise InvalidRequestError(
                "PollPolicy.multiplier must be >= 1 (intervals never shrink), "
                f"got {self.multiplier}"
            )
        if not 0.0 <= self.jitter < 1.0:
            raise InvalidRequestError(f"PollPolicy.jitter must be in [0, 1), got {self.jitter}")

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

    def faster(self, speed: float) -> PollPolicy:
        """This policy for jobs that finish ``speed`` times sooner (an emulator's ``speed``).

        The intervals that follow a job's progress are divided by ``speed``: the first and
        largest interval, ``duration_ratio`` and the cap of ``wait_many``; none goes below
        20 ms (or below what it was), so a very fast job is still never polled in a tight
        loop. What protects the server's rate limits is left as it is
        (``min_request_gap_s``, ``min_batch_interval_s``, ``batch_request_budget_s``): the
        jobs are faster, the server's patience is not.

        Args:
            speed: how many times shorter the jobs are (>= 1; 1 returns an equal policy).

        Raises:
            InvalidRequestError: ``speed`` is not a number >= 1.

        Example:
            >>> fast = PollPolicy(jitter=0.0).faster(5)
            >>> fast.initial_interval_s, fast.max_interval_s, fast.max_batch_interval_s
            (0.2, 3.0, 1.0)
            >>> PollPolicy().faster(1000).initial_interval_s
            0.02
        """
        # NaN fails `speed >= 1`; infinity is allowed: jobs that take no time, polled at
        # the floor.
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not speed >= 1:
            raise InvalidRequestError(
                f"speed must be a number >= 1 (how many times faster the jobs are), got {speed!r}"
            )

        def shorter(seconds: float) -> float:
            return min(seconds, max(MIN_FASTER_INTERVAL_S, seconds / speed))

        return dataclasses.replace(
            self,
            initial_interval_s=shorter(self.initial_interval_s),
            max_interval_s=shorter(self.max_interval_s),
            duration_ratio=self.duration_ratio / speed,
            max_batch_interval_s=shorter(self.max_batch_interval_s),
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


def check_timeout(timeout_s: float | None, name: str = "timeout_s") -> float | None:
    """A deadline in seconds must be None or a finite number >= 0.

    Example:
        >>> check_timeout(None), check_timeout(2)
        (None, 2.0)
        >>> check_timeout(float("nan"))
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: timeout_s must be a finite number of ...
    """
    if timeout_s is None:
        return None
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)):
        raise InvalidRequestError(f"{name} must be a number of seconds or None, got {timeout_s!r}")
    if not math.isfinite(timeout_s) or timeout_s < 0:
        raise InvalidRequestError(
            f"{name} must be a finite number of seconds >= 0 (or None), got {timeout_s!r}"
        )
    return float(timeout_s)


class PollState:
    """The pure bookkeeping of one wait: checks made, last status, errors, the deadline.

    ``wait`` and ``wait_many`` both use it, so they decide identically.

    Example:
        >>> state = PollState(job_id="t1", policy=PollPolicy(jitter=0.0), clock=lambda: 0.0,
        ...                   timeout_s=0.5)
        >>> state.observe("pending")
        True
        >>> state.next_delay_s()
        0.5
    """

    def __init__(
        self,
        *,
        job_id: str,
        policy: PollPolicy,
        clock: Callable[[], float],
        timeout_s: float | None = None,
        noun: str = "task",
    ) -> None:
        self.job_id = job_id
        self.policy = policy
        self.timeout_s = check_timeout(timeout_s)
        self.noun = noun
        self._clock = clock
        self.deadline = None if self.timeout_s is None else clock() + self.timeout_s
        self.checks = 0
        self.errors = 0
        self.last_status: str | None = None

    def observe(self, status: str) -> bool:
        """Record one successful check; True when the status changed (or is the first seen)."""
        self.checks += 1
        self.errors = 0
        changed = status != self.last_status
        self.last_status = status
        logger.debug("%s %s is %r (check %d)", self.noun, self.job_id, status, self.checks)
        return changed

    def next_delay_s(self, *, status: str | None = None, duration_s: float | None = None) -> float:
        """The next sleep, clipped to the deadline; raises TaskTimeoutError once it passed."""
        interval = self.policy.interval_s(
            max(1, self.checks), status=status or self.last_status, duration_s=duration_s
        )
        return self.clip(interval)

    def remaining_s(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - self._clock()

    def clip(self, delay_s: float, ids: Collection[str] | None = None) -> float:
        """Clip a sleep to the deadline; raise TaskTimeoutError when no time is left."""
        remaining = self.remaining_s()
        if remaining is None:
            return delay_s
        if remaining <= 0:
            raise self.timeout_error(ids)
        return min(delay_s, remaining)

    def after_error(self, error: TwelveLabsError, ids: Collection[str] | None = None) -> float:
        """Record a transient error; return the sleep before the next check, or raise.

        With a deadline, errors are ridden out until it (a server restart or a network
        blip shorter than the deadline costs nothing); a server asking to come back after
        the deadline (``Retry-After``) ends the wait at once. At the deadline
        :class:`TaskTimeoutError` is raised, chained from ``error`` and carrying the server's
        hint. Without a deadline, ``max_consecutive_errors`` errors in a row re-raise
        ``error``.
        """
        self.errors += 1
        if self.deadline is None and self.errors > self.policy.max_consecutive_errors:
            raise error
        interval = self.policy.interval_s(max(1, self.checks + self.errors))
        hinted = getattr(error, "retry_after_s", None)
        if isinstance(hinted, (int, float)) and math.isfinite(hinted):
            interval = max(interval, float(hinted))
            remaining = self.remaining_s()
            if remaining is not None and hinted > remaining:
                raise self.timeout_error(ids, retry_after_s=float(hinted)) from error
        what = f"{self.noun} {self.job_id}" if self.job_id else f"the pending {self.noun}s"
        logger.debug("checking %s failed (%s); again in %.2f s", what, error, interval)
        try:
            return self.clip(interval, ids)
        except TaskTimeoutError as timeout:
            raise timeout from error

    def timeout_error(
        self, job_ids: Collection[str] | None = None, *, retry_after_s: float | None = None
    ) -> TaskTimeoutError:
        """The error to raise at the deadline (naming ``job_ids`` when several are pending)."""
        ids = list(job_ids) if job_ids is not None else [self.job_id]
        return TaskTimeoutError(
            ids,
            last_status=self.last_status,
            timeout_s=self.timeout_s,
            retry_after_s=retry_after_s,
            noun=self.noun,
        )
