"""LlamaIndex ``MultiModalEmbedding`` on TwelveLabs Marengo: text, images and media, one space.

:class:`TwelveLabsEmbedding` embeds queries and texts (sync and natively async) and images
(``ImageNode``s in a ``MultiModalVectorStoreIndex``), so text finds pictures and video
segments alike; ``embed_video``, ``embed_audio`` and ``embed_document`` return a
:class:`~tl_integrations.MediaEmbedding` for :func:`~tl_integrations.llama_index.
video_segments_to_nodes`. The API key is excluded from serialisation and never shown.

Example:
    >>> from tl_integrations.llama_index import TwelveLabsEmbedding
    >>> embed_model = TwelveLabsEmbedding(api_key="k", base_url="http://127.0.0.1:8765/v1.3")
    >>> "api_key" in embed_model.to_dict(), embed_model.dim
    (False, 512)
"""

from __future__ import annotations

from typing import ClassVar, cast

from llama_index.core.base.embeddings.base import Embedding
from llama_index.core.embeddings.multi_modal_base import MultiModalEmbedding
from llama_index.core.schema import ImageType
from pydantic import ConfigDict

from .._adapters import MediaEmbedder, on_async_client, row, rows

__all__ = ["TwelveLabsEmbedding"]


class TwelveLabsEmbedding(MediaEmbedder, MultiModalEmbedding):
    """TwelveLabs Marengo embeddings for LlamaIndex: text, images, and media files.

    Use it as both ``embed_model`` and ``image_embed_model`` of a
    ``MultiModalVectorStoreIndex``: text and images then share one vector space.

    Args:
        model_name: ``"marengo3.0"`` (512-d, default), ``"marengo3.5"`` (512-d, or
            ``embedding_dimension``) or ``"Marengo-retrieval-2.7"`` (1024-d; no images).
        embedding_dimension: Marengo 3.5: shorter (Matryoshka) vectors, 1 to 512.
        api_key: defaults to ``TWELVELABS_API_KEY``; excluded from ``to_dict``/``to_json``,
            ``repr`` and pickles (a copy reads the environment again).
        base_url: defaults to ``TWELVELABS_BASE_URL``, then the real API.
        max_concurrency: text requests in flight at once for batches.
        client / async_client: your own clients (not serialised).

    Example:
        >>> m = TwelveLabsEmbedding(api_key="secret-key")
        >>> "secret-key" in repr(m) or "secret-key" in m.to_json()
        False
        >>> index = MultiModalVectorStoreIndex(nodes, embed_model=m,
        ...                                    image_embed_model=m)  # doctest: +SKIP
    """

    # Unknown options are refused (a misspelt one would otherwise be silently ignored).
    model_config = ConfigDict(
        arbitrary_types_allowed=True, protected_namespaces=("pydantic_model_",), extra="forbid"
    )

    _model_field: ClassVar[str] = "model_name"
    model_name: str = "marengo3.0"

    @classmethod
    def class_name(cls) -> str:
        """The name LlamaIndex records when serialising.

        Example:
            >>> TwelveLabsEmbedding.class_name()
            'TwelveLabsEmbedding'
        """
        return "TwelveLabsEmbedding"

    def _get_query_embedding(self, query: str) -> Embedding:
        return cast(
            Embedding, self._on_client(lambda c: c.embed.text(query, **self._sized()), then=row)
        )

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._get_query_embedding(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return cast(
            list[Embedding],
            self._on_client(
                lambda c: c.embed.texts(
                    texts, max_concurrency=self.max_concurrency, **self._sized()
                ),
                then=rows,
            ),
        )

    def _get_image_embedding(self, img_file_path: ImageType) -> Embedding:
        return self.embed_image(img_file_path)

    _aget_query_embedding = on_async_client(_get_query_embedding)
    _aget_text_embedding = on_async_client(_get_text_embedding)
    _aget_text_embeddings = on_async_client(_get_text_embeddings)
    _aget_image_embedding = on_async_client(_get_image_embedding)
