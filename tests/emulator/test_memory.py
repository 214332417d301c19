"""Uploads stream to disk: a big upload (one request, or multipart chunks) does not grow
the server's memory."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil

from tl_integrations.emulator import Emulator, UploadLimits

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


def test_large_upload_keeps_memory_flat(
    emulator_for: Callable[..., Emulator], tmp_path: Path
) -> None:
    big = tmp_path / "big.mp4"
    with big.open("wb") as f:  # sparse: costs no disk, reads as zeros
        f.truncate(UPLOAD_BYTES)
    emu = emulator_for()
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
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


def _file_slice(path: Path, offset: int, size: int, *, piece: int = 1 << 20) -> Iterator[bytes]:
    """Read ``size`` bytes from ``offset`` a piece at a time (the client holds one piece)."""
    with path.open("rb") as handle:
        handle.seek(offset)
        while size > 0:
            data = handle.read(min(piece, size))
            size -= len(data)
            yield data


def test_large_multipart_upload_keeps_memory_flat(
    emulator_for: Callable[..., Emulator], tmp_path: Path
) -> None:
    total, chunk = 2 * UPLOAD_BYTES, 16 * 1024 * 1024
    big = tmp_path / "big.mp4"
    with big.open("wb") as f:  # sparse: costs no disk, reads as zeros
        f.truncate(total)
    limits = UploadLimits(chunk_size_bytes=chunk, initial_urls=100)
    emu = emulator_for(uploads=limits)
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        body = {"filename": "big.mp4", "type": "video", "total_size": total}
        session = http.post("/assets/multipart-uploads", json=body).json()
        reports: list[dict[str, object]] = []

        def send() -> None:
            for url in session["upload_urls"]:
                n = url["chunk_index"]
                size = min(chunk, total - (n - 1) * chunk)
                stored = httpx.put(
                    url["url"],
                    content=_file_slice(big, (n - 1) * chunk, size),
                    headers={"Content-Length": str(size)},
                    timeout=120,
                )
                etag = stored.headers["etag"].strip('"')
                reports.append(
                    {"chunk_index": n, "proof": etag, "proof_type": "etag", "chunk_size": size}
                )

        baseline, peak = _peak_rss_during(send)
        done = http.post(
            f"/assets/multipart-uploads/{session['upload_id']}",
            json={"completed_chunks": reports},
            timeout=120,
        ).json()
        assert done["total_completed"] == total // chunk
        assert "url" in done
        assert emu.stats()["bytes_received"] >= total
    # Client and server share this process; both stream, so growth stays far below the size.
    assert peak - baseline < total // 8, f"RSS grew by {(peak - baseline) >> 20} MiB"
