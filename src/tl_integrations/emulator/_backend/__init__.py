"""The emulator's backend: records, their lifecycles and clock, with no notion of HTTP.

Each service owns one kind of resource and raises the domain errors of ``errors``; the
HTTP layer (``routes``) parses requests, calls a service and renders its answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .._config import EmulatorConfig, Faults
from .._media import MediaInfo
from .analysis import Analysis
from .analysis_tasks import AnalysisTasks
from .assets import Assets
from .batches import Batches
from .embeddings import Embeddings, StoredMedia
from .entities import Entities
from .errors import Conflict, EmulatorError, Forbidden, Invalid, NotFound, TooLarge
from .idempotency import IdempotencyKeys
from .indexes import Indexes
from .ingest import AssetRef
from .persistence import DataDirError, DataDirInUse
from .recovery import recover
from .search import Search
from .store import Store
from .tasks import Tasks
from .uploads import Uploads
from .videos import Videos
from .webhooks import Webhooks

__all__ = [
    "Backend",
    "Conflict",
    "DataDirError",
    "DataDirInUse",
    "EmulatorError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "TooLarge",
]


class Backend:
    """Every service of one emulator, wired on one :class:`Store`.

    Args:
        config: The emulator's settings.
        fail_share: The current share of tasks the ``fail`` fault fails.
        faults: The current faults (webhook deliveries draw theirs from them).

    Raises:
        DataDirError: For a data directory that cannot be used or read back.
        DataDirInUse: When another emulator uses the data directory.

    Example:
        >>> backend = Backend(EmulatorConfig(seed=1))
        >>> backend.indexes.create(name="news", models=[{"model_name": "marengo3.0",
        ...                        "model_options": ["visual"]}], addons=None).name
        'news'
        >>> backend.close()
    """

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        fail_share: Callable[[], float] = lambda: 0.0,
        faults: Callable[[], Faults] = Faults,
    ) -> None:
        self.store = Store(config, fail_share=fail_share)
        self.webhooks = Webhooks(self.store, faults=faults)
        self.assets = Assets(self.store)
        self.uploads = Uploads(self.store, self.assets)
        self.videos = Videos(self.store, self.assets, self.webhooks)
        self.indexes = Indexes(self.store, self.videos)
        self.tasks = Tasks(self.store, self.assets, self.videos)
        self.embeddings = Embeddings(self.store, asset_media=self._asset_media)
        self.entities = Entities(self.store, self.assets)
        self.search = Search(self.store, self.videos, self.entities)
        self.analysis = Analysis(self.store, assets=self.assets, asset_info=self._asset_info)
        self.idempotency = IdempotencyKeys(self.store)
        self.analysis_tasks = AnalysisTasks(
            self.store, self.analysis, self.idempotency, self.webhooks
        )
        self.batches = Batches(self.store, self.analysis, self.analysis_tasks, self.idempotency)
        if self.store.persistence.durable:
            try:
                # Before the webhooks resume: they announce what the records say.
                recover(self.store, videos=self.videos, assets=self.assets)
            except BaseException:
                self.store.close()
                raise
        self.videos.resume_webhooks()  # a restarted emulator still sends what is to come
        self.analysis_tasks.resume_webhooks()

    def _asset_info(self, ref: AssetRef) -> MediaInfo:
        """The media information of a ready asset, or of a ready video: emulators before
        assets existed took video ids where asset ids go, and clients may still."""
        if ref.asset_id in self.store.records.assets:
            info = self.assets.ready(ref).info
        else:
            try:
                info = self.videos.find(ref.asset_id).info
            except NotFound:
                raise NotFound("asset", ref.asset_id) from None
        if info is None:
            raise Invalid(ref.field, f"The asset {ref.asset_id!r} is not a video or audio file.")
        return info

    def _asset_media(self, ref: AssetRef) -> StoredMedia:
        """The ready medium behind an asset id (or a video id, as for analysis), with its
        stored file: embeddings read images and documents from it."""
        inside = self.store.persistence.inside
        if ref.asset_id in self.store.records.assets:
            rec = self.assets.ready(ref)
            path = inside(rec.media_path)
            return StoredMedia(rec.kind, rec.filename, path, rec.info)
        try:
            video = self.videos.find(ref.asset_id)
        except NotFound:
            raise NotFound("asset", ref.asset_id) from None
        path = inside(video.media_path)
        name = video.info.filename if video.info is not None else "video"
        return StoredMedia("video", name, path, video.info)

    def media_file(self, owner_id: str) -> Path | None:
        """The stored file of an asset or a video (None when there is none).

        Example:
            >>> Backend(EmulatorConfig()).media_file("0" * 24) is None
            True
        """
        with self.store.lock:
            records = self.store.records
            owner = records.assets.get(owner_id) or records.videos.get(owner_id)
            if owner is None:
                return None
            return self.store.persistence.inside(owner.media_path)

    def thumbnail_rgb(self, asset_id: str) -> tuple[int, int, int] | None:
        """The colour of a ready asset's thumbnail (None without one).

        Example:
            >>> Backend(EmulatorConfig()).thumbnail_rgb("0" * 24) is None
            True
        """
        with self.store.lock:
            rec = self.store.records.assets.get(asset_id)
            if rec is None or rec.thumbnail_rgb is None:
                return None
            view = self.assets.view(rec)
            if view.status != "ready" or not view.has_thumbnail:
                return None
            red, green, blue = rec.thumbnail_rgb
            return red, green, blue

    def reset(self) -> None:
        """Forget every record, media file, vector, upload, search session and key in use."""
        self.store.reset()
        self.search.reset()
        self.idempotency.reset()
        self.webhooks.reset()

    def close(self) -> None:
        """Release the temporary data directory (when no ``data_dir`` was configured)."""
        self.store.close()
