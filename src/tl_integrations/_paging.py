"""Walking page-numbered lists, as flows: follow ``total_page``, stop on an empty page.

The official SDK ignores ``page_info.total_page`` and asks for one page past the end; here
the walk stops at ``total_page`` when it is given, and also on an empty ``data`` list (for
servers that omit it), so no request is wasted; a server that ignores ``page`` and sends the
same page again is caught, so no walk is endless.

Example:
    >>> more_pages([1], 2, 2), more_pages([1], 1, None), more_pages([], 1, 5)
    (False, True, False)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ._errors import MalformedResponseError
from ._flows import Context, Emit, Flow, emitted
from ._transport import Request, send_json
from ._wire import parse_page

__all__ = ["check_new_page", "collect", "more_pages", "pages"]

T = TypeVar("T")

PAGE_LIMIT_MAX = 50
"""The largest ``page_limit`` of every page-numbered list endpoint."""


def more_pages(items: list[Any], page: int, total_page: int | None) -> bool:
    """Whether to ask for page ``page + 1``.

    Example:
        >>> more_pages([1], 1, 3)
        True
    """
    if not items:
        return False
    return total_page is None or page < total_page


def check_new_page(items: list[Any], previous: list[Any] | None, page: int, what: str) -> None:
    """A page equal to the one before means the server ignores ``page``: stop the walk.

    Example:
        >>> check_new_page([{"_id": "a"}], [{"_id": "a"}], 2, "task list")
        Traceback (most recent call last):
        ...
        tl_integrations.MalformedResponseError: task list: page 2 repeats page 1 ...
    """
    if previous is not None and len(items) == len(previous) and items == previous:
        raise MalformedResponseError(
            f"{what}: page {page} repeats page {page - 1} (the server seems to ignore the "
            "page parameter); stopping instead of asking forever"
        )


def pages(
    request: Request,
    ctx: Context,
    what: str,
    parse: Callable[[Any], T],
    *,
    max_pages: int | None = None,
) -> Flow[None]:
    """Emit every item of every page (parsed), fetching a page only when it is reached.

    Args:
        request: the list request (its ``page`` parameter is set here).
        ctx: the client's settings.
        what: names the list in errors (``"task list"``).
        parse: turns one raw item into what is emitted.
        max_pages: stop after this many pages (None: all).
    """
    page, previous = 1, None
    while True:
        body = yield from send_json(request.page(page), ctx)
        items, total_page = parse_page(body, what)
        check_new_page(items, previous, page, what)
        for item in items:
            yield Emit(parse(item))
        if not more_pages(items, page, total_page) or page == max_pages:
            return
        page, previous = page + 1, items


def collect(
    request: Request,
    ctx: Context,
    what: str,
    parse: Callable[[Any], T],
    *,
    max_pages: int | None = None,
) -> Flow[list[T]]:
    """Every item of every page (up to ``max_pages``), as a list."""
    items, _ = yield from emitted(pages(request, ctx, what, parse, max_pages=max_pages))
    return items
