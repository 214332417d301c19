"""One logical request: retries, server hints, error mapping (through MockTransport)."""

from __future__ import annotations

import httpx
import pytest

from testkit import FakeClock
from tl_integrations import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TwelveLabs,
)
from tl_integrations._transport import Request, send

from .conftest import Twin
from .fakeapi import EPOCH, FakeTwelveLabs, error, http_date

ASSET = "6711a09ae4a1b37f8a9c5d01"  # an asset id: Pegasus reads assets, not indexed video ids


def test_503_twice_then_success(twin: Twin) -> None:
    task = twin.api.add_task(twin.api.add_index())
    twin.api.fail("GET", f"/tasks/{task.id}", httpx.Response(503), httpx.Response(503))
    result = twin.run(twin.client.tasks.retrieve(task.id))
    assert result.id == task.id
    assert twin.api.count("GET", f"/tasks/{task.id}") == 3
    assert len(twin.api.clock.sleeps) == 2
    assert twin.api.clock.sleeps[1] > twin.api.clock.sleeps[0]


def test_429_with_retry_after_waits_exactly(twin: Twin) -> None:
    task = twin.api.add_task(twin.api.add_index())
    limited = httpx.Response(429, headers={"Retry-After": "2"})
    twin.api.fail("GET", f"/tasks/{task.id}", limited)
    twin.run(twin.client.tasks.retrieve(task.id))
    assert twin.api.clock.sleeps == [2.0]


def test_x_ratelimit_reset_is_honoured(twin: Twin) -> None:
    task = twin.api.add_task(twin.api.add_index())
    reset = int(EPOCH + twin.api.clock.now) + 5
    headers = {"X-Ratelimit-Reset": str(reset), "Date": http_date(twin.api.clock.now)}
    twin.api.fail("GET", f"/tasks/{task.id}", httpx.Response(429, headers=headers))
    twin.run(twin.client.tasks.retrieve(task.id))
    assert twin.api.clock.sleeps == [pytest.approx(5.0)]


def test_retry_after_as_http_date(twin: Twin) -> None:
    index_id = twin.api.add_index()
    headers = {"Retry-After": http_date(twin.api.clock.now + 4)}
    twin.api.fail("GET", "/indexes/.*", httpx.Response(503, headers=headers))
    twin.run(twin.client.indexes.retrieve(index_id))
    assert twin.api.clock.sleeps == [pytest.approx(4.0)]


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
    ],
)
def test_permanent_errors_raise_at_once(twin: Twin, status: int, exc: type[Exception]) -> None:
    twin.api.fail("GET", "/tasks/t1", error(status, "some_code", "explained"))
    with pytest.raises(exc) as info:
        twin.run(twin.client.tasks.retrieve("t1"))
    err = info.value
    assert err.status_code == status  # type: ignore[attr-defined]
    assert err.code == "some_code"  # type: ignore[attr-defined]
    assert err.api_message == "explained"  # type: ignore[attr-defined]
    assert "GET /tasks/t1" in str(err)
    assert twin.api.clock.sleeps == []
    assert twin.api.count("GET") == 1


def test_wrapped_error_shape(client: TwelveLabs, api: FakeTwelveLabs) -> None:
    body = {"error": {"code": "VALIDATION_ERROR", "message": "input_type is required"}}
    api.fail("POST", "/analyze", httpx.Response(400, json=body))
    with pytest.raises(BadRequestError) as info:
        client.analyze(ASSET, "hi")
    assert info.value.code == "VALIDATION_ERROR"
    assert "input_type is required" in str(info.value)


def test_empty_429_body_then_give_up(client: TwelveLabs, api: FakeTwelveLabs) -> None:
    api.fail("POST", "/analyze", *[httpx.Response(429)] * 4)
    with pytest.raises(RateLimitError) as info:
        client.analyze(ASSET, "hi")
    assert info.value.code is None
    assert api.count("POST", "/analyze") == 4  # first try + max_retries (3)


def test_plain_text_5xx(client: TwelveLabs, api: FakeTwelveLabs) -> None:
    api.fail("DELETE", "/tasks/t1", *[httpx.Response(502, text="<html>Bad gateway</html>")] * 4)
    with pytest.raises(ServerError, match="Bad gateway"):
        client.tasks.delete("t1")


def test_connection_errors_are_retried_then_wrapped(
    client: TwelveLabs, api: FakeTwelveLabs
) -> None:
    api.fail("GET", "/tasks/t1", *[httpx.ConnectError("refused")] * 4)
    with pytest.raises(APIConnectionError, match="GET /tasks/t1") as info:
        client.tasks.retrieve("t1")
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert len(api.clock.sleeps) == 3


def test_post_is_not_repeated_after_a_5xx(client: TwelveLabs, api: FakeTwelveLabs) -> None:
    api.fail("POST", "/indexes", httpx.Response(500))
    with pytest.raises(ServerError):
        client.indexes.create("x")
    assert api.count("POST", "/indexes") == 1


def test_post_is_repeated_after_a_429_or_refused_connection(
    client: TwelveLabs, api: FakeTwelveLabs
) -> None:
    api.fail("POST", "/indexes", httpx.Response(429), httpx.ConnectError("refused"))
    index = client.indexes.create("x")
    assert index.name == "x"
    assert api.count("POST", "/indexes") == 3


def test_safe_posts_are_retried_after_5xx(client: TwelveLabs, api: FakeTwelveLabs) -> None:
    api.fail("POST", "/search", httpx.Response(503))
    clips = list(client.search.query(index_id="i1", query_text="cat", max_results=3))
    assert len(clips) == 3


def test_retry_never(client: TwelveLabs, api: FakeTwelveLabs) -> None:
    api.fail("GET", "/tasks/t1", httpx.Response(503))
    with pytest.raises(ServerError):
        client._run(send(Request("GET", "/tasks/t1", retry="never"), client._ctx))
    assert [r.url.path for r in api.requests] == ["/v1.3/tasks/t1"]


def test_malformed_bodies_raise_library_errors(client: TwelveLabs, api: FakeTwelveLabs) -> None:
    api.fail("GET", "/tasks/t1", httpx.Response(200, json=["not", "a", "task"]))
    with pytest.raises(MalformedResponseError):
        client.tasks.retrieve("t1")
    api.fail("GET", "/tasks/t1", httpx.Response(200, json={"status": "ready"}))
    with pytest.raises(MalformedResponseError, match="_id"):
        client.tasks.retrieve("t1")
    api.fail("GET", "/tasks/t1", httpx.Response(200, json={"_id": "t1", "status": {"x": 1}}))
    with pytest.raises(MalformedResponseError, match="status"):
        client.tasks.retrieve("t1")
    api.fail("GET", "/tasks/t1", httpx.Response(200, content=b"<html>"))
    with pytest.raises(MalformedResponseError, match="not JSON"):
        client.tasks.retrieve("t1")


def test_budget_comes_from_max_retries(api: FakeTwelveLabs, clock: FakeClock) -> None:
    api.fail("GET", "/tasks/t1", *[httpx.Response(503)] * 2)
    with (
        api.client(retry_policy=None, max_retries=1) as client,
        pytest.raises(ServerError),
    ):
        client.tasks.retrieve("t1")
    assert api.count("GET", "/tasks/t1") == 2


class RecordingBudget:
    """Asks every request to wait 2 s once, and records what it is told."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.settled: list[tuple[str, int | None]] = []

    def acquire(self, request: Request) -> float:
        self.asked.append(request.label)
        return 2.0 if len(self.asked) % 2 == 1 else 0.0

    def settle(self, request: Request, status: int | None, headers: object) -> None:
        self.settled.append((request.label, status))


def test_a_shared_budget_paces_every_attempt_and_hears_every_answer(
    api: FakeTwelveLabs, clock: FakeClock
) -> None:
    budget = RecordingBudget()
    api.fail("GET", "/tasks/t1", httpx.Response(503))
    with api.client(budget=budget) as client, pytest.raises(NotFoundError):
        client.tasks.retrieve("t1")  # 503, retried, then the fake's 404
    assert budget.settled == [("GET /tasks/t1", 503), ("GET /tasks/t1", 404)]
    assert budget.asked == ["GET /tasks/t1"] * 4  # acquire, wait, acquire again: per attempt
    assert clock.sleeps.count(2.0) == 2


def _served(content: bytes, headers: dict[str, str]) -> TwelveLabs:
    reply = httpx.Response(200, content=content, headers=headers)
    http = httpx.Client(transport=httpx.MockTransport(lambda request: reply))
    return TwelveLabs("tlk_12345678", base_url="https://api.example/v1.3", http_client=http)


def test_a_large_plain_body_is_not_taken_for_a_decompression_bomb() -> None:
    # An in-process transport counts no downloaded bytes; a body that is not compressed
    # cannot inflate, so only the size cap applies (the embedding benchmark's 20 MB answer).
    big = (
        b'{"_id": "6650a1b2c3d4e5f601234567", "status": "ready", "pad": "'
        + b"x" * (20 * 1024 * 1024)
        + b'"}'
    )
    task = _served(big, {"content-type": "application/json"}).tasks.retrieve(
        "6650a1b2c3d4e5f601234567"
    )
    assert task.status == "ready"


def test_a_compressed_body_that_inflates_past_the_ratio_is_refused() -> None:
    import gzip

    bomb = gzip.compress(b" " * (40 * 1024 * 1024))  # ~40 KB that decode to 40 MB
    client = _served(bomb, {"content-type": "application/json", "content-encoding": "gzip"})
    with pytest.raises(MalformedResponseError, match="decompression bomb"):
        client.tasks.retrieve("6650a1b2c3d4e5f601234567")
