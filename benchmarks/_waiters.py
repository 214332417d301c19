"""How each client waits for many tasks, for :mod:`benchmarks.bench_wait_many`.

A *strategy* builds its client while the emulator's clock is frozen (so construction costs no
virtual time) and returns the call that waits and records, for every task, the virtual time
at which the caller got it back finished.

Example:
    >>> # wait = sdk_threads(1.0)(emu); seen = wait(task_ids)
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from ._emu import EmulatorProcess
from ._support import new_sdk_http, our_client, sdk_client

Seen = dict[str, float]
Waiter = Callable[[Sequence[str]], Seen]
Strategy = Callable[[EmulatorProcess], Waiter]
"""Builds its client while the clock is frozen, then returns the call that waits."""


def stage_spec(lo_s: float, hi_s: float) -> dict[str, Any]:
    """Stage model whose per-task totals spread over about ``[lo_s, hi_s]``.

    Every stage is scaled by ``1 +/- jitter``; indexing dominates, so totals are near-uniform.

    Example:
        >>> stage_spec(5.0, 60.0)["jitter"]
        0.846
    """
    mid = (lo_s + hi_s) / 2.0
    fixed = min(2.0, mid / 4)
    jitter = round((hi_s - lo_s) / (hi_s + lo_s), 3)
    return {
        "validating": (fixed / 2, 0.0),
        "pending": (fixed / 4, 0.0),
        "queued": (fixed / 4, 0.0),
        "indexing": (mid - fixed, 0.0),
        "jitter": jitter,
    }


def ours_wait_many(poll_policy: Any = None) -> Strategy:
    """Ours: one ``tasks.wait_many`` over every id, on the emulator's virtual clock.

    Example:
        >>> # ours_wait_many()(emu)(ids)
    """

    def prepare(emu: EmulatorProcess) -> Waiter:
        kwargs = {} if poll_policy is None else {"poll_policy": poll_policy}
        client = our_client(emu, **kwargs)
        clock = emu.clock or time.time

        def wait(ids: Sequence[str]) -> Seen:
            seen: Seen = {}
            with client:
                for task in client.tasks.wait_many(list(ids)):
                    seen[str(task.id)] = clock()
            return seen

        return wait

    return prepare


def sdk_threads(interval_s: float) -> Strategy:
    """The SDK: ``tasks.wait_for_done`` in one thread per task, at ``interval_s`` emulator s.

    Example:
        >>> # sdk_threads(5.0)(emu)(ids)
    """

    def prepare(emu: EmulatorProcess) -> Waiter:
        http = new_sdk_http()
        sdk = sdk_client(emu, http=http)
        clock = emu.clock or time.time
        sleep_interval = interval_s / emu.speed

        def wait(ids: Sequence[str]) -> Seen:
            seen: Seen = {}
            errors: list[BaseException] = []

            def wait_one(task_id: str) -> None:
                try:
                    sdk.tasks.wait_for_done(task_id, sleep_interval=sleep_interval)
                    seen[task_id] = clock()
                except BaseException as exc:  # reported after the join
                    errors.append(exc)

            threads = [threading.Thread(target=wait_one, args=(i,), daemon=True) for i in ids]
            with http:
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
            if errors:
                raise errors[0]
            return seen

        return wait

    return prepare


def parse_time(text: str) -> float:
    """RFC 3339 timestamp (``2025-05-24T10:00:00.250Z``) to epoch seconds.

    Example:
        >>> parse_time("1970-01-01T00:01:00.500Z")
        60.5
    """
    moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def fetch_timeline(
    emu: EmulatorProcess,
    index_id: str | None = None,
    *,
    path: str = "/tasks",
    params: dict[str, str] | None = None,
    id_key: str = "_id",
    ready_key: str = "updated_at",
) -> dict[str, tuple[float, float]]:
    """``{task_id: (created_s, ready_s)}`` of every ready task in the index (list endpoint).

    Other kinds of jobs: their list ``path`` and filter ``params``, the key of their id and
    of the moment they became ready (analysis tasks: ``task_id``, ``completed_at``).

    Example:
        >>> # fetch_timeline(emu, index_id)["6650..."] -> (1750000000.0, 1750000031.2)
        >>> # fetch_timeline(emu, path="/analyze/tasks", params={"asset_id": a},
        >>> #                id_key="task_id", ready_key="completed_at")
    """
    filters = dict(params or {})
    if index_id is not None:
        filters["index_id"] = index_id
    out: dict[str, tuple[float, float]] = {}
    page = 1
    while True:
        resp = httpx.get(
            f"{emu.base_url}{path}",
            params={**filters, "page": page, "page_limit": 50},
            headers=emu.headers(),
            timeout=30,
        )
        resp.raise_for_status()
        data = resp.json().get("data", [])
        if not data:
            return out
        for task in data:
            if task.get("status") == "ready":
                created, ready = parse_time(task["created_at"]), parse_time(task[ready_key])
                out[task[id_key]] = (created, ready)
        page += 1
