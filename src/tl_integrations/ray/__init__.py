"""TwelveLabs on Ray Data: index, read and embed video libraries across a cluster.

Needs the ``ray`` extra (``pip install 'tl-integrations[ray]'``). A pipeline is ordinary
Ray Data: rows of media sources in, ``map_batches`` with the callables here, rows of
indexed videos, text documents or segment vectors out, written with Ray's own writers.
What the workers share is opened once on the driver, as a :class:`ClusterIndex`:

- one request budget for the whole cluster (:class:`SharedBudget`, a Ray actor fed by
  the API's rate-limit headers): twenty workers stay under the account's limits, and a
  429 slows every one of them;
- one desk per index (an actor): content claims, so no file is uploaded twice, whichever
  worker holds it; and one shared, batched wait for every indexing job, which can listen
  to webhooks (:class:`Webhooks`: the desk hosts the receiver) and poll only as a safety
  net.

Videos go in through assets and indexed assets (each file's bytes sent once per account),
or with ``upload="tasks"`` through the older ``POST /tasks``.

Example:
    >>> import ray
    >>> from tl_integrations.ray import ClusterIndex, IndexVideos, VideoDocuments
    >>> index = ClusterIndex.open(index_name="talks")  # doctest: +SKIP
    >>> ds = ray.data.from_items([{"source": "s3://bucket/talk.mp4"}])  # doctest: +SKIP
    >>> docs = (ds.map_batches(IndexVideos, fn_constructor_args=(index,), compute=worker_pool(4))
    ...           .map_batches(VideoDocuments, fn_constructor_args=(index,),
    ...                        compute=worker_pool(2)))  # doctest: +SKIP
    >>> docs.write_parquet("s3://bucket/docs")  # doctest: +SKIP
    >>> index.counts()  # doctest: +SKIP
    {'uploaded': 1, 'indexed': 1, 'skipped': 0, 'failed': 0}

Or all of it in one call: :func:`ingest_videos`.
"""

from __future__ import annotations

try:
    import ray as _ray  # noqa: F401
    import ray.data as _ray_data  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "tl_integrations.ray needs Ray Data: pip install 'tl-integrations[ray]'"
    ) from exc

from ._budget import AsyncSharedBudget, SharedBudget
from ._cluster import ClusterIndex, Connection
from ._desk import RowReport
from ._documents import DOCUMENT_COLUMNS, VideoDocuments
from ._index import INDEXED_COLUMNS, IndexVideos
from ._pipeline import IngestResult, done_sources, ingest_videos
from ._pool import worker_pool
from ._segments import SEGMENT_COLUMNS, SegmentVectors
from ._webhooks import Webhooks

__all__ = [
    "DOCUMENT_COLUMNS",
    "INDEXED_COLUMNS",
    "SEGMENT_COLUMNS",
    "AsyncSharedBudget",
    "ClusterIndex",
    "Connection",
    "IndexVideos",
    "IngestResult",
    "RowReport",
    "SegmentVectors",
    "SharedBudget",
    "VideoDocuments",
    "Webhooks",
    "done_sources",
    "ingest_videos",
    "worker_pool",
]
