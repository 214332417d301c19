"""Uploads under faults: chunk PUTs that fail or drop, URLs that expire, a client killed
mid-upload, sessions that expire, and answers lost on the way back. Whatever happens, the
emulator ends up holding each file once (0 duplicated) and whole (0 lost), checked against
its own records, not the API's answers.

The emulator runs on a manual clock moved by the clients' sleeps (no wall time is spent
waiting), with 4 KB chunks so that a 320 KB sample video is 80 of them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit import FakeClock, start_emulator
from tl_integrations import AsyncTwelveLabs, ServerError, TwelveLabs
from tl_integrations.emulator import Emulator, ManualClock, UploadLimits, sample_videos

from .conftest import SECRET_KEY, report

CHUNK = 4096
LIMITS = UploadLimits(chunk_size_bytes=CHUNK, initial_urls=3)
CHUNKED = {"multipart_threshold_bytes": 1000}
CHILD = Path(__file__).with_name("_upload_child.py")


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_videos(tmp_path_factory.mktemp("upload-videos"))[0]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's journal home (``XDG_CACHE_HOME``), for this process and its children."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def emu(request: pytest.FixtureRequest, cache: Path) -> Emulator:
    return start_emulator(request, clock=ManualClock(), seed=5, uploads=LIMITS, api_key=SECRET_KEY)


def _chunks(path: Path) -> int:
    return -(-path.stat().st_size // CHUNK)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _held(emu: Emulator, path: Path) -> dict[str, int]:
    """How the emulator holds the file: ``whole`` assets with exactly its bytes, ``other``
    assets (partial, orphaned or different bytes), and indexed ``videos``."""
    assert emu.app is not None
    store = emu.app.emulator.backend.store
    with store.lock:
        assets = list(store.records.assets.values())
        videos = len(store.records.videos)
    digest = _sha256(path)
    whole = 0
    for rec in assets:
        stored = store.persistence.inside(rec.media_path) if rec.media_path else None
        if stored is not None and hashlib.sha256(stored.read_bytes()).hexdigest() == digest:
            whole += 1
    return {"whole": whole, "other": len(assets) - whole, "videos": videos}


# --- clients ---------------------------------------------------------------------------------


def _losing(should_lose: Callable[[httpx.Request], bool]) -> tuple[Any, Any, list[str]]:
    """Sync and async transports that deliver a request, then lose its answer: the first
    one ``should_lose`` picks while ``lost`` (returned, to read and clear) is empty."""
    lost: list[str] = []

    def lose(request: httpx.Request, response: httpx.Response) -> None:
        if should_lose(request) and not lost:
            lost.append(f"{request.method} {request.url.path}")
            raise httpx.ReadTimeout("the answer never came", request=request)

    class Sync(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            try:
                lose(request, response)
            except httpx.ReadTimeout:
                response.read()
                response.close()
                raise
            return response

    class Async(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle_async_request(request)
            try:
                lose(request, response)
            except httpx.ReadTimeout:
                await response.aread()
                await response.aclose()
                raise
            return response

    return Sync, Async, lost


class Client:
    """A sync or async client of the emulator whose sleeps move its clock."""

    def __init__(
        self, kind: str, emu: Emulator, transport: Any = None, *, max_retries: int = 3
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self.http: Any = None
        if kind == "sync":
            if transport is not None:
                self.http = httpx.Client(transport=transport)
            self.api: Any = TwelveLabs(
                api_key=SECRET_KEY,
                base_url=emu.base_url,
                sleep=FakeClock(emulator=emu).sleep,
                http_client=self.http,
                max_retries=max_retries,
            )
        else:
            if transport is not None:
                self.http = httpx.AsyncClient(transport=transport)
            self.api = AsyncTwelveLabs(
                api_key=SECRET_KEY,
                base_url=emu.base_url,
                sleep=FakeClock(emulator=emu).async_sleep,
                http_client=self.http,
                max_retries=max_retries,
            )

    def run(self, value: Any) -> Any:
        if asyncio.iscoroutine(value):
            return self.loop.run_until_complete(value)
        return value

    def close(self) -> None:
        if isinstance(self.api, AsyncTwelveLabs):
            self.loop.run_until_complete(self.api.aclose())
            if self.http is not None:
                self.loop.run_until_complete(self.http.aclose())
        else:
            self.api.close()
            if self.http is not None:
                self.http.close()
        self.loop.close()


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_client(kind: str, emu: Emulator) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(transport: Any = None, *, max_retries: int = 3) -> Client:
        made.append(Client(kind, emu, transport, max_retries=max_retries))
        return made[-1]

    yield make
    for client in made:
        client.close()


# --- chunk PUTs that fail ------------------------------------------------------------------


def test_chunk_puts_that_fail_or_drop_are_sent_again_with_fresh_urls(
    emu: Emulator, make_client: Callable[..., Client], video: Path
) -> None:
    # The seeded draws go to requests in the order they arrive, which three threads vary; 15%
    # of chunk PUTs fail, so five failures in a row (a chunk's four retries by default)
    # happen to one of the ~160 PUTs of a run now and then. Eight retries give a chunk nine,
    # and ten failures in a row are about 6e-9 per chunk.
    client = make_client(max_retries=8)
    emu.set_faults("500=0.05,502=0.03,503=0.03,drop=0.04,lost=0.03", seed=11)
    asset = client.run(client.api.assets.upload(video, max_concurrency=3, **CHUNKED))
    emu.set_faults()
    stats = emu.stats()
    faults = sum(stats["faults"].values())
    puts = stats["requests"]["PUT /_upload/{id}/{n}"]
    report("chunk faults", faults=faults, chunk_puts=puts, chunks=_chunks(video))
    assert asset.status == "ready"
    assert faults >= 5  # the upload met faults, and went through them
    assert puts > _chunks(video)  # some chunks went twice: their first PUT failed
    assert _held(emu, video) == {"whole": 1, "other": 0, "videos": 0}


def test_a_chunk_is_sent_again_once_more_than_the_clients_max_retries_and_no_more(
    emu: Emulator, make_client: Callable[..., Client], video: Path
) -> None:
    client = make_client(max_retries=1)  # a request gets 1 retry; a chunk PUT gets 2
    emu.fail_next("PUT", "/_upload/*/*", "503", times=3)
    with pytest.raises(ServerError, match="503"):
        client.run(client.api.assets.upload(video, max_concurrency=1, **CHUNKED))
    assert emu.stats()["requests"]["PUT /_upload/{id}/{n}"] == 3  # the first chunk, 3 times
    emu.fail_next("PUT", "/_upload/*/*", "503", times=2)
    asset = client.run(client.api.assets.upload(video, max_concurrency=1, **CHUNKED))
    assert asset.status == "ready"
    assert _held(emu, video) == {"whole": 1, "other": 0, "videos": 0}


def test_expired_urls_are_replaced_and_never_used_twice(
    emu: Emulator, make_client: Callable[..., Client], video: Path, kind: str
) -> None:
    used: list[str] = []
    expired_at = {2, 40}  # chunks whose URL runs out just before their PUT

    def expire(request: httpx.Request) -> None:
        if request.method == "PUT":
            index = int(request.url.path.rsplit("/", 1)[-1])
            used.append(str(request.url))
            if index in expired_at:
                expired_at.discard(index)
                emu.advance(LIMITS.url_ttl_s + 1)  # every URL handed out so far expires

    class Sync(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            expire(request)
            return super().handle_request(request)

    class Async(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            expire(request)
            return await super().handle_async_request(request)

    client = make_client(Sync() if kind == "sync" else Async())
    asset = client.run(client.api.assets.upload(video, max_concurrency=2, **CHUNKED))
    stats = emu.stats()
    refused = stats["statuses"].get("403", 0)
    report("expired urls", refused=refused, puts=len(used), chunks=_chunks(video))
    assert asset.status == "ready"
    assert refused >= 2  # both expiries were met, and got past
    assert len(used) == len(set(used))  # a URL is never sent twice
    assert _held(emu, video) == {"whole": 1, "other": 0, "videos": 0}


# --- a client killed mid-upload ------------------------------------------------------------


def test_a_killed_upload_resumes_sending_only_what_the_server_lacks(
    emu: Emulator, video: Path, cache: Path
) -> None:
    env = {**os.environ, "TWELVELABS_API_KEY": SECRET_KEY, "XDG_CACHE_HOME": str(cache)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), emu.base_url, str(video)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "half", child.stderr.read() if child.stderr else line
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
    first_run = emu.stats()["chunks"]
    total = _chunks(video)
    assert total // 2 <= first_run < total

    with TwelveLabs(
        api_key=SECRET_KEY, base_url=emu.base_url, sleep=FakeClock(emulator=emu).sleep
    ) as client:
        asset = client.assets.upload(video, max_concurrency=2, **CHUNKED)
    second_run = emu.stats()["chunks"] - first_run
    report("killed upload", first_run=first_run, second_run=second_run, chunks=total)
    assert asset.status == "ready"
    # At most the two chunks in flight when it was killed go again.
    assert first_run + second_run <= total + 2
    assert emu.stats()["requests"]["POST /v1.3/assets/multipart-uploads"] == 1
    assert _held(emu, video) == {"whole": 1, "other": 0, "videos": 0}


# --- lost answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "options"),
    [("/v1.3/assets", {}), ("/v1.3/assets/multipart-uploads", CHUNKED)],
    ids=["direct", "multipart"],
)
def test_a_lost_answer_on_asset_create_makes_no_second_asset(
    emu: Emulator,
    make_client: Callable[..., Client],
    video: Path,
    kind: str,
    route: str,
    options: dict[str, Any],
) -> None:
    sync, async_, lost = _losing(lambda r: r.method == "POST" and r.url.path == route)
    client = make_client(sync() if kind == "sync" else async_())
    asset = client.run(client.api.assets.upload(video, **options))
    assert lost == [f"POST {route}"]
    assert asset.status == "ready"
    assert _held(emu, video) == {"whole": 1, "other": 0, "videos": 0}
    again = client.run(client.api.assets.upload(video, **options))
    assert again.id == asset.id
    assert _held(emu, video) == {"whole": 1, "other": 0, "videos": 0}


def test_a_lost_answer_on_indexed_asset_create_indexes_once(
    emu: Emulator, make_client: Callable[..., Client], video: Path, kind: str
) -> None:
    sync, async_, lost = _losing(
        lambda r: r.method == "POST" and r.url.path.endswith("/indexed-assets")
    )
    client = make_client(sync() if kind == "sync" else async_())
    indexed = client.run(client.api.index(video, index_name="lost-answers"))
    assert len(lost) == 1
    assert _held(emu, video) == {"whole": 1, "other": 0, "videos": 1}

    again = client.run(client.api.index(video, index_name="lost-answers"))
    assert (again.id, again.asset_id) == (indexed.id, indexed.asset_id)
    assert emu.stats()["uploads"] == 1
    assert _held(emu, video) == {"whole": 1, "other": 0, "videos": 1}

    # The resource itself, on another index: found again by its token.
    index = client.run(client.api.indexes.get_or_create("by-hand"))
    lost.clear()
    made = client.run(client.api.indexes.indexed_assets.create(index.id, indexed.asset_id))
    assert len(lost) == 1
    listed = client.run(client.api.indexes.indexed_assets.wait(made))
    assert listed.id == made.id
    assert _held(emu, video) == {"whole": 1, "other": 0, "videos": 2}


def _is_report(request: httpx.Request) -> bool:
    path = request.url.path
    return (
        request.method == "POST"
        and path.startswith("/v1.3/assets/multipart-uploads/")
        and not path.endswith("/presigned-urls")
    )


@pytest.mark.parametrize(
    "should_lose",
    [
        _is_report,
        lambda r: _is_report(r) and b'"chunk_index":80' in r.content,  # the completing one
        lambda r: r.url.path.endswith("/presigned-urls"),
    ],
    ids=["first-report", "last-report", "presigned-urls"],
)
def test_lost_answers_within_a_session_lose_no_chunk(
    emu: Emulator,
    make_client: Callable[..., Client],
    video: Path,
    kind: str,
    should_lose: Callable[[httpx.Request], bool],
) -> None:
    assert _chunks(video) == 80  # the last report names chunk 80
    sync, async_, lost = _losing(should_lose)
    client = make_client(sync() if kind == "sync" else async_())
    asset = client.run(client.api.assets.upload(video, **CHUNKED))
    assert len(lost) == 1
    assert asset.status == "ready"
    assert emu.stats()["chunks"] == _chunks(video)  # a lost report sends no chunk again
    assert _held(emu, video) == {"whole": 1, "other": 0, "videos": 0}
