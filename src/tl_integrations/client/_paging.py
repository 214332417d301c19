"""Walking page-numbered lists: follow ``page_info.total_page`` and stop on an empty page.

The official SDK ignores ``total_page`` and asks for one page past the end; here the walk
stops at ``total_page`` when it is given, and also on an empty ``data`` list (for servers
that omit it), so no request is wasted and no loop is endless.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import TYPE_CHECKING, Any

from .._http import response_json
from ..models import parse_page
from ._calls import Call

if TYPE_CHECKING:
    from ._async import AsyncTwelveLabs
    from ._sync import TwelveLabs

__all__ = ["aiter_items", "iter_items", "more_pages"]


def more_pages(items: list[Any], page: int, total_page: int | None) -> bool:
    """Whether to ask for page ``page + 1``.

    Example:
        >>> more_pages([1], 2, 2), more_pages([1], 1, None), more_pages([], 1, 5)
        (False, True, False)
    """
    if not items:
        return False
    return total_page is None or page < total_page


def iter_items(client: TwelveLabs, call: Call, what: str) -> Iterator[Any]:
    """Yield the raw items of every page, fetching each page only when it is reached."""
    page = 1
    while True:
        response = client._request(**call.page(page).kwargs())
        items, total_page = parse_page(response_json(response), what)
        yield from items
        if not more_pages(items, page, total_page):
            return
        page += 1


async def aiter_items(client: AsyncTwelveLabs, call: Call, what: str) -> AsyncGenerator[Any, None]:
    """The async twin of :func:`iter_items`."""
    page = 1
    while True:
        response = await client._request(**call.page(page).kwargs())
        items, total_page = parse_page(response_json(response), what)
        for item in items:
            yield item
        if not more_pages(items, page, total_page):
            return
        page += 1
