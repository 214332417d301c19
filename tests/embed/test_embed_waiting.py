"""Waiting for embedding tasks: wait, wait_many, create_and_wait, the seed's wait_for_done."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from embed_support import FakeEmbedAPI

from testkit import FakeClock
from tl_integrations import (
    AsyncTwelveLabs,
    AuthenticationError,
    EmbeddingTask,
    InvalidRequestError,
    TaskFailedError,
    TaskTimeoutError,
    TwelveLabs,
)

V1 = "Marengo-retrieval-2.7"
V2 = "marengo3.0"


@pytest.mark.parametrize("model", [V1, V2])
def test_wait_polls_at_once_then_backs_off(
    client: TwelveLabs, fake: FakeEmbedAPI, fake_time: FakeClock, model: str
) -> None:
    fake.polls_to_ready = 3
    task = client.embed.tasks.create(model_name=model, video_url="u")
    seen: list[str] = []
    done = client.embed.tasks.wait(task, on_update=lambda t: seen.append(t.status))
    assert done.status == "ready"
    assert task.status == "ready"
    assert seen == ["processing", "ready"]
    assert fake_time.sleeps == [1.0, 1.5, 2.25]
    assert len(fake.requests) == 1 + 4


def test_wait_raises_on_failure_with_the_servers_reason(
    client: TwelveLabs, fake: FakeEmbedAPI
) -> None:
    fake.fail_next = True
    task = client.embed.tasks.create(model_name=V2, video_url="u")
    with pytest.raises(TaskFailedError) as info:
        client.embed.tasks.wait(task.id)
    assert info.value.task_id == task.id
    assert info.value.reason == "could not process your media"
    assert task.id in str(info.value)


def test_wait_times_out_without_sleeping_past_the_deadline(
    client: TwelveLabs, fake: FakeEmbedAPI, fake_time: FakeClock
) -> None:
    fake.polls_to_ready = 1000
    task = client.embed.tasks.create(model_name=V1, video_url="u")
    with pytest.raises(TaskTimeoutError) as info:
        client.embed.tasks.wait(task, timeout_s=10.0)
    assert info.value.task_id == task.id
    assert info.value.last_status == "processing"
    assert fake_time.now == pytest.approx(10.0)


def test_vectors_before_ready_or_after_failure(client: TwelveLabs, fake: FakeEmbedAPI) -> None:
    fake.polls_to_ready = 5
    task = client.embed.tasks.create(model_name=V2, video_url="u")
    with pytest.raises(InvalidRequestError, match="still 'processing'"):
        client.embed.tasks.vectors(task)
    fake.polls_to_ready, fake.fail_next = 0, True
    failed = client.embed.tasks.create(model_name=V2, video_url="u")
    with pytest.raises(TaskFailedError):
        client.embed.tasks.vectors(failed)


def test_create_and_wait(client: TwelveLabs, fake: FakeEmbedAPI, video_file: Path) -> None:
    task = client.embed.tasks.create_and_wait(model_name=V1, video_file=video_file, timeout_s=60)
    assert task.status == "ready"
    assert task.done


@pytest.mark.parametrize("model", [V1, V2])
def test_embed_video_in_one_call(client: TwelveLabs, fake: FakeEmbedAPI, model: str) -> None:
    ve = client.embed.video(
        "https://example.org/a.mp4",
        model_name=model,
        clip_length_s=5,
        options="audio",
        scopes=["clip", "video"],
    )
    assert ve.options.tolist() == ["audio"] * 5
    assert ve.scopes.tolist() == ["clip"] * 4 + [("video" if model == V1 else "asset")]
    gets = [r for r in fake.requests if r.method == "GET"]
    # v2: the last poll carries the vectors, so no extra retrieve; v1 needs one.
    assert len(gets) == (3 if model == V1 else 2)


def test_seed_wait_for_done(
    client: TwelveLabs, fake: FakeEmbedAPI, fake_time: FakeClock, video_file: Path
) -> None:
    fake.polls_to_ready = 2
    task = client.embed.task.create(model_name=V1, video_file=video_file)
    calls: list[str] = []
    done = task.wait_for_done(sleep_interval=2, callback=lambda t: calls.append(t.status))
    assert done is task  # the official SDK 1.3.6 returns the task, updated in place
    assert task.status == "ready"
    assert calls == ["processing", "processing", "ready"]
    assert fake_time.sleeps == [2.0, 2.0]
    paths = {r.url.path for r in fake.requests if r.method == "GET"}
    assert paths == {f"/v1.3/embed/tasks/{task.id}/status"}


def test_seed_wait_for_done_returns_failed_without_raising(
    client: TwelveLabs, fake: FakeEmbedAPI
) -> None:
    fake.fail_next = True
    task = client.embed.task.create(model_name=V1, video_url="u")
    assert task.wait_for_done(sleep_interval=1).status == "failed"
    with pytest.raises(InvalidRequestError, match="sleep_interval"):
        task.wait_for_done(sleep_interval=0)


def test_seed_wait_for_done_raises_at_once_on_401(fake: FakeEmbedAPI, fake_time: FakeClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(401, json={"code": "api_key_invalid", "message": "bad key"})
        return fake.handler(request)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = TwelveLabs(
        api_key="k",
        base_url="https://api.test/v1.3",
        http_client=http,
        clock=fake_time,
        sleep=fake_time.sleep,
    )
    task = client.embed.task.create(model_name=V1, video_url="u")
    with pytest.raises(AuthenticationError):
        task.wait_for_done(sleep_interval=2)
    assert fake_time.sleeps == []


def test_seed_wait_for_done_rides_out_transient_errors(
    fake: FakeEmbedAPI, fake_time: FakeClock
) -> None:
    failures = iter([503] * 5)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            code = next(failures, None)
            if code is not None:
                return httpx.Response(code, json={"code": "unavailable", "message": "later"})
        return fake.handler(request)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = TwelveLabs(
        api_key="k",
        base_url="https://api.test/v1.3",
        http_client=http,
        clock=fake_time,
        sleep=fake_time.sleep,
        max_retries=1,
    )
    task = client.embed.task.create(model_name=V2, video_url="u")
    assert task.wait_for_done(sleep_interval=2).status == "ready"


def test_unbound_or_async_tasks_explain_themselves() -> None:
    loose = EmbeddingTask(id="t1", model_name=V2, status="processing")
    with pytest.raises(InvalidRequestError, match="not bound"):
        loose.wait_for_done()


@pytest.mark.parametrize("model", [V1, V2])
def test_wait_many_lists_pending_tasks_and_reads_finished_ones_once(
    client: TwelveLabs, fake: FakeEmbedAPI, model: str
) -> None:
    fake.polls_to_ready = 2
    tasks = [client.embed.tasks.create(model_name=model, video_url="u") for _ in range(6)]
    fake.requests.clear()
    updates: list[str] = []
    done = list(
        client.embed.tasks.wait_many(
            [t.id for t in tasks], on_update=lambda t: updates.append(t.status)
        )
    )
    assert sorted(t.id for t in done) == sorted(t.id for t in tasks)
    assert all(t.status == "ready" for t in done)
    assert updates.count("ready") == 6
    lists = [r for r in fake.requests if r.url.path.endswith("/tasks")]
    reads = sorted(r.url.path for r in fake.requests if r not in lists)
    # One request a round for all the pending tasks (ids this client made are listed from
    # the first round on), then the finished ones: Embed v1 finds them in one listing of
    # the newest tasks; Embed v2 reads each once, and that read carries its vectors.
    statuses = [r.url.params.get("status") for r in lists]
    if model == V1:
        assert (statuses, reads) == (["processing"] * 3 + [None], [])
    else:
        assert statuses == ["processing"] * 3
        assert reads == sorted(f"/v1.3/embed-v2/tasks/{t.id}" for t in tasks)
    fake.requests.clear()
    segments = 4 * (2 if model == V1 else 3)  # 20 s in 6 s clips, times the model's options
    assert [len(client.embed.tasks.vectors(task)) for task in done] == [segments] * 6
    assert len(fake.requests) == (6 if model == V1 else 0)


def test_wait_many_yields_failures_and_times_out_naming_the_rest(
    client: TwelveLabs, fake: FakeEmbedAPI, fake_time: FakeClock
) -> None:
    fake.polls_to_ready = 0
    fake.fail_next = True
    failed = client.embed.tasks.create(model_name=V1, video_url="u")
    fake.polls_to_ready = 10_000
    slow = [client.embed.tasks.create(model_name=V1, video_url="u") for _ in range(2)]
    waiting = client.embed.tasks.wait_many([failed, *slow], timeout_s=30)
    first = next(waiting)
    assert (first.id, first.status) == (failed.id, "failed")
    with pytest.raises(TaskTimeoutError) as info:
        next(waiting)
    assert sorted(info.value.task_ids) == sorted(t.id for t in slow)
    assert fake_time.now == pytest.approx(30.0)


async def test_async_twin_waits_and_embeds(
    aclient: AsyncTwelveLabs, fake: FakeEmbedAPI, fake_time: FakeClock
) -> None:
    fake.polls_to_ready = 2
    task = await aclient.embed.tasks.create(model_name=V1, video_url="u")
    done = await aclient.embed.tasks.wait(task)
    assert done.status == "ready"
    assert fake_time.sleeps == [1.0, 1.5]
    ve = await aclient.embed.tasks.vectors(task, embedding_options="visual-text")
    assert ve.vectors.shape == (4, 1024)
    ve2 = await aclient.embed.video("https://example.org/a.mp4", model_name=V2)
    assert ve2.dim == 512
    assert len(ve2) == 12
    listed = [t.id async for t in aclient.embed.tasks.list(model_name=V1)]
    assert listed == [task.id]


async def test_async_wait_many_and_seed_wait(aclient: AsyncTwelveLabs, fake: FakeEmbedAPI) -> None:
    fake.polls_to_ready = 1
    tasks = [await aclient.embed.tasks.create(model_name=V2, video_url="u") for _ in range(3)]
    done = [t.id async for t in aclient.embed.tasks.wait_many(tasks)]
    assert sorted(done) == sorted(t.id for t in tasks)
    task = await aclient.embed.task.create(model_name=V1, video_url="u")
    calls: list[str] = []

    async def callback(t: EmbeddingTask) -> None:
        calls.append(t.status)

    done = await task.async_wait_for_done(sleep_interval=2, callback=callback)
    assert (done is task, task.status) == (True, "ready")
    assert calls == ["processing", "ready"]
    with pytest.raises(InvalidRequestError, match="async_wait_for_done"):
        task.wait_for_done()


def test_wait_many_rides_out_a_transient_error(fake: FakeEmbedAPI, fake_time: FakeClock) -> None:
    failures = iter([503])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and next(failures, None) is not None:
            return httpx.Response(503, json={"code": "unavailable", "message": "later"})
        return fake.handler(request)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with TwelveLabs(
        api_key="k",
        base_url="https://api.test/v1.3",
        http_client=http,
        clock=fake_time,
        sleep=fake_time.sleep,
        max_retries=0,
    ) as client:
        tasks = [client.embed.tasks.create(model_name=V1, video_url="u") for _ in range(3)]
        done = list(client.embed.tasks.wait_many(tasks, timeout_s=60))
    assert sorted(t.id for t in done) == sorted(t.id for t in tasks)


def test_ids_joining_a_wait_in_progress_are_listed_with_the_others(
    client: TwelveLabs, fake: FakeEmbedAPI
) -> None:
    fake.polls_to_ready = 1
    first, *later = [client.embed.tasks.create(model_name=V1, video_url="u") for _ in range(3)]
    fake.requests.clear()
    waiting = client.embed.tasks.wait_many([first], open=True)
    waiting.add(*(t.id for t in later))
    waiting.close()
    assert sorted(t.id for t in waiting) == sorted(t.id for t in [first, *later])
    assert {r.url.path for r in fake.requests} == {"/v1.3/embed/tasks"}  # no one-by-one reads


@pytest.mark.parametrize("model", [V1, V2])
def test_a_task_waited_for_by_id_is_bound_to_its_client(
    client: TwelveLabs, fake: FakeEmbedAPI, model: str
) -> None:
    task = client.embed.tasks.create(model_name=model, video_url="u")
    done = client.embed.tasks.wait(task.id)
    assert (done.id, done.protocol, done.model_name) == (task.id, task.protocol, model)
    assert done.wait_for_done(sleep_interval=1) is done
