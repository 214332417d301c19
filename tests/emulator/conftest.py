"""Shared emulator fixtures: one server for the session, driven by a manual clock."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from twelvelabs import TwelveLabs

from tl_integrations.emulator import Emulator, ManualClock, make_sample_video

# Each sample video: 4 coloured scenes of 3 s with one distinct spoken line each.
LINES = {
    "beach": [
        "A red kite flies over the beach.",
        "Penguins march across the ice.",
        "Seagulls fight over a sandwich.",
        "Waves crash against the pier.",
    ],
    "concert": [
        "The orchestra tunes its violins.",
        "A soprano sings the final aria.",
        "The audience claps and cheers.",
        "Fireworks light up the harbour.",
    ],
}
_names = itertools.count()


def sample(path: Path, lines: list[str], **kwargs: object) -> Path:
    """A 12 s video, one subtitle line per 3 s scene."""
    subs = [(i * 3.0 + 0.5, i * 3.0 + 2.5, text) for i, text in enumerate(lines)]
    return make_sample_video(path, duration_s=12.0, subtitles=subs, **kwargs)  # type: ignore[arg-type]


def unique(prefix: str) -> str:
    """A fresh index name (the session emulator is shared)."""
    return f"{prefix}-{next(_names)}"


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def videos(media_dir: Path) -> dict[str, Path]:
    return {name: sample(media_dir / f"{name}.mp4", lines) for name, lines in LINES.items()}


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
def emu(clock: ManualClock) -> Iterator[Emulator]:
    with Emulator(clock=clock, seed=1) as server:
        yield server


@pytest.fixture(scope="session")
def client(emu: Emulator) -> Iterator[TwelveLabs]:
    with httpx.Client(timeout=30.0) as http:
        yield TwelveLabs(api_key=emu.api_key, base_url=emu.base_url, httpx_client=http)


def wait_task(client: TwelveLabs, clock: ManualClock, task_id: str) -> str:
    """Wait with the SDK's own wait_for_done; each poll moves the manual clock 1 s."""
    task = client.tasks.wait_for_done(
        task_id, sleep_interval=0.001, callback=lambda _t: clock.advance(1.0)
    )
    assert task.status is not None
    return task.status


def upload(client: TwelveLabs, index_id: str, path: Path, **metadata: object) -> tuple[str, str]:
    """Create an indexing task with the SDK; returns (task_id, video_id)."""
    with path.open("rb") as handle:
        task = client.tasks.create(
            index_id=index_id,
            video_file=handle,
            user_metadata=json.dumps(metadata) if metadata else None,
        )
    assert task.id
    assert task.video_id
    return task.id, task.video_id


@dataclass
class Indexed:
    """An index holding the two sample videos, ready."""

    index_id: str
    video_ids: dict[str, str]
    task_ids: dict[str, str]


def make_indexed(
    client: TwelveLabs, clock: ManualClock, videos: dict[str, Path], model: str
) -> Indexed:
    index = client.indexes.create(
        index_name=unique(model),
        models=[{"model_name": model, "model_options": ["visual", "audio"]}],
    )
    assert index.id
    ids, tasks = {}, {}
    for name, path in videos.items():
        tasks[name], ids[name] = upload(client, index.id, path, topic=name, rank=len(ids))
    for task_id in tasks.values():
        assert wait_task(client, clock, task_id) == "ready"
    return Indexed(index.id, ids, tasks)


@pytest.fixture(scope="session")
def indexed30(client: TwelveLabs, clock: ManualClock, videos: dict[str, Path]) -> Indexed:
    return make_indexed(client, clock, videos, "marengo3.0")


@pytest.fixture(scope="session")
def indexed27(client: TwelveLabs, clock: ManualClock, videos: dict[str, Path]) -> Indexed:
    return make_indexed(client, clock, videos, "marengo2.7")
