"""Deterministic ids and RFC 3339 timestamps."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timezone

__all__ = ["IdFactory", "parse_time", "rfc3339"]


class IdFactory:
    """24-hex-character ids (ObjectId-like), the same sequence for the same seed.

    The counter is part of the persisted state, so a restarted emulator never reuses an id.

    Example:
        >>> ids = IdFactory(seed=1)
        >>> a, b = ids.new(), ids.new()
        >>> len(a), a != b, IdFactory(seed=1).new() == a
        (24, True, True)
    """

    def __init__(self, *, seed: int, counter: int = 0) -> None:
        self.seed = seed
        self.counter = counter
        self._lock = threading.Lock()

    def new(self) -> str:
        """Return the next id."""
        with self._lock:
            self.counter += 1
            n = self.counter
        return hashlib.blake2b(f"{self.seed}:{n}".encode(), digest_size=12).hexdigest()


def rfc3339(epoch_s: float) -> str:
    """Format seconds since the epoch as ``2024-01-09T11:17:15.296Z``.

    Example:
        >>> rfc3339(0.5)
        '1970-01-01T00:00:00.500Z'
    """
    moment = datetime.fromtimestamp(epoch_s, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> float:
    """Parse an RFC 3339 timestamp (or a bare date) to seconds since the epoch.

    Raises:
        ValueError: When the text is not a timestamp.

    Example:
        >>> parse_time("1970-01-01T00:01:00Z")
        60.0
    """
    value = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
