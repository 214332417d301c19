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
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, cast

from .._engine import Job, WaitMany

if TYPE_CHECKING:
    from .._client import AsyncTwelveLabs, TwelveLabs

__all__ = [
    "AsyncResource",
    "AsyncWaiting",
    "Resource",
    "Waiting",
    "awaited",
    "streamed",
    "waited",
]

J = TypeVar("J", bound=Job)
T = TypeVar("T")
P = ParamSpec("P")


class Resource:
    """Base of a sync resource: it runs flows on its client's driver."""

    def __init__(self, client: TwelveLabs) -> None:
        self._client = client

    @property
    def _ctx(self) -> Any:
        return self._client._ctx


class AsyncResource:
    """Base of an async resource: it awaits flows on its client's driver."""

    def __init__(self, client: AsyncTwelveLabs) -> None:
        self._client = client

    @property
    def _ctx(self) -> Any:
        return self._client._ctx


class Waiting(Generic[J]):
    """What ``wait_many`` returns on a sync client: iterate it to get each finished job.

    Jobs come in the order they finish, ready and failed alike (check ``job.status``).
    :meth:`add` lets more jobs join while it runs (from any thread); with ``open=True`` the
    iteration keeps going until :meth:`close`, even when nothing is pending.

    Example:
        >>> waiting = client.tasks.wait_many(task_ids, timeout_s=900)  # doctest: +SKIP
        >>> for task in waiting:  # doctest: +SKIP
        ...     print(task.id, task.status)
    """

    def __init__(self, client: TwelveLabs, wait: WaitMany) -> None:
        self._client = client
        self._wait = wait
        self._iterator: Iterator[J] | None = None

    def add(self, *jobs: J | str) -> None:
        """Let jobs (or ids) join the wait."""
        self._wait.add(*jobs)

    def close(self) -> None:
        """No more jobs will join; iteration ends when the pending ones finish."""
        self._wait.close()

    def pending_ids(self) -> list[str]:
        """The ids still pending."""
        return self._wait.pending_ids()

    def __iter__(self) -> Iterator[J]:
        return self

    def __next__(self) -> J:
        if self._iterator is None:
            self._iterator = self._client._iterate(self._wait.flow())
        return next(self._iterator)


class AsyncWaiting(Generic[J]):
    """What ``wait_many`` returns on an async client: ``async for`` over finished jobs.

    Example:
        >>> async for task in client.tasks.wait_many(task_ids):  # doctest: +SKIP
        ...     print(task.id, task.status)
    """

    def __init__(self, client: AsyncTwelveLabs, wait: WaitMany) -> None:
        self._client = client
        self._wait = wait
        self._iterator: AsyncIterator[J] | None = None

    def add(self, *jobs: J | str) -> None:
        """Let jobs (or ids) join the wait."""
        self._wait.add(*jobs)

    def close(self) -> None:
        """No more jobs will join; iteration ends when the pending ones finish."""
        self._wait.close()

    def pending_ids(self) -> list[str]:
        """The ids still pending."""
        return self._wait.pending_ids()

    def __aiter__(self) -> AsyncIterator[J]:
        return self

    async def __anext__(self) -> J:
        if self._iterator is None:
            self._iterator = self._client._iterate(self._wait.flow())
        return await self._iterator.__anext__()

    async def aclose(self) -> None:
        """Stop waiting and release the underlying iterator."""
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
