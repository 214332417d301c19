"""User metadata: which values are allowed, and how updates merge into what is stored.

Values are strings, numbers, booleans or lists of strings. Creating drops nothing (videos,
tasks) or the empty values ``""``, ``[]`` and ``null`` (assets, indexed assets, upload
sessions); ``merge`` sets keys and deletes those set to ``null``; ``replace`` keeps only the
keys it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import Invalid

__all__ = ["allowed", "checked", "merge", "replace", "without_empty"]

_SCALARS = (str, int, float, bool)


def allowed(value: Any) -> bool:
    """Whether ``value`` may be a metadata value: a string, number, boolean or list of
    strings.

    Example:
        >>> allowed(3), allowed(["a", "b"]), allowed({"nested": 1})
        (True, True, False)
    """
    return isinstance(value, _SCALARS) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    )


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def checked(data: Any, *, field: str = "user_metadata") -> dict[str, Any]:
    """A metadata object from a JSON body, every value checked (``None`` allowed).

    Raises:
        Invalid: When ``data`` is not an object or a value is not allowed.

    Example:
        >>> checked({"a": 1, "b": None})
        {'a': 1, 'b': None}
    """
    if not isinstance(data, dict):
        raise Invalid(field, f"{field} must be an object.")
    for key, value in data.items():
        if value is not None and not allowed(value):
            raise Invalid(f"{field}.{key}", f"{field}.{key}: unsupported value {value!r}.")
    return dict(data)


def without_empty(data: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the keys whose value is ``""``, ``[]`` or ``null``.

    Example:
        >>> without_empty({"a": "", "b": [], "c": None, "d": 0})
        {'d': 0}
    """
    return {k: v for k, v in data.items() if not _is_empty(v)}


def merge(stored: dict[str, Any], update: Mapping[str, Any], *, ignore_empty: bool = False) -> None:
    """Merge ``update`` into ``stored`` in place: ``null`` deletes a key, other values set it;
    with ``ignore_empty``, ``""`` and ``[]`` leave the key as it was.

    Example:
        >>> meta = {"a": 1, "b": 2}; merge(meta, {"a": None, "c": "x", "b": ""}, ignore_empty=True)
        >>> meta
        {'b': 2, 'c': 'x'}
    """
    for key, value in update.items():
        if value is None:
            stored.pop(key, None)
        elif not (ignore_empty and _is_empty(value)):
            stored[key] = value


def replace(stored: dict[str, Any], update: Mapping[str, Any]) -> None:
    """Replace ``stored`` in place by ``update`` minus its empty values (``{}`` clears it).

    Example:
        >>> meta = {"a": 1}; replace(meta, {"b": 2, "c": ""}); meta
        {'b': 2}
    """
    stored.clear()
    stored.update(without_empty(update))
