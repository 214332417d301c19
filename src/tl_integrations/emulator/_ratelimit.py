"""Token-bucket rate limits per endpoint category, on the emulator's clock."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ._config import RateLimits

__all__ = ["Decision", "RateLimiter", "category_of"]

_EMBED_PATHS = ("/embed", "/embed/tasks", "/embed-v2", "/embed-v2/tasks")
# Creates of asynchronous analyses share the analyze budget (they start the same work).
_ANALYSIS_CREATES = ("/analyze/tasks", "/analyze/batches")
_INDEXED_ASSETS = re.compile(r"^/indexes/[^/]+/indexed-assets$")


def category_of(method: str, path: str) -> str:
    """The rate-limit category of a request (``path`` relative to ``/v1.3``).

    Example:
        >>> category_of("POST", "/tasks"), category_of("GET", "/tasks")
        ('tasks', 'default')
        >>> category_of("POST", "/embed-v2"), category_of("POST", "/indexes/x/indexed-assets")
        ('embed', 'tasks')
        >>> category_of("POST", "/assets"), category_of("POST", "/assets/multipart-uploads")
        ('assets', 'default')
        >>> category_of("POST", "/analyze/tasks"), category_of("GET", "/analyze/tasks")
        ('analyze', 'default')
    """
    if method != "POST":
        return "default"
    path = path.rstrip("/")
    if path == "/tasks" or _INDEXED_ASSETS.match(path):
        return "tasks"
    if path == "/assets":
        return "assets"
    if path in _EMBED_PATHS:
        return "embed"
    if path in ("/search", "/analyze"):
        return path[1:]
    if path in _ANALYSIS_CREATES:
        return "analyze"
    return "default"


@dataclass(frozen=True)
class Decision:
    """The outcome of one request against its bucket, with the header values.

    Example:
        >>> Decision(True, 10, 9, 1, 1700000060, 0).headers()["X-Ratelimit-Remaining"]
        '9'
    """

    allowed: bool
    limit: int
    remaining: int
    used: int
    reset_epoch_s: int
    retry_after_s: int

    def headers(self) -> dict[str, str]:
        """``X-Ratelimit-*`` headers (plus ``Retry-After`` when refused); none if unlimited."""
        if self.limit <= 0:
            return {}
        headers = {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Remaining": str(self.remaining),
            "X-Ratelimit-Used": str(self.used),
            "X-Ratelimit-Reset": str(self.reset_epoch_s),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_s)
        return headers


class RateLimiter:
    """One bucket per category: capacity = the per-minute limit, refilled continuously.

    Example:
        >>> now = [0.0]
        >>> rl = RateLimiter(RateLimits(search=2), clock=lambda: now[0])
        >>> [rl.take("search").allowed for _ in range(3)]
        [True, True, False]
        >>> now[0] = 30.0
        >>> rl.take("search").allowed
        True
    """

    def __init__(self, limits: RateLimits, *, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Refill every bucket."""
        with self._lock:
            self._buckets.clear()

    def take(self, category: str) -> Decision:
        """Spend one token of ``category`` if there is one."""
        limit = self.limits.per_minute(category)
        now = self.clock()
        if limit <= 0:
            return Decision(True, 0, 0, 0, int(now), 0)
        rate = limit / 60.0
        with self._lock:
            tokens, last = self._buckets.get(category, (float(limit), now))
            tokens = min(float(limit), tokens + max(0.0, now - last) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[category] = (tokens, now)
        remaining = math.floor(tokens)
        return Decision(
            allowed=allowed,
            limit=limit,
            remaining=remaining,
            used=limit - remaining,
            reset_epoch_s=math.ceil(now + (limit - tokens) / rate),
            retry_after_s=0 if allowed else max(1, math.ceil((1.0 - tokens) / rate)),
        )
