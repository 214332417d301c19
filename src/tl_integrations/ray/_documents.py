"""``VideoDocuments``: rows of indexed videos in, rows of text documents out.

What the loader yields per video (transcript windows, a summary, chapters; see
:mod:`tl_integrations._ingest.content`), as rows: ``id`` (a stable UUID, so a vector store
replaces rather than duplicates), ``text``, and flat metadata columns. A row that was not
indexed (skipped, failed) comes through as one row with its ``status`` and ``reason`` and
no text, so no input silently disappears; so does a video with no text at all.

Example:
    >>> docs = videos.map_batches(VideoDocuments, fn_constructor_args=(index,),
    ...                           fn_constructor_kwargs={"content": ("transcript",)},
    ...                           compute=worker_pool(2))  # doctest: +SKIP
    >>> docs.filter(lambda row: row["status"] == "ok").write_parquet("docs/")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from .._ingest import (
    CHAPTERS_SCHEMA,
    DEFAULT_CHAPTERS_PROMPT,
    DEFAULT_SUMMARY_PROMPT,
    IngestOptions,
    TextPiece,
    VideoInfo,
    piece_id,
)
from .._ingest.content import ContentKind
from .._ingest.engine import chapter_pieces, summary_piece, transcript_pieces
from ._cluster import ClusterIndex
from ._reading import VideoReader

__all__ = ["DOCUMENT_COLUMNS", "VideoDocuments"]

logger = logging.getLogger("tl_integrations.ray")

DOCUMENT_COLUMNS = (
    "id",
    "text",
    "content_kind",
    "start_s",
    "end_s",
    "chapter_title",
    "source",
    "video_id",
    "index_id",
    "task_id",
    "filename",
    "duration_s",
    "status",
    "reason",
)
"""The columns of a document row (``status`` is ``ok``, ``skipped`` or ``failed``)."""
_FLOATS = ("start_s", "end_s", "duration_s")
_CHAPTERS_FORMAT: dict[str, Any] = {"type": "json_schema", "json_schema": CHAPTERS_SCHEMA}


class VideoDocuments(VideoReader):
    """A ``map_batches`` callable: each indexed video becomes its text documents.

    Takes the rows :class:`~tl_integrations.ray.IndexVideos` makes (``source``,
    ``status``, ``video_id``...). Columns out: ``id``, ``text``, ``content_kind``
    (``transcript``, ``summary``, ``chapters``), ``start_s``, ``end_s``,
    ``chapter_title``, ``source``, ``video_id``, ``index_id``, ``task_id``, ``filename``,
    ``duration_s``, ``status`` (``ok``, ``skipped`` or ``failed``) and ``reason``; the
    input's other columns are repeated on each of its documents.

    Args:
        index: the :class:`ClusterIndex`.
        content: what to make, in order (``"transcript"``, ``"summary"``, ``"chapters"``).
        chunk_s: transcript window length, in seconds.
        summary_prompt / chapters_prompt: the analysis prompts.
        max_concurrency: videos of a batch read at once.

    Example:
        >>> docs = videos.map_batches(VideoDocuments, fn_constructor_args=(index,),
        ...                           compute=worker_pool(2))  # doctest: +SKIP
        >>> docs.take(1)[0]["content_kind"]  # doctest: +SKIP
        'transcript'
    """

    def __init__(
        self,
        index: ClusterIndex,
        *,
        content: Iterable[ContentKind] = ("transcript", "summary"),
        chunk_s: float = 30.0,
        summary_prompt: str = DEFAULT_SUMMARY_PROMPT,
        chapters_prompt: str = DEFAULT_CHAPTERS_PROMPT,
        max_concurrency: int = 4,
    ) -> None:
        # The loader's options check every setting the same way (the index is a stand-in).
        self._options = IngestOptions(
            index_id=index.index_id,
            content=tuple(content),
            chunk_s=chunk_s,
            summary_prompt=summary_prompt,
            chapters_prompt=chapters_prompt,
            max_concurrency=max_concurrency,
        )
        super().__init__(index, max_concurrency, threads="tl-docs")

    def __call__(self, batch: Any) -> Any:
        """The documents of the batch's videos (at least one row per input row)."""
        return self._table(batch, types=dict.fromkeys(_FLOATS, "float"), order=DOCUMENT_COLUMNS)

    def _read(self, base: dict[str, Any], video_id: str) -> list[dict[str, Any]]:
        pieces = self._pieces(video_id)
        info = VideoInfo(
            str(base.get("source")),
            video_id,
            self._index.index_id,
            task_id=base.get("task_id"),
            filename=base.get("filename"),
            duration_s=base.get("duration_s"),
        )
        return [
            {
                **base,
                "id": piece_id(info, piece),
                "text": piece.text,
                "content_kind": piece.content_kind,
                "start_s": piece.start_s,
                "end_s": piece.end_s,
                "chapter_title": piece.chapter_title,
                "status": "ok",
                "reason": "",
            }
            for piece in pieces
        ]

    def _nothing_read(self) -> str:
        return f"no text for {', '.join(self._options.content)} (no speech?)"

    def _empty(self, base: dict[str, Any], status: str, reason: str) -> dict[str, Any]:
        return {
            **base,
            "id": None,
            "text": "",
            "content_kind": None,
            "start_s": None,
            "end_s": None,
            "chapter_title": None,
            "status": status,
            "reason": reason,
        }

    def _pieces(self, video_id: str) -> list[TextPiece]:
        options = self._options
        client = self._client
        pieces: list[TextPiece] = []
        video = None
        for kind in options.content:
            if kind == "transcript":
                video = client.videos.retrieve(self._index.index_id, video_id, transcription=True)
                pieces += transcript_pieces(video, chunk_s=options.chunk_s)
            elif kind == "summary":
                answer = client.analyze(video_id, options.summary_prompt)
                pieces += summary_piece(answer, video_id=video_id)
            else:
                answer = client.analyze(
                    video_id, options.chapters_prompt, response_format=_CHAPTERS_FORMAT
                )
                pieces += chapter_pieces(answer, video_id=video_id)
        return pieces
