"""Waits that listen: with ``TwelveLabs(events=receiver)`` jobs end on their webhook events
without requests, a sleeping wait wakes on one, and polling stays as the safety net."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testkit import FakeClock
from tl_integrations import (
    AnalysisTask,
    AsyncTwelveLabs,
    InvalidRequestError,
    Task,
    TaskFailedError,
    TwelveLabs,
    WebhookReceiver,
)
from tl_integrations._engine import EVENT_FALLBACK_POLL_S
from tl_integrations._resources.indexed_assets import IndexedAsset

from .signing import NOW, SECRET, event, signed

BASE = "https://api.twelvelabs.test/v1.3"


class FakeAPI:
    """Statuses by id, served by list and retrieve endpoints; every request is counted."""

    def __init__(self) -> None:
        self.status: dict[str, str] = {}
        self.requests: list[str] = []
        self.listed = threading.Event()

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1.3")
        self.requests.append(f"{request.method} {path}")
        if path == "/tasks":
            wanted = request.url.params.get_list("status")
            items = [
                {"_id": i, "status": s, "index_id": "i1"}
                for i, s in self.status.items()
                if s in wanted
            ]
            self.listed.set()
            return httpx.Response(200, json={"data": items, "page_info": {"total_page": 1}})
        if path.startswith("/tasks/"):
            job_id = path.rsplit("/", 1)[1]
            return httpx.Response(200, json={"_id": job_id, "status": self.status[job_id]})
        if path.startswith("/assets/"):
            job_id = path.rsplit("/", 1)[1]
            reads = sum(r == f"GET {path}" for r in self.requests)
            status = "ready" if reads > 3 else "processing"  # ready at the fourth look
            return httpx.Response(200, json={"_id": job_id, "status": status})
        if path.startswith("/analyze/tasks/"):
            job_id = path.rsplit("/", 1)[1]
            body = {"task_id": job_id, "status": self.status[job_id]}
            if body["status"] == "ready":
                body["result"] = {
                    "generation_id": "g1",
                    "data": "A cat on a sofa.",
                    "finish_reason": "stop",
                    "usage": {"output_tokens": 5},
                }
            return httpx.Response(200, json=body)
        return httpx.Response(404, json={"code": "not_found", "message": path})


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def receiver() -> WebhookReceiver:
    return WebhookReceiver(SECRET, clock=lambda: float(NOW))


@pytest.fixture
def client(api: FakeAPI, receiver: WebhookReceiver) -> Iterator[TwelveLabs]:
    clock = FakeClock()
    http = httpx.Client(transport=httpx.MockTransport(api.handler))
    with TwelveLabs(
        api_key="k", base_url=BASE, http_client=http, events=receiver, clock=clock,
        sleep=clock.sleep,
    ) as made:  # fmt: skip
        yield made
    http.close()


def deliver(receiver: WebhookReceiver, kind: str, job_id: str, **data: Any) -> None:
    status = kind.rsplit(".", 1)[1]
    receiver.receive(*signed(event(kind, job_id, status=status, **data)))


def tasks(api: FakeAPI, n: int) -> list[Task]:
    made = [Task(f"t{k}", "indexing", index_id="i1") for k in range(n)]
    api.status.update({task.id: "indexing" for task in made})
    return made


def test_jobs_whose_events_arrived_end_without_a_single_request(
    api: FakeAPI, receiver: WebhookReceiver, client: TwelveLabs
) -> None:
    waiting = tasks(api, 4)
    for task in waiting[:3]:
        deliver(receiver, "index.task.ready", task.id, metadata={"duration": 12.5})
    deliver(receiver, "index.task.failed", waiting[3].id)
    done = {task.id: task for task in client.tasks.wait_many(waiting)}
    assert api.requests == []
    assert {k: t.status for k, t in done.items()} == {
        "t0": "ready",
        "t1": "ready",
        "t2": "ready",
        "t3": "failed",
    }
    assert done["t0"].duration_s == 12.5
    assert done["t0"].index_id == "i1"  # what was known stays


def test_a_single_wait_raises_on_a_failed_event_without_polling(
    api: FakeAPI, receiver: WebhookReceiver, client: TwelveLabs
) -> None:
    (task,) = tasks(api, 1)
    deliver(receiver, "index.task.failed", task.id)
    with pytest.raises(TaskFailedError, match="task t0 failed"):
        client.tasks.wait(task)
    assert api.requests == []
    assert task.status == "failed"  # the object passed in is updated in place


def test_a_job_given_by_id_is_read_once_when_its_event_arrives(
    api: FakeAPI, receiver: WebhookReceiver, client: TwelveLabs
) -> None:
    tasks(api, 1)
    api.status["t0"] = "ready"
    deliver(receiver, "index.task.ready", "t0")
    assert client.tasks.wait("t0").status == "ready"
    assert api.requests == ["GET /tasks/t0"]  # an id alone says not which kind it is


def test_indexed_assets_end_on_index_task_events_named_by_their_own_id(
    api: FakeAPI, receiver: WebhookReceiver, client: TwelveLabs
) -> None:
    assets = [IndexedAsset(f"v{k}", "indexing", index_id="i1") for k in range(3)]
    for asset in assets:
        deliver(receiver, "index.task.ready", asset.id)
    done = list(client.indexes.indexed_assets.wait_many(assets))
    assert sorted(a.id for a in done) == ["v0", "v1", "v2"]
    assert {a.index_id for a in done} == {"i1"}
    assert api.requests == []


def test_analysis_tasks_end_on_events_and_read_the_result_only_where_it_is_needed(
    api: FakeAPI, receiver: WebhookReceiver, client: TwelveLabs
) -> None:
    ready, failed = AnalysisTask("a1", "processing"), AnalysisTask("a2", "processing")
    api.status.update({"a1": "ready", "a2": "failed"})
    deliver(receiver, "analyze.task.ready", "a1", custom_id="job-1")
    deliver(receiver, "analyze.task.failed", "a2", custom_id=None, error={"message": "too long"})
    done = {t.id: t for t in client.analyze.tasks.wait_many([ready, failed])}
    assert api.requests == []
    assert done["a1"].custom_id == "job-1"
    with pytest.raises(InvalidRequestError, match=r"client\.analyze\.tasks\.retrieve"):
        done["a1"].result()
    assert done["a2"].failure_reason == "too long"
    # a single wait gives the result, which costs the one read events cannot spare
    assert client.analyze.tasks.wait(ready).result().text == "A cat on a sofa."
    assert api.requests == ["GET /analyze/tasks/a1"]
    with pytest.raises(TaskFailedError, match="too long"):
        client.analyze.tasks.wait(failed)
    assert api.requests == ["GET /analyze/tasks/a1"]


def test_a_lost_event_never_hangs_a_wait(
    api: FakeAPI, receiver: WebhookReceiver, client: TwelveLabs
) -> None:
    waiting = tasks(api, 2)
    deliver(receiver, "index.task.ready", "t0")
    api.status["t0"] = "ready"
    # t1 ends while the wait sleeps, and its event is lost on the way
    client.clock.on_sleep.append(lambda: api.status.update(t1="ready"))  # type: ignore[attr-defined]
    done = [task.id for task in client.tasks.wait_many(waiting)]
    assert done == ["t0", "t1"]
    assert client.clock() >= EVENT_FALLBACK_POLL_S  # found by the slow fallback round
    # the first look and the fallback round; t0 (its event in) is never read
    assert api.requests == ["GET /tasks/t1", "GET /tasks/t1"]


def test_jobs_that_get_no_events_are_polled_at_their_usual_pace(
    api: FakeAPI, client: TwelveLabs
) -> None:
    # Assets send no webhooks: a receiver must not slow their waits to the fallback pace.
    assert client.assets.wait("a1").status == "ready"
    assert api.requests == ["GET /assets/a1"] * 4
    assert client.clock() < EVENT_FALLBACK_POLL_S / 4


def test_a_sleeping_wait_wakes_on_an_event(api: FakeAPI, receiver: WebhookReceiver) -> None:
    waiting = tasks(api, 2)

    def events_after_the_first_look() -> None:
        assert api.listed.wait(timeout=30)
        deliver(receiver, "index.task.ready", "t0")
        deliver(receiver, "index.task.ready", "t1")

    sender = threading.Thread(target=events_after_the_first_look)
    http = httpx.Client(transport=httpx.MockTransport(api.handler))
    # The default sleep: only an event can end its 60 s wait before the deadline does.
    with TwelveLabs(api_key="k", base_url=BASE, http_client=http, events=receiver) as client:
        sender.start()
        done = [task.id for task in client.tasks.wait_many(waiting, timeout_s=30)]
    sender.join()
    assert sorted(done) == ["t0", "t1"]
    assert api.requests == ["GET /tasks"]


def test_the_async_client_listens_too(api: FakeAPI, receiver: WebhookReceiver) -> None:
    waiting = tasks(api, 2)
    for task in waiting:
        deliver(receiver, "index.task.ready", task.id)

    async def main() -> list[str]:
        transport = httpx.MockTransport(api.handler)
        async with (
            httpx.AsyncClient(transport=transport) as http,
            AsyncTwelveLabs(
                api_key="k", base_url=BASE, http_client=http, events=receiver
            ) as client,
        ):
            return [task.id async for task in client.tasks.wait_many(waiting)]

    assert sorted(asyncio.run(main())) == ["t0", "t1"]
    assert api.requests == []


def test_twins_inherit_the_receiver_and_a_wrong_one_is_refused(receiver: WebhookReceiver) -> None:
    with TwelveLabs(api_key="k", events=receiver) as client:
        assert client.events is receiver
        assert client.twin().events is receiver
    with pytest.raises(InvalidRequestError, match="WebhookReceiver"):
        TwelveLabs(api_key="k", events="http://localhost:8000/")  # type: ignore[arg-type]


def test_one_wait_over_indexing_and_analysis_tasks_reads_each_by_its_own_kind(
    api: FakeAPI, client: TwelveLabs
) -> None:
    # Lone jobs are read one by one: an analysis task in tasks.wait_many must be read at
    # /analyze/tasks/{id}, not /tasks/{id} (which answers 404 for it).
    (task,) = tasks(api, 1)
    analysis = AnalysisTask("a1", "processing")
    api.status.update({"t0": "ready", "a1": "ready"})
    done = {job.id: job for job in client.tasks.wait_many([task, analysis])}
    assert {k: (type(j).__name__, j.status) for k, j in done.items()} == {
        "t0": ("Task", "ready"),
        "a1": ("AnalysisTask", "ready"),
    }
    assert sorted(api.requests) == ["GET /analyze/tasks/a1", "GET /tasks/t0"]
