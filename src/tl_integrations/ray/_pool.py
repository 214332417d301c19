"""The actor pool the callables want: a few workers, each with several batches in flight.

Each worker (an :class:`IndexVideos`, :class:`VideoDocuments` or :class:`SegmentVectors`
instance) is a :class:`PoolWorker`: one client and a thread pool for the batch's rows.

A worker of :class:`~tl_integrations.ray.IndexVideos` spends most of a batch waiting for
the index (on the desk, without polling); meanwhile it can prepare and upload the next
batches. Ray Data runs one batch per actor at a time unless told otherwise; from Ray 2.5x
``ActorPoolStrategy`` takes ``max_concurrent_calls_per_actor`` with
``enable_true_multi_threading``, which is what :func:`worker_pool` sets when the installed
Ray has them (on an older Ray each worker holds one batch at a time: add workers instead).

Example:
    >>> pool = worker_pool(4, batches_per_worker=3)  # doctest: +SKIP
    >>> ds.map_batches(IndexVideos, fn_constructor_args=(index,), compute=pool)  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .._errors import check_int
from ._budget import _member

if TYPE_CHECKING:
    from ._cluster import ClusterIndex

__all__ = ["PoolWorker", "worker_pool"]


def worker_pool(workers: int, *, batches_per_worker: int = 4) -> Any:
    """An ``ActorPoolStrategy`` of ``workers`` actors, each working on several batches.

    Args:
        workers: actors in the pool (each holds one client).
        batches_per_worker: batches one actor works on at once (its threads share the
            actor's client and its ``max_concurrency`` request slots).

    Raises:
        InvalidRequestError: a count below 1.

    Example:
        >>> worker_pool(2, batches_per_worker=1).min_size  # doctest: +SKIP
        2
    """
    from ray.data import ActorPoolStrategy

    check_int("workers", workers)
    check_int("batches_per_worker", batches_per_worker)
    options: dict[str, Any] = {"size": workers}
    accepted = inspect.signature(ActorPoolStrategy.__init__).parameters
    if batches_per_worker > 1 and "max_concurrent_calls_per_actor" in accepted:
        options.update(
            max_tasks_in_flight_per_actor=batches_per_worker,
            max_concurrent_calls_per_actor=batches_per_worker,
            enable_true_multi_threading=True,
        )
    return ActorPoolStrategy(**options)


class PoolWorker:
    """What one worker of the pool holds: its index, one client, and threads for its rows.

    The Ray Data callables all start this way; the client and the threads are released when
    Ray lets the worker go (no ``close`` is ever called on a callable).

    Args:
        index: the cluster index the worker works for (its client has the shared budget).
        max_concurrency: rows worked on at once, on the worker's threads.
        threads: the threads' name prefix (``tl-index``...), to tell them apart in a dump.

    Raises:
        InvalidRequestError: ``max_concurrency`` is not an int >= 1.

    Example:
        >>> class Count(PoolWorker):
        ...     def __call__(self, batch: list[int]) -> int:
        ...         return sum(self._pool.map(abs, batch))
        >>> Count(index, 4, threads="tl-count")([1, -2])  # doctest: +SKIP
        3
    """

    def __init__(self, index: ClusterIndex, max_concurrency: int, *, threads: str) -> None:
        check_int("max_concurrency", max_concurrency)
        self._index = index
        self._client = index.client()
        self._pool = ThreadPoolExecutor(max_concurrency, thread_name_prefix=threads)
        self._member = _member()  # who this worker is, to the desk and the shared budget

    def __del__(self) -> None:
        # getattr: a constructor that refused its arguments left these unset.
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False)
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
