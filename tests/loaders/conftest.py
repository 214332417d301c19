"""Fixtures for the loader/reader tests: one emulator on a manual clock, and generated videos.

Clients get ``sleep`` = "advance the emulator's clock", so indexing takes no wall time and
every wait is deterministic. Each test works in an index of its own.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit import FakeClock, start_emulator
from tl_integrations import AsyncTwelveLabs, TwelveLabs
from tl_integrations.emulator import (
    Emulator,
    EmulatorConfig,
    ManualClock,
    Stage,
    StageModel,
    make_sample_video,
)

SECRET_KEY = "tlk-loader-test-SECRET-0123456789"

# The lines of talk.mp4, (start_s, end_s, text): a kitchen lesson.
TALK_LINES = [
    (0.5, 3.0, "Welcome to the kitchen"),
    (3.5, 6.0, "today we bake sourdough bread"),
    (7.0, 9.5, "first mix flour and water"),
    (10.0, 12.5, "then knead the dough for ten minutes"),
    (13.5, 16.0, "the oven must be very hot"),
    (16.5, 19.0, "enjoy your warm loaf with butter"),
]
GARDEN_LINES = [
    (0.5, 3.0, "tomatoes need full sun"),
    (4.0, 7.0, "water the roses at dawn"),
    (8.0, 11.0, "compost feeds hungry soil"),
]


@dataclass(frozen=True)
class Media:
    """The generated videos, made once per session."""

    talk: Path  # 20 s, six subtitle lines
    garden: Path  # 12 s, three lines
    silent: Path  # 8 s, no subtitle track
    short: Path  # 2 s: fails the emulator's 4 s minimum
    talk_copy: Path  # same bytes as talk, another name


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    root = tmp_path_factory.mktemp("loader-media")
    talk = make_sample_video(root / "talk.mp4", duration_s=20.0, fps=8, subtitles=TALK_LINES)
    copy = root / "copy" / "talk-again.mp4"
    copy.parent.mkdir()
    copy.write_bytes(talk.read_bytes())
    return Media(
        talk=talk,
        garden=make_sample_video(
            root / "garden.mp4", duration_s=12.0, fps=8, subtitles=GARDEN_LINES
        ),
        silent=make_sample_video(root / "silent.mp4", duration_s=8.0, fps=8, subtitles=()),
        short=make_sample_video(root / "short.mp4", duration_s=2.0, fps=8, subtitles=()),
        talk_copy=copy,
    )


@pytest.fixture(scope="session")
def emulator(request: pytest.FixtureRequest) -> Emulator:
    # Indexing time grows with the video (1 s + 1 s per video second, no jitter), so a long
    # video is reliably still indexing when a short one is ready. Media are checked after
    # upload, so a bad video becomes a failed task (the path wait_many reports).
    stages = StageModel(indexing=Stage(1.0, 1.0), jitter=0.0)
    config = EmulatorConfig(clock=ManualClock(), seed=7, stages=stages, media_validation="async")
    return start_emulator(request, config)


@pytest.fixture
def index_name() -> str:
    return f"loaders-{uuid.uuid4().hex[:12]}"


def sync_client(emu: Emulator, **kwargs: Any) -> TwelveLabs:
    """A client whose sleeps move the emulator's clock instead of waiting."""
    time = FakeClock(emulator=emu)
    return TwelveLabs(
        api_key=SECRET_KEY, base_url=emu.base_url, clock=time, sleep=time.sleep, **kwargs
    )


def async_client(emu: Emulator, **kwargs: Any) -> AsyncTwelveLabs:
    """The async twin of :func:`sync_client`."""
    time = FakeClock(emulator=emu)
    return AsyncTwelveLabs(
        api_key=SECRET_KEY, base_url=emu.base_url, clock=time, sleep=time.async_sleep, **kwargs
    )


@pytest.fixture
def client(emulator: Emulator) -> Iterator[TwelveLabs]:
    with sync_client(emulator) as made:
        yield made


@pytest.fixture
async def aclient(emulator: Emulator) -> AsyncIterator[AsyncTwelveLabs]:
    async with async_client(emulator) as made:
        yield made


@pytest.fixture
def uploads(emulator: Emulator) -> Callable[[], int]:
    """Uploads received since the test started."""
    start = emulator.stats()["uploads"]
    return lambda: int(emulator.stats()["uploads"]) - start


@pytest.fixture
def sent(emulator: Emulator) -> Callable[[str], int]:
    """Requests of one route (``"POST /v1.3/analyze/tasks"``) received since the test
    started; ``"index"`` counts the creates that index a video, by either path."""
    start = dict(emulator.stats()["requests"])

    def count(route: str) -> int:
        routes = INDEXING if route == "index" else (route,)
        now = emulator.stats()["requests"]
        return sum(int(now.get(r, 0)) - start.get(r, 0) for r in routes)

    return count


INDEXING = ("POST /v1.3/tasks", "POST /v1.3/indexes/{id}/indexed-assets")


@pytest.fixture
def requests_sent(emulator: Emulator) -> Callable[[], int]:
    """API requests received since the test started."""
    start = emulator.stats()["requests_total"]
    return lambda: int(emulator.stats()["requests_total"]) - start


class CountingTransport(httpx.HTTPTransport):
    """A real transport that records the most uploads (``POST /assets``, or ``POST /tasks``
    on the older path) in flight at once.

    The first ``meet`` uploads wait for each other at a barrier before going out, which
    proves that many really run side by side (no timing luck involved).
    """

    def __init__(self, *, meet: int) -> None:
        super().__init__()
        self.in_flight = 0
        self.peak = 0
        self.started = 0
        self._meet = meet
        self._barrier = threading.Barrier(meet) if meet > 1 else None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        upload = request.method == "POST" and request.url.path.endswith(("/assets", "/tasks"))
        if upload:
            with self._lock:
                self.in_flight += 1
                self.started += 1
                self.peak = max(self.peak, self.in_flight)
                first = self.started <= self._meet
            if first and self._barrier is not None:
                self._barrier.wait(timeout=30)
        try:
            response = super().handle_request(request)
            response.read()
            return response
        finally:
            if upload:
                with self._lock:
                    self.in_flight -= 1
