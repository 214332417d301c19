"""The official SDK (twelvelabs 1.3.6) on requests the emulator used to judge differently
from the API: ``<@name>`` placeholders in ``prompt_v2``, analysis' 1 s minimum for fetched
videos, out-of-enum list filters, media sources with two sources, ``additionalProperties``
in response schemas, and JSON bodies nested too deeply to be saved."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from twelvelabs import (
    AnalyzePromptV2,
    BatchDefaults,
    BatchItemRequest,
    BatchPrompt,
    BatchVideoContext,
    TwelveLabs,
    VideoContext_AssetId,
)
from twelvelabs.core.api_error import ApiError
from twelvelabs.errors import BadRequestError

from testkit import start_emulator
from tl_integrations.emulator import Emulator, ManualClock, make_sample_video

from .conftest import make_png


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, clock: ManualClock, media_dir: Path) -> Emulator:
    return start_emulator(request, clock=clock, seed=11, file_dirs=(media_dir,))


@pytest.fixture(scope="module")
def client(server: Emulator) -> Iterator[TwelveLabs]:
    with httpx.Client(timeout=60.0) as http:
        yield TwelveLabs(api_key=server.api_key, base_url=server.base_url, httpx_client=http)


@pytest.fixture(scope="module")
def raw(server: Emulator) -> Iterator[httpx.Client]:
    headers = {"x-api-key": server.api_key}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=60.0) as http:
        yield http


def ready(client: TwelveLabs, clock: ManualClock, path: Path) -> Any:
    with path.open("rb") as handle:
        asset = client.assets.create(method="direct", file=handle)
    assert asset.id is not None
    for _ in range(600):
        found = client.assets.retrieve(asset.id)
        if found.status != "processing":
            assert found.status == "ready"
            return found
        clock.advance(1.0)
    raise AssertionError("the asset never became ready")


@pytest.fixture(scope="module")
def video(client: TwelveLabs, clock: ManualClock, videos: dict[str, Path]) -> Any:
    return ready(client, clock, videos["beach"])


@pytest.fixture(scope="module")
def logo_path(media_dir: Path) -> Path:
    return make_png(media_dir / "compat-logo.png")


@pytest.fixture(scope="module")
def logo(client: TwelveLabs, clock: ManualClock, logo_path: Path) -> Any:
    return ready(client, clock, logo_path)


# --------------------------------------------------------------- 1. prompt_v2 placeholders


def _prompt_v2(logo: Any, text: str = "Does <@logo> appear?") -> AnalyzePromptV2:
    sources = [{"name": "logo", "media_type": "image", "asset_id": logo.id}]
    return AnalyzePromptV2(input_text=text, media_sources=sources)  # type: ignore[arg-type]


def test_prompt_v2_placeholders_name_its_media_sources(
    client: TwelveLabs, video: Any, logo: Any
) -> None:
    source = VideoContext_AssetId(asset_id=video.id)
    prompt = _prompt_v2(logo)
    assert client.analyze(video=source, prompt_v_2=prompt).finish_reason == "stop"
    events = [e.event_type for e in client.analyze_stream(video=source, prompt_v_2=prompt)]
    assert events[-1] == "stream_end"
    assert client.analyze_async.tasks.create(video=source, prompt_v_2=prompt).status == "queued"
    batch = client.analyze_async.batches.create(
        model_name="pegasus1.5",
        analysis_mode="general",
        defaults=BatchDefaults(
            prompt=BatchPrompt(
                input_text="Does <@logo> appear?",
                media_sources=[{"name": "logo", "media_type": "image", "asset_id": logo.id}],  # type: ignore[list-item]
            )
        ),
        requests=[BatchItemRequest(video=BatchVideoContext(type="asset_id", asset_id=video.id))],
    )
    assert batch.status == "pending"


def test_prompt_v2_placeholder_of_an_unknown_image_is_still_refused(
    client: TwelveLabs, video: Any, logo: Any
) -> None:
    with pytest.raises(BadRequestError) as err:
        client.analyze(
            video=VideoContext_AssetId(asset_id=video.id),
            prompt_v_2=_prompt_v2(logo, "Does <@banner> appear?"),
        )
    assert "banner" in str(err.value.body)


# --------------------------------------------------------------- 2. analysis' 1 s minimum


@pytest.fixture(scope="module")
def two_seconds(media_dir: Path) -> Path:
    return make_sample_video(media_dir / "compat-two-s.mp4", duration_s=2.0)


def test_analysis_takes_a_two_second_video_by_url_or_base64(
    client: TwelveLabs, two_seconds: Path
) -> None:
    url = {"type": "url", "url": two_seconds.as_uri()}
    inline = {
        "type": "base64_string",
        "base64_string": base64.b64encode(two_seconds.read_bytes()).decode(),
    }
    assert client.analyze(video=url, prompt="What is shown?").finish_reason == "stop"  # type: ignore[arg-type]
    assert client.analyze(video=inline, prompt="What is shown?").finish_reason == "stop"  # type: ignore[arg-type]
    task = client.analyze_async.tasks.create(video=url, prompt="What is shown?")  # type: ignore[arg-type]
    assert task.status == "queued"


def test_analysis_still_refuses_a_video_under_one_second(
    client: TwelveLabs, media_dir: Path
) -> None:
    short = make_sample_video(media_dir / "compat-short.mp4", duration_s=0.8)
    with pytest.raises(BadRequestError) as err:
        client.analyze(video={"type": "url", "url": short.as_uri()}, prompt="x")  # type: ignore[arg-type]
    assert "video_duration_too_short" in str(err.value.body)


# --------------------------------------------------------------- 3. list filters


@pytest.mark.parametrize(
    ("what", "call"),
    [
        ("model_family", lambda c: list(c.indexes.list(model_family="bogus"))),
        ("status", lambda c: list(c.tasks.list(status="bogus"))),
        ("status", lambda c: list(c.embed.v_2.tasks.list(status="bogus"))),
        ("status", lambda c: list(c.embed.tasks.list(status="bogus"))),
    ],
    ids=["indexes", "tasks", "embed-v2-tasks", "embed-tasks"],
)
def test_an_out_of_enum_list_filter_is_refused(client: TwelveLabs, what: str, call: Any) -> None:
    with pytest.raises(BadRequestError) as err:
        call(client)
    assert f"{what}: values must be among" in str(err.value.body)


def test_documented_list_filters_still_list(client: TwelveLabs) -> None:
    assert isinstance(list(client.indexes.list(model_family="marengo")), list)
    assert isinstance(list(client.indexes.list(model_family="pegasus")), list)
    for status in ("ready", "uploading", "validating", "pending", "queued", "indexing", "failed"):
        assert isinstance(list(client.tasks.list(status=status)), list)
    for status in ("processing", "ready", "failed"):
        assert isinstance(list(client.embed.v_2.tasks.list(status=status)), list)
        assert isinstance(list(client.embed.tasks.list(status=status)), list)


def test_the_embed_task_filters_answer_parameter_invalid(raw: httpx.Client) -> None:
    answer = raw.get("/embed/tasks", params={"status": "done"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "parameter_invalid"


# --------------------------------------------------------------- 4. media_source: one source


def test_an_embed_v2_media_source_with_two_sources_is_refused(
    client: TwelveLabs, video: Any, videos: dict[str, Path], logo: Any, logo_path: Path
) -> None:
    # Plain dicts: the SDK's models would pass both keys on just the same.
    image: Any = {"media_source": {"asset_id": logo.id, "url": logo_path.as_uri()}}
    with pytest.raises(BadRequestError) as err:
        client.embed.v_2.create(input_type="image", model_name="marengo3.0", image=image)
    assert "exactly one of url, asset_id or base64_string" in str(err.value.body)
    clip: Any = {"media_source": {"asset_id": video.id, "url": videos["beach"].as_uri()}}
    with pytest.raises(BadRequestError):
        client.embed.v_2.tasks.create(input_type="video", model_name="marengo3.0", video=clip)


def test_an_embed_v2_media_source_with_one_source_is_still_accepted(
    client: TwelveLabs, logo: Any
) -> None:
    image: Any = {"media_source": {"asset_id": logo.id}}
    made = client.embed.v_2.create(input_type="image", model_name="marengo3.0", image=image)
    assert made.data


# --------------------------------------------------------------- 5. additionalProperties


@pytest.mark.parametrize("value", [False, True])
def test_additional_properties_gets_422_whatever_its_value(
    client: TwelveLabs, video: Any, value: bool
) -> None:
    schema = {
        "type": "object",
        "properties": {"t": {"type": "string"}},
        "additionalProperties": value,
    }
    fmt: Any = {"type": "json_schema", "json_schema": schema}
    source = VideoContext_AssetId(asset_id=video.id)
    with pytest.raises(ApiError) as err:
        client.analyze(video=source, prompt="x", response_format=fmt)
    assert err.value.status_code == 422
    with pytest.raises(ApiError) as err:
        client.analyze_async.tasks.create(video=source, prompt="x", response_format=fmt)
    assert err.value.status_code == 422


# --------------------------------------------------------------- 6. deep JSON bodies


def _nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def test_a_json_body_nested_too_deeply_is_refused(raw: httpx.Client) -> None:
    body = '{"index_name": "deep", "x": ' + _nested(300) + "}"
    answer = raw.post("/indexes", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert "128" in answer.json()["message"]


def test_a_json_body_within_the_nesting_limit_is_read(raw: httpx.Client) -> None:
    body = '{"index_name": "shallow", "models": [{"model_name": "marengo3.0", '
    body += '"model_options": ["visual"]}], "x": ' + _nested(100) + "}"
    answer = raw.post("/indexes", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 201, answer.text
