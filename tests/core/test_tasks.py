"""client.tasks: create (validated, streamed, never twice), wait, wait_many, list."""

from __future__ import annotations

import itertools
import pathlib

import httpx
import orjson
import pytest

from tl_integrations import (
    AuthenticationError,
    InvalidRequestError,
    InvalidVideoError,
    ServerError,
    Task,
    TaskFailedError,
    TaskTimeoutError,
)

from .conftest import Twin
from .fakeapi import AfterHandling, parse_form


@pytest.fixture
def video(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "talk.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"x" * 300_000)
    return path


def test_create_uploads_multipart_and_returns_a_task(twin: Twin, video: pathlib.Path) -> None:
    index_id = twin.api.add_index()
    task = twin.run(
        twin.client.tasks.create(
            index_id=index_id, file=video, user_metadata={"lang": "en"}, enable_video_stream=False
        )
    )
    assert isinstance(task, Task)
    assert task.id in twin.api.tasks
    assert task.index_id == index_id
    assert task.video_id == twin.api.tasks[task.id].video_id
    assert task.system_metadata.filename == "talk.mp4"
    assert twin.api.uploads == [video.stat().st_size]
    fields, files = parse_form(twin.api.requests[-1])
    assert fields["enable_video_stream"] == ["false"]
    metadata = orjson.loads(fields["user_metadata"][0])
    assert metadata["lang"] == "en"
    assert len(metadata["tl_upload_token"]) == 32
    assert files["video_file"][0] == "talk.mp4"


def test_create_from_url_and_open_file(twin: Twin, video: pathlib.Path) -> None:
    index_id = twin.api.add_index()
    twin.run(twin.client.tasks.create(index_id=index_id, video_url="https://x.test/a.mp4"))
    fields, files = parse_form(twin.api.requests[-1])
    assert fields["video_url"] == ["https://x.test/a.mp4"]
    assert not files
    with video.open("rb") as handle:
        twin.run(twin.client.tasks.create(index_id=index_id, file=handle))
    assert twin.api.uploads[-1] == video.stat().st_size


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda d: d / "missing.mp4", "not found"),
        (lambda d: d, "is a directory"),
        (lambda d: (d / "empty.mp4").touch() or d / "empty.mp4", "is empty"),
    ],
)
def test_paths_are_checked_before_any_request(
    twin: Twin, tmp_path: pathlib.Path, make: object, match: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(InvalidVideoError, match=match) as info:
        twin.run(twin.client.tasks.create(index_id="i1", file=path))
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    assert twin.api.requests == []


def test_file_xor_url(twin: Twin, video: pathlib.Path) -> None:
    with pytest.raises(InvalidRequestError, match="exactly one"):
        twin.run(twin.client.tasks.create(index_id="i1"))
    with pytest.raises(InvalidRequestError, match="exactly one"):
        twin.run(twin.client.tasks.create(index_id="i1", file=video, video_url="https://x"))
    assert twin.api.requests == []


def test_a_create_that_times_out_after_being_stored_is_not_uploaded_twice(
    twin: Twin, video: pathlib.Path
) -> None:
    index_id = twin.api.add_index()
    twin.api.fail("POST", "/tasks", AfterHandling(httpx.ReadTimeout("no answer")))
    task = twin.run(twin.client.tasks.create(index_id=index_id, file=video))
    assert len(twin.api.uploads) == 1
    assert len(twin.api.tasks) == 1
    assert task.id == next(iter(twin.api.tasks))
    assert twin.api.count("POST", "/tasks") == 1


def test_a_create_lost_before_storage_is_sent_again_from_byte_zero(
    twin: Twin, video: pathlib.Path
) -> None:
    index_id = twin.api.add_index()
    twin.api.fail("POST", "/tasks", httpx.Response(502), httpx.ReadError("reset"))
    task = twin.run(twin.client.tasks.create(index_id=index_id, file=video))
    assert twin.api.count("POST", "/tasks") == 3
    assert twin.api.uploads == [video.stat().st_size]  # only the third reached storage
    assert task.id in twin.api.tasks


def test_a_stored_502_reuses_the_task(twin: Twin, video: pathlib.Path) -> None:
    index_id = twin.api.add_index()
    twin.api.fail("POST", "/tasks", AfterHandling(httpx.Response(502)))
    task = twin.run(twin.client.tasks.create(index_id=index_id, file=video))
    assert len(twin.api.uploads) == 1
    assert task.id in twin.api.tasks
    twin.api.fail("POST", "/tasks", AfterHandling(httpx.RemoteProtocolError("dropped")))
    twin.run(twin.client.tasks.create(index_id=index_id, file=video))
    assert len(twin.api.uploads) == 2  # two creates, each stored once


def test_create_gives_up_after_the_budget(twin: Twin, video: pathlib.Path) -> None:
    index_id = twin.api.add_index()
    twin.api.fail("POST", "/tasks", *[httpx.Response(503)] * 5)
    with pytest.raises(ServerError):
        twin.run(twin.client.tasks.create(index_id=index_id, file=video))
    assert twin.api.uploads == []


def test_wait_returns_the_ready_task(twin: Twin) -> None:
    fake = twin.api.add_task(twin.api.add_index(), ready_after_s=20.0)
    updates: list[str] = []
    task = twin.run(twin.client.tasks.wait(fake.id, on_update=lambda t: updates.append(t.status)))
    assert task.status == "ready"
    assert task.hls is not None
    assert task.raw["future_field"] == {"kept": True}
    assert updates[0] == "validating"
    assert updates[-1] == "ready"
    assert len(updates) >= 3
    assert all(a != b for a, b in itertools.pairwise(updates))  # changes only
    assert twin.api.clock.now >= 20.0


def test_wait_raises_task_failed_with_every_detail(twin: Twin) -> None:
    index_id = twin.api.add_index()
    fake = twin.api.add_task(
        index_id, final="failed", filename="broken.mp4", reason="video_file_broken"
    )
    with pytest.raises(TaskFailedError) as info:
        twin.run(twin.client.tasks.wait(fake.id))
    err = info.value
    assert (err.task_id, err.video_id, err.index_id) == (fake.id, fake.video_id, index_id)
    assert err.filename == "broken.mp4"
    assert err.reason == "video_file_broken"
    assert isinstance(err.task, Task)


def test_wait_times_out_at_the_deadline(twin: Twin) -> None:
    fake = twin.api.add_task(twin.api.add_index(), ready_after_s=1000.0)
    with pytest.raises(TaskTimeoutError) as info:
        twin.run(twin.client.tasks.wait(fake.id, timeout_s=60.0))
    assert info.value.task_ids == [fake.id]
    assert info.value.last_status == "validating"
    assert twin.api.clock.now == pytest.approx(60.0)


def test_401_during_polling_raises_at_once(twin: Twin) -> None:
    fake = twin.api.add_task(twin.api.add_index(), ready_after_s=100.0)
    twin.api.clock.sleep(3.0)
    twin.api.api_key = "rotated"  # the key is revoked while we poll
    before = len(twin.api.clock.sleeps)
    with pytest.raises(AuthenticationError):
        twin.run(twin.client.tasks.wait(fake.id))
    assert len(twin.api.clock.sleeps) == before
    assert twin.api.count("GET") == 1


def test_create_and_wait(twin: Twin, video: pathlib.Path) -> None:
    index_id = twin.api.add_index()
    task = twin.run(twin.client.tasks.create_and_wait(index_id=index_id, file=video))
    assert task.status == "ready"


def test_list_follows_total_page(twin: Twin) -> None:
    index_id = twin.api.add_index()
    for _ in range(7):
        twin.api.add_task(index_id)
    tasks = twin.collect(twin.client.tasks.list(index_id=index_id, page_limit=3))
    assert len(tasks) == 7
    assert twin.api.count("GET", "/tasks") == 3  # never asks for page 4


def test_list_stops_on_an_empty_page(twin: Twin) -> None:
    page = {"data": [{"_id": "t1", "status": "ready"}], "page_info": {"page": 1}}
    empty = {"data": [], "page_info": {"page": 2}}
    twin.api.fail("GET", "/tasks", httpx.Response(200, json=page), httpx.Response(200, json=empty))
    tasks = twin.collect(twin.client.tasks.list(status=["ready", "failed"]))
    assert [t.id for t in tasks] == ["t1"]
    assert twin.api.requests[0].url.params.get_list("status") == ["ready", "failed"]


def test_delete(twin: Twin) -> None:
    fake = twin.api.add_task(twin.api.add_index())
    twin.run(twin.client.tasks.delete(fake.id))
    assert fake.id not in twin.api.tasks


def test_unknown_status_is_not_done() -> None:
    task = Task.from_api({"_id": "t", "status": "transcoding"})
    assert not task.done
    assert Task.from_api({"_id": "t"}).status == "unknown"


def test_a_429_or_refused_connection_on_create_is_retried_without_a_lookup(
    twin: Twin, video: pathlib.Path
) -> None:
    index_id = twin.api.add_index()
    limited = httpx.Response(429, headers={"Retry-After": "1"})
    twin.api.fail("POST", "/tasks", limited, httpx.ConnectError("refused"))
    twin.run(twin.client.tasks.create(index_id=index_id, file=video))
    assert twin.api.count("POST", "/tasks") == 3
    assert twin.api.count("GET") == 0  # nothing could have been stored: no look-up
    assert twin.api.uploads == [video.stat().st_size]
    assert twin.api.clock.sleeps[0] == 1.0


def test_a_caller_token_makes_create_idempotent_across_processes(
    twin: Twin, video: pathlib.Path
) -> None:
    index_id = twin.api.add_index()
    first = twin.run(
        twin.client.tasks.create(
            index_id=index_id, file=video, user_metadata={"tl_upload_token": "job-42"}
        )
    )
    twin.api.fail("POST", "/tasks", httpx.ReadTimeout("lost"))
    again = twin.run(
        twin.client.tasks.create(
            index_id=index_id, file=video, user_metadata={"tl_upload_token": "job-42"}
        )
    )
    assert again.id == first.id
    assert len(twin.api.uploads) == 1
