"""Sans-I/O flows and the two drivers that run them.

Orchestration (send with retries, create and recover, wait, wait_many rounds, paging,
multipart uploads) is written once, as *flows*: generators that yield steps and receive
their results. A flow never does I/O and never sleeps; it asks:

- :class:`Attempt`: send one HTTP attempt (the driver answers with a
  :class:`~tl_integrations._transport.Reply`, or throws the ``httpx.TransportError`` into the
  flow);
- :class:`Sleep`: pause, possibly woken early by a :class:`Signal`;
- :class:`Emit`: hand an item to whoever iterates the flow (lists, waits that yield jobs);
- :class:`Gather`: run several sub-flows concurrently (chunk uploads, text embeddings);
- :class:`Call`: call a user callback (awaited when it returns an awaitable).

:class:`SyncDriver` and :class:`AsyncDriver` are the only code that differs between the sync
and async clients: each is a small loop over the same steps (the pattern of httpx's
``Auth.auth_flow`` and tenacity's ``BaseRetrying.iter``).

Example:
    >>> def countdown(n: int) -> Flow[str]:
    ...     while n:
    ...         yield Emit(n)
    ...         yield Sleep(0.0)
    ...         n -= 1
    ...     return "lift-off"
    >>> driver = SyncDriver(transport=None, sleep=lambda s: None)
    >>> list(driver.iterate(countdown(3)))
    [3, 2, 1]
    >>> driver.run(countdown(0))
    'lift-off'
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import queue
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from ._polling import PollPolicy
    from ._retrying import RetryPolicy
    from ._transport import AsyncTransport, Request, SyncTransport

__all__ = [
    "AsyncDriver",
    "Attempt",
    "Call",
    "Cancelled",
    "Context",
    "DeadlinePassed",
    "Emit",
    "Event",
    "Flow",
    "Gather",
    "Next",
    "ReadLine",
    "Signal",
    "Sleep",
    "Spawn",
    "SyncDriver",
    "TaskGroup",
    "Until",
    "emitted",
]

T = TypeVar("T")

Flow = Generator[Any, Any, T]
"""A generator that yields steps (:class:`Attempt`, :class:`Sleep`...) and returns a T."""


@dataclass(frozen=True)
class Attempt:
    """Send ``request`` once; ``timeout_s`` bounds the whole exchange (None: no bound).

    Example:
        >>> from tl_integrations._transport import Request
        >>> Attempt(Request("GET", "/indexes"), timeout_s=5.0).timeout_s
        5.0
    """

    request: Request
    timeout_s: float | None


@dataclass(frozen=True)
class ReadLine:
    """The next line of a streamed reply (``reply.lines``); None at its end.

    Example:
        >>> ReadLine(lines=None).lines is None
        True
    """

    lines: Any


@dataclass(frozen=True)
class Sleep:
    """Pause for ``seconds``; a set ``wake`` signal ends the pause early.

    Example:
        >>> Sleep(1.5).seconds
        1.5
    """

    seconds: float
    wake: Signal | None = None


@dataclass(frozen=True)
class Until:
    """Wait until ``signal`` is set (then lower it): waiting for work, not for time.

    Unlike :class:`Sleep` it never goes through an injected sleep function, so a test's
    fake clock does not jump while a flow waits for another thread or task to hand it work.

    Example:
        >>> def once_set(signal: Signal) -> Flow[str]:
        ...     yield Until(signal)
        ...     return "woken"
        >>> ready = Signal(); ready.set()
        >>> SyncDriver(transport=None).run(once_set(ready)), ready.is_set()
        ('woken', False)
    """

    signal: Signal


@dataclass(frozen=True)
class Emit:
    """Hand ``item`` to the caller iterating the flow.

    Example:
        >>> Emit("t1").item
        't1'
    """

    item: Any


@dataclass(frozen=True)
class Gather:
    """Run flows made by ``factories`` at most ``limit`` at a time; results in order.

    The first error stops the flows that have not started and is raised into the parent
    flow once the running ones have ended.

    Example:
        >>> Gather((lambda: iter(()),), limit=4).limit
        4
    """

    factories: Sequence[Callable[[], Flow[Any]]]
    limit: int


@dataclass(frozen=True)
class Call:
    """Call ``fn(*args)``; an awaitable result is awaited by the async driver.

    ``blocking=True`` marks work that blocks (hashing a file): the async driver runs it in
    a worker thread so the event loop goes on.

    Example:
        >>> Call(print, ("ready",)).args
        ('ready',)
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    blocking: bool = False


def emitted(flow: Flow[T]) -> Flow[tuple[list[Any], T]]:
    """Run ``flow`` inside another flow, collecting what it emits instead of passing it on.

    Example:
        >>> def numbers() -> Flow[str]:
        ...     yield Emit(1)
        ...     yield Emit(2)
        ...     return "done"
        >>> SyncDriver(transport=None).run(emitted(numbers()))
        ([1, 2], 'done')
    """
    items: list[Any] = []
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = flow.send(value) if error is None else flow.throw(error)
        except StopIteration as stop:
            return items, stop.value
        value = error = None
        if isinstance(step, Emit):
            items.append(step.item)
            continue
        try:
            value = yield step
        except GeneratorExit:
            flow.close()
            raise
        except BaseException as exc:  # the driver's answer is an error: the inner flow decides
            error = exc


class Signal:
    """A flag that ends a :class:`Sleep` early; safe to set from any thread.

    A wait sleeping between polls listens to one; a webhook event or a job joining the wait
    sets it, so the wait looks again at once instead of at its next poll.

    Example:
        >>> signal = Signal()
        >>> signal.is_set()
        False
        >>> signal.set(); signal.is_set()
        True
        >>> signal.clear(); signal.is_set()
        False
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set = False
        self._listeners: list[Callable[[], object]] = []

    def set(self) -> None:
        """Raise the flag and wake every sleeper."""
        with self._lock:
            self._set = True
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def clear(self) -> None:
        """Lower the flag (the listener of a sleep clears it once woken)."""
        with self._lock:
            self._set = False

    def is_set(self) -> bool:
        """Whether the flag is up."""
        with self._lock:
            return self._set

    def _listen(self, listener: Callable[[], object]) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)
            already = self._set
        if already:
            listener()

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop


class Cancelled(Exception):
    """Raised out of a child flow whose task group was closed before it ended.

    Example:
        >>> isinstance(Cancelled(), Exception)
        True
    """


class TaskGroup:
    """A set of child flows running side by side, whose events the parent takes one by one.

    The parent flow yields :class:`Spawn` to start a child (at most ``limit`` run at once;
    others queue) and :class:`Next` to receive the next :class:`Event` of any child: an item
    it emitted, its return value, or its error. The driver closes the group (cancelling
    children still running) when the parent flow ends.

    Example:
        >>> def child(n: int) -> Flow[int]:
        ...     yield Emit(f"child {n} working")
        ...     return n * 10
        >>> def parent() -> Flow[list[int]]:
        ...     group = TaskGroup(limit=2)
        ...     for n in (1, 2):
        ...         yield Spawn(group, n, lambda n=n: child(n))
        ...     done = []
        ...     while len(done) < 2:
        ...         event = yield Next(group)
        ...         if event.kind == "done":
        ...             done.append(event.value)
        ...     return sorted(done)
        >>> SyncDriver(transport=None).run(parent())
        [10, 20]
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a task group needs limit >= 1, got {limit}")
        self.limit = limit


@dataclass(frozen=True)
class Spawn:
    """Start ``make()`` as a child flow of ``group``; its events carry ``key``.

    Example:
        >>> Spawn(TaskGroup(1), "a.mp4", lambda: iter(())).key
        'a.mp4'
    """

    group: TaskGroup
    key: Any
    make: Callable[[], Flow[Any]]


@dataclass(frozen=True)
class Next:
    """Wait for the next :class:`Event` of ``group``'s children.

    Example:
        >>> Next(TaskGroup(1)).group.limit
        1
    """

    group: TaskGroup


@dataclass(frozen=True)
class Event:
    """Something a child flow did: ``emit`` (``value`` is the item), ``done`` (its return
    value) or ``error`` (the exception).

    Example:
        >>> Event("a.mp4", "done", 3).kind
        'done'
    """

    key: Any
    kind: Literal["emit", "done", "error"]
    value: Any


G = TypeVar("G")
D = TypeVar("D")


def _running(group: TaskGroup, groups: dict[int, G], make: Callable[[D, int], G], driver: D) -> G:
    """The running form of ``group`` within one drive: made (``make(driver, limit)``) at
    the group's first step, the same one after."""
    runtime = groups.get(id(group))
    if runtime is None:
        runtime = groups[id(group)] = make(driver, group.limit)
    return runtime


class SyncDriver:
    """Runs flows with blocking I/O: ``transport.attempt`` and ``sleep``.

    Args:
        transport: sends one attempt (a :class:`~tl_integrations._transport.SyncTransport`).
        sleep: the sleep function; the default sleeps on a threading event, so a
            :class:`Signal` can cut it short. An injected one (a test's fake clock) is
            called as it is, once the signal is checked.
        cancel: a signal that stops this driver's flow at its next step (task groups).

    Example:
        >>> def two() -> Flow[int]:
        ...     yield Sleep(0.0)
        ...     return 2
        >>> SyncDriver(transport=None).run(two())
        2
    """

    def __init__(
        self,
        transport: SyncTransport | None,
        sleep: Callable[[float], None] | None = None,
        *,
        cancel: Signal | None = None,
    ) -> None:
        self.transport = transport
        self._sleep = sleep
        self._cancel = cancel

    def run(self, flow: Flow[T]) -> T:
        """Run ``flow`` to its end and return its value (it must not emit)."""
        steps = self._drive(flow)
        try:
            item = next(steps)
        except StopIteration as stop:
            result: T = stop.value
            return result
        steps.close()
        raise TypeError(f"a flow run for its value emitted {item!r}; iterate it instead")

    def iterate(self, flow: Flow[Any]) -> Iterator[Any]:
        """Run ``flow``, yielding what it emits; closing the iterator closes the flow."""
        return self._drive(flow)

    def _drive(self, flow: Flow[T]) -> Generator[Any, None, T]:
        # What goes back into the flow next: a value, or an error (never both).
        value: Any = None
        error: BaseException | None = None
        groups: dict[int, _ThreadGroup] = {}
        streams: list[Any] = []
        failed = True
        try:
            while True:
                try:
                    step = flow.send(value) if error is None else flow.throw(error)
                except StopIteration as stop:
                    failed = False
                    result: T = stop.value
                    return result
                value = error = None
                if isinstance(step, Emit):
                    yield step.item
                    continue
                if self._cancel is not None and self._cancel.is_set():
                    raise Cancelled()
                try:
                    # Attempts are most steps: sent here, without the dispatch of _perform.
                    if type(step) is Attempt and self.transport is not None:
                        value = self.transport.attempt(step.request, timeout_s=step.timeout_s)
                    else:
                        value = self._perform(step, groups)
                except Exception as exc:  # delivered into the flow, which decides
                    error = exc
                if getattr(value, "lines", None) is not None:
                    streams.append(value.lines)
        finally:
            for group in groups.values():
                group.close(wait=not failed)
            for lines in streams:
                lines.close()
            flow.close()

    def _perform(self, step: Any, groups: dict[int, _ThreadGroup]) -> Any:
        if isinstance(step, Attempt):
            assert self.transport is not None, "this driver has no transport"
            return self.transport.attempt(step.request, timeout_s=step.timeout_s)
        if isinstance(step, Sleep):
            return self.sleep(step.seconds, wake=step.wake)
        if isinstance(step, Until):
            return self._until(step.signal)
        if isinstance(step, ReadLine):
            return step.lines.next_line()
        if isinstance(step, Call):
            return step.fn(*step.args)
        if isinstance(step, Gather):
            return self._gather(step)
        if isinstance(step, Spawn):
            return _running(step.group, groups, _ThreadGroup, self).spawn(step.key, step.make)
        if isinstance(step, Next):
            return _running(step.group, groups, _ThreadGroup, self).next()
        raise TypeError(f"a flow yielded {step!r}, which is not a step")

    def child(self, cancel: Signal) -> SyncDriver:
        """A driver for a child flow: same transport and sleep, stopped by ``cancel``."""
        return SyncDriver(self.transport, self._sleep, cancel=cancel)

    def sleep(self, seconds: float, *, wake: Signal | None = None) -> None:
        """Sleep ``seconds`` (at most; a set ``wake`` ends it early)."""
        if wake is not None and wake.is_set():
            wake.clear()
            return
        if self._sleep is not None:
            self._sleep(max(0.0, seconds))
            return
        signals = [s for s in (wake, self._cancel) if s is not None]
        if not signals:
            time.sleep(max(0.0, seconds))
            return
        event = threading.Event()
        stops = [signal._listen(event.set) for signal in signals]
        try:
            event.wait(max(0.0, seconds))
        finally:
            for stop in stops:
                stop()
        if wake is not None:
            wake.clear()

    def _until(self, signal: Signal) -> None:
        event = threading.Event()
        stops = [s._listen(event.set) for s in (signal, self._cancel) if s is not None]
        try:
            event.wait()
        finally:
            for stop in stops:
                stop()
        signal.clear()

    def _gather(self, step: Gather) -> list[Any]:
        factories = list(step.factories)
        if len(factories) <= 1 or step.limit <= 1:
            return [self.run(make()) for make in factories]
        workers = min(step.limit, len(factories))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tl-flow") as pool:
            futures: list[Future[Any]] = [pool.submit(self.run, make()) for make in factories]
            wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in futures if f.done() and f.exception() is not None]
            if failed:
                for future in futures:
                    future.cancel()
                wait(futures)
                raise failed[0].exception()  # type: ignore[misc]
            return [future.result() for future in futures]


class _ThreadGroup:
    """A task group on threads: children run on a pool and report through a queue."""

    def __init__(self, driver: SyncDriver, limit: int) -> None:
        self._driver = driver
        self._pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="tl-group")
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._cancel = Signal()

    def spawn(self, key: Any, make: Callable[[], Flow[Any]]) -> None:
        self._pool.submit(self._run, key, make)

    def _run(self, key: Any, make: Callable[[], Flow[Any]]) -> None:
        if self._cancel.is_set():
            return
        steps = self._driver.child(self._cancel)._drive(make())
        try:
            while True:
                self._events.put(Event(key, "emit", next(steps)))
        except StopIteration as stop:
            self._events.put(Event(key, "done", stop.value))
        except BaseException as exc:  # the parent decides; a KeyboardInterrupt hits main
            self._events.put(Event(key, "error", exc))

    def next(self) -> Event:
        return self._events.get()

    def close(self, *, wait: bool) -> None:
        self._cancel.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)


class AsyncDriver:
    """Runs flows on asyncio: ``await transport.attempt`` and ``await sleep``.

    Args:
        transport: sends one attempt (an :class:`~tl_integrations._transport.AsyncTransport`).
        sleep: the coroutine function to sleep with (default ``asyncio.sleep``, cut short by
            a :class:`Signal`).

    Example:
        >>> def two() -> Flow[int]:
        ...     yield Sleep(0.0)
        ...     return 2
        >>> asyncio.run(AsyncDriver(transport=None).run(two()))
        2
    """

    def __init__(
        self,
        transport: AsyncTransport | None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.transport = transport
        self._sleep = sleep

    async def run(self, flow: Flow[T]) -> T:
        """Run ``flow`` to its end and return its value (it must not emit)."""

        async def refuse(item: Any) -> None:
            raise TypeError(f"a flow run for its value emitted {item!r}; iterate it instead")

        return await self._drive(flow, refuse)

    async def iterate(self, flow: Flow[Any]) -> AsyncIterator[Any]:
        """Run ``flow``, yielding what it emits; closing the iterator closes the flow."""
        items: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue(maxsize=1)

        async def hand_over(item: Any) -> None:
            await items.put((True, item))
            await items.join()  # the flow goes on only once the caller took the item

        async def drive() -> None:
            try:
                await self._drive(flow, hand_over)
            finally:
                await items.put((False, None))

        runner = asyncio.ensure_future(drive())
        try:
            while True:
                more, item = await items.get()
                if not more:
                    break
                yield item
                items.task_done()
            await runner  # raises the flow's error, if any
        finally:
            if not runner.done():
                runner.cancel()
                await asyncio.gather(runner, return_exceptions=True)

    async def _drive(self, flow: Flow[T], on_emit: Callable[[Any], Awaitable[None]]) -> T:
        value: Any = None  # what goes back into the flow next: a value, or an error
        error: BaseException | None = None
        groups: dict[int, _AsyncGroup] = {}
        streams: list[Any] = []
        try:
            while True:
                try:
                    step = flow.send(value) if error is None else flow.throw(error)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value = error = None
                if isinstance(step, Emit):
                    await on_emit(step.item)
                    continue
                try:
                    if type(step) is Attempt and self.transport is not None:
                        value = await self.transport.attempt(step.request, timeout_s=step.timeout_s)
                    else:
                        value = await self._perform(step, groups)
                except Exception as exc:  # delivered into the flow, which decides
                    error = exc
                if getattr(value, "lines", None) is not None:
                    streams.append(value.lines)
        finally:
            for group in groups.values():
                await group.close()
            for lines in streams:
                await lines.close()
            flow.close()

    async def _perform(self, step: Any, groups: dict[int, _AsyncGroup]) -> Any:
        if isinstance(step, Attempt):
            assert self.transport is not None, "this driver has no transport"
            return await self.transport.attempt(step.request, timeout_s=step.timeout_s)
        if isinstance(step, Sleep):
            return await self.sleep(step.seconds, wake=step.wake)
        if isinstance(step, Until):
            return await self._until(step.signal)
        if isinstance(step, ReadLine):
            return await step.lines.next_line()
        if isinstance(step, Call):
            if step.blocking:
                return await asyncio.to_thread(step.fn, *step.args)
            value = step.fn(*step.args)
            return await value if inspect.isawaitable(value) else value
        if isinstance(step, Gather):
            return await self._gather(step)
        if isinstance(step, Spawn):
            return _running(step.group, groups, _AsyncGroup, self).spawn(step.key, step.make)
        if isinstance(step, Next):
            return await _running(step.group, groups, _AsyncGroup, self).next()
        raise TypeError(f"a flow yielded {step!r}, which is not a step")

    async def sleep(self, seconds: float, *, wake: Signal | None = None) -> None:
        """Sleep ``seconds`` (at most; a set ``wake`` ends it early)."""
        if wake is not None and wake.is_set():
            wake.clear()
            return
        if self._sleep is not None:
            await self._sleep(max(0.0, seconds))
            return
        if wake is None:
            await asyncio.sleep(max(0.0, seconds))
            return
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        stop = wake._listen(lambda: loop.call_soon_threadsafe(event.set))
        try:
            await asyncio.wait_for(event.wait(), timeout=max(0.0, seconds))
        except asyncio.TimeoutError:
            pass
        finally:
            stop()
        wake.clear()

    async def _until(self, signal: Signal) -> None:
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        stop = signal._listen(lambda: loop.call_soon_threadsafe(event.set))
        try:
            await event.wait()
        finally:
            stop()
        signal.clear()

    async def _gather(self, step: Gather) -> list[Any]:
        gate = asyncio.Semaphore(max(1, step.limit))

        async def one(make: Callable[[], Flow[Any]]) -> Any:
            async with gate:
                return await self.run(make())

        jobs = [asyncio.ensure_future(one(make)) for make in step.factories]
        try:
            return list(await asyncio.gather(*jobs))
        except BaseException:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            raise


class _AsyncGroup:
    """A task group on asyncio: children are tasks under a semaphore, reporting to a queue."""

    def __init__(self, driver: AsyncDriver, limit: int) -> None:
        self._driver = driver
        self._gate = asyncio.Semaphore(limit)
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._tasks: set[asyncio.Future[None]] = set()

    def spawn(self, key: Any, make: Callable[[], Flow[Any]]) -> None:
        task = asyncio.ensure_future(self._run(key, make))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: Any, make: Callable[[], Flow[Any]]) -> None:
        async def emit(item: Any) -> None:
            self._events.put_nowait(Event(key, "emit", item))

        async with self._gate:
            try:
                value = await self._driver._drive(make(), emit)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self._events.put_nowait(Event(key, "error", exc))
                return
        self._events.put_nowait(Event(key, "done", value))

    async def next(self) -> Event:
        return await self._events.get()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class DeadlinePassed(Exception):
    """Raised into a flow when a request would start after its wait's deadline.

    Not a :class:`~tl_integrations.TwelveLabsError`: the wait that set the deadline turns it
    into :class:`~tl_integrations.TaskTimeoutError`, naming its jobs.

    Example:
        >>> isinstance(DeadlinePassed(), Exception)
        True
    """


@dataclass(frozen=True)
class Context:
    """The settings every flow of one client runs under.

    Attributes:
        retry: how requests are retried.
        poll: how jobs are polled.
        clock: monotonic seconds.
        timeout_s: the bound on one request attempt, whole (None: unbounded).
        deadline: a wait's deadline on ``clock`` (None: none); requests made inside the wait
            get only the time left.
        owner: the client the flows run for; jobs it returns are bound to it, so the
            official SDK's ``job.wait_for_done()`` works.
        budget: a shared request budget consulted before every attempt and told every
            answer (see :class:`~tl_integrations._transport.RequestBudget`); None: none.
        events: where job events arrive without polling (webhooks; see
            :class:`~tl_integrations._engine.EventSource`); None: waits poll.

    Example:
        >>> from tl_integrations._polling import PollPolicy
        >>> from tl_integrations._retrying import RetryPolicy
        >>> ctx = Context(RetryPolicy(), PollPolicy(), clock=lambda: 10.0, timeout_s=30.0)
        >>> ctx.until(12.0).attempt_timeout_s()
        2.0
    """

    retry: RetryPolicy
    poll: PollPolicy
    clock: Callable[[], float]
    timeout_s: float | None = None
    deadline: float | None = None
    owner: Any = None
    budget: Any = None
    events: Any = None

    def until(self, deadline: float | None) -> Context:
        """The same settings with a deadline (the earlier one wins when nested)."""
        if deadline is None:
            return self
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        return dataclasses.replace(self, deadline=deadline)

    def remaining_s(self) -> float | None:
        """Seconds left before the deadline, None without one."""
        return None if self.deadline is None else self.deadline - self.clock()

    def attempt_timeout_s(self) -> float | None:
        """The bound of the next attempt: the client's timeout, or less near a deadline.

        Raises:
            DeadlinePassed: no time is left.
        """
        remaining = self.remaining_s()
        if remaining is None:
            return self.timeout_s
        if remaining <= 0:
            raise DeadlinePassed()
        return remaining if self.timeout_s is None else min(self.timeout_s, remaining)
