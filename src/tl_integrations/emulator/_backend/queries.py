"""What list endpoints ask for: paging, sorting, and filters on numbers, times and metadata.

The HTTP layer parses query strings into these values; the services apply them to records.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import invalid

__all__ = ["Page", "PageRequest", "Range", "Sort", "TimeRange", "metadata_matches", "paginate"]

T = TypeVar("T")
_EPSILON = 1e-6


@dataclass(frozen=True)
class PageRequest:
    """One page of a list: ``page`` counts from 1.

    Example:
        >>> PageRequest(page=2, limit=5).offset
        5
    """

    page: int = 1
    limit: int = 10

    @property
    def offset(self) -> int:
        """How many items come before this page."""
        return (self.page - 1) * self.limit


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of items with the counts a ``page_info`` reports.

    Example:
        >>> paginate([1, 2, 3], PageRequest(page=2, limit=2)).total_pages
        2
    """

    items: list[T]
    page: int
    limit: int
    total: int

    @property
    def total_pages(self) -> int:
        """At least 1, also for an empty list."""
        return max(1, math.ceil(self.total / self.limit))


def paginate(items: Sequence[T], request: PageRequest) -> Page[T]:
    """One page of ``items``; a page past the end is empty (the SDK pagers stop there).

    Example:
        >>> paginate([1, 2, 3], PageRequest(page=2, limit=2)).items
        [3]
        >>> paginate([1, 2, 3], PageRequest(page=5, limit=2)).items
        []
    """
    chunk = list(items[request.offset : request.offset + request.limit])
    return Page(chunk, request.page, request.limit, len(items))


@dataclass(frozen=True)
class Sort:
    """``sort_by`` and its direction (newest first by default).

    Example:
        >>> Sort(by="created_at", descending=False).apply([3, 1, 2], {"created_at": int})
        [1, 2, 3]
    """

    by: str = "created_at"
    descending: bool = True

    def apply(self, items: list[T], keys: Mapping[str, Callable[[T], Any]]) -> list[T]:
        """Sort ``items`` (given oldest first) by the key named ``by``; equal keys keep the
        order of creation, reversed when descending, so "newest first" holds also for
        records made in the same instant.

        Raises:
            Invalid: When ``by`` is not one of ``keys``.

        Example:
            >>> Sort().apply(["a", "b", "c"], {"created_at": lambda _: 0})
            ['c', 'b', 'a']
        """
        if self.by not in keys:
            raise invalid("sort_by", f"must be one of {sorted(keys)}, got {self.by!r}")
        key = keys[self.by]
        ranked = sorted(enumerate(items), key=lambda pair: (key(pair[1]), pair[0]))
        ordered = [item for _, item in ranked]
        return ordered[::-1] if self.descending else ordered


@dataclass(frozen=True)
class Range:
    """A numeric filter: ``name=v`` (exact), ``name[gte]=a``, ``name[lte]=b``.

    Example:
        >>> Range(gte=10, lte=20).matches(12.0), Range(eq=11).matches(12.0)
        (True, False)
        >>> Range().matches(None)
        True
    """

    eq: float | None = None
    gte: float | None = None
    lte: float | None = None

    @property
    def active(self) -> bool:
        """Whether any bound is set."""
        return self.eq is not None or self.gte is not None or self.lte is not None

    def matches(self, value: float | None) -> bool:
        """Whether ``value`` passes every bound (a missing value passes only no bound)."""
        if not self.active:
            return True
        if value is None:
            return False
        return not (
            (self.eq is not None and abs(value - self.eq) > _EPSILON)
            or (self.gte is not None and value < self.gte)
            or (self.lte is not None and value > self.lte)
        )


@dataclass(frozen=True)
class TimeRange:
    """``created_at``/``updated_at`` filters: ``on`` keeps items from that time to the end of
    its day; ``gte``/``lte`` bounds are inclusive (seconds since the epoch).

    Example:
        >>> TimeRange(on=60.0).matches(120.0), TimeRange(lte=60.0).matches(120.0)
        (True, False)
    """

    on: float | None = None
    gte: float | None = None
    lte: float | None = None

    @property
    def active(self) -> bool:
        """Whether any bound is set.

        Example:
            >>> TimeRange().active, TimeRange(gte=1.0).active
            (False, True)
        """
        return self.on is not None or self.gte is not None or self.lte is not None

    def matches(self, value: float) -> bool:
        """Whether ``value`` passes every bound."""
        if self.on is not None and not self.on <= value < self.on - self.on % 86400 + 86400:
            return False
        if self.gte is not None and value < self.gte:
            return False
        return not (self.lte is not None and value > self.lte)


def _truthy(raw: str) -> bool:
    return raw.strip().lower() in ("true", "1", "yes", "on")


def metadata_matches(metadata: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    """User-metadata filters from query strings: ``"true"`` matches True, ``"5"`` matches 5,
    a list matches when it holds the value.

    Example:
        >>> metadata_matches({"cat": "news", "n": 5, "ok": True}, {"n": "5", "ok": "true"})
        True
        >>> metadata_matches({"tags": ["a", "b"]}, {"tags": "c"})
        False
    """
    for key, raw in wanted.items():
        if key not in metadata:
            return False
        value = metadata[key]
        if isinstance(value, bool):
            if _truthy(raw) != value or raw.lower() not in ("true", "false", "1", "0"):
                return False
        elif isinstance(value, (int, float)):
            try:
                if float(raw) != float(value):
                    return False
            except ValueError:
                return False
        elif isinstance(value, list):
            if raw not in [str(v) for v in value]:
                return False
        elif str(value) != raw:
            return False
    return True
