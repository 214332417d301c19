"""Scenario 4: 30 requests a minute on the embed category; 100 texts still all get embedded.

No ``RateLimitError`` may reach the caller, and no retry may leave before the
``Retry-After`` the server gave for the attempt before it. Times are read on the emulator's
manual clock, which only the clients' sleeps move, so 100 texts at 30 a minute take about
140 emulated seconds and well under a second of wall time.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import orjson
import pytest

from testkit import FakeClock, start_emulator
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock, RateLimits

from .conftest import RetryLog, async_client, report, sync_client

Hooks = dict[str, list[Callable[..., Any]]]
PER_MINUTE = 30
TEXTS = [f"rate limited text {n} about {n % 7} things" for n in range(100)]
MODEL = "marengo3.0"


@dataclass
class Attempt:
    """One HTTP attempt of one text, on the emulator's clock."""

    sent_at: float
    status: int = 0
    answered_at: float = 0.0
    retry_after_s: float | None = None


class Recorder:
    """httpx event hooks that log every attempt per text (the text is in the JSON body)."""

    def __init__(self, vt: FakeClock) -> None:
        self.vt = vt
        self.attempts: dict[str, list[Attempt]] = defaultdict(list)
        self._lock = threading.Lock()

    @staticmethod
    def _text(request: httpx.Request) -> str:
        return str(orjson.loads(request.content)["text"]["input_text"])

    def on_request(self, request: httpx.Request) -> None:
        with self._lock:
            self.attempts[self._text(request)].append(Attempt(self.vt.now))

    def on_response(self, response: httpx.Response) -> None:
        after = response.headers.get("retry-after")
        with self._lock:
            attempt = self.attempts[self._text(response.request)][-1]
            attempt.status = response.status_code
            attempt.answered_at = self.vt.now
            attempt.retry_after_s = None if after is None else float(after)

    async def aon_request(self, request: httpx.Request) -> None:
        self.on_request(request)

    async def aon_response(self, response: httpx.Response) -> None:
        self.on_response(response)

    def check(self) -> dict[str, int]:
        """Every text succeeded in the end; no retry left before its Retry-After."""
        assert sorted(self.attempts) == sorted(TEXTS)
        refused = 0
        for text, attempts in self.attempts.items():
            assert attempts[-1].status == 200, text
            for before, after in itertools.pairwise(attempts):
                assert before.status == 429
                assert before.retry_after_s is not None
                assert after.sent_at >= before.answered_at + before.retry_after_s, text
                refused += 1
        return {"refused_429": refused, "attempts": sum(map(len, self.attempts.values()))}


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> Emulator:
    config = EmulatorConfig(clock=ManualClock(), seed=5, rate_limits=RateLimits(embed=PER_MINUTE))
    return start_emulator(request, config)


@pytest.fixture
def vt(emu: Emulator) -> FakeClock:
    assert emu.clock is not None
    return FakeClock(server=emu.clock)


def _baseline(emu: Emulator) -> np.ndarray:
    """The same texts embedded by an emulator without limits (embeddings are deterministic)."""
    with Emulator(EmulatorConfig(clock=ManualClock(), seed=5)) as free:
        assert free.clock is not None
        with sync_client(free, FakeClock(server=free.clock)) as client:
            return client.embed.texts(TEXTS, model_name=MODEL)


def test_sync_texts_ride_out_the_limit(emu: Emulator, vt: FakeClock, retry_log: RetryLog) -> None:
    recorder = Recorder(vt)
    hooks: Hooks = {"request": [recorder.on_request], "response": [recorder.on_response]}
    start = vt.now
    with httpx.Client(event_hooks=hooks) as http, sync_client(emu, vt, http_client=http) as client:
        vectors = client.embed.texts(TEXTS, model_name=MODEL, max_concurrency=8)
    assert np.array_equal(vectors, _baseline(emu))
    counts = recorder.check()
    elapsed = vt.now - start
    # 30 at once, then one every 2 s: the texts cannot all be done sooner than this.
    assert elapsed >= (len(TEXTS) - PER_MINUTE) * 60.0 / PER_MINUTE - 2.0
    assert emu.stats()["rate_limited"] == counts["refused_429"] > 0
    report(
        "rate limits/sync",
        texts=len(TEXTS),
        **counts,
        emulated_s=round(elapsed, 1),
        retries=retry_log.total,
        duplicates=0,
        lost=0,
    )


async def test_async_texts_ride_out_the_limit(
    emu: Emulator, vt: FakeClock, retry_log: RetryLog
) -> None:
    recorder = Recorder(vt)
    hooks: Hooks = {"request": [recorder.aon_request], "response": [recorder.aon_response]}
    start = vt.now
    async with (
        httpx.AsyncClient(event_hooks=hooks) as http,
        async_client(emu, vt, http_client=http) as client,
    ):
        vectors = await client.embed.texts(TEXTS, model_name=MODEL, max_concurrency=8)
    assert np.array_equal(vectors, _baseline(emu))
    counts = recorder.check()
    assert emu.stats()["rate_limited"] == counts["refused_429"] > 0
    report(
        "rate limits/async",
        texts=len(TEXTS),
        **counts,
        emulated_s=round(vt.now - start, 1),
        retries=retry_log.total,
        duplicates=0,
        lost=0,
    )
