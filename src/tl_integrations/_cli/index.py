"""``tl-integrations index`` and ``tl-integrations wait``.

``index`` runs the same ingest engine as the LangChain loader: every input is checked before
anything is sent (a folder means its video files, a glob its matches), each local file's
SHA-256 goes into its video's ``user_metadata`` (so a re-run skips what is indexed and waits
for what is still in progress), uploads run with bounded concurrency, and a status board
shows each input moving through uploading, validating ... ready, with the bytes sent.

Example:
    >>> from tl_integrations._cli import main
    >>> main(["index", "talks/", "--index", "talks"])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import shlex
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import (
    APIConnectionError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    TaskFailedError,
    TaskTimeoutError,
    TwelveLabsError,
)
from .backend import Settings, connect
from .output import PROG, Console, StatusBoard, format_duration
from .report import Report

if TYPE_CHECKING:
    from .._client import TwelveLabs
    from .._engine import Job
    from .._ingest import IngestFailure, VideoRecord, VideoSource

__all__ = ["run_index", "run_wait"]

# Errors that no other input would escape either: stop at once with one line.
FATAL_ERRORS = (AuthenticationError, PermissionDeniedError, APIConnectionError)
# Statuses that mean this run sent the input (rather than finding it indexed already).
_SENT = ("uploading",)
_STAGES = ("validating", "pending", "queued", "indexing")


def run_index(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Upload and index ``args.inputs`` into the index named ``args.index``; print ids.

    Returns:
        0 when every input is indexed, 1 when some failed or timed out (each named).
    """
    report = Report(
        columns=("input", "status", "video_id", "asset_id"),
        headers=("INPUT", "STATUS", "VIDEO", "ASSET"),
    )
    sources = _preflight(args.inputs, report, recursive=args.recursive)
    if report.failures:
        console.notice("Nothing was uploaded: fix the inputs named below and run again.")
        return report.emit(console)
    from .._ingest.inputs import display_source

    started = time.monotonic()
    with connect(settings, console) as backend:
        run = _ingest(backend.client, sources, args, console)
    order = {source.source: n for n, source in enumerate(sources)}
    order.update({display_source(source.source): n for n, source in enumerate(sources)})
    for record in sorted(run.records, key=lambda r: order.get(r.video.source, 0)):
        report.add(run.row(record))
    for failure in sorted(run.failures, key=lambda f: order.get(f.source, 0)):
        _report_failure(report, failure, args)
    code = report.emit(console)
    console.notice(_summary(report, time.monotonic() - started, args))
    return code


def _preflight(inputs: Sequence[str], report: Report, *, recursive: bool) -> list[VideoSource]:
    """Expand folders and globs, check every input (files exist, URLs are http(s))."""
    from .._ingest import resolve_inputs

    sources: dict[str, VideoSource] = {}
    for name in dict.fromkeys(inputs):
        try:
            found = resolve_inputs(name, recursive=recursive)
        except TwelveLabsError as exc:
            report.fail(name, exc)
            continue
        for source in found:
            if source.kind == "video":
                report.fail(name, "is a video id, already indexed; give a file or a URL")
            sources.setdefault(source.source, source)
    return list(sources.values())


@dataclass
class _Run:
    """What one ``index`` run did: its records and failures, and what it sent.

    Example:
        >>> run = _Run()
        >>> run("a.mp4", "uploading"); sorted(run.sent)
        ['a.mp4']
    """

    records: list[VideoRecord] = field(default_factory=list)
    failures: list[IngestFailure] = field(default_factory=list)
    sent: set[str] = field(default_factory=set)
    resumed: set[str] = field(default_factory=set)
    board: StatusBoard | None = None

    def __call__(self, source: str, status: str) -> None:
        """The ``on_status`` of the run: notes what was sent, shows the status."""
        if status in _SENT:
            self.sent.add(source)
        elif status in _STAGES and source not in self.sent:
            self.resumed.add(source)  # a job a previous run started: waited on, not re-sent
        if self.board is not None and status not in ("ready", "done", "failed"):
            self.board.update(source, status)  # the row ends with its record or failure

    def status_of(self, source: str) -> str:
        """``indexed`` (by this run, or resumed from an earlier one) or ``already indexed``."""
        return "indexed" if source in self.sent or source in self.resumed else "already indexed"

    def row(self, record: VideoRecord) -> dict[str, Any]:
        """The report row of one indexed input."""
        video = record.video
        status = self.status_of(video.source)
        return {
            "input": video.source,
            "status": status,
            "video_id": video.video_id,
            "index_id": video.index_id,
            "asset_id": video.asset_id,
            "task_id": video.task_id,
            "filename": video.filename,
            "duration_s": video.duration_s,
            "skipped": status == "already indexed",
        }


def _ingest(
    client: TwelveLabs, sources: list[VideoSource], args: argparse.Namespace, console: Console
) -> _Run:
    """Run the ingest engine with a status board."""
    from .._ingest import IngestOptions, VideoIngest
    from .._ingest.inputs import display_source

    labels = [source.source for source in sources]
    run = _Run(board=StatusBoard(labels, console=console))
    board = run.board
    assert board is not None
    options = IngestOptions(
        index_name=args.index,
        content=("transcript",),  # the cheapest read: no analysis is paid for
        max_concurrency=args.concurrency,
        timeout_s=args.timeout,
        on_error="skip",
        on_status=run,
        on_progress=board.sent,
    )
    try:
        for record in VideoIngest(client, options).run(labels, failures=run.failures):
            source = record.video.source
            detail = f"video {record.video.video_id}"
            if run.status_of(source) == "already indexed":
                detail = "already indexed"
            board.update(source, "ready", detail=detail)
            run.records.append(record)
        # A failure names a URL without its query (a signature is a credential): its row
        # on the board is found by that name too.
        rows = {display_source(label): label for label in labels}
        for failure in run.failures:
            timed_out = isinstance(failure.exception, TaskTimeoutError)
            label = rows.get(failure.source, failure.source)
            board.update(label, "timed out" if timed_out else "failed")
    finally:
        board.close()
    return run


def _report_failure(report: Report, failure: IngestFailure, args: argparse.Namespace) -> None:
    exc = failure.exception
    if isinstance(exc, TaskFailedError):
        report.fail(failure.source, exc, fields=_job_ids(exc.task_id, exc.noun))
        return
    if not isinstance(exc, TaskTimeoutError):
        report.fail(failure.source, exc if isinstance(exc, TwelveLabsError) else failure.reason)
        return
    ids = _job_ids(exc.task_id, exc.noun)
    resume = _wait_command(exc.task_id, exc.noun, args.index) or _rerun_command(args)
    after = f" after {format_duration(exc.timeout_s)}" if exc.timeout_s is not None else ""
    status = f" (still {exc.last_status})" if exc.last_status else ""
    reason = f"{exc.noun} {exc.task_id} not finished{after}{status}; resume with: {resume}"
    report.fail(failure.source, reason, status="timed out", fields={"resume": resume, **ids})


_ID_KEYS = {"indexed asset": "indexed_asset_id", "asset": "asset_id", "task": "task_id"}


def _job_ids(job_id: str, noun: str) -> dict[str, str | None]:
    return {_ID_KEYS.get(noun, "job_id"): job_id}


def _wait_command(job_id: str, noun: str, index: str | None) -> str | None:
    """The ``wait`` that resumes a job, None for a job ``wait`` does not take (an asset)."""
    if noun == "indexed asset" and index:
        return f"{PROG} wait --index {shlex.quote(index)} {job_id}"
    if noun == "task":
        return f"{PROG} wait {job_id}"
    return None


def _rerun_command(args: argparse.Namespace) -> str:
    """The same ``index`` command: it finds what was sent by content and goes on from there."""
    recursive = ["--recursive"] if args.recursive else []
    return shlex.join([PROG, "index", *args.inputs, "--index", args.index, *recursive])


def _summary(report: Report, elapsed_s: float, args: argparse.Namespace) -> str:
    """One closing line: how many ended how, and how to resume what timed out."""
    counts: dict[str, int] = {}
    for row in report.rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    for entry in report.failures:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    parts = [f"{n} {status}" for status, n in counts.items()] or ["nothing to do"]
    line = f"{', '.join(parts)} in {format_duration(elapsed_s)}."
    if counts.get("timed out"):
        line += (
            " Timed-out videos keep indexing on the server; run the same command again to "
            f"resume (nothing is uploaded twice): {_rerun_command(args)}"
        )
    return line


# ----------------------------------------------------------------------------------- wait


def run_wait(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Wait for indexing jobs ``args.ids``; print each one's outcome.

    Without ``--index`` the ids are indexing tasks (``/tasks``); with it, they are indexed
    assets (videos) of that index, as ``index`` makes them.

    Returns:
        0 when every job is ready, 1 when some are unknown, failed or still running.
    """
    report = Report(
        columns=("id", "status", "video_id", "filename"),
        headers=("ID", "STATUS", "VIDEO", "FILE"),
    )
    with connect(settings, console) as backend:
        client = backend.client
        index_id = _index_id(client, args.index, report) if args.index else None
        if args.index and index_id is None:
            return report.emit(console)
        known = _known_jobs(client, dict.fromkeys(args.ids), index_id, report)
        if known:
            board = StatusBoard(list(known), console=console)
            try:
                _wait_jobs(client, known, index_id, args.index, report, board, args.timeout)
            finally:
                board.close()
    return report.emit(console)


def _index_id(client: TwelveLabs, name: str, report: Report) -> str | None:
    from .manage import find_index

    index = find_index(client, name)
    if index is None:
        report.fail(name, f"no index named {name!r}; list them with: {PROG} list indexes")
    return None if index is None else index.id


def _known_jobs(
    client: TwelveLabs, ids: Iterable[str], index_id: str | None, report: Report
) -> dict[str, Job]:
    known: dict[str, Job] = {}
    noun = "indexing task" if index_id is None else "video in that index"
    for job_id in ids:
        try:
            if index_id is None:
                known[job_id] = client.tasks.retrieve(job_id)
            else:
                known[job_id] = client.indexes.indexed_assets.retrieve(index_id, job_id)
        except NotFoundError as exc:
            report.fail(job_id, f"no such {noun}" + _hint(index_id), fields={"code": exc.code})
        except FATAL_ERRORS:
            raise
        except TwelveLabsError as exc:
            report.fail(job_id, exc)
    return known


def _hint(index_id: str | None) -> str:
    if index_id is None:
        return " (for a video made by `index`, add --index NAME)"
    return ""


def _wait_jobs(
    client: TwelveLabs,
    known: dict[str, Job],
    index_id: str | None,
    index: str | None,
    report: Report,
    board: StatusBoard,
    timeout_s: float | None,
) -> None:
    pending = dict(known)

    def on_update(job: Job) -> None:
        board.update(job.id, job.status)

    refs: list[Any] = list(pending.values())  # tasks, or indexed assets (with --index)
    jobs: Iterable[Job]
    if index_id is None:
        jobs = client.tasks.wait_many(refs, timeout_s=timeout_s, on_update=on_update)
    else:
        jobs = client.indexes.indexed_assets.wait_many(
            refs, timeout_s=timeout_s, on_update=on_update
        )
    try:
        for job in jobs:
            pending.pop(job.id, None)
            board.update(job.id, job.status)
            if job.status == "ready":
                report.add(_job_row(job))
            else:
                reason = job.failure_reason or "the server gave no reason"
                report.fail(job.id, f"{job.kind.noun} failed: {reason}")
    except TaskTimeoutError as exc:
        for job_id, job in pending.items():
            board.update(job_id, "timed out")
            resume = _wait_command(job_id, job.kind.noun, index) or f"{PROG} wait {job_id}"
            after = f" after {format_duration(exc.timeout_s)}" if exc.timeout_s else ""
            reason = f"{job.kind.noun} {job_id} not finished{after}; resume with: {resume}"
            ids = _job_ids(job_id, job.kind.noun)
            report.fail(job_id, reason, status="timed out", fields={"resume": resume, **ids})


def _job_row(job: Any) -> dict[str, Any]:
    metadata = getattr(job, "system_metadata", None)
    return {
        "id": job.id,
        "status": job.status,
        "video_id": getattr(job, "video_id", None) or job.id,
        "index_id": getattr(job, "index_id", None),
        "filename": getattr(metadata, "filename", None) or getattr(job, "filename", None),
    }
