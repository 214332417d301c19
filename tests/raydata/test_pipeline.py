"""Ray Data pipelines on a local Ray instance against the emulator, end to end.

Each test reads what the emulator counted (uploads, analyses, list requests) rather than
timing anything: nothing uploaded or analysed twice, every input accounted for, waiting
done with list requests.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import ray

from testkit import start_emulator
from tl_integrations import IngestError, Job, NotFoundError, TwelveLabs
from tl_integrations._transport import Request
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock
from tl_integrations.ray import ClusterIndex, SharedBudget, ingest_videos

from .conftest import FAST_POLL, LOOKUPS, UPLOADS, posts

pytestmark = [
    pytest.mark.usefixtures("local_ray"),
    # Ray Data's settings object warns about its own deprecated defaults, and warns when a
    # tiny dataset cannot keep every worker of a stage busy.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray"),
    pytest.mark.filterwarnings("ignore:The minimum number of concurrent actors:UserWarning"),
]


def dataset(sources: list[str]) -> object:
    return ray.data.from_items([{"source": source} for source in sources])


def connection(emu: Emulator) -> dict[str, object]:
    return {"api_key": emu.api_key, "base_url": emu.base_url, "poll_policy": FAST_POLL}


def test_every_input_is_accounted_for_and_each_content_uploaded_once(
    emulator: Emulator, videos: list[Path], index_name: str, tmp_path: Path, upload: str
) -> None:
    copy = tmp_path / "same-bytes.mp4"
    shutil.copyfile(videos[0], copy)
    missing = str(tmp_path / "missing.mp4")
    sources = [*map(str, videos[:3]), str(copy), missing]
    uploads = posts(emulator, UPLOADS[upload])
    with ClusterIndex.open(index_name=index_name, **connection(emulator)) as index:  # type: ignore[arg-type]
        with pytest.raises(IngestError) as raised:
            ingest_videos(
                dataset(sources),
                index=index,
                output="videos",
                workers=2,
                batch_size=2,
                upload=upload,  # type: ignore[arg-type]
            )
        summary = index.summary()
        budget = index.budget.stats() if index.budget is not None else {}
    # on_error="raise": raised once every other input was done, naming only the failed one.
    assert [failure.source for failure in raised.value.failures] == [missing]
    assert "no such file" in raised.value.failures[0].reason
    assert summary["counts"] == {"uploaded": 3, "indexed": 3, "skipped": 1, "failed": 1}
    assert posts(emulator, UPLOADS[upload]) - uploads == 3  # the copy was never sent
    # One wait for the whole run: a round lists the pending tasks (one page here) and the
    # newest finished ones, or reads the one task left; never a request per task.
    assert summary["waited"] == 3
    assert sum(summary["wait_requests"].values()) <= 2 * summary["rounds"]
    # The budget saw every process of the run, and the server never had to say no.
    assert len(budget["members"]) >= 3  # the driver, the workers, the desk
    assert all(c["throttled"] == 0 for c in budget["categories"].values())


def test_a_rerun_on_the_same_path_does_only_what_is_missing(
    emulator: Emulator, videos: list[Path], index_name: str, tmp_path: Path, upload: str
) -> None:
    out = str(tmp_path / "docs")
    options = {"index_name": index_name, "output": "documents", "path": out, "workers": 1}
    options["content"] = ("transcript", "summary")
    options["upload"] = upload
    first = ingest_videos(dataset(list(map(str, videos[:3]))), **options, **connection(emulator))  # type: ignore[arg-type]
    uploads, analyses = posts(emulator, UPLOADS[upload]), posts(emulator, "POST /v1.3/analyze")
    # The run is started again, with every input this time (as after a crash at 60%).
    second = ingest_videos(dataset(list(map(str, videos[:5]))), **options, **connection(emulator))  # type: ignore[arg-type]
    assert first.counts["indexed"] == 3
    assert second.counts["done_before"] == 3
    assert posts(emulator, UPLOADS[upload]) - uploads == 2
    assert posts(emulator, "POST /v1.3/analyze") - analyses == 2
    table = pq.read_table(out)
    rows = table.select(["source", "content_kind", "status", "text"]).to_pylist()
    assert {row["status"] for row in rows} == {"ok"}
    summaries = Counter(row["source"] for row in rows if row["content_kind"] == "summary")
    assert summaries == Counter({str(video): 1 for video in videos[:5]})
    transcripts = [row["text"] for row in rows if row["content_kind"] == "transcript"]
    assert transcripts
    assert all("bread" in text for text in transcripts)


@pytest.fixture
def frozen(request: pytest.FixtureRequest) -> Emulator:
    """An emulator whose tasks move only when its clock is moved."""
    return start_emulator(request, EmulatorConfig(clock=ManualClock(), seed=3))


class Pump:
    """Moves a manual clock in a thread, once ``start`` is called (tasks then progress)."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu
        self._go = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def start(self) -> None:
        self._go.set()

    def _run(self) -> None:
        self._go.wait()
        while not self._stop.wait(0.01):
            self._emu.advance(0.5)

    def close(self) -> None:
        self._go.set()
        self._stop.set()
        self._thread.join()


def left_indexing(
    client: TwelveLabs, emu: Emulator, index_id: str, video: Path, upload: str
) -> None:
    """What a run killed while waiting leaves behind: a video still indexing, with its hash."""
    metadata = {"tl_sha256": hashlib.sha256(video.read_bytes()).hexdigest()}
    if upload == "tasks":
        client.tasks.create(index_id=index_id, file=video, user_metadata=metadata)
        return
    asset = client.assets.create(video, user_metadata=metadata)
    emu.advance(60.0)  # the asset is ready; the indexing below stays pending
    client.indexes.indexed_assets.create(
        index_id, client.assets.retrieve(asset), user_metadata=metadata
    )


def test_jobs_left_running_by_a_killed_run_are_adopted_not_uploaded_again(
    frozen: Emulator, videos: list[Path], index_name: str, upload: str
) -> None:
    with TwelveLabs(api_key=frozen.api_key, base_url=frozen.base_url) as client:
        index_id = client.indexes.get_or_create(index_name).id
        for video in videos[:2]:
            left_indexing(client, frozen, index_id, video, upload)
    uploads = posts(frozen, UPLOADS[upload])
    listed = threading.Event()
    pump = Pump(frozen)

    def watch() -> None:  # the clock moves only once every input looked for running jobs
        while not listed.wait(0.01):
            if posts(frozen, LOOKUPS[upload]) >= 4:
                pump.start()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = ingest_videos(
            dataset(list(map(str, videos[:4]))),
            index_id=index_id,
            output="videos",
            workers=1,
            batch_size=4,
            upload=upload,  # type: ignore[arg-type]
            **connection(frozen),  # type: ignore[arg-type]
        )
    finally:
        listed.set()
        pump.close()
    assert posts(frozen, UPLOADS[upload]) - uploads == 2
    assert result.counts == {
        "uploaded": 2,
        "indexed": 4,
        "skipped": 0,
        "failed": 0,
        "done_before": 0,
    }
    with TwelveLabs(api_key=frozen.api_key, base_url=frozen.base_url) as client:
        ids = [video.id for video in client.videos.list(index_id)]
        hashes = {client.videos.retrieve(index_id, i).user_metadata["tl_sha256"] for i in ids}
    assert len(ids) == len(hashes) == 4


def test_segment_vectors_are_a_fixed_size_float32_column(
    emulator: Emulator, videos: list[Path], index_name: str, tmp_path: Path
) -> None:
    sources = [str(videos[0]), str(videos[1]), str(tmp_path / "missing.mp4")]
    result = ingest_videos(
        dataset(sources),
        index_name=index_name,
        output="segments",
        on_error="skip",
        workers=1,
        **connection(emulator),  # type: ignore[arg-type]
    )
    assert result.counts["failed"] == 1
    rows = result.dataset.take_all()
    ok = [row for row in rows if row["status"] == "ok"]
    assert {row["source"] for row in ok} == set(sources[:2])
    assert {row["option"] for row in ok} == {"visual", "audio"}
    vectors = np.stack([row["vector"] for row in rows])
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(rows), 512)
    assert np.isfinite(vectors[[row["status"] == "ok" for row in rows]]).all()
    [failed] = [row for row in rows if row["status"] == "failed"]
    assert np.isnan(failed["vector"]).all()
    assert len({row["id"] for row in ok}) == len(ok)
    out = str(tmp_path / "vectors")
    result.dataset.write_parquet(out)
    back = ray.data.read_parquet(out).take_all()
    assert np.stack([row["vector"] for row in back]).shape == (len(rows), 512)


def test_opening_a_missing_index_fails_before_any_actor_is_left_behind(
    emulator: Emulator,
) -> None:
    with pytest.raises(NotFoundError):
        ClusterIndex.open(index_id="6650a1b2c3d4e5f601234567", **connection(emulator))  # type: ignore[arg-type]


def test_a_429_reported_by_one_process_holds_back_every_other() -> None:
    budget = SharedBudget.start()

    @ray.remote(num_cpus=0)
    def throttled(shared: SharedBudget) -> None:
        shared.settle(Request("POST", "/tasks"), 429, {"Retry-After": "30"})

    @ray.remote(num_cpus=0)
    def wait_for(shared: SharedBudget, method: str) -> float:
        return shared.acquire(Request(method, "/tasks"))

    try:
        ray.get(throttled.remote(budget))
        elsewhere = ray.get(wait_for.remote(budget, "POST"))
        here = budget.acquire(Request("POST", "/tasks"))
        other_category = ray.get(wait_for.remote(budget, "GET"))
        stats = budget.stats()
    finally:
        budget.close()
    assert elsewhere > 25.0
    assert here > 25.0
    assert other_category == 0.0
    assert stats["categories"]["tasks"]["throttled"] == 1
    assert len(stats["members"]) >= 2  # this process, and the worker(s) of the tasks


def indexing_jobs(
    client: TwelveLabs, emu: Emulator, index_id: str, videos: list[Path], count: int, upload: str
) -> list[Job]:
    """``count`` indexing jobs of the index, pending until the emulator's clock moves."""
    if upload == "tasks":
        return [
            client.tasks.create(index_id=index_id, file=videos[i % len(videos)])
            for i in range(count)
        ]
    assets = [client.assets.create(video) for video in videos]
    emu.advance(60.0)  # the assets are ready; the indexed assets made below stay pending
    return [
        client.indexes.indexed_assets.create(index_id, assets[i % len(assets)])
        for i in range(count)
    ]


def test_the_shared_wait_costs_list_pages_not_a_request_per_job(
    frozen: Emulator, videos: list[Path], index_name: str, upload: str
) -> None:
    with ClusterIndex.open(index_name=index_name, **connection(frozen)) as index:  # type: ignore[arg-type]
        with index.client() as client:
            jobs = indexing_jobs(client, frozen, index.index_id, videos, 60, upload)
        # Two workers hand in their jobs; the clock stands still, so all 60 stay pending
        # while the desk polls them a few rounds; then it jumps and they all finish.
        halves = [index.desk.wait.remote(jobs[:30], "a"), index.desk.wait.remote(jobs[30:], "b")]
        for _ in range(600):  # a round every ~0.1 s: a few seconds at most
            if index.summary()["rounds"] >= 3:
                break
            ready, _ = ray.wait(halves, timeout=0.05, num_returns=2)
            assert not ready
        else:
            pytest.fail("the desk did not poll the pending jobs")
        frozen.advance(3600.0)
        finished = [job for half in ray.get(halves) for job in half]
        summary = index.summary()
    assert [job.id for job in finished] == [job.id for job in jobs]
    assert all(job.ready for job in finished)
    assert summary["waited"] == 60
    requests = summary["wait_requests"]
    listing = "GET /tasks" if upload == "tasks" else "GET /indexed-assets"
    assert set(requests) == {listing}  # not one read by id
    # While they are pending a round lists them (2 pages of 50); when they all finish at
    # once, the newest finished ones are read (2 pages), maybe twice if the jump falls in
    # the middle of a round: what a round costs does not grow with the jobs waited for.
    assert requests[listing] <= 2 * summary["rounds"] + 4
