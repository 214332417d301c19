"""Fixtures of the search, entity and retrieval tests: the spec fake and the emulator."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from search_fakes import FakeSearchAPI, Twin

from tl_integrations import AsyncTwelveLabs, TwelveLabs
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock, make_sample_video


@pytest.fixture
def api() -> FakeSearchAPI:
    return FakeSearchAPI()


@pytest.fixture(params=["sync", "async"])
def twin(request: pytest.FixtureRequest, api: FakeSearchAPI) -> Iterator[Twin]:
    made = Twin(request.param, api)
    yield made
    made.close()


# --- the emulator --------------------------------------------------------------------------

KITCHEN = [
    (0.5, 3.0, "Welcome to the kitchen"),
    (3.5, 6.0, "today we bake sourdough bread"),
    (7.0, 9.5, "first mix flour and water"),
    (10.0, 12.5, "then knead the dough for ten minutes"),
    (13.5, 16.0, "the oven must be very hot"),
]
GARDEN = [
    (0.5, 3.0, "tomatoes need full sun"),
    (4.0, 7.0, "water the roses at dawn"),
    (8.0, 11.0, "compost feeds hungry soil"),
]


@dataclass(frozen=True)
class Indexed:
    """An emulator index holding two subtitled videos (ready), and the emulator."""

    emulator: Emulator
    index_id: str
    index_name: str
    kitchen: str  # video ids
    garden: str
    media: Path  # the folder holding kitchen.mp4 and garden.mp4


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    config = EmulatorConfig(clock=ManualClock(), seed=11)
    with Emulator(config) as emu:
        yield emu


def emulator_client(emu: Emulator) -> TwelveLabs:
    """A client whose sleeps move the emulator's clock."""
    assert emu.clock is not None
    return TwelveLabs(
        api_key=emu.api_key, base_url=emu.base_url, clock=emu.clock, sleep=emu.advance
    )


def emulator_async_client(emu: Emulator) -> AsyncTwelveLabs:
    assert emu.clock is not None

    async def sleep(seconds: float) -> None:
        emu.advance(seconds)
        await asyncio.sleep(0)

    return AsyncTwelveLabs(api_key=emu.api_key, base_url=emu.base_url, clock=emu.clock, sleep=sleep)


@pytest.fixture(scope="session")
def indexed(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    root = tmp_path_factory.mktemp("search-media")
    kitchen = make_sample_video(root / "kitchen.mp4", duration_s=17.0, fps=8, subtitles=KITCHEN)
    garden = make_sample_video(root / "garden.mp4", duration_s=12.0, fps=8, subtitles=GARDEN)
    name = f"search-{uuid.uuid4().hex[:10]}"
    with emulator_client(emulator) as client:
        index = client.indexes.create(name)
        ids = [
            client.tasks.create_and_wait(
                index_id=index.id, file=path, user_metadata=meta, enable_video_stream=True
            ).video_id
            for path, meta in (
                (kitchen, {"topic": "cooking", "views": 120}),
                (garden, {"topic": "garden", "views": 40}),
            )
        ]
    assert all(ids)
    return Indexed(emulator, index.id, name, str(ids[0]), str(ids[1]), root)
