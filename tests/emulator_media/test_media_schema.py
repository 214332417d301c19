"""fill_schema returns values valid for their JSON schema (checked by a small validator)."""

from __future__ import annotations

import json
import operator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tl_integrations.emulator._media import MediaInfo, Utterance
from tl_integrations.emulator._semantics import chapters, fill_schema

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _info() -> MediaInfo:
    colours = np.array([[0.86, 0.16, 0.16]] * 4 + [[0.16, 0.27, 0.86]] * 4, np.float32)
    lines = (Utterance(0.5, 3.0, "A red kite flies."), Utterance(4.5, 7.5, "The sea is calm."))
    return MediaInfo("demo.mp4", 1000, 8.0, 24.0, 640, 360, True, lines, colours, 1.0)


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def errors(value: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "$") -> list[str]:
    """The subset of JSON Schema validation fill_schema promises to satisfy."""
    schema = _resolve(schema, root)
    found: list[str] = []
    if "anyOf" in schema and not any(not errors(value, s, root) for s in schema["anyOf"]):
        found.append(f"{at}: matches no anyOf branch")
    for part in schema.get("allOf", []):
        found += errors(value, part, root, at)
    if "const" in schema and value != schema["const"]:
        found.append(f"{at}: != const")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{at}: {value!r} not in enum")
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_type_ok(value, k) for k in kinds):
            return [*found, f"{at}: {value!r} is not {kinds}"]
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                found.append(f"{at}: missing {key}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += errors(value[key], sub, root, f"{at}.{key}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 1e9):
            found.append(f"{at}: {len(value)} items")
        if schema.get("uniqueItems") and len({json.dumps(v) for v in value}) < len(value):
            found.append(f"{at}: items are not unique")
        for i, item in enumerate(value):
            found += errors(item, schema.get("items", {}), root, f"{at}[{i}]")
    lengths = (schema.get("minLength", 0), schema.get("maxLength", 1e9))
    if isinstance(value, str) and not lengths[0] <= len(value) <= lengths[1]:
        found.append(f"{at}: length {len(value)}")
    if _type_ok(value, "number"):
        found += _number_errors(value, schema, at)
    return found


def _number_errors(value: float, schema: dict[str, Any], at: str) -> list[str]:
    checks = [
        ("minimum", operator.ge),
        ("maximum", operator.le),
        ("exclusiveMinimum", operator.gt),
        ("exclusiveMaximum", operator.lt),
    ]
    return [
        f"{at}: {value} breaks {k}" for k, ok in checks if k in schema and not ok(value, schema[k])
    ]


def assert_valid(schema: dict[str, Any], prompt: str | None = None) -> Any:
    value = fill_schema(schema, _info(), prompt=prompt)
    json.dumps(value)  # plain JSON, no numpy scalars
    problems = errors(value, schema, schema)
    assert not problems, (problems, value)
    return value


CHAPTERS = {
    "type": "object",
    "required": ["chapters"],
    "properties": {
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["start", "end", "title", "summary"],
                "properties": {
                    "start": {"type": "number"},
                    "end": {"type": "number"},
                    "title": {"type": "string"},
                    "summary": {"type": "string"},
                },
            },
        }
    },
}


def test_chapters_schema_gets_one_item_per_chapter() -> None:
    value = assert_valid(CHAPTERS)
    expected = chapters(_info())
    assert [(c["start"], c["end"]) for c in value["chapters"]] == [(0.0, 4.0), (4.0, 8.0)]
    assert [c["title"] for c in value["chapters"]] == [c["title"] for c in expected]
    assert value["chapters"][1]["summary"] == expected[1]["summary"]


def test_top_level_array_of_segments_with_other_names() -> None:
    schema = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "startTime": {"type": "integer"},
                "end_sec": {"type": "number"},
                "chapter_number": {"type": "integer", "minimum": 0},
                "name": {"type": "string", "maxLength": 12},
                "description": {"type": "string"},
                "timestamp": {"type": "string"},
            },
        },
    }
    value = assert_valid(schema)
    assert value[1]["startTime"] == 4
    assert value[1]["end_sec"] == 8.0
    assert value[1]["chapter_number"] == 1
    assert value[1]["name"] == "Blue scene: "
    assert value[1]["timestamp"] == "00:00:04"
    assert "The sea is calm" in value[1]["description"]


def test_pydantic_style_schema_with_defs_and_optionals() -> None:
    schema = {
        "$defs": {
            "Mood": {"enum": ["calm", "busy", "sad"], "type": "string"},
            "Scene": {
                "type": "object",
                "properties": {
                    "mood": {"$ref": "#/$defs/Mood"},
                    "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                },
                "required": ["mood"],
            },
        },
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "hashtags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "scenes": {"type": "array", "items": {"$ref": "#/$defs/Scene"}},
            "has_speech": {"type": "boolean"},
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "confidence": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "kind": {"const": "video"},
            "extra": {"type": ["null", "string"]},
        },
        "required": ["title", "hashtags", "scenes"],
    }
    value = assert_valid(schema, prompt="Is the sea calm?")
    assert value["title"] == "A red kite flies"
    assert value["hashtags"][0].startswith("#")
    assert value["scenes"][1]["mood"] == "calm"
    assert value["has_speech"] is True
    assert value["rating"] == 1


def test_array_bounds_and_string_lengths() -> None:
    schema = {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 7, "maxItems": 9},
            "one": {"type": "array", "items": {"type": "object"}, "maxItems": 1},
            "code": {"type": "string", "minLength": 300},
            "short": {"type": "string", "maxLength": 3},
            "nums": {"type": "array", "items": {"type": "number"}, "minItems": 3},
        },
    }
    value = assert_valid(schema)
    assert len(value["tags"]) == 7
    assert value["one"] == [{}]
    assert len(value["nums"]) == 3


def test_required_unique_formats_and_colours() -> None:
    schema = {
        "type": "object",
        "required": ["undeclared", "words"],
        "properties": {
            "words": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 6,
                "uniqueItems": True,
            },
            "when": {"type": "string", "format": "date-time"},
            "link": {"type": "string", "format": "uri"},
            "scenes": {"type": "array", "items": {"properties": {"main_color": {}}}},
        },
    }
    value = assert_valid(schema)
    assert isinstance(value["undeclared"], str)
    assert value["when"] == "1970-01-01T00:00:00Z"
    assert value["link"].startswith("https://")
    assert [s["main_color"] for s in value["scenes"]] == ["red", "blue"]


def test_openai_style_wrapper_and_answer_field() -> None:
    wrapped = {"name": "x", "schema": {"type": "object", "properties": {"answer": {}}}}
    value = fill_schema(wrapped, _info(), prompt="Where is the kite?")
    assert isinstance(value, dict)
    assert "A red kite flies." in value["answer"]


def test_recursive_schema_terminates() -> None:
    schema = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                },
            }
        },
        "$ref": "#/$defs/Node",
    }
    assert_valid(schema)


def test_deterministic() -> None:
    assert fill_schema(CHAPTERS, _info(), prompt="x") == fill_schema(CHAPTERS, _info(), prompt="x")


_NAMES = st.sampled_from(
    ["start", "end", "title", "summary", "tags", "n", "x", "is_ok", "chapterNumber", "time"]
)


def _schemas() -> st.SearchStrategy[dict[str, Any]]:
    scalar = st.one_of(
        st.builds(
            lambda lo, hi: {"type": "number", "minimum": lo, "maximum": lo + hi},
            st.integers(-50, 50),
            st.integers(0, 20),
        ),
        st.builds(lambda lo: {"type": "integer", "exclusiveMinimum": lo}, st.integers(-9, 99)),
        st.builds(lambda n: {"type": "string", "maxLength": n}, st.integers(0, 40)),
        st.builds(lambda n: {"type": "string", "minLength": n}, st.integers(0, 400)),
        st.just({"type": "boolean"}),
        st.just({"type": "null"}),
        st.just({"type": ["string", "null"]}),
        st.lists(st.sampled_from(["a", "b", 1, None]), min_size=1, unique=True).map(
            lambda e: {"enum": e}
        ),
    )
    return st.recursive(
        scalar,
        lambda inner: st.one_of(
            st.builds(
                lambda items, lo, extra: {
                    "type": "array",
                    "items": items,
                    "minItems": lo,
                    "maxItems": lo + extra,
                },
                inner,
                st.integers(0, 4),
                st.integers(0, 3),
            ),
            st.dictionaries(_NAMES, inner, max_size=4).map(
                lambda p: {"type": "object", "properties": p, "required": sorted(p)}
            ),
            st.lists(inner, min_size=1, max_size=3).map(lambda a: {"anyOf": a}),
        ),
        max_leaves=12,
    )


@settings(max_examples=150, deadline=None)
@given(schema=_schemas(), prompt=st.one_of(st.none(), st.text(max_size=20)))
def test_any_generated_schema_is_satisfied(schema: dict[str, Any], prompt: str | None) -> None:
    assert_valid(schema, prompt)


@pytest.mark.parametrize("kind", ["string", "number", "integer", "boolean", "null", "object"])
def test_top_level_scalars(kind: str) -> None:
    assert_valid({"type": kind})
