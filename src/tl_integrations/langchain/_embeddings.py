"""LangChain ``Embeddings`` on TwelveLabs Marengo: text queries in the same space as video.

:class:`TwelveLabsEmbeddings` embeds documents and queries (one request per text, sent
concurrently) and whole videos (:meth:`~TwelveLabsEmbeddings.embed_video` returns a
:class:`~tl_integrations.VideoEmbedding`), so a text query can be matched against video
segments in any LangChain vector store. numpy becomes lists only at the ``Embeddings``
boundary.

Example:
    >>> from tl_integrations.langchain import TwelveLabsEmbeddings
    >>> emb = TwelveLabsEmbeddings(api_key="tlk_...")  # doctest: +SKIP
    >>> ve = emb.embed_video("talk.mp4", clip_length_s=6)  # doctest: +SKIP
    >>> query = emb.embed_query("the speaker shows a chart")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_core.embeddings import Embeddings
from pydantic import ConfigDict, Field, field_validator

from .._adapters import AdapterClients, row, rows
from .._embed.params import CLIP_LENGTH_DEFAULT_S, VideoSource, resolve_model
from .._embed.vectors import VideoEmbedding
from .._resources.embed import DEFAULT_MAX_CONCURRENCY

__all__ = ["TwelveLabsEmbeddings"]


class TwelveLabsEmbeddings(AdapterClients, Embeddings):
    """TwelveLabs Marengo embeddings for LangChain (text and video, one vector space).

    Args:
        model: ``"marengo3.0"`` (512-d, default) or ``"Marengo-retrieval-2.7"`` (1024-d).
        api_key: the API key; defaults to ``TWELVELABS_API_KEY``. Never shown, dumped or
            pickled (a copy reads the environment again).
        base_url: the API base URL; defaults to ``TWELVELABS_BASE_URL``, then the real API.
        max_concurrency: text requests in flight at once.
        client / async_client: your own clients (not serialised); otherwise they are built
            from the key and base URL.

    Example:
        >>> emb = TwelveLabsEmbeddings(api_key="k", base_url="http://127.0.0.1:8765/v1.3")
        >>> emb.model, emb.dim
        ('marengo3.0', 512)
        >>> "k'" in repr(emb)
        False
    """

    model_config = ConfigDict(
        arbitrary_types_allowed=True,
        populate_by_name=True,
        extra="forbid",
        protected_namespaces=(),
    )

    model: str = "marengo3.0"
    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, ge=1)

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        return resolve_model(value).name

    @property
    def dim(self) -> int:
        """The vector dimension of :attr:`model` (512 or 1024).

        Example:
            >>> TwelveLabsEmbeddings(api_key="k", model="Marengo-retrieval-2.7").dim
            1024
        """
        return resolve_model(self.model).dim

    # --- text ----------------------------------------------------------------------------

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts (concurrently, in order); one list of floats per text.

        Example:
            >>> emb.embed_documents(["a red car", "a dog"])  # doctest: +SKIP
        """
        client = self._clients().sync()
        return rows(
            client.embed.texts(texts, model_name=self.model, max_concurrency=self.max_concurrency)
        )

    def embed_query(self, text: str) -> list[float]:
        """Embed one query text.

        Example:
            >>> len(emb.embed_query("a red car"))  # doctest: +SKIP
            512
        """
        client = self._clients().sync()
        return row(client.embed.text(text, model_name=self.model))

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents` on :class:`~tl_integrations.AsyncTwelveLabs`.

        Example:
            >>> await emb.aembed_documents(["a red car"])  # doctest: +SKIP
        """
        async with self._clients().session() as client:
            matrix = await client.embed.texts(
                texts, model_name=self.model, max_concurrency=self.max_concurrency
            )
        return rows(matrix)

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query`.

        Example:
            >>> await emb.aembed_query("a red car")  # doctest: +SKIP
        """
        async with self._clients().session() as client:
            vector = await client.embed.text(text, model_name=self.model)
        return row(vector)

    # --- video ---------------------------------------------------------------------------

    def embed_video(
        self,
        video: VideoSource,
        *,
        clip_length_s: float = CLIP_LENGTH_DEFAULT_S,
        options: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = ("clip",),
        timeout_s: float | None = None,
    ) -> VideoEmbedding:
        """Embed a video (path, open binary file or URL) into per-clip vectors.

        Waits for the embedding task. Put the result in a vector store with
        :func:`~tl_integrations.langchain.add_video_embedding`.

        Raises:
            InvalidRequestError / InvalidVideoError: refused before upload.
            TaskFailedError / TaskTimeoutError: the task failed or took too long.

        Example:
            >>> ve = emb.embed_video("talk.mp4", clip_length_s=4)  # doctest: +SKIP
            >>> ve.vectors.shape  # doctest: +SKIP
            (30, 512)
        """
        client = self._clients().sync()
        return client.embed.video(
            video,
            model_name=self.model,
            clip_length_s=clip_length_s,
            options=options,
            scopes=scopes,
            timeout_s=timeout_s,
        )

    async def aembed_video(
        self,
        video: VideoSource,
        *,
        clip_length_s: float = CLIP_LENGTH_DEFAULT_S,
        options: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = ("clip",),
        timeout_s: float | None = None,
    ) -> VideoEmbedding:
        """Async :meth:`embed_video`.

        Example:
            >>> ve = await emb.aembed_video("talk.mp4")  # doctest: +SKIP
        """
        kwargs: dict[str, Any] = {
            "model_name": self.model,
            "clip_length_s": clip_length_s,
            "options": options,
            "scopes": scopes,
            "timeout_s": timeout_s,
        }
        async with self._clients().session() as client:
            return await client.embed.video(video, **kwargs)
