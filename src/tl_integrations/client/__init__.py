"""The TwelveLabs clients: :class:`TwelveLabs` (sync) and :class:`AsyncTwelveLabs` (asyncio).

Example:
    >>> from tl_integrations.client import TwelveLabs
    >>> client = TwelveLabs(api_key="tlk_example")
    >>> client
    TwelveLabs(base_url='https://api.twelvelabs.io/v1.3')
    >>> client.close()
"""

from __future__ import annotations

from ._async import AsyncTwelveLabs
from ._base import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_MODELS, DEFAULT_TIMEOUT_S
from ._sync import TwelveLabs

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MODELS",
    "DEFAULT_TIMEOUT_S",
    "AsyncTwelveLabs",
    "TwelveLabs",
]
