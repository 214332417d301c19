"""Fixtures of the embedding tests (helpers in embed_support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from embed_support import (
    BASE,
    NO_JITTER_POLL,
    NO_JITTER_RETRY,
    SCENES,
    EmulatorHarness,
    FakeEmbedAPI,
)

from testkit import FakeClock, start_emulator
from tl_integrations import AsyncTwelveLabs, TwelveLabs


@pytest.fixture
def fake() -> FakeEmbedAPI:
    return FakeEmbedAPI()


@pytest.fixture
def fake_time() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(fake: FakeEmbedAPI, fake_time: FakeClock) -> Iterator[TwelveLabs]:
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))
    with TwelveLabs(
        api_key="test-key",
        base_url=BASE,
        http_client=http,
        clock=fake_time,
        sleep=fake_time.sleep,
        retry_policy=NO_JITTER_RETRY,
        poll_policy=NO_JITTER_POLL,
    ) as c:
        yield c
    http.close()


@pytest.fixture
async def aclient(fake: FakeEmbedAPI, fake_time: FakeClock) -> Any:
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake.handler))
    async with AsyncTwelveLabs(
        api_key="test-key",
        base_url=BASE,
        http_client=http,
        clock=fake_time,
        sleep=fake_time.async_sleep,
        retry_policy=NO_JITTER_RETRY,
        poll_policy=NO_JITTER_POLL,
    ) as c:
        yield c
    await http.aclose()


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    """A small non-empty file (the fake does not look inside)."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"x" * 4000)
    return path


@pytest.fixture(scope="session")
def emu(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> EmulatorHarness:
    from tl_integrations.emulator import ManualClock, make_sample_video

    root = tmp_path_factory.mktemp("embed-videos")
    videos = {
        "scenes": make_sample_video(
            root / "scenes.mp4", duration_s=18.0, scenes=["red", "blue", "green"], subtitles=SCENES
        ),
        "short": make_sample_video(root / "short.mp4", duration_s=8.0, seed=1),
        "long": make_sample_video(root / "long.mp4", duration_s=31.0, seed=2, size=(480, 360)),
    }
    clock = ManualClock()
    emulator = start_emulator(request, clock=clock, seed=3, file_dirs=(root,))
    return EmulatorHarness(emulator=emulator, clock=clock, videos=videos)


@pytest.fixture
def emu_client(emu: EmulatorHarness) -> Iterator[TwelveLabs]:
    with emu.client() as c:
        yield c
