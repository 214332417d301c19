"""Pegasus analysis over raw HTTP: ``/analyze`` (JSON and stream), ``/analyze/tasks`` and
``/analyze/batches``: the current API's rules, lifecycles on the manual clock, results
built from the media, idempotency, and the gate's faults and limits on the new routes."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit import start_emulator
from tl_integrations.emulator import (
    Emulator,
    ManualClock,
    RateLimits,
    StageModel,
    make_sample_video,
)

from .conftest import LINES, make_png, sample, unique

SCENE = {
    "id": "scene",
    "description": "each scene of the video",
    "fields": [
        {"name": "description", "type": "string", "description": "what happens"},
        {"name": "people", "type": "array", "description": "who", "items": {"type": "string"}},
        {"name": "mood", "type": "string", "description": "the mood"},
    ],
}


def segmentation(asset_id: str, *definitions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "video": {"type": "asset_id", "asset_id": asset_id},
        "analysis_mode": "time_based_metadata",
        "response_format": {
            "type": "segment_definitions",
            "segment_definitions": list(definitions) or [SCENE],
        },
        **extra,
    }


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, clock: ManualClock, media: dict[str, Path]) -> Emulator:
    # file:// URLs are read only from directories the emulator is told it may read.
    return start_emulator(request, clock=clock, seed=11, file_dirs=(media["beach"].parent,))


@pytest.fixture(scope="module")
def http(server: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"x-api-key": "k"}, timeout=60) as c:
        yield c


def upload(server: Emulator, http: httpx.Client, path: Path) -> str:
    with path.open("rb") as handle:
        answer = http.post(
            "/assets", data={"method": "direct"}, files={"file": (path.name, handle)}
        )
    assert answer.status_code == 201, answer.text
    asset_id: str = answer.json()["_id"]
    for _ in range(100):
        server.advance(3600.0)
        if http.get(f"/assets/{asset_id}").json()["status"] != "processing":
            break
    assert http.get(f"/assets/{asset_id}").json()["status"] == "ready"
    return asset_id


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("analysis-media")
    return {
        "beach": sample(root / "beach.mp4", LINES["beach"]),
        "red": make_png(root / "red.png", (220, 40, 40)),
        "blue": make_png(root / "blue.png", (40, 70, 220)),
    }


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two hours, tiny and at one frame a second: long for Pegasus, cheap to make."""
    path = tmp_path_factory.mktemp("long") / "lecture.mp4"
    lines = [(60.0, 64.0, "Welcome to the lecture."), (5400.0, 5404.0, "Questions now.")]
    return make_sample_video(
        path, duration_s=7200.0, size=(360, 360), fps=1, subtitles=lines, audio=False
    )


@pytest.fixture(scope="module")
def beach(server: Emulator, http: httpx.Client, media: dict[str, Path]) -> str:
    return upload(server, http, media["beach"])


@pytest.fixture(scope="module")
def long_asset(server: Emulator, http: httpx.Client, long_video: Path) -> str:
    return upload(server, http, long_video)


def source(asset_id: str) -> dict[str, str]:
    return {"type": "asset_id", "asset_id": asset_id}


def ask(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return http.post("/analyze", json={"stream": False, **body})


def status_of(http: httpx.Client, task_id: str) -> str:
    status: str = http.get(f"/analyze/tasks/{task_id}").json()["status"]
    return status


def created_task(http: httpx.Client, body: dict[str, Any], **headers: str) -> str:
    answer = http.post("/analyze/tasks", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "queued"
    task_id: str = answer.json()["task_id"]
    return task_id


def finished(server: Emulator, http: httpx.Client, task_id: str) -> dict[str, Any]:
    for _ in range(200):
        task: dict[str, Any] = http.get(f"/analyze/tasks/{task_id}").json()
        if task["status"] in ("ready", "failed", "canceled"):
            return task
        server.advance(5.0)
    raise AssertionError(f"task {task_id} never ended")


# --------------------------------------------------------------------------- POST /analyze


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"video": None, "video_id": "6711a09ae4a1b37f8a9c5d01"}, "parameter_invalid", "video_id"),
        ({"model_name": "pegasus1.2"}, "parameter_invalid", "retired"),
        ({"model_name": "pegasus9"}, "parameter_invalid", "pegasus1.5"),
        ({"temperature": 1.5}, "parameter_invalid", "between 0 and 1"),
        ({"max_tokens": 10}, "parameter_invalid", "512"),
        ({"max_tokens": "unlimited"}, "parameter_invalid", "max_tokens"),
        ({"start_time": 2.0, "end_time": 2.5}, "parameter_invalid", "at least 1 s"),
        ({"end_time": 20.0}, "parameter_invalid", "duration"),
        ({"prompt_v2": {"input_text": "Hi"}}, "parameter_invalid", "not both"),
        ({"prompt": None}, "parameter_not_provided", "prompt"),
        ({"video": None}, "parameter_not_provided", "video"),
        (
            {"image": [{"name": "a", "url": "https://example.com/a.png"}]},
            "parameter_invalid",
            "pegasus1.6",
        ),
        (
            {"response_format": {"type": "segment_definitions", "segment_definitions": []}},
            "parameter_invalid",
            "only json_schema",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "type": "object",
                        "properties": {
                            "x": {
                                "type": "object",
                                "properties": {"t": {"type": "timestamp", "format": "seconds"}},
                            }
                        },
                    },
                }
            },
            "parameter_invalid",
            "timestamp is allowed only",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"type": "object", "properties": {"t": {"type": "timestamp"}}},
                }
            },
            "parameter_invalid",
            "format",
        ),
    ],
)
def test_analyze_refuses_what_the_api_refuses(
    http: httpx.Client, beach: str, change: dict[str, Any], code: str, words: str
) -> None:
    body = {"video": source(beach), "prompt": "Summarise", **change}
    answer = ask(http, {k: v for k, v in body.items() if v is not None})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == code
    assert words in answer.json()["message"]


@pytest.mark.parametrize("keyword", [{"minLength": 1}, {"maxLength": 9}])
def test_unsupported_schema_keywords_are_422(
    http: httpx.Client, beach: str, keyword: dict[str, int]
) -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string", **keyword}}}
    answer = ask(
        http,
        {
            "video": source(beach),
            "prompt": "Title",
            "response_format": {"type": "json_schema", "json_schema": schema},
        },
    )
    assert answer.status_code == 422
    assert next(iter(keyword)) in answer.json()["message"]


def test_an_asset_still_processing_is_refused(
    server: Emulator, http: httpx.Client, media: dict[str, Path]
) -> None:
    with media["beach"].open("rb") as handle:
        fresh = http.post(
            "/assets", data={"method": "direct"}, files={"file": ("again.mp4", handle)}
        ).json()["_id"]
    answer = ask(http, {"video": source(fresh), "prompt": "Title?"})
    assert (answer.status_code, answer.json()["code"]) == (400, "parameter_invalid")
    assert "processing" in answer.json()["message"]
    server.advance(3600.0)
    assert ask(http, {"video": source(fresh), "prompt": "Title?"}).status_code == 200


def test_answers_come_from_the_window_of_the_video(http: httpx.Client, beach: str) -> None:
    whole = ask(http, {"video": source(beach), "prompt": "What do the penguins and waves do?"})
    assert whole.status_code == 200
    body = whole.json()
    assert (body["finish_reason"], "error" in body) == ("stop", False)
    assert body["usage"]["output_tokens"] > 0
    assert body["usage"]["input_tokens"] >= 12  # the prompt and 12 s of video
    assert "Penguins" in body["data"]
    assert "Waves" in body["data"]
    late = ask(
        http,
        {
            "video": source(beach),
            "prompt": "What do the penguins and waves do?",
            "start_time": 6,
            "end_time": 12,
        },
    ).json()["data"]
    assert "Waves" in late
    assert "Penguins" not in late


def test_json_schema_answers_parse_and_honour_timestamps(http: httpx.Client, beach: str) -> None:
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "at": {"type": "timestamp", "format": "hh:mm:ss.fff"},
            "chapters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "start_time": {"type": "number"},
                        "end_time": {"type": "string"},
                        "summary": {"type": "string"},
                    },
                },
            },
        },
        "required": ["title", "chapters"],
    }
    answer = ask(
        http,
        {
            "video": source(beach),
            "prompt": "Chapters",
            "response_format": {"type": "json_schema", "json_schema": schema},
        },
    ).json()
    data = json.loads(answer["data"])
    assert list(data) == ["title", "at", "chapters"]
    assert data["at"] == "00:00:00.000"
    assert [c["start_time"] for c in data["chapters"]] == [0.0, 3.0, 6.0, 9.0]
    assert data["chapters"][-1]["end_time"] == "00:00:12.000"  # a plain string: hh:mm:ss.fff


def test_urls_and_base64_are_fetched_like_assets(
    http: httpx.Client, media: dict[str, Path]
) -> None:
    by_url = ask(
        http, {"video": {"type": "url", "url": media["beach"].as_uri()}, "prompt": "Title?"}
    )
    inline = base64.b64encode(media["beach"].read_bytes()).decode()
    by_bytes = ask(
        http, {"video": {"type": "base64_string", "base64_string": inline}, "prompt": "Title?"}
    )
    assert by_url.status_code == by_bytes.status_code == 200
    assert by_url.json()["data"] == by_bytes.json()["data"]
    assert "kite" in by_url.json()["data"]
    far = ask(http, {"video": {"type": "url", "url": "https://example.org/a.mp4"}, "prompt": "x"})
    assert "no internet access" in far.json()["message"]


def test_images_need_pegasus16_and_every_placeholder(
    server: Emulator, http: httpx.Client, media: dict[str, Path]
) -> None:
    red = upload(server, http, media["red"])
    blue = base64.b64encode(media["blue"].read_bytes()).decode()
    images = [{"name": "first", "asset_id": red}, {"name": "second", "base64_string": blue}]
    answer = ask(
        http,
        {"model_name": "pegasus1.6", "image": images, "prompt": "Compare <@first> and <@second>"},
    )
    assert answer.status_code == 200, answer.text
    assert "first is mostly red; second is mostly blue" in answer.json()["data"]
    partial = ask(http, {"model_name": "pegasus1.6", "image": images, "prompt": "Is <@first> ok?"})
    assert (partial.status_code, "every image or none" in partial.json()["message"]) == (400, True)
    both = ask(
        http, {"model_name": "pegasus1.6", "image": images, "video": source(red), "prompt": "x"}
    )
    assert "not both" in both.json()["message"]


# --------------------------------------------------------------------------- the stream


def test_the_stream_is_ndjson_with_start_fragments_and_end(http: httpx.Client, beach: str) -> None:
    body = {"video": source(beach), "prompt": "What do the seagulls do?"}
    with http.stream("POST", "/analyze", json={**body, "stream": True}) as answer:
        assert answer.headers["content-type"] == "application/x-ndjson"
        events = [json.loads(line) for line in answer.iter_lines() if line]
    kinds = [e["event_type"] for e in events]
    assert kinds[0] == "stream_start"
    assert kinds[-1] == "stream_end"
    assert set(kinds[1:-1]) == {"text_generation"}
    assert len(kinds) > 5
    fragments = [e["text"] for e in events[1:-1]]
    # Fragments are cut anywhere, as tokens are: some end inside a word.
    assert any(a[-1:].isalpha() and b[:1].isalpha() for a, b in itertools.pairwise(fragments))
    text = "".join(fragments)
    assert text == ask(http, body).json()["data"]
    generation = events[0]["metadata"]["generation_id"]
    assert events[-1]["metadata"]["generation_id"] == generation
    assert events[-1]["finish_reason"] == "stop"
    assert events[-1]["metadata"]["usage"]["output_tokens"] > 0


def test_a_refused_stream_is_a_json_error_before_anything_streams(http: httpx.Client) -> None:
    answer = http.post("/analyze", json={"video_id": "x", "prompt": "Hi", "stream": True})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["code"] == "parameter_invalid"


# --------------------------------------------------------------------------- tasks


def test_a_task_walks_its_statuses_on_the_clock(
    server: Emulator, http: httpx.Client, beach: str
) -> None:
    task_id = created_task(http, {"video": source(beach), "prompt": "Summarise"})
    early = http.get(f"/analyze/tasks/{task_id}").json()
    assert early["custom_id"] is None  # the key is always there
    assert "result" not in early
    assert "completed_at" not in early
    seen = []
    for _ in range(100):
        status = status_of(http, task_id)
        seen.append(status)
        if status == "ready":
            break
        server.advance(0.25)
    assert list(dict.fromkeys(seen)) == ["queued", "pending", "processing", "ready"]
    done = http.get(f"/analyze/tasks/{task_id}").json()
    assert done["video_source"] == {
        "type": "asset_id",
        "asset_id": beach,
        "system_metadata": {"duration": 12.0},
    }
    assert done["request_params"] == {"analysis_mode": "general", "prompt": "Summarise"}
    assert done["completed_at"] > done["created_at"]
    result = done["result"]
    assert isinstance(result["data"], str)
    assert "Waves crash against the pier" in result["data"]  # the summary quotes the last line
    assert (result["finish_reason"], result["usage"]["output_tokens"] > 0) == ("stop", True)
    assert result["generation_id"]


def test_processing_time_scales_with_the_window(
    server: Emulator, http: httpx.Client, long_asset: str
) -> None:
    short = created_task(
        http, {"video": source(long_asset), "prompt": "Hi", "start_time": 60, "end_time": 70}
    )
    whole = created_task(http, {"video": source(long_asset), "prompt": "Hi"})
    server.advance(10.0)
    assert (status_of(http, short), status_of(http, whole)) == ("ready", "processing")
    assert finished(server, http, whole)["video_source"]["system_metadata"]["duration"] == 7200.0


def test_a_two_hour_video_needs_a_task(
    server: Emulator, http: httpx.Client, long_asset: str
) -> None:
    refused = ask(http, {"video": source(long_asset), "prompt": "Summarise"})
    assert refused.json()["code"] == "video_duration_too_long"
    assert "/analyze/tasks" in refused.json()["message"]
    task = finished(server, http, created_task(http, {"video": source(long_asset), "prompt": "Hi"}))
    assert task["status"] == "ready"
    assert "Welcome to the lecture" in task["result"]["data"]
    window = ask(
        http, {"video": source(long_asset), "prompt": "Hi", "start_time": 5000, "end_time": 5600}
    )
    # The synchronous limit is on the video: a short window of a long one needs a task too.
    assert window.json()["code"] == "video_duration_too_long"
    part = {"video": source(long_asset), "prompt": "Hi", "start_time": 5000, "end_time": 5600}
    done = finished(server, http, created_task(http, part))
    assert "Questions now" in done["result"]["data"]
    assert "Welcome" not in done["result"]["data"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"prompt": "Say"}, "not a prompt"),
        ({"analysis_mode": "general", "prompt": "x"}, "goes with segment_definitions"),
        ({"response_format": None}, "segment_definitions"),
        ({"min_segment_duration": 1}, "at least 2"),
        ({"min_segment_duration": 5, "max_segment_duration": 3}, "at least min_segment"),
        ({"max_tokens": 1000}, "2048"),
        ({"max_tokens": "unlimited"}, "pegasus1.6"),
        ({"custom_id": ""}, "1 to 64"),
        ({"custom_id": "x" * 65}, "1 to 64"),
        ({"custom_id": "no spaces"}, "1 to 64"),
    ],
)
def test_segmentation_requests_are_checked(
    http: httpx.Client, beach: str, change: dict[str, Any], words: str
) -> None:
    body = segmentation(beach) | change
    answer = http.post("/analyze/tasks", json={k: v for k, v in body.items() if v is not None})
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["message"]


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ({"name": "start_time", "type": "string", "description": "d"}, "reserved"),
        ({"name": "at", "type": "timestamp", "description": "d"}, "needs format"),
        ({"name": "n", "type": "number", "description": "d", "format": "seconds"}, "only for"),
        ({"name": "tags", "type": "array", "description": "d"}, "items"),
        (
            {"name": "tags", "type": "array", "description": "d", "items": {"type": "object"}},
            "time_array",
        ),
        ({"name": "mood", "type": "string", "description": "d", "enum": list(range(101))}, "100"),
        ({"name": "x", "type": "colour", "description": "d"}, "must be one of"),
        ({"name": "x", "type": "string"}, "description"),
        (
            {
                "name": "events",
                "type": "time_array",
                "description": "d",
                "items": {
                    "type": "object",
                    "fields": [{"name": "a", "type": "string", "description": "d"}],
                },
            },
            "pegasus1.6",
        ),
    ],
)
def test_segment_fields_are_checked(
    http: httpx.Client, beach: str, field: dict[str, Any], words: str
) -> None:
    body = segmentation(beach, {"id": "scene", "description": "scenes", "fields": [field]})
    answer = http.post("/analyze/tasks", json=body)
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["message"]
    if field.get("type") == "timestamp":
        assert answer.json()["message"].startswith("response_format.segment_definitions.fields")


def test_time_ranges_are_checked(http: httpx.Client, beach: str) -> None:
    def ranged(*spans: tuple[float, float], **extra: Any) -> httpx.Response:
        ranges = [{"start_time": a, "end_time": b} for a, b in spans]
        body = segmentation(beach, {**SCENE, "time_ranges": ranges}, **extra)
        return http.post("/analyze/tasks", json=body)

    assert "at least 2 s" in ranged((0, 1)).json()["message"]
    assert "overlap" in ranged((0, 5), (4, 8)).json()["message"]
    assert "exclude" in ranged((0, 5), min_segment_duration=3).json()["message"]
    assert "ends after the video" in ranged((0, 5), (10, 14)).json()["message"]
    assert ranged((0, 5), (5, 8)).status_code == 202  # touching is fine


def test_segments_carry_typed_fields_inside_their_bounds(
    server: Emulator, http: httpx.Client, beach: str
) -> None:
    fields = [
        {"name": "description", "type": "string", "description": "what happens"},
        {"name": "speech", "type": "boolean", "description": "does anyone speak"},
        {"name": "lines", "type": "integer", "description": "how many lines are said"},
        {"name": "length", "type": "number", "description": "seconds"},
        {"name": "people", "type": "array", "description": "who", "items": {"type": "string"}},
        {"name": "starts", "type": "timestamp", "description": "when", "format": "hh:mm:ss"},
        {"name": "tone", "type": "string", "description": "mood", "enum": ["calm", "tense"]},
    ]
    body = segmentation(
        beach,
        {"id": "part", "description": "each part", "fields": fields},
        {"id": "said", "description": "each line someone speaks"},
        min_segment_duration=4,
        max_segment_duration=5,
        start_time=1,
        end_time=11,
    )
    task = finished(server, http, created_task(http, body))
    assert task["status"] == "ready"
    assert task["request_params"]["min_segment_duration"] == 4
    data = json.loads(task["result"]["data"])
    assert list(data) == ["part", "said"]
    for segments in data.values():
        assert segments
        for seg in segments:
            assert 1 <= seg["start_time"] < seg["end_time"] <= 11
            assert 4 - 1e-6 <= seg["end_time"] - seg["start_time"] <= 5 + 1e-6
    first = data["part"][0]["metadata"]
    assert list(first) == [f["name"] for f in fields]
    assert (type(first["speech"]), type(first["lines"]), type(first["length"])) == (
        bool,
        int,
        float,
    )
    assert first["people"] == ["speaker_0"]
    assert first["starts"] == "00:00:01"
    assert first["tone"] in ("calm", "tense")
    assert data["said"][0]["metadata"] == {}


def test_time_formats_time_arrays_and_ranges(
    server: Emulator, http: httpx.Client, beach: str
) -> None:
    events = {
        "name": "quotes",
        "type": "time_array",
        "description": "each line",
        "items": {
            "type": "object",
            "fields": [{"name": "quote", "type": "string", "description": "what is said"}],
        },
    }
    body = segmentation(
        beach,
        {
            "id": "scene",
            "description": "scenes",
            "fields": [events],
            "time_ranges": [{"start_time": 3, "end_time": 9}],
        },
        model_name="pegasus1.6",
    )
    body["response_format"]["segment_time_format"] = "hh:mm:ss.fff"
    task = finished(server, http, created_task(http, body))
    scenes = json.loads(task["result"]["data"])["scene"]
    assert [(s["start_time"], s["end_time"]) for s in scenes] == [
        ("00:00:03.000", "00:00:06.000"),
        ("00:00:06.000", "00:00:09.000"),
    ]
    quotes = scenes[0]["metadata"]["quotes"]
    assert quotes == [
        {"start_time": "00:00:03.500", "end_time": "00:00:05.500", "quote": LINES["beach"][1]}
    ]


def test_cancel_and_delete_follow_the_status(
    server: Emulator, http: httpx.Client, beach: str
) -> None:
    task_id = created_task(http, {"video": source(beach), "prompt": "Summarise"})
    assert http.delete(f"/analyze/tasks/{task_id}").status_code == 409
    canceled = http.post(f"/analyze/tasks/{task_id}/cancel")
    assert canceled.json() == {"task_id": task_id, "status": "canceled"}
    again = http.post(f"/analyze/tasks/{task_id}/cancel")
    assert again.json() == {"task_id": task_id, "status": "canceled"}
    server.advance(60.0)
    task = http.get(f"/analyze/tasks/{task_id}").json()
    assert task["status"] == "canceled"
    assert task["error"]["code"] == "user_canceled"
    assert "result" not in task
    done = finished(server, http, created_task(http, {"video": source(beach), "prompt": "Hi"}))
    late = http.post(f"/analyze/tasks/{done['task_id']}/cancel")
    assert (late.status_code, late.json()["code"]) == (409, "task_not_cancelable")
    for ended in (task_id, done["task_id"]):
        assert http.delete(f"/analyze/tasks/{ended}").status_code == 204
        assert http.get(f"/analyze/tasks/{ended}").status_code == 404


def test_an_idempotency_key_replays_its_task(
    server: Emulator, http: httpx.Client, beach: str
) -> None:
    key = unique("key")
    body = {"video": source(beach), "prompt": "Summarise", "custom_id": unique("idem")}
    first = http.post("/analyze/tasks", json=body, headers={"Idempotency-Key": key})
    again = http.post("/analyze/tasks", json=body, headers={"Idempotency-Key": key})
    assert first.json()["task_id"] == again.json()["task_id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = http.post(
        "/analyze/tasks", json={**body, "prompt": "Other"}, headers={"Idempotency-Key": key}
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    other_key = {"x-api-key": "someone-else", "Idempotency-Key": key}
    theirs = http.post("/analyze/tasks", json=body, headers=other_key)
    assert theirs.json()["task_id"] != first.json()["task_id"]  # keys belong to one API key
    listed = http.get("/analyze/tasks", params={"asset_id": beach, "page_limit": 50}).json()
    mine = [t for t in listed["data"] if t["custom_id"] == body["custom_id"]]
    assert len(mine) == 2  # one per API key, never one per attempt


def test_a_create_whose_answer_is_lost_is_found_again_by_its_key(
    server: Emulator, http: httpx.Client, beach: str
) -> None:
    key, custom_id = unique("lost"), unique("lost")
    body = {"video": source(beach), "prompt": "Summarise", "custom_id": custom_id}
    server.set_faults(lost=1.0)
    try:
        with pytest.raises(httpx.TransportError):
            http.post("/analyze/tasks", json=body, headers={"Idempotency-Key": key})
    finally:
        server.set_faults()
    retried = http.post("/analyze/tasks", json=body, headers={"Idempotency-Key": key})
    assert retried.headers["idempotent-replayed"] == "true"
    listed = http.get("/analyze/tasks", params={"asset_id": beach, "page_limit": 50}).json()
    assert [t["task_id"] for t in listed["data"] if t["custom_id"] == custom_id] == [
        retried.json()["task_id"]
    ]


def test_lists_filter_by_one_value_and_shorten_what_they_show(
    server: Emulator, http: httpx.Client, beach: str, media: dict[str, Path]
) -> None:
    prompt = "Please describe every single scene of this video in detail"
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    by_asset = created_task(
        http,
        {
            "video": source(beach),
            "prompt": prompt,
            "response_format": {"type": "json_schema", "json_schema": schema},
        },
    )
    url = media["beach"].as_uri()
    by_url = created_task(http, {"video": {"type": "url", "url": url}, "prompt": "Hi"})
    segmented = created_task(http, segmentation(beach, SCENE, {**SCENE, "id": "again"}))

    def listed(**query: str) -> list[dict[str, Any]]:
        answer = http.get("/analyze/tasks", params={"page_limit": "50", **query})
        assert answer.status_code == 200, answer.text
        items: list[dict[str, Any]] = answer.json()["data"]
        return items

    ids = [t["task_id"] for t in listed()]
    assert ids.index(segmented) < ids.index(by_url) < ids.index(by_asset)  # newest first
    assert [t["task_id"] for t in listed(video_url=url)] == [by_url]
    assert by_url not in [t["task_id"] for t in listed(asset_id=beach)]
    mode = [t["task_id"] for t in listed(analysis_mode="time_based_metadata")]
    assert segmented in mode
    assert by_asset not in mode
    shown = next(t for t in listed() if t["task_id"] == by_asset)["request_params"]
    assert shown["prompt"] == prompt[:30]
    assert "json_schema" not in shown["response_format"]
    full = http.get(f"/analyze/tasks/{by_asset}").json()["request_params"]
    assert (full["prompt"], full["response_format"]["json_schema"]) == (prompt, schema)
    defs = next(t for t in listed() if t["task_id"] == segmented)["request_params"]
    assert len(defs["response_format"]["segment_definitions"]) == 1
    assert http.get("/analyze/tasks?status=ready&status=failed").status_code == 400
    server.advance(600.0)
    assert segmented in [t["task_id"] for t in listed(status="ready")]


# --------------------------------------------------------------------------- batches


def batch(asset_id: str, *custom_ids: str, **extra: Any) -> dict[str, Any]:
    return {
        "model_name": "pegasus1.5",
        "analysis_mode": "general",
        "defaults": {"prompt": {"input_text": "Summarise"}},
        "requests": [{"video": source(asset_id), "custom_id": c} for c in custom_ids],
        **extra,
    }


def results(http: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    with http.stream("GET", f"/analyze/batches/{batch_id}/results") as answer:
        assert answer.headers["content-type"] == "application/jsonl"
        return [json.loads(line) for line in answer.iter_lines() if line]


def test_a_batch_makes_one_task_per_item_and_reports_them(
    server: Emulator, http: httpx.Client, beach: str
) -> None:
    body = batch(beach, "a", "b")
    body["requests"][1]["prompt"] = {"input_text": "Give a title"}
    made = http.post("/analyze/batches", json=body)
    assert made.status_code == 202, made.text
    answer = made.json()
    assert (answer["status"], answer["total_items"]) == ("pending", 2)
    assert [i["custom_id"] for i in answer["items"]] == ["a", "b"]
    batch_id, task_ids = answer["batch_id"], [i["task_id"] for i in answer["items"]]
    task = http.get(f"/analyze/tasks/{task_ids[0]}").json()
    assert task["batch_id"] == batch_id
    assert http.post(f"/analyze/tasks/{task_ids[0]}/cancel").json()["code"] == "task_in_batch"
    early = results(http, batch_id)
    assert [(r["task_id"], r["status"]) for r in early] == [(t, "queued") for t in task_ids]
    assert all("data" not in r for r in early)
    assert http.delete(f"/analyze/batches/{batch_id}").status_code == 409
    server.advance(600.0)
    done = http.get(f"/analyze/batches/{batch_id}").json()
    assert (done["status"], done["ready_items"], done["queued_items"]) == ("completed", 2, 0)
    assert "completed_at" in done
    lines = results(http, batch_id)
    assert [r["status"] for r in lines] == ["ready", "ready"]
    assert "Prompt" in lines[0]["data"]["data"]
    assert "kite" in lines[1]["data"]["data"].lower()  # its own prompt: a title
    assert batch_id in [b["batch_id"] for b in http.get("/analyze/batches").json()["data"]]
    assert http.delete(f"/analyze/batches/{batch_id}").status_code == 204
    assert http.get(f"/analyze/tasks/{task_ids[0]}").status_code == 404
    assert http.get(f"/analyze/batches/{batch_id}").status_code == 404


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"model_name": "pegasus1.6"}, "pegasus1.5"),
        ({"analysis_mode": None}, "analysis_mode"),
        ({"requests": []}, "1 to 1000"),
        ({"defaults": {"prompt": "Summarise"}}, "requests[0].prompt"),
        ({"requests": [{"video": {"type": "url", "url": "file:///a.mp4"}}]}, "asset_id"),
    ],
)
def test_batches_are_checked(
    http: httpx.Client, beach: str, change: dict[str, Any], words: str
) -> None:
    body = batch(beach, "a") | change
    answer = http.post("/analyze/batches", json={k: v for k, v in body.items() if v is not None})
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["message"]


def test_batch_custom_ids_are_unique_and_assets_must_exist(http: httpx.Client, beach: str) -> None:
    twice = http.post("/analyze/batches", json=batch(beach, "same", "same"))
    assert "used twice" in twice.json()["message"]
    missing = http.post("/analyze/batches", json=batch("0" * 24, "a"))
    assert missing.status_code == 404


def test_canceling_a_batch_stops_waiting_items(
    server: Emulator, http: httpx.Client, beach: str
) -> None:
    body = batch(beach, *[f"item{n}" for n in range(30)])
    answer = http.post("/analyze/batches", json=body).json()
    server.advance(3.5)  # the first items work; the later ones still wait their turn
    canceling = http.post(f"/analyze/batches/{answer['batch_id']}/cancel").json()
    assert canceling["status"] == "canceling"
    assert canceling["processing_items"] >= 1
    server.advance(600.0)
    done = http.get(f"/analyze/batches/{answer['batch_id']}").json()
    assert done["status"] == "canceled"
    assert "canceled_at" in done
    assert done["ready_items"] >= 1
    assert done["canceled_items"] >= 1
    assert done["ready_items"] + done["canceled_items"] == 30
    canceled = [r for r in results(http, answer["batch_id"]) if r["status"] == "canceled"]
    task = http.get(f"/analyze/tasks/{canceled[0]['task_id']}").json()
    assert task["error"]["code"] == "batch_canceled"
    assert http.post(f"/analyze/batches/{answer['batch_id']}/cancel").status_code == 409


def test_at_most_five_batches_run_at_once(server: Emulator, http: httpx.Client, beach: str) -> None:
    server.advance(3600.0)  # earlier batches have ended
    for n in range(5):
        assert http.post("/analyze/batches", json=batch(beach, f"b{n}")).status_code == 202
    sixth = http.post("/analyze/batches", json=batch(beach, "b5"))
    assert (sixth.status_code, sixth.json()["code"]) == (409, "batch_limit_reached")
    server.advance(3600.0)
    assert http.post("/analyze/batches", json=batch(beach, "b6")).status_code == 202


def test_a_batch_item_over_two_hours_fails_alone(
    emulator_for: Callable[..., Emulator], tmp_path: Path, media: dict[str, Path]
) -> None:
    film = make_sample_video(
        tmp_path / "film.mp4", duration_s=9000.0, size=(360, 360), fps=0.5, audio=False
    )
    # A thousand times slower: a long item still works when its batch expires (24 h).
    slow = emulator_for(clock=ManualClock(), seed=3, speed=0.001)
    with httpx.Client(base_url=slow.base_url, headers={"x-api-key": "k"}, timeout=60) as http:
        short, long = upload(slow, http, media["beach"]), upload(slow, http, film)
        body = batch(short, "short")
        body["requests"] += [
            {"video": source(long), "custom_id": "window", "start_time": 0, "end_time": 8000},
            {"video": source(long), "custom_id": "long", "start_time": 0, "end_time": 7000},
        ]
        answer = http.post("/analyze/batches", json=body).json()
        first = results(http, answer["batch_id"])
        assert first[1]["status"] == "failed"
        assert first[1]["error"]["code"] == "video_duration_too_long"
        slow.advance(25 * 3600.0)
        done = http.get(f"/analyze/batches/{answer['batch_id']}").json()
        assert (done["status"], done["ready_items"], done["failed_items"]) == ("expired", 1, 2)
        assert "expired_at" in done
        last = results(http, answer["batch_id"])
        assert last[2]["error"]["code"] == "batch_processing_timeout"


# --------------------------------------------------------------------------- indexes, failures


def test_indexes_take_marengo30_only(http: httpx.Client) -> None:
    for model in ("pegasus1.2", "pegasus1.5", "marengo2.7", "marengo3.5"):
        body = {
            "index_name": unique("models"),
            "models": [{"model_name": model, "model_options": ["visual"]}],
        }
        answer = http.post("/indexes", json=body)
        assert (answer.status_code, answer.json()["code"]) == (400, "parameter_invalid"), model
        assert model in answer.json()["message"]
    pegasus = http.post(
        "/indexes",
        json={
            "index_name": "p",
            "models": [{"model_name": "pegasus1.2", "model_options": ["visual"]}],
        },
    ).json()["message"]
    assert "Pegasus 1.5" in pegasus


def test_an_old_pegasus_only_index_takes_no_new_videos(
    emulator_for: Callable[..., Emulator], tmp_path: Path, media: dict[str, Path]
) -> None:
    old = emulator_for(clock=ManualClock(), index_models=("marengo3.0", "pegasus1.2"))
    with httpx.Client(base_url=old.base_url, headers={"x-api-key": "k"}) as http:
        asset = upload(old, http, media["beach"])
        models = [{"model_name": "pegasus1.2", "model_options": ["visual"]}]
        pegasus = http.post("/indexes", json={"index_name": "old", "models": models}).json()
        refused = http.post(f"/indexes/{pegasus['_id']}/indexed-assets", json={"asset_id": asset})
        assert (refused.status_code, "only Pegasus 1.2" in refused.json()["message"]) == (400, True)
        models.insert(0, {"model_name": "marengo3.0", "model_options": ["visual", "audio"]})
        mixed = http.post("/indexes", json={"index_name": "mixed", "models": models}).json()
        taken = http.post(f"/indexes/{mixed['_id']}/indexed-assets", json={"asset_id": asset})
        assert taken.status_code == 202


def test_failed_jobs_say_why(
    emulator_for: Callable[..., Emulator], tmp_path: Path, media: dict[str, Path]
) -> None:
    broken = emulator_for(clock=ManualClock(), failure_rate=1.0)
    with httpx.Client(base_url=broken.base_url, headers={"x-api-key": "k"}) as http:
        asset = upload(broken, http, media["beach"])
        task_id = created_task(http, {"video": source(asset), "prompt": "Hi"})
        index = http.post(
            "/indexes",
            json={
                "index_name": "i",
                "models": [{"model_name": "marengo3.0", "model_options": ["visual"]}],
            },
        ).json()["_id"]
        indexed = http.post(f"/indexes/{index}/indexed-assets", json={"asset_id": asset}).json()
        broken.advance(3600.0)
        task = finished(broken, http, task_id)
        assert (task["status"], "on purpose" in task["error"]["message"]) == ("failed", True)
        assert "result" not in task
        video = http.get(f"/indexes/{index}/indexed-assets/{indexed['_id']}").json()
        assert (video["status"], "on purpose" in video["error"]["message"]) == ("failed", True)


def test_analysis_creates_share_the_analyze_rate_limit(
    emulator_for: Callable[..., Emulator],
) -> None:
    limited = emulator_for(clock=ManualClock(), rate_limits=RateLimits(analyze=2))
    with httpx.Client(base_url=limited.base_url, headers={"x-api-key": "k"}) as http:
        assert http.post("/analyze/tasks", json={}).status_code == 400
        assert http.post("/analyze/batches", json={}).status_code == 400
        refused = http.post("/analyze/tasks", json={})
        assert refused.status_code == 429
        assert refused.json()["code"] == "too_many_requests"
        assert http.get("/analyze/tasks").status_code == 200


def test_speed_scales_analysis_time(
    emulator_for: Callable[..., Emulator], media: dict[str, Path]
) -> None:
    clock = ManualClock()
    stages = StageModel(jitter=0.0)
    fast = emulator_for(clock=clock, speed=10.0, stages=stages)
    with httpx.Client(base_url=fast.base_url, headers={"x-api-key": "k"}) as http:
        asset = upload(fast, http, media["beach"])
        task_id = created_task(http, {"video": source(asset), "prompt": "Hi"})
        # queued 0.5 + pending 0.5 + processing (2 + 0.02 * 12) s, all divided by 10
        clock.advance(0.32)
        assert status_of(http, task_id) == "processing"
        clock.advance(0.01)
        assert status_of(http, task_id) == "ready"


def test_tasks_batches_and_keys_survive_a_restart(tmp_path: Path, media: dict[str, Path]) -> None:
    clock, data = ManualClock(), tmp_path / "data"
    body = {"video": None, "prompt": "Summarise", "custom_id": "kept"}
    with (
        Emulator(clock=clock, data_dir=data) as first,
        httpx.Client(base_url=first.base_url, headers={"x-api-key": "k"}) as http,
    ):
        asset = upload(first, http, media["beach"])
        body["video"] = source(asset)
        task_id = created_task(http, body, **{"Idempotency-Key": "restart"})
        batch_id = http.post("/analyze/batches", json=batch(asset, "one")).json()["batch_id"]
    with (
        Emulator(clock=clock, data_dir=data) as again,
        httpx.Client(base_url=again.base_url, headers={"x-api-key": "k"}) as http,
    ):
        assert status_of(http, task_id) == "queued"  # the clock has not moved
        replay = http.post("/analyze/tasks", json=body, headers={"Idempotency-Key": "restart"})
        assert replay.json()["task_id"] == task_id
        done = finished(again, http, task_id)
        assert (done["status"], done["custom_id"]) == ("ready", "kept")
        assert http.get(f"/analyze/batches/{batch_id}").json()["status"] == "completed"
