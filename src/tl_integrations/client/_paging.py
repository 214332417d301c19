"""Walking page-numbered lists: follow ``page_info.total_page`` and stop on an empty page.

The official SDK ignores ``total_page`` and asks for one page past the end; here the walk
stops at ``total_page`` when it is given, and also on an empty ``data`` list (for servers
that omit it), so no request is wasted; a server that ignores ``page`` and sends the same
page again is caught, so no loop is endless.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import TYPE_CHECKING, Any

from .._http import response_json
from ..models import MalformedResponseError, parse_page
from ._calls import Call

if TYPE_CHECKING:
    from ._async import AsyncTwelveLabs
    from ._sync import TwelveLabs

__all__ = ["aiter_items", "check_new_page", "iter_items", "more_pages"]


def more_pages(items: list[Any], page: int, total_page: int | None) -> bool:
    """Whether to ask for page ``page + 1``.

    Example:
        >>> more_pages([1], 2, 2), more_pages([1], 1, None), more_pages([], 1, 5)
        (False, True, False)
    """
    if not items:
        return False
    return total_page is None or page < total_page


def check_new_page(items: list[Any], previous: list[Any] | None, page: int, what: str) -> None:
    """A page equal to the one before means the server ignores ``page``: the walk would
    never end, so it stops with MalformedResponseError.

    Example:
        >>> check_new_page([{"_id": "a"}], [{"_id": "b"}], 2, "task list")
        >>> check_new_page([{"_id": "a"}], [{"_id": "a"}], 2, "task list")
        Traceback (most recent call last):
        ...
        tl_integrations.errors.MalformedResponseError: task list: page 2 repeats page 1 ...
    """
    if previous is not None and len(items) == len(previous) and items == previous:
        raise MalformedResponseError(
            f"{what}: page {page} repeats page {page - 1} (the server seems to ignore the "
            "page parameter); stopping instead of asking forever"
        )


def iter_items(client: TwelveLabs, call: Call, what: str) -> Iterator[Any]:
    """Yield the raw items of every page, fetching each page only when it is reached."""
    page, previous = 1, None
    while True:
        response = client._request(**call.page(page).kwargs())
        items, total_page = parse_page(response_json(response), what)
        check_new_page(items, previous, page, what)
        yield from items
        if not more_pages(items, page, total_page):
            return
        page, previous = page + 1, items


async def aiter_items(client: AsyncTwelveLabs, call: Call, what: str) -> AsyncGenerator[Any, None]:
    """The async twin of :func:`iter_items`."""
    page, previous = 1, None
    while True:
        response = await client._request(**call.page(page).kwargs())
        items, total_page = parse_page(response_json(response), what)
        check_new_page(items, previous, page, what)
        for item in items:
            yield item
        if not more_pages(items, page, total_page):
            return
        page, previous = page + 1, items
