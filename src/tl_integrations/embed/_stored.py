"""Finding an embedding task the server may have created although its answer was lost (pure).

``POST /embed/tasks`` and ``POST /embed-v2/tasks`` are not idempotent and carry no
client token, so after a 5xx, a timeout or a dropped connection (the request may have been
stored) the shells list the newest tasks of the protocol (one page of 50) and look for this
create's own before sending again:

* **named** creates (Embed v1 with a local file, or a URL on either API): the newest task
  with the same model, the same ``input_filename`` / ``input_url`` and the same clip length,
  created since the upload began (the server's ``Date`` against ``created_at``, with
  ``CANDIDATE_MARGIN_S`` of slack) and not already returned by this resource, is adopted;
* **anonymous** creates (Embed v2 with a local file, sent inline as base64: the server
  knows no file name): the server's task cannot be told from someone else's by its
  metadata, so only the creation time can. A task is adopted only when exactly one
  unclaimed v2 task with the same model and clip length and no ``input_url`` was created
  within ``ANONYMOUS_MARGIN_S`` of the upload, and no other create of this resource ran at
  the same time. Several such tasks (or one while another create overlapped) cannot be
  told apart: the original error is raised and nothing is sent again. No matching task:
  the request is sent again.

Only when no task matches is the request sent again (with the retry policy's backoff).

Example:
    >>> from tl_integrations.embed.params import validate_video_task
    >>> ident = CreateIdentity.of(validate_video_task(model_name="marengo3.0", video_url="u"))
    >>> ident.anonymous, ident.label
    (False, 'video_url')
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .._http import can_resend
from ..client._stored import CANDIDATE_MARGIN_S, epoch_s, server_now
from ..client._tasks_core import may_have_arrived, redo_delay_s
from ..errors import TwelveLabsError
from ..retrying import RetryPolicy
from .params import ProtocolName, VideoTaskRequest
from .task import EmbeddingTask

__all__ = [
    "ANONYMOUS_MARGIN_S",
    "CreateIdentity",
    "CreateLog",
    "Ticket",
    "check_arrived",
    "pick",
    "redo_delay",
]

logger = logging.getLogger("tl_integrations")

# Slack for an anonymous match: the Date header has 1 s resolution; anything wider would let
# a task created just before this upload (by another program) pass for it.
ANONYMOUS_MARGIN_S = 2.0
_CLAIMED_MAX = 4096


@dataclass(frozen=True)
class CreateIdentity:
    """What a listed task must show to be the one this create may have made.

    Example:
        >>> from tl_integrations.embed.params import validate_video_task
        >>> req = validate_video_task(model_name="Marengo-retrieval-2.7", video_url="https://x")
        >>> CreateIdentity.of(req).input_url
        'https://x'
    """

    protocol: ProtocolName
    model_name: str
    clip_length_s: float
    input_url: str | None
    input_filename: str | None
    label: str = "video"  # for log lines: the local file name, never a (maybe signed) URL

    @classmethod
    def of(cls, req: VideoTaskRequest) -> CreateIdentity:
        """The identity of a checked request (v2 sends files inline, without their name).

        Example:
            >>> from tl_integrations.embed.params import validate_video_task
            >>> CreateIdentity.of(validate_video_task(model_name="marengo3.0",
            ...                                       video_url="u")).clip_length_s
            6.0
        """
        named_file = req.video_file is not None and req.model.protocol == "v1"
        return cls(
            protocol=req.model.protocol,
            model_name=req.model.name,
            clip_length_s=float(req.clip_length_s),
            input_url=req.video_url,
            input_filename=req.video_file.filename if named_file and req.video_file else None,
            label=req.video_file.filename if req.video_file is not None else "video_url",
        )

    @property
    def anonymous(self) -> bool:
        """True when the server's task carries nothing that names this upload.

        Example:
            >>> CreateIdentity("v2", "marengo3.0", 6.0, None, None).anonymous
            True
        """
        return self.input_url is None and self.input_filename is None

    def matches(self, task: EmbeddingTask) -> bool:
        """True when nothing in the task's listing contradicts this create.

        Example:
            >>> task = EmbeddingTask(id="t", model_name="m", status="ready", raw={
            ...     "video_embedding": {"metadata": {"input_filename": "a.mp4",
            ...                                      "video_clip_length": 6}}})
            >>> CreateIdentity("v1", "m", 6.0, None, "a.mp4").matches(task)
            True
        """
        meta = _video_metadata(task.raw)
        if task.model_name != self.model_name or meta is None:
            return False
        clip = meta.get("video_clip_length", meta.get("clip_length"))
        if isinstance(clip, (int, float)) and abs(float(clip) - self.clip_length_s) > 1e-6:
            return False
        if self.input_url is not None:
            return bool(meta.get("input_url") == self.input_url)
        if self.input_filename is not None:
            return bool(meta.get("input_filename") == self.input_filename)
        return meta.get("input_url") is None


def _video_metadata(raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    video = raw.get("video_embedding")
    meta = video.get("metadata") if isinstance(video, Mapping) else None
    return meta if isinstance(meta, Mapping) else None


@dataclass(frozen=True)
class Ticket:
    """One create attempt: its place in the sequence, and whether another was running.

    Example:
        >>> Ticket(seq=1, overlapped=False).overlapped
        False
    """

    seq: int
    overlapped: bool


class CreateLog:
    """The creates of one task resource: which overlapped, which task ids were returned.

    Thread-safe (one resource may be shared by threads); the async twin uses it the same way.

    Example:
        >>> log = CreateLog()
        >>> ticket = log.begin(); log.alone(ticket)
        True
        >>> log.end(); log.claim("t1"); "t1" in log.claimed()
        True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = 0
        self._running = 0
        self._claimed: OrderedDict[str, None] = OrderedDict()

    def begin(self) -> Ticket:
        """Record the start of an attempt."""
        with self._lock:
            self._started += 1
            self._running += 1
            return Ticket(self._started, overlapped=self._running > 1)

    def end(self) -> None:
        """Record the end of an attempt."""
        with self._lock:
            self._running -= 1

    def alone(self, ticket: Ticket) -> bool:
        """True when no other create ran at any time during this attempt."""
        with self._lock:
            return not ticket.overlapped and self._started == ticket.seq

    def claim(self, task_id: str) -> None:
        """Remember a task id returned by a create, so that no later create adopts it."""
        with self._lock:
            self._claimed[task_id] = None
            while len(self._claimed) > _CLAIMED_MAX:
                self._claimed.popitem(last=False)

    def claimed(self) -> frozenset[str]:
        """The task ids already returned by creates of this resource."""
        with self._lock:
            return frozenset(self._claimed)


def check_arrived(error: TwelveLabsError) -> None:
    """Re-raise ``error`` unless the failed POST may have been stored by the server.

    Example:
        >>> from tl_integrations.errors import ServerError
        >>> check_arrived(ServerError("502", status_code=502))
    """
    if not may_have_arrived(error):
        raise error


def _recent(task: EmbeddingTask, *, cutoff: float | None, anonymous: bool) -> bool:
    created = epoch_s(task.created_at)
    if cutoff is None or created is None:
        # Without a time, a named task may still be ours; an anonymous one cannot be told.
        return not anonymous
    return created >= cutoff


def pick(
    tasks: list[EmbeddingTask],
    ident: CreateIdentity,
    *,
    headers: httpx.Headers,
    elapsed_s: float,
    claimed: Container[str],
    alone: bool,
    error: TwelveLabsError,
) -> EmbeddingTask | None:
    """The listed task this create made, None when it made none (send again).

    Args:
        tasks: the newest tasks of the protocol, newest first.
        headers: the listing's response headers (its ``Date`` is the server's time).
        elapsed_s: seconds since the failed attempt began.
        claimed: ids already returned by creates of this resource.
        alone: no other create of this resource overlapped the attempt.
        error: the failed attempt's error, re-raised when the match is ambiguous.

    Example:
        >>> pick([], CreateIdentity("v2", "marengo3.0", 6.0, None, None),
        ...      headers=httpx.Headers(), elapsed_s=1.0, claimed=(), alone=True,
        ...      error=TwelveLabsError("x")) is None
        True
    """
    now = server_now(headers)
    margin = ANONYMOUS_MARGIN_S if ident.anonymous else CANDIDATE_MARGIN_S
    cutoff = None if now is None else now - elapsed_s - margin
    fresh = [
        task
        for task in tasks
        if task.id not in claimed
        and ident.matches(task)
        and _recent(task, cutoff=cutoff, anonymous=ident.anonymous)
    ]
    if fresh and (not ident.anonymous or (len(fresh) == 1 and alone)):
        found = fresh[0]
        logger.debug(
            "upload %s was stored despite %s: embedding task %s",
            ident.label,
            type(error).__name__,
            found.id,
        )
        return found
    if not fresh:
        return None
    logger.warning(
        "upload %s: %d recent embedding tasks could be its own; not sent again",
        ident.label,
        len(fresh),
    )
    raise error


def redo_delay(
    policy: RetryPolicy,
    attempt: int,
    error: TwelveLabsError,
    *,
    files: Mapping[str, Any] | None,
    label: str,
) -> float:
    """Seconds to wait before sending a create the server did not store; re-raise ``error``
    when the retry budget is spent or the video is a stream that cannot be read again.

    Example:
        >>> from tl_integrations.errors import ServerError
        >>> redo_delay(RetryPolicy(random=lambda: 0.0), 0, ServerError("x", status_code=503),
        ...            files=None, label="a.mp4")
        0.5
    """
    delay = redo_delay_s(policy, attempt, error)
    if delay is None or not can_resend(files):
        raise error
    logger.debug("upload %s not stored; sending again in %.2f s", label, delay)
    return delay
