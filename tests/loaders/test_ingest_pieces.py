"""The pure pieces of ingestion: options, inputs, hashing, windows, chapters, ids, errors."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest

from tl_integrations import (
    IngestError,
    IngestFailure,
    InvalidRequestError,
    InvalidVideoError,
    TwelveLabsError,
)
from tl_integrations._ingest import (
    IngestOptions,
    TextPiece,
    VideoInfo,
    chunk_transcript,
    display_source,
    parse_chapters,
    piece_id,
    piece_metadata,
    resolve_inputs,
    sha256_file,
    upload_limit,
)
from tl_integrations._ingest.engine import Claims, Entry, Found, Joined
from tl_integrations._ingest.outcome import Progress, Tally
from tl_integrations.langchain import TwelveLabsVideoLoader

# -- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give index_id or index_name"),
        ({"index_id": "i1", "index_name": "talks"}, "give index_id or index_name"),
        ({"index_name": "x", "content": ("transcript", "poems")}, "content must be"),
        ({"index_name": "x", "content": ()}, "content must be"),
        ({"index_name": "x", "chunk_s": 0}, "chunk_s must be"),
        ({"index_name": "x", "max_concurrency": 0}, "max_concurrency must be"),
        ({"index_name": "x", "timeout_s": -1.0}, "timeout_s must be"),
        ({"index_name": "x", "on_error": "ignore"}, "on_error must be"),
        ({"index_name": "  "}, "index_name must be a non-empty string"),
        ({"index_name": "x", "on_status": "print"}, "on_status must be a callable"),
    ],
)
def test_bad_options_are_refused_with_the_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        IngestOptions(**kwargs)  # type: ignore[arg-type]


def test_options_accept_one_kind_and_drop_repeats() -> None:
    options = IngestOptions(index_id="i1", content=("summary", "summary", "chapters"))
    assert options.content == ("summary", "chapters")
    assert IngestOptions(index_id="i1", content="chapters").content == ("chapters",)  # type: ignore[arg-type]


# -- inputs ---------------------------------------------------------------------------------


def test_inputs_resolve_to_files_urls_and_video_ids(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not empty")
    sources = resolve_inputs([clip, "https://cdn.example.com/a.mp4", "video:65f0a1", str(clip)])
    assert [(s.kind, s.source) for s in sources] == [
        ("file", str(clip)),
        ("url", "https://cdn.example.com/a.mp4"),
        ("video", "video:65f0a1"),
    ]
    assert sources[0].path == clip
    assert sources[2].video_id == "65f0a1"
    assert resolve_inputs(str(clip))[0].kind == "file"  # one string is one input


def test_one_file_spelled_several_ways_is_one_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clip.mp4").write_bytes(b"not empty")
    sources = resolve_inputs(["clip.mp4", "./clip.mp4", str(tmp_path / "clip.mp4")])
    assert [s.source for s in sources] == ["clip.mp4"]  # the first spelling is kept


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.mp4", "no such file"),
        ("folder", "holds no video files"),
        ("empty.mp4", "is empty"),
        ("notes.txt", "is a document file by its extension; only videos are indexed"),
        ("sound.mp3", "is an audio file"),
    ],
)
def test_bad_local_files_raise_invalid_video_error(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a video")
    (tmp_path / "sound.mp3").write_bytes(b"ID3")
    with pytest.raises(InvalidVideoError, match=message) as caught:
        resolve_inputs([str(tmp_path / name)])
    assert caught.value.path == str(tmp_path / name)


@pytest.mark.parametrize(
    "bad",
    ["ftp://host/a.mp4", "s3://bucket/a.mp4", "https://", "video:", "video:a b", [], "", " ", None],
)
def test_inputs_of_no_accepted_form_raise_invalid_request(bad: object) -> None:
    with pytest.raises(InvalidRequestError):
        resolve_inputs(bad)  # type: ignore[arg-type]


def test_sha256_is_streamed_and_matches_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path, block_bytes=4096) == hashlib.sha256(data).hexdigest()


def test_urls_lose_credentials_when_logged() -> None:
    url = "https://user:pw@cdn.example.com/v/a.mp4?X-Amz-Signature=abc#t=3"
    assert display_source(url) == "https://cdn.example.com/v/a.mp4"


# -- transcript windows ---------------------------------------------------------------------

LINES = [
    (0.0, 2.0, "one"),
    (2.5, 4.0, "two"),
    (4.5, 6.5, "three"),
    (7.0, 19.0, "a very long monologue"),
    (19.5, 20.0, "  "),
    (20.0, 21.0, "four"),
]


def test_windows_hold_whole_utterances_within_chunk_s() -> None:
    pieces = chunk_transcript(reversed(LINES), chunk_s=5.0)
    assert [(p.start_s, p.end_s, p.text) for p in pieces] == [
        (0.0, 4.0, "one two"),
        (4.5, 6.5, "three"),
        (7.0, 19.0, "a very long monologue"),  # longer than chunk_s: a window of its own
        (20.0, 21.0, "four"),
    ]
    for piece in pieces:
        assert piece.content_kind == "transcript"
        assert piece.start_s is not None
        assert piece.end_s is not None
        start, end = piece.start_s, piece.end_s
        inside = [t for s, e, t in LINES if t.strip() and start <= s and e <= end]
        assert piece.text == " ".join(inside)  # every utterance in exactly one window, whole


def test_silence_gives_no_windows() -> None:
    assert chunk_transcript([], chunk_s=5.0) == []
    assert chunk_transcript([(0.0, 1.0, " ")], chunk_s=5.0) == []


# -- chapters -------------------------------------------------------------------------------


def test_chapters_accept_the_schema_and_older_spellings() -> None:
    data = {
        "chapters": [
            {"start_sec": 6, "end_sec": 12, "chapter_title": "Bake", "chapter_summary": "Oven."},
            {"start": 0, "end": 6, "title": "Mix", "summary": "Flour and water."},
            {"start": 9, "end": 3, "title": "Backwards", "summary": "skipped"},
            {"start": "x", "end": 3, "title": "Bad time", "summary": "skipped"},
            "not an object",
        ]
    }
    pieces = parse_chapters(data)
    assert [(p.start_s, p.end_s, p.chapter_title, p.text) for p in pieces] == [
        (0.0, 6.0, "Mix", "Mix\nFlour and water."),
        (6.0, 12.0, "Bake", "Bake\nOven."),
    ]
    assert parse_chapters([{"start": 1, "end": 2, "title": "T", "summary": ""}])[0].text == "T"
    assert parse_chapters("no json") == []
    assert parse_chapters(None) == []


# -- ids and metadata -----------------------------------------------------------------------


def test_ids_are_stable_and_distinct_per_kind_and_start() -> None:
    info = VideoInfo("a.mp4", "v1", "i1")
    ids = {
        piece_id(info, TextPiece("x", "transcript", 0.0, 5.0)),
        piece_id(info, TextPiece("x", "transcript", 5.0, 9.0)),
        piece_id(info, TextPiece("x", "chapters", 0.0, 5.0)),
        piece_id(info, TextPiece("x", "summary")),
        piece_id(VideoInfo("b.mp4", "v2", "i1"), TextPiece("x", "summary")),
    }
    assert len(ids) == 5
    again = piece_id(VideoInfo("other-name.mp4", "v1", "i9"), TextPiece("y", "summary"))
    assert again == piece_id(info, TextPiece("x", "summary"))  # video id + kind + start only


def test_metadata_is_flat_and_leaves_out_the_unknown() -> None:
    info = VideoInfo("a.mp4", "v1", "i1", task_id=None, filename="a.mp4", duration_s=12.0)
    chapter = TextPiece("Intro", "chapters", 0.0, 3.0, chapter_title="Intro")
    assert piece_metadata(info, chapter) == {
        "source": "a.mp4",
        "video_id": "v1",
        "index_id": "i1",
        "filename": "a.mp4",
        "duration_s": 12.0,
        "content_kind": "chapters",
        "start_s": 0.0,
        "end_s": 3.0,
        "chapter_title": "Intro",
    }
    summary = piece_metadata(info, TextPiece("All.", "summary"))
    assert "start_s" not in summary
    assert "end_s" not in summary


# -- failures, progress, claims -------------------------------------------------------------


def test_ingest_error_names_every_input_and_pickles() -> None:
    failures = [IngestFailure(f"v{i}.mp4", f"reason {i}", ValueError(str(i))) for i in range(25)]
    err = IngestError(failures)
    assert isinstance(err, TwelveLabsError)
    assert str(err).startswith("25 of the videos failed: v0.mp4: reason 0; v1.mp4: reason 1")
    assert str(err).endswith("and 5 more")
    copy = pickle.loads(pickle.dumps(err))
    assert [f.source for f in copy.failures] == [f.source for f in failures]


def test_tally_raises_once_at_the_end_only_when_asked() -> None:
    skip, keep = Tally(on_error="skip"), Tally(on_error="raise")
    for tally in (skip, keep):
        tally.fail("a.mp4", ValueError("broken"))
    skip.finish()
    with pytest.raises(IngestError, match=r"a\.mp4: broken"):
        keep.finish()
    Tally(on_error="raise").finish()  # nothing failed: nothing raised


def test_progress_counts_statuses_without_a_bar() -> None:
    progress = Progress(["a", "b", "c"], enabled=False)
    progress.set("a", "indexing")
    progress.set("b", "indexing")
    progress.finish("c", "done")
    assert progress.counts() == {"indexing": 2, "done": 1}


def test_progress_hands_each_change_to_on_status_once() -> None:
    seen: list[tuple[str, str]] = []
    progress = Progress(["a", "b"], enabled=False, on_status=lambda *call: seen.append(call))
    for status in ("uploading", "validating", "validating", "indexing"):
        progress.set("a", status)
    progress.finish("b", "failed")
    assert seen == [("a", "uploading"), ("a", "validating"), ("a", "indexing"), ("b", "failed")]
    assert progress.counts() == {"indexing": 1, "failed": 1}


def test_progress_knows_the_exceptions_its_callback_raised() -> None:
    def on_status(source: str, status: str) -> None:
        raise KeyError(status)

    progress = Progress(["a"], enabled=False, on_status=on_status)
    with pytest.raises(KeyError) as raised:
        progress.set("a", "hashing")
    assert progress.raised(raised.value)
    assert not progress.raised(KeyError("hashing"))
    assert progress.counts() == {"hashing": 1}  # the status was recorded all the same


def test_claims_join_equal_content_and_hand_out_settled_outcomes() -> None:
    claims = Claims()
    owner = Entry(resolve_inputs("video:a")[0])
    twin, late = Entry(resolve_inputs("video:b")[0]), Entry(resolve_inputs("video:c")[0])
    assert claims.claim(owner, ("k", "1")) is None
    assert claims.claim(twin, ("k", "1")) == Joined()
    assert claims.settle(owner, Found("v1", "t1")) == ["video:a", "video:b"]
    assert claims.claim(late, ("k", "1")) == Found("v1", "t1")
    assert claims.claim(late, None) is None


def test_the_sync_and_async_engines_run_one_flow() -> None:
    import inspect

    from tl_integrations import AsyncVideoIngest, VideoIngest

    sync, native = inspect.signature(VideoIngest.run), inspect.signature(AsyncVideoIngest.run)
    assert sync.parameters == native.parameters
    # Both hand the same flow to their client: no hand-kept twin of the engine exists.
    assert inspect.getsource(VideoIngest.run).count("_ingest(") == 1
    assert inspect.getsource(AsyncVideoIngest.run).count("_ingest(") == 1


def test_the_size_limit_is_the_upload_paths_own(tmp_path: Path) -> None:
    # 3 GB: over /tasks' 2 GB, within the 10 GB of an asset's multipart upload.
    big = tmp_path / "big.mp4"
    with big.open("wb") as sparse:
        sparse.truncate(3 * 1024**3)
    assert resolve_inputs([big], max_bytes=upload_limit("assets"))[0].path == big
    with pytest.raises(InvalidVideoError, match=r"over the 2 GB upload limit; upload it as an"):
        resolve_inputs([big], max_bytes=upload_limit("tasks"))
    loader = TwelveLabsVideoLoader([big], index_name="talks", api_key="tlk_test")
    assert loader.videos == [str(big)]
