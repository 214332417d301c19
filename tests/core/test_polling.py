"""The poll policy and the engine's wait flow, driven by an injected clock and sleep.

``wait_for`` / ``async_wait_for`` below adapt a status-returning ``fetch`` to the engine's
:func:`~tl_integrations._engine.wait` flow run by the real drivers, so these scenarios test
the one implementation of waiting that every kind of job uses.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from testkit import FakeClock
from tl_integrations import (
    APIConnectionError,
    AuthenticationError,
    InvalidRequestError,
    Job,
    PollPolicy,
    RetryPolicy,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
)
from tl_integrations._engine import wait
from tl_integrations._flows import AsyncDriver, Context, SyncDriver
from tl_integrations._polling import PollState

STEADY = PollPolicy(jitter=0.0)


def _flow(fetch: Any, policy: PollPolicy, clock: Any, task_id: str, **options: Any) -> Any:
    def locate(job_id: str, ctx: Context) -> Any:
        value = fetch()
        if inspect.isawaitable(value):  # only used by the async adapter below
            raise AssertionError("await it first")
        return Job(job_id, value)
        yield  # a flow

    for name in ("on_update", "on_check"):
        callback = options.get(name)
        if callback is not None:
            options[name] = lambda job, cb=callback: cb(job.status)
    ctx = Context(RetryPolicy(), policy, clock=clock)
    return wait(task_id, ctx, locate=locate, **options)


def wait_for(
    fetch: Any,
    *,
    task_id: str,
    status_of: Any,
    policy: PollPolicy,
    clock: Any,
    sleep: Any,
    **options: Any,
) -> str:
    failure = options.pop("failure", None)
    try:
        job = SyncDriver(None, sleep=sleep).run(_flow(fetch, policy, clock, task_id, **options))
    except TaskFailedError as error:
        if failure is not None:
            raise failure(error.task.status) from None
        raise
    return str(job.status)


async def async_wait_for(
    fetch: Any,
    *,
    task_id: str,
    status_of: Any,
    policy: PollPolicy,
    clock: Any,
    sleep: Any,
    **options: Any,
) -> str:
    values: list[str] = []

    async def refill() -> None:
        values.append(await fetch())

    def sync_fetch() -> str:
        return values.pop(0)

    async def sleeping(seconds: float) -> None:
        await sleep(seconds)
        await refill()

    await refill()
    on_update = options.pop("on_update", None)
    updates: list[str] = []
    driver = AsyncDriver(None, sleep=sleeping)
    job = await driver.run(
        _flow(sync_fetch, policy, clock, task_id, on_update=updates.append, **options)
    )
    if on_update is not None:
        for status in updates:
            await on_update(status)
    return str(job.status)


def test_intervals_grow_to_the_cap() -> None:
    intervals = [STEADY.interval_s(n) for n in range(1, 12)]
    assert intervals[:4] == [1.0, 1.5, 2.25, 3.375]
    assert intervals[-1] == 15.0
    assert intervals == sorted(intervals)


def test_long_videos_are_not_polled_every_second() -> None:
    assert STEADY.interval_s(1, status="indexing", duration_s=3600.0) == 15.0
    assert STEADY.interval_s(1, status="indexing", duration_s=300.0) == 6.0
    # Validation does not scale with duration.
    assert STEADY.interval_s(1, status="validating", duration_s=3600.0) == 1.0


def test_jitter_spreads_both_ways() -> None:
    low = PollPolicy(jitter=0.1, random=lambda: 0.0).interval_s(1)
    high = PollPolicy(jitter=0.1, random=lambda: 0.999999).interval_s(1)
    assert low == pytest.approx(0.9)
    assert high == pytest.approx(1.1, abs=1e-5)


def test_fixed_policy() -> None:
    policy = PollPolicy.fixed(5.0)
    assert {policy.interval_s(n, status="indexing", duration_s=1e4) for n in range(1, 9)} == {5.0}


def test_faster_polls_a_faster_job_as_often_relative_to_its_length() -> None:
    fast = STEADY.faster(5)
    # Every interval that follows a job's progress is five times shorter ...
    for n in range(1, 12):
        assert fast.interval_s(n) == pytest.approx(STEADY.interval_s(n) / 5)
        hinted = fast.interval_s(n, status="indexing", duration_s=600.0)
        assert hinted == pytest.approx(STEADY.interval_s(n, status="indexing", duration_s=600) / 5)
    assert fast.batch_interval_s(50) == pytest.approx(STEADY.batch_interval_s(50) / 5)
    # ... and what spares the server's rate limits is not: the server is no faster.
    unchanged = ("min_batch_interval_s", "min_request_gap_s", "batch_request_budget_s")
    assert {name: getattr(fast, name) for name in unchanged} == {
        name: getattr(STEADY, name) for name in unchanged
    }
    assert (fast.multiplier, fast.jitter, fast.slow_statuses) == (1.5, 0.0, STEADY.slow_statuses)


def test_faster_keeps_an_injected_random_and_never_spins() -> None:
    def random() -> float:
        return 0.0

    policy = PollPolicy(jitter=0.5, random=random)
    assert policy.faster(3).random is random
    assert policy.faster(1) == policy
    instant = PollPolicy(jitter=0.0).faster(float("inf"))
    assert {instant.interval_s(n) for n in range(1, 30)} == {0.02}
    assert instant.duration_ratio == 0.0
    # A policy already faster than the floor is never made slower by the floor.
    assert PollPolicy(initial_interval_s=0.001).faster(10).initial_interval_s == 0.001


@pytest.mark.parametrize("speed", [0.5, 0, -2, float("nan"), True, "5", None])
def test_faster_refuses_a_speed_that_is_not_a_number_of_at_least_one(speed: Any) -> None:
    with pytest.raises(InvalidRequestError, match="speed must be a number >= 1"):
        PollPolicy().faster(speed)


def statuses(*values: str) -> Iterator[str]:
    yield from values
    while True:
        yield values[-1]


def test_first_check_is_immediate_and_ready_is_returned(clock: FakeClock) -> None:
    seen = statuses("pending", "indexing", "ready")
    updates: list[str] = []
    result = wait_for(
        lambda: next(seen),
        task_id="t1",
        status_of=str,
        policy=STEADY,
        clock=clock,
        sleep=clock.sleep,
        on_update=updates.append,
    )
    assert result == "ready"
    assert clock.sleeps == [1.0, 1.5]
    assert updates == ["pending", "indexing", "ready"]


def test_on_update_only_on_changes(clock: FakeClock) -> None:
    seen = statuses("pending", "pending", "indexing", "indexing", "ready")
    updates: list[str] = []
    checks: list[str] = []
    wait_for(
        lambda: next(seen),
        task_id="t1",
        status_of=str,
        policy=STEADY,
        clock=clock,
        sleep=clock.sleep,
        on_update=updates.append,
        on_check=checks.append,
    )
    assert updates == ["pending", "indexing", "ready"]
    assert len(checks) == 5


def test_failed_raises_with_the_built_error(clock: FakeClock) -> None:
    def failure(status: str) -> TaskFailedError:
        return TaskFailedError("t1", reason=f"it was {status}")

    with pytest.raises(TaskFailedError, match="it was failed"):
        wait_for(
            lambda: "failed",
            task_id="t1",
            status_of=str,
            policy=STEADY,
            clock=clock,
            sleep=clock.sleep,
            failure=failure,
        )


def test_failed_can_be_returned(clock: FakeClock) -> None:
    result = wait_for(
        lambda: "failed",
        task_id="t1",
        status_of=str,
        policy=STEADY,
        clock=clock,
        sleep=clock.sleep,
        raise_on_failed=False,
    )
    assert result == "failed"


def test_timeout_never_sleeps_past_the_deadline(clock: FakeClock) -> None:
    checks: list[float] = []

    def fetch() -> str:
        checks.append(clock.now)
        return "indexing"

    with pytest.raises(TaskTimeoutError) as info:
        wait_for(
            fetch,
            task_id="t1",
            status_of=str,
            policy=STEADY,
            clock=clock,
            sleep=clock.sleep,
            timeout_s=10.0,
        )
    assert clock.now == pytest.approx(10.0)
    assert checks[-1] == pytest.approx(10.0)  # one last look at the deadline
    assert sum(clock.sleeps) == pytest.approx(10.0)
    assert info.value.task_ids == ["t1"]
    assert info.value.last_status == "indexing"
    assert info.value.timeout_s == 10.0
    assert isinstance(info.value, TimeoutError)


def test_zero_timeout_checks_once(clock: FakeClock) -> None:
    with pytest.raises(TaskTimeoutError):
        wait_for(
            lambda: "pending",
            task_id="t1",
            status_of=str,
            policy=STEADY,
            clock=clock,
            sleep=clock.sleep,
            timeout_s=0.0,
        )
    assert clock.sleeps == []


def test_transient_errors_are_tolerated_then_raised(clock: FakeClock) -> None:
    outcomes: Iterator[str | Exception] = iter(
        [ServerError("boom", status_code=503), ServerError("boom", status_code=503), "ready"]
    )

    def fetch() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert (
        wait_for(fetch, task_id="t", status_of=str, policy=STEADY, clock=clock, sleep=clock.sleep)
        == "ready"
    )

    def always_down() -> str:
        raise ServerError("down", status_code=502)

    with pytest.raises(ServerError):
        wait_for(
            always_down,
            task_id="t",
            status_of=str,
            policy=PollPolicy(max_consecutive_errors=2),
            clock=clock,
            sleep=clock.sleep,
        )


def test_permanent_errors_propagate_at_once(clock: FakeClock) -> None:
    def fetch() -> str:
        raise AuthenticationError("revoked", status_code=401)

    with pytest.raises(AuthenticationError):
        wait_for(fetch, task_id="t", status_of=str, policy=STEADY, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == []


def test_keyboard_interrupt_propagates(clock: FakeClock) -> None:
    def fetch() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        wait_for(fetch, task_id="t", status_of=str, policy=STEADY, clock=clock, sleep=clock.sleep)


def test_async_shell_matches_and_accepts_async_callbacks(clock: FakeClock) -> None:
    seen = statuses("pending", "ready")
    updates: list[str] = []

    async def fetch() -> str:
        return next(seen)

    async def on_update(status: str) -> None:
        updates.append(status)

    result = asyncio.run(
        async_wait_for(
            fetch,
            task_id="t1",
            status_of=str,
            policy=STEADY,
            clock=clock,
            sleep=clock.async_sleep,
            on_update=on_update,
        )
    )
    assert result == "ready"
    assert updates == ["pending", "ready"]
    assert clock.sleeps == [1.0]


def test_async_cancellation_propagates(clock: FakeClock) -> None:
    async def fetch() -> str:
        return "pending"

    async def main() -> None:
        job = asyncio.ensure_future(
            async_wait_for(
                fetch,
                task_id="t1",
                status_of=str,
                policy=STEADY,
                clock=clock,
                sleep=asyncio.sleep,
            )
        )
        await asyncio.sleep(0)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job

    asyncio.run(main())


def test_poll_state_clips_to_the_deadline() -> None:
    now = [0.0]
    state = PollState(job_id="t", policy=STEADY, clock=lambda: now[0], timeout_s=3.0)
    state.observe("pending")
    now[0] = 2.5
    assert state.next_delay_s() == pytest.approx(0.5)
    now[0] = 3.0
    with pytest.raises(TaskTimeoutError):
        state.next_delay_s()


def test_intervals_stay_capped_after_many_hours_of_checks() -> None:
    # multiplier**checks overflowed a float after ~1,760 checks (hours into a long wait).
    policy = PollPolicy(jitter=0.0)
    assert policy.interval_s(1_000_000) == policy.max_interval_s
    assert policy.batch_interval_s(1_000_000) == min(
        policy.max_interval_s, policy.max_batch_interval_s
    )


# -- a wait with a deadline rides errors out until it --------------------------------------


def test_a_deadline_outlasts_the_consecutive_error_limit() -> None:
    time = FakeClock()
    failures = iter([APIConnectionError("down")] * 12)

    def fetch() -> str:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return "ready"

    policy = PollPolicy(max_consecutive_errors=2, jitter=0.0)
    result = wait_for(
        fetch,
        task_id="t",
        status_of=str,
        policy=policy,
        clock=time,
        sleep=time.sleep,
        timeout_s=600.0,
    )
    assert result == "ready"


def test_the_deadline_during_an_outage_is_a_timeout_caused_by_it() -> None:
    time = FakeClock()

    def fetch() -> str:
        raise APIConnectionError("GET /tasks/t failed: ConnectError")

    with pytest.raises(TaskTimeoutError) as caught:
        wait_for(
            fetch,
            task_id="t",
            status_of=str,
            policy=PollPolicy(),
            clock=time,
            sleep=time.sleep,
            timeout_s=30.0,
        )
    assert isinstance(caught.value.__cause__, APIConnectionError)
    assert time.now == pytest.approx(30.0)


def test_without_a_deadline_errors_still_end_the_wait() -> None:
    time = FakeClock()

    def fetch() -> str:
        raise ServerError("down", status_code=503)

    with pytest.raises(ServerError):
        wait_for(
            fetch,
            task_id="t",
            status_of=str,
            policy=PollPolicy(max_consecutive_errors=3),
            clock=time,
            sleep=time.sleep,
        )
