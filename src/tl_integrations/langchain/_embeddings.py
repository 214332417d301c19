"""LangChain ``Embeddings`` on TwelveLabs Marengo: text queries in the same space as media.

:class:`TwelveLabsEmbeddings` embeds documents and queries (one request per text, sent
concurrently) and whole media: :meth:`~TwelveLabsEmbeddings.embed_video`,
``embed_audio`` and ``embed_document`` return a :class:`~tl_integrations.MediaEmbedding`,
``embed_image`` one vector; each has a native ``aembed_*`` twin. A text query can then be
matched against video segments, sound clips, pages or images in any LangChain vector
store. numpy becomes lists only at the ``Embeddings`` boundary.

Example:
    >>> from tl_integrations.langchain import TwelveLabsEmbeddings
    >>> emb = TwelveLabsEmbeddings(api_key="tlk_...", model="marengo3.5")  # doctest: +SKIP
    >>> me = emb.embed_document("report.pdf")  # doctest: +SKIP
    >>> query = emb.embed_query("the quarterly chart")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import ClassVar, cast

from langchain_core.embeddings import Embeddings
from pydantic import ConfigDict

from .._adapters import MediaEmbedder, on_async_client, row, rows

__all__ = ["TwelveLabsEmbeddings"]


class TwelveLabsEmbeddings(MediaEmbedder, Embeddings):
    """TwelveLabs Marengo embeddings for LangChain (text and media, one vector space).

    Args:
        model: ``"marengo3.0"`` (512-d, default), ``"marengo3.5"`` (512-d, or
            ``embedding_dimension``; images and documents too) or
            ``"Marengo-retrieval-2.7"`` (1024-d).
        embedding_dimension: Marengo 3.5: shorter (Matryoshka) vectors, 1 to 512.
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

    _model_field: ClassVar[str] = "model"
    model: str = "marengo3.0"

    # --- text ----------------------------------------------------------------------------

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts (concurrently, in order); one list of floats per text.

        Example:
            >>> emb.embed_documents(["a red car", "a dog"])  # doctest: +SKIP
        """
        return cast(
            list[list[float]],
            self._on_client(
                lambda c: c.embed.texts(
                    texts, max_concurrency=self.max_concurrency, **self._sized()
                ),
                then=rows,
            ),
        )

    def embed_query(self, text: str) -> list[float]:
        """Embed one query text.

        Example:
            >>> len(emb.embed_query("a red car"))  # doctest: +SKIP
            512
        """
        return cast(
            list[float], self._on_client(lambda c: c.embed.text(text, **self._sized()), then=row)
        )

    # Native async twins, on AsyncTwelveLabs (one fresh client per call unless injected).
    aembed_documents = on_async_client(embed_documents)
    aembed_query = on_async_client(embed_query)
