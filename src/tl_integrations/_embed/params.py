"""Embedding models, the media they take, and every check made before anything is sent.

One interface, two protocols: ``Marengo-retrieval-2.7`` speaks Embed v1 (``/embed/tasks``,
multipart, video only, scope ``video``); ``marengo3.0`` and ``marengo3.5`` speak Embed v2
(``/embed-v2``, ``/embed-v2/tasks``, JSON, scope ``asset``). Marengo 3.5 adds images and
documents to the tasks, Matryoshka ``embedding_dimension`` (a shorter vector is the prefix
of the 512-d one), uncertainty vectors, and a synchronous endpoint that takes only the
``multi_input`` form. The rules of §7 of the API are checked here, so a request the API
would refuse is refused with a typed error naming the fix, before any byte is uploaded.

Everything in this module is pure: no I/O except ``stat`` on a local file.

Example:
    >>> req = validate_task(resolve_model("marengo3.5"), media_ref("https://x/a.mp3"),
    ...                     {"embedding_dimension": 256})
    >>> req.input_type, req.scopes, req.dimension
    ('audio', ('clip',), 256)
"""

from __future__ import annotations

import math
import os
import pathlib
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal, cast

from .._errors import InvalidRequestError, InvalidVideoError, check_int
from .._uploads import (
    DIRECT_LIMITS,
    MAX_UPLOAD_BYTES,
    MULTIPART_LIMITS,
    MediaType,
    UploadSource,
    media_type_of,
    video_source,
)

__all__ = [
    "CLIP_LENGTH_DEFAULT_S",
    "CLIP_LENGTH_MAX_S",
    "CLIP_LENGTH_MIN_S",
    "INLINE_MAX_BYTES",
    "MODELS",
    "MULTI_MAX_SOURCES",
    "SDK_SPELLING",
    "SYNC_MEDIA_MAX_BYTES",
    "TASK_OPTIONS",
    "DocumentOptions",
    "MediaRef",
    "ModelSpec",
    "MultiRequest",
    "MultiSource",
    "TaskRequest",
    "VideoSource",
    "VideoTaskRequest",
    "check_dimension",
    "check_text",
    "document_format",
    "media_ref",
    "normalize_options",
    "normalize_scopes",
    "protocol_options",
    "resolve_model",
    "untyped_assets",
    "validate_multi",
    "validate_task",
    "validate_video_task",
]

CLIP_LENGTH_MIN_S = 2
CLIP_LENGTH_MAX_S = 10
CLIP_LENGTH_DEFAULT_S = 6
DYNAMIC_MIN_S = (2.0, 5.0)
MULTI_MAX_SOURCES = 10
_MB = 1024**2
SYNC_MEDIA_MAX_BYTES = 32 * _MB
"""The largest source of the synchronous endpoint (``multi_input``, images), in bytes."""
INLINE_MAX_BYTES = 36 * _MB
"""The largest open file object sent inline (base64) to a task; paths go through assets."""

ProtocolName = Literal["v1", "v2"]
InputType = Literal["video", "audio", "image", "document"]
VideoSource = str | os.PathLike[str] | IO[bytes]
MediaInput = Any
"""What a media argument takes: a local path, an open binary file, an http(s) URL, an asset
id, or an :class:`~tl_integrations._resources.assets.Asset`."""

_ASSET_ID = re.compile(r"^[0-9a-fA-F]{24}$")
_REFERENCE = re.compile(r"<@([^<>\s]+)>")
_INPUT_TYPES: tuple[InputType, ...] = ("video", "audio", "image", "document")


@dataclass(frozen=True)
class ModelSpec:
    """What we know about one embedding model.

    Attributes:
        name: the model name sent on the wire.
        protocol: ``"v1"`` (``/embed``, ``/embed/tasks``) or ``"v2"`` (``/embed-v2...``).
        dim: the full vector dimension.
        options: the embedding options of a video task.
        whole_scope: how this protocol spells the whole-input scope (``video`` / ``asset``).
        audio_options: the embedding options of an audio task (empty: no audio tasks).
        task_inputs: the input types its asynchronous tasks take.
        multi_media: the media types its synchronous ``multi_input`` form takes.
        sync_single: whether the synchronous endpoint takes single inputs (``text``,
            ``image``...) besides ``multi_input``.
        temporal_wrapper: segmentation is wrapped in ``{"temporal": {...}}``.
        matryoshka: ``embedding_dimension``, ``embedding_uncertainty`` and
            ``auto_truncate`` apply.

    Example:
        >>> resolve_model("Marengo-retrieval-2.7").dim
        1024
    """

    name: str
    protocol: ProtocolName
    dim: int
    options: tuple[str, ...]
    whole_scope: str
    audio_options: tuple[str, ...] = ()
    task_inputs: tuple[InputType, ...] = ("video",)
    multi_media: tuple[MediaType, ...] = ()
    sync_single: bool = True
    temporal_wrapper: bool = False
    matryoshka: bool = False

    def options_for(self, input_type: str) -> tuple[str, ...]:
        """The embedding options a task of ``input_type`` may ask for.

        Example:
            >>> resolve_model("marengo3.5").options_for("audio")
            ('audio',)
        """
        table = {
            "video": self.options,
            "audio": self.audio_options,
            "image": ("visual",),
            "document": ("visual", "text"),
        }
        return table.get(input_type, ())


MODELS: dict[str, ModelSpec] = {
    "Marengo-retrieval-2.7": ModelSpec(
        "Marengo-retrieval-2.7", "v1", 1024, ("visual-text", "audio"), "video"
    ),
    "marengo3.0": ModelSpec(
        "marengo3.0",
        "v2",
        512,
        ("visual", "audio", "transcription"),
        "asset",
        audio_options=("audio", "transcription"),
        task_inputs=("video", "audio"),
        multi_media=("image",),
    ),
    "marengo3.5": ModelSpec(
        "marengo3.5",
        "v2",
        512,
        # On 3.5 ``audio`` covers speech, music and other sound: there is no transcription.
        ("visual", "audio"),
        "asset",
        audio_options=("audio",),
        task_inputs=("video", "audio", "image", "document"),
        multi_media=("image", "video", "audio", "document"),
        sync_single=False,
        temporal_wrapper=True,
        matryoshka=True,
    ),
}
_ALIASES = {
    "marengo2.7": "Marengo-retrieval-2.7",
    "marengo3": "marengo3.0",
    "marengo35": "marengo3.5",
}


def resolve_model(model_name: str) -> ModelSpec:
    """Find a model by name (case-insensitive; ``marengo2.7`` is accepted for 2.7).

    Raises:
        InvalidRequestError: the model is unknown; the message lists the known ones.

    Example:
        >>> resolve_model("MARENGO3.5").name
        'marengo3.5'
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


def protocol_options(protocol: ProtocolName) -> tuple[str, ...]:
    """Every embedding option some model of ``protocol`` produces (to read unknown tasks).

    Example:
        >>> protocol_options("v2")
        ('visual', 'audio', 'transcription', 'text', 'fused')
    """
    found: list[str] = []
    for spec in MODELS.values():
        if spec.protocol == protocol:
            for input_type in _INPUT_TYPES:
                found += [o for o in spec.options_for(input_type) if o not in found]
    # ``fused`` is what the API names a fused row; it is read, never asked for here.
    return (*found, "fused") if protocol == "v2" else tuple(found)


# --- media references --------------------------------------------------------------------


@dataclass(frozen=True)
class MediaRef:
    """Where a medium is: a local path, an open file, a URL or an asset (checked).

    Attributes:
        kind: ``path``, ``stream``, ``url`` or ``asset``.
        path / stream / url / asset_id: the one that ``kind`` names.
        filename: a name to tell the type by and to show (None when unknown).
        media_type: video, audio, image or document, when the name or asset tells.

    Example:
        >>> ref = media_ref("https://cdn.example.com/talks/intro.MP3?sig=1")
        >>> ref.kind, ref.filename, ref.media_type
        ('url', 'intro.MP3', 'audio')
    """

    kind: Literal["path", "stream", "url", "asset"]
    path: pathlib.Path | None = None
    stream: IO[bytes] | None = field(default=None, repr=False)
    url: str | None = None
    asset_id: str | None = None
    filename: str | None = None
    media_type: MediaType | None = None

    @property
    def shown(self) -> str:
        """How messages name the medium (never a whole, maybe signed, URL).

        Example:
            >>> media_ref("https://x/a.mp4?token=secret").shown
            "URL 'a.mp4'"
        """
        if self.kind == "url":
            return f"URL {self.filename or 'media'!r}"
        if self.kind == "asset":
            return f"asset {self.asset_id}"
        return repr(self.filename or "file")


def _is_url(value: str) -> bool:
    head, sep, _ = value.partition("://")
    return (
        bool(sep)
        and head.isascii()
        and head.replace("+", "").replace(".", "").replace("-", "").isalnum()
    )


def _url_name(url: str) -> str | None:
    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    return name or None


def media_ref(media: MediaInput, *, what: str = "media") -> MediaRef:
    """Tell what a media argument is: an asset, a URL, a local file or an open file.

    A string is a URL when it has a scheme, a local path when such a file exists, and an
    asset id when it is 24 hex digits; anything else is reported as a missing file.

    Raises:
        InvalidRequestError: not a kind of media this client takes.
        InvalidVideoError: a path that does not exist.

    Example:
        >>> media_ref("6711a0c2e4a1b37f8a9c5d00").kind
        'asset'
        >>> media_ref("/no/such/talk.mp4")
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidVideoError: file not found: '/no/such/talk.mp4'; check the path
    """
    asset_id = getattr(media, "id", None)
    if isinstance(asset_id, str) and hasattr(media, "file_type"):  # an Asset
        name = getattr(media, "filename", None)
        return MediaRef(
            "asset",
            asset_id=asset_id,
            filename=name,
            media_type=_type_of_asset(name, getattr(media, "file_type", None)),
        )
    if isinstance(media, str) and _is_url(media):
        if not media.lower().startswith(("http://", "https://", "file://")):
            raise InvalidRequestError(f"{what} URL must be http(s), got {media[:40]!r}")
        name = _url_name(media)
        return MediaRef("url", url=media, filename=name, media_type=_type_of_name(name))
    if isinstance(media, (str, os.PathLike)):
        path = pathlib.Path(os.fspath(media)).expanduser()
        if isinstance(media, str) and _ASSET_ID.match(media) and not path.exists():
            return MediaRef("asset", asset_id=media)
        if not path.exists():
            raise InvalidVideoError(
                f"file not found: {str(media)!r}; check the path", path=str(media)
            )
        return MediaRef("path", path=path, filename=path.name, media_type=media_type_of(path.name))
    if hasattr(media, "read"):
        name = os.path.basename(str(getattr(media, "name", "") or "")) or None
        return MediaRef("stream", stream=media, filename=name, media_type=_type_of_name(name))
    raise InvalidRequestError(
        f"cannot embed {type(media).__name__}: pass a local path, an open binary file, an "
        "http(s) URL, an asset id or an Asset"
    )


def _type_of_name(name: str | None) -> MediaType | None:
    return media_type_of(name) if name else None


def _type_of_asset(filename: str | None, file_type: str | None) -> MediaType | None:
    found = _type_of_name(filename)
    if found is None and isinstance(file_type, str):
        head = file_type.split("/", 1)[0]
        if head in ("video", "audio", "image"):
            found = cast(MediaType, head)
        elif file_type in ("application/pdf", "text/plain", "text/markdown"):
            found = "document"
    return found


def document_format(filename: str | None) -> Literal["pdf", "text"] | None:
    """``pdf`` or ``text`` (``.txt``/``.md``) by the file name; None when it does not tell.

    Example:
        >>> document_format("notes.MD"), document_format("a.pdf"), document_format(None)
        ('text', 'pdf', None)
    """
    if not filename:
        return None
    ext = os.path.splitext(filename)[1].lower()
    if ext == ".pdf":
        return "pdf"
    if ext in (".txt", ".md", ".markdown"):
        return "text"
    return None


# --- options, scopes, segmentation ---------------------------------------------------------


def _as_list(value: str | Iterable[str], *, what: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    if not items or not all(isinstance(v, str) for v in items):
        raise InvalidRequestError(f"{what} must be a non-empty list of strings, got {value!r}")
    return list(dict.fromkeys(v.strip().lower() for v in items))


def normalize_scopes(
    scopes: str | Iterable[str] | None, *, model: ModelSpec, input_type: str = "video"
) -> tuple[str, ...]:
    """Check the scopes of an audio or video task and spell them the model's way.

    ``video`` and ``asset`` both mean the whole input; ``local`` means ``clip``. Default:
    clip only.

    Raises:
        InvalidRequestError: an unknown scope, or an empty list.

    Example:
        >>> normalize_scopes(["asset", "clip"], model=resolve_model("Marengo-retrieval-2.7"))
        ('video', 'clip')
        >>> normalize_scopes("local", model=resolve_model("marengo3.5"), input_type="audio")
        ('clip',)
    """
    if scopes is None:
        return ("clip",)
    out: list[str] = []
    for scope in _as_list(scopes, what="embedding scope"):
        if scope in ("video", "asset"):
            scope = model.whole_scope
        elif scope == "local" and model.protocol == "v2":
            scope = "clip"
        elif scope != "clip":
            raise InvalidRequestError(
                f"unknown {input_type} embedding scope {scope!r}; use 'clip' and/or 'video' "
                "(alias 'asset')"
            )
        if scope not in out:
            out.append(scope)
    return tuple(out)


def normalize_options(
    options: str | Iterable[str] | None, *, model: ModelSpec, input_type: str = "video"
) -> tuple[str, ...] | None:
    """Check embedding options against what the model makes for ``input_type``.

    None means every option the model has (the server's default).

    Raises:
        InvalidRequestError: an option the model does not produce for that input.

    Example:
        >>> normalize_options("audio", model=resolve_model("marengo3.0"))
        ('audio',)
        >>> normalize_options("transcription", model=resolve_model("marengo3.5"))
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: embedding option(s) ['transcription'] not \
available for video on marengo3.5; use visual, audio (on Marengo 3.5 'audio' covers speech too)
    """
    if options is None:
        return None
    allowed = model.options_for(input_type)
    wanted = _as_list(options, what="embedding options")
    bad = [o for o in wanted if o not in allowed]
    if bad:
        hint = " (on Marengo 3.5 'audio' covers speech too)" if model.matryoshka else ""
        raise InvalidRequestError(
            f"embedding option(s) {bad} not available for {input_type} on {model.name}; "
            f"use {', '.join(allowed)}{hint}"
        )
    return tuple(wanted)


SDK_SPELLING: Mapping[str, str] = {
    "clip_length_s": "video_clip_length",
    "start_s": "video_start_offset_sec",
    "end_s": "video_end_offset_sec",
    "scopes": "video_embedding_scope",
    "options": "embedding_options",
}
"""How the official SDK's ``embed.tasks.create`` names the settings (for error messages)."""


def _clip_length(value: float | None, *, name: str) -> int:
    if value is None:
        return CLIP_LENGTH_DEFAULT_S
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value) % 1 == 0:
        raise InvalidRequestError(f"{name} must be a whole number of seconds, got {value!r}")
    if not CLIP_LENGTH_MIN_S <= value <= CLIP_LENGTH_MAX_S:
        raise InvalidRequestError(
            f"{name} must be {CLIP_LENGTH_MIN_S} to {CLIP_LENGTH_MAX_S} s, got {value}"
        )
    return int(value)


def _min_clip(value: float | None) -> float | None:
    if value is None:
        return None
    low, high = DYNAMIC_MIN_S
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InvalidRequestError(
            f"min_clip_length_s (dynamic segmentation) must be {low:g} to {high:g} s, got {value!r}"
        )
    return float(value)


def _offset(value: float | None, *, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be a number of seconds, got {value!r}")
    if value < 0:
        raise InvalidRequestError(f"{name} must be >= 0 s, got {value}")
    return float(value)


def _check_offsets(
    start_s: float | None,
    end_s: float | None,
    *,
    shortest_s: float,
    model: ModelSpec,
    names: Callable[[str], str],
) -> None:
    first, last = names("start_s"), names("end_s")
    if model.protocol == "v1" and (start_s is None) != (end_s is None):
        raise InvalidRequestError(f"{model.name}: set both {first} and {last}, or neither")
    if end_s is None:
        return
    start = start_s or 0.0
    if end_s <= start:
        raise InvalidRequestError(f"{last} ({end_s}) must be greater than {first} ({start})")
    if end_s - start < shortest_s:
        clip = names("clip_length_s")
        raise InvalidRequestError(
            f"the offset range {start}..{end_s} s ({end_s - start} s) is shorter than "
            f"{clip} ({shortest_s:g} s); widen the range or shorten the clips"
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


def check_dimension(value: int | None, model: ModelSpec) -> int | None:
    """Check ``embedding_dimension``: Marengo 3.5 only, a whole number up to the full size.

    Raises:
        InvalidRequestError: another model, or a value out of range.

    Example:
        >>> check_dimension(256, resolve_model("marengo3.5"))
        256
    """
    if value is None:
        return None
    if not model.matryoshka:
        raise InvalidRequestError(
            f"embedding_dimension needs marengo3.5 (Matryoshka vectors); {model.name} always "
            f"makes {model.dim}-d vectors"
        )
    return check_int("embedding_dimension", value, most=model.dim)


def _flag(value: bool | None, *, name: str, model: ModelSpec) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidRequestError(f"{name} must be True or False, got {value!r}")
    if value and not model.matryoshka:
        raise InvalidRequestError(f"{name} needs marengo3.5; {model.name} has none")
    return value


# --- documents ---------------------------------------------------------------------------

_DOCUMENT_PAIRS: dict[str, frozenset[tuple[str, str]]] = {
    "pdf": frozenset({("visual", "local"), ("visual", "asset"), ("text", "asset")}),
    "text": frozenset({("text", "asset"), ("text", "local")}),
}
_DOCUMENT_DEFAULTS = {"pdf": (("visual",), ("local",)), "text": (("text",), ("asset",))}


@dataclass(frozen=True)
class DocumentOptions:
    """The checked options of a document task.

    Attributes:
        format: ``pdf`` or ``text`` (``.txt``/``.md``).
        spatial: ``standard`` or ``quadrants`` (PDF pages; None: the server's default).
        max_sentences / overlap_sentences: sentence chunks of a text file (``local``).

    Example:
        >>> DocumentOptions("pdf", spatial="quadrants").segmentation()
        {'spatial': {'strategy': 'quadrants'}}
    """

    format: Literal["pdf", "text"]
    spatial: str | None = None
    max_sentences: int | None = None
    overlap_sentences: int | None = None

    def segmentation(self) -> dict[str, Any] | None:
        """The ``document.segmentation`` object, None when nothing needs saying."""
        if self.spatial is not None:
            return {"spatial": {"strategy": self.spatial}}
        if self.max_sentences is not None:
            sequential: dict[str, Any] = {
                "strategy": "sentence",
                "max_sentences": self.max_sentences,
            }
            if self.overlap_sentences:
                sequential["overlap_sentences"] = self.overlap_sentences
            return {"sequential": sequential}
        return None


def _document(
    fmt: Literal["pdf", "text"],
    options: str | Iterable[str] | None,
    scopes: str | Iterable[str] | None,
    *,
    spatial: str | None,
    max_sentences: int | None,
    overlap_sentences: int | None,
    uncertainty: bool | None,
) -> tuple[tuple[str, ...], tuple[str, ...], DocumentOptions]:
    default_options, default_scopes = _DOCUMENT_DEFAULTS[fmt]
    opts = tuple(_as_list(options, what="embedding options")) if options else default_options
    scps = tuple(_as_list(scopes, what="embedding scopes")) if scopes else default_scopes
    scps = tuple(dict.fromkeys("local" if s in ("page", "chunk", "clip") else s for s in scps))
    allowed = _DOCUMENT_PAIRS[fmt]
    bad = [(o, s) for o in opts for s in scps if (o, s) not in allowed]
    kind = "a PDF" if fmt == "pdf" else "a .txt/.md file"
    if bad:
        pairs = ", ".join(f"{o}/{s}" for o, s in sorted(allowed))
        raise InvalidRequestError(
            f"option/scope pair(s) {[f'{o}/{s}' for o, s in bad]} not allowed for {kind}; "
            f"every pair of options x scopes must be one of: {pairs}"
        )
    local = "local" in scps
    if spatial is not None and (fmt != "pdf" or spatial not in ("standard", "quadrants")):
        raise InvalidRequestError(
            f"spatial takes 'standard' or 'quadrants' and applies to PDF pages only; got "
            f"{spatial!r} for {kind}"
        )
    if spatial is not None and not ("visual" in opts and local):
        raise InvalidRequestError("spatial segmentation needs the visual option with scope local")
    if fmt == "text" and local and max_sentences is None:
        raise InvalidRequestError(
            "text chunks (scope local) need max_sentences: how many sentences per chunk"
        )
    if max_sentences is not None:
        if fmt != "text" or not local:
            raise InvalidRequestError(
                "max_sentences applies to .txt/.md files with scope local only"
            )
        check_int("max_sentences", max_sentences)
        overlap = overlap_sentences or 0
        if (
            isinstance(overlap, bool)
            or not isinstance(overlap, int)
            or not 0 <= overlap < max_sentences
        ):
            raise InvalidRequestError(
                f"overlap_sentences must be 0 to max_sentences - 1 ({max_sentences - 1}), "
                f"got {overlap_sentences!r}"
            )
    elif overlap_sentences:
        raise InvalidRequestError("overlap_sentences needs max_sentences")
    if uncertainty and fmt == "pdf":
        raise InvalidRequestError("embedding_uncertainty is not available for PDF documents")
    if uncertainty and scps != ("local",):
        raise InvalidRequestError(
            "embedding_uncertainty on a .txt/.md file needs scopes exactly ['local']"
        )
    doc = DocumentOptions(fmt, spatial, max_sentences, overlap_sentences or None)
    return opts, scps, doc


# --- task requests -------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRequest:
    """A checked, normalised request for one embedding task (any input type).

    Attributes:
        model: the model (and so the protocol).
        input_type: ``video``, ``audio``, ``image`` or ``document``.
        source: where the medium is.
        file: the checked local file to send with the request: an Embed v1 upload, or an
            open file sent inline to Embed v2 (paths go up as assets instead). None else.
        clip_length_s: seconds per clip of fixed segmentation (None: dynamic, or no time).
        min_clip_s: the shortest clip of dynamic segmentation (None: the server's default).
        start_s, end_s: the range in seconds, or None.
        scopes: scopes in the protocol's spelling.
        options: options to compute (v2) and keep, or None for the defaults.
        dimension: ``embedding_dimension`` (Marengo 3.5), or None.
        uncertainty: ``embedding_uncertainty`` (Marengo 3.5), or None.
        document: the options of a document task, or None.

    Example:
        >>> validate_video_task(model_name="Marengo-retrieval-2.7", video_url="u").scopes
        ('clip',)
    """

    model: ModelSpec
    input_type: InputType
    source: MediaRef
    file: UploadSource | None
    clip_length_s: int | None
    min_clip_s: float | None
    start_s: float | None
    end_s: float | None
    scopes: tuple[str, ...]
    options: tuple[str, ...] | None
    dimension: int | None = None
    uncertainty: bool | None = None
    document: DocumentOptions | None = None

    @property
    def segmentation(self) -> str | None:
        """``fixed``, ``dynamic``, or None (images and documents have no time).

        Example:
            >>> validate_video_task(model_name="marengo3.0", video_url="u").segmentation
            'fixed'
        """
        if self.input_type not in ("video", "audio"):
            return None
        return "fixed" if self.clip_length_s is not None else "dynamic"

    @property
    def video_file(self) -> UploadSource | None:
        """The file sent with the request (its first name).

        Example:
            >>> validate_video_task(model_name="marengo3.0", video_url="u").video_file is None
            True
        """
        return self.file

    @property
    def video_url(self) -> str | None:
        """The URL of the medium, when it is one.

        Example:
            >>> validate_video_task(model_name="marengo3.0", video_url="https://x").video_url
            'https://x'
        """
        return self.source.url


VideoTaskRequest = TaskRequest
"""The first name of :class:`TaskRequest` (when tasks took only videos)."""


def _input_type(given: str | None, source: MediaRef, model: ModelSpec) -> InputType:
    found = given if given is not None else source.media_type
    if found is None:
        raise InvalidRequestError(
            f"cannot tell what {source.shown} holds from its name; pass input_type= "
            "('video', 'audio', 'image' or 'document')"
        )
    if found not in _INPUT_TYPES:
        raise InvalidRequestError(f"input_type must be one of {list(_INPUT_TYPES)}, got {found!r}")
    if found not in model.task_inputs:
        takes = ", ".join(model.task_inputs)
        hint = "; use model_name='marengo3.5'" if found in ("image", "document") else ""
        raise InvalidRequestError(f"{model.name} embeds {takes} in tasks, not {found}{hint}")
    return found


def _local_file(source: MediaRef, model: ModelSpec, input_type: str) -> UploadSource | None:
    """The file sent with the request itself (v1 upload, v2 inline stream), checked."""
    if model.protocol == "v1":
        if source.kind == "asset":
            raise InvalidRequestError(
                f"{model.name} (Embed v1) cannot read assets; pass the file or a URL, or use "
                "marengo3.0"
            )
        if source.kind in ("path", "stream"):
            value = source.path if source.kind == "path" else source.stream
            assert value is not None
            return video_source(value, max_bytes=MAX_UPLOAD_BYTES)
        return None
    if source.kind == "path":
        assert source.path is not None
        _check_asset_size(source.path, source.media_type or input_type)
        return None
    if source.kind != "stream":
        return None
    assert source.stream is not None
    # Streams cannot go up as assets (an asset is made from a path): they go inline.
    checked = video_source(source.stream, max_bytes=MAX_UPLOAD_BYTES)
    if checked.size_bytes is not None and checked.size_bytes > INLINE_MAX_BYTES:
        raise InvalidVideoError(
            f"{source.shown} is {checked.size_bytes / _MB:.1f} MB; an open file is sent "
            f"inline, up to {INLINE_MAX_BYTES // _MB} MB. Pass its path instead: files of "
            "any size go up as assets",
            path=source.filename or "stream",
        )
    return checked


def _check_asset_size(path: pathlib.Path, media_type: str) -> None:
    """A local file that goes up as an asset: readable, not empty, within the API's limit."""
    checked = video_source(path, max_bytes=10 * 1024**3)  # exists, regular, readable, bytes
    kind = cast(MediaType, media_type)
    limit = max(MULTIPART_LIMITS.get(kind, 0), DIRECT_LIMITS.get(kind, 0))
    size = checked.size_bytes or 0
    if size > limit:
        raise InvalidVideoError(
            f"{path.name!r} is {size / _MB:.1f} MB; {media_type} assets are limited to "
            f"{limit / _MB:.0f} MB",
            path=str(path),
        )


TASK_OPTIONS = frozenset(
    {
        "input_type",
        "clip_length_s",
        "segmentation",
        "min_clip_length_s",
        "start_s",
        "end_s",
        "scopes",
        "options",
        "embedding_dimension",
        "embedding_uncertainty",
        "spatial",
        "max_sentences",
        "overlap_sentences",
        "spelling",
    }
)
"""The names :func:`validate_task` reads from an embedding task's options."""


def validate_task(model: ModelSpec, source: MediaRef, task: Mapping[str, Any]) -> TaskRequest:
    """Check every parameter of an embedding task, before any byte is uploaded.

    ``task`` holds the options by name (:data:`TASK_OPTIONS`; one absent or None is not
    set): ``input_type`` (default: by the source's name); for video and audio
    ``clip_length_s``, ``segmentation``, ``min_clip_length_s`` and the range ``start_s`` /
    ``end_s``; ``scopes`` and ``options`` (a name or several); ``embedding_dimension`` and
    ``embedding_uncertainty``; for documents ``spatial``, ``max_sentences`` and
    ``overlap_sentences``; and ``spelling``, which maps the names used here to the
    caller's (:data:`SDK_SPELLING`), so that a message names the argument the caller
    passed. A document asset named only by its id must be resolved first (its format
    decides the rules): pass ``input_type="document"`` with an :class:`Asset` or a named
    source.

    Raises:
        InvalidRequestError: a parameter the model or the input type does not take.
        InvalidVideoError: a local file that is missing, empty or too large.
        TypeError: a name that is not an option.

    Example:
        >>> model = resolve_model("marengo3.5")
        >>> validate_task(model, media_ref("https://x/a.pdf"), {"options": "text"}).scopes
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: option/scope pair(s) ['text/local'] not allowed \
for a PDF; every pair of options x scopes must be one of: text/asset, visual/asset, visual/local
    """
    unknown = sorted(set(task) - TASK_OPTIONS)
    if unknown:
        raise TypeError(f"validate_task() got unknown option(s) {unknown}")
    kind = _input_type(task.get("input_type"), source, model)
    spelling: Mapping[str, str] = task.get("spelling") or {}

    def names(key: str) -> str:
        return spelling.get(key, key)

    dimension = check_dimension(task.get("embedding_dimension"), model)
    uncertainty = _flag(
        task.get("embedding_uncertainty"), name="embedding_uncertainty", model=model
    )
    clip_length_s, min_clip_length_s = task.get("clip_length_s"), task.get("min_clip_length_s")
    start_s, end_s = task.get("start_s"), task.get("end_s")
    options, scopes = task.get("options"), task.get("scopes")
    if kind in ("image", "document"):
        _refuse_time(
            clip_length_s, task.get("segmentation"), min_clip_length_s, start_s, end_s, kind=kind
        )
    document = {name: task.get(name) for name in ("spatial", "max_sentences", "overlap_sentences")}
    if kind != "document" and any(document.values()):
        raise InvalidRequestError("spatial and max_sentences apply to documents only")
    file = _local_file(source, model, kind)
    if kind == "image":
        if options is not None and normalize_options(options, model=model, input_type=kind) != (
            "visual",
        ):
            raise InvalidRequestError("an image task takes only the 'visual' option")
        if scopes is not None and set(_as_list(scopes, what="scopes")) - {"asset", "video"}:
            raise InvalidRequestError("an image task takes only the 'asset' scope")
        return _untimed(model, kind, source, file, ("asset",), ("visual",), dimension, uncertainty)
    if kind == "document":
        fmt = document_format(source.filename)
        if fmt is None:
            raise InvalidRequestError(
                f"cannot tell whether {source.shown} is a PDF or a .txt/.md file from its name"
            )
        opts, scps, doc = _document(fmt, options, scopes, uncertainty=uncertainty, **document)
        return _untimed(model, kind, source, file, scps, opts, dimension, uncertainty, doc)
    clip, min_clip = _segmentation(
        task.get("segmentation"), clip_length_s, min_clip_length_s, model, kind, names=names
    )
    start = _offset(start_s, name=names("start_s"))
    end = _offset(end_s, name=names("end_s"))
    shortest = clip if clip is not None else (min_clip or DYNAMIC_MIN_S[0])
    _check_offsets(start, end, shortest_s=shortest, model=model, names=names)
    scps = normalize_scopes(scopes, model=model, input_type=kind)
    if uncertainty and model.whole_scope in scps:
        raise InvalidRequestError(
            f"embedding_uncertainty on {kind} needs scopes without 'asset' (e.g. ['clip'])"
        )
    wanted = normalize_options(options, model=model, input_type=kind)
    return TaskRequest(
        model, kind, source, file, clip, min_clip, start, end, scps, wanted, dimension, uncertainty
    )


def _untimed(
    model: ModelSpec,
    kind: InputType,
    source: MediaRef,
    file: UploadSource | None,
    scopes: tuple[str, ...],
    options: tuple[str, ...] | None,
    dimension: int | None,
    uncertainty: bool | None,
    document: DocumentOptions | None = None,
) -> TaskRequest:
    """The request of an image or a document: no clips, no segmentation, no range."""
    return TaskRequest(
        model,
        kind,
        source,
        file,
        clip_length_s=None,
        min_clip_s=None,
        start_s=None,
        end_s=None,
        scopes=scopes,
        options=options,
        dimension=dimension,
        uncertainty=uncertainty,
        document=document,
    )


def _refuse_time(*values: Any, kind: str) -> None:
    if any(v is not None for v in values):
        raise InvalidRequestError(
            f"clip lengths, segmentation and start/end apply to video and audio, not {kind}"
        )


def _segmentation(
    segmentation: str | None,
    clip_length_s: float | None,
    min_clip_length_s: float | None,
    model: ModelSpec,
    kind: str,
    *,
    names: Callable[[str], str],
) -> tuple[int | None, float | None]:
    strategy = segmentation or ("dynamic" if min_clip_length_s is not None else "fixed")
    if strategy == "fixed":
        if min_clip_length_s is not None:
            raise InvalidRequestError("min_clip_length_s applies to dynamic segmentation only")
        return _clip_length(clip_length_s, name=names("clip_length_s")), None
    if strategy != "dynamic":
        raise InvalidRequestError(f"segmentation must be 'fixed' or 'dynamic', got {strategy!r}")
    if model.protocol == "v1" or (kind == "audio" and not model.temporal_wrapper):
        what = "audio on marengo3.0" if model.protocol == "v2" else model.name
        raise InvalidRequestError(f"dynamic segmentation is not available for {what}; use fixed")
    if clip_length_s is not None:
        raise InvalidRequestError(
            f"{names('clip_length_s')} is for fixed segmentation; dynamic takes min_clip_length_s"
        )
    return None, _min_clip(min_clip_length_s)


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
) -> TaskRequest:
    """Check a video task given with the official SDK's names (``video_file``...).

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
    if (video_file is None) == (video_url is None):
        raise InvalidRequestError("pass exactly one of video_file or video_url")
    if video_url is not None and (not isinstance(video_url, str) or not video_url.strip()):
        raise InvalidRequestError(f"video_url must be a non-empty string, got {video_url!r}")
    source = (
        MediaRef("url", url=video_url, filename=_url_name(video_url), media_type="video")
        if video_url is not None
        else _file_ref(video_file)
    )
    task = {
        "input_type": "video",
        "clip_length_s": video_clip_length,
        "start_s": video_start_offset_sec,
        "end_s": video_end_offset_sec,
        "scopes": video_embedding_scope,
        "options": embedding_options,
        "spelling": SDK_SPELLING,
    }
    return validate_task(model, source, task)


def _file_ref(video_file: Any) -> MediaRef:
    if isinstance(video_file, (str, os.PathLike)):
        path = pathlib.Path(os.fspath(video_file)).expanduser()
        # The core checks (exists, regular, readable, not empty) with their messages.
        video_source(path, max_bytes=10 * 1024**3)
        return MediaRef("path", path=path, filename=path.name, media_type="video")
    ref = media_ref(video_file, what="video_file")
    if ref.kind != "stream":
        raise InvalidRequestError("video_file takes a path or an open binary file")
    return ref


# --- the synchronous multi_input form ---------------------------------------------------------


@dataclass(frozen=True)
class MultiSource:
    """One checked media source of a ``multi_input`` request.

    Example:
        >>> MultiSource("logo", "image", media_ref("https://x/logo.png")).name
        'logo'
    """

    name: str | None
    media_type: MediaType
    ref: MediaRef


@dataclass(frozen=True)
class MultiRequest:
    """A checked synchronous ``multi_input`` request (text and/or up to 10 media sources).

    Example:
        >>> req = validate_multi(resolve_model("marengo3.5"), "a red kite", ())
        >>> req.text, req.sources
        ('a red kite', ())
    """

    model: ModelSpec
    text: str | None
    sources: tuple[MultiSource, ...]
    dimension: int | None = None
    uncertainty: bool | None = None
    auto_truncate: bool | None = None


def _multi_sources(
    media: Sequence[MediaInput] | Mapping[str, MediaInput] | None,
) -> list[tuple[str | None, MediaRef]]:
    if media is None:
        return []
    if isinstance(media, Mapping):
        named = list(media.items())
        for name, _ in named:
            if not isinstance(name, str) or not re.fullmatch(r"[^<>\s@]+", name):
                raise InvalidRequestError(
                    f"media source names must be words without spaces, '<', '>' or '@'; "
                    f"got {name!r}"
                )
        return [(name, media_ref(item, what=f"media[{name!r}]")) for name, item in named]
    if isinstance(media, (str, os.PathLike)) or hasattr(media, "read"):
        media = [media]
    return [(None, media_ref(item, what="media")) for item in media]


def untyped_assets(
    media: Sequence[MediaInput] | Mapping[str, MediaInput] | None,
) -> dict[int, str]:
    """The sources of a ``multi_input`` request named only by an asset id: their type must
    be looked up (position -> asset id).

    Example:
        >>> untyped_assets(["https://x/a.png", "6711a0c2e4a1b37f8a9c5d00"])
        {1: '6711a0c2e4a1b37f8a9c5d00'}
    """
    return {
        i: ref.asset_id
        for i, (_, ref) in enumerate(_multi_sources(media))
        if ref.kind == "asset" and ref.media_type is None and ref.asset_id is not None
    }


def validate_multi(
    model: ModelSpec,
    text: str | None,
    media: Sequence[MediaInput] | Mapping[str, MediaInput] | None,
    *,
    media_types: Mapping[int, MediaType] | None = None,
    embedding_dimension: int | None = None,
    embedding_uncertainty: bool | None = None,
    auto_truncate: bool | None = None,
) -> MultiRequest:
    """Check a ``multi_input`` request by the API's rules (§7.1), before anything is sent.

    ``media`` is a list, or a mapping from names (``<@name>`` in the text) to sources.
    ``media_types`` gives the type of sources whose names do not tell (an asset looked
    up, an open file known to be an image); a name that tells wins.

    Raises:
        InvalidRequestError: a rule broken (count, references, mixing, documents...).
        InvalidVideoError: a local file missing or over 32 MB.

    Example:
        >>> validate_multi(resolve_model("marengo3.5"), "wearing <@shirt>", ())
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: the text references <@shirt> but no media \
source has that name; pass media={'shirt': ...}
    """
    if text is not None:
        check_text(text)
    pairs = _multi_sources(media)
    if text is None and not pairs:
        raise InvalidRequestError("pass a text, media sources, or both")
    if len(pairs) > MULTI_MAX_SOURCES:
        raise InvalidRequestError(
            f"multi_input takes up to {MULTI_MAX_SOURCES} media sources, got {len(pairs)}"
        )
    names = {name for name, _ in pairs if name is not None}
    for ref in _REFERENCE.findall(text or ""):
        if ref not in names:
            raise InvalidRequestError(
                f"the text references <@{ref}> but no media source has that name; pass "
                f"media={{{ref!r}: ...}}"
            )
    sources = []
    for i, (name, ref) in enumerate(pairs):
        kind = ref.media_type or (media_types or {}).get(i)
        if kind is None:
            raise InvalidRequestError(
                f"cannot tell what {ref.shown} holds from its name; pass an Asset or a file "
                "with a known extension"
            )
        if kind not in model.multi_media:
            raise InvalidRequestError(
                f"{model.name} takes {', '.join(model.multi_media)} sources in multi_input, "
                f"not {kind}" + ("; use model_name='marengo3.5'" if not model.matryoshka else "")
            )
        _check_sync_size(ref)
        sources.append(MultiSource(name, kind, ref))
    _check_mix(text, sources)
    dimension = check_dimension(embedding_dimension, model)
    uncertainty = _flag(embedding_uncertainty, name="embedding_uncertainty", model=model)
    truncate = _flag(auto_truncate, name="auto_truncate", model=model)
    if truncate is False and not model.matryoshka:
        truncate = None
    if uncertainty:
        if any(s.media_type == "document" for s in sources):
            raise InvalidRequestError("embedding_uncertainty is not available with documents")
        if text is not None and sources:
            raise InvalidRequestError(
                "embedding_uncertainty needs text only or media only, not both"
            )
    return MultiRequest(model, text, tuple(sources), dimension, uncertainty, truncate)


def _check_sync_size(ref: MediaRef) -> None:
    if ref.kind == "path":
        assert ref.path is not None
        size = ref.path.stat().st_size
    elif ref.kind == "stream":
        size = video_source(cast(IO[bytes], ref.stream)).size_bytes or 0
    else:
        return
    if size > SYNC_MEDIA_MAX_BYTES:
        raise InvalidVideoError(
            f"{ref.shown} is {size / _MB:.1f} MB; the synchronous endpoint takes sources up "
            f"to {SYNC_MEDIA_MAX_BYTES // _MB} MB. Embed it with a task instead "
            "(client.embed.video/audio/document)",
            path=ref.filename or "stream",
        )


def _check_mix(text: str | None, sources: list[MultiSource]) -> None:
    docs = [s for s in sources if s.media_type == "document"]
    pdfs = [s for s in docs if document_format(s.ref.filename) == "pdf"]
    if pdfs and (len(sources) > 1 or text is not None):
        raise InvalidRequestError(
            "a PDF must be the only source, without text; to mix a document with other "
            "sources send a .txt/.md file instead"
        )
    text_docs = [s for s in docs if s not in pdfs]
    others = [s for s in sources if s.media_type != "document"]
    if text_docs and not others and (text is not None or len(text_docs) > 1):
        raise InvalidRequestError(
            "text with text documents is all text: send one text document alone, the text "
            "alone, or add an image, video or audio source"
        )
    kinds = {s.media_type for s in sources}
    if len(kinds) > 1 and text is None:
        raise InvalidRequestError(
            f"sources of different types ({', '.join(sorted(kinds))}) need a text to combine them"
        )
