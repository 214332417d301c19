"""Fixtures for the core client tests: a fake API, its clock, and sync/async twins."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from testkit import FakeClock
from tl_integrations import AsyncTwelveLabs, TwelveLabs

from .emulated import emu, journal_home, live  # noqa: F401 (fixtures of the emulator tests)
from .fakeapi import FakeTwelveLabs


class Twin:
    """One client of either kind, with helpers that hide the ``await``.

    ``twin.run(client.tasks.wait(...))`` returns the value for the sync client and runs the
    coroutine for the async one, so one scenario exercises both twins.
    """

    def __init__(self, kind: str, api: FakeTwelveLabs, **kwargs: Any) -> None:
        self.kind = kind
        self.api = api
        self.client: Any = api.client(**kwargs) if kind == "sync" else api.async_client(**kwargs)

    def run(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            return asyncio.run(_awaited(value))
        return value

    def collect(self, iterable: Any, *, into: list[Any] | None = None) -> list[Any]:
        items = [] if into is None else into
        if hasattr(iterable, "__aiter__"):

            async def drain() -> None:
                async for item in iterable:
                    items.append(item)

            asyncio.run(drain())
        else:
            items.extend(iterable)
        return items

    def close(self) -> None:
        http = self.client._http
        if isinstance(self.client, AsyncTwelveLabs):
            asyncio.run(http.aclose())
        else:
            assert isinstance(self.client, TwelveLabs)
            http.close()


async def _awaited(value: Any) -> Any:
    return await value


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api(clock: FakeClock) -> FakeTwelveLabs:
    return FakeTwelveLabs(clock=clock)


@pytest.fixture
def client(api: FakeTwelveLabs) -> Iterator[TwelveLabs]:
    with api.client() as made:
        yield made
        made._http.close()


@pytest.fixture(params=["sync", "async"])
def twin(request: pytest.FixtureRequest, api: FakeTwelveLabs) -> Iterator[Twin]:
    made = Twin(request.param, api)
    yield made
    made.close()
