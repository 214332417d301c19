"""Auth, headers, rate limits and injected faults."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from testkit import start_emulator
from tl_integrations.emulator import Emulator, ManualClock, RateLimits

from .conftest import upload


@pytest.fixture
def keyed(request: pytest.FixtureRequest) -> Emulator:
    return start_emulator(
        request, api_key="secret", clock=ManualClock(), rate_limits=RateLimits(search=2)
    )


def test_auth(keyed: Emulator, emu: Emulator) -> None:
    with httpx.Client(base_url=keyed.base_url) as http:
        missing = http.get("/indexes")
        assert (missing.status_code, missing.json()["code"]) == (401, "api_key_invalid")
        assert http.get("/indexes", headers={"x-api-key": "wrong"}).status_code == 401
        assert http.get("/indexes", headers={"x-api-key": "secret"}).status_code == 200
        assert http.get(keyed.url + "/_emulator/stats").status_code == 401  # keyed: controls too
        v2 = http.post("/embed-v2", json={})
        assert v2.status_code == 401
        assert v2.json()["error"]["code"] == "API_KEY_INVALID"
    with httpx.Client(base_url=emu.base_url) as http:
        assert http.get("/indexes", headers={"x-api-key": "anything"}).status_code == 200
        assert http.get("/indexes").status_code == 401
        assert http.get(emu.url + "/_emulator/stats").status_code == 200


def test_headers_on_every_answer(emu: Emulator) -> None:
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        for r in (http.get("/indexes"), http.get("/tasks/" + "0" * 24)):
            assert r.headers["x-api-version"] == "1.3"
            assert int(r.headers["x-ratelimit-limit"]) > 0
            assert int(r.headers["x-ratelimit-remaining"]) >= 0
            assert {"x-ratelimit-used", "x-ratelimit-reset"} <= set(r.headers)


def test_rate_limit_answers_429_then_recovers(keyed: Emulator) -> None:
    clock = keyed.clock
    assert clock is not None
    form = {"index_id": "0" * 24, "search_options": "visual", "query_text": "x"}
    with httpx.Client(base_url=keyed.base_url, headers={"x-api-key": "secret"}) as http:
        codes = [http.post("/search", data=form, files={}).status_code for _ in range(3)]
        assert codes == [404, 404, 429]  # the index does not exist, but the bucket counts
        limited = http.post("/search", data=form, files={})
        assert limited.status_code == 429
        assert limited.content == b""
        assert limited.headers["retry-after"] == "30"
        assert limited.headers["x-ratelimit-remaining"] == "0"
        assert http.get("/indexes").status_code == 200  # other categories are not affected
        clock.advance(30.0)
        assert http.post("/search", data=form, files={}).status_code == 404
    assert keyed.stats()["rate_limited"] == 2


def statuses(emu: Emulator, n: int) -> list[int | str]:
    out: list[int | str] = []
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        for _ in range(n):
            try:
                out.append(http.get("/indexes").status_code)
            except httpx.RemoteProtocolError:
                out.append("drop")
    return out


def test_faults_are_reproducible_with_the_seed() -> None:
    spec = "500=0.15,503=0.1,429=0.1,drop=0.1"
    with Emulator(seed=7, faults=spec) as a:
        first = statuses(a, 60)
        a.set_faults(spec, seed=7)
        again = statuses(a, 60)
    with Emulator(seed=7, faults=spec) as b:
        other = statuses(b, 60)
    assert first == again == other
    assert {500, 503, 429, "drop", 200} <= set(first)
    with Emulator(seed=8, faults=spec) as c:
        assert statuses(c, 60) != first


def test_fault_shapes_and_controls(emu: Emulator) -> None:
    try:
        emu.set_faults(p503=1.0)
        with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
            r = http.get("/indexes")
            assert r.status_code == 503
            assert r.json()["code"] == "generic_error"
            emu.set_faults("429=1")
            r = http.get("/indexes")
            assert r.status_code == 429
            assert r.headers["retry-after"] == "1"
            emu.set_faults(drop=1.0)
            with pytest.raises(httpx.RemoteProtocolError):
                http.get("/indexes")
            emu.set_faults(latency=1.0, latency_s=0.01)
            assert http.get("/indexes").status_code == 200
            control = http.post(emu.url + "/_emulator/faults", json={"spec": "502=1"})
            assert control.json()["faults"] == {"502": 1.0}
            assert http.get("/indexes").status_code == 502
    finally:
        emu.set_faults()
    assert emu.stats()["faults"]["drop"] >= 1


def test_planned_faults_hit_exactly_the_requests_they_name(emu: Emulator) -> None:
    missing = "/indexes/" + "0" * 24
    before = emu.stats()["faults"]
    try:
        emu.fail_next("GET", "/indexes/{index_id}", "503", times=2, after=1)
        emu.fail_next("get", "/indexes", "429")
        with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
            limited = http.get("/indexes")
            assert (limited.status_code, limited.headers["retry-after"]) == (429, "1")
            assert http.get("/indexes").status_code == 200
            assert http.get(missing).status_code == 404
            left = http.get(emu.url + "/_emulator/faults").json()["next"]
            assert left == [
                {"method": "GET", "path": "/indexes/{index_id}", "action": "503", "times": 2,
                 "after": 0}
            ]  # fmt: skip
            assert [http.get(missing).status_code for _ in range(3)] == [503, 503, 404]
            assert http.get(emu.url + "/_emulator/faults").json()["next"] == []
    finally:
        emu.set_faults()
    after = emu.stats()["faults"]
    assert [after.get(k, 0) - before.get(k, 0) for k in ("503", "429")] == [2, 1]


def test_planned_faults_through_the_control_route(
    emulator_for: Callable[..., Emulator],
) -> None:
    emu = emulator_for()
    control = emu.url + "/_emulator/faults"
    with httpx.Client(headers={"x-api-key": "k"}) as http:
        bad = http.post(control + "/next", json={"method": "GET", "path": "/x", "action": "418"})
        assert bad.status_code == 400
        assert "action must be one of 500, 502, 503, 429, drop, lost" in bad.json()["message"]
        assert http.post(control + "/next", content=b"{}").status_code == 415  # not JSON
        rule = {"method": "POST", "path": "/indexes", "action": "drop", "times": 3}
        planned = http.post(control + "/next", json=rule)
        assert planned.json()["next"] == [{**rule, "after": 0}]
        assert http.post(control, json={"spec": "502=0.5"}).json()["next"] == [{**rule, "after": 0}]
        cleared = http.post(control, json={})  # an empty body clears every fault
        assert (cleared.json()["next"], cleared.json()["faults"]) == ([], {})
        assert http.post(emu.base_url + "/indexes", json={}).status_code == 400  # not dropped
        http.post(control + "/next", json=rule)
    emu.reset()
    assert httpx.get(control).json()["next"] == []


def test_fail_fault_fails_tasks(
    emulator_for: Callable[..., Emulator], tmp_path: Path, videos: dict[str, Path]
) -> None:
    from twelvelabs import TwelveLabs

    clock = ManualClock()
    emu = emulator_for(clock=clock, faults="fail=1")
    with httpx.Client() as raw:
        client = TwelveLabs(api_key="k", base_url=emu.base_url, httpx_client=raw)
        index = client.indexes.create(
            index_name="f", models=[{"model_name": "marengo3.0", "model_options": ["visual"]}]
        )
        assert index.id
        task_id, _ = upload(client, index.id, videos["beach"])
        clock.advance(600.0)
        task = client.tasks.retrieve(task_id)
        assert task.status == "failed"
        with videos["beach"].open("rb") as f:
            embed_task = client.embed.tasks.create(model_name="marengo3.0", video_file=f)
        clock.advance(600.0)
        assert embed_task.id
        assert client.embed.tasks.status(embed_task.id).status == "failed"


def test_reset_forgets_everything(emulator_for: Callable[..., Emulator]) -> None:
    emu = emulator_for()
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        models = [{"model_name": "marengo3.0", "model_options": ["visual"]}]
        assert http.post("/indexes", json={"index_name": "r", "models": models}).status_code == 201
        assert http.post(emu.url + "/_emulator/reset", json={}).status_code == 204
        assert http.get("/indexes").json()["data"] == []
        assert emu.stats()["requests_total"] == 1
