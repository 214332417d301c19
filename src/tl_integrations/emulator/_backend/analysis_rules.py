"""What an analysis request may ask, checked: the rules of ``POST /analyze``,
``POST /analyze/tasks`` and the items of ``POST /analyze/batches`` (API notes §6).

Each check turns a JSON body into an :class:`Ask` (typed, with defaults applied) or raises
the error the API answers with. Rules that need the video (its duration, whether a window
or a time range lies inside it) are checked later by :func:`window_of`, once the media is
known.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import Invalid, Unprocessable, invalid, missing
from .ingest import AssetRef, Base64Data, RemoteUrl

__all__ = [
    "ASYNC_MAX_VIDEO_S",
    "ASYNC_MAX_WINDOW_S",
    "BATCH_MODELS",
    "MAX_TOKENS",
    "MODES",
    "PEGASUS_MODELS",
    "PROMPT_LIMIT",
    "SYNC_MAX_VIDEO_S",
    "Ask",
    "ImageInput",
    "MediaSource",
    "batch_ask",
    "check_schema",
    "count_tokens",
    "source_of",
    "sync_ask",
    "task_ask",
    "window_of",
]

PEGASUS_MODELS = ("pegasus1.5", "pegasus1.6")
BATCH_MODELS = ("pegasus1.5",)
MODES = ("general", "time_based_metadata")
PROMPT_LIMIT = 2000
MAX_TOKENS = 98_304
# (min, default) of max_tokens per mode (API notes §6.5).
TOKEN_RANGE = {"general": (512, 4096), "time_based_metadata": (2048, 32_768)}
SYNC_MAX_VIDEO_S = 3600.0
ASYNC_MAX_VIDEO_S = 2 * 3600.0
ASYNC_MAX_WINDOWED_VIDEO_S = 4 * 3600.0
ASYNC_MAX_WINDOW_S = 2 * 3600.0
MIN_WINDOW_S = 1.0
MIN_SEGMENT_S = 2.0
MAX_IMAGES = 20
MAX_MEDIA_SOURCES = 4
MAX_DEFINITIONS = 20
MAX_ENUM = 100
TIME_FORMATS = ("seconds", "hh:mm:ss", "hh:mm:ss.fff")
FIELD_TYPES = ("string", "boolean", "number", "integer", "array", "timestamp", "time_array")
EVENT_FIELD_TYPES = ("string", "boolean", "number", "integer", "array")
SCALAR_TYPES = ("string", "number", "boolean", "integer")
RESERVED_FIELDS = ("start_time", "end_time", "metadata")
_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PLACEHOLDER = re.compile(r"<@([A-Za-z0-9_]+)>")
_RETIRED_MODELS = {
    "pegasus1.2": "Pegasus 1.2 is retired: use pegasus1.5 (or pegasus1.6) with the video "
    "given as {'type': 'asset_id', 'asset_id': ...}",
}

MediaSource = RemoteUrl | Base64Data | AssetRef
"""Where one video or image is: a URL to fetch, inline base64, or an asset."""


@dataclass(frozen=True)
class ImageInput:
    """One named image of a Pegasus 1.6 request.

    Example:
        >>> ImageInput("logo", AssetRef("a" * 24)).name
        'logo'
    """

    name: str
    source: MediaSource


@dataclass(frozen=True)
class Ask:
    """One checked analysis request.

    ``prompt`` is the text to answer (``prompt`` or ``prompt_v2.input_text``);
    ``params`` is the request as a task keeps it (``request_params``), before media
    sources are stripped of their bytes. Times are seconds.

    Example:
        >>> ask = sync_ask({"video": {"type": "url", "url": "file:///a.mp4"}, "prompt": "Hi"})
        >>> ask.model, ask.mode, ask.prompt
        ('pegasus1.5', 'general', 'Hi')
    """

    model: str
    mode: str
    video: MediaSource | None
    images: tuple[ImageInput, ...]
    prompt: str | None
    schema: dict[str, Any] | None
    temperature: float | None
    max_tokens: int | str | None
    start_s: float | None
    end_s: float | None
    definitions: tuple[dict[str, Any], ...] = ()
    time_format: str = "seconds"
    min_segment_s: float | None = None
    max_segment_s: float | None = None
    custom_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def token_limit(self) -> int | None:
        """The output limit in tokens (the mode's default when none was given; None for
        ``unlimited``)."""
        if self.max_tokens == "unlimited":
            return None
        if isinstance(self.max_tokens, int):
            return self.max_tokens
        return TOKEN_RANGE[self.mode][1]


def count_tokens(text: str) -> int:
    """How many tokens a text counts as: the emulator counts words and numbers.

    Example:
        >>> count_tokens('{"a": [1.5, "two words"]}')
        5
    """
    return len(re.findall(r"[A-Za-z0-9]+", text))


# --------------------------------------------------------------------------- the parts


def _present(body: Mapping[str, Any], key: str) -> bool:
    """The SDK sends a ``None`` argument as JSON null: null means absent."""
    return body.get(key) is not None


def _model(body: Mapping[str, Any], allowed: Sequence[str]) -> str:
    name = body.get("model_name")
    if name is None:
        return allowed[0]
    if name in _RETIRED_MODELS:
        raise invalid("model_name", _RETIRED_MODELS[name])
    if name not in allowed:
        raise invalid("model_name", f"must be one of {list(allowed)}, got {name!r}")
    return str(name)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(name, f"must be a number, got {value!r}")
    return float(value)


def _temperature(body: Mapping[str, Any]) -> float | None:
    if not _present(body, "temperature"):
        return None
    value = _number(body["temperature"], "temperature")
    if not 0.0 <= value <= 1.0:
        raise invalid("temperature", f"must be between 0 and 1, got {value:g}")
    return value


def _max_tokens(body: Mapping[str, Any], mode: str, *, model: str) -> int | str | None:
    if not _present(body, "max_tokens"):
        return None
    value = body["max_tokens"]
    if value == "unlimited":
        if mode != "time_based_metadata" or model != "pegasus1.6":
            raise invalid(
                "max_tokens", "'unlimited' needs analysis_mode time_based_metadata and pegasus1.6"
            )
        return "unlimited"
    low = TOKEN_RANGE[mode][0]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_TOKENS:
        raise invalid(
            "max_tokens",
            f"must be an integer from {low} to {MAX_TOKENS} in {mode} mode, got {value!r}",
        )
    return value


def _window(body: Mapping[str, Any]) -> tuple[float | None, float | None]:
    start = _number(body["start_time"], "start_time") if _present(body, "start_time") else None
    end = _number(body["end_time"], "end_time") if _present(body, "end_time") else None
    if start is not None and start < 0:
        raise invalid("start_time", f"must be >= 0, got {start:g}")
    if end is not None and end <= (start or 0.0):
        raise invalid("end_time", f"must be greater than start_time, got {end:g}")
    if start is not None and end is not None and end - start < MIN_WINDOW_S:
        raise invalid(
            "end_time", f"the window must last at least {MIN_WINDOW_S:g} s, got {end - start:g} s"
        )
    return start, end


def source_of(value: Any, name: str, *, allow_url: bool = True) -> MediaSource:
    """A media source object holding exactly one of ``url``, ``asset_id`` or
    ``base64_string`` (analysis' ``image[]``, embed v2's ``media_source``).

    Raises:
        Invalid: (400) naming ``name``, for none or more than one of them.

    Example:
        >>> source_of({"asset_id": "a1"}, "image[0]")
        AssetRef(asset_id='a1', field='image[0].asset_id')
        >>> source_of({"asset_id": "a1", "url": "file:///a.png"}, "image[0]")
        Traceback (most recent call last):
        ...
        tl_integrations.emulator._backend.errors.Invalid: image[0]: give exactly one of ...
    """
    return _source(value, name, allow_url=allow_url)


def _source(value: Any, name: str, *, allow_url: bool = True) -> MediaSource:
    """Exactly one of ``url``, ``asset_id`` or ``base64_string``."""
    if not isinstance(value, dict):
        raise invalid(name, "must be an object")
    given = [k for k in ("url", "asset_id", "base64_string") if value.get(k)]
    if len(given) != 1:
        raise invalid(name, f"give exactly one of url, asset_id or base64_string, got {given}")
    key = given[0]
    text = value[key]
    if not isinstance(text, str):
        raise invalid(f"{name}.{key}", "must be a string")
    if key == "url":
        if not allow_url:
            raise invalid(name, "only asset_id is accepted here")
        return RemoteUrl(text, field=f"{name}.url")
    if key == "base64_string":
        return Base64Data(text, field=f"{name}.base64_string")
    return AssetRef(text, field=f"{name}.asset_id")


def _video(body: Mapping[str, Any]) -> MediaSource | None:
    if _present(body, "video_id"):
        raise invalid(
            "video_id",
            "video_id is no longer accepted; send the video's asset: "
            "video={'type': 'asset_id', 'asset_id': ...} (an indexed video's asset_id is on "
            "GET /indexes/{index_id}/indexed-assets/{id})",
        )
    if not _present(body, "video"):
        return None
    video = body["video"]
    if not isinstance(video, dict):
        raise invalid("video", "must be an object with a type")
    kind = video.get("type")
    keys = {"url": "url", "asset_id": "asset_id", "base64_string": "base64_string"}
    if kind not in keys:
        raise invalid("video.type", f"must be url, asset_id or base64_string, got {kind!r}")
    if not video.get(keys[kind]):
        raise missing(f"video.{keys[kind]}")
    return _source({keys[kind]: video[keys[kind]]}, "video")


def _images(body: Mapping[str, Any], model: str) -> tuple[ImageInput, ...]:
    if not _present(body, "image"):
        return ()
    images = body["image"]
    if model != "pegasus1.6":
        raise invalid("image", f"images need model_name pegasus1.6, got {model!r}")
    if not isinstance(images, list) or not 1 <= len(images) <= MAX_IMAGES:
        raise invalid("image", f"must be a list of 1 to {MAX_IMAGES} images")
    found: list[ImageInput] = []
    for n, image in enumerate(images):
        name = image.get("name") if isinstance(image, dict) else None
        if not isinstance(name, str) or not _NAME.match(name):
            raise invalid(f"image[{n}].name", "must be letters, digits or underscores")
        if any(i.name == name for i in found):
            raise invalid(f"image[{n}].name", f"{name!r} is used twice")
        found.append(ImageInput(name, _source(image, f"image[{n}]")))
    return tuple(found)


def _prompt_v2(value: Any) -> tuple[str, dict[str, Any]]:
    """The text of a ``prompt_v2`` and its echo (base64 sources keep name and type only)."""
    if not isinstance(value, dict) or not isinstance(value.get("input_text"), str):
        raise missing("prompt_v2.input_text")
    sources = value.get("media_sources") or []
    if not isinstance(sources, list) or len(sources) > MAX_MEDIA_SOURCES:
        raise invalid("prompt_v2.media_sources", f"takes up to {MAX_MEDIA_SOURCES} images")
    echo: list[dict[str, Any]] = []
    for n, source in enumerate(sources):
        where = f"prompt_v2.media_sources[{n}]"
        name = source.get("name") if isinstance(source, dict) else None
        if not isinstance(name, str) or not _NAME.match(name):
            raise invalid(f"{where}.name", "must be letters, digits or underscores")
        if source.get("media_type") != "image":
            raise invalid(f"{where}.media_type", "must be 'image'")
        _source(source, where)
        echo.append(
            {k: source[k] for k in ("name", "media_type", "url", "asset_id") if k in source}
        )
    names = {s["name"] for s in echo}
    unknown = set(_PLACEHOLDER.findall(value["input_text"])) - names
    if unknown:
        raise invalid("prompt_v2.input_text", f"refers to unknown images {sorted(unknown)}")
    text = str(value["input_text"])
    return text, {"input_text": text, **({"media_sources": echo} if echo else {})}


def _prompt(body: Mapping[str, Any], *, required: bool) -> tuple[str | None, dict[str, Any]]:
    """(the text to answer, its echo) from ``prompt`` or ``prompt_v2`` (not both)."""
    has_text, has_v2 = _present(body, "prompt"), _present(body, "prompt_v2")
    if has_text and has_v2:
        raise invalid("prompt", "send prompt or prompt_v2, not both")
    if has_v2:
        text, echo = _prompt_v2(body["prompt_v2"])
        params: dict[str, Any] = {"prompt_v2": echo}
    elif has_text:
        if not isinstance(body["prompt"], str):
            raise invalid("prompt", "must be a string")
        text, params = body["prompt"], {"prompt": body["prompt"]}
    elif required:
        raise missing("prompt")
    else:
        return None, {}
    if not text.strip():
        raise missing("prompt")
    if count_tokens(text) > PROMPT_LIMIT:
        raise Invalid(
            "prompt", f"The prompt exceeds {PROMPT_LIMIT} tokens.", code="token_limit_exceeded"
        )
    return text, params


def _check_placeholders(text: str, images: Sequence[ImageInput]) -> None:
    named = set(_PLACEHOLDER.findall(text))
    if not named:
        return
    names = {i.name for i in images}
    if named != names:
        raise invalid(
            "prompt",
            f"placeholders must name every image or none: it names {sorted(named)}, the "
            f"images are {sorted(names)}",
        )


def _custom_id(body: Mapping[str, Any], where: str = "custom_id") -> str | None:
    value = body.get("custom_id")
    if value is None:
        return None
    if not isinstance(value, str) or not _CUSTOM_ID.match(value):
        raise invalid(where, f"must be 1 to 64 letters, digits, '_' or '-', got {value!r}")
    return value


# --------------------------------------------------------------------------- JSON schemas

_UNSUPPORTED = {
    "minLength": "string",
    "maxLength": "string",
    "additionalProperties": "object",
    "uniqueItems": "array",
    "maxItems": "array",
    "oneOf": "any",
    "allOf": "any",
    "not": "any",
    "patternProperties": "object",
}
_STRING_FORMATS = ("uuid", "date-time", "date", "time")
_TIMES = ("start_time", "end_time")


def check_schema(schema: Any, where: str = "response_format.json_schema") -> None:
    """Refuse what Pegasus' JSON schemas do not allow (API notes §6.4).

    Raises:
        Unprocessable: (422) for an unsupported keyword (``minLength``,
            ``additionalProperties``, ``oneOf``...).
        Invalid: (400) for a misplaced or badly formatted ``timestamp``, a bad string
            ``format``, or ``start_time``/``end_time`` of a type that cannot hold a time.

    Example:
        >>> check_schema({"type": "object", "properties": {"t": {"type": "timestamp",
        ...               "format": "seconds"}}})
        >>> check_schema({"type": "string", "minLength": 2})
        Traceback (most recent call last):
        ...
        tl_integrations.emulator._backend.errors.Unprocessable: response_format.json_schema: ...
    """
    if not isinstance(schema, dict):
        raise invalid("response_format.json_schema", "must be a JSON schema object")
    _walk(schema, where, depth=0, timestamp_ok=False, name=None)


def _walk(node: Any, where: str, *, depth: int, timestamp_ok: bool, name: str | None) -> None:
    if not isinstance(node, dict):
        return
    for key, kind in _UNSUPPORTED.items():
        # additionalProperties included: "Including it causes a 422 error" whatever its value
        # (SDK types/sync_response_format.py, async_response_format.py).
        if key in node:
            raise Unprocessable(
                f"{where}: {key} is not supported in Pegasus JSON schemas"
                + (f" ({kind})" if kind != "any" else " (use anyOf)"),
                field="response_format",
            )
    if "minItems" in node and node["minItems"] not in (0, 1):
        raise Unprocessable(f"{where}: minItems may only be 0 or 1", field="response_format")
    ref = node.get("$ref")
    if ref is not None and not (isinstance(ref, str) and ref.startswith("#/$defs/")):
        raise invalid(where, f"$ref may only point into $defs, got {ref!r}")
    _check_typed(node, where, timestamp_ok=timestamp_ok, name=name)
    for key, child in (node.get("properties") or {}).items():
        ok = depth == 0 or (depth == 2 and where.endswith(".items"))
        _walk(child, f"{where}.properties.{key}", depth=depth + 1, timestamp_ok=ok, name=key)
    if isinstance(node.get("items"), dict):
        _walk(node["items"], f"{where}.items", depth=depth + 1, timestamp_ok=False, name=None)
    for n, option in enumerate(node.get("anyOf") or []):
        _walk(option, f"{where}.anyOf[{n}]", depth=depth + 1, timestamp_ok=False, name=name)
    for key, child in (node.get("$defs") or {}).items():
        _walk(child, f"{where}.$defs.{key}", depth=depth + 1, timestamp_ok=False, name=key)


def _check_typed(node: dict[str, Any], where: str, *, timestamp_ok: bool, name: str | None) -> None:
    kind = node.get("type")
    if kind == "timestamp":
        if not timestamp_ok:
            raise invalid(
                where,
                "timestamp is allowed only at properties.X or properties.A.items.properties.X",
            )
        if node.get("format") not in TIME_FORMATS:
            raise invalid(f"{where}.format", f"must be one of {list(TIME_FORMATS)}")
    elif kind == "string" and "format" in node and node["format"] not in _STRING_FORMATS:
        raise invalid(f"{where}.format", f"must be one of {list(_STRING_FORMATS)}")
    if name in _TIMES:
        bad = kind in ("boolean", "object", "array", "null") or (
            kind == "string" and "format" in node
        )
        if bad:
            raise invalid(
                where, f"{name} must be a number, an integer, a plain string or a timestamp"
            )


def _json_schema(fmt: Mapping[str, Any]) -> dict[str, Any]:
    schema = fmt.get("json_schema")
    if not isinstance(schema, dict):
        raise missing("response_format.json_schema")
    check_schema(schema)
    return schema


# --------------------------------------------------------------------------- segmentation


def _enum(spec: Mapping[str, Any], where: str) -> None:
    values = spec.get("enum")
    if values is None:
        return
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_ENUM:
        raise invalid(f"{where}.enum", f"must be a list of 1 to {MAX_ENUM} values")


def _items(spec: Mapping[str, Any], where: str, *, events: bool) -> None:
    items = spec.get("items")
    if not isinstance(items, dict):
        raise missing(f"{where}.items")
    kind = items.get("type")
    if kind == "object" and not events:
        raise invalid(f"{where}.items.type", "a plain array holds scalars; use time_array")
    if "fields" in items and not events:
        raise invalid(f"{where}.items", "fields are for time_array items only")
    if not events and kind not in SCALAR_TYPES:
        raise invalid(f"{where}.items.type", f"must be one of {list(SCALAR_TYPES)}")


def _field(
    spec: Any, where: str, *, model: str, taken: set[str], event: bool = False
) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise invalid(where, "must be an object")
    name, kind = spec.get("name"), spec.get("type")
    if not isinstance(name, str) or not name:
        raise missing(f"{where}.name")
    if name in RESERVED_FIELDS:
        raise invalid(f"{where}.name", f"{name!r} is reserved")
    if name in taken:
        raise invalid(f"{where}.name", f"{name!r} is used twice")
    taken.add(name)
    allowed = EVENT_FIELD_TYPES if event else FIELD_TYPES
    if kind not in allowed:
        raise invalid(f"{where}.type", f"must be one of {list(allowed)}, got {kind!r}")
    if not isinstance(spec.get("description"), str) or not spec["description"]:
        raise missing(f"{where}.description")
    if event and "format" in spec:
        raise invalid(f"{where}.format", "time_array item fields take no format")
    if kind == "timestamp" and spec.get("format") not in TIME_FORMATS:
        raise invalid(
            "response_format.segment_definitions.fields.format",
            f"{name}: a timestamp field needs format, one of {list(TIME_FORMATS)}",
        )
    if kind != "timestamp" and "format" in spec:
        raise invalid(
            "response_format.segment_definitions.fields.format",
            f"{name}: format is only for timestamp fields",
        )
    if "enum" in spec and (kind == "timestamp" or (event and kind != "string")):
        raise invalid(f"{where}.enum", f"not allowed on a {kind} field here")
    _enum(spec, where)
    if kind == "array":
        _items(spec, where, events=False)
    elif kind == "time_array":
        _time_array(spec, where, model=model)
    elif "items" in spec:
        raise invalid(f"{where}.items", f"not allowed on a {kind} field")
    return dict(spec)


def _time_array(spec: Mapping[str, Any], where: str, *, model: str) -> None:
    if model != "pegasus1.6":
        raise invalid(f"{where}.type", "time_array fields need pegasus1.6")
    items = spec.get("items")
    if not isinstance(items, dict) or items.get("type") != "object":
        raise invalid(f"{where}.items", "must be {'type': 'object', 'fields': [...]}")
    fields = items.get("fields")
    if not isinstance(fields, list) or not fields:
        raise missing(f"{where}.items.fields")
    taken: set[str] = set()
    for n, event_field in enumerate(fields):
        at = f"{where}.items.fields[{n}]"
        _field(event_field, at, model=model, taken=taken, event=True)
        if event_field.get("type") == "array":
            _items(event_field, at, events=False)


def _time_ranges(value: Any, where: str) -> list[dict[str, float]]:
    if not isinstance(value, list) or not value:
        raise invalid(where, "must be a list of {start_time, end_time}")
    ranges = []
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise invalid(f"{where}[{n}]", "must be an object")
        start = _number(item.get("start_time"), f"{where}[{n}].start_time")
        end = _number(item.get("end_time"), f"{where}[{n}].end_time")
        if start < 0 or end - start < MIN_SEGMENT_S:
            raise invalid(f"{where}[{n}]", f"a time range must last at least {MIN_SEGMENT_S:g} s")
        ranges.append({"start_time": start, "end_time": end})
    ranges.sort(key=lambda r: r["start_time"])
    for a, b in itertools.pairwise(ranges):
        if b["start_time"] < a["end_time"]:
            raise invalid(where, "time ranges of one definition must not overlap")
    return ranges


def _definitions(fmt: Mapping[str, Any], *, model: str) -> tuple[dict[str, Any], ...]:
    where = "response_format.segment_definitions"
    definitions = fmt.get("segment_definitions")
    if not isinstance(definitions, list) or not 1 <= len(definitions) <= MAX_DEFINITIONS:
        raise invalid(where, f"must be a list of 1 to {MAX_DEFINITIONS} definitions")
    checked: list[dict[str, Any]] = []
    for n, definition in enumerate(definitions):
        at = f"{where}[{n}]"
        if not isinstance(definition, dict):
            raise invalid(at, "must be an object")
        ident, description = definition.get("id"), definition.get("description")
        if not isinstance(ident, str) or not ident:
            raise missing(f"{at}.id")
        if any(d["id"] == ident for d in checked):
            raise invalid(f"{at}.id", f"{ident!r} is used twice")
        if not isinstance(description, str) or not description:
            raise missing(f"{at}.description")
        out: dict[str, Any] = {"id": ident, "description": description}
        taken: set[str] = set()
        fields = definition.get("fields") or []
        if not isinstance(fields, list):
            raise invalid(f"{at}.fields", "must be a list")
        if fields:
            out["fields"] = [
                _field(f, f"{at}.fields[{i}]", model=model, taken=taken)
                for i, f in enumerate(fields)
            ]
        sources = definition.get("media_sources")
        if sources is not None:
            if not isinstance(sources, list) or len(sources) > MAX_MEDIA_SOURCES:
                raise invalid(f"{at}.media_sources", f"takes up to {MAX_MEDIA_SOURCES} images")
            out["media_sources"] = list(sources)
        if definition.get("time_ranges") is not None:
            out["time_ranges"] = _time_ranges(definition["time_ranges"], f"{at}.time_ranges")
        checked.append(out)
    return tuple(checked)


def _segment_bounds(body: Mapping[str, Any], mode: str) -> tuple[float | None, float | None]:
    found: list[float | None] = []
    for key in ("min_segment_duration", "max_segment_duration"):
        if not _present(body, key):
            found.append(None)
            continue
        if mode != "time_based_metadata":
            raise invalid(key, "applies only when analysis_mode is time_based_metadata")
        value = _number(body[key], key)
        if value < MIN_SEGMENT_S:
            raise invalid(key, f"must be at least {MIN_SEGMENT_S:g} s, got {value:g}")
        found.append(value)
    low, high = found
    if low is not None and high is not None and high < low:
        raise invalid("max_segment_duration", "must be at least min_segment_duration")
    return low, high


# --------------------------------------------------------------------------- requests


def sync_ask(body: Mapping[str, Any]) -> Ask:
    """Check a ``POST /analyze`` body.

    Raises:
        Invalid: (400) the first rule the body breaks, naming the field.
        Unprocessable: (422) a JSON schema with a keyword Pegasus does not support.

    Example:
        >>> sync_ask({"video_id": "v1", "prompt": "Hi"})
        Traceback (most recent call last):
        ...
        tl_integrations.emulator._backend.errors.Invalid: video_id: video_id is no longer ...
    """
    video = _video(body)
    model = _model(body, PEGASUS_MODELS)
    images = _images(body, model)
    if video is None and not images:
        raise missing("video")
    if video is not None and images:
        raise invalid("image", "send a video or images, not both")
    if images and _present(body, "prompt_v2"):
        raise invalid("prompt_v2", "images take a plain prompt, not prompt_v2")
    prompt, params = _prompt(body, required=True)
    assert prompt is not None
    if not _present(body, "prompt_v2"):  # prompt_v2 names its own media_sources
        _check_placeholders(prompt, images)
    schema = None
    if _present(body, "response_format"):
        fmt = body["response_format"]
        if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
            raise invalid("response_format.type", "synchronous analysis takes only json_schema")
        schema = _json_schema(fmt)
    start, end = _window(body)
    return Ask(
        model=model,
        mode="general",
        video=video,
        images=images,
        prompt=prompt,
        schema=schema,
        temperature=_temperature(body),
        max_tokens=_max_tokens(body, "general", model=model),
        start_s=start,
        end_s=end,
        params=params,
    )


def _formats(
    body: Mapping[str, Any], mode: str, model: str
) -> tuple[dict[str, Any] | None, tuple[dict[str, Any], ...], str, dict[str, Any]]:
    """(JSON schema, segment definitions, time format, echo) of an async response format."""
    if not _present(body, "response_format"):
        if mode == "time_based_metadata":
            raise missing("response_format.segment_definitions")
        return None, (), "seconds", {}
    fmt = body["response_format"]
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind not in ("json_schema", "segment_definitions"):
        raise invalid("response_format.type", "must be json_schema or segment_definitions")
    assert isinstance(fmt, dict)
    if (kind == "segment_definitions") != (mode == "time_based_metadata"):
        raise invalid(
            "response_format.type",
            "analysis_mode time_based_metadata goes with segment_definitions, and general "
            "with json_schema",
        )
    time_format = fmt.get("segment_time_format") or "seconds"
    if time_format not in TIME_FORMATS:
        raise invalid("response_format.segment_time_format", f"must be one of {list(TIME_FORMATS)}")
    echo: dict[str, Any] = {"type": kind}
    if kind == "json_schema":
        schema = _json_schema(fmt)
        return schema, (), time_format, {**echo, "json_schema": schema}
    definitions = _definitions(fmt, model=model)
    echo["segment_definitions"] = list(definitions)
    if "segment_time_format" in fmt:
        echo["segment_time_format"] = time_format
    return None, definitions, time_format, echo


def _async_ask(body: Mapping[str, Any], *, model: str, video: MediaSource | None) -> Ask:
    mode = body.get("analysis_mode") or "general"
    if mode not in MODES:
        raise invalid("analysis_mode", f"must be one of {list(MODES)}, got {mode!r}")
    images = _images(body, model)
    if video is not None and images:
        raise invalid("image", "send a video or images, not both")
    if video is None and not images:
        raise missing("video")
    if mode == "time_based_metadata" and (_present(body, "prompt") or _present(body, "prompt_v2")):
        raise invalid("prompt", "time_based_metadata takes segment_definitions, not a prompt")
    prompt, prompt_echo = _prompt(body, required=mode == "general")
    if images and (prompt is None or _present(body, "prompt_v2")):
        raise invalid("prompt", "images need a plain prompt")
    if prompt is not None and not _present(body, "prompt_v2"):
        _check_placeholders(prompt, images)
    schema, definitions, time_format, fmt_echo = _formats(body, mode, model)
    start, end = _window(body)
    low, high = _segment_bounds(body, mode)
    ranged = any("time_ranges" in d for d in definitions)
    if ranged and (start is not None or end is not None or low is not None or high is not None):
        raise invalid(
            "response_format.segment_definitions.time_ranges",
            "time ranges exclude start_time, end_time and min/max_segment_duration",
        )
    max_tokens = _max_tokens(body, mode, model=model)
    if ranged and max_tokens == "unlimited":
        raise invalid("max_tokens", "'unlimited' cannot be used with time ranges")
    params: dict[str, Any] = {"analysis_mode": mode, **prompt_echo}
    if fmt_echo:
        params["response_format"] = fmt_echo
    temperature = _temperature(body)
    optional: dict[str, Any] = {
        "temperature": temperature,
        "max_tokens": max_tokens,
        "min_segment_duration": low,
        "max_segment_duration": high,
        "start_time": start,
        "end_time": end,
    }
    params |= {k: v for k, v in optional.items() if v is not None}
    return Ask(
        model=model,
        mode=mode,
        video=video,
        images=images,
        prompt=prompt,
        schema=schema,
        temperature=temperature,
        max_tokens=max_tokens,
        start_s=start,
        end_s=end,
        definitions=definitions,
        time_format=time_format,
        min_segment_s=low,
        max_segment_s=high,
        custom_id=_custom_id(body),
        params=params,
    )


def task_ask(body: Mapping[str, Any]) -> Ask:
    """Check a ``POST /analyze/tasks`` body (general or ``time_based_metadata`` mode).

    Raises:
        Invalid: (400) the first rule the body breaks, naming the field.
        Unprocessable: (422) a JSON schema with a keyword Pegasus does not support.

    Example:
        >>> ask = task_ask({"video": {"type": "asset_id", "asset_id": "a" * 24},
        ...     "analysis_mode": "time_based_metadata", "response_format": {
        ...     "type": "segment_definitions", "segment_definitions": [
        ...     {"id": "scene", "description": "each scene"}]}})
        >>> ask.mode, ask.token_limit, ask.params["response_format"]["type"]
        ('time_based_metadata', 32768, 'segment_definitions')
    """
    video = _video(body)
    model = _model(body, PEGASUS_MODELS)
    return _async_ask(body, model=model, video=video)


def batch_ask(
    item: Any, *, n: int, model: Any, mode: Any, defaults: Mapping[str, Any] | None
) -> Ask:
    """Check one item of ``POST /analyze/batches`` with the batch's defaults applied.

    Items take an asset only, and ``prompt`` is an object (``{"input_text", ...}``).

    Raises:
        Invalid: (400) naming ``requests[n]`` and the field.

    Example:
        >>> ask = batch_ask({"video": {"type": "asset_id", "asset_id": "a" * 24}}, n=0,
        ...     model="pegasus1.5", mode="general", defaults={"prompt": {"input_text": "Hi"}})
        >>> ask.prompt, ask.params["prompt_v2"]
        ('Hi', {'input_text': 'Hi'})
    """
    if not isinstance(item, dict):
        raise invalid(f"requests[{n}]", "must be an object")
    video = item.get("video")
    if not isinstance(video, dict) or video.get("type") != "asset_id" or not video.get("asset_id"):
        raise invalid(
            f"requests[{n}].video", "must be {'type': 'asset_id', 'asset_id': ...} in a batch"
        )
    merged: dict[str, Any] = {
        **(defaults or {}),
        **{k: v for k, v in item.items() if v is not None},
    }
    prompt = merged.pop("prompt", None)
    if prompt is not None:
        if not isinstance(prompt, dict):
            raise invalid(f"requests[{n}].prompt", "must be an object {'input_text': ...}")
        merged["prompt_v2"] = prompt
    merged.update(model_name=model, analysis_mode=mode)
    for key in ("image", "video_id"):
        merged.pop(key, None)
    try:
        checked_model = _model(merged, BATCH_MODELS)
        return _async_ask(
            merged,
            model=checked_model,
            video=AssetRef(str(video["asset_id"]), field=f"requests[{n}].video.asset_id"),
        )
    except Invalid as err:
        raise Invalid(
            f"requests[{n}].{err.field}", f"requests[{n}]: {err.message}", code=err.code
        ) from None


# --------------------------------------------------------------------------- the video


def window_of(ask: Ask, duration_s: float, *, sync: bool) -> tuple[float, float]:
    """The analysed window ``(start, end)`` of a video of ``duration_s`` seconds, checked.

    Raises:
        Invalid: ``video_duration_too_long`` for a video (or window) over the limits, or a
            window or time range outside the video.

    Example:
        >>> ask = sync_ask({"video": {"type": "url", "url": "file:///a.mp4"}, "prompt": "x",
        ...                 "start_time": 2, "end_time": 5})
        >>> window_of(ask, 10.0, sync=True)
        (2.0, 5.0)
        >>> window_of(ask, 4.0, sync=True)
        Traceback (most recent call last):
        ...
        tl_integrations.emulator._backend.errors.Invalid: end_time: must be at most the ...
    """
    start = ask.start_s or 0.0
    end = duration_s if ask.end_s is None else ask.end_s
    if duration_s < MIN_WINDOW_S:
        raise Invalid(
            "video",
            f"The video lasts {duration_s:.2f} s; analysis needs at least {MIN_WINDOW_S:g} s.",
            code="video_duration_too_short",
        )
    if end > duration_s + 1e-6:
        raise invalid("end_time", f"must be at most the video's duration ({duration_s:.3f} s)")
    if start >= end or end - start < MIN_WINDOW_S:
        raise invalid(
            "start_time", f"the window must last at least {MIN_WINDOW_S:g} s in the video"
        )
    windowed = ask.start_s is not None or ask.end_s is not None
    if sync:
        _too_long(duration_s, SYNC_MAX_VIDEO_S, "use POST /analyze/tasks for longer videos")
    else:
        limit = ASYNC_MAX_WINDOWED_VIDEO_S if windowed else ASYNC_MAX_VIDEO_S
        _too_long(duration_s, limit, "set start_time/end_time (a window of up to 2 h)")
        _too_long(end - start, ASYNC_MAX_WINDOW_S, "analyse a window of up to 2 h")
    for definition in ask.definitions:
        for span in definition.get("time_ranges") or []:
            if span["end_time"] > duration_s + 1e-6:
                raise invalid(
                    "response_format.segment_definitions.time_ranges",
                    f"{definition['id']}: a time range ends after the video ({duration_s:.3f} s)",
                )
    return start, min(end, duration_s)


def _too_long(seconds: float, limit: float, advice: str) -> None:
    if seconds > limit + 1e-6:
        raise Invalid(
            "video",
            f"The video (or window) lasts {seconds:.1f} s; the limit here is {limit:g} s: "
            f"{advice}.",
            code="video_duration_too_long",
        )
