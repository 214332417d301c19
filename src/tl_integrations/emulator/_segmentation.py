"""Time-based metadata: the stand-in for Pegasus segmentation (``time_based_metadata``).

Used by :func:`tl_integrations.emulator._semantics.time_based_metadata`; see it for the
contract. Segments come from colour scenes, or from the subtitle lines when a definition
asks about speech; each field is filled from what the segment shows and says.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._media import MediaInfo
from ._schema_fill import clock_text
from ._segments import scene_bounds
from ._semantics import Window, _colour_name, _first_words, _lines_in, keywords

__all__ = ["DEFAULT_MIN_SEGMENT_S", "Segmenter"]

DEFAULT_MIN_SEGMENT_S = 2.0
_SPEECH_WORDS = ("speak", "speech", "said", "says", "dialog", "quote", "talk", "line", "subtitle")
# A colour's "mood": enough for enum fields and "mood" strings to vary with the picture.
_MOODS = {
    "red": "tense",
    "green": "peaceful",
    "blue": "calm",
    "yellow": "cheerful",
    "purple": "mysterious",
    "orange": "warm",
    "cyan": "fresh",
    "magenta": "playful",
    "white": "bright",
    "grey": "neutral",
    "black": "dark",
}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _has(name: str, *parts: str) -> bool:
    words = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())
    return any(part in words or any(w.startswith(part) for w in words) for part in parts)


def fit(start_s: float, end_s: float, *, min_s: float, max_s: float | None) -> list[Window]:
    """Cut ``[start_s, end_s)`` into pieces of ``min_s`` to ``max_s`` seconds: evenly when
    it can be done, else pieces of ``max_s`` evenly spaced (a little time between them is
    left out). A span shorter than ``min_s`` gives nothing.

    Example:
        >>> fit(0.0, 10.0, min_s=2.0, max_s=4.0)
        [(0.0, 3.333), (3.333, 6.667), (6.667, 10.0)]
        >>> fit(0.0, 5.0, min_s=3.0, max_s=4.0)
        [(0.0, 4.0)]
        >>> fit(0.0, 1.5, min_s=2.0, max_s=None)
        []
    """
    length = end_s - start_s
    if length < min_s - 1e-9:
        return []
    if max_s is None or length <= max_s + 1e-9:
        return [(round(start_s, 3), round(end_s, 3))]
    pieces = math.ceil(length / max_s - 1e-9)
    step = length / pieces
    width = step
    if step < min_s - 1e-9:
        pieces = max(1, math.floor(length / min_s + 1e-9))
        step, width = length / pieces, max_s
    return [
        (round(start_s + i * step, 3), round(min(start_s + i * step + width, end_s), 3))
        for i in range(pieces)
    ]


class Segmenter:
    """Finds the segments of each definition in a window of a video and fills their fields.

    Args:
        info: The probed video.
        window: The analysed span (seconds of the whole video).
        min_s: The shortest segment (default 2 s).
        max_s: The longest segment (None: no limit).
        time_format: ``seconds`` (numbers), ``hh:mm:ss`` or ``hh:mm:ss.fff`` (strings).

    Example:
        >>> from ._semantics import _demo_info
        >>> seg = Segmenter(_demo_info(), window=(0.0, 8.0), min_s=2.0, max_s=None)
        >>> found = seg.run([{"id": "scene", "description": "each scene",
        ...                   "fields": [{"name": "mood", "type": "string"}]}])
        >>> [(s["start_time"], s["end_time"], s["metadata"]["mood"]) for s in found["scene"]]
        [(0.0, 4.0, 'tense'), (4.0, 8.0, 'calm')]
    """

    def __init__(
        self,
        info: MediaInfo,
        *,
        window: Window,
        min_s: float | None,
        max_s: float | None,
        time_format: str = "seconds",
    ) -> None:
        self.info = info
        self.window = window
        self.min_s = DEFAULT_MIN_SEGMENT_S if min_s is None else min_s
        self.max_s = max_s
        self.time_format = time_format

    def run(self, definitions: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """``{definition id: [{start_time, end_time, metadata}]}`` in declaration order."""
        return {str(d["id"]): self._segments(d) for d in definitions}

    def _segments(self, definition: Mapping[str, Any]) -> list[dict[str, Any]]:
        fields = list(definition.get("fields") or [])
        found = []
        for n, (start_s, end_s) in enumerate(self._spans(definition)):
            found.append(
                {
                    "start_time": self._time(start_s),
                    "end_time": self._time(end_s),
                    "metadata": {f["name"]: self._value(f, start_s, end_s, n) for f in fields},
                }
            )
        return found

    def _ranges(self, definition: Mapping[str, Any]) -> list[Window]:
        ranges = definition.get("time_ranges")
        if ranges:
            return [(float(r["start_time"]), float(r["end_time"])) for r in ranges]
        return [self.window]

    def _spans(self, definition: Mapping[str, Any]) -> list[Window]:
        text = f"{definition.get('id', '')} {definition.get('description', '')}"
        speech = any(_has(text, word) for word in _SPEECH_WORDS)
        spans: list[Window] = []
        for start_s, end_s in self._ranges(definition):
            base = self._lines(start_s, end_s) if speech else self._scenes(start_s, end_s)
            for a, b in base:
                spans += fit(a, b, min_s=self.min_s, max_s=self.max_s)
        return spans

    def _scenes(self, start_s: float, end_s: float) -> list[Window]:
        if end_s - start_s < self.min_s - 1e-9:
            return []
        return scene_bounds(self.info, start_s, end_s, min_duration_s=self.min_s)

    def _lines(self, start_s: float, end_s: float) -> list[Window]:
        """One span per subtitle line, widened to the shortest segment and kept apart."""
        spans: list[Window] = []
        for line in _lines_in(self.info, start_s, end_s):
            a, b = max(start_s, line.start_s), min(end_s, line.end_s)
            grow = max(0.0, self.min_s - (b - a))
            a, b = max(start_s, a - grow / 2), min(end_s, b + grow / 2)
            if b - a < self.min_s:  # against a window edge: grow the other way
                a, b = (a, min(end_s, a + self.min_s)) if a == start_s else (b - self.min_s, b)
            if spans and a < spans[-1][1]:
                a = spans[-1][1]
            if b - a >= self.min_s - 1e-9:
                spans.append((a, b))
        return spans

    def _time(self, seconds: float) -> float | str:
        if self.time_format == "seconds":
            return round(seconds, 3)
        return clock_text(seconds, self.time_format)

    # -- fields --------------------------------------------------------------------------

    def _value(self, spec: Mapping[str, Any], start_s: float, end_s: float, n: int) -> Any:
        kind = spec.get("type")
        if spec.get("enum"):
            return self._enum(list(spec["enum"]), start_s, end_s, n)
        if kind == "time_array":
            return self._events(spec, start_s, end_s)
        if kind == "timestamp":
            at = end_s if _has(str(spec.get("name", "")), "end", "stop") else start_s
            fmt = spec.get("format") or "seconds"
            return round(at, 3) if fmt == "seconds" else clock_text(at, str(fmt))
        if kind == "array":
            item = (spec.get("items") or {}).get("type", "string")
            return self._array(str(spec.get("name", "")), str(item), start_s, end_s)
        return self._scalar(str(kind), str(spec.get("name", "")), start_s, end_s, n)

    def _said(self, start_s: float, end_s: float) -> str:
        return " ".join(u.text for u in _lines_in(self.info, start_s, end_s))

    def _describe(self, start_s: float, end_s: float) -> str:
        colour = _colour_name(self.info, start_s, end_s)
        said = self._said(start_s, end_s)
        told = f' Someone says: "{_first_words(said, 30)}"' if said else " Nobody speaks."
        return f"A {colour} scene from {start_s:g} s to {end_s:g} s.{told}"

    def _scalar(self, kind: str, name: str, start_s: float, end_s: float, n: int) -> Any:
        said = self._said(start_s, end_s)
        colour = _colour_name(self.info, start_s, end_s)
        if kind == "boolean":
            if _has(name, "music", "sound", "audio"):
                return self.info.has_audio
            return bool(said)
        if kind in ("number", "integer"):
            if _has(name, "start", "begin"):
                value = start_s
            elif _has(name, "end", "stop"):
                value = end_s
            elif _has(name, "count", "num", "number", "total", "lines"):
                value = float(len(_lines_in(self.info, start_s, end_s)))
            elif _has(name, "index", "order", "position", "rank"):
                value = float(n)
            else:
                value = end_s - start_s
            return round(value) if kind == "integer" else round(value, 3)
        return self._text(name, start_s, end_s, said, colour)

    def _text(self, name: str, start_s: float, end_s: float, said: str, colour: str) -> str:
        if _has(name, "mood", "tone", "emotion", "feeling", "atmosphere", "sentiment"):
            return _MOODS.get(colour, "neutral")
        if _has(name, "colour", "color"):
            return colour
        if _has(name, "title", "heading", "label", "name", "headline"):
            return f"{colour.capitalize()} scene" + (f": {_first_words(said, 8)}" if said else "")
        if _has(name, "speech", "transcript", "dialog", "quote", "said", "spoken", "text"):
            return said
        if _has(name, "speaker", "person", "who"):
            return "speaker_0" if said else "nobody"
        if _has(name, "place", "location", "setting"):
            return f"a {colour} place"
        if _has(name, "language", "lang"):
            return "en"
        return self._describe(start_s, end_s)

    def _array(self, name: str, item: str, start_s: float, end_s: float) -> list[Any]:
        said = self._said(start_s, end_s)
        if item in ("number", "integer"):
            values = [start_s, end_s]
            return [round(v) if item == "integer" else round(v, 3) for v in values]
        if item == "boolean":
            return [bool(said)]
        if _has(name, "people", "speaker", "person", "who", "character", "participant"):
            return ["speaker_0"] if said else []
        if _has(name, "colour", "color"):
            return [_colour_name(self.info, start_s, end_s)]
        if _has(name, "line", "quote", "transcript", "sentence"):
            return [u.text for u in _lines_in(self.info, start_s, end_s)]
        return keywords(said) or [_colour_name(self.info, start_s, end_s)]

    def _enum(self, options: list[Any], start_s: float, end_s: float, n: int) -> Any:
        colour = _colour_name(self.info, start_s, end_s)
        context = _words(f"{self._said(start_s, end_s)} {colour} {_MOODS.get(colour, '')}")
        scores = [len(context & _words(str(o))) for o in options]
        best = max(scores)
        return options[scores.index(best)] if best else options[n % len(options)]

    def _events(self, spec: Mapping[str, Any], start_s: float, end_s: float) -> list[Any]:
        """Each subtitle line inside the segment is one event with its own fields."""
        fields = list((spec.get("items") or {}).get("fields") or [])
        events = []
        for n, line in enumerate(_lines_in(self.info, start_s, end_s)):
            a, b = max(start_s, line.start_s), min(end_s, line.end_s)
            event: dict[str, Any] = {"start_time": self._time(a), "end_time": self._time(b)}
            event |= {f["name"]: self._value(f, a, b, n) for f in fields}
            events.append(event)
        return events
