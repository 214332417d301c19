"""``client.assets.upload`` after an interrupted multipart upload: resumed, not waited on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from testkit import FakeClock
from tl_integrations.emulator import Emulator, ManualClock, UploadLimits, sample_videos

CHUNK = 16_000


class _Interrupted(Exception):
    """Stands for Ctrl-C or a kill half way through the upload."""


def test_a_second_call_resumes_an_interrupted_upload(
    emulator_for: Callable[..., Emulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the journal's home
    (video, *_) = sample_videos(tmp_path)
    size = video.stat().st_size
    chunks = -(-size // CHUNK)
    assert chunks >= 6, "the sample must span several chunks"

    def stop_half_way(done: int, total: int) -> None:
        if done >= total // 2:
            raise _Interrupted

    limits = UploadLimits(chunk_size_bytes=CHUNK)
    emulator = emulator_for(clock=ManualClock(), uploads=limits)
    with emulator.client(sleep=FakeClock(emulator=emulator).sleep) as client:
        with pytest.raises(_Interrupted):
            client.assets.upload(
                video, multipart_threshold_bytes=0, max_concurrency=1, on_progress=stop_half_way
            )
        sent_before = emulator.stats()["chunks"]
        assert 0 < sent_before < chunks

        asset = client.assets.upload(video, multipart_threshold_bytes=0, max_concurrency=1)

        assert asset.status == "ready"
        assert [a.id for a in client.assets.list()] == [asset.id]  # the same asset, filled up
        assert emulator.stats()["chunks"] == chunks  # nothing sent twice
