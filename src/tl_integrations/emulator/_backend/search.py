"""Search: rank the clips of an index's ready videos against a query, serve pages by token.

A query is text, images (up to 10), both (a composed query), and its text may name entities
as ``<@entity_id>``. Each search option scores a clip on its own:

- ``visual``: the cosine of the clip's visual vector with the text's words, and for images
  the cosine of the clip's colours with each image's (``semantics.embed_picture``), the best
  image counting: a picture is compared with the picture, not with what is said over it. A
  composed query scores the mean of the two;
- ``audio``: the cosine of the clip's audio vector (non-speech sound on Marengo 3.0) with the
  text's; an image has no sound, so it takes no part;
- ``transcription``: what is said in the clip, ``semantic`` (the cosine with the spoken
  words' vector) and ``lexical`` (the share of the query's words said as written), the better
  of the two that ``transcription_options`` asks for (both by default).

A clip matches an option when its score reaches that option's floor; ``operator`` ``or``
keeps clips matching any option (ranked by their best score), ``and`` those matching all
(ranked by their worst). Named entities narrow the search to the clips showing every one of
them (``Entities.looks``), ranked by the rest of the query, or by how much of the clip shows
them when nothing else is asked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import anyio.to_thread
import numpy as np
from numpy.typing import NDArray

from .. import _semantics as semantics
from .._media import MediaError, MediaInfo, Picture, probe_picture
from .._segments import SegmentSet, segment_text
from .entities import Entities, Look
from .errors import EmulatorError, Invalid, invalid, missing
from .ingest import LocalFile, RemoteUrl, Upload, discard, receive
from .models import SEARCH_OPTIONS, TEXT_LIMITS, truncate_text
from .records import IndexRec, VideoRec
from .store import Store
from .videos import SYSTEM_FIELDS, Videos, system_values

__all__ = [
    "MAX_IMAGES",
    "THRESHOLDS",
    "TRANSCRIPTION_OPTIONS",
    "Hit",
    "Search",
    "SearchPage",
    "SearchRequest",
    "SearchSession",
    "VideoGroup",
]

THRESHOLDS = {"high": 0.5, "medium": 0.3, "low": 0.15, "none": -1.0}
MIN_SIMILARITY = 0.05  # below this a clip is noise, not a match
# An image is only colours, about a quarter of a visual vector that also holds speech: a
# clip of the image's colours scores near 0.25, chance overlaps of word vectors stay below.
IMAGE_MIN_SIMILARITY = 0.15
# Every clip of a file has the same sound (the emulator only knows whether there is any), so
# a query must name it: chance overlaps of word vectors would otherwise match whole files.
AUDIO_MIN_SIMILARITY = 0.2
SHOWN_SHARE = 0.5  # a clip shows an entity when its colour fills at least half of the clip
MAX_PAGE_LIMIT = 50
MAX_IMAGES = 10
TRANSCRIPTION_OPTIONS = ("lexical", "semantic")
_MAX_SESSIONS = 1000
_MENTION = re.compile(r"<@([^<>\s]+)>")
_VISUAL = ("visual", "visual-text")

ImageSource: TypeAlias = "LocalFile | RemoteUrl"


@dataclass(frozen=True)
class SearchRequest:
    """What one search asks for, as sent (the backend checks the values).

    ``images`` are the query images (files already received, or URLs to fetch); the search
    owns them and deletes received files when done.

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
    media_type: str | None = None
    images: tuple[ImageSource, ...] = ()
    transcription_options: tuple[str, ...] | None = None


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


@dataclass(frozen=True)
class _Query:
    """A checked query: the words (entity mentions taken out), the entities named, the
    query images' colour samples, and how spoken words are matched."""

    words: str | None
    entity_ids: tuple[str, ...]
    pictures: tuple[Picture, ...]
    transcription: tuple[str, ...]


# --------------------------------------------------------------------------- filters


def _bad_filter(message: str) -> Invalid:
    return Invalid("filter", f"filter: {message}", code="search_filter_invalid")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_range(key: str, want: dict[str, Any]) -> None:
    if not want or set(want) - {"gte", "lte"}:
        raise _bad_filter(f"{key!r} takes a number or {{'gte': n, 'lte': n}}, got {want!r}")
    if not all(_is_number(v) for v in want.values()):
        raise _bad_filter(f"the bounds of {key!r} must be numbers, got {want!r}")


def check_filter(flt: dict[str, Any]) -> None:
    """Refuse a filter the API's syntax does not allow (``search_filter_invalid``).

    Example:
        >>> check_filter({"id": ["v1"], "duration": {"gte": 10}, "views": {"lte": 5}})
        >>> try:
        ...     check_filter({"views": {"gt": 5}})
        ... except Invalid as err:
        ...     print(err.code)
        search_filter_invalid
    """
    for key, want in flt.items():
        if key == "id":
            ids = want if isinstance(want, list) else [want]
            if not ids or not all(isinstance(i, str) for i in ids):
                raise _bad_filter(f"'id' takes a list of video ids, got {want!r}")
        elif isinstance(want, dict):
            _check_range(key, want)
        elif key in SYSTEM_FIELDS and not _is_number(want):
            raise _bad_filter(f"{key!r} takes a number or a range, got {want!r}")
        elif key == "filename" and not isinstance(want, str):
            raise _bad_filter(f"'filename' takes the exact file name, got {want!r}")


def _in_range(have: Any, want: dict[str, Any]) -> bool:
    if not _is_number(have):
        return False
    return bool(want.get("gte", -np.inf) <= have <= want.get("lte", np.inf))


def _filter_ok(video: VideoRec, flt: dict[str, Any]) -> bool:
    info = video.info
    assert info is not None
    system = system_values(video)
    for key, want in flt.items():
        if key == "id":
            ok = video.id in (want if isinstance(want, list) else [want])
        elif key == "filename":
            ok = info.filename == want
        elif key in system:
            ok = (
                _in_range(system[key], want)
                if isinstance(want, dict)
                else (abs(system[key] - float(want)) < 1e-6)
            )
        else:
            have = video.user_metadata.get(key)
            if isinstance(want, dict):
                ok = _in_range(have, want)
            else:
                ok = have == want or (isinstance(want, list) and have in want)
        if not ok:
            return False
    return True


# --------------------------------------------------------------------------- scoring


def _lexical(words: list[str], spoken: str) -> float:
    """The share of the query's words said in the clip exactly as written."""
    said = {surface for _, surface in semantics.stemmed_words(spoken)}
    return sum(1 for w in words if w in said) / len(words) if words else 0.0


@dataclass(frozen=True)
class _Scorer:
    """Scores every clip of a video for each search option the query can use."""

    options: list[str]
    query: _Query
    vectors: dict[str, NDArray[np.float32]]  # the words, per option
    pictures: NDArray[np.float32]  # one row per query image
    floors: dict[str, float]

    @property
    def asks(self) -> bool:
        """Whether the query has words or images (else only named entities)."""
        return bool(self.vectors) or len(self.pictures) > 0

    def option_scores(
        self, segments: SegmentSet, info: MediaInfo, bounds: list[tuple[float, float]]
    ) -> dict[str, NDArray[np.float64]]:
        found: dict[str, NDArray[np.float64]] = {}
        for option in self.options:
            vector = self.vectors.get(option)
            seen = self._seen(info, bounds) if option in _VISUAL and len(self.pictures) else None
            if vector is None and seen is None:
                continue
            rows = segments.rows(options=[option], scope="clip")
            said = None if vector is None else np.asarray(segments.vectors[rows] @ vector)
            if option == "transcription" and said is not None:
                said = self._spoken(said, info, bounds)
            parts = [p for p in (said, seen) if p is not None]
            found[option] = np.asarray(np.mean(parts, axis=0), np.float64)
        return found

    def _seen(self, info: MediaInfo, bounds: list[tuple[float, float]]) -> NDArray[np.float64]:
        """Each clip's best cosine between its colours and one of the query's images."""
        dim = self.pictures.shape[1]
        clips = np.vstack(
            [
                semantics.embed_segment(
                    text="", colours=semantics.segment_colours(info, start_s=a, end_s=b), dim=dim
                )
                for a, b in bounds
            ]
        )
        return np.asarray((clips @ self.pictures.T).max(axis=1), np.float64)

    def _spoken(
        self, semantic: NDArray[np.float64], info: MediaInfo, bounds: list[tuple[float, float]]
    ) -> NDArray[np.float64]:
        modes = self.query.transcription
        words = [surface for _, surface in semantics.stemmed_words(self.query.words or "")]
        best = np.zeros(len(bounds), np.float64)
        for i, (start, end) in enumerate(bounds):
            spoken = segment_text(info, start, end)
            if not spoken:
                continue  # nothing is said: the clip's transcription vector is no words
            if "semantic" in modes:
                best[i] = semantic[i]
            if "lexical" in modes:
                best[i] = max(best[i], _lexical(words, spoken))
        return best

    def combine(
        self, scores: dict[str, NDArray[np.float64]], operator: str, *, gate: bool
    ) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        """Which clips match (when ``gate``) and the score each is ranked by."""
        stacked = np.vstack(list(scores.values()))
        passed = np.vstack([scores[o] >= self.floors[o] for o in scores])
        if operator == "and":
            matched, ranked = passed.all(axis=0), stacked.min(axis=0)
        else:
            matched = passed.any(axis=0)
            best_passing = np.where(passed, stacked, -np.inf).max(axis=0)
            ranked = np.where(matched, best_passing, stacked.max(axis=0))
        if not gate:
            matched = np.ones_like(matched)
        return np.asarray(matched, np.bool_), np.asarray(ranked, np.float64)


def _shown(info: MediaInfo, start: float, end: float, looks: dict[str, Look]) -> float | None:
    """How much of the clip shows the least visible named entity (None: one is not shown)."""
    colours = semantics.segment_colours(info, start_s=start, end_s=end)
    least = 1.0
    for look in looks.values():
        share = max((semantics.colour_share(colours, rgb) for rgb in look), default=0.0)
        if share < SHOWN_SHARE:
            return None
        least = min(least, share)
    return least


class Search:
    """Search over the clips of ready videos; results are kept for paging.

    Args:
        store: The records.
        videos: The videos of the indexes.
        entities: The entities a query can name.

    Example:
        >>> page = await search.run(SearchRequest(index_id, "penguins", ["visual"]))
        ... # doctest: +SKIP
        >>> page.items[0].video.id  # doctest: +SKIP
        '...'
    """

    def __init__(self, store: Store, videos: Videos, entities: Entities) -> None:
        self.store = store
        self.videos = videos
        self.entities = entities
        self._sessions: dict[str, SearchSession] = {}

    def reset(self) -> None:
        """Forget every session."""
        self._sessions.clear()

    # ------------------------------------------------------------------ checking

    def _check(self, request: SearchRequest) -> str:
        if not request.index_id:
            raise missing("index_id")
        self._check_media(request)
        if not request.text and not request.images:
            raise missing("query_text")
        if request.group_by not in ("clip", "video"):
            raise invalid("group_by", f"must be clip or video, got {request.group_by!r}")
        if not 1 <= request.page_limit <= MAX_PAGE_LIMIT:
            raise invalid(
                "page_limit", f"must be between 1 and {MAX_PAGE_LIMIT}, got {request.page_limit}"
            )
        if request.operator not in ("or", "and"):
            raise invalid("operator", f"must be or/and, got {request.operator!r}")
        _transcription_options(request)
        check_filter(request.filter)
        return request.index_id

    def _check_media(self, request: SearchRequest) -> None:
        if request.media_type is not None and request.media_type != "image":
            raise invalid("query_media_type", f"must be image, got {request.media_type!r}")
        if request.images and request.media_type is None:
            raise Invalid(
                "query_media_type",
                "Send query_media_type=image with query_media_url or query_media_file.",
                code="parameter_not_provided",
            )
        if request.media_type and not request.images:
            raise Invalid(
                "query_media_url",
                "An image query needs query_media_url or query_media_file (up to "
                f"{MAX_IMAGES} images).",
                code="parameter_not_provided",
            )
        if len(request.images) > MAX_IMAGES:
            raise invalid(
                "query_media_file",
                f"a search takes at most {MAX_IMAGES} images, got {len(request.images)}",
            )

    def _options(self, request: SearchRequest, index: IndexRec, query: _Query) -> list[str]:
        """The embedding options to score, in order (those the query has something for)."""
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
        chosen = [table[o] for o in dict.fromkeys(request.options)]
        if query.words is not None or query.entity_ids:
            return chosen
        usable = [o for o in chosen if o in _VISUAL]
        if not usable:
            raise Invalid(
                "search_options",
                "An image query searches the picture: add visual to search_options (an image "
                "has no sound or speech).",
                code="search_option_combination_not_supported",
            )
        return usable

    async def _pictures(self, sources: Sequence[ImageSource]) -> list[Picture]:
        """Receive each query image and read its colours; every received file is deleted."""
        limit = self.store.config.uploads.image_bytes
        uploads: list[Upload] = []
        try:
            pictures = []
            for source in sources:
                upload = await receive(self.store, source, max_bytes=limit)
                uploads.append(upload)
                field = source.field if isinstance(source, RemoteUrl) else "query_media_file"
                pictures.append(await anyio.to_thread.run_sync(_read_picture, upload, field))
            return pictures
        finally:
            for upload in uploads:
                upload.discard()
            for source in sources[len(uploads) :]:
                discard(source)

    # ------------------------------------------------------------------ ranking

    def _vectors(
        self, index: IndexRec, options: list[str], query: _Query
    ) -> dict[str, NDArray[np.float32]]:
        """The query's words as a vector, for each option it has words for."""
        if not query.words:
            return {}
        text = semantics.embed_text(query.words, dim=index.dim)
        return dict.fromkeys(options, text)

    def _floors(self, index: IndexRec, request: SearchRequest, query: _Query) -> dict[str, float]:
        floor = MIN_SIMILARITY
        if index.marengo == "marengo2.7":
            floor = max(floor, THRESHOLDS.get((request.threshold or "low").lower(), 0.15))
        visual = floor if query.words else max(floor, IMAGE_MIN_SIMILARITY)
        floors = {"audio": max(floor, AUDIO_MIN_SIMILARITY), "transcription": floor}
        return floors | dict.fromkeys(_VISUAL, visual)

    def _rank(self, index: IndexRec, request: SearchRequest, query: _Query) -> list[Hit]:
        options = self._options(request, index, query)
        looks = self.entities.looks(query.entity_ids)
        vectors = self._vectors(index, options, query)
        pictures = [semantics.embed_picture(p, dim=index.dim) for p in query.pictures]
        scorer = _Scorer(
            options,
            query,
            vectors,
            np.vstack(pictures) if pictures else np.zeros((0, index.dim), np.float32),
            self._floors(index, request, query),
        )
        found = []
        for video in self.videos.ready(index.id):
            if _filter_ok(video, request.filter):
                found += self._video_hits(video, scorer, request.operator, looks)
        found.sort(key=lambda h: (-h[3], h[0].created_at, h[1]))
        hits = []
        for rank, (video, start, end, score) in enumerate(found, start=1):
            assert video.info is not None
            spoken = segment_text(video.info, start, end)
            hits.append(Hit(video, start, end, score, rank, spoken))
        return hits

    def _video_hits(
        self, video: VideoRec, scorer: _Scorer, operator: str, looks: dict[str, Look]
    ) -> list[tuple[VideoRec, float, float, float]]:
        segments = self.store.records.segments.get(video.id)
        info = video.info
        if segments is None or info is None:
            return []
        first = scorer.options[0]
        rows = segments.rows(options=[first], scope="clip")
        bounds = [(float(segments.start_s[r]), float(segments.end_s[r])) for r in rows]
        matched, scores = np.ones(len(bounds), np.bool_), np.zeros(len(bounds), np.float64)
        if scorer.asks:
            by_option = scorer.option_scores(segments, info, bounds)
            # Named entities are the match; the rest of the query only orders their clips.
            matched, scores = scorer.combine(by_option, operator, gate=not looks)
        hits = []
        for i, (start, end) in enumerate(bounds):
            shown = _shown(info, start, end, looks) if looks else 1.0
            if shown is not None and matched[i]:
                score = float(scores[i]) if scorer.asks else shown
                hits.append((video, start, end, score))
        return hits

    async def run(self, request: SearchRequest) -> SearchPage:
        """Read the query images, rank, keep the session for its page tokens, and return the
        first page.

        Raises:
            NotFound: When the index does not exist.
            Invalid: For bad parameters, an image that is not one, an entity that is unknown
                or not ready, or an index without Marengo.
        """
        try:
            index_id = self._check(request)
            with self.store.lock:
                self._answerable(index_id, request)  # refuse before fetching any image
        except EmulatorError:
            for source in request.images:
                discard(source)
            raise
        pictures = await self._pictures(request.images)
        with self.store.lock:
            index = self._answerable(index_id, request)
            hits = self._rank(index, request, _query(request, index, pictures))
            session = self._keep(index, request, hits)
        return SearchPage(session, 0)

    def _answerable(self, index_id: str, request: SearchRequest) -> IndexRec:
        """The index, if it can answer this query: it has Marengo, it takes composed queries
        if this is one, and it has the options asked for (call under the lock)."""
        index = self.store.index(index_id)
        if not index.marengo:
            raise Invalid(
                None,
                f"The index {index_id!r} has no Marengo model.",
                code="index_not_supported_for_search",
            )
        words = _MENTION.sub(" ", request.text or "").strip()
        if request.images and words and index.marengo != "marengo3.0":
            raise Invalid(
                "query_media_type",
                f"Composed text and image queries need a Marengo 3.0 index; {index_id!r} uses "
                f"{index.marengo}. Search with the text or the images alone.",
                code="search_option_combination_not_supported",
            )
        self._options(request, index, _query(request, index, []))
        return index

    def _keep(self, index: IndexRec, request: SearchRequest, hits: list[Hit]) -> SearchSession:
        """Page the results and keep them as a session (call under the lock)."""
        store = self.store
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
            marengo=index.marengo or "marengo3.0",
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
        return session

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


def _transcription_options(request: SearchRequest) -> tuple[str, ...]:
    """``lexical`` and/or ``semantic`` (both by default); only with ``transcription``."""
    given = request.transcription_options
    if given is None:
        return TRANSCRIPTION_OPTIONS
    bad = [o for o in given if o not in TRANSCRIPTION_OPTIONS]
    if bad or not given:
        raise invalid(
            "transcription_options",
            f"values must be among {list(TRANSCRIPTION_OPTIONS)}, got {list(given)}",
        )
    if "transcription" not in request.options:
        raise Invalid(
            "transcription_options",
            "transcription_options apply to the transcription search option: add "
            "transcription to search_options, or leave transcription_options out.",
            code="search_option_combination_not_supported",
        )
    return tuple(dict.fromkeys(given))


def _query(request: SearchRequest, index: IndexRec, pictures: list[Picture]) -> _Query:
    """Split the text into entity mentions and words (cut to the model's token limit)."""
    text = request.text or ""
    mentioned = tuple(dict.fromkeys(_MENTION.findall(text)))
    words = _MENTION.sub(" ", text).strip()
    if words:
        limit = TEXT_LIMITS[index.marengo or "marengo3.0"]
        words = truncate_text(words, limit=limit, mode="end", field="query_text")
    return _Query(
        words=words or None,
        entity_ids=mentioned,
        pictures=tuple(pictures),
        transcription=_transcription_options(request),
    )


def _unit(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    norm = float(np.linalg.norm(vector))
    return np.asarray(vector / norm if norm > 0 else vector, dtype=np.float32)


def _read_picture(upload: Upload, field: str) -> Picture:
    try:
        return probe_picture(upload.path, filename=upload.filename, still=True)
    except MediaError as exc:
        raise Invalid(
            field,
            f"{field}: {upload.filename or 'the file'} is not an image (JPEG, PNG ...): {exc}",
        ) from exc
