"""Lost answers are recovered for every kind of input, and every input keeps its own outcome.

A create whose answer is lost (the emulator's ``lost`` fault: the create is handled, then
the connection closes unanswered) is looked for before it is sent again: for local files,
for URLs, and for files whose names httpx would escape in a multipart header. And in a run
where files from different folders share a name, no input ever takes another's task, video
or failure.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit import FakeClock, start_emulator
from tl_integrations import IngestFailure, IngestOptions, TaskFailedError, VideoIngest
from tl_integrations.emulator import Emulator, EmulatorConfig, Faults, ManualClock

from .conftest import Media, line_of, records_of, report, sync_client

pytestmark = pytest.mark.slow


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> Emulator:
    return start_emulator(request, EmulatorConfig(clock=ManualClock(), seed=17))


@pytest.fixture
def vt(emu: Emulator) -> FakeClock:
    assert emu.clock is not None
    return FakeClock(server=emu.clock)


@pytest.fixture(scope="module")
def media_server(media: Media) -> Iterator[tuple[str, Counter[str]]]:
    """The session's videos over http on this machine; counts downloads by path."""
    downloads: Counter[str] = Counter()

    class Serve(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            downloads[self.path.split("?", 1)[0]] += 1
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Serve, directory=str(media.videos[0].parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", downloads
    server.shutdown()
    server.server_close()


# -- URLs get the same lost-answer recovery as files ------------------------------------


def test_a_url_task_whose_answer_is_lost_is_made_once(
    emu: Emulator, vt: FakeClock, media_server: tuple[str, Counter[str]]
) -> None:
    base, downloads = media_server
    url = f"{base}/clip-03.mp4?token=abc"
    emu.fail_next("POST", "/tasks", "lost")
    with sync_client(emu, vt) as client:
        index = client.indexes.create("url-task")
        task = client.tasks.create(index_id=index.id, video_url=url)
    assert emu.stats()["faults"]["lost"] == 1
    assert len(records_of(emu).tasks) == 1
    assert task.id in records_of(emu).tasks
    assert downloads["/clip-03.mp4"] == 1


def test_a_url_asset_whose_answer_is_lost_is_made_once(
    emu: Emulator, vt: FakeClock, media_server: tuple[str, Counter[str]]
) -> None:
    base, downloads = media_server
    url = f"{base}/clip-04.mp4?token=abc"
    emu.fail_next("POST", "/assets", "lost")
    with sync_client(emu, vt) as client:
        asset = client.assets.create(url=url)
    assert emu.stats()["faults"]["lost"] == 1
    assert list(records_of(emu).assets) == [asset.id]
    assert downloads["/clip-04.mp4"] == 1


@pytest.mark.parametrize("upload", ["assets", "tasks"])
def test_url_inputs_under_the_lost_fault_are_stored_once(
    upload: str, emu: Emulator, vt: FakeClock, media_server: tuple[str, Counter[str]]
) -> None:
    """Every request may be handled and its answer dropped, the look-ups included."""
    base, downloads = media_server
    before = Counter(downloads)
    numbers = range(5, 11)
    urls = [f"{base}/clip-{n:02d}.mp4?sig=s{n}" for n in numbers]
    emu.set_faults(Faults(lost=0.2), seed=3)
    failures: list[IngestFailure] = []
    options = IngestOptions(index_name=f"urls-{upload}", content=("transcript",), upload=upload)  # type: ignore[arg-type]
    with sync_client(emu, vt, max_retries=8) as client:
        records = list(VideoIngest(client, options).run(urls, failures=failures))
    emu.set_faults(Faults())
    assert failures == []
    assert sorted(r.video.source for r in records) == sorted(urls)
    for record in records:
        number = int(record.video.source.rsplit("clip-", 1)[1][:2])
        assert [piece.text for piece in record.pieces] == [line_of(number)]
    assert emu.stats()["faults"].get("lost", 0) >= 2
    # Stored once: one fetch of each URL, one video per URL.
    assert len(records_of(emu).videos) == len(urls)
    assert len(records_of(emu).assets) == len(urls)
    fetched = [downloads[f"/clip-{n:02d}.mp4"] - before[f"/clip-{n:02d}.mp4"] for n in numbers]
    assert fetched == [1] * len(urls)


@pytest.mark.parametrize("upload", ["assets", "tasks"])
def test_url_inputs_whose_every_create_answer_is_lost_are_stored_once(
    upload: str, emu: Emulator, vt: FakeClock, media_server: tuple[str, Counter[str]]
) -> None:
    """Each create is handled and its answer lost: found again, never sent twice."""
    base, downloads = media_server
    before = Counter(downloads)
    numbers = range(11, 15)
    urls = [f"{base}/clip-{n:02d}.mp4?sig=s{n}" for n in numbers]
    for create in ("/tasks", "/assets", "/indexes/*/indexed-assets"):
        emu.fail_next("POST", create, "lost", times=len(urls) + 1)
    options = IngestOptions(index_name=f"lost-{upload}", content=("transcript",), upload=upload)  # type: ignore[arg-type]
    with sync_client(emu, vt) as client:
        records = list(VideoIngest(client, options).run(urls))
    assert sorted(r.video.source for r in records) == sorted(urls)
    creates = len(urls) * (2 if upload == "assets" else 1)  # an asset, then its indexing
    assert emu.stats()["faults"]["lost"] == creates, "a create was sent again"
    assert len(records_of(emu).videos) == len(urls)
    fetched = [downloads[f"/clip-{n:02d}.mp4"] - before[f"/clip-{n:02d}.mp4"] for n in numbers]
    assert fetched == [1] * len(urls)


# -- names httpx would escape are matched on what the server keeps -----------------------

ODD_NAMES = ['a"quoted" name.mp4', "tab\there.mp4", "back\\slash.mp4", "C:\\videos\\talk.mp4"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_an_odd_file_name_is_found_after_a_lost_answer(
    name: str, emu: Emulator, vt: FakeClock, media: Media, tmp_path: Path
) -> None:
    path = tmp_path / name
    shutil.copyfile(media.videos[6], path)
    emu.fail_next("POST", "/tasks", "lost")
    emu.fail_next("POST", "/assets", "lost")
    with sync_client(emu, vt) as client:
        index = client.indexes.create("odd-names")
        task = client.tasks.create(index_id=index.id, file=path)
        asset = client.assets.upload(path)
    assert emu.stats()["faults"]["lost"] == 2
    assert emu.stats()["uploads"] == 2, "a file was uploaded again after its answer was lost"
    assert task.id in records_of(emu).tasks
    assert asset.ready


# -- same-named files from different folders ---------------------------------------------

PAIRS = 6


def _same_named(media: Media, root: Path) -> dict[str, int]:
    """``a/clip-k.mp4`` and ``b/clip-k.mp4`` hold different videos: input -> video number."""
    inputs: dict[str, int] = {}
    for folder, offset in (("a", 0), ("b", PAIRS)):
        (root / folder).mkdir()
        for k in range(PAIRS):
            path = root / folder / f"clip-{k}.mp4"
            shutil.copyfile(media.videos[k + offset], path)
            inputs[str(path)] = k + offset
    return inputs


def _content_of_job(emu: Emulator, job_id: str) -> str | None:
    """The tl_sha256 of the video a failed task or indexed asset was made for."""
    records = records_of(emu)
    task = records.tasks.get(job_id)
    video = records.videos.get(task.video_id if task is not None else job_id)
    return None if video is None else video.user_metadata.get("tl_sha256")


@pytest.mark.parametrize("upload", ["assets", "tasks"])
def test_same_named_files_each_get_their_own_outcome(
    upload: str, emu: Emulator, vt: FakeClock, media: Media, tmp_path: Path
) -> None:
    inputs = _same_named(media, tmp_path)
    digests = {s: hashlib.sha256(Path(s).read_bytes()).hexdigest() for s in inputs}
    emu.set_faults(Faults(lost=0.05, fail=0.25), seed=5)
    failures: list[IngestFailure] = []
    options = IngestOptions(
        index_name=f"same-names-{upload}",
        content=("transcript",),
        upload=upload,  # type: ignore[arg-type]
        on_error="skip",
        max_concurrency=6,
    )
    with sync_client(emu, vt, max_retries=8) as client:
        records = list(VideoIngest(client, options).run(list(inputs), failures=failures))
    emu.set_faults(Faults())
    outcomes = Counter([r.video.source for r in records] + [f.source for f in failures])
    assert outcomes == Counter(list(inputs)), "an input got no outcome, or two"
    for record in records:
        assert [p.text for p in record.pieces] == [line_of(inputs[record.video.source])]
    for failure in failures:
        assert isinstance(failure.exception, TaskFailedError), failure.exception
        content = _content_of_job(emu, failure.exception.task_id)
        assert content == digests[failure.source], (
            f"{failure.source} was reported failed with the job of another input"
        )
    assert failures, "the seed should fail some inputs"
    stored = Counter(v.user_metadata.get("tl_sha256") for v in records_of(emu).videos.values())
    assert set(stored) == set(digests.values())
    assert set(stored.values()) == {1}, "a file was indexed twice"
    report(f"same names ({upload})", inputs=len(inputs), failed=len(failures))


class _SlowFirstCreate(httpx.HTTPTransport):
    """The first ``POST /tasks`` reaches the server at once, but its answer comes only when
    a second one is sent; the second look-up of running tasks by name waits until the first
    task exists. So one input sees the other's task as a same-named candidate, waits on it,
    finds it is not its own and uploads, all before the task's own input hears of it."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.creates = self.lookups = 0
        self.created = threading.Event()
        self.second_create = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path, params = request.url.path, request.url.params
        if request.method == "GET" and path.endswith("/tasks") and "filename" in params:
            with self.lock:
                self.lookups += 1
                second_lookup = self.lookups == 2
            if second_lookup:
                assert self.created.wait(30), "the first create never reached the server"
        if request.method == "POST" and path.endswith("/v1.3/tasks"):
            with self.lock:
                self.creates += 1
                first = self.creates == 1
            if not first:
                self.second_create.set()
            else:
                response = super().handle_request(request)
                response.read()
                self.created.set()
                assert self.second_create.wait(30), "the other input never uploaded"
                return response
        return super().handle_request(request)


@pytest.mark.timeout(60)  # the old engine hung here for good
def test_a_task_whose_create_answers_after_another_input_settled_it_is_not_waited_on(
    emu: Emulator, vt: FakeClock, media: Media, tmp_path: Path
) -> None:
    """The shared wait yields each task once: the input whose slow create comes back after
    that must be settled from what was yielded, not join the wait and hang."""
    inputs = {}
    for folder, number in (("a", 0), ("b", 1)):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / "clip.mp4"
        shutil.copyfile(media.videos[number], path)
        inputs[str(path)] = number
    transport = _SlowFirstCreate()
    options = IngestOptions(index_name="slow-create", content=("transcript",), upload="tasks")
    with (
        httpx.Client(transport=transport) as http,
        sync_client(emu, vt, http_client=http) as client,
    ):
        records = list(VideoIngest(client, options).run(list(inputs)))
    assert transport.creates == 2
    assert sorted(r.video.source for r in records) == sorted(inputs)
    for record in records:
        assert [p.text for p in record.pieces] == [line_of(inputs[record.video.source])]
    stored = Counter(v.user_metadata.get("tl_sha256") for v in records_of(emu).videos.values())
    assert sorted(stored.values()) == [1, 1], "a file was indexed twice"
