"""How the framework adapters get a client: injected, or built from a key and a base URL.

The sync client is made once and closed when its owner is garbage collected (no leaked
sockets). An ``httpx.AsyncClient`` belongs to the event loop it first ran on, so unless one
is injected, every async call opens and closes its own: the adapter then works from any loop
(notebooks, ``asyncio.run`` per test...).

Example:
    >>> holder = ClientHolder(api_key="k", base_url="http://127.0.0.1:8765/v1.3")
    >>> holder.sync().base_url
    'http://127.0.0.1:8765/v1.3'
    >>> holder.close()
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import AsyncIterator

from pydantic import SecretStr

from ..client import AsyncTwelveLabs, TwelveLabs

__all__ = ["ClientHolder"]


class ClientHolder:
    """Hands out clients for an adapter object (see the module docstring).

    Args:
        api_key / base_url: used to build clients that were not injected.
        client / async_client: injected clients, used as they are and never closed here.

    Example:
        >>> holder = ClientHolder(api_key="k")
        >>> holder.sync() is holder.sync()
        True
        >>> holder.close()
    """

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None = None,
        client: TwelveLabs | None = None,
        async_client: AsyncTwelveLabs | None = None,
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._client = client
        self._async_client = async_client
        self._own: TwelveLabs | None = None

    @classmethod
    def for_adapter(
        cls,
        api_key: SecretStr | None,
        *,
        base_url: str | None,
        client: TwelveLabs | None,
        async_client: AsyncTwelveLabs | None,
    ) -> ClientHolder:
        """The holder of a framework adapter whose key is a pydantic ``SecretStr``.

        Example:
            >>> ClientHolder.for_adapter(SecretStr("k"), base_url=None, client=None,
            ...                          async_client=None).sync().base_url
            'https://api.twelvelabs.io/v1.3'
        """
        key = None if api_key is None else api_key.get_secret_value()
        return cls(api_key=key, base_url=base_url, client=client, async_client=async_client)

    def sync(self) -> TwelveLabs:
        """The sync client (the injected one, or one built on first use).

        Example:
            >>> ClientHolder(api_key="k").sync().base_url
            'https://api.twelvelabs.io/v1.3'
        """
        if self._client is not None:
            return self._client
        if self._own is None:
            own = TwelveLabs(api_key=self._api_key, base_url=self._base_url)
            weakref.finalize(self, own.close)
            self._own = own
        return self._own

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncTwelveLabs]:
        """An async client for one call: the injected one, or a fresh one closed after.

        A fresh client is the injected sync client's twin when there is one, else it is built
        from the key and base URL.

        Example:
            >>> async with holder.session() as client:  # doctest: +SKIP
            ...     vector = await client.embed.text("hi", model_name="marengo3.0")
        """
        if self._async_client is not None:
            yield self._async_client
            return
        # With only a sync client injected, its twin carries the same key, server and policies.
        fresh = (
            self._client.twin()
            if self._client is not None
            else AsyncTwelveLabs(api_key=self._api_key, base_url=self._base_url)
        )
        async with fresh as client:
            yield client

    def close(self) -> None:
        """Close the sync client built here (never an injected one).

        Example:
            >>> ClientHolder(api_key="k").close()
        """
        if self._own is not None:
            self._own.close()
            self._own = None
