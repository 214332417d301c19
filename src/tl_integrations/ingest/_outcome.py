"""Failures of an ingest run, the error that reports them, and the progress display."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..errors import TwelveLabsError
from ._inputs import OnError, display_source

__all__ = ["IngestError", "IngestFailure", "Progress", "Tally"]

logger = logging.getLogger("tl_integrations.ingest")
_SHOWN_FAILURES = 20


@dataclass(frozen=True)
class IngestFailure:
    """One input that produced no Documents, and why.

    Attributes:
        source: the input as the caller gave it.
        reason: a one-line explanation (the error's message).
        exception: the error itself (``TaskFailedError``, ``InvalidVideoError``...).

    Example:
        >>> f = IngestFailure("a.mp4", "task t1 failed", RuntimeError("task t1 failed"))
        >>> f.source, f.reason
        ('a.mp4', 'task t1 failed')
    """

    source: str
    reason: str
    exception: BaseException


class IngestError(TwelveLabsError):
    """Some inputs of an ingest run failed; raised once, after every other video was yielded.

    Attributes:
        failures: every failed input with its reason, in the order they failed.

    Example:
        >>> err = IngestError([IngestFailure("a.mp4", "too short", ValueError("too short"))])
        >>> print(err)
        1 of the videos failed: a.mp4: too short
    """

    def __init__(self, failures: list[IngestFailure] | tuple[IngestFailure, ...]) -> None:
        self.failures = tuple(failures)
        shown = [f"{display_source(f.source)}: {f.reason}" for f in self.failures]
        more = len(shown) - _SHOWN_FAILURES
        text = "; ".join(shown[:_SHOWN_FAILURES]) + (f"; and {more} more" if more > 0 else "")
        super().__init__(f"{len(self.failures)} of the videos failed: {text}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (IngestError, (self.failures,))


class Progress:
    """A tqdm bar of inputs done, with the current statuses as postfix; a no-op when off.

    Safe to update from worker threads. tqdm is imported only when the bar is shown.

    Example:
        >>> p = Progress(["a.mp4", "b.mp4"], enabled=False)
        >>> p.set("a.mp4", "uploading"); p.finish("b.mp4", "ready")
        >>> p.counts()
        {'uploading': 1, 'ready': 1}
    """

    def __init__(self, sources: list[str], *, enabled: bool) -> None:
        self._status = dict.fromkeys(sources, "queued")
        self._lock = threading.Lock()
        self._bar: Any = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError as exc:
                raise ImportError(
                    "show_progress=True needs tqdm: pip install 'tl-integrations[langchain]'"
                ) from exc
            self._bar = tqdm(total=len(sources), desc="videos", unit="video")

    def set(self, source: str, status: str) -> None:
        """Record the current status of one input (``hashing``, ``uploading``, ``indexing``...)."""
        with self._lock:
            if self._status.get(source) == status:
                return
            self._status[source] = status
            self._refresh()

    def finish(self, source: str, status: str) -> None:
        """Record that one input is done (``ready`` or ``failed``) and advance the bar."""
        with self._lock:
            self._status[source] = status
            if self._bar is not None:
                self._bar.update(1)
            self._refresh()

    def counts(self) -> dict[str, int]:
        """How many inputs are in each status now."""
        with self._lock:
            return dict(Counter(self._status.values()))

    def close(self) -> None:
        """Close the bar (if shown)."""
        if self._bar is not None:
            self._bar.close()

    def _refresh(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix(Counter(self._status.values()), refresh=True)


class Tally:
    """Collects failures under the ``on_error`` policy; raises the one error at the end.

    Example:
        >>> tally = Tally(on_error="skip")
        >>> tally.fail("a.mp4", ValueError("broken file"))
        >>> [f.reason for f in tally.failures]
        ['broken file']
        >>> tally.finish()  # "skip": nothing raised
    """

    def __init__(self, *, on_error: OnError, failures: list[IngestFailure] | None = None) -> None:
        self.on_error = on_error
        self.failures = failures if failures is not None else []

    def fail(self, source: str, exc: BaseException) -> None:
        """Record one failed input and log it (a warning, with the reason).

        A server often quotes the URL it could not fetch; the reason shows it as
        :func:`display_source` does (no query, no user info), since those may be credentials.
        """
        reason = str(exc) or type(exc).__name__
        shown = display_source(source)
        if shown != source:
            reason = reason.replace(source, shown)
        self.failures.append(IngestFailure(source, reason, exc))
        logger.warning("video %s failed: %s", display_source(source), reason)

    def finish(self) -> None:
        """Raise :class:`IngestError` if ``on_error="raise"`` and anything failed."""
        if self.on_error == "raise" and self.failures:
            raise IngestError(self.failures)
