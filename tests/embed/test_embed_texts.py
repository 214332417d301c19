"""Text embeddings: bounded concurrency, order, 429s, and twin parity of the embed resources."""

from __future__ import annotations

import asyncio
import inspect
import threading

import httpx
import numpy as np
import pytest
from embed_support import BASE, FakeEmbedAPI, vector

from testkit import FakeClock
from tl_integrations import AsyncTwelveLabs, BadRequestError, InvalidRequestError, TwelveLabs

V1 = "Marengo-retrieval-2.7"
V2 = "marengo3.0"
WORDS = [f"text number {i}" for i in range(12)]


@pytest.mark.parametrize(("model", "dim"), [(V1, 1024), (V2, 512)])
def test_texts_keep_their_order(client: TwelveLabs, model: str, dim: int) -> None:
    matrix = client.embed.texts(WORDS, model_name=model, max_concurrency=4)
    assert matrix.shape == (12, dim)
    assert matrix.dtype == np.float32
    for row, text in zip(matrix, WORDS, strict=True):
        np.testing.assert_allclose(row, vector(text, dim), rtol=1e-6)


def test_texts_run_exactly_max_concurrency_at_a_time(
    fake: FakeEmbedAPI, fake_time: FakeClock
) -> None:
    bound = 3
    barrier = threading.Barrier(bound, timeout=10)  # deadlocks (and fails) below the bound
    lock = threading.Lock()
    in_flight, peak = 0, 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        barrier.wait()
        with lock:
            in_flight -= 1
        return fake.handler(request)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with TwelveLabs(api_key="k", base_url=BASE, http_client=http, sleep=fake_time.sleep) as c:
        matrix = c.embed.texts(WORDS, model_name=V2, max_concurrency=bound)
    assert matrix.shape == (12, 512)
    assert peak == bound


def test_texts_ride_out_429_honouring_retry_after(
    client: TwelveLabs, fake: FakeEmbedAPI, fake_time: FakeClock
) -> None:
    fake.text_429s = 2
    matrix = client.embed.texts(WORDS[:3], model_name=V2, max_concurrency=1)
    assert matrix.shape == (3, 512)
    assert fake_time.sleeps == [2.0, 2.0]
    assert len(fake.requests) == 5


def test_texts_checks_every_text_before_sending(client: TwelveLabs, fake: FakeEmbedAPI) -> None:
    with pytest.raises(InvalidRequestError, match="blank"):
        client.embed.texts(["fine", "  "], model_name=V2)
    with pytest.raises(InvalidRequestError, match="list of strings"):
        client.embed.texts("not a list", model_name=V2)
    with pytest.raises(InvalidRequestError, match="max_concurrency"):
        client.embed.texts(["a"], model_name=V2, max_concurrency=0)
    with pytest.raises(InvalidRequestError, match="unknown embedding model"):
        client.embed.text("a", model_name="nope")
    assert fake.requests == []
    assert client.embed.texts([], model_name=V1).shape == (0, 1024)


def test_the_first_error_is_raised(fake: FakeEmbedAPI) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if b"text number 5" in request.content:
            return httpx.Response(
                400, json={"error": {"code": "VALIDATION_ERROR", "message": "text too long"}}
            )
        return fake.handler(request)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with (
        TwelveLabs(api_key="k", base_url=BASE, http_client=http) as c,
        pytest.raises(BadRequestError, match="text too long"),
    ):
        c.embed.texts(WORDS, model_name=V2, max_concurrency=2)


async def test_async_texts_bound_order_and_429(fake: FakeEmbedAPI, fake_time: FakeClock) -> None:
    in_flight, peak = 0, 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):
            await asyncio.sleep(0)  # yield so that other requests can start
        in_flight -= 1
        return fake.handler(request)

    fake.text_429s = 1
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncTwelveLabs(
        api_key="k", base_url=BASE, http_client=http, sleep=fake_time.async_sleep
    ) as c:
        matrix = await c.embed.texts(WORDS, model_name=V1, max_concurrency=4)
        single = await c.embed.text("solo", model_name=V2)
    assert matrix.shape == (12, 1024)
    assert peak == 4
    np.testing.assert_allclose(matrix[7], vector(WORDS[7], 1024), rtol=1e-6)
    assert fake_time.sleeps == [2.0]
    assert single.shape == (512,)


async def test_async_first_error_cancels_the_rest(fake: FakeEmbedAPI) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if b"text number 0" in request.content:
            return httpx.Response(
                400, json={"error": {"code": "VALIDATION_ERROR", "message": "nope"}}
            )
        await asyncio.sleep(0)
        return fake.handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncTwelveLabs(api_key="k", base_url=BASE, http_client=http) as c:
        with pytest.raises(BadRequestError):
            await c.embed.texts(WORDS, model_name=V2, max_concurrency=2)
    assert len(fake.requests) < len(WORDS)


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_")
    }


@pytest.mark.parametrize("resource", ["embed", "embed.tasks"])
def test_twins_have_the_same_methods_and_signatures(
    client: TwelveLabs, aclient: AsyncTwelveLabs, resource: str
) -> None:
    sync, asyn = client, aclient
    for name in resource.split("."):
        sync, asyn = getattr(sync, name), getattr(asyn, name)
    ours, theirs = _public(type(sync)), _public(type(asyn))
    assert ours  # a comparison of two empty sets would prove nothing
    assert ours.keys() == theirs.keys()
    for name, signature in ours.items():
        assert list(signature.parameters.values()) == list(theirs[name].parameters.values()), name
        # Iterables (list, wait_many) are iterated with async for; everything else is awaited.
        iterable = name in ("list", "wait_many")
        assert inspect.iscoroutinefunction(getattr(type(asyn), name)) is not iterable, name


def test_both_twins_expose_task_alias(client: TwelveLabs, aclient: AsyncTwelveLabs) -> None:
    assert client.embed.task is client.embed.tasks
    assert aclient.embed.task is aclient.embed.tasks
