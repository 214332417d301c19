"""Analysis with Pegasus 1.5 / 1.6: ``client.analyze``, its stream, tasks and batches.

Pegasus no longer reads an index: the video comes as a ready asset, a URL or (small) inline
bytes. ``client.analyze(video, prompt)`` takes whatever the caller has: an
:class:`~tl_integrations.Asset` or its id, a URL, a local file (uploaded as an asset first,
once: see ``client.assets.upload``), or an indexed :class:`~tl_integrations.Video` (its
``asset_id`` is used). Videos longer than the synchronous limit (1 hour) go through an
analysis task on their own.

- ``client.analyze.stream(...)`` yields the answer's text as it is generated (the API's
  newline-delimited JSON events), then keeps the whole result in ``.final``;
- ``client.analyze.tasks`` are asynchronous analyses (a task kind of the engine); every
  create carries an ``Idempotency-Key``, so a create retried after a lost answer never
  pays twice;
- ``client.analyze.segments(video, definitions)`` turns a video into timestamped segments
  with the fields you define (the API's ``time_based_metadata`` mode);
- ``client.analyze.batches`` analyse many assets in one request.

Example:
    >>> AnalyzeResult.from_api({"id": "g1", "data": "A cat.", "finish_reason": "stop"}).text
    'A cat.'
    >>> video_context("https://example.com/talk.mp4")
    {'type': 'url', 'url': 'https://example.com/talk.mp4'}
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import orjson

from .._engine import Creation, Job, Locate, TaskKind, create, fetch, job_id_of, wait
from .._errors import (
    BadRequestError,
    InvalidRequestError,
    InvalidVideoError,
    MalformedResponseError,
    TaskFailedError,
    check_int,
)
from .._flows import Context, Emit, Flow, ReadLine
from .._paging import PAGE_LIMIT_MAX, pages
from .._transport import Reply, Request, path_segment, send
from .._uploads import media_type_of
from .._wire import as_object, opt_float, opt_int, opt_list, opt_obj, opt_str, req_str
from . import AsyncJobResource, AsyncResource, JobResource, Resource, awaited, streamed
from .assets import Asset, Uploader

__all__ = [
    "ANALYSIS_BATCHES",
    "ANALYSIS_TASKS",
    "DEFAULT_PEGASUS",
    "AnalysisBatch",
    "AnalysisTask",
    "Analyze",
    "AnalyzeResult",
    "AnalyzeStream",
    "AsyncAnalyze",
    "BatchItem",
    "BatchResult",
    "Segment",
    "SegmentDefinition",
    "SegmentField",
    "analyze_flow",
    "reader_of",
    "video_context",
    "with_result",
]

logger = logging.getLogger("tl_integrations")

DEFAULT_PEGASUS = "pegasus1.5"
PEGASUS_MODELS = ("pegasus1.5", "pegasus1.6")
SYNC_LIMIT_S = 3600.0
"""The longest video the synchronous ``POST /analyze`` takes; longer ones use a task."""
_ASSET_ID = re.compile(r"^[0-9a-fA-F]{24}$")
_CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

VideoInput = Any
"""An :class:`Asset`, a :class:`Video` / ``IndexedAsset`` (their ``asset_id``), an asset id,
an ``http(s)`` URL, or a local path."""


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalyzeResult:
    """An analysis' answer.

    Attributes:
        text: the generated text (JSON text when a schema was asked for).
        finish_reason: ``stop``, or ``length`` (cut at ``max_tokens`` or the context).
        data: the parsed JSON value when a ``json_schema`` response format was asked for.
        usage: token counts as sent (``output_tokens``, maybe ``input_tokens``).
        id: the generation id.
        warning: the server's warning (why the answer was cut), if any.

    Example:
        >>> AnalyzeResult.from_api({"data": "x", "usage": {"output_tokens": 3}}).usage
        {'output_tokens': 3}
    """

    text: str
    finish_reason: str | None = None
    data: Any = None
    usage: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    warning: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, body: Any, *, data: Any = None) -> AnalyzeResult:
        """Parse ``POST /analyze``'s answer (or a task's ``result``)."""
        obj = as_object(body, "analyze response")
        what = "analyze response"
        error = opt_obj(obj, "error", what)
        return cls(
            text=opt_str(obj, "data", what) or "",
            finish_reason=opt_str(obj, "finish_reason", what),
            data=data,
            usage=opt_obj(obj, "usage", what) or {},
            id=opt_str(obj, "id", what) or opt_str(obj, "generation_id", what),
            warning=opt_str(error, "message", what) if error else None,
            raw=obj,
        )


def analyze_result(body: Any, response_format: Mapping[str, Any] | None) -> AnalyzeResult:
    """Parse the answer; decode the JSON text when a ``json_schema`` format was asked for.

    Example:
        >>> analyze_result({"data": '{"a": 1}'}, {"type": "json_schema"}).data
        {'a': 1}
    """
    obj = dict(as_object(body, "analyze response"))
    raw_data = obj.get("data")
    if isinstance(raw_data, (dict, list)):
        try:
            obj["data"] = orjson.dumps(raw_data).decode()
        except orjson.JSONEncodeError as exc:  # e.g. an integer past 64 bits
            raise MalformedResponseError(
                f"analyze response: 'data' cannot be read back as JSON ({exc})", body=obj
            ) from None
        return AnalyzeResult.from_api(obj, data=raw_data)
    wants_json = (response_format or {}).get("type") in ("json_schema", "segment_definitions")
    if not wants_json:
        return AnalyzeResult.from_api(obj)
    text = raw_data if isinstance(raw_data, str) else ""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        reason = obj.get("finish_reason")
        hint = "; raise max_tokens" if reason == "length" else ""
        raise MalformedResponseError(
            f"analyze returned text that is not the requested JSON (finish_reason={reason!r})"
            f"{hint}",
            body=obj,
        ) from None
    return AnalyzeResult.from_api(obj, data=parsed)


# --- the video -----------------------------------------------------------------------------


def video_context(video: VideoInput) -> dict[str, Any] | None:
    """The ``video`` object for a reference the API can take as it is, else None (a local
    file, which must be uploaded first).

    Raises:
        InvalidRequestError: not something Pegasus can analyse (a video without an asset,
            a string that is no URL, existing file or asset id).

    Example:
        >>> video_context("6711a09ae4a1b37f8a9c5d01")
        {'type': 'asset_id', 'asset_id': '6711a09ae4a1b37f8a9c5d01'}
    """
    if isinstance(video, Asset):
        return {"type": "asset_id", "asset_id": video.id}
    asset_id = getattr(video, "asset_id", None)
    if asset_id is not None or hasattr(video, "asset_id"):
        if not asset_id:
            raise InvalidRequestError(
                f"{type(video).__name__} {getattr(video, 'id', '?')} has no asset_id (it was "
                "indexed before assets existed); upload the file with client.assets.upload() "
                "and analyse that asset"
            )
        return {"type": "asset_id", "asset_id": str(asset_id)}
    if isinstance(video, os.PathLike):
        _check_local(os.fspath(video))
        return None
    if isinstance(video, str):
        if "://" in video:
            if not video.startswith(("http://", "https://")):
                raise InvalidRequestError(f"a video URL must be http(s), got {video!r}")
            return {"type": "url", "url": video}
        if os.path.exists(video):
            _check_local(video)
            return None
        if _ASSET_ID.match(video):
            return {"type": "asset_id", "asset_id": video}
        if media_type_of(video) is not None:
            raise InvalidVideoError(f"no such file: {video!r}; check the path", path=video)
    raise InvalidRequestError(
        f"cannot analyse {video!r}: pass an Asset, an indexed Video, an asset id, an http(s) "
        "URL or the path of a local file"
    )


def _check_local(path: str) -> None:
    """A local file is uploaded (by the caller): refused first if its name says it is an
    image or a document, which Pegasus does not analyse."""
    kind = media_type_of(path)
    if kind in ("image", "document"):
        raise InvalidVideoError(
            f"{path!r} is {'an' if kind == 'image' else 'a'} {kind} file by its extension; "
            "analysis takes video or audio (images go in images=[...] on pegasus1.6)",
            path=path,
        )


def _duration_of(video: VideoInput) -> float | None:
    value = getattr(video, "duration_s", None)
    return float(value) if isinstance(value, (int, float)) else None


def _resolve(
    video: VideoInput, ctx: Context, uploader: Uploader
) -> Flow[tuple[dict[str, Any], float | None]]:
    """The ``video`` object (uploading a local file once), and the duration when known."""
    context = video_context(video)
    if context is not None:
        return context, _duration_of(video)
    asset = yield from uploader.upload(video, ctx)
    return {"type": "asset_id", "asset_id": asset.id}, asset.duration_s


# --- requests ------------------------------------------------------------------------------


def _check_model(model: str) -> str:
    if model not in PEGASUS_MODELS:
        raise InvalidRequestError(f"model must be one of {PEGASUS_MODELS}, got {model!r}")
    return model


def _window(start_s: float | None, end_s: float | None) -> dict[str, float]:
    window: dict[str, float] = {}
    for name, value in (("start_time", start_s), ("end_time", end_s)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise InvalidRequestError(f"{name} must be seconds >= 0, got {value!r}")
        window[name] = float(value)
    if start_s is not None and end_s is not None and end_s - start_s < 1.0:
        raise InvalidRequestError(
            f"the analysed window must be at least 1 s long, got {start_s}..{end_s}"
        )
    return window


def _images(images: Sequence[str] | None, model: str) -> list[dict[str, str]] | None:
    if images is None:
        return None
    if isinstance(images, str) or not 1 <= len(images) <= 20:
        raise InvalidRequestError("images takes a list of 1 to 20 image URLs or asset ids")
    if model != "pegasus1.6":
        raise InvalidRequestError("images need model='pegasus1.6'")
    out = []
    for n, image in enumerate(images, start=1):
        if isinstance(image, Asset):
            out.append({"name": f"image{n}", "asset_id": image.id})
        elif isinstance(image, str) and image.startswith("https://"):
            out.append({"name": f"image{n}", "url": image})
        elif isinstance(image, str) and _ASSET_ID.match(image):
            out.append({"name": f"image{n}", "asset_id": image})
        else:
            raise InvalidRequestError(
                f"image {image!r}: pass an https URL or an asset id (upload local images with "
                "client.assets.upload first)"
            )
    return out


MAX_TOKENS = 98_304
# The smallest max_tokens per analysis mode (the API's table).
MIN_TOKENS = {"general": 512, "time_based_metadata": 2048}


def check_tokens(body: Mapping[str, Any]) -> None:
    """Refuse a ``max_tokens`` the API would refuse for the body's mode and model.

    Raises:
        InvalidRequestError: out of range, or ``"unlimited"`` outside segmentation on
            Pegasus 1.6.

    Example:
        >>> check_tokens({"max_tokens": 600})
        >>> check_tokens({"max_tokens": 600, "analysis_mode": "time_based_metadata"})
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: max_tokens must be 2048 to 98304 when segmenting...
    """
    tokens = body.get("max_tokens")
    if tokens is None:
        return
    mode = body.get("analysis_mode", "general")
    if tokens == "unlimited":
        if mode != "time_based_metadata" or body.get("model_name") != "pegasus1.6":
            raise InvalidRequestError(
                "max_tokens='unlimited' works only when segmenting with model='pegasus1.6'"
            )
        return
    low = MIN_TOKENS.get(str(mode), 1)
    if not low <= int(tokens) <= MAX_TOKENS:
        what = "when segmenting" if mode == "time_based_metadata" else "for an answer"
        raise InvalidRequestError(
            f"max_tokens must be {low} to {MAX_TOKENS} {what}, got {tokens!r}"
        )


def analysis_body(
    *,
    model: str,
    prompt: str | None,
    temperature: float | None,
    max_tokens: int | str | None,
    response_format: Mapping[str, Any] | None,
    start_s: float | None,
    end_s: float | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"model_name": _check_model(model)}
    if prompt is not None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise InvalidRequestError("prompt must be a non-empty string")
        body["prompt"] = prompt
    if temperature is not None:
        if isinstance(temperature, bool) or not 0.0 <= float(temperature) <= 1.0:
            raise InvalidRequestError(f"temperature must be 0 to 1, got {temperature!r}")
        body["temperature"] = float(temperature)
    if max_tokens is not None:
        if max_tokens != "unlimited":
            check_int("max_tokens", max_tokens, other="'unlimited'")
        body["max_tokens"] = max_tokens
    if response_format is not None:
        body["response_format"] = dict(response_format)
    body.update(_window(start_s, end_s))
    return body


_BODY_ARGS = ("model", "prompt", "temperature", "max_tokens", "response_format", "start_s", "end_s")


def _body_of(args: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`analysis_body` of a method's arguments, by name (an absent one is None)."""
    values: dict[str, Any] = {name: args.get(name) for name in _BODY_ARGS}
    return analysis_body(**values)


@dataclass(frozen=True)
class _Ask:
    """One checked analysis request, before the video is resolved."""

    video: VideoInput
    body: dict[str, Any]
    response_format: Mapping[str, Any] | None


def _ask(args: Mapping[str, Any]) -> _Ask:
    """The checked request of :meth:`Analyze.__call__` / :meth:`Analyze.stream` from their
    arguments, by name (``stream`` has no ``response_format``)."""
    video, prompt, response_format = args["video"], args["prompt"], args.get("response_format")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequestError("prompt must be a non-empty string")
    body = _body_of(args)
    image = _images(args["images"], args["model"])
    if image is not None:
        if video is not None:
            raise InvalidRequestError("pass a video or images, not both")
        body["image"] = image
    elif video is None:
        raise InvalidRequestError("pass the video to analyse (or images=...)")
    else:
        video_context(video)  # refuse what cannot be analysed before anything is sent
    if response_format is not None and response_format.get("type") != "json_schema":
        raise InvalidRequestError(
            "response_format must be {'type': 'json_schema', 'json_schema': {...}}"
        )
    check_tokens(body)
    return _Ask(video, body, response_format)


def _too_long(error: BadRequestError) -> bool:
    return error.code == "video_duration_too_long"


def analyze_flow(
    ask: _Ask, ctx: Context, uploader: Uploader, *, timeout_s: float | None = None
) -> Flow[AnalyzeResult]:
    """Analyse: synchronously, or through a task when the video is over an hour long.

    The duration is known for assets, indexed videos and uploaded files; for a bare asset
    id or a URL the synchronous call says so (``video_duration_too_long``, before any
    work), and the analysis goes through a task then.
    """
    body = dict(ask.body)
    duration = None
    if ask.video is not None:
        body["video"], duration = yield from _resolve(ask.video, ctx, uploader)
    if duration is None or duration <= SYNC_LIMIT_S:
        try:
            reply = yield from send(
                Request("POST", "/analyze", json={**body, "stream": False}, retry="always"), ctx
            )
            return analyze_result(reply.json(), ask.response_format)
        except BadRequestError as error:
            if duration is not None or ask.video is None or not _too_long(error):
                raise
            logger.debug("the video is over the synchronous limit: analysing it in a task")
    task = yield from create(AnalysisCreation(body), ctx)
    done: AnalysisTask = yield from _waited(task, ctx, timeout_s, None)
    return done.result(ask.response_format)


# --- streaming -----------------------------------------------------------------------------


class AnalyzeStream:
    """The text of an analysis as it is generated; ``final`` holds the whole result after.

    Iterate it (``for`` on a sync client, ``async for`` on an async one) to get the text
    fragments in order; once the stream ends, ``final`` is the :class:`AnalyzeResult` (full
    text, finish reason, usage, generation id).

    Example:
        >>> stream = client.analyze.stream(asset, "Describe the scene")  # doctest: +SKIP
        >>> for fragment in stream:  # doctest: +SKIP
        ...     print(fragment, end="")
        >>> stream.final.usage  # doctest: +SKIP
    """

    def __init__(self, fragments: Any) -> None:
        self._fragments = fragments
        self.final: AnalyzeResult | None = None

    def _done(self, result: AnalyzeResult) -> None:
        self.final = result

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        fragment: str = next(self._fragments)
        return fragment

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        fragment: str = await self._fragments.__anext__()
        return fragment


def _json_line(line: str, what: str) -> Any:
    """One line of a JSON Lines answer (the stream, a batch's results), parsed."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        raise MalformedResponseError(f"{what}: a line is not JSON: {line[:80]!r}") from None


def _stream(ask: _Ask, ctx: Context, uploader: Uploader, sink: AnalyzeStream) -> Flow[None]:
    body = {**ask.body, "stream": True}
    if ask.video is not None:
        body["video"], duration = yield from _resolve(ask.video, ctx, uploader)
        if duration is not None and duration > SYNC_LIMIT_S:
            raise InvalidRequestError(
                f"the video lasts {duration:.0f} s; only videos up to {SYNC_LIMIT_S:.0f} s "
                "stream. client.analyze() analyses longer ones (through an analysis task)"
            )
    reply = yield from send(
        Request("POST", "/analyze", json=body, retry="always", stream=True), ctx
    )
    pieces: list[str] = []
    end: dict[str, Any] = {}
    start: dict[str, Any] = {}
    while (line := (yield ReadLine(reply.lines))) is not None:
        if not line.strip():
            continue
        event = _json_line(line, "analyze stream")
        kind = event.get("event_type") if isinstance(event, dict) else None
        if kind == "text_generation" and isinstance(event.get("text"), str):
            pieces.append(event["text"])
            yield Emit(event["text"])
        elif kind == "stream_start":
            start = event.get("metadata") or {}
        elif kind == "stream_end":
            end = event
        elif kind == "stream_error" or (isinstance(event, dict) and "error" in event and not kind):
            raise MalformedResponseError(f"analyze stream failed: {event!r:.200}")
    if not end:
        raise MalformedResponseError("analyze stream ended without its stream_end event")
    meta = end.get("metadata") or {}
    sink._done(
        analyze_result(
            {
                "id": meta.get("generation_id") or start.get("generation_id"),
                "data": "".join(pieces),
                "finish_reason": end.get("finish_reason"),
                "usage": meta.get("usage") or {},
                "error": end.get("error"),
            },
            ask.response_format,
        )
    )


# --- segmentation --------------------------------------------------------------------------


SegmentFieldType = Literal[
    "string", "boolean", "number", "integer", "array", "timestamp", "time_array"
]
_FIELD_TYPES = ("string", "boolean", "number", "integer", "array", "timestamp", "time_array")


@dataclass(frozen=True)
class SegmentField:
    """One field each segment carries, e.g. ``SegmentField("mood", "string", "the mood")``.

    Args:
        name: the field's name (not ``start_time``, ``end_time`` or ``metadata``).
        type: ``string``, ``boolean``, ``number``, ``integer``, ``array``, ``timestamp`` or
            ``time_array`` (Pegasus 1.6).
        description: what the model should put there.
        enum: allowed values (up to 100).
        items: for ``array``: the item type (``"string"``...); for ``time_array``: a list of
            :class:`SegmentField` (the fields of each timed event).
        format: for ``timestamp``: ``seconds``, ``hh:mm:ss`` or ``hh:mm:ss.fff``.

    Example:
        >>> SegmentField("people", "array", "who is on screen", items="string").to_api()
        {'name': 'people', 'type': 'array', 'description': 'who is on screen', \
'items': {'type': 'string'}}
    """

    name: str
    type: SegmentFieldType
    description: str
    enum: Sequence[str] | None = None
    items: str | Sequence[SegmentField] | None = None
    format: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> SegmentField:
        """A field from its wire form (``items`` of a ``time_array`` become fields too).

        Raises:
            InvalidRequestError: not a field object.

        Example:
            >>> SegmentField.from_api({"name": "tags", "type": "array", "description": "d",
            ...                        "items": {"type": "string"}}).items
            'string'
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            raise InvalidRequestError(f"a segment field is a dict with a name, got {data!r}")
        items = data.get("items")
        if isinstance(items, Mapping) and isinstance(items.get("fields"), list):
            items = [cls.from_api(f) for f in items["fields"]]
        elif isinstance(items, Mapping):
            items = items.get("type")
        return cls(
            name=data["name"],
            type=data.get("type"),  # type: ignore[arg-type]  # checked by to_api
            description=data.get("description"),  # type: ignore[arg-type]
            enum=data.get("enum"),
            items=items,
            format=data.get("format"),
        )

    def to_api(self) -> dict[str, Any]:
        """The wire form, checked (the API's rules, before anything is sent)."""
        if self.type not in _FIELD_TYPES:
            raise InvalidRequestError(
                f"segment field {self.name!r}: type must be one of {_FIELD_TYPES}, "
                f"got {self.type!r}"
            )
        if not isinstance(self.description, str) or not self.description:
            raise InvalidRequestError(f"segment field {self.name!r} needs a description")
        if self.name in ("start_time", "end_time", "metadata") or not self.name:
            raise InvalidRequestError(f"segment field name {self.name!r} is reserved or empty")
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "description": self.description,
        }
        if self.enum is not None:
            if self.type == "timestamp" or len(self.enum) > 100:
                raise InvalidRequestError(f"field {self.name!r}: enum is up to 100 values")
            out["enum"] = list(self.enum)
        if self.type == "timestamp":
            if self.format not in ("seconds", "hh:mm:ss", "hh:mm:ss.fff"):
                raise InvalidRequestError(
                    f"timestamp field {self.name!r} needs format 'seconds', 'hh:mm:ss' or "
                    "'hh:mm:ss.fff'"
                )
            out["format"] = self.format
        if self.type == "array":
            if not isinstance(self.items, str):
                raise InvalidRequestError(f"array field {self.name!r} needs items='string' ...")
            out["items"] = {"type": self.items}
        elif self.type == "time_array":
            if isinstance(self.items, str) or not self.items:
                raise InvalidRequestError(
                    f"time_array field {self.name!r} needs items=[SegmentField(...), ...]"
                )
            out["items"] = {"type": "object", "fields": [f.to_api() for f in self.items]}
        return out


@dataclass(frozen=True)
class SegmentDefinition:
    """A kind of segment to find: ``SegmentDefinition("scene", "each scene", fields=[...])``.

    Args:
        id: the key of its segments in the result.
        description: what such a segment looks like.
        fields: what each segment carries (:class:`SegmentField` or their dicts).
        time_ranges: ``(start_s, end_s)`` spans to look in (each at least 2 s).
        media_sources: up to 4 reference images (``{"name", "media_type": "image",
            "url" | "asset_id" | "base64_string"}``), named in ``description`` as ``<@name>``.

    Example:
        >>> SegmentDefinition("scene", "each scene").to_api()
        {'id': 'scene', 'description': 'each scene'}
    """

    id: str
    description: str
    fields: Sequence[SegmentField | Mapping[str, Any]] = ()
    time_ranges: Sequence[tuple[float, float]] | None = None
    media_sources: Sequence[Mapping[str, Any]] | None = None

    def to_api(self) -> dict[str, Any]:
        """The wire form, checked (the API's rules, before anything is sent)."""
        if not isinstance(self.id, str) or not self.id or not self.description:
            raise InvalidRequestError("a segment definition needs an id and a description")
        out: dict[str, Any] = {"id": self.id, "description": self.description}
        if self.fields:
            fields = [
                f if isinstance(f, SegmentField) else SegmentField.from_api(f) for f in self.fields
            ]
            names = [f.name for f in fields]
            if len(set(names)) != len(names):
                raise InvalidRequestError(f"segment definition {self.id!r}: field names repeat")
            out["fields"] = [f.to_api() for f in fields]
        if self.time_ranges:
            out["time_ranges"] = [{"start_time": a, "end_time": b} for a, b in self.time_ranges]
        if self.media_sources:
            if len(self.media_sources) > 4:
                raise InvalidRequestError(f"segment definition {self.id!r}: up to 4 images")
            out["media_sources"] = [dict(m) for m in self.media_sources]
        return out


@dataclass(frozen=True)
class Segment:
    """One segment found: its definition, its times in seconds, and its fields.

    Example:
        >>> Segment("scene", 0.0, 4.5, {"mood": "calm"}).fields["mood"]
        'calm'
    """

    definition: str
    start_s: float
    end_s: float
    fields: Mapping[str, Any]


def parse_segments(data: Any) -> list[Segment]:
    """Segments from a segmentation result (``{definition id: [{start_time, end_time,
    metadata}]}``), ordered by start.

    Example:
        >>> parse_segments({"scene": [{"start_time": 2, "end_time": 5, "metadata": {}}]})
        [Segment(definition='scene', start_s=2.0, end_s=5.0, fields={})]
    """
    obj = as_object(data, "segmentation result")
    segments = []
    for definition, items in obj.items():
        if not isinstance(items, list):
            raise MalformedResponseError(f"segmentation result: {definition!r} is not a list")
        for item in items:
            entry = as_object(item, "segment")
            start = opt_float(entry, "start_time", "segment", non_negative=True)
            end = opt_float(entry, "end_time", "segment", non_negative=True)
            if start is None or end is None:
                raise MalformedResponseError("segment: needs numeric start_time and end_time")
            segments.append(
                Segment(str(definition), start, end, opt_obj(entry, "metadata", "segment") or {})
            )
    return sorted(segments, key=lambda s: (s.start_s, s.definition))


# --- analysis tasks ------------------------------------------------------------------------


@dataclass(eq=False)
class AnalysisTask(Job):
    """An asynchronous analysis: ``queued -> pending -> processing -> ready | failed``
    (or ``canceled``).

    Attributes:
        custom_id: your identifier (echoed in lists and webhooks).
        batch_id: the batch that made it, if any.
        video_source: what was analysed (``{type, asset_id | url...}``).
        request_params: the request as the server keeps it.
        completed_at: when it ended.

    Example:
        >>> task = AnalysisTask.from_api({"task_id": "t1", "status": "canceled",
        ...                               "error": {"code": "user_canceled", "message": "x"}})
        >>> task.done, task.failed, task.failure_reason
        (True, True, 'x')
    """

    custom_id: str | None = None
    batch_id: str | None = None
    video_source: dict[str, Any] | None = None
    request_params: dict[str, Any] | None = field(default=None, repr=False)
    completed_at: str | None = None

    @property
    def kind(self) -> AnalysisTasks:
        """The task kind of analysis tasks."""
        return ANALYSIS_TASKS

    @property
    def duration_s(self) -> float | None:
        """The analysed video's duration, when the server said."""
        meta = (self.video_source or {}).get("system_metadata")
        value = meta.get("duration") if isinstance(meta, dict) else None
        return float(value) if isinstance(value, (int, float)) else None

    def result(self, response_format: Mapping[str, Any] | None = None) -> AnalyzeResult:
        """The answer of a ready task (JSON decoded when a schema or segments were asked).

        Raises:
            InvalidRequestError: the task is not ready.

        Example:
            >>> task = client.analyze.tasks.wait(task)  # doctest: +SKIP
            >>> print(task.result().text)  # doctest: +SKIP
        """
        result = self.raw.get("result")
        if self.ready and not isinstance(result, dict):
            raise InvalidRequestError(
                f"analysis task {self.id} is ready but its result was not read (a webhook "
                "event finished it, and events carry no result): read it with "
                "client.analyze.tasks.retrieve(task)"
            )
        if not self.ready or not isinstance(result, dict):
            raise InvalidRequestError(
                f"analysis task {self.id} is {self.status!r}; wait for it first"
            )
        params = self.request_params or {}
        fmt = response_format or params.get("response_format")
        if params.get("analysis_mode") == "time_based_metadata":
            fmt = {"type": "segment_definitions"}
        merged = {**result, "error": self.raw.get("error")}
        return analyze_result(merged, fmt if isinstance(fmt, Mapping) else None)

    def segments(self) -> list[Segment]:
        """The segments of a ready segmentation task.

        Example:
            >>> for segment in task.segments():  # doctest: +SKIP
            ...     print(segment.start_s, segment.end_s, segment.fields)
        """
        return parse_segments(self.result({"type": "segment_definitions"}).data)

    @classmethod
    def from_api(cls, data: Any) -> AnalysisTask:
        """Parse an analysis task (create answer, retrieve, list item)."""
        obj = as_object(data, "analysis task")
        what = f"analysis task {obj.get('task_id', '?')}"
        return cls(
            id=req_str(obj, "task_id" if "task_id" in obj else "_id", "analysis task"),
            status=opt_str(obj, "status", what) or "queued",
            custom_id=opt_str(obj, "custom_id", what),
            batch_id=opt_str(obj, "batch_id", what),
            video_source=opt_obj(obj, "video_source", what),
            request_params=opt_obj(obj, "request_params", what),
            completed_at=opt_str(obj, "completed_at", what),
            created_at=opt_str(obj, "created_at", what),
            updated_at=opt_str(obj, "completed_at", what) or opt_str(obj, "created_at", what),
            raw=obj,
        )


class AnalysisTasks(TaskKind[AnalysisTask]):
    """The task kind of analysis tasks: tasks of one asset are listed together (one
    request covers every status); others by status.

    Example:
        >>> [r.params["status"] for r in ANALYSIS_TASKS.listings("tasks", ["a", "b"])]
        ['queued', 'pending', 'processing']
        >>> [r.params for r in ANALYSIS_TASKS.listings(("asset", "a1"), ["t1", "t2"])]
        [{'asset_id': 'a1', 'page_limit': 50}]
    """

    noun: ClassVar[str] = "analysis task"
    evented: ClassVar[bool] = True  # analyze.task.* webhooks
    failed: ClassVar[frozenset[str]] = frozenset({"failed", "canceled"})
    pending: ClassVar[tuple[str, ...]] = ("queued", "pending", "processing")

    def retrieve(self, job_id: str) -> Request:
        """``GET /analyze/tasks/{task_id}``."""
        return Request("GET", f"/analyze/tasks/{path_segment(job_id, 'task_id')}")

    def parse(self, reply: Reply, *, like: AnalysisTask | None) -> AnalysisTask:
        """The task in a retrieve reply."""
        return AnalysisTask.from_api(reply.json())

    def group(self, job: AnalysisTask) -> Hashable | None:
        """The tasks of one asset (whatever their status) are listed with one request; the
        others with one list per pending status."""
        asset_id = (job.video_source or {}).get("asset_id")
        return ("asset", asset_id) if isinstance(asset_id, str) and asset_id else "tasks"

    def listings(self, group: Hashable, ids: Sequence[str]) -> list[Request]:
        """The asset's tasks, or one list per pending status (the filter takes one)."""
        if isinstance(group, tuple):
            params = {"asset_id": group[1], "page_limit": PAGE_LIMIT_MAX}
            return [Request("GET", "/analyze/tasks", params=params)]
        return [
            Request(
                "GET", "/analyze/tasks", params={"status": status, "page_limit": PAGE_LIMIT_MAX}
            )
            for status in self.pending
        ]

    def finished_listing(self, group: Hashable) -> Request | None:
        """The newest ready tasks: where tasks that left the pending lists usually are (an
        asset's list already shows its ended tasks)."""
        if isinstance(group, tuple):
            return None
        return Request(
            "GET", "/analyze/tasks", params={"status": "ready", "page_limit": PAGE_LIMIT_MAX}
        )

    def parse_item(self, item: Any, group: Hashable) -> AnalysisTask:
        """One task of a list page."""
        return AnalysisTask.from_api(item)

    def from_event(self, data: Mapping[str, Any], like: AnalysisTask | None) -> AnalysisTask | None:
        """The task as an ``analyze.task.*`` event tells it (status, error, video source):
        one that ends costs no request. Events carry no result; :func:`with_result` reads
        it where it is needed."""
        job_id, status = data.get("id"), data.get("status")
        if not isinstance(job_id, str) or not isinstance(status, str) or not status:
            return None
        told = {key: data[key] for key in ("custom_id", "video_source", "error") if key in data}
        if like is None:
            return AnalysisTask.from_api({"task_id": job_id, "status": status, **told})
        raw = {**like.raw, **told, "status": status}
        raw.pop("result", None)  # never a stale result under a new status
        source, custom_id = told.get("video_source"), told.get("custom_id")
        return dataclasses.replace(
            like,
            status=status,
            custom_id=custom_id if isinstance(custom_id, str) else like.custom_id,
            video_source=source if isinstance(source, dict) else like.video_source,
            raw=raw,
        )


ANALYSIS_TASKS = AnalysisTasks()


def _idempotent_post(path: str, body: Mapping[str, Any], key: str | None) -> Request:
    """A create that names itself (``Idempotency-Key``), so it is safe to send again."""
    headers = {"Idempotency-Key": key or f"tl-{uuid.uuid4().hex}"}
    return Request("POST", path, json=dict(body), headers=headers, retry="always")


class AnalysisCreation(Creation[AnalysisTask]):
    """``POST /analyze/tasks`` with an ``Idempotency-Key``: a retried create is the same one.

    Example:
        >>> AnalysisCreation({"prompt": "x"}).request.headers["Idempotency-Key"][:3]
        'tl-'
    """

    def __init__(self, body: Mapping[str, Any], *, key: str | None = None) -> None:
        super().__init__(_idempotent_post("/analyze/tasks", body, key))

    def created(self, reply: Reply) -> AnalysisTask:
        """The task answered (``{task_id, status}``), knowing the video it was asked about
        (so that waits list it with the other tasks of its asset)."""
        task = AnalysisTask.from_api(reply.json())
        video = (self.request.json or {}).get("video")
        if task.video_source is None and isinstance(video, dict):
            task.video_source = dict(video)
        return task


def with_result(task: AnalysisTask, ctx: Context) -> Flow[AnalysisTask]:
    """The task with its result: a ready task that a webhook event finished (events carry
    no result), or that a list or a replayed create showed, is read once; so is a failed
    one shown without its reason (a create replayed after the task ended answers only
    ``{task_id, status}``). Any other is returned as it is.

    Example:
        >>> from tl_integrations._flows import SyncDriver
        >>> task = AnalysisTask("t1", "processing")
        >>> SyncDriver(transport=None).run(with_result(task, None)).status
        'processing'
    """
    if task.ready:
        told = isinstance(task.raw.get("result"), dict)
    else:
        told = not task.failed or bool(task.failure_reason)
    if told:
        return task
    fresh: AnalysisTask = yield from fetch(ANALYSIS_TASKS, task.id, ctx)
    task.update_from(fresh)
    return task


def _waited(
    job: str | AnalysisTask,
    ctx: Context,
    timeout_s: float | None,
    on_update: Callable[[AnalysisTask], object] | None,
) -> Flow[AnalysisTask]:
    done: AnalysisTask = yield from wait(
        job, ctx, locate=reader_of(ANALYSIS_TASKS), timeout_s=timeout_s, on_update=on_update
    )
    finished: AnalysisTask = yield from with_result(done, ctx)
    return finished


def cache_key(body: Mapping[str, Any]) -> str:
    """A ``custom_id`` naming what an analysis asks (model, prompt, format, window): a run
    that finds a ready task with it for the same video reuses its result instead of paying.

    Example:
        >>> cache_key({"prompt": "Summarise"}) == cache_key({"prompt": "Summarise"})
        True
    """
    keep = {k: v for k, v in body.items() if k not in ("video", "custom_id", "stream")}
    digest = hashlib.sha256(orjson.dumps(keep, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"tl-{digest[:40]}"


def cached_task(asset_id: str, custom_id: str, ctx: Context) -> Flow[AnalysisTask | None]:
    """A ready (or still running) task of this asset with this ``custom_id``, else None."""
    request = Request(
        "GET", "/analyze/tasks", params={"asset_id": asset_id, "page_limit": PAGE_LIMIT_MAX}
    )
    from .._flows import emitted

    tasks: list[AnalysisTask]
    tasks, _ = yield from emitted(
        pages(request, ctx, "analysis task list", AnalysisTask.from_api, max_pages=2)
    )
    mine = [t for t in tasks if t.custom_id == custom_id and not t.failed]
    ready = [t for t in mine if t.ready] or mine
    return ready[0]._bind(ctx.owner) if ready else None


def segmentation_body(
    *,
    definitions: Sequence[SegmentDefinition | Mapping[str, Any]] | None,
    min_segment_s: float | None,
    max_segment_s: float | None,
    custom_id: str | None,
    base: dict[str, Any],
) -> dict[str, Any]:
    """An ``/analyze/tasks`` body: ``base`` in segmentation mode when ``definitions`` are
    given, with its ``custom_id``; checked as the API checks it.

    Raises:
        InvalidRequestError: what the API would refuse (1-20 definitions, segment bounds
            of at least 2 s, ``time_array`` fields without Pegasus 1.6, a bad custom id).

    Example:
        >>> body = segmentation_body(definitions=[SegmentDefinition("scene", "each scene")],
        ...     min_segment_s=4, max_segment_s=None, custom_id=None,
        ...     base={"model_name": "pegasus1.5"})
        >>> body["analysis_mode"], body["min_segment_duration"]
        ('time_based_metadata', 4.0)
    """
    body = dict(base)
    if definitions is not None:
        if not 1 <= len(definitions) <= 20:
            raise InvalidRequestError("segmentation takes 1 to 20 segment definitions")
        body.pop("prompt", None)
        body["analysis_mode"] = "time_based_metadata"
        wire = [_definition(d).to_api() for d in definitions]
        body["response_format"] = {"type": "segment_definitions", "segment_definitions": wire}
        _check_definitions(wire, body, min_segment_s, max_segment_s)
        for name, value in (
            ("min_segment_duration", min_segment_s),
            ("max_segment_duration", max_segment_s),
        ):
            if value is not None:
                body[name] = float(value)
    if custom_id is not None:
        if not _CUSTOM_ID.match(custom_id):
            raise InvalidRequestError(
                f"custom_id must be 1-64 letters, digits, '_' or '-', got {custom_id!r}"
            )
        body["custom_id"] = custom_id
    check_tokens(body)
    return body


def _definition(value: SegmentDefinition | Mapping[str, Any]) -> SegmentDefinition:
    """A definition given as an object or as its wire dict (checked on ``to_api``)."""
    if isinstance(value, SegmentDefinition):
        return value
    if not isinstance(value, Mapping):
        raise InvalidRequestError(
            f"a segment definition is a SegmentDefinition or a dict, got {value!r}"
        )
    ranges = value.get("time_ranges")
    if ranges is not None and not all(
        isinstance(r, Mapping) and {"start_time", "end_time"} <= r.keys() for r in ranges
    ):
        raise InvalidRequestError(f"time_ranges are {{start_time, end_time}} dicts, got {ranges!r}")
    return SegmentDefinition(
        id=value.get("id"),  # type: ignore[arg-type]  # checked by to_api
        description=value.get("description"),  # type: ignore[arg-type]
        fields=tuple(value.get("fields") or ()),
        time_ranges=None if ranges is None else [(r["start_time"], r["end_time"]) for r in ranges],
        media_sources=value.get("media_sources"),
    )


def _check_definitions(
    wire: list[dict[str, Any]],
    body: Mapping[str, Any],
    min_segment_s: float | None,
    max_segment_s: float | None,
) -> None:
    for name, value in (("min_segment_s", min_segment_s), ("max_segment_s", max_segment_s)):
        if value is not None and (isinstance(value, bool) or not value >= 2):
            raise InvalidRequestError(f"{name} must be >= 2 seconds, got {value!r}")
    if min_segment_s is not None and max_segment_s is not None and max_segment_s < min_segment_s:
        raise InvalidRequestError("max_segment_s must be at least min_segment_s")
    ids = [d.get("id") for d in wire]
    if len(set(ids)) != len(ids):
        raise InvalidRequestError(f"segment definition ids must be unique, got {ids}")
    ranged = any(d.get("time_ranges") for d in wire)
    windowed = "start_time" in body or "end_time" in body
    if ranged and (windowed or min_segment_s is not None or max_segment_s is not None):
        raise InvalidRequestError(
            "time_ranges cannot be combined with start_s/end_s or min/max_segment_s"
        )
    timed = [
        f.get("name") for d in wire for f in d.get("fields") or [] if f.get("type") == "time_array"
    ]
    if timed and body.get("model_name") != "pegasus1.6":
        raise InvalidRequestError(f"time_array fields {timed} need model='pegasus1.6'")


def _task_body(args: Mapping[str, Any]) -> dict[str, Any]:
    """The checked ``/analyze/tasks`` body of :meth:`AnalysisTaskResource.create` /
    :meth:`Analyze.segments` from their arguments, by name (an absent one is None)."""
    base = _body_of(args)
    video_context(args["video"])  # refuse what cannot be analysed before anything is sent
    return segmentation_body(
        definitions=args.get("segments"),
        min_segment_s=args.get("min_segment_s"),
        max_segment_s=args.get("max_segment_s"),
        custom_id=args.get("custom_id"),
        base=base,
    )


def create_analysis(
    video: VideoInput, body: dict[str, Any], ctx: Context, uploader: Uploader, *, reuse: bool
) -> Flow[AnalysisTask]:
    if video is not None:
        body["video"], _ = yield from _resolve(video, ctx, uploader)
    if reuse:
        body.setdefault("custom_id", cache_key(body))
        asset_id = body.get("video", {}).get("asset_id")
        if asset_id:
            found = yield from cached_task(asset_id, body["custom_id"], ctx)
            if found is not None:
                # Listed or replayed tasks may show ready without their result.
                return (yield from with_result(found, ctx))
    task: AnalysisTask = yield from create(AnalysisCreation(body), ctx)
    return (yield from with_result(task, ctx))


def _segments(
    video: VideoInput,
    body: dict[str, Any],
    ctx: Context,
    uploader: Uploader,
    timeout_s: float | None,
    reuse: bool,
) -> Flow[list[Segment]]:
    task = yield from create_analysis(video, body, ctx, uploader, reuse=reuse)
    done: AnalysisTask = yield from _waited(task, ctx, timeout_s, None)
    return done.segments()


def reader_of(kind: TaskKind[Any]) -> Locate:
    """How a wait reads one job of ``kind`` by id (analysis tasks, batches).

    Example:
        >>> callable(reader_of(ANALYSIS_TASKS))
        True
    """

    def read(job_id: str, ctx: Context) -> Flow[Job]:
        job: Job = yield from fetch(kind, job_id, ctx)
        return job

    return read


def _listing(path: str, params: dict[str, Any], ctx: Context, kind: TaskKind[Any]) -> Flow[None]:
    """Emit every job of a list endpoint, bound to the client (for ``wait_for_done``)."""
    yield from pages(
        Request("GET", path, params=params),
        ctx,
        f"{kind.noun} list",
        lambda item: kind.parse_item(item, None)._bind(ctx.owner),
    )


def _cancel(task_id: str, ctx: Context) -> Flow[AnalysisTask]:
    path = f"{ANALYSIS_TASKS.retrieve(task_id).path}/cancel"
    yield from send(Request("POST", path, retry="always"), ctx)
    task: AnalysisTask = yield from fetch(ANALYSIS_TASKS, task_id, ctx)
    return task


def _delete(task_id: str, ctx: Context) -> Flow[None]:
    yield from send(Request("DELETE", ANALYSIS_TASKS.retrieve(task_id).path), ctx)


class AnalysisTaskResource(JobResource[AnalysisTask]):
    """``client.analyze.tasks``: asynchronous analyses (general or segmentation).

    With a webhook receiver attached (``TwelveLabs(events=receiver)``), ``wait_many``
    yields tasks finished by their events, without their result (events carry none):
    ``retrieve(task)`` reads it. ``wait`` reads it for you.

    Example:
        >>> task = client.analyze.tasks.create(asset, prompt="Summarise")  # doctest: +SKIP
        >>> client.analyze.tasks.wait(task).result().text  # doctest: +SKIP
    """

    def _locator(self) -> Locate:
        return reader_of(ANALYSIS_TASKS)

    def wait(
        self,
        job: str | AnalysisTask,
        *,
        timeout_s: float | None = None,
        on_update: Callable[[AnalysisTask], object] | None = None,
    ) -> AnalysisTask:
        """Wait for one task until it is ready (returned, with its result) or failed or
        canceled (raised), within ``timeout_s``.

        With a webhook receiver attached the task ends on its event, and a ready one is
        then read once for its result (events carry none).

        Raises:
            TaskFailedError: the task failed or was canceled, with the server's reason.
            TaskTimeoutError: the deadline passed; call again to resume.

        Example:
            >>> client.analyze.tasks.wait(task, timeout_s=600).result().text  # doctest: +SKIP
            'Two hosts review a phone...'
        """
        self._known(job)
        return self._client._run(_waited(job, self._ctx, timeout_s, on_update))

    def create(
        self,
        video: VideoInput,
        *,
        prompt: str | None = None,
        model: str = DEFAULT_PEGASUS,
        segments: Sequence[SegmentDefinition | Mapping[str, Any]] | None = None,
        min_segment_s: float | None = None,
        max_segment_s: float | None = None,
        response_format: Mapping[str, Any] | None = None,
        temperature: float | None = None,
        max_tokens: int | str | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        custom_id: str | None = None,
        reuse: bool = False,
    ) -> AnalysisTask:
        """Start an analysis; returns at once. A lost answer is resolved by the request's
        ``Idempotency-Key`` (the retry is the same create, never a second one).

        Args:
            video: an asset, indexed video, asset id, URL or local file (uploaded first).
            prompt: what to ask (general mode).
            segments: segment definitions: segmentation mode (``time_based_metadata``).
            min_segment_s / max_segment_s: bounds on segment length (>= 2 s).
            custom_id: your id for it (1-64 of ``[A-Za-z0-9_-]``).
            reuse: first look for a task of the same asset asking the same thing (by a
                ``custom_id`` derived from the request) and return it instead.

        Raises:
            InvalidRequestError: bad arguments, before anything is sent.

        Example:
            >>> client.analyze.tasks.create(asset, prompt="List the speakers")  # doctest: +SKIP
        """
        if (prompt is None) == (segments is None):
            raise InvalidRequestError("pass prompt= (general analysis) or segments= (not both)")
        body = _task_body(locals())
        flow = create_analysis(video, body, self._ctx, Uploader.of(self._client), reuse=reuse)
        return self._client._run(flow)

    def retrieve(self, task_id: str | AnalysisTask) -> AnalysisTask:
        """Fetch a task (its result, once ready).

        Example:
            >>> client.analyze.tasks.retrieve(task_id).status  # doctest: +SKIP
            'processing'
        """
        return self._client._run(fetch(ANALYSIS_TASKS, job_id_of(task_id), self._ctx))

    def list(
        self,
        *,
        status: str | None = None,
        asset_id: str | None = None,
        video_url: str | None = None,
        analysis_mode: str | None = None,
        page_limit: int = PAGE_LIMIT_MAX,
    ) -> Iterator[AnalysisTask]:
        """Iterate over analysis tasks, newest first, with the API's filters.

        Example:
            >>> [t.id for t in client.analyze.tasks.list(status="ready")]  # doctest: +SKIP
        """
        params = {
            "status": status,
            "asset_id": asset_id,
            "video_url": video_url,
            "analysis_mode": analysis_mode,
            "page_limit": page_limit,
        }
        return self._client._iterate(_listing("/analyze/tasks", params, self._ctx, ANALYSIS_TASKS))

    def cancel(self, task_id: str | AnalysisTask) -> AnalysisTask:
        """Cancel a task that has not finished; returns it as it is now.

        Example:
            >>> client.analyze.tasks.cancel(task_id).status  # doctest: +SKIP
            'canceled'
        """
        return self._client._run(_cancel(job_id_of(task_id), self._ctx))

    def delete(self, task_id: str | AnalysisTask) -> None:
        """Delete a finished task (``ConflictError`` while it runs).

        Example:
            >>> client.analyze.tasks.delete(task_id)  # doctest: +SKIP
        """
        return self._client._run(_delete(job_id_of(task_id), self._ctx))


class AsyncAnalysisTaskResource(AsyncJobResource[AnalysisTask]):
    """``client.analyze.tasks`` of an async client (same methods, awaited).

    Example:
        >>> task = await client.analyze.tasks.create(asset, prompt="x")  # doctest: +SKIP
    """

    _locator = AnalysisTaskResource._locator

    create = awaited(AnalysisTaskResource.create)
    retrieve = awaited(AnalysisTaskResource.retrieve)
    list = streamed(AnalysisTaskResource.list)
    cancel = awaited(AnalysisTaskResource.cancel)
    delete = awaited(AnalysisTaskResource.delete)
    wait = awaited(AnalysisTaskResource.wait)


# --- batches -------------------------------------------------------------------------------

BATCH_MODELS = ("pegasus1.5",)
MAX_BATCH_ITEMS = 1000


def _batch_asset(video: VideoInput) -> str:
    """The asset id of a batch item (batches take assets only)."""
    context = video_context(video) if not isinstance(video, os.PathLike) else None
    if context is None or context.get("type") != "asset_id":
        raise InvalidRequestError(
            f"batch items are assets, got {video!r}: upload files with client.assets.upload() "
            "first (a URL or a local file is not accepted in a batch)"
        )
    return str(context["asset_id"])


@dataclass(frozen=True)
class BatchItem:
    """One video of a batch, with what it overrides of the batch's defaults.

    Args:
        video: an :class:`Asset`, its id, or an indexed video (its asset is analysed).
        custom_id: your id for the item (unique in the batch; 1-64 of ``[A-Za-z0-9_-]``).
        prompt: this item's question (general mode), instead of the batch's.
        temperature / max_tokens / start_s / end_s / min_segment_s / max_segment_s:
            overrides of the batch's values.

    Example:
        >>> BatchItem("6711a09ae4a1b37f8a9c5d01", custom_id="ep1", prompt="Title?").to_api()
        {'video': {'type': 'asset_id', 'asset_id': '6711a09ae4a1b37f8a9c5d01'}, \
'custom_id': 'ep1', 'prompt': {'input_text': 'Title?'}}
    """

    video: VideoInput
    custom_id: str | None = None
    prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    start_s: float | None = None
    end_s: float | None = None
    min_segment_s: float | None = None
    max_segment_s: float | None = None

    def to_api(self) -> dict[str, Any]:
        """The wire form (a ``BatchItemRequest``), checked."""
        item: dict[str, Any] = {"video": {"type": "asset_id", "asset_id": _batch_asset(self.video)}}
        if self.custom_id is not None:
            if not _CUSTOM_ID.match(self.custom_id):
                raise InvalidRequestError(
                    f"custom_id must be 1-64 letters, digits, '_' or '-', got {self.custom_id!r}"
                )
            item["custom_id"] = self.custom_id
        item.update(_batch_values(vars(self)))
        return item


def _batch_values(args: Mapping[str, Any]) -> dict[str, Any]:
    """What items and defaults share, in wire form (the prompt is an object in batches),
    from the fields of a :class:`BatchItem` or the batch's arguments: the
    prompt, temperature, max_tokens, window and segment bounds, by name."""
    max_tokens = args.get("max_tokens")
    if max_tokens is not None and not isinstance(max_tokens, int):
        raise InvalidRequestError(f"batches take a number of max_tokens, got {max_tokens!r}")
    values = _body_of({**args, "model": DEFAULT_PEGASUS, "response_format": None})
    del values["model_name"]
    if "prompt" in values:
        values["prompt"] = {"input_text": values["prompt"]}
    for name, value in (
        ("min_segment_duration", args.get("min_segment_s")),
        ("max_segment_duration", args.get("max_segment_s")),
    ):
        if value is not None:
            if isinstance(value, bool) or not value >= 2:
                raise InvalidRequestError(f"{name} must be >= 2 seconds, got {value!r}")
            values[name] = float(value)
    return values


def _refuse_repeated_items(requests: Sequence[Mapping[str, Any]]) -> None:
    """Two items asking the same of the same asset (all but ``custom_id`` alike) would be
    analysed, and paid for, twice for one answer: refused, naming both (1-based)."""
    first: dict[bytes, int] = {}
    for number, request in enumerate(requests, start=1):
        key = orjson.dumps(
            {k: v for k, v in request.items() if k != "custom_id"}, option=orjson.OPT_SORT_KEYS
        )
        if key in first:
            asset_id = request["video"]["asset_id"]
            raise InvalidRequestError(
                f"items {first[key]} and {number} ask the same of asset {asset_id!r} (same "
                "prompt and values): it would be analysed and paid for twice; drop one, or "
                "give it its own prompt or window"
            )
        first[key] = number


def batch_body(args: Mapping[str, Any]) -> dict[str, Any]:
    """A ``POST /analyze/batches`` body from the arguments of
    :meth:`AnalysisBatchResource.create`, by name (an absent one is None), checked as the
    API checks it.

    Raises:
        InvalidRequestError: 0 or over 1,000 items, an item that is not an asset, custom ids
            used twice, two items asking the same of one asset, a model other than
            ``pegasus1.5``, a general batch without a prompt for some item, or values out of
            range.

    Example:
        >>> body = batch_body({"items": ["6711a09ae4a1b37f8a9c5d01"], "model": "pegasus1.5",
        ...                    "prompt": "Hi"})
        >>> body["analysis_mode"], body["defaults"]
        ('general', {'prompt': {'input_text': 'Hi'}})
    """
    items, model = args["items"], args["model"]
    prompt, segments = args.get("prompt"), args.get("segments")
    if model not in BATCH_MODELS:
        raise InvalidRequestError(f"batches take model {BATCH_MODELS[0]!r} only, got {model!r}")
    if isinstance(items, (str, bytes)) or not 1 <= len(items) <= MAX_BATCH_ITEMS:
        raise InvalidRequestError(f"a batch takes 1 to {MAX_BATCH_ITEMS} items (a list)")
    if prompt is not None and segments is not None:
        raise InvalidRequestError("pass prompt= (general analysis) or segments=, not both")
    wanted = [i if isinstance(i, BatchItem) else BatchItem(i) for i in items]
    requests = [i.to_api() for i in wanted]
    ids = [i.custom_id for i in wanted if i.custom_id is not None]
    if len(set(ids)) != len(ids):
        raise InvalidRequestError("custom_id must be unique within a batch")
    _refuse_repeated_items(requests)
    mode = "time_based_metadata" if segments is not None else "general"
    defaults = _batch_values(args)
    if segments is not None:
        fmt = segmentation_body(
            definitions=segments,
            min_segment_s=None,
            max_segment_s=None,
            custom_id=None,
            base={"model_name": model},
        )["response_format"]
        defaults["response_format"] = fmt
        if any("prompt" in r for r in requests):
            raise InvalidRequestError("a segmentation batch takes no prompts")
    else:
        response_format = args.get("response_format")
        if response_format is not None:
            if response_format.get("type") != "json_schema":
                raise InvalidRequestError("a general batch takes a json_schema response_format")
            defaults["response_format"] = dict(response_format)
        if prompt is None and not all("prompt" in r for r in requests):
            raise InvalidRequestError("give the batch a prompt=, or every item its own prompt")
    for values in (defaults, *requests):
        check_tokens({"analysis_mode": mode, "model_name": model, **values})
    body: dict[str, Any] = {"model_name": model, "analysis_mode": mode, "requests": requests}
    if defaults:
        body["defaults"] = defaults
    return body


@dataclass(eq=False)
class AnalysisBatch(Job):
    """A batch of analyses: ``pending -> processing -> completed`` (or ``canceling ->
    canceled``, or ``expired`` 24 hours after it was made).

    ``completed`` only says every item ended: count ``failed_items``, and read each item
    with ``client.analyze.batches.results(batch)``.

    Attributes:
        analysis_mode: ``general`` or ``time_based_metadata``.
        total_items / queued_items / processing_items / ready_items / failed_items /
            canceled_items: the item counters.
        items: ``(task_id, custom_id)`` of each item, in request order (from the create).
        expires_at: when unfinished items are given up.

    Example:
        >>> batch = AnalysisBatch.from_api({"batch_id": "b1", "status": "canceling",
        ...                                 "ready_items": 2, "canceled_items": 1})
        >>> batch.done, batch.counts["ready_items"]
        (False, 2)
    """

    analysis_mode: str | None = None
    model_name: str | None = None
    total_items: int | None = None
    expires_at: str | None = None
    completed_at: str | None = None
    items: tuple[tuple[str, str | None], ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def kind(self) -> AnalysisBatches:
        """The task kind of analysis batches."""
        return ANALYSIS_BATCHES

    @property
    def task_ids(self) -> list[str]:
        """The analysis task of each item, in request order (known after a create)."""
        return [task_id for task_id, _ in self.items]

    @classmethod
    def from_api(cls, data: Any) -> AnalysisBatch:
        """Parse a batch (create answer, retrieve, list item)."""
        obj = as_object(data, "analysis batch")
        what = f"analysis batch {obj.get('batch_id', '?')}"
        counts = {
            key: opt_int(obj, key, what, non_negative=True) or 0
            for key in _BATCH_COUNTERS
            if key in obj
        }
        items = tuple(
            (req_str(item, "task_id", what), opt_str(item, "custom_id", what))
            for item in (as_object(i, what) for i in opt_list(obj, "items", what) or [])
        )
        ended = next(
            (
                opt_str(obj, k, what)
                for k in ("completed_at", "canceled_at", "expired_at")
                if k in obj
            ),
            None,
        )
        return cls(
            id=req_str(obj, "batch_id", "analysis batch"),
            status=opt_str(obj, "status", what) or "pending",
            analysis_mode=opt_str(obj, "analysis_mode", what),
            model_name=opt_str(obj, "model_name", what),
            total_items=opt_int(obj, "total_items", what, non_negative=True),
            expires_at=opt_str(obj, "expires_at", what),
            completed_at=ended,
            items=items,
            counts=counts,
            created_at=opt_str(obj, "created_at", what),
            updated_at=ended or opt_str(obj, "created_at", what),
            raw=obj,
        )

    def update_from(self, other: Job) -> None:
        """Copy a fresher view in, keeping the items the create answered with."""
        items = self.items
        super().update_from(other)
        self.items = self.items or items


_BATCH_COUNTERS = (
    "queued_items",
    "processing_items",
    "ready_items",
    "failed_items",
    "canceled_items",
)


class AnalysisBatches(TaskKind[AnalysisBatch]):
    """The task kind of analysis batches: a batch is done when every item ended
    (``completed``), or when it was canceled or expired (those count as failed).

    Example:
        >>> ANALYSIS_BATCHES.listings("batches", ["b1", "b2"])[0].params["status"]
        ('pending', 'processing', 'canceling')
    """

    noun: ClassVar[str] = "analysis batch"
    ready: ClassVar[frozenset[str]] = frozenset({"completed"})
    failed: ClassVar[frozenset[str]] = frozenset({"canceled", "expired"})
    pending: ClassVar[tuple[str, ...]] = ("pending", "processing", "canceling")
    slow: ClassVar[frozenset[str]] = frozenset({"processing"})

    def retrieve(self, job_id: str) -> Request:
        """``GET /analyze/batches/{batch_id}``."""
        return Request("GET", f"/analyze/batches/{path_segment(job_id, 'batch_id')}")

    def parse(self, reply: Reply, *, like: AnalysisBatch | None) -> AnalysisBatch:
        """The batch in a retrieve reply (keeping the items a create answered with)."""
        batch = AnalysisBatch.from_api(reply.json())
        if like is not None and not batch.items:
            batch.items = like.items
        return batch

    def group(self, job: AnalysisBatch) -> Hashable | None:
        """The account's unfinished batches are listed together (at most five exist)."""
        return "batches"

    def listings(self, group: Hashable, ids: Sequence[str]) -> list[Request]:
        """One list of every unfinished batch (the filter takes several statuses)."""
        params = {"status": self.pending, "page_limit": PAGE_LIMIT_MAX}
        return [Request("GET", "/analyze/batches", params=params)]

    def finished_listing(self, group: Hashable) -> Request | None:
        """The newest ended batches (the filter takes every end status at once)."""
        params = {"status": tuple(sorted(self.terminal)), "page_limit": PAGE_LIMIT_MAX}
        return Request("GET", "/analyze/batches", params=params)

    def parse_item(self, item: Any, group: Hashable) -> AnalysisBatch:
        """One batch of a list page."""
        return AnalysisBatch.from_api(item)

    def failure(self, job: AnalysisBatch) -> TaskFailedError:
        """A canceled or expired batch, with what became of its items."""
        counts = ", ".join(f"{n} {k.removesuffix('_items')}" for k, n in job.counts.items() if n)
        reason = f"the batch was {job.status}" + (f" ({counts})" if counts else "")
        return TaskFailedError(job.id, reason=reason, task=job, noun=self.noun)


ANALYSIS_BATCHES = AnalysisBatches()


class BatchCreation(Creation[AnalysisBatch]):
    """``POST /analyze/batches`` with an ``Idempotency-Key``: a retried create is the same
    batch, never a second one (the emulator honours it; the API documents the header for
    analysis tasks).

    Example:
        >>> BatchCreation({"requests": []}).request.retry
        'always'
    """

    def __init__(self, body: Mapping[str, Any], *, key: str | None = None) -> None:
        super().__init__(_idempotent_post("/analyze/batches", body, key))

    def created(self, reply: Reply) -> AnalysisBatch:
        """The batch answered, with one ``(task_id, custom_id)`` per item."""
        return AnalysisBatch.from_api(reply.json())


@dataclass(frozen=True)
class BatchResult:
    """One item of a batch as its results report it.

    Attributes:
        task_id: the item's analysis task (``client.analyze.tasks.retrieve`` reads it all).
        custom_id: your id for the item.
        status: ``queued``, ``processing``, ``ready``, ``failed`` or ``canceled``.
        result: the answer, once ready (its ``text`` is JSON for a segmentation batch).
        error: why it failed.
        error_code: the API's code for it (``video_duration_too_long``...).

    Example:
        >>> item = BatchResult.from_api({"task_id": "t1", "status": "ready", "data": {
        ...     "generation_id": "g", "data": '{"scene": []}', "finish_reason": "stop"}})
        >>> item.ready, item.segments()
        (True, [])
    """

    task_id: str
    custom_id: str | None
    status: str
    result: AnalyzeResult | None = None
    error: str | None = None
    error_code: str | None = None

    @property
    def ready(self) -> bool:
        """True when the item has its answer."""
        return self.status == "ready" and self.result is not None

    def json(self) -> Any:
        """The answer parsed as JSON (a schema's value, or a segmentation's object).

        Raises:
            InvalidRequestError: the item has no answer.
            MalformedResponseError: the answer is not JSON.

        Example:
            >>> item = BatchResult.from_api({"task_id": "t1", "status": "ready", "data": {
            ...     "generation_id": "g", "data": '{"title": "Bread"}', "finish_reason": "stop"}})
            >>> item.json()
            {'title': 'Bread'}
        """
        if self.result is None:
            raise InvalidRequestError(f"batch item {self.task_id} is {self.status!r}: no answer")
        fmt = {"type": "json_schema"}
        return analyze_result(dict(self.result.raw), fmt).data

    def segments(self) -> list[Segment]:
        """The segments of a segmentation batch's item.

        Example:
            >>> item = BatchResult.from_api({"task_id": "t1", "status": "ready", "data": {
            ...     "generation_id": "g", "data": '{"scene": []}', "finish_reason": "stop"}})
            >>> item.segments()
            []
        """
        return parse_segments(self.json())

    @classmethod
    def from_api(cls, data: Any) -> BatchResult:
        """Parse one line of ``GET /analyze/batches/{id}/results``."""
        obj = as_object(data, "batch result")
        what = f"batch result {obj.get('task_id', '?')}"
        result = opt_obj(obj, "data", what)
        error = opt_obj(obj, "error", what) or {}
        return cls(
            task_id=req_str(obj, "task_id", what),
            custom_id=opt_str(obj, "custom_id", what),
            status=opt_str(obj, "status", what) or "queued",
            result=AnalyzeResult.from_api(result) if result is not None else None,
            error=opt_str(error, "message", what),
            error_code=opt_str(error, "code", what),
        )


def _batch_path(batch_id: str) -> str:
    return ANALYSIS_BATCHES.retrieve(batch_id).path


def _create_batch(body: Mapping[str, Any], ctx: Context) -> Flow[AnalysisBatch]:
    batch: AnalysisBatch = yield from create(BatchCreation(body), ctx)
    return batch


def _cancel_batch(batch_id: str, ctx: Context) -> Flow[AnalysisBatch]:
    reply = yield from send(Request("POST", f"{_batch_path(batch_id)}/cancel", retry="always"), ctx)
    return AnalysisBatch.from_api(reply.json())._bind(ctx.owner)


def _delete_batch(batch_id: str, ctx: Context) -> Flow[None]:
    yield from send(Request("DELETE", _batch_path(batch_id)), ctx)


def _batch_results(batch_id: str, ctx: Context) -> Flow[None]:
    """Emit each item's result as its line arrives (the answer is JSON Lines)."""
    request = Request("GET", f"{_batch_path(batch_id)}/results", stream=True)
    reply = yield from send(request, ctx)
    while (line := (yield ReadLine(reply.lines))) is not None:
        if line.strip():
            yield Emit(BatchResult.from_api(_json_line(line, "batch results")))


def _seq(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


class AnalysisBatchResource(JobResource[AnalysisBatch]):
    """``client.analyze.batches``: many assets analysed in one request (Pegasus 1.5).

    Example:
        >>> batch = client.analyze.batches.create(assets, prompt="Summarise")  # doctest: +SKIP
        >>> client.analyze.batches.wait(batch, timeout_s=3600)  # doctest: +SKIP
        >>> for item in client.analyze.batches.results(batch):  # doctest: +SKIP
        ...     print(item.custom_id, item.status, item.result and item.result.text)
    """

    def _locator(self) -> Locate:
        return reader_of(ANALYSIS_BATCHES)

    def create(
        self,
        items: Sequence[BatchItem | VideoInput],
        *,
        prompt: str | None = None,
        segments: Sequence[SegmentDefinition | Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        min_segment_s: float | None = None,
        max_segment_s: float | None = None,
        model: str = DEFAULT_PEGASUS,
    ) -> AnalysisBatch:
        """Start a batch: one analysis task per item; returns at once (``pending``).

        The keyword arguments are the batch's defaults; a :class:`BatchItem` overrides them
        for its video. ``segments=`` makes a segmentation batch, else ``prompt=`` (or a
        prompt on every item) a general one. The create carries an ``Idempotency-Key``, so
        a retry after a lost answer is the same batch.

        Args:
            items: assets, asset ids, indexed videos, or :class:`BatchItem` (1 to 1,000).
            prompt: the question for every item without its own.
            segments: segment definitions (segmentation mode).
            response_format: a ``json_schema`` format (general mode).

        Raises:
            InvalidRequestError: what the API would refuse, before anything is sent.
            ConflictError: five batches are active already.

        Example:
            >>> client.analyze.batches.create([a1, BatchItem(a2, custom_id="ep2")],
            ...                               prompt="Summarise")  # doctest: +SKIP
        """
        body = batch_body(locals())
        return self._client._run(_create_batch(body, self._ctx))

    def retrieve(self, batch: str | AnalysisBatch) -> AnalysisBatch:
        """Fetch a batch: its status and item counters.

        Example:
            >>> client.analyze.batches.retrieve(batch_id).ready_items  # doctest: +SKIP
        """
        return self._client._run(fetch(ANALYSIS_BATCHES, job_id_of(batch, "batch_id"), self._ctx))

    def list(
        self,
        *,
        status: str | Sequence[str] | None = None,
        analysis_mode: str | Sequence[str] | None = None,
        page_limit: int = PAGE_LIMIT_MAX,
    ) -> Iterator[AnalysisBatch]:
        """Iterate over batches, newest first (``status``/``analysis_mode``: any of).

        Example:
            >>> [b.id for b in client.analyze.batches.list(status="processing")]  # doctest: +SKIP
        """
        params = {
            "status": _seq(status),
            "analysis_mode": _seq(analysis_mode),
            "page_limit": page_limit,
        }
        listing = _listing("/analyze/batches", params, self._ctx, ANALYSIS_BATCHES)
        return self._client._iterate(listing)

    def results(self, batch: str | AnalysisBatch) -> Iterator[BatchResult]:
        """Iterate over the items' results as the server sends them (JSON Lines), in
        request order; readable while the batch runs (unfinished items have no answer).

        Example:
            >>> for item in client.analyze.batches.results(batch):  # doctest: +SKIP
            ...     print(item.custom_id, item.status)
        """
        return self._client._iterate(_batch_results(job_id_of(batch, "batch_id"), self._ctx))

    def cancel(self, batch: str | AnalysisBatch) -> AnalysisBatch:
        """Cancel the items still waiting (those processing finish); the batch is
        ``canceling`` until every item ended, then ``canceled``.

        Raises:
            ConflictError: the batch already ended.

        Example:
            >>> client.analyze.batches.cancel(batch).status  # doctest: +SKIP
            'canceling'
        """
        return self._client._run(_cancel_batch(job_id_of(batch, "batch_id"), self._ctx))

    def delete(self, batch: str | AnalysisBatch) -> None:
        """Delete an ended batch with its tasks (``ConflictError`` while it runs).

        Example:
            >>> client.analyze.batches.delete(batch)  # doctest: +SKIP
        """
        return self._client._run(_delete_batch(job_id_of(batch, "batch_id"), self._ctx))


class AsyncAnalysisBatchResource(AsyncJobResource[AnalysisBatch]):
    """``client.analyze.batches`` of an async client (same methods, awaited; ``results``
    and ``list`` with ``async for``).

    Example:
        >>> batch = await client.analyze.batches.create(assets, prompt="x")  # doctest: +SKIP
    """

    _locator = AnalysisBatchResource._locator

    create = awaited(AnalysisBatchResource.create)
    retrieve = awaited(AnalysisBatchResource.retrieve)
    list = streamed(AnalysisBatchResource.list)
    results = streamed(AnalysisBatchResource.results)
    cancel = awaited(AnalysisBatchResource.cancel)
    delete = awaited(AnalysisBatchResource.delete)


# --- the resource --------------------------------------------------------------------------


class Analyze(Resource):
    """``client.analyze(video, prompt)``: ask Pegasus about a video.

    Attributes:
        tasks: asynchronous analyses (:class:`AnalysisTaskResource`).
        batches: many assets in one request (:class:`AnalysisBatchResource`).

    Example:
        >>> result = client.analyze(asset, "Summarize this video")  # doctest: +SKIP
        >>> result.text, result.finish_reason  # doctest: +SKIP
        ('Two hosts review a phone...', 'stop')
    """

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.tasks = AnalysisTaskResource(client)
        self.batches = AnalysisBatchResource(client)

    def __call__(
        self,
        video: VideoInput,
        prompt: str,
        *,
        model: str = DEFAULT_PEGASUS,
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: Mapping[str, Any] | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        images: Sequence[str] | None = None,
        timeout_s: float | None = None,
    ) -> AnalyzeResult:
        """Ask Pegasus about a video (or about 1-20 images with ``pegasus1.6``).

        ``response_format={"type": "json_schema", "json_schema": {...}}`` asks for JSON; the
        parsed value is in ``result.data``. A video over an hour long goes through an
        analysis task (waited for, within ``timeout_s``).

        Args:
            video: an asset, an indexed video, an asset id, a URL, or a local file (uploaded
                as an asset once); None with ``images``.
            prompt: the question.
            model: ``pegasus1.5`` (default) or ``pegasus1.6``.
            start_s / end_s: analyse only this window (at least 1 s).
            images: image URLs or asset ids (Pegasus 1.6), instead of a video.

        Raises:
            InvalidRequestError: refused before anything is sent.
            MalformedResponseError: JSON was asked for and the answer is not JSON.

        Example:
            >>> client.analyze(video, "Name the speaker").text  # doctest: +SKIP
            'Dr. Ada Park'
        """
        ask = _ask(locals())
        flow = analyze_flow(ask, self._ctx, Uploader.of(self._client), timeout_s=timeout_s)
        return self._client._run(flow)

    def stream(
        self,
        video: VideoInput,
        prompt: str,
        *,
        model: str = DEFAULT_PEGASUS,
        temperature: float | None = None,
        max_tokens: int | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        images: Sequence[str] | None = None,
    ) -> AnalyzeStream:
        """Stream the answer: iterate to get text fragments as they are generated.

        Example:
            >>> for text in client.analyze.stream(asset, "Describe it"):  # doctest: +SKIP
            ...     print(text, end="", flush=True)
        """
        ask = _ask(locals())
        sink = AnalyzeStream(None)
        sink._fragments = self._client._iterate(
            _stream(ask, self._ctx, Uploader.of(self._client), sink)
        )
        return sink

    def segments(
        self,
        video: VideoInput,
        definitions: Sequence[SegmentDefinition | Mapping[str, Any]],
        *,
        model: str = DEFAULT_PEGASUS,
        min_segment_s: float | None = None,
        max_segment_s: float | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        max_tokens: int | str | None = None,
        timeout_s: float | None = None,
        reuse: bool = True,
    ) -> list[Segment]:
        """Cut a video into timestamped segments carrying the fields you define.

        Runs an analysis task in segmentation mode and waits for it. With ``reuse`` (the
        default) a ready task of the same asset asking the same thing is reused.

        Example:
            >>> scene = SegmentDefinition("scene", "each scene", fields=[
            ...     SegmentField("mood", "string", "the mood of the scene")])
            >>> for s in client.analyze.segments(asset, [scene]):  # doctest: +SKIP
            ...     print(s.start_s, s.end_s, s.fields["mood"])
        """
        body = _task_body({**locals(), "segments": definitions})
        flow = _segments(video, body, self._ctx, Uploader.of(self._client), timeout_s, reuse)
        return self._client._run(flow)


class AsyncAnalyze(AsyncResource):
    """``client.analyze`` of :class:`~tl_integrations.AsyncTwelveLabs` (awaited; the
    stream with ``async for``).

    Example:
        >>> result = await client.analyze(asset, "Summarize")  # doctest: +SKIP
    """

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.tasks = AsyncAnalysisTaskResource(client)
        self.batches = AsyncAnalysisBatchResource(client)

    __call__ = awaited(Analyze.__call__)
    stream = Analyze.stream
    segments = awaited(Analyze.segments)
