"""Scenario 3: the emulator (with ``data_dir``) goes away in the middle of ``wait_many``.

The outage is emulated: the server is stopped from ``on_update`` and started again on the
same port (same data directory, same manual clock) by the client's own sleep once enough
emulated time has passed, so a 20-second outage costs no wall time and its timing does not
depend on the machine.

Outcomes:
- deadline longer than the outage: the client rides through (request retries, then poll
  rounds tried again until the deadline, however many fail) and yields every task, ready,
  exactly once;
- deadline shorter than the outage: ``wait_many`` raises ``TaskTimeoutError`` naming every
  pending task, chained from the ``APIConnectionError`` that kept it from checking (its
  ``__cause__``). That is the honest outcome: the deadline is what ended the wait, the tasks
  were last seen running, and the ids are what the caller needs to resume. The tasks are
  not lost: a new ``wait_many`` once the server is back finds them all ready.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit import FakeClock
from tl_integrations import APIConnectionError, Task, TaskTimeoutError, TwelveLabs
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock

from .conftest import Media, RetryLog, report

# Longer than the 5 failed checks in a row a wait without a deadline would put up with.
OUTAGE_S = 60.0
VIDEOS = 6


class Outage:
    """Stops the emulator on the first status update; the client's sleeps bring it back."""

    def __init__(self, config: EmulatorConfig, *, outage_s: float) -> None:
        self.config = config
        self.outage_s = outage_s
        self.server: Emulator | None = Emulator(config).start()
        self.port = self.server.port
        clock = config.clock
        assert isinstance(clock, ManualClock)
        self.vt = FakeClock(server=clock)
        self.down_at: float | None = None
        self.up_at: float | None = None
        self.restarts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1.3"

    def on_update(self, task: Task) -> None:
        if self.down_at is None and self.server is not None:
            self.server.stop()
            self.server = None
            self.down_at = self.vt.now

    def sleep(self, seconds: float) -> None:
        self.vt.sleep(seconds)
        back = self.down_at is not None and self.vt.now >= self.down_at + self.outage_s
        if self.server is None and back:
            self.server = Emulator(self.config, port=self.port).start()
            self.up_at = self.vt.now
            self.restarts += 1

    def client(self, **kwargs: object) -> TwelveLabs:
        return TwelveLabs(
            api_key="tlk-restart",
            base_url=self.base_url,
            clock=self.vt,
            sleep=self.sleep,
            **kwargs,  # type: ignore[arg-type]
        )

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[Outage]:
    config = EmulatorConfig(clock=ManualClock(), seed=4, data_dir=tmp_path / "emulator-data")
    made = Outage(config, outage_s=OUTAGE_S)
    try:
        yield made
    finally:
        made.stop()


def _start_tasks(outage: Outage, media: Media) -> list[Task]:
    with outage.client() as client:
        index = client.indexes.create("restart")
        return [client.tasks.create(index_id=index.id, file=p) for p in media.videos[:VIDEOS]]


def test_wait_many_rides_through_a_restart(
    outage: Outage, media: Media, retry_log: RetryLog
) -> None:
    tasks = _start_tasks(outage, media)
    with outage.client() as client:
        done = list(client.tasks.wait_many(tasks, timeout_s=300.0, on_update=outage.on_update))
    assert outage.restarts == 1
    assert outage.down_at is not None
    assert outage.up_at is not None
    assert outage.up_at - outage.down_at >= OUTAGE_S
    assert sorted(t.id for t in done) == sorted(t.id for t in tasks)
    assert all(t.status == "ready" for t in done)
    refused = sum(n for cause, n in retry_log.causes.items() if "Error" in cause)
    assert refused >= 1
    assert retry_log.causes["poll round retried"] >= 1
    report(
        "server restart/long deadline",
        tasks=VIDEOS,
        outage_s=round(outage.up_at - outage.down_at, 1),
        retries=retry_log.total,
        retry_causes=dict(retry_log.causes),
        duplicates=0,
        lost=0,
    )


def test_short_deadline_ends_in_a_timeout_caused_by_the_outage(
    outage: Outage, media: Media, retry_log: RetryLog
) -> None:
    tasks = _start_tasks(outage, media)
    deadline_s = 10.0
    with outage.client() as client:
        start = outage.vt.now
        with pytest.raises(TaskTimeoutError) as caught:
            list(client.tasks.wait_many(tasks, timeout_s=deadline_s, on_update=outage.on_update))
        ended = outage.vt.now
    assert outage.server is None, "the deadline came before the server was back"
    # The last poll round may overrun by the retry backoff of its one request (0.5+1+2 s).
    assert deadline_s <= ended - start <= deadline_s + 3.5
    error = caught.value
    assert sorted(error.task_ids) == sorted(t.id for t in tasks)
    assert f"after {deadline_s} s" in str(error)
    cause = error.__cause__
    assert isinstance(cause, APIConnectionError)
    assert str(cause).startswith("GET /tasks")
    assert "ConnectError" in str(cause)
    # Nothing is lost: once the server is back, a new wait finds every task ready.
    outage.sleep(OUTAGE_S)
    with outage.client() as client:
        done = list(client.tasks.wait_many(error.task_ids, timeout_s=300.0))
    assert sorted(t.id for t in done) == sorted(t.id for t in tasks)
    assert all(t.status == "ready" for t in done)
    report(
        "server restart/short deadline",
        tasks=VIDEOS,
        error=f"{type(error).__name__} from {type(cause).__name__}",
        retries=retry_log.total,
        duplicates=0,
        lost=0,
    )
