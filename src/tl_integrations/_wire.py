"""Reading wire JSON defensively: wrong shapes raise MalformedResponseError, never KeyError.

Every model parser uses these, so a hostile or broken body surfaces as a typed error.

Example:
    >>> opt_str({"status": "ready"}, "status", "task")
    'ready'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from ._errors import MalformedResponseError

__all__ = [
    "MalformedResponseError",
    "as_object",
    "field_spec",
    "opt_float",
    "opt_int",
    "opt_list",
    "opt_obj",
    "opt_str",
    "parse_page",
    "read_fields",
    "req_str",
]


def as_object(value: Any, what: str) -> dict[str, Any]:
    """Return ``value`` when it is a JSON object, else raise MalformedResponseError."""
    if not isinstance(value, dict):
        raise MalformedResponseError(
            f"{what}: expected a JSON object, got {type(value).__name__}", body=value
        )
    return value


def opt_str(data: Mapping[str, Any], key: str, what: str) -> str | None:
    """``data[key]`` as a string (numbers are converted), or None when absent."""
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise MalformedResponseError(f"{what}: {key!r} should be a string, got {value!r}", body=data)


def req_str(data: Mapping[str, Any], key: str, what: str) -> str:
    """``data[key]`` as a non-empty string; raise MalformedResponseError when missing."""
    value = opt_str(data, key, what)
    if not value:
        raise MalformedResponseError(f"{what}: missing {key!r}", body=data)
    return value


def opt_float(
    data: Mapping[str, Any], key: str, what: str, *, non_negative: bool = False
) -> float | None:
    """``data[key]`` as a finite float (numeric strings accepted), or None when absent.

    NaN and infinities (``"nan"``, ``"1e999"``) are refused: no duration, size or score can
    be one, and letting them through would break whatever computes with them next. With
    ``non_negative`` a negative value (a time, a duration, a rank) is refused too.

    Example:
        >>> opt_float({"duration": "12.5"}, "duration", "video")
        12.5
        >>> opt_float({"duration": "nan"}, "duration", "video")
        Traceback (most recent call last):
        ...
        tl_integrations.MalformedResponseError: video: 'duration' should be a finite ...
        >>> opt_float({"start": -3}, "start", "clip", non_negative=True)
        Traceback (most recent call last):
        ...
        tl_integrations.MalformedResponseError: clip: 'start' should be >= 0, got -3
    """
    value = data.get(key)
    if value is None:
        return None
    number: float | None = None
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            number = float(value)
        except (ValueError, OverflowError):
            number = None
    if number is None or not math.isfinite(number):
        raise MalformedResponseError(
            f"{what}: {key!r} should be a finite number, got {value!r:.80}", body=data
        )
    if non_negative and number < 0:
        raise MalformedResponseError(f"{what}: {key!r} should be >= 0, got {value!r}", body=data)
    return number


def opt_int(
    data: Mapping[str, Any], key: str, what: str, *, non_negative: bool = False
) -> int | None:
    """``data[key]`` as an int (floats truncated), or None when absent."""
    number = opt_float(data, key, what, non_negative=non_negative)
    return None if number is None else int(number)


def opt_obj(data: Mapping[str, Any], key: str, what: str) -> dict[str, Any] | None:
    """``data[key]`` as a JSON object, or None when absent."""
    value = data.get(key)
    return None if value is None else as_object(value, f"{what}.{key}")


def opt_list(data: Mapping[str, Any], key: str, what: str) -> list[Any] | None:
    """``data[key]`` as a list, or None when absent."""
    value = data.get(key)
    if value is None or isinstance(value, list):
        return value
    raise MalformedResponseError(f"{what}: {key!r} should be a list, got {value!r}", body=data)


def parse_page(body: Any, what: str) -> tuple[list[Any], int | None]:
    """Split a page-numbered list response into its items and ``page_info.total_page``.

    Example:
        >>> parse_page({"data": [1, 2], "page_info": {"page": 1, "total_page": 3}}, "tasks")
        ([1, 2], 3)
    """
    obj = as_object(body, what)
    items = opt_list(obj, "data", what) or []
    info = opt_obj(obj, "page_info", what) or {}
    return items, opt_int(info, "total_page", f"{what}.page_info")


FieldKind = Literal["id", "str", "obj", "list", "float", "float+", "int", "int+"]
"""How :func:`read_fields` reads one field: ``id`` as :func:`req_str`, ``str``, ``obj`` and
``list`` as their ``opt_`` readers, numbers as :func:`opt_float` / :func:`opt_int`, ``+``
meaning ``non_negative``."""

FieldSpec = tuple[tuple[str, str, FieldKind], ...]
"""What :func:`read_fields` reads: ``(attribute, key, kind)`` per field."""


def field_spec(**fields: FieldKind | tuple[str, FieldKind]) -> FieldSpec:
    """A :func:`read_fields` table, written ``attribute=kind``, or ``attribute=(key, kind)``
    where the JSON key is another name.

    Example:
        >>> field_spec(id=("_id", "id"), duration="float+")
        (('id', '_id', 'id'), ('duration', 'duration', 'float+'))
    """
    return tuple(
        (name, *how) if isinstance(how, tuple) else (name, name, how)
        for name, how in fields.items()
    )


_EXACT = float(2**53)  # integers up to here convert to float and back unchanged


def read_fields(data: Any, what: str, spec: FieldSpec) -> dict[str, Any]:
    """Read the fields ``spec`` names from a JSON object in one pass: ``{attribute: value}``.

    Each ``(attribute, key, kind)`` is read exactly as its single-field reader would (the
    same values, the same errors): a value already of the right type is taken as it is, and
    anything else goes through that reader, which converts it or raises. Models read their
    fields this way because a model of ten fields then costs one call, not ten; one
    ``tasks.retrieve`` is mostly this.

    Raises:
        MalformedResponseError: ``data`` is not an object, or a field has the wrong shape.

    Example:
        >>> spec = (("id", "_id", "id"), ("seconds", "duration", "float+"), ("n", "n", "int"))
        >>> read_fields({"_id": "v1", "duration": "2.5"}, "video", spec)
        {'id': 'v1', 'seconds': 2.5, 'n': None}
    """
    obj = as_object(data, what) if type(data) is not dict else data
    out: dict[str, Any] = {}
    for attribute, key, kind in spec:
        value = obj.get(key)
        shape = type(value)
        if kind == "id":
            if shape is not str or not value:
                value = req_str(obj, key, what)
        elif value is None:
            pass
        elif kind == "str":
            if shape is not str:
                value = opt_str(obj, key, what)
        elif kind == "obj":
            if shape is not dict:
                value = opt_obj(obj, key, what)
        elif kind == "list":
            if shape is not list:
                value = opt_list(obj, key, what)
        elif (
            (shape is float and math.isfinite(value))
            or (shape is int and -_EXACT <= value <= _EXACT)
        ) and (value >= 0 or not kind.endswith("+")):
            value = float(value) if kind[0] == "f" else int(value)
        else:
            reader = opt_float if kind[0] == "f" else opt_int
            value = reader(obj, key, what, non_negative=kind.endswith("+"))
        out[attribute] = value
    return out
