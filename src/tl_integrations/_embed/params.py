"""Embedding models, their wire protocol, and the checks made before anything is uploaded.

One interface, two protocols: ``Marengo-retrieval-2.7`` speaks Embed v1 (``/embed/tasks``,
multipart, scope ``video``) and ``marengo3.0`` speaks Embed v2 (``/embed-v2/tasks``, JSON,
scope ``asset``). Callers may spell the whole-video scope either way; it is normalised here.
Everything in this module is pure: no I/O except ``stat`` on a local file.

Example:
    >>> req = validate_video_task(model_name="marengo3.0", video_url="https://x/a.mp4",
    ...                           video_clip_length=4, video_embedding_scope=["clip", "video"])
    >>> req.model.protocol, req.clip_length_s, req.scopes
    ('v2', 4, ('clip', 'asset'))
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any, Literal

from .._errors import InvalidRequestError, InvalidVideoError
from .._uploads import MAX_UPLOAD_BYTES, UploadSource, video_source

__all__ = [
    "CLIP_LENGTH_DEFAULT_S",
    "CLIP_LENGTH_MAX_S",
    "CLIP_LENGTH_MIN_S",
    "MODELS",
    "ModelSpec",
    "VideoSource",
    "VideoTaskRequest",
    "check_text",
    "inline_limit_message",
    "normalize_options",
    "normalize_scopes",
    "resolve_model",
    "validate_video_task",
]

CLIP_LENGTH_MIN_S = 2
CLIP_LENGTH_MAX_S = 10
CLIP_LENGTH_DEFAULT_S = 6
_MB = 1024**2

ProtocolName = Literal["v1", "v2"]
VideoSource = str | os.PathLike[str] | IO[bytes]


@dataclass(frozen=True)
class ModelSpec:
    """What we know about one embedding model.

    Attributes:
        name: the model name sent on the wire.
        protocol: ``"v1"`` (``/embed``, ``/embed/tasks``) or ``"v2"`` (``/embed-v2...``).
        dim: vector dimension.
        options: the embedding options the model produces.
        whole_scope: how this protocol spells the whole-video scope (``video`` / ``asset``).
        max_file_bytes: the largest local file this protocol accepts (v2 sends it inline
            as base64, so its limit is much lower).

    Example:
        >>> resolve_model("Marengo-retrieval-2.7").dim
        1024
    """

    name: str
    protocol: ProtocolName
    dim: int
    options: tuple[str, ...]
    whole_scope: str
    max_file_bytes: int


MODELS: dict[str, ModelSpec] = {
    "Marengo-retrieval-2.7": ModelSpec(
        "Marengo-retrieval-2.7", "v1", 1024, ("visual-text", "audio"), "video", MAX_UPLOAD_BYTES
    ),
    "marengo3.0": ModelSpec(
        "marengo3.0", "v2", 512, ("visual", "audio", "transcription"), "asset", 36 * _MB
    ),
}
_ALIASES = {"marengo2.7": "Marengo-retrieval-2.7", "marengo3": "marengo3.0"}


def resolve_model(model_name: str) -> ModelSpec:
    """Find a model by name (case-insensitive; ``marengo2.7`` is accepted for 2.7).

    Raises:
        InvalidRequestError: the model is unknown; the message lists the known ones.

    Example:
        >>> resolve_model("MARENGO3.0").name
        'marengo3.0'
    """
    if not isinstance(model_name, str):
        raise InvalidRequestError(f"model_name must be a string, got {type(model_name).__name__}")
    folded = {name.lower(): name for name in MODELS}
    folded.update({alias: name for alias, name in _ALIASES.items()})
    canonical = folded.get(model_name.strip().lower())
    if canonical is None:
        known = ", ".join(repr(name) for name in MODELS)
        raise InvalidRequestError(f"unknown embedding model {model_name!r}; use one of {known}")
    return MODELS[canonical]


def _as_list(value: str | Iterable[str], *, what: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    if not items or not all(isinstance(v, str) for v in items):
        raise InvalidRequestError(f"{what} must be a non-empty list of strings, got {value!r}")
    return list(dict.fromkeys(v.strip().lower() for v in items))


def normalize_scopes(scopes: str | Iterable[str] | None, *, model: ModelSpec) -> tuple[str, ...]:
    """Check scopes and spell them the model's way (``video`` <-> ``asset``). Default: clip.

    Raises:
        InvalidRequestError: an unknown scope, or an empty list.

    Example:
        >>> normalize_scopes(["asset", "clip"], model=resolve_model("Marengo-retrieval-2.7"))
        ('video', 'clip')
    """
    if scopes is None:
        return ("clip",)
    out: list[str] = []
    for scope in _as_list(scopes, what="video_embedding_scope"):
        if scope in ("video", "asset"):
            scope = model.whole_scope
        elif scope != "clip":
            raise InvalidRequestError(
                f"unknown embedding scope {scope!r}; use 'clip' and/or 'video' (alias 'asset')"
            )
        if scope not in out:
            out.append(scope)
    return tuple(out)


def normalize_options(
    options: str | Iterable[str] | None, *, model: ModelSpec
) -> tuple[str, ...] | None:
    """Check embedding options against the model. None means every option the model has.

    Raises:
        InvalidRequestError: an option the model does not produce.

    Example:
        >>> normalize_options("audio", model=resolve_model("marengo3.0"))
        ('audio',)
    """
    if options is None:
        return None
    wanted = _as_list(options, what="embedding_options")
    bad = [o for o in wanted if o not in model.options]
    if bad:
        raise InvalidRequestError(
            f"embedding option(s) {bad} not available for {model.name}; "
            f"use {', '.join(model.options)}"
        )
    return tuple(wanted)


def _clip_length(value: float | None) -> int:
    if value is None:
        return CLIP_LENGTH_DEFAULT_S
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value) % 1 == 0:
        raise InvalidRequestError(
            f"video_clip_length must be a whole number of seconds, got {value!r}"
        )
    if not CLIP_LENGTH_MIN_S <= value <= CLIP_LENGTH_MAX_S:
        raise InvalidRequestError(
            f"video_clip_length must be {CLIP_LENGTH_MIN_S} to {CLIP_LENGTH_MAX_S} s, got {value}"
        )
    return int(value)


def _offset(value: float | None, *, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be a number of seconds, got {value!r}")
    if value < 0:
        raise InvalidRequestError(f"{name} must be >= 0 s, got {value}")
    return float(value)


def _check_offsets(
    start_s: float | None, end_s: float | None, *, clip_s: int, model: ModelSpec
) -> None:
    if model.protocol == "v1" and (start_s is None) != (end_s is None):
        raise InvalidRequestError(
            f"{model.name}: set both video_start_offset_sec and video_end_offset_sec, or neither"
        )
    if end_s is None:
        return
    start = start_s or 0.0
    if end_s <= start:
        raise InvalidRequestError(
            f"video_end_offset_sec ({end_s}) must be greater than video_start_offset_sec ({start})"
        )
    if end_s - start < clip_s:
        raise InvalidRequestError(
            f"the offset range {start}..{end_s} s ({end_s - start} s) is shorter than "
            f"video_clip_length ({clip_s} s); widen the range or shorten the clips"
        )


def check_text(text: Any) -> str:
    """Check one text to embed: a non-blank string.

    Raises:
        InvalidRequestError: not a string, or blank.

    Example:
        >>> check_text("a red car")
        'a red car'
    """
    if not isinstance(text, str):
        raise InvalidRequestError(f"text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InvalidRequestError("text must not be empty or blank")
    return text


def _check_inline_size(source: UploadSource, *, model: ModelSpec) -> None:
    size = source.size_bytes
    if size is not None and size > model.max_file_bytes:
        raise InvalidVideoError(
            inline_limit_message(source.filename, size, model), path=source.filename
        )


def inline_limit_message(shown: str, size: int, model: ModelSpec) -> str:
    """The error message for a local file above ``model.max_file_bytes``.

    Example:
        >>> "video_url=" in inline_limit_message("a.mp4", 40 * 1024**2, MODELS["marengo3.0"])
        True
    """
    limit = f"{model.max_file_bytes / _MB:.0f} MB"
    if model.protocol == "v2":
        return (
            f"{shown!r} is {size / _MB:.1f} MB; {model.name} takes local files up to {limit} "
            "(sent inline as base64). Pass video_url= with a URL to the raw file instead, or "
            "use model_name='Marengo-retrieval-2.7', which streams uploads up to 2 GB"
        )
    return f"{shown!r} is {size / _MB:.1f} MB; {model.name} takes files up to {limit}"


@dataclass(frozen=True)
class VideoTaskRequest:
    """A checked, normalised request for one video embedding task.

    Attributes:
        model: the model (and so the protocol).
        video_file: the checked local file (path or open binary file), or None.
        video_url: a URL to the raw media, or None.
        clip_length_s: seconds per clip (2 to 10).
        start_s, end_s: the offset range in seconds, or None.
        scopes: scopes in the protocol's spelling.
        options: options to compute (v2) and keep, or None for all.

    Example:
        >>> validate_video_task(model_name="Marengo-retrieval-2.7", video_url="u").scopes
        ('clip',)
    """

    model: ModelSpec
    video_file: UploadSource | None
    video_url: str | None
    clip_length_s: int
    start_s: float | None
    end_s: float | None
    scopes: tuple[str, ...]
    options: tuple[str, ...] | None


def _source(
    video_file: VideoSource | None, video_url: str | None, *, model: ModelSpec
) -> UploadSource | None:
    if (video_file is None) == (video_url is None):
        raise InvalidRequestError("pass exactly one of video_file or video_url")
    if video_url is not None:
        if not isinstance(video_url, str) or not video_url.strip():
            raise InvalidRequestError(f"video_url must be a non-empty string, got {video_url!r}")
        return None
    assert video_file is not None
    # The core's checks (exists, regular, readable, not empty, <= 2 GB), then ours: Embed v2
    # sends local files inline, so its own, much lower limit applies.
    source = video_source(video_file, max_bytes=MAX_UPLOAD_BYTES)
    _check_inline_size(source, model=model)
    return source


def validate_video_task(
    *,
    model_name: str,
    video_file: VideoSource | None = None,
    video_url: str | None = None,
    video_clip_length: float | None = None,
    video_start_offset_sec: float | None = None,
    video_end_offset_sec: float | None = None,
    video_embedding_scope: str | Iterable[str] | None = None,
    embedding_options: str | Iterable[str] | None = None,
) -> VideoTaskRequest:
    """Check every parameter of a video embedding task, before any byte is uploaded.

    Raises:
        InvalidRequestError: unknown model, bad clip length, offsets, scopes or options.
        InvalidVideoError: the local file is missing, not a file, empty or too large.

    Example:
        >>> validate_video_task(model_name="marengo3.0", video_url="u", video_clip_length=11)
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: video_clip_length must be 2 to 10 s, got 11
    """
    model = resolve_model(model_name)
    clip_s = _clip_length(video_clip_length)
    start_s = _offset(video_start_offset_sec, name="video_start_offset_sec")
    end_s = _offset(video_end_offset_sec, name="video_end_offset_sec")
    _check_offsets(start_s, end_s, clip_s=clip_s, model=model)
    scopes = normalize_scopes(video_embedding_scope, model=model)
    options = normalize_options(embedding_options, model=model)
    source = _source(video_file, video_url, model=model)
    return VideoTaskRequest(
        model=model,
        video_file=source,
        video_url=video_url,
        clip_length_s=clip_s,
        start_s=start_s,
        end_s=end_s,
        scopes=scopes,
        options=options,
    )
