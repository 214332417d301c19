"""The ingest engines against the emulator: reuse, concurrency, early yield, deadlines, URLs."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tl_integrations import (
    AsyncTwelveLabs,
    AsyncVideoIngest,
    AuthenticationError,
    BadRequestError,
    IngestFailure,
    IngestOptions,
    TaskFailedError,
    TaskTimeoutError,
    TwelveLabs,
    VideoIngest,
)
from tl_integrations._ingest import HASH_KEY, sha256_file
from tl_integrations.emulator import Emulator, EmulatorConfig, Faults, ManualClock

from .conftest import CountingTransport, Media, sync_client


def distinct_clips(media: Media, folder: Path, count: int, stem: str = "clip") -> list[Path]:
    """``count`` playable clips with different bytes (silent.mp4 plus a distinct tail).

    An asset is found again by its name and bytes on the shared emulator: a test that needs
    real uploads where another test made the same clips picks a ``stem`` of its own.
    """
    clips = []
    for i in range(count):
        path = folder / f"{stem}{i}.mp4"
        path.write_bytes(media.silent.read_bytes() + bytes(i + 1))
        clips.append(path)
    return clips


def test_a_killed_run_is_resumed_by_waiting_on_its_task(
    client: TwelveLabs, media: Media, index_name: str, uploads: Callable[[], int]
) -> None:
    # What a run of the older path killed while waiting leaves: a running task with the hash.
    index = client.indexes.get_or_create(index_name)
    digest = sha256_file(media.garden)
    task = client.tasks.create(
        index_id=index.id, file=media.garden, user_metadata={HASH_KEY: digest}
    )
    assert uploads() == 1
    options = IngestOptions(index_name=index_name, content=("transcript",), upload="tasks")
    records = list(VideoIngest(client, options).run([media.garden]))
    assert uploads() == 1  # nothing sent again
    assert [(r.video.task_id, r.video.video_id) for r in records] == [(task.id, task.video_id)]


def test_a_killed_run_through_assets_is_resumed_by_waiting_on_its_indexed_asset(
    client: TwelveLabs, media: Media, index_name: str, sent: Callable[[str], int]
) -> None:
    # What a run killed while waiting leaves: an asset, and its indexed asset (with the hash)
    # still indexing.
    index = client.indexes.get_or_create(index_name)
    asset = client.assets.upload(media.garden)
    indexed = client.indexes.indexed_assets.create(
        index.id, asset, user_metadata={HASH_KEY: sha256_file(media.garden)}
    )
    assert not indexed.done
    before = (sent("POST /v1.3/assets"), sent("index"))
    options = IngestOptions(index_name=index_name, content=("transcript",))
    (record,) = VideoIngest(client, options).run([media.garden])
    assert (sent("POST /v1.3/assets"), sent("index")) == before  # nothing sent again
    assert (record.video.video_id, record.video.asset_id) == (indexed.id, asset.id)
    assert record.pieces[0].text.startswith("tomatoes need full sun")


def test_a_running_task_of_another_file_with_the_same_name_is_not_taken(
    client: TwelveLabs, media: Media, index_name: str, tmp_path: Path, sent: Callable[[str], int]
) -> None:
    index = client.indexes.get_or_create(index_name)
    namesake = tmp_path / media.garden.name
    namesake.write_bytes(media.silent.read_bytes())
    other = client.tasks.create(index_id=index.id, file=namesake, user_metadata={HASH_KEY: "x"})
    options = IngestOptions(index_name=index_name, content=("transcript",))
    (record,) = VideoIngest(client, options).run([media.garden])
    assert sent("index") == 2  # the namesake's task, and garden indexed on its own
    assert record.video.video_id != other.video_id
    assert record.pieces[0].text.startswith("tomatoes need full sun")


def test_equal_files_are_uploaded_once_and_both_answered(
    client: TwelveLabs, media: Media, index_name: str, sent: Callable[[str], int]
) -> None:
    options = IngestOptions(index_name=index_name, content=("transcript",), max_concurrency=1)
    records = list(VideoIngest(client, options).run([media.talk, media.talk_copy]))
    # Once (none when an earlier test left the asset on the account), indexed once.
    assert (sent("POST /v1.3/assets") <= 1, sent("index")) == (True, 1)
    expected = sorted(map(str, [media.talk, media.talk_copy]))
    assert sorted(r.video.source for r in records) == expected
    assert len({r.video.video_id for r in records}) == 1


def test_each_file_is_read_once_to_hash_it_from_look_up_to_upload(
    client: TwelveLabs,
    media: Media,
    index_name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tl_integrations._ingest.engine as engine
    import tl_integrations._resources.assets as assets

    hashed: list[str] = []

    def counted(path: Path, **kwargs: int) -> str:
        hashed.append(path.name)
        return sha256_file(path, **kwargs)

    monkeypatch.setattr(engine, "sha256_file", counted)
    monkeypatch.setattr(assets, "sha256_file", counted)
    videos = distinct_clips(media, tmp_path, 2, stem="hashed")  # new bytes: real uploads
    options = IngestOptions(index_name=index_name, content=("transcript",))
    records = list(VideoIngest(client, options).run(videos))
    assert all(record.video.asset_id for record in records)
    assert sorted(hashed) == ["hashed0.mp4", "hashed1.mp4"]


def test_uploads_run_side_by_side_but_never_more_than_max_concurrency(
    emulator: Emulator, media: Media, index_name: str, tmp_path: Path
) -> None:
    videos = distinct_clips(media, tmp_path, 4)  # distinct bytes, so four real uploads
    transport = CountingTransport(meet=2)
    with httpx.Client(transport=transport) as http, sync_client(emulator, http_client=http) as c:
        options = IngestOptions(index_name=index_name, content=("transcript",), max_concurrency=2)
        records = list(VideoIngest(c, options).run(videos))
    assert len(records) == 4
    assert transport.started == 4
    assert transport.peak == 2


class LookupsBesideUpload(CountingTransport):
    """Holds the first upload (``POST /assets``) until ``others`` look-ups of other inputs
    (``GET .../indexed-assets`` by hash) have gone out, before or during it, or 10 s have
    passed; ``released_by_lookups`` says which. Counts uploads in flight as its base does."""

    def __init__(self, *, others: int) -> None:
        super().__init__(meet=1)
        self.others = others
        self.lookups = 0
        self.seen = threading.Event()
        self.released_by_lookups: bool | None = None
        self._held_one = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        first = False
        with self._lock:
            if request.method == "POST" and path.endswith("/assets"):
                first, self._held_one = not self._held_one, True
            elif path.endswith("/indexed-assets") and HASH_KEY in request.url.params:
                self.lookups += 1
                if self.lookups > self.others:  # the held input's own, and the others'
                    self.seen.set()
        if first:
            self.released_by_lookups = self.seen.wait(timeout=10)
        return super().handle_request(request)


def test_look_ups_of_other_inputs_go_out_while_the_only_upload_slot_is_held(
    emulator: Emulator, media: Media, index_name: str, tmp_path: Path
) -> None:
    # max_concurrency=1: one hash and one upload at a time, each with a slot of its own; the
    # hashes and round trips of other inputs (here their look-ups) do not queue behind an
    # upload in flight (with one slot for both, they did whenever the first input got back
    # to the line before the others had hashed).
    videos = distinct_clips(media, tmp_path, 3, stem="light")  # not uploaded by other tests
    transport = LookupsBesideUpload(others=2)
    with httpx.Client(transport=transport) as http, sync_client(emulator, http_client=http) as c:
        options = IngestOptions(index_name=index_name, content=("transcript",), max_concurrency=1)
        records = list(VideoIngest(c, options).run(videos))
    assert transport.released_by_lookups is True  # not by the 10 s bound
    assert transport.peak == 1
    assert sorted(r.video.filename for r in records) == [v.name for v in videos]


def test_a_killed_run_of_the_older_path_is_resumed_through_assets_without_a_new_upload(
    client: TwelveLabs, media: Media, index_name: str, sent: Callable[[str], int]
) -> None:
    # A /tasks upload still indexing is an indexed asset with the hash: one look-up finds it.
    index = client.indexes.get_or_create(index_name)
    task = client.tasks.create(
        index_id=index.id, file=media.garden, user_metadata={HASH_KEY: sha256_file(media.garden)}
    )
    assert not task.done
    before = (sent("POST /v1.3/assets"), sent("index"))
    options = IngestOptions(index_name=index_name, content=("transcript",))
    (record,) = VideoIngest(client, options).run([media.garden])
    assert (sent("POST /v1.3/assets"), sent("index")) == before
    assert record.video.video_id == task.video_id


def test_records_come_as_videos_become_ready_not_after_the_slowest(
    client: TwelveLabs, media: Media, index_name: str
) -> None:
    # Indexing takes 1 s + 1 s per video second: talk (20 s) long after silent (8 s). One
    # upload at a time, silent first: the order of creation never depends on thread timing.
    options = IngestOptions(index_name=index_name, content=("transcript",), max_concurrency=1)
    run = VideoIngest(client, options).run([media.silent, media.talk])
    first = next(run)
    assert first.video.filename == "silent.mp4"
    index_id = first.video.index_id
    assert not any(t.ready for t in client.tasks.list(index_id=index_id, filename="talk.mp4"))
    rest = list(run)
    assert [r.video.filename for r in rest] == ["talk.mp4"]


def test_tasks_still_running_at_the_deadline_fail_with_a_timeout(
    client: TwelveLabs, media: Media, index_name: str
) -> None:
    # silent is ready 11 s after its upload, talk 23 s after its own; the deadline is 12 s.
    options = IngestOptions(
        index_name=index_name,
        content=("transcript",),
        timeout_s=12.0,
        on_error="skip",
        max_concurrency=1,
    )
    failures: list[IngestFailure] = []
    records = list(VideoIngest(client, options).run([media.silent, media.talk], failures=failures))
    assert [r.video.filename for r in records] == ["silent.mp4"]
    (failure,) = failures
    assert failure.source == str(media.talk)
    assert isinstance(failure.exception, TaskTimeoutError)
    assert "call wait() again" in failure.reason


def test_a_rejected_key_stops_the_run_at_once(
    emulator_for: Callable[..., Emulator], media: Media
) -> None:
    strict = emulator_for(api_key="the-only-key")
    with TwelveLabs(api_key="wrong", base_url=strict.base_url) as c:
        run = VideoIngest(c, IngestOptions(index_id="0" * 24)).run([media.silent])
        with pytest.raises(AuthenticationError):
            next(run)


@pytest.fixture
def media_server(media: Media) -> Iterator[str]:
    """Serves the media directory over loopback http (the emulator fetches from there)."""
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(media.talk.parent)
    )
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_urls_are_indexed_once_and_found_again_by_their_hash(
    client: TwelveLabs, media_server: str, index_name: str, sent: Callable[[str], int]
) -> None:
    url = f"{media_server}/garden.mp4?token=secret-signature"
    options = IngestOptions(index_name=index_name, content=("transcript",))
    (first,) = VideoIngest(client, options).run(url)
    (second,) = VideoIngest(client, options).run(url)
    assert (sent("POST /v1.3/assets"), sent("index")) == (1, 1)
    assert first.video.source == url
    assert second.video.video_id == first.video.video_id
    assert first.pieces[0].text.startswith("tomatoes need full sun")


async def test_async_engine_resumes_and_reuses_like_the_sync_one(
    aclient: AsyncTwelveLabs, media: Media, index_name: str, uploads: Callable[[], int]
) -> None:
    index = await aclient.indexes.get_or_create(index_name)
    digest = sha256_file(media.garden)
    task = await aclient.tasks.create(
        index_id=index.id, file=media.garden, user_metadata={HASH_KEY: digest}
    )
    options = IngestOptions(
        index_name=index_name, content=("transcript",), max_concurrency=1, upload="tasks"
    )
    videos = [media.garden, media.talk, media.talk_copy]
    first = [r async for r in AsyncVideoIngest(aclient, options).run(videos)]
    second = [r async for r in AsyncVideoIngest(aclient, options).run(videos)]
    assert uploads() == 2  # the garden task by hand, talk once for both copies
    assert {r.video.task_id for r in first if r.video.filename == "garden.mp4"} == {task.id}
    assert sorted(r.video.video_id for r in second) == sorted(r.video.video_id for r in first)


def test_a_video_refused_on_upload_is_a_failure_of_that_input_only(
    emulator_for: Callable[..., Emulator], media: Media, index_name: str
) -> None:
    # The emulator's default checks media on create: a 2 s video is a 400, not a task.
    strict = emulator_for(EmulatorConfig(clock=ManualClock()))
    with sync_client(strict) as c:
        failures: list[IngestFailure] = []
        options = IngestOptions(index_name=index_name, content=("transcript",), on_error="skip")
        records = list(VideoIngest(c, options).run([media.short, media.garden], failures=failures))
    assert [r.video.filename for r in records] == ["garden.mp4"]
    (failure,) = failures
    assert isinstance(failure.exception, BadRequestError)
    assert failure.exception.code == "video_duration_too_short"


def test_under_faults_every_input_ends_exactly_once_and_nothing_is_uploaded_twice(
    emulator_for: Callable[..., Emulator], media: Media, index_name: str, tmp_path: Path
) -> None:
    videos = distinct_clips(media, tmp_path, 8)
    config = EmulatorConfig(clock=ManualClock(), seed=3, faults=Faults.parse(FAULTS))
    flaky = emulator_for(config)
    with sync_client(flaky) as c:
        failures: list[IngestFailure] = []
        options = IngestOptions(index_name=index_name, content=("transcript",), on_error="skip")
        records = list(VideoIngest(c, options).run(videos, failures=failures))
        assert flaky.stats()["uploads"] == len(videos)
    ended = [r.video.source for r in records] + [f.source for f in failures]
    assert sorted(ended) == sorted(map(str, videos))
    assert failures  # the seed makes some tasks fail...
    assert all(isinstance(f.exception, TaskFailedError) for f in failures)
    assert records  # ...and others succeed


FAULTS = "500=0.1,503=0.1,429=0.05,fail=0.3"
