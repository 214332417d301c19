"""The official SDK (twelvelabs 1.3.6), unchanged, on Pegasus analysis: its README's
``analyze`` and ``analyze_stream`` blocks, and the examples of its asynchronous analysis
(tasks and batches), against the emulator."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from twelvelabs import (
    AnalyzePromptV2,
    AsyncResponseFormat,
    BatchDefaults,
    BatchItemRequest,
    BatchPrompt,
    BatchVideoContext,
    SegmentDefinition,
    SegmentField,
    TwelveLabs,
    VideoContext_AssetId,
    VideoContext_Url,
)
from twelvelabs.errors import BadRequestError, ConflictError, NotFoundError

from testkit import start_emulator
from tl_integrations.emulator import Emulator, ManualClock

from .conftest import LINES


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, clock: ManualClock, media_dir: Path) -> Emulator:
    # file:// URLs are read only from directories the emulator is told it may read.
    return start_emulator(request, clock=clock, seed=8, file_dirs=(media_dir,))


@pytest.fixture(scope="module")
def client(server: Emulator) -> Iterator[TwelveLabs]:
    with httpx.Client(timeout=60.0) as http:
        yield TwelveLabs(api_key=server.api_key, base_url=server.base_url, httpx_client=http)


def until(clock: ManualClock, probe: Any, done: Any, *, step_s: float = 1.0) -> Any:
    """Poll ``probe`` the README way, moving the manual clock instead of sleeping."""
    for _ in range(600):
        value = probe()
        if done(value):
            return value
        clock.advance(step_s)
    raise AssertionError(f"still not done: {value!r}")


@pytest.fixture(scope="module")
def asset(client: TwelveLabs, clock: ManualClock, videos: dict[str, Path]) -> Any:
    """The README's upload block, with its status loop."""
    with videos["concert"].open("rb") as handle:
        asset = client.assets.create(method="direct", file=handle)
    return until(clock, lambda: client.assets.retrieve(asset.id), lambda a: a.status == "ready")


def test_the_readme_analyze_blocks(client: TwelveLabs, asset: Any) -> None:
    text_stream = client.analyze_stream(
        model_name="pegasus1.5",
        video=VideoContext_AssetId(asset_id=asset.id),
        prompt_v_2=AnalyzePromptV2(input_text="What does the soprano sing?"),
    )
    fragments = [text.text for text in text_stream if text.event_type == "text_generation"]
    assert len(fragments) > 3
    result = client.analyze(
        model_name="pegasus1.5",
        video=VideoContext_AssetId(asset_id=asset.id),
        prompt_v_2=AnalyzePromptV2(input_text="What does the soprano sing?"),
    )
    assert result.data == "".join(str(f) for f in fragments)
    assert LINES["concert"][1] in result.data
    assert result.finish_reason == "stop"


def test_the_stream_ends_with_usage(client: TwelveLabs, asset: Any) -> None:
    events = list(
        client.analyze_stream(video=VideoContext_AssetId(asset_id=asset.id), prompt="Title?")
    )
    assert events[0].event_type == "stream_start"
    end = events[-1]
    assert end.event_type == "stream_end"
    assert end.metadata
    assert end.metadata.usage
    assert end.metadata.usage.output_tokens > 0


def test_retired_shapes_are_refused(client: TwelveLabs, asset: Any) -> None:
    with pytest.raises(BadRequestError) as info:
        client.analyze(
            model_name="pegasus1.2",  # type: ignore[arg-type]
            video=VideoContext_AssetId(asset_id=asset.id),
            prompt="Title?",
        )
    assert info.value.body["code"] == "parameter_invalid"
    with pytest.raises(BadRequestError):
        client.indexes.create(
            index_name="pegasus-index",
            models=[{"model_name": "pegasus1.2", "model_options": ["visual", "audio"]}],
        )


def test_the_task_examples(
    client: TwelveLabs, clock: ManualClock, videos: dict[str, Path], asset: Any
) -> None:
    key = f"example-{uuid.uuid4().hex}"
    made = client.analyze_async.tasks.create(
        custom_id="prod-segment-analysis-42",
        video=VideoContext_Url(url=videos["concert"].as_uri()),
        prompt="Generate a detailed summary of this video in 3-4 sentences",
        temperature=0.2,
        max_tokens=1000,
        request_options={"additional_headers": {"Idempotency-Key": key}},
    )
    again = client.analyze_async.tasks.create(
        custom_id="prod-segment-analysis-42",
        video=VideoContext_Url(url=videos["concert"].as_uri()),
        prompt="Generate a detailed summary of this video in 3-4 sentences",
        temperature=0.2,
        max_tokens=1000,
        request_options={"additional_headers": {"Idempotency-Key": key}},
    )
    assert again.task_id == made.task_id
    task = until(
        clock,
        lambda: client.analyze_async.tasks.retrieve(made.task_id),
        lambda t: t.status in ("ready", "failed"),
        step_s=0.5,
    )
    assert task.status == "ready"
    assert task.custom_id == "prod-segment-analysis-42"
    assert task.result
    assert "soprano" in task.result.data.lower()
    assert task.video_source
    assert task.video_source.system_metadata
    assert task.video_source.system_metadata.duration == pytest.approx(12.0)
    listed = client.analyze_async.tasks.list(page=1, page_limit=10, status="ready")
    assert made.task_id in [t.task_id for t in listed.data]
    client.analyze_async.tasks.delete(made.task_id)
    with pytest.raises(NotFoundError):
        client.analyze_async.tasks.retrieve(made.task_id)


def test_segmentation_and_cancel(client: TwelveLabs, clock: ManualClock, asset: Any) -> None:
    fields = [
        SegmentField(name="mood", type="string", description="the mood"),
        SegmentField(name="people", type="array", description="who", items={"type": "string"}),
    ]
    made = client.analyze_async.tasks.create(
        video=VideoContext_AssetId(asset_id=asset.id),
        analysis_mode="time_based_metadata",
        response_format=AsyncResponseFormat(
            type="segment_definitions",
            segment_definitions=[
                SegmentDefinition(id="scene", description="each scene", fields=fields)
            ],
        ),
        min_segment_duration=3,
    )
    stopped = client.analyze_async.tasks.create(
        video=VideoContext_AssetId(asset_id=asset.id), prompt="Summarise"
    )
    canceled = client.analyze_async.tasks.cancel(stopped.task_id)
    assert canceled.status == "canceled"
    task = until(
        clock,
        lambda: client.analyze_async.tasks.retrieve(made.task_id),
        lambda t: t.status == "ready",
        step_s=0.5,
    )
    assert task.result
    scenes = json.loads(task.result.data)["scene"]
    assert [(s["start_time"], s["end_time"]) for s in scenes] == [
        (0.0, 3.0),
        (3.0, 6.0),
        (6.0, 9.0),
        (9.0, 12.0),
    ]
    assert all(set(s["metadata"]) == {"mood", "people"} for s in scenes)
    stopped_task = client.analyze_async.tasks.retrieve(stopped.task_id)
    assert stopped_task.error
    assert stopped_task.error.code == "user_canceled"
    with pytest.raises(ConflictError):
        client.analyze_async.tasks.cancel(made.task_id)


def test_the_batch_examples(client: TwelveLabs, clock: ManualClock, asset: Any) -> None:
    batch = client.analyze_async.batches.create(
        model_name="pegasus1.5",
        analysis_mode="general",
        defaults=BatchDefaults(
            prompt=BatchPrompt(input_text="Generate a 3-sentence executive summary."),
            temperature=0.2,
            max_tokens=4096,
        ),
        requests=[
            BatchItemRequest(
                video=BatchVideoContext(type="asset_id", asset_id=asset.id),
                custom_id="summary-001",
            ),
            BatchItemRequest(
                video=BatchVideoContext(type="asset_id", asset_id=asset.id),
                custom_id="action-003",
                prompt=BatchPrompt(input_text="List all action items discussed."),
            ),
        ],
    )
    assert (batch.total_items, [i.custom_id for i in batch.items]) == (
        2,
        ["summary-001", "action-003"],
    )
    done = until(
        clock,
        lambda: client.analyze_async.batches.retrieve(batch_id=batch.batch_id),
        lambda b: b.status == "completed",
    )
    assert (done.ready_items, done.failed_items) == (2, 0)
    lines = list(client.analyze_async.batches.results(batch_id=batch.batch_id))
    assert [line.custom_id for line in lines] == ["summary-001", "action-003"]
    assert all(line.status == "ready" and line.data and line.data.data for line in lines)
    assert batch.batch_id in [b.batch_id for b in client.analyze_async.batches.list()]
    with pytest.raises(ConflictError):
        client.analyze_async.batches.cancel(batch_id=batch.batch_id)
    client.analyze_async.batches.delete(batch.batch_id)
    with pytest.raises(NotFoundError):
        client.analyze_async.batches.retrieve(batch_id=batch.batch_id)
