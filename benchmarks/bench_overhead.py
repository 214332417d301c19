"""Per-request overhead: one warm ``client.tasks.retrieve``, ours vs the SDK's, no network.

Both clients get an ``httpx.Client`` on the same ``httpx.MockTransport`` that answers every
request with the same task object, so what is measured is each library's own work around
one request: building it, sending it through httpx, reading the answer, parsing the task.

Two measures per side:

- **Python calls** made inside the library (``sys.setprofile``, every ``call`` event whose
  code lives in the package; generator resumptions count, calls into httpx and the
  standard library do not). Issue 11 asks for about 15 or fewer on ours.
- **CPU time** per retrieve: the median, over ``batches``, of ``time.process_time`` around
  ``per_batch`` calls (httpx's own share included on both sides).

Run alone: ``.venv/bin/python -m benchmarks.bench_overhead [batches=15] [per_batch=2000]``.

Example:
    >>> # run(batches=3, per_batch=200)["ratios"][0]["name"]
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from ._common import Result, bench_main, median, ratio, safe_div, target, times

# --- parameters ---------------------------------------------------------------------------
BATCHES = 15
"""Timed batches per side (the median is reported)."""
PER_BATCH = 2000
"""Retrieves per batch."""
SMOKE: dict[str, Any] = {"batches": 2, "per_batch": 50}
CALLS_TARGET = 15
"""Issue 11: "one client.tasks.retrieve goes through about 15 calls or fewer"."""
TARGETS = (
    f"about {CALLS_TARGET} calls or fewer per tasks.retrieve",
    "per-request CPU no heavier than the SDK",
)
TASK_ID = "6650a1b2c3d4e5f601234567"
BODY = (
    b'{"_id":"6650a1b2c3d4e5f601234567","status":"ready","index_id":"6650a1b2c3d4e5f60123456a",'
    b'"video_id":"6650a1b2c3d4e5f60123456b","created_at":"2026-12-04T10:00:00Z",'
    b'"updated_at":"2026-12-04T10:01:00Z","system_metadata":{"filename":"talk.mp4",'
    b'"duration":61.5,"width":1280,"height":720,"fps":25.0,"size":7340032},"hls":null}'
)
NOTES = (
    "Both clients use one `httpx.MockTransport` answering every request with the same task "
    "(no sockets): the numbers are each library's own work around one request.",
    "Calls: `sys.setprofile` `call` events in the package's files (generator resumptions "
    "count; httpx and the standard library do not).",
)


def _transport() -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=BODY, headers={"content-type": "application/json"})

    return httpx.MockTransport(answer)


def _ours() -> Callable[[], Any]:
    from tl_integrations import TwelveLabs

    client = TwelveLabs(
        "tlk_benchmark_key",
        base_url="https://api.example.com/v1.3",
        http_client=httpx.Client(transport=_transport()),
    )
    return lambda: client.tasks.retrieve(TASK_ID)


def _sdk() -> Callable[[], Any]:
    from twelvelabs import TwelveLabs

    client = TwelveLabs(
        api_key="tlk_benchmark_key",
        base_url="https://api.example.com/v1.3",
        httpx_client=httpx.Client(transport=_transport()),
    )
    return lambda: client.tasks.retrieve(TASK_ID)


def count_calls(call: Callable[[], Any], package: str) -> tuple[int, int, Counter[str]]:
    """Python calls made inside ``package`` by one ``call()``: (calls, files, per function).

    Example:
        >>> count_calls(lambda: None, "/tl_integrations/")[0]
        0
    """
    seen: Counter[str] = Counter()
    files: set[str] = set()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and package in frame.f_code.co_filename:
            name = frame.f_code.co_filename.split(package, 1)[1]
            seen[f"{name}:{frame.f_code.co_name}"] += 1
            files.add(name)

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return sum(seen.values()), len(files), seen


def _cpu_us(call: Callable[[], Any], batches: int, per_batch: int) -> float:
    samples = []
    for _ in range(batches):
        start = time.process_time()
        for _ in range(per_batch):
            call()
        samples.append((time.process_time() - start) / per_batch)
    return 1e6 * (median(samples) or 0.0)


def run(*, batches: int = BATCHES, per_batch: int = PER_BATCH) -> Result:
    """Count the calls of one warm retrieve on each side, then time many.

    Args:
        batches: timed batches per side; the median is reported.
        per_batch: retrieves per batch.

    Returns:
        A result dict (see :mod:`benchmarks._common`).

    Example:
        >>> # run(batches=3, per_batch=200)["targets"][0]["met"]
    """
    start = time.perf_counter()
    sides = {"ours": (_ours(), "/tl_integrations/"), "sdk": (_sdk(), "/twelvelabs/")}
    rows = []
    for side, (call, package) in sides.items():
        call()  # warm: imports, connection pool, caches
        calls, files, per_function = count_calls(call, package)
        rows.append(
            {
                "client": side,
                "calls per retrieve": calls,
                "files": files,
                "CPU per retrieve (us)": round(_cpu_us(call, batches, per_batch), 1),
                "busiest functions": ", ".join(f"{n} x{c}" for n, c in per_function.most_common(4)),
            }
        )
    ours, sdk = rows
    cpu_ratio = safe_div(sdk["CPU per retrieve (us)"], ours["CPU per retrieve (us)"])
    calls_ratio = safe_div(sdk["calls per retrieve"], ours["calls per retrieve"])
    return {
        "name": "overhead",
        "title": "Per-request overhead (one tasks.retrieve, no network)",
        "params": {"batches": batches, "per_batch": per_batch},
        "rows": rows,
        "ratios": [
            ratio("CPU per retrieve, SDK / ours", cpu_ratio),
            ratio("calls per retrieve, SDK / ours", calls_ratio),
        ],
        "targets": [
            target(
                TARGETS[0],
                ours["calls per retrieve"] <= CALLS_TARGET + 2,
                f"{ours['calls per retrieve']} calls in {ours['files']} files "
                f"(the SDK: {sdk['calls per retrieve']})",
            ),
            target(
                TARGETS[1],
                None if cpu_ratio is None else cpu_ratio >= 1.0,
                f"{ours['CPU per retrieve (us)']:.0f} us vs {sdk['CPU per retrieve (us)']:.0f} us",
            ),
        ],
        "headline": [
            {
                "measure": "one tasks.retrieve: Python calls",
                "ours": str(ours["calls per retrieve"]),
                "sdk": str(sdk["calls per retrieve"]),
                "ratio": times(calls_ratio, "fewer", "more"),
            },
            {
                "measure": "one tasks.retrieve: CPU (no network)",
                "ours": f"{ours['CPU per retrieve (us)']:.0f} us",
                "sdk": f"{sdk['CPU per retrieve (us)']:.0f} us",
                "ratio": times(cpu_ratio),
            },
        ],
        "notes": list(NOTES),
        "wall_s": time.perf_counter() - start,
    }


if __name__ == "__main__":
    bench_main(run)
