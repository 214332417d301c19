"""The official SDK (twelvelabs 1.3.6) against the emulator, call by call."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from twelvelabs import TwelveLabs
from twelvelabs.core.api_error import ApiError as SdkApiError

from tl_integrations.emulator import Emulator, ManualClock

from .conftest import LINES, Indexed, unique, upload, wait_task


def test_index_lifecycle(client: TwelveLabs) -> None:
    name = unique("life")
    created = client.indexes.create(
        index_name=name,
        models=[{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}],
        addons=["thumbnail"],
    )
    assert created.id
    assert len(created.id) == 24
    got = client.indexes.retrieve(created.id)
    assert (got.index_name, got.video_count, got.addons) == (name, 0, ["thumbnail"])
    assert got.models
    assert got.models[0].model_name == "marengo3.0"
    client.indexes.update(created.id, index_name=name + "-renamed")
    assert client.indexes.retrieve(created.id).index_name == name + "-renamed"
    assert created.id in [i.id for i in client.indexes.list(index_name=name + "-renamed")]
    client.indexes.delete(created.id)
    with pytest.raises(SdkApiError) as info:
        client.indexes.retrieve(created.id)
    assert info.value.status_code == 404


def test_task_walks_the_stages(
    client: TwelveLabs, clock: ManualClock, videos: dict[str, Path]
) -> None:
    index = client.indexes.create(
        index_name=unique("stages"),
        models=[{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}],
    )
    assert index.id
    task_id, video_id = upload(client, index.id, videos["beach"])
    seen: list[tuple[str | None, str | None]] = []

    def step(task: object) -> None:
        seen.append((getattr(task, "status", None), getattr(task, "updated_at", None)))
        clock.advance(0.2)

    done = client.tasks.wait_for_done(task_id, sleep_interval=0.001, callback=step)
    statuses = list(dict.fromkeys(s for s, _ in seen))
    assert statuses == ["validating", "pending", "queued", "indexing", "ready"]
    assert len({u for _, u in seen}) == 5  # updated_at moves at each step
    assert done.video_id == video_id
    assert done.system_metadata
    assert done.system_metadata.filename == "beach.mp4"
    assert done.system_metadata.duration == pytest.approx(12.0, abs=0.1)
    assert (done.system_metadata.width, done.system_metadata.height) == (640, 360)
    assert done.hls
    assert done.hls.status == "COMPLETE"
    assert done.hls.video_url


def test_retrieve_video_with_transcription_and_embeddings(
    client: TwelveLabs, indexed30: Indexed
) -> None:
    video = client.indexes.videos.retrieve(
        indexed30.index_id,
        indexed30.video_ids["beach"],
        transcription=True,
        embedding_option=["visual", "audio", "transcription"],
    )
    assert [t.value for t in video.transcription or []] == LINES["beach"]
    assert video.transcription
    assert video.transcription[1].start == pytest.approx(3.5, abs=0.01)
    assert video.user_metadata == {"topic": "beach", "rank": 0}
    assert video.embedding
    assert video.embedding.model_name == "marengo3.0"
    segments = video.embedding.video_embedding.segments if video.embedding.video_embedding else []
    assert segments
    assert {s.embedding_option for s in segments} == {
        "visual",
        "audio",
        "transcription",
    }
    for s in segments:
        assert s.float_ is not None
        assert len(s.float_) == 512
        assert np.linalg.norm(s.float_) == pytest.approx(1.0, abs=1e-3)
        assert s.embedding_scope == "clip"
    ends = sorted({s.end_offset_sec for s in segments if s.end_offset_sec is not None})
    assert ends[-1] == pytest.approx(12.0, abs=0.1)


def test_list_videos_filters(client: TwelveLabs, indexed30: Indexed) -> None:
    everything = [v.id for v in client.indexes.videos.list(indexed30.index_id)]
    assert sorted(everything) == sorted(indexed30.video_ids.values())
    by_meta = [
        v.id
        for v in client.indexes.videos.list(indexed30.index_id, user_metadata={"topic": "concert"})
    ]
    assert by_meta == [indexed30.video_ids["concert"]]
    by_range = list(client.indexes.videos.list(indexed30.index_id, duration={"gte": 11, "lte": 13}))
    assert len(by_range) == 2
    assert not list(client.indexes.videos.list(indexed30.index_id, duration={"gte": 20}))
    item = by_range[0]
    assert item.system_metadata
    assert item.system_metadata.size
    assert item.system_metadata.fps == pytest.approx(24)


def test_update_metadata_merges_and_deletes(client: TwelveLabs, indexed30: Indexed) -> None:
    index_id, video_id = indexed30.index_id, indexed30.video_ids["concert"]
    client.indexes.videos.update(index_id, video_id, user_metadata={"extra": True})
    assert client.indexes.videos.retrieve(index_id, video_id).user_metadata == {
        "topic": "concert",
        "rank": 1,
        "extra": True,
    }
    client.indexes.videos.update(index_id, video_id, user_metadata={"extra": None})
    assert client.indexes.videos.retrieve(index_id, video_id).user_metadata == {
        "topic": "concert",
        "rank": 1,
    }


def test_search_finds_the_right_video(client: TwelveLabs, indexed30: Indexed) -> None:
    hits = list(
        client.search.query(
            index_id=indexed30.index_id,
            search_options=["visual", "audio"],
            query_text="soprano singing an aria",
        )
    )
    assert hits[0].video_id == indexed30.video_ids["concert"]
    assert (hits[0].start, hits[0].end, hits[0].rank) == (3.0, 6.0, 1)
    assert hits[0].transcription == "A soprano sings the final aria."


def test_search_grouped_by_video_and_paged(client: TwelveLabs, indexed30: Indexed) -> None:
    pager = client.search.query(
        index_id=indexed30.index_id,
        search_options=["visual"],
        query_text="penguins ice",
        group_by="video",
        page_limit=1,
    )
    groups = list(pager)
    assert groups[0].id == indexed30.video_ids["beach"]
    assert groups[0].clips
    assert groups[0].clips[0].start == 3.0
    assert len({g.id for g in groups}) == len(groups)


def test_search_paging_with_tokens(client: TwelveLabs, indexed30: Indexed) -> None:
    first = client.search.create(
        index_id=indexed30.index_id, search_options=["visual"], query_text="the", page_limit=1
    )
    del first  # "the" is a stop word: no match at all
    page = client.search.create(
        index_id=indexed30.index_id,
        search_options=["transcription"],
        query_text="kite penguins seagulls waves",
        page_limit=2,
    )
    assert page.page_info
    assert page.page_info.next_page_token
    nxt = client.search.retrieve(page.page_info.next_page_token)
    assert nxt.page_info
    assert nxt.page_info.prev_page_token
    assert nxt.data
    assert page.data
    assert nxt.data[0].rank == 3


def test_search_on_marengo27_has_score_and_confidence(
    client: TwelveLabs, indexed27: Indexed
) -> None:
    hits = list(
        client.search.query(
            index_id=indexed27.index_id,
            search_options=["visual"],
            query_text="fireworks over the harbour",
        )
    )
    top = hits[0].model_dump()
    assert top["video_id"] == indexed27.video_ids["concert"]
    assert (top["score"] > 50 and top["confidence"] == "high" and "rank" not in top) or top[
        "rank"
    ] is None
    video = client.indexes.videos.retrieve(
        indexed27.index_id, indexed27.video_ids["beach"], embedding_option=["visual-text"]
    )
    segs = (
        video.embedding.video_embedding.segments
        if video.embedding and video.embedding.video_embedding
        else []
    )
    assert segs
    assert all(len(s.float_ or []) == 1024 for s in segs)


@pytest.mark.parametrize(
    ("model", "options", "dim"),
    [
        ("Marengo-retrieval-2.7", ["visual-text", "audio"], 1024),
        ("marengo3.0", ["visual", "audio", "transcription"], 512),
    ],
)
def test_embed_tasks(
    client: TwelveLabs,
    clock: ManualClock,
    videos: dict[str, Path],
    model: str,
    options: list[str],
    dim: int,
) -> None:
    with videos["beach"].open("rb") as handle:
        created = client.embed.tasks.create(
            model_name=model,
            video_file=handle,
            video_embedding_scope=["clip", "video"],
            video_clip_length=5,
        )
    assert created.id
    status = client.embed.tasks.wait_for_done(
        created.id, sleep_interval=0.001, callback=lambda _t: clock.advance(1.0)
    )
    assert status.status == "ready"
    task = client.embed.tasks.retrieve(created.id, embedding_option=options)
    assert task.model_name == model
    assert task.video_embedding
    assert task.video_embedding.metadata
    assert task.video_embedding.metadata.input_filename == "beach.mp4"
    segments = task.video_embedding.segments or []
    clips = [
        (s.start_offset_sec, s.end_offset_sec)
        for s in segments
        if s.embedding_scope == "clip" and s.embedding_option == options[0]
    ]
    assert clips == [(0.0, 5.0), (5.0, 10.0), (10.0, 12.0)]
    assert {s.embedding_option for s in segments} == set(options)
    assert sum(s.embedding_scope == "video" for s in segments) == len(options)
    assert all(len(s.float_ or []) == dim for s in segments)
    assert created.id in [t.id for t in client.embed.tasks.list()]


def test_text_embeddings_v1_and_v2(client: TwelveLabs) -> None:
    v1 = client.embed.create(model_name="Marengo-retrieval-2.7", text="a red kite")
    assert v1.text_embedding
    assert v1.text_embedding.segments
    assert len(v1.text_embedding.segments[0].float_ or []) == 1024
    v2 = client.embed.v_2.create(
        input_type="text", model_name="marengo3.0", text={"input_text": "a red kite"}
    )
    assert len(v2.data[0].embedding) == 512
    assert v2.data[0].embedding_scope is None


def test_embed_v2_task_from_file_url(
    client: TwelveLabs, clock: ManualClock, videos: dict[str, Path]
) -> None:
    created = client.embed.v_2.tasks.create(
        input_type="video",
        model_name="marengo3.0",
        video={
            "media_source": {"url": videos["concert"].as_uri()},
            "embedding_scope": ["clip", "asset"],
        },
    )
    assert created.status == "processing"
    assert created.data is None
    assert client.embed.v_2.tasks.retrieve(created.id).status == "processing"
    clock.advance(60.0)
    done = client.embed.v_2.tasks.retrieve(created.id)
    assert done.status == "ready"
    assert done.data
    assert done.metadata
    assert done.metadata.duration == pytest.approx(12.0, abs=0.1)
    assert {d.embedding_scope for d in done.data} == {"clip", "asset"}
    assert all(len(d.embedding) == 512 for d in done.data)
    assert created.id in [t.id for t in client.embed.v_2.tasks.list()]


def test_analyze_text_json_and_stream(client: TwelveLabs, indexed30: Indexed) -> None:
    video = client.indexes.videos.retrieve(indexed30.index_id, indexed30.video_ids["concert"])
    assert video.asset_id
    source = {"type": "asset_id", "asset_id": video.asset_id}
    answer = client.analyze(video=source, prompt="What does the soprano do?")
    assert answer.data
    assert "emulator" in answer.data
    assert "aria" in answer.data
    assert answer.finish_reason == "stop"
    assert answer.usage
    assert answer.usage.output_tokens > 0
    schema = {
        "type": "object",
        "properties": {
            "chapters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "start": {"type": "number"},
                        "end": {"type": "number"},
                        "title": {"type": "string"},
                        "summary": {"type": "string"},
                    },
                },
            }
        },
    }
    structured = client.analyze(
        video=source,
        prompt="Chapters",
        response_format={"type": "json_schema", "json_schema": schema},
    )
    chapters = json.loads(structured.data or "")["chapters"]
    assert [(c["start"], c["end"]) for c in chapters] == [(0, 3), (3, 6), (6, 9), (9, 12)]
    events = list(client.analyze_stream(video=source, prompt="Give a title"))
    assert events[0].event_type == "stream_start"
    assert events[-1].event_type == "stream_end"
    text = "".join(getattr(e, "text", "") or "" for e in events[1:-1])
    assert "orchestra" in text


def test_paging_past_the_end_is_empty(client: TwelveLabs, indexed30: Indexed) -> None:
    page = client.tasks.list(index_id=indexed30.index_id, page=99, page_limit=2)
    assert list(page.items or []) == []
    assert len(list(client.tasks.list(index_id=indexed30.index_id, page_limit=1))) == 2


def test_delete_rules(
    client: TwelveLabs, indexed30: Indexed, clock: ManualClock, videos: dict[str, Path]
) -> None:
    index = client.indexes.create(
        index_name=unique("del"), models=[{"model_name": "marengo3.0", "model_options": ["visual"]}]
    )
    assert index.id
    task_id, video_id = upload(client, index.id, videos["beach"])
    with pytest.raises(SdkApiError) as busy:
        client.tasks.delete(task_id)
    assert busy.value.body["code"] == "task_cannot_be_deleted"
    assert wait_task(client, clock, task_id) == "ready"
    with pytest.raises(SdkApiError):
        client.tasks.delete(task_id)  # its video must go first
    client.indexes.videos.delete(index.id, video_id)
    client.tasks.delete(task_id)
    assert task_id not in [t.id for t in client.tasks.list(index_id=index.id)]


def test_stats_count_requests(emu: Emulator, client: TwelveLabs) -> None:
    before = emu.stats()["requests"].get("GET /v1.3/indexes", 0)
    list(client.indexes.list(page_limit=50))
    after = emu.stats()
    assert after["requests"]["GET /v1.3/indexes"] >= before + 2  # the pager asks until empty
    assert after["uploads"] >= 1
    assert after["bytes_received"] > 0
