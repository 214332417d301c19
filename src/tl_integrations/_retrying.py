"""Retry decisions for one HTTP request: pure, no I/O and no sleeping.

Retrying (a request failed, try it again) is not polling (a job is not finished yet, ask
again later); see :mod:`tl_integrations._polling` for the latter. The send flow in
:mod:`tl_integrations._transport` describes each failed attempt as an :class:`Outcome` and
asks :meth:`RetryPolicy.decide` how long to wait before the next one, or whether to give up.

Rules:

- 408, 429 and 5xx responses and transport failures are retryable; 400/401/403/404 (and every
  other status) never are.
- A request that is not idempotent is retried only when that is safe: the connection never
  opened (``"not_sent"``) or the server rejected it with 429 before doing anything.
- The server's own hint wins over backoff: ``Retry-After`` (seconds or an HTTP date),
  ``retry-after-ms``, and on a 429 ``X-Ratelimit-Reset`` (UTC epoch seconds).
- Otherwise jittered exponential backoff: ``base_delay_s * 2**attempt`` capped at
  ``max_delay_s``, minus up to ``jitter`` of it at random.
- A 429 that says when to come back is the server pacing us, not a failure: it does not use
  up ``max_retries``. Such waits are honoured (see :meth:`RetryPolicy.pacing_s`) until one
  request has waited ``max_throttle_s`` in total; only then do 429s count as failures. So a
  batch of requests under a per-minute limit completes instead of failing after 3 refusals.

Example:
    >>> policy = RetryPolicy(max_retries=2, random=lambda: 0.0)
    >>> policy.decide(0, Outcome(status_code=503))
    0.5
    >>> policy.decide(0, Outcome(status_code=429, headers={"Retry-After": "2"}))
    2.0
    >>> policy.decide(0, Outcome(status_code=404)) is None
    True
    >>> policy.decide(2, Outcome(status_code=503)) is None
    True
"""

from __future__ import annotations

import email.utils
import random as _random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from ._errors import InvalidRequestError
from ._polling import check_policy_numbers

__all__ = [
    "IDEMPOTENT_METHODS",
    "Outcome",
    "RetryPolicy",
    "TransportFailure",
    "server_delay_s",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT", "PATCH"})

TransportFailure = Literal["not_sent", "maybe_sent"]
"""``"not_sent"``: the connection never opened, so the server saw nothing.
``"maybe_sent"``: the request (or part of it) may have reached the server."""

# X-Ratelimit-Reset is documented as epoch seconds; a small number can only be a delta.
_EPOCH_THRESHOLD = 1_000_000_000.0


@dataclass(frozen=True)
class Outcome:
    """What happened to one failed attempt, as seen by the retry policy.

    Attributes:
        status_code: the HTTP status, or None when no response arrived.
        headers: the response headers (any case), empty when no response arrived.
        transport_failure: ``"not_sent"`` or ``"maybe_sent"`` when no response arrived.
        idempotent: True when repeating the request cannot do anything twice.
        now_epoch: the current UTC epoch seconds (the response's ``Date`` when known), used
            for HTTP-date ``Retry-After`` and ``X-Ratelimit-Reset``.

    Example:
        >>> Outcome(transport_failure="not_sent", idempotent=False).status_code is None
        True
    """

    status_code: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    transport_failure: TransportFailure | None = None
    idempotent: bool = True
    now_epoch: float | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one request.

    Attributes:
        max_retries: retries after the first attempt (0 disables retrying).
        base_delay_s: first backoff delay, doubled on every retry.
        max_delay_s: cap on a backoff delay.
        jitter: fraction of a backoff delay removed at random (0 for none).
        max_server_wait_s: the longest server-requested wait that is honoured; when the server
            asks for more, the error is raised instead (it carries ``retry_after_s``).
        max_throttle_s: the most one request waits in total on 429s that carry a hint
            (``Retry-After``...) before they start to use up ``max_retries``.
        random: source of uniform numbers in [0, 1), injectable for tests.

    Example:
        >>> RetryPolicy(jitter=0.0).backoff_s(3)
        4.0
    """

    max_retries: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    jitter: float = 0.25
    max_server_wait_s: float = 120.0
    max_throttle_s: float = 300.0
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_policy_numbers(
            self,
            positive=("max_delay_s",),
            non_negative=(
                "max_retries",
                "base_delay_s",
                "max_server_wait_s",
                "max_throttle_s",
            ),
        )
        if not float(self.max_retries).is_integer():
            raise InvalidRequestError(
                f"RetryPolicy.max_retries must be a whole number, got {self.max_retries!r}"
            )
        if not 0.0 <= self.jitter <= 1.0:
            raise InvalidRequestError(f"RetryPolicy.jitter must be in [0, 1], got {self.jitter}")

    def with_max_retries(self, max_retries: int) -> RetryPolicy:
        """Return a copy with another retry budget.

        Example:
            >>> RetryPolicy().with_max_retries(0).max_retries
            0
        """
        return replace(self, max_retries=max_retries)

    def decide(self, attempt: int, outcome: Outcome) -> float | None:
        """Seconds to wait before retrying, or None to give up and raise.

        Args:
            attempt: how many retries were already made for this request (0 after the first
                failure).
            outcome: what happened to the attempt that just failed.

        Example:
            >>> RetryPolicy(random=lambda: 0.0).decide(1, Outcome(transport_failure="maybe_sent"))
            1.0
        """
        if attempt >= self.max_retries or not is_retryable(outcome):
            return None
        hinted = server_delay_s(outcome)
        if hinted is not None:
            return hinted if hinted <= self.max_server_wait_s else None
        return self.backoff_s(attempt)

    def pacing_s(self, outcome: Outcome, *, waited_s: float) -> float | None:
        """The wait a 429 asked for, when it can be honoured without using up ``max_retries``.

        Args:
            outcome: the attempt that just failed.
            waited_s: what this request has already been charged for earlier 429s (see
                :meth:`pacing_cost_s`).

        Returns:
            The server's delay, or None when the outcome is not a 429 with a usable hint,
            retrying is disabled (``max_retries == 0``), or the delay would take the request
            past ``max_throttle_s``; :meth:`decide` then rules as for any failure.

        Example:
            >>> limited = Outcome(status_code=429, headers={"Retry-After": "2"})
            >>> RetryPolicy().pacing_s(limited, waited_s=0.0)
            2.0
            >>> RetryPolicy().pacing_s(limited, waited_s=299.0) is None
            True
        """
        if outcome.status_code != 429 or self.max_retries == 0:
            return None
        hinted = server_delay_s(outcome)
        if hinted is None or hinted > self.max_server_wait_s:
            return None
        if waited_s + self.pacing_cost_s(hinted) > self.max_throttle_s:
            return None
        return hinted

    def pacing_cost_s(self, delay_s: float) -> float:
        """What one paced wait counts against ``max_throttle_s``: at least ``base_delay_s``,
        so that a server answering ``Retry-After: 0`` forever cannot keep a request looping.

        Example:
            >>> RetryPolicy().pacing_cost_s(0.0), RetryPolicy().pacing_cost_s(2.0)
            (0.5, 2.0)
        """
        return max(delay_s, self.base_delay_s, 1e-3)

    def backoff_s(self, attempt: int) -> float:
        """The jittered exponential delay for retry number ``attempt`` (0-based).

        Example:
            >>> RetryPolicy(base_delay_s=1.0, jitter=0.0).backoff_s(2)
            4.0
        """
        raw = min(self.max_delay_s, self.base_delay_s * 2.0**attempt)
        return raw * (1.0 - self.jitter * self.random())


def is_retryable(outcome: Outcome) -> bool:
    """Whether the outcome may be retried at all (ignoring the retry budget).

    Example:
        >>> is_retryable(Outcome(status_code=503, idempotent=False))
        False
        >>> is_retryable(Outcome(status_code=429, idempotent=False))
        True
    """
    if outcome.transport_failure == "not_sent":
        return True
    if outcome.transport_failure == "maybe_sent":
        return outcome.idempotent
    status = outcome.status_code
    if status == 429:
        return True
    if status == 408 or (status is not None and status >= 500):
        return outcome.idempotent
    return False


def server_delay_s(outcome: Outcome) -> float | None:
    """The wait the server asked for, in seconds, or None when it gave no usable hint.

    Reads ``retry-after-ms``, ``Retry-After`` (seconds or HTTP date) and, on a 429,
    ``X-Ratelimit-Reset`` (UTC epoch seconds; a value below 1e9 is taken as a delta).

    Example:
        >>> server_delay_s(Outcome(status_code=429, headers={"x-ratelimit-reset": "110"},
        ...                        now_epoch=100.0))
        110.0
        >>> server_delay_s(Outcome(status_code=429, headers={"X-Ratelimit-Reset": "1700000003"},
        ...                        now_epoch=1700000000.0))
        3.0
    """
    headers = {key.lower(): value for key, value in outcome.headers.items()}
    millis = _to_float(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000.0)
    after = _retry_after_s(headers.get("retry-after"), outcome.now_epoch)
    if after is not None:
        return after
    if outcome.status_code == 429:
        return _reset_delay_s(headers.get("x-ratelimit-reset"), outcome.now_epoch)
    return None


def _retry_after_s(value: str | None, now_epoch: float | None) -> float | None:
    if value is None:
        return None
    seconds = _to_float(value)
    if seconds is not None:
        return max(0.0, seconds)
    if now_epoch is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now_epoch)


def _reset_delay_s(value: str | None, now_epoch: float | None) -> float | None:
    reset = _to_float(value)
    if reset is None:
        return None
    if reset < _EPOCH_THRESHOLD:
        return max(0.0, reset)
    if now_epoch is None:
        return None
    return max(0.0, reset - now_epoch)


def _to_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None
