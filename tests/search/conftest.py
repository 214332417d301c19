"""Fixtures of the search, entity and retrieval tests: one emulator on a manual clock, two
indexes on it, and clients on a recording wire."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from search_emulator import (
    GARDEN,
    KITCHEN,
    MEADOW,
    RGB,
    SUNSET,
    Indexed,
    Scenes,
    Twin,
    Wire,
    emulator_client,
)

from testkit import start_emulator
from tl_integrations.emulator import (
    Emulator,
    EmulatorConfig,
    ManualClock,
    make_sample_image,
    make_sample_video,
)


@pytest.fixture(scope="session")
def emulator(request: pytest.FixtureRequest) -> Emulator:
    config = EmulatorConfig(clock=ManualClock(), seed=11)
    return start_emulator(request, config)


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


@pytest.fixture(scope="session")
def scenes(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Scenes:
    root = tmp_path_factory.mktemp("scenes")
    sunset = make_sample_video(
        root / "sunset.mp4", duration_s=8.0, fps=8, scenes=["orange", "purple"], subtitles=SUNSET
    )
    meadow = make_sample_video(
        root / "meadow.mp4", duration_s=8.0, fps=8, scenes=["green", "cyan"], subtitles=MEADOW
    )
    images = {}
    for colour, rgb in RGB.items():
        images[colour] = root / f"{colour}.png"
        make_sample_image(images[colour], [rgb], size=(96, 64))
    name = f"scenes-{uuid.uuid4().hex[:10]}"
    with emulator_client(emulator) as client:
        index = client.indexes.create(name)
        made = [
            client.tasks.create_and_wait(
                index_id=index.id, file=path, user_metadata=meta, enable_video_stream=stream
            ).video_id
            for path, meta, stream in (
                (sunset, {"team": "blue", "tl_sha256": "ab", "views": 250}, True),
                (meadow, {"team": "green", "views": 40}, False),
            )
        ]
    assert all(made)
    return Scenes(index.id, name, str(made[0]), str(made[1]), images)


@pytest.fixture
def wire(emulator: Emulator) -> Iterator[Wire]:
    made = Wire(emulator)
    yield made
    made.close()


@pytest.fixture(params=["sync", "async"])
def twin(request: pytest.FixtureRequest, wire: Wire) -> Iterator[Twin]:
    made = Twin(request.param, wire)
    yield made
    made.close()
