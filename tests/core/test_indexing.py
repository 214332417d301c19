"""``client.index(path, ...)`` on the emulator: a file is indexed once per index, however."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from testkit import FakeClock
from tl_integrations.emulator import Emulator, ManualClock, sample_videos

_CREATES = "POST /v1.3/indexes/{id}/indexed-assets"


def test_index_takes_up_an_asset_indexed_step_by_step(
    emulator_for: Callable[..., Emulator], tmp_path: Path
) -> None:
    (cooking, *_) = sample_videos(tmp_path)
    emulator = emulator_for(clock=ManualClock())
    # time moves when the client waits
    with emulator.client(sleep=FakeClock(emulator=emulator).sleep) as client:
        asset = client.assets.upload(cooking)
        index = client.indexes.get_or_create("step-by-step")
        # No hash in its metadata, and still indexing when client.index looks.
        made = client.indexes.indexed_assets.create(index.id, asset.id)

        video = client.index(cooking, index_id=index.id)
        assert video.id == made.id
        assert emulator.stats()["requests"][_CREATES] == 1

        elsewhere = client.index(cooking, index_name="another-index")  # once per index
        assert elsewhere.id != made.id
        assert emulator.stats()["requests"][_CREATES] == 2
        assert emulator.stats()["uploads"] == 1
