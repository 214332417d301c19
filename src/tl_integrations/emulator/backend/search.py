"""Search: rank the clips of an index's ready videos against a text, serve pages by token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from .. import semantics
from ..segments import segment_text
from .errors import Invalid, invalid, missing
from .models import SEARCH_OPTIONS, TEXT_LIMITS, truncate_text
from .records import IndexRec, VideoRec
from .store import Store
from .videos import Videos, system_values

__all__ = [
    "THRESHOLDS",
    "Hit",
    "Search",
    "SearchPage",
    "SearchRequest",
    "SearchSession",
    "VideoGroup",
]

THRESHOLDS = {"high": 0.5, "medium": 0.3, "low": 0.15, "none": -1.0}
MIN_SIMILARITY = 0.05  # below this a clip is noise, not a match
MAX_PAGE_LIMIT = 50
_MAX_SESSIONS = 1000


@dataclass(frozen=True)
class SearchRequest:
    """What one search asks for, as sent (the backend checks the values).

    Example:
        >>> SearchRequest("idx", "a red kite", ["visual"]).group_by
        'clip'
    """

    index_id: str | None
    text: str | None
    options: list[str]
    operator: str = "or"
    threshold: str | None = None
    filter: dict[str, Any] = field(default_factory=dict)
    group_by: str = "clip"
    page_limit: int = 10
    with_metadata: bool = False
    media_query: bool = False


@dataclass(frozen=True)
class Hit:
    """One matching clip: its video, bounds, similarity, rank and spoken words.

    Example:
        >>> Hit(video, 0.0, 3.0, 0.6, 1, "Hi.").rank  # doctest: +SKIP
        1
    """

    video: VideoRec
    start_s: float
    end_s: float
    similarity: float
    rank: int
    transcription: str


@dataclass(frozen=True)
class VideoGroup:
    """The hits of one video, for ``group_by=video``.

    Example:
        >>> VideoGroup("v", []).clips
        []
    """

    video_id: str
    clips: list[Hit]


Item: TypeAlias = "Hit | VideoGroup"


@dataclass
class SearchSession:
    """The ranked results of one search, served page by page.

    Example:
        >>> session = SearchSession("s", "marengo3.0", [[]], 10, 0, None, {}, 0.0, False)
        >>> SearchPage(session, 0).next_token is None
        True
    """

    id: str
    marengo: str
    pages: list[list[Item]]
    page_limit: int
    total_results: int
    total_inner_matches: int | None
    pool: dict[str, Any]
    expires_at: float
    with_metadata: bool


@dataclass(frozen=True)
class SearchPage:
    """One page of a session; tokens name the neighbouring pages.

    Example:
        >>> SearchPage(session, 0).prev_token is None  # doctest: +SKIP
        True
    """

    session: SearchSession
    number: int

    @property
    def items(self) -> list[Item]:
        """The hits (or video groups) on this page."""
        return self.session.pages[self.number]

    @property
    def next_token(self) -> str | None:
        """The token of the next page, if there is one."""
        more = self.number + 1 < len(self.session.pages)
        return f"{self.session.id}-{self.number + 1}" if more else None

    @property
    def prev_token(self) -> str | None:
        """The token of the previous page, if there is one."""
        return f"{self.session.id}-{self.number - 1}" if self.number > 0 else None


def _filter_ok(video: VideoRec, flt: dict[str, Any]) -> bool:
    info = video.info
    assert info is not None
    system = system_values(video)
    for key, want in flt.items():
        if key == "id":
            ok = video.id in (want if isinstance(want, list) else [want])
        elif key == "filename":
            ok = info.filename == want
        elif key in system and isinstance(want, dict):
            ok = want.get("gte", -np.inf) <= system[key] <= want.get("lte", np.inf)
        elif key in system:
            ok = abs(system[key] - float(want)) < 1e-6
        else:
            have = video.user_metadata.get(key)
            ok = have == want or (isinstance(want, list) and have in want)
        if not ok:
            return False
    return True


class Search:
    """Text search over the clips of ready videos; results are kept for paging.

    Example:
        >>> page = search.run(SearchRequest(index_id, "penguins", ["visual"]))  # doctest: +SKIP
        >>> page.items[0].video.id  # doctest: +SKIP
        '...'
    """

    def __init__(self, store: Store, videos: Videos) -> None:
        self.store = store
        self.videos = videos
        self._sessions: dict[str, SearchSession] = {}

    def reset(self) -> None:
        """Forget every session."""
        self._sessions.clear()

    def _check(self, request: SearchRequest) -> tuple[str, str]:
        if not request.index_id:
            raise missing("index_id")
        if request.media_query:
            raise invalid("query_media_type", "the emulator searches with text only (query_text)")
        if not request.text:
            raise missing("query_text")
        if request.group_by not in ("clip", "video"):
            raise invalid("group_by", f"must be clip or video, got {request.group_by!r}")
        if not 1 <= request.page_limit <= MAX_PAGE_LIMIT:
            raise invalid(
                "page_limit", f"must be between 1 and {MAX_PAGE_LIMIT}, got {request.page_limit}"
            )
        return request.index_id, request.text

    def _options(self, request: SearchRequest, index: IndexRec) -> list[str]:
        if not request.options:
            raise missing("search_options")
        table = SEARCH_OPTIONS[index.marengo or "marengo3.0"]
        for option in request.options:
            if option not in table or table[option] not in index.embedding_options:
                raise Invalid(
                    None,
                    f"The search option {option!r} is not supported by this index "
                    f"({index.marengo}, options {index.model_options}).",
                    code="search_option_not_supported",
                )
        return [table[o] for o in dict.fromkeys(request.options)]

    def _clip_scores(
        self, video: VideoRec, query: NDArray[np.float32], options: list[str], operator: str
    ) -> list[tuple[float, float, float]]:
        segments = self.store.records.segments.get(video.id)
        if segments is None:
            return []
        per_option = []
        for option in options:
            rows = segments.rows(options=[option], scope="clip")
            per_option.append((rows, segments.vectors[rows] @ query if rows else np.zeros(0)))
        rows0 = per_option[0][0]
        stacked = np.vstack([sims for _, sims in per_option]) if rows0 else np.zeros((1, 0))
        combined = stacked.max(axis=0) if operator == "or" else stacked.min(axis=0)
        return [
            (float(segments.start_s[r]), float(segments.end_s[r]), float(s))
            for r, s in zip(rows0, combined, strict=True)
        ]

    def _rank(self, index: IndexRec, request: SearchRequest, text: str) -> list[Hit]:
        options = self._options(request, index)
        if request.operator not in ("or", "and"):
            raise invalid("operator", f"must be or/and, got {request.operator!r}")
        query = semantics.embed_text(text, dim=index.dim)
        floor = MIN_SIMILARITY
        if index.marengo == "marengo2.7":
            floor = max(floor, THRESHOLDS.get((request.threshold or "low").lower(), 0.15))
        found = []
        for video in self.videos.ready(index.id):
            if _filter_ok(video, request.filter):
                found += [
                    (video, s, e, sim)
                    for s, e, sim in self._clip_scores(video, query, options, request.operator)
                    if sim >= floor
                ]
        found.sort(key=lambda h: (-h[3], h[0].created_at, h[1]))
        hits = []
        for rank, (video, start, end, sim) in enumerate(found, start=1):
            assert video.info is not None
            spoken = segment_text(video.info, start, end)
            hits.append(Hit(video, start, end, sim, rank, spoken))
        return hits

    def run(self, request: SearchRequest) -> SearchPage:
        """Rank, keep the session for its page tokens, and return the first page.

        Raises:
            NotFound: When the index does not exist.
            Invalid: For bad parameters or an index without Marengo.
        """
        index_id, text = self._check(request)
        store = self.store
        with store.lock:
            index = store.index(index_id)
            if not index.marengo:
                raise Invalid(
                    None,
                    f"The index {index_id!r} has no Marengo model.",
                    code="index_not_supported_for_search",
                )
            text = truncate_text(
                text, limit=TEXT_LIMITS[index.marengo], mode="end", field="query_text"
            )
            hits = self._rank(index, request, text)
            items: list[Item] = list(hits)
            if request.group_by == "video":
                groups: dict[str, list[Hit]] = {}
                for hit in hits:
                    groups.setdefault(hit.video.id, []).append(hit)
                items = [VideoGroup(vid, clips) for vid, clips in groups.items()]
            limit = request.page_limit
            pages = [items[i : i + limit] for i in range(0, len(items), limit)] or [[]]
            videos = self.videos.ready(index.id)
            duration = sum(v.info.duration_s for v in videos if v.info)
            pool = {
                "total_count": len(videos),
                "total_duration": round(duration, 3),
                "index_id": index.id,
            }
            session = SearchSession(
                id=store.new_id(),
                marengo=index.marengo,
                pages=pages,
                page_limit=limit,
                total_results=len(items),
                total_inner_matches=len(hits) if request.group_by == "video" else None,
                pool=pool,
                expires_at=store.now() + store.config.search_page_ttl_s,
                with_metadata=request.with_metadata,
            )
            self._sessions[session.id] = session
            while len(self._sessions) > _MAX_SESSIONS:
                self._sessions.pop(next(iter(self._sessions)))
        return SearchPage(session, 0)

    def page(self, token: str) -> SearchPage:
        """Another page of an earlier search.

        Raises:
            Invalid: For an unknown token (``parameter_invalid``) or an expired one
                (``search_page_token_expired``).
        """
        sid, _, raw = token.rpartition("-")
        with self.store.lock:
            session = self._sessions.get(sid)
            if session is None or not raw.isdigit() or int(raw) >= len(session.pages):
                raise invalid("page_token", f"unknown page token {token!r}")
            if self.store.now() > session.expires_at:
                raise Invalid(
                    None,
                    f"The page token {token!r} has expired.",
                    code="search_page_token_expired",
                )
            return SearchPage(session, int(raw))
