"""``ingest_videos``: the usual pipeline, wired from the callables, with resuming and a tally.

``sources -> IndexVideos -> VideoDocuments | SegmentVectors -> Parquet (or a dataset)``.
Written to a path, the run streams its rows to Parquet as they are made; started again with
the same path, it first reads which sources are already there and does only the others
(and those indexed, but not yet written, are found in the index by their content hash, so
nothing is uploaded or indexed twice). Failures are rows with a reason; with
``on_error="raise"`` the run still finishes every other input, then raises one
:class:`~tl_integrations.IngestError` naming the failed ones.

Example:
    >>> ds = ray.data.from_items([{"source": p} for p in paths])  # doctest: +SKIP
    >>> result = ingest_videos(ds, index_name="talks", output="segments",
    ...                        path="s3://bucket/vectors")  # doctest: +SKIP
    >>> result.counts  # doctest: +SKIP
    {'uploaded': 996, 'indexed': 1000, 'skipped': 0, 'failed': 0, 'done_before': 0}
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .._errors import InvalidRequestError, check_int
from .._ingest import IngestError, IngestFailure
from .._ingest.content import ContentKind
from .._polling import PollPolicy
from ._budget import DEFAULT_WINDOW_S
from ._cluster import ClusterIndex
from ._documents import VideoDocuments
from ._index import IndexVideos, UploadPath, check_upload
from ._pool import worker_pool
from ._segments import SegmentVectors
from ._webhooks import Webhooks

__all__ = ["IngestResult", "Output", "done_sources", "ingest_videos"]

logger = logging.getLogger("tl_integrations.ray")

Output = Literal["videos", "documents", "segments"]
"""What the pipeline makes: one row per video, text documents, or segment vectors."""
_DONE = frozenset({"ok", "indexed", "skipped"})


@dataclass(frozen=True)
class IngestResult:
    """What a run of :func:`ingest_videos` made and what it cost.

    Attributes:
        dataset: the output rows (materialized), or None when they were written to ``path``
            (read them with ``ray.data.read_parquet(path)``).
        path: where the rows were written, if anywhere.
        index_id: the index.
        counts: inputs ``uploaded``, ``indexed`` (now or before), ``skipped`` (same content
            as another input), ``failed``, and ``done_before`` (found in ``path``, not
            touched).
        failures: every failed input with its reason.
        waiting: what the shared wait cost: jobs ``waited`` for, polling ``rounds``,
            ``wait_requests`` by route, and the ``webhooks`` the desk heard (None without).
        budget: the shared budget's statistics (per category: limit, 429s, queueing).

    Example:
        >>> IngestResult(None, "out/", "i1", {"failed": 0}).ok
        True
    """

    dataset: Any
    path: str | None
    index_id: str
    counts: dict[str, int]
    failures: tuple[IngestFailure, ...] = ()
    waiting: dict[str, Any] = field(default_factory=dict)
    budget: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when no input failed."""
        return not self.failures


def done_sources(path: str, *, source_column: str = "source") -> set[str]:
    """The sources an earlier run wrote to ``path`` without failing (empty if no such path).

    Files that cannot be read (a file cut short when a run was killed) are skipped with a
    warning; their sources count as not done.

    Example:
        >>> done_sources("/no/such/dir")
        set()
    """
    import pyarrow.parquet as pq
    from pyarrow import fs

    try:
        filesystem, root = fs.FileSystem.from_uri(path)
    except (ValueError, TypeError):
        filesystem, root = fs.LocalFileSystem(), path
    info = filesystem.get_file_info(root)
    if info.type == fs.FileType.NotFound:
        return set()
    selector = fs.FileSelector(root, recursive=True)
    done: set[str] = set()
    failed: set[str] = set()
    for item in filesystem.get_file_info(selector):
        if item.type != fs.FileType.File or not item.path.endswith(".parquet"):
            continue
        try:
            table = pq.read_table(
                item.path, filesystem=filesystem, columns=[source_column, "status"]
            )
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("skipping %s, which cannot be read (%s); delete it", item.path, exc)
            continue
        for source, status in zip(
            table.column(source_column).to_pylist(), table.column("status").to_pylist(), strict=True
        ):
            (done if status in _DONE else failed).add(str(source))
    return done - failed


class _NotDone:
    """A ``map_batches`` callable (Arrow batches): drops the rows whose source is done."""

    def __init__(self, done: set[str], column: str) -> None:
        self._done = sorted(done)
        self._column = column

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        sources = pc.cast(batch.column(self._column), pa.string())
        return batch.filter(pc.invert(pc.is_in(sources, value_set=pa.array(self._done))))


def ingest_videos(
    ds: Any,
    *,
    index_name: str | None = None,
    index_id: str | None = None,
    index: ClusterIndex | None = None,
    output: Output = "documents",
    path: str | None = None,
    source_column: str = "source",
    content: Iterable[ContentKind] = ("transcript", "summary"),
    chunk_s: float = 30.0,
    embedding_options: Iterable[str] | None = None,
    workers: int = 2,
    batch_size: int = 8,
    batches_per_worker: int = 4,
    max_concurrency: int = 8,
    num_cpus: float = 0.5,
    timeout_s: float | None = None,
    on_error: Literal["raise", "skip"] = "raise",
    upload: UploadPath = "assets",
    api_key: str | None = None,
    base_url: str | None = None,
    limits: Mapping[str, int] | None = None,
    window_s: float = DEFAULT_WINDOW_S,
    poll_policy: PollPolicy | None = None,
    webhooks: Webhooks | None = None,
) -> IngestResult:
    """Index every video of ``ds`` once and make its documents or segment vectors.

    Args:
        ds: a Ray dataset with a column of sources (paths, URLs, ``s3://``-style URIs or
            ``video:<id>``).
        index_name / index_id / index: the index (by name, got or created; by id; or a
            :class:`ClusterIndex` you opened, which is left open, and whose counts restart).
        output: ``"videos"`` (one row per input), ``"documents"`` or ``"segments"``.
        path: write the rows to this Parquet directory as they are made, and resume from
            what an earlier run wrote there; None keeps them in the returned dataset.
        source_column: the column of sources.
        content / chunk_s: what documents to make (see :class:`VideoDocuments`).
        embedding_options: segment options to read (see :class:`SegmentVectors`).
        workers: actors per stage (each holds one client).
        batch_size: rows per batch; a batch's videos are waited for together.
        batches_per_worker: batches one worker holds at once (see :func:`worker_pool`):
            it prepares the next while the last waits for the index.
        max_concurrency: rows worked on at once (hashed, looked up, uploaded, read), per
            worker, whichever batch they belong to.
        num_cpus: CPUs reserved per worker (they mostly wait on the network).
        timeout_s: how long a batch waits for its indexing tasks.
        on_error: ``"raise"``: after every input is done, raise one ``IngestError`` if any
            failed; ``"skip"``: report them in the result only.
        upload: ``"assets"`` (assets, uploaded once per account, then indexed assets) or
            ``"tasks"`` (the older ``POST /tasks``); see :class:`IndexVideos`.
        api_key / base_url / limits / window_s / poll_policy / webhooks: for the
            :class:`ClusterIndex` opened here (``webhooks``: the desk's wait listens to
            webhooks; see :class:`Webhooks`).

    Returns:
        An :class:`IngestResult` (counts, failures, what waiting and the budget saw).

    Raises:
        IngestError: with ``on_error="raise"``, at the end, if any input failed.
        InvalidRequestError: bad arguments, before anything runs.

    Example:
        >>> result = ingest_videos(ray.data.from_items([{"source": "talk.mp4"}]),
        ...                        index_name="talks", on_error="skip")  # doctest: +SKIP
        >>> result.dataset.take(1)[0]["text"]  # doctest: +SKIP
        'Welcome to the kitchen today we bake sourdough bread'
    """
    if output not in ("videos", "documents", "segments"):
        raise InvalidRequestError(f"output must be videos, documents or segments, got {output!r}")
    if on_error not in ("raise", "skip"):
        raise InvalidRequestError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    check_upload(upload)
    check_int("workers", workers)
    opened = index is None
    if index is None:
        index = ClusterIndex.open(
            index_id=index_id,
            index_name=index_name,
            api_key=api_key,
            base_url=base_url,
            limits=limits,
            window_s=window_s,
            poll_policy=poll_policy,
            webhooks=webhooks,
        )
    try:
        return _run(
            ds,
            index,
            output=output,
            path=path,
            source_column=source_column,
            stage_options=_stage_options(output, content, chunk_s, embedding_options),
            workers=workers,
            batch_size=batch_size,
            batches_per_worker=batches_per_worker,
            max_concurrency=max_concurrency,
            num_cpus=num_cpus,
            timeout_s=timeout_s,
            on_error=on_error,
            upload=upload,
        )
    finally:
        if opened:
            index.close()


def _stage_options(
    output: Output,
    content: Iterable[ContentKind],
    chunk_s: float,
    embedding_options: Iterable[str] | None,
) -> dict[str, Any]:
    if output == "documents":
        return {"content": tuple(content), "chunk_s": chunk_s}
    if output == "segments":
        return {"options": None if embedding_options is None else tuple(embedding_options)}
    return {}


def _run(
    ds: Any,
    index: ClusterIndex,
    *,
    output: Output,
    path: str | None,
    source_column: str,
    stage_options: dict[str, Any],
    workers: int,
    batch_size: int,
    batches_per_worker: int,
    max_concurrency: int,
    num_cpus: float,
    timeout_s: float | None,
    on_error: Literal["raise", "skip"],
    upload: UploadPath,
) -> IngestResult:
    index.reset_counts()  # this run's counts, also on an index that ran pipelines before
    done = done_sources(path, source_column=source_column) if path is not None else set()
    if done:
        logger.info("%d source(s) already done in %s: not touched", len(done), path)
        # No CPU of its own: the stages' actors may hold every CPU of a small cluster.
        ds = ds.map_batches(_NotDone(done, source_column), batch_format="pyarrow", num_cpus=0)
    stage = {
        "batch_size": batch_size,
        "compute": worker_pool(workers, batches_per_worker=batches_per_worker),
        "num_cpus": num_cpus,
    }
    rows = ds.map_batches(
        IndexVideos,
        fn_constructor_args=(index,),
        fn_constructor_kwargs={
            "source_column": source_column,
            "max_concurrency": max_concurrency,
            "timeout_s": timeout_s,
            "upload": upload,
        },
        **stage,
    )
    reader = {"documents": VideoDocuments, "segments": SegmentVectors}.get(output)
    if reader is not None:
        rows = rows.map_batches(
            reader,
            fn_constructor_args=(index,),
            fn_constructor_kwargs={**stage_options, "max_concurrency": max_concurrency},
            **stage,
        )
    if path is not None:
        rows.write_parquet(path)
        dataset = None
    else:
        dataset = rows.materialize()
    summary = index.summary()
    failures = tuple(
        IngestFailure(source, reason, RuntimeError(reason))
        for source, reason in summary["failures"]
    )
    counts = {**summary["counts"], "done_before": len(done)}
    budget = index.budget.stats() if index.budget is not None else None
    result = IngestResult(
        dataset=dataset,
        path=path,
        index_id=index.index_id,
        counts=counts,
        failures=failures,
        waiting={key: summary[key] for key in ("waited", "rounds", "wait_requests", "webhooks")},
        budget=budget,
    )
    logger.info("ingest into index %s: %s", index.index_id, counts)
    if on_error == "raise" and failures:
        raise IngestError(list(failures))
    return result
