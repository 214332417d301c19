"""Typed views of the TwelveLabs wire objects: tasks, indexes, videos, search clips, analyses.

Parsing is defensive: unknown fields are kept (every model has ``raw``), missing optional
fields become ``None``, and a body of the wrong shape raises
:class:`MalformedResponseError` (a :class:`~tl_integrations.errors.TwelveLabsError`), never a
``KeyError`` or ``TypeError``. Times are seconds (float); ids are strings; timestamps are the
API's RFC 3339 strings.

Example:
    >>> task = Task.from_api({"_id": "t1", "status": "indexing", "index_id": "i1",
    ...                       "system_metadata": {"filename": "a.mp4", "duration": 12.5}})
    >>> task.id, task.done, task.system_metadata.duration
    ('t1', False, 12.5)
"""

from __future__ import annotations

from ._read import MalformedResponseError, as_object, parse_page
from .catalog import AnalyzeResult, Index, IndexModel, SearchClip, Utterance, Video
from .task import TASK_FAILED, TASK_READY, SystemMetadata, Task

__all__ = [
    "TASK_FAILED",
    "TASK_READY",
    "AnalyzeResult",
    "Index",
    "IndexModel",
    "MalformedResponseError",
    "SearchClip",
    "SystemMetadata",
    "Task",
    "Utterance",
    "Video",
    "as_object",
    "parse_page",
]
