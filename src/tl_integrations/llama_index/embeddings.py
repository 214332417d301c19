"""LlamaIndex ``BaseEmbedding`` on TwelveLabs Marengo: text in the same space as video.

:class:`TwelveLabsEmbedding` embeds queries and texts (sync and natively async), so a
``VectorStoreIndex`` built from :func:`~tl_integrations.llama_index.nodes.video_segments_to_nodes`
can be queried with text. The API key is excluded from serialisation and never shown.

Example:
    >>> from tl_integrations.llama_index.embeddings import TwelveLabsEmbedding
    >>> embed_model = TwelveLabsEmbedding(api_key="k", base_url="http://127.0.0.1:8765/v1.3")
    >>> "api_key" in embed_model.to_dict(), embed_model.dim
    (False, 512)
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from numpy.typing import NDArray
from pydantic import BaseModel, Field, PrivateAttr, SecretStr, field_validator

from ..client import AsyncTwelveLabs, TwelveLabs
from ..embed.clients import ClientHolder
from ..embed.params import resolve_model
from ..embed.resource import DEFAULT_MAX_CONCURRENCY

__all__ = ["TwelveLabsEmbedding"]


def _env_key() -> SecretStr | None:
    import os

    key = os.environ.get("TWELVELABS_API_KEY")
    return SecretStr(key) if key else None


def _env_base_url() -> str | None:
    import os

    return os.environ.get("TWELVELABS_BASE_URL") or None


def _row(vector: NDArray[np.float32]) -> list[float]:
    # numpy becomes lists only here, at the LlamaIndex boundary.
    return cast(list[float], vector.tolist())


class TwelveLabsEmbedding(BaseEmbedding):
    """TwelveLabs Marengo embeddings for LlamaIndex.

    Args:
        model_name: ``"marengo3.0"`` (512-d, default) or ``"Marengo-retrieval-2.7"`` (1024-d).
        api_key: defaults to ``TWELVELABS_API_KEY``; excluded from ``to_dict``/``to_json``
            and ``repr``.
        base_url: defaults to ``TWELVELABS_BASE_URL``, then the real API.
        max_concurrency: text requests in flight at once for batches.
        client / async_client: your own clients (not serialised).

    Example:
        >>> m = TwelveLabsEmbedding(api_key="secret-key")
        >>> "secret-key" in repr(m) or "secret-key" in m.to_json()
        False
    """

    model_name: str = "marengo3.0"
    api_key: SecretStr | None = Field(default_factory=_env_key, exclude=True, repr=False)
    base_url: str | None = Field(default_factory=_env_base_url)
    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, ge=1)
    client: TwelveLabs | None = Field(default=None, exclude=True, repr=False)
    async_client: AsyncTwelveLabs | None = Field(default=None, exclude=True, repr=False)
    _holder: ClientHolder | None = PrivateAttr(default=None)

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

    def _clients(self) -> ClientHolder:
        if self._holder is None:
            self._holder = ClientHolder.for_adapter(
                self.api_key,
                base_url=self.base_url,
                client=self.client,
                async_client=self.async_client,
            )
        return self._holder

    def close(self) -> None:
        """Close the connection pool this object opened (not an injected client).

        Example:
            >>> TwelveLabsEmbedding(api_key="k").close()
        """
        if self._holder is not None:
            self._holder.close()

    def _get_query_embedding(self, query: str) -> list[float]:
        return _row(self._clients().sync().embed.text(query, model_name=self.model_name))

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_query_embedding(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        client = self._clients().sync()
        matrix = client.embed.texts(
            texts, model_name=self.model_name, max_concurrency=self.max_concurrency
        )
        return cast(list[list[float]], matrix.tolist())

    async def _aget_query_embedding(self, query: str) -> list[float]:
        async with self._clients().session() as client:
            return _row(await client.embed.text(query, model_name=self.model_name))

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return await self._aget_query_embedding(text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        async with self._clients().session() as client:
            matrix = await client.embed.texts(
                texts, model_name=self.model_name, max_concurrency=self.max_concurrency
            )
        return cast(list[list[float]], matrix.tolist())

    def __getstate__(self) -> dict[Any, Any]:
        # A pickle is the configuration: no key (a SecretStr pickles its value) and no clients
        # (sockets, locks). BaseComponent's per-attribute pickling probe is skipped: it would
        # drop the clients anyway, warning on the root logger. Unpickling runs __init__, so
        # the copy reads TWELVELABS_API_KEY again; it keeps an injected client's server.
        state: dict[Any, Any] = BaseModel.__getstate__(self)
        fields = {k: v for k, v in state["__dict__"].items() if k != "api_key"}
        fields.update(base_url=_server_of(self), client=None, async_client=None)
        state["__dict__"] = fields
        state["__pydantic_private__"] = {"_holder": None}
        return state


def _server_of(model: TwelveLabsEmbedding) -> str | None:
    """The base URL a pickled copy should use: its own, else the injected client's."""
    if model.base_url is not None:
        return model.base_url
    injected = model.client or model.async_client
    return None if injected is None else injected.base_url
