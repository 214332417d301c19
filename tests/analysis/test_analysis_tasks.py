"""``client.analyze.tasks`` and ``client.analyze.segments`` against the emulator: create,
wait, list, cancel, delete, reuse by custom_id, and a create whose answer is lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from testkit import FakeClock
from tl_integrations import (
    AnalysisTask,
    AsyncTwelveLabs,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    Segment,
    SegmentDefinition,
    SegmentField,
    TaskFailedError,
    TwelveLabs,
)
from tl_integrations.emulator import Emulator, ManualClock

from .conftest import LINES, Media, sync_client

SCENE = SegmentDefinition(
    "scene",
    "each scene",
    fields=[
        SegmentField("mood", "string", "the mood", enum=["tense", "calm", "warm"]),
        SegmentField("people", "array", "who speaks", items="string"),
        SegmentField("starts", "timestamp", "when it starts", format="hh:mm:ss"),
    ],
)


def test_a_task_is_created_waited_for_and_read(client: TwelveLabs, assets: dict[str, Any]) -> None:
    task = client.analyze.tasks.create(assets["talk"], prompt="What is in the oven?")
    assert isinstance(task, AnalysisTask)
    assert task.status == "queued"
    assert not task.done
    done = client.analyze.tasks.wait(task, timeout_s=600)
    assert done is task  # updated in place
    assert (task.status, task.ready, task.duration_s) == ("ready", True, 12.0)
    assert task.video_source == {
        "type": "asset_id",
        "asset_id": assets["talk"].id,
        "system_metadata": {"duration": 12.0},
    }
    result = task.result()
    assert LINES[2][2] in result.text
    assert result.finish_reason == "stop"
    assert client.analyze.tasks.retrieve(task.id).result().text == result.text


async def test_the_async_tasks_resource(aclient: AsyncTwelveLabs, assets: dict[str, Any]) -> None:
    task = await aclient.analyze.tasks.create(assets["talk"], prompt="Summarise", custom_id="a-1")
    done = await aclient.analyze.tasks.wait(task, timeout_s=600)
    assert "Welcome to the bakery" in done.result().text
    listed = [t.id async for t in aclient.analyze.tasks.list(asset_id=assets["talk"].id)]
    assert task.id in listed
    await aclient.analyze.tasks.delete(task)
    with pytest.raises(NotFoundError):
        await aclient.analyze.tasks.retrieve(task.id)


def test_wait_many_polls_tasks_together(
    client: TwelveLabs, assets: dict[str, Any], requests_of: Callable[[str], int]
) -> None:
    tasks = [client.analyze.tasks.create(assets["talk"], prompt=f"Question {n}?") for n in range(6)]
    finished = list(client.analyze.tasks.wait_many(tasks, timeout_s=600))
    assert sorted(t.id for t in finished) == sorted(t.id for t in tasks)
    assert all(t.ready for t in finished)
    # Pending tasks are listed (one request per pending status), not read one by one.
    assert requests_of("GET /v1.3/analyze/tasks/{id}") <= 2


def test_lists_filter_and_cancel_and_delete_follow_the_status(
    client: TwelveLabs, assets: dict[str, Any]
) -> None:
    talk = assets["talk"].id
    running = client.analyze.tasks.create(talk, prompt="Summarise", custom_id="to-cancel")
    with pytest.raises(ConflictError):
        client.analyze.tasks.delete(running)
    canceled = client.analyze.tasks.cancel(running)
    assert (canceled.status, canceled.failed, canceled.done) == ("canceled", True, True)
    assert canceled.failure_reason == "The task was canceled."
    with pytest.raises(TaskFailedError, match="canceled"):
        client.analyze.tasks.wait(canceled.id, timeout_s=60)
    assert running.id in [t.id for t in client.analyze.tasks.list(status="canceled")]
    assert running.id not in [t.id for t in client.analyze.tasks.list(status="ready")]
    client.analyze.tasks.delete(running)
    assert running.id not in [t.id for t in client.analyze.tasks.list(asset_id=talk)]


def test_general_tasks_take_a_json_schema(client: TwelveLabs, assets: dict[str, Any]) -> None:
    fmt = {
        "type": "json_schema",
        "json_schema": {"type": "object", "properties": {"title": {"type": "string"}}},
    }
    task = client.analyze.tasks.create(assets["talk"], prompt="Title?", response_format=fmt)
    done = client.analyze.tasks.wait(task, timeout_s=600)
    assert done.result().data == {"title": "Welcome to the bakery"}


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c, a: c.analyze.tasks.create(a), "prompt="),
        (lambda c, a: c.analyze.tasks.create(a, prompt="x", segments=[SCENE]), "not both"),
        (lambda c, a: c.analyze.tasks.create(a, prompt="x", custom_id="no spaces"), "custom_id"),
        (lambda c, a: c.analyze.tasks.create(a, prompt="x", max_tokens=100), "512"),
        (lambda c, a: c.analyze.segments(a, [SCENE], max_tokens=1000), "2048"),
        (lambda c, a: c.analyze.segments(a, [SCENE], min_segment_s=1), "min_segment_s"),
        (lambda c, a: c.analyze.segments(a, [SCENE], min_segment_s=6, max_segment_s=4), "max"),
        (lambda c, a: c.analyze.segments(a, []), "1 to 20"),
        (lambda c, a: c.analyze.segments(a, [SCENE, SCENE]), "unique"),
        (
            lambda c, a: c.analyze.segments(
                a,
                [
                    {
                        "id": "s",
                        "description": "d",
                        "fields": [{"name": "at", "type": "timestamp", "description": "when"}],
                    }
                ],
            ),
            "format",
        ),
        (
            lambda c, a: c.analyze.segments(
                a, [SegmentDefinition("s", "d", fields=[SegmentField("metadata", "string", "x")])]
            ),
            "reserved",
        ),
        (
            lambda c, a: c.analyze.segments(
                a,
                [
                    SegmentDefinition(
                        "s",
                        "d",
                        fields=[
                            SegmentField(
                                "e", "time_array", "x", items=[SegmentField("w", "string", "who")]
                            )
                        ],
                    )
                ],
            ),
            "pegasus1.6",
        ),
        (
            lambda c, a: c.analyze.segments(
                a, [SegmentDefinition("s", "d", time_ranges=[(0, 4)])], start_s=1
            ),
            "time_ranges",
        ),
    ],
)
def test_bad_tasks_are_refused_before_anything_is_sent(
    client: TwelveLabs,
    assets: dict[str, Any],
    emulator: Emulator,
    call: Callable[[TwelveLabs, Any], Any],
    words: str,
) -> None:
    before = emulator.stats()["requests_total"]
    with pytest.raises(InvalidRequestError, match=words):
        call(client, assets["talk"])
    assert emulator.stats()["requests_total"] == before


# --------------------------------------------------------------------------- segments


def test_segments_carry_typed_fields_and_are_reused(
    client: TwelveLabs, assets: dict[str, Any], requests_of: Callable[[str], int]
) -> None:
    segments = client.analyze.segments(assets["talk"], [SCENE], min_segment_s=3, timeout_s=600)
    assert [(s.start_s, s.end_s) for s in segments] == [
        (0.0, 3.0),
        (3.0, 6.0),
        (6.0, 9.0),
        (9.0, 12.0),
    ]
    assert all(isinstance(s, Segment) and s.definition == "scene" for s in segments)
    first = segments[0].fields
    assert first["mood"] in ("tense", "calm", "warm")
    assert first["people"] == ["speaker_0"]
    assert first["starts"] == "00:00:00"
    assert requests_of("POST /v1.3/analyze/tasks") == 1
    again = client.analyze.segments(assets["talk"], [SCENE], min_segment_s=3)
    assert again == segments
    assert requests_of("POST /v1.3/analyze/tasks") == 1  # the same question: found, not paid
    client.analyze.segments(assets["talk"], [SCENE], min_segment_s=3, reuse=False)
    assert requests_of("POST /v1.3/analyze/tasks") == 2


async def test_segments_of_a_window_with_pegasus16_events(
    aclient: AsyncTwelveLabs, assets: dict[str, Any]
) -> None:
    lines = SegmentDefinition(
        "part",
        "each part",
        fields=[
            SegmentField(
                "quotes", "time_array", "each line", items=[SegmentField("quote", "string", "said")]
            )
        ],
    )
    segments = await aclient.analyze.segments(
        assets["talk"], [lines], model="pegasus1.6", start_s=3, end_s=9, max_tokens="unlimited"
    )
    assert [(s.start_s, s.end_s) for s in segments] == [(3.0, 6.0), (6.0, 9.0)]
    assert segments[0].fields["quotes"] == [
        {"start_time": 3.5, "end_time": 5.5, "quote": LINES[1][2]}
    ]


def test_a_two_hour_segmentation(client: TwelveLabs, assets: dict[str, Any]) -> None:
    said = SegmentDefinition("said", "each line someone speaks")
    segments = client.analyze.segments(assets["lecture"], [said], timeout_s=3600)
    assert [s.start_s for s in segments] == [60.0, 5400.0]


# --------------------------------------------------------------------------- lost answers


def test_a_create_whose_answer_is_lost_makes_one_task(
    emulator: Emulator, assets: dict[str, Any], requests_of: Callable[[str], int]
) -> None:
    # The first create reaches the emulator, which makes the task and drops the answer. The
    # client's backoff sleep clears the fault; its retry carries the same Idempotency-Key.
    time = FakeClock(emulator=emulator)
    time.on_sleep.append(emulator.set_faults)
    with sync_client(emulator, sleep=time.sleep) as client:
        emulator.set_faults(lost=1.0)
        try:
            task = client.analyze.tasks.create(assets["talk"], prompt="Lost?", custom_id="lost-1")
        finally:
            emulator.set_faults()
        assert requests_of("POST /v1.3/analyze/tasks") == 2
        mine = [t for t in client.analyze.tasks.list() if t.custom_id == "lost-1"]
        assert [t.id for t in mine] == [task.id]
        assert client.analyze.tasks.wait(task, timeout_s=600).ready


def test_a_create_replayed_after_its_task_failed_still_says_why(
    emulator_for: Callable[..., Emulator], media: Media
) -> None:
    # The answer of the create is lost; by the retry the task has ended failed, and the
    # replayed answer is only {task_id, status}: the reason is read, not left out.
    broken = emulator_for(clock=ManualClock(), failure_rate=1.0)
    time = FakeClock(emulator=broken)
    with sync_client(broken, sleep=time.sleep) as client:
        asset = client.assets.upload(media.talk)
        time.on_sleep.append(lambda: (broken.set_faults(), broken.advance(3600.0)))
        broken.set_faults(lost=1.0)
        task = client.analyze.tasks.create(asset, prompt="Lost, then failed?")
    assert task.failed
    assert "on purpose" in (task.failure_reason or "")


def test_a_failed_task_says_why(emulator_for: Callable[..., Emulator], media: Media) -> None:
    broken = emulator_for(clock=ManualClock(), failure_rate=1.0)
    with sync_client(broken) as client:
        asset = client.assets.upload(media.talk)
        task = client.analyze.tasks.create(asset, prompt="Hi")
        with pytest.raises(TaskFailedError) as info:
            client.analyze.tasks.wait(task, timeout_s=600)
    assert "on purpose" in str(info.value)
    assert info.value.task is task
