"""A data directory is data: no record in state.json, and no link placed in it, makes the
emulator read, write, move or delete a file outside it."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from tl_integrations.emulator._backend import Backend
from tl_integrations.emulator._backend.ingest import AssetRef
from tl_integrations.emulator._backend.persistence import Persistence
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
