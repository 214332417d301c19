"""The index desk hosts the webhook receiver: its shared wait ends jobs on events.

A local Ray instance, an emulator delivering signed webhooks to the desk's port, and the
requests the desk's wait makes counted: with events heard, a run's wait costs its first
list round and nothing more; with every event dropped, the slow safety-net polling still
finishes every job, once; duplicated events change nothing.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import ray

from tl_integrations import InvalidRequestError
from tl_integrations.emulator import Emulator, EmulatorConfig, Faults
from tl_integrations.ray import ClusterIndex, Webhooks, ingest_videos

from .conftest import FAST_POLL, UPLOADS, posts

pytestmark = [
    pytest.mark.usefixtures("local_ray"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray"),
    pytest.mark.filterwarnings("ignore:The minimum number of concurrent actors:UserWarning"),
]

SECRET = "whsec_ray_desk_test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def delivering(port: int, faults: Faults | None = None) -> Iterator[Emulator]:
    """An emulator that POSTs its signed events to the desk's port."""
    config = EmulatorConfig(
        speed=25.0,
        seed=5,
        webhook_url=f"http://127.0.0.1:{port}/",
        webhook_secret=SECRET,
        faults=faults or Faults(),
    )
    with Emulator(config) as emu:
        yield emu


def run(emu: Emulator, videos: list[Path], index_name: str, hooks: Webhooks) -> dict[str, object]:
    sources = [{"source": str(video)} for video in videos]
    with ClusterIndex.open(
        index_name=index_name,
        api_key=emu.api_key,
        base_url=emu.base_url,
        poll_policy=FAST_POLL,
        webhooks=hooks,
    ) as index:
        assert index.webhook_url == f"http://127.0.0.1:{hooks.port}/"
        result = ingest_videos(
            ray.data.from_items(sources), index=index, output="videos", workers=1, batch_size=6
        )
        summary = index.summary()
    rows = result.dataset.take_all()
    return {"result": result, "summary": summary, "rows": rows}


def test_with_webhooks_heard_the_shared_wait_costs_one_list_round(
    videos: list[Path], index_name: str
) -> None:
    port = free_port()
    with delivering(port) as emu:
        # The safety net is an hour away: only events can end these jobs after round one.
        made = run(
            emu, videos, index_name, Webhooks(port=port, secret=SECRET, fallback_poll_s=3600)
        )
        indexings = posts(emu, "POST /v1.3/indexes/{id}/indexed-assets")
    summary = made["summary"]
    assert isinstance(summary, dict)
    assert summary["counts"] == {"uploaded": 6, "indexed": 6, "skipped": 0, "failed": 0}
    assert indexings == 6
    assert summary["waited"] == 6
    # One round when the first jobs joined (a list of the pending ones, and maybe the newest
    # finished): every job after that ended on its event, with no request.
    assert summary["rounds"] == 1
    assert sum(summary["wait_requests"].values()) <= 2
    assert summary["webhooks"]["events"] >= 6
    assert summary["webhooks"]["rejected"] == 0


@pytest.mark.parametrize(
    "faults",
    [
        Faults(webhook_drop=1.0),
        pytest.param(Faults(webhook_duplicate=1.0), marks=pytest.mark.ray_heavy),
    ],
    ids=["every-event-dropped", "every-event-duplicated"],
)
def test_lost_or_repeated_events_still_end_every_job_once(
    videos: list[Path], index_name: str, faults: Faults
) -> None:
    port = free_port()
    with delivering(port, faults) as emu:
        made = run(
            emu, videos[:3], index_name, Webhooks(port=port, secret=SECRET, fallback_poll_s=0.2)
        )
        uploads = posts(emu, UPLOADS["assets"])
    summary, rows = made["summary"], made["rows"]
    assert isinstance(summary, dict)
    assert isinstance(rows, list)
    assert summary["counts"] == {"uploaded": 3, "indexed": 3, "skipped": 0, "failed": 0}
    assert uploads == 3
    assert sorted(row["source"] for row in rows) == sorted(map(str, videos[:3]))
    assert len({row["video_id"] for row in rows}) == 3
    assert summary["waited"] == 3
    if faults.webhook_drop:
        assert summary["webhooks"]["events"] == 0
        assert summary["rounds"] >= 2  # the safety net found them
    else:
        assert summary["webhooks"]["rejected"] == 0


def test_bad_webhook_settings_are_refused_before_any_actor_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TWELVELABS_WEBHOOK_SECRET", raising=False)
    with pytest.raises(InvalidRequestError, match="TWELVELABS_WEBHOOK_SECRET"):
        ClusterIndex.open(index_id="i1", webhooks=Webhooks(port=free_port()))
    with pytest.raises(InvalidRequestError, match="fallback_poll_s"):
        Webhooks(fallback_poll_s=0)
    with pytest.raises(InvalidRequestError, match="webhooks must be"):
        ClusterIndex.open(index_id="i1", webhooks={"port": 8000})  # type: ignore[arg-type]
    assert "whsec" not in repr(Webhooks(secret="whsec_hidden"))


@pytest.mark.ray_heavy  # a desk that dies as it starts: Ray takes seconds to say so
def test_a_busy_port_fails_open_naming_the_fix(index_name: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            Emulator(EmulatorConfig(speed=25.0)) as emu,
            pytest.raises(OSError, match="choose a free port"),
        ):
            ClusterIndex.open(
                index_name=index_name,
                api_key=emu.api_key,
                base_url=emu.base_url,
                webhooks=Webhooks(port=port, secret=SECRET),
            )
