"""LangChain ``Embeddings`` on TwelveLabs Marengo: text queries in the same space as video.

:class:`TwelveLabsEmbeddings` embeds documents and queries (one request per text, sent
concurrently) and whole videos (:meth:`~TwelveLabsEmbeddings.embed_video` returns a
:class:`~tl_integrations.embed.VideoEmbedding`), so a text query can be matched against video
segments in any LangChain vector store. numpy is converted to lists only here, at the
``Embeddings`` boundary.

Example:
    >>> from tl_integrations.langchain.embeddings import TwelveLabsEmbeddings
    >>> emb = TwelveLabsEmbeddings(api_key="tlk_...")  # doctest: +SKIP
    >>> ve = emb.embed_video("talk.mp4", clip_length_s=6)  # doctest: +SKIP
    >>> query = emb.embed_query("the speaker shows a chart")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import numpy as np
from langchain_core.embeddings import Embeddings
from langchain_core.utils import from_env, secret_from_env
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator

from ..client import AsyncTwelveLabs, TwelveLabs
from ..embed.clients import ClientHolder
from ..embed.params import CLIP_LENGTH_DEFAULT_S, VideoSource, resolve_model
from ..embed.resource import DEFAULT_MAX_CONCURRENCY
from ..embed.vectors import VideoEmbedding

__all__ = ["TwelveLabsEmbeddings"]


def _rows(matrix: NDArray[np.float32]) -> list[list[float]]:
    # The one place numpy becomes lists: LangChain's Embeddings interface wants them.
    return cast(list[list[float]], matrix.tolist())


def _row(vector: NDArray[np.float32]) -> list[float]:
    return cast(list[float], vector.tolist())


class TwelveLabsEmbeddings(BaseModel, Embeddings):
    """TwelveLabs Marengo embeddings for LangChain (text and video, one vector space).

    Args:
        model: ``"marengo3.0"`` (512-d, default) or ``"Marengo-retrieval-2.7"`` (1024-d).
        api_key: the API key; defaults to ``TWELVELABS_API_KEY``. Never shown by ``repr``.
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
    api_key: SecretStr | None = Field(
        default_factory=secret_from_env("TWELVELABS_API_KEY", default=None)
    )
    base_url: str | None = Field(default_factory=from_env("TWELVELABS_BASE_URL", default=None))
    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, ge=1)
    client: TwelveLabs | None = Field(default=None, exclude=True, repr=False)
    async_client: AsyncTwelveLabs | None = Field(default=None, exclude=True, repr=False)
    _holder: ClientHolder | None = PrivateAttr(default=None)

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

    # --- clients -------------------------------------------------------------------------

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
            >>> TwelveLabsEmbeddings(api_key="k").close()
        """
        if self._holder is not None:
            self._holder.close()

    # --- pickling ------------------------------------------------------------------------

    def __getstate__(self) -> dict[Any, Any]:
        """The configuration only: no key (a SecretStr pickles its value), no clients.

        The copy reads ``TWELVELABS_API_KEY`` again when it is unpickled, and keeps an
        injected client's server as its ``base_url``.

        Example:
            >>> import pickle
            >>> b"secret-key" in pickle.dumps(TwelveLabsEmbeddings(api_key="secret-key"))
            False
        """
        state: dict[Any, Any] = super().__getstate__()
        base_url = self.base_url
        injected = self.client or self.async_client
        if base_url is None and injected is not None:
            base_url = injected.base_url
        fields = {**state["__dict__"], "api_key": None, "client": None, "async_client": None}
        state["__dict__"] = {**fields, "base_url": base_url}
        state["__pydantic_private__"] = {"_holder": None}
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        """Restore a pickled configuration; the key comes from ``TWELVELABS_API_KEY``.

        Example:
            >>> import pickle
            >>> pickle.loads(pickle.dumps(TwelveLabsEmbeddings(api_key="k"))).model
            'marengo3.0'
        """
        super().__setstate__(state)
        if self.api_key is None:
            self.api_key = secret_from_env("TWELVELABS_API_KEY", default=None)()

    # --- text ----------------------------------------------------------------------------

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts (concurrently, in order); one list of floats per text.

        Example:
            >>> emb.embed_documents(["a red car", "a dog"])  # doctest: +SKIP
        """
        client = self._clients().sync()
        matrix = client.embed.texts(
            texts, model_name=self.model, max_concurrency=self.max_concurrency
        )
        return _rows(matrix)

    def embed_query(self, text: str) -> list[float]:
        """Embed one query text.

        Example:
            >>> len(emb.embed_query("a red car"))  # doctest: +SKIP
            512
        """
        client = self._clients().sync()
        return _row(client.embed.text(text, model_name=self.model))

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Async :meth:`embed_documents` on :class:`~tl_integrations.AsyncTwelveLabs`.

        Example:
            >>> await emb.aembed_documents(["a red car"])  # doctest: +SKIP
        """
        async with self._clients().session() as client:
            matrix = await client.embed.texts(
                texts, model_name=self.model, max_concurrency=self.max_concurrency
            )
        return _rows(matrix)

    async def aembed_query(self, text: str) -> list[float]:
        """Async :meth:`embed_query`.

        Example:
            >>> await emb.aembed_query("a red car")  # doctest: +SKIP
        """
        async with self._clients().session() as client:
            vector = await client.embed.text(text, model_name=self.model)
        return _row(vector)

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

        Waits for the embedding task. Use :func:`~tl_integrations.langchain.vectorstores.\
add_video_embedding` to put the result in a vector store.

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
