"""TwelveLabsVideoLoader against the emulator: content, metadata, ids, reuse, errors, secrets."""

from __future__ import annotations

import itertools
import logging
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.load import dumps

from tl_integrations import (
    AsyncTwelveLabs,
    IngestError,
    InvalidRequestError,
    InvalidVideoError,
    NotFoundError,
    SegmentDefinition,
    SegmentField,
    TaskFailedError,
    TwelveLabs,
)
from tl_integrations.emulator import Emulator
from tl_integrations.langchain import TwelveLabsVideoLoader

from .conftest import SECRET_KEY, TALK_LINES, Media

METADATA_KEYS = {
    "source",
    "video_id",
    "index_id",
    "asset_id",
    "filename",
    "duration_s",
    "content_kind",
}
# TALK_LINES grouped in 7 s windows, whole lines only.
TALK_WINDOWS = [
    (0.5, 6.0, "Welcome to the kitchen today we bake sourdough bread"),
    (7.0, 12.5, "first mix flour and water then knead the dough for ten minutes"),
    (13.5, 19.0, "the oven must be very hot enjoy your warm loaf with butter"),
]


def by_kind(docs: list[Document], filename: str, kind: str) -> list[Document]:
    return [
        d for d in docs if d.metadata["filename"] == filename and d.metadata["content_kind"] == kind
    ]


def test_load_gives_windows_summary_and_chapters_with_flat_metadata(
    client: TwelveLabs, media: Media, index_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tl_integrations")
    loader = TwelveLabsVideoLoader(
        [media.talk, media.silent],
        index_name=index_name,
        content=("transcript", "summary", "chapters"),
        chunk_s=7.0,
        client=client,
    )
    docs = loader.load()

    windows = by_kind(docs, "talk.mp4", "transcript")
    assert [(d.metadata["start_s"], d.metadata["end_s"], d.page_content) for d in windows] == (
        TALK_WINDOWS
    )
    for _, _, line in TALK_LINES:  # every line whole, in exactly one window
        assert sum(line in d.page_content for d in windows) == 1

    (summary,) = by_kind(docs, "talk.mp4", "summary")
    assert "start_s" not in summary.metadata
    assert "end_s" not in summary.metadata
    assert "emulator" in summary.page_content

    chapters = by_kind(docs, "talk.mp4", "chapters")
    assert len(chapters) >= 2
    assert chapters[0].metadata["start_s"] == 0.0
    assert chapters[-1].metadata["end_s"] == pytest.approx(20.0, abs=0.5)
    for chapter in chapters:
        assert chapter.metadata["chapter_title"]
        assert chapter.page_content.startswith(chapter.metadata["chapter_title"])

    assert by_kind(docs, "silent.mp4", "transcript") == []  # no speech: no empty Document
    assert "has no speech" in caplog.text
    assert len(by_kind(docs, "silent.mp4", "summary")) == 1

    for doc in docs:
        assert doc.metadata.keys() >= METADATA_KEYS
        assert doc.metadata["source"] in (str(media.talk), str(media.silent))
        assert doc.metadata["duration_s"] == pytest.approx(
            20.0 if doc.metadata["filename"] == "talk.mp4" else 8.0, abs=0.1
        )
    assert len({doc.id for doc in docs}) == len(docs)
    assert loader.failures == []


def test_a_second_run_uploads_nothing_and_gives_the_same_ids(
    client: TwelveLabs, media: Media, index_name: str, sent: Callable[[str], int]
) -> None:
    loader = TwelveLabsVideoLoader(
        [media.talk, media.garden], index_name=index_name, chunk_s=7.0, client=client
    )
    first = loader.load()
    assert sent("index") == 2
    # At most one summary each (fewer when an earlier test already asked it of the asset).
    paid = (sent("POST /v1.3/assets"), sent("POST /v1.3/analyze/tasks"))
    assert paid[1] <= 2
    second = loader.load()
    assert sent("index") == 2
    # Nothing uploaded, and no analysis paid twice: each summary is found by its custom_id.
    assert (sent("POST /v1.3/assets"), sent("POST /v1.3/analyze/tasks")) == paid
    assert sorted((d.id, d.page_content) for d in second) == sorted(
        (d.id, d.page_content) for d in first
    )


async def test_alazy_load_is_native_async_and_matches_lazy_load(
    client: TwelveLabs,
    aclient: AsyncTwelveLabs,
    media: Media,
    index_name: str,
    sent: Callable[[str], int],
) -> None:
    kwargs: dict[str, Any] = {
        "index_name": index_name,
        "content": ("transcript", "chapters"),
        "chunk_s": 7.0,
    }
    async_loader = TwelveLabsVideoLoader([media.talk, media.garden], async_client=aclient, **kwargs)
    async_docs = [doc async for doc in async_loader.alazy_load()]
    paid = (sent("index"), sent("POST /v1.3/analyze/tasks"))
    assert paid[0] == 2
    sync_docs = TwelveLabsVideoLoader([media.talk, media.garden], client=client, **kwargs).load()
    assert (sent("index"), sent("POST /v1.3/analyze/tasks")) == paid  # found, not paid again

    def key(doc: Document) -> tuple[str | None, str]:
        return (doc.id, doc.page_content)

    assert sorted(map(key, async_docs)) == sorted(map(key, sync_docs))
    assert sorted(map(key, await async_loader.aload())) == sorted(map(key, sync_docs))


def test_on_error_raise_yields_every_other_video_then_one_error(
    client: TwelveLabs, media: Media, index_name: str
) -> None:
    loader = TwelveLabsVideoLoader(
        [media.short, media.talk, "video:000000000000000000000000"],
        index_name=index_name,
        content=("summary",),
        client=client,
    )
    docs: list[Document] = []
    stream = loader.lazy_load()
    docs.extend(itertools.islice(stream, 1))  # talk's summary comes before the error
    with pytest.raises(IngestError) as caught:
        docs.extend(stream)
    assert [d.metadata["filename"] for d in docs] == ["talk.mp4"]
    failed = {f.source: f for f in caught.value.failures}
    assert failed.keys() == {str(media.short), "video:000000000000000000000000"}
    assert isinstance(failed[str(media.short)].exception, TaskFailedError)
    assert isinstance(failed["video:000000000000000000000000"].exception, NotFoundError)
    assert "short.mp4" in str(caught.value)
    assert loader.failures == list(caught.value.failures)


def test_on_error_skip_logs_and_records_the_failure(
    client: TwelveLabs, media: Media, index_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    loader = TwelveLabsVideoLoader(
        [media.garden, media.short],
        index_name=index_name,
        content=("transcript",),
        on_error="skip",
        client=client,
    )
    docs = loader.load()
    assert {d.metadata["filename"] for d in docs} == {"garden.mp4"}
    (failure,) = loader.failures
    assert failure.source == str(media.short)
    assert isinstance(failure.exception, TaskFailedError)
    assert failure.reason == str(failure.exception)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("short.mp4" in r.getMessage() for r in warnings)


def test_a_video_id_input_reads_a_video_already_indexed(
    client: TwelveLabs, media: Media, index_name: str, sent: Callable[[str], int]
) -> None:
    (first, *_) = TwelveLabsVideoLoader(
        media.garden, index_name=index_name, content=("transcript",), client=client
    ).load()
    video_id, index_id = first.metadata["video_id"], first.metadata["index_id"]
    loader = TwelveLabsVideoLoader(
        f"video:{video_id}", index_id=index_id, content=("transcript",), client=client
    )
    (doc,) = loader.load()
    assert sent("index") == 1
    assert doc.metadata["source"] == f"video:{video_id}"
    assert doc.metadata["asset_id"] == first.metadata["asset_id"]
    assert doc.id == first.id
    assert doc.page_content == first.page_content


def test_segments_are_documents_with_their_times_and_flat_fields(
    client: TwelveLabs, media: Media, index_name: str, sent: Callable[[str], int]
) -> None:
    scene = SegmentDefinition(
        "scene",
        "each scene of the lesson",
        fields=[
            SegmentField("mood", "string", "the mood"),
            SegmentField("people", "array", "who speaks", items="string"),
            SegmentField("talking", "boolean", "does anyone speak"),
        ],
    )
    loader = TwelveLabsVideoLoader(
        [media.talk, media.silent],
        index_name=index_name,
        content=("segments",),
        segment_definitions=[scene],
        client=client,
    )
    docs = loader.load()
    talk = by_kind(docs, "talk.mp4", "segments")
    # Four coloured scenes of 5 s each; the text is each segment's description.
    spans = [(d.metadata["start_s"], d.metadata["end_s"]) for d in talk]
    assert spans == [(0.0, 5.0), (5.0, 10.0), (10.0, 15.0), (15.0, 20.0)]
    assert talk[0].page_content.startswith("A red scene from 0 s to 5 s.")
    assert TALK_LINES[0][2] in talk[0].page_content
    for doc in talk:
        assert doc.metadata["segment"] == "scene"
        assert (doc.metadata["people"], doc.metadata["talking"]) == ("speaker_0", True)
        assert isinstance(doc.metadata["mood"], str)
        assert "description" not in doc.metadata  # it is the text
    (silent,) = {d.metadata["people"] for d in by_kind(docs, "silent.mp4", "segments")}
    assert silent == ""  # nobody speaks: an empty list, flattened
    paid = sent("POST /v1.3/analyze/tasks")
    assert paid == 2
    again = loader.load()
    assert sent("POST /v1.3/analyze/tasks") == paid  # cached by the task's custom_id
    assert sorted(d.id for d in again) == sorted(d.id for d in docs)


def test_segment_definitions_are_checked_before_anything_is_sent(
    client: TwelveLabs, media: Media, requests_sent: Callable[[], int]
) -> None:
    bad = [
        [
            {
                "id": "scene",
                "description": "x",
                "fields": [
                    {
                        "name": "video_id",
                        "type": "string",
                        "description": "clashes with the metadata",
                    }
                ],
            }
        ],
        [
            {
                "id": "scene",
                "description": "x",
                "fields": [{"name": "at", "type": "timestamp", "description": "no format"}],
            }
        ],
        [
            SegmentDefinition(
                "a",
                "x",
                fields=[
                    SegmentField(
                        "e", "time_array", "events", items=[SegmentField("w", "string", "who")]
                    )
                ],
            )
        ],
        ["scene"],
    ]
    for definitions in bad:
        with pytest.raises(InvalidRequestError):
            TwelveLabsVideoLoader(
                media.talk,
                index_name="x",
                content=("segments",),
                segment_definitions=definitions,
                client=client,
            )
    assert requests_sent() == 0


@pytest.mark.parametrize(
    ("videos", "kwargs", "error"),
    [
        (["missing.mp4"], {"index_name": "x"}, InvalidVideoError),
        (["ftp://example.com/a.mp4"], {"index_name": "x"}, InvalidRequestError),
        (["video:abc"], {"index_name": "x", "index_id": "i1"}, InvalidRequestError),
        (["video:abc"], {}, InvalidRequestError),
        (["video:abc"], {"index_name": "x", "content": ("poem",)}, InvalidRequestError),
    ],
)
def test_bad_inputs_raise_before_anything_is_sent(
    client: TwelveLabs,
    media: Media,
    videos: list[str],
    kwargs: dict[str, Any],
    error: type[Exception],
    requests_sent: Callable[[], int],
) -> None:
    with pytest.raises(error):
        TwelveLabsVideoLoader([media.talk, *videos], client=client, **kwargs)
    assert requests_sent() == 0


def test_a_file_removed_after_construction_fails_before_any_upload(
    client: TwelveLabs, media: Media, index_name: str, tmp_path: Path, uploads: Callable[[], int]
) -> None:
    doomed = tmp_path / "doomed.mp4"
    doomed.write_bytes(media.silent.read_bytes())
    loader = TwelveLabsVideoLoader([media.talk, doomed], index_name=index_name, client=client)
    doomed.unlink()
    with pytest.raises(InvalidVideoError, match=r"doomed\.mp4"):
        loader.load()
    assert uploads() == 0


def test_the_key_is_never_printed_serialised_or_logged(
    client: TwelveLabs,
    emulator: Emulator,
    media: Media,
    index_name: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    (first,) = TwelveLabsVideoLoader(
        media.garden, index_name=index_name, content=("summary",), client=client
    ).load()
    # No client given: the loader makes its own from the key, for this run only.
    loader = TwelveLabsVideoLoader(
        [f"video:{first.metadata['video_id']}", "video:000000000000000000000000"],
        index_id=first.metadata["index_id"],
        content=("summary",),
        api_key=SECRET_KEY,
        base_url=emulator.base_url,
        on_error="skip",
    )
    docs = loader.load()
    assert [d.id for d in docs] == [first.id]
    exposed = [
        repr(loader),
        str(vars(loader)),
        dumps(loader),
        pickle.dumps(loader).decode("latin-1"),
        caplog.text,
        *(f.reason for f in loader.failures),
    ]
    for text in exposed:
        assert SECRET_KEY not in text
    assert loader.api_key is not None
    assert loader.api_key.get_secret_value() == SECRET_KEY
    assert pickle.loads(pickle.dumps(loader)).api_key is None

    monkeypatch.setenv("TWELVELABS_API_KEY", "from-the-environment")
    from_env = TwelveLabsVideoLoader("video:abc", index_name="x")
    assert from_env.api_key is not None
    assert from_env.api_key.get_secret_value() == "from-the-environment"


def test_show_progress_draws_a_bar_with_statuses(
    client: TwelveLabs, media: Media, index_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    loader = TwelveLabsVideoLoader(
        [media.garden, media.short],
        index_name=index_name,
        content=("transcript",),
        on_error="skip",
        show_progress=True,
        client=client,
    )
    loader.load()
    err = capsys.readouterr().err
    assert "2/2" in err
    assert "done=1" in err
    assert "failed=1" in err


async def test_alazy_load_with_only_a_sync_client_uses_its_key_and_server(
    emulator_for: Callable[..., Emulator], media: Media, index_name: str
) -> None:
    # The async path runs on the sync client's twin: same key, same server, same policies.
    # (It used to build a keyless client, failing or silently calling the default API.)
    from tl_integrations import PollPolicy

    emu = emulator_for(speed=1000.0, api_key=SECRET_KEY)
    with (
        TwelveLabs(
            api_key=SECRET_KEY,
            base_url=emu.base_url,
            poll_policy=PollPolicy(initial_interval_s=0.02, max_interval_s=0.05),
        ) as client,
    ):
        loader = TwelveLabsVideoLoader(
            [media.talk], index_name=index_name, content=("transcript",), client=client
        )
        docs = [doc async for doc in loader.alazy_load()]
        assert {d.metadata["content_kind"] for d in docs} == {"transcript"}
        assert emu.stats()["uploads"] == 1


async def test_on_status_follows_lazy_load_and_alazy_load_and_is_not_pickled(
    client: TwelveLabs, aclient: AsyncTwelveLabs, media: Media, index_name: str
) -> None:
    seen: list[tuple[str, str]] = []
    loader = TwelveLabsVideoLoader(
        media.garden,
        index_name=index_name,
        content=("transcript",),
        client=client,
        async_client=aclient,
        on_status=lambda source, status: seen.append((source, status)),
    )
    loader.load()
    statuses = [status for _, status in seen]
    assert statuses[:3] == ["hashing", "looking up", "uploading"]
    assert statuses[-3:] == ["ready", "reading", "done"]
    assert {source for source, _ in seen} == {str(media.garden)}
    seen.clear()
    assert [d async for d in loader.alazy_load()]
    assert [status for _, status in seen] == ["hashing", "looking up", "reading", "done"]
    copy = pickle.loads(pickle.dumps(loader))
    assert copy.options.on_status is None
    assert copy.options.index_name == index_name
