"""``tl-integrations index`` and ``tl-integrations wait``.

``index`` runs the same ingest engine as the LangChain loader: every input is checked before
anything is sent, each local file's SHA-256 goes into its video's ``user_metadata`` (so a
re-run skips what is indexed and waits for what is still in progress), uploads run with
bounded concurrency, and ``wait_many`` waits for all tasks while a status board shows each
one moving through validating ... ready.

Example:
    >>> from tl_integrations._cli import main
    >>> main(["index", "talk.mp4", "--index", "talks"])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .._errors import (
    APIConnectionError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    TaskTimeoutError,
    TwelveLabsError,
)
from .backend import Settings, connect
from .output import Console, StatusBoard
from .report import Report

if TYPE_CHECKING:
    from .._client import TwelveLabs
    from .._ingest import IngestFailure, VideoRecord
    from .._resources.tasks import Task

__all__ = ["run_index", "run_wait"]

# Errors that no other input would escape either: stop at once with one line.
FATAL_ERRORS = (AuthenticationError, PermissionDeniedError, APIConnectionError)


def run_index(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Upload and index ``args.inputs`` into the index named ``args.index``; print ids.

    Returns:
        0 when every input is indexed, 1 when some failed (each named on stderr).
    """
    report = Report(
        columns=("input", "status", "video_id", "task_id"),
        headers=("INPUT", "STATUS", "VIDEO", "TASK"),
    )
    inputs = list(dict.fromkeys(args.inputs))
    if not _preflight(inputs, report):
        console.notice("Nothing was uploaded: fix the inputs named below and run again.")
        return report.emit(console)
    with connect(settings, console) as backend:
        records, failures, created = _ingest(backend.client, inputs, args, console)
    for record in sorted(records, key=lambda r: inputs.index(r.video.source)):
        report.add(_record_row(record, created))
    for failure in failures:
        report.fail(failure.source, _failure_reason(failure))
    return report.emit(console)


def _preflight(inputs: Sequence[str], report: Report) -> bool:
    """Check every input (files exist, URLs are http(s)); nothing is sent."""
    from .._ingest import resolve_inputs

    for name in inputs:
        try:
            (source,) = resolve_inputs(name)
        except TwelveLabsError as exc:
            report.fail(name, str(exc))
            continue
        if source.kind == "video":
            report.fail(name, "is a video id, already indexed; give a file or a URL")
    return not report.failures


def _ingest(
    client: TwelveLabs, inputs: list[str], args: argparse.Namespace, console: Console
) -> tuple[list[VideoRecord], list[IngestFailure], set[str]]:
    """Run the ingest engine with a status board; return records, failures, created tasks."""
    from .._ingest import IngestOptions, VideoIngest

    board = StatusBoard(inputs, console=console)
    watch = _Watch(board)
    options = IngestOptions(
        index_name=args.index,
        content=("transcript",),  # the cheapest read: one GET per video, no analyze
        max_concurrency=args.concurrency,
        timeout_s=args.timeout,
        on_error="skip",
        on_status=watch,
        # This command reports indexing tasks and resumes them (`tl-integrations wait <id>`):
        # it keeps the one-step /tasks path that makes them.
        upload="tasks",
    )
    records: list[VideoRecord] = []
    failures: list[IngestFailure] = []
    created: set[str] = set()
    for record in VideoIngest(client, options).run(inputs, failures=failures):
        video = record.video
        if video.source in watch.uploaded and video.task_id is not None:
            created.add(video.task_id)  # also marks an equal file's record, which comes next
        reused = video.task_id not in created
        detail = "already indexed" if reused else f"video {video.video_id}"
        board.update(video.source, "ready", detail=detail)
        records.append(record)
    board.close()
    return records, failures, created


class _Watch:
    """The ``on_status`` of ``index``: shows statuses on the board, notes what was uploaded.

    Example:
        >>> import io
        >>> board = StatusBoard(["a.mp4"], console=Console(stderr=io.StringIO()), live=False)
        >>> watch = _Watch(board)
        >>> watch("a.mp4", "uploading"); watch("a.mp4", "ready")
        >>> watch.uploaded
        {'a.mp4'}
    """

    def __init__(self, board: StatusBoard) -> None:
        self.board = board
        self.uploaded: set[str] = set()

    def __call__(self, source: str, status: str) -> None:
        if status == "uploading":
            self.uploaded.add(source)
        if status not in ("ready", "done"):  # the row ends with the record, and its video id
            self.board.update(source, status)


def _record_row(record: VideoRecord, created: set[str]) -> dict[str, Any]:
    video = record.video
    reused = video.task_id not in created
    return {
        "input": video.source,
        "status": "already indexed" if reused else "indexed",
        "video_id": video.video_id,
        "task_id": video.task_id,
        "index_id": video.index_id,
        "filename": video.filename,
        "duration_s": video.duration_s,
        "skipped": reused,
    }


def _failure_reason(failure: IngestFailure) -> str:
    exc = failure.exception
    if isinstance(exc, TaskTimeoutError):
        return _timeout_reason(exc.task_id, exc)
    return failure.reason


def _reason_of(task: Task) -> str:
    reason = task.failure_reason
    return f": {reason}" if reason else ": the server gave no reason"


def _timeout_reason(task_id: str, exc: TaskTimeoutError) -> str:
    after = f" after {exc.timeout_s:g} s" if exc.timeout_s is not None else ""
    return f"task {task_id} not finished{after}; resume with: tl-integrations wait {task_id}"


# ----------------------------------------------------------------------------------- wait


def run_wait(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Wait for the indexing tasks ``args.task_ids``; print each one's outcome.

    Returns:
        0 when every task is ready, 1 when some are unknown, failed or still running.
    """
    report = Report(
        columns=("task_id", "status", "video_id", "filename"),
        headers=("TASK", "STATUS", "VIDEO", "FILE"),
    )
    with connect(settings, console) as backend:
        client = backend.client
        known = _known_tasks(client, dict.fromkeys(args.task_ids), report)
        if known:
            board = StatusBoard(list(known), console=console)
            _wait_tasks(client, known, report, board, timeout_s=args.timeout)
            board.close()
    return report.emit(console)


def _known_tasks(client: TwelveLabs, task_ids: Iterable[str], report: Report) -> dict[str, Task]:
    known: dict[str, Task] = {}
    for task_id in task_ids:
        try:
            known[task_id] = client.tasks.retrieve(task_id)
        except NotFoundError:
            report.fail(task_id, "no such indexing task")
        except FATAL_ERRORS:
            raise
        except TwelveLabsError as exc:
            report.fail(task_id, str(exc))
    return known


def _wait_tasks(
    client: TwelveLabs,
    known: dict[str, Task],
    report: Report,
    board: StatusBoard,
    *,
    timeout_s: float | None,
) -> None:
    pending = dict(known)

    def on_update(task: Task) -> None:
        board.update(task.id, task.status)

    try:
        tasks = list(pending.values())
        for task in client.tasks.wait_many(tasks, timeout_s=timeout_s, on_update=on_update):
            pending.pop(task.id, None)
            board.update(task.id, task.status)
            if task.status == "ready":
                report.add(_task_row(task))
            else:
                report.fail(task.id, "indexing task failed" + _reason_of(task))
    except TaskTimeoutError as exc:
        for task_id in pending:
            report.fail(task_id, _timeout_reason(task_id, exc))


def _task_row(task: Task) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "status": task.status,
        "video_id": task.video_id,
        "index_id": task.index_id,
        "filename": task.system_metadata.filename,
    }
