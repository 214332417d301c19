"""Seeded fault decisions: the same seed and request sequence give the same faults."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from ._config import Faults

__all__ = ["FaultDraw", "FaultInjector"]


@dataclass(frozen=True)
class FaultDraw:
    """What to do to one request: ``action`` is None, ``"500"``, ``"502"``, ``"503"``,
    ``"429"``, ``"drop"`` or ``"lost"``; ``delay_s`` is added latency.

    Example:
        >>> FaultDraw(None, 0.0).action is None
        True
    """

    action: str | None
    delay_s: float


class FaultInjector:
    """Draws faults for each API request from its own seeded generator.

    Example:
        >>> inj = FaultInjector(Faults.parse("500=1"), seed=0)
        >>> inj.draw().action
        '500'
        >>> inj.set(Faults(), seed=0)
        >>> inj.draw().action is None
        True
    """

    def __init__(self, faults: Faults, *, seed: int) -> None:
        self._lock = threading.Lock()
        self.faults = faults
        self._rng = random.Random(seed)
        self.seed = seed

    def set(self, faults: Faults, *, seed: int | None = None) -> None:
        """Replace the probabilities and restart the generator (from ``seed`` if given)."""
        with self._lock:
            self.faults = faults
            self.seed = self.seed if seed is None else seed
            self._rng = random.Random(self.seed)

    def draw(self) -> FaultDraw:
        """Decide the fate of one request (two draws per request, always)."""
        with self._lock:
            f = self.faults
            u, v = self._rng.random(), self._rng.random()
        action = None
        edge = 0.0
        for name, p in (
            ("500", f.p500),
            ("502", f.p502),
            ("503", f.p503),
            ("429", f.p429),
            ("drop", f.drop),
            ("lost", f.lost),  # last, so that the draws of older specs stay the same
        ):
            edge += p
            if u < edge:
                action = name
                break
        return FaultDraw(action, f.latency_s if v < f.latency else 0.0)
