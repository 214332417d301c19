"""The pure core shared by :class:`TwelveLabs` and :class:`AsyncTwelveLabs`.

Configuration (key, base URL, the plain-http guard), headers, URLs and ``repr`` live here;
the twins add only the I/O: sending, sleeping and closing.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from .._http import RetryMode, build_request, check_retry_mode
from .._responses import ErrorShape
from ..errors import InvalidRequestError
from ..models import IndexModel
from ..polling import PollPolicy
from ..retrying import RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MODELS",
    "DEFAULT_TIMEOUT_S",
    "ClientConfig",
    "ClientCore",
    "resolve_config",
]

logger = logging.getLogger("tl_integrations")

DEFAULT_BASE_URL = "https://api.twelvelabs.io/v1.3"
DEFAULT_TIMEOUT_S = 600.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_MODELS: tuple[IndexModel, ...] = (
    IndexModel("marengo3.0", ("visual", "audio")),
    IndexModel("pegasus1.2", ("visual", "audio")),
)
"""Marengo for search and embeddings plus Pegasus for text generation, visual and audio."""

_CONNECT_TIMEOUT_S = 10.0
_USER_AGENT = "tl-integrations/0.1.0"


@dataclass(frozen=True)
class ClientConfig:
    """The resolved key and base URL (the key is never shown by ``repr``).

    Example:
        >>> ClientConfig(api_key="secret", base_url="https://api.twelvelabs.io/v1.3")
        ClientConfig(base_url='https://api.twelvelabs.io/v1.3')
    """

    api_key: str = field(repr=False)
    base_url: str


def resolve_config(
    api_key: str | None,
    base_url: str | None,
    *,
    allow_insecure: bool = False,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Fill the key and base URL from the environment and check they may be used together.

    Raises:
        InvalidRequestError: no key anywhere, a malformed base URL, or plain ``http://`` to a
            host that is not loopback without ``allow_insecure=True``.

    Example:
        >>> resolve_config("k", None, env={}).base_url
        'https://api.twelvelabs.io/v1.3'
    """
    environ = os.environ if env is None else env
    key = api_key if api_key is not None else environ.get("TWELVELABS_API_KEY")
    if not key or not key.strip():
        raise InvalidRequestError(
            "no TwelveLabs API key: set the TWELVELABS_API_KEY environment variable or pass "
            "TwelveLabs(api_key=...); to work offline, run the local emulator "
            "(`tl-integrations emulator`) and point TWELVELABS_BASE_URL at it"
        )
    base = (base_url or environ.get("TWELVELABS_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    check_transport_security(base, allow_insecure=allow_insecure)
    return ClientConfig(api_key=key.strip(), base_url=base)


def check_transport_security(base_url: str, *, allow_insecure: bool) -> None:
    """Refuse to send the key in clear text to any host that is not this machine.

    Example:
        >>> check_transport_security("http://127.0.0.1:8000/v1.3", allow_insecure=False)
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {base_url!r}"
        )
    if parts.scheme == "http" and not allow_insecure and not is_loopback(parts.hostname):
        raise InvalidRequestError(
            f"refusing to send the API key over plain http to {parts.hostname!r}; use https, "
            "or pass allow_insecure=True if this host is trusted"
        )


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1).

    Example:
        >>> is_loopback("localhost"), is_loopback("10.0.0.1")
        (True, False)
    """
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def make_timeout(timeout_s: float | None) -> httpx.Timeout:
    """Per-operation timeouts: ``timeout_s`` for reads/writes, at most 10 s to connect."""
    if timeout_s is None:
        return httpx.Timeout(None, connect=_CONNECT_TIMEOUT_S)
    if timeout_s <= 0:
        raise InvalidRequestError(f"timeout_s must be > 0 seconds, got {timeout_s}")
    return httpx.Timeout(timeout_s, connect=min(_CONNECT_TIMEOUT_S, timeout_s))


class ClientCore:
    """State and pure helpers common to both clients (no I/O here)."""

    def _init_core(
        self,
        api_key: str | None,
        *,
        base_url: str | None,
        max_retries: int,
        allow_insecure: bool,
        poll_policy: PollPolicy | None,
        retry_policy: RetryPolicy | None,
        clock: Callable[[], float],
        timeout_s: float,
    ) -> None:
        self._config = resolve_config(api_key, base_url, allow_insecure=allow_insecure)
        if max_retries < 0:
            raise InvalidRequestError(f"max_retries must be >= 0, got {max_retries}")
        self._retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self._poll_policy = poll_policy or PollPolicy()
        self._clock = clock
        self._timeout_s = timeout_s

    def _twin_options(self) -> dict[str, Any]:
        """The settings a twin client of the other kind inherits (not the HTTP pool or sleep).

        ``allow_insecure`` is passed as True because this client's base URL already passed
        the transport check (or the caller allowed it explicitly).
        """
        return {
            "api_key": self._config.api_key,
            "base_url": self._config.base_url,
            "timeout_s": self._timeout_s,
            "allow_insecure": True,
            "poll_policy": self._poll_policy,
            "retry_policy": self._retry_policy,
            "clock": self._clock,
        }

    @property
    def poll_policy(self) -> PollPolicy:
        """How this client waits for tasks (read-only; pass ``poll_policy=`` to change it).

        Example:
            >>> from tl_integrations.client import TwelveLabs
            >>> TwelveLabs(api_key="tlk_example").poll_policy.initial_interval_s
            1.0
        """
        return self._poll_policy

    @property
    def clock(self) -> Callable[[], float]:
        """The monotonic clock this client's waits and deadlines use (seconds).

        Example:
            >>> from tl_integrations.client import TwelveLabs
            >>> isinstance(TwelveLabs(api_key="tlk_example").clock(), float)
            True
        """
        return self._clock

    @property
    def base_url(self) -> str:
        """The API base URL, including the version (``https://api.twelvelabs.io/v1.3``)."""
        return self._config.base_url

    def _headers(self) -> dict[str, str]:
        return {
            "x-api-key": self._config.api_key,
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
        }

    def _url(self, path: str) -> str:
        if not path.startswith("/"):
            path = "/" + path
        return self._config.base_url + path

    def _builder(
        self,
        http: httpx.Client | httpx.AsyncClient,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        files: Mapping[str, Any] | None,
        retry: str,
        error_shape: str,
    ) -> Callable[[dict[str, Any] | None], httpx.Request]:
        check_retry_mode(retry, error_shape)
        url = self._url(path)
        headers = self._headers()
        logger.debug("%s %s params=%s", method, path, sorted(params or {}))

        def build(opened: dict[str, Any] | None) -> httpx.Request:
            return build_request(
                http,
                method,
                url,
                headers=headers,
                params=params,
                json=json,
                data=data,
                files=opened if files is not None else None,
            )

        return build

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._config.base_url!r})"


def retry_mode(retry: str) -> RetryMode:
    """Narrow a checked retry string for the type checker."""
    if retry == "always":
        return "always"
    return "never" if retry == "never" else "auto"


def shape(error_shape: str) -> ErrorShape:
    """Narrow a checked error-shape string for the type checker."""
    if error_shape == "classic":
        return "classic"
    return "wrapped" if error_shape == "wrapped" else "auto"
