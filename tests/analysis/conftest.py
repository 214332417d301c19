"""Fixtures of the client's analysis tests: one emulator on a manual clock, its media, and
sync and async clients whose sleeps move that clock (no test waits for real)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from testkit import FakeClock, start_emulator
from tl_integrations import AsyncTwelveLabs, TwelveLabs
from tl_integrations.emulator import Emulator, ManualClock, make_sample_video

KEY = "tlk-analysis-tests"
# talk.mp4: four 3 s scenes (red, green, blue, yellow), one line each.
LINES = [
    (0.5, 2.5, "Welcome to the bakery."),
    (3.5, 5.5, "We knead the dough slowly."),
    (6.5, 8.5, "The oven is very hot."),
    (9.5, 11.5, "Enjoy the warm bread."),
]


@dataclass(frozen=True)
class Media:
    """The videos, made once: a 12 s talk and a two-hour lecture (tiny, one frame a second)."""

    talk: Path
    lecture: Path


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    root = tmp_path_factory.mktemp("analysis-client")
    lecture_lines = [(60.0, 64.0, "Welcome to the lecture."), (5400.0, 5404.0, "Questions now.")]
    return Media(
        talk=make_sample_video(root / "talk.mp4", duration_s=12.0, fps=8, subtitles=LINES),
        lecture=make_sample_video(
            root / "lecture.mp4",
            duration_s=7200.0,
            size=(360, 360),
            fps=1,
            subtitles=lecture_lines,
            audio=False,
        ),
    )


@pytest.fixture(scope="session")
def emulator(request: pytest.FixtureRequest) -> Emulator:
    return start_emulator(request, clock=ManualClock(), seed=21)


def sync_client(emu: Emulator, *, sleep: Callable[[float], None] | None = None) -> TwelveLabs:
    """A client whose sleeps move the emulator's clock instead of waiting."""
    time = FakeClock(emulator=emu)
    return TwelveLabs(api_key=KEY, base_url=emu.base_url, clock=time, sleep=sleep or time.sleep)


def async_client(emu: Emulator) -> AsyncTwelveLabs:
    """The async twin of :func:`sync_client`."""
    time = FakeClock(emulator=emu)
    return AsyncTwelveLabs(api_key=KEY, base_url=emu.base_url, clock=time, sleep=time.async_sleep)


@pytest.fixture
def client(emulator: Emulator) -> Iterator[TwelveLabs]:
    with sync_client(emulator) as made:
        yield made


@pytest.fixture
async def aclient(emulator: Emulator) -> AsyncIterator[AsyncTwelveLabs]:
    async with async_client(emulator) as made:
        yield made


@pytest.fixture(scope="session")
def assets(emulator: Emulator, media: Media) -> dict[str, Any]:
    """The two videos as ready assets (uploaded once for the session)."""
    with sync_client(emulator) as made:
        return {
            "talk": made.assets.upload(media.talk),
            "lecture": made.assets.upload(media.lecture),
        }


@pytest.fixture
def requests_of(emulator: Emulator) -> Callable[[str], int]:
    """How many requests of one route (``"POST /v1.3/analyze/tasks"``) the test sent."""
    start = dict(emulator.stats()["requests"])
    return lambda route: int(emulator.stats()["requests"].get(route, 0)) - start.get(route, 0)
