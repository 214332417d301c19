"""Search (``POST /search``): queries, filters, the clip model and ``client.search``.

A query is text, images (up to 10: local files, URLs or image assets), both at once (a
composed query), or text naming entities (``<@entity_id>``, see
:attr:`~tl_integrations.Entity.mention`). Every argument is checked before anything is
sent. Results come a page at a time; later pages are fetched only when the iteration
reaches them (and are not billed), by their page token.

Spoken words are searched by default: ``search_options`` is ``("visual", "audio",
"transcription")``; on Marengo 3.0 ``audio`` means non-speech sound and ``transcription``
the words said.

Example:
    >>> clip = SearchClip.from_api({"video_id": "v1", "start": 1, "end": 4, "rank": 1,
    ...                             "transcription": "hello"})
    >>> clip.start_s, clip.end_s, clip.rank, clip.transcription
    (1.0, 4.0, 1, 'hello')
    >>> SearchFilter().videos("v1", "v2").duration(gte=60).where("team", "blue").to_dict()
    {'id': ['v1', 'v2'], 'duration': {'gte': 60}, 'team': 'blue'}
"""

from __future__ import annotations

import math
import os
import pathlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from .._engine import fetch
from .._errors import InvalidRequestError, MalformedResponseError, check_int
from .._flows import Context, Emit, Flow
from .._transport import Request, path_segment, send_json
from .._uploads import UploadSource, media_type_of, safe_filename
from .._wire import as_object, opt_float, opt_int, opt_obj, opt_str
from . import AsyncResource, Resource, streamed
from .assets import ASSETS, Asset, check_media_file
from .videos import check_page_limit

__all__ = [
    "DEFAULT_SEARCH_OPTIONS",
    "AsyncSearch",
    "Search",
    "SearchClip",
    "SearchFilter",
    "SearchImage",
]

DEFAULT_SEARCH_OPTIONS: tuple[str, ...] = ("visual", "audio", "transcription")
"""What is searched unless told otherwise: the picture, non-speech sound and spoken words."""
SEARCH_OPTIONS = frozenset(DEFAULT_SEARCH_OPTIONS)
TRANSCRIPTION_OPTIONS = frozenset({"lexical", "semantic"})
MAX_IMAGES = 10
MAX_QUERY_TOKENS = 500
_SYSTEM_RANGES = ("duration", "width", "height", "size")
_MENTION = re.compile(r"<@([^<>\s]*)(>?)")


@dataclass(frozen=True)
class SearchClip:
    """One search hit: a clip of a video with its times and rank (1 is best).

    Attributes:
        video_id: the video (for ``group_by="video"``, the group's video).
        start_s / end_s: where the clip is in the video, in seconds.
        rank: 1 for the best match of the whole search.
        thumbnail_url: a frame of the clip, when the index makes thumbnails.
        transcription: what is said in the clip, when anything is.
        user_metadata: the video's user metadata (with ``include_user_metadata=True``).
        score / confidence: Marengo 2.7's answer instead of ``rank`` (None otherwise).

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
            thumbnail_url=opt_str(obj, "thumbnail_url", what) or None,
            transcription=opt_str(obj, "transcription", what) or None,
            user_metadata=opt_obj(obj, "user_metadata", what),
            raw=obj,
        )


# --- filters -------------------------------------------------------------------------------


def _number(value: Any, where: str, *, non_negative: bool) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidRequestError(f"filter {where}: expected a finite number, got {value!r}")
    if non_negative and value < 0:
        raise InvalidRequestError(f"filter {where}: must be >= 0, got {value!r}")
    return value


def _range(value: Mapping[str, Any], key: str, *, non_negative: bool) -> dict[str, Any]:
    extra = sorted(set(value) - {"gte", "lte"})
    if extra or not value:
        raise InvalidRequestError(
            f"filter {key!r}: a range takes 'gte' and/or 'lte' (inclusive bounds), got "
            f"{dict(value)!r}"
        )
    bounds = {b: _number(value[b], f"{key}.{b}", non_negative=non_negative) for b in value}
    if "gte" in bounds and "lte" in bounds and bounds["gte"] > bounds["lte"]:
        raise InvalidRequestError(
            f"filter {key!r}: gte ({bounds['gte']}) is above lte ({bounds['lte']}); nothing "
            "could match"
        )
    return {b: bounds[b] for b in ("gte", "lte") if b in bounds}


def _term(key: Any, value: Any) -> Any:
    """One filter term checked against the API's syntax; returns its wire value."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidRequestError(f"filter keys must be non-empty strings, got {key!r}")
    if key == "id":
        ids = [value] if isinstance(value, str) else value
        if isinstance(value, str) or not isinstance(ids, (list, tuple)) or not ids:
            raise InvalidRequestError(
                f"filter 'id' takes a non-empty list of video ids, e.g. {{'id': ['v1']}}, "
                f"got {value!r}"
            )
        return [path_segment(v, "filter id") and v for v in ids]
    system = key in _SYSTEM_RANGES
    if isinstance(value, Mapping):
        return _range(value, key, non_negative=system)
    if system:
        return _number(value, key, non_negative=True)
    if key == "filename":
        if not isinstance(value, str) or not value:
            raise InvalidRequestError(f"filter 'filename' takes the exact name, got {value!r}")
        return value
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, float)):
        return _number(value, key, non_negative=False)
    raise InvalidRequestError(
        f"filter {key!r}: a user-metadata filter matches one string, number or boolean (or a "
        f"number range {{'gte': .., 'lte': ..}}); got {value!r} (lists work only for 'id')"
    )


class SearchFilter:
    """Which videos a search looks in: the API's filter syntax, checked, as a small builder.

    Each method returns a new filter (a filter is immutable); calling one for a field set
    before replaces that field. A plain dict in the API's syntax is accepted everywhere a
    filter is, and checked the same way (``SearchFilter(dict)``).

    Fields: video ids (any of them), ``duration`` (seconds), ``width`` / ``height``
    (pixels), ``size`` (bytes), each exact or a range with inclusive ``gte`` / ``lte``;
    ``filename`` (exact); and any key of the videos' user metadata (``where``).

    Raises:
        InvalidRequestError: a term the API would refuse or could never match.

    Example:
        >>> f = SearchFilter().duration(gte=30, lte=600).width(1920).where("views", gte=1000)
        >>> f.to_dict()
        {'duration': {'gte': 30, 'lte': 600}, 'width': 1920, 'views': {'gte': 1000}}
        >>> SearchFilter({"id": ["v1"], "needs_review": True}) == SearchFilter().videos(
        ...     "v1").where("needs_review", True)
        True
    """

    __slots__ = ("_terms",)

    def __init__(self, terms: Mapping[str, Any] | SearchFilter | None = None) -> None:
        if isinstance(terms, SearchFilter):
            terms = terms.to_dict()
        if terms is not None and not isinstance(terms, Mapping):
            raise InvalidRequestError(
                f"filter must be a SearchFilter or a dict in the API's syntax, got {terms!r}"
            )
        self._terms: dict[str, Any] = {k: _term(k, v) for k, v in (terms or {}).items()}

    def _with(self, key: str, value: Any) -> SearchFilter:
        return SearchFilter({**self._terms, key: value})

    def videos(self, *video_ids: str) -> SearchFilter:
        """Only these videos (any of them).

        Example:
            >>> SearchFilter().videos("v1").to_dict()
            {'id': ['v1']}
        """
        return self._with("id", list(video_ids))

    def duration(
        self, equals: float | None = None, *, gte: float | None = None, lte: float | None = None
    ) -> SearchFilter:
        """Videos of this length in seconds (exact, or between ``gte`` and ``lte``).

        Example:
            >>> SearchFilter().duration(lte=60).to_dict()
            {'duration': {'lte': 60}}
        """
        return self._with("duration", _value_or_range("duration", equals, gte, lte))

    def width(
        self, equals: int | None = None, *, gte: int | None = None, lte: int | None = None
    ) -> SearchFilter:
        """Videos this many pixels wide (exact or a range).

        Example:
            >>> SearchFilter().width(gte=1280).to_dict()
            {'width': {'gte': 1280}}
        """
        return self._with("width", _value_or_range("width", equals, gte, lte))

    def height(
        self, equals: int | None = None, *, gte: int | None = None, lte: int | None = None
    ) -> SearchFilter:
        """Videos this many pixels high (exact or a range).

        Example:
            >>> SearchFilter().height(1080).to_dict()
            {'height': 1080}
        """
        return self._with("height", _value_or_range("height", equals, gte, lte))

    def size(
        self, equals: int | None = None, *, gte: int | None = None, lte: int | None = None
    ) -> SearchFilter:
        """Video files of this size in bytes (exact or a range).

        Example:
            >>> SearchFilter().size(lte=5 * 1024**2).to_dict()
            {'size': {'lte': 5242880}}
        """
        return self._with("size", _value_or_range("size", equals, gte, lte))

    def filename(self, name: str) -> SearchFilter:
        """The video whose file name is exactly ``name``.

        Example:
            >>> SearchFilter().filename("talk.mp4").to_dict()
            {'filename': 'talk.mp4'}
        """
        return self._with("filename", name)

    def where(
        self,
        key: str,
        equals: str | float | bool | None = None,
        *,
        gte: float | None = None,
        lte: float | None = None,
    ) -> SearchFilter:
        """Videos whose user metadata ``key`` equals a value, or (numbers) lies in a range.

        Raises:
            InvalidRequestError: ``key`` is a field with its own method (``duration``...),
                which the API would read as that field, not as your metadata.

        Example:
            >>> SearchFilter().where("category", "news").where("views", gte=10).to_dict()
            {'category': 'news', 'views': {'gte': 10}}
        """
        if key in ("id", "filename", *_SYSTEM_RANGES):
            raise InvalidRequestError(
                f"{key!r} is a video field, not user metadata: use SearchFilter().{key}(...)"
                if key != "id"
                else "'id' is the video id field: use SearchFilter().videos(...)"
            )
        return self._with(key, _value_or_range(key, equals, gte, lte))

    def to_dict(self) -> dict[str, Any]:
        """The filter in the API's syntax (what is sent, JSON-encoded).

        Example:
            >>> SearchFilter().to_dict()
            {}
        """
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self._terms.items()}

    def __bool__(self) -> bool:
        return bool(self._terms)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SearchFilter):
            return self._terms == other._terms
        return NotImplemented

    def __hash__(self) -> int:
        return hash(orjson.dumps(self._terms, option=orjson.OPT_SORT_KEYS))

    def __repr__(self) -> str:
        return f"SearchFilter({self._terms!r})"


def _value_or_range(key: str, equals: Any, gte: Any, lte: Any) -> Any:
    if equals is not None and (gte is not None or lte is not None):
        raise InvalidRequestError(f"filter {key!r}: give a value or gte/lte, not both")
    if equals is not None:
        return equals
    if gte is None and lte is None:
        raise InvalidRequestError(f"filter {key!r}: give a value, or gte and/or lte")
    return {b: v for b, v in (("gte", gte), ("lte", lte)) if v is not None}


FilterLike = SearchFilter | Mapping[str, Any]


def filter_terms(filter: FilterLike | None) -> dict[str, Any] | None:
    """A filter (builder or dict) checked, in wire form; None when empty.

    Example:
        >>> filter_terms({"duration": {"gte": 10}}), filter_terms(SearchFilter())
        ({'duration': {'gte': 10}}, None)
    """
    if filter is None:
        return None
    terms = SearchFilter(filter).to_dict()
    return terms or None


# --- image queries -------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchImage:
    """An image to search with: a local file, a public URL, or an image asset.

    Plain strings are read as: ``http(s)://...`` a URL, ``asset:<id>`` an asset, anything
    else a local path. An asset is looked up first: it must be a ready image, and it is
    searched with by its image URL (the asset's representative image), since the search
    endpoint takes only files and URLs.

    Example:
        >>> SearchImage.of("https://example.com/car.jpg").kind
        'url'
        >>> SearchImage.of("asset:6711a09ae4a1b37f8a9c5d01").asset_id
        '6711a09ae4a1b37f8a9c5d01'
    """

    kind: Literal["file", "url", "asset"]
    path: pathlib.Path | None = None
    url: str | None = None
    asset_id: str | None = None

    @classmethod
    def file(cls, path: str | os.PathLike[str]) -> SearchImage:
        """A local image file, checked now (exists, readable, not empty, an image type).

        Raises:
            InvalidVideoError: the file is missing, empty or not an image.

        Example:
            >>> SearchImage.file("/no/such.jpg")
            Traceback (most recent call last):
            ...
            tl_integrations.InvalidVideoError: file not found: '/no/such.jpg'; check the path
        """
        checked = check_media_file(path, multipart=False)
        if not _is_image_name(checked.name):
            raise InvalidRequestError(
                f"{str(path)!r} is not an image (search takes .jpg, .png, .webp, .gif, .bmp, "
                ".tiff or .heic images)"
            )
        return cls("file", path=checked)

    @classmethod
    def from_url(cls, url: str) -> SearchImage:
        """A publicly reachable ``http(s)`` URL of an image.

        Example:
            >>> SearchImage.from_url("ftp://x/y.jpg")
            Traceback (most recent call last):
            ...
            tl_integrations.InvalidRequestError: an image URL must be http(s)://..., got 'ftp://x/y.jpg'
        """
        if not isinstance(url, str) or not re.match(r"^https?://[^/\s]+", url):
            raise InvalidRequestError(f"an image URL must be http(s)://..., got {url!r}")
        return cls("url", url=url)

    @classmethod
    def asset(cls, asset: str | Asset) -> SearchImage:
        """A ready image asset (its id or the object).

        Example:
            >>> SearchImage.asset("a1").asset_id
            'a1'
        """
        asset_id = asset.id if isinstance(asset, Asset) else asset
        path_segment(asset_id, "asset_id")
        return cls("asset", asset_id=asset_id)

    @classmethod
    def of(cls, value: ImageLike) -> SearchImage:
        """Read any accepted form (see the class docstring).

        Example:
            >>> SearchImage.of(SearchImage.asset("a1")).kind
            'asset'
        """
        if isinstance(value, SearchImage):
            return value
        if isinstance(value, Asset):
            return cls.asset(value)
        if isinstance(value, str) and re.match(r"^[a-zA-Z][\w+.-]*://", value):
            return cls.from_url(value)
        if isinstance(value, str) and value.startswith("asset:"):
            return cls.asset(value[len("asset:") :])
        if isinstance(value, (str, os.PathLike)):
            return cls.file(value)
        raise InvalidRequestError(
            "an image is a local path, an http(s) URL, 'asset:<id>' or a SearchImage, got "
            f"{value!r}"
        )


ImageLike = SearchImage | Asset | str | os.PathLike[str]


def _is_image_name(name: str) -> bool:
    return media_type_of(name) == "image"


def search_images(images: ImageLike | Iterable[ImageLike] | None) -> list[SearchImage]:
    """The query images, each checked, at most ten.

    Example:
        >>> [i.kind for i in search_images(["https://a.test/1.jpg", "asset:a1"])]
        ['url', 'asset']
    """
    if images is None:
        return []
    many = [images] if isinstance(images, (str, os.PathLike, SearchImage, Asset)) else list(images)
    if len(many) > MAX_IMAGES:
        raise InvalidRequestError(
            f"a search takes at most {MAX_IMAGES} images, got {len(many)}; search in batches"
        )
    return [SearchImage.of(image) for image in many]


def _asset_image_url(asset: Asset) -> str:
    what = f"asset {asset.id}"
    if not asset.ready:
        raise InvalidRequestError(
            f"{what} is {asset.status}; wait for it (client.assets.wait) before searching with it"
        )
    if asset.file_type and not asset.file_type.startswith("image/"):
        raise InvalidRequestError(f"{what} is {asset.file_type}, not an image")
    url = (asset.thumbnail or {}).get("representative_url")
    if not isinstance(url, str) or not url:
        raise InvalidRequestError(
            f"{what} has no image URL to search with (was it uploaded with "
            "enable_thumbnail=False?); pass the image file or its URL instead"
        )
    return url


# --- the request ---------------------------------------------------------------------------


def _check_text(query_text: str | None) -> str | None:
    if query_text is None:
        return None
    if not isinstance(query_text, str) or not query_text.strip():
        raise InvalidRequestError(f"query_text must be a non-empty string, got {query_text!r}")
    # Every word is at least one token: more words than the limit is surely too long.
    if len(query_text.split()) > MAX_QUERY_TOKENS:
        raise InvalidRequestError(
            f"query_text has {len(query_text.split())} words; Marengo takes at most "
            f"{MAX_QUERY_TOKENS} tokens: shorten the query"
        )
    for mention in _MENTION.finditer(query_text):
        if not mention.group(1) or not mention.group(2):
            raise InvalidRequestError(
                f"query_text has a malformed entity mention {mention.group(0)!r}: write "
                "'<@entity_id>' (Entity.mention gives it)"
            )
    return query_text


def _choice(values: Sequence[str] | None, allowed: frozenset[str], name: str) -> list[str]:
    if isinstance(values, str) or values is None or not values:
        raise InvalidRequestError(
            f"{name} must be a non-empty list of {sorted(allowed)}, got {values!r}"
        )
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise InvalidRequestError(f"{name}: unknown {unknown!r}; choose from {sorted(allowed)}")
    return list(dict.fromkeys(values))


@dataclass(frozen=True)
class SearchQuery:
    """A checked search: the form fields, and the images still to resolve or attach.

    Example:
        >>> q = SearchQuery.build(index_id="i1", query_text="a red car")
        >>> q.form["search_options"], q.form["query_media_type"]
        (['visual', 'audio', 'transcription'], None)
    """

    form: dict[str, Any]
    images: tuple[SearchImage, ...] = ()
    include_user_metadata: bool = False

    @classmethod
    def build(
        cls,
        *,
        index_id: str,
        query_text: str | None = None,
        images: ImageLike | Iterable[ImageLike] | None = None,
        search_options: Sequence[str] = DEFAULT_SEARCH_OPTIONS,
        transcription_options: Sequence[str] | None = None,
        operator: Literal["or", "and"] | None = None,
        group_by: Literal["clip", "video"] = "clip",
        page_limit: int = 10,
        filter: FilterLike | None = None,
        include_user_metadata: bool = False,
    ) -> SearchQuery:
        """Check every argument (nothing is sent); see :meth:`Search.query`."""
        text = _check_text(query_text)
        pictures = search_images(images)
        if text is None and not pictures:
            raise InvalidRequestError(
                "a search needs query_text, images, or both (a composed query)"
            )
        options = _choice(search_options, SEARCH_OPTIONS, "search_options")
        transcription = None
        if transcription_options is not None:
            transcription = _choice(
                transcription_options, TRANSCRIPTION_OPTIONS, "transcription_options"
            )
            if "transcription" not in options:
                raise InvalidRequestError(
                    "transcription_options apply to the 'transcription' search option; add it "
                    "to search_options or drop transcription_options"
                )
        if operator not in (None, "or", "and"):
            raise InvalidRequestError(f"operator must be 'or' or 'and', got {operator!r}")
        if group_by not in ("clip", "video"):
            raise InvalidRequestError(f"group_by must be 'clip' or 'video', got {group_by!r}")
        if not isinstance(include_user_metadata, bool):
            raise InvalidRequestError(
                f"include_user_metadata must be True or False, got {include_user_metadata!r}"
            )
        terms = filter_terms(filter)
        form: dict[str, Any] = {
            "index_id": path_segment(index_id, "index_id") and index_id,
            "query_text": text,
            "query_media_type": "image" if pictures else None,
            "search_options": options,
            "transcription_options": transcription,
            "group_by": group_by,
            "operator": operator,
            "page_limit": check_page_limit(page_limit),
            "filter": orjson.dumps(terms).decode() if terms else None,
            "include_user_metadata": include_user_metadata or None,
        }
        return cls(form, tuple(pictures), include_user_metadata)

    def request(self, asset_urls: Mapping[str, str]) -> Request:
        """``POST /search`` (multipart; safe to repeat), image assets given by their URLs."""
        urls = [
            image.url if image.kind == "url" else asset_urls[str(image.asset_id)]
            for image in self.images
            if image.kind != "file"
        ]
        files: list[tuple[str, UploadSource]] = []
        for image in self.images:
            if image.kind == "file":
                assert image.path is not None
                source = UploadSource(
                    filename=safe_filename(image.path.name, "image.jpg"),
                    path=image.path,
                    size_bytes=image.path.stat().st_size,
                )
                files.append(("query_media_file", source))
        form = {**self.form, "query_media_url": urls or None}
        return Request("POST", "/search", form=form, files=files, retry="always")


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


def _asset_urls(query: SearchQuery, ctx: Context) -> Flow[dict[str, str]]:
    urls: dict[str, str] = {}
    for image in query.images:
        if image.kind == "asset" and image.asset_id not in urls:
            asset = yield from fetch(ASSETS, str(image.asset_id), ctx)
            urls[str(image.asset_id)] = _asset_image_url(asset)
    return urls


def search_flow(query: SearchQuery, ctx: Context, max_results: int | None) -> Flow[None]:
    """Emit the clips of ``query``, best first, following page tokens lazily."""
    request = query.request((yield from _asset_urls(query, ctx)))
    remaining = max_results
    followed: set[str] = set()
    params = {"include_user_metadata": True} if query.include_user_metadata else None
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
        request = Request("GET", f"/search/{path_segment(token, 'page_token')}", params=params)


def _check_max_results(max_results: int | None) -> int | None:
    return None if max_results is None else check_int("max_results", max_results, other="None")


class Search(Resource):
    """``client.search``: find moments in an index by text, images, both, or entities.

    Example:
        >>> for clip in client.search.query(index_id=index_id, query_text="a red car",
        ...                                 max_results=5):  # doctest: +SKIP
        ...     print(clip.video_id, clip.start_s, clip.end_s, clip.rank, clip.transcription)
    """

    def query(
        self,
        *,
        index_id: str,
        query_text: str | None = None,
        images: ImageLike | Iterable[ImageLike] | None = None,
        search_options: Sequence[str] = DEFAULT_SEARCH_OPTIONS,
        transcription_options: Sequence[str] | None = None,
        operator: Literal["or", "and"] | None = None,
        group_by: Literal["clip", "video"] = "clip",
        page_limit: int = 10,
        filter: FilterLike | None = None,
        include_user_metadata: bool = False,
        max_results: int | None = None,
    ) -> Iterator[SearchClip]:
        """Iterate over matching clips, best first, fetching later pages only when needed.

        Args:
            index_id: the index to search.
            query_text: what to find, in natural language (up to 500 tokens); may name
                entities as ``<@entity_id>``.
            images: up to 10 images (paths, URLs, ``asset:<id>``, :class:`SearchImage`);
                with ``query_text`` too, a composed query.
            search_options: any of ``visual``, ``audio`` (non-speech sound) and
                ``transcription`` (spoken words); all three by default.
            transcription_options: ``lexical`` and/or ``semantic`` matching of spoken
                words (the server's default is both).
            operator: ``or`` (a clip matching any option, the default) or ``and`` (all).
            group_by: ``clip``, or ``video`` (clips come video by video, each video's in
                rank order; ``page_limit`` then counts videos).
            page_limit: results per page, 1 to 50.
            filter: a :class:`SearchFilter` or a dict in the API's filter syntax.
            include_user_metadata: put each video's user metadata on its clips.
            max_results: stop after this many clips (None: every page).

        Raises:
            InvalidRequestError: a bad argument, before anything is sent (an image asset
                that is not a ready image: before the search is sent).

        Example:
            >>> clips = client.search.query(
            ...     index_id=i, query_text="<@6711a0c2e4a1b37f8a9c5d99> scores a goal",
            ...     images=["kit.jpg"], filter=SearchFilter().where("season", "2024"),
            ...     max_results=3)  # doctest: +SKIP
            >>> [(c.video_id, c.start_s, c.thumbnail_url) for c in clips]  # doctest: +SKIP
        """
        query = SearchQuery.build(
            index_id=index_id,
            query_text=query_text,
            images=images,
            search_options=search_options,
            transcription_options=transcription_options,
            operator=operator,
            group_by=group_by,
            page_limit=page_limit,
            filter=filter,
            include_user_metadata=include_user_metadata,
        )
        flow = search_flow(query, self._ctx, _check_max_results(max_results))
        return self._client._iterate(flow)


class AsyncSearch(AsyncResource):
    """``client.search`` of :class:`~tl_integrations.AsyncTwelveLabs` (``async for``).

    Example:
        >>> async for clip in client.search.query(index_id=i, query_text="x"):  # doctest: +SKIP
        ...     print(clip.video_id)
    """

    query = streamed(Search.query)
