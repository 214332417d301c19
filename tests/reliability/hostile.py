"""Hostile server answers, shared by the hostile-response tests: hypothesis strategies for
broken JSON, bodies, statuses and headers, valid documents to mutate, and a scripted server.

Example:
    >>> from hypothesis import given
    >>> @given(hostile(TASK))  # doctest: +SKIP
    ... def test(body): outcome_of(lambda: Task.from_api(body))
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from testkit import FakeClock
from tl_integrations import AsyncTwelveLabs, PollPolicy, RetryPolicy, TwelveLabs, TwelveLabsError

# Modest and derandomized, so that `make test` is fast and never flaky; raise
# TL_HOSTILE_EXAMPLES (and unset derandomize) to explore further by hand.
EXAMPLES = int(os.environ.get("TL_HOSTILE_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MAX_REQUESTS = 300

# -- hostile JSON ---------------------------------------------------------------------------

FIELD_NAMES = [
    "_id", "id", "status", "index_id", "video_id", "system_metadata", "metadata", "filename",
    "duration", "width", "height", "fps", "size", "hls", "data", "page_info", "page",
    "total_page", "next_page_token", "clips", "start", "end", "rank", "score", "transcription",
    "value", "user_metadata", "models", "model_name", "model_options", "video_count",
    "finish_reason", "usage", "error", "code", "message", "segments", "float", "embedding",
    "text_embedding", "video_embedding", "start_sec", "end_sec", "embedding_option",
    "embedding_scope", "start_offset_sec", "end_offset_sec",
]  # fmt: skip
ODD_STRINGS = ["nan", "NaN", "inf", "-inf", "1e999", "-0", "", " ", "ready", "failed", "12.5",
               "null", "\x00", "é🎬", "9" * 40]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(ODD_STRINGS)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6), inner, max_size=6)
    ),
    max_leaves=25,
)

TASK: dict[str, Any] = {
    "_id": "t1",
    "index_id": "i1",
    "video_id": "v1",
    "status": "indexing",
    "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-01-01T00:00:01Z",
    "system_metadata": {
        "filename": "a.mp4",
        "duration": 12.5,
        "width": 640,
        "height": 360,
        "fps": 24.0,
    },
    "hls": {"video_url": "https://x/a.m3u8", "status": "COMPLETE"},
}
INDEX: dict[str, Any] = {
    "_id": "i1",
    "index_name": "talks",
    "video_count": 2,
    "total_duration": 30.5,
    "models": [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}],
    "addons": ["thumbnail"],
}
VIDEO: dict[str, Any] = {
    "_id": "v1",
    "system_metadata": TASK["system_metadata"],
    "user_metadata": {"k": 1},
    "transcription": [{"start": 0.0, "end": 1.5, "value": "hello"}],
    "hls": {"video_url": "u"},
}
CLIP: dict[str, Any] = {
    "video_id": "v1",
    "start": 1.0,
    "end": 4.0,
    "rank": 1,
    "score": 83.2,
    "confidence": "high",
    "transcription": "hi",
}
SEARCH_PAGE: dict[str, Any] = {
    "data": [CLIP, {"id": "v2", "clips": [CLIP]}],
    "page_info": {"next_page_token": "tok", "total_results": 2},
}
ANALYZE: dict[str, Any] = {
    "id": "g1",
    "data": '{"chapters": []}',
    "finish_reason": "stop",
    "usage": {"output_tokens": 5},
}
PAGE: dict[str, Any] = {
    "data": [TASK, TASK],
    "page_info": {"page": 1, "total_page": 1, "limit_per_page": 50},
}
TEXT_V1: dict[str, Any] = {"text_embedding": {"segments": [{"float": [0.6, 0.8]}]}}
TEXT_V2: dict[str, Any] = {"data": [{"embedding": [0.6, 0.8]}]}
VIDEO_V1: dict[str, Any] = {
    "_id": "e1",
    "model_name": "Marengo-retrieval-2.7",
    "status": "ready",
    "video_embedding": {
        "metadata": {"duration": 8.0},
        "segments": [
            {
                "float": [0.1, 0.2],
                "start_offset_sec": 0,
                "end_offset_sec": 6,
                "embedding_option": "visual-text",
                "embedding_scope": "clip",
            }
        ],
    },
}
VIDEO_V2: dict[str, Any] = {
    "_id": "e2",
    "status": "ready",
    "metadata": {"duration": 8.0},
    "data": [
        {
            "embedding": [0.1, 0.2],
            "start_sec": 0,
            "end_sec": 6,
            "embedding_option": "visual",
            "embedding_scope": "clip",
        }
    ],
}


def _set_in(doc: Any, path: list[str | int], value: Any, drop: bool) -> Any:
    """A copy of ``doc`` with the node at ``path`` replaced (or removed)."""
    if not path or not isinstance(doc, (dict, list)) or not doc:
        return value
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    keys = list(copy) if isinstance(copy, dict) else list(range(len(copy)))
    step = path[0]
    # A field name present here is taken as is; otherwise the step picks a key by position.
    key = step if step in keys else keys[(step if isinstance(step, int) else len(step)) % len(keys)]
    if len(path) == 1 and drop:
        del copy[key]  # type: ignore[arg-type]
    else:
        copy[key] = _set_in(copy[key], path[1:], value, drop)  # type: ignore[index]
    return copy


def _paths(doc: Any, prefix: tuple[str | int, ...] = ()) -> list[list[str | int]]:
    """Every node of a document, as a path of keys and list positions."""
    found = [list(prefix)] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for position, value in enumerate(doc[:2]):
            found += _paths(value, (*prefix, position))
    return found


# The values most likely to break a decoder, tried more often than chance would.
NASTY = [float("nan"), float("inf"), -float("inf"), "nan", "inf", "1e999", None, True, [], {},
         "x", -1, 2**64, 1e308, -1e308, 0]  # fmt: skip


def mutated(base: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A valid document with a few nodes replaced by hostile values, removed, or added."""
    random_path = st.lists(st.sampled_from(FIELD_NAMES) | st.integers(0, 3), min_size=1, max_size=4)
    edit = st.tuples(
        st.sampled_from(_paths(base)) | random_path,
        st.sampled_from(NASTY) | json_values,
        st.booleans(),
    )

    def apply(edits: list[tuple[list[str | int], Any, bool]], extra: dict[str, Any]) -> Any:
        doc: Any = {**base, **extra}
        for path, value, drop in edits:
            doc = _set_in(doc, path, value, drop)
        return doc

    extras = st.dictionaries(st.text(max_size=8), json_values, max_size=3)
    return st.builds(apply, st.lists(edit, max_size=4), extras)


def hostile(base: dict[str, Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(base), mutated(base), json_values)


def outcome_of(call: Callable[[], object]) -> object:
    """Run ``call``; a TwelveLabsError is an acceptable outcome, anything else fails."""
    try:
        return call()
    except TwelveLabsError as exc:
        return exc


def dumps(value: Any) -> bytes:
    # Python's json writes NaN and Infinity literals, as a broken server might.
    return json.dumps(value, allow_nan=True, default=str).encode()


def hostile_bytes(base: dict[str, Any]) -> st.SearchStrategy[bytes]:
    valid = dumps(base)
    truncated = st.integers(0, len(valid)).map(lambda n: valid[:n])
    return st.one_of(truncated, hostile(base).map(dumps), st.binary(max_size=64), st.just(b""))


# -- error bodies and headers --------------------------------------------------------------

statuses = st.sampled_from([400, 401, 403, 404, 408, 409, 413, 418, 422, 429, 500, 502, 503])
header_values = st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=30)).map(
    lambda v: v.encode("latin-1", "replace").decode("latin-1").replace("\r", "").replace("\n", "")
)
hostile_headers = st.dictionaries(
    st.sampled_from(["retry-after", "retry-after-ms", "x-ratelimit-reset", "date", "content-type"]),
    header_values
    | st.sampled_from(
        [
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Fri, 31 Dec 99999 23:59:59 GMT",
            "3600",
            "1e300",
            "application/json; charset=no-such-codec",
            "text/html; charset=utf-16",
        ]
    ),
    max_size=4,
)


# -- through the real client ---------------------------------------------------------------


class Hang(Exception):
    """The client kept asking: a loop a hostile server could keep going forever."""


class Script:
    """Answers from a list of (status, headers, body), the last one repeated forever."""

    def __init__(self, answers: list[tuple[int, dict[str, str], bytes]]) -> None:
        self.answers = answers
        self.count = 0
        self.time = FakeClock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        if self.count > MAX_REQUESTS:
            raise Hang(f"{self.count} requests for one call: {request.method} {request.url}")
        status, headers, body = self.answers[min(self.count - 1, len(self.answers) - 1)]
        raw_headers = [(key.encode(), value.encode("latin-1")) for key, value in headers.items()]
        return httpx.Response(status, headers=raw_headers, content=body)

    def sleep(self, seconds: float) -> None:
        assert math.isfinite(seconds)
        self.time.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        assert math.isfinite(seconds)
        await self.time.async_sleep(seconds)

    def client(self) -> TwelveLabs:
        return TwelveLabs(
            api_key="tlk-hostile",
            base_url="https://api.example.test/v1.3",
            http_client=httpx.Client(transport=httpx.MockTransport(self)),
            retry_policy=RetryPolicy(max_retries=2, max_throttle_s=10.0),
            poll_policy=PollPolicy(max_consecutive_errors=2),
            clock=self.time,
            sleep=self.sleep,
        )

    def async_client(self) -> AsyncTwelveLabs:
        return AsyncTwelveLabs(
            api_key="tlk-hostile",
            base_url="https://api.example.test/v1.3",
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(self)),
            retry_policy=RetryPolicy(max_retries=2, max_throttle_s=10.0),
            poll_policy=PollPolicy(max_consecutive_errors=2),
            clock=self.time,
            sleep=self.async_sleep,
        )


def answers(base: dict[str, Any]) -> st.SearchStrategy[list[tuple[int, dict[str, str], bytes]]]:
    no_headers: dict[str, str] = {}
    ok = st.tuples(
        st.sampled_from([200, 200, 200, 201, 204]), st.just(no_headers), hostile_bytes(base)
    )
    failed = st.tuples(statuses, hostile_headers, hostile_bytes({"code": "c", "message": "m"}))
    return st.lists(ok | failed, min_size=1, max_size=4)
