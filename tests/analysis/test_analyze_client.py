"""``client.analyze``: answers, JSON schemas, the stream and the one-hour switch, against the
emulator, through the sync and the async client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tl_integrations import (
    AsyncTwelveLabs,
    BadRequestError,
    InvalidRequestError,
    TwelveLabs,
)
from tl_integrations.emulator import Emulator

from .conftest import LINES, Media

CHAPTERS = {
    "type": "json_schema",
    "json_schema": {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "chapters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "start_time": {"type": "number"},
                        "end_time": {"type": "number"},
                        "summary": {"type": "string"},
                    },
                },
            },
        },
    },
}


def test_an_answer_about_an_asset_its_id_or_an_indexed_video(
    client: TwelveLabs, assets: dict[str, Any]
) -> None:
    talk = assets["talk"]
    by_asset = client.analyze(talk, "What happens in the oven?")
    by_id = client.analyze(talk.id, "What happens in the oven?")
    assert by_asset.text == by_id.text
    assert LINES[2][2] in by_asset.text
    assert (by_asset.finish_reason, by_asset.warning, by_asset.data) == ("stop", None, None)
    assert by_asset.usage["output_tokens"] > 0
    assert by_asset.id


def test_a_window_limits_what_is_answered(client: TwelveLabs, assets: dict[str, Any]) -> None:
    late = client.analyze(assets["talk"], "What about the dough and bread?", start_s=6, end_s=12)
    assert LINES[3][2] in late.text
    assert LINES[1][2] not in late.text


def test_json_schemas_come_back_as_data(client: TwelveLabs, assets: dict[str, Any]) -> None:
    result = client.analyze(assets["talk"], "Chapters", response_format=CHAPTERS)
    assert result.data["title"] == "Welcome to the bakery"
    spans = [(c["start_time"], c["end_time"]) for c in result.data["chapters"]]
    assert spans == [(0.0, 3.0), (3.0, 6.0), (6.0, 9.0), (9.0, 12.0)]


async def test_the_async_client_answers_the_same(
    aclient: AsyncTwelveLabs, client: TwelveLabs, assets: dict[str, Any]
) -> None:
    mine = await aclient.analyze(assets["talk"], "Chapters", response_format=CHAPTERS)
    theirs = client.analyze(assets["talk"], "Chapters", response_format=CHAPTERS)
    assert mine.data == theirs.data


def test_a_local_file_is_uploaded_once(
    client: TwelveLabs, media: Media, requests_of: Callable[[str], int]
) -> None:
    first = client.analyze(media.talk, "Title?")
    second = client.analyze(media.talk, "Title?")
    assert first.text == second.text
    assert requests_of("POST /v1.3/assets") == 0  # the session's asset holds these bytes


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c, a: c.analyze(a, ""), "prompt"),
        (lambda c, a: c.analyze(a, "x", temperature=1.5), "temperature"),
        (lambda c, a: c.analyze(a, "x", max_tokens=100), "512"),
        (lambda c, a: c.analyze(a, "x", max_tokens="unlimited"), "unlimited"),
        (lambda c, a: c.analyze(a, "x", model="pegasus1.2"), "pegasus1.5"),
        (lambda c, a: c.analyze(a, "x", start_s=3, end_s=3.5), "1 s"),
        (lambda c, a: c.analyze(a, "x", images=["https://x.org/a.png"]), "pegasus1.6"),
        (lambda c, a: c.analyze(a, "x", response_format={"type": "text"}), "json_schema"),
        (lambda c, a: c.analyze("ftp://host/a.mp4", "x"), "http"),
        (lambda c, a: c.analyze("no-such-file.mp4", "x"), "no such file: .no-such-file.mp4"),
        (lambda c, a: c.analyze.stream(a, "x", max_tokens=-1), "max_tokens"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_sent(
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


def test_what_only_the_server_knows_comes_back_typed(
    client: TwelveLabs, assets: dict[str, Any]
) -> None:
    with pytest.raises(BadRequestError) as info:
        client.analyze(assets["talk"], "x", start_s=5, end_s=30)
    assert info.value.code == "parameter_invalid"
    assert "duration" in str(info.value)


# --------------------------------------------------------------------------- the stream


def test_the_stream_yields_fragments_then_keeps_the_whole_answer(
    client: TwelveLabs, assets: dict[str, Any]
) -> None:
    stream = client.analyze.stream(assets["talk"], "What happens in the oven?")
    assert stream.final is None
    fragments = list(stream)
    assert len(fragments) > 5
    assert stream.final is not None
    assert stream.final.text == "".join(fragments)
    assert stream.final.text == client.analyze(assets["talk"], "What happens in the oven?").text
    assert stream.final.finish_reason == "stop"
    assert stream.final.usage["output_tokens"] > 0
    assert stream.final.id


async def test_the_async_stream(aclient: AsyncTwelveLabs, assets: dict[str, Any]) -> None:
    stream = aclient.analyze.stream(assets["talk"], "Title?")
    fragments = [fragment async for fragment in stream]
    assert stream.final is not None
    assert stream.final.text == "".join(fragments)
    assert "Welcome to the bakery" in stream.final.text


def test_a_long_video_does_not_stream(
    client: TwelveLabs, assets: dict[str, Any], requests_of: Callable[[str], int]
) -> None:
    with pytest.raises(InvalidRequestError, match=r"client\.analyze"):
        list(client.analyze.stream(assets["lecture"], "Summarise"))
    assert requests_of("POST /v1.3/analyze") == 0


# --------------------------------------------------------------------------- over an hour


def test_a_two_hour_video_goes_through_a_task(
    client: TwelveLabs, assets: dict[str, Any], requests_of: Callable[[str], int]
) -> None:
    lecture = assets["lecture"]
    assert lecture.duration_s == 7200.0
    result = client.analyze(lecture, "What is said?", timeout_s=3600)
    assert "Welcome to the lecture" in result.text
    assert "Questions now" in result.text
    assert requests_of("POST /v1.3/analyze/tasks") == 1
    assert requests_of("POST /v1.3/analyze") == 0  # the duration was known: no sync try


async def test_a_bare_asset_id_finds_out_and_switches(
    aclient: AsyncTwelveLabs, assets: dict[str, Any], requests_of: Callable[[str], int]
) -> None:
    result = await aclient.analyze(
        assets["lecture"].id, "Chapters", response_format=CHAPTERS, timeout_s=3600
    )
    assert result.data["chapters"][-1]["end_time"] == 7200.0
    assert requests_of("POST /v1.3/analyze") == 1  # refused before any work
    assert requests_of("POST /v1.3/analyze/tasks") == 1
