"""60 simulated tasks: wait_many against one-request-per-task polling every 5 s.

Run with ``-s`` to see the numbers. Only request-count ratios are asserted; time is the fake
clock's, never the wall clock's.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

from testkit import FakeClock
from tl_integrations import Task

from .fakeapi import FakeTwelveLabs

TASKS = 60
FIXED_INTERVAL_S = 5.0


@dataclass
class Result:
    requests: int
    mean_notice_s: float
    max_notice_s: float


def _world(seed: int) -> tuple[FakeTwelveLabs, list[str], dict[str, float]]:
    api = FakeTwelveLabs(clock=FakeClock())
    index_id = api.add_index()
    rng = random.Random(seed)
    fakes = [api.add_task(index_id, ready_after_s=rng.uniform(30.0, 600.0)) for _ in range(TASKS)]
    return api, [f.id for f in fakes], {f.id: f.ready_after_s for f in fakes}


def run_wait_many(seed: int) -> Result:
    api, ids, ready_at = _world(seed)
    notices: list[float] = []
    with api.client() as client:
        refs = [
            Task.from_api({"_id": i, "status": "validating"}, index_id=api.tasks[i].index_id)
            for i in ids
        ]
        for task in client.tasks.wait_many(refs):
            notices.append(api.clock.now - ready_at[task.id])
        client._http.close()
    return Result(len(api.requests), statistics.mean(notices), max(notices))


def run_per_task_polling(seed: int) -> Result:
    """What 60 concurrent ``wait_for_done(sleep_interval=5)`` loops do: one GET each per 5 s."""
    api, ids, ready_at = _world(seed)
    notices: list[float] = []
    pending = set(ids)
    with api.client() as client:
        while pending:
            for task_id in sorted(pending):
                if client.tasks.retrieve(task_id).done:
                    pending.discard(task_id)
                    notices.append(api.clock.now - ready_at[task_id])
            if pending:
                api.clock.sleep(FIXED_INTERVAL_S)
        client._http.close()
    return Result(len(api.requests), statistics.mean(notices), max(notices))


def test_wait_many_needs_far_fewer_requests_and_notices_sooner_than_per_task_polling() -> None:
    ours = [run_wait_many(seed) for seed in (0, 1)]
    theirs = [run_per_task_polling(seed) for seed in (0, 1)]
    for seed, (mine, fixed) in enumerate(zip(ours, theirs, strict=True)):
        print(
            f"seed {seed}: wait_many {mine.requests} requests, mean notice "
            f"{mine.mean_notice_s:.2f} s (max {mine.max_notice_s:.2f}); per-task 5 s polling "
            f"{fixed.requests} requests, mean notice {fixed.mean_notice_s:.2f} s "
            f"(max {fixed.max_notice_s:.2f}); ratio {fixed.requests / mine.requests:.1f}x"
        )
        # wait_many spends part of its savings on noticing sooner: both must be clearly better.
        assert fixed.requests / mine.requests > 2.5  # 3.5x and 3.0x for seeds 0 and 1
        assert mine.mean_notice_s * 3 < fixed.mean_notice_s
        assert mine.max_notice_s < fixed.max_notice_s
