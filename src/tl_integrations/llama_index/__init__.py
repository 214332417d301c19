"""LlamaIndex adapters: a video reader, an embedding model, and segment nodes.

Needs the ``llama-index`` extra (``pip install 'tl-integrations[llama-index]'``).

Example:
    >>> from tl_integrations.llama_index import TwelveLabsVideoReader
    >>> reader = TwelveLabsVideoReader(index_name="talks")  # doctest: +SKIP
    >>> documents = reader.load_data(["talk.mp4"])  # doctest: +SKIP
"""

from __future__ import annotations

from ._embeddings import TwelveLabsEmbedding
from ._nodes import video_segments_to_nodes
from ._reader import TwelveLabsVideoReader

__all__ = ["TwelveLabsEmbedding", "TwelveLabsVideoReader", "video_segments_to_nodes"]
