"""What a killed emulator leaves half done, put right when the next one starts.

Records are saved after the files they name (media, vectors), so a kill leaves at worst a
file no record names; :class:`~.store.Store` sweeps those as it loads. What is left is work
that was under way at the kill, and data directories written before that order was kept:

- a video without vectors would be ``ready`` yet never found by search: its vectors are
  made again from its media facts (they are a pure function of them);
- an embedding task without vectors fails, saying why (its vectors depended on request
  parameters that were never saved);
- an asset whose bytes were still arriving fails, saying to upload again;
- a multipart upload whose last chunk report was taken but whose file was never handed
  to its asset is handed over now, as that report would have done.
"""

from __future__ import annotations

from dataclasses import dataclass

from .assets import Assets
from .store import Store
from .videos import Videos, index_segments

__all__ = ["Recovered", "recover"]

EMBED_LOST = "The emulator stopped before this task's vectors were saved; create the task again."
ASSET_LOST = "The emulator stopped while this file was arriving; upload it again."


@dataclass(frozen=True)
class Recovered:
    """How many records :func:`recover` put right.

    Example:
        >>> Recovered(videos=1).total
        1
    """

    videos: int = 0
    embed_tasks: int = 0
    assets: int = 0
    uploads: int = 0

    @property
    def total(self) -> int:
        """Records changed."""
        return self.videos + self.embed_tasks + self.assets + self.uploads


def recover(store: Store, *, videos: Videos, assets: Assets) -> Recovered:
    """Put right the records a killed emulator left half done (see the module docstring).

    Example:
        >>> backend = Backend(EmulatorConfig(data_dir="/tmp/emu"))  # doctest: +SKIP
        >>> recover(backend.store, videos=backend.videos,
        ...         assets=backend.assets).total  # doctest: +SKIP
        0
    """
    records = store.records
    with store.lock:
        found = Recovered(
            videos=_restore_video_vectors(store),
            embed_tasks=_fail_embed_tasks_without_vectors(store),
            assets=_fail_assets_cut_off(store),
        )
        finished = [
            u
            for u in records.uploads.values()
            if u.completed_at is not None
            and (asset := records.assets.get(u.asset_id)) is not None
            and asset.ready_from is None
        ]
    for upload in finished:
        part = store.persistence.part_file(upload.id)
        if part is not None and part.is_file():
            assets.complete_now(upload.asset_id, part)
    if found.total:
        store.save()
    return Recovered(found.videos, found.embed_tasks, found.assets, len(finished))


def _restore_video_vectors(store: Store) -> int:
    records = store.records
    restored = 0
    for video in records.videos.values():
        index = records.indexes.get(video.index_id)
        if video.id in records.segments or video.info is None or video.fail_stage is not None:
            continue
        if index is None or index.marengo is None:
            continue
        store.put_segments(video.id, index_segments(video.info, index))
        restored += 1
    return restored


def _fail_embed_tasks_without_vectors(store: Store) -> int:
    lost = [
        t
        for t in store.records.embed_tasks.values()
        if t.error is None and t.info is not None and t.id not in store.records.segments
    ]
    for task in lost:
        task.error = EMBED_LOST
    return len(lost)


def _fail_assets_cut_off(store: Store) -> int:
    cut = [
        a
        for a in store.records.assets.values()
        if a.ready_from is None and a.upload_id is None  # a multipart one waits for chunks
    ]
    for asset in cut:
        asset.error = ASSET_LOST
        asset.ready_from = asset.created_at
        asset.processing_s = 0.0
    return len(cut)
