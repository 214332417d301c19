"""The I/O-free half of the ingest engines: work entries, claims, and turning answers into text.

The sync and async engines differ only by ``await`` and by how they run uploads side by side;
every decision they make is one of the functions here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import TaskFailedError, TaskTimeoutError
from ..models import AnalyzeResult, Task, Video
from ._content import (
    CHAPTERS_SCHEMA,
    TextPiece,
    VideoInfo,
    VideoRecord,
    chunk_transcript,
    parse_chapters,
)
from ._inputs import HASH_KEY, URL_HASH_KEY, IngestOptions, VideoSource, display_source, url_key

__all__ = [
    "CHAPTERS_FORMAT",
    "REFRESH_S",
    "RUNNING_STATUSES",
    "Claims",
    "Entry",
    "Found",
    "Joined",
    "Prepared",
    "Started",
    "chapter_pieces",
    "records_for",
    "summary_piece",
    "task_failed_error",
    "transcript_pieces",
]

logger = logging.getLogger("tl_integrations.ingest")

CHAPTERS_FORMAT: dict[str, Any] = {"type": "json_schema", "json_schema": CHAPTERS_SCHEMA}
RUNNING_STATUSES = ("validating", "pending", "queued", "indexing")
# While uploads are still running, a wait is cut into slices this long so that tasks created
# meanwhile join the next wait_many instead of waiting for the whole first batch.
REFRESH_S = 5.0


@dataclass(frozen=True)
class Found:
    """A ready video to read (reused, or named as ``video:<id>``)."""

    video_id: str
    task_id: str | None


@dataclass(frozen=True)
class Started:
    """A task to wait for; ``candidate`` when it was found by file name and needs a hash check."""

    task: Task
    candidate: bool = False


@dataclass(frozen=True)
class Joined:
    """The input has the same content as another entry of this run and rides along with it."""


Prepared = Found | Started | Joined


@dataclass(eq=False)
class Entry:
    """One unit of work: an input plus any later input with the same content.

    Attributes:
        source: the resolved input.
        sources: every input string answered by this entry (the first is ``source.source``).
        key: the ``(user_metadata key, value)`` that identifies its content, once known.
        outcome: a :class:`Found` or the exception, once the entry is settled.
    """

    source: VideoSource
    sources: list[str] = field(default_factory=list)
    key: tuple[str, str] | None = None
    outcome: Found | BaseException | None = None

    def __post_init__(self) -> None:
        self.sources = self.sources or [self.source.source]


def content_key(source: VideoSource, file_digest: str | None) -> tuple[str, str] | None:
    """The user-metadata pair a video from this input carries (None for ``video:<id>``)."""
    if source.kind == "file" and file_digest is not None:
        return (HASH_KEY, file_digest)
    if source.kind == "url" and source.url is not None:
        return (URL_HASH_KEY, url_key(source.url))
    return None


class Claims:
    """Which entry owns which content in this run, so equal files are uploaded once.

    Example:
        >>> claims = Claims()
        >>> a, b = Entry(VideoSource("a.mp4", "file")), Entry(VideoSource("b.mp4", "file"))
        >>> claims.claim(a, ("tl_sha256", "ab12")) is None
        True
        >>> claims.claim(b, ("tl_sha256", "ab12")), a.sources
        (Joined(), ['a.mp4', 'b.mp4'])
    """

    def __init__(self) -> None:
        self._owners: dict[tuple[str, str], Entry] = {}
        self._lock = threading.Lock()

    def claim(self, entry: Entry, key: tuple[str, str] | None) -> Prepared | BaseException | None:
        """None when ``entry`` owns ``key``; otherwise what the owner's outcome means for it."""
        entry.key = key
        if key is None:
            return None
        with self._lock:
            owner = self._owners.setdefault(key, entry)
            if owner is entry:
                return None
            if owner.outcome is None:
                owner.sources.append(entry.source.source)
                return Joined()
            return owner.outcome

    def settle(self, entry: Entry, outcome: Found | BaseException) -> list[str]:
        """Record the entry's outcome; return every input it answers (a stable snapshot)."""
        with self._lock:
            entry.outcome = outcome
            return list(entry.sources)


def task_failed_error(task: Task) -> TaskFailedError:
    """The error for a task that ended in ``failed``, with everything the server said."""
    return TaskFailedError(
        task.id,
        video_id=task.video_id,
        index_id=task.index_id,
        filename=task.system_metadata.filename,
        reason=task.failure_reason,
        task=task,
    )


def timed_out(task: Task, timeout_s: float | None) -> TaskTimeoutError:
    """The per-input error for a task still running at the run's deadline."""
    return TaskTimeoutError(task.id, last_status=task.status, timeout_s=timeout_s)


def transcript_pieces(video: Video, *, chunk_s: float) -> list[TextPiece]:
    """Transcript windows of a video; an empty list (and an info log) when nothing is said."""
    pieces = chunk_transcript(video.transcription or (), chunk_s=chunk_s)
    if not pieces:
        name = video.system_metadata.filename or "?"
        logger.info("video %s (%s) has no speech: no transcript documents", video.id, name)
    return pieces


def summary_piece(result: AnalyzeResult, *, video_id: str) -> list[TextPiece]:
    """The summary as one piece; none (and a warning) when the answer is empty."""
    text = result.text.strip()
    if not text:
        logger.warning("video %s: the summary came back empty; no summary document", video_id)
        return []
    return [TextPiece(text, "summary")]


def chapter_pieces(result: AnalyzeResult, *, video_id: str) -> list[TextPiece]:
    """Chapter pieces from a JSON-schema answer; none (and a warning) when there are none."""
    pieces = parse_chapters(result.data)
    if not pieces:
        logger.warning("video %s: no chapters in the answer; no chapter documents", video_id)
    return pieces


def records_for(
    sources: list[str], video: Video, *, index_id: str, task_id: str | None,
    pieces: list[TextPiece],
) -> list[VideoRecord]:  # fmt: skip
    """One record per input answered by this video (usually one)."""
    meta = video.system_metadata
    return [
        VideoRecord(
            VideoInfo(
                source,
                video.id,
                index_id,
                task_id=task_id,
                filename=meta.filename,
                duration_s=meta.duration,
            ),
            tuple(pieces),
        )
        for source in sources
    ]


class Deadline:
    """The run's deadline for indexing (None: wait as long as it takes).

    Measured with the client's clock, so a test that injects one controls this deadline too.

    Example:
        >>> Deadline(None, clock=lambda: 0.0).remaining_s() is None
        True
        >>> Deadline(10.0, clock=lambda: 0.0).slice_s(uploads_running=True)
        5.0
    """

    def __init__(self, timeout_s: float | None, *, clock: Callable[[], float]) -> None:
        self.timeout_s = timeout_s
        self._clock = clock
        self._end = None if timeout_s is None else clock() + timeout_s

    def remaining_s(self) -> float | None:
        """Seconds left (never negative), or None without a deadline."""
        return None if self._end is None else max(0.0, self._end - self._clock())

    def slice_s(self, *, uploads_running: bool) -> float | None:
        """How long the next ``wait_many`` may run before the engine looks at uploads again."""
        remaining = self.remaining_s()
        if not uploads_running:
            return remaining
        return REFRESH_S if remaining is None else min(REFRESH_S, remaining)

    def passed(self) -> bool:
        """True once the deadline has passed."""
        remaining = self.remaining_s()
        return remaining is not None and remaining <= 0.0


def close_iterator(iterator: object) -> None:
    """Close a generator left before its end (a ``wait_many`` cut short); no-op otherwise."""
    close = getattr(iterator, "close", None)
    if callable(close):
        close()


async def aclose_iterator(iterator: object) -> None:
    """Close an async generator left before its end; no-op for other iterators."""
    aclose = getattr(iterator, "aclose", None)
    if callable(aclose):
        await aclose()


def log_start(options: IngestOptions, count: int, index_id: str) -> None:
    """One info line saying what the run is about to do."""
    logger.info(
        "ingesting %d video(s) into index %s: %s", count, index_id, ", ".join(options.content)
    )


def label(source: str) -> str:
    """An input as it may appear in logs."""
    return display_source(source)
