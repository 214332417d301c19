"""What Embed API v2 accepts (§7 of the spec), as pure checks that return plans.

Models and the input types each takes, embedding options and scopes per input, the
segmentation shapes (Marengo 3.5 wraps its time strategy in ``{"temporal": ...}``),
``embedding_dimension`` (Matryoshka prefixes of the 512-d vector), ``embedding_uncertainty``,
the option x scope pairs of documents, and the ``multi_input`` rules: up to 10 sources,
``<@name>`` references, mixing and documents. Every refusal is an :class:`Invalid` naming
the field and the rule; nothing here touches media or records.

Example:
    >>> plan = timed_plan("marengo3.5", "audio", {"segmentation": {"temporal": {
    ...     "strategy": "fixed", "fixed": {"duration_sec": 4}}}}, uncertainty=False)
    >>> plan.options, plan.scopes, plan.clip_s
    (['audio'], ['clip', 'asset'], 4.0)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Invalid, invalid, missing

__all__ = [
    "FULL_DIM",
    "MODELS",
    "TEXT_TOKENS",
    "DocumentPlan",
    "Matryoshka",
    "MultiSource",
    "TimedPlan",
    "check_model",
    "document_plan",
    "image_plan",
    "matryoshka",
    "multi_plan",
    "references",
    "timed_plan",
    "without_references",
]

MODELS = ("marengo3.0", "marengo3.5")
FULL_DIM = 512
TEXT_TOKENS = {"marengo3.0": 500, "marengo3.5": 2000}
MAX_SOURCES = 10
TASK_INPUTS = {
    "marengo3.0": ("audio", "video"),
    "marengo3.5": ("audio", "video", "document", "image"),
}
SYNC_INPUTS = {
    "marengo3.0": ("text", "image", "text_image", "audio", "video", "multi_input"),
    "marengo3.5": ("multi_input",),
}
MULTI_MEDIA = {"marengo3.0": ("image",), "marengo3.5": ("image", "video", "audio", "document")}
_OPTIONS = {
    ("marengo3.0", "video"): ("visual", "audio", "transcription"),
    ("marengo3.0", "audio"): ("audio", "transcription"),
    # Marengo 3.5 has no transcription: its audio covers speech, music and other sound.
    ("marengo3.5", "video"): ("visual", "audio"),
    ("marengo3.5", "audio"): ("audio",),
}
_DOCUMENT_PAIRS = {
    "pdf": {("visual", "local"), ("visual", "asset"), ("text", "asset")},
    "text": {("text", "asset"), ("text", "local")},
}
_REFERENCE = re.compile(r"<@([^<>\s]+)>")


def check_model(model_name: Any) -> str:
    """The Embed v2 model, or a 400 naming the ones there are.

    Example:
        >>> check_model("marengo3.5")
        'marengo3.5'
    """
    if not model_name:
        raise missing("model_name")
    if model_name not in MODELS:
        raise invalid("model_name", f"must be one of {list(MODELS)}, got {model_name!r}")
    return str(model_name)


@dataclass(frozen=True)
class Matryoshka:
    """The vector size a request asked for, and whether it wants uncertainty vectors.

    Example:
        >>> Matryoshka(256, False).dimension
        256
    """

    dimension: int
    uncertainty: bool


def matryoshka(model: str, dimension: Any, uncertainty: Any) -> Matryoshka:
    """Check ``embedding_dimension`` and ``embedding_uncertainty`` (Marengo 3.5 only).

    The emulator takes any whole number from 1 to 512 (the API does not say which it
    allows): the vector is the prefix of the 512-d one.

    Example:
        >>> matryoshka("marengo3.0", 256, None)
        Traceback (most recent call last):
        ...
        tl_integrations.emulator._backend.errors.Invalid: embedding_dimension: needs \
marengo3.5; marengo3.0 always makes 512-d vectors
    """
    if dimension is not None and model != "marengo3.5":
        raise invalid(
            "embedding_dimension", f"needs marengo3.5; {model} always makes 512-d vectors"
        )
    if dimension is not None and (
        isinstance(dimension, bool)
        or not isinstance(dimension, int)
        or not 1 <= dimension <= FULL_DIM
    ):
        raise invalid(
            "embedding_dimension", f"must be a whole number from 1 to 512, got {dimension!r}"
        )
    if uncertainty is not None and not isinstance(uncertainty, bool):
        raise invalid("embedding_uncertainty", f"must be true or false, got {uncertainty!r}")
    if uncertainty and model != "marengo3.5":
        raise invalid("embedding_uncertainty", f"needs marengo3.5, not {model}")
    return Matryoshka(dimension or FULL_DIM, bool(uncertainty))


def _list_field(
    spec: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: list[str]
) -> list[str]:
    value = spec.get(name)
    if value is None:
        return list(default)
    if not isinstance(value, list) or not value or any(v not in allowed for v in value):
        raise invalid(name, f"must be a non-empty list of {list(allowed)}, got {value!r}")
    return [v for v in allowed if v in value]


@dataclass(frozen=True)
class TimedPlan:
    """The checked settings of an audio or video input.

    Attributes:
        options / scopes: what to embed (scopes ``clip`` and/or ``asset``).
        fused: one fused row per span instead of (or besides) one per option.
        separate: keep the separate rows.
        clip_s: fixed clip length, or None for dynamic segmentation...
        min_clip_s: ...whose shortest clip this is.
        start_s / end_s: the window asked for (None: the whole file).

    Example:
        >>> TimedPlan(["visual"], ["clip"], False, True, 6.0, None, None, None).clip_s
        6.0
    """

    options: list[str]
    scopes: list[str]
    fused: bool
    separate: bool
    clip_s: float | None
    min_clip_s: float | None
    start_s: float | None
    end_s: float | None


def timed_plan(
    model: str, input_type: str, spec: Mapping[str, Any], *, uncertainty: bool
) -> TimedPlan:
    """Check the options, scopes, types and segmentation of an audio or video input.

    Raises:
        Invalid: an option the model does not make for the input, a bad scope, a
            segmentation of the other model's shape, or out of range.

    Example:
        >>> timed_plan("marengo3.0", "video", {"segmentation": {"temporal": {}}},
        ...            uncertainty=False)
        Traceback (most recent call last):
        ...
        tl_integrations.emulator._backend.errors.Invalid: segmentation: marengo3.0 takes \
{"strategy": ...} without the "temporal" wrapper of marengo3.5
    """
    allowed = _OPTIONS[(model, input_type)]
    options = _list_field(spec, "embedding_option", allowed, list(allowed))
    raw_scopes = _list_field(spec, "embedding_scope", ("clip", "local", "asset"), ["clip", "asset"])
    scopes: list[str] = [
        s for s in ("clip", "asset") if s in raw_scopes or (s == "clip" and "local" in raw_scopes)
    ]
    if uncertainty and "asset" in scopes:
        raise invalid(
            "embedding_scope",
            "embedding_uncertainty on audio or video needs scopes without 'asset' (e.g. ['clip'])",
        )
    types = _list_field(
        spec, "embedding_type", ("separate_embedding", "fused_embedding"), ["separate_embedding"]
    )
    fused = "fused_embedding" in types
    if fused and model == "marengo3.5" and not spec.get("time_based_metadata"):
        raise invalid("embedding_type", "fused_embedding on marengo3.5 needs time_based_metadata")
    clip_s, min_clip_s = _segmentation(model, input_type, spec.get("segmentation"))
    return TimedPlan(
        options,
        scopes,
        fused,
        "separate_embedding" in types,
        clip_s,
        min_clip_s,
        _seconds(spec, "start_sec"),
        _seconds(spec, "end_sec"),
    )


def _seconds(spec: Mapping[str, Any], name: str) -> float | None:
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise invalid(name, f"must be seconds >= 0, got {value!r}")
    return float(value)


def _segmentation(model: str, input_type: str, raw: Any) -> tuple[float | None, float | None]:
    if raw is None:
        # Defaults: 3.0 video dynamic (4 s), 3.0 audio fixed 6 s; 3.5 dynamic (2 s).
        if model == "marengo3.5":
            return None, 2.0
        return (None, 4.0) if input_type == "video" else (6.0, None)
    if not isinstance(raw, dict):
        raise invalid("segmentation", f"must be an object, got {raw!r}")
    wrapped = "temporal" in raw
    if wrapped != (model == "marengo3.5"):
        shape = (
            'the {"temporal": {...}} wrapper'
            if model == "marengo3.5"
            else '{"strategy": ...} without the "temporal" wrapper of marengo3.5'
        )
        raise invalid("segmentation", f"{model} takes {shape}")
    strategy = raw["temporal"] if wrapped else raw
    if not isinstance(strategy, dict):
        raise invalid("segmentation", f"must be an object, got {strategy!r}")
    kind = strategy.get("strategy")
    if kind == "fixed":
        length = (strategy.get("fixed") or {}).get("duration_sec")
        if (
            isinstance(length, bool)
            or not isinstance(length, (int, float))
            or not 2 <= length <= 10
        ):
            raise invalid("segmentation", f"fixed.duration_sec must be 2 to 10, got {length!r}")
        return float(length), None
    if kind == "dynamic":
        if input_type == "audio" and model == "marengo3.0":
            raise invalid("segmentation", "marengo3.0 segments audio with fixed clips only")
        low = (strategy.get("dynamic") or {}).get("min_duration_sec", 2.0 if wrapped else 4.0)
        if isinstance(low, bool) or not isinstance(low, (int, float)) or not 2 <= low <= 5:
            raise invalid("segmentation", f"dynamic.min_duration_sec must be 2 to 5, got {low!r}")
        return None, float(low)
    raise invalid("segmentation", f"strategy must be fixed or dynamic, got {kind!r}")


@dataclass(frozen=True)
class DocumentPlan:
    """The checked settings of a document task.

    Example:
        >>> DocumentPlan("pdf", ["visual"], ["local"], "standard", None, 0).quadrants
        False
    """

    format: str
    options: list[str]
    scopes: list[str]
    spatial: str | None
    max_sentences: int | None
    overlap: int

    @property
    def quadrants(self) -> bool:
        """Whether each page also gets its four quarters."""
        return self.spatial == "quadrants"


def document_plan(fmt: str, spec: Mapping[str, Any], *, uncertainty: bool) -> DocumentPlan:
    """Check a document task's option x scope pairs and segmentation (table of §7.2).

    Raises:
        Invalid: a pair the file type does not take, a segmentation it does not take or
            lacks, or uncertainty where it is refused.

    Example:
        >>> document_plan("text", {"embedding_scope": ["local"]}, uncertainty=False)
        Traceback (most recent call last):
        ...
        tl_integrations.emulator._backend.errors.Invalid: document.segmentation: text/local \
needs sequential segmentation: {"sequential": {"strategy": "sentence", "max_sentences": n}}
    """
    defaults = (["visual"], ["local"]) if fmt == "pdf" else (["text"], ["asset"])
    options = _list_field(spec, "embedding_option", ("visual", "text"), defaults[0])
    scopes = _list_field(spec, "embedding_scope", ("local", "asset"), defaults[1])
    bad = [f"{o}/{s}" for o in options for s in scopes if (o, s) not in _DOCUMENT_PAIRS[fmt]]
    kind = "a PDF" if fmt == "pdf" else "a plain text or Markdown file"
    if bad:
        raise invalid("document.embedding_option", f"pairs {bad} are not allowed for {kind}")
    if uncertainty and (fmt == "pdf" or scopes != ["local"]):
        raise invalid(
            "embedding_uncertainty",
            "not available for PDF documents; a text file needs embedding_scope ['local']",
        )
    seg = spec.get("segmentation") or {}
    if not isinstance(seg, dict):
        raise invalid("document.segmentation", f"must be an object, got {seg!r}")
    spatial = seg.get("spatial")
    sequential = seg.get("sequential")
    strategy = None
    if spatial is not None:
        if fmt != "pdf" or not ("visual" in options and "local" in scopes):
            raise invalid("document.segmentation", "spatial applies to PDF visual/local only")
        strategy = (spatial or {}).get("strategy", "standard")
        if strategy not in ("standard", "quadrants"):
            raise invalid("document.segmentation", f"spatial.strategy: {strategy!r}")
    max_sentences, overlap = None, 0
    if fmt == "text" and "local" in scopes:
        if not isinstance(sequential, dict):
            raise invalid(
                "document.segmentation",
                'text/local needs sequential segmentation: {"sequential": {"strategy": '
                '"sentence", "max_sentences": n}}',
            )
        max_sentences, overlap = _sequential(sequential)
    elif sequential is not None:
        raise invalid("document.segmentation", "sequential applies to .txt/.md text/local only")
    return DocumentPlan(fmt, options, scopes, strategy, max_sentences, overlap)


def _sequential(seq: Mapping[str, Any]) -> tuple[int, int]:
    if seq.get("strategy") != "sentence":
        raise invalid("document.segmentation", "sequential.strategy must be 'sentence'")
    most = seq.get("max_sentences")
    if isinstance(most, bool) or not isinstance(most, int) or most < 1:
        raise invalid(
            "document.segmentation", f"sequential.max_sentences must be >= 1, got {most!r}"
        )
    overlap = seq.get("overlap_sentences", 0)
    if isinstance(overlap, bool) or not isinstance(overlap, int) or not 0 <= overlap < most:
        raise invalid(
            "document.segmentation",
            f"sequential.overlap_sentences must be 0 to max_sentences - 1, got {overlap!r}",
        )
    return most, overlap


def image_plan(spec: Mapping[str, Any]) -> None:
    """Check an image task: only ``visual``, ``asset``, ``separate_embedding``.

    Example:
        >>> image_plan({"embedding_scope": ["clip"]})
        Traceback (most recent call last):
        ...
        tl_integrations.emulator._backend.errors.Invalid: embedding_scope: must be a non-empty \
list of ['asset'], got ['clip']
    """
    _list_field(spec, "embedding_option", ("visual",), ["visual"])
    _list_field(spec, "embedding_scope", ("asset",), ["asset"])
    _list_field(spec, "embedding_type", ("separate_embedding",), ["separate_embedding"])


@dataclass(frozen=True)
class MultiSource:
    """One ``multi_input`` media source as sent (its medium is read by the service).

    Example:
        >>> MultiSource("logo", "image", 0).media_type
        'image'
    """

    name: str | None
    media_type: str
    index: int


def references(text: str | None) -> list[str]:
    """The ``<@name>`` references of a text, in order.

    Example:
        >>> references("a <@shirt> and <@hat>")
        ['shirt', 'hat']
    """
    return _REFERENCE.findall(text or "")


def without_references(text: str) -> str:
    """The text with its ``<@name>`` references taken out.

    Example:
        >>> without_references("a <@shirt> like this")
        'a   like this'
    """
    return _REFERENCE.sub(" ", text)


def multi_plan(
    model: str, text: Any, items: list[Any], *, uncertainty: bool
) -> tuple[str | None, list[MultiSource]]:
    """Check a ``multi_input`` request's shape: text and sources, names and references,
    types for the model, mixing; the document rules that need the file come later.

    Raises:
        Invalid: a rule of §7.1 broken.

    Example:
        >>> multi_plan("marengo3.5", None, [{"media_type": "image"}, {"media_type": "video"}],
        ...            uncertainty=False)
        Traceback (most recent call last):
        ...
        tl_integrations.emulator._backend.errors.Invalid: multi_input: sources of different \
types (image, video) need input_text to combine them
    """
    if text is not None and (not isinstance(text, str) or not text.strip()):
        raise invalid("multi_input.input_text", "must be a non-empty string")
    if not items and text is None:
        raise Invalid("multi_input", "multi_input needs input_text, media_sources, or both.")
    if len(items) > MAX_SOURCES:
        raise invalid(
            "multi_input.media_sources", f"at most {MAX_SOURCES} sources, got {len(items)}"
        )
    sources: list[MultiSource] = []
    for i, item in enumerate(items):
        field = f"multi_input.media_sources[{i}]"
        if not isinstance(item, dict):
            raise invalid(field, "must be an object")
        kind = item.get("media_type")
        if kind not in MULTI_MEDIA[model]:
            raise invalid(
                f"{field}.media_type", f"{model} takes {list(MULTI_MEDIA[model])}, got {kind!r}"
            )
        name = item.get("name")
        if name is not None and not isinstance(name, str):
            raise invalid(f"{field}.name", "must be a string")
        sources.append(MultiSource(name, str(kind), i))
    names = [s.name for s in sources if s.name is not None]
    if len(names) != len(set(names)):
        raise invalid("multi_input.media_sources", "source names must be unique")
    for ref in references(text):
        if ref not in names:
            raise invalid("multi_input.input_text", f"<@{ref}> matches no media source name")
    kinds = sorted({s.media_type for s in sources})
    if len(kinds) > 1 and text is None:
        raise Invalid(
            "multi_input",
            f"multi_input: sources of different types ({', '.join(kinds)}) need input_text to "
            "combine them",
        )
    if uncertainty and ("document" in kinds or (text is not None and sources)):
        raise invalid(
            "embedding_uncertainty",
            "needs a text-only or media-only request without documents",
        )
    return text, sources
