"""Focused tests of the fixes the reliability scenarios led to (one behaviour each)."""

from __future__ import annotations

import email.utils
import itertools
import pickle
from collections.abc import Callable

import httpx
import pytest

from testkit import FakeClock, start_emulator
from tl_integrations import (
    APIConnectionError,
    AsyncTwelveLabs,
    MalformedResponseError,
    RateLimitError,
    RetryPolicy,
    Task,
    TwelveLabs,
)
from tl_integrations._retrying import Outcome
from tl_integrations.emulator import Emulator, EmulatorConfig, Faults, ManualClock

from .conftest import (
    Media,
    async_client,
    server_truth,
    sync_client,
)

Handler = Callable[[httpx.Request], httpx.Response]


def mock_client(handler: Handler, time: FakeClock, **kwargs: object) -> TwelveLabs:
    return TwelveLabs(
        api_key="tlk-fixes",
        base_url="https://api.example.test/v1.3",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=time,
        sleep=time.sleep,
        **kwargs,  # type: ignore[arg-type]
    )


# -- 429s that say when to come back do not use up max_retries ------------------------------


def test_paced_429s_do_not_use_up_the_retry_budget() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "2"})] * 10)
    time = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers, httpx.Response(200, json={"_id": "t1", "status": "ready"}))

    with mock_client(handler, time) as client:
        assert client.tasks.retrieve("t1").status == "ready"
    assert time.sleeps == [2.0] * 10


def test_pacing_is_bounded_in_total_even_at_retry_after_zero() -> None:
    calls = itertools.count(1)
    time = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        next(calls)
        return httpx.Response(429, headers={"Retry-After": "0"})

    policy = RetryPolicy(max_retries=2, max_throttle_s=5.0, base_delay_s=0.5, jitter=0.0)
    with mock_client(handler, time, retry_policy=policy) as client, pytest.raises(RateLimitError):
        client.tasks.retrieve("t1")
    # 10 paced waits (5 s / 0.5 s each), then the 2 ordinary retries, then it gives up.
    assert next(calls) - 1 == 1 + 10 + 2


def test_no_pacing_when_retrying_is_off() -> None:
    limited = Outcome(status_code=429, headers={"Retry-After": "1"})
    assert RetryPolicy(max_retries=0).pacing_s(limited, waited_s=0.0) is None
    assert (
        RetryPolicy().pacing_s(Outcome(status_code=503, headers={"Retry-After": "1"}), waited_s=0)
        is None
    )
    assert RetryPolicy().pacing_s(Outcome(status_code=429), waited_s=0.0) is None  # no hint


# -- paging and search tokens that would loop forever -------------------------------------


def test_a_repeated_page_stops_the_walk() -> None:
    body = {"data": [{"_id": "i1", "index_name": "a"}], "page_info": {}}
    with (
        mock_client(lambda r: httpx.Response(200, json=body), FakeClock()) as client,
        pytest.raises(MalformedResponseError, match="page 2 repeats page 1"),
    ):
        list(client.indexes.list())


async def test_a_repeated_search_token_stops_the_async_walk() -> None:
    body = {
        "data": [{"video_id": "v", "start": 0, "end": 1}],
        "page_info": {"next_page_token": "x"},
    }
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json=body))
    async with AsyncTwelveLabs(
        api_key="k",
        base_url="https://api.example.test/v1.3",
        http_client=httpx.AsyncClient(transport=transport),
    ) as client:
        with pytest.raises(MalformedResponseError, match="already followed"):
            [clip async for clip in client.search.query(index_id="i", query_text="q")]


def test_non_finite_numbers_are_malformed() -> None:
    for value in (float("nan"), "nan", "1e999", float("inf")):
        with pytest.raises(MalformedResponseError, match="finite number"):
            Task.from_api({"_id": "t", "system_metadata": {"width": value}})


def test_a_task_pickles_without_its_client() -> None:
    with TwelveLabs(api_key="tlk-pickle", base_url="http://127.0.0.1:9/v1.3") as client:
        task = Task.from_api({"_id": "t", "status": "ready"})._bind(client)
        copy = pickle.loads(pickle.dumps(task))
    assert copy.id == "t"
    assert "_owner" not in copy.__dict__
    assert task.__dict__["_owner"] is client


# -- creates that may have reached the server ----------------------------------------------


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> Emulator:
    return start_emulator(request, EmulatorConfig(clock=ManualClock(), seed=12))


def test_a_lost_answer_to_an_upload_is_not_paid_twice(emu: Emulator, media: Media) -> None:
    assert emu.clock is not None
    emu.fail_next("POST", "/tasks", "lost")
    with sync_client(emu, FakeClock(server=emu.clock)) as client:
        index = client.indexes.create("lost")
        task = client.tasks.create(index_id=index.id, file=media.videos[0])
    assert emu.stats()["faults"]["lost"] == 1
    assert emu.stats()["uploads"] == 1
    assert task.video_id is not None
    assert task.ready


async def test_the_async_twin_does_not_pay_twice_either(emu: Emulator, media: Media) -> None:
    assert emu.clock is not None
    vt = FakeClock(server=emu.clock)
    with sync_client(emu, vt) as sync:
        index = sync.indexes.create("lost-async")
    emu.fail_next("POST", "/tasks", "lost")
    async with async_client(emu, vt) as client:
        task = await client.tasks.create(index_id=index.id, file=media.videos[1])
    assert emu.stats()["faults"]["lost"] == 1
    assert emu.stats()["uploads"] == 1
    assert task.ready


def test_an_unknown_fate_is_not_sent_again(emu: Emulator, media: Media) -> None:
    """Answers lost all along (the look-ups too): the upload is not sent a second time."""
    assert emu.clock is not None
    with sync_client(emu, FakeClock(server=emu.clock)) as client:
        index = client.indexes.create("lost-everything")
        emu.set_faults(Faults(lost=1.0), seed=1)
        try:
            with pytest.raises(APIConnectionError):
                client.tasks.create(index_id=index.id, file=media.videos[2])
        finally:
            emu.set_faults(Faults())
    assert emu.stats()["uploads"] == 1


class RefusingTransport(httpx.HTTPTransport):
    """Answers the first upload with a 500 itself: the server never sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        upload = request.method == "POST" and request.url.path.endswith("/tasks")
        if upload and not self.refused:
            self.refused += 1
            return httpx.Response(500, json={"code": "x", "message": "boom"}, request=request)
        return super().handle_request(request)


def test_an_older_failure_of_the_same_file_is_not_taken_for_the_upload(
    emulator_for: Callable[..., Emulator], media: Media
) -> None:
    config = EmulatorConfig(clock=ManualClock(), seed=12, faults=Faults(fail=1.0))
    server = emulator_for(config)
    assert server.clock is not None
    vt = FakeClock(server=server.clock)
    with sync_client(server, vt) as client:
        index = client.indexes.create("retry-after-failure")
        old = client.tasks.create(index_id=index.id, file=media.videos[3])
        server.advance(3600.0)  # it failed an hour ago
        server.set_faults(Faults())
        with (
            httpx.Client(transport=RefusingTransport()) as http,
            sync_client(server, vt, http_client=http) as flaky,
        ):
            again = flaky.tasks.create(index_id=index.id, file=media.videos[3])
        server.advance(60.0)
        assert client.tasks.retrieve(old.id).failed
        assert again.id != old.id
        assert client.tasks.retrieve(again.id).ready
    assert server.stats()["uploads"] == 2


class SlowLosingTransport(httpx.HTTPTransport):
    """The first upload is stored, a minute passes (its task fails meanwhile), and the
    answer is lost."""

    def __init__(self, emu: Emulator) -> None:
        super().__init__()
        self.emu = emu
        self.uploads = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/tasks"):
            self.uploads += 1
            if self.uploads == 1:
                response.read()
                response.close()
                self.emu.advance(60.0)
                raise httpx.ReadTimeout("the answer never came", request=request)
        return response


def test_an_upload_that_failed_before_the_look_up_is_not_sent_again(
    emulator_for: Callable[..., Emulator], media: Media
) -> None:
    config = EmulatorConfig(clock=ManualClock(), seed=12, faults=Faults(fail=1.0))
    server = emulator_for(config)
    assert server.clock is not None
    vt = FakeClock(server=server.clock)
    with (
        httpx.Client(transport=SlowLosingTransport(server)) as http,
        sync_client(server, vt, http_client=http) as client,
    ):
        index = client.indexes.create("failed-fast")
        task = client.tasks.create(index_id=index.id, file=media.videos[4])
    assert task.failed
    assert server.stats()["uploads"] == 1


def test_get_or_create_survives_a_lost_answer(emu: Emulator) -> None:
    assert emu.clock is not None
    emu.set_faults(Faults(lost=1.0), seed=1)
    time = FakeClock(server=emu.clock)
    with sync_client(emu, time) as client:
        with pytest.raises(APIConnectionError):
            client.indexes.create("made-once")  # a plain create is not repeated
        emu.set_faults(Faults())
        assert client.indexes.get_or_create("made-once").name == "made-once"
        emu.set_faults("lost=0.5", seed=3)
        made = client.indexes.get_or_create("made-twice?")
        emu.set_faults(Faults())
        names = [i.name or "" for i in client.indexes.list()]
    assert made.name == "made-twice?"
    assert sorted(names) == ["made-once", "made-twice?"]


# -- the emulator: the lost fault, its Date, failures keyed by the media --------------------


def test_the_lost_fault_acts_then_drops_the_answer(emu: Emulator) -> None:
    headers = {"x-api-key": "k"}
    models = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]
    body = {"index_name": "acted", "models": models}
    emu.set_faults(Faults(lost=1.0), seed=1)
    with httpx.Client(base_url=emu.base_url, headers=headers) as raw:
        with pytest.raises(httpx.RemoteProtocolError):
            raw.post("/indexes", json=body)
        emu.set_faults(Faults())
        listed = raw.get("/indexes").json()["data"]
    assert [index["index_name"] for index in listed] == ["acted"]
    assert emu.stats()["faults"] == {"lost": 1}


def test_the_emulator_dates_its_answers_by_its_own_clock(emu: Emulator) -> None:
    assert emu.clock is not None
    emu.advance(12_345.0)
    answer = httpx.get(f"{emu.base_url}/indexes", headers={"x-api-key": "k"})
    dated = email.utils.parsedate_to_datetime(answer.headers["date"]).timestamp()
    assert dated == pytest.approx(emu.clock(), abs=1.0)
    assert len(answer.headers.get_list("date")) == 1


def test_which_video_fails_does_not_depend_on_upload_order(media: Media) -> None:
    def failed_names(order: list[int]) -> frozenset[str]:
        config = EmulatorConfig(clock=ManualClock(), seed=8, faults=Faults(fail=0.4))
        with Emulator(config) as server:
            assert server.clock is not None
            with sync_client(server, FakeClock(server=server.clock)) as client:
                index = client.indexes.create("fate")
                for n in order:
                    client.tasks.create(index_id=index.id, file=media.videos[n])
            server.advance(3600.0)
            return server_truth(server).failed_files

    forward = failed_names(list(range(8)))
    assert forward
    assert failed_names(list(reversed(range(8)))) == forward
