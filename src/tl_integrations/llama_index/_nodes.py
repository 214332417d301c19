"""Video segments (and sound clips, pages, chunks) as LlamaIndex ``TextNode``s that carry
their precomputed embeddings.

Each node's metadata names the vectors' space (model and dimension); given the index's
``embed_model``, :func:`video_segments_to_nodes` refuses vectors of another space, which
its queries could not be compared with.

Example:
    >>> from tl_integrations import VideoEmbedding
    >>> ve = VideoEmbedding.from_arrays([[1.0, 0.0]], start_s=[0], end_s=[6],
    ...     options=["visual"], scopes=["clip"], model_name="marengo3.0", task_id="t1")
    >>> node = video_segments_to_nodes(ve, source="talk.mp4")[0]
    >>> node.metadata["end_s"], len(node.embedding or [])
    (6.0, 2)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from llama_index.core.schema import TextNode

from .._adapters import TimedLine, check_space, segment_records
from .._embed.vectors import VideoEmbedding

__all__ = ["video_segments_to_nodes"]

# Kept out of the text an LLM or the embedder sees: bookkeeping, not content.
_HIDDEN = ["task_id", "model_name", "segment", "option", "scope", "embedding_space", "input_type"]


def video_segments_to_nodes(
    ve: VideoEmbedding,
    *,
    source: str | os.PathLike[str] | None = None,
    transcript: Iterable[TimedLine] | None = None,
    embed_model: Any = None,
) -> list[TextNode]:
    """One ``TextNode`` per segment with ``embedding`` set, ready for ``VectorStoreIndex``.

    Each node's text is what was said in the segment when ``transcript`` is given and
    anything was, else a short description; its metadata holds ``source``, ``task_id``,
    ``model_name``, ``start_s``, ``end_s`` (rows with time), ``option``, ``scope``,
    ``segment`` (the row in ``ve.vectors``), ``embedding_space`` and ``input_type``, and for
    documents ``start_page``/``end_page`` or ``chunk_index``. Ids are stable across calls.

    Args:
        ve: the vectors.
        source: the file or URL to name (default: the task).
        transcript: the video's timed lines, e.g.
            ``client.videos.retrieve(..., transcription=True).transcription``.
        embed_model: the index's embedding model; a
            :class:`~tl_integrations.llama_index.TwelveLabsEmbedding` of another space
            than ``ve``'s is refused.

    Raises:
        InvalidRequestError: ``embed_model`` makes vectors of another space.

    Example:
        >>> from llama_index.core import VectorStoreIndex
        >>> index = VectorStoreIndex(video_segments_to_nodes(ve, source="talk.mp4"),
        ...                          embed_model=TwelveLabsEmbedding())  # doctest: +SKIP
        >>> index.as_retriever(similarity_top_k=1).retrieve("a chart")  # doctest: +SKIP
    """
    check_space(getattr(embed_model, "space", None), ve, what="the embedding model")
    rows = ve.vectors.tolist()
    return [
        TextNode(
            id_=record.id,
            text=record.text,
            metadata=record.metadata,
            embedding=rows[record.row],
            excluded_embed_metadata_keys=list(_HIDDEN),
            excluded_llm_metadata_keys=list(_HIDDEN),
        )
        for record in segment_records(ve, source=source, transcript=transcript)
    ]
