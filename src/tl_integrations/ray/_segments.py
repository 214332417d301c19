"""``SegmentVectors``: rows of indexed videos in, one row per segment vector out.

An indexed video's segment vectors are already in its index (Marengo computed them while
indexing): they are read with the video (``embedding_option``), never paid for again. Each
segment becomes a row with its times, option and scope, a stable ``id`` and a ``vector``
column of fixed size (float32), ready for a vector store or ``write_parquet``.

Example:
    >>> vectors = videos.map_batches(SegmentVectors, fn_constructor_args=(index,),
    ...                              compute=worker_pool(2))  # doctest: +SKIP
    >>> vectors.schema()  # doctest: +SKIP
    Column   Type
    ...
    vector   ArrowTensorTypeV2(shape=(512,), dtype=float)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

import numpy as np

from .._embed.decode import video_from_v1
from .._embed.params import MODELS
from .._errors import InvalidRequestError
from ._cluster import ClusterIndex
from ._reading import VideoReader

__all__ = ["SEGMENT_COLUMNS", "SegmentVectors", "segment_id"]

logger = logging.getLogger("tl_integrations.ray")

SEGMENT_COLUMNS = (
    "id",
    "text",
    "source",
    "video_id",
    "index_id",
    "filename",
    "model_name",
    "option",
    "scope",
    "start_s",
    "end_s",
    "vector",
    "status",
    "reason",
)
"""The columns of a segment row (``vector``: float32, the model's size; all NaN on a row
whose ``status`` is not ``ok``)."""
_FLOATS = ("start_s", "end_s", "duration_s")
# Segment ids: the same segment of the same video always gets the same id.
_NAMESPACE = uuid.UUID("0f7c2d4e-3a5b-4c6d-8e9f-a0b1c2d3e4f5")


def segment_id(video_id: str, option: str, scope: str, start_s: float) -> str:
    """A stable UUID for one segment of an indexed video.

    Example:
        >>> segment_id("v1", "visual", "clip", 6.0) == segment_id("v1", "visual", "clip", 6.0)
        True
    """
    return str(uuid.uuid5(_NAMESPACE, f"{video_id}|{option}|{scope}|{start_s:.3f}"))


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


class SegmentVectors(VideoReader):
    """A ``map_batches`` callable: each indexed video becomes its segment vectors.

    Takes the rows :class:`~tl_integrations.ray.IndexVideos` makes. Columns out: ``id``,
    ``text`` (a short description), ``source``, ``video_id``, ``index_id``,
    ``filename``, ``model_name``, ``option``, ``scope``, ``start_s``, ``end_s``,
    ``vector`` (a fixed-size float32 column), ``status`` (``ok``, ``skipped``,
    ``failed``) and ``reason``; the input's other columns are repeated. A row that was not
    indexed, or whose vectors could not be read, is one row with a NaN vector.

    Args:
        index: the :class:`ClusterIndex` (its Marengo model sets the vector size).
        options: embedding options to read (default: all the index's Marengo options).
        scopes: ``"clip"`` and/or ``"video"`` segments to keep.
        max_concurrency: videos of a batch read at once.

    Raises:
        InvalidRequestError: the index has no Marengo model (no segment vectors).

    Example:
        >>> vectors = videos.map_batches(SegmentVectors, fn_constructor_args=(index,),
        ...                              fn_constructor_kwargs={"options": ("visual",)},
        ...                              compute=worker_pool(2))  # doctest: +SKIP
    """

    def __init__(
        self,
        index: ClusterIndex,
        *,
        options: Iterable[str] | None = None,
        scopes: Iterable[str] = ("clip",),
        max_concurrency: int = 4,
    ) -> None:
        model = MODELS.get(index.embedding_model or "")
        if model is None:
            raise InvalidRequestError(
                f"index {index.index_id} has no Marengo model, so its videos have no segment "
                "vectors; create the index with a Marengo model"
            )
        self._model = model
        self._options = tuple(options) if options is not None else index.embedding_options
        self._scopes = frozenset(scopes)
        if not self._options or not self._scopes:
            raise InvalidRequestError("options and scopes must not be empty")
        super().__init__(index, max_concurrency, threads="tl-vectors")

    @property
    def dim(self) -> int:
        """The size of a vector (the index's Marengo model's)."""
        return self._model.dim

    def __call__(self, batch: Any) -> Any:
        """The segment rows of the batch's videos (at least one row per input row)."""
        types = {**dict.fromkeys(_FLOATS, "float"), "vector": f"vector:{self.dim}"}
        return self._table(batch, types=types, order=SEGMENT_COLUMNS)

    def _nothing_read(self) -> str:
        return f"no {'/'.join(sorted(self._scopes))} segments for {self._options}"

    def _read(self, base: dict[str, Any], video_id: str) -> list[dict[str, Any]]:
        video = self._client.videos.retrieve(
            self._index.index_id, video_id, embedding_options=self._options
        )
        if video.embedding is None:
            raise InvalidRequestError(f"video {video_id} came back without its embeddings")
        ve = video_from_v1(video.embedding, model_name=self._model.name, dim_hint=self._model.dim)
        name = str(base.get("filename") or base.get("source") or video_id)
        rows = []
        for i in range(len(ve)):
            option, scope = str(ve.options[i]), str(ve.scopes[i])
            if scope not in self._scopes:
                continue
            start, end = float(ve.start_s[i]), float(ve.end_s[i])
            rows.append(
                {
                    **base,
                    "id": segment_id(video_id, option, scope, start),
                    "text": f"{name}, {_clock(start)}-{_clock(end)} ({option}, {scope})",
                    "model_name": ve.model_name or self._model.name,
                    "option": option,
                    "scope": scope,
                    "start_s": start,
                    "end_s": end,
                    "vector": np.asarray(ve.vectors[i], dtype=np.float32),
                    "status": "ok",
                    "reason": "",
                }
            )
        return rows

    def _empty(self, base: dict[str, Any], status: str, reason: str) -> dict[str, Any]:
        return {
            **base,
            "id": None,
            "text": "",
            "model_name": self._model.name,
            "option": None,
            "scope": None,
            "start_s": None,
            "end_s": None,
            "vector": None,
            "status": status,
            "reason": reason,
        }
