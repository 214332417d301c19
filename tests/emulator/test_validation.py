"""Request and media validation: the API's error codes, shapes and messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tl_integrations.emulator import Emulator, ManualClock, MediaLimits, make_sample_video

from .conftest import post_video, unique


@pytest.fixture(scope="module")
def bad_media(media_dir: Path) -> dict[str, Path]:
    text = media_dir / "notes.mp4"
    text.write_text("this is not a video\n" * 100)
    return {
        "short": make_sample_video(media_dir / "short.mp4", duration_s=2.0),
        "small": make_sample_video(media_dir / "small.mp4", duration_s=5.0, size=(320, 240)),
        "wide": make_sample_video(media_dir / "wide.mp4", duration_s=5.0, size=(1280, 360)),
        "broken": text,
    }


@pytest.fixture(scope="module")
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "any-key"}) as c:
        yield c


@pytest.fixture(scope="module")
def index_id(http: httpx.Client) -> str:
    models = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]
    r = http.post("/indexes", json={"index_name": unique("val"), "models": models})
    assert r.status_code == 201
    return str(r.json()["_id"])


@pytest.mark.parametrize(
    ("kind", "code", "words"),
    [
        ("short", "video_duration_too_short", "at least 4 s"),
        ("small", "video_resolution_too_low", "320x240"),
        ("wide", "video_resolution_invalid_aspect_ratio", "1280x360"),
        ("broken", "video_file_broken", "notes.mp4"),
    ],
)
def test_media_rules_fail_synchronously(
    http: httpx.Client, index_id: str, bad_media: dict[str, Path], kind: str, code: str, words: str
) -> None:
    r = post_video(http, index_id, bad_media[kind])
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == code
    assert words in body["message"]
    assert body["docs_url"]


def test_parameter_errors(http: httpx.Client, index_id: str, videos: dict[str, Path]) -> None:
    r = http.post("/tasks", files={"video_file": ("a.mp4", b"x")})
    assert (r.status_code, r.json()["code"]) == (400, "parameter_not_provided")
    r = http.post("/tasks", data={"index_id": "0" * 24}, files={"video_file": ("a.mp4", b"x")})
    assert (r.status_code, r.json()["code"]) == (404, "resource_not_exist")
    r = http.post(
        "/tasks",
        data={"index_id": index_id, "user_metadata": "[1, 2]"},
        files={"video_file": ("a.mp4", b"x")},
    )
    assert r.json()["code"] == "parameter_invalid"
    assert "user_metadata" in r.json()["message"]
    r = http.get("/tasks", params={"page_limit": 51})
    assert (r.status_code, r.json()["code"]) == (400, "parameter_invalid")
    r = http.post(
        "/indexes",
        json={"index_name": "x", "models": [{"model_name": "gpt", "model_options": ["visual"]}]},
    )
    assert r.status_code == 400
    assert "gpt" in r.json()["message"]
    r = http.get("/no/such/route")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_index_name_must_be_unique(http: httpx.Client) -> None:
    body = {
        "index_name": unique("dup"),
        "models": [{"model_name": "marengo3.0", "model_options": ["visual"]}],
    }
    assert http.post("/indexes", json=body).status_code == 201
    r = http.post("/indexes", json=body)
    assert (r.status_code, r.json()["code"]) == (400, "index_name_already_exists")


def test_video_url_only_local(
    http: httpx.Client, index_id: str, emu: Emulator, videos: dict[str, Path], indexed30: object
) -> None:
    r = http.post("/tasks", data={"index_id": index_id, "video_url": "https://example.org/a.mp4"})
    assert r.status_code == 400
    assert "no internet access" in r.json()["message"]
    r = http.post("/tasks", data={"index_id": index_id, "video_url": videos["beach"].as_uri()})
    assert r.status_code == 200
    assert r.json()["video_id"]
    # A loopback http URL: the emulator's own media endpoint serves the uploaded file.
    served = http.get(f"/tasks/{r.json()['_id']}").json()["hls"]["video_url"]
    r = http.post("/tasks", data={"index_id": index_id, "video_url": served})
    assert r.status_code == 200
    missing = (videos["beach"].parent / "missing.mp4").as_uri()
    r = http.post("/tasks", data={"index_id": index_id, "video_url": missing})
    assert r.status_code == 400
    assert "names no file" in r.json()["message"]


def test_url_sent_as_a_file_part_is_accepted(
    http: httpx.Client, index_id: str, videos: dict[str, Path]
) -> None:
    url = videos["beach"].as_uri().encode()
    files = {"video_url": ("video_url", url), "index_id": ("index_id", index_id.encode())}
    r = http.post("/tasks", files=files)
    assert r.status_code == 200, r.text


def test_embed_task_parameter_rules(http: httpx.Client, videos: dict[str, Path]) -> None:
    def create(**fields: str) -> httpx.Response:
        with videos["beach"].open("rb") as f:
            return http.post(
                "/embed/tasks",
                data={"model_name": "marengo3.0", **fields},
                files={"video_file": ("b.mp4", f)},
            )

    assert "video_clip_length" in create(video_clip_length="12").json()["message"]
    assert "both" in create(video_start_offset_sec="1").json()["message"]
    assert create(video_start_offset_sec="2", video_end_offset_sec="11").status_code == 200
    r = http.post(
        "/embed", data={"model_name": "marengo3.0", "image_url": "http://127.0.0.1/x.png"}
    )
    assert r.status_code == 400
    assert "text only" in r.json()["message"]


def test_embed_v2_errors_are_wrapped(http: httpx.Client) -> None:
    # Marengo 3.5 takes only multi_input on the synchronous endpoint.
    r = http.post("/embed-v2", json={"input_type": "image", "model_name": "marengo3.5"})
    err = r.json()["error"]
    assert r.status_code == 400
    assert err["code"] == "VALIDATION_ERROR"
    assert err["details"]["field"] == "input_type"
    r = http.get("/embed-v2/tasks/" + "0" * 24)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "NOT_FOUND"


def test_upload_too_large(
    emulator_for: Callable[..., Emulator], tmp_path: Path, videos: dict[str, Path]
) -> None:
    emu = emulator_for(media=MediaLimits(max_file_size_bytes=100_000))
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        models = [{"model_name": "marengo3.0", "model_options": ["visual"]}]
        index = http.post("/indexes", json={"index_name": "big", "models": models}).json()["_id"]
        r = post_video(http, index, videos["beach"])
        assert (r.status_code, r.json()["code"]) == (400, "video_filesize_too_large")
        assert not list((emu._app().emulator.backend.store.persistence.uploads_dir).iterdir())


def test_async_validation_fails_the_task(
    emulator_for: Callable[..., Emulator], tmp_path: Path, bad_media: dict[str, Path]
) -> None:
    clock = ManualClock()
    emu = emulator_for(media_validation="async", clock=clock)
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        models = [{"model_name": "marengo3.0", "model_options": ["visual"]}]
        index = http.post("/indexes", json={"index_name": "a", "models": models}).json()["_id"]
        created = post_video(http, index, bad_media["short"])
        assert created.status_code == 200
        task_id = created.json()["_id"]
        assert http.get(f"/tasks/{task_id}").json()["status"] == "validating"
        clock.advance(10.0)
        task = http.get(f"/tasks/{task_id}").json()
        assert task["status"] == "failed"
        assert task["error"]["code"] == "video_duration_too_short"
        assert http.delete(f"/tasks/{task_id}").status_code == 204


def test_video_without_subtitles_has_empty_transcription(
    emulator_for: Callable[..., Emulator], tmp_path: Path
) -> None:
    path = make_sample_video(tmp_path / "silent.mp4", duration_s=5.0, subtitles=())
    clock = ManualClock()
    emu = emulator_for(clock=clock)
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        models = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]
        index = http.post("/indexes", json={"index_name": "s", "models": models}).json()["_id"]
        video_id = post_video(http, index, path).json()["video_id"]
        clock.advance(60.0)
        video = http.get(
            f"/indexes/{index}/videos/{video_id}", params={"transcription": "true"}
        ).json()
        assert video["transcription"] == []
