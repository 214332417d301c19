"""Scenario 7b: hostile responses served to the real client (sync and async) through an
``httpx.MockTransport``: every call ends in a value or a :class:`TwelveLabsError`, never
another exception and never a hang. The transport stops a call that keeps asking (more than
``MAX_REQUESTS`` requests) with :class:`Hang`, which fails the property.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings

from tl_integrations import AsyncTwelveLabs, Task, TwelveLabs, TwelveLabsError

from .hostile import (
    ANALYZE,
    CLIP,
    EXAMPLES,
    MAX_REQUESTS,
    PAGE,
    SEARCH_PAGE,
    SETTINGS,
    TASK,
    TEXT_V1,
    TEXT_V2,
    VIDEO,
    VIDEO_V2,
    Script,
    answers,
    dumps,
    outcome_of,
)

pytestmark = pytest.mark.slow


def _drain(iterator: Iterator[Any]) -> list[Any]:
    return list(itertools.islice(iterator, 1000))


CALLS: dict[str, tuple[dict[str, Any], Callable[[TwelveLabs], object]]] = {
    "tasks.retrieve": (TASK, lambda c: c.tasks.retrieve("t1")),
    "tasks.list": (PAGE, lambda c: _drain(c.tasks.list(index_id="i1"))),
    "tasks.wait": (TASK, lambda c: c.tasks.wait("t1", timeout_s=60.0)),
    "tasks.wait_many": (
        PAGE,
        lambda c: _drain(
            c.tasks.wait_many(
                [Task.from_api({**TASK, "_id": f"t{n}"}) for n in range(3)], timeout_s=60.0
            )
        ),
    ),
    "tasks.create": (TASK, lambda c: c.tasks.create(index_id="i1", video_url="https://v/a.mp4")),
    "indexes.list": (PAGE, lambda c: _drain(c.indexes.list())),
    "indexes.get_or_create": (PAGE, lambda c: c.indexes.get_or_create("talks")),
    "videos.retrieve": (VIDEO, lambda c: c.videos.retrieve("i1", "v1", transcription=True)),
    "videos.list": (PAGE, lambda c: _drain(c.videos.list("i1", user_metadata={"k": 1}))),
    "search": (SEARCH_PAGE, lambda c: _drain(c.search.query(index_id="i1", query_text="q"))),
    "analyze": (
        ANALYZE,
        lambda c: c.analyze(
            "v1",
            "Summarize",
            response_format={"type": "json_schema", "json_schema": {"type": "object"}},
        ),
    ),
    "embed.text v2": (TEXT_V2, lambda c: c.embed.text("q", model_name="marengo3.0")),
    "embed.text v1": (TEXT_V1, lambda c: c.embed.text("q", model_name="Marengo-retrieval-2.7")),
    "embed.tasks.retrieve": (VIDEO_V2, lambda c: c.embed.tasks.retrieve("e2")),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_client_calls_end_in_a_value_or_a_typed_error(name: str) -> None:
    base, call = CALLS[name]

    @settings(SETTINGS, max_examples=EXAMPLES * 2 // 3)
    @given(answers(base))
    def prop(script_answers: list[tuple[int, dict[str, str], bytes]]) -> None:
        script = Script(script_answers)
        with script.client() as client:
            outcome_of(lambda: call(client))

    prop()


async def _adrain(iterator: AsyncIterator[Any]) -> list[Any]:
    items = []
    async for item in iterator:
        items.append(item)
        if len(items) >= 1000:
            break
    return items


ASYNC_CALLS: dict[str, tuple[dict[str, Any], Callable[[AsyncTwelveLabs], Awaitable[object]]]] = {
    "tasks.retrieve": (TASK, lambda c: c.tasks.retrieve("t1")),
    "tasks.wait_many": (
        PAGE,
        lambda c: _adrain(
            c.tasks.wait_many(
                [Task.from_api({**TASK, "_id": f"t{n}"}) for n in range(3)], timeout_s=60.0
            )
        ),
    ),
    "indexes.list": (PAGE, lambda c: _adrain(c.indexes.list())),
    "search": (SEARCH_PAGE, lambda c: _adrain(c.search.query(index_id="i1", query_text="q"))),
    "embed.texts": (TEXT_V2, lambda c: c.embed.texts(["a", "b"], model_name="marengo3.0")),
}


@pytest.mark.parametrize("name", list(ASYNC_CALLS))
def test_async_client_calls_end_in_a_value_or_a_typed_error(name: str) -> None:
    base, call = ASYNC_CALLS[name]

    async def run(script: Script) -> None:
        async with script.async_client() as client:
            with contextlib.suppress(TwelveLabsError):  # a value or this; nothing else
                await call(client)

    @settings(SETTINGS, max_examples=EXAMPLES // 3)
    @given(answers(base))
    def prop(script_answers: list[tuple[int, dict[str, str], bytes]]) -> None:
        asyncio.run(run(Script(script_answers)))

    prop()


def test_a_list_that_never_ends_is_stopped() -> None:
    """Pages without ``total_page`` that repeat forever: the walk must stop, not spin."""
    body = dumps({"data": [TASK], "page_info": {}})
    script = Script([(200, {}, body)])
    with script.client() as client:
        outcome = outcome_of(lambda: list(client.tasks.list(index_id="i1")))
    assert script.count < MAX_REQUESTS
    assert isinstance(outcome, (list, TwelveLabsError))


def test_a_search_token_that_repeats_is_stopped() -> None:
    body = dumps({"data": [CLIP], "page_info": {"next_page_token": "same"}})
    script = Script([(200, {}, body)])
    with script.client() as client:
        outcome_of(lambda: list(client.search.query(index_id="i1", query_text="q")))
    assert script.count < MAX_REQUESTS
