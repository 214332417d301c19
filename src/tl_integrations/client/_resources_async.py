"""Async resources: the twins of ``_resources_sync``, differing only by ``await``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .._http import response_json
from ..errors import BadRequestError, ConflictError
from ..models import AnalyzeResult, Index, IndexModel, SearchClip, Video
from . import _calls
from ._base import DEFAULT_MODELS
from ._paging import aiter_items

if TYPE_CHECKING:
    from ._async import AsyncTwelveLabs

__all__ = ["AsyncAnalyze", "AsyncIndexes", "AsyncSearch", "AsyncVideos"]

ModelSpec = IndexModel | Mapping[str, Any]


class AsyncIndexes:
    """``client.indexes``: create, find and delete indexes.

    Example:
        >>> index = await client.indexes.get_or_create("talks")  # doctest: +SKIP
        >>> [i.name async for i in client.indexes.list()]  # doctest: +SKIP
        ['talks']
    """

    def __init__(self, client: AsyncTwelveLabs) -> None:
        self._client = client

    async def create(
        self,
        name: str,
        *,
        models: Sequence[ModelSpec] = DEFAULT_MODELS,
        addons: Sequence[str] | None = None,
    ) -> Index:
        """Create an index (``POST /indexes``); names are unique per account.

        Raises:
            BadRequestError: e.g. ``index_name_already_exists``.
        """
        return await self._create(name, models, addons, retry="auto")

    async def _create(
        self, name: str, models: Sequence[ModelSpec], addons: Sequence[str] | None, *, retry: str
    ) -> Index:
        call = replace(_calls.create_index(name, models, addons), retry=retry)
        body = response_json(await self._client._request(**call.kwargs()))
        return _calls.created_index(body, call)

    async def retrieve(self, index_id: str) -> Index:
        """Fetch one index.

        Raises:
            NotFoundError: no such index.
        """
        path = f"/indexes/{_calls.seg(index_id, 'index_id')}"
        return Index.from_api(response_json(await self._client._request("GET", path)))

    async def delete(self, index_id: str) -> None:
        """Delete an index and every video in it."""
        await self._client._request("DELETE", f"/indexes/{_calls.seg(index_id, 'index_id')}")

    async def get_or_create(
        self,
        name: str,
        *,
        models: Sequence[ModelSpec] = DEFAULT_MODELS,
        addons: Sequence[str] | None = None,
    ) -> Index:
        """The index called ``name``, created (with ``models``) when there is none.

        An existing index is returned as it is, whatever its models. The create is safe to
        repeat (a name exists once), so it is retried after 5xx answers and lost responses.
        """
        found = await self._find(name)
        if found is not None:
            return found
        try:
            return await self._create(name, models, addons, retry="always")
        except (BadRequestError, ConflictError):
            # Someone (or our own first attempt, whose answer was lost) created it meanwhile.
            found = await self._find(name)
            if found is None:
                raise
            return found

    async def _find(self, name: str) -> Index | None:
        call = _calls.list_indexes(name, 50, None, None)
        async with contextlib.aclosing(aiter_items(self._client, call, "index list")) as items:
            async for item in items:
                index = Index.from_api(item)
                if index.name == name:
                    return index
        return None

    async def list(
        self,
        *,
        name: str | None = None,
        page_limit: int = 50,
        sort_by: str | None = None,
        sort_option: str | None = None,
    ) -> AsyncIterator[Index]:
        """Iterate over every index (all pages), optionally filtered by name."""
        call = _calls.list_indexes(name, page_limit, sort_by, sort_option)
        async for item in aiter_items(self._client, call, "index list"):
            yield Index.from_api(item)


class AsyncVideos:
    """``client.videos``: indexed videos, with transcripts and embeddings on request.

    Example:
        >>> video = await client.videos.retrieve(  # doctest: +SKIP
        ...     index_id, video_id, transcription=True)
        >>> video.transcription[0].text  # doctest: +SKIP
        'Welcome back to the course.'
    """

    def __init__(self, client: AsyncTwelveLabs) -> None:
        self._client = client

    async def retrieve(
        self,
        index_id: str,
        video_id: str,
        *,
        transcription: bool = False,
        embedding_options: Iterable[str] | None = None,
    ) -> Video:
        """Fetch one video; ``transcription=True`` adds ``(start_s, end_s, text)`` utterances.

        Raises:
            NotFoundError: no such video in that index.
        """
        call = _calls.retrieve_video(index_id, video_id, transcription, embedding_options)
        body = response_json(await self._client._request(**call.kwargs()))
        return Video.from_api(body, index_id=index_id)

    async def delete(self, index_id: str, video_id: str) -> None:
        """Delete one video from an index."""
        call = _calls.retrieve_video(index_id, video_id, False, None)
        await self._client._request("DELETE", call.path)

    async def list(
        self,
        index_id: str,
        *,
        user_metadata: Mapping[str, Any] | None = None,
        filename: str | None = None,
        page_limit: int = 50,
        sort_by: str | None = None,
        sort_option: str | None = None,
    ) -> AsyncIterator[Video]:
        """Iterate over the videos of an index; ``user_metadata`` filters by exact values."""
        call = _calls.list_videos(
            index_id,
            user_metadata=user_metadata,
            filename=filename,
            page_limit=page_limit,
            sort_by=sort_by,
            sort_option=sort_option,
        )
        async for item in aiter_items(self._client, call, "video list"):
            yield Video.from_api(item, index_id=index_id)


class AsyncSearch:
    """``client.search``: natural-language search over an index.

    Example:
        >>> async for clip in client.search.query(index_id=index_id, query_text="a red car",
        ...                                       max_results=5):  # doctest: +SKIP
        ...     print(clip.video_id, clip.start_s, clip.end_s, clip.rank)
    """

    def __init__(self, client: AsyncTwelveLabs) -> None:
        self._client = client

    async def query(
        self,
        *,
        index_id: str,
        query_text: str,
        search_options: Sequence[str] = ("visual", "audio"),
        group_by: str = "clip",
        page_limit: int = 10,
        filter: Mapping[str, Any] | None = None,
        operator: str | None = None,
        max_results: int | None = None,
    ) -> AsyncIterator[SearchClip]:
        """Iterate over matching clips, best first, fetching later pages only when needed.

        With ``group_by="video"`` the clips of each video are yielded one after another.
        ``max_results`` stops after that many clips.
        """
        call = _calls.search(
            index_id=index_id,
            query_text=query_text,
            search_options=search_options,
            group_by=group_by,
            page_limit=page_limit,
            filter=filter,
            operator=operator,
        )
        remaining = max_results
        followed: set[str] = set()
        while remaining is None or remaining > 0:
            clips, token = _calls.search_page(
                response_json(await self._client._request(**call.kwargs()))
            )
            for clip in clips[:remaining]:
                yield clip
            if remaining is not None:
                remaining -= min(remaining, len(clips))
            if not clips or token is None:
                return
            call = _calls.next_search_page(token, followed)


class AsyncAnalyze:
    """``client.analyze(video_id, prompt)``: ask Pegasus about an indexed video.

    Example:
        >>> result = await client.analyze(video_id, "Summarize this video")  # doctest: +SKIP
        >>> result.text, result.finish_reason  # doctest: +SKIP
        ('Two hosts review a phone...', 'stop')
    """

    def __init__(self, client: AsyncTwelveLabs) -> None:
        self._client = client

    async def __call__(
        self,
        video_id: str,
        prompt: str,
        *,
        temperature: float | None = None,
        response_format: Mapping[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> AnalyzeResult:
        """Generate text about a video (non-streaming).

        ``response_format={"type": "json_schema", "json_schema": {...}}`` asks for JSON; the
        parsed value is then in ``result.data``.

        Raises:
            MalformedResponseError: JSON was asked for and the answer is not JSON.
        """
        call = _calls.analyze(
            video_id,
            prompt,
            temperature=temperature,
            response_format=response_format,
            max_tokens=max_tokens,
        )
        body = response_json(await self._client._request(**call.kwargs()))
        return _calls.analyze_result(body, response_format)
