"""A data directory is data: no record in state.json, and no link placed in it, makes the
emulator read, write, move or delete a file outside it."""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from tl_integrations.emulator._backend import Backend
from tl_integrations.emulator._backend.errors import Invalid
from tl_integrations.emulator._backend.fetch import fetch_url
from tl_integrations.emulator._backend.ingest import AssetRef
from tl_integrations.emulator._backend.persistence import (
    _OWN_DIRS,
    LOCK_FILE,
    DataDirError,
    Persistence,
)
from tl_integrations.emulator._backend.records import AssetRec
from tl_integrations.emulator._config import EmulatorConfig


def _session(data: Path) -> tuple[str, str, str]:
    """(upload id, asset id, one chunk URL signature) of a new 8-byte multipart upload."""
    backend = Backend(EmulatorConfig(data_dir=str(data)))
    try:
        rec, grants = backend.uploads.create(
            filename="a.mp4",
            type="video",
            total_size=8,
            enable_hls=None,
            enable_thumbnail=None,
            user_metadata=None,
        )
        return rec.id, rec.asset_id, grants[0].signature
    finally:
        backend.close()


def _point_part_path(data: Path, upload_id: str, part_path: str) -> None:
    state = json.loads((data / "state.json").read_text())
    for upload in state["uploads"]:
        if upload["id"] == upload_id:
            upload["part_path"] = part_path
    (data / "state.json").write_text(json.dumps(state))


async def _body(blob: bytes) -> AsyncIterator[bytes]:
    yield blob


def test_a_doctored_part_path_never_writes_or_deletes_outside(tmp_path: Path) -> None:
    data, victim = tmp_path / "data", tmp_path / "victim.txt"
    victim.write_bytes(b"ORIGINAL")
    upload_id, asset_id, signature = _session(data)
    _point_part_path(data, upload_id, str(victim))
    backend = Backend(EmulatorConfig(data_dir=str(data)))
    try:
        _etag, size = anyio.run(
            lambda: backend.uploads.write(upload_id, 1, signature, _body(b"PWNED!!!"), length=8)
        )
        assert size == 8
        assert victim.read_bytes() == b"ORIGINAL"
        assert (data / "multipart" / f"{upload_id}.part").read_bytes() == b"PWNED!!!"
        _point_part_path(data, upload_id, "../victim.txt")
        backend.assets.delete(asset_id, force=False)
        assert victim.read_bytes() == b"ORIGINAL"
    finally:
        backend.close()


def test_part_files_are_named_by_the_upload_id_only(tmp_path: Path) -> None:
    p = Persistence(tmp_path / "d", durable=True)
    try:
        assert p.part_file("0" * 24) == p.parts_dir / f"{'0' * 24}.part"
        assert p.part_file("../../etc/passwd") is None
        assert p.part_file("0" * 23 + "/") is None
    finally:
        p.close()


def test_a_link_out_of_the_directory_is_not_inside(tmp_path: Path) -> None:
    p = Persistence(tmp_path / "d", durable=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    try:
        os.symlink(secret, p.media_dir / f"{'a' * 24}.png")
        (p.media_dir / f"{'b' * 24}.png").write_bytes(b"x")
        assert p.inside(f"media/{'a' * 24}.png") is None
        assert p.inside(f"media/{'b' * 24}.png") == p.media_dir / f"{'b' * 24}.png"
        assert p.inside("media/../../secret.txt") is None
        assert p.inside(str(secret)) is None
    finally:
        p.close()


def test_embeddings_never_read_a_media_path_leading_out(tmp_path: Path) -> None:
    backend = Backend(EmulatorConfig(data_dir=str(tmp_path / "d")))
    try:
        rec = AssetRec("c" * 24, "direct", "image", "x.png", "image/png", 0.0)
        rec.media_path, rec.ready_from = "media/../../outside.png", 0.0
        backend.store.records.assets[rec.id] = rec
        media = backend._asset_media(AssetRef(rec.id))
        assert media.path is None
    finally:
        backend.close()


# ---------------------------------------------------------------------- links in the directory


@pytest.mark.parametrize("kind", ["symlink to a file", "dangling symlink", "hard link"])
def test_a_lock_file_that_is_a_link_is_refused_and_never_written(tmp_path: Path, kind: str) -> None:
    data, victim = tmp_path / "data", tmp_path / "victim.txt"
    data.mkdir()
    if kind == "dangling symlink":
        os.symlink(victim, data / LOCK_FILE)
    else:
        victim.write_bytes(b"ORIGINAL")
        link = os.symlink if kind == "symlink to a file" else os.link
        link(victim, data / LOCK_FILE)
    with pytest.raises(DataDirError, match=r"lock file .* is a link to another file"):
        Persistence(data, durable=True)
    if kind == "dangling symlink":
        assert not victim.exists()
    else:
        assert victim.read_bytes() == b"ORIGINAL"


@pytest.mark.parametrize("sub", _OWN_DIRS)
def test_a_sub_directory_that_is_a_link_is_refused_at_start(tmp_path: Path, sub: str) -> None:
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    data.mkdir()
    elsewhere.mkdir()
    # Files named as the emulator names its own: a start-up sweep would delete them.
    names = [f"{'a' * 24}.png", f"{'a' * 24}.npz", f"{'a' * 24}.part", "upload-x", "fetch-y"]
    for name in names:
        (elsewhere / name).write_bytes(b"KEEP")
    os.symlink(elsewhere, data / sub)
    with pytest.raises(
        DataDirError, match=re.escape(f"{data / sub} is a symbolic link")
    ) as refused:
        Persistence(data, durable=True)
    assert "give another data directory" in str(refused.value)
    assert sorted(p.name for p in elsewhere.iterdir()) == sorted(names)
    with pytest.raises(DataDirError, match="is a symbolic link"):
        Backend(EmulatorConfig(data_dir=str(data)))
    assert sorted(p.name for p in elsewhere.iterdir()) == sorted(names)


def test_sweep_and_reset_unlink_links_and_never_enter_a_linked_directory(tmp_path: Path) -> None:
    p = Persistence(tmp_path / "d", durable=True)
    elsewhere, victim = tmp_path / "elsewhere", tmp_path / "victim.png"
    elsewhere.mkdir()
    victim.write_bytes(b"KEEP")
    try:
        # A link named as a stored medium: the sweep removes the link, not what it names.
        os.symlink(victim, p.media_dir / f"{'b' * 24}.png")
        # A sub-directory swapped for a link once the emulator runs: never entered.
        (elsewhere / f"{'c' * 24}.npz").write_bytes(b"KEEP")
        (elsewhere / f"{'c' * 24}.part").write_bytes(b"KEEP")
        for sub in (p.vectors_dir, p.parts_dir):
            sub.rmdir()
            os.symlink(elsewhere, sub)
        assert p.sweep(ids=set(), files=set()) == 1
        assert not os.path.lexists(p.media_dir / f"{'b' * 24}.png")
        assert victim.read_bytes() == b"KEEP"
        os.symlink(victim, p.media_dir / f"{'b' * 24}.png")
        p.clear()
        assert not os.path.lexists(p.media_dir / f"{'b' * 24}.png")
        assert victim.read_bytes() == b"KEEP"
        assert sorted(f.name for f in elsewhere.iterdir()) == [
            f"{'c' * 24}.npz",
            f"{'c' * 24}.part",
        ]
    finally:
        p.close()


def test_state_json_is_never_written_or_read_through_a_link(tmp_path: Path) -> None:
    p = Persistence(tmp_path / "d", durable=True)
    victim = tmp_path / "victim.json"
    victim.write_text('{"indexes": ["someone else\'s"]}')
    try:
        os.symlink(victim, p.state_path)
        with pytest.raises(DataDirError, match=r"state\.json is damaged .*symbolic link"):
            p.load_state()
        p.save_state({"indexes": []})  # a temporary file (O_EXCL) moved over the link
        assert victim.read_text() == '{"indexes": ["someone else\'s"]}'
        assert not p.state_path.is_symlink()
        assert p.load_state() == {"indexes": []}
    finally:
        p.close()


# ---------------------------------------------------------------------- file:// URLs


def _fetch(path: Path, dest: Path, allowed: Path, max_bytes: int = 100) -> tuple[Path, str]:
    """``fetch_url`` of ``path``'s file:// URL, with ``allowed`` the one readable directory."""
    url = path.as_uri()
    return anyio.run(
        functools.partial(fetch_url, url, dest_dir=dest, max_bytes=max_bytes, file_dirs=[allowed])
    )


@pytest.mark.parametrize("proc", [True, False], ids=["proc-fd", "fstat"])
@pytest.mark.parametrize("swapped", ["the file", "a directory above it"])
def test_a_file_url_swapped_for_a_link_after_its_check_reads_nothing_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swapped: str, proc: bool
) -> None:
    allowed, outside, dest = tmp_path / "allowed", tmp_path / "outside", tmp_path / "dest"
    for d in (allowed / "sub", outside, dest):
        d.mkdir(parents=True)
    source = allowed / "sub" / "a.mp4"
    source.write_bytes(b"ALLOWED")
    (outside / "a.mp4").write_bytes(b"SECRET")

    def swap() -> None:  # what another process does between the check and the open
        if swapped == "the file":
            os.symlink(outside / "a.mp4", allowed / "sub" / "link")
            os.replace(allowed / "sub" / "link", source)
        else:
            os.rename(allowed / "sub", allowed / "old")
            os.symlink(outside, allowed / "sub")

    realpath, islink, done = os.path.realpath, os.path.islink, []

    def checked_then_swapped(path: Any, *args: Any, **kwargs: Any) -> Any:
        answer = realpath(path, *args, **kwargs)
        if os.fspath(path) == str(source) and not done:
            swap()
            done.append(path)
        return answer

    monkeypatch.setattr(os.path, "realpath", checked_then_swapped)
    if not proc:  # as where /proc/self/fd is missing (macOS, BSD)
        monkeypatch.setattr(os.path, "islink", lambda p: False if "/proc/" in str(p) else islink(p))
    with pytest.raises(Invalid):
        _fetch(source, dest, allowed)
    assert done
    assert not [f for f in dest.iterdir() if f.read_bytes() == b"SECRET"]


def test_a_file_url_inside_is_copied_from_the_opened_file(tmp_path: Path) -> None:
    allowed, dest = tmp_path / "allowed", tmp_path / "dest"
    allowed.mkdir()
    dest.mkdir()
    (allowed / "a.mp4").write_bytes(b"ALLOWED")
    (allowed / "link.mp4").symlink_to(allowed / "a.mp4")  # a link that stays inside
    for name in ("a.mp4", "link.mp4"):
        path, filename = _fetch(allowed / name, dest, allowed)
        assert (path.read_bytes(), filename) == (b"ALLOWED", "a.mp4")
    with pytest.raises(Invalid, match="too large"):
        _fetch(allowed / "a.mp4", dest, allowed, max_bytes=3)
    with pytest.raises(Invalid, match="names no file"):
        _fetch(allowed, dest, allowed)
