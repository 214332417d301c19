"""LlamaIndex adapters: a video reader, a retriever, agent tools, embeddings, segment nodes.

Needs the ``llama-index`` extra (``pip install 'tl-integrations[llama-index]'``).

Example:
    >>> from tl_integrations.llama_index import TwelveLabsVideoReader
    >>> reader = TwelveLabsVideoReader(index_name="talks")  # doctest: +SKIP
    >>> documents = reader.load_data(["talk.mp4"])  # doctest: +SKIP
"""

from __future__ import annotations

from .._extras import needs_extra

with needs_extra("llama-index", "tl_integrations.llama_index"):
    from ._embeddings import TwelveLabsEmbedding
    from ._nodes import video_segments_to_nodes
    from ._reader import TwelveLabsVideoReader
    from ._retriever import TwelveLabsRetriever
    from ._tools import TwelveLabsToolSpec

__all__ = [
    "TwelveLabsEmbedding",
    "TwelveLabsRetriever",
    "TwelveLabsToolSpec",
    "TwelveLabsVideoReader",
    "video_segments_to_nodes",
]
