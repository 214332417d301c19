"""With a data directory, state survives a restart of the server."""

from __future__ import annotations

from pathlib import Path

import httpx
from twelvelabs import TwelveLabs

from tl_integrations.emulator import Emulator, ManualClock

from .conftest import upload, wait_task


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
