"""Fill a JSON schema with values drawn from a video's texts (the ``/analyze`` stand-in).

Used by :func:`tl_integrations.emulator._semantics.fill_schema`; see it for the contract.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ._media import MediaInfo
from ._semantics import (
    Window,
    _colour_name,
    _span,
    _spoken,
    _video_title,
    analyze_text,
    chapters,
    keywords,
    summarize,
)
from ._vectors import segment_text, tokenize

__all__ = ["Filler", "clock_text"]


_MAX_DEPTH = 12
_FORMATTED = {
    "date-time": "1970-01-01T00:00:00Z",
    "date": "1970-01-01",
    "time": "00:00:00Z",
    "uri": "https://emulator.invalid/video",
    "email": "emulator@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
_TAG_WORDS = ("hashtag", "tag", "keyword", "topic", "category", "theme", "genre")


class Filler:
    """Walks a JSON schema and builds a value for it from the video's chapters and transcript.

    Example:
        >>> from ._semantics import _demo_info
        >>> Filler({}, _demo_info(), None).value({"type": "timestamp", "format": "hh:mm:ss.fff"},
        ...                                      "start", None, 0)
        '00:00:00.000'
    """

    def __init__(
        self,
        root: dict[str, Any],
        info: MediaInfo,
        prompt: str | None,
        *,
        window: Window | None = None,
    ) -> None:
        self.root = root
        self.info = info
        self.prompt = prompt or ""
        self.window = window
        self.span = _span(info, window)
        self.chapters = chapters(info, window=window)
        self.transcript = " ".join(u.text for u in _spoken(info, window))

    def value(self, schema: Any, name: str, chapter: dict[str, Any] | None, depth: int) -> Any:
        if depth > 2 * _MAX_DEPTH:
            return None  # a schema that requires itself forever has no finite instance
        schema = self._resolve(schema if isinstance(schema, dict) else {}, depth)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self._enum(list(schema["enum"]), chapter)
        kind = _schema_type(schema)
        if kind == "object":
            return self._object(schema, chapter, depth)
        if kind == "array":
            return self._array(schema, name, chapter, depth)
        if kind == "timestamp":
            return _timestamp(self._number(name, chapter), schema.get("format"))
        if kind in ("number", "integer"):
            return _clamp(self._number(name, chapter), schema, integer=kind == "integer")
        if name in ("start_time", "end_time") and not schema.get("format"):
            # The API writes untyped start_time/end_time strings as hh:mm:ss.fff.
            return _timestamp(self._number(name, chapter), "hh:mm:ss.fff")
        if kind == "boolean":
            return self._boolean(name)
        if kind == "null":
            return None
        return _fit_string(self._string(name, chapter, schema.get("format")), schema)

    def _resolve(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        for _ in range(_MAX_DEPTH):
            if "$ref" in schema:
                schema = {**_pointer(self.root, str(schema["$ref"])), **_without(schema, "$ref")}
            elif "allOf" in schema:
                merged = _without(schema, "allOf")
                for part in schema["allOf"]:
                    merged = _merge(merged, self._resolve(part, depth))
                schema = merged
            elif "anyOf" in schema or "oneOf" in schema:
                options = schema.get("anyOf") or schema.get("oneOf") or [{}]
                chosen = next((o for o in options if _schema_type(o) != "null"), options[0])
                schema = {**_without(schema, "anyOf", "oneOf"), **self._resolve(chosen, depth)}
            else:
                break
        return schema

    def _object(self, schema: dict[str, Any], chapter: dict[str, Any] | None, depth: int) -> Any:
        properties = dict(schema.get("properties") or {})
        extra = schema.get("additionalProperties")
        for key in schema.get("required") or []:
            properties.setdefault(key, extra if isinstance(extra, dict) else {})
        return {k: self.value(v, k, chapter, depth + 1) for k, v in properties.items()}

    def _array(self, schema: dict[str, Any], name: str, chapter: Any, depth: int) -> list[Any]:
        items = self._resolve(schema.get("items") or {}, depth)
        low, high = int(schema.get("minItems", 0)), schema.get("maxItems")
        singular = name[:-1] if name.endswith("s") and len(name) > 3 else name
        if depth >= _MAX_DEPTH:
            values = [self.value(items, singular, chapter, depth + 1) for _ in range(low)]
        elif (
            _schema_type(items) == "string" and _has(singular, *_TAG_WORDS) and "enum" not in items
        ):
            prefix = "#" if "hashtag" in name.lower() else ""
            words = keywords(self.transcript, limit=max(low, 5)) or ["video"]
            values = [_fit_string(prefix + w, items) for w in words]
        else:
            # Objects (and scalars) follow the chapters: one item each.
            scopes = [chapter] if chapter is not None else self.chapters
            values = [self.value(items, singular, c, depth + 1) for c in scopes]
        return _sized(values, low, high, unique=bool(schema.get("uniqueItems")))

    def _enum(self, options: list[Any], chapter: dict[str, Any] | None) -> Any:
        context = set(tokenize(self.prompt + " " + (chapter or {}).get("summary", "")))
        return max(options, key=lambda o: len(context & set(tokenize(str(o)))), default=None)

    def _number(self, name: str, chapter: dict[str, Any] | None) -> float:
        key, span = name, chapter or {"start_s": self.span[0], "end_s": self.span[1]}
        if _has(key, "start", "begin", "from"):
            return float(span["start_s"])
        if _has(key, "end", "stop", "until", "to"):
            return float(span["end_s"])
        if _has(key, "duration", "length"):
            return float(span["end_s"]) - float(span["start_s"])
        if _has(key, "time", "timestamp", "offset", "at", "sec", "seconds"):
            return float(span["start_s"])
        if _has(key, "number", "index", "position", "order", "id", "rank"):
            return float(self.chapters.index(chapter)) if chapter in self.chapters else 0.0
        if _has(key, "count", "num", "total"):
            return float(len(self.chapters))
        return 0.0

    def _boolean(self, name: str) -> bool:
        if _has(name, "audio", "sound", "music"):
            return self.info.has_audio
        return bool(self.info.utterances) if _has(name, "speech", "talk", "dialog") else True

    def _string(self, name: str, chapter: dict[str, Any] | None, fmt: Any) -> str:
        key = name
        if fmt in _FORMATTED:
            return _FORMATTED[fmt]
        if _has(key, "start", "end", "timestamp", "time"):
            return _clock(self._number(name, chapter))
        if _has(key, "title", "name", "heading", "label", "headline"):
            return chapter["title"] if chapter else _video_title(self.info, self.window)
        if _has(key, *_TAG_WORDS):
            words = keywords(self.transcript) or ["video"]
            return ("#" if "hashtag" in key.lower() else "") + words[0]
        if _has(key, "transcript", "speech", "dialog", "quote", "spoken"):
            start, end = (chapter["start_s"], chapter["end_s"]) if chapter else self.span
            return segment_text(self.info, start_s=start, end_s=end)
        if _has(key, "colour", "color"):
            span = (chapter["start_s"], chapter["end_s"]) if chapter else self.span
            return _colour_name(self.info, *span)
        if _has(key, "language", "lang"):
            return "en"
        if chapter is not None:
            return str(chapter["summary"])
        if _has(key, "answer", "response", "result"):
            return analyze_text(self.info, prompt=self.prompt, window=self.window)
        return summarize(self.info, prompt=self.prompt or None, window=self.window)


def _sized(values: list[Any], low: int, high: Any, *, unique: bool) -> list[Any]:
    """Repeat (strings: number) the values up to ``low`` items, cut them at ``high``."""
    base = list(values)
    while base and len(values) < low:
        value = base[len(values) % len(base)]
        if unique and isinstance(value, str):
            value = f"{value} {len(values) + 1}"
        values.append(value)
    return values[:high] if isinstance(high, int) else values


def _has(name: str, *parts: str) -> bool:
    """Whether a property name mentions one of ``parts`` (snake_case, camelCase or glued)."""
    tokens = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())
    for part in parts:
        if part in tokens or (len(part) >= 3 and any(t.startswith(part) for t in tokens)):
            return True
        if len(part) > 3 and part in name.lower():
            return True
    return False


def _schema_type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "string"
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else None
    return str(kind or "string")


def _pointer(root: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = root
    if ref.startswith("#"):
        for part in filter(None, ref[1:].split("/")):
            node = (
                node.get(part.replace("~1", "/").replace("~0", "~"), {})
                if isinstance(node, dict)
                else {}
            )
    return node if isinstance(node, dict) else {}


def _without(schema: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k not in keys}


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    merged = {**a, **b}
    merged["properties"] = {**a.get("properties", {}), **b.get("properties", {})}
    merged["required"] = sorted(set(a.get("required", [])) | set(b.get("required", [])))
    return merged


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def clock_text(seconds: float, fmt: str) -> str:
    """Seconds as ``hh:mm:ss`` (rounded) or ``hh:mm:ss.fff``; negatives clamp to zero.

    Example:
        >>> clock_text(83.5, "hh:mm:ss"), clock_text(83.5, "hh:mm:ss.fff")
        ('00:01:24', '00:01:23.500')
        >>> clock_text(-2, "hh:mm:ss")
        '00:00:00'
    """
    seconds = max(0.0, seconds)
    if fmt == "hh:mm:ss":
        return _clock(seconds)
    millis = round(seconds * 1000)
    whole, frac = divmod(millis, 1000)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{frac:03d}"


def _timestamp(seconds: float, fmt: Any) -> float | str:
    """A ``timestamp`` value: a number for ``seconds``, else text in the clock format."""
    return round(max(0.0, seconds), 3) if fmt in (None, "seconds") else clock_text(seconds, fmt)


def _bounds(schema: dict[str, Any], step: float) -> tuple[float | None, float | None]:
    low, high = _num(schema.get("minimum")), _num(schema.get("maximum"))
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    # Draft 4 spells exclusive bounds as booleans beside minimum/maximum.
    ex_low = low if ex_low is True else _num(ex_low)
    ex_high = high if ex_high is True else _num(ex_high)
    lows = [v for v in (low, None if ex_low is None else ex_low + step) if v is not None]
    highs = [v for v in (high, None if ex_high is None else ex_high - step) if v is not None]
    return (max(lows) if lows else None, min(highs) if highs else None)


def _num(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else None


def _clamp(value: float, schema: dict[str, Any], *, integer: bool) -> float | int:
    low, high = _bounds(schema, 1.0 if integer else 1e-3)
    if integer:
        number = round(value)
        if low is not None and number < low:
            number = math.ceil(low)
        if high is not None and number > high:
            number = math.floor(high)
        return number
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


def _fit_string(text: str, schema: dict[str, Any]) -> str:
    high, low = schema.get("maxLength"), int(schema.get("minLength", 0))
    if isinstance(high, int):
        text = text[:high]
    return text + "." * max(0, low - len(text))
