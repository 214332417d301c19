"""The API's resources, one module each, sync and async classes side by side.

Each public method of a sync resource builds a flow and returns
``self._client._run(flow)`` (or ``_iterate`` / ``_waiting``). Run by an async client, the
very same method returns an awaitable (or an async iterator), so an async resource is
derived from its sync twin, method by method, with :func:`awaited`, :func:`streamed` and
:func:`waited`: one signature, one docstring, one body, and the async types for the type
checker (through ``ParamSpec``). Nothing is written twice, so nothing can drift.

Example:
    >>> class Greeter(Resource):
    ...     def hello(self, name: str) -> str:
    ...         '''Say hello.'''
    ...         return f"hello {name}"
    >>> class AsyncGreeter(AsyncResource):
    ...     hello = awaited(Greeter.hello)
    >>> AsyncGreeter.hello.__doc__, inspect.iscoroutinefunction(AsyncGreeter.hello)
    ('Say hello.', True)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, cast

from .._engine import Job, Locate, WaitMany, job_id_of, wait, wait_for_done
from .._errors import InvalidRequestError
from .._flows import Context, Flow

if TYPE_CHECKING:
    from .._client import AsyncTwelveLabs, TwelveLabs

__all__ = [
    "AsyncJobResource",
    "AsyncResource",
    "AsyncWaiting",
    "JobResource",
    "Resource",
    "Waiting",
    "awaited",
    "located_under",
    "streamed",
    "waited",
]

J = TypeVar("J", bound=Job)
T = TypeVar("T")
P = ParamSpec("P")


class _OnClient:
    """What a resource holds, sync or async: its client, and the client's context, in
    which every flow it builds runs (fixed when the client is made: read once, not per
    call)."""

    _client: TwelveLabs | AsyncTwelveLabs

    def __init__(self, client: TwelveLabs | AsyncTwelveLabs) -> None:
        self._client = client
        self._ctx: Context = client._ctx


class Resource(_OnClient):
    """Base of a sync resource: it runs flows on its client's driver."""

    _client: TwelveLabs

    def __init__(self, client: TwelveLabs) -> None:
        super().__init__(client)


class AsyncResource(_OnClient):
    """Base of an async resource: it awaits flows on its client's driver."""

    _client: AsyncTwelveLabs

    def __init__(self, client: AsyncTwelveLabs) -> None:
        super().__init__(client)


class JobResource(Resource, Generic[J]):
    """A resource of one kind of job: waiting for one, for many, SDK-style, written once.

    Subclasses say how to read a job by id (:meth:`_locator`) and, when they must, how to
    build the wait of many (:meth:`_waiter`).
    """

    def _locator(self) -> Locate:
        raise NotImplementedError

    def _waiter(self, jobs: Iterable[Job | str], **options: Any) -> WaitMany:
        return WaitMany(jobs, self._ctx, locate=self._locator(), **options)

    def _known(self, job: str | Job) -> None:
        """Called with every job given to a wait (a resource may learn from it)."""

    def wait(
        self,
        job: str | J,
        *,
        timeout_s: float | None = None,
        on_update: Callable[[J], object] | None = None,
    ) -> J:
        """Poll one job until it is ready (returned) or failed (raised), within ``timeout_s``.

        The first check is immediate; then intervals grow (jittered, stretched for long
        media). A job object passed in is updated in place and returned.

        Raises:
            TaskFailedError: the job failed, with the server's reason.
            TaskTimeoutError: the deadline passed (never slept past); call again to resume.
            AuthenticationError, NotFoundError...: permanent errors, at once.

        Example:
            >>> client.tasks.wait(task, timeout_s=900).status  # doctest: +SKIP
            'ready'
        """
        self._known(job)
        flow: Flow[J] = wait(
            job, self._ctx, locate=self._locator(), timeout_s=timeout_s, on_update=on_update
        )
        return self._client._run(flow)

    def wait_many(
        self,
        jobs: Iterable[str | J],
        *,
        timeout_s: float | None = None,
        on_update: Callable[[J], object] | None = None,
        open: bool = False,
    ) -> Waiting[J]:
        """Wait for many jobs; iterate the result to get each one as it finishes.

        Failed jobs are **yielded, not raised**, so every outcome is seen (check
        ``job.status``). Jobs that share a list endpoint are polled together, 50 a
        request. ``waiting.add(job)`` lets jobs join while it runs; with ``open=True`` it
        waits for them until ``waiting.close()``.

        Raises:
            InvalidRequestError: ``jobs`` is one job or one id, not a collection of them
                (a string would be read as one id per character).
            TaskTimeoutError: at the deadline, naming every job still pending.
            NotFoundError: a job the server does not know (a wrong id, or a job of
                another kind); like any error that is not the job's own failure, it stops
                the wait, and the jobs keep running.

        Example:
            >>> for task in client.tasks.wait_many(tasks, timeout_s=900):  # doctest: +SKIP
            ...     print(task.id, task.status)
        """
        if isinstance(jobs, (str, bytes, Job)):
            raise InvalidRequestError(
                f"wait_many takes a list of jobs or ids, got one {type(jobs).__name__}; "
                "pass [it], or use wait() for one job"
            )
        waiting = self._waiter(jobs, timeout_s=timeout_s, on_update=on_update, open=open)
        return self._client._waiting(waiting)

    def wait_for_done(
        self,
        job: str | J,
        *,
        sleep_interval: float = 5.0,
        callback: Callable[[J], object] | None = None,
        timeout_s: float | None = None,
    ) -> J:
        """The official SDK's ``wait_for_done``: returns the finished job, failed too.

        Polls every ``sleep_interval`` seconds and calls ``callback(job)`` after every
        check. Unlike the SDK it raises at once on 401/403/404 and gives up at
        ``timeout_s``.

        Example:
            >>> client.tasks.wait_for_done(task_id, sleep_interval=5).status  # doctest: +SKIP
            'ready'
        """
        self._known(job)
        flow: Flow[J] = _wait_for_done(
            job, self._ctx, self._locator(), sleep_interval, callback, timeout_s
        )
        return self._client._run(flow)


def _wait_for_done(
    job: str | Job,
    ctx: Any,
    locate: Locate,
    sleep_interval: float,
    callback: Callable[[Any], object] | None,
    timeout_s: float | None,
) -> Flow[Any]:
    found = job if isinstance(job, Job) else (yield from locate(job_id_of(job), ctx))
    done = yield from wait_for_done(
        found, ctx, sleep_interval=sleep_interval, callback=callback, timeout_s=timeout_s
    )
    return done


def located_under(
    parents: Mapping[str, str], read: Callable[[str, str, Context], Flow[Any]], unknown: str
) -> Locate:
    """How a wait reads a job filed under a parent: an entity in its collection, an
    indexed asset in its index (the id alone does not say where to look).

    ``parents`` maps job ids to their parents' ids; ``read(parent_id, job_id, ctx)`` reads
    one. A job whose parent is not known is refused with ``unknown`` (``{job_id}`` filled in).

    Example:
        >>> locate = located_under({}, read=lambda p, j, ctx: iter(()), unknown="{job_id}: where?")
        >>> next(locate("e1", None))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: e1: where?
    """

    def locate(job_id: str, ctx: Context) -> Flow[Job]:
        parent_id = parents.get(job_id)
        if parent_id is None:
            raise InvalidRequestError(unknown.format(job_id=job_id))
        job: Job = yield from read(parent_id, job_id, ctx)
        return job

    return locate


class _Joinable(Generic[J]):
    """The controls a running ``wait_many`` has on either client: join, close, look.

    Only the iteration differs between :class:`Waiting` and :class:`AsyncWaiting`; it
    starts on the first ``next``, in the client's driver.
    """

    def __init__(self, client: Any, wait: WaitMany) -> None:
        self._client = client
        self._wait = wait
        self._iterator: Any = None

    def add(self, *jobs: J | str) -> None:
        """Let jobs (or ids) join the wait."""
        self._wait.add(*jobs)

    def close(self) -> None:
        """No more jobs will join; iteration ends when the pending ones finish."""
        self._wait.close()

    def pending_ids(self) -> list[str]:
        """The ids still pending."""
        return self._wait.pending_ids()


class Waiting(_Joinable[J]):
    """What ``wait_many`` returns on a sync client: iterate it to get each finished job.

    Jobs come in the order they finish, ready and failed alike (check ``job.status``).
    :meth:`add` lets more jobs join while it runs (from any thread); with ``open=True`` the
    iteration keeps going until :meth:`close`, even when nothing is pending.

    Example:
        >>> waiting = client.tasks.wait_many(task_ids, timeout_s=900)  # doctest: +SKIP
        >>> for task in waiting:  # doctest: +SKIP
        ...     print(task.id, task.status)
    """

    _client: TwelveLabs
    _iterator: Iterator[J] | None

    def __iter__(self) -> Iterator[J]:
        return self

    def __next__(self) -> J:
        if self._iterator is None:
            self._iterator = self._client._iterate(self._wait.flow())
        return next(self._iterator)


class AsyncWaiting(_Joinable[J]):
    """What ``wait_many`` returns on an async client: ``async for`` over finished jobs.

    Example:
        >>> async for task in client.tasks.wait_many(task_ids):  # doctest: +SKIP
        ...     print(task.id, task.status)
    """

    _client: AsyncTwelveLabs
    _iterator: AsyncIterator[J] | None

    def __aiter__(self) -> AsyncIterator[J]:
        return self

    async def __anext__(self) -> J:
        if self._iterator is None:
            self._iterator = self._client._iterate(self._wait.flow())
        return await self._iterator.__anext__()

    async def aclose(self) -> None:
        """Stop waiting and release the underlying iterator.

        Example:
            >>> waiting = client.tasks.wait_many(tasks)  # doctest: +SKIP
            >>> first = await anext(waiting)  # doctest: +SKIP
            >>> await waiting.aclose()  # the rest keep running on the server  # doctest: +SKIP
        """
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]


def awaited(
    method: Callable[Concatenate[Any, P], T],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    """The async twin of a sync resource method whose body runs a flow on the client.

    Example:
        >>> AsyncTasks_create = awaited(lambda self, x: x)  # doctest: +SKIP
    """

    async def twin(self: Any, *args: P.args, **kwargs: P.kwargs) -> T:
        result: T = await cast(Any, method(self, *args, **kwargs))
        return result

    return functools.update_wrapper(twin, method)  # type: ignore[return-value]


def streamed(
    method: Callable[Concatenate[Any, P], Iterator[T]],
) -> Callable[Concatenate[Any, P], AsyncIterator[T]]:
    """The async twin of a sync method that returns ``self._client._iterate(flow)``.

    On an async client ``_iterate`` gives an async iterator, so the body is the same; the
    twin says so in its signature.

    Example:
        >>> def numbers(self: object) -> Iterator[int]:
        ...     '''Count.'''
        ...     return iter(())
        >>> str(inspect.signature(streamed(numbers)).return_annotation)
        'AsyncIterator[int]'
    """
    return cast(Callable[Concatenate[Any, P], AsyncIterator[T]], _retyped(method, "Async"))


def waited(
    method: Callable[Concatenate[Any, P], Waiting[J]],
) -> Callable[Concatenate[Any, P], AsyncWaiting[J]]:
    """The async twin of a sync ``wait_many`` (``self._client._waiting`` picks the type).

    Example:
        >>> def wait_many(self: object) -> Waiting[Job]:
        ...     '''Wait.'''
        ...     return self._client._waiting(None)
        >>> str(inspect.signature(waited(wait_many)).return_annotation)
        'AsyncWaiting[Job]'
    """
    return cast(Callable[Concatenate[Any, P], AsyncWaiting[J]], _retyped(method, "Async"))


def _retyped(method: Callable[..., Any], prefix: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def twin(self: Any, *args: Any, **kwargs: Any) -> Any:
        return method(self, *args, **kwargs)

    signature = inspect.signature(method)
    returns = signature.return_annotation
    name = returns if isinstance(returns, str) else getattr(returns, "__name__", str(returns))
    twin.__signature__ = signature.replace(  # type: ignore[attr-defined]
        return_annotation=prefix + name
    )
    return twin


class AsyncJobResource(AsyncResource, Generic[J]):
    """The async side of :class:`JobResource`: the same hooks, and the three waits every
    job resource has, from the sync class through :func:`awaited` and :func:`waited`.

    A subclass names its sync twin's ``_locator`` (and any method it overrides there).
    """

    _waiter = JobResource._waiter
    _known = JobResource._known

    wait = awaited(JobResource[J].wait)
    wait_many = waited(JobResource[J].wait_many)
    wait_for_done = awaited(JobResource[J].wait_for_done)


def twin_of(sync_cls: type) -> Callable[[type[T]], type[T]]:
    """Class decorator (being retired for :func:`awaited`): copy the sync docstrings over.

    Example:
        >>> twin_of(object)(int) is int
        True
    """

    def decorate(async_cls: type[T]) -> type[T]:
        for name, member in vars(async_cls).items():
            if (name.startswith("_") and name != "__call__") or not callable(member):
                continue
            source = getattr(sync_cls, name, None)
            if not member.__doc__ and source is not None and source.__doc__:
                member.__doc__ = source.__doc__
        return async_cls

    return decorate
