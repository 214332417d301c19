"""The emulator's backend: records, their lifecycles and clock, with no notion of HTTP.

Each service owns one kind of resource and raises the domain errors of ``errors``; the
HTTP layer (``routes``) parses requests, calls a service and renders its answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..config import EmulatorConfig
from ..media import MediaInfo
from .analysis import Analysis
from .embeddings import Embeddings
from .errors import Conflict, EmulatorError, Forbidden, Invalid, NotFound
from .indexes import Indexes
from .ingest import AssetRef, Upload
from .search import Search
from .store import Store
from .tasks import Tasks
from .videos import Videos

__all__ = ["Backend", "Conflict", "EmulatorError", "Forbidden", "Invalid", "NotFound"]


class Backend:
    """Every service of one emulator, wired on one :class:`Store`.

    Args:
        config: The emulator's settings.
        fail_share: The current share of tasks the ``fail`` fault fails.

    Example:
        >>> backend = Backend(EmulatorConfig(seed=1))
        >>> backend.indexes.create(name="news", models=[{"model_name": "marengo3.0",
        ...                        "model_options": ["visual"]}], addons=None).name
        'news'
        >>> backend.close()
    """

    def __init__(
        self, config: EmulatorConfig, *, fail_share: Callable[[], float] = lambda: 0.0
    ) -> None:
        self.store = Store(config, fail_share=fail_share)
        self.videos = Videos(self.store)
        self.indexes = Indexes(self.store, self.videos)
        self.tasks = Tasks(self.store, self.videos)
        self.embeddings = Embeddings(self.store, asset_media=self._asset_media)
        self.search = Search(self.store, self.videos)
        self.analysis = Analysis(self.store, asset_info=self._asset_info)

    def _asset_media(self, ref: AssetRef) -> Upload:
        video = self.videos.find(ref.asset_id)
        name = video.info.filename if video.info is not None else "video"
        return Upload(self.store.persistence.root / video.media_path, name, None, owned=False)

    def _asset_info(self, ident: str) -> MediaInfo:
        info = self.videos.find(ident).info
        assert info is not None
        return info

    def media_file(self, owner_id: str) -> Path | None:
        """The stored media file of a video (None when there is none).

        Example:
            >>> Backend(EmulatorConfig()).media_file("0" * 24) is None
            True
        """
        with self.store.lock:
            video = self.store.records.videos.get(owner_id)
            if video is None or not video.media_path:
                return None
            return self.store.persistence.root / video.media_path

    def reset(self) -> None:
        """Forget every record, media file, vector and search session."""
        self.store.reset()
        self.search.reset()

    def close(self) -> None:
        """Release the temporary data directory (when no ``data_dir`` was configured)."""
        self.store.close()
