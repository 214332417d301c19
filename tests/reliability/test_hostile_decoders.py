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

from tl_integrations import (
    AnalyzeResult,
    APIStatusError,
    Index,
    RetryPolicy,
    SearchClip,
    SystemMetadata,
    Task,
    TwelveLabsError,
    Video,
)
from tl_integrations._embed.decode import (
    decode_text_v1,
    decode_text_v2,
    decode_video_v1,
    decode_video_v2,
)
from tl_integrations._resources.analyze import analyze_result
from tl_integrations._resources.search import search_page
from tl_integrations._retrying import Outcome, server_delay_s
from tl_integrations._transport import Reply, error_from_reply
from tl_integrations._wire import (
    opt_float,
    opt_int,
    opt_list,
    opt_obj,
    opt_str,
    parse_page,
    read_fields,
    req_str,
)

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
        lambda body: analyze_result(
            body, {"type": "json_schema", "json_schema": {"type": "object"}}
        ),
    ),
    "search page": (SEARCH_PAGE, search_page),
    "list page": (PAGE, lambda body: parse_page(body, "task list")),
}


@pytest.mark.parametrize("name", list(PARSERS))
def test_parsers_return_a_value_or_a_typed_error(name: str) -> None:
    base, parse = PARSERS[name]

    @SETTINGS
    @given(hostile(base))
    def prop(body: Any) -> None:
        outcome_of(lambda: parse(body))

    prop()


# -- read_fields reads as the single-field readers do ------------------------------------

_SINGLE: dict[str, Callable[[dict[str, Any]], object]] = {
    "id": lambda obj: req_str(obj, "k", "thing"),
    "str": lambda obj: opt_str(obj, "k", "thing"),
    "obj": lambda obj: opt_obj(obj, "k", "thing"),
    "list": lambda obj: opt_list(obj, "k", "thing"),
    "float": lambda obj: opt_float(obj, "k", "thing"),
    "float+": lambda obj: opt_float(obj, "k", "thing", non_negative=True),
    "int": lambda obj: opt_int(obj, "k", "thing"),
    "int+": lambda obj: opt_int(obj, "k", "thing", non_negative=True),
}
_ANY_JSON = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**53 + 1, -(2**53) - 1, 10**400]),  # past exact floats, past floats
    st.floats(),  # NaN and infinities too
    st.text(max_size=8),
    st.sampled_from(["12.5", "-3", "nan", "1e999", "0x10", ""]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)


def _same(a: object, b: object) -> bool:
    if isinstance(a, Exception) or isinstance(b, Exception):
        return type(a) is type(b) and str(a) == str(b)
    return type(a) is type(b) and (a == b or (a != a and b != b))


@pytest.mark.parametrize("kind", list(_SINGLE))
def test_read_fields_reads_each_kind_exactly_as_its_single_field_reader(kind: Any) -> None:
    @SETTINGS
    @given(_ANY_JSON)
    def prop(value: Any) -> None:
        obj = {"k": value}
        many = outcome_of(lambda: read_fields(obj, "thing", (("a", "k", kind),)))
        one = outcome_of(lambda: _SINGLE[kind](obj))
        assert _same(many["a"] if isinstance(many, dict) else many, one), (value, many, one)

    prop()


# -- the embedding decoders, fed bytes ---------------------------------------------------


DECODERS: dict[str, tuple[dict[str, Any], Callable[[bytes], object]]] = {
    "text v1": (TEXT_V1, decode_text_v1),
    "text v2": (TEXT_V2, decode_text_v2),
    "video v1": (VIDEO_V1, lambda body: decode_video_v1(body, dim_hint=2)),
    "video v2": (VIDEO_V2, lambda body: decode_video_v2(body, dim_hint=2)),
    "Reply.json": (
        TASK,
        lambda body: Reply(200, httpx.Headers(), body, method="GET", path="/tasks").json(),
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
    clips, token = search_page({"data": [CLIP] * 50_000})
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
    reply = Reply(status, httpx.Headers(raw_headers), body, method="GET", path="/tasks/t1")
    error = error_from_reply(reply)
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
