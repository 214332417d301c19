"""LangChain retriever: a question in, the matching video moments out as Documents."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr, field_validator

from .._adapters import AdapterClients, Plan
from .._resources.search import DEFAULT_SEARCH_OPTIONS, SearchFilter
from .._retrieval import IndexRef, Moment, SearchSettings, find_moments

__all__ = ["TwelveLabsRetriever"]


class TwelveLabsRetriever(AdapterClients, BaseRetriever):
    """Retrieve the moments of indexed videos that match a question (TwelveLabs search).

    Each Document is one clip. Its ``page_content`` is what was said in the clip (the
    search's transcription, else the video's transcript cut to the clip), falling back to
    a one-line description for a clip without speech. Its metadata is flat: ``video_id``,
    ``index_id``, ``filename``, ``start_s``, ``end_s``, ``rank`` (1 is best),
    ``thumbnail_url`` (a frame of the clip, when the index makes thumbnails), ``video_url``
    (the video's stream starting at the moment, ``...m3u8#t=31.2``, when the video has a
    stream) and the video's user metadata (our own ``tl_*`` keys left out). Each video is
    looked up once per query. ``Document.id`` is stable for a clip.

    Args:
        index_id / index_name: the index to search (one of them; a name is looked up once).
        k: how many moments to return (``invoke(query, k=...)`` overrides it).
        options: the search options; visual, audio (non-speech sound) and transcription
            (spoken words) by default.
        transcription_options: ``lexical`` and/or ``semantic`` matching of spoken words.
        operator: ``or`` (a clip matching any option) or ``and`` (all of them).
        filter: a :class:`~tl_integrations.SearchFilter` or a dict in the API's syntax
            (``invoke(query, filter=...)`` overrides it).
        api_key / base_url / client / async_client: as for every adapter (the key defaults
            to ``TWELVELABS_API_KEY`` and is never shown, dumped or pickled).

    Raises:
        InvalidRequestError: on construction, for a setting the search would refuse.

    Example:
        >>> retriever = TwelveLabsRetriever(index_name="talks", k=3)  # doctest: +SKIP
        >>> for doc in retriever.invoke("when do they put the bread in the oven?"):
        ...     m = doc.metadata  # doctest: +SKIP
        ...     print(m["filename"], m["start_s"], m["end_s"], doc.page_content)
        >>> retriever.invoke("a goal", filter={"season": "2024"}, k=1)  # doctest: +SKIP
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    index_id: str | None = None
    index_name: str | None = None
    k: int = Field(default=4, ge=1)
    options: tuple[str, ...] = DEFAULT_SEARCH_OPTIONS
    transcription_options: tuple[str, ...] | None = None
    operator: Literal["or", "and"] | None = None
    filter: dict[str, Any] | None = None

    _index: IndexRef = PrivateAttr()
    _settings: SearchSettings = PrivateAttr()

    @field_validator("filter", mode="before")
    @classmethod
    def _filter_as_dict(cls, value: Any) -> Any:
        return value.to_dict() if isinstance(value, SearchFilter) else value

    @field_validator("options", "transcription_options", mode="before")
    @classmethod
    def _one_option(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Checked here, with our own error type, rather than at the first question.
        self._index = IndexRef(index_id=self.index_id, index_name=self.index_name)
        self._settings = SearchSettings(
            search_options=self.options,
            transcription_options=self.transcription_options,
            operator=self.operator,
            filter=self.filter,
        )

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        filter: SearchFilter | dict[str, Any] | None = None,
    ) -> list[Document]:
        return [_document(m) for m in self._clients().run(self._plan(query, k, filter))]

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
        filter: SearchFilter | dict[str, Any] | None = None,
    ) -> list[Document]:
        moments = await self._clients().arun(self._plan(query, k, filter))
        return [_document(m) for m in moments]

    def _plan(
        self, query: str, k: int | None, filter: SearchFilter | dict[str, Any] | None
    ) -> Plan[list[Moment]]:
        # A per-call k or filter (LangChain's invoke kwargs) overrides the retriever's own.
        return find_moments(
            query, self._index, self._settings, k=self.k if k is None else k, filter=filter
        )


def _document(moment: Moment) -> Document:
    return Document(id=moment.id, page_content=moment.text, metadata=moment.metadata)
