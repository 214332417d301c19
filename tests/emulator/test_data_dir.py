"""The data directory: one emulator at a time, one-line errors for what cannot be used, no
file of anyone else's touched, and nothing half done left by a killed emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

import tl_integrations.emulator as emulator
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock

KEY = "k"
MODELS = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]
FAILSAFE_S = 60.0  # only reached when a child process hangs


@pytest.fixture
def clock() -> ManualClock:
    """One clock for the runs of a test: time goes on across restarts."""
    return ManualClock()


@contextmanager
def serving(data: Path, clock: ManualClock) -> Iterator[tuple[Emulator, httpx.Client]]:
    with (
        Emulator(data_dir=data, clock=clock, seed=21) as emu,
        httpx.Client(base_url=emu.base_url, headers={"x-api-key": KEY}) as http,
    ):
        yield emu, http


def _ready_video(emu: Emulator, http: httpx.Client, path: Path) -> dict[str, Any]:
    index = http.post("/indexes", json={"index_name": "keep", "models": MODELS}).json()
    with path.open("rb") as f:
        task = http.post("/tasks", data={"index_id": index["_id"]}, files={"video_file": f})
    assert task.status_code == 200, task.text
    emu.advance(600.0)
    detail: dict[str, Any] = http.get(f"/tasks/{task.json()['_id']}").json()
    assert detail["status"] == "ready"
    return detail


def _found(http: httpx.Client, index_id: str, text: str) -> list[str]:
    form = {"index_id": index_id, "query_text": text, "search_options": "visual"}
    hits = http.post("/search", data=form, files={})
    assert hits.status_code == 200, hits.text
    return [hit["video_id"] for hit in hits.json()["data"]]


def _data_dir_error() -> type[Exception]:
    error: type[Exception] = emulator.DataDirError  # type: ignore[attr-defined,unused-ignore]
    return error


def _one_line(exc: BaseException, *parts: str) -> None:
    message = str(exc)
    assert "\n" not in message
    for part in parts:
        assert part in message, (part, message)


# ---------------------------------------------------------------------- what cannot be used


def test_a_damaged_state_file_is_named_with_the_fix(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    state = data / "state.json"
    for damage in (b'{"indexes": [', b"[1, 2]", b'{"indexes": [{"name": "no id"}]}'):
        state.write_bytes(damage)
        with pytest.raises(_data_dir_error()) as caught:
            Emulator(data_dir=data).start()
        _one_line(caught.value, str(state), "is damaged", "move it aside")
        assert state.read_bytes() == damage  # nothing was overwritten


def test_a_damaged_vectors_file_is_named_with_the_fix(
    tmp_path: Path, clock: ManualClock, videos: dict[str, Path]
) -> None:
    data = tmp_path / "data"
    with serving(data, clock) as (emu, http):
        video_id = _ready_video(emu, http, videos["beach"])["video_id"]
    vectors = data / "vectors" / f"{video_id}.npz"
    vectors.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(_data_dir_error()) as caught:
        Emulator(data_dir=data).start()
    _one_line(caught.value, str(vectors), "is damaged", "delete it")
    vectors.unlink()  # the fix the message gives
    with serving(data, clock) as (_, http):
        index_id = http.get("/indexes").json()["data"][0]["_id"]
        assert _found(http, index_id, "penguins")[0] == video_id


def test_a_file_or_a_foreign_directory_is_refused(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    with pytest.raises(_data_dir_error()) as caught:
        Emulator(data_dir=a_file).start()
    _one_line(caught.value, str(a_file), "is a file")
    home = tmp_path / "home"
    (home / "media").mkdir(parents=True)
    (home / "thesis.tex").write_text("mine")
    (home / "media" / "holiday.mp4").write_bytes(b"mine")
    with pytest.raises(_data_dir_error()) as caught:
        Emulator(data_dir=home).start()
    _one_line(caught.value, str(home), "'thesis.tex'", "give an empty or new directory")
    assert sorted(p.name for p in home.rglob("*")) == ["holiday.mp4", "media", "thesis.tex"]


# ---------------------------------------------------------------------- reset


def test_reset_deletes_only_the_emulators_own_files(
    tmp_path: Path, clock: ManualClock, videos: dict[str, Path]
) -> None:
    data = tmp_path / "data"
    with serving(data, clock) as (emu, http):
        _ready_video(emu, http, videos["beach"])
        own = sorted(p.relative_to(data) for p in data.rglob("*") if p.is_file())
        assert any(p.parts[0] == "media" for p in own)
        theirs = [data / "media" / "notes.txt", data / "vectors" / "README", data / "keep.txt"]
        for path in theirs:
            path.write_text("someone else's")
        reset = httpx.post(f"{emu.url}/_emulator/reset", json={}, headers={"x-api-key": KEY})
        assert reset.status_code == 204
        assert http.get("/indexes").json()["data"] == []
        left = sorted(p for p in data.rglob("*") if p.is_file() and p.name != "emulator.lock")
        assert left == sorted(theirs)


def test_doctored_records_cannot_reach_outside_the_directory(
    tmp_path: Path, clock: ManualClock, videos: dict[str, Path]
) -> None:
    data = tmp_path / "data"
    with serving(data, clock) as (emu, http):
        detail = _ready_video(emu, http, videos["beach"])
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"not the emulator's")
    state = json.loads((data / "state.json").read_text())
    for record in (*state["assets"], *state["videos"]):
        record["media_path"] = "../outside.mp4"
    (data / "state.json").write_text(json.dumps(state))
    with serving(data, clock) as (emu, http):
        media = http.get(f"{emu.url}/_emulator/media/{detail['video_id']}")
        assert media.status_code == 404
        index_id = detail["index_id"]
        assert http.delete(f"/indexes/{index_id}/videos/{detail['video_id']}").status_code == 204
        assert http.delete(f"/assets/{state['assets'][0]['id']}").status_code == 204
    assert outside.read_bytes() == b"not the emulator's"


# ---------------------------------------------------------------------- after a kill


def test_what_a_killed_emulator_left_is_put_right_at_start(
    tmp_path: Path, clock: ManualClock, videos: dict[str, Path]
) -> None:
    """The files a kill can leave: temporary files, media and vectors whose record was
    never saved, and (with the write order of old) a saved video whose vectors were not."""
    data = tmp_path / "data"
    with serving(data, clock) as (emu, http):
        detail = _ready_video(emu, http, videos["beach"])
    video_id, index_id = detail["video_id"], detail["index_id"]
    own_media = sorted((data / "media").iterdir())
    stray = "f" * 24
    shutil.copy(data / "vectors" / f"{video_id}.npz", data / "vectors" / f"{stray}.npz")
    leftovers = [
        data / "vectors" / f"{stray}.npz",
        data / "media" / f"{stray}.mp4",
        data / "multipart" / f"{stray}.part",
        data / ".state.json.k1l2m3",
        data / "vectors" / f".{stray}.npz.x9y8",
        data / "uploads" / "upload-abc123",
    ]
    for path in leftovers[1:]:
        path.write_bytes(b"left behind")
    (data / "vectors" / f"{video_id}.npz").unlink()
    with serving(data, clock) as (_, http):
        assert _found(http, index_id, "penguins")[0] == video_id
    assert not [p for p in leftovers if p.exists()]
    assert sorted((data / "media").iterdir()) == own_media
    assert (data / "vectors" / f"{video_id}.npz").exists()


def test_an_embedding_task_whose_vectors_were_lost_fails_saying_why(
    tmp_path: Path, clock: ManualClock, videos: dict[str, Path]
) -> None:
    data = tmp_path / "data"
    with serving(data, clock) as (emu, http), videos["concert"].open("rb") as f:
        made = http.post("/embed/tasks", data={"model_name": "marengo3.0"}, files={"video_file": f})
        assert made.status_code == 200, made.text
    task_id = made.json()["_id"]
    (data / "vectors" / f"{task_id}.npz").unlink()
    with serving(data, clock) as (emu, http):
        emu.advance(600.0)
        task = http.get(f"/embed/tasks/{task_id}").json()
    assert task["status"] == "failed"


def test_a_finished_upload_cut_off_by_a_kill_is_completed_at_start(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, videos: dict[str, Path]
) -> None:
    """The last chunk report is saved, then the emulator dies before the file reaches its
    asset: a report sent again counts as a duplicate, so only the start can finish it."""
    from tl_integrations.emulator._backend.assets import Assets

    async def killed(self: Assets, asset_id: str, part: Path) -> None:
        raise RuntimeError("killed here")

    video = videos["beach"].read_bytes()
    data = tmp_path / "data"
    with serving(data, clock) as (emu, http):
        session = http.post(
            "/assets/multipart-uploads",
            json={"filename": "beach.mp4", "type": "video", "total_size": len(video)},
        ).json()
        url = session["upload_urls"][0]["url"]
        etag = httpx.put(url, content=video).headers["etag"].strip('"')
        monkeypatch.setattr(Assets, "complete", killed)
        chunk = {"chunk_index": 1, "proof": etag, "proof_type": "etag", "chunk_size": len(video)}
        cut = http.post(
            f"/assets/multipart-uploads/{session['upload_id']}",
            json={"completed_chunks": [chunk]},
        )
        assert cut.status_code == 500
        monkeypatch.undo()
    with serving(data, clock) as (emu, http):
        emu.advance(600.0)
        asset = http.get(f"/assets/{session['asset_id']}").json()
    assert (asset["status"], asset["size"]) == ("ready", len(video))


# ---------------------------------------------------------------------- one emulator at a time


def test_a_second_emulator_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Emulator(data_dir=data).start()
    try:
        with pytest.raises(emulator.DataDirInUse) as caught:  # type: ignore[attr-defined,unused-ignore]
            Emulator(data_dir=data).start()
        _one_line(caught.value, str(data), f"pid {os.getpid()}", first.url)
    finally:
        first.stop()
    with Emulator(data_dir=data) as second:  # free again once the first has stopped
        assert second.stats()["requests_total"] == 0


_HOLDER = """
import sys
from tl_integrations.emulator import Emulator
emulator = Emulator(data_dir=sys.argv[1]).start()
print(emulator.url, flush=True)
sys.stdin.read()
"""


def test_a_killed_holder_frees_the_directory(tmp_path: Path) -> None:
    """The lock dies with its process: no stale lock file to clean by hand."""
    data = tmp_path / "data"
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(data)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            url = child.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            with pytest.raises(emulator.DataDirInUse) as caught:  # type: ignore[attr-defined,unused-ignore]
                Emulator(data_dir=data).start()
            _one_line(caught.value, f"pid {child.pid}", url)
        finally:
            child.kill()
            child.wait(timeout=FAILSAFE_S)
    with Emulator(data_dir=data) as again:
        assert again.stats()["requests_total"] == 0


def test_a_temporary_state_directory_goes_even_when_nobody_closes_it() -> None:
    import gc

    from tl_integrations.emulator._backend.store import Store

    forgotten = Store(EmulatorConfig(seed=1))
    root = forgotten.persistence.root
    assert root.is_dir()
    del forgotten
    gc.collect()
    assert not root.exists()  # tests and notebooks forget close(); /tmp must not fill up
