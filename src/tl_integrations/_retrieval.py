"""Search hits as retrievable moments: what both retrievers return, written once.

A *moment* is one clip a search found, made ready for a framework: its text is what was
said in the clip (the search's transcription, else the video's transcript cut to the clip,
else a one-line description), its metadata is flat (``video_id``, ``index_id``,
``filename``, ``start_s``, ``end_s``, ``rank``, ``thumbnail_url``, ``video_url`` - the
video's stream, starting at the moment - and the video's user metadata), and its score is
``1 / rank``. Each video is looked up once per query, through the client's public methods
(several side by side). The LangChain and LlamaIndex retrievers turn moments into their
own types; the search itself is :meth:`~tl_integrations._resources.search.Search.query`.

Example:
    >>> moment_text("a red car", None, (), filename="cars.mp4", start_s=6.0, end_s=12.5)
    "cars.mp4, 0:06-0:12: a moment matching 'a red car' in picture or sound (nothing is said)"
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._adapters import AllOf, ClientCall, Plan, TimedLine, spoken_in
from ._errors import InvalidRequestError, check_int
from ._resources.search import (
    DEFAULT_SEARCH_OPTIONS,
    FilterLike,
    ImageLike,
    SearchClip,
    SearchQuery,
    filter_terms,
)
from ._resources.videos import Video

__all__ = [
    "IndexRef",
    "Moment",
    "SearchSettings",
    "clock",
    "find_index",
    "find_moments",
    "looks_like_id",
    "moment_text",
]

logger = logging.getLogger("tl_integrations")

# Our own bookkeeping in user metadata (file hashes, upload tokens): not the user's content.
_PRIVATE_PREFIX = "tl_"
_NAMESPACE = uuid.UUID("0f5c3a8e-2b6d-4e43-9a07-5b1c8d2e7f10")
_HEX = frozenset("0123456789abcdef")


def clock(seconds: float) -> str:
    """Seconds as ``m:ss`` (``h:mm:ss`` past an hour), for people and language models.

    Example:
        >>> clock(6.4), clock(75), clock(3725)
        ('0:06', '1:15', '1:02:05')
    """
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def moment_text(
    query: str | None,
    transcription: str | None,
    transcript: Iterable[TimedLine],
    *,
    filename: str,
    start_s: float,
    end_s: float,
) -> str:
    """What a moment says: its transcription, the transcript's words in it, or one line.

    Example:
        >>> moment_text("bread", None, [(3, 7, "we bake bread")], filename="a.mp4",
        ...             start_s=4, end_s=8)
        'we bake bread'
    """
    said = (transcription or "").strip() or spoken_in(transcript, start_s, end_s)
    if said:
        return said
    what = repr(query) if query else "the image"
    return (
        f"{filename}, {clock(start_s)}-{clock(end_s)}: a moment matching {what} in "
        "picture or sound (nothing is said)"
    )


@dataclass(frozen=True)
class Moment:
    """One retrieved clip: stable id, text, flat metadata, rank (1 is best) and score.

    ``score`` is ``1 / rank``: 1.0 for the best hit, 0.5 for the second... It orders the
    hits of one search; it is not a similarity and says nothing across searches.

    Example:
        >>> Moment("m1", "hello", {"rank": 2}, rank=2).score
        0.5
    """

    id: str
    text: str
    metadata: dict[str, Any]
    rank: int

    @property
    def score(self) -> float:
        """``1 / rank``."""
        return 1.0 / max(1, self.rank)


class IndexRef:
    """An index given by id, or by name and looked up once (thread-safe).

    Example:
        >>> IndexRef(index_id="i1", index_name=None).label
        'i1'
    """

    def __init__(self, *, index_id: str | None, index_name: str | None) -> None:
        if (index_id is None) == (index_name is None):
            raise InvalidRequestError("give index_id or index_name (one of them)")
        for name, value in (("index_id", index_id), ("index_name", index_name)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InvalidRequestError(f"{name} must be a non-empty string, got {value!r}")
        self.index_name = index_name
        self._id = index_id
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # A copy (a pickled retriever) takes the settings, not the lock.
        return {"index_name": self.index_name, "_id": self._id}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        """How messages name the index."""
        return self.index_name or str(self._id)

    def resolve(self) -> Plan[str]:
        """The index id (a name is looked up on first use, then remembered)."""
        with self._lock:
            known = self._id
        if known is not None:
            return known
        name = str(self.index_name)
        found = yield from find_index(name)
        with self._lock:
            self._id = found
        return found


def looks_like_id(value: str) -> bool:
    """Whether ``value`` has the shape of an API id (24 hex digits).

    Example:
        >>> looks_like_id("6711a0c2e4a1b37f8a9c5d00"), looks_like_id("talks")
        (True, False)
    """
    return len(value) == 24 and set(value.lower()) <= _HEX


def find_index(name: str) -> Plan[str]:
    """The id of the index called exactly ``name``.

    Raises:
        InvalidRequestError: no index has that name.
    """
    indexes = yield ClientCall(lambda c: c.indexes.list(name=name), collect=True)
    for index in indexes:
        if index.name == name:
            return str(index.id)
    raise InvalidRequestError(
        f"no index named {name!r}; check the name (indexes.list() shows them) or pass index_id"
    )


@dataclass(frozen=True)
class SearchSettings:
    """How a retriever searches; checked on construction (the same checks as a search).

    Example:
        >>> SearchSettings(search_options=("visual",), transcription_options=("lexical",))
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: transcription_options apply to the ...
    """

    search_options: Sequence[str] = DEFAULT_SEARCH_OPTIONS
    transcription_options: Sequence[str] | None = None
    operator: Literal["or", "and"] | None = None
    filter: Mapping[str, Any] | None = field(default=None)

    def __post_init__(self) -> None:
        self.check(k=1, filter=self.filter)

    def check(self, *, k: int, filter: FilterLike | None) -> SearchQuery:
        """The search these settings make for ``k`` results, checked (nothing is sent)."""
        check_int("k", k)
        return SearchQuery.build(
            index_id="index",
            query_text="query",
            search_options=self.search_options,
            transcription_options=self.transcription_options,
            operator=self.operator,
            page_limit=min(k, 50),
            filter=filter,
        )


def find_moments(
    query: str | None,
    index: IndexRef,
    settings: SearchSettings,
    *,
    k: int,
    filter: FilterLike | None = None,
    images: Sequence[ImageLike] | None = None,
) -> Plan[list[Moment]]:
    """Search, look each video up once, and make the ``k`` best clips into moments.

    ``filter`` (if given) replaces the settings' filter for this search; ``images`` make it
    an image (or, with ``query``, a composed) search.
    """
    terms = filter_terms(filter if filter is not None else settings.filter)
    settings.check(k=k, filter=terms)
    index_id = yield from index.resolve()
    clips: list[SearchClip] = yield ClientCall(
        lambda c: c.search.query(
            index_id=index_id,
            query_text=query,
            images=images,
            search_options=settings.search_options,
            transcription_options=settings.transcription_options,
            operator=settings.operator,
            filter=terms,
            page_limit=min(k, 50),
            max_results=k,
        ),
        collect=True,
    )
    needs_text: dict[str, bool] = {}
    for clip in clips:
        needs_text[clip.video_id] = needs_text.get(clip.video_id, False) or not clip.transcription
    ids = list(needs_text)
    found = yield AllOf(tuple(_lookup(index_id, v, needs_text[v]) for v in ids))
    videos: dict[str, Video] = {}
    for video_id, video in zip(ids, found, strict=True):
        if isinstance(video, Video):
            videos[video_id] = video
        else:  # deleted since the search, say: the moment is still worth returning
            logger.warning("could not look up video %s: %s", video_id, video)
    return [
        _moment(query, index_id, clip, videos.get(clip.video_id), position)
        for position, clip in enumerate(clips, 1)
    ]


def _lookup(index_id: str, video_id: str, transcription: bool) -> ClientCall:
    # The transcript is fetched only for videos some of whose clips came without text.
    return ClientCall(lambda c: c.videos.retrieve(index_id, video_id, transcription=transcription))


def _moment(
    query: str | None, index_id: str, clip: SearchClip, video: Video | None, position: int
) -> Moment:
    filename = (video.system_metadata.filename if video else None) or f"video {clip.video_id}"
    rank = clip.rank or position
    metadata: dict[str, Any] = {
        key: value
        for key, value in (video.user_metadata if video else {}).items()
        if not key.startswith(_PRIVATE_PREFIX) and value is not None
    }
    ours = {
        "video_id": clip.video_id,
        "index_id": index_id,
        "filename": filename,
        "start_s": clip.start_s,
        "end_s": clip.end_s,
        "rank": rank,
        "thumbnail_url": clip.thumbnail_url,
        "video_url": _stream_at(video, clip.start_s),
    }
    metadata.update({key: value for key, value in ours.items() if value is not None})
    text = moment_text(
        query,
        clip.transcription,
        (video.transcription or ()) if video else (),
        filename=filename,
        start_s=clip.start_s,
        end_s=clip.end_s,
    )
    key = f"{index_id}|{clip.video_id}|{clip.start_s:.3f}|{clip.end_s:.3f}"
    return Moment(str(uuid.uuid5(_NAMESPACE, key)), text, metadata, rank)


def _stream_at(video: Video | None, start_s: float) -> str | None:
    """The video's stream, starting at ``start_s`` (a media fragment), when it has one."""
    hls = (video.hls if video else None) or {}
    url = hls.get("video_url")
    if not isinstance(url, str) or not url or hls.get("status") not in (None, "COMPLETE"):
        return None
    return f"{url.split('#', 1)[0]}#t={start_s:g}"
