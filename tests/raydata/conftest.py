"""Fixtures of the Ray tests: one local Ray instance, emulators, and a few short videos.

The Ray instance is local (``address="local"``: never a cluster another program started),
small (2 CPUs, a small object store) and started once per session. Its workers import this
tree (``PYTHONPATH`` in the job's runtime environment) and reach the emulator, which runs in
this process, over loopback HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

import tl_integrations
from testkit import start_emulator
from tl_integrations import PollPolicy
from tl_integrations.emulator import Emulator, EmulatorConfig, make_sample_video

SRC = str(Path(tl_integrations.__file__).resolve().parents[1])
FAST_POLL = PollPolicy(
    initial_interval_s=0.05,
    max_interval_s=0.2,
    min_batch_interval_s=0.05,
    max_batch_interval_s=0.2,
    min_request_gap_s=0.01,
    jitter=0.0,
)
"""The emulator's tasks take a fraction of a second: look often."""
LINES = [(0.5, 2.5, "the bread needs a hot oven"), (3.0, 4.5, "knead the dough well")]


@pytest.fixture(scope="session")
def local_ray() -> Iterator[None]:
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=128 * 1024**2,
        runtime_env={"env_vars": {"PYTHONPATH": SRC}},
        log_to_driver=False,
    )
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Emulator:
    """A fresh emulator per test: assets are the account's, so one test's uploads would
    otherwise be reused (and not counted) by the next."""
    return start_emulator(request, EmulatorConfig(speed=25.0, seed=11))


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Six different 5 s videos with two spoken lines each."""
    root = tmp_path_factory.mktemp("ray-media")
    return [
        make_sample_video(root / f"clip{i}.mp4", duration_s=5.0, fps=4, subtitles=LINES, seed=i)
        for i in range(6)
    ]


@pytest.fixture
def index_name() -> str:
    return f"ray-{uuid.uuid4().hex[:10]}"


UPLOADS = {"assets": "POST /v1.3/assets", "tasks": "POST /v1.3/tasks"}
"""Where each upload path sends a video's bytes (or URL)."""
LOOKUPS = {"assets": "GET /v1.3/indexes/{id}/indexed-assets", "tasks": "GET /v1.3/tasks"}
"""What each path lists when it looks for a video a killed run left indexing."""


@pytest.fixture(params=["assets", pytest.param("tasks", marks=pytest.mark.ray_heavy)])
def upload(request: pytest.FixtureRequest) -> str:
    """The pipeline's upload path: today's assets (the default), and the older tasks (run
    by ``make test-ray``, so that ``make test`` keeps Ray to about a minute)."""
    return str(request.param)


def posts(emu: Emulator, route: str = "POST /v1.3/tasks") -> int:
    """How many requests the emulator counted on ``route`` so far."""
    return int(emu.stats()["requests"].get(route, 0))
