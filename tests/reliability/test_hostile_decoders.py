"""Scenario 7a: hostile responses fed to the decoders directly. Truncated JSON, wrong types,
missing and extra fields, huge arrays, NaN, odd statuses and headers: every parser and
decoder returns a value or raises a :class:`TwelveLabsError`, never another exception.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tl_integrations._http import error_from_response, response_json
from tl_integrations.client import _calls
from tl_integrations.client import _tasks_core as tasks_core
from tl_integrations.embed.decode import (
    decode_text_v1,
    decode_text_v2,
    decode_video_v1,
    decode_video_v2,
)
from tl_integrations.errors import APIStatusError, TwelveLabsError
from tl_integrations.models import (
    AnalyzeResult,
    Index,
    SearchClip,
    SystemMetadata,
    Task,
    Video,
    parse_page,
)
from tl_integrations.retrying import Outcome, RetryPolicy, server_delay_s

from .hostile import (
    ANALYZE,
    CLIP,
    INDEX,
    PAGE,
    SEARCH_PAGE,
    SETTINGS,
    TASK,
    TEXT_V1,
    TEXT_V2,
    VIDEO,
    VIDEO_V1,
    VIDEO_V2,
    dumps,
    hostile,
    hostile_bytes,
    hostile_headers,
    outcome_of,
    statuses,
)

pytestmark = pytest.mark.slow

# -- the model and page parsers, fed decoded JSON -----------------------------------------

PARSERS: dict[str, tuple[dict[str, Any], Callable[[Any], object]]] = {
    "Task": (TASK, lambda body: Task.from_api(body, index_id="i0")),
    "Task.done/failure_reason": (
        TASK,
        lambda b: (lambda t: (t.done, t.failure_reason))(Task.from_api(b)),
    ),
    "SystemMetadata": (TASK["system_metadata"], SystemMetadata.from_api),
    "Index": (INDEX, Index.from_api),
    "Video": (VIDEO, lambda body: Video.from_api(body, index_id="i1")),
    "SearchClip": (CLIP, SearchClip.from_api),
    "AnalyzeResult": (ANALYZE, AnalyzeResult.from_api),
    "analyze with a schema": (
        ANALYZE,
        lambda body: _calls.analyze_result(
            body, {"type": "json_schema", "json_schema": {"type": "object"}}
        ),
    ),
    "search page": (SEARCH_PAGE, _calls.search_page),
    "list page": (PAGE, lambda body: parse_page(body, "task list")),
    "created index": (INDEX, lambda body: _calls.created_index(body, _calls.Call("POST", "/"))),
    "video lookup": (PAGE, tasks_core.first_video_id),
    "task lookup": (PAGE, lambda body: tasks_core.match_video(body, "v1", "i1", None)),
}


@pytest.mark.parametrize("name", list(PARSERS))
def test_parsers_return_a_value_or_a_typed_error(name: str) -> None:
    base, parse = PARSERS[name]

    @SETTINGS
    @given(hostile(base))
    def prop(body: Any) -> None:
        outcome_of(lambda: parse(body))

    prop()


# -- the embedding decoders, fed bytes ---------------------------------------------------


DECODERS: dict[str, tuple[dict[str, Any], Callable[[bytes], object]]] = {
    "text v1": (TEXT_V1, decode_text_v1),
    "text v2": (TEXT_V2, decode_text_v2),
    "video v1": (VIDEO_V1, lambda body: decode_video_v1(body, dim_hint=2)),
    "video v2": (VIDEO_V2, lambda body: decode_video_v2(body, dim_hint=2)),
    "response_json": (
        TASK,
        lambda body: response_json(
            httpx.Response(200, content=body, request=httpx.Request("GET", "http://x/tasks"))
        ),
    ),
}


@pytest.mark.parametrize("name", list(DECODERS))
def test_byte_decoders_return_a_value_or_a_typed_error(name: str) -> None:
    base, decode = DECODERS[name]

    @SETTINGS
    @given(hostile_bytes(base))
    def prop(body: bytes) -> None:
        result = outcome_of(lambda: decode(body))
        if isinstance(result, np.ndarray):
            assert result.dtype == np.float32
            assert np.isfinite(result).all()

    prop()


def test_huge_and_non_finite_vectors() -> None:
    rows = np.random.default_rng(0).random((2000, 1024)).round(6).tolist()
    segments = [
        {"embedding": row, "start_sec": i, "end_sec": i + 1, "embedding_option": "visual",
         "embedding_scope": "clip"}
        for i, row in enumerate(rows)
    ]  # fmt: skip
    ve = decode_video_v2(dumps({"_id": "e", "status": "ready", "data": segments}))
    assert ve.vectors.shape == (2000, 1024)
    assert ve.vectors.dtype == np.float32
    assert decode_text_v2(dumps({"data": [{"embedding": [0.5] * 1_000_000}]})).shape == (1_000_000,)
    for bad in ([float("nan")], [1e39], [float("inf")], [], [[0.1]], ["0.1"], [None], [True]):
        with pytest.raises(TwelveLabsError):
            decode_text_v2(dumps({"data": [{"embedding": bad}]}))


def test_huge_pages_parse() -> None:
    items, total = parse_page({"data": [TASK] * 100_000, "page_info": {"total_page": 1}}, "t")
    assert len(items) == 100_000
    assert total == 1
    clips, token = _calls.search_page({"data": [CLIP] * 50_000})
    assert len(clips) == 50_000
    assert token is None


@SETTINGS
@given(
    statuses,
    hostile_headers,
    st.one_of(
        hostile_bytes({"code": "x", "message": "m"}),
        hostile_bytes({"error": {"code": "x", "message": "m"}}),
    ),
)
def test_error_mapping_always_gives_a_typed_error(
    status: int, headers: dict[str, str], body: bytes
) -> None:
    raw_headers = [(key.encode(), value.encode("latin-1")) for key, value in headers.items()]
    response = httpx.Response(status, headers=raw_headers, content=body)
    error = error_from_response(response, method="GET", path="/tasks/t1")
    assert isinstance(error, APIStatusError)
    assert error.status_code == status
    assert "GET /tasks/t1" in str(error)
    wait = error.retry_after_s
    assert wait is None or (math.isfinite(wait) and wait >= 0)


@SETTINGS
@given(statuses, hostile_headers, st.floats(min_value=0.0, max_value=4e9))
def test_server_delays_are_finite_or_none(status: int, headers: dict[str, str], now: float) -> None:
    delay = server_delay_s(Outcome(status_code=status, headers=headers, now_epoch=now))
    assert delay is None or (math.isfinite(delay) and delay >= 0)
    paced = RetryPolicy().pacing_s(
        Outcome(status_code=status, headers=headers, now_epoch=now), waited_s=0.0
    )
    assert paced is None or (math.isfinite(paced) and 0 <= paced <= 120)
