"""What the framework adapters share: the key, the clients and their lifetimes, the records.

The LangChain and LlamaIndex adapters (and the CLI) never build URLs or parse wire JSON;
they hold a client. This module is the one place that decides:

- **which key and server**: :func:`api_key_from_env` and :func:`base_url_from_env` read
  ``TWELVELABS_API_KEY`` and ``TWELVELABS_BASE_URL``, one way for every adapter;
- **which client, for how long**: an injected one (used as it is, never closed here), or
  one built from the key and base URL. :func:`client_for` / :func:`async_client_for` give a
  client for one run, and :func:`ingest_records` / :func:`aingest_records` run the ingest
  engine on it (the loader, the reader); :class:`ClientHolder` keeps one for an
  adapter object's lifetime, and :class:`AdapterClients` is the pydantic base of the
  adapters that hold one (the embedding models): settings, clients, and pickles that carry
  the settings only;
- **how adapter logic calls the client, once for sync and async**: a :data:`Plan` is a
  generator that yields :class:`ClientCall` (a public client method to call), :class:`AllOf`
  (several, side by side) and :class:`Callback` steps; :func:`run_plan` runs it on a
  :class:`~tl_integrations.TwelveLabs` and :func:`arun_plan` on an
  :class:`~tl_integrations.AsyncTwelveLabs`, whose methods have the same names (an adapter
  runs its plans through its holder: :meth:`ClientHolder.run` / :meth:`ClientHolder.arun`). The
  retrievers and the agent tools are written once this way (the client's own "flows, not
  twins", one level up);
- **what a vector store keeps of a video segment**: :func:`segment_records` describes each
  segment once (id, text, metadata), so LangChain Documents and LlamaIndex nodes agree;
  given the video's transcript, a segment's text is what was said in it
  (:func:`spoken_in`); the metadata names the vectors' space (model and dimension), which
  the store helpers check so that Marengo 3.5 and 3.0 vectors never share a store by
  accident;
- **media embeddings in both frameworks**: :class:`MediaEmbedder` gives an embedding model
  ``embed_video``/``embed_audio``/``embed_image``/``embed_document``, written once; each
  ``aembed_*`` twin is derived from it by :func:`on_async_client`.

The sync client is made once and closed when its owner is garbage collected (no leaked
sockets). An ``httpx.AsyncClient`` belongs to the event loop it first ran on, so unless one
is injected, every async call opens and closes its own: the adapter then works from any loop
(notebooks, ``asyncio.run`` per test...).

Example:
    >>> holder = ClientHolder(api_key="k", base_url="http://127.0.0.1:8765/v1.3")
    >>> holder.sync().base_url
    'http://127.0.0.1:8765/v1.3'
    >>> holder.close()
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import math
import os
import uuid
import weakref
from collections.abc import (
    AsyncIterator,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar, cast

import numpy as np
from numpy.typing import NDArray
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from ._client import AsyncTwelveLabs, TwelveLabs
from ._embed.params import MediaInput, check_dimension, resolve_model
from ._embed.vectors import MediaEmbedding, VideoEmbedding, check_same_space, space_of
from ._errors import InvalidRequestError, TwelveLabsError
from ._flows import AsyncDriver, Call, Flow, Gather, SyncDriver
from ._ingest import (
    AsyncVideoIngest,
    IngestFailure,
    IngestOptions,
    VideoIngest,
    VideoInput,
    VideoRecord,
)
from ._resources.embed import DEFAULT_MAX_CONCURRENCY

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "AdapterClients",
    "AllOf",
    "Callback",
    "ClientCall",
    "ClientHolder",
    "MediaEmbedder",
    "Plan",
    "SegmentRecord",
    "TimedLine",
    "aingest_records",
    "api_key_from_env",
    "arun_plan",
    "async_client_for",
    "base_url_from_env",
    "check_space",
    "checked_options",
    "client_for",
    "holder_for",
    "ingest_records",
    "on_async_client",
    "options_error",
    "row",
    "rows",
    "run_plan",
    "segment_records",
    "source_name",
    "spoken_in",
]

API_KEY_ENV = "TWELVELABS_API_KEY"
BASE_URL_ENV = "TWELVELABS_BASE_URL"
P = ParamSpec("P")
T = TypeVar("T")
ClientT = TypeVar("ClientT", TwelveLabs, AsyncTwelveLabs)
_LOOKUPS_AT_ONCE = 8


def api_key_from_env() -> SecretStr | None:
    """The key in ``TWELVELABS_API_KEY`` as a ``SecretStr`` (None when unset or empty).

    Example:
        >>> from unittest import mock
        >>> with mock.patch.dict("os.environ", {"TWELVELABS_API_KEY": "tlk_from_env"}):
        ...     api_key_from_env()
        SecretStr('**********')
        >>> with mock.patch.dict("os.environ", {"TWELVELABS_API_KEY": ""}):
        ...     api_key_from_env() is None
        True
    """
    key = os.environ.get(API_KEY_ENV)
    return SecretStr(key) if key else None


def base_url_from_env() -> str | None:
    """The base URL in ``TWELVELABS_BASE_URL`` (None when unset or empty: the real API).

    Example:
        >>> from unittest import mock
        >>> with mock.patch.dict("os.environ", {"TWELVELABS_BASE_URL": "http://h:8765/v1.3"}):
        ...     base_url_from_env()
        'http://h:8765/v1.3'
    """
    return os.environ.get(BASE_URL_ENV) or None


@contextlib.contextmanager
def client_for(
    client: TwelveLabs | None, *, api_key: str | None, base_url: str | None
) -> Iterator[TwelveLabs]:
    """The caller's client (left open), or a new one closed on exit.

    Example:
        >>> with client_for(None, api_key="tlk_x", base_url=None) as c:
        ...     c.base_url
        'https://api.twelvelabs.io/v1.3'
    """
    if client is not None:
        yield client
        return
    with TwelveLabs(api_key=api_key, base_url=base_url) as owned:
        yield owned


@contextlib.asynccontextmanager
async def async_client_for(
    client: AsyncTwelveLabs | None,
    *,
    api_key: str | None,
    base_url: str | None,
    sync_client: TwelveLabs | None = None,
) -> AsyncIterator[AsyncTwelveLabs]:
    """The caller's async client (left open), or a new one closed on exit.

    When the caller gave only a sync client (and no key or base URL of its own), the new
    client is that client's twin: same key, server, timeout and policies.

    Example:
        >>> import asyncio
        >>> async def main() -> str:
        ...     async with async_client_for(None, api_key="tlk_x", base_url=None) as c:
        ...         return c.base_url
        >>> asyncio.run(main())
        'https://api.twelvelabs.io/v1.3'
    """
    if client is not None:
        yield client
        return
    owned = (
        sync_client.twin()
        if sync_client is not None and api_key is None and base_url is None
        else AsyncTwelveLabs(api_key=api_key, base_url=base_url)
    )
    async with owned:
        yield owned


def ingest_records(
    videos: Sequence[VideoInput],
    options: IngestOptions,
    failures: list[IngestFailure],
    *,
    client: TwelveLabs | None,
    api_key: str | None,
    base_url: str | None,
) -> Iterator[VideoRecord]:
    """Ingest ``videos`` on a client for this run, yielding records as videos are ready.

    The loader's and the reader's lazy load: each turns the records into its framework's
    Documents. Failed inputs go to ``failures``.

    Example:
        >>> options = IngestOptions(index_name="talks")
        >>> records = ingest_records(  # doctest: +SKIP
        ...     ["talk.mp4"], options, [], client=None, api_key=None, base_url=None)
    """
    with client_for(client, api_key=api_key, base_url=base_url) as owned:
        yield from VideoIngest(owned, options).run(videos, failures=failures)


async def aingest_records(
    videos: Sequence[VideoInput],
    options: IngestOptions,
    failures: list[IngestFailure],
    *,
    client: TwelveLabs | None,
    async_client: AsyncTwelveLabs | None,
    api_key: str | None,
    base_url: str | None,
) -> AsyncIterator[VideoRecord]:
    """The natively async :func:`ingest_records` (``async_client``, else a twin of ``client``).

    Example:
        >>> options = IngestOptions(index_name="talks")
        >>> records = aingest_records(  # doctest: +SKIP
        ...     ["talk.mp4"], options, [], client=None, async_client=None, api_key=None,
        ...     base_url=None)
    """
    async with async_client_for(
        async_client, api_key=api_key, base_url=base_url, sync_client=client
    ) as owned:
        async for record in AsyncVideoIngest(owned, options).run(videos, failures=failures):
            yield record


def options_error(owner: str, exc: ValidationError) -> InvalidRequestError:
    """The project's error for an adapter's bad options, one clause per problem.

    Every adapter refuses bad options with :class:`~tl_integrations.InvalidRequestError`,
    whether the framework validates them with pydantic or Python checks the signature. The
    API key's value is never repeated.

    Example:
        >>> from pydantic import BaseModel, PositiveInt
        >>> class Opts(BaseModel):
        ...     k: PositiveInt = 1
        >>> try:
        ...     Opts(k=0)
        ... except ValidationError as exc:
        ...     print(options_error("Retriever", exc))
        Retriever: k: Input should be greater than 0 (got 0)
    """
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "options"
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown option {where!r}; check its spelling")
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message} (got {_shown(where, error.get('input'))})")
    return InvalidRequestError(f"{owner}: " + "; ".join(problems))


def _shown(where: str, value: Any) -> str:
    """An option's value as an error shows it: never a secret, even inside a whole-model
    check's input (every option as given)."""
    if _secret(where):
        return "not shown"
    if isinstance(value, Mapping):
        return repr({k: "<not shown>" if _secret(str(k)) else v for k, v in value.items()})
    return repr(value)


def _secret(name: str) -> bool:
    last = name.lower().rsplit(".", 1)[-1].rsplit("_", 1)[-1]
    return last in ("key", "secret", "token", "password")


def checked_options(init: Callable[..., None]) -> Callable[..., None]:
    """Make an adapter's ``__init__`` refuse unknown or missing options with the project's
    error (rather than Python's ``TypeError``), as the pydantic adapters do.

    Example:
        >>> class Tool:
        ...     @checked_options
        ...     def __init__(self, *, k: int = 1) -> None:
        ...         self.k = k
        >>> Tool(kk=2)
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: Tool: unknown option 'kk'; check its spelling
    """
    signature = inspect.signature(init)
    params = signature.parameters
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        owner = type(self).__name__
        unknown = [name for name in kwargs if name not in params]
        if unknown and not open_ended:
            names = ", ".join(repr(name) for name in unknown)
            raise InvalidRequestError(f"{owner}: unknown option {names}; check its spelling")
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise InvalidRequestError(f"{owner}: {exc}") from None
        init(self, *args, **kwargs)

    return checked


class ClientHolder:
    """Hands out clients for an adapter object (see the module docstring).

    Args:
        api_key / base_url: used to build clients that were not injected.
        client / async_client: injected clients, used as they are and never closed here.

    Example:
        >>> holder = ClientHolder(api_key="k")
        >>> holder.sync() is holder.sync()
        True
        >>> holder.close()
    """

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None = None,
        client: TwelveLabs | None = None,
        async_client: AsyncTwelveLabs | None = None,
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._client = client
        self._async_client = async_client
        self._own: TwelveLabs | None = None

    def sync(self) -> TwelveLabs:
        """The sync client (the injected one, or one built on first use).

        Example:
            >>> ClientHolder(api_key="k").sync().base_url
            'https://api.twelvelabs.io/v1.3'
        """
        if self._client is not None:
            return self._client
        if self._own is None:
            own = self._built(TwelveLabs)
            weakref.finalize(self, own.close)
            self._own = own
        return self._own

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncTwelveLabs]:
        """An async client for one call: the injected one, or a fresh one closed after.

        A fresh client is the injected sync client's twin when there is one, else it is built
        from the key and base URL.

        Example:
            >>> async with holder.session() as client:  # doctest: +SKIP
            ...     vector = await client.embed.text("hi", model_name="marengo3.0")
        """
        if self._async_client is not None:
            yield self._async_client
            return
        # With only a sync client injected, its twin carries the same key, server and policies.
        fresh = self._client.twin() if self._client is not None else self._built(AsyncTwelveLabs)
        async with fresh as client:
            yield client

    def run(self, plan: Plan[T]) -> T:
        """Run ``plan`` on the sync client (see :func:`run_plan`).

        Example:
            >>> def plan() -> Plan[str]:
            ...     return (yield ClientCall(lambda c: c.base_url))
            >>> ClientHolder(api_key="k").run(plan())
            'https://api.twelvelabs.io/v1.3'
        """
        return run_plan(plan, self.sync())

    async def arun(self, plan: Plan[T]) -> T:
        """Run ``plan`` on an async client for this call (see :meth:`session`, :func:`arun_plan`).

        Example:
            >>> import asyncio
            >>> def plan() -> Plan[str]:
            ...     return (yield ClientCall(lambda c: c.base_url))
            >>> asyncio.run(ClientHolder(api_key="k").arun(plan()))
            'https://api.twelvelabs.io/v1.3'
        """
        async with self.session() as client:
            return await arun_plan(plan, client)

    def _built(self, factory: Callable[..., ClientT]) -> ClientT:
        try:
            return factory(api_key=self._api_key, base_url=self._base_url)
        except InvalidRequestError as exc:
            if self._api_key is not None:
                raise
            raise InvalidRequestError(
                f"{exc}. Keys are not serialized: an adapter loaded from JSON or a pickle "
                f"needs {API_KEY_ENV} set where it runs"
            ) from None

    def close(self) -> None:
        """Close the sync client built here (never an injected one).

        Example:
            >>> ClientHolder(api_key="k").close()
        """
        if self._own is not None:
            self._own.close()
            self._own = None


def holder_for(
    *,
    api_key: str | SecretStr | None,
    base_url: str | None,
    client: TwelveLabs | None = None,
    async_client: AsyncTwelveLabs | None = None,
) -> ClientHolder:
    """A :class:`ClientHolder` for a plain (non-pydantic) adapter: key and base URL fall back
    to ``TWELVELABS_API_KEY`` and ``TWELVELABS_BASE_URL``, as for every adapter.

    Example:
        >>> holder = holder_for(api_key=SecretStr("k"), base_url="http://127.0.0.1:9/v1.3")
        >>> holder.sync().base_url
        'http://127.0.0.1:9/v1.3'
        >>> holder.close()
    """
    key = api_key if api_key is not None else api_key_from_env()
    return ClientHolder(
        api_key=key.get_secret_value() if isinstance(key, SecretStr) else key,
        base_url=base_url if base_url is not None else base_url_from_env(),
        client=client,
        async_client=async_client,
    )


class AdapterClients(BaseModel):
    """Pydantic base of the adapters that hold clients: settings in, clients out, safe pickles.

    Put it first among the bases (before the framework's), so that its pickling wins.

    Attributes:
        api_key: defaults to ``TWELVELABS_API_KEY``; never shown, dumped or pickled.
        base_url: defaults to ``TWELVELABS_BASE_URL``, then the real API.
        client / async_client: your own clients (never dumped nor pickled, never closed here).

    Example:
        >>> import pickle
        >>> adapter = AdapterClients(api_key="tlk_secret", base_url="http://127.0.0.1:8765/v1.3")
        >>> adapter._clients().sync().base_url
        'http://127.0.0.1:8765/v1.3'
        >>> b"tlk_secret" in pickle.dumps(adapter), "tlk_secret" in repr(adapter)
        (False, False)
        >>> adapter.close()
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    api_key: SecretStr | None = Field(default_factory=api_key_from_env, exclude=True, repr=False)
    base_url: str | None = Field(default_factory=base_url_from_env)
    client: TwelveLabs | None = Field(default=None, exclude=True, repr=False)
    async_client: AsyncTwelveLabs | None = Field(default=None, exclude=True, repr=False)
    _holder: ClientHolder | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise options_error(type(self).__name__, exc) from None

    def _clients(self) -> ClientHolder:
        if self._holder is None:
            key = None if self.api_key is None else self.api_key.get_secret_value()
            self._holder = ClientHolder(
                api_key=key,
                base_url=self.base_url,
                client=self.client,
                async_client=self.async_client,
            )
        return self._holder

    def close(self) -> None:
        """Close the connection pool this object opened (not an injected client).

        Example:
            >>> AdapterClients(api_key="k").close()
        """
        if self._holder is not None:
            self._holder.close()

    def __getstate__(self) -> dict[Any, Any]:
        """The settings only: no key (a ``SecretStr`` pickles its value), no clients.

        An injected client's server becomes the copy's ``base_url``. Pydantic's own state is
        used, not a framework's (LlamaIndex would try to pickle every attribute, warning on
        the root logger about the clients it drops anyway).

        Example:
            >>> import pickle
            >>> b"secret-key" in pickle.dumps(AdapterClients(api_key="secret-key"))
            False
        """
        state: dict[Any, Any] = BaseModel.__getstate__(self)
        fields = {k: v for k, v in state["__dict__"].items() if k != "api_key"}
        fields.update(base_url=self._server(), client=None, async_client=None)
        private = {**(state.get("__pydantic_private__") or {}), "_holder": None}
        return {**state, "__dict__": fields, "__pydantic_private__": private}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        """Restore pickled settings; the key is read from ``TWELVELABS_API_KEY`` again.

        Example:
            >>> import pickle
            >>> pickle.loads(pickle.dumps(AdapterClients(base_url="http://h/v1.3"))).base_url
            'http://h/v1.3'
        """
        fields = dict(state["__dict__"])
        if fields.get("api_key") is None:  # never pickled (older pickles: None)
            fields["api_key"] = api_key_from_env()
        super().__setstate__({**state, "__dict__": fields})

    def _server(self) -> str | None:
        """The base URL a copy should use: this object's own, else the injected client's."""
        if self.base_url is not None:
            return self.base_url
        injected = self.client or self.async_client
        return None if injected is None else injected.base_url


# --- plans: adapter logic written once for both clients --------------------------------------


@dataclass(frozen=True)
class ClientCall:
    """Call ``fn(client)``, a public client method; ``collect`` gathers an iterator's items
    (at most ``limit`` of them: the iterator is closed there, so no further page is read).

    On an async client the call's awaitable is awaited (and an async iterator drained), so
    one lambda serves both: ``ClientCall(lambda c: c.videos.retrieve(i, v))``.

    Example:
        >>> ClientCall(lambda c: c.indexes.list(), collect=True).collect
        True
    """

    fn: Callable[[Any], Any]
    collect: bool = False
    limit: int | None = None


@dataclass(frozen=True)
class AllOf:
    """Make several calls side by side; the results come in order, and a call that failed
    with a :class:`~tl_integrations.TwelveLabsError` gives that error as its result.

    Example:
        >>> len(AllOf((ClientCall(lambda c: 1), ClientCall(lambda c: 2))).calls)
        2
    """

    calls: tuple[ClientCall, ...]


@dataclass(frozen=True)
class Callback:
    """Call a user callback ``fn(*args)``; an awaitable result is awaited on the async path.

    Example:
        >>> Callback(print, ("ready",)).args
        ('ready',)
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


Plan = Generator[ClientCall | AllOf | Callback, Any, T]
"""Adapter logic: yields steps, receives their results (an error is thrown into it)."""


def _resume(plan: Plan[Any], answer: Any, error: BaseException | None) -> tuple[bool, Any]:
    """Give the plan its answer (or error): ``(False, next step)`` or ``(True, result)``."""
    try:
        return False, (plan.throw(error) if error is not None else plan.send(answer))
    except StopIteration as stop:
        return True, stop.value


def _sync_call(call: ClientCall, client: TwelveLabs) -> Any:
    value = call.fn(client)
    if not call.collect:
        return value
    if call.limit is None:
        return list(value)
    try:
        return list(itertools.islice(value, call.limit))
    finally:
        close = getattr(value, "close", None)
        if callable(close):
            close()


async def _async_call(call: ClientCall, client: AsyncTwelveLabs) -> Any:
    value = call.fn(client)
    if not call.collect:
        return await value if inspect.isawaitable(value) else value
    items: list[Any] = []
    try:
        async for item in value:
            items.append(item)
            if call.limit is not None and len(items) >= call.limit:
                break
    finally:
        close = getattr(value, "aclose", None)
        if call.limit is not None and callable(close):
            await close()
    return items


_CallOn = Callable[[ClientCall, Any], Any]
"""How one :class:`ClientCall` is made on one kind of client: ``_sync_call``/``_async_call``."""


def _as_flow(plan: Plan[T], client: Any, call_on: _CallOn) -> Flow[T]:
    """``plan`` as a flow of the client's own drivers (:mod:`._flows`), which run it.

    Only the steps differ between a sync and an async client (how a call's iterator is
    drained), so the loop that feeds the plan its answers and errors is written once here
    and the drivers do the rest: ``Call`` awaits on the async path, ``Gather`` runs side by
    side (threads or tasks) at most ``_LOOKUPS_AT_ONCE`` at a time.
    """
    answer: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = plan.throw(error) if error is not None else plan.send(answer)
        except StopIteration as stop:
            return cast(T, stop.value)
        answer, error = None, None
        try:
            answer = yield _flow_step(step, client, call_on)
        except Exception as exc:  # thrown into the plan, which decides
            error = exc


def _flow_step(step: Any, client: Any, call_on: _CallOn) -> Call | Gather:
    if isinstance(step, ClientCall):
        return Call(call_on, (step, client))
    if isinstance(step, Callback):
        return Call(step.fn, step.args)
    if isinstance(step, AllOf):
        calls = [functools.partial(_one_of_all, call, client, call_on) for call in step.calls]
        return Gather(calls, limit=_LOOKUPS_AT_ONCE)
    raise TypeError(f"a plan yielded {step!r}, which is not a step")


def _one_of_all(call: ClientCall, client: Any, call_on: _CallOn) -> Flow[Any]:
    # One call of an AllOf: its API error is its result, so the others still count.
    try:
        return (yield Call(call_on, (call, client)))
    except TwelveLabsError as error:
        return error


def run_plan(plan: Plan[T], client: TwelveLabs) -> T:
    """Run ``plan`` on a sync client (an :class:`AllOf` on a small thread pool).

    Example:
        >>> def plan() -> Plan[str]:
        ...     name = yield ClientCall(lambda c: c.base_url)
        ...     return name
        >>> with TwelveLabs(api_key="tlk_x") as client:
        ...     run_plan(plan(), client)
        'https://api.twelvelabs.io/v1.3'
    """
    return SyncDriver(transport=None).run(_as_flow(plan, client, _sync_call))


async def arun_plan(plan: Plan[T], client: AsyncTwelveLabs) -> T:
    """Run ``plan`` on an async client (an :class:`AllOf` concurrently, at most 8 at once).

    Example:
        >>> import asyncio
        >>> def plan() -> Plan[str]:
        ...     return (yield ClientCall(lambda c: c.base_url))
        >>> async def main() -> str:
        ...     async with AsyncTwelveLabs(api_key="tlk_x") as client:
        ...         return await arun_plan(plan(), client)
        >>> asyncio.run(main())
        'https://api.twelvelabs.io/v1.3'
    """
    return await AsyncDriver(transport=None).run(_as_flow(plan, client, _async_call))


def rows(matrix: NDArray[np.float32]) -> list[list[float]]:
    """A matrix as lists of floats, what the frameworks' embedding interfaces want.

    The one place numpy becomes lists (the client itself returns numpy).

    Example:
        >>> rows(np.eye(2, dtype=np.float32))
        [[1.0, 0.0], [0.0, 1.0]]
    """
    return cast(list[list[float]], matrix.tolist())


def row(vector: NDArray[np.float32]) -> list[float]:
    """A vector as a list of floats (see :func:`rows`).

    Example:
        >>> row(np.ones(2, dtype=np.float32))
        [1.0, 1.0]
    """
    return cast(list[float], vector.tolist())


# --- what a vector store keeps of a video segment -----------------------------------------

# Namespace of segment ids: the same segment of the same task always gets the same id, so
# adding a VideoEmbedding twice replaces rather than duplicates (where the store upserts).
_NAMESPACE = uuid.UUID("5b0f4a51-6c1e-4c8e-9d4f-7a1e0c2b9e11")


TimedLine = Sequence[Any]
"""A transcript line ``(start_s, end_s, text, ...)``: :class:`~tl_integrations.Utterance`
(``client.videos.retrieve(..., transcription=True)``), an asset transcript's
``TranscriptLine``, or a plain tuple."""


def spoken_in(lines: Iterable[TimedLine], start_s: float, end_s: float) -> str:
    """What was said between ``start_s`` and ``end_s``: the lines overlapping it, joined.

    A line that straddles the boundary belongs to both sides (it was said in both clips).

    Example:
        >>> lines = [(0.0, 2.5, "Hello all"), (2.5, 6.0, "today: bread"), (7, 9, "bye")]
        >>> spoken_in(lines, 2.0, 6.5)
        'Hello all today: bread'
        >>> spoken_in(lines, 6.0, 7.0)
        ''
    """
    said = [str(line[2]).strip() for line in lines if line[0] < end_s and line[1] > start_s]
    return " ".join(text for text in said if text)


@dataclass(frozen=True)
class SegmentRecord:
    """What a vector store keeps for one segment (its vector stays in the VideoEmbedding).

    Attributes:
        id: a stable UUID string (from source, task id and row).
        row: the row of the segment in ``VideoEmbedding.vectors``.
        text: what was said in the segment when a transcript was given, else a short
            description (``"talk.mp4, 0:06.0-0:12.0 (visual, clip)"``).
        metadata: ``source``, ``task_id``, ``model_name``, ``start_s``, ``end_s``,
            ``option``, ``scope``, ``segment`` (the row).

    Example:
        >>> SegmentRecord(id="x", row=0, text="t", metadata={}).row
        0
    """

    id: str
    row: int
    text: str
    metadata: dict[str, Any]


def source_name(ve: VideoEmbedding, source: str | os.PathLike[str] | None) -> str:
    """The source to record: the given path or URL, else the task.

    Example:
        >>> ve = VideoEmbedding.from_arrays([[1.0]], start_s=[0], end_s=[6], options=["audio"],
        ...                                 scopes=["clip"], model_name="marengo3.0", task_id="t1")
        >>> source_name(ve, None), source_name(ve, "talk.mp4")
        ('twelvelabs-embedding-task:t1', 'talk.mp4')
    """
    if source is None:
        return f"twelvelabs-embedding-task:{ve.task_id or 'unknown'}"
    return os.fspath(source)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


def _where(ve: MediaEmbedding, row: int) -> str:
    """What part of the medium a row covers, for people: seconds, a page, a chunk."""
    start, end = float(ve.start_s[row]), float(ve.end_s[row])
    if not math.isnan(start) and not math.isnan(end):
        return f"{_clock(start)}-{_clock(end)}"
    page, chunk = int(ve.start_page[row]), int(ve.chunk_index[row])
    quadrant = str(ve.quadrants[row])
    if page:
        return f"page {page}" + (f" {quadrant.replace('_', ' ')}" if quadrant else "")
    return f"chunk {chunk}" if chunk >= 0 else "whole"


def _media_metadata(ve: MediaEmbedding, row: int) -> dict[str, Any]:
    """The space of the vectors, and what a row covers beyond seconds (pages, chunks)."""
    extra: dict[str, Any] = {"embedding_space": ve.space, "input_type": ve.input_type}
    if int(ve.start_page[row]):
        extra.update(start_page=int(ve.start_page[row]), end_page=int(ve.end_page[row]))
        if str(ve.quadrants[row]):
            extra["quadrant"] = str(ve.quadrants[row])
    if int(ve.chunk_index[row]) >= 0:
        extra["chunk_index"] = int(ve.chunk_index[row])
    return extra


def segment_records(
    ve: VideoEmbedding,
    *,
    source: str | os.PathLike[str] | None = None,
    transcript: Iterable[TimedLine] | None = None,
) -> list[SegmentRecord]:
    """Describe every segment of ``ve``, in row order.

    Args:
        ve: the segments.
        source: the path or URL the video came from (default: its embedding task).
        transcript: the video's timed lines; a segment's text is then what was said in it
            (a segment without speech keeps its description).

    Example:
        >>> ve = VideoEmbedding.from_arrays([[1.0, 0.0]], start_s=[0], end_s=[6],
        ...     options=["visual"], scopes=["clip"], model_name="marengo3.0", task_id="t1")
        >>> record = segment_records(ve, source="talk.mp4")[0]
        >>> record.text, record.metadata["end_s"]
        ('talk.mp4, 0:00.0-0:06.0 (visual, clip)', 6.0)
        >>> segment_records(ve, transcript=[(1.0, 4.0, "Welcome to the kitchen")])[0].text
        'Welcome to the kitchen'
    """
    name = source_name(ve, source)
    lines = list(transcript) if transcript is not None else []
    starts, ends = ve.start_s.tolist(), ve.end_s.tolist()
    options, scopes = ve.options.tolist(), ve.scopes.tolist()
    records = []
    columns = zip(starts, ends, options, scopes, strict=True)
    for index, (start, end, option, scope) in enumerate(columns):
        metadata = {
            "source": name,
            "task_id": ve.task_id,
            "model_name": ve.model_name,
            "start_s": float(start),
            "end_s": float(end),
            "option": str(option),
            "scope": str(scope),
            "segment": index,
        }
        metadata.update(_media_metadata(ve, index))
        # Seconds a row does not have are left out rather than NaN: stores such as Chroma
        # take only finite numbers, strings and booleans.
        metadata = {k: v for k, v in metadata.items() if not (isinstance(v, float) and v != v)}
        text = spoken_in(lines, start, end) or f"{name}, {_where(ve, index)} ({option}, {scope})"
        key = f"{name}|{ve.task_id}|{index}"
        records.append(SegmentRecord(str(uuid.uuid5(_NAMESPACE, key)), index, text, metadata))
    return records


# --- media embeddings, written once for both frameworks ---------------------------------------


class _OnAsyncClient:
    """Stands in for an adapter inside its async twin (see :func:`on_async_client`): every
    attribute is the adapter's, but client calls go to one async client and are awaited."""

    def __init__(self, adapter: Any, client: AsyncTwelveLabs) -> None:
        self._adapter = adapter
        self._async = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(type(self._adapter), name, None)
        if inspect.isfunction(method):
            # A method that calls another (embed_image from _get_image_embedding) must
            # reach the async client too: it runs on the stand-in.
            return method.__get__(self)
        return getattr(self._adapter, name)

    def _on_client(
        self, call: Callable[[Any], Any], then: Callable[[Any], Any] = lambda x: x
    ) -> Any:
        async def run() -> Any:
            return then(await call(self._async))

        return run()


def on_async_client(
    method: Callable[Concatenate[Any, P], T],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    """The async twin of an adapter method whose body is ``self._on_client(call, then)``.

    The body runs once more with the adapter standing in on an async client (a fresh one
    per call unless one was injected, as :meth:`ClientHolder.session` says), so each
    ``aembed_*`` is the ``embed_*`` it mirrors: one signature, one docstring, one body.

    Example:
        >>> class Doubler(MediaEmbedder):
        ...     def double(self, x: int) -> int:
        ...         '''Twice x.'''
        ...         return self._on_client(lambda client: x, then=lambda got: 2 * got)
        ...     adouble = on_async_client(double)
        >>> Doubler(api_key="k").double(2)
        4
    """

    async def twin(self: Any, *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._clients().session() as client:
            result: T = await cast(Any, method(_OnAsyncClient(self, client), *args, **kwargs))
        return result

    functools.update_wrapper(twin, method)
    twin.__name__ = f"a{method.__name__}"  # aembed_video beside embed_video
    twin.__qualname__ = twin.__qualname__.rpartition(".")[0] + "." + twin.__name__
    return twin  # type: ignore[return-value]


def check_space(expected: str | None, got: MediaEmbedding, *, what: str) -> None:
    """Refuse to add vectors of one space where another's live (None: nothing known yet).

    Raises:
        InvalidRequestError: the spaces differ (see :func:`~._embed.vectors.check_same_space`).

    Example:
        >>> me = MediaEmbedding.from_arrays([[1.0, 0.0]], start_s=[0], end_s=[6],
        ...     options=["visual"], scopes=["clip"], model_name="marengo3.0")
        >>> check_space("marengo3.0/2", me, what="the store")
    """
    if expected is not None:
        check_same_space(expected, got.space, what=what)


class MediaEmbedder(AdapterClients):
    """The media methods of both frameworks' embedding models, on one model and size.

    Subclasses say which field holds the model (``_model_field``: each framework has its
    own name for it), checked and spelt canonically here; ``embedding_dimension`` asks
    Marengo 3.5 for shorter (Matryoshka) vectors, queries and media alike, so they stay
    comparable.

    Attributes:
        embedding_dimension: 1 to 512, Marengo 3.5 only (None: the model's full size).
        max_concurrency: text requests in flight at once for batches.

    Example:
        >>> class Model(MediaEmbedder):
        ...     model: str = "marengo3.5"
        >>> Model(api_key="k", embedding_dimension=256).space
        'marengo3.5/256'
    """

    _model_field: ClassVar[str] = "model"  # LlamaIndex's models call it "model_name"
    embedding_dimension: int | None = Field(default=None, ge=1, le=512)
    max_concurrency: int = Field(default=DEFAULT_MAX_CONCURRENCY, ge=1)

    # Each framework names the field its own way; the canonical spelling is what is stored.
    @field_validator("model", "model_name", check_fields=False)
    @classmethod
    def _known_model(cls, value: str) -> str:
        return resolve_model(value).name

    def _model(self) -> str:
        return cast(str, getattr(self, self._model_field))

    @property
    def dim(self) -> int:
        """The vector dimension: ``embedding_dimension``, else the model's (512 or 1024).

        Example:
            >>> from tl_integrations.langchain import TwelveLabsEmbeddings
            >>> TwelveLabsEmbeddings(api_key="k", model="Marengo-retrieval-2.7").dim
            1024
        """
        return self.embedding_dimension or resolve_model(self._model()).dim

    @model_validator(mode="after")
    def _dimension_fits_the_model(self) -> MediaEmbedder:
        if self.embedding_dimension is not None:
            check_dimension(self.embedding_dimension, resolve_model(self._model()))
        return self

    @property
    def space(self) -> str:
        """The space of every vector this model makes: model and dimension.

        Example:
            >>> from tl_integrations.langchain import TwelveLabsEmbeddings
            >>> TwelveLabsEmbeddings(api_key="k").space
            'marengo3.0/512'
        """
        spec = resolve_model(self._model())
        return space_of(spec.name, self.embedding_dimension or spec.dim)

    def _on_client(
        self, call: Callable[[Any], Any], then: Callable[[Any], Any] = lambda x: x
    ) -> Any:
        return then(call(self._clients().sync()))

    def _sized(self) -> dict[str, Any]:
        return {"model_name": self._model(), "embedding_dimension": self.embedding_dimension}

    def _media(
        self,
        kind: str,
        medium: MediaInput,
        keep_asset: bool,
        timeout_s: float | None,
        settings: dict[str, Any],
    ) -> MediaEmbedding:
        """``client.embed.<kind>(medium, ...)`` on this model and size (awaited when the
        adapter stands in on an async client)."""
        options = {"keep_asset": keep_asset, "timeout_s": timeout_s, **settings, **self._sized()}
        return cast(
            MediaEmbedding, self._on_client(lambda c: getattr(c.embed, kind)(medium, **options))
        )

    def embed_video(
        self,
        video: MediaInput,
        *,
        clip_length_s: float | None = None,
        options: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = ("clip",),
        keep_asset: bool = False,
        timeout_s: float | None = None,
    ) -> MediaEmbedding:
        """Embed a video (path, open binary file, URL or asset) into per-clip vectors.

        Waits for the embedding task; an asset made for a local file is deleted after,
        unless ``keep_asset`` (see :meth:`~tl_integrations._resources.embed.Embed.video`).

        Raises:
            InvalidRequestError / InvalidVideoError: refused before upload.
            TaskFailedError / TaskTimeoutError: the task failed or took too long.

        Example:
            >>> me = emb.embed_video("talk.mp4", clip_length_s=4)  # doctest: +SKIP
            >>> me.vectors.shape  # doctest: +SKIP
            (30, 512)
        """
        settings = {"clip_length_s": clip_length_s, "options": options, "scopes": scopes}
        return self._media("video", video, keep_asset, timeout_s, settings)

    def embed_audio(
        self,
        audio: MediaInput,
        *,
        clip_length_s: float | None = None,
        options: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = ("clip",),
        keep_asset: bool = False,
        timeout_s: float | None = None,
    ) -> MediaEmbedding:
        """Embed an audio file (MP3, WAV...) into per-clip vectors, as :meth:`embed_video`.

        Example:
            >>> me = emb.embed_audio("podcast.mp3")  # doctest: +SKIP
        """
        settings = {"clip_length_s": clip_length_s, "options": options, "scopes": scopes}
        return self._media("audio", audio, keep_asset, timeout_s, settings)

    def embed_document(
        self,
        document: MediaInput,
        *,
        options: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = None,
        spatial: str | None = None,
        max_sentences: int | None = None,
        overlap_sentences: int | None = None,
        keep_asset: bool = False,
        timeout_s: float | None = None,
    ) -> MediaEmbedding:
        """Embed a PDF (a vector per page), .txt or .md file (Marengo 3.5).

        See :meth:`~tl_integrations._resources.embed.Embed.document` for the options.

        Example:
            >>> me = emb.embed_document("report.pdf")  # doctest: +SKIP
            >>> me.start_page.tolist()  # doctest: +SKIP
            [1, 2, 3]
        """
        settings = {
            "options": options,
            "scopes": scopes,
            "spatial": spatial,
            "max_sentences": max_sentences,
            "overlap_sentences": overlap_sentences,
        }
        return self._media("document", document, keep_asset, timeout_s, settings)

    def embed_image(self, image: MediaInput) -> list[float]:
        """Embed one image (path, open file, URL or asset; up to 32 MB): one vector.

        Example:
            >>> len(emb.embed_image("logo.png"))  # doctest: +SKIP
            512
        """
        return cast(
            list[float],
            self._on_client(
                lambda c: c.embed.image(image, **self._sized()),
                then=lambda me: row(me.vectors[0]),
            ),
        )

    aembed_video = on_async_client(embed_video)
    aembed_audio = on_async_client(embed_audio)
    aembed_document = on_async_client(embed_document)
    aembed_image = on_async_client(embed_image)
