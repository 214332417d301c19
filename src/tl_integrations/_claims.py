"""Claims on content, held by one flow at a time in this process, so it is uploaded once.

Before a flow looks a file up and uploads it, it claims the file's key (the server and the
content hash, say) here; a second flow of this process claiming the same key waits, without
holding a thread of the event loop (an :class:`~._flows.Until` step), until the first lets
go, and then looks up again: it finds the first flow's upload and reuses it. Other
processes are not covered here: their uploads are found by the hash marker the API keeps
(see :func:`oldest`, which makes concurrent creators converge on one job).

:class:`Slots` are the counted kind: at most N flows hold one at once (the ingest bounds
hashing and sending files with them, while the light requests of more inputs go on).

Example:
    >>> from ._flows import SyncDriver
    >>> claims = Claims()
    >>> def upload(log: list[str]) -> Flow[str]:
    ...     with (yield from claims.hold(("https://api", "tl_sha256", "ab12"))):
    ...         log.append("uploading")
    ...     return "done"
    >>> log: list[str] = []
    >>> SyncDriver(transport=None).run(upload(log)), log, claims.held()
    ('done', ['uploading'], 0)
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable
from datetime import datetime, timezone
from typing import Protocol, TypeVar

from ._closing import Closing
from ._flows import Flow, Signal, Until

__all__ = ["CLAIMS", "Claim", "Claims", "Slot", "Slots", "kept", "oldest"]


class Claim(Closing):
    """A held claim: let go of it with ``release()`` or by leaving its ``with`` block.

    Example:
        >>> claims = Claims()
        >>> claim = claims.try_hold("k")
        >>> claim is not None, claims.try_hold("k")
        (True, None)
        >>> claim.release(); claims.try_hold("k") is not None
        True
    """

    def __init__(self, claims: Claims, key: Hashable) -> None:
        self._claims = claims
        self.key = key
        self._released = False

    def release(self) -> None:
        """Let the next waiting flow have the key (releasing twice does nothing)."""
        if not self._released:
            self._released = True
            self._claims._release(self.key)

    def _close_on_exit(self) -> None:
        self.release()


class Claims:
    """Keys held by one flow at a time; the others wait for their turn, first come first.

    Example:
        >>> claims = Claims()
        >>> claims.try_hold("k") is not None, claims.held()
        (True, 1)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key -> the signals of the flows waiting for it, in arrival order.
        self._waiters: dict[Hashable, list[Signal]] = {}

    def try_hold(self, key: Hashable) -> Claim | None:
        """The claim on ``key`` when nobody holds it, else None (never waits)."""
        with self._lock:
            if key in self._waiters:
                return None
            self._waiters[key] = []
            return Claim(self, key)

    def hold(self, key: Hashable) -> Flow[Claim]:
        """Wait until ``key`` is free, then hold it (release it in a ``finally``/``with``)."""
        while True:
            with self._lock:
                waiters = self._waiters.get(key)
                if waiters is None:
                    self._waiters[key] = []
                    return Claim(self, key)
                turn = Signal()
                waiters.append(turn)
            try:
                yield Until(turn)
            finally:
                # Woken or cancelled: either way this flow no longer waits in line.
                with self._lock:
                    line = self._waiters.get(key)
                    if line is not None and turn in line:
                        line.remove(turn)

    def held(self) -> int:
        """How many keys are held now."""
        with self._lock:
            return len(self._waiters)

    def _release(self, key: Hashable) -> None:
        with self._lock:
            waiters = self._waiters.pop(key, [])
        # Every waiter tries again; one takes the key and the others queue up behind it.
        for turn in waiters:
            turn.set()


CLAIMS = Claims()
"""The process's claims: every client of this process shares them."""


class Slot(Closing):
    """One held slot of a :class:`Slots`: give it back with ``release()`` or by leaving its
    ``with`` block.

    Example:
        >>> slots = Slots(1)
        >>> slot = slots.try_take()
        >>> slots.free, slot.release(), slots.free
        (0, None, 1)
    """

    def __init__(self, slots: Slots) -> None:
        self._slots = slots
        self._released = False

    def release(self) -> None:
        """Give the slot back to the next waiting flow (releasing twice does nothing)."""
        if not self._released:
            self._released = True
            self._slots._give_back()

    def _close_on_exit(self) -> None:
        self.release()


class Slots:
    """At most ``count`` flows hold a slot at once; the others wait, first come first.

    Bounds the heavy part of many flows (hashing and sending files) while their light
    requests run beside them. A waiting flow holds no thread of the event loop (it waits on
    an :class:`~._flows.Until` step), and a flow cancelled while waiting leaves the line.

    Example:
        >>> from ._flows import SyncDriver
        >>> slots = Slots(2)
        >>> def send(log: list[str]) -> Flow[str]:
        ...     with (yield from slots.take()):
        ...         log.append(f"sending, {slots.free} slot(s) left")
        ...     return "sent"
        >>> log: list[str] = []
        >>> SyncDriver(transport=None).run(send(log)), log, slots.free
        ('sent', ['sending, 1 slot(s) left'], 2)
    """

    def __init__(self, count: int) -> None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"Slots needs a count >= 1, got {count!r}")
        self._lock = threading.Lock()
        self._free = count
        self._line: list[Signal] = []  # the flows waiting, in arrival order

    @property
    def free(self) -> int:
        """How many slots nobody holds now."""
        with self._lock:
            return self._free

    @property
    def waiting(self) -> int:
        """How many flows wait in line for a slot now."""
        with self._lock:
            return len(self._line)

    def try_take(self) -> Slot | None:
        """A slot when one is free and nobody waits for it, else None (never waits)."""
        with self._lock:
            if self._free < 1 or self._line:
                return None
            self._free -= 1
            return Slot(self)

    def take(self) -> Flow[Slot]:
        """Wait for a free slot, then hold it (give it back in a ``finally``/``with``)."""
        turn = Signal()
        with self._lock:
            if self._free > 0 and not self._line:
                self._free -= 1
                return Slot(self)
            self._line.append(turn)
        held = False
        try:
            while not held:
                yield Until(turn)
                with self._lock:
                    if self._free > 0 and self._line[0] is turn:
                        self._free -= 1
                        self._line.pop(0)
                        held = True
        finally:
            if not held:  # cancelled while waiting
                with self._lock:
                    self._line.remove(turn)
            self._wake_next()  # slots may be left for the flow now first in line
        return Slot(self)

    def _give_back(self) -> None:
        with self._lock:
            self._free += 1
        self._wake_next()

    def _wake_next(self) -> None:
        with self._lock:
            first = self._line[0] if self._free > 0 and self._line else None
        if first is not None:
            first.set()


class _Made(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> str | None: ...


M = TypeVar("M", bound=_Made)


def oldest(jobs: Iterable[M]) -> M | None:
    """The job created first (then the smaller id): the one concurrent creators keep.

    Every creator that finds duplicates with the same marker keeps this one and deletes its
    own, so processes that created at the same time converge without talking to each other.

    Example:
        >>> from types import SimpleNamespace as J
        >>> a = J(id="b", created_at="2024-01-01T00:00:00.200Z")
        >>> b = J(id="a", created_at="2024-01-01T00:00:00.300Z")
        >>> oldest([b, a]).id
        'b'
    """
    return min(jobs, key=lambda job: (_moment(job.created_at), job.id), default=None)


def kept(made: M, listed: Iterable[M]) -> M:
    """Which of ``made`` (just created) and its ``listed`` twins every creator keeps.

    ``made`` is taken as listed when it is (a create's answer may lack ``created_at``).

    Example:
        >>> from types import SimpleNamespace as J
        >>> ours = J(id="b", created_at=None)
        >>> theirs = J(id="a", created_at="2024-01-01T00:00:00.100Z")
        >>> listed_ours = J(id="b", created_at="2024-01-01T00:00:00.300Z")
        >>> kept(ours, [theirs, listed_ours]).id, kept(ours, []) is ours
        ('a', True)
    """
    twins = list(listed)
    if not any(job.id == made.id for job in twins):
        twins.append(made)
    chosen = oldest(twins)
    return made if chosen is None or chosen.id == made.id else chosen


def _moment(stamp: str | None) -> datetime:
    if stamp:
        try:
            return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            pass
    # Unknown times sort last: a job whose age we cannot read is never the one kept
    # over one whose age we can.
    return datetime.max.replace(tzinfo=timezone.utc)
