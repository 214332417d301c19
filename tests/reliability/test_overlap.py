"""Overlapping runs never pay twice: one upload and one video per file, however runs meet.

Two loaders sharing one client in two threads, and two loader processes, ingest the same
files at the same time; each file must be uploaded once and indexed once, and every run
must still answer every input (the other run's upload is adopted, not repeated).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testkit import FakeClock, start_emulator
from tl_integrations import (
    AsyncVideoIngest,
    IngestFailure,
    IngestOptions,
    PollPolicy,
    TwelveLabs,
    VideoIngest,
)
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock

from .conftest import (
    SECRET_KEY,
    Media,
    async_client,
    line_of,
    records_of,
    report,
    server_truth,
    sync_client,
)

pytestmark = pytest.mark.slow

CHILD = Path(__file__).with_name("_overlap_child.py")
GUARD_S = 120.0  # a run still going after this is broken; never reached when it works


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> Emulator:
    return start_emulator(request, EmulatorConfig(clock=ManualClock(), seed=23))


@pytest.fixture
def vt(emu: Emulator) -> FakeClock:
    assert emu.clock is not None
    return FakeClock(server=emu.clock)


def _inputs(media: Media, count: int) -> list[str]:
    return [str(path) for path in media.videos[:count]]


def _check_each_once(emu: Emulator, inputs: list[str], upload: str) -> None:
    truth = server_truth(emu)
    if upload == "assets":  # the tasks path makes an asset per upload, kept or not
        assert truth.assets == len(inputs), f"{truth.assets} assets for {len(inputs)} files"
    assert sorted(truth.hashes.values()) == [1] * len(inputs), "a file was indexed twice"
    assert len(records_of(emu).videos) == len(inputs)


@pytest.mark.parametrize("upload", ["assets", "tasks"])
def test_two_loaders_on_one_client_upload_each_file_once(
    upload: str, emu: Emulator, vt: FakeClock, media: Media
) -> None:
    inputs = _inputs(media, 10)
    options = IngestOptions(
        index_name=f"overlap-{upload}",
        content=("transcript",),
        upload=upload,  # type: ignore[arg-type]
        max_concurrency=10,
    )
    start = threading.Barrier(2)
    results: dict[int, list[Any]] = {}
    errors: list[BaseException] = []
    with sync_client(emu, vt) as client:

        def run(n: int) -> None:
            failures: list[IngestFailure] = []
            try:
                start.wait()
                results[n] = list(VideoIngest(client, options).run(inputs, failures=failures))
                assert failures == [], failures
            except BaseException as exc:  # the test reports it
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(GUARD_S)
    assert errors == []
    for records in results.values():
        assert sorted(r.video.source for r in records) == sorted(inputs)
        for record in records:
            number = media.videos.index(Path(record.video.source))
            assert [p.text for p in record.pieces] == [line_of(number)]
    assert emu.stats()["uploads"] == len(inputs), "a file was uploaded by both loaders"
    _check_each_once(emu, inputs, upload)
    report(f"two loaders, one client ({upload})", inputs=len(inputs), uploads=len(inputs))


@pytest.mark.parametrize("upload", ["assets", "tasks"])
async def test_two_async_loaders_on_one_client_upload_each_file_once(
    upload: str, emu: Emulator, vt: FakeClock, media: Media
) -> None:
    """The second run waits for the first's claim on the event loop, not by blocking it:
    were the loop blocked, the first run could never finish and let go."""
    inputs = _inputs(media, 10)
    options = IngestOptions(
        index_name=f"async-overlap-{upload}",
        content=("transcript",),
        upload=upload,  # type: ignore[arg-type]
        max_concurrency=10,
    )
    async with async_client(emu, vt) as client:

        async def run() -> list[Any]:
            return [record async for record in AsyncVideoIngest(client, options).run(inputs)]

        results = await asyncio.wait_for(asyncio.gather(run(), run()), GUARD_S)
    for records in results:
        assert sorted(r.video.source for r in records) == sorted(inputs)
    assert emu.stats()["uploads"] == len(inputs), "a file was uploaded by both loaders"
    _check_each_once(emu, inputs, upload)


@pytest.fixture
def live(request: pytest.FixtureRequest) -> Emulator:
    """An emulator on real time, fast: two processes cannot share a manual clock."""
    return start_emulator(request, EmulatorConfig(seed=29, speed=40.0, api_key=SECRET_KEY))


def _spawn_run(emu: Emulator, index_name: str, upload: str, inputs: list[str]) -> Any:
    return _spawn_run_via(emu.base_url, index_name, upload, inputs)


def _spawn_run_via(base_url: str, index_name: str, upload: str, inputs: list[str]) -> Any:
    env = {**os.environ, "TWELVELABS_API_KEY": SECRET_KEY}
    env.pop("TWELVELABS_BASE_URL", None)
    return subprocess.Popen(
        [sys.executable, str(CHILD), base_url, index_name, upload, *inputs],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize("upload", ["assets", "tasks"])
def test_two_loader_processes_store_each_file_once(
    upload: str, live: Emulator, media: Media
) -> None:
    inputs = _inputs(media, 20)
    runs = [_spawn_run(live, f"processes-{upload}", upload, inputs) for _ in range(2)]
    for run in runs:  # both imported and connected: start them together
        assert json.loads(run.stdout.readline()) == {"ready": True}
    for run in runs:
        run.stdin.write("go\n")
        run.stdin.flush()
    outputs = [run.communicate(timeout=GUARD_S) for run in runs]
    for (out, err), run in zip(outputs, runs, strict=True):
        assert run.returncode == 0, err
        lines = [json.loads(line) for line in out.splitlines()]
        assert lines[-1] == {"done": True}
        answered = Counter(line["source"] for line in lines[:-1])
        assert answered == Counter(inputs), "a run lost an input, or answered one twice"
        assert all("error" not in line for line in lines), lines
    # Two processes may send the same file at the same moment (nothing on the server says
    # "being uploaded" before the bytes are in); what they keep converges on one.
    _check_each_once(live, inputs, upload)
    report(f"two loader processes ({upload})", inputs=len(inputs))


class SlowLink:
    """A TCP relay to the emulator that holds every upload (``POST .../assets``) it reads,
    in full, until :meth:`deliver`: an upload still crossing a slow link after its sender
    died. Everything else passes at once."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.held_bytes = 0
        self.uploads_seen = 0
        self.listings_seen = 0
        self.open = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True, name="slow-link").start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1.3"

    def deliver(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.open.set()
        self._sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        server = socket.create_connection(("127.0.0.1", self.target_port))
        pump = threading.Thread(target=self._pipe, args=(server, client), daemon=True)
        pump.start()
        held: list[bytes] = []
        lock = threading.Lock()

        def flush_when_open() -> None:
            self.open.wait()
            with lock, contextlib.suppress(OSError):
                server.sendall(b"".join(held))
                held.clear()

        flusher: threading.Thread | None = None
        with client, server:
            with contextlib.suppress(OSError):  # the sender died: what it sent is on its way
                while data := client.recv(65536):
                    if data.startswith(b"POST /v1.3/assets ") and flusher is None:
                        self.uploads_seen += 1
                        flusher = threading.Thread(target=flush_when_open, daemon=True)
                        flusher.start()
                    elif data.startswith(b"GET /v1.3/assets?"):
                        self.listings_seen += 1
                    with lock:
                        if flusher is not None and not self.open.is_set():
                            held.append(data)
                            self.held_bytes += len(data)
                        else:
                            server.sendall(data)
            if flusher is not None:
                flusher.join()
                pump.join(GUARD_S)  # the answer goes back to whoever still listens

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)


def _await(condition: Callable[[], bool], what: str) -> None:
    """Wait for an event the test cannot be told of (a guard, never an assertion on time)."""
    give_up = threading.Event()
    timer = threading.Timer(GUARD_S, give_up.set)
    timer.start()
    try:
        while not condition():
            assert not give_up.wait(0.01), f"gave up waiting until {what}"
    finally:
        timer.cancel()


def test_a_rerun_waits_for_a_killed_runs_upload_still_on_its_way(
    live: Emulator, media: Media, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # one journal, both runs
    video = media.videos[0]
    link = SlowLink(int(live.base_url.rsplit(":", 1)[1].split("/", 1)[0]))
    try:
        killed = _spawn_run_via(link.base_url, "slow-link", "assets", [str(video)])
        assert json.loads(killed.stdout.readline()) == {"ready": True}
        killed.stdin.write("go\n")
        killed.stdin.flush()
        _await(lambda: link.held_bytes >= video.stat().st_size, "the upload left the sender")
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        killed.stdout.close()
        killed.stderr.close()
        killed.stdin.close()
        assert live.stats()["uploads"] == 0  # nothing has landed yet

        options = IngestOptions(index_name="slow-link", content=("transcript",))
        rerun: list[Any] = []
        with TwelveLabs(
            api_key=SECRET_KEY, base_url=link.base_url, poll_policy=PollPolicy.fixed(0.02)
        ) as client:
            listings_before = link.listings_seen
            worker = threading.Thread(
                target=lambda: rerun.extend(VideoIngest(client, options).run([str(video)]))
            )
            worker.start()
            # The re-run looked up, found the marker and nothing yet, and looks again (or,
            # not knowing better, sent the file itself): now the killed run's bytes arrive.
            _await(
                lambda: link.listings_seen >= listings_before + 2 or link.uploads_seen > 1,
                "the re-run waits or uploads",
            )
            link.deliver()
            worker.join(GUARD_S)
    finally:
        link.close()
    assert [r.video.source for r in rerun] == [str(video)]
    assert [p.text for p in rerun[0].pieces] == [line_of(0)]
    assert link.uploads_seen == 1, "the re-run sent the file again"
    assert live.stats()["uploads"] == 1
    _check_each_once(live, [str(video)], "assets")
