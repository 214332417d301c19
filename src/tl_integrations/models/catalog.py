"""Indexes, videos, search clips and analyses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ._read import (
    as_object,
    opt_float,
    opt_int,
    opt_list,
    opt_obj,
    opt_str,
    req_str,
)
from .task import SystemMetadata

__all__ = ["AnalyzeResult", "Index", "IndexModel", "SearchClip", "Utterance", "Video"]


@dataclass(frozen=True)
class IndexModel:
    """One model of an index: ``IndexModel("marengo3.0", ("visual", "audio"))``.

    Example:
        >>> IndexModel("pegasus1.2", ("visual", "audio")).to_api()["model_name"]
        'pegasus1.2'
    """

    name: str
    options: tuple[str, ...] = ("visual", "audio")

    def to_api(self) -> dict[str, Any]:
        """The wire form used by ``POST /indexes``."""
        return {"model_name": self.name, "model_options": list(self.options)}


@dataclass(frozen=True)
class Index:
    """An index: a named collection of videos processed by a fixed set of models.

    Example:
        >>> Index.from_api({"_id": "i1", "index_name": "talks", "video_count": 2.0}).video_count
        2
    """

    id: str
    name: str | None = None
    models: tuple[IndexModel, ...] = ()
    created_at: str | None = None
    updated_at: str | None = None
    expires_at: str | None = None
    video_count: int | None = None
    total_duration: float | None = None
    addons: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any) -> Index:
        """Parse an index object (v1.2's ``engines`` are read as models too)."""
        obj = as_object(data, "index")
        what = f"index {obj.get('_id', '?')}"
        return cls(
            id=req_str(obj, "_id", "index"),
            name=opt_str(obj, "index_name", what),
            models=_index_models(obj, what),
            created_at=opt_str(obj, "created_at", what),
            updated_at=opt_str(obj, "updated_at", what),
            expires_at=opt_str(obj, "expires_at", what),
            video_count=opt_int(obj, "video_count", what),
            total_duration=opt_float(obj, "total_duration", what),
            addons=tuple(str(a) for a in opt_list(obj, "addons", what) or ()),
            raw=obj,
        )


def _index_models(obj: Mapping[str, Any], what: str) -> tuple[IndexModel, ...]:
    items = opt_list(obj, "models", what) or opt_list(obj, "engines", what) or []
    models = []
    for item in items:
        entry = as_object(item, f"{what}.models[]")
        name = opt_str(entry, "model_name", what) or opt_str(entry, "engine_name", what)
        options = opt_list(entry, "model_options", what) or opt_list(entry, "engine_options", what)
        models.append(IndexModel(name or "", tuple(str(o) for o in options or ())))
    return tuple(models)


class Utterance(NamedTuple):
    """One transcribed phrase: ``(start_s, end_s, text)``.

    Example:
        >>> Utterance(0.0, 4.8, "Welcome back").text
        'Welcome back'
    """

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Video:
    """An indexed video (``/indexes/{index_id}/videos``).

    ``transcription`` is None unless it was requested; ``embedding`` keeps the raw
    ``embedding`` object when ``embedding_options`` were requested.

    Example:
        >>> video = Video.from_api({"_id": "v1", "transcription": [
        ...     {"start": 0, "end": 1.5, "value": "hi"}]}, index_id="i1")
        >>> video.transcription
        [Utterance(start_s=0.0, end_s=1.5, text='hi')]
    """

    id: str
    index_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    indexed_at: str | None = None
    system_metadata: SystemMetadata = field(default_factory=SystemMetadata)
    user_metadata: Mapping[str, Any] = field(default_factory=dict)
    hls: Mapping[str, Any] | None = None
    transcription: list[Utterance] | None = None
    embedding: Mapping[str, Any] | None = field(default=None, repr=False)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Any, *, index_id: str | None = None) -> Video:
        """Parse a video object (retrieve or list item)."""
        obj = as_object(data, "video")
        what = f"video {obj.get('_id', '?')}"
        return cls(
            id=req_str(obj, "_id", "video"),
            index_id=index_id,
            created_at=opt_str(obj, "created_at", what),
            updated_at=opt_str(obj, "updated_at", what),
            indexed_at=opt_str(obj, "indexed_at", what),
            system_metadata=SystemMetadata.from_api(
                obj.get("system_metadata", obj.get("metadata"))
            ),
            user_metadata=opt_obj(obj, "user_metadata", what) or {},
            hls=opt_obj(obj, "hls", what),
            transcription=_utterances(obj, what),
            embedding=opt_obj(obj, "embedding", what),
            raw=obj,
        )


def _utterances(obj: Mapping[str, Any], what: str) -> list[Utterance] | None:
    items = opt_list(obj, "transcription", what)
    if items is None:
        return None if "transcription" not in obj else []
    utterances = []
    for item in items:
        entry = as_object(item, f"{what}.transcription[]")
        utterances.append(
            Utterance(
                start_s=opt_float(entry, "start", what) or 0.0,
                end_s=opt_float(entry, "end", what) or 0.0,
                text=opt_str(entry, "value", what) or opt_str(entry, "text", what) or "",
            )
        )
    return utterances


@dataclass(frozen=True)
class SearchClip:
    """One search hit: a clip of a video with its times and relevance.

    Marengo 3.0 returns ``rank`` (1 is best); Marengo 2.7 returns ``score`` and
    ``confidence`` instead; whichever is missing is None.

    Example:
        >>> clip = SearchClip.from_api({"video_id": "v1", "start": 1, "end": 4, "rank": 1})
        >>> clip.start_s, clip.end_s, clip.rank, clip.score
        (1.0, 4.0, 1, None)
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
            start_s=opt_float(obj, "start", what) or 0.0,
            end_s=opt_float(obj, "end", what) or 0.0,
            rank=opt_int(obj, "rank", what),
            score=opt_float(obj, "score", what),
            confidence=opt_str(obj, "confidence", what),
            thumbnail_url=opt_str(obj, "thumbnail_url", what),
            transcription=opt_str(obj, "transcription", what),
            user_metadata=opt_obj(obj, "user_metadata", what),
            raw=obj,
        )


@dataclass(frozen=True)
class AnalyzeResult:
    """The answer of ``POST /analyze`` (non-streaming).

    Attributes:
        text: the generated text.
        finish_reason: ``stop`` or ``length`` (ran out of ``max_tokens``).
        data: the parsed JSON value when a ``json_schema`` response format was asked for.
        usage: token counts as sent (``output_tokens``, maybe ``input_tokens``).
        id: the generation id.

    Example:
        >>> AnalyzeResult.from_api({"id": "g1", "data": "A cat.", "finish_reason": "stop"}).text
        'A cat.'
    """

    text: str
    finish_reason: str | None = None
    data: Any = None
    usage: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, body: Any, *, data: Any = None) -> AnalyzeResult:
        """Parse the response; ``data`` is the already-parsed JSON answer, if any."""
        obj = as_object(body, "analyze response")
        what = "analyze response"
        return cls(
            text=opt_str(obj, "data", what) or "",
            finish_reason=opt_str(obj, "finish_reason", what),
            data=data,
            usage=opt_obj(obj, "usage", what) or {},
            id=opt_str(obj, "id", what),
            raw=obj,
        )
