"""Indexes, videos, search and analyze, through both twins."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tl_integrations import (
    DEFAULT_MODELS,
    IndexModel,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    Utterance,
)

from .conftest import Twin
from .fakeapi import parse_form

ASSET = "6711a09ae4a1b37f8a9c5d01"  # an asset id: Pegasus reads assets, not indexed video ids


def test_index_create_sends_default_models(twin: Twin) -> None:
    index = twin.run(twin.client.indexes.create("talks"))
    body = orjson.loads(twin.api.requests[-1].content)
    assert body["index_name"] == "talks"
    assert body["models"] == [m.to_api() for m in DEFAULT_MODELS]
    # Pegasus is no longer an index model: analysis takes the video's asset instead.
    assert [m["model_name"] for m in body["models"]] == ["marengo3.0"]
    assert index.id in twin.api.indexes
    assert index.name == "talks"
    assert index.models == DEFAULT_MODELS


def test_index_retrieve_delete_and_not_found(twin: Twin) -> None:
    index = twin.run(
        twin.client.indexes.create("a", models=[IndexModel("marengo3.0", ("visual",))])
    )
    assert twin.run(twin.client.indexes.retrieve(index.id)).name == "a"
    twin.run(twin.client.indexes.delete(index.id))
    with pytest.raises(NotFoundError):
        twin.run(twin.client.indexes.retrieve(index.id))


def test_get_or_create_reuses_an_existing_index(twin: Twin) -> None:
    first = twin.run(twin.client.indexes.get_or_create("lectures"))
    second = twin.run(twin.client.indexes.get_or_create("lectures"))
    assert first.id == second.id
    assert twin.api.count("POST", "/indexes") == 1


def test_get_or_create_survives_a_race(twin: Twin) -> None:
    empty = httpx.Response(200, json={"data": [], "page_info": {"total_page": 1}})
    twin.api.fail("GET", "/indexes", empty)
    twin.api.add_index("raced")
    index = twin.run(twin.client.indexes.get_or_create("raced"))
    assert index.name == "raced"


def test_index_list_walks_every_page(twin: Twin) -> None:
    for i in range(5):
        twin.api.add_index(f"i{i}")
    names = [i.name for i in twin.collect(twin.client.indexes.list(page_limit=2))]
    assert names == [f"i{i}" for i in range(5)]
    assert twin.api.count("GET", "/indexes") == 3


def test_video_retrieve_with_transcription(twin: Twin) -> None:
    index_id = twin.api.add_index()
    fake = twin.api.add_task(index_id)
    video = twin.run(
        twin.client.videos.retrieve(
            index_id, fake.video_id, transcription=True, embedding_options=["visual", "audio"]
        )
    )
    assert video.transcription == [Utterance(0.0, 2.5, "hello there")]
    assert video.index_id == index_id
    params = twin.api.requests[-1].url.params
    assert params["transcription"] == "true"
    assert params.get_list("embedding_option") == ["visual", "audio"]
    plain = twin.run(twin.client.videos.retrieve(index_id, fake.video_id))
    assert plain.transcription is None


def test_video_list_flattens_user_metadata(twin: Twin) -> None:
    index_id = twin.api.add_index()
    twin.api.add_task(index_id, user_metadata={"category": "news"}, filename="a.mp4")
    twin.api.add_task(index_id, user_metadata={"category": "sport"}, filename="b.mp4")
    videos = twin.collect(twin.client.videos.list(index_id, user_metadata={"category": "news"}))
    assert [v.system_metadata.filename for v in videos] == ["a.mp4"]
    assert twin.api.requests[-1].url.params["category"] == "news"
    with pytest.raises(InvalidRequestError, match="collides"):
        twin.collect(twin.client.videos.list(index_id, user_metadata={"page": 2}))


def test_search_follows_page_tokens_and_stops_at_max_results(twin: Twin) -> None:
    clips = twin.collect(
        twin.client.search.query(
            index_id="i1", query_text="a red car", page_limit=10, max_results=23, filter={"x": 1}
        )
    )
    assert len(clips) == 23
    assert [c.rank for c in clips] == list(range(1, 24))
    assert clips[0].start_s == 0.0
    assert clips[0].end_s == 2.0
    fields, _ = parse_form(twin.api.requests[0])
    assert fields["search_options"] == ["visual", "audio", "transcription"]
    assert fields["filter"] == ['{"x":1}']
    assert [r.method for r in twin.api.requests] == ["POST", "GET", "GET"]


def test_search_everything_and_group_by_video(twin: Twin) -> None:
    assert len(twin.collect(twin.client.search.query(index_id="i", query_text="q"))) == 25
    grouped = {
        "data": [
            {"id": "v9", "clips": [{"start": 1, "end": 2, "score": "85.5", "confidence": "high"}]}
        ],
        "page_info": {},
    }
    twin.api.fail("POST", "/search", httpx.Response(200, json=grouped))
    clips = twin.collect(twin.client.search.query(index_id="i", query_text="q", group_by="video"))
    assert [(c.video_id, c.score, c.confidence, c.rank) for c in clips] == [
        ("v9", 85.5, "high", None)
    ]


def test_analyze_sends_stream_false(twin: Twin) -> None:
    result = twin.run(twin.client.analyze(ASSET, "What happens?", temperature=0.2, max_tokens=600))
    body = orjson.loads(twin.api.requests[-1].content)
    assert body["stream"] is False
    assert body["temperature"] == 0.2
    assert body["model_name"] == "pegasus1.5"  # the default Pegasus today
    assert body["video"] == {"type": "asset_id", "asset_id": ASSET}
    assert "video_id" not in body
    assert result.text == f"About {ASSET}."
    assert result.finish_reason == "stop"
    assert result.data is None
    assert result.usage == {"output_tokens": 5}


def test_analyze_parses_json_schema_answers(twin: Twin) -> None:
    fmt = {"type": "json_schema", "json_schema": {"type": "object"}}
    result = twin.run(twin.client.analyze(ASSET, "Title?", response_format=fmt))
    assert result.data == {"title": "A fake video"}
    truncated = {"id": "g", "data": '{"title": "A fa', "finish_reason": "length"}
    twin.api.fail("POST", "/analyze", httpx.Response(200, json=truncated))
    with pytest.raises(MalformedResponseError, match="max_tokens"):
        twin.run(twin.client.analyze(ASSET, "Title?", response_format=fmt))


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.analyze(ASSET, ""),
        lambda c: c.analyze(ASSET, "x", temperature=3),
        lambda c: c.indexes.retrieve(""),
        lambda c: c.search.query(index_id="i", query_text="q", search_options="visual"),
        lambda c: c.tasks.list(page_limit=51),
    ],
)
def test_bad_arguments_fail_before_any_request(twin: Twin, call: object) -> None:
    def attempt() -> None:
        result = twin.run(call(twin.client))  # type: ignore[operator]
        if hasattr(result, "__iter__") or hasattr(result, "__aiter__"):
            twin.collect(result)

    with pytest.raises(InvalidRequestError):
        attempt()
    assert twin.api.requests == []


def test_ids_are_escaped_in_paths(twin: Twin) -> None:
    with pytest.raises(NotFoundError):
        twin.run(twin.client.tasks.retrieve("../indexes"))
    assert twin.api.requests[-1].url.raw_path.endswith(b"/tasks/..%2Findexes")
