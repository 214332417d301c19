"""Reading streamed answers at the transport (``httpx.MockTransport``): the analysis stream's
NDJSON events and a batch's JSON Lines results, however the bytes are cut, read as they
arrive, and refused when they are not what the API sends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

from tl_integrations import (
    APIConnectionError,
    AsyncTwelveLabs,
    MalformedResponseError,
    TwelveLabs,
)

BASE = "https://api.example.test/v1.3"
ASSET = "6711a09ae4a1b37f8a9c5d01"
BATCH = "6711a09ae4a1b37f8a9c5d02"


def ndjson(*events: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(e) + b"\n" for e in events)


START = {"event_type": "stream_start", "metadata": {"generation_id": "g1"}}
END = {
    "event_type": "stream_end",
    "finish_reason": "stop",
    "metadata": {"generation_id": "g1", "usage": {"output_tokens": 3, "input_tokens": 9}},
}


def cut(data: bytes, size: int) -> Iterator[bytes]:
    """The body in pieces of ``size`` bytes: lines arrive cut anywhere."""
    for at in range(0, len(data), size):
        yield data[at : at + size]


class Broken(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends ``first`` and then breaks, as a dropped connection does."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise httpx.ReadError("connection reset by peer")


def client_for(stream: httpx.SyncByteStream | bytes, *, path: str) -> TwelveLabs:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/v1.3{path}"
        if isinstance(stream, bytes):
            return httpx.Response(200, content=cut(stream, 7))
        return httpx.Response(200, stream=stream)

    http = httpx.Client(transport=httpx.MockTransport(answer))
    return TwelveLabs(api_key="k", base_url=BASE, http_client=http, max_retries=0)


def test_events_cut_anywhere_are_read_whole() -> None:
    body = ndjson(
        START,
        {"event_type": "text_generation", "text": "Héllo "},
        {"event_type": "text_generation", "text": "wor"},
        {"event_type": "future_event", "text": "ignored"},  # an event this client does not know
        {"event_type": "text_generation", "text": "ld"},
        END,
    )
    body = body.replace(b"\n", b"\n\n", 1)  # a blank line between events is allowed
    with client_for(body, path="/analyze") as client:
        stream = client.analyze.stream(ASSET, "Say hello")
        assert list(stream) == ["Héllo ", "wor", "ld"]
    assert stream.final is not None
    assert (stream.final.text, stream.final.id, stream.final.finish_reason) == (
        "Héllo world",
        "g1",
        "stop",
    )
    assert stream.final.usage == {"output_tokens": 3, "input_tokens": 9}


def test_a_cut_answer_keeps_its_warning() -> None:
    end = {**END, "finish_reason": "length", "error": {"message": "max_tokens reached"}}
    body = ndjson(START, {"event_type": "text_generation", "text": "Partial"}, end)
    with client_for(body, path="/analyze") as client:
        stream = client.analyze.stream(ASSET, "Say hello")
        list(stream)
    assert stream.final is not None
    assert (stream.final.finish_reason, stream.final.warning) == ("length", "max_tokens reached")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (ndjson(START, {"event_type": "text_generation", "text": "x"}), "without its stream_end"),
        (ndjson(START) + b"<html>gateway</html>\n" + ndjson(END), "not JSON"),
    ],
)
def test_a_broken_stream_is_a_typed_error(body: bytes, words: str) -> None:
    with (
        client_for(body, path="/analyze") as client,
        pytest.raises(MalformedResponseError, match=words),
    ):
        list(client.analyze.stream(ASSET, "Say hello"))


def test_fragments_come_as_they_arrive_and_a_drop_is_a_connection_error() -> None:
    first = ndjson(START, {"event_type": "text_generation", "text": "Early"})
    with client_for(Broken(first), path="/analyze") as client:
        stream = iter(client.analyze.stream(ASSET, "Say hello"))
        assert next(stream) == "Early"  # before the rest of the body (which never comes)
        with pytest.raises(APIConnectionError, match="POST /analyze"):
            next(stream)


def test_batch_results_are_read_line_by_line() -> None:
    ready = {
        "task_id": "t1",
        "custom_id": "a",
        "status": "ready",
        "data": {"generation_id": "g", "data": "Fine.", "finish_reason": "stop", "usage": {}},
    }
    failed = {
        "task_id": "t2",
        "custom_id": None,
        "status": "failed",
        "error": {"code": "asset_unavailable", "message": "The asset could not be read."},
    }
    waiting = {"task_id": "t3", "custom_id": "c", "status": "queued"}
    with client_for(ndjson(ready, failed, waiting), path=f"/analyze/batches/{BATCH}/results") as c:
        items = list(c.analyze.batches.results(BATCH))
    assert [(i.task_id, i.status, i.ready) for i in items] == [
        ("t1", "ready", True),
        ("t2", "failed", False),
        ("t3", "queued", False),
    ]
    assert items[0].result is not None
    assert items[0].result.text == "Fine."
    assert (items[1].error, items[1].error_code) == (
        "The asset could not be read.",
        "asset_unavailable",
    )
    assert items[2].result is None


def test_batch_results_come_before_a_drop() -> None:
    first = ndjson({"task_id": "t1", "custom_id": None, "status": "processing"})
    path = f"/analyze/batches/{BATCH}/results"
    with client_for(Broken(first), path=path) as client:
        items = client.analyze.batches.results(BATCH)
        assert next(items).task_id == "t1"
        with pytest.raises(APIConnectionError):
            next(items)


def test_a_batch_result_line_that_is_not_json_is_a_typed_error() -> None:
    body = ndjson({"task_id": "t1", "custom_id": None, "status": "processing"}) + b"<html>\n"
    path = f"/analyze/batches/{BATCH}/results"
    with client_for(body, path=path) as client:
        items = client.analyze.batches.results(BATCH)
        assert next(items).task_id == "t1"  # the lines before it are kept
        with pytest.raises(MalformedResponseError, match="batch results: a line is not JSON"):
            next(items)


def test_the_async_stream_reads_the_same_framing() -> None:
    body = ndjson(START, {"event_type": "text_generation", "text": "Hi"}, END)

    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async def run() -> tuple[list[str], str | None]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        async with AsyncTwelveLabs(api_key="k", base_url=BASE, http_client=http) as client:
            stream = client.analyze.stream(ASSET, "Say hi")
            fragments = [fragment async for fragment in stream]
            return fragments, stream.final.text if stream.final else None

    assert asyncio.run(run()) == (["Hi"], "Hi")
