"""``client.analyze.batches`` against the emulator: create, wait, results, list, cancel,
delete; and what is refused before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tl_integrations import (
    AnalysisBatch,
    AsyncTwelveLabs,
    BatchItem,
    BatchResult,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    SegmentDefinition,
    SegmentField,
    TaskFailedError,
    TwelveLabs,
)
from tl_integrations._resources.analyze import batch_body
from tl_integrations.emulator import Emulator

from .conftest import Media


@pytest.fixture(autouse=True)
def no_batch_left_running(client: TwelveLabs) -> None:
    """At most five batches run at once: end those an earlier test left running."""
    for batch in client.analyze.batches.list(status=("pending", "processing")):
        client.analyze.batches.cancel(batch)


def test_a_batch_is_made_waited_for_and_read(
    client: TwelveLabs, assets: dict[str, Any], requests_of: Callable[[str], int]
) -> None:
    talk = assets["talk"]
    batch = client.analyze.batches.create(
        [talk, BatchItem(talk.id, custom_id="title", prompt="Give a title")],
        prompt="What is in the oven?",
        temperature=0.1,
    )
    assert isinstance(batch, AnalysisBatch)
    assert (batch.status, batch.total_items, len(batch.task_ids)) == ("pending", 2, 2)
    assert [custom for _, custom in batch.items] == [None, "title"]
    done = client.analyze.batches.wait(batch, timeout_s=600)
    assert done is batch
    assert (batch.status, batch.counts["ready_items"], batch.counts["failed_items"]) == (
        "completed",
        2,
        0,
    )
    assert batch.task_ids  # kept from the create, though a retrieve does not list items
    results = list(client.analyze.batches.results(batch))
    assert [r.task_id for r in results] == batch.task_ids
    assert all(isinstance(r, BatchResult) and r.ready for r in results)
    assert results[0].result is not None
    assert "oven" in results[0].result.text
    assert results[1].result is not None
    assert results[1].result.text.endswith("Welcome to the bakery")
    task = client.analyze.tasks.retrieve(results[1].task_id)
    assert (task.batch_id, task.custom_id) == (batch.id, "title")
    assert requests_of("POST /v1.3/analyze/batches") == 1
    assert batch.id in [b.id for b in client.analyze.batches.list(status="completed")]
    client.analyze.batches.delete(batch)
    with pytest.raises(NotFoundError):
        client.analyze.batches.retrieve(batch.id)


def test_a_segmentation_batch(client: TwelveLabs, assets: dict[str, Any]) -> None:
    scene = SegmentDefinition("scene", "each scene", fields=[SegmentField("mood", "string", "m")])
    batch = client.analyze.batches.create([assets["talk"]], segments=[scene], min_segment_s=6)
    client.analyze.batches.wait(batch, timeout_s=600)
    (item,) = client.analyze.batches.results(batch)
    segments = item.segments()
    assert [(s.start_s, s.end_s) for s in segments] == [(0.0, 6.0), (6.0, 12.0)]
    assert all("mood" in s.fields for s in segments)


def test_a_canceled_batch_fails_its_wait_with_the_counts(
    client: TwelveLabs, assets: dict[str, Any]
) -> None:
    items = [BatchItem(assets["talk"], prompt=f"Summarise part {n}") for n in range(20)]
    batch = client.analyze.batches.create(items)
    canceling = client.analyze.batches.cancel(batch)
    assert canceling.status in ("canceling", "canceled")
    with pytest.raises(TaskFailedError, match=r"the batch was canceled \(.*canceled") as info:
        client.analyze.batches.wait(batch, timeout_s=600)
    assert info.value.task is batch
    with pytest.raises(ConflictError):
        client.analyze.batches.cancel(batch)
    statuses = {r.status for r in client.analyze.batches.results(batch)}
    assert statuses <= {"ready", "canceled"}
    assert "canceled" in statuses


async def test_the_async_batches_resource(aclient: AsyncTwelveLabs, assets: dict[str, Any]) -> None:
    made = [
        await aclient.analyze.batches.create([assets["talk"]], prompt=f"Question {n}?")
        for n in range(3)
    ]
    finished = [b async for b in aclient.analyze.batches.wait_many(made, timeout_s=600)]
    assert sorted(b.id for b in finished) == sorted(b.id for b in made)
    assert all(b.ready for b in finished)
    items = [item async for item in aclient.analyze.batches.results(made[0])]
    assert items[0].result is not None
    assert "Question 0" in items[0].result.text
    listed = [b.id async for b in aclient.analyze.batches.list(analysis_mode="general")]
    assert set(listed) >= {b.id for b in made}
    for batch in made:
        await aclient.analyze.batches.delete(batch)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c, a, m: c.analyze.batches.create([], prompt="x"), "1 to 1000"),
        (lambda c, a, m: c.analyze.batches.create([a] * 1001, prompt="x"), "1 to 1000"),
        (lambda c, a, m: c.analyze.batches.create([a], prompt="x", model="pegasus1.6"), "1.5"),
        (lambda c, a, m: c.analyze.batches.create([a]), "prompt"),
        (lambda c, a, m: c.analyze.batches.create(["https://x.org/a.mp4"], prompt="x"), "assets"),
        (lambda c, a, m: c.analyze.batches.create([m.talk], prompt="x"), "assets"),
        (
            lambda c, a, m: c.analyze.batches.create(
                [BatchItem(a, custom_id="x"), BatchItem(a, custom_id="x")], prompt="p"
            ),
            "unique",
        ),
        (lambda c, a, m: c.analyze.batches.create([a, a], prompt="p"), "paid for twice"),
        (
            lambda c, a, m: c.analyze.batches.create(
                [BatchItem(a, custom_id="x", start_s=0, end_s=5), BatchItem(a, end_s=5, start_s=0)],
                prompt="p",
            ),
            r"items 1 and 2 ask the same of asset",
        ),
        (
            lambda c, a, m: c.analyze.batches.create(
                [BatchItem(a, prompt="p")], segments=[SegmentDefinition("s", "d")]
            ),
            "no prompts",
        ),
        (lambda c, a, m: c.analyze.batches.create([a], prompt="x", max_tokens=100), "512"),
        (
            lambda c, a, m: c.analyze.batches.create([a], prompt="x", max_tokens="unlimited"),
            "number",
        ),
    ],
)
def test_bad_batches_are_refused_before_anything_is_sent(
    client: TwelveLabs,
    assets: dict[str, Any],
    media: Media,
    emulator: Emulator,
    call: Callable[[TwelveLabs, Any, Media], Any],
    words: str,
) -> None:
    before = emulator.stats()["requests_total"]
    with pytest.raises(InvalidRequestError, match=words):
        call(client, assets["talk"], media)
    assert emulator.stats()["requests_total"] == before


def test_one_asset_may_be_asked_different_things_in_a_batch() -> None:
    asset = "6711a09ae4a1b37f8a9c5d01"
    body = batch_body(
        {
            "items": [asset, BatchItem(asset, prompt="Who speaks?"), BatchItem(asset, end_s=5)],
            "model": "pegasus1.5",
            "prompt": "Title?",
        }
    )
    assert len(body["requests"]) == 3
