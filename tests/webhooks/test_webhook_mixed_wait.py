"""One ``wait_many`` over indexing and analysis tasks together, against the emulator sending
its signed webhooks: with a receiver attached it ends on their events after the first look,
where polling the same schedule keeps listing both kinds.

The emulator runs on a :class:`~tl_integrations.emulator.ManualClock`. The client sleeps by
advancing it in small steps (``Emulator.advance`` sends the webhooks that fall due before it
returns) and, with a receiver, wakes at the first step that brought an event, as a real
sleep ends when the receiver is hit. Nothing waits on the wall clock; the checks are counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tl_integrations import TwelveLabs, WebhookReceiver
from tl_integrations.emulator import (
    Emulator,
    ManualClock,
    Stage,
    StageModel,
    make_sample_video,
)

SECRET = "whsec_mixed-wait-s3cret"
START_S = 1_790_000_000.0
# Both kinds take 4-36 s, so their events interleave over half a minute.
STAGES = StageModel(indexing=Stage(20.0, 0.0), analysis=Stage(20.0, 0.0), jitter=0.8)
EACH = 6
"""Jobs of each kind."""
STEP_S = 0.25


@dataclass
class Run:
    jobs: list[Any]
    seen: list[Any]
    requests: int
    events: int


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mixed-wait")
    return make_sample_video(folder / "clip.mp4", duration_s=5.0, fps=2, audio=False)


def event_sleep(emu: Emulator, receiver: WebhookReceiver | None) -> Callable[[float], None]:
    """Sleep by moving the emulator's clock; a receiver's event ends the sleep early."""
    assert emu.clock is not None
    clock = emu.clock

    def sleep(seconds: float) -> None:
        end = clock() + seconds
        heard = receiver.stats["events"] if receiver is not None else 0
        while clock() < end:
            emu.advance(min(STEP_S, end - clock()))
            if receiver is not None and receiver.stats["events"] != heard:
                return

    return sleep


def run_mixed(video: Path, *, listening: bool) -> Run:
    """Six indexing and six analysis tasks, made at one moment, waited for in one wait."""
    clock = ManualClock(start_s=START_S)
    receiver = WebhookReceiver(SECRET, clock=clock)
    with receiver.serve() as server, Emulator(
        clock=clock, seed=16, stages=STAGES, webhook_url=server.url, webhook_secret=SECRET,
    ) as emu:  # fmt: skip
        with TwelveLabs(
            api_key=emu.api_key, base_url=emu.base_url, clock=clock,
            sleep=event_sleep(emu, receiver if listening else None),
            events=receiver if listening else None,
        ) as client:  # fmt: skip
            index = client.indexes.create("mixed")
            asset = client.assets.create(file=video)
            emu.advance(600.0)  # assets send no events: let it be ready first
            jobs: list[Any] = []
            for k in range(EACH):
                jobs.append(client.tasks.create(index_id=index.id, file=video))
                jobs.append(client.analyze.tasks.create(asset, prompt=f"Describe part {k}"))
            before = int(emu.stats()["requests_total"])
            seen = list(client.tasks.wait_many(jobs))
            requests = int(emu.stats()["requests_total"]) - before
        return Run(jobs, seen, requests, int(receiver.stats["events"]))


def test_a_mixed_wait_ends_on_events_with_few_requests(video: Path) -> None:
    hooked, polled = run_mixed(video, listening=True), run_mixed(video, listening=False)
    for run in (hooked, polled):
        assert Counter(job.id for job in run.seen) == Counter(job.id for job in run.jobs)
        assert {(type(job).__name__, job.status) for job in run.seen} == {
            ("Task", "ready"),
            ("AnalysisTask", "ready"),
        }
    assert hooked.events == 2 * EACH  # one index.task.ready and one analyze.task.ready each
    # The first look lists each kind once (tasks by index, analysis tasks by asset); the
    # events end every job, so no list round follows.
    assert hooked.requests == 2
    assert polled.requests >= 10 * hooked.requests
