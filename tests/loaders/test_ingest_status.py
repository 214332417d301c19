"""``on_status``: every stage of every input, the same in both engines; and the wait slices.

The slice tests pin the lag fixed in ``_wait_slice``: a task created while another one is
being waited on joins the wait within one poll interval (emulator time), not at the end of
a fixed 5 s slice.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tl_integrations import (
    AsyncTwelveLabs,
    AsyncVideoIngest,
    IngestFailure,
    IngestOptions,
    PollPolicy,
    TaskTimeoutError,
    TwelveLabs,
    VideoIngest,
)
from tl_integrations.emulator import Emulator

from .conftest import SECRET_KEY, Media

TASK_STAGES = ("validating", "pending", "queued", "indexing", "ready")
PREPARING = ("hashing", "looking up", "uploading")
POLL_S = 1.0


class Seen:
    """An ``on_status`` callback that records what each input (by file name) went through."""

    def __init__(self) -> None:
        self.by_name: dict[str, list[str]] = defaultdict(list)

    def __call__(self, source: str, status: str) -> None:
        self.by_name[Path(source).name].append(status)


def assert_indexed(statuses: list[str]) -> None:
    """Prepared, then task stages in order (sampled by polling) up to ready, read, done."""
    assert statuses[:3] == list(PREPARING)
    stages = statuses[3:-2]
    assert stages[-1] == "ready"
    assert stages == sorted(set(stages), key=TASK_STAGES.index), statuses
    assert statuses[-2:] == ["reading", "done"]


def assert_failed(statuses: list[str]) -> None:
    """Prepared, some running stages, then ``failed`` once, last."""
    assert statuses[:3] == list(PREPARING)
    assert statuses[-1] == "failed"
    assert set(statuses[3:-1]) <= set(TASK_STAGES) - {"ready"}, statuses


def check_runs(first: Seen, second: Seen) -> None:
    assert set(first.by_name) == {"garden.mp4", "short.mp4"}
    assert_indexed(first.by_name["garden.mp4"])
    assert_failed(first.by_name["short.mp4"])
    # Second run: the file is found by its hash, the id is read as is; no task statuses.
    assert second.by_name["garden.mp4"] == ["hashing", "looking up", "reading", "done"]
    (video_input,) = set(second.by_name) - {"garden.mp4"}
    assert second.by_name[video_input] == ["looking up", "reading", "done"]


def test_on_status_reports_every_stage_of_every_input(
    client: TwelveLabs, media: Media, index_name: str
) -> None:
    first, second = Seen(), Seen()
    options = IngestOptions(
        index_name=index_name, content=("transcript",), on_error="skip", on_status=first
    )
    (record,) = VideoIngest(client, options).run([media.garden, media.short])
    options = IngestOptions(index_name=index_name, content=("transcript",), on_status=second)
    again: list[str | Path] = [media.garden, f"video:{record.video.video_id}"]
    assert len(list(VideoIngest(client, options).run(again))) == 2
    check_runs(first, second)


async def test_the_async_engine_reports_the_same_statuses(
    aclient: AsyncTwelveLabs, media: Media, index_name: str
) -> None:
    first, second = Seen(), Seen()
    options = IngestOptions(
        index_name=index_name, content=("transcript",), on_error="skip", on_status=first
    )
    ingest = AsyncVideoIngest(aclient, options)
    (record,) = [r async for r in ingest.run([media.garden, media.short])]
    options = IngestOptions(index_name=index_name, content=("transcript",), on_status=second)
    again: list[str | Path] = [media.garden, f"video:{record.video.video_id}"]
    assert len([r async for r in AsyncVideoIngest(aclient, options).run(again)]) == 2
    check_runs(first, second)


class Boom(Exception):
    """What a buggy callback raises."""


def raising_on(status: str, error: Exception) -> Callable[[str, str], None]:
    def on_status(source: str, seen: str) -> None:
        if seen == status:
            raise error

    return on_status


# "uploading" is reported from a worker (sync) or an upload task (async), where any other
# error would count as that input's failure; "ready" from inside wait_many, where a
# TaskTimeoutError would otherwise be taken for the end of a wait slice.
CALLBACK_FAILURES = [
    ("hashing", Boom("hashing")),
    ("uploading", Boom("uploading")),
    ("validating", Boom("validating")),
    ("ready", TaskTimeoutError("t1", last_status="ready", timeout_s=1.0)),
    ("done", Boom("done")),
]


@pytest.mark.parametrize(("status", "error"), CALLBACK_FAILURES, ids=lambda v: str(v)[:10])
def test_an_exception_in_on_status_ends_the_run_unchanged(
    client: TwelveLabs, media: Media, index_name: str, status: str, error: Exception
) -> None:
    failures: list[IngestFailure] = []
    options = IngestOptions(
        index_name=index_name, on_error="skip", on_status=raising_on(status, error)
    )
    with pytest.raises(type(error)) as raised:
        list(VideoIngest(client, options).run([media.garden], failures=failures))
    assert raised.value is error
    assert failures == []  # not mistaken for a failed video


@pytest.mark.parametrize(("status", "error"), CALLBACK_FAILURES[1:4:2], ids=["uploading", "ready"])
async def test_an_exception_in_on_status_ends_the_async_run_unchanged(
    aclient: AsyncTwelveLabs, media: Media, index_name: str, status: str, error: Exception
) -> None:
    failures: list[IngestFailure] = []
    options = IngestOptions(
        index_name=index_name, on_error="skip", on_status=raising_on(status, error)
    )
    with pytest.raises(type(error)) as raised:
        [r async for r in AsyncVideoIngest(aclient, options).run([media.garden], failures=failures)]
    assert raised.value is error
    assert failures == []


# -- wait slices --------------------------------------------------------------------------
#
# One upload at a time: talk, then garden (talk_copy has the same bytes as talk: it only
# hashes, then rides along with talk). garden's upload is held until the engine, waiting on
# talk, first sleeps; the test's sleep then lets it through and, without moving the
# emulator's clock, waits (in real time, bounded) for garden's task to join the running
# wait. garden's task is thus created at a known emulator time, while talk is being waited
# on; an engine that let new tasks join only between wait slices would never let it join
# while the clock stands still, and the bounded wait would fail the test.


class Joins:
    """The held run's inputs and options; when garden's task was created and when it joined.

    Args:
        emulator: the emulator on a manual clock (its clock is the client's too).
        media: the generated videos.
        joined: called when garden's task has joined the wait.
    """

    def __init__(self, emulator: Emulator, media: Media, *, joined: Callable[[], object]) -> None:
        assert emulator.clock is not None
        self.now = emulator.clock
        self.videos = [media.talk, media.garden, media.talk_copy]
        self.poll = PollPolicy.fixed(POLL_S)
        self.created_s: float | None = None
        self.joined_s: float | None = None
        self._joined = joined

    def options(self, index_name: str) -> IngestOptions:
        # The one-step /tasks path: one create per upload, which the transport holds.
        return IngestOptions(
            index_name=index_name,
            content=("transcript",),
            max_concurrency=1,
            on_status=self._on_status,
            upload="tasks",
        )

    def _on_status(self, source: str, status: str) -> None:
        name = Path(source).name
        if name == "garden.mp4" and status in TASK_STAGES and self.joined_s is None:
            self.joined_s = self.now()
            self._joined()

    def check(self, records: int, uploads: int) -> None:
        assert (records, uploads) == (3, 2)  # talk_copy rode along with talk
        assert self.created_s is not None
        assert self.joined_s is not None
        # Within one poll interval (here at once); the old fixed 5 s slice made this 5.0.
        assert self.joined_s - self.created_s <= POLL_S + 1e-6


class HeldTransport(httpx.HTTPTransport):
    """Holds the second upload (``POST /tasks``) until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self._uploads = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/tasks"):
            with self._lock:
                self._uploads += 1
                held = self._uploads == 2
            if held:
                assert self.release.wait(timeout=30)
        response = super().handle_request(request)
        response.read()
        return response


def test_a_task_created_during_a_wait_joins_it_within_one_poll_interval(
    emulator: Emulator, media: Media, index_name: str, uploads: Callable[[], int]
) -> None:
    transport, joined = HeldTransport(), threading.Event()
    joins = Joins(emulator, media, joined=joined.set)

    def sleep(seconds: float) -> None:
        if not transport.release.is_set():
            joins.created_s = joins.now()
            transport.release.set()
            assert joined.wait(timeout=30)
        emulator.advance(seconds)

    with (
        httpx.Client(transport=transport) as http,
        TwelveLabs(
            SECRET_KEY,
            base_url=emulator.base_url,
            http_client=http,
            poll_policy=joins.poll,
            clock=joins.now,
            sleep=sleep,
        ) as client,
    ):
        records = list(VideoIngest(client, joins.options(index_name)).run(joins.videos))
    joins.check(len(records), uploads())


class AsyncHeldTransport(httpx.AsyncHTTPTransport):
    """The async twin of :class:`HeldTransport`."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self._uploads = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/tasks"):
            self._uploads += 1
            if self._uploads == 2:
                await asyncio.wait_for(self.release.wait(), timeout=30)
        response = await super().handle_async_request(request)
        await response.aread()
        return response


async def test_the_async_engine_lets_a_new_task_join_within_one_poll_interval(
    emulator: Emulator, media: Media, index_name: str, uploads: Callable[[], int]
) -> None:
    transport, joined = AsyncHeldTransport(), asyncio.Event()
    joins = Joins(emulator, media, joined=joined.set)

    async def sleep(seconds: float) -> None:
        if not transport.release.is_set():
            joins.created_s = joins.now()
            transport.release.set()
            await asyncio.wait_for(joined.wait(), timeout=30)
        emulator.advance(seconds)
        await asyncio.sleep(0)

    async with (
        httpx.AsyncClient(transport=transport) as http,
        AsyncTwelveLabs(
            SECRET_KEY,
            base_url=emulator.base_url,
            http_client=http,
            poll_policy=joins.poll,
            clock=joins.now,
            sleep=sleep,
        ) as client,
    ):
        ingest = AsyncVideoIngest(client, joins.options(index_name))
        records = [r async for r in ingest.run(joins.videos)]
    joins.check(len(records), uploads())
