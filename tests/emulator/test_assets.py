"""``/assets``: kinds, limits, the processing lifecycle, lists, user metadata, transcription
and deletion, over raw HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit import start_emulator
from tl_integrations.emulator import Emulator, ManualClock, UploadLimits, make_sample_video

from .conftest import LINES, make_audio, make_pdf, make_png, sample, unique

LIMITS = UploadLimits(direct_bytes=2_000_000, image_bytes=100_000)


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, files: dict[str, Path]) -> Emulator:
    # file:// URLs are read only from directories the emulator is told it may read.
    allowed = (files["video"].parent,)
    return start_emulator(request, clock=ManualClock(), seed=5, uploads=LIMITS, file_dirs=allowed)


@pytest.fixture(scope="module")
def http(server: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"x-api-key": "k"}) as client:
        yield client


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("asset-files")
    (root / "notes.MD").write_text("# Notes\n\nA red kite.\n")
    (root / "plain.txt").write_text("just text\n")
    (root / "broken.mp4").write_text("this is not a video\n" * 50)
    return {
        "video": sample(root / "beach.mp4", LINES["beach"]),
        "audio": make_audio(root / "tune.m4a"),
        "image": make_png(root / "red.png"),
        "pdf": make_pdf(root / "paper.pdf", pages=3),
        "markdown": root / "notes.MD",
        "text": root / "plain.txt",
        "broken": root / "broken.mp4",
    }


def post(http: httpx.Client, path: Path, **fields: str) -> httpx.Response:
    with path.open("rb") as handle:
        return http.post(
            "/assets", data={"method": "direct", **fields}, files={"file": (path.name, handle)}
        )


def created(http: httpx.Client, path: Path, **fields: str) -> dict[str, Any]:
    answer = post(http, path, **fields)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def settled(server: Emulator, http: httpx.Client, asset_id: str) -> dict[str, Any]:
    server.advance(600.0)
    body: dict[str, Any] = http.get(f"/assets/{asset_id}").json()
    return body


@pytest.mark.parametrize(
    ("kind", "file_type", "hls", "thumbnail", "facts"),
    [
        ("video", "video/mp4", True, True, {"video_width": 640, "has_audio": True}),
        ("audio", "audio/mp4", True, False, {"audio_codec": "aac", "total_video_streams": 0}),
        ("image", "image/png", False, True, {"image_width": 64, "image_height": 48}),
        ("pdf", "application/pdf", False, True, {"document_page_count": 3}),
        ("markdown", "text/markdown", False, False, {"file_mime_type": "text/markdown"}),
        ("text", "text/plain", False, False, {"file_mime_type": "text/plain"}),
    ],
)
def test_each_kind_is_processing_first_then_ready(
    server: Emulator,
    http: httpx.Client,
    files: dict[str, Path],
    kind: str,
    file_type: str,
    hls: bool,
    thumbnail: bool,
    facts: dict[str, Any],
) -> None:
    asset = created(http, files[kind])
    assert (asset["status"], asset["file_type"], asset["method"]) == (
        "processing",
        file_type,
        "direct",
    )
    assert asset["filename"] == files[kind].name
    early = http.get(f"/assets/{asset['_id']}").json()
    assert early["status"] == "processing"
    assert "technical_metadata" not in early
    assert "size" not in early
    done = settled(server, http, asset["_id"])
    assert done["status"] == "ready"
    assert done["size"] == files[kind].stat().st_size
    assert facts.items() <= done["technical_metadata"].items()
    assert ("hls" in done, "thumbnail" in done) == (hls, thumbnail)
    assert ("duration" in done) == (kind in ("video", "audio"))
    if hls:
        assert done["hls"]["status"] == "ready"
        media = http.get(done["hls"]["manifest_url"])
        assert media.content == files[kind].read_bytes()
    if thumbnail:
        picture = http.get(done["thumbnail"]["representative_url"])
        assert picture.headers["content-type"] == "image/png"
        assert picture.content.startswith(b"\x89PNG")


def test_flags_turn_hls_and_thumbnails_off(
    server: Emulator, http: httpx.Client, files: dict[str, Path]
) -> None:
    asset = created(http, files["video"], enable_hls="false", enable_thumbnail="false")
    done = settled(server, http, asset["_id"])
    assert "hls" not in done
    assert "thumbnail" not in done


def test_an_unreadable_file_fails_the_asset(
    server: Emulator, http: httpx.Client, files: dict[str, Path]
) -> None:
    asset = created(http, files["broken"])
    assert asset["status"] == "processing"
    done = settled(server, http, asset["_id"])
    assert done["status"] == "failed"
    assert "broken.mp4" in done["error"]["message"]
    assert done["hls"]["status"] == "error"
    assert done["technical_metadata"]["file_size_bytes"] == files["broken"].stat().st_size


def test_refusals(server: Emulator, http: httpx.Client, tmp_path: Path) -> None:
    odd = tmp_path / "data.xyz"
    odd.write_bytes(b"\x01\x02\x03" * 100)
    fake_pdf = tmp_path / "fake.pdf"
    fake_pdf.write_text("not a pdf at all")
    binary_txt = tmp_path / "blob.txt"
    binary_txt.write_bytes(b"\x00\xff\x00\xff")
    big = make_png(tmp_path / "big.png")
    with big.open("ab") as handle:
        handle.write(b"\0" * LIMITS.image_bytes)  # trailing bytes after IEND
    long_video = tmp_path / "long.mp4"
    long_video.write_bytes(b"\0" * (LIMITS.direct_bytes + 1))
    cases = [
        (post(http, odd), 400, "parameter_invalid", "not a supported format"),
        (post(http, fake_pdf), 400, "parameter_invalid", "not a PDF"),
        (post(http, binary_txt), 400, "parameter_invalid", "not UTF-8"),
        (post(http, big), 400, "video_filesize_too_large", "image"),
        (post(http, long_video), 400, "video_filesize_too_large", str(LIMITS.direct_bytes)),
        (post(http, big, method="url"), 400, "parameter_not_provided", "url"),
        (post(http, big, method="ftp"), 400, "parameter_invalid", "direct or url"),
        (http.post("/assets", data={"method": "direct"}, files={}), 400, "", "file"),
        (http.post("/assets", data={"filename": "a"}), 400, "parameter_not_provided", "method"),
    ]
    for answer, status, code, words in cases:
        assert answer.status_code == status, answer.text
        assert answer.json()["code"].startswith(code), answer.text
        assert words in answer.json()["message"]
    assert not list(server._app().emulator.backend.store.persistence.uploads_dir.iterdir())


def test_url_uploads_name_the_file(
    server: Emulator, http: httpx.Client, files: dict[str, Path]
) -> None:
    url = files["video"].as_uri()
    by_url = http.post("/assets", data={"method": "url", "url": url}, files={})
    assert by_url.status_code == 201
    assert (by_url.json()["method"], by_url.json()["filename"]) == ("url", "beach.mp4")
    renamed = http.post(
        "/assets", data={"method": "url", "url": url, "filename": "clip.mov"}, files={}
    )
    assert renamed.json()["filename"] == "clip.mov"
    assert renamed.json()["file_type"] == "video/quicktime"
    # The emulator's own media URL has no extension: the kind comes from the bytes.
    done = settled(server, http, by_url.json()["_id"])
    unnamed = http.post("/assets", data={"method": "url", "url": done["hls"]["manifest_url"]})
    assert unnamed.status_code == 201, unnamed.text
    assert unnamed.json()["file_type"] == "video/mp4"
    nowhere = http.post("/assets", data={"method": "url", "url": "https://example.org/a.mp4"})
    assert nowhere.status_code == 400


def test_list_filters_newest_first_and_pages(
    server: Emulator, http: httpx.Client, files: dict[str, Path]
) -> None:
    tag = unique("List")
    ids = [created(http, files["image"], filename=f"{tag}-{n}.png")["_id"] for n in range(3)]
    doc = created(http, files["text"], filename=f"{tag}-notes.txt")["_id"]
    found = http.get("/assets", params={"filename": tag.lower()}).json()
    assert [a["_id"] for a in found["data"]] == [doc, *reversed(ids)]
    images = http.get("/assets", params={"filename": tag, "asset_types": "image"}).json()
    assert [a["_id"] for a in images["data"]] == list(reversed(ids))
    either = http.get("/assets", params=[("asset_ids", ids[0]), ("asset_ids", doc)]).json()
    assert {a["_id"] for a in either["data"]} == {ids[0], doc}
    paged = http.get("/assets", params={"filename": tag, "page_limit": 3, "page": 2}).json()
    assert [a["_id"] for a in paged["data"]] == [ids[0]]
    assert paged["page_info"] == {
        "limit_per_page": 3,
        "page": 2,
        "total_page": 2,
        "total_results": 4,
    }
    past = http.get("/assets", params={"filename": tag, "page": 9})
    assert (past.status_code, past.json()["data"]) == (200, [])
    assert http.get("/assets", params={"page_limit": 51}).status_code == 400
    assert http.get("/assets", params={"asset_types": "movie"}).status_code == 400


def test_user_metadata_merge_replace_and_clear(http: httpx.Client, files: dict[str, Path]) -> None:
    asset = created(
        http, files["image"], user_metadata='{"a": 1, "b": "x", "tags": ["p"], "e": ""}'
    )
    path = f"/assets/{asset['_id']}/user-metadata"
    assert asset["user_metadata"] == {"a": 1, "b": "x", "tags": ["p"]}  # "" is dropped

    def meta() -> dict[str, Any] | None:
        return http.get(f"/assets/{asset['_id']}").json().get("user_metadata")  # type: ignore[no-any-return]

    merged = http.patch(path, json={"user_metadata": {"a": None, "b": "", "tags": [], "c": 2.5}})
    assert merged.status_code == 204
    assert meta() == {"b": "x", "tags": ["p"], "c": 2.5}  # null deletes, "" and [] are ignored
    assert http.put(path, json={"user_metadata": {"z": True, "y": ""}}).status_code == 204
    assert meta() == {"z": True}  # omitted keys go
    assert http.put(path, json={"user_metadata": {}}).status_code == 204
    assert meta() is None
    http.patch(path, json={"user_metadata": {"k": "v"}})
    assert http.delete(path).status_code == 204
    assert meta() is None
    bad = http.patch(path, json={"user_metadata": {"x": {"nested": 1}}})
    assert (bad.status_code, bad.json()["code"]) == (400, "parameter_invalid")
    assert http.patch(path, json={}).json()["code"] == "parameter_not_provided"
    assert http.patch("/assets/" + "0" * 24 + "/user-metadata", json={}).status_code == 400
    unknown = http.delete("/assets/" + "0" * 24 + "/user-metadata")
    assert unknown.status_code == 404


def test_transcription(server: Emulator, http: httpx.Client, files: dict[str, Path]) -> None:
    asset = created(http, files["video"])
    path = f"/assets/{asset['_id']}/transcription"
    assert http.get(path).json() == {"status": "processing"}
    server.advance(600.0)
    words = http.get(path).json()
    assert set(words) == {"status", "words"}
    assert [w["value"] for w in words["words"][:4]] == ["A", "red", "kite", "flies"]
    assert words["words"][0]["start"] == 0.5
    both = http.get(path, params={"include": "sentences,utterances"}).json()
    repeated = http.get(path, params=[("include", "sentences"), ("include", "utterances")])
    assert both == repeated.json()
    assert [u["value"] for u in both["utterances"]] == LINES["beach"]
    assert {u["speaker"] for u in both["utterances"]} == {"speaker_0"}
    assert [s["value"] for s in both["sentences"]] == LINES["beach"]
    assert http.get(path, params={"include": "paragraphs"}).status_code == 400
    image = created(http, files["image"])["_id"]
    assert http.get(f"/assets/{image}/transcription").status_code == 404
    assert http.get("/assets/" + "0" * 24 + "/transcription").status_code == 404
    broken = created(http, files["broken"])["_id"]
    server.advance(600.0)
    failed = http.get(f"/assets/{broken}/transcription").json()
    assert failed["status"] == "failed"
    assert failed["error"]["message"]


def test_delete_refuses_while_indexed_unless_forced(
    server: Emulator, http: httpx.Client, files: dict[str, Path]
) -> None:
    asset = created(http, files["video"])["_id"]
    server.advance(600.0)
    models = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]
    index = http.post("/indexes", json={"index_name": unique("del"), "models": models}).json()
    made = http.post(f"/indexes/{index['_id']}/indexed-assets", json={"asset_id": asset})
    video_id = made.json()["_id"]
    server.advance(600.0)
    refused = http.delete(f"/assets/{asset}")
    assert (refused.status_code, refused.json()["code"]) == (409, "asset_in_use")
    assert video_id in refused.json()["message"]
    users = http.get(f"/assets/{asset}/indexed-assets").json()
    assert users["data"] == [
        {"_id": video_id, "index": {"_id": index["_id"], "name": index_name(http, index["_id"])}}
    ]
    assert http.delete(f"/assets/{asset}", params={"force": "true"}).status_code == 204
    assert http.get(f"/assets/{asset}").status_code == 404
    # The indexed asset stays usable, and keeps its file until it goes too.
    video = http.get(f"/indexes/{index['_id']}/videos/{video_id}").json()
    media = http.get(video["hls"]["video_url"])
    assert hashlib.md5(media.content).digest() == hashlib.md5(files["video"].read_bytes()).digest()
    assert http.delete(f"/indexes/{index['_id']}/indexed-assets/{video_id}").status_code == 204
    assert http.get(video["hls"]["video_url"]).status_code == 404
    plain = created(http, files["text"])["_id"]
    assert http.delete(f"/assets/{plain}").status_code == 204
    assert http.delete(f"/assets/{plain}").status_code == 404


def index_name(http: httpx.Client, index_id: str) -> str:
    name: str = http.get(f"/indexes/{index_id}").json()["index_name"]
    return name


def test_assets_survive_a_restart(tmp_path: Path) -> None:
    clock = ManualClock()
    video = make_sample_video(tmp_path / "keep.mp4", duration_s=5.0)
    data = tmp_path / "data"
    with (
        Emulator(data_dir=data, clock=clock) as first,
        httpx.Client(base_url=first.base_url, headers={"x-api-key": "k"}) as http,
    ):
        asset = created(http, video, user_metadata='{"keep": true}')["_id"]
    with (
        Emulator(data_dir=data, clock=clock) as again,
        httpx.Client(base_url=again.base_url, headers={"x-api-key": "k"}) as http,
    ):
        assert http.get(f"/assets/{asset}").json()["status"] == "processing"
        clock.advance(60.0)
        done = http.get(f"/assets/{asset}").json()
        assert (done["status"], done["user_metadata"]) == ("ready", {"keep": True})
        assert http.get(done["hls"]["manifest_url"]).content == video.read_bytes()


def test_ready_assets_feed_embeddings_and_analysis(
    server: Emulator, http: httpx.Client, files: dict[str, Path], tmp_path: Path
) -> None:
    sound = created(http, make_audio(tmp_path / "long.m4a", duration_s=6.0))["_id"]
    video = created(http, files["video"])["_id"]
    source = {"type": "asset_id", "asset_id": video}
    early = http.post("/analyze", json={"video": source, "prompt": "Title?", "stream": False})
    assert (early.status_code, early.json()["code"]) == (400, "parameter_invalid")
    assert "processing" in early.json()["message"]
    server.advance(600.0)
    answer = http.post("/analyze", json={"video": source, "prompt": "Title?", "stream": False})
    assert "kite" in answer.json()["data"].lower()
    task = http.post(
        "/embed-v2/tasks",
        json={
            "input_type": "audio",
            "model_name": "marengo3.0",
            "audio": {"media_source": {"asset_id": sound}},
        },
    ).json()
    server.advance(600.0)
    done = http.get(f"/embed-v2/tasks/{task['_id']}").json()
    assert done["status"] == "ready"
    assert {d["embedding_option"] for d in done["data"]} == {"audio", "transcription"}
    assert done["metadata"]["input_filename"] == "long.m4a"
