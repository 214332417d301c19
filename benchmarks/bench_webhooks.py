"""Waiting with webhooks vs waiting by polling: our ``wait_many``, the same jobs, the same
server schedule, with and without a :class:`~tl_integrations.WebhookReceiver` attached.

Set-up: for each size (100 and 1,000 jobs), one emulator process on a *virtual clock*
(see :mod:`benchmarks._emu`) configured to POST its signed webhooks to a receiver served in
this process, one index and one ready asset of one small video. While the clock is frozen
at T0 (so they all start together), half the jobs are indexing tasks created through the
official SDK and half analysis tasks of the asset created through
``client.analyze.tasks.create``; one ``wait_many`` waits for both kinds together. Stage
durations are jittered so that jobs of both kinds end spread over ``processing_s``
emulator seconds.

Method:
- Webhooks first: the clock is set to T0 and released; ``client.tasks.wait_many(tasks)``
  runs with ``events=receiver``. The emulator sends each job's event when its clock reaches
  the job's end (deliveries happen once, which is why this run comes first).
- Polling second: the clock is set back to T0 (statuses are computed from the clock, so the
  server replays the same schedule) and the same wait runs without the receiver.
- Both get the same job objects (``Task`` and ``AnalysisTask`` as ``create`` returns them:
  they carry their index or asset, so pending ones are listed 50 a request) and the
  virtual clock. Sleeps are virtual seconds
  divided by the speed; the webhook client's sleep also ends when the receiver takes an
  event (as the default sleep does through the wait's signal: an injected sleep cannot see
  that signal, so the benchmark's own sleep watches the receiver).
- Requests: the emulator's own counts, before/after each run. Lag: the virtual time at
  which the caller got the finished job, minus the ``updated_at`` of its ``ready``
  transition (an analysis task's ``completed_at``). End lag: when ``wait_many`` returned,
  minus when the last job became ready.

Run alone: ``.venv/bin/python -m benchmarks.bench_webhooks sizes=100 speed=5``.

Example:
    >>> # run(sizes=(10,), speed=20)["rows"][0]["requests"]
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import zip_longest
from typing import Any

from ._common import Result, bench_main, mean, percentile, ratio, safe_div, target
from ._emu import EmulatorProcess, count_delta
from ._support import file_url, our_client, sample_video, sdk_create_index, sdk_session
from ._waiters import fetch_timeline, stage_spec

# --- parameters ---------------------------------------------------------------------------
SIZES = (100, 1000)
SPEED = 5.0
"""Emulator seconds per wall second."""
PROCESSING_S = (5.0, 60.0)
"""Spread of server-side processing time per job, emulator seconds (as bench_wait_many)."""
SEED = 7
SECRET = "whsec_bench-webhooks"
SMOKE: dict[str, Any] = {"sizes": (3,), "speed": 50.0, "processing_s": (2.0, 6.0)}
REQUESTS_GOAL = 0.05
LAG_GOAL_S = 0.1
END_GOAL_MS = 50.0
TARGETS = (
    "webhooks: requests to see every job finish under 5% of polling's",
    "webhooks: p95 lag after ready under 0.1 emulator s",
    "webhooks: wait_many ends within 50 ms (wall) of the last job's ready",
)

Seen = dict[str, float]
Timeline = dict[str, tuple[float, float]]
"""``{job_id: (created_s, ready_s)}``, emulator seconds."""


def _analysable_asset(emu: EmulatorProcess) -> str:
    """One ready asset of the sample video (what the analysis tasks analyse)."""
    assert emu.clock is not None
    with our_client(emu) as client:
        asset = client.assets.create(sample_video())
        return str(client.assets.wait(asset).id)


def _create(
    emu: EmulatorProcess, n: int, *, seed: int
) -> tuple[Callable[[], Timeline], list[Any], float]:
    """``n`` jobs, all created at the frozen moment T0: half indexing tasks (through the
    SDK, into a new index), half analysis tasks of one asset (through ``analyze.tasks``);
    returns a reader of their timeline, the jobs interleaved, and T0."""
    from tl_integrations import Task

    assert emu.clock is not None
    n_analyses = n // 2
    asset_id = _analysable_asset(emu)  # before T0: assets send no events and take time
    with sdk_session(emu) as sdk:
        index_id = sdk_create_index(sdk, f"bench-webhooks-{n}-{seed}")
        url = file_url(sample_video())
        t0 = emu.clock.pause()
        with ThreadPoolExecutor(8) as pool:
            ids = list(
                pool.map(lambda _: str(sdk.tasks.create(index_id=index_id, video_url=url).id),
                         range(n - n_analyses))
            )  # fmt: skip
    # What our create() returns: the task with its index, so waits list them together.
    indexing: list[Any] = [Task(i, "validating", index_id=index_id) for i in ids]
    with our_client(emu) as client, ThreadPoolExecutor(8) as pool:
        analyses: list[Any] = list(
            pool.map(lambda k: client.analyze.tasks.create(asset_id, prompt=f"Describe {k}"),
                     range(n_analyses))
        )  # fmt: skip
    jobs = [job for pair in zip_longest(indexing, analyses) for job in pair if job is not None]

    def timeline() -> Timeline:
        analyses = fetch_timeline(
            emu,
            path="/analyze/tasks",
            params={"asset_id": asset_id},
            id_key="task_id",
            ready_key="completed_at",
        )
        return {**fetch_timeline(emu, index_id), **analyses}

    return timeline, jobs, t0


def _hooked(emu: EmulatorProcess, receiver: Any, arrived: threading.Event) -> Callable[..., Any]:
    from tl_integrations import TwelveLabs

    assert emu.clock is not None
    speed = emu.speed

    def sleep(virtual_s: float) -> None:
        arrived.wait(max(0.0, virtual_s) / speed)
        arrived.clear()

    return lambda: TwelveLabs(
        api_key=emu.api_key, base_url=emu.base_url, clock=emu.clock, sleep=sleep, events=receiver
    )


def _polling(emu: EmulatorProcess) -> Callable[..., Any]:
    from tl_integrations import TwelveLabs

    assert emu.clock is not None
    clock = emu.clock
    return lambda: TwelveLabs(
        api_key=emu.api_key, base_url=emu.base_url, clock=clock, sleep=clock.sleep
    )


def _measure(
    emu: EmulatorProcess, jobs: Sequence[Any], t0: float, make_client: Callable[..., Any]
) -> dict[str, Any]:
    assert emu.clock is not None
    clock = emu.clock
    clock.set(t0)
    client = make_client()  # built while the clock is frozen
    before = emu.request_counts()
    seen: Seen = {}
    clock.resume()
    start = time.perf_counter()
    try:
        with client:
            for job in client.tasks.wait_many(list(jobs)):
                seen[str(job.id)] = clock()
        ended = clock()
    finally:
        wall = time.perf_counter() - start
        clock.pause()
    after = emu.request_counts()
    return {
        "seen": seen,
        "ended": ended,
        "wall_s": wall,
        "requests": count_delta(before, after, keep=lambda _r: True),
    }


def _row(
    name: str, n: int, m: dict[str, Any], timeline: dict[str, tuple[float, float]], speed: float
) -> dict[str, Any]:
    lags = [m["seen"][t] - timeline[t][1] for t in m["seen"] if t in timeline]
    last_ready = max((ready for _, ready in timeline.values()), default=None)
    end_lag = None if last_ready is None else m["ended"] - last_ready
    return {
        "client": name,
        "jobs": n,
        "requests": m["requests"],
        "requests / job": m["requests"] / max(1, n),
        "mean lag (emu s)": mean(lags),
        "p95 lag (emu s)": percentile(lags, 95),
        "max lag (emu s)": max(lags) if lags else None,
        "end lag (wall ms)": None if end_lag is None else end_lag / speed * 1000.0,
        "jobs seen": len(m["seen"]),
        "wall (s)": m["wall_s"],
    }


def _stages(processing_s: tuple[float, float]) -> dict[str, Any]:
    """Indexing stages as bench_wait_many's, and analyses spread over the same window."""
    stages = stage_spec(*processing_s)
    lo, hi = processing_s
    waiting = stages["queued"][0] + stages["pending"][0]
    return {**stages, "analysis": ((lo + hi) / 2.0 - waiting, 0.0)}


def _one_size(n: int, *, speed: float, processing_s: tuple[float, float], seed: int) -> list[Any]:
    from tl_integrations import WebhookReceiver

    arrived = threading.Event()
    receiver = WebhookReceiver(SECRET, on_event=lambda _event: arrived.set())
    with receiver.serve() as server:
        config = {
            "seed": seed,
            "stages": _stages(processing_s),
            "rate_limits": {k: 0 for k in ("tasks", "assets", "embed", "search", "analyze",
                                           "default")},
            "webhook_url": server.url,
            "webhook_secret": SECRET,
            "file_dirs": (str(sample_video().parent),),  # the file:// URLs the SDK sends
        }  # fmt: skip
        with EmulatorProcess(speed=speed, config=config) as emu:
            receiver.clock = emu.clock  # events are signed with the emulator's (virtual) time
            timeline, jobs, t0 = _create(emu, n, seed=seed)
            hooks = _measure(emu, jobs, t0, _hooked(emu, receiver, arrived))
            ends = timeline()
            polled = _measure(emu, jobs, t0, _polling(emu))
    kinds = Counter(type(job).__name__ for job in jobs)
    return [
        _row("ours: wait_many, polling", n, polled, ends, speed),
        _row("ours: wait_many, webhooks", n, hooks, ends, speed),
        {**receiver.stats, "kinds": dict(kinds), "ended": len(ends)},
    ]


def _verdicts(rows: list[dict[str, Any]], sizes: Sequence[int]) -> tuple[list[Any], list[Any]]:
    ratios, targets = [], []
    share_detail, shares, lags, ends = [], [], [], []
    for n in sizes:
        poll = next(r for r in rows if r["jobs"] == n and "polling" in r["client"])
        hook = next(r for r in rows if r["jobs"] == n and "webhooks" in r["client"])
        share = safe_div(hook["requests"], poll["requests"])
        ratios.append(ratio(f"requests, polling / webhooks ({n} jobs)", safe_div(1.0, share)))
        shares.append(share)
        share_detail.append(
            f"{n} jobs: {hook['requests']} vs {poll['requests']}"
            + ("" if share is None else f" ({share:.1%})")
        )
        lags.append(hook["p95 lag (emu s)"])
        ends.append(hook["end lag (wall ms)"])
    ok_share = None if None in shares else all(s < REQUESTS_GOAL for s in shares)
    targets.append(target(TARGETS[0], ok_share, "; ".join(share_detail)))
    worst_lag = None if None in lags else max(lags)
    targets.append(
        target(
            TARGETS[1],
            None if worst_lag is None else worst_lag < LAG_GOAL_S,
            "p95 " + ", ".join(f"{x:.3f}" if x is not None else "-" for x in lags) + " emu s",
        )
    )
    worst_end = None if None in ends else max(ends)
    targets.append(
        target(
            TARGETS[2],
            None if worst_end is None else worst_end < END_GOAL_MS,
            ", ".join(f"{x:.1f}" if x is not None else "-" for x in ends) + " ms",
        )
    )
    return ratios, targets


def headline(rows: list[dict[str, Any]], sizes: Sequence[int]) -> list[dict[str, Any]]:
    """README rows: requests and p95 lag with webhooks, against our own polling.

    Example:
        >>> headline([], [])
        []
    """
    out = []
    for n in sizes:
        poll = next(r for r in rows if r["jobs"] == n and "polling" in r["client"])
        hook = next(r for r in rows if r["jobs"] == n and "webhooks" in r["client"])
        share = safe_div(hook["requests"], poll["requests"])
        out.append(
            {
                "measure": f"requests to see {n} jobs finish, with webhooks",
                "ours": f"{hook['requests']} (p95 lag {hook['p95 lag (emu s)']:.3f} s)",
                "sdk": f"ours polling: {poll['requests']} (p95 {poll['p95 lag (emu s)']:.2f} s)",
                "ratio": "-" if share is None else f"{share:.1%} of polling's",
            }
        )
    return out


def run(
    *,
    sizes: tuple[int, ...] = SIZES,
    speed: float = SPEED,
    processing_s: tuple[float, float] = PROCESSING_S,
    seed: int = SEED,
) -> Result:
    """Wait for each size of jobs with webhooks, then by polling; compare requests and lag.

    Args:
        sizes: how many jobs (half indexing, half analysis tasks), one emulator per size.
        speed: emulator seconds per wall second.
        processing_s: (min, max) server-side processing time, emulator seconds.
        seed: emulator seed (ids, jitter).

    Example:
        >>> # run(**SMOKE)["targets"]
    """
    start = time.perf_counter()
    sizes = tuple(int(n) for n in sizes)  # from the command line they come as floats
    rows: list[dict[str, Any]] = []
    received = []
    for n in sizes:
        polled, hooked, stats = _one_size(n, speed=speed, processing_s=processing_s, seed=seed)
        rows += [polled, hooked]
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(stats["kinds"].items()))
        received.append(f"{n} jobs ({kinds}): the receiver took {stats['events']} events")
    ratios, targets = _verdicts(rows, sizes)
    return {
        "name": "webhooks",
        "title": "Waiting with webhooks",
        "params": {"sizes": sizes, "speed": speed, "processing_s": processing_s, "seed": seed},
        "rows": rows,
        "ratios": ratios,
        "targets": targets,
        "headline": headline(rows, sizes),
        "notes": [
            *received,
            "Same jobs, same server schedule: the emulator's virtual clock is frozen while "
            "the tasks are created and set back to the same start before each run.",
            "Lag = when the caller got the finished job minus when it became ready on the "
            "server (its `updated_at`), emulator seconds; end lag in wall milliseconds.",
            "With a receiver, the first look lists the pending jobs (one request per 50) and "
            "a fallback list round runs every 60 emulator s; events do the rest.",
            "Mixed jobs: half indexing tasks (`index.task.ready` events), half analysis "
            "tasks of one asset (`analyze.task.ready`), in one `wait_many`; polling lists "
            "them 50 a request (tasks by index, analysis tasks by asset).",
            f"Wall = real seconds at speed {speed:g}x.",
        ],
        "wall_s": time.perf_counter() - start,
    }


if __name__ == "__main__":
    bench_main(run)
