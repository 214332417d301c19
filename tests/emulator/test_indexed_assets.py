"""``/indexes/{id}/indexed-assets``: one record and one id with videos and search hits, the
stage lifecycle, filters in both user-metadata forms, updates, and legacy tasks' assets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit import start_emulator
from tl_integrations.emulator import Emulator, ManualClock, make_sample_video

from .conftest import LINES, make_png, post_video, unique


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Emulator:
    return start_emulator(request, clock=ManualClock(), seed=11)


@pytest.fixture(scope="module")
def http(server: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"x-api-key": "k"}) as client:
        yield client


def new_index(http: httpx.Client) -> str:
    models = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]
    answer = http.post("/indexes", json={"index_name": unique("ia"), "models": models})
    index_id: str = answer.json()["_id"]
    return index_id


def ready_asset(server: Emulator, http: httpx.Client, path: Path, **meta: str) -> str:
    with path.open("rb") as handle:
        answer = http.post(
            "/assets", data={"method": "direct", **meta}, files={"file": (path.name, handle)}
        )
    server.advance(600.0)
    asset_id: str = answer.json()["_id"]
    assert http.get(f"/assets/{asset_id}").json()["status"] == "ready"
    return asset_id


def index_asset(http: httpx.Client, index_id: str, asset_id: str, **extra: Any) -> str:
    answer = http.post(f"/indexes/{index_id}/indexed-assets", json={"asset_id": asset_id, **extra})
    assert answer.status_code == 202, answer.text
    video_id: str = answer.json()["_id"]
    return video_id


def test_an_indexed_asset_walks_the_stages_and_becomes_a_video(
    server: Emulator, http: httpx.Client, videos: dict[str, Path]
) -> None:
    index_id = new_index(http)
    asset_id = ready_asset(server, http, videos["concert"])
    created = http.post(
        f"/indexes/{index_id}/indexed-assets",
        json={"asset_id": asset_id, "user_metadata": {"topic": "concert", "drop": ""}},
    )
    assert created.status_code == 202
    video_id = created.json()["_id"]
    assert created.json() == {"_id": video_id, "asset_id": asset_id}
    assert created.headers["location"].endswith(f"/indexes/{index_id}/indexed-assets/{video_id}")
    seen: list[tuple[str, str, Any]] = []
    while not seen or seen[-1][0] not in ("ready", "failed"):
        item = http.get(created.headers["location"]).json()
        seen.append((item["status"], item["updated_at"], item["indexed_at"]))
        if item["status"] != "ready":
            assert http.get(f"/indexes/{index_id}/videos/{video_id}").status_code == 404
        server.advance(0.2)
    statuses = list(dict.fromkeys(s for s, _, _ in seen))
    assert statuses == ["validating", "pending", "queued", "indexing", "ready"]
    assert len({u for _, u, _ in seen}) == 5
    assert all(at is None for s, _, at in seen if s != "ready")
    assert seen[-1][2] == seen[-1][1]
    # One record, one id: the ready indexed asset is a video of the index and a search hit.
    listed = http.get(f"/indexes/{index_id}/videos").json()["data"]
    assert [(v["_id"], v["asset_id"]) for v in listed] == [(video_id, asset_id)]
    form = {"index_id": index_id, "search_options": "visual", "query_text": "soprano aria"}
    hits = http.post("/search", data=form, files={}).json()["data"]
    assert hits[0]["video_id"] == video_id
    detail = http.get(
        created.headers["location"],
        params=[
            ("embedding_option", "visual"),
            ("embedding_option", "audio"),
            ("transcription", "true"),
        ],
    ).json()
    assert detail["user_metadata"] == {"topic": "concert"}
    assert detail["hls"]["status"] == "COMPLETE"
    assert {s["embedding_option"] for s in detail["embedding"]["video_embedding"]["segments"]} == {
        "visual",
        "audio",
    }
    assert [t["value"] for t in detail["transcription"]] == LINES["concert"]
    assert detail["system_metadata"]["filename"] == "concert.mp4"


def test_refusals(
    server: Emulator, http: httpx.Client, tmp_path: Path, videos: dict[str, Path]
) -> None:
    index_id = new_index(http)
    path = f"/indexes/{index_id}/indexed-assets"
    with videos["beach"].open("rb") as handle:
        fresh = http.post(
            "/assets", data={"method": "direct"}, files={"file": ("b.mp4", handle)}
        ).json()["_id"]
    busy = http.post(path, json={"asset_id": fresh})
    assert (busy.status_code, busy.json()["code"]) == (400, "parameter_invalid")
    assert "processing" in busy.json()["message"]
    image = ready_asset(server, http, make_png(tmp_path / "still.png"))
    assert "only video assets" in http.post(path, json={"asset_id": image}).json()["message"]
    short = ready_asset(server, http, make_sample_video(tmp_path / "short.mp4", duration_s=2.0))
    too_short = http.post(path, json={"asset_id": short})
    assert (too_short.status_code, too_short.json()["code"]) == (400, "video_duration_too_short")
    assert http.post(path, json={}).json()["code"] == "parameter_not_provided"
    assert http.post(path, json={"asset_id": "0" * 24}).status_code == 404
    assert (
        http.post("/indexes/" + "0" * 24 + "/indexed-assets", json={"asset_id": short}).status_code
        == 404
    )
    assert http.get(f"{path}/{'0' * 24}").status_code == 404


def test_async_validation_fails_after_validating(
    emulator_for: Callable[..., Emulator], tmp_path: Path
) -> None:
    clock = ManualClock()
    short = make_sample_video(tmp_path / "short.mp4", duration_s=2.0)
    emu = emulator_for(clock=clock, media_validation="async")
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        index_id = new_index(http)
        asset_id = ready_asset(emu, http, short)
        video_id = index_asset(http, index_id, asset_id)
        item = http.get(f"/indexes/{index_id}/indexed-assets/{video_id}").json()
        assert item["status"] == "validating"
        clock.advance(60.0)
        item = http.get(f"/indexes/{index_id}/indexed-assets/{video_id}").json()
        assert (item["status"], item["hls"]["status"]) == ("failed", "ERROR")


@pytest.fixture(scope="module")
def catalogue(
    server: Emulator,
    http: httpx.Client,
    videos: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """An index holding three indexed assets of two videos, with metadata, ready."""
    index_id = new_index(http)
    beach = ready_asset(server, http, videos["beach"])
    long = make_sample_video(tmp_path_factory.mktemp("long") / "long.mp4", duration_s=20.0)
    long_asset = ready_asset(server, http, long)
    ids = {
        "news": index_asset(http, index_id, beach, user_metadata={"category": "news", "n": 5}),
        "sport": index_asset(
            http, index_id, beach, user_metadata={"category": "sport", "ok": True}
        ),
        "long": index_asset(http, index_id, long_asset, user_metadata={"category": "news"}),
    }
    server.advance(600.0)
    return {"index_id": index_id, "ids": ids}


def found(http: httpx.Client, index_id: str, params: Any) -> list[str]:
    answer = http.get(f"/indexes/{index_id}/indexed-assets", params=params)
    assert answer.status_code == 200, answer.text
    return [item["_id"] for item in answer.json()["data"]]


def test_list_filters_in_both_metadata_forms(http: httpx.Client, catalogue: dict[str, Any]) -> None:
    index_id, ids = catalogue["index_id"], catalogue["ids"]
    news = {ids["news"], ids["long"]}
    assert set(found(http, index_id, {"category": "news"})) == news
    assert set(found(http, index_id, {"user_metadata[category]": "news"})) == news
    assert found(http, index_id, {"user_metadata[n]": "5"}) == [ids["news"]]
    assert found(http, index_id, {"ok": "true"}) == [ids["sport"]]
    assert found(http, index_id, {"category": "weather"}) == []
    assert found(http, index_id, {"duration[gte]": "15"}) == [ids["long"]]
    assert set(found(http, index_id, {"duration[lte]": "15", "filename": "beach.mp4"})) == {
        ids["news"],
        ids["sport"],
    }
    assert len(found(http, index_id, [("status", "ready"), ("status", "failed")])) == 3
    assert found(http, index_id, {"status": "indexing"}) == []
    newest_first = found(http, index_id, {})
    assert newest_first == [ids["long"], ids["sport"], ids["news"]]
    assert found(http, index_id, {"sort_option": "asc"}) == newest_first[::-1]
    assert found(http, index_id, {"page": 2, "page_limit": 2}) == [ids["news"]]
    assert found(http, index_id, {"page": 5}) == []
    bad = http.get(f"/indexes/{index_id}/indexed-assets", params={"status": "done"})
    assert bad.status_code == 400


def test_update_merges_and_delete_removes(
    server: Emulator, http: httpx.Client, catalogue: dict[str, Any]
) -> None:
    index_id, video_id = catalogue["index_id"], catalogue["ids"]["sport"]
    one = f"/indexes/{index_id}/indexed-assets/{video_id}"
    before = http.get(one).json()["updated_at"]
    assert found(http, index_id, {"updated_at[gte]": "1970-01-01T00:00:00Z"}) == []
    server.advance(5.0)
    assert http.patch(one, json={"user_metadata": {"ok": None, "extra": "x"}}).status_code == 204
    after = http.get(one).json()
    assert after["user_metadata"] == {"category": "sport", "extra": "x"}
    assert after["updated_at"] > before
    assert found(http, index_id, {"updated_at[gte]": "1970-01-01T00:00:00Z"}) == [video_id]
    bad = http.patch(one, json={"user_metadata": {"x": {"y": 1}}})
    assert bad.status_code == 400
    assert http.delete(one).status_code == 204
    assert http.get(one).status_code == 404
    assert video_id not in [
        v["_id"] for v in http.get(f"/indexes/{index_id}/videos").json()["data"]
    ]


def test_legacy_tasks_make_assets(
    server: Emulator, http: httpx.Client, videos: dict[str, Path]
) -> None:
    index_id = new_index(http)
    task = post_video(http, index_id, videos["beach"]).json()
    server.advance(600.0)
    video = http.get(f"/indexes/{index_id}/videos/{task['video_id']}").json()
    asset = http.get(f"/assets/{video['asset_id']}").json()
    assert (asset["status"], asset["method"], asset["filename"]) == ("ready", "direct", "beach.mp4")
    assert asset["duration"] == pytest.approx(12.0, abs=0.1)
    users = http.get(f"/assets/{asset['_id']}/indexed-assets").json()["data"]
    assert [u["_id"] for u in users] == [task["video_id"]]
    item = http.get(f"/indexes/{index_id}/indexed-assets/{task['video_id']}").json()
    assert (item["status"], item["asset_id"]) == ("ready", asset["_id"])
    answer = http.post(
        "/analyze",
        json={
            "video": {"type": "asset_id", "asset_id": asset["_id"]},
            "prompt": "Where is the kite?",
            "stream": False,
        },
    )
    assert "kite" in answer.json()["data"]
    # Deleting the video leaves the asset (and its file) in place.
    assert http.delete(f"/indexes/{index_id}/videos/{task['video_id']}").status_code == 204
    assert (
        http.get(http.get(f"/assets/{asset['_id']}").json()["hls"]["manifest_url"]).status_code
        == 200
    )
