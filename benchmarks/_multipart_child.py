"""One multipart upload in a fresh process, for :mod:`benchmarks.bench_multipart`.

Usage: ``python -m benchmarks._multipart_child {ours|sdk} BASE_URL API_KEY PATH``.

``ours`` is ``client.assets.upload(path)`` (hash, find no twin, open or resume a session,
PUT chunks from the file at their offsets, report, wait for the asset); ``sdk`` is the
official SDK's ``client.multipart_upload.upload_file(path)``. While the upload runs, a line
``{"progress": bytes_done, "total": size}`` is printed (and flushed) for every chunk, so
the parent can kill this process half way to test resuming. The last line is the result:

- ``seconds``: until every byte is stored (ours: the last chunk's ETag, which the journal
  and report follow; the SDK: the return of ``upload_file``, after its last report);
- ``cpu_s``: CPU seconds of this process (user + system, every thread) in that time;
- ``growth_bytes``: peak RSS during the upload minus RSS just before it (VmHWM after a
  reset, cross-checked by a 5 ms sampler);
- ``read_bytes``: bytes read during the upload (``/proc/self/io``): the file once to hash
  it (ours), then every chunk as it is sent.

Before uploading, a line ``{"read_bytes_start": n}`` gives the count the upload starts from.

Example:
    >>> # python -m benchmarks._multipart_child ours http://127.0.0.1:8000/v1.3 k /tmp/f.mp4
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._common import RssSampler, peak_rss_bytes, reset_peak_rss, rss_bytes

Upload = Callable[[Path, Callable[[int, int], None]], Any]


def read_bytes() -> int:
    """Bytes this process read through ``read`` system calls so far (``rchar``, Linux).

    A chunk is read from the source file as it is sent, so what was read from it bounds
    what went on the wire (from above, by at most one read buffer per chunk in flight).

    Example:
        >>> read_bytes() >= 0
        True
    """
    try:
        text = Path("/proc/self/io").read_text()
    except OSError:
        return 0
    return next((int(x.split()[1]) for x in text.splitlines() if x.startswith("rchar:")), 0)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (all threads).

    Example:
        >>> cpu_seconds() > 0
        True
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def _make_upload(client_name: str, base_url: str, api_key: str) -> Upload:
    """Build the client, warm its connection pool, and return the upload call."""
    if client_name == "ours":
        from tl_integrations import TwelveLabs

        ours = TwelveLabs(api_key=api_key, base_url=base_url, max_retries=0)
        ours.assets.list()  # warm-up: connection, lazy imports

        def upload_ours(path: Path, progress: Callable[[int, int], None]) -> Any:
            # threshold 0: always in chunks, also for the small smoke-test file
            return ours.assets.upload(
                path, on_progress=progress, timeout_s=120, multipart_threshold_bytes=0
            )

        return upload_ours
    from twelvelabs import TwelveLabs as SdkTwelveLabs

    sdk = SdkTwelveLabs(api_key=api_key, base_url=base_url)
    sdk.assets.list()

    def upload_sdk(path: Path, progress: Callable[[int, int], None]) -> Any:
        size = path.stat().st_size

        def on_batch(p: Any) -> None:  # the SDK reports chunks per batch, not bytes
            progress(min(size, size * p.completed_chunks // max(1, p.total_chunks)), size)

        return sdk.multipart_upload.upload_file(path, progress_callback=on_batch)

    return upload_sdk


def main(argv: list[str]) -> dict[str, Any]:
    """Run one multipart upload and return the measurements (also printed as JSON).

    Example:
        >>> # main(["sdk", base_url, key, "/tmp/sparse.mp4"])
    """
    client_name, base_url, api_key, raw_path = argv
    path = Path(raw_path)
    size = path.stat().st_size
    upload = _make_upload(client_name, base_url, api_key)
    gc.collect()
    before = rss_bytes()
    hwm_ok = reset_peak_rss()
    out: dict[str, Any] = {"client": client_name, "bytes": size, "error": None}
    stored: dict[str, float] = {}
    read0, cpu0 = read_bytes(), cpu_seconds()
    _say(read_bytes_start=read0)

    def progress(done: int, total: int) -> None:
        if done >= total and "seconds" not in stored:
            stored["seconds"] = time.perf_counter() - start
            stored["cpu_s"] = cpu_seconds() - cpu0
        _say(progress=done, total=total)

    with RssSampler() as sampler:
        start = time.perf_counter()
        try:
            result = upload(path, progress)
            out["asset_id"] = str(getattr(result, "id", None) or getattr(result, "asset_id", ""))
        except Exception as exc:  # a sparse file of zeros fails processing: expected
            out["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        out["seconds_total"] = time.perf_counter() - start
    out["seconds"] = stored.get("seconds", out["seconds_total"])
    out["cpu_s"] = stored.get("cpu_s", cpu_seconds() - cpu0)
    out["read_bytes"] = read_bytes() - read0
    hwm = peak_rss_bytes() if hwm_ok else None
    out["rss_before"] = before
    out["growth_bytes"] = max(hwm or 0, sampler.max_bytes) - before
    out["pid"] = os.getpid()
    return out


if __name__ == "__main__":
    _say(**main(sys.argv[1:]))
