"""What a notebook starts with: ``Emulator.client()``, ``async_client()`` and ``sample_videos``."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import FakeClock
from tl_integrations import PollPolicy
from tl_integrations.emulator import Emulator, ManualClock, sample_videos
from tl_integrations.emulator._media import SAMPLES, probe

from .conftest import unique


def test_a_client_of_a_faster_emulator_polls_faster(tmp_path: Path) -> None:
    (cooking, *_) = sample_videos(tmp_path)
    with Emulator(speed=5, clock=ManualClock()) as emulator:
        time = FakeClock(emulator=emulator)  # the emulator's time, not the wall clock's
        with emulator.client(sleep=time.sleep) as client:
            assert client.base_url == emulator.base_url
            assert client.poll_policy == PollPolicy().faster(5)
            video = client.index(cooking, index_name="quickstart")
    assert video.system_metadata.filename == "cooking.mp4"
    # The asset and the indexing were polled from 0.2 s (+-10% jitter) up, never at the
    # real API's 1 s and more: statuses are seen as often, relative to the job, as there.
    assert time.sleeps
    assert min(time.sleeps) <= 0.2 * 1.1
    assert max(time.sleeps) <= PollPolicy().faster(5).max_interval_s * 1.1


def test_a_client_of_an_emulator_at_real_speed_polls_as_on_the_real_api(emu: Emulator) -> None:
    name = unique("quickstart")
    with emu.client() as client:
        assert client.poll_policy == PollPolicy()
        assert client.indexes.get_or_create(name).name == name  # it talks to the emulator


def test_client_options_win_over_the_emulators(emu: Emulator) -> None:
    fixed = PollPolicy.fixed(0.5)
    with emu.client(poll_policy=fixed, timeout_s=7.0) as client:
        assert client.poll_policy == fixed


async def test_an_async_client_on_the_same_terms() -> None:
    with Emulator(speed=4) as emulator:
        async with emulator.async_client() as client:
            assert client.base_url == emulator.base_url
            assert client.poll_policy == PollPolicy().faster(4)
            index = await client.indexes.get_or_create("quickstart-async")
            assert [i.id async for i in client.indexes.list()] == [index.id]


def test_a_client_of_an_emulator_that_is_not_running_is_refused() -> None:
    with pytest.raises(RuntimeError, match="not running; call start"):
        Emulator().client()
    with pytest.raises(RuntimeError, match="not running; call start"):
        Emulator().async_client()


def test_the_emulator_imports_no_client_until_one_is_asked_for() -> None:
    # The server shares no code with the client; only client() and async_client() load it.
    code = (
        "import sys, tl_integrations.emulator\n"
        "client = ('_client', '_polling', '_transport', '_resources', '_engine')\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.startswith('tl_integrations.') and m.split('.')[1] in client))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sample_videos_are_the_three_samples_with_their_lines(tmp_path: Path) -> None:
    paths = sample_videos(tmp_path / "new" / "folder")  # made if missing
    assert [path.name for path in paths] == ["cooking.mp4", "football.mp4", "astronomy.mp4"]
    for path, sample in zip(paths, SAMPLES, strict=True):
        info = probe(path)
        assert info.duration_s == pytest.approx(sample.duration_s, abs=0.1)
        assert [u.text for u in info.utterances] == [text for _, _, text in sample.subtitles]


def test_sample_videos_are_made_once_and_are_the_same_bytes_everywhere(tmp_path: Path) -> None:
    first = sample_videos(tmp_path / "a")
    written = [path.stat().st_mtime_ns for path in first]
    first[1].write_bytes(b"")  # a broken file is made again; the others are kept
    again = sample_videos(tmp_path / "a")
    assert again == first
    assert [path.stat().st_mtime_ns for path in again][::2] == written[::2]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(p.name for p in first)

    def digests(paths: list[Path]) -> list[str]:
        return [hashlib.sha256(path.read_bytes()).hexdigest() for path in paths]

    assert digests(sample_videos(tmp_path / "b")) == digests(again)
