"""The tools an agent gets over a TwelveLabs account, framework-free: specs and logic.

Five tools, each a name, a description written for a language model, an argument schema
(pydantic) and a :data:`~tl_integrations._adapters.Plan` that returns a short text:

- ``search_videos``: moments matching words (what is shown, said or heard) or an image;
- ``ask_about_video``: a question about one video, answered by Pegasus (spends credits);
- ``list_indexes`` and ``list_videos``: what there is to search;
- ``index_video``: upload and index a file or URL so it becomes searchable (spends
  credits; the same file is never sent twice).

Outputs are sized for a model's context: a line per moment (times and a sentence), capped
lists, never vectors or raw JSON. Errors come back as text that says what to do next
(an ``Error:`` line), so an agent can recover instead of crashing. The tools that spend
credits say so, can be left out, and can be gated by a ``confirm(tool_name, args)``
callback. The LangChain toolkit and the LlamaIndex tool spec only wrap :class:`VideoTools`.

Example:
    >>> [spec.name for spec in TOOL_SPECS if spec.spends_credits]
    ['ask_about_video', 'index_video']
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._adapters import Callback, ClientCall, Plan
from ._errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TaskFailedError,
    TaskTimeoutError,
    TwelveLabsError,
)
from ._ingest import AsyncVideoIngest, IngestFailure, IngestOptions, VideoIngest, VideoRecord
from ._retrieval import IndexRef, Moment, SearchSettings, clock, find_moments, looks_like_id

__all__ = [
    "TOOL_SPECS",
    "Confirm",
    "ToolSpec",
    "VideoTools",
    "arguments_error",
    "error_message",
]

Confirm = Callable[[str, dict[str, Any]], Any]
"""``confirm(tool_name, args)``: True (or an awaitable of True) lets a credit tool run."""

MAX_MOMENTS = 20
MAX_LISTED = 25
MAX_ANSWER_CHARS = 2000
MAX_SENTENCE_CHARS = 200
DEFAULT_INDEX_TIMEOUT_S = 1800.0


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchVideosArgs(_Args):
    """Arguments of ``search_videos``."""

    query: str = Field(
        default="",
        description="What to find, in plain words: what is shown, said or heard. May be "
        "empty when an image is given.",
    )
    image: str | None = Field(
        default=None,
        description="Optional image to search with: an http(s) URL or a local file path.",
    )
    index: str | None = Field(
        default=None, description="Index name or id to search (default: the configured one)."
    )
    max_results: int = Field(
        default=5, ge=1, le=MAX_MOMENTS, description="How many moments to return (1-20)."
    )


class AskAboutVideoArgs(_Args):
    """Arguments of ``ask_about_video``."""

    video_id: str = Field(description="The video's id, from search_videos or list_videos.")
    question: str = Field(description="The question about the video, in plain words.")
    index: str | None = Field(
        default=None,
        description="The index holding the video (name or id); omit for the default index.",
    )


class ListIndexesArgs(_Args):
    """``list_indexes`` takes no arguments."""


class ListVideosArgs(_Args):
    """Arguments of ``list_videos``."""

    index: str | None = Field(
        default=None, description="Index name or id (default: the configured one)."
    )


class IndexVideoArgs(_Args):
    """Arguments of ``index_video``."""

    source: str = Field(description="A local video file path or an http(s) URL of the video.")
    index: str | None = Field(
        default=None,
        description="Index name or id to add it to (default: the configured one); an index "
        "name that does not exist yet is created.",
    )


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its name, its description for a model, its arguments, whether it costs.

    Example:
        >>> TOOL_SPECS[0].name, TOOL_SPECS[0].args_schema.__name__
        ('search_videos', 'SearchVideosArgs')
    """

    name: str
    description: str
    args_schema: type[BaseModel]
    spends_credits: bool = False


_CREDITS = " This spends TwelveLabs credits."
TOOL_SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "search_videos",
        "Search indexed videos for the moments that match a description of what is shown, "
        "said or heard, or an image. Returns one line per moment: file name, video id, "
        "start-end time and what is said there. Use the video id with ask_about_video.",
        SearchVideosArgs,
    ),
    ToolSpec(
        "ask_about_video",
        "Ask a question about one whole video (by its id) and get a short written answer "
        "from TwelveLabs' video language model." + _CREDITS,
        AskAboutVideoArgs,
        spends_credits=True,
    ),
    ToolSpec(
        "list_indexes",
        "List the video indexes (searchable collections of videos) with their ids and how "
        "many videos each holds.",
        ListIndexesArgs,
    ),
    ToolSpec(
        "list_videos",
        "List the videos of an index with their ids, file names and durations.",
        ListVideosArgs,
    ),
    ToolSpec(
        "index_video",
        "Upload and index a new video from a local file path or an http(s) URL so that it "
        "can be searched; waits until it is ready (long videos take minutes). Sending the "
        "same file again costs nothing." + _CREDITS,
        IndexVideoArgs,
        spends_credits=True,
    ),
)
SPECS_BY_NAME = {spec.name: spec for spec in TOOL_SPECS}


def error_message(error: TwelveLabsError, *, tool: str) -> str:
    """The text a model gets instead of an exception: what failed and what to do next.

    Example:
        >>> error_message(InvalidRequestError("query_text must be a non-empty string"),
        ...               tool="search_videos")
        'Error: query_text must be a non-empty string.'
    """
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return (
            "Error: TwelveLabs refused the API key (it is missing, wrong or lacks access). "
            "The user must fix the key; retrying will not help."
        )
    if isinstance(error, RateLimitError):
        wait = f"{error.retry_after_s:.0f} s" if error.retry_after_s else "a minute"
        return f"Error: TwelveLabs is rate limiting requests; try {tool} again in {wait}."
    if isinstance(error, NotFoundError):
        return (
            f"Error: not found ({error.api_message or error}). Check the id with list_videos "
            "or list_indexes."
        )
    if isinstance(error, TaskFailedError):
        return f"Error: {error}. The file may be unsupported, damaged or too short."
    text = str(error).rstrip(".")
    return f"Error: {text}."


def arguments_error(tool: str, invalid: Any) -> str:
    """The text a model gets for arguments its tool's schema refuses.

    Example:
        >>> try:
        ...     ListVideosArgs(index=3)
        ... except ValidationError as invalid:
        ...     print(arguments_error("list_videos", invalid))
        Error: bad arguments for list_videos: index: Input should be a valid string.
    """
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in invalid.errors()
    )
    return f"Error: bad arguments for {tool}: {problems}."


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def format_moments(moments: Sequence[Moment], *, query: str | None, index: str) -> str:
    """One line per moment: rank, file, video id, times, what is said (or the description).

    Example:
        >>> m = Moment("x", "we bake bread", {"filename": "talk.mp4", "video_id": "v1",
        ...            "start_s": 4.0, "end_s": 8.5}, rank=1)
        >>> print(format_moments([m], query="bread", index="kitchen"))
        1 moment for 'bread' in index kitchen:
        1. talk.mp4 (video v1) 0:04-0:08: "we bake bread"
    """
    what = repr(query) if query else "the image"
    if not moments:
        return f"No moments match {what} in index {index}. Try other words or another index."
    head = f"{len(moments)} moment{'s' if len(moments) > 1 else ''} for {what} in index {index}:"
    lines = [head]
    for n, moment in enumerate(moments, 1):
        meta = moment.metadata
        span = f"{clock(meta['start_s'])}-{clock(meta['end_s'])}"
        lines.append(
            f"{n}. {meta['filename']} (video {meta['video_id']}) {span}: "
            f'"{_short(moment.text, MAX_SENTENCE_CHARS)}"'
        )
    return "\n".join(lines)


class VideoTools:
    """The tools' logic over one account; the framework wrappers call :meth:`plan`.

    Args:
        index_id / index_name: the index the tools use when the model names none (at most
            one; with neither, the model must name an index).
        confirm: ``confirm(tool_name, args)`` asked before a credit-spending tool runs
            (True: go ahead); None asks nothing. May return an awaitable on async paths.
        index_timeout_s: how long ``index_video`` waits for a video to be ready.
        settings: how ``search_videos`` searches (options, operator, filter).

    Example:
        >>> tools = VideoTools(index_name="talks", confirm=lambda name, args: False)
        >>> tools.spec("index_video").spends_credits
        True
    """

    def __init__(
        self,
        *,
        index_id: str | None = None,
        index_name: str | None = None,
        confirm: Confirm | None = None,
        index_timeout_s: float = DEFAULT_INDEX_TIMEOUT_S,
        settings: SearchSettings | None = None,
    ) -> None:
        self.default = (
            None
            if index_id is None and index_name is None
            else IndexRef(index_id=index_id, index_name=index_name)
        )
        if confirm is not None and not callable(confirm):
            raise InvalidRequestError(f"confirm must be a callable (name, args), got {confirm!r}")
        if isinstance(index_timeout_s, bool) or not (
            isinstance(index_timeout_s, (int, float)) and index_timeout_s > 0
        ):
            raise InvalidRequestError(f"index_timeout_s must be > 0, got {index_timeout_s!r}")
        self.confirm = confirm
        self.index_timeout_s = float(index_timeout_s)
        self.settings = settings or SearchSettings()
        self._refs: dict[str, IndexRef] = {}
        self._lock = threading.Lock()

    def spec(self, name: str) -> ToolSpec:
        """The spec of tool ``name``."""
        return SPECS_BY_NAME[name]

    def plan(self, name: str, args: Mapping[str, Any]) -> Plan[str]:
        """Run tool ``name`` with ``args`` (checked against its schema here): a text back."""
        spec = self.spec(name)
        try:
            checked = spec.args_schema.model_validate(dict(args)).model_dump()
        except ValidationError as invalid:
            return arguments_error(name, invalid)
        if spec.spends_credits and self.confirm is not None:
            allowed = yield Callback(self.confirm, (name, dict(checked)))
            if not allowed:
                return (
                    f"Not done: the user did not allow {name} (it spends TwelveLabs credits). "
                    "Ask the user before trying again, or answer without it."
                )
        try:
            text: str = yield from getattr(self, f"_{name}")(**checked)
        except TwelveLabsError as error:
            return error_message(error, tool=name)
        return text

    # --- the tools ---------------------------------------------------------------------

    def _index(self, index: str | None) -> IndexRef:
        if index is None or not index.strip():
            if self.default is None:
                raise InvalidRequestError(
                    "no index given: pass index (a name or id; list_indexes shows them)"
                )
            return self.default
        key = index.strip()
        with self._lock:
            ref = self._refs.get(key)
            if ref is None:
                ref = self._refs[key] = (
                    IndexRef(index_id=key, index_name=None)
                    if looks_like_id(key)
                    else IndexRef(index_id=None, index_name=key)
                )
        return ref

    def _search_videos(
        self,
        query: str = "",
        image: str | None = None,
        index: str | None = None,
        max_results: int = 5,
    ) -> Plan[str]:
        ref = self._index(index)
        text = query.strip() or None
        images = [image] if image else None
        moments = yield from find_moments(text, ref, self.settings, k=max_results, images=images)
        return format_moments(moments, query=text, index=ref.label)

    def _ask_about_video(self, video_id: str, question: str, index: str | None = None) -> Plan[str]:
        ref = self._index(index) if index is not None or self.default is not None else None
        answer = yield from ask_video(video_id, question, ref)
        return _short(answer, MAX_ANSWER_CHARS) or "(Pegasus gave an empty answer.)"

    def _list_indexes(self) -> Plan[str]:
        indexes = yield ClientCall(
            lambda c: c.indexes.list(page_limit=MAX_LISTED + 1),
            collect=True,
            limit=MAX_LISTED + 1,
        )
        if not indexes:
            return "There are no indexes yet; index_video creates one."
        lines = [f"{min(len(indexes), MAX_LISTED)} index(es):"]
        for index in indexes[:MAX_LISTED]:
            count = "?" if index.video_count is None else index.video_count
            lines.append(f"- {index.name} (id {index.id}): {count} videos")
        if len(indexes) > MAX_LISTED:
            lines.append(f"(more than {MAX_LISTED}; only the first {MAX_LISTED} are shown)")
        return "\n".join(lines)

    def _list_videos(self, index: str | None = None) -> Plan[str]:
        ref = self._index(index)
        index_id = yield from ref.resolve()
        videos = yield ClientCall(
            lambda c: c.videos.list(index_id, page_limit=MAX_LISTED + 1),
            collect=True,
            limit=MAX_LISTED + 1,
        )
        if not videos:
            return f"Index {ref.label} has no videos yet; index_video adds one."
        lines = [f"Videos in index {ref.label}:"]
        for video in videos[:MAX_LISTED]:
            meta = video.system_metadata
            length = "" if meta.duration is None else f", {clock(meta.duration)}"
            lines.append(f"- {meta.filename or '(no name)'} (video {video.id}{length})")
        if len(videos) > MAX_LISTED:
            lines.append(f"(more than {MAX_LISTED}; only the first {MAX_LISTED} are shown)")
        return "\n".join(lines)

    def _index_video(self, source: str, index: str | None = None) -> Plan[str]:
        ref = self._index(index)
        # A name is got or created by the ingest; an id must exist.
        index_id = None if ref.index_name else (yield from ref.resolve())
        records, failures = yield from index_file(
            source, index_id=index_id, index_name=ref.index_name, timeout_s=self.index_timeout_s
        )
        if failures:
            failure = failures[0]
            if isinstance(failure.exception, TaskTimeoutError):
                return (
                    f"Still indexing {source} after {self.index_timeout_s:.0f} s. Call "
                    "index_video again later with the same source: it picks the running "
                    "indexing up without uploading again."
                )
            if isinstance(failure.exception, TwelveLabsError):
                return error_message(failure.exception, tool="index_video")
            return f"Error: {failure.reason}."
        video = records[0].video
        length = "" if video.duration_s is None else f", {clock(video.duration_s)} long"
        words = sum(
            len(piece.text.split())
            for piece in records[0].pieces
            if piece.content_kind == "transcript"
        )
        speech = f"{words} words spoken" if words else "no speech"
        return (
            f"Indexed {video.filename or source} as video {video.video_id} in index "
            f"{ref.label}{length}, {speech}. It can be searched now."
        )


# --- the calls that will move (kept in one place each) ---------------------------------------


def _indexed_asset(index_id: str, video_id: str) -> Callable[[Any], Any]:
    return lambda client: client.indexes.indexed_assets.retrieve(index_id, video_id)


def _analysis(video: Any, question: str) -> Callable[[Any], Any]:
    return lambda client: client.analyze(video, question)


def ask_video(video_id: str, question: str, index: IndexRef | None = None) -> Plan[str]:
    """Pegasus' answer to ``question`` about a video of ``index`` (else of any index).

    Today's ``client.analyze`` reads the video's asset, so the video is looked up first: in
    ``index`` when known, else in each index (the first 25) until found.
    """
    if not video_id.strip():
        raise InvalidRequestError("video_id is empty: take one from search_videos or list_videos")
    video_id = video_id.strip()
    if index is not None:
        index_ids = [(yield from index.resolve())]
    else:
        indexes = yield ClientCall(lambda c: c.indexes.list(), collect=True, limit=MAX_LISTED)
        index_ids = [i.id for i in indexes]
    for index_id in index_ids:
        try:
            video = yield ClientCall(_indexed_asset(index_id, video_id))
        except NotFoundError:
            continue
        result = yield ClientCall(_analysis(video, question))
        return str(result.text)
    where = "its index" if index is not None else "any index"
    raise NotFoundError(
        f"no video {video_id} in {where}; take the id from search_videos or list_videos",
        status_code=404,
        code="not_found",
    )


def index_file(
    source: str, *, index_id: str | None, index_name: str | None, timeout_s: float
) -> Plan[tuple[list[VideoRecord], list[IngestFailure]]]:
    """Upload (once) and index one file or URL, wait, and read its transcript.

    Today through the ingest engine (``/tasks``, which the emulator serves too); switching
    to ``client.index`` (assets and indexed assets) is a change here only.
    """
    options = IngestOptions(
        index_id=index_id,
        index_name=index_name,
        content=("transcript",),
        timeout_s=timeout_s,
        on_error="skip",
    )
    failures: list[IngestFailure] = []

    def run(client: Any) -> Any:
        ingest = AsyncVideoIngest if getattr(client, "_is_async", False) else VideoIngest
        return ingest(client, options).run([source], failures=failures)

    records = yield ClientCall(run, collect=True)
    return list(records), failures
