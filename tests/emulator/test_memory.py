"""Uploads stream to disk: a big upload does not grow the server's memory."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import psutil

from tl_integrations.emulator import Emulator

UPLOAD_BYTES = 96 * 1024 * 1024


def _peak_rss_during(action: object) -> tuple[int, int]:
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            done.wait(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        action()  # type: ignore[operator]
    finally:
        done.set()
        sampler.join()
    return baseline, peak


def test_large_upload_keeps_memory_flat(tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    with big.open("wb") as f:  # sparse: costs no disk, reads as zeros
        f.truncate(UPLOAD_BYTES)
    with Emulator() as emu, httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        models = [{"model_name": "marengo3.0", "model_options": ["visual"]}]
        index = http.post("/indexes", json={"index_name": "big", "models": models}).json()["_id"]
        answers: list[httpx.Response] = []

        def send() -> None:
            with big.open("rb") as f:  # httpx streams file parts in chunks
                answers.append(
                    http.post(
                        "/tasks",
                        data={"index_id": index},
                        files={"video_file": ("big.mp4", f)},
                        timeout=120,
                    )
                )

        baseline, peak = _peak_rss_during(send)
        assert answers[0].status_code == 400
        assert answers[0].json()["code"] == "video_file_broken"
        assert emu.stats()["bytes_received"] >= UPLOAD_BYTES
    # Client and server share this process; both stream, so growth stays far below the size.
    assert peak - baseline < UPLOAD_BYTES // 4, f"RSS grew by {(peak - baseline) >> 20} MiB"
