"""Shared emulator fixtures: one server for the session, driven by a manual clock."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from twelvelabs import TwelveLabs

from testkit import start_emulator
from tl_integrations.emulator import Emulator, ManualClock, make_sample_image, make_sample_video

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


def make_audio(path: Path, *, duration_s: float = 3.0) -> Path:
    """An AAC (.m4a) file of silence: sound and no picture."""
    rate, frame = 24_000, 1024
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=rate)
        for i in range(int(duration_s * rate / frame)):
            samples = av.AudioFrame.from_ndarray(
                np.zeros((1, frame), np.float32), format="fltp", layout="mono"
            )
            samples.sample_rate, samples.pts = rate, i * frame
            for packet in stream.encode(samples):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def make_png(path: Path, rgb: tuple[int, int, int] = (200, 30, 30)) -> Path:
    """A 64x48 PNG of one colour."""
    return make_sample_image(path, [rgb], size=(64, 48))


def make_pdf(path: Path, *, pages: int = 2) -> Path:
    """A small PDF with ``pages`` empty pages."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>",
        *["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * pages,
    ]
    body = "".join(f"{n + 1} 0 obj\n{o}\nendobj\n" for n, o in enumerate(objects))
    path.write_bytes(f"%PDF-1.4\n{body}trailer << /Root 1 0 R >>\n%%EOF\n".encode())
    return path


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
def emu(request: pytest.FixtureRequest, clock: ManualClock, media_dir: Path) -> Emulator:
    # The account also has a Marengo 2.7 index, made before 2.7 was retired (indexed27).
    # file:// URLs are read only from directories the emulator is told it may read.
    models = ("marengo3.0", "marengo2.7")
    return start_emulator(request, clock=clock, seed=1, index_models=models, file_dirs=(media_dir,))


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


def post_video(http: httpx.Client, index_id: str, path: Path) -> httpx.Response:
    with path.open("rb") as f:
        return http.post(
            "/tasks", data={"index_id": index_id}, files={"video_file": (path.name, f)}
        )


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
