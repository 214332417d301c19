"""LangChain adapters: a video loader, a retriever, agent tools, embeddings, store helpers.

Needs the ``langchain`` extra (``pip install 'tl-integrations[langchain]'``).

Example:
    >>> from tl_integrations.langchain import TwelveLabsVideoLoader
    >>> loader = TwelveLabsVideoLoader(["talk.mp4"], index_name="talks")  # doctest: +SKIP
    >>> docs = loader.load()  # doctest: +SKIP
"""

from __future__ import annotations

from .._extras import needs_extra

with needs_extra("langchain", "tl_integrations.langchain"):
    from ._embeddings import TwelveLabsEmbeddings
    from ._loader import TwelveLabsVideoLoader
    from ._retriever import TwelveLabsRetriever
    from ._toolkit import TwelveLabsToolkit
    from ._vectorstores import add_video_embedding, qdrant_vector_store, video_segments_to_documents

__all__ = [
    "TwelveLabsEmbeddings",
    "TwelveLabsRetriever",
    "TwelveLabsToolkit",
    "TwelveLabsVideoLoader",
    "add_video_embedding",
    "qdrant_vector_store",
    "video_segments_to_documents",
]
