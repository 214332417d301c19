"""Overlapping runs never pay twice: one upload and one video per file, however runs meet.

Two loaders sharing one client in two threads, and two loader processes, ingest the same
files at the same time; each file must be uploaded once and indexed once, and every run
must still answer every input (the other run's upload is adopted, not repeated).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tl_integrations import IngestFailure
from tl_integrations._ingest import AsyncVideoIngest, IngestOptions, VideoIngest
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock

from .conftest import (
    SECRET_KEY,
    Media,
    VirtualTime,
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
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(clock=ManualClock(), seed=23)) as server:
        yield server


@pytest.fixture
def vt(emu: Emulator) -> VirtualTime:
    assert emu.clock is not None
    return VirtualTime(emu.clock)


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
    upload: str, emu: Emulator, vt: VirtualTime, media: Media
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
    upload: str, emu: Emulator, vt: VirtualTime, media: Media
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
def live() -> Iterator[Emulator]:
    """An emulator on real time, fast: two processes cannot share a manual clock."""
    with Emulator(EmulatorConfig(seed=29, speed=40.0, api_key=SECRET_KEY)) as server:
        yield server


def _spawn_run(emu: Emulator, index_name: str, upload: str, inputs: list[str]) -> Any:
    env = {**os.environ, "TWELVELABS_API_KEY": SECRET_KEY}
    env.pop("TWELVELABS_BASE_URL", None)
    return subprocess.Popen(
        [sys.executable, str(CHILD), emu.base_url, index_name, upload, *inputs],
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
