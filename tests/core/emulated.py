"""Clients of an emulator on a manual clock, sync or async, and what the emulator stored.

The upload tests run our client against the emulator rather than a fake: the emulator
checks chunk sizes, ETags, single-use URLs and expiry as the API does. Its clock stands
still unless a client waits: the clients here sleep by moving it, so polling and retry
backoff cost no wall time.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from testkit import FakeClock, start_emulator
from tl_integrations import AsyncTwelveLabs, TwelveLabs
from tl_integrations.emulator import Emulator, ManualClock, UploadLimits

CHUNK = 4096
"""The emulator's chunk size in these tests: a 320 KB sample video is 80 chunks."""
LIMITS = UploadLimits(chunk_size_bytes=CHUNK, initial_urls=3)
MULTIPART = {"multipart_threshold_bytes": 1000}
"""``assets.upload`` options that send the sample videos in chunks."""


class EmuTwin:
    """A sync or async client of one emulator; :meth:`run` hides the ``await``."""

    def __init__(self, kind: str, emu: Emulator, **options: Any) -> None:
        self.kind = kind
        self.emu = emu
        # One loop for the whole test: the async client's connections belong to it.
        self.loop = asyncio.new_event_loop()

        self.time = FakeClock(emulator=emu)
        if kind == "sync":
            self.client: Any = emu.client(sleep=self.time.sleep, **options)
        else:
            self.client = emu.async_client(sleep=self.time.async_sleep, **options)

    def run(self, value: Any) -> Any:
        """The value, or the coroutine's result (run to the end)."""
        if inspect.isawaitable(value):
            return self.loop.run_until_complete(_awaited(value))
        return value

    def collect(self, iterable: Any) -> list[Any]:
        """Every item of an iterator or async iterator."""
        if hasattr(iterable, "__aiter__"):

            async def drain() -> list[Any]:
                return [item async for item in iterable]

            return self.loop.run_until_complete(drain())
        return list(iterable)

    def finish(self, result: Any) -> Any:
        """Run what a call returned to its end: a coroutine, or an (async) iterator."""
        if hasattr(result, "__aiter__") or hasattr(result, "__next__"):
            return self.collect(result)
        return self.run(result)

    def close(self) -> None:
        # The HTTP client too: one passed in (http_client=) is not the client's to close.
        if isinstance(self.client, AsyncTwelveLabs):
            self.loop.run_until_complete(self.client.aclose())
            self.loop.run_until_complete(self.client._http.aclose())
        else:
            assert isinstance(self.client, TwelveLabs)
            self.client.close()
            self.client._http.close()
        self.loop.close()


async def _awaited(value: Any) -> Any:
    return await value


@dataclass(frozen=True)
class StoredAsset:
    """One asset as the emulator holds it (read in-process, not through the API)."""

    id: str
    method: str
    filename: str
    user_metadata: dict[str, Any]
    sha256: str | None  # of the stored bytes; None while they are not all in


def stored_assets(emu: Emulator) -> list[StoredAsset]:
    """Every asset the emulator holds, with a hash of its stored bytes."""
    assert emu.app is not None
    store = emu.app.emulator.backend.store
    with store.lock:
        recs = list(store.records.assets.values())
    found = []
    for rec in recs:
        digest = None
        if rec.media_path:
            path = store.persistence.inside(rec.media_path)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        found.append(StoredAsset(rec.id, rec.method, rec.filename, dict(rec.user_metadata), digest))
    return found


def stored_videos(emu: Emulator) -> list[Any]:
    """Every indexed asset (video) the emulator holds."""
    assert emu.app is not None
    store = emu.app.emulator.backend.store
    with store.lock:
        return list(store.records.videos.values())


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def journal_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Upload journals go to a directory of this test, not the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "tl-integrations" / "uploads"


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> Emulator:
    return start_emulator(request, clock=ManualClock(), seed=12, uploads=LIMITS)


@pytest.fixture(params=["sync", "async"])
def live(request: pytest.FixtureRequest, emu: Emulator, journal_home: Path) -> Iterator[EmuTwin]:
    made = EmuTwin(request.param, emu)
    yield made
    made.close()
