"""The emulator's records (indexes, videos, tasks, segment vectors) and their JSON forms.

Records hold facts fixed at creation (times, stage durations, whether a task fails); statuses
are computed from them and the clock on every read (see ``lifecycle.py``), so nothing needs a
background worker and a restarted emulator carries on where it stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..media import MediaInfo
from ..segments import SegmentSet
from .models import MARENGO_DIMS, MARENGO_OPTIONS

__all__ = ["EmbedTaskRec", "IndexRec", "IndexTaskRec", "Records", "VideoRec"]


@dataclass
class IndexRec:
    """An index.

    Example:
        >>> rec = IndexRec("i1", "news", [{"model_name": "marengo3.0",
        ...                "model_options": ["visual", "audio"]}], [], 0.0, 0.0)
        >>> rec.marengo, rec.dim, rec.embedding_options
        ('marengo3.0', 512, ['visual', 'audio', 'transcription'])
    """

    id: str
    name: str
    models: list[dict[str, Any]]
    addons: list[str]
    created_at: float
    updated_at: float

    @property
    def marengo(self) -> str | None:
        """The Marengo model of the index, if any."""
        return next((m["model_name"] for m in self.models if m["model_name"] in MARENGO_DIMS), None)

    @property
    def dim(self) -> int:
        """Vector dimension of the index's Marengo model (512 when there is none)."""
        return MARENGO_DIMS.get(self.marengo or "", 512)

    @property
    def model_options(self) -> list[str]:
        """The ``model_options`` of the Marengo model (or of the first model)."""
        model = next((m for m in self.models if m["model_name"] == self.marengo), self.models[0])
        return list(model["model_options"])

    @property
    def embedding_options(self) -> list[str]:
        """Embedding options the index's videos get (per model version and options)."""
        table = MARENGO_OPTIONS.get(self.marengo or "", {})
        return [opt for opt, need in table.items() if need in self.model_options]


@dataclass
class VideoRec:
    """An uploaded video; visible in its index once its task is ready.

    Example:
        >>> VideoRec("v", "a", "i", "t", 0.0, "media/v.mp4", None).user_metadata
        {}
    """

    id: str
    asset_id: str
    index_id: str
    task_id: str
    created_at: float
    media_path: str
    info: MediaInfo | None
    user_metadata: dict[str, Any] = field(default_factory=dict)
    enable_stream: bool = True
    updated_at: float | None = None


@dataclass
class IndexTaskRec:
    """A video indexing task: stage durations and the failure (if any) are fixed at creation.

    Example:
        >>> IndexTaskRec("t", "v", "i", 0.0, [1.0, 1.0, 1.0, 2.0]).fail_stage is None
        True
    """

    id: str
    video_id: str
    index_id: str
    created_at: float
    durations_s: list[float]
    fail_stage: str | None = None
    error: dict[str, str] | None = None


@dataclass
class EmbedTaskRec:
    """A video embedding task (Embed API v1 or v2).

    Example:
        >>> EmbedTaskRec("e", "v1", "marengo3.0", 0.0, 2.0, None, {}).failed
        False
    """

    id: str
    api: str
    model_name: str
    created_at: float
    duration_s: float
    info: MediaInfo | None
    params: dict[str, Any]
    error: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the task ends as ``failed``."""
        return self.error is not None


def _info_json(info: MediaInfo | None) -> dict[str, Any] | None:
    return None if info is None else info.to_dict()


def _info_obj(data: dict[str, Any] | None) -> MediaInfo | None:
    return None if data is None else MediaInfo.from_dict(data)


def record_to_json(rec: IndexRec | VideoRec | IndexTaskRec | EmbedTaskRec) -> dict[str, Any]:
    """A JSON-ready dict of a record (MediaInfo included).

    Example:
        >>> record_to_json(IndexTaskRec("t", "v", "i", 0.0, [1.0]))["video_id"]
        'v'
    """
    if isinstance(rec, (VideoRec, EmbedTaskRec)):
        data = {k: v for k, v in asdict(rec).items() if k != "info"}
        data["info"] = _info_json(rec.info)
        return data
    return asdict(rec)


def video_from_json(data: dict[str, Any]) -> VideoRec:
    """Inverse of :func:`record_to_json` for videos."""
    return VideoRec(**{**data, "info": _info_obj(data.get("info"))})


def embed_task_from_json(data: dict[str, Any]) -> EmbedTaskRec:
    """Inverse of :func:`record_to_json` for embedding tasks."""
    return EmbedTaskRec(**{**data, "info": _info_obj(data.get("info"))})


@dataclass
class Records:
    """All records of one emulator, keyed by id.

    Example:
        >>> Records().indexes
        {}
    """

    indexes: dict[str, IndexRec] = field(default_factory=dict)
    videos: dict[str, VideoRec] = field(default_factory=dict)
    tasks: dict[str, IndexTaskRec] = field(default_factory=dict)
    embed_tasks: dict[str, EmbedTaskRec] = field(default_factory=dict)
    segments: dict[str, SegmentSet] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Everything but the segment vectors (those are saved as ``.npz`` files)."""
        return {
            "indexes": [record_to_json(r) for r in self.indexes.values()],
            "videos": [record_to_json(r) for r in self.videos.values()],
            "tasks": [record_to_json(r) for r in self.tasks.values()],
            "embed_tasks": [record_to_json(r) for r in self.embed_tasks.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Records:
        """Inverse of :meth:`to_json` (segments are loaded separately)."""
        records = cls()
        records.indexes = {d["id"]: IndexRec(**d) for d in data.get("indexes", [])}
        records.videos = {d["id"]: video_from_json(d) for d in data.get("videos", [])}
        records.tasks = {d["id"]: IndexTaskRec(**d) for d in data.get("tasks", [])}
        records.embed_tasks = {
            d["id"]: embed_task_from_json(d) for d in data.get("embed_tasks", [])
        }
        return records
