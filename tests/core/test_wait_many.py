"""wait_many: every outcome, in finishing order, with list requests for shared indexes."""

from __future__ import annotations

import itertools
import random

import httpx
import pytest

from tl_integrations import InvalidRequestError, Task, TaskTimeoutError

from .conftest import Twin
from .fakeapi import FakeTwelveLabs


def _as_tasks(api: FakeTwelveLabs, ids: list[str]) -> list[Task]:
    """What create() returns: Task objects that know their index."""
    return [
        Task.from_api({"_id": i, "status": "validating"}, index_id=api.tasks[i].index_id)
        for i in ids
    ]


def test_sixty_tasks_in_one_index_use_list_requests(twin: Twin) -> None:
    api = twin.api
    index_id = api.add_index()
    rng = random.Random(3)
    fakes = [api.add_task(index_id, ready_after_s=rng.uniform(30, 600)) for _ in range(60)]
    fakes[7].final = "failed"
    done = twin.collect(twin.client.tasks.wait_many(_as_tasks(api, [f.id for f in fakes])))
    assert sorted(t.id for t in done) == sorted(f.id for f in fakes)
    finish = {f.id: f.ready_after_s for f in fakes}
    assert [finish[t.id] for t in done] == sorted(finish[t.id] for t in done)  # finishing order
    assert next(t for t in done if t.id == fakes[7].id).status == "failed"  # yielded, not raised
    requests = len(api.requests)
    per_task_polls = sum(int(f.ready_after_s // 5) + 1 for f in fakes)  # 5 s per task
    # A round lists up to 50 tasks in one request: far fewer requests than per-task polling
    # even at 5 s, while polling often enough to notice finishes within about a second.
    assert requests * 3 < per_task_polls
    assert api.count("GET", "/tasks/") < 60  # few single-task GETs
    lists = [r for r in api.requests if r.url.path.endswith("/tasks")]
    assert all(r.url.params.get_list("status") for r in lists)  # filtered by status
    assert len(lists) > requests / 2


def test_a_burst_of_finished_tasks_is_read_from_finished_pages(twin: Twin) -> None:
    # 120 tasks finish between two rounds: they are found on pages of the newest finished
    # tasks (50 a page), not read one by one.
    api = twin.api
    index_id = api.add_index()
    fakes = [api.add_task(index_id, ready_after_s=30.0) for _ in range(120)]
    done = twin.collect(twin.client.tasks.wait_many(_as_tasks(api, [f.id for f in fakes])))
    assert sorted(t.id for t in done) == sorted(f.id for f in fakes)
    assert api.count("GET", "/tasks/") == 0
    finished_pages = [r for r in api.requests if r.url.params.get("sort_by") == "updated_at"]
    assert len(finished_pages) == 3


def test_finished_pages_are_read_until_every_waited_task_is_found(twin: Twin) -> None:
    # Another program's 60 tasks finish with ours and come first in the newest-finished
    # listing: the round reads on until it has seen all of ours, still without single GETs.
    api = twin.api
    index_id = api.add_index()
    for _ in range(60):
        api.add_task(index_id, ready_after_s=30.0)
    fakes = [api.add_task(index_id, ready_after_s=30.0) for _ in range(60)]
    done = twin.collect(twin.client.tasks.wait_many(_as_tasks(api, [f.id for f in fakes])))
    assert sorted(t.id for t in done) == sorted(f.id for f in fakes)
    assert api.count("GET", "/tasks/") == 0
    finished_pages = [r for r in api.requests if r.url.params.get("sort_by") == "updated_at"]
    assert len(finished_pages) == 3


def test_ids_only_start_with_single_gets_then_group(twin: Twin) -> None:
    api = twin.api
    index_id = api.add_index()
    fakes = [api.add_task(index_id, ready_after_s=100.0 + i) for i in range(5)]
    done = twin.collect(twin.client.tasks.wait_many([f.id for f in fakes]))
    assert len(done) == 5
    first_round = api.requests[:5]
    assert all(r.url.path.endswith(f.id) for r, f in zip(first_round, fakes, strict=True))
    later = api.requests[5:]
    assert sum(1 for r in later if r.url.path.endswith("/tasks")) > len(later) / 2


def test_tasks_in_different_indexes_fall_back_to_single_gets(twin: Twin) -> None:
    api = twin.api
    fakes = [api.add_task(api.add_index(f"i{i}"), ready_after_s=10.0) for i in range(3)]
    done = twin.collect(twin.client.tasks.wait_many(_as_tasks(api, [f.id for f in fakes])))
    assert len(done) == 3
    assert all(r.url.path.split("/")[-1] in {f.id for f in fakes} for r in api.requests)


def test_an_unknown_status_is_polled_one_by_one(twin: Twin) -> None:
    api = twin.api
    index_id = api.add_index()
    a, b = api.add_task(index_id, ready_after_s=50.0), api.add_task(index_id, ready_after_s=50.0)
    odd = {**a.to_api(0.0), "status": "transcoding"}
    api.fail("GET", "/tasks", httpx.Response(200, json={"data": [], "page_info": {}}))
    api.fail("GET", f"/tasks/{a.id}", httpx.Response(200, json=odd))
    done = twin.collect(twin.client.tasks.wait_many(_as_tasks(api, [a.id, b.id])))
    assert {t.id for t in done} == {a.id, b.id}


def test_timeout_names_the_pending_tasks(twin: Twin) -> None:
    api = twin.api
    index_id = api.add_index()
    quick = api.add_task(index_id, ready_after_s=5.0)
    slow = [api.add_task(index_id, ready_after_s=900.0) for _ in range(2)]
    seen: list[Task] = []
    with pytest.raises(TaskTimeoutError) as info:
        twin.collect(
            twin.client.tasks.wait_many(
                _as_tasks(api, [quick.id] + [s.id for s in slow]), timeout_s=60.0
            ),
            into=seen,
        )
    assert [t.id for t in seen] == [quick.id]
    assert sorted(info.value.task_ids) == sorted(s.id for s in slow)
    assert api.clock.now == pytest.approx(60.0)


def test_on_update_sees_every_change(twin: Twin) -> None:
    api = twin.api
    index_id = api.add_index()
    fakes = [api.add_task(index_id, ready_after_s=40.0) for _ in range(2)]
    updates: list[tuple[str, str]] = []
    twin.collect(
        twin.client.tasks.wait_many(
            _as_tasks(api, [f.id for f in fakes]),
            on_update=lambda t: updates.append((t.id, t.status)),
        )
    )
    for fake in fakes:
        mine = [s for i, s in updates if i == fake.id]
        assert mine[-1] == "ready"
        assert all(x != y for x, y in itertools.pairwise(mine))


def test_transient_errors_during_a_round_are_tolerated(twin: Twin) -> None:
    api = twin.api
    index_id = api.add_index()
    fakes = [api.add_task(index_id, ready_after_s=20.0) for _ in range(2)]
    api.fail("GET", "/tasks", *[httpx.Response(503)] * 4)
    done = twin.collect(twin.client.tasks.wait_many(_as_tasks(api, [f.id for f in fakes])))
    assert len(done) == 2


def test_nothing_to_wait_for(twin: Twin) -> None:
    assert twin.collect(twin.client.tasks.wait_many([])) == []
    assert twin.api.requests == []


def test_one_id_or_one_job_instead_of_a_list_is_refused(twin: Twin) -> None:
    # A string is iterable: it was waited for as one id per character (GET /tasks/6 ...).
    api = twin.api
    task_id = api.add_task(api.add_index()).id
    for one in (task_id, _as_tasks(api, [task_id])[0]):
        with pytest.raises(InvalidRequestError, match=r"takes a list of jobs or ids.*pass \[it\]"):
            twin.client.tasks.wait_many(one)
