"""With a data directory, state survives a restart of the server (also one written by an
older emulator)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
from twelvelabs import TwelveLabs

from tl_integrations.emulator import Emulator, ManualClock
from tl_integrations.emulator._media import probe

from .conftest import make_png, upload, wait_task


def test_state_survives_a_restart(tmp_path: Path, videos: dict[str, Path]) -> None:
    clock = ManualClock()
    data = tmp_path / "data"
    with Emulator(data_dir=data, clock=clock, seed=3) as emu, httpx.Client() as raw:
        client = TwelveLabs(api_key="k", base_url=emu.base_url, httpx_client=raw)
        index = client.indexes.create(
            index_name="keep",
            models=[{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}],
        )
        assert index.id
        task_id, video_id = upload(client, index.id, videos["beach"], topic="beach")
        assert wait_task(client, clock, task_id) == "ready"
        with videos["concert"].open("rb") as f:
            embed_id = client.embed.tasks.create(model_name="marengo3.0", video_file=f).id
        pending_id, _ = upload(client, index.id, videos["concert"])
    assert (data / "state.json").exists()
    assert list((data / "media").iterdir())

    with Emulator(data_dir=data, clock=clock, seed=3) as again, httpx.Client() as raw:
        client = TwelveLabs(api_key="k", base_url=again.base_url, httpx_client=raw)
        assert client.indexes.retrieve(index.id).video_count == 1
        video = client.indexes.videos.retrieve(
            index.id, video_id, transcription=True, embedding_option=["visual"]
        )
        assert video.user_metadata == {"topic": "beach"}
        assert video.transcription
        assert video.embedding
        assert video.embedding.video_embedding
        hits = list(
            client.search.query(index_id=index.id, search_options=["visual"], query_text="penguins")
        )
        assert hits[0].video_id == video_id
        assert client.tasks.retrieve(pending_id).status != "ready"  # time goes on from where it was
        assert wait_task(client, clock, pending_id) == "ready"
        clock.advance(600.0)
        assert embed_id
        assert client.embed.tasks.status(embed_id).status == "ready"
        segments = client.embed.tasks.retrieve(embed_id).video_embedding
        assert segments
        assert segments.segments
        new_index = client.indexes.create(
            index_name="new", models=[{"model_name": "marengo3.0", "model_options": ["visual"]}]
        )
        assert new_index.id not in (index.id, task_id, video_id, embed_id)  # no id reused
        media = raw.get(f"{again.url}/_emulator/media/{video_id}")
        assert media.status_code == 200
        assert media.content == videos["beach"].read_bytes()


def test_a_data_directory_from_before_assets_still_loads(
    tmp_path: Path, videos: dict[str, Path]
) -> None:
    """Format 1 (videos made by tasks only): each video gets its task's timeline and an
    asset for the ``asset_id`` it already carried."""
    data = tmp_path / "old"
    (data / "media").mkdir(parents=True)
    shutil.copy(videos["beach"], data / "media" / f"{'b' * 24}.mp4")
    info = probe(videos["beach"]).to_dict()
    state = {
        "indexes": [
            {
                "id": "a" * 24,
                "name": "old",
                "models": [{"model_name": "marengo3.0", "model_options": ["visual"]}],
                "addons": [],
                "created_at": 1.0,
                "updated_at": 1.0,
            }
        ],
        "videos": [
            {
                "id": "b" * 24,
                "asset_id": "c" * 24,
                "index_id": "a" * 24,
                "task_id": "d" * 24,
                "created_at": 2.0,
                "media_path": f"media/{'b' * 24}.mp4",
                "info": info,
                "user_metadata": {"old": True},
                "enable_stream": True,
                "updated_at": None,
            }
        ],
        "tasks": [
            {
                "id": "d" * 24,
                "video_id": "b" * 24,
                "index_id": "a" * 24,
                "created_at": 2.0,
                "durations_s": [1.0, 1.0, 1.0, 1.0],
                "fail_stage": None,
                "error": None,
            }
        ],
        "embed_tasks": [],
        "id_counter": 4,
    }
    (data / "state.json").write_text(json.dumps(state))
    with (
        Emulator(data_dir=data, clock=ManualClock()) as emu,
        httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http,
    ):
        video = http.get(f"/indexes/{'a' * 24}/videos/{'b' * 24}").json()
        assert (video["asset_id"], video["user_metadata"]) == ("c" * 24, {"old": True})
        asset = http.get(f"/assets/{'c' * 24}").json()
        assert (asset["status"], asset["filename"], asset["duration"]) == (
            "ready",
            "beach.mp4",
            12.0,
        )
        assert http.get(asset["hls"]["manifest_url"]).content == videos["beach"].read_bytes()
        assert http.get(f"/tasks/{'d' * 24}").json()["status"] == "ready"
        item = http.get(f"/indexes/{'a' * 24}/indexed-assets/{'b' * 24}").json()
        assert item["status"] == "ready"


def test_entities_survive_a_restart_and_keep_processing_on_the_clock(tmp_path: Path) -> None:
    clock = ManualClock()
    data = tmp_path / "data"
    photo = make_png(tmp_path / "face.png", (245, 140, 30))
    with Emulator(data_dir=data, clock=clock, seed=5) as emu, httpx.Client() as raw:
        client = TwelveLabs(api_key="k", base_url=emu.base_url, httpx_client=raw)
        with photo.open("rb") as handle:
            asset_id = client.assets.create(method="direct", file=handle).id
        assert asset_id
        clock.advance(5.0)
        collection = client.entity_collections.create(name="cast", description="actors")
        assert collection.id
        ada = client.entity_collections.entities.create(
            collection.id, name="Ada", asset_ids=[asset_id], metadata={"n": 1}
        )
        assert ada.status == "processing"
    with Emulator(data_dir=data, clock=clock, seed=5) as again, httpx.Client() as raw:
        client = TwelveLabs(api_key="k", base_url=again.base_url, httpx_client=raw)
        entities = client.entity_collections.entities
        assert client.entity_collections.retrieve(collection.id).description == "actors"
        assert ada.id
        kept = entities.retrieve(collection.id, ada.id)
        assert (kept.name, kept.metadata, kept.asset_ids) == ("Ada", {"n": 1}, [asset_id])
        assert kept.status == "processing"  # time goes on from where it was
        clock.advance(5.0)
        assert entities.retrieve(collection.id, ada.id).status == "ready"
        assert [e.id for e in entities.list_by_asset(asset_id)] == [ada.id]
