"""Waiting on webhooks when things go wrong: forged signatures, stale timestamps, replayed
events, a receiver down for a while, events dropped, duplicated, delayed and reordered by
the emulator's faults. Every job still ends, in the state the server says, exactly once;
and with events coming, waits make almost no requests.

Every emulator here runs on a manual clock. Clients sleep with :class:`EventTime`: it moves
the clock in small steps through ``Emulator.advance`` (which sends the webhooks that fall
due before it returns) and ends the sleep at the first step that brought an event, as a
real sleep ends when the receiver is hit. Nothing waits on the wall clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tl_integrations import IngestOptions, TwelveLabs, VideoIngest, WebhookReceiver
from tl_integrations._resources.indexed_assets import IndexedAsset
from tl_integrations.emulator import Emulator, Faults, ManualClock, Stage, StageModel

from .conftest import SECRET_KEY, Media, report

HOOK_SECRET = "whsec_RELIABILITY-h00k-s3cret"
START_S = 1_790_000_000.0
# 5-45 s of processing per job, so events arrive spread over a minute.
STAGES = StageModel(indexing=Stage(20.0, 0.0), jitter=0.8)


class Sink(WebhookReceiver):
    """A receiver that keeps every request it verified (to replay them) and answers 503
    while ``down``."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(HOOK_SECRET, clock=clock)
        self.requests: list[tuple[bytes, list[tuple[bytes, bytes]]]] = []
        self.down = False
        self.refused_while_down = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and self.down:
            self.refused_while_down += 1
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await super().__call__(scope, receive, send)

    def receive(self, body: bytes | str, headers: Any) -> Any:
        event = super().receive(body, headers)
        if event is not None:
            self.requests.append(
                (bytes(body) if isinstance(body, bytes) else body.encode(), headers)
            )
        return event


class EventTime:
    """Client sleeps on the emulator's manual clock, cut short by webhook events."""

    def __init__(self, emu: Emulator, receiver: WebhookReceiver, *, step_s: float = 0.25) -> None:
        assert emu.clock is not None
        self.emu = emu
        self.clock = emu.clock
        self.receiver = receiver
        self.step_s = step_s
        self.on_step: list[Callable[[float], object]] = []
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        end = self.clock() + seconds
        seen = self.receiver.stats["events"]
        while self.clock() < end:
            with self._lock:  # concurrent sleepers share one clock, as in real time
                if self.clock() < end:
                    self.emu.advance(min(self.step_s, end - self.clock()))
            for hook in self.on_step:
                hook(self.clock())
            if self.receiver.stats["events"] != seen:
                return


@dataclass
class Rig:
    emu: Emulator
    sink: Sink
    url: str
    time: EventTime
    client: TwelveLabs
    index_id: str
    made: list[Any] = field(default_factory=list)

    def requests(self) -> int:
        return int(self.emu.stats()["requests_total"])

    def truth(self, job: Any) -> str:
        """The job's status, read from the emulator's records (not through the API)."""
        assert self.emu.app is not None
        backend = self.emu.app.emulator.backend
        with backend.store.lock:
            if job.id in backend.store.records.tasks:
                return str(backend.tasks.view(backend.store.records.tasks[job.id]).status)
            return str(backend.videos.view(backend.store.records.videos[job.id]).status)


@contextmanager
def rig(*, seed: int, events: bool = True, **config: Any) -> Iterator[Rig]:
    clock = ManualClock(start_s=START_S)
    sink = Sink(clock)
    with sink.serve() as server, Emulator(
        clock=clock, seed=seed, stages=STAGES, webhook_url=server.url,
        webhook_secret=HOOK_SECRET, **config,
    ) as emu:  # fmt: skip
        time = EventTime(emu, sink)
        with TwelveLabs(
            api_key=SECRET_KEY, base_url=emu.base_url, clock=clock, sleep=time.sleep,
            events=sink if events else None,
        ) as client:  # fmt: skip
            index = client.indexes.create("hooks")
            yield Rig(emu, sink, server.url, time, client, index.id)


def make_tasks(made: Rig, videos: tuple[Path, ...]) -> list[Any]:
    return [made.client.tasks.create(index_id=made.index_id, file=path) for path in videos]


def make_indexed(made: Rig, videos: tuple[Path, ...]) -> list[IndexedAsset]:
    assets = [made.client.assets.create(file=path) for path in videos]
    made.emu.advance(600.0)  # assets send no events: let them be ready first
    return [made.client.indexes.indexed_assets.create(made.index_id, asset.id) for asset in assets]


def check_every_job_ends_once_as_the_server_says(
    made: Rig, jobs: list[Any], seen: list[Any]
) -> None:
    counts = Counter(job.id for job in seen)
    assert sorted(counts) == sorted(job.id for job in jobs)
    assert set(counts.values()) == {1}, counts
    for job in seen:
        assert job.status == made.truth(job), job.id


def test_with_a_receiver_a_wait_makes_almost_no_requests(media: Media) -> None:
    counts = {}
    for events in (True, False):
        with rig(seed=21, events=events, faults=Faults(fail=0.2)) as made:
            jobs = make_tasks(made, media.videos[:20])
            before = made.requests()
            seen = list(made.client.tasks.wait_many(jobs))
            counts[events] = made.requests() - before
            check_every_job_ends_once_as_the_server_says(made, jobs, seen)
            assert {job.status for job in seen} == {"ready", "failed"}
    report("webhooks vs polling, 20 tasks", webhooks=counts[True], polling=counts[False])
    assert counts[True] <= 2  # the first look (one list), and nothing after it
    assert counts[False] >= 10 * counts[True]


def test_forged_stale_and_replayed_events_change_nothing(media: Media) -> None:
    with rig(seed=22, faults=Faults(fail=0.3)) as made:
        jobs = make_tasks(made, media.videos[:12])
        attacker = httpx.Client()

        def forge(job: Any) -> None:
            # A well-formed event claiming the job failed, signed with a guessed secret.
            body = json.dumps(
                {"id": f"whe_forged_{job.id}", "type": "index.task.failed",
                 "data": {"id": job.id, "status": "failed"}}
            ).encode()  # fmt: skip
            stamp = int(made.time.clock())
            mac = hmac.new(b"whsec_guess", f"{stamp}.".encode() + body, hashlib.sha256)
            sign = {"TL-Signature": f"t={stamp},v1={mac.hexdigest()}"}
            assert attacker.post(made.url, content=body, headers=sign).status_code == 401

        def replay(_now: float) -> None:
            for body, headers in list(made.sink.requests):
                pairs = [(k.decode(), v.decode()) for k, v in headers]
                attacker.post(made.url, content=body, headers=pairs)

        for job in jobs:
            forge(job)
        made.time.on_step.append(replay)
        seen = list(made.client.tasks.wait_many(jobs))
        made.time.on_step.clear()
        check_every_job_ends_once_as_the_server_says(made, jobs, seen)
        duplicates = made.sink.stats["duplicates"]
        made.emu.advance(400.0)  # past the 300 s tolerance: the same requests are now stale
        replay(0.0)
        attacker.close()
        stats = made.sink.stats
    report("forged, replayed, stale", **stats)
    assert stats["events"] == len(jobs)
    assert duplicates > 0  # replays inside the window were taken as the retries they look like
    assert stats["rejected"] == len(jobs) + len(jobs)  # the forged ones, then every stale replay


def test_a_receiver_down_for_a_while_still_hears_every_job(media: Media) -> None:
    with rig(seed=23, faults=Faults(fail=0.3)) as made:
        jobs = make_tasks(made, media.videos[:12])
        made.sink.down = True
        back_at = made.time.clock() + 25.0
        made.time.on_step.append(lambda now: setattr(made.sink, "down", now < back_at))
        before = made.requests()
        seen = list(made.client.tasks.wait_many(jobs))
        requests = made.requests() - before
        check_every_job_ends_once_as_the_server_says(made, jobs, seen)
        assert made.emu.app is not None
        hooks = made.emu.app.emulator.backend.webhooks
        attempts = [hooks.records(job.id)[0]["attempts"] for job in jobs]
    report("receiver down 25 s", refused=made.sink.refused_while_down, requests=requests,
           most_attempts=max(attempts))  # fmt: skip
    assert made.sink.refused_while_down > 0
    assert max(attempts) > 1  # retried, and heard in the end
    assert made.sink.stats["events"] == len(jobs)


def test_dropped_duplicated_delayed_and_reordered_events_end_every_job_once(
    media: Media,
) -> None:
    faults = Faults(
        fail=0.3, webhook_drop=0.25, webhook_duplicate=0.25, webhook_delay=0.25,
        webhook_delay_s=20.0, webhook_reorder=0.25,
    )  # fmt: skip
    with rig(seed=26, faults=faults) as made:  # a seed that draws every kind of fault
        tasks = make_tasks(made, media.videos[:10])
        indexed = make_indexed(made, media.videos[10:20])
        before = made.requests()
        seen_tasks = list(made.client.tasks.wait_many(tasks))
        seen_indexed = list(made.client.indexes.indexed_assets.wait_many(indexed))
        requests = made.requests() - before
        check_every_job_ends_once_as_the_server_says(made, tasks, seen_tasks)
        check_every_job_ends_once_as_the_server_says(made, indexed, seen_indexed)
        assert made.emu.app is not None
        hooks = made.emu.app.emulator.backend.webhooks
        drawn = Counter(
            fault for job in tasks + indexed for d in hooks.deliveries(job.id) for fault in d.faults
        )
        stats = made.sink.stats
    report("faulty deliveries, 20 jobs", requests=requests, **drawn, **stats)
    # every kind of fault happened, and the jobs whose event was dropped were found by the
    # slow fallback round
    assert set(drawn) == {"drop", "duplicate", "delay", "reorder"}
    assert stats["events"] == len(tasks) + len(indexed) - drawn["drop"]
    assert stats["duplicates"] > 0
    assert {job.status for job in seen_tasks + seen_indexed} == {"ready", "failed"}


def test_the_ingest_engine_listens_when_its_client_has_a_receiver(media: Media) -> None:
    listed = {}
    for events in (True, False):
        with rig(seed=25, events=events) as made:
            options = IngestOptions(index_id=made.index_id, content=("transcript",))
            before = made.emu.stats()["requests"]
            records = list(VideoIngest(made.client, options).run(list(media.videos[:6])))
            after = made.emu.stats()["requests"]
            route = "GET /v1.3/indexes/{id}/indexed-assets"
            listed[events] = sum(
                after.get(r, 0) - before.get(r, 0) for r in after if r.startswith(route)
            )
            assert len(records) == 6
    # Not polls: each file's lookups by content, one before its create and one after (the
    # check for a twin another process made at the same moment).
    lookups = 2 * 6
    polls = {events: count - lookups for events, count in listed.items()}
    report("ingest, indexed-asset polls", webhooks=polls[True], polling=polls[False])
    assert polls[True] * 3 <= polls[False]
