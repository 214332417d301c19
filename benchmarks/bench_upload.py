"""Upload: one large sparse file through ``tasks.create``, ours vs the SDK.

Each upload runs in a fresh child process (``benchmarks._upload_child``), so the clients do
not share a heap; the emulator runs in another process. The child builds its client and
makes one warm-up request, then resets the kernel's peak-RSS mark and uploads. Reported:
peak RSS growth over the baseline (VmHWM, cross-checked by a 5 ms sampler) and throughput
(file bytes / seconds until the server's answer). The runs alternate ours, SDK, ours, SDK...
and the median and best throughput and the worst growth of each side are kept.

The file is sparse (all zeros, no disk blocks), so the emulator receives it in full, then
fails to probe it and answers 400 ``video_file_broken``: that error is expected and shows
the whole body was read (the emulator's byte counter is checked too).

Run alone: ``.venv/bin/python -m benchmarks.bench_upload size_mb=256``.

Example:
    >>> # run(size_mb=1, repeats=1)["rows"]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._common import Result, bench_main, flatten, python_exe, ratio, safe_div, target, times
from ._emu import EmulatorProcess
from ._support import sdk_create_index, sdk_session, sparse_file, warm_page_cache

ROOT = Path(__file__).resolve().parents[1]

# --- parameters ---------------------------------------------------------------------------
SIZE_MB = 1024
"""File size in MiB (1 GiB by default; the endpoint's limit is 2 GB)."""
REPEATS = 7
"""Uploads per client (alternating; the medians are compared). One more upload
per client goes first, unmeasured: the first uploads into a fresh emulator are slower (its
disk and page cache warm up), which would count against whichever client went first."""
MAX_GROWTH_MB = 50.0
MEDIAN = "throughput, median (MB/s)"
SMOKE: dict[str, Any] = {"size_mb": 1, "repeats": 1}
TARGETS = (
    f"peak RSS growth under {MAX_GROWTH_MB:.0f} MB",
    "median throughput no slower than the SDK's (5% noise allowed)",
)


def _bytes_received(stats: Mapping[str, Any]) -> int | None:
    """Total upload bytes the emulator counted, if its stats expose such a number."""
    for key, value in flatten(stats).items():
        low = key.lower()
        if "byte" in low and isinstance(value, (int, float)) and "/_emulator" not in low:
            return int(value)
    return None


def _memory_dir() -> str | None:
    """A memory-backed directory for the emulator's data (``/dev/shm``), when there is one.

    The emulator spools each upload to its data directory; on a disk, the page cache's
    write-back of a 1 GiB body lands on whichever run comes next and dominates the run-to-run
    spread, for both clients alike. In memory, the clients' sending is what differs.
    """
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _one(emu: EmulatorProcess, client: str, index_id: str, path: str) -> dict[str, Any]:
    warm_page_cache(Path(path))
    before = _bytes_received(emu.stats())
    argv = [client, emu.base_url, emu.api_key, index_id, path]
    proc = subprocess.run(
        [python_exe(), "-m", "benchmarks._upload_child", *argv],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{client} upload child failed: {proc.stderr.strip()[-500:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    after = _bytes_received(emu.stats())
    out["server_bytes"] = None if before is None or after is None else after - before
    return out


def _summarise(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    best = max(runs, key=lambda r: r["bytes"] / r["seconds"])
    return {
        "client": name,
        "throughput (MB/s)": best["bytes"] / best["seconds"] / 1e6,
        "seconds (best)": best["seconds"],
        MEDIAN: statistics.median(r["bytes"] / r["seconds"] for r in runs) / 1e6,
        # CPU per byte is the honest client measure: wall time here is bound by the
        # emulator and by whatever else the shared machine runs.
        "CPU s per GiB": min(r["cpu_s"] / (r["bytes"] / 1024**3) for r in runs),
        "peak RSS growth (MB)": max(r["growth_bytes"] for r in runs) / 1e6,
        "RSS before (MB)": best["rss_before"] / 1e6,
        "server answer": f"{best.get('status')} {best.get('code') or best.get('error') or 'ok'}",
        "bytes received by server": best.get("server_bytes"),
        "runs": len(runs),
        "each run (MB/s)": " ".join(f"{r['bytes'] / r['seconds'] / 1e6:.0f}" for r in runs),
    }


def run(*, size_mb: int = SIZE_MB, repeats: int = REPEATS) -> Result:
    """Upload a ``size_mb`` MiB sparse file with each client and compare memory and speed.

    Args:
        size_mb: file size in MiB.
        repeats: uploads per client.

    Example:
        >>> # run(size_mb=64)["targets"]
    """
    start = time.perf_counter()
    path = sparse_file(size_mb * 1024 * 1024)
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "sdk": []}
    errors: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="tl-bench-upload-", dir=_memory_dir()) as data_dir,
        EmulatorProcess(virtual_clock=False, config={"data_dir": data_dir}) as emu,
    ):
        with sdk_session(emu) as sdk:
            index_id = sdk_create_index(sdk, "bench-upload")
        for round_no in range(repeats + 1):
            for client in runs:
                try:
                    measured = _one(emu, client, index_id, str(path))
                except Exception as exc:
                    errors.append(f"{client}: {type(exc).__name__}: {exc}")
                    continue
                if round_no > 0:  # round 0 warms the emulator up for both
                    runs[client].append(measured)
    rows = {k: _summarise(k, v) for k, v in runs.items() if v}
    result = _result(rows, size_mb=size_mb, repeats=repeats)
    result["notes"] = errors + result["notes"]
    result["wall_s"] = time.perf_counter() - start
    return result


NOTES = (
    "Sparse file of zeros: the emulator reads the whole body, then answers 400 "
    "`video_file_broken` (expected); the time is until that answer.",
    "Each upload runs in a fresh process after one warm-up request; growth = peak RSS during "
    "the upload minus RSS just before it. Client retries are off on both sides.",
    "One unmeasured upload per client first warms the emulator up; the medians of the runs are "
    "compared (loopback throughput varies by 25% or more run to run, for both clients alike: "
    "both stream through httpx, and the emulator bounds them), the best runs are shown too.",
    "Loopback, emulator in its own process, its data directory in memory (/dev/shm where "
    "there is one): the server's parsing and copying bound the throughput of both clients "
    "alike.",
)


def _mb(value: float | None) -> str:
    return "-" if value is None else f"+{value:.1f} MB"


def _mbs(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB/s"


def _result(rows: dict[str, dict[str, Any]], *, size_mb: int, repeats: int) -> Result:
    ours, sdk = rows.get("ours", {}), rows.get("sdk", {})
    growth = ours.get("peak RSS growth (MB)")
    # Medians are compared: one outlier run (either way) moves a best-of-N ratio by 30%.
    tput = safe_div(ours.get(MEDIAN), sdk.get(MEDIAN))
    best = safe_div(ours.get("throughput (MB/s)"), sdk.get("throughput (MB/s)"))
    return {
        "name": "upload",
        "title": f"Upload ({size_mb} MiB)",
        "params": {"size_mb": size_mb, "repeats": repeats},
        "rows": list(rows.values()),
        "ratios": [
            ratio("throughput, ours / SDK (medians)", tput),
            ratio("throughput, ours / SDK (best runs)", best),
            ratio(
                "client CPU per byte, SDK / ours",
                safe_div(sdk.get("CPU s per GiB"), ours.get("CPU s per GiB")),
            ),
            ratio(
                "peak RSS growth, SDK / ours",
                safe_div(sdk.get("peak RSS growth (MB)"), growth),
            ),
        ],
        "targets": [
            target(
                TARGETS[0],
                None if growth is None else growth < MAX_GROWTH_MB,
                "not measured"
                if growth is None
                else f"+{growth:.1f} MB "
                f"(SDK +{sdk.get('peak RSS growth (MB)', float('nan')):.1f} MB)",
            ),
            target(
                TARGETS[1],
                None if tput is None else tput >= 0.95,
                "not measured"
                if tput is None
                else f"medians {ours[MEDIAN]:.0f} vs {sdk[MEDIAN]:.0f} MB/s ({tput:.2f}x)",
            ),
        ],
        "headline": [
            {
                "measure": f"peak RSS growth, {size_mb} MiB upload",
                "ours": _mb(growth),
                "sdk": _mb(sdk.get("peak RSS growth (MB)")),
                "ratio": "-",
            },
            {
                "measure": "upload throughput over loopback (median)",
                "ours": _mbs(ours.get(MEDIAN)),
                "sdk": _mbs(sdk.get(MEDIAN)),
                "ratio": times(tput),
            },
        ],
        "notes": list(NOTES),
    }


if __name__ == "__main__":
    bench_main(run)
