"""Client lifetimes for the adapters: use the caller's client, or own one for a single run.

A client made here lives for one run and is closed after it, so no connection pool is left
behind and an async client is always used in the event loop that made it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from ..client import AsyncTwelveLabs, TwelveLabs

__all__ = ["async_client_for", "client_for"]


@contextmanager
def client_for(
    client: TwelveLabs | None, *, api_key: str | None, base_url: str | None
) -> Iterator[TwelveLabs]:
    """The caller's client (left open), or a new one closed on exit.

    Example:
        >>> with client_for(None, api_key="tlk_x", base_url=None) as c:
        ...     c.base_url
        'https://api.twelvelabs.io/v1.3'
    """
    if client is not None:
        yield client
        return
    with TwelveLabs(api_key=api_key, base_url=base_url) as owned:
        yield owned


@asynccontextmanager
async def async_client_for(
    client: AsyncTwelveLabs | None,
    *,
    api_key: str | None,
    base_url: str | None,
    sync_client: TwelveLabs | None = None,
) -> AsyncIterator[AsyncTwelveLabs]:
    """The caller's async client (left open), or a new one closed on exit.

    When the caller gave only a sync client (and no key or base URL of its own), the new
    client is that client's twin: same key, server, timeout and policies.

    Example:
        >>> import asyncio
        >>> async def main() -> str:
        ...     async with async_client_for(None, api_key="tlk_x", base_url=None) as c:
        ...         return c.base_url
        >>> asyncio.run(main())
        'https://api.twelvelabs.io/v1.3'
    """
    if client is not None:
        yield client
        return
    owned = (
        sync_client.twin()
        if sync_client is not None and api_key is None and base_url is None
        else AsyncTwelveLabs(api_key=api_key, base_url=base_url)
    )
    async with owned:
        yield owned
