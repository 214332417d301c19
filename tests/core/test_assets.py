"""``client.assets`` against the emulator, sync and async: every method, and its checks
before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tl_integrations import (
    ConflictError,
    InvalidRequestError,
    InvalidVideoError,
    NotFoundError,
)
from tl_integrations.emulator import Emulator, make_sample_image, sample_videos

from .emulated import EmuTwin, sha256_of, stored_assets


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return sample_videos(tmp_path_factory.mktemp("videos"))


@pytest.fixture
def video(videos: list[Path]) -> Path:
    return videos[0]


def _requests(emu: Emulator, route: str) -> int:
    return int(emu.stats()["requests"].get(route, 0))


# --- upload ---------------------------------------------------------------------------------


def test_upload_sends_a_small_file_in_one_request_and_returns_it_ready(
    live: EmuTwin, video: Path
) -> None:
    progress: list[tuple[int, int]] = []
    asset = live.run(
        live.client.assets.upload(
            video, user_metadata={"team": "blue"}, on_progress=lambda d, t: progress.append((d, t))
        )
    )
    size = video.stat().st_size
    assert (asset.status, asset.method, asset.filename, asset.size) == (
        "ready",
        "direct",
        video.name,
        size,
    )
    assert asset.user_metadata["team"] == "blue"
    assert asset.user_metadata["tl_sha256"] == sha256_of(video)
    assert not asset.reused
    assert progress == [(size, size)]
    (stored,) = stored_assets(live.emu)
    assert stored.sha256 == sha256_of(video)  # every byte arrived, in order
    assert _requests(live.emu, "POST /v1.3/assets") == 1
    assert _requests(live.emu, "POST /v1.3/assets/multipart-uploads") == 0


def test_the_same_bytes_are_uploaded_once(live: EmuTwin, video: Path) -> None:
    first = live.run(live.client.assets.upload(video))
    again = live.run(live.client.assets.upload(video))
    assert (again.id, again.reused, again.status) == (first.id, True, "ready")
    assert live.emu.stats()["uploads"] == 1
    assert len(stored_assets(live.emu)) == 1


def test_create_from_a_file_and_from_a_url_returns_at_once(live: EmuTwin, video: Path) -> None:
    made = live.run(live.client.assets.create(video, filename="renamed.mp4"))
    assert (made.status, made.filename, made.method) == ("processing", "renamed.mp4", "direct")
    ready = live.run(live.client.assets.wait(made))
    assert ready.status == "ready"
    assert ready.media_duration_s
    # A URL the emulator can fetch: the media link of the asset just made.
    assert ready.hls
    assert ready.hls["manifest_url"]
    by_url = live.run(live.client.assets.create(url=ready.hls["manifest_url"], filename="copy.mp4"))
    assert (by_url.method, by_url.filename) == ("url", "copy.mp4")
    done = live.run(live.client.assets.wait_for_done(by_url.id, sleep_interval=1.0))
    assert done.done


def test_retrieve_list_with_filters_and_wait_many(
    live: EmuTwin, videos: list[Path], tmp_path: Path
) -> None:
    image = make_sample_image(tmp_path / "still.png")
    made = [live.run(live.client.assets.create(path)) for path in [*videos[:2], image]]
    finished = live.collect(live.client.assets.wait_many(made))
    assert sorted(a.id for a in finished) == sorted(a.id for a in made)
    assert {a.status for a in finished} == {"ready"}

    one = live.run(live.client.assets.retrieve(made[0].id))
    assert (one.id, one.filename) == (made[0].id, videos[0].name)
    assert live.run(live.client.assets.retrieve(one)).id == one.id  # the object works too

    listed = live.collect(live.client.assets.list(page_limit=1))  # every page is read
    assert sorted(a.id for a in listed) == sorted(a.id for a in made)
    images = live.collect(live.client.assets.list(asset_types=["image"]))
    assert [a.filename for a in images] == ["still.png"]
    named = live.collect(live.client.assets.list(filename=videos[1].name))
    assert [a.id for a in named] == [made[1].id]
    chosen = live.collect(live.client.assets.list(asset_ids=[made[0].id, made[2].id]))
    assert sorted(a.id for a in chosen) == sorted([made[0].id, made[2].id])


def test_transcription_gives_timed_utterances_with_speakers(live: EmuTwin, video: Path) -> None:
    asset = live.run(live.client.assets.upload(video))
    full = live.run(live.client.assets.transcription(asset))
    assert full.status == "ready"
    assert full.utterances
    assert full.words
    assert full.sentences
    first = full.utterances[0]
    assert first.speaker
    assert first.text
    assert first.end_s > first.start_s >= 0.0
    starts = [u.start_s for u in full.utterances]
    assert starts == sorted(starts)
    only = live.run(live.client.assets.transcription(asset.id, include=["utterances"]))
    assert only.utterances == full.utterances
    assert (only.words, only.sentences) == (None, None)


def test_user_metadata_update_replace_and_clear(live: EmuTwin, video: Path) -> None:
    assets = live.client.assets
    asset = live.run(assets.create(video, user_metadata={"team": "blue", "n": 1}))
    token_key = next(k for k in asset.user_metadata if k not in ("team", "n"))

    live.run(assets.update_user_metadata(asset, {"team": "red", "tags": ["a", "b"]}))
    merged = live.run(assets.retrieve(asset.id)).user_metadata
    assert (merged["team"], merged["n"], merged["tags"]) == ("red", 1, ["a", "b"])
    live.run(assets.update_user_metadata(asset, {"n": None}))  # None deletes a key
    assert "n" not in live.run(assets.retrieve(asset.id)).user_metadata

    live.run(assets.replace_user_metadata(asset.id, {"only": True}))
    assert live.run(assets.retrieve(asset.id)).user_metadata == {"only": True}
    assert token_key not in live.run(assets.retrieve(asset.id)).user_metadata

    live.run(assets.clear_user_metadata(asset))
    assert live.run(assets.retrieve(asset.id)).user_metadata == {}


def test_delete_is_refused_while_indexed_unless_forced(live: EmuTwin, video: Path) -> None:
    client = live.client
    asset = live.run(client.assets.upload(video))
    index = live.run(client.indexes.get_or_create("deletes"))
    live.run(client.indexes.indexed_assets.create(index.id, asset.id))
    with pytest.raises(ConflictError):
        live.run(client.assets.delete(asset))
    assert live.run(client.assets.retrieve(asset.id)).id == asset.id  # still there
    live.run(client.assets.delete(asset.id, force=True))
    with pytest.raises(NotFoundError):
        live.run(client.assets.retrieve(asset.id))
    assert stored_assets(live.emu) == []


def test_an_unused_asset_is_deleted_without_force(live: EmuTwin, video: Path) -> None:
    asset = live.run(live.client.assets.create(video))
    live.run(live.client.assets.delete(asset))
    assert stored_assets(live.emu) == []


# --- refused before sending -----------------------------------------------------------------


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)  # no disk or memory spent
    return path


@pytest.fixture
def nothing_sent(live: EmuTwin) -> Iterator[EmuTwin]:
    before = live.emu.stats()["requests_total"]
    yield live
    assert live.emu.stats()["requests_total"] == before, "a refused call sent a request"


def test_bad_local_files_are_refused_naming_the_file_and_the_fix(
    nothing_sent: EmuTwin, tmp_path: Path
) -> None:
    live = nothing_sent
    empty = tmp_path / "empty.mp4"
    empty.touch()
    notes = tmp_path / "notes.docx"
    notes.write_bytes(b"words")
    cases = {
        tmp_path / "missing.mp4": "not found",
        tmp_path: "not a regular file",
        empty: "empty",
        notes: "not a video, audio, image or document",
        _sparse(tmp_path / "huge.mp4", 10 * 1024**3 + 1): "limited to 10240 MB",
        _sparse(tmp_path / "big.png", 32 * 1024**2 + 1): "limited to 32 MB",
    }
    for path, reason in cases.items():
        with pytest.raises(InvalidVideoError, match=reason) as info:
            live.run(live.client.assets.upload(path))
        assert path.name in str(info.value)
    # create() sends in one request: 200 MB is its limit, and it says so.
    over = _sparse(tmp_path / "over.mp4", 200 * 1024**2 + 1)
    with pytest.raises(InvalidVideoError, match="200 MB for a direct upload"):
        live.run(live.client.assets.create(over))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a, v: a.create(v, url="https://example.com/a.mp4"), "exactly one of"),
        (lambda a, v: a.create(), "exactly one of"),
        (lambda a, v: a.create(url="example.com/a.mp4"), "http"),
        (lambda a, v: a.upload(v, max_concurrency=0), "max_concurrency"),
        (lambda a, v: a.upload(v, max_concurrency=True), "max_concurrency"),
        (lambda a, v: a.upload(v, max_concurrency="4"), "max_concurrency"),
        (lambda a, v: a.upload(v, user_metadata={"n": {"nested": 1}}), "user_metadata"),
        (lambda a, v: a.create(v, user_metadata={1: "x"}), "user_metadata"),
        (lambda a, v: a.list(page_limit=0), "page_limit"),
        (lambda a, v: a.list(asset_ids="a1"), "asset_ids"),
        (lambda a, v: a.list(asset_ids=[".."]), "asset_id"),
        (lambda a, v: a.retrieve(""), "asset_id"),
        (lambda a, v: a.delete(".."), "asset_id"),
        (lambda a, v: a.transcription(None), "asset_id"),
        (lambda a, v: a.transcription("a1", include="words"), "include"),
        (lambda a, v: a.transcription("a1", include=["phonemes"]), "include"),
        (lambda a, v: a.update_user_metadata("a1", {"k": object()}), "user_metadata"),
        (lambda a, v: a.replace_user_metadata("a1", ["k"]), "user_metadata"),
        (lambda a, v: a.replace_user_metadata("a1", {"k": None}), "user_metadata"),
    ],
)
def test_wrong_arguments_are_refused_before_sending(
    nothing_sent: EmuTwin, video: Path, call: object, message: str
) -> None:
    live = nothing_sent
    with pytest.raises(InvalidRequestError, match=message):
        live.finish(call(live.client.assets, video))


@pytest.mark.parametrize(
    "call",
    [
        lambda c, v: c.assets.upload(v, timeout_s=-1),
        lambda c, v: c.index(v, index_name="talks", timeout_s=-1),
        lambda c, v: c.embed.video(v, timeout_s=-1),
        lambda c, v: c.tasks.create_and_wait(
            index_id="6650a1b2c3d4e5f601234567", file=v, timeout_s=float("nan")
        ),
    ],
    ids=["assets.upload", "index", "embed.video", "tasks.create_and_wait"],
)
def test_a_bad_timeout_is_refused_before_the_upload_it_would_follow(
    nothing_sent: EmuTwin, video: Path, call: Any
) -> None:
    # Checked when the wait began, it came after the upload (and left a paid task running).
    live = nothing_sent
    with pytest.raises(InvalidRequestError, match="timeout_s must be a finite number"):
        live.finish(call(live.client, video))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c, f: c.index(f["notes.txt"], index_name="talks"), "a document file"),
        (lambda c, f: c.index(f["sound.mp3"], index_name="talks"), "an audio file"),
        (
            lambda c, f: c.tasks.create(index_id="6650a1b2c3d4e5f601234567", file=f["pic.png"]),
            "an image file",
        ),
        (lambda c, f: c.embed.video(f["notes.txt"]), "is document, not video"),
        (lambda c, f: c.embed.audio(f["pic.png"], model_name="marengo3.5"), "image, not audio"),
        (lambda c, f: c.analyze(f["pic.png"], "What is this?"), "analysis takes video or audio"),
        (lambda c, f: c.analyze("missing.mp4", "What is this?"), "no such file"),
    ],
    ids=[
        "index-doc",
        "index-audio",
        "tasks.create",
        "embed.video",
        "embed.audio",
        "analyze",
        "analyze-missing",
    ],
)
def test_a_file_its_name_says_the_job_cannot_read_is_refused_before_upload(
    nothing_sent: EmuTwin, tmp_path: Path, call: Any, message: str
) -> None:
    # Each was uploaded in full, then refused by the server, the asset left on the account.
    files = {name: tmp_path / name for name in ("notes.txt", "sound.mp3", "pic.png")}
    for path in files.values():
        path.write_bytes(b"some bytes")
    live = nothing_sent
    with pytest.raises((InvalidVideoError, InvalidRequestError), match=message):
        live.finish(call(live.client, files))


def test_a_blank_index_name_is_refused_before_the_look_up(
    nothing_sent: EmuTwin, video: Path
) -> None:
    live = nothing_sent
    with pytest.raises(InvalidRequestError, match="name must be a non-empty string"):
        live.finish(live.client.index(video, index_name=" "))
    with pytest.raises(InvalidRequestError, match="name must be a non-empty string"):
        live.finish(live.client.indexes.get_or_create(""))
