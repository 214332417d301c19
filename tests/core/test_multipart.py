"""Multipart uploads against the emulator, sync and async: chosen by size, chunks read at
their offsets and sent in parallel, proofs reported 50 at a time, progress in bytes, and
an interrupted upload resumed where it stopped."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tl_integrations.emulator import Emulator, sample_videos

from .emulated import CHUNK, MULTIPART, EmuTwin, sha256_of, stored_assets

_SESSION_ROUTE = "/v1.3/assets/multipart-uploads/"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_videos(tmp_path_factory.mktemp("videos"))[0]


def _put_index(request: httpx.Request) -> int:
    return int(request.url.path.rstrip("/").rsplit("/", 1)[-1])


class Recorder:
    """What the client sent: each chunk PUT's index, URL and bytes; each report's chunks.

    ``gate`` holds every chunk PUT until ``gate`` of them are in flight at once: a client
    that sends one chunk at a time never gets there, and its upload fails (timeout).
    """

    def __init__(self, gate: int) -> None:
        self.gate = gate
        self.puts: list[tuple[int, str, bytes]] = []
        self.reports: list[list[int]] = []
        self.url_requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()

    def before(self, request: httpx.Request, content: bytes) -> bool:
        """Record a request (its body read); True for a chunk PUT (which is then gated)."""
        path = request.url.path
        if request.method == "PUT" and "/_upload/" in path:
            body = content
            with self._lock:
                self.puts.append((_put_index(request), str(request.url), body))
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            return True
        if request.method == "POST" and path.startswith(_SESSION_ROUTE):
            body = json.loads(content)
            if path.endswith("/presigned-urls"):
                self.url_requests.append(body)
            else:
                self.reports.append([c["chunk_index"] for c in body["completed_chunks"]])
        return False

    def after_put(self) -> None:
        with self._lock:
            self.in_flight -= 1


class GatedTransport(httpx.HTTPTransport):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder
        self.barrier = threading.Barrier(recorder.gate)
        self.passed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.recorder.before(request, request.read()):
            return super().handle_request(request)
        try:
            if not self.passed:
                self.barrier.wait(timeout=30)  # a guard: only reached when not parallel
                self.passed = True
            return super().handle_request(request)
        finally:
            self.recorder.after_put()


class AsyncGatedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder
        self.opened = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.recorder.before(request, await request.aread()):
            return await super().handle_async_request(request)
        try:
            if self.recorder.in_flight >= self.recorder.gate:
                self.opened.set()
            await asyncio.wait_for(self.opened.wait(), timeout=30)
            return await super().handle_async_request(request)
        finally:
            self.recorder.after_put()


def _recorded(kind: str, emu: Emulator, gate: int) -> tuple[EmuTwin, Recorder]:
    recorder = Recorder(gate)
    http: Any = (
        httpx.Client(transport=GatedTransport(recorder))
        if kind == "sync"
        else httpx.AsyncClient(transport=AsyncGatedTransport(recorder))
    )
    return EmuTwin(kind, emu, http_client=http), recorder


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_chunks_are_read_at_their_offsets_and_sent_in_parallel(
    kind: str, emu: Emulator, video: Path, journal_home: Path
) -> None:
    live, recorder = _recorded(kind, emu, gate=3)
    progress: list[tuple[int, int]] = []
    beside = sorted(video.parent.iterdir())
    try:
        asset = live.run(
            live.client.assets.upload(
                video,
                max_concurrency=3,
                on_progress=lambda done, total: progress.append((done, total)),
                **MULTIPART,
            )
        )
    finally:
        live.close()
    data = video.read_bytes()
    size = len(data)
    total_chunks = -(-size // CHUNK)
    assert (asset.status, asset.method, asset.size) == ("ready", "multipart", size)

    # Every chunk once, each holding the file's bytes at its offset.
    assert sorted(index for index, _, _ in recorder.puts) == list(range(1, total_chunks + 1))
    for index, _, body in recorder.puts:
        assert body == data[(index - 1) * CHUNK : index * CHUNK], f"chunk {index}"
    assert len({url for _, url, _ in recorder.puts}) == total_chunks  # no URL used twice
    assert recorder.most_in_flight == 3  # parallel, and never more than asked

    # Proofs in batches of at most 50, each chunk reported once; URLs asked 50 at most.
    assert recorder.reports
    assert max(len(batch) for batch in recorder.reports) <= 50
    reported = [index for batch in recorder.reports for index in batch]
    assert sorted(reported) == list(range(1, total_chunks + 1))
    assert recorder.url_requests
    assert all(1 <= body["count"] <= 50 for body in recorder.url_requests)

    # Progress in bytes: never backwards, ending at the size; the total never changes.
    done = [d for d, _ in progress]
    assert done == sorted(done)
    assert (done[0], done[-1]) == (0, size)
    assert {t for _, t in progress} == {size}
    steps = [b - a for a, b in itertools.pairwise(done) if b != a]
    assert sum(steps) == size
    assert len(steps) == total_chunks

    (stored,) = stored_assets(emu)
    assert stored.sha256 == sha256_of(video)
    assert sorted(video.parent.iterdir()) == beside  # no temporary chunk files
    assert not list(journal_home.glob("*.json"))  # the journal goes once it is done


def test_the_size_picks_direct_or_multipart(live: EmuTwin, video: Path) -> None:
    size = video.stat().st_size
    direct = live.run(live.client.assets.upload(video, multipart_threshold_bytes=size))
    assert direct.method == "direct"  # at the threshold: one request
    live.run(live.client.assets.delete(direct))
    chunked = live.run(live.client.assets.upload(video, multipart_threshold_bytes=size - 1))
    assert chunked.method == "multipart"
    stats = live.emu.stats()
    assert stats["requests"]["POST /v1.3/assets"] == 1
    assert stats["requests"]["POST /v1.3/assets/multipart-uploads"] == 1
    assert stats["chunks"] == -(-size // CHUNK)


class Interrupted(Exception):
    """What a Ctrl-C would be, raised from the progress callback."""


def test_an_interrupted_upload_resumes_with_only_the_missing_chunks(
    live: EmuTwin, video: Path, journal_home: Path
) -> None:
    size = video.stat().st_size
    total_chunks = -(-size // CHUNK)

    def stop_half_way(done: int, total: int) -> None:
        if done > total // 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        live.run(
            live.client.assets.upload(
                video, max_concurrency=2, on_progress=stop_half_way, **MULTIPART
            )
        )
    first_run = live.emu.stats()["chunks"]
    assert total_chunks // 2 <= first_run < total_chunks
    assert len(list(journal_home.glob("*.json"))) == 1
    (reserved,) = stored_assets(live.emu)
    assert reserved.sha256 is None  # the asset waits for its bytes

    asset = live.run(live.client.assets.upload(video, max_concurrency=2, **MULTIPART))
    assert (asset.id, asset.status) == (reserved.id, "ready")
    second_run = live.emu.stats()["chunks"] - first_run
    # Only what the server lacks; a chunk in flight when it stopped may go again.
    assert second_run <= total_chunks - first_run + 2
    assert live.emu.stats()["requests"]["POST /v1.3/assets/multipart-uploads"] == 1
    (stored,) = stored_assets(live.emu)
    assert stored.sha256 == sha256_of(video)
    assert not list(journal_home.glob("*.json"))


def test_an_expired_session_starts_over_cleanly(
    live: EmuTwin, video: Path, journal_home: Path
) -> None:
    def stop(done: int, total: int) -> None:
        if done > 0:
            raise Interrupted

    with pytest.raises(Interrupted):
        live.run(live.client.assets.upload(video, on_progress=stop, **MULTIPART))
    (stale,) = stored_assets(live.emu)
    live.emu.advance(24 * 3600 + 1)  # sessions last a day

    asset = live.run(live.client.assets.upload(video, **MULTIPART))
    assert asset.id != stale.id
    assert asset.status == "ready"
    (stored,) = stored_assets(live.emu)  # the stale asset is gone, not left failed
    assert (stored.id, stored.sha256) == (asset.id, sha256_of(video))
    assert live.emu.stats()["requests"]["POST /v1.3/assets/multipart-uploads"] == 2


def test_a_crash_after_the_last_report_sends_nothing_again(
    live: EmuTwin, video: Path, journal_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The journal outlives the upload, as when the process dies between the server's
    # "complete" and the journal's removal.
    monkeypatch.setattr(live.client.assets._journal, "forget", lambda *args: None)
    first = live.run(live.client.assets.upload(video, **MULTIPART))
    monkeypatch.undo()
    assert len(list(journal_home.glob("*.json"))) == 1
    chunks = live.emu.stats()["chunks"]

    again = live.run(live.client.assets.upload(video, **MULTIPART))
    assert (again.id, again.status) == (first.id, "ready")
    assert live.emu.stats()["chunks"] == chunks
    assert live.emu.stats()["requests"]["POST /v1.3/assets/multipart-uploads"] == 1
    assert len(stored_assets(live.emu)) == 1
    assert not list(journal_home.glob("*.json"))
