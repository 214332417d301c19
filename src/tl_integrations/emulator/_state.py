"""What one running emulator holds: the backend, and the server's limits, faults, stats and
webhook dispatcher.

Route handlers run on the server's event loop; ``Emulator`` methods (stats, reset,
set_faults) run on the caller's thread; both take ``lock`` around mutations.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ._backend import Backend
from ._config import EmulatorConfig, Faults
from ._dispatch import WebhookDispatcher
from ._faults import FaultInjector
from ._ratelimit import RateLimiter

__all__ = ["EmulatorState", "Stats"]


@dataclass
class Stats:
    """Counters for ``/_emulator/stats``: requests by route and status, injected faults,
    uploaded files (form file parts), multipart chunks, bytes received and 429s.

    Example:
        >>> s = Stats(); s.requests["GET /v1.3/indexes"] += 1; s.to_dict()["requests_total"]
        1
    """

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    uploads: int = 0
    chunks: int = 0
    bytes_received: int = 0
    rate_limited: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot."""
        return {
            "requests_total": sum(self.requests.values()),
            "requests": dict(sorted(self.requests.items())),
            "statuses": dict(sorted(self.statuses.items())),
            "faults": dict(sorted(self.faults.items())),
            "uploads": self.uploads,
            "chunks": self.chunks,
            "bytes_received": self.bytes_received,
            "rate_limited": self.rate_limited,
        }


class EmulatorState:
    """Everything one emulator instance knows; shared by the app and the ``Emulator`` handle.

    Example:
        >>> st = EmulatorState(EmulatorConfig(seed=3))
        >>> st.backend.store.config.seed
        3
        >>> st.close()
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.faults = FaultInjector(config.faults, seed=config.seed)
        self.backend = Backend(
            config, fail_share=lambda: self.faults.faults.fail, faults=lambda: self.faults.faults
        )
        self.lock = self.backend.store.lock
        self.limiter = RateLimiter(config.rate_limits, clock=config.clock)
        self.stats = Stats()
        self.dispatcher = WebhookDispatcher(self.backend.webhooks, clock=config.clock)

    def now(self) -> float:
        """The emulator's time, seconds since the epoch."""
        return self.backend.store.now()

    def reset(self) -> None:
        """Forget every record, media file, stat, search page and planned fault; restore the
        configured faults."""
        with self.lock:
            self.backend.reset()
            self.stats = Stats()
            self.limiter.reset()
            self.faults.set(self.config.faults, seed=self.config.seed)
            self.faults.forget_planned()

    def set_faults(self, faults: Faults, *, seed: int | None = None) -> None:
        """Replace the fault probabilities (the generator restarts from the seed)."""
        self.faults.set(faults, seed=self.config.seed if seed is None else seed)

    def close(self) -> None:
        """Stop sending webhooks; remove the temporary data directory (when no
        ``data_dir`` was configured)."""
        self.dispatcher.stop()
        self.backend.close()
