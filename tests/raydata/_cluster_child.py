"""A driver of its own, for the cluster tests: connects to a running Ray cluster and runs
one ``ingest_videos``; prints a JSON summary as its last line.

Usage: ``python _cluster_child.py '<json settings>'`` (see ``main``).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import ray

from tl_integrations import PollPolicy
from tl_integrations.ray import ClusterIndex, ingest_videos

FAST_POLL = PollPolicy(
    initial_interval_s=0.05,
    max_interval_s=0.2,
    min_batch_interval_s=0.05,
    max_batch_interval_s=0.2,
    min_request_gap_s=0.01,
    jitter=0.0,
)


def wait_for_nodes(count: int, deadline_s: float = 60.0) -> list[str]:
    end = time.monotonic() + deadline_s
    while True:
        alive = [node["NodeID"] for node in ray.nodes() if node["Alive"]]
        if len(alive) >= count or time.monotonic() > end:
            return alive
        time.sleep(0.2)


def main(settings: dict[str, Any]) -> None:
    ray.init(address=settings["address"], runtime_env={"env_vars": settings["env"]})
    ray.data.DataContext.get_current().enable_progress_bars = False
    nodes = wait_for_nodes(settings["nodes"])
    index = ClusterIndex.open(
        index_name=settings["index_name"],
        api_key=settings["api_key"],
        base_url=settings["base_url"],
        poll_policy=FAST_POLL,
    )
    print(json.dumps({"started": index.index_id}), flush=True)
    ds = ray.data.from_items([{"source": source} for source in settings["sources"]])
    result = ingest_videos(
        ds,
        index=index,
        output=settings["output"],
        path=settings.get("path"),
        content=("transcript",),
        workers=settings["workers"],
        batch_size=settings["batch_size"],
        max_concurrency=settings["max_concurrency"],
        num_cpus=settings["num_cpus"],
        on_error="skip",
        upload=settings.get("upload", "assets"),
    )
    summary = index.summary()
    budget = index.budget.stats() if index.budget is not None else {}
    print(
        json.dumps(
            {
                "nodes": nodes,
                "counts": result.counts,
                "desk_members": sorted(summary["members"]),
                "budget_members": sorted(budget.get("members", {})),
                "throttled": {k: v["throttled"] for k, v in budget["categories"].items()},
                "queued_s": {k: v["queued_s"] for k, v in budget["categories"].items()},
                "wait_requests": summary["wait_requests"],
                "waited": summary["waited"],
                "rounds": summary["rounds"],
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
