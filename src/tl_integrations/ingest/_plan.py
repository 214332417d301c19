"""The I/O-free half of the ingest engines: work entries, claims, and turning answers into text.

The sync and async engines differ only by ``await`` and by how they run uploads side by side;
every decision they make is one of the functions here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import TaskTimeoutError
from ..models import AnalyzeResult, Task, Video
from ..polling import PollPolicy
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
    "RUNNING_STATUSES",
    "Claims",
    "Deadline",
    "Entry",
    "Found",
    "Joined",
    "Prepared",
    "Slice",
    "Started",
    "chapter_pieces",
    "records_for",
    "summary_piece",
    "transcript_pieces",
]

logger = logging.getLogger("tl_integrations.ingest")

CHAPTERS_FORMAT: dict[str, Any] = {"type": "json_schema", "json_schema": CHAPTERS_SCHEMA}
RUNNING_STATUSES = ("validating", "pending", "queued", "indexing")


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


@dataclass(frozen=True)
class Slice:
    """One ``wait_many`` call of an engine: how long it may run, and how it polls.

    Attributes:
        timeout_s: seconds before it stops (None: no limit).
        poll: the poll policy to pass (None: the client's own).
    """

    timeout_s: float | None
    poll: PollPolicy | None = None


class Deadline:
    """The run's deadline for indexing (None: wait as long as it takes), and its wait slices.

    Measured with the client's clock, so a test that injects one controls this deadline too.

    Example:
        >>> Deadline(10.0, clock=lambda: 0.0, poll=PollPolicy()).next_slice(
        ...     uploads_running=False, pending=1)
        Slice(timeout_s=10.0, poll=None)
        >>> deadline = Deadline(None, clock=lambda: 0.0, poll=PollPolicy(jitter=0.0))
        >>> [deadline.next_slice(uploads_running=True, pending=1).timeout_s for _ in "abc"]
        [1.0, 1.5, 2.25]
        >>> deadline.next_slice(uploads_running=False, pending=1).poll.initial_interval_s
        3.375
    """

    def __init__(
        self, timeout_s: float | None, *, clock: Callable[[], float], poll: PollPolicy
    ) -> None:
        self.timeout_s = timeout_s
        self._clock = clock
        self._poll = poll
        self._end = None if timeout_s is None else clock() + timeout_s
        self._slices = 0

    def remaining_s(self) -> float | None:
        """Seconds left (never negative), or None without a deadline."""
        return None if self._end is None else max(0.0, self._end - self._clock())

    def next_slice(self, *, uploads_running: bool, pending: int) -> Slice:
        """The next ``wait_many``: to the deadline, or one poll interval while uploads run.

        A task created during a wait cannot join it; it joins the next one. So while
        uploads run, each wait lasts one interval of the client's poll policy (growing from
        slice to slice as ``wait_many``'s own does) and polls at its start and its end only:
        a new task is first polled at most one interval after it was created, and the
        waits cost about one round of requests per interval (the round that starts a wait
        repeats the one that ended the previous wait). Once every upload is done, one wait
        runs to the deadline with the client's own policy, its backoff picking up where the
        slices left it: cutting a wait into slices does not restart the backoff.

        Args:
            uploads_running: whether any input is still hashing, looking up or uploading.
            pending: how many tasks the wait is for (the interval depends on it).
        """
        remaining = self.remaining_s()
        if not uploads_running:
            return Slice(remaining, self._resumed(pending))
        self._slices += 1
        interval_s = self._poll.batch_interval_s(self._slices, pending=pending)
        timeout_s = interval_s if remaining is None else min(interval_s, remaining)
        return Slice(timeout_s, PollPolicy.fixed(interval_s))

    def _resumed(self, pending: int) -> PollPolicy | None:
        if not self._slices:
            return None
        steady = replace(self._poll, jitter=0.0)
        next_s = steady.batch_interval_s(self._slices + 1, pending=pending)
        return replace(self._poll, initial_interval_s=next_s)

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
