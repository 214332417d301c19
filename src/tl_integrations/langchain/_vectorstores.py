"""Put a :class:`~tl_integrations.MediaEmbedding`'s precomputed vectors in a vector store.

Vector stores normally embed the text they are given; video segments (and sound clips,
pages, chunks) already have vectors, so :func:`add_video_embedding` writes them as they
are, each store by its documented way to take precomputed vectors: ``InMemoryVectorStore``
(its records), a Qdrant collection (``langchain_qdrant.QdrantVectorStore``, points upserted
with the Qdrant client; embedded, no server needed, with :func:`qdrant_vector_store`), a
Chroma collection (``langchain_chroma.Chroma``, the collection's ``upsert``), or any store
with an ``add_embeddings`` method (FAISS, PGVector...). Given the video's transcript, each
segment's text is what was said in it, so the store holds content, not only times. A text
query embedded by :class:`~tl_integrations.langchain.TwelveLabsEmbeddings` then finds
segments with ``store.similarity_search_by_vector(embeddings.embed_query("..."))``.

Vectors of different spaces (Marengo 3.5 and 3.0, or two Matryoshka sizes) cannot be
compared, so a store never gets both by accident: the store's query embeddings and the
vectors already in it must be of the same space as the ones added.

Example:
    >>> from langchain_core.vectorstores import InMemoryVectorStore
    >>> emb = TwelveLabsEmbeddings()  # doctest: +SKIP
    >>> ve = emb.embed_video("talk.mp4")  # doctest: +SKIP
    >>> store = InMemoryVectorStore(emb)  # doctest: +SKIP
    >>> video = client.videos.retrieve(index_id, video_id, transcription=True)  # doctest: +SKIP
    >>> ids = add_video_embedding(store, ve, source="talk.mp4",
    ...                           transcript=video.transcription)  # doctest: +SKIP
    >>> store.similarity_search_by_vector(emb.embed_query("a chart"), k=1)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore, VectorStore

from .._adapters import SegmentRecord, TimedLine, check_space, segment_records
from .._embed.vectors import VideoEmbedding
from .._errors import InvalidRequestError

if TYPE_CHECKING:
    from langchain_qdrant import QdrantVectorStore
    from qdrant_client import QdrantClient

__all__ = ["add_video_embedding", "qdrant_vector_store", "video_segments_to_documents"]

_BATCH = 256


def video_segments_to_documents(
    ve: VideoEmbedding,
    *,
    source: str | os.PathLike[str] | None = None,
    transcript: Iterable[TimedLine] | None = None,
) -> list[Document]:
    """One LangChain Document per segment (without its vector), in row order.

    ``page_content`` is what was said in the segment when ``transcript`` (the video's timed
    lines) is given and anything was, else a short description ("talk.mp4,
    0:06.0-0:12.0 (visual, clip)"); ``metadata`` holds ``source``, ``task_id``,
    ``model_name``, ``start_s``, ``end_s``, ``option``, ``scope`` and ``segment`` (the row in
    ``ve.vectors``).

    Example:
        >>> doc = video_segments_to_documents(_example(), source="talk.mp4")[0]
        >>> doc.metadata["start_s"], doc.metadata["option"]
        (0.0, 'visual')
        >>> video_segments_to_documents(_example(), transcript=[(2, 5, "Hi")])[0].page_content
        'Hi'
    """
    return [
        Document(id=r.id, page_content=r.text, metadata=r.metadata)
        for r in segment_records(ve, source=source, transcript=transcript)
    ]


def add_video_embedding(
    store: VectorStore,
    ve: VideoEmbedding,
    *,
    source: str | os.PathLike[str] | None = None,
    transcript: Iterable[TimedLine] | None = None,
) -> list[str]:
    """Add every segment of ``ve`` to ``store`` with its precomputed vector; return the ids.

    Ids are stable (source, task, row): adding the same embedding again replaces it. The
    text stored with each segment is what was said in it (see
    :func:`video_segments_to_documents`).

    Args:
        store: InMemoryVectorStore, QdrantVectorStore, Chroma, or a store with
            ``add_embeddings``.
        ve: the segments and their vectors.
        source: the path or URL the video came from (kept in metadata).
        transcript: the video's timed lines, e.g. ``client.videos.retrieve(index_id,
            video_id, transcription=True).transcription``.

    Raises:
        InvalidRequestError: the store cannot take precomputed vectors, or its query
            embeddings or its vectors are of another space than ``ve``'s.

    Example:
        >>> from langchain_core.embeddings import FakeEmbeddings
        >>> store = InMemoryVectorStore(FakeEmbeddings(size=2))
        >>> ids = add_video_embedding(store, _example(), source="a.mp4",
        ...                           transcript=[(0.5, 3.0, "Welcome")])
        >>> hit = store.similarity_search_by_vector([1.0, 0.0], k=1)[0]
        >>> hit.page_content, hit.metadata["end_s"]
        ('Welcome', 6.0)
    """
    _check_store_space(store, ve)
    records = segment_records(ve, source=source, transcript=transcript)
    if isinstance(store, InMemoryVectorStore):
        _add_in_memory(store, ve, records)
    elif _is_instance(store, "langchain_qdrant", "QdrantVectorStore"):
        _add_qdrant(store, ve, records)
    elif _is_instance(store, "langchain_chroma", "Chroma"):
        _add_chroma(store, ve, records)
    elif callable(getattr(store, "add_embeddings", None)):
        rows = ve.vectors.tolist()
        store.add_embeddings(  # type: ignore[attr-defined]
            text_embeddings=[(r.text, rows[r.row]) for r in records],
            metadatas=[r.metadata for r in records],
            ids=[r.id for r in records],
        )
    else:
        raise InvalidRequestError(
            f"cannot add precomputed vectors to {type(store).__name__}; supported: "
            "InMemoryVectorStore, langchain_qdrant.QdrantVectorStore, langchain_chroma.Chroma, "
            "and stores with an add_embeddings() method (FAISS, PGVector...)"
        )
    return [r.id for r in records]


def _add_in_memory(
    store: InMemoryVectorStore, ve: VideoEmbedding, records: list[SegmentRecord]
) -> None:
    # The same record shape InMemoryVectorStore.add_documents writes, minus the embedding call.
    rows = ve.vectors.tolist()
    for r in records:
        store.store[r.id] = {
            "id": r.id,
            "vector": rows[r.row],
            "text": r.text,
            "metadata": r.metadata,
        }


def _check_store_space(store: VectorStore, ve: VideoEmbedding) -> None:
    """The store's query model, then what it already holds, must be of ``ve``'s space."""
    embeddings = getattr(store, "embeddings", None)  # duck-typed stores may have none
    check_space(getattr(embeddings, "space", None), ve, what="the store's embeddings")
    if isinstance(store, InMemoryVectorStore):
        held = next(iter(store.store.values()), None)
        metadata = held.get("metadata") if held is not None else None
        check_space((metadata or {}).get("embedding_space"), ve, what="the store")
    elif _is_instance(store, "langchain_qdrant", "QdrantVectorStore"):
        _check_qdrant_space(store, ve)


def _check_qdrant_space(store: Any, ve: VideoEmbedding) -> None:
    client, name = store.client, store.collection_name
    vectors = client.get_collection(name).config.params.vectors
    size = getattr(vectors, "size", None)
    if size is None and isinstance(vectors, dict):
        size = getattr(vectors.get(store.vector_name), "size", None)
    if size is not None and size != ve.dim:
        raise InvalidRequestError(
            f"the Qdrant collection {name!r} holds {size}-d vectors and these are {ve.space}; "
            "keep one collection per model and dimension"
        )
    points, _ = client.scroll(name, limit=1, with_payload=True)
    if points:
        metadata = (points[0].payload or {}).get(store.metadata_payload_key) or {}
        check_space(metadata.get("embedding_space"), ve, what="the collection")


def _is_instance(store: VectorStore, module: str, name: str) -> bool:
    try:
        kind = getattr(importlib.import_module(module), name)
    except ImportError:  # the optional extra is not installed, so it cannot be one
        return False
    return isinstance(store, kind)


def _batches(records: list[SegmentRecord], size: int) -> Iterator[list[SegmentRecord]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def _add_qdrant(store: Any, ve: VideoEmbedding, records: list[SegmentRecord]) -> None:
    from qdrant_client import models

    rows = ve.vectors.tolist()
    for batch in _batches(records, _BATCH):
        points = [
            models.PointStruct(
                id=r.id,
                vector={store.vector_name: rows[r.row]},
                payload={store.content_payload_key: r.text, store.metadata_payload_key: r.metadata},
            )
            for r in batch
        ]
        store.client.upsert(collection_name=store.collection_name, points=points)


def _add_chroma(store: Any, ve: VideoEmbedding, records: list[SegmentRecord]) -> None:
    # Chroma's documented way to store precomputed vectors: the collection's own upsert.
    rows = ve.vectors.tolist()
    for batch in _batches(records, _BATCH):
        store._collection.upsert(
            ids=[r.id for r in batch],
            embeddings=[rows[r.row] for r in batch],
            documents=[r.text for r in batch],
            metadatas=[r.metadata for r in batch],
        )


def _dimension(embedding: Embeddings) -> int:
    dim = getattr(embedding, "dim", None)
    if isinstance(dim, int):
        return dim
    return len(embedding.embed_query("dimension probe"))


def qdrant_vector_store(
    embedding: Embeddings,
    *,
    collection_name: str = "video_segments",
    location: str | None = ":memory:",
    path: str | os.PathLike[str] | None = None,
    client: QdrantClient | None = None,
) -> QdrantVectorStore:
    """A Qdrant store (embedded: in memory or in a local folder) sized for ``embedding``.

    Creates the collection (cosine distance) when it does not exist yet. Needs the
    ``vectorstores`` extra (``qdrant-client``, ``langchain-qdrant``).

    Args:
        embedding: the embeddings used for queries (its ``dim`` sizes the collection).
        collection_name: the collection to use or create.
        location: ``":memory:"`` (default) or a Qdrant server URL.
        path: a local folder for an on-disk embedded database (instead of ``location``).
        client: your own ``QdrantClient`` (then ``location`` and ``path`` are ignored).

    Example:
        >>> store = qdrant_vector_store(emb, path="qdrant-data")  # doctest: +SKIP
        >>> add_video_embedding(store, ve, source="talk.mp4")  # doctest: +SKIP
    """
    from langchain_qdrant import QdrantVectorStore
    from qdrant_client import QdrantClient, models

    if client is None:
        client = QdrantClient(path=os.fspath(path)) if path is not None else QdrantClient(location)
    if not client.collection_exists(collection_name):
        params = models.VectorParams(size=_dimension(embedding), distance=models.Distance.COSINE)
        client.create_collection(collection_name, vectors_config=params)
    return QdrantVectorStore(
        client=client,
        collection_name=collection_name,
        embedding=embedding,
        validate_collection_config=False,
    )


def _example() -> VideoEmbedding:
    # The doctests' embedding: one 2-d segment.
    return VideoEmbedding.from_arrays(
        [[1.0, 0.0]],
        start_s=[0],
        end_s=[6],
        options=["visual"],
        scopes=["clip"],
        model_name="marengo3.0",
        task_id="t1",
    )
