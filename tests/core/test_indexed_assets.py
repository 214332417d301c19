"""``client.indexes.indexed_assets`` and ``client.index(...)`` against the emulator, sync
and async: every method, and its checks before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tl_integrations import InvalidRequestError, InvalidVideoError, NotFoundError
from tl_integrations.emulator import sample_videos

from .emulated import MULTIPART, EmuTwin, stored_assets, stored_videos


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return sample_videos(tmp_path_factory.mktemp("videos"))


def _ready_assets(live: EmuTwin, videos: list[Path]) -> list[Any]:
    return [live.run(live.client.assets.upload(path)) for path in videos]


def test_create_wait_retrieve_update_and_delete(live: EmuTwin, videos: list[Path]) -> None:
    resource = live.client.indexes.indexed_assets
    (asset,) = _ready_assets(live, videos[:1])
    index = live.run(live.client.indexes.get_or_create("library"))
    made = live.run(
        resource.create(index.id, asset, user_metadata={"shelf": "a"}, enable_video_stream=True)
    )
    assert (made.status, made.index_id) == ("validating", index.id)
    seen: list[str] = []
    ready = live.run(resource.wait(made, on_update=lambda ia: seen.append(ia.status)))
    assert (ready.id, ready.status, ready.asset_id) == (made.id, "ready", asset.id)
    assert seen
    assert seen[-1] == "ready"
    assert ready.system_metadata.filename == videos[0].name
    assert ready.duration_s
    assert ready.hls

    full = live.run(resource.retrieve(index.id, made.id, transcription=True))
    assert full.transcription
    assert full.transcription[0].text
    assert full.user_metadata["shelf"] == "a"
    by_id = live.run(resource.wait(made.id, index_id=index.id))  # an id and its index
    assert by_id.status == "ready"

    live.run(resource.update(index.id, made.id, user_metadata={"shelf": "b", "n": 2}))
    updated = live.run(resource.retrieve(index.id, made.id)).user_metadata
    assert (updated["shelf"], updated["n"]) == ("b", 2)

    video = live.run(live.client.videos.retrieve(index.id, made.id))
    assert (video.id, video.asset_id) == (made.id, asset.id)

    live.run(resource.delete(index.id, made.id))
    with pytest.raises(NotFoundError):
        live.run(resource.retrieve(index.id, made.id))
    assert [a.id for a in stored_assets(live.emu)] == [asset.id]  # the asset stays


def test_list_filters_and_wait_many(live: EmuTwin, videos: list[Path]) -> None:
    resource = live.client.indexes.indexed_assets
    assets = _ready_assets(live, videos)
    index = live.run(live.client.indexes.get_or_create("many"))
    made = [
        live.run(resource.create(index.id, a, user_metadata={"n": i})) for i, a in enumerate(assets)
    ]
    pending = live.collect(resource.list(index.id, status=["validating", "pending"]))
    assert sorted(ia.id for ia in pending) == sorted(ia.id for ia in made)

    done = live.collect(resource.wait_many(made))
    assert sorted(ia.id for ia in done) == sorted(ia.id for ia in made)
    assert {ia.status for ia in done} == {"ready"}

    every = live.collect(resource.list(index.id, page_limit=1))  # every page
    assert len(every) == len(made)
    assert live.collect(resource.list(index.id, status="failed")) == []
    second = live.collect(resource.list(index.id, user_metadata={"n": 1}))
    assert [ia.id for ia in second] == [made[1].id]
    named = live.collect(resource.list(index.id, filename=videos[2].name))
    assert [ia.id for ia in named] == [made[2].id]
    newest = live.collect(resource.list(index.id, sort_by="created_at", sort_option="asc"))
    assert [ia.id for ia in newest] == [ia.id for ia in made]


def test_index_uploads_and_indexes_once_per_index(live: EmuTwin, videos: list[Path]) -> None:
    progress: list[tuple[int, int]] = []
    video = live.run(
        live.client.index(
            videos[0],
            index_name="once",
            user_metadata={"topic": "food"},
            on_progress=lambda d, t: progress.append((d, t)),
        )
    )
    assert video.asset_id
    assert video.user_metadata["topic"] == "food"
    assert video.system_metadata.filename == videos[0].name
    assert progress[-1] == (videos[0].stat().st_size,) * 2

    again = live.run(live.client.index(videos[0], index_name="once"))
    assert (again.id, again.asset_id) == (video.id, video.asset_id)
    elsewhere = live.run(live.client.index(videos[0], index_name="twice"))
    assert elsewhere.id != video.id
    assert elsewhere.asset_id == video.asset_id  # the same asset, indexed twice
    stats = live.emu.stats()
    assert stats["uploads"] == 1
    assert stats["requests"]["POST /v1.3/indexes/{id}/indexed-assets"] == 2
    assert len(stored_assets(live.emu)) == 1
    assert len(stored_videos(live.emu)) == 2


def test_index_takes_a_large_file_in_chunks(live: EmuTwin, tmp_path: Path) -> None:
    # client.index has no threshold of its own: the sample is under it, so this checks the
    # path it takes is the one assets.upload takes, by a file uploaded that way first.
    (path,) = sample_videos(tmp_path)[:1]
    asset = live.run(live.client.assets.upload(path, **MULTIPART))
    video = live.run(live.client.index(path, index_name="chunked"))
    assert video.asset_id == asset.id
    assert live.emu.stats()["uploads"] == 0  # no direct upload: the chunked asset was reused


# --- refused before sending -----------------------------------------------------------------


@pytest.fixture
def nothing_sent(live: EmuTwin) -> Iterator[EmuTwin]:
    before = live.emu.stats()["requests_total"]
    yield live
    assert live.emu.stats()["requests_total"] == before, "a refused call sent a request"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.create("i1", ".."), "asset_id"),
        (lambda r: r.create("", "a1"), "index_id"),
        (lambda r: r.create("i1", "a1", user_metadata={"k": {"x": 1}}), "user_metadata"),
        (lambda r: r.retrieve("i1", ".."), "indexed_asset_id"),
        (lambda r: r.list("i1", page_limit=51), "page_limit"),
        (lambda r: r.list("i1", user_metadata={"status": "x"}), "collides"),
        (lambda r: r.update("..", "v1", user_metadata={}), "index_id"),
        (lambda r: r.delete("i1", ""), "indexed_asset_id"),
        (lambda r: r.wait("v1"), "index"),
        (lambda r: r.wait_many(["v1"]), "index"),
    ],
)
def test_wrong_arguments_are_refused_before_sending(
    nothing_sent: EmuTwin, call: Any, message: str
) -> None:
    live = nothing_sent
    with pytest.raises(InvalidRequestError, match=message):
        live.finish(call(live.client.indexes.indexed_assets))


def test_index_refuses_bad_input_before_sending(
    nothing_sent: EmuTwin, videos: list[Path], tmp_path: Path
) -> None:
    live = nothing_sent
    with pytest.raises(InvalidRequestError, match="index_id or index_name"):
        live.run(live.client.index(videos[0]))
    with pytest.raises(InvalidRequestError, match="index_id or index_name"):
        live.run(live.client.index(videos[0], index_id="i1", index_name="n"))
    with pytest.raises(InvalidVideoError, match="not found"):
        live.run(live.client.index(tmp_path / "missing.mp4", index_id="i1"))
    with pytest.raises(InvalidVideoError, match="not found"):  # no index made for it either
        live.run(live.client.index(tmp_path / "missing.mp4", index_name="new"))
