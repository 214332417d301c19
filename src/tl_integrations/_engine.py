"""The task engine: create, recover, wait and wait_many, written once for every kind of job.

Every TwelveLabs call that touches media is an asynchronous job: an indexing task, an
embedding task, an asset, an indexed asset, an analysis task. They differ in paths, status
words and how their results are read; a :class:`TaskKind` says exactly that. They do not
differ in how one creates them safely, waits for one, or waits for ten thousand, which is
this module, as flows (see :mod:`tl_integrations._flows`):

- :func:`create`: send a create; when its answer is lost (a timeout, a dropped connection,
  a 5xx) look for what the server made before sending again (:class:`Creation`), so no job
  is paid for twice;
- :func:`wait`: poll one job until it is terminal, within a deadline; a failure raises
  :class:`~tl_integrations.TaskFailedError` with the API's reason;
- :class:`WaitMany`: wait for many jobs, yielding each as it finishes; jobs that share a
  list endpoint are polled with one request per page of 50, and jobs may join a wait in
  progress (:meth:`WaitMany.add`);
- :func:`wait_for_done`: the official SDK's ``wait_for_done`` contract (fixed interval,
  callback after every check, returns a failed job instead of raising).

Example:
    >>> kind = TaskKind()  # the defaults: statuses ready/failed, one GET per job
    >>> sorted(kind.terminal)
    ['failed', 'ready']
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from ._errors import (
    APIConnectionError,
    InvalidRequestError,
    MalformedResponseError,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
    TwelveLabsError,
)
from ._flows import Call, Context, DeadlinePassed, Emit, Flow, Signal, Sleep, Until, emitted
from ._paging import PAGE_LIMIT_MAX, check_new_page, collect, more_pages
from ._polling import TRANSIENT_ERRORS, PollPolicy, PollState
from ._retrying import Outcome
from ._transport import Reply, Request, may_have_arrived, send, send_json
from ._wire import parse_page

__all__ = [
    "EVENT_FALLBACK_POLL_S",
    "Creation",
    "EventSource",
    "Job",
    "JobRef",
    "TaskKind",
    "WaitMany",
    "create",
    "fetch",
    "job_id_of",
    "wait",
    "wait_for_done",
]

logger = logging.getLogger("tl_integrations")

J = TypeVar("J", bound="Job")
T = TypeVar("T")
R = TypeVar("R")


@dataclass(eq=False)
class Job:
    """What every asynchronous job shares: an id, a status, and what the server sent.

    Subclasses (:class:`~tl_integrations.Task`, :class:`~tl_integrations.EmbeddingTask`,
    :class:`~tl_integrations.Asset`...) add their fields and name their :class:`TaskKind`.
    A job that came from a client remembers it (not as a field: ``dataclasses.asdict`` and
    pickles carry only data), so the official SDK's ``job.wait_for_done()`` works.

    Example:
        >>> job = Job("j1", "processing")
        >>> job.done, job.to_dict()["status"]
        (False, 'processing')
    """

    id: str
    status: str
    created_at: str | None = field(default=None, kw_only=True)
    updated_at: str | None = field(default=None, kw_only=True)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, kw_only=True)

    @property
    def kind(self) -> TaskKind[Any]:
        """The :class:`TaskKind` of this job."""
        return _GENERIC

    @property
    def done(self) -> bool:
        """True once the job reached a terminal status (ready, failed, canceled...)."""
        return self.status in self.kind.terminal

    @property
    def ready(self) -> bool:
        """True when the job succeeded."""
        return self.status in self.kind.ready

    @property
    def failed(self) -> bool:
        """True when the job ended without a result (failed, or canceled)."""
        return self.status in self.kind.failed

    @property
    def failure_reason(self) -> str | None:
        """The reason the server gave for a failure, when it gave one."""
        return failure_reason_of(self.raw)

    @property
    def duration_s(self) -> float | None:
        """The media's duration in seconds, when known (spaces out polls of long videos)."""
        return None

    def to_dict(self) -> dict[str, Any]:
        """The job's fields as plain data (what ``dataclasses.asdict`` gives too).

        Example:
            >>> Job("j1", "ready").to_dict()
            {'id': 'j1', 'status': 'ready', 'created_at': None, 'updated_at': None, 'raw': {}}
        """
        return dataclasses.asdict(self)

    def update_from(self, other: Job) -> None:
        """Copy every field of ``other`` (a fresher view of the same job) into this one."""
        for item in dataclasses.fields(self):
            value = getattr(other, item.name, None)
            if value is not None or item.name in ("status", "raw"):
                setattr(self, item.name, value)

    def _bind(self: J, owner: Any) -> J:
        self.__dict__["_owner"] = owner
        return self

    def __getstate__(self) -> dict[str, Any]:
        # A pickle (or copy) of a job is its data: the client, with its connection pool and
        # API key, stays behind.
        return {k: v for k, v in self.__dict__.items() if k != "_owner"}

    def wait_for_done(
        self: J,
        sleep_interval: float = 5.0,
        callback: Callable[[J], object] | None = None,
        *,
        timeout_s: float | None = None,
    ) -> J:
        """Poll until the job is terminal, updating it in place (official-SDK style).

        Calls ``callback(job)`` after every check and returns this job when it is done,
        without raising on ``failed`` (check ``job.status``). Unlike the official SDK it
        raises at once on 401/403/404, retries transient errors with backoff, and gives up
        at ``timeout_s``. Prefer the resource's ``wait()``, which raises on failure.

        Raises:
            InvalidRequestError: bad ``sleep_interval``, or the job has no sync client (use
                ``await job.async_wait_for_done(...)`` for an async client's job).
            TaskTimeoutError: ``timeout_s`` passed.

        Example:
            >>> task = client.task.create(index_id=index_id, file="talk.mp4")  # doctest: +SKIP
            >>> task.wait_for_done(sleep_interval=5, callback=print)  # doctest: +SKIP
        """
        owner = self._owner_of(asynchronous=False)
        flow = wait_for_done(
            self, owner._ctx, sleep_interval=sleep_interval, callback=callback, timeout_s=timeout_s
        )
        result: J = owner._run(flow)
        return result

    async def async_wait_for_done(
        self: J,
        sleep_interval: float = 5.0,
        callback: Callable[[J], object] | None = None,
        *,
        timeout_s: float | None = None,
    ) -> J:
        """The async :meth:`wait_for_done`, for jobs made by ``AsyncTwelveLabs``.

        Example:
            >>> await task.async_wait_for_done(sleep_interval=2)  # doctest: +SKIP
        """
        owner = self._owner_of(asynchronous=True)
        flow = wait_for_done(
            self, owner._ctx, sleep_interval=sleep_interval, callback=callback, timeout_s=timeout_s
        )
        result: J = await owner._run(flow)
        return result

    def _owner_of(self, *, asynchronous: bool) -> Any:
        owner = self.__dict__.get("_owner")
        if owner is None:
            raise InvalidRequestError(
                f"{self.kind.noun} {self.id} is not bound to a client (it was built by hand, "
                "copied or unpickled); use the client's wait() with its id"
            )
        if bool(getattr(owner, "_is_async", False)) != asynchronous:
            call = (
                "await job.async_wait_for_done(...)"
                if not asynchronous
                else "job.wait_for_done(...)"
            )
            raise InvalidRequestError(
                f"{self.kind.noun} {self.id} belongs to "
                f"{'an AsyncTwelveLabs' if not asynchronous else 'a TwelveLabs'} client; use {call}"
            )
        return owner


JobRef = str | Job
"""A job given by id or as the object a client returned."""


def job_id_of(ref: object, name: str = "task_id") -> str:
    """The id of a job given as an id or a job object, checked.

    Example:
        >>> job_id_of("t1"), job_id_of(Job("t2", "ready"))
        ('t1', 't2')
    """
    value = ref.id if isinstance(ref, Job) else ref
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{name} must be a non-empty string or a job, got {ref!r}")
    return value


def failure_reason_of(raw: dict[str, Any]) -> str | None:
    """The failure reason in a job object, whichever shape the kind uses.

    The API says why in ``error.message`` (embeddings, analysis, assets), ``error_reason``,
    or (older objects) ``error_message`` / ``reason``.

    Example:
        >>> failure_reason_of({"error": {"code": "user_canceled", "message": "stopped"}})
        'stopped'
        >>> failure_reason_of({"error_reason": "video_file_broken"})
        'video_file_broken'
    """
    for key in ("error", "error_reason", "error_message", "reason", "message"):
        value = raw.get(key)
        if isinstance(value, dict):
            value = value.get("message") or value.get("code")
        if isinstance(value, str) and value:
            return value
    return None


@runtime_checkable
class EventSource(Protocol):
    """Where events about jobs arrive without polling (a webhook receiver).

    A wait subscribes a :class:`~tl_integrations._flows.Signal` that the source sets when
    an event arrives, and reads the newest event of each job it waits for. Events are the
    ``data`` objects of the API's webhooks (``{"id", "status", ...}``).

    Example:
        >>> class Nothing:
        ...     def subscribe(self, signal: Signal) -> Callable[[], None]:
        ...         return lambda: None
        ...     def latest(self, job_ids: Collection[str]) -> dict[str, Mapping[str, Any]]:
        ...         return {}
        >>> isinstance(Nothing(), EventSource)
        True
    """

    def subscribe(self, signal: Signal) -> Callable[[], None]:
        """Set ``signal`` on every new event until the returned function is called."""

    def latest(self, job_ids: Collection[str]) -> dict[str, Mapping[str, Any]]:
        """The newest event's data for each of ``job_ids`` that has one."""


EVENT_FALLBACK_POLL_S = 60.0
"""With an event source attached, waits still poll, this rarely, so that a lost or late
event never hangs a wait."""


class TaskKind(Generic[J]):
    """What the engine needs to know about one kind of job; subclass and override.

    Attributes:
        noun: how messages name one job (``"task"``, ``"asset"``...).
        ready / failed: the terminal statuses (any other status counts as pending,
            including ones this library does not know).
        pending: the known non-terminal statuses (used in list filters).
        slow: statuses during which the work scales with the media's duration.
        evented: the API sends a webhook when one of these jobs ends (see
            :meth:`from_event`); with an event source attached, waits for such jobs poll
            only as a slow safety net. Other kinds are polled at their usual pace.

    Example:
        >>> TaskKind().retrieve("t1")
        Traceback (most recent call last):
        ...
        NotImplementedError: TaskKind.retrieve
    """

    noun: ClassVar[str] = "job"
    ready: ClassVar[frozenset[str]] = frozenset({"ready"})
    failed: ClassVar[frozenset[str]] = frozenset({"failed"})
    pending: ClassVar[tuple[str, ...]] = ()
    slow: ClassVar[frozenset[str]] = frozenset({"indexing", "processing"})
    evented: ClassVar[bool] = False

    @property
    def terminal(self) -> frozenset[str]:
        """Ready and failed statuses together."""
        return self.ready | self.failed

    def retrieve(self, job_id: str) -> Request:
        """The request that reads one job."""
        raise NotImplementedError(f"{type(self).__name__}.retrieve")

    def parse(self, reply: Reply, *, like: J | None) -> J:
        """The job in a retrieve reply; ``like`` is the job as last known (fills gaps)."""
        raise NotImplementedError(f"{type(self).__name__}.parse")

    def group(self, job: J) -> Hashable | None:
        """Jobs with the same group are listed together; None: read one by one."""
        return None

    def listings(self, group: Hashable, ids: Sequence[str]) -> list[Request]:
        """Requests (each walked through its pages) that list the group's pending jobs."""
        return []

    def finished_listing(self, group: Hashable) -> Request | None:
        """One page of the group's most recently finished jobs (optional)."""
        return None

    def parse_item(self, item: Any, group: Hashable) -> J:
        """One job of a list page."""
        raise NotImplementedError(f"{type(self).__name__}.parse_item")

    def failure(self, job: J) -> TaskFailedError:
        """The error for a job that ended failed."""
        return TaskFailedError(job.id, reason=job.failure_reason, task=job, noun=self.noun)

    def from_event(self, data: Mapping[str, Any], like: J | None) -> J | None:
        """The job as a webhook event describes it (``like``: as last known), or None when
        the event is not enough (the job is then read)."""
        return None


_GENERIC: TaskKind[Any] = TaskKind()


def fetch(kind: TaskKind[J], ref: str | Job, ctx: Context, *, like: J | None = None) -> Flow[J]:
    """Read one job, given as its id or as a job object.

    The id is checked once, by the kind's ``retrieve`` (the id goes into a URL path).
    """
    job_id = ref.id if isinstance(ref, Job) else ref
    reply = yield from send(kind.retrieve(job_id), ctx)
    job = kind.parse(reply, like=like)
    if job.id != job_id:
        raise MalformedResponseError(
            f"asked for {kind.noun} {job_id} and the server answered with {job.id}"
        )
    job.__dict__["_owner"] = ctx.owner  # job._bind(ctx.owner), inline: every read ends here
    return job


Locate = Callable[[str, Context], Flow[Job]]
"""Reads a job given only its id (for kinds that must be probed, e.g. embedding tasks)."""


def _reader(kind: TaskKind[Any] | None, locate: Locate | None) -> Locate:
    if locate is not None:
        return locate
    assert kind is not None, "wait needs a kind or a locate function"

    def read(job_id: str, ctx: Context) -> Flow[Job]:
        job: Job = yield from fetch(kind, job_id, ctx)
        return job

    return read


def _finished(job: Job, raise_on_failed: bool) -> bool:
    if job.ready:
        return True
    if not job.failed:
        return False
    if raise_on_failed:
        raise job.kind.failure(job)
    return True


def wait(
    ref: JobRef,
    ctx: Context,
    *,
    kind: TaskKind[Any] | None = None,
    locate: Locate | None = None,
    timeout_s: float | None = None,
    policy: PollPolicy | None = None,
    on_update: Callable[[Any], object] | None = None,
    on_check: Callable[[Any], object] | None = None,
    raise_on_failed: bool = True,
) -> Flow[Any]:
    """Poll one job until it is ready (returned) or failed (raised), within ``timeout_s``.

    A job object passed in is updated in place and returned; an id gets a fresh job.

    Raises:
        TaskFailedError: the job failed (and ``raise_on_failed``).
        TaskTimeoutError: the deadline passed (never slept past); the job keeps running.
        AuthenticationError, NotFoundError...: permanent errors, at once.
    """
    job_id = job_id_of(ref)
    read = _reader(
        kind if kind is not None else (ref.kind if isinstance(ref, Job) else None), locate
    )
    noun = (kind or (ref.kind if isinstance(ref, Job) else _GENERIC)).noun
    state = PollState(
        job_id=job_id, policy=policy or ctx.poll, clock=ctx.clock, timeout_s=timeout_s, noun=noun
    )
    known = kind or (ref.kind if isinstance(ref, Job) else None)
    if ctx.events is not None and on_check is None and (known is None or known.evented):
        # Events finish the job without polling; WaitMany knows how to listen for them.
        many = WaitMany([ref], ctx, locate=read, timeout_s=timeout_s, on_update=on_update)
        finished, _ = yield from emitted(many.flow())
        done: Job = finished[0]
        if isinstance(ref, Job):
            ref.update_from(done)
            done = ref
        _finished(done, raise_on_failed)
        return done
    inner = ctx.until(_last_look(state))
    while True:
        try:
            fresh = yield from read(job_id, inner)
        except TRANSIENT_ERRORS as error:
            yield Sleep(state.after_error(error))
            continue
        except DeadlinePassed:
            raise state.timeout_error() from None
        state.noun = fresh.kind.noun
        if isinstance(ref, Job):
            ref.update_from(fresh)
            fresh = ref
        if state.observe(fresh.status) and on_update is not None:
            yield Call(on_update, (fresh,))
        if on_check is not None:
            yield Call(on_check, (fresh,))
        if _finished(fresh, raise_on_failed):
            return fresh
        yield Sleep(state.next_delay_s(status=fresh.status, duration_s=fresh.duration_s))


FINISHED_PAGES_MAX = 20
"""A wait_many round reads at most this many pages of the newest finished jobs to find those
that left the pending listing; any job they do not show is read by itself."""

LAST_LOOK_S = 2.0
"""A wait looks once more at its deadline; that last look may take this long at most."""


def _last_look(state: PollState) -> float | None:
    # Requests made inside a wait get only the time left before its deadline, except the
    # last look, made at the deadline itself, which gets LAST_LOOK_S (bounded overrun).
    if state.deadline is None:
        return None
    return state.deadline + min(LAST_LOOK_S, state.timeout_s or LAST_LOOK_S)


def wait_for_done(
    job: J,
    ctx: Context,
    *,
    sleep_interval: float = 5.0,
    callback: Callable[[J], object] | None = None,
    timeout_s: float | None = None,
) -> Flow[J]:
    """The official SDK's ``wait_for_done``: fixed interval, callback after every check.

    Returns the job (updated in place) once it is terminal, failed included.
    """
    if (
        isinstance(sleep_interval, bool)
        or not isinstance(sleep_interval, (int, float))
        or not (0 < sleep_interval < float("inf"))
    ):
        raise InvalidRequestError(f"sleep_interval must be > 0 seconds, got {sleep_interval!r}")
    fixed = dataclasses.replace(
        PollPolicy.fixed(float(sleep_interval)),
        max_consecutive_errors=ctx.poll.max_consecutive_errors,
    )
    yield from wait(
        job,
        ctx,
        timeout_s=timeout_s,
        policy=fixed,
        on_check=callback,
        raise_on_failed=False,
    )
    return job


# --- creating -----------------------------------------------------------------------------


class Creation(Generic[R]):
    """One create: what it sends, how to read the answer, how to find it when lost.

    Subclasses override :meth:`created` and, when the API offers a way to recognise the
    job, :meth:`find`. ``request.retry`` says whether the create itself is safe to repeat
    (an idempotency key: ``"always"``).

    Example:
        >>> Creation(Request("POST", "/analyze/tasks", retry="always")).request.retry
        'always'
    """

    def __init__(self, request: Request) -> None:
        self.request = request

    def created(self, reply: Reply) -> R:
        """The job in the create's answer."""
        raise NotImplementedError(f"{type(self).__name__}.created")

    def find(self, ctx: Context, error: TwelveLabsError, started: float) -> Flow[R | None]:
        """The job a create whose answer was lost made after all, None when it made none.

        Raise ``error`` when the server may have stored it but it cannot be told apart
        (sending again could pay twice). The default knows no way: it re-raises.

        Args:
            ctx: the client's settings.
            error: the failure of the attempt.
            started: ``ctx.clock()`` when the attempt began.
        """
        raise error
        yield  # pragma: no cover - makes this a generator


def create(creation: Creation[R], ctx: Context) -> Flow[R]:
    """Send a create; never pay twice when its answer is lost.

    A create that never reached the server (or got a 429) is retried by :func:`send`. After
    a 5xx, a timeout or a dropped connection the request may have been stored: the creation
    looks for what it made; only when it made nothing is it sent again (with backoff).

    Raises:
        TwelveLabsError: the create failed, or its outcome cannot be known.
    """
    attempt = 0
    while True:
        started = ctx.clock()
        try:
            reply = yield from send(creation.request, ctx)
            return _bound(creation.created(reply), ctx)
        except (ServerError, APIConnectionError) as error:
            if creation.request.retry == "always" or not may_have_arrived(error):
                raise
            found = yield from creation.find(ctx, error, started)
            if found is not None:
                logger.debug(
                    "%s was handled despite %s", creation.request.label, type(error).__name__
                )
                return _bound(found, ctx)
            delay = _redo_delay(ctx, attempt, error)
            if delay is None or not creation.request.resendable:
                raise
            logger.debug(
                "%s was not handled; sending again in %.2f s", creation.request.label, delay
            )
            yield Sleep(delay)
            attempt += 1


def _bound(made: R, ctx: Context) -> R:
    if isinstance(made, Job):
        made._bind(ctx.owner)
    return made


def _redo_delay(ctx: Context, attempt: int, error: TwelveLabsError) -> float | None:
    status = getattr(error, "status_code", None)
    outcome = Outcome(
        status_code=status if isinstance(status, int) else None,
        transport_failure=None if isinstance(status, int) else "maybe_sent",
        idempotent=True,
    )
    return ctx.retry.decide(attempt, outcome)


# --- waiting for many ---------------------------------------------------------------------


@dataclass
class _Plan:
    groups: dict[tuple[TaskKind[Any], Hashable], list[str]] = field(default_factory=dict)
    singles: list[str] = field(default_factory=list)


class WaitMany:
    """The state of one ``wait_many``: who is pending, who finished, who may still join.

    The resources wrap it in an iterable (``for job in client.tasks.wait_many(ids)``);
    :meth:`add` lets jobs join while it runs and :meth:`close` says no more will come.
    Failed jobs are yielded, not raised, so every outcome is seen.

    Args:
        refs: jobs (or ids) to wait for.
        ctx: the client's settings.
        locate: reads a job given only its id.
        timeout_s: deadline for the whole wait, in seconds.
        on_update: called with each job whenever its status changes.
        open: True keeps the wait going while nothing is pending, until :meth:`close`.
        fallback_poll_s: with an event source, seconds between the safety-net list rounds
            (default :data:`EVENT_FALLBACK_POLL_S`).

    Example:
        >>> from tl_integrations._polling import PollPolicy
        >>> from tl_integrations._retrying import RetryPolicy
        >>> waiting = WaitMany([], Context(RetryPolicy(), PollPolicy(), clock=lambda: 0.0),
        ...                    locate=lambda job_id, ctx: iter(()))
        >>> waiting.pending_ids()
        []
    """

    def __init__(
        self,
        refs: Iterable[JobRef],
        ctx: Context,
        *,
        locate: Locate,
        timeout_s: float | None = None,
        on_update: Callable[[Any], object] | None = None,
        open: bool = False,
        fallback_poll_s: float = EVENT_FALLBACK_POLL_S,
    ) -> None:
        if not fallback_poll_s > 0:
            raise InvalidRequestError(
                f"fallback_poll_s must be > 0 seconds, got {fallback_poll_s!r}"
            )
        self._fallback_poll_s = float(fallback_poll_s)
        self._ctx = ctx
        self._locate = locate
        self._on_update = on_update
        self._lock = threading.Lock()
        self._pending: dict[str, Job | None] = {}
        self._odd: set[str] = set()
        self._seen: dict[str, str] = {}
        self._closed = not open
        self._changed: list[Job] = []
        self._finished: set[str] = set()
        self._to_read: set[str] = set()  # jobs an event says changed, but not enough to build
        self.wake = Signal()
        self.waited = 0
        self.rounds = 0
        self.state = PollState(
            job_id="", policy=ctx.poll, clock=ctx.clock, timeout_s=timeout_s, noun="job"
        )
        self.add(*refs)

    def add(self, *refs: JobRef) -> None:
        """Let jobs join the wait (thread-safe); a job already waited for, or already
        yielded by this wait, is ignored."""
        ids = [(job_id_of(ref), ref if isinstance(ref, Job) else None) for ref in refs]
        with self._lock:
            idle = not self._pending
            for job_id, job in ids:
                if job_id in self._finished:
                    continue
                if job_id not in self._pending:
                    self.waited += 1
                self._pending.setdefault(job_id, job)
                if job is not None:
                    self._pending[job_id] = job
        if ids and idle:
            self.wake.set()

    def close(self) -> None:
        """No more jobs will join: the wait ends once the pending ones finish."""
        with self._lock:
            self._closed = True
        self.wake.set()

    def pending_ids(self) -> list[str]:
        """The ids still pending, in the order they joined."""
        with self._lock:
            return list(self._pending)

    def flow(self) -> Flow[None]:
        """Emit each job as it finishes (ready or failed), in finishing order.

        With an event source on the context (webhooks), events finish jobs without any
        request, and a list round runs only every ``fallback_poll_s`` (or for a
        job whose event needs a read), so a lost event never hangs the wait.
        """
        inner = self._ctx.until(_last_look(self.state))
        events: EventSource | None = self._ctx.events
        heard = Signal()
        stop = events.subscribe(heard) if events is not None else None
        next_round = self._ctx.clock()
        try:
            while True:
                with self._lock:
                    pending, closed = bool(self._pending), self._closed
                if not pending:
                    if closed:
                        return
                    yield Until(self.wake)  # nothing to poll: wait for a job to join, or close()
                    continue
                arrived = self._arrived_done()
                for job in arrived:
                    yield Emit(job)  # it can change no more: no request, whatever the deadline
                if arrived:
                    continue
                finished = self._from_events(events) if events is not None else []
                full = self._ctx.clock() >= next_round
                if full or self._to_read:
                    try:
                        finished += yield from self._round(inner, full=full)
                    except TRANSIENT_ERRORS as error:
                        yield Sleep(self.state.after_error(error, self.pending_ids()))
                        continue
                    except DeadlinePassed:
                        raise self._timeout() from None
                    if full:
                        listening = events is not None and self._all_evented()
                        next_round = self._ctx.clock() + (
                            self._fallback_poll_s if listening else 0.0
                        )
                for job in finished:
                    yield Emit(job)
                if self.pending_ids():
                    if events is None or not self._all_evented():
                        # Jobs that get no events (or not known yet) are polled as usual.
                        wake = self.wake if events is None else heard
                        yield Sleep(self._next_delay_s(), wake=wake)
                    else:
                        until_round = max(0.0, next_round - self._ctx.clock())
                        yield Sleep(self._clip(until_round), wake=heard)
        finally:
            if stop is not None:
                stop()

    def _arrived_done(self) -> list[Job]:
        """Jobs handed in (or added) already finished: they are yielded as they are."""
        finished: list[Job] = []
        with self._lock:
            for job_id, job in list(self._pending.items()):
                if job is not None and job.done:
                    del self._pending[job_id]
                    self._finished.add(job_id)
                    job._bind(self._ctx.owner)
                    finished.append(job)
        return finished

    def _all_evented(self) -> bool:
        """Whether every pending job is known and of a kind whose end comes as an event."""
        with self._lock:
            return all(job is not None and job.kind.evented for job in self._pending.values())

    def _from_events(self, events: EventSource) -> list[Job]:
        """Absorb what the events say; a job whose event is not enough is read next round."""
        finished: list[Job] = []
        with self._lock:
            entries = dict(self._pending)
        for job_id, data in events.latest(list(entries)).items():
            known = entries.get(job_id)
            kind = known.kind if known is not None else None
            job = kind.from_event(data, known) if kind is not None else None
            status = data.get("status")
            if job is None:
                if isinstance(status, str) and status != self._seen.get(job_id):
                    self._to_read.add(job_id)
                continue
            self._absorb(job, finished)
        return finished

    def _clip(self, delay_s: float) -> float:
        try:
            return self.state.clip(delay_s, self.pending_ids())
        except TaskTimeoutError:
            raise self._timeout() from None

    def _timeout(self) -> TaskTimeoutError:
        ids = self.pending_ids()
        first = self._pending.get(ids[0]) if ids else None
        self.state.last_status = None if first is None else first.status
        self.state.noun = first.kind.noun if first is not None else "job"
        return self.state.timeout_error(ids)

    def _plan(self) -> _Plan:
        plan = _Plan()
        by_group: dict[tuple[TaskKind[Any], Hashable], list[str]] = {}
        with self._lock:
            entries = list(self._pending.items())
        for job_id, job in entries:
            group = None if job is None or job_id in self._odd else job.kind.group(job)
            if job is None or group is None:
                plan.singles.append(job_id)
            else:
                by_group.setdefault((job.kind, group), []).append(job_id)
        for key, ids in by_group.items():
            if len(ids) >= 2:
                plan.groups[key] = ids
            else:
                plan.singles.extend(ids)
        return plan

    def _round(self, ctx: Context, *, full: bool = True) -> Flow[list[Job]]:
        self.rounds += 1
        plan = self._plan()
        if not full:
            # Between fallback rounds only the jobs events named are read, one by one.
            plan = _Plan(singles=[i for i in self._to_read if i in self._pending])
        self._to_read.clear()
        logger.debug(
            "wait_many round %d: %d pending, %d lists, %d single reads",
            self.rounds,
            len(self._pending),
            len(plan.groups),
            len(plan.singles),
        )
        finished: list[Job] = []
        for (kind, group), ids in plan.groups.items():
            listed: list[Job] = []
            parse = functools.partial(kind.parse_item, group=group)
            for request in kind.listings(group, ids):
                listed += yield from collect(request, ctx, f"{kind.noun} list", parse)
            gone = self._absorb_listing(ids, listed, finished)
            finished_request = kind.finished_listing(group)
            if len(gone) >= 2 and finished_request is not None:
                gone = yield from self._recently_finished(
                    finished_request, ctx, f"{kind.noun} list", parse, gone, finished
                )
            plan.singles.extend(gone)
        for job_id in plan.singles:
            job = yield from self._read(job_id, ctx)
            self._absorb(job, finished)
            if not job.done and job.status not in job.kind.pending:
                self._odd.add(job.id)
        with self._lock:
            changed, self._changed = self._changed, []
        if self._on_update is not None:
            for job in changed:
                yield Call(self._on_update, (job,))
        finished.sort(key=lambda job: job.updated_at or "")
        return finished

    def _read(self, job_id: str, ctx: Context) -> Flow[Job]:
        """One job read alone. A known job is read by its own kind when its id is enough,
        since one wait may hold several kinds (indexing and analysis tasks together) and
        ``locate`` reads only the resource's own; others go through ``locate``."""
        with self._lock:
            known = self._pending.get(job_id)
        if known is not None:
            try:
                known.kind.retrieve(job_id)
            except (InvalidRequestError, NotImplementedError):  # read with more than an id
                known = None
        if known is None:
            located: Job = yield from self._locate(job_id, ctx)
            return located
        job: Job = yield from fetch(known.kind, job_id, ctx, like=known)
        return job

    def _recently_finished(
        self,
        request: Request,
        ctx: Context,
        what: str,
        parse: Callable[[Any], Job],
        gone: list[str],
        finished: list[Job],
    ) -> Flow[list[str]]:
        """Read pages of the newest finished jobs until every job in ``gone`` (those that
        left the pending listing) is found, or :data:`FINISHED_PAGES_MAX` pages were read;
        return those still not found (they are read one by one).

        A burst of 500 jobs finishing between two rounds costs about 10 requests, not 500.
        """
        page, previous = 1, None
        while gone and page <= FINISHED_PAGES_MAX:
            body = yield from send_json(request.page(page), ctx)
            items, total_page = parse_page(body, what)
            check_new_page(items, previous, page, what)
            gone = self._absorb_listing(gone, [parse(item) for item in items], finished)
            if not more_pages(items, page, total_page):
                break
            page, previous = page + 1, items
        return gone

    def _absorb(self, job: Job, finished: list[Job]) -> None:
        job._bind(self._ctx.owner)
        with self._lock:
            if job.id not in self._pending:
                return
            if self._seen.get(job.id) != job.status:
                self._seen[job.id] = job.status
                self._changed.append(job)
            if job.done:
                del self._pending[job.id]
                self._finished.add(job.id)
                finished.append(job)
            else:
                self._pending[job.id] = job

    def _absorb_listing(self, ids: list[str], listed: list[Job], finished: list[Job]) -> list[str]:
        seen: set[str] = set()
        for job in listed:
            seen.add(job.id)
            self._absorb(job, finished)
        with self._lock:
            return [job_id for job_id in ids if job_id in self._pending and job_id not in seen]

    def _next_delay_s(self) -> float:
        # A round costs one request per shared group (or per lone job), so it can look often;
        # many jobs in different groups cost one request each and back off further.
        plan = self._plan()
        pending = len(self.pending_ids())
        if plan.groups or pending == 1:
            interval = self._ctx.poll.batch_interval_s(
                self.rounds, pending=pending, waited=self.waited, per_request=PAGE_LIMIT_MAX
            )
        else:
            interval = self._ctx.poll.interval_s(self.rounds)
        try:
            return self.state.clip(interval, self.pending_ids())
        except TaskTimeoutError:
            raise self._timeout() from None
