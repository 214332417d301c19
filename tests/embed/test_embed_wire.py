"""What client.embed sends on the wire, for both protocols (httpx.MockTransport)."""

from __future__ import annotations

import base64
import io
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from embed_support import BASE, FakeEmbedAPI, form_fields

from tl_integrations import (
    EmbeddingTask,
    InvalidRequestError,
    InvalidVideoError,
    NotFoundError,
    TwelveLabs,
)

V1 = "Marengo-retrieval-2.7"
V2 = "marengo3.0"


def test_v1_create_streams_a_multipart_upload(
    client: TwelveLabs, fake: FakeEmbedAPI, video_file: Path
) -> None:
    task = client.embed.tasks.create(
        model_name=V1,
        video_file=video_file,
        video_clip_length=4,
        video_start_offset_sec=2,
        video_end_offset_sec=18,
        video_embedding_scope=["clip", "asset"],
    )
    (request,) = fake.requests
    assert (request.method, request.url.path) == ("POST", "/v1.3/embed/tasks")
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert request.headers["x-api-key"] == "test-key"
    fields = form_fields(request)
    assert ("model_name", V1.encode()) in fields
    assert ("video_clip_length", b"4") in fields
    assert ("video_start_offset_sec", b"2.0") in fields
    assert ("video_end_offset_sec", b"18.0") in fields
    assert [v for k, v in fields if k == "video_embedding_scope"] == [b"clip", b"video"]
    assert dict(fields)["video_file"] == video_file.read_bytes()
    assert b'filename="clip.mp4"' in request.content
    assert (task.model_name, task.status, task.protocol) == (V1, "processing", "v1")


def test_v1_create_from_a_url_is_still_multipart(client: TwelveLabs, fake: FakeEmbedAPI) -> None:
    client.embed.task.create(model_name=V1, video_url="https://example.org/a.mp4")
    (request,) = fake.requests
    assert request.headers["content-type"].startswith("multipart/form-data")
    fields = dict(form_fields(request))
    assert fields["video_url"] == b"https://example.org/a.mp4"
    assert "video_file" not in fields


def test_v2_create_sends_json(client: TwelveLabs, fake: FakeEmbedAPI) -> None:
    task = client.embed.tasks.create(
        model_name=V2,
        video_url="https://example.org/a.mp4",
        video_clip_length=8,
        video_start_offset_sec=1.5,
        video_embedding_scope=["video", "clip"],
        embedding_options=["visual", "audio"],
    )
    (request,) = fake.requests
    assert (request.method, request.url.path) == ("POST", "/v1.3/embed-v2/tasks")
    assert request.headers["content-type"] == "application/json"
    assert orjson.loads(request.content) == {
        "input_type": "video",
        "model_name": V2,
        "video": {
            "media_source": {"url": "https://example.org/a.mp4"},
            "segmentation": {"strategy": "fixed", "fixed": {"duration_sec": 8}},
            "embedding_scope": ["asset", "clip"],
            "start_sec": 1.5,
            "embedding_option": ["visual", "audio"],
        },
    }
    assert (task.protocol, task.status) == ("v2", "processing")


def test_v2_create_sends_an_open_file_inline(
    client: TwelveLabs, fake: FakeEmbedAPI, video_file: Path
) -> None:
    client.embed.tasks.create(model_name=V2, video_file=io.BytesIO(video_file.read_bytes()))
    body = orjson.loads(fake.requests[0].content)
    encoded = body["video"]["media_source"]["base64_string"]
    assert base64.b64decode(encoded) == video_file.read_bytes()


INVALID: dict[str, dict[str, Any]] = {
    "clip too long": {"model_name": V1, "video_clip_length": 11},
    "clip too short": {"model_name": V2, "video_clip_length": 1},
    "negative offset": {"model_name": V2, "video_start_offset_sec": -1},
    "end before start": {"model_name": V1, "video_start_offset_sec": 9, "video_end_offset_sec": 3},
    "one v1 offset": {"model_name": V1, "video_end_offset_sec": 30},
    "range under a clip": {
        "model_name": V2,
        "video_start_offset_sec": 0,
        "video_end_offset_sec": 3,
    },
    "bad scope": {"model_name": V1, "video_embedding_scope": ["frame"]},
    "option of the other model": {"model_name": V1, "embedding_options": ["transcription"]},
    "unknown model": {"model_name": "marengo9"},
}


@pytest.mark.parametrize("kwargs", INVALID.values(), ids=INVALID.keys())
def test_invalid_parameters_upload_nothing(
    client: TwelveLabs, fake: FakeEmbedAPI, video_file: Path, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequestError):
        client.embed.tasks.create(video_file=video_file, **kwargs)
    assert fake.requests == []


def test_missing_or_oversized_files_upload_nothing(
    client: TwelveLabs, fake: FakeEmbedAPI, tmp_path: Path
) -> None:
    with pytest.raises(InvalidVideoError, match="not found"):
        client.embed.tasks.create(model_name=V1, video_file=tmp_path / "missing.mp4")
    big = tmp_path / "big.mp4"
    with big.open("wb") as f:
        f.truncate(40 * 1024**2)  # sparse: nothing written
    # An open file goes inline, up to 36 MB; its path would go up as an asset instead.
    with big.open("rb") as handle, pytest.raises(InvalidVideoError, match="Pass its path"):
        client.embed.tasks.create(model_name=V2, video_file=handle)
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as f:
        f.truncate(201 * 1024**2)
    with pytest.raises(InvalidVideoError, match="document assets are limited to 200 MB"):
        client.embed.tasks.create(huge, model_name="marengo3.5")
    assert fake.requests == []


def test_retrieve_paths(client: TwelveLabs, fake: FakeEmbedAPI) -> None:
    t1 = client.embed.tasks.create(model_name=V1, video_url="u")
    t2 = client.embed.tasks.create(model_name=V2, video_url="u")
    client.embed.tasks.retrieve(t1)
    client.embed.tasks.retrieve(t2.id)
    paths = [r.url.path for r in fake.requests[2:]]
    assert paths == [f"/v1.3/embed/tasks/{t1.id}/status", f"/v1.3/embed-v2/tasks/{t2.id}"]


def test_v1_vectors_ask_the_server_to_filter_options(
    client: TwelveLabs, fake: FakeEmbedAPI
) -> None:
    fake.polls_to_ready = 0
    task = client.embed.tasks.create(model_name=V1, video_url="u")
    ve = client.embed.tasks.vectors(task, embedding_options=["audio"])
    request = fake.requests[-1]
    assert request.url.path == f"/v1.3/embed/tasks/{task.id}"
    assert request.url.params.get_list("embedding_option") == ["audio"]
    assert ve.vectors.shape == (4, 1024)
    assert set(ve.options.tolist()) == {"audio"}


def test_v2_vectors_are_filtered_locally(client: TwelveLabs, fake: FakeEmbedAPI) -> None:
    fake.polls_to_ready = 0
    task = client.embed.tasks.create(model_name=V2, video_url="u")
    ve = client.embed.tasks.vectors(task.id, embedding_options="transcription")
    assert "embedding_option" not in fake.requests[-1].url.params
    assert ve.vectors.shape == (4, 512)
    assert set(ve.options.tolist()) == {"transcription"}


@pytest.mark.parametrize(
    ("duration", "clip", "ends"),
    [
        (20.0, 6, [6, 12, 18, 20]),
        (19.5, 6, [6, 12, 18]),  # the 1.5 s tail is dropped
        (31.0, 6, [6, 12, 18, 24, 30]),
        (10.0, 10, [10]),
        (7.0, 2, [2, 4, 6]),  # 1 s tail dropped
        (9.0, 4, [4, 8]),
    ],
)
@pytest.mark.parametrize("model", [V1, V2])
def test_segment_times(
    client: TwelveLabs,
    fake: FakeEmbedAPI,
    model: str,
    duration: float,
    clip: int,
    ends: list[float],
) -> None:
    fake.polls_to_ready, fake.duration_s = 0, duration
    task = client.embed.tasks.create(
        model_name=model,
        video_url="u",
        video_clip_length=clip,
        video_embedding_scope=["clip", "video"],
    )
    ve = client.embed.tasks.vectors(task, embedding_options="audio")
    clips = ve.select(scope="clip")
    assert clips.end_s.tolist() == ends
    assert clips.start_s.tolist() == [0, *ends[:-1]]
    whole = ve.select(scope="video")
    assert len(whole) == 1
    assert whole.end_s.tolist() == [duration]
    assert ve.dim == (1024 if model == V1 else 512)


def test_an_unseen_task_id_is_looked_up_in_both_apis(
    client: TwelveLabs, fake: FakeEmbedAPI
) -> None:
    fake.polls_to_ready = 0
    task = client.embed.tasks.create(model_name=V1, video_url="u")
    fresh = TwelveLabs(api_key="k", base_url=BASE, http_client=client._http)
    assert fresh.embed.tasks.retrieve(task.id).model_name == V1
    paths = [r.url.path for r in fake.requests[1:]]
    assert paths == [f"/v1.3/embed-v2/tasks/{task.id}", f"/v1.3/embed/tasks/{task.id}/status"]
    fresh.embed.tasks.retrieve(task.id)  # now known: one request
    assert len(fake.requests) == 4
    with pytest.raises(NotFoundError):
        fresh.embed.tasks.retrieve("ffffffffffffffffffffffff")


def test_options_of_one_model_skip_the_other_api(client: TwelveLabs, fake: FakeEmbedAPI) -> None:
    fake.polls_to_ready = 0
    task = client.embed.tasks.create(model_name=V1, video_url="u")
    fresh = TwelveLabs(api_key="k", base_url=BASE, http_client=client._http)
    fresh.embed.tasks.vectors(task.id, embedding_options="visual-text")
    assert [r.url.path for r in fake.requests[1:]] == [f"/v1.3/embed/tasks/{task.id}"]


def test_list_walks_every_page_of_both_apis(client: TwelveLabs, fake: FakeEmbedAPI) -> None:
    ids = [client.embed.tasks.create(model_name=V2, video_url="u").id for _ in range(3)]
    ids += [client.embed.tasks.create(model_name=V1, video_url="u").id]
    listed = [t.id for t in client.embed.tasks.list(page_limit=2)]
    assert listed == ids
    assert [t.id for t in client.embed.tasks.list(model_name=V1)] == ids[3:]
    with pytest.raises(InvalidRequestError):
        list(client.embed.tasks.list(page_limit=51))


def test_text_wire_shapes(client: TwelveLabs, fake: FakeEmbedAPI) -> None:
    v1 = client.embed.text("a red car", model_name=V1)
    v2 = client.embed.text("a red car", model_name=V2)
    r1, r2 = fake.requests
    assert (r1.url.path, r2.url.path) == ("/v1.3/embed", "/v1.3/embed-v2")
    assert r1.headers["content-type"].startswith("multipart/form-data")
    assert dict(form_fields(r1)) == {"model_name": V1.encode(), "text": b"a red car"}
    assert orjson.loads(r2.content) == {
        "input_type": "text",
        "model_name": V2,
        "text": {"input_text": "a red car"},
    }
    assert (v1.shape, v2.shape) == ((1024,), (512,))


def test_a_task_built_by_hand_is_read_from_its_models_api(
    client: TwelveLabs, fake: FakeEmbedAPI
) -> None:
    made = client.embed.tasks.create(model_name=V1, video_url="u")
    by_hand = EmbeddingTask(made.id, "processing", model_name=V1)
    assert by_hand.protocol == "v1"
    with (
        httpx.Client(transport=httpx.MockTransport(fake.handler)) as http,
        TwelveLabs(api_key="k", base_url=BASE, http_client=http) as other,
    ):
        assert other.embed.tasks.retrieve(by_hand).id == made.id
    assert [r.url.path for r in fake.requests[1:]] == [f"/v1.3/embed/tasks/{made.id}/status"]


def test_list_sends_rfc3339_times(client: TwelveLabs, fake: FakeEmbedAPI) -> None:
    aware = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    naive = aware.astimezone().replace(tzinfo=None)  # the same instant, as local time
    list(client.embed.tasks.list(model_name=V1, started_at=naive, ended_at=aware))
    params = fake.requests[-1].url.params
    assert (params["started_at"], params["ended_at"]) == ("2024-05-01T12:00:00Z",) * 2
    with pytest.raises(InvalidRequestError, match="started_at"):
        client.embed.tasks.list(started_at=1714564800)  # type: ignore[arg-type]
