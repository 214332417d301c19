"""The stages after :class:`~tl_integrations.ray.IndexVideos`: each video read into rows.

:class:`~tl_integrations.ray.VideoDocuments` (text documents) and
:class:`~tl_integrations.ray.SegmentVectors` (segment vectors) take the rows
``IndexVideos`` makes and give every input row at least one row out: a video that was not
indexed, could not be read, or had nothing to read comes through as one row with its
``status`` and ``reason``, so no input silently disappears. :class:`VideoReader` is that
rule, once; each stage says how to read one video and what its empty row looks like.

Example:
    >>> sorted(carried({"source": "a.mp4", "video_id": "v1", "uploaded": True}))
    ['source', 'video_id']
"""

from __future__ import annotations

from typing import Any

from ._desk import RowReport
from ._index import FATAL_ERRORS, INDEXED_COLUMNS, reason_of
from ._pool import PoolWorker
from ._rows import rows_of, table_of

__all__ = ["VideoReader", "carried"]

Row = dict[str, Any]


def carried(row: Row) -> Row:
    """The input row's columns an output row keeps: its own, and the video's identity.

    Example:
        >>> carried({"source": "a.mp4", "status": "indexed", "filename": "a.mp4"})
        {'source': 'a.mp4', 'filename': 'a.mp4'}
    """
    dropped = set(INDEXED_COLUMNS) - {"video_id", "task_id", "index_id", "filename", "duration_s"}
    return {name: value for name, value in row.items() if name not in dropped}


class VideoReader(PoolWorker):
    """A pool worker that reads each indexed video of a batch into rows of its own.

    A subclass reads one video (:meth:`_read`: its rows, each carrying ``base``), says
    what the one row of a video without rows holds (:meth:`_empty`) and why a video gave
    none (:meth:`_nothing_read`); its ``__call__`` returns :meth:`_table`. The videos of
    a batch are read on the worker's threads; every read video is reported to the desk.

    Example:
        >>> class Titles(VideoReader):
        ...     def __call__(self, batch: Any) -> Any:
        ...         return self._table(batch, types={}, order=("video_id", "title"))
        ...     def _read(self, base: Row, video_id: str) -> list[Row]:
        ...         return [{**base, "title": self._client.videos.retrieve(
        ...             self._index.index_id, video_id).system_metadata.filename}]
        >>> videos.map_batches(Titles, fn_constructor_args=(index, 4),  # doctest: +SKIP
        ...                    fn_constructor_kwargs={"threads": "tl-titles"})
    """

    def _table(self, batch: Any, *, types: dict[str, str], order: tuple[str, ...]) -> Any:
        made = list(self._pool.map(self._rows, rows_of(batch)))
        out = [row for rows, _ in made for row in rows]
        self._index.report([report for _, report in made if report is not None])
        return table_of(out, types=types, order=order)

    def _rows(self, row: Row) -> tuple[list[Row], RowReport | None]:
        base = carried(row)
        source = str(row.get("source"))
        if row.get("status") != "indexed" or not row.get("video_id"):
            status = "skipped" if row.get("status") == "skipped" else "failed"
            reason = str(row.get("reason") or "the video was not indexed")
            return [self._empty(base, status, reason)], None
        try:
            rows = self._read(base, str(row["video_id"]))
        except FATAL_ERRORS:
            raise
        except Exception as exc:  # this video fails; the others go on
            reason = reason_of(exc)
            return [self._empty(base, "failed", reason)], RowReport(source, "failed", reason)
        if not rows:
            return [self._empty(base, "skipped", self._nothing_read())], RowReport(source, "read")
        return rows, RowReport(source, "read")

    def _read(self, base: Row, video_id: str) -> list[Row]:
        raise NotImplementedError

    def _empty(self, base: Row, status: str, reason: str) -> Row:
        return {**base, "status": status, "reason": reason}

    def _nothing_read(self) -> str:
        return "nothing to read"
