"""LlamaIndex ``BaseEmbedding`` on TwelveLabs Marengo: text in the same space as video.

:class:`TwelveLabsEmbedding` embeds queries and texts (sync and natively async), so a
``VectorStoreIndex`` built from :func:`~tl_integrations.llama_index.video_segments_to_nodes`
can be queried with text. The API key is excluded from serialisation and never shown.

Example:
    >>> from tl_integrations.llama_index import TwelveLabsEmbedding
    >>> embed_model = TwelveLabsEmbedding(api_key="k", base_url="http://127.0.0.1:8765/v1.3")
    >>> "api_key" in embed_model.to_dict(), embed_model.dim
    (False, 512)
"""

from __future__ import annotations

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import ConfigDict, Field, field_validator

from .._adapters import AdapterClients, row, rows
from .._embed.params import resolve_model
from .._resources.embed import DEFAULT_MAX_CONCURRENCY

__all__ = ["TwelveLabsEmbedding"]


class TwelveLabsEmbedding(AdapterClients, BaseEmbedding):
    """TwelveLabs Marengo embeddings for LlamaIndex.

    Args:
        model_name: ``"marengo3.0"`` (512-d, default) or ``"Marengo-retrieval-2.7"`` (1024-d).
        api_key: defaults to ``TWELVELABS_API_KEY``; excluded from ``to_dict``/``to_json``,
            ``repr`` and pickles (a copy reads the environment again).
        base_url: defaults to ``TWELVELABS_BASE_URL``, then the real API.
        max_concurrency: text requests in flight at once for batches.
        client / async_client: your own clients (not serialised).

    Example:
        >>> m = TwelveLabsEmbedding(api_key="secret-key")
        >>> "secret-key" in repr(m) or "secret-key" in m.to_json()
        False
    """

    # Unknown options are refused (a misspelt one would otherwise be silently ignored).
    model_config = ConfigDict(
        arbitrary_types_allowed=True, protected_namespaces=("pydantic_model_",), extra="forbid"
    )

    model_name: str = "marengo3.0"
    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, ge=1)

    @field_validator("model_name")
    @classmethod
    def _known_model(cls, value: str) -> str:
        return resolve_model(value).name

    @classmethod
    def class_name(cls) -> str:
        """The name LlamaIndex records when serialising.

        Example:
            >>> TwelveLabsEmbedding.class_name()
            'TwelveLabsEmbedding'
        """
        return "TwelveLabsEmbedding"

    @property
    def dim(self) -> int:
        """The vector dimension of :attr:`model_name` (512 or 1024).

        Example:
            >>> TwelveLabsEmbedding(api_key="k", model_name="Marengo-retrieval-2.7").dim
            1024
        """
        return resolve_model(self.model_name).dim

    def _get_query_embedding(self, query: str) -> list[float]:
        return row(self._clients().sync().embed.text(query, model_name=self.model_name))

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_query_embedding(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        client = self._clients().sync()
        return rows(
            client.embed.texts(
                texts, model_name=self.model_name, max_concurrency=self.max_concurrency
            )
        )

    async def _aget_query_embedding(self, query: str) -> list[float]:
        async with self._clients().session() as client:
            return row(await client.embed.text(query, model_name=self.model_name))

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await self._aget_query_embedding(text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        async with self._clients().session() as client:
            matrix = await client.embed.texts(
                texts, model_name=self.model_name, max_concurrency=self.max_concurrency
            )
        return rows(matrix)
