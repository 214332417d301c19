"""The emulator's records and their JSON forms: indexes, assets, upload sessions, videos
(indexed assets), indexing tasks, embedding tasks, analysis tasks and batches, idempotency
keys, entity collections, entities, and segment vectors.

Records hold facts fixed at creation (times, stage durations, whether a task fails); statuses
are computed from them and the clock on every read (see ``lifecycle.py``), so nothing needs a
background worker and a restarted emulator carries on where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .._media import MediaInfo
from .._segments import SegmentSet
from .models import MARENGO_DIMS, MARENGO_OPTIONS

__all__ = [
    "FORMAT",
    "AnalysisTaskRec",
    "AssetRec",
    "BatchRec",
    "ChunkRec",
    "EmbedTaskRec",
    "EntityCollectionRec",
    "EntityRec",
    "GrantRec",
    "IdempotencyRec",
    "IndexRec",
    "IndexTaskRec",
    "Records",
    "UploadRec",
    "VideoRec",
]

#: Version of the saved state; 1 had no assets and no upload sessions.
FORMAT = 2


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
class AssetRec:
    """An uploaded file: processing until its bytes are in and checked, then ready or failed.

    ``ready_from`` is when processing started (None while a multipart upload is incomplete);
    the asset is ``ready`` (or ``failed``, with ``error``) ``processing_s`` later.

    Example:
        >>> AssetRec("a", "direct", "video", "a.mp4", "video/mp4", 0.0).media_path
        ''
    """

    id: str
    method: str
    kind: str
    filename: str
    file_type: str
    created_at: float
    user_metadata: dict[str, Any] = field(default_factory=dict)
    enable_hls: bool = True
    enable_thumbnail: bool = True
    media_path: str = ""
    size_bytes: int = 0
    info: MediaInfo | None = None
    technical: dict[str, Any] = field(default_factory=dict)
    thumbnail_rgb: list[int] | None = None
    processing_s: float = 0.0
    ready_from: float | None = None
    error: str | None = None
    upload_id: str | None = None


@dataclass
class VideoRec:
    """An asset indexed into an index (an *indexed asset*); a video of the index once ready.

    The indexing timeline (``created_at``, ``durations_s``, ``fail_stage``) is fixed at
    creation. ``task_id`` names the legacy ``/tasks`` task that made it, if one did.

    Example:
        >>> VideoRec("v", "a", "i", 0.0, "media/a.mp4", None).user_metadata
        {}
    """

    id: str
    asset_id: str
    index_id: str
    created_at: float
    media_path: str
    info: MediaInfo | None
    user_metadata: dict[str, Any] = field(default_factory=dict)
    enable_stream: bool = True
    updated_at: float | None = None
    durations_s: list[float] = field(default_factory=list)
    fail_stage: str | None = None
    error: dict[str, str] | None = None
    task_id: str | None = None


@dataclass
class IndexTaskRec:
    """A legacy video indexing task: it shares its video's timeline (kept here too, because
    the task outlives its video).

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


@dataclass
class ChunkRec:
    """One chunk of a multipart upload: stored (``etag``), reported, or broken (``error``).

    Example:
        >>> ChunkRec().etag is None
        True
    """

    etag: str | None = None
    size: int = 0
    stored_at: float | None = None
    reported_at: float | None = None
    error: str | None = None
    updated_at: float | None = None


@dataclass
class GrantRec:
    """A presigned chunk URL: which chunk it may write, until when, and whether it was used.

    Example:
        >>> GrantRec(3, 3600.0).used_at is None
        True
    """

    chunk_index: int
    expires_at: float
    used_at: float | None = None


@dataclass
class UploadRec:
    """A multipart upload session of one file into a reserved asset.

    Chunks are written straight into ``part_path`` at their offset, so completing the
    upload moves one file instead of joining many.

    Example:
        >>> UploadRec("u", "a", "big.mp4", "video", 10, 4, 3, 0.0, 86400.0, "x").chunks
        {}
    """

    id: str
    asset_id: str
    filename: str
    kind: str
    total_size: int
    chunk_size: int
    total_chunks: int
    created_at: float
    expires_at: float
    part_path: str
    chunks: dict[int, ChunkRec] = field(default_factory=dict)
    grants: dict[str, GrantRec] = field(default_factory=dict)
    completed_at: float | None = None
    updated_at: float | None = None

    def expected_size(self, chunk_index: int) -> int:
        """The size chunk ``chunk_index`` (1-based) must have; the last one holds the rest.

        Example:
            >>> rec = UploadRec("u", "a", "f", "video", 10, 4, 3, 0.0, 1.0, "x")
            >>> [rec.expected_size(n) for n in (1, 2, 3)]
            [4, 4, 2]
        """
        if chunk_index < self.total_chunks:
            return self.chunk_size
        return self.total_size - self.chunk_size * (self.total_chunks - 1)


@dataclass
class AnalysisTaskRec:
    """An asynchronous analysis (``/analyze/tasks``), its outcome fixed at creation.

    ``durations_s`` are the seconds spent queued, pending and processing; the task ends
    ``ready`` with ``result`` or, when ``fails``, ``failed`` with ``error``. ``canceled_at``
    (and ``cancel_code``) record a cancellation; ``deadline_s`` is the expiry of its batch.
    ``error`` on a ready task is a warning (a cut answer).

    Example:
        >>> AnalysisTaskRec("t", 0.0, "pegasus1.5", "general", {}, None, [1.0, 1.0, 2.0]).fails
        False
    """

    id: str
    created_at: float
    model: str
    mode: str
    request_params: dict[str, Any]
    video_source: dict[str, Any] | None
    durations_s: list[float]
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    fails: bool = False
    custom_id: str | None = None
    batch_id: str | None = None
    deadline_s: float | None = None
    canceled_at: float | None = None
    cancel_code: str | None = None


@dataclass
class BatchRec:
    """A batch of analysis tasks (``/analyze/batches``): one task per request, in order.

    Example:
        >>> BatchRec("b", 0.0, 86400.0, "pegasus1.5", "general", ["t1"]).canceled_at is None
        True
    """

    id: str
    created_at: float
    expires_at: float
    model: str
    mode: str
    task_ids: list[str]
    canceled_at: float | None = None


@dataclass
class IdempotencyRec:
    """What one ``Idempotency-Key`` made: the request's fingerprint and the resource.

    Example:
        >>> IdempotencyRec("k", "f", "analysis_task", "t", 0.0).resource_id
        't'
    """

    key: str
    fingerprint: str
    resource: str
    resource_id: str
    created_at: float


@dataclass
class EntityCollectionRec:
    """A named set of entities.

    Example:
        >>> EntityCollectionRec("c", "players", None, 0.0, 0.0).name
        'players'
    """

    id: str
    name: str
    description: str | None
    created_at: float
    updated_at: float


@dataclass
class EntityRec:
    """A person or thing defined by image assets, found by entity search once ready.

    It is ``processing`` for ``processing_s`` from ``changed_at`` (its creation, or the last
    change of its assets), then ``ready``; ``updated_at`` is the last edit of any kind.

    Example:
        >>> EntityRec("e", "c", "Ada", None, {}, ["a"], 0.0, 0.0, 0.0, 2.0).asset_ids
        ['a']
    """

    id: str
    collection_id: str
    name: str
    description: str | None
    metadata: dict[str, Any]
    asset_ids: list[str]
    created_at: float
    updated_at: float
    changed_at: float
    processing_s: float


Record = (
    IndexRec
    | AssetRec
    | VideoRec
    | IndexTaskRec
    | EmbedTaskRec
    | UploadRec
    | AnalysisTaskRec
    | BatchRec
    | IdempotencyRec
    | EntityCollectionRec
    | EntityRec
)


def record_to_json(rec: Record) -> dict[str, Any]:
    """A JSON-ready dict of a record (media information, chunks and grants included).

    Example:
        >>> record_to_json(IndexTaskRec("t", "v", "i", 0.0, [1.0]))["video_id"]
        'v'
    """
    data = {f.name: getattr(rec, f.name) for f in fields(rec)}
    if "info" in data:
        data["info"] = None if data["info"] is None else data["info"].to_dict()
    if isinstance(rec, UploadRec):
        data["chunks"] = {str(n): vars(c).copy() for n, c in rec.chunks.items()}
        data["grants"] = {sig: vars(g).copy() for sig, g in rec.grants.items()}
    return data


def _with_info(data: dict[str, Any]) -> dict[str, Any]:
    info = data.get("info")
    return {**data, "info": None if info is None else MediaInfo.from_dict(info)}


def _upload(data: dict[str, Any]) -> UploadRec:
    chunks = {int(n): ChunkRec(**c) for n, c in data.get("chunks", {}).items()}
    grants = {sig: GrantRec(**g) for sig, g in data.get("grants", {}).items()}
    return UploadRec(**{**data, "chunks": chunks, "grants": grants})


@dataclass
class Records:
    """All records of one emulator, keyed by id.

    Example:
        >>> Records().indexes
        {}
    """

    indexes: dict[str, IndexRec] = field(default_factory=dict)
    assets: dict[str, AssetRec] = field(default_factory=dict)
    uploads: dict[str, UploadRec] = field(default_factory=dict)
    videos: dict[str, VideoRec] = field(default_factory=dict)
    tasks: dict[str, IndexTaskRec] = field(default_factory=dict)
    embed_tasks: dict[str, EmbedTaskRec] = field(default_factory=dict)
    analysis_tasks: dict[str, AnalysisTaskRec] = field(default_factory=dict)
    batches: dict[str, BatchRec] = field(default_factory=dict)
    idempotency: dict[str, IdempotencyRec] = field(default_factory=dict)
    entity_collections: dict[str, EntityCollectionRec] = field(default_factory=dict)
    entities: dict[str, EntityRec] = field(default_factory=dict)
    segments: dict[str, SegmentSet] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Everything but the segment vectors (those are saved as ``.npz`` files)."""
        return {
            "format": FORMAT,
            "indexes": [record_to_json(r) for r in self.indexes.values()],
            "assets": [record_to_json(r) for r in self.assets.values()],
            "uploads": [record_to_json(r) for r in self.uploads.values()],
            "videos": [record_to_json(r) for r in self.videos.values()],
            "tasks": [record_to_json(r) for r in self.tasks.values()],
            "embed_tasks": [record_to_json(r) for r in self.embed_tasks.values()],
            "analysis_tasks": [record_to_json(r) for r in self.analysis_tasks.values()],
            "batches": [record_to_json(r) for r in self.batches.values()],
            "idempotency": [record_to_json(r) for r in self.idempotency.values()],
            "entity_collections": [record_to_json(r) for r in self.entity_collections.values()],
            "entities": [record_to_json(r) for r in self.entities.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Records:
        """Inverse of :meth:`to_json` (segments are loaded separately); older formats are
        brought up to date first."""
        if data.get("format", 1) < FORMAT:
            data = _from_format_1(data)
        records = cls()
        records.indexes = {d["id"]: IndexRec(**d) for d in data.get("indexes", [])}
        records.assets = {d["id"]: AssetRec(**_with_info(d)) for d in data.get("assets", [])}
        records.uploads = {d["id"]: _upload(d) for d in data.get("uploads", [])}
        records.videos = {d["id"]: VideoRec(**_with_info(d)) for d in data.get("videos", [])}
        records.tasks = {d["id"]: IndexTaskRec(**d) for d in data.get("tasks", [])}
        records.embed_tasks = {
            d["id"]: EmbedTaskRec(**_with_info(d)) for d in data.get("embed_tasks", [])
        }
        # Absent from states saved before analysis tasks existed: nothing to convert.
        records.analysis_tasks = {
            d["id"]: AnalysisTaskRec(**d) for d in data.get("analysis_tasks", [])
        }
        records.batches = {d["id"]: BatchRec(**d) for d in data.get("batches", [])}
        records.idempotency = {d["key"]: IdempotencyRec(**d) for d in data.get("idempotency", [])}
        # States saved before entities existed have neither key.
        records.entity_collections = {
            d["id"]: EntityCollectionRec(**d) for d in data.get("entity_collections", [])
        }
        records.entities = {d["id"]: EntityRec(**d) for d in data.get("entities", [])}
        return records


def _from_format_1(data: dict[str, Any]) -> dict[str, Any]:
    """A format-1 state (videos made only by tasks, no assets) in format 2: each video gets
    its task's timeline, and an asset is made for the ``asset_id`` it already carried."""
    tasks = {t["id"]: t for t in data.get("tasks", [])}
    videos, assets = [], []
    for video in data.get("videos", []):
        task = tasks.get(video.get("task_id") or "", {})
        videos.append(
            {
                **video,
                "durations_s": task.get("durations_s", []),
                "fail_stage": task.get("fail_stage"),
                "error": task.get("error"),
            }
        )
        info = video.get("info") or {}
        name = info.get("filename") or Path(video.get("media_path") or "video.mp4").name
        assets.append(
            {
                "id": video["asset_id"],
                "method": "direct",
                "kind": "video",
                "filename": name,
                "file_type": "video/mp4",
                "created_at": video["created_at"],
                "media_path": video.get("media_path", ""),
                "size_bytes": info.get("size_bytes", 0),
                "info": video.get("info"),
                "ready_from": video["created_at"],
                "error": None if video.get("info") else "The file is not a readable video.",
            }
        )
    return {**data, "format": FORMAT, "videos": videos, "assets": assets}
