"""Scenario 2: a loader process killed with SIGKILL while it waits; the next run finishes it.

The emulator runs in this process with a data directory and a manual clock that stands
still during the first run, so its tasks cannot finish: the child is certainly waiting when
the stats show it uploading and polling, and it is killed then. For the second run a pump
moves the clock (1 emulated second per 10 ms), and the run must complete, upload only what
the first run had not, and yield every video's Documents exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from testkit import start_emulator
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock

from .conftest import SECRET_KEY, Media, line_of, report, server_truth

pytestmark = pytest.mark.slow

CHILD = Path(__file__).with_name("_resume_child.py")
VIDEOS = 6
WALL_TIMEOUT_S = 60.0  # generous; only reached if something is broken


@pytest.fixture
def emu(request: pytest.FixtureRequest, tmp_path: Path) -> Emulator:
    config = EmulatorConfig(clock=ManualClock(), seed=9, data_dir=tmp_path / "emulator-data")
    return start_emulator(request, config)


def _spawn(emu: Emulator, videos: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "TWELVELABS_API_KEY": SECRET_KEY}
    env.pop("TWELVELABS_BASE_URL", None)
    return subprocess.Popen(
        [sys.executable, str(CHILD), emu.base_url, "resume", *videos],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _await(condition: Any, what: str) -> None:
    """Poll a condition on the emulator's stats (an event, not a fixed sleep)."""
    deadline = time.monotonic() + WALL_TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


# What the child polls while it waits for its uploads (assets, then indexed assets; or
# tasks on the older path).
POLLS = (
    "GET /v1.3/assets/{id}",
    "GET /v1.3/indexes/{id}/indexed-assets",
    "GET /v1.3/tasks",
    "GET /v1.3/tasks/{id}",
)


def _waiting(emu: Emulator) -> bool:
    """Some uploads are stored and the child polls for them."""
    stats = emu.stats()
    polls = sum(stats["requests"].get(route, 0) for route in POLLS)
    # The child uploads two at a time (max_concurrency=2), and with the clock standing still
    # neither of its first two assets finishes processing: two uploads is all there is.
    return bool(stats["uploads"] >= 2 and polls >= 3)


class ClockPump:
    """Moves the emulator's clock 1 s every 10 ms of wall time, in a thread."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.clock.advance(1.0)

    def __enter__(self) -> ClockPump:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_killed_while_waiting_then_resumed(emu: Emulator, media: Media) -> None:
    videos = [str(path) for path in media.videos[:VIDEOS]]
    first = _spawn(emu, videos)
    try:
        _await(lambda: _waiting(emu) or first.poll() is not None, "the child was waiting")
        assert first.poll() is None, first.communicate()[1]
        first.send_signal(signal.SIGKILL)
    finally:
        first.kill()
        out, _ = first.communicate()
    assert first.returncode == -signal.SIGKILL
    assert out == "", "nothing can be ready while the clock stands still"
    uploads_before = emu.stats()["uploads"]
    # An upload the server had fully received is still registered after the kill; let it
    # land first, so the second run meets it as a running task (not as a race).
    _await(lambda: server_truth(emu).assets == uploads_before, "uploads landed")
    statuses_at_kill = server_truth(emu).statuses

    assert emu.clock is not None
    with ClockPump(emu.clock):
        second = _spawn(emu, videos)
        out, err = second.communicate(timeout=WALL_TIMEOUT_S)
    assert second.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1] == {"done": True}
    docs = lines[:-1]
    assert Counter(d["id"] for d in docs).most_common(1)[0][1] == 1, "a Document came twice"
    assert sorted(d["source"] for d in docs) == sorted(videos)
    for number, path in enumerate(videos):
        assert [d["text"] for d in docs if d["source"] == path] == [line_of(number)]

    truth = server_truth(emu)
    stats = emu.stats()
    assert stats["uploads"] == VIDEOS, "a file was uploaded again"
    assert len(truth.hashes) == VIDEOS
    assert set(truth.hashes.values()) == {1}
    report(
        "crash and resume",
        videos=VIDEOS,
        uploaded_before_kill=uploads_before,
        statuses_at_kill=dict(statuses_at_kill),
        uploaded_after_restart=stats["uploads"] - uploads_before,
        documents=len(docs),
        duplicates=0,
        lost=0,
    )
