"""The poll policy: when to check a task again (pure; no I/O, no clock).

:class:`PollPolicy` is re-exported by :mod:`tl_integrations.polling`, which users import.

Example:
    >>> PollPolicy(jitter=0.0).interval_s(3)
    2.25
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import APIConnectionError, RateLimitError, ServerError, TwelveLabsError

__all__ = ["FAILED_STATUSES", "READY_STATUSES", "TRANSIENT_ERRORS", "PollPolicy"]

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
