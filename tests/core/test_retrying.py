"""The retry policy is pure: attempt number + outcome in, delay or None out."""

from __future__ import annotations

import email.utils

import pytest

from tl_integrations._retrying import Outcome, RetryPolicy, server_delay_s

NO_JITTER = RetryPolicy(max_retries=3, base_delay_s=0.5, jitter=0.0)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_transient_statuses_are_retried_on_idempotent_requests(status: int) -> None:
    assert NO_JITTER.decide(0, Outcome(status_code=status)) == 0.5


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_permanent_statuses_are_never_retried(status: int) -> None:
    assert NO_JITTER.decide(0, Outcome(status_code=status)) is None


def test_backoff_doubles_up_to_the_cap_and_the_budget() -> None:
    policy = RetryPolicy(max_retries=10, base_delay_s=1.0, max_delay_s=5.0, jitter=0.0)
    delays = [policy.decide(n, Outcome(status_code=503)) for n in range(11)]
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, None]


def test_jitter_only_shortens_the_delay() -> None:
    policy = RetryPolicy(base_delay_s=2.0, jitter=0.25, random=lambda: 0.999)
    delay = policy.decide(0, Outcome(status_code=500))
    assert delay is not None
    assert 1.5 <= delay <= 2.0


def test_post_is_retried_only_when_safe() -> None:
    assert NO_JITTER.decide(0, Outcome(status_code=503, idempotent=False)) is None
    assert NO_JITTER.decide(0, Outcome(transport_failure="maybe_sent", idempotent=False)) is None
    assert NO_JITTER.decide(0, Outcome(status_code=429, idempotent=False)) == 0.5
    assert NO_JITTER.decide(0, Outcome(transport_failure="not_sent", idempotent=False)) == 0.5


def test_retry_after_seconds_wins_over_backoff() -> None:
    assert NO_JITTER.decide(2, Outcome(status_code=429, headers={"Retry-After": "2"})) == 2.0


def test_retry_after_http_date_is_relative_to_now() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    outcome = Outcome(status_code=503, headers={"retry-after": date}, now_epoch=now)
    assert NO_JITTER.decide(0, outcome) == pytest.approx(7.0)


def test_x_ratelimit_reset_epoch_on_429() -> None:
    now = 1_700_000_000.0
    outcome = Outcome(status_code=429, headers={"X-Ratelimit-Reset": str(now + 3)}, now_epoch=now)
    assert NO_JITTER.decide(0, outcome) == pytest.approx(3.0)


def test_x_ratelimit_reset_is_ignored_on_other_statuses() -> None:
    outcome = Outcome(status_code=503, headers={"X-Ratelimit-Reset": "5"}, now_epoch=0.0)
    assert server_delay_s(outcome) is None


def test_retry_after_ms_and_garbage() -> None:
    assert server_delay_s(Outcome(status_code=429, headers={"retry-after-ms": "250"})) == 0.25
    assert server_delay_s(Outcome(status_code=429, headers={"Retry-After": "soon"})) is None
    assert server_delay_s(Outcome(status_code=429, headers={"Retry-After": "-4"})) == 0.0


def test_a_server_wait_beyond_the_cap_gives_up() -> None:
    policy = RetryPolicy(max_server_wait_s=60.0)
    assert policy.decide(0, Outcome(status_code=429, headers={"Retry-After": "3600"})) is None


def test_zero_retries_never_retries() -> None:
    assert RetryPolicy(max_retries=0).decide(0, Outcome(status_code=503)) is None
