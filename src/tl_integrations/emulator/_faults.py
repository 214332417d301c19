"""Fault decisions: seeded draws (the same seed and request sequence give the same faults),
and planned faults for particular requests ("the next two ``GET /tasks/{id}`` answer 503").
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ._config import Faults

__all__ = ["FAULT_ACTIONS", "FaultDraw", "FaultInjector", "PlannedFault"]

FAULT_ACTIONS = ("500", "502", "503", "429", "drop", "lost")
"""What a fault can do to a request (see :class:`~tl_integrations.emulator.Faults`)."""
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*")


@dataclass(frozen=True)
class PlannedFault:
    """A fault for particular requests: of the requests that match ``method`` and ``path``
    from now on, the first ``after`` pass, and the ``times`` after them get ``action``.

    ``path`` is the path under ``/v1.3`` (``/tasks/{task_id}``), or a chunk PUT's
    ``/_upload/...``; a segment ``*`` or ``{name}`` matches any one segment, and ``method``
    ``"*"`` any method. ``action`` is one of ``500``, ``502``, ``503``, ``429``, ``drop``
    (close the connection before handling) and ``lost`` (handle the request, then close the
    connection instead of answering).

    Example:
        >>> rule = PlannedFault("get", "/tasks/{task_id}", "503", times=2)
        >>> rule.matches("GET", "/tasks/65f0c0ffee"), rule.matches("GET", "/tasks")
        (True, False)
        >>> PlannedFault.from_mapping({"method": "POST", "path": "/tasks", "action": "lost"})
        PlannedFault(method='POST', path='/tasks', action='lost', times=1, after=0)
    """

    method: str
    path: str
    action: str
    times: int = 1
    after: int = 0

    def __post_init__(self) -> None:
        method = self.method.upper() if isinstance(self.method, str) else self.method
        if method not in _METHODS:
            raise ValueError(f"method must be one of {', '.join(_METHODS)}, got {self.method!r}")
        object.__setattr__(self, "method", method)
        if not isinstance(self.path, str) or not self.path.startswith("/") or "?" in self.path:
            raise ValueError(
                f"path must be a path under /v1.3 such as '/tasks/*' (no query), got {self.path!r}"
            )
        if self.path == "/v1.3" or self.path.startswith("/v1.3/"):
            raise ValueError(
                f"path is the path under /v1.3: {self.path.removeprefix('/v1.3') or '/'!r}, "
                f"not {self.path!r}"
            )
        if self.action not in FAULT_ACTIONS:
            actions = ", ".join(FAULT_ACTIONS)
            raise ValueError(f"action must be one of {actions}, got {self.action!r}")
        for name, least in (("times", 1), ("after", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PlannedFault:
        """Read ``{"method", "path", "action", "times"?, "after"?}`` (the control route's body).

        Raises:
            ValueError: an unknown key, a missing one, or a bad value.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a planned fault is a JSON object, got {data!r}")
        keys = ("method", "path", "action", "times", "after")
        unknown = set(data) - set(keys)
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; keys: {', '.join(keys)}")
        missing = [k for k in ("method", "path", "action") if k not in data]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        return cls(**data)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request (its method, and its path under ``/v1.3``) is one this names."""
        if self.method != "*" and method != self.method:
            return False
        want, got = self.path.rstrip("/").split("/"), path.rstrip("/").split("/")
        return len(want) == len(got) and all(
            w == g or w == "*" or (w.startswith("{") and w.endswith("}"))
            for w, g in zip(want, got, strict=True)
        )


class _Plan:
    """A planned fault and how many matching requests it has seen."""

    __slots__ = ("rule", "seen")

    def __init__(self, rule: PlannedFault) -> None:
        self.rule = rule
        self.seen = 0

    def to_dict(self) -> dict[str, Any]:
        """The rule as it stands now: ``after`` and ``times`` count what is left."""
        rule = self.rule
        return {
            **asdict(rule),
            "after": max(0, rule.after - self.seen),
            "times": rule.times - max(0, self.seen - rule.after),
        }


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

    Planned faults come first: a request that a planned fault names gets that fault's
    action (the seeded draws are still made, so that they stay the same for the requests
    after it).

    Example:
        >>> inj = FaultInjector(Faults.parse("500=1"), seed=0)
        >>> inj.draw("GET", "/indexes").action
        '500'
        >>> inj.set(Faults(), seed=0)
        >>> inj.plan(PlannedFault("GET", "/indexes", "503", after=1))
        >>> [inj.draw("GET", "/indexes").action for _ in range(3)]
        [None, '503', None]
    """

    def __init__(self, faults: Faults, *, seed: int) -> None:
        self._lock = threading.Lock()
        self.faults = faults
        self._rng = random.Random(seed)
        self.seed = seed
        self._plans: list[_Plan] = []

    def set(self, faults: Faults, *, seed: int | None = None) -> None:
        """Replace the probabilities and restart the generator (from ``seed`` if given)."""
        with self._lock:
            self.faults = faults
            self.seed = self.seed if seed is None else seed
            self._rng = random.Random(self.seed)

    def plan(self, rule: PlannedFault) -> None:
        """Add a planned fault; it counts the requests that match it from now on."""
        with self._lock:
            self._plans.append(_Plan(rule))

    def planned(self) -> list[dict[str, Any]]:
        """The planned faults still to happen, as JSON-ready rules (what is left of each)."""
        with self._lock:
            return [p.to_dict() for p in self._plans]

    def forget_planned(self) -> None:
        """Drop every planned fault."""
        with self._lock:
            self._plans.clear()

    def draw(self, method: str, path: str) -> FaultDraw:
        """Decide the fate of one request (``path`` under ``/v1.3``): a planned fault that
        names it, else the seeded draw (two draws per request, always)."""
        with self._lock:
            f = self.faults
            u, v = self._rng.random(), self._rng.random()
            planned = self._planned_action(method, path)
        delay_s = f.latency_s if v < f.latency else 0.0
        if planned is not None:
            return FaultDraw(planned, delay_s)
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
        return FaultDraw(action, delay_s)

    def _planned_action(self, method: str, path: str) -> str | None:
        """Count the request against every plan that names it; the first plan whose turn
        it is gives the action. Plans that are used up go. Called under the lock."""
        if not self._plans:  # every request passes here; most emulators plan nothing
            return None
        action = None
        for plan in self._plans:
            if plan.rule.matches(method, path):
                plan.seen += 1
                rule = plan.rule
                if action is None and rule.after < plan.seen <= rule.after + rule.times:
                    action = rule.action
        self._plans = [p for p in self._plans if p.seen < p.rule.after + p.rule.times]
        return action
