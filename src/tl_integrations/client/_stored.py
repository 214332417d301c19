"""Finding an upload the server may have stored although its answer was lost (pure).

A video is listed (and so found by its upload token) only once it is ready. Until then a
stored upload is one of the running tasks with its file name, created by the server after
the upload began; once failed it is never listed at all. These helpers pick the candidates
and decide which failed one, if any, is the upload's own; ``client.tasks.create`` does the
requests.

Example:
    >>> failed_own([Task("b", "failed"), Task("a", "ready")], [])
    'b'
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from .._responses import server_now
from ..models import Task

__all__ = [
    "CANDIDATES",
    "CANDIDATE_MARGIN_S",
    "CANDIDATE_WAIT_S",
    "created_since",
    "epoch_s",
    "failed_own",
    "server_now",
]

# At most this many candidates are waited for, for at most this long, before the upload is
# sent again (or, past the wait, not at all: sending again could pay twice).
CANDIDATES = 5
CANDIDATE_WAIT_S = 900.0
# Slack when comparing a candidate's created_at with the server's Date (1 s resolution,
# possibly from another machine than the one that stamped created_at).
CANDIDATE_MARGIN_S = 60.0


def created_since(tasks: list[Task], *, server_now: float | None, elapsed_s: float) -> list[Task]:
    """The tasks the server created at most ``elapsed_s`` (plus a margin) before
    ``server_now``: only those can be an upload that started ``elapsed_s`` ago. Without the
    server's time (no ``Date`` header) or a readable ``created_at``, a task is kept.

    Example:
        >>> old, new = Task("a", "failed", created_at="2024-01-01T00:00:00Z"), Task(
        ...     "b", "failed", created_at="2024-01-01T01:00:00.5Z")
        >>> [t.id for t in created_since([new, old], server_now=1704070810.0, elapsed_s=5.0)]
        ['b']
    """
    if server_now is None:
        return tasks
    cutoff = server_now - elapsed_s - CANDIDATE_MARGIN_S
    kept = []
    for task in tasks:
        created = epoch_s(task.created_at)
        if created is None or created >= cutoff:
            kept.append(task)
    return kept


def epoch_s(timestamp: str | None) -> float | None:
    """An RFC 3339 timestamp as epoch seconds, or None when absent or unreadable.

    Example:
        >>> epoch_s("2024-01-01T00:00:00.250Z"), epoch_s("soon")
        (1704067200.25, None)
    """
    if not timestamp:
        return None
    try:
        parsed = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def failed_own(candidates: list[Task], finished: Iterable[Task]) -> str | None:
    """The id of the upload's own task when it failed, else None.

    A failed video is never listed, so its token cannot be checked. A stored upload is the
    newest task with its file name, so the newest candidate (newest first in
    ``candidates``) is taken to be it when it ended failed, as last seen in ``finished``.

    Example:
        >>> newest, older = Task("b", "failed"), Task("a", "failed")
        >>> failed_own([newest, older], []), failed_own([Task("c", "ready"), older], [])
        ('b', None)
    """
    if not candidates:
        return None
    latest = {task.id: task for task in finished}
    newest = latest.get(candidates[0].id, candidates[0])
    return newest.id if newest.failed else None
