"""On a two-node Ray cluster started on this machine (``ray start``): the budget and the
index desk are shared across processes and nodes, and a killed run is finished by the next
one without paying twice.

Heavy (a cluster start, child drivers): marked ``ray_heavy``, left out of ``make test``,
run by ``make test-ray``. The cluster's processes are started in their own session and
stopped by their process group when the module is done.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tl_integrations import TwelveLabs
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock, RateLimits

from .conftest import LINES, SRC, UPLOADS, posts

pytestmark = pytest.mark.ray_heavy

RAY = str(Path(sys.executable).with_name("ray"))
CHILD = Path(__file__).with_name("_cluster_child.py")
# No token: the cluster lives on loopback for the length of this module.
ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": SRC}
# A node being stopped has nothing left to drain: stop in seconds, not the default 30.
NODE_ENV = {**ENV, "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "2"}
START_TIMEOUT_S = 90.0


@dataclass
class Cluster:
    address: str
    processes: list[subprocess.Popen[bytes]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _node(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child has its own copy of the descriptor
        return subprocess.Popen(
            [RAY, "start", "--block", "--num-cpus=1", "--object-store-memory=100000000", *args],
            env={**os.environ, **NODE_ENV},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )


def _wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + START_TIMEOUT_S
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > end:
            raise RuntimeError(f"ray start did not come up:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # `ray start --block` stops the node's processes itself
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
    process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("ray-cluster")
    port = _free_port()
    temp_dir = Path(tempfile.gettempdir()) / f"rtl{uuid.uuid4().hex[:8]}"  # short: socket paths
    head = _node(
        ["--head", f"--port={port}", f"--temp-dir={temp_dir}", "--include-dashboard=false"],
        logs / "head.log",
    )
    processes = [head]
    try:
        _wait_for_line(logs / "head.log", "Ray runtime started", head)
        second = _node([f"--address=127.0.0.1:{port}"], logs / "second.log")
        processes.append(second)
        _wait_for_line(logs / "second.log", "Ray runtime started", second)
        yield Cluster(f"127.0.0.1:{port}", processes)
    finally:
        for process in reversed(processes):
            _stop(process)


def _driver(cluster: Cluster, emu: Emulator, **settings: Any) -> subprocess.Popen[str]:
    config = {
        "address": cluster.address,
        "env": ENV,
        "nodes": 2,
        "api_key": emu.api_key,
        "base_url": emu.base_url,
        "index_name": settings.pop("index_name"),
        "output": "videos",
        "workers": 2,
        "batch_size": 4,
        "max_concurrency": 2,
        "num_cpus": 1.0,  # one worker per node: each node has one CPU
        **settings,
    }
    return subprocess.Popen(
        [sys.executable, str(CHILD), json.dumps(config)],
        env={**os.environ, **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _finish(driver: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = driver.communicate(timeout=300)
    assert driver.returncode == 0, out
    return dict(json.loads(out.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from tl_integrations.emulator import make_sample_video

    root = tmp_path_factory.mktemp("cluster-media")
    return [
        make_sample_video(root / f"c{i}.mp4", duration_s=5.0, fps=2, subtitles=LINES, seed=i)
        for i in range(24)
    ]


def test_two_nodes_share_one_budget_and_one_desk_and_stay_under_the_limit(
    cluster: Cluster, media: list[Path]
) -> None:
    # 24 uploads against 20 a minute: the limit binds, and the budget paces both nodes.
    limits = RateLimits(tasks=20)
    with Emulator(EmulatorConfig(speed=25.0, seed=5, rate_limits=limits)) as emu:
        driver = _driver(cluster, emu, index_name="two-nodes", sources=list(map(str, media)))
        report = _finish(driver)
        stats = emu.stats()
    assert report["counts"]["indexed"] == 24
    assert report["counts"]["failed"] == 0
    assert stats["rate_limited"] == 0  # not one 429
    assert report["queued_s"]["tasks"] > 0  # ... because the budget held uploads back
    nodes = set(report["nodes"])
    assert len(nodes) == 2
    assert {m.split(":")[0] for m in report["budget_members"]} == nodes
    # Every worker joins the budget when it starts, but joins the desk only at its first wait:
    # on a loaded machine Ray Data may hand every batch to the worker that started first
    # (seen once in make test-ray), so the desk's members are the nodes that did the work.
    desk_nodes = {m.split(":")[0] for m in report["desk_members"]}
    assert desk_nodes
    assert desk_nodes <= nodes
    assert set(report["wait_requests"]) <= {"GET /indexed-assets", "GET /indexed-assets/{id}"}
    assert sum(report["wait_requests"].values()) <= 3 * report["rounds"]


class Pump:
    """Moves a manual clock from a thread: 0.5 emulated seconds every 10 ms."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self._emu.advance(0.5)

    def __enter__(self) -> Pump:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.parametrize("upload", ["assets", "tasks"])
def test_a_run_killed_at_60_percent_is_finished_by_the_next_without_paying_twice(
    cluster: Cluster, media: list[Path], tmp_path: Path, upload: str
) -> None:
    sources = list(map(str, media[:10]))
    out = str(tmp_path / "docs")
    settings = {"index_name": "killed", "sources": sources, "path": out, "upload": upload}
    # The tasks path: the clock stands still during the first run, so its tasks cannot
    # finish and it is certainly uploading or waiting when it is killed (after 6 of the 10
    # uploads). The assets path needs the clock to move for its assets to be ready: some
    # of its videos are indexed, some indexing, some only uploaded when the kill lands.
    with Emulator(EmulatorConfig(clock=ManualClock(), seed=8)) as emu:
        emu.set_faults("latency=1,latency_s=0.3")  # uploads take a while: a kill lands mid-run
        with Pump(emu) if upload == "assets" else contextlib.nullcontext():
            first = _driver(cluster, emu, output="documents", **settings)
            end = time.monotonic() + START_TIMEOUT_S
            while (
                posts(emu, UPLOADS[upload]) < 6 and first.poll() is None and time.monotonic() < end
            ):
                time.sleep(0.01)
            first.send_signal(signal.SIGKILL)
            first.communicate()
        assert posts(emu, UPLOADS[upload]) >= 6
        emu.set_faults()
        with Pump(emu):
            report = _finish(_driver(cluster, emu, output="documents", **settings))
        indexings = posts(emu, "POST /v1.3/indexes/{id}/indexed-assets")
        uploads = posts(emu, UPLOADS[upload])
        with TwelveLabs(api_key=emu.api_key, base_url=emu.base_url) as client:
            index_id = client.indexes.get_or_create("killed").id
            tasks = list(client.tasks.list(index_id=index_id))
            videos = [client.videos.retrieve(index_id, v.id) for v in client.videos.list(index_id)]
    assert report["counts"]["indexed"] == 10
    assert report["counts"]["failed"] == 0
    assert report["counts"]["uploaded"] < 10  # what the killed run sent was reused
    # Each video uploaded and indexed once, over both runs.
    assert uploads == 10
    assert (indexings if upload == "assets" else len(tasks)) == 10
    assert len({video.user_metadata["tl_sha256"] for video in videos}) == len(videos) == 10
    rows = pq.read_table(out).select(["source", "status"]).to_pylist()
    assert Counter(row["source"] for row in rows) == Counter(sources)  # one document each
    assert {row["status"] for row in rows} == {"ok"}
