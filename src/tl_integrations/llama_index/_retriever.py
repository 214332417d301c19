"""LlamaIndex retriever: a question in, the matching video moments out as scored nodes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from llama_index.core.callbacks import CallbackManager
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from pydantic import SecretStr

from .._adapters import checked_options, holder_for
from .._resources.search import DEFAULT_SEARCH_OPTIONS, FilterLike, SearchFilter
from .._retrieval import IndexRef, Moment, SearchSettings, find_moments

if TYPE_CHECKING:
    from .._client import AsyncTwelveLabs, TwelveLabs

__all__ = ["TwelveLabsRetriever"]

# Links, ids and ranks help a citation or a player, not the meaning; times and the file
# name stay visible to the LLM so an answer can cite "talk.mp4 at 0:31".
HIDDEN_FROM_EMBEDDING = ("video_id", "index_id", "rank", "thumbnail_url", "video_url")
HIDDEN_FROM_LLM = ("index_id", "rank", "thumbnail_url", "video_url")


class TwelveLabsRetriever(BaseRetriever):
    """Retrieve the moments of indexed videos that match a question (TwelveLabs search).

    Each ``NodeWithScore`` is one clip: the node's text is what was said in it (the
    search's transcription, else the video's transcript cut to the clip), falling back to
    a one-line description for a clip without speech; its metadata is flat and the same as
    the LangChain retriever's (``video_id``, ``index_id``, ``filename``, ``start_s``,
    ``end_s``, ``rank``, ``thumbnail_url``, ``video_url`` - the stream at the moment - and
    the video's user metadata). The score is ``1 / rank`` (1.0 for the best hit, 0.5 for
    the second...): it orders one search's hits, it is not a similarity. Natively async
    (``aretrieve`` runs on the async client), and usable in ``RetrieverQueryEngine``.

    Args:
        index_id / index_name: the index to search (one of them; a name is looked up once).
        k: how many moments to return.
        options / transcription_options / operator / filter: how to search (see
            ``client.search.query``); spoken words are searched by default.
        client / async_client: your clients (never closed here); else they are built from
            ``api_key`` (default ``TWELVELABS_API_KEY``) and ``base_url``.

    Raises:
        InvalidRequestError: on construction, for a setting the search would refuse.

    Example:
        >>> retriever = TwelveLabsRetriever(index_name="talks", k=3)  # doctest: +SKIP
        >>> for hit in retriever.retrieve("when does the bread go in the oven?"):
        ...     print(hit.score, hit.node.metadata["start_s"], hit.node.text)  # doctest: +SKIP
        >>> from llama_index.core.query_engine import RetrieverQueryEngine
        >>> engine = RetrieverQueryEngine.from_args(retriever, llm=llm)  # doctest: +SKIP
    """

    @checked_options
    def __init__(
        self,
        *,
        index_id: str | None = None,
        index_name: str | None = None,
        k: int = 4,
        options: Sequence[str] = DEFAULT_SEARCH_OPTIONS,
        transcription_options: Sequence[str] | None = None,
        operator: Literal["or", "and"] | None = None,
        filter: FilterLike | None = None,
        client: TwelveLabs | None = None,
        async_client: AsyncTwelveLabs | None = None,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
    ) -> None:
        self._index = IndexRef(index_id=index_id, index_name=index_name)
        self._settings = SearchSettings(
            search_options=tuple(options),
            transcription_options=transcription_options,
            operator=operator,
            filter=None if filter is None else SearchFilter(filter).to_dict(),
        )
        self._settings.check(k=k, filter=self._settings.filter)
        self.k = k
        self._holder = holder_for(
            api_key=api_key, base_url=base_url, client=client, async_client=async_client
        )
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        plan = find_moments(query_bundle.query_str, self._index, self._settings, k=self.k)
        return [_scored(m) for m in self._holder.run(plan)]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        plan = find_moments(query_bundle.query_str, self._index, self._settings, k=self.k)
        return [_scored(m) for m in await self._holder.arun(plan)]

    def close(self) -> None:
        """Close the connection pool this retriever opened (not an injected client).

        Example:
            >>> TwelveLabsRetriever(index_id="i1", api_key="k").close()
        """
        self._holder.close()


def _scored(moment: Moment) -> NodeWithScore:
    node = TextNode(
        id_=moment.id,
        text=moment.text,
        metadata=moment.metadata,
        excluded_embed_metadata_keys=[k for k in HIDDEN_FROM_EMBEDDING if k in moment.metadata],
        excluded_llm_metadata_keys=[k for k in HIDDEN_FROM_LLM if k in moment.metadata],
    )
    return NodeWithScore(node=node, score=moment.score)
