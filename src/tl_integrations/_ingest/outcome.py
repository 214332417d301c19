"""Failures of an ingest run, the error that reports them, and the progress display."""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .._errors import TwelveLabsError
from .inputs import IngestOptions, OnError, OnStatus, VideoSource, display_source

__all__ = ["IngestError", "IngestFailure", "Progress", "Tally", "redacted"]

logger = logging.getLogger("tl_integrations._ingest")
_SHOWN_FAILURES = 20
# The status of an input no stage has started on yet (shown in the bar only).
NOT_STARTED = "not started"


@dataclass(frozen=True)
class IngestFailure:
    """One input that produced no Documents, and why.

    Attributes:
        source: the input as the caller gave it; a URL without its query and user info
            (a signed URL's signature is a credential: see :func:`display_source`).
        reason: a one-line explanation (the error's message).
        exception: the error itself (``TaskFailedError``, ``InvalidVideoError``...); for
            a URL input, a copy that quotes the URL as ``source`` does.

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
    """Where every status of every input goes: the ``on_status`` callback and the tqdm bar.

    The engines report each stage here and nowhere else, so what the callback sees and what
    the bar shows cannot drift apart (the vocabulary is documented on :class:`IngestOptions`).
    Safe to call from worker threads: calls are serialised, the callback's included. tqdm
    is imported only when the bar is shown.

    Example:
        >>> seen = []
        >>> p = Progress(["a.mp4", "b.mp4"], enabled=False, on_status=lambda s, st: seen.append(st))
        >>> p.set("a.mp4", "uploading"); p.set("a.mp4", "uploading"); p.finish("b.mp4", "done")
        >>> p.counts(), seen
        ({'uploading': 1, 'done': 1}, ['uploading', 'done'])
    """

    def __init__(
        self, sources: list[str], *, enabled: bool, on_status: OnStatus | None = None
    ) -> None:
        self._status = dict.fromkeys(sources, NOT_STARTED)
        self._on_status = on_status
        self._raised: BaseException | None = None
        self._lock = threading.Lock()
        self._bar: Any = None
        if enabled:
            self._bar = progress_bar(total=len(sources), desc="videos", unit="video")

    @classmethod
    def for_run(cls, sources: list[VideoSource], options: IngestOptions) -> Progress:
        """The progress of one run: its inputs, ``options.show_progress`` and ``on_status``."""
        return cls(
            [source.source for source in sources],
            enabled=options.show_progress,
            on_status=options.on_status,
        )

    def set(self, source: str, status: str) -> None:
        """Record the current status of one input (``hashing``, ``uploading``, ``indexing``...).

        A repeat of the input's current status is ignored.
        """
        with self._lock:
            if self._status.get(source) == status:
                return
            self._status[source] = status
            self._refresh()
            self._report(source, status)

    def finish(self, source: str, status: str) -> None:
        """Record that one input is done (``done`` or ``failed``) and advance the bar."""
        with self._lock:
            self._status[source] = status
            if self._bar is not None:
                self._bar.update(1)
            self._refresh()
            self._report(source, status)

    def raised(self, exc: BaseException) -> bool:
        """True when ``exc`` came out of the ``on_status`` callback (it must end the run)."""
        return exc is self._raised

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

    def _report(self, source: str, status: str) -> None:
        if self._on_status is None:
            return
        try:
            self._on_status(source, status)
        except BaseException as exc:
            # Remembered so that the engine, which treats an error raised while preparing
            # an input as that input's failure, can tell the callback's apart and re-raise.
            self._raised = exc
            raise


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

        A server often quotes the URL it could not fetch; the failure shows it as
        :func:`display_source` does (no query, no user info), since those may be credentials:
        in its source, its reason and its exception (see :func:`redacted`).
        """
        shown = display_source(source)
        if shown != source:
            exc = redacted(exc, source)
        reason = str(exc) or type(exc).__name__
        self.failures.append(IngestFailure(shown, reason, exc))
        logger.warning("video %s failed: %s", shown, reason)

    def finish(self) -> None:
        """Raise :class:`IngestError` if ``on_error="raise"`` and anything failed."""
        if self.on_error == "raise" and self.failures:
            raise IngestError(self.failures)


def progress_bar(**options: Any) -> Any:
    """A tqdm bar: a widget in Jupyter when ``ipywidgets`` is installed, else text.

    tqdm's automatic choice warns (``IProgress not found``) in a notebook without
    ipywidgets; the text bar works there too, quietly.

    Raises:
        ModuleNotFoundError: tqdm is missing; the message names the ``pip install``.

    Example:
        >>> bar = progress_bar(total=2, disable=True); bar.update(1); bar.close()
    """
    import importlib.util

    from .._extras import install_hint

    if importlib.util.find_spec("tqdm") is None:
        raise ModuleNotFoundError(
            f"show_progress=True needs tqdm, which is not installed: {install_hint('langchain')}",
            name="tqdm",
        )
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(**options)


def redacted(exc: BaseException, url: str) -> BaseException:
    """A copy of ``exc`` that quotes ``url`` without its query and user info.

    Wherever the error holds the URL (its message, the API's message, the body), the URL
    reads as :func:`display_source` shows it, and a query quoted alone is cut out too. The
    copy has no cause: a chained httpx error would quote the URL again.

    Example:
        >>> err = ValueError("could not fetch 'https://cdn.example/a.mp4?sig=s3cr3t': 403")
        >>> str(redacted(err, "https://cdn.example/a.mp4?sig=s3cr3t"))
        "could not fetch 'https://cdn.example/a.mp4': 403"
    """
    parts = urllib.parse.urlsplit(url)
    secrets = [(url, display_source(url))]
    secrets += [(part, "(redacted)") for part in (parts.query, parts.fragment) if len(part) > 3]
    if "@" in parts.netloc:
        secrets.append((parts.netloc.rpartition("@")[0], "(redacted)"))

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            for secret, shown in secrets:
                value = value.replace(secret, shown)
            return value
        if isinstance(value, dict):
            return {key: scrub(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(scrub(item) for item in value)
        return value

    try:
        # Every error of the package pickles (and so rebuilds) from its __reduce__.
        reduced = exc.__reduce__()
        if isinstance(reduced, str):
            raise TypeError(reduced)
        rebuild, args, *state = reduced
        copy: BaseException = rebuild(*scrub(args))
        if state and isinstance(state[0], dict):
            copy.__dict__.update(scrub(state[0]))
    except Exception:  # an exotic error: keep what it says, not what it is
        copy = TwelveLabsError(scrub(str(exc)))
    copy.__traceback__ = exc.__traceback__
    copy.__suppress_context__ = True
    return copy
