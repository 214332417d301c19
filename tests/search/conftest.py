"""Fixtures of the search, entity and retrieval tests: the spec fake and the emulator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from search_emulator import GARDEN, KITCHEN, Indexed, emulator_client
from search_fakes import FakeSearchAPI, Twin

from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock, make_sample_video


@pytest.fixture
def api() -> FakeSearchAPI:
    return FakeSearchAPI()


@pytest.fixture(params=["sync", "async"])
def twin(request: pytest.FixtureRequest, api: FakeSearchAPI) -> Iterator[Twin]:
    made = Twin(request.param, api)
    yield made
    made.close()


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    config = EmulatorConfig(clock=ManualClock(), seed=11)
    with Emulator(config) as emu:
        yield emu


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
