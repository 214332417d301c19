"""Search (``POST /search``): the clip model and ``client.search``.

Results come a page at a time; later pages are fetched only when the iteration reaches
them (and are not billed), by their page token.

Example:
    >>> clip = SearchClip.from_api({"video_id": "v1", "start": 1, "end": 4, "rank": 1})
    >>> clip.start_s, clip.end_s, clip.rank
    (1.0, 4.0, 1)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from .._errors import InvalidRequestError, MalformedResponseError
from .._flows import Context, Emit, Flow
from .._transport import Request, path_segment, send_json
from .._wire import as_object, opt_float, opt_int, opt_obj, opt_str
from . import AsyncResource, Resource, streamed
from .videos import check_page_limit

__all__ = ["AsyncSearch", "Search", "SearchClip"]


@dataclass(frozen=True)
class SearchClip:
    """One search hit: a clip of a video with its times and rank (1 is best).

    Marengo 2.7 answered ``score`` and ``confidence`` instead of ``rank``; whichever is
    missing is None.

    Example:
        >>> SearchClip.from_api({"video_id": "v1", "start": 0, "end": 2, "score": 0.8}).score
        0.8
    """

    video_id: str
    start_s: float
    end_s: float
    rank: int | None = None
    score: float | None = None
    confidence: str | None = None
    thumbnail_url: str | None = None
    transcription: str | None = None
    user_metadata: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any, *, video_id: str | None = None) -> SearchClip:
        """Parse one clip; ``video_id`` fills it in for clips nested under a video."""
        obj = as_object(data, "search clip")
        what = "search clip"
        return cls(
            video_id=opt_str(obj, "video_id", what) or video_id or "",
            start_s=opt_float(obj, "start", what, non_negative=True) or 0.0,
            end_s=opt_float(obj, "end", what, non_negative=True) or 0.0,
            rank=opt_int(obj, "rank", what, non_negative=True),
            score=opt_float(obj, "score", what),
            confidence=opt_str(obj, "confidence", what),
            thumbnail_url=opt_str(obj, "thumbnail_url", what),
            transcription=opt_str(obj, "transcription", what),
            user_metadata=opt_obj(obj, "user_metadata", what),
            raw=obj,
        )


def _checked_id(index_id: str) -> str:
    path_segment(index_id, "index_id")
    return index_id


def search_request(
    *,
    index_id: str,
    query_text: str,
    search_options: Sequence[str],
    group_by: str,
    page_limit: int,
    filter: Mapping[str, Any] | None,
    operator: str | None,
) -> Request:
    """``POST /search`` (multipart; safe to repeat)."""
    if not isinstance(query_text, str) or not query_text.strip():
        raise InvalidRequestError("query_text must be a non-empty string")
    if isinstance(search_options, str) or not search_options:
        raise InvalidRequestError(
            "search_options must be a non-empty list such as ('visual', 'audio'), "
            f"got {search_options!r}"
        )
    if group_by not in ("clip", "video"):
        raise InvalidRequestError(f"group_by must be 'clip' or 'video', got {group_by!r}")
    form: dict[str, Any] = {
        "index_id": _checked_id(index_id),
        "query_text": query_text,
        "search_options": list(search_options),
        "group_by": group_by,
        "page_limit": check_page_limit(page_limit),
        "operator": operator,
        "filter": orjson.dumps(dict(filter)).decode() if filter else None,
    }
    return Request("POST", "/search", form=form, files={}, retry="always")


def search_page(body: Any) -> tuple[list[SearchClip], str | None]:
    """The clips of one search page (video groups flattened) and the next page token.

    Example:
        >>> search_page({"data": [{"id": "v1", "clips": [{"start": 0, "end": 1}]}]})[0][0].video_id
        'v1'
    """
    obj = as_object(body, "search response")
    items = obj.get("data") or []
    if not isinstance(items, list):
        raise MalformedResponseError("search response: 'data' should be a list", body=obj)
    clips: list[SearchClip] = []
    for item in items:
        entry = as_object(item, "search result")
        if isinstance(entry.get("clips"), list):
            video_id = str(entry.get("id") or entry.get("video_id") or "")
            clips.extend(SearchClip.from_api(c, video_id=video_id) for c in entry["clips"])
        else:
            clips.append(SearchClip.from_api(entry))
    info = obj.get("page_info")
    token = info.get("next_page_token") if isinstance(info, dict) else None
    return clips, (str(token) if token else None)


def _query(request: Request, ctx: Context, max_results: int | None) -> Flow[None]:
    remaining = max_results
    followed: set[str] = set()
    while remaining is None or remaining > 0:
        clips, token = search_page((yield from send_json(request, ctx)))
        for clip in clips[:remaining]:
            yield Emit(clip)
        if remaining is not None:
            remaining -= min(remaining, len(clips))
        if not clips or token is None:
            return
        if token in followed:
            raise MalformedResponseError(
                f"search response: page token {token[:40]!r} was already followed; stopping "
                "instead of asking for the same page forever"
            )
        followed.add(token)
        request = Request("GET", f"/search/{path_segment(token, 'page_token')}")


class Search(Resource):
    """``client.search``: natural-language search over an index.

    Example:
        >>> for clip in client.search.query(index_id=index_id, query_text="a red car",
        ...                                 max_results=5):  # doctest: +SKIP
        ...     print(clip.video_id, clip.start_s, clip.end_s, clip.rank)
    """

    def query(
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
    ) -> Iterator[SearchClip]:
        """Iterate over matching clips, best first, fetching later pages only when needed.

        With ``group_by="video"`` the clips of each video are yielded one after another.
        ``max_results`` stops after that many clips.

        Example:
            >>> next(client.search.query(index_id=i, query_text="pasta")).rank  # doctest: +SKIP
            1
        """
        request = search_request(
            index_id=index_id,
            query_text=query_text,
            search_options=search_options,
            group_by=group_by,
            page_limit=page_limit,
            filter=filter,
            operator=operator,
        )
        return self._client._iterate(_query(request, self._ctx, max_results))


class AsyncSearch(AsyncResource):
    """``client.search`` of :class:`~tl_integrations.AsyncTwelveLabs` (``async for``).

    Example:
        >>> async for clip in client.search.query(index_id=i, query_text="x"):  # doctest: +SKIP
        ...     print(clip.video_id)
    """

    query = streamed(Search.query)
