"""One record per video segment: the id, text and metadata both framework adapters store.

LangChain Documents and LlamaIndex TextNodes are built from these, so the two adapters
describe a segment identically and stay thin.

Example:
    >>> import numpy as np
    >>> from tl_integrations.embed.vectors import VideoEmbedding
    >>> ve = VideoEmbedding.from_arrays(np.ones((1, 2), dtype=np.float32), start_s=[0],
    ...     end_s=[6], options=["visual"], scopes=["clip"], model_name="marengo3.0",
    ...     task_id="t1")
    >>> record = segment_records(ve, source="talk.mp4")[0]
    >>> record.text
    'talk.mp4, 0:00.0-0:06.0 (visual, clip)'
    >>> record.metadata["end_s"]
    6.0
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

from .vectors import VideoEmbedding

__all__ = ["SegmentRecord", "segment_records", "source_name"]

# Namespace of segment ids: the same segment of the same task always gets the same id, so
# adding a VideoEmbedding twice replaces rather than duplicates (where the store upserts).
_NAMESPACE = uuid.UUID("5b0f4a51-6c1e-4c8e-9d4f-7a1e0c2b9e11")


@dataclass(frozen=True)
class SegmentRecord:
    """What a vector store keeps for one segment (its vector stays in the VideoEmbedding).

    Attributes:
        id: a stable UUID string (from source, task id and row).
        row: the row of the segment in ``VideoEmbedding.vectors``.
        text: a short human-readable description.
        metadata: ``source``, ``task_id``, ``model_name``, ``start_s``, ``end_s``,
            ``option``, ``scope``, ``segment`` (the row).

    Example:
        >>> SegmentRecord(id="x", row=0, text="t", metadata={}).row
        0
    """

    id: str
    row: int
    text: str
    metadata: dict[str, Any]


def source_name(ve: VideoEmbedding, source: str | os.PathLike[str] | None) -> str:
    """The source to record: the given path or URL, else the task.

    Example:
        >>> source_name(_example(), None)
        'twelvelabs-embedding-task:t1'
    """
    if source is None:
        return f"twelvelabs-embedding-task:{ve.task_id or 'unknown'}"
    return os.fspath(source)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


def segment_records(
    ve: VideoEmbedding, *, source: str | os.PathLike[str] | None = None
) -> list[SegmentRecord]:
    """Describe every segment of ``ve``, in row order.

    Example:
        >>> [r.metadata["scope"] for r in segment_records(_example(), source="a.mp4")]
        ['clip']
    """
    name = source_name(ve, source)
    starts, ends = ve.start_s.tolist(), ve.end_s.tolist()
    options, scopes = ve.options.tolist(), ve.scopes.tolist()
    records = []
    columns = zip(starts, ends, options, scopes, strict=True)
    for row, (start, end, option, scope) in enumerate(columns):
        metadata = {
            "source": name,
            "task_id": ve.task_id,
            "model_name": ve.model_name,
            "start_s": float(start),
            "end_s": float(end),
            "option": str(option),
            "scope": str(scope),
            "segment": row,
        }
        text = f"{name}, {_clock(start)}-{_clock(end)} ({option}, {scope})"
        key = f"{name}|{ve.task_id}|{row}"
        records.append(SegmentRecord(str(uuid.uuid5(_NAMESPACE, key)), row, text, metadata))
    return records


def _example() -> VideoEmbedding:
    return VideoEmbedding.from_arrays(
        [[1.0, 0.0]],
        start_s=[0],
        end_s=[6],
        options=["visual"],
        scopes=["clip"],
        model_name="marengo3.0",
        task_id="t1",
    )
