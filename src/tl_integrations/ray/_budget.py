"""One request budget for a whole Ray cluster, held by an actor, fed by the server's headers.

The TwelveLabs API limits requests per minute per endpoint category (uploads, embeddings,
search, analysis, the rest) for the whole account. Twenty workers, each with a client that
paces itself, would together send twenty times what the account may. So the budget lives
in one place, a Ray actor, and every client of the cluster asks it before each attempt:

- :class:`RateBook` is the bookkeeping (pure, with an injected clock): one token bucket per
  category, whose size and refill it learns from ``X-Ratelimit-Limit``, which it lowers to
  what ``X-Ratelimit-Remaining`` says is left, and which a 429 empties for everyone until
  the ``Retry-After`` (or ``X-Ratelimit-Reset``) the server gave.
- :class:`SharedBudget` is what a client holds (``TwelveLabs(budget=...)``): it implements
  :class:`~tl_integrations._transport.RequestBudget` by asking the actor, and pickles as the
  actor's handle, so it travels to every worker of a Ray Data pipeline.

A request is granted a token when it asks (its place in the queue is kept while it waits),
so a hundred waiting requests go out one by one at the rate the server allows rather than
all at once when the window turns. Until the first answer of a category says its limit,
one request goes first and the others wait for what it learns.

Example:
    >>> now = [0.0]
    >>> book = RateBook(clock=lambda: now[0], window_s=60.0)
    >>> book.acquire("tasks", holding=False)  # the limit is unknown: this one goes first
    (0.0, True)
    >>> book.settle("tasks", 200, RateFacts(limit=60, remaining=1))
    >>> [book.acquire("tasks", holding=False)[0] for _ in range(3)]  # one left, then 1 a second
    [0.0, 1.0, 2.0]
"""

from __future__ import annotations

import asyncio
import collections
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._retrying import Outcome, server_delay_s
from .._transport import Request, now_epoch

__all__ = [
    "DEFAULT_WINDOW_S",
    "AsyncSharedBudget",
    "RateBook",
    "RateFacts",
    "SharedBudget",
    "category_of",
    "rate_facts",
]

DEFAULT_WINDOW_S = 60.0
"""The API's limits are per minute: a bucket of ``limit`` tokens refills in this long."""
_PROBE_WAIT_S = 0.05
"""How long a request waits while the first one of its category learns the limit."""
_PROBE_PATIENCE_S = 30.0
"""A first request unanswered after this long no longer holds the others back."""
_STALE_S = 300.0
"""A granted request never reported after this long is forgotten (its worker died)."""
_BACKOFF_S = (1.0, 60.0)
"""After a 429 that names no wait: the first and the longest pause, doubling in between."""

_INDEXED_ASSETS = re.compile(r"^/indexes/[^/]+/indexed-assets/?$")
_EMBED = frozenset({"/embed", "/embed/tasks", "/embed-v2", "/embed-v2/tasks"})


def category_of(request: Request) -> str | None:
    """The rate-limit category of a request, as the API groups its endpoints.

    ``POST /tasks`` and ``POST /indexes/{id}/indexed-assets`` share ``"tasks"``;
    ``POST /assets`` is ``"assets"``; the embed endpoints ``"embed"``; ``POST /search`` its
    own; ``POST /analyze`` and the analysis task and batch creates ``"analyze"``; everything
    else ``"default"``. A presigned storage
    URL is not the API's: None (not budgeted).

    Example:
        >>> category_of(Request("POST", "/tasks")), category_of(Request("GET", "/tasks"))
        ('tasks', 'default')
        >>> category_of(Request("POST", "/indexes/i1/indexed-assets"))
        'tasks'
        >>> category_of(Request("POST", "/analyze/batches"))  # an analysis create, like a task
        'analyze'
    """
    if request.presigned:
        return None
    if request.method.upper() != "POST":
        return "default"
    path = "/" + request.path.split("?", 1)[0].strip("/")
    if path == "/tasks" or _INDEXED_ASSETS.match(path):
        return "tasks"
    if path == "/assets":
        return "assets"
    if path in _EMBED:
        return "embed"
    if path in ("/search", "/analyze", "/analyze/tasks", "/analyze/batches"):
        return path.split("/")[1]
    return "default"


@dataclass(frozen=True)
class RateFacts:
    """What one answer said about its category's budget (all optional).

    Attributes:
        limit: ``X-Ratelimit-Limit``, requests per window.
        remaining: ``X-Ratelimit-Remaining``, requests left.
        wait_s: seconds the server asked to wait (``Retry-After``, or ``X-Ratelimit-Reset``
            on a 429), measured on the server's own clock (its ``Date``).

    Example:
        >>> RateFacts(limit=600, remaining=599).wait_s is None
        True
    """

    limit: int | None = None
    remaining: int | None = None
    wait_s: float | None = None


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else int(float(value))
    except ValueError:
        return None


def rate_facts(status: int | None, headers: Mapping[str, str] | httpx.Headers | None) -> RateFacts:
    """Read the rate-limit headers of one answer (None: no answer came).

    Times are turned into relative seconds here, on the server's clock, so the actor (maybe
    on another machine, with another clock) never compares epochs.

    Example:
        >>> rate_facts(429, {"X-Ratelimit-Limit": "60", "X-Ratelimit-Remaining": "0",
        ...                  "Retry-After": "3"})
        RateFacts(limit=60, remaining=0, wait_s=3.0)
    """
    if headers is None:
        return RateFacts()
    lowered = {key.lower(): value for key, value in headers.items()}
    wait_s = server_delay_s(
        Outcome(
            status_code=status,
            headers=lowered,
            now_epoch=now_epoch(httpx.Headers(lowered)),
        )
    )
    return RateFacts(
        limit=_int(lowered.get("x-ratelimit-limit")),
        remaining=_int(lowered.get("x-ratelimit-remaining")),
        wait_s=wait_s,
    )


@dataclass
class _Bucket:
    """The budget of one category."""

    limit: int | None = None
    answered: bool = False
    tokens: float = 0.0
    stamp: float = 0.0
    blocked_until: float = 0.0
    backoff_s: float = 0.0
    probe_since: float | None = None
    granted_at: collections.deque[float] = field(default_factory=collections.deque)
    granted: int = 0
    answers: int = 0
    throttled: int = 0
    queued_s: float = 0.0


class RateBook:
    """Token buckets per category, learnt from the server's headers; the actor's state.

    Args:
        clock: monotonic seconds (injected in tests).
        window_s: the window the server's limits are per (a minute for TwelveLabs).
        limits: requests per window per category known in advance (the headers still win).

    Example:
        >>> now = [0.0]
        >>> book = RateBook(clock=lambda: now[0], limits={"search": 120})
        >>> book.acquire("search", holding=False)
        (0.0, True)
        >>> book.settle("search", 429, RateFacts(wait_s=5.0))
        >>> book.acquire("search", holding=True)  # everyone waits out the 429
        (5.0, True)
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        window_s: float = DEFAULT_WINDOW_S,
        limits: Mapping[str, int] | None = None,
    ) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0 seconds, got {window_s!r}")
        self._clock = clock
        self._window_s = float(window_s)
        self._buckets: dict[str, _Bucket] = {}
        for category, limit in (limits or {}).items():
            bucket = self._bucket(category)
            self._learn(bucket, limit, remaining=None, now=clock())

    def _bucket(self, category: str) -> _Bucket:
        bucket = self._buckets.get(category)
        if bucket is None:
            bucket = self._buckets[category] = _Bucket(stamp=self._clock())
        return bucket

    def _rate(self, bucket: _Bucket) -> float:
        assert bucket.limit is not None
        return bucket.limit / self._window_s

    def _refill(self, bucket: _Bucket, now: float) -> None:
        while bucket.granted_at and now - bucket.granted_at[0] > _STALE_S:
            bucket.granted_at.popleft()
        if bucket.limit is not None and bucket.limit > 0:
            gained = max(0.0, now - bucket.stamp) * self._rate(bucket)
            bucket.tokens = min(float(bucket.limit), bucket.tokens + gained)
        bucket.stamp = now

    def _learn(self, bucket: _Bucket, limit: int, *, remaining: int | None, now: float) -> None:
        first = bucket.limit is None
        bucket.limit = limit
        if limit <= 0:
            return
        if first:
            # Whatever was granted before the limit was known is still on its way.
            left = limit if remaining is None else remaining
            bucket.tokens = float(left - len(bucket.granted_at))
            bucket.stamp = now
        bucket.tokens = min(bucket.tokens, float(limit))

    def acquire(self, category: str, *, holding: bool) -> tuple[float, bool]:
        """Seconds to wait before sending one request, and whether it now holds a token.

        ``holding`` says the request already got a token and has waited as told: it is
        only held back further by a 429 that came in meanwhile.
        """
        now = self._clock()
        bucket = self._bucket(category)
        self._refill(bucket, now)
        blocked_s = max(0.0, bucket.blocked_until - now)
        if holding:
            return blocked_s, True
        if bucket.limit is None and not bucket.answered:
            probing = (
                bucket.probe_since is not None and now - bucket.probe_since < _PROBE_PATIENCE_S
            )
            if probing:
                return max(_PROBE_WAIT_S, blocked_s), False
            bucket.probe_since = now
        wait_s = 0.0
        if bucket.limit is not None and bucket.limit > 0:
            bucket.tokens -= 1.0
            if bucket.tokens < 0:
                wait_s = -bucket.tokens / self._rate(bucket)
        bucket.granted_at.append(now)
        bucket.granted += 1
        wait_s = max(wait_s, blocked_s)
        bucket.queued_s += wait_s
        return wait_s, True

    def settle(self, category: str, status: int | None, facts: RateFacts) -> None:
        """Take in the answer to one granted request (``status`` None: none came)."""
        now = self._clock()
        bucket = self._bucket(category)
        self._refill(bucket, now)
        if bucket.granted_at:
            bucket.granted_at.popleft()
        if status is None:
            if bucket.probe_since is not None:
                bucket.probe_since = None  # let the next one try
            return
        bucket.answered = True
        bucket.probe_since = None
        bucket.answers += 1
        if facts.limit is not None:
            if bucket.limit != facts.limit:
                self._learn(bucket, facts.limit, remaining=facts.remaining, now=now)
            elif facts.remaining is not None:
                # Requests granted but not answered may not be counted by the server yet.
                seen = float(facts.remaining - len(bucket.granted_at))
                bucket.tokens = min(bucket.tokens, seen)
        if status == 429:
            self._throttled(bucket, facts, now)
        elif 200 <= status < 300:
            bucket.backoff_s = 0.0

    def _throttled(self, bucket: _Bucket, facts: RateFacts, now: float) -> None:
        bucket.throttled += 1
        if facts.wait_s is not None:
            pause = facts.wait_s
        else:
            first, longest = _BACKOFF_S
            pause = bucket.backoff_s = min(longest, max(first, bucket.backoff_s * 2))
        bucket.blocked_until = max(bucket.blocked_until, now + pause)
        bucket.tokens = min(bucket.tokens, 0.0)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per category: the limit learnt, tokens left, requests granted and answered, 429s
        seen, seconds of queueing handed out, and how long everyone is still held back.

        Example:
            >>> RateBook(limits={"tasks": 600}).snapshot()["tasks"]["limit"]
            600
        """
        now = self._clock()
        out: dict[str, dict[str, Any]] = {}
        for category, bucket in sorted(self._buckets.items()):
            self._refill(bucket, now)
            out[category] = {
                "limit": bucket.limit,
                "tokens": round(bucket.tokens, 3),
                "granted": bucket.granted,
                "answers": bucket.answers,
                "in_flight": len(bucket.granted_at),
                "throttled": bucket.throttled,
                "queued_s": round(bucket.queued_s, 3),
                "blocked_s": round(max(0.0, bucket.blocked_until - now), 3),
            }
        return out


class _Holds:
    """Which requests of this process hold a token (so that asking again does not take
    another one). Keyed by identity: two equal GETs from two threads are two requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, weakref.ref[Request]] = {}

    def holding(self, request: Request) -> bool:
        with self._lock:
            ref = self._held.get(id(request))
            return ref is not None and ref() is request

    def hold(self, request: Request, held: bool) -> None:
        with self._lock:
            if held:
                self._held[id(request)] = weakref.ref(request)
            else:
                self._held.pop(id(request), None)
            if len(self._held) > 4096:  # requests abandoned while waiting (a deadline)
                self._held = {k: r for k, r in self._held.items() if r() is not None}

    def release(self, request: Request) -> None:
        with self._lock:
            ref = self._held.get(id(request))
            if ref is not None and ref() is request:
                del self._held[id(request)]


class _BudgetActorBase:
    """The body of the budget actor (made a Ray actor in :meth:`SharedBudget.start`)."""

    def __init__(self, window_s: float, limits: Mapping[str, int] | None) -> None:
        self._book = RateBook(window_s=window_s, limits=limits)
        self._members: collections.Counter[str] = collections.Counter()

    def acquire(self, category: str, holding: bool) -> tuple[float, bool]:
        return self._book.acquire(category, holding=holding)

    def settle(self, category: str, status: int | None, facts: RateFacts) -> None:
        self._book.settle(category, status, facts)

    def join(self, member: str) -> None:
        self._members[member] += 1

    def stats(self) -> dict[str, Any]:
        return {"categories": self._book.snapshot(), "members": dict(self._members)}


class SharedBudget:
    """A request budget for every client of a Ray cluster, held by one actor.

    Give it to any client (``TwelveLabs(budget=budget)``) in any process of the cluster:
    before each attempt the client asks the actor for a go-ahead, and every answer's
    ``X-Ratelimit-*`` headers and 429s go back to it, so the whole cluster stays within the
    account's limits and a 429 holds back every worker, not just the one that got it. It
    pickles as the actor's handle (a few hundred bytes), so it can be passed to Ray Data
    callables; :class:`~tl_integrations.ray.ClusterIndex` makes one for you.

    A ``TwelveLabs`` client takes it as it is; an ``AsyncTwelveLabs`` client takes
    :meth:`asynchronous`.

    Example:
        >>> import ray
        >>> budget = SharedBudget.start(limits={"tasks": 600})  # doctest: +SKIP
        >>> client = TwelveLabs(budget=budget)  # doctest: +SKIP
        >>> budget.stats()["categories"]["tasks"]["throttled"]  # doctest: +SKIP
        0
    """

    def __init__(self, actor: Any) -> None:
        self._actor = actor
        self._holds = _Holds()
        self._joined = False

    @classmethod
    def start(
        cls,
        *,
        name: str | None = None,
        namespace: str | None = None,
        window_s: float = DEFAULT_WINDOW_S,
        limits: Mapping[str, int] | None = None,
        detached: bool = False,
    ) -> SharedBudget:
        """Start the budget actor (or join the one already running under ``name``).

        Args:
            name: a name to find it by from other drivers (:meth:`connect`); None: anonymous.
            namespace: the Ray namespace of the name.
            window_s: seconds the server's limits are per (60 on the TwelveLabs API).
            limits: requests per window per category known in advance; the headers of the
                first answer of a category are waited for otherwise.
            detached: keep the actor alive after this driver exits (then :meth:`close` it).

        Example:
            >>> budget = SharedBudget.start(name="twelvelabs-budget")  # doctest: +SKIP
        """
        import ray

        options: dict[str, Any] = {"num_cpus": 0, "max_restarts": -1}
        if name is not None:
            options.update(name=name, get_if_exists=True)
            if namespace is not None:
                options["namespace"] = namespace
        if detached:
            options["lifetime"] = "detached"
        actor_class = ray.remote(_BudgetActorBase)
        actor = actor_class.options(**options).remote(window_s, dict(limits or {}))
        return cls(actor)

    @classmethod
    def connect(cls, name: str, *, namespace: str | None = None) -> SharedBudget:
        """The budget another driver started under ``name``.

        Raises:
            ValueError: no such actor.

        Example:
            >>> budget = SharedBudget.connect("twelvelabs-budget")  # doctest: +SKIP
        """
        import ray

        return cls(ray.get_actor(name, namespace=namespace))

    def _join(self) -> None:
        if not self._joined:
            self._joined = True
            self._actor.join.remote(_member())

    def acquire(self, request: Request) -> float:
        """Seconds to wait before sending ``request`` (0: go); see :class:`RequestBudget`.

        Example:
            >>> budget.acquire(Request("POST", "/tasks"))  # doctest: +SKIP
            0.0
        """
        category = category_of(request)
        if category is None:
            return 0.0
        import ray

        self._join()
        wait_s, held = ray.get(self._actor.acquire.remote(category, self._holds.holding(request)))
        self._holds.hold(request, held)
        return float(wait_s)

    def settle(self, request: Request, status: int | None, headers: Any) -> None:
        """Report the answer to ``request`` (without waiting for the actor).

        Example:
            >>> budget.settle(Request("POST", "/tasks"), 200, {})  # doctest: +SKIP
        """
        category = category_of(request)
        if category is None:
            return
        self._holds.release(request)
        self._actor.settle.remote(category, status, rate_facts(status, headers))

    def stats(self) -> dict[str, Any]:
        """Per category: the limit learnt, requests granted, 429s seen, seconds queued...;
        and ``members``: the processes (``node:pid``) that used the budget.

        Example:
            >>> budget.stats()["categories"]["default"]["granted"]  # doctest: +SKIP
            42
        """
        import ray

        stats: dict[str, Any] = ray.get(self._actor.stats.remote())
        return stats

    def asynchronous(self) -> AsyncSharedBudget:
        """The same budget for an ``AsyncTwelveLabs`` client (awaits the actor).

        Example:
            >>> client = AsyncTwelveLabs(budget=budget.asynchronous())  # doctest: +SKIP
        """
        return AsyncSharedBudget(self._actor)

    def close(self) -> None:
        """Stop the actor (clients still holding the budget then fail their requests).

        Example:
            >>> budget.close()  # doctest: +SKIP
        """
        import ray

        ray.kill(self._actor)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._actor,))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._actor!r})"


class AsyncSharedBudget(SharedBudget):
    """:class:`SharedBudget` for an ``AsyncTwelveLabs`` client: asking awaits the actor.

    Example:
        >>> client = AsyncTwelveLabs(budget=SharedBudget.start().asynchronous())  # doctest: +SKIP
    """

    def acquire(self, request: Request) -> Any:  # an awaitable of float
        """An awaitable of the seconds to wait before sending ``request``.

        Example:
            >>> await budget.acquire(Request("POST", "/search"))  # doctest: +SKIP
            0.0
        """
        category = category_of(request)
        if category is None:
            return _ready(0.0)
        self._join()
        ref = self._actor.acquire.remote(category, self._holds.holding(request))
        return self._granted(request, ref)

    async def _granted(self, request: Request, ref: Any) -> float:
        wait_s, held = await ref
        self._holds.hold(request, held)
        return float(wait_s)


async def _ready(value: float) -> float:
    await asyncio.sleep(0)
    return value


def _member() -> str:
    import os

    import ray

    try:
        node = ray.get_runtime_context().get_node_id()
    except Exception:  # not connected: a plain process
        node = "-"
    return f"{node}:{os.getpid()}"
