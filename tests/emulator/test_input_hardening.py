"""Hostile input from any loopback client: decompression bombs, control characters in file
names and URLs, absurd numbers in queries and JSON bodies made of millions of values.
Each is refused with a 400 in the API's error shape, before it costs memory or breaks the
data directory."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from testkit import start_emulator
from tl_integrations.emulator import Emulator, ManualClock, UploadLimits, make_sample_image
from tl_integrations.emulator._media import (
    ANALYZE_IMAGE_PIXELS,
    MAX_IMAGE_PIXELS,
    MediaError,
    declared_image_size,
    probe_picture,
    probe_streams,
)

from .conftest import make_png


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG of ``width`` x ``height`` black pixels: tiny on disk, huge
    once decoded."""
    packer = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte + pixels
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hardening")


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, media: Path) -> Emulator:
    return start_emulator(request, clock=ManualClock(), seed=5, file_dirs=(media,))


@pytest.fixture(scope="module")
def http(server: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"x-api-key": "k"}) as client:
        yield client


@pytest.fixture(scope="module")
def big_png() -> bytes:
    """Over the emulator's own pixel cap (9000 x 9000 > 8192 x 8192)."""
    return bomb_png(9000, 9000)


@pytest.fixture(scope="module")
def analyze_png() -> bytes:
    """Under the asset cap, over the API's 16,777,216-pixel limit for analysis images."""
    return bomb_png(5000, 5000)


def message(answer: httpx.Response) -> str:
    body = answer.json()
    text: str = body["message"] if "message" in body else body["error"]["message"]
    return text


# ------------------------------------------------------------------ 1. decompression bombs


def test_an_image_asset_over_the_pixel_cap_is_refused_from_its_header(
    http: httpx.Client, big_png: bytes
) -> None:
    answer = http.post("/assets", data={"method": "direct"}, files={"file": ("big.png", big_png)})
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "parameter_invalid"
    assert "9000x9000" in message(answer)
    assert str(MAX_IMAGE_PIXELS) in message(answer)
    assert "documents no pixel limit" in message(answer)


def test_an_analysis_image_keeps_the_documented_pixel_limit(
    http: httpx.Client, analyze_png: bytes
) -> None:
    image = {"name": "big", "base64_string": base64.b64encode(analyze_png).decode()}
    body = {"model_name": "pegasus1.6", "image": [image], "prompt": "What is <@big>?"}
    answer = http.post("/analyze", json=body)
    assert answer.status_code == 400, answer.text
    assert str(ANALYZE_IMAGE_PIXELS) in message(answer)
    assert "5000x5000" in message(answer)


def test_an_embedding_image_over_the_pixel_cap_is_refused(
    http: httpx.Client, big_png: bytes
) -> None:
    source = {"base64_string": base64.b64encode(big_png).decode()}
    body = {"input_type": "image", "model_name": "marengo3.0", "image": {"media_source": source}}
    answer = http.post("/embed-v2", json=body)
    assert answer.status_code == 400, answer.text
    assert "9000x9000" in message(answer)


@pytest.mark.parametrize("extension", ["png", "jpg", "gif", "webp", "bmp", "tiff"])
def test_the_header_reader_knows_every_image_format_the_api_takes(
    tmp_path: Path, extension: str
) -> None:
    path = make_sample_image(tmp_path / f"a.{extension}", ["red"], size=(64, 48))
    assert declared_image_size(path) == (64, 48)


def test_ffmpeg_decodes_no_giant_picture_whose_size_no_header_told(tmp_path: Path) -> None:
    # A 9000 x 9000 PNG frame inside a QuickTime file: no image header to read first.
    path = tmp_path / "giant.mov"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("png", rate=1)
        stream.width = stream.height = 9000
        stream.pix_fmt = "gray"
        frame = av.VideoFrame.from_ndarray(np.zeros((9000, 9000), np.uint8), format="gray")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    assert probe_streams(path).video[0]["width"] == 0  # not decoded while opening
    with pytest.raises(MediaError):
        probe_picture(path)


# ------------------------------------------------------- 2. control characters in file names


def raw_form(field: str, filename: bytes, content: bytes, **fields: str) -> tuple[bytes, str]:
    """A multipart body written by hand: httpx would percent-encode the name."""
    boundary = "hardening-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="'.encode()
        + filename
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


@pytest.mark.parametrize("name", [b"a\x00b.png", b"a\nb.png", b"a.pn\x01g"])
@pytest.mark.parametrize(
    ("path", "field", "fields"),
    [
        ("/assets", "file", {"method": "direct"}),
        ("/tasks", "video_file", {"index_id": "0" * 24}),
        ("/embed", "image_file", {"model_name": "marengo3.0"}),
        ("/search", "query_media_file", {"index_id": "0" * 24, "query_media_type": "image"}),
    ],
)
def test_a_form_file_name_with_a_control_character_is_refused(
    http: httpx.Client, media: Path, path: str, field: str, fields: dict[str, str], name: bytes
) -> None:
    body, boundary = raw_form(field, name, make_png(media / "red.png").read_bytes(), **fields)
    answer = http.post(
        path, content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert answer.status_code == 400, answer.text
    assert "control characters" in message(answer)


@pytest.mark.parametrize("name", ["a.pn\x00g", "clip\n.mp4", "\x7fclip.mp4"])
def test_a_multipart_session_or_asset_name_with_a_control_character_is_refused(
    http: httpx.Client, media: Path, name: str
) -> None:
    body = {"filename": name, "type": "image", "total_size": 100}
    answer = http.post("/assets/multipart-uploads", json=body)
    assert answer.status_code == 400, answer.text
    assert "control characters" in message(answer)
    with make_png(media / "red.png").open("rb") as handle:
        answer = http.post(
            "/assets",
            data={"method": "direct", "filename": name},
            files={"file": ("red.png", handle)},
        )
    assert answer.status_code == 400, answer.text
    assert "control characters" in message(answer)


def _renamed(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return new if value == old else value


def test_a_saved_name_with_a_control_character_neither_breaks_a_restart_nor_completion(
    tmp_path: Path,
) -> None:
    data, clock = tmp_path / "data", ManualClock()
    png = make_png(tmp_path / "red.png").read_bytes()
    limits = UploadLimits(chunk_size_bytes=len(png), initial_urls=1)
    with (
        Emulator(data_dir=data, clock=clock, uploads=limits) as first,
        httpx.Client(base_url=first.base_url, headers={"x-api-key": "k"}) as http,
    ):
        body = {"filename": "red.png", "type": "image", "total_size": len(png)}
        session = http.post("/assets/multipart-uploads", json=body).json()
    # As an older emulator (or a hand edit) could have saved it.
    state = data / "state.json"
    state.write_text(json.dumps(_renamed(json.loads(state.read_text()), "red.png", "red.pn\0g")))
    for restart in range(2):  # every restart on this directory works
        with (
            Emulator(data_dir=data, clock=clock, uploads=limits) as again,
            httpx.Client(base_url=again.base_url, headers={"x-api-key": "k"}) as http,
        ):
            asset = http.get(f"/assets/{session['asset_id']}")
            assert asset.status_code == 200
            assert asset.json()["filename"] == "red.pn\0g"
            if restart == 0:
                fresh = http.post(
                    f"/assets/multipart-uploads/{session['upload_id']}/presigned-urls",
                    json={"start": 1, "count": 1},
                ).json()["upload_urls"][0]["url"]
                etag = httpx.put(fresh, content=png).headers["etag"].strip('"')
                chunk = {"chunk_index": 1, "proof": etag, "proof_type": "etag"}
                answer = http.post(
                    f"/assets/multipart-uploads/{session['upload_id']}",
                    json={"completed_chunks": [{**chunk, "chunk_size": len(png)}]},
                )
                assert answer.status_code == 200, answer.text
    stored = [p.name for p in (data / "media").iterdir()]
    assert stored == [f"{session['asset_id']}.jpg"]  # the default extension, no NUL


# ------------------------------------------------------------------ 3. absurd numbers and URLs


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/indexes", {"page": "1e400"}),
        ("/assets", {"page": "-1e400"}),
        ("/tasks", {"page": "1e300"}),
        ("/analyze/tasks", {"page_limit": "inf"}),
        ("/embed-v2/tasks", {"page": "99999999999999999999999999"}),
    ],
)
def test_absurd_numbers_in_a_query_are_a_400(
    http: httpx.Client, path: str, query: dict[str, str]
) -> None:
    answer = http.get(path, params=query)
    assert answer.status_code == 400, answer.text
    field = next(iter(query))
    assert field in message(answer)


def test_a_non_finite_range_bound_is_a_400(http: httpx.Client) -> None:
    index = http.post(
        "/indexes",
        json={
            "index_name": "ranges",
            "models": [{"model_name": "marengo3.0", "model_options": ["visual"]}],
        },
    ).json()["_id"]
    for bound in ("nan", "1e400"):
        answer = http.get(f"/indexes/{index}/videos", params={"duration[gte]": bound})
        assert answer.status_code == 400, answer.text
        assert "finite" in message(answer)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/a\x00.mp4",
        "http://127.0.0.1:1/a\n.mp4",
        "file:///tmp/a\x00.mp4",
        "file:///tmp/a%00.mp4",
        "http://[::1/a.mp4",
        "http://127.0.0.1:99999/a.mp4",
    ],
)
def test_a_malformed_media_url_is_a_400(http: httpx.Client, url: str) -> None:
    answers = [
        http.post("/assets", data={"method": "url", "url": url}),
        http.post("/analyze", json={"video": {"type": "url", "url": url}, "prompt": "What?"}),
        http.post(
            "/embed-v2/tasks",
            json={
                "input_type": "video",
                "model_name": "marengo3.0",
                "video": {"media_source": {"url": url}},
            },
        ),
    ]
    for answer in answers:
        assert answer.status_code == 400, answer.text


# ------------------------------------------------------------------ 4. JSON bodies of many values


def test_a_json_body_of_millions_of_values_is_refused_before_parsing(http: httpx.Client) -> None:
    many = b"[" + b"{}," * 1_000_000 + b"{}]"
    body = b'{"index_name": "many", "extra": ' + many + b"}"
    answer = http.post("/indexes", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert "too many values" in message(answer)
