"""Indexed videos (``/indexes/{index_id}/videos``): models and ``client.videos``.

A video is what an index holds once an indexing task (or an indexed asset) is ready; its id
is the search results' ``video_id``, and today it carries the ``asset_id`` it was made from.

Example:
    >>> video = Video.from_api({"_id": "v1", "asset_id": "a1", "transcription": [
    ...     {"start": 0, "end": 1.5, "value": "hi"}]}, index_id="i1")
    >>> video.asset_id, video.transcription
    ('a1', [Utterance(start_s=0.0, end_s=1.5, text='hi')])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .._errors import InvalidRequestError, check_int
from .._flows import Context, Flow
from .._paging import PAGE_LIMIT_MAX, pages
from .._transport import Request, path_segment, send, send_json
from .._wire import as_object, field_spec, opt_float, opt_str, read_fields
from . import AsyncResource, Resource, awaited, streamed

__all__ = [
    "AsyncVideos",
    "SystemMetadata",
    "Utterance",
    "Video",
    "Videos",
    "check_page_limit",
]

_VIDEO_LIST_RESERVED = frozenset(
    {"page", "page_limit", "sort_by", "sort_option", "filename", "duration", "fps", "width"}
    | {"height", "size", "created_at", "updated_at"}
)


def check_page_limit(page_limit: int) -> int:
    """Page sizes are 1 to 50 on every list endpoint.

    Example:
        >>> check_page_limit(10)
        10
    """
    return check_int("page_limit", page_limit, most=PAGE_LIMIT_MAX)


_SYSTEM_FIELDS = field_spec(
    filename="str", duration="float+", width="int+", height="int+", fps="float+", size="int+"
)


@dataclass(frozen=True)
class SystemMetadata:
    """What the platform measured about a media file.

    Attributes:
        filename: the uploaded file's name.
        duration: length in seconds.
        width / height: frame size in pixels.
        fps: frames per second.
        size: file size in bytes (lists only).
        raw: every field as sent.

    Example:
        >>> SystemMetadata.from_api({"duration": 3, "fps": 25}).duration
        3.0
    """

    filename: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    size: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> SystemMetadata:
        """Parse a ``system_metadata`` object (v1.2's ``metadata`` has the same keys)."""
        if data is None:
            return cls()
        return cls(**read_fields(data, "system_metadata", _SYSTEM_FIELDS), raw=data)


class Utterance(NamedTuple):
    """One transcribed phrase: ``(start_s, end_s, text)``.

    Example:
        >>> start_s, end_s, text = Utterance(0.0, 4.8, "Welcome back")
        >>> text
        'Welcome back'
    """

    start_s: float
    end_s: float
    text: str


def parse_utterances(items: list[Any], what: str) -> list[Utterance]:
    """Timed phrases (``[{start, end, value}]``) as :class:`Utterance` tuples.

    Example:
        >>> parse_utterances([{"start": 1, "end": 2, "value": "hi"}], "x")
        [Utterance(start_s=1.0, end_s=2.0, text='hi')]
    """
    utterances = []
    for item in items:
        entry = as_object(item, f"{what}[]")
        utterances.append(
            Utterance(
                start_s=opt_float(entry, "start", what, non_negative=True) or 0.0,
                end_s=opt_float(entry, "end", what, non_negative=True) or 0.0,
                text=opt_str(entry, "value", what) or opt_str(entry, "text", what) or "",
            )
        )
    return utterances


_VIDEO_FIELDS = field_spec(
    id=("_id", "id"),
    asset_id="str",
    created_at="str",
    updated_at="str",
    indexed_at="str",
    user_metadata="obj",
    hls="obj",
    transcription="list",
    embedding="obj",
)


@dataclass(frozen=True)
class Video:
    """An indexed video.

    ``transcription`` is None unless it was requested; ``embedding`` keeps the raw
    ``embedding`` object when ``embedding_options`` were requested.

    Example:
        >>> Video.from_api({"_id": "v1", "system_metadata": {"duration": 12}}).duration_s
        12.0
    """

    id: str
    index_id: str | None = None
    asset_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    indexed_at: str | None = None
    system_metadata: SystemMetadata = field(default_factory=SystemMetadata)
    user_metadata: Mapping[str, Any] = field(default_factory=dict)
    hls: Mapping[str, Any] | None = None
    transcription: list[Utterance] | None = None
    embedding: Mapping[str, Any] | None = field(default=None, repr=False)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def duration_s(self) -> float | None:
        """The video's length in seconds, when known."""
        return self.system_metadata.duration

    @classmethod
    def from_api(cls, data: Any, *, index_id: str | None = None) -> Video:
        """Parse a video object (retrieve or list item)."""
        obj = as_object(data, "video")
        what = f"video {obj.get('_id', '?')}"
        fields = read_fields(obj, what, _VIDEO_FIELDS)
        transcription = fields["transcription"]
        if transcription is not None:
            fields["transcription"] = parse_utterances(transcription, f"{what}.transcription")
        fields["user_metadata"] = fields["user_metadata"] or {}
        return cls(
            **fields,
            index_id=index_id,
            system_metadata=SystemMetadata.from_api(
                obj.get("system_metadata", obj.get("metadata"))
            ),
            raw=obj,
        )


def video_path(index_id: str, video_id: str) -> str:
    """``/indexes/{index_id}/videos/{video_id}``, ids checked.

    Example:
        >>> video_path("i1", "v1")
        '/indexes/i1/videos/v1'
    """
    index = path_segment(index_id, "index_id")
    return f"/indexes/{index}/videos/{path_segment(video_id, 'video_id')}"


def retrieve_video(
    ctx: Context,
    index_id: str,
    video_id: str,
    *,
    transcription: bool = False,
    embedding_options: Iterable[str] | None = None,
) -> Flow[Video]:
    """Read one video (``GET /indexes/{index_id}/videos/{video_id}``)."""
    params: dict[str, Any] = {}
    if transcription:
        params["transcription"] = True
    if embedding_options:
        params["embedding_option"] = list(embedding_options)
    request = Request("GET", video_path(index_id, video_id), params=params or None)
    body = yield from send_json(request, ctx)
    return Video.from_api(body, index_id=index_id)


def list_videos_request(
    index_id: str,
    *,
    user_metadata: Mapping[str, Any] | None = None,
    filename: str | None = None,
    page_limit: int = PAGE_LIMIT_MAX,
    sort_by: str | None = None,
    sort_option: str | None = None,
) -> Request:
    """``GET /indexes/{index_id}/videos``; user-metadata filters become top-level keys."""
    params: dict[str, Any] = {
        "page_limit": check_page_limit(page_limit),
        "filename": filename,
        "sort_by": sort_by,
        "sort_option": sort_option,
    }
    for key, value in (user_metadata or {}).items():
        if key in _VIDEO_LIST_RESERVED:
            raise InvalidRequestError(
                f"user_metadata key {key!r} collides with a list filter of the same name; "
                "rename the metadata key"
            )
        params[key] = value
    return Request("GET", f"/indexes/{path_segment(index_id, 'index_id')}/videos", params=params)


def _list(request: Request, index_id: str, ctx: Context) -> Flow[None]:
    yield from pages(
        request, ctx, "video list", lambda item: Video.from_api(item, index_id=index_id)
    )


def _delete(ctx: Context, index_id: str, video_id: str) -> Flow[None]:
    yield from send(Request("DELETE", video_path(index_id, video_id)), ctx)


class Videos(Resource):
    """``client.videos``: indexed videos, with transcripts and embeddings on request.

    Example:
        >>> video = client.videos.retrieve(index_id, video_id, transcription=True)  # doctest: +SKIP
        >>> video.transcription[0].text  # doctest: +SKIP
        'Welcome back to the course.'
    """

    def retrieve(
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

        Example:
            >>> client.videos.retrieve(index_id, video_id).duration_s  # doctest: +SKIP
            12.0
        """
        flow = retrieve_video(
            self._ctx,
            index_id,
            video_id,
            transcription=transcription,
            embedding_options=embedding_options,
        )
        return self._client._run(flow)

    def delete(self, index_id: str, video_id: str) -> None:
        """Delete one video from an index.

        Example:
            >>> client.videos.delete(index_id, video_id)  # doctest: +SKIP
        """
        return self._client._run(_delete(self._ctx, index_id, video_id))

    def list(
        self,
        index_id: str,
        *,
        user_metadata: Mapping[str, Any] | None = None,
        filename: str | None = None,
        page_limit: int = PAGE_LIMIT_MAX,
        sort_by: str | None = None,
        sort_option: str | None = None,
    ) -> Iterator[Video]:
        """Iterate over the videos of an index; ``user_metadata`` filters by exact values.

        Example:
            >>> [v.id for v in client.videos.list(index_id)]  # doctest: +SKIP
            ['6650a1b2c3d4e5f601234567']
        """
        request = list_videos_request(
            index_id,
            user_metadata=user_metadata,
            filename=filename,
            page_limit=page_limit,
            sort_by=sort_by,
            sort_option=sort_option,
        )
        return self._client._iterate(_list(request, index_id, self._ctx))


class AsyncVideos(AsyncResource):
    """``client.videos`` of :class:`~tl_integrations.AsyncTwelveLabs` (same methods, awaited).

    Example:
        >>> video = await client.videos.retrieve(index_id, video_id)  # doctest: +SKIP
    """

    retrieve = awaited(Videos.retrieve)
    delete = awaited(Videos.delete)
    list = streamed(Videos.list)
