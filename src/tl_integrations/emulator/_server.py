"""``Emulator``: the emulator served by uvicorn on a free loopback port in a thread."""

from __future__ import annotations

import asyncio
import warnings
from typing import TYPE_CHECKING, Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .._serving import BackgroundServer, bind_socket
from ._app import EmulatorApp, create_app
from ._config import EmulatorConfig, Faults, ManualClock, host_name, is_loopback
from ._faults import PlannedFault
from ._gate import API_PREFIX

if TYPE_CHECKING:
    from .._client import AsyncTwelveLabs, TwelveLabs
    from .._polling import PollPolicy

__all__ = ["Emulator", "exposure", "guarded_h11", "uvicorn_config"]

DEFAULT_API_KEY = "tl-emulator-key"
_WILDCARDS = ("0.0.0.0", "::", "")


def exposure(config: EmulatorConfig, host: str) -> tuple[EmulatorConfig, str | None]:
    """The settings to serve ``host`` with, and a warning when it reaches beyond loopback.

    A non-loopback address serves its own name as ``Host`` too; a wildcard (``0.0.0.0``,
    ``::``) serves any name unless ``allowed_hosts`` says which (the key guards it then).

    Raises:
        ValueError: For a non-loopback address without an API key: anyone who can reach
            the machine could use (and reset) the emulator.

    Example:
        >>> exposure(EmulatorConfig(), "127.0.0.1")[1] is None
        True
        >>> cfg, warning = exposure(EmulatorConfig(api_key="k"), "0.0.0.0")
        >>> cfg.allowed_hosts, warning.split(":")[0]
        (('*',), 'WARNING')
    """
    name = host_name(host)
    if is_loopback(name):
        return config, None
    if not config.api_key:
        raise ValueError(
            f"serving on {host!r} exposes the emulator beyond this machine, and without an "
            "API key anyone who reaches it could use it: give an API key (--api-key), or "
            "serve on 127.0.0.1"
        )
    allowed = config.allowed_hosts or (("*",) if name in _WILDCARDS else (name,))
    hosts = "any Host name" if "*" in allowed else "the Host names " + ", ".join(allowed)
    warning = (
        f"WARNING: the emulator listens on {host}, beyond this machine; anyone who can reach "
        f"it and knows the API key can use, change and reset it ({hosts} served). It is a "
        "test server: keep it off untrusted networks."
    )
    return config.with_overrides(allowed_hosts=tuple(allowed)), warning


def guarded_h11(header_timeout_s: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request head does not arrive in
    ``header_timeout_s`` (counted from connecting, or from the end of the previous answer).

    uvicorn times out idle kept-alive connections, but not one that connects and sends
    nothing, or drips its headers a byte at a time: each such connection would be held
    forever.

    Example:
        >>> issubclass(guarded_h11(30.0), H11Protocol)
        True
    """

    class GuardedH11Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._watch()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._watch()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._watch()

        def connection_lost(self, exc: Exception | None) -> None:
            self._unwatch()
            super().connection_lost(exc)

        def _waiting_for_head(self) -> bool:
            return self.conn.their_state is h11.IDLE and not self.transport.is_closing()

        def _watch(self) -> None:
            if not self._waiting_for_head():
                self._unwatch()
            elif self._head_timer is None:
                self._head_timer = self.loop.call_later(header_timeout_s, self._give_up)

        def _unwatch(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _give_up(self) -> None:
            self._head_timer = None
            if self._waiting_for_head():
                self.transport.close()

    return GuardedH11Protocol


def uvicorn_config(app: EmulatorApp, *, log_level: str = "warning") -> uvicorn.Config:
    """How both the ``Emulator`` thread and the command line serve an app.

    Example:
        >>> uvicorn_config(create_app()).timeout_keep_alive
        30
    """
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        http=guarded_h11(app.emulator.config.requests.header_timeout_s),
        lifespan="on",
        timeout_keep_alive=30,
        date_header=False,  # the gate sends the emulator's own Date
    )


class Emulator(BackgroundServer):
    """A local TwelveLabs-compatible API for tests, notebooks and demos.

    Args:
        config: Settings (default ``EmulatorConfig()``).
        host: Interface to bind (loopback by default).
        port: Port to bind; 0 picks a free one.
        **overrides: Fields of :class:`EmulatorConfig` to replace (``speed=100``, ``seed=1``,
            ``faults="500=0.1"`` ...).

    Example:
        >>> from twelvelabs import TwelveLabs
        >>> with Emulator(speed=100.0) as emu:  # doctest: +SKIP
        ...     client = TwelveLabs(api_key=emu.api_key, base_url=emu.base_url)
        ...     index = client.indexes.create(index_name="demo", models=[
        ...         {"model_name": "marengo3.0", "model_options": ["visual", "audio"]}])
        ...     emu.stats()["requests_total"]
        1
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **overrides: Any,
    ) -> None:
        self.config = (config or EmulatorConfig()).with_overrides(**overrides)
        self.host = host
        self.port = port
        self.app: EmulatorApp | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Emulator:
        """Start serving (idempotent); returns ``self``.

        Raises:
            ValueError: For a host beyond loopback without an API key (see
                :func:`exposure`; with a key it warns).
            OSError: When the port cannot be bound.
            DataDirError: For a data directory that cannot be used or read back.
            DataDirInUse: When another emulator uses the data directory.

        Example:
            >>> emu = Emulator(speed=100.0).start()  # doctest: +SKIP
            >>> emu.base_url  # doctest: +SKIP
            'http://127.0.0.1:41231/v1.3'
            >>> emu.stop()  # doctest: +SKIP
        """
        if self._thread is not None:
            return self
        self.config, warning = exposure(self.config, self.host)
        if warning:
            warnings.warn(warning, stacklevel=2)
        sock = bind_socket(self.host, self.port)
        try:
            self.app = create_app(self.config)
        except BaseException:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self.app.emulator.backend.store.persistence.announce({"url": self.url})
        server = uvicorn.Server(uvicorn_config(self.app))
        if not self._serve(server, sock, f"tl-emulator-{self.port}"):
            self.app.emulator.close()  # release the data directory the lifespan never had
            raise RuntimeError(f"the emulator did not start on {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent).

        Example:
            >>> emu = Emulator().start()  # doctest: +SKIP
            >>> emu.stop()  # or: with Emulator() as emu: ...  # doctest: +SKIP
        """
        self._stop_serving()

    # ------------------------------------------------------------------ facts

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:54321``."""
        return self._origin

    @property
    def base_url(self) -> str:
        """The API base URL (ends in ``/v1.3``) for ``TwelveLabs(base_url=...)``."""
        return self.url + API_PREFIX

    @property
    def api_key(self) -> str:
        """The configured key, or a placeholder (any non-empty key works then)."""
        return self.config.api_key or DEFAULT_API_KEY

    @property
    def clock(self) -> ManualClock | None:
        """The manual clock, when the emulator runs on one."""
        clock = self.config.clock
        return clock if isinstance(clock, ManualClock) else None

    def _app(self) -> EmulatorApp:
        if self.app is None:
            raise RuntimeError("the emulator is not running; call start() or use 'with'")
        return self.app

    # ------------------------------------------------------------------ clients

    def client(self, **options: Any) -> TwelveLabs:
        """A :class:`~tl_integrations.TwelveLabs` client on this running emulator.

        It has the emulator's key and base URL, and polls ``config.speed`` times more
        often than on the real API (see :meth:`~tl_integrations.PollPolicy.faster`), since
        its jobs are that much shorter. Close it (or use it in a ``with`` block); stopping
        the emulator does not.

        Args:
            **options: other arguments of ``TwelveLabs`` (``timeout_s=``, ``sleep=``, and
                ``poll_policy=`` to poll your own way).

        Raises:
            RuntimeError: the emulator is not running (call :meth:`start` first).

        Example:
            >>> with Emulator(speed=5).start() as emulator:  # doctest: +SKIP
            ...     with emulator.client() as client:
            ...         video = client.index("talk.mp4", index_name="talks")
        """
        from .._client import TwelveLabs

        return TwelveLabs(**self._client_options(options))

    def async_client(self, **options: Any) -> AsyncTwelveLabs:
        """An :class:`~tl_integrations.AsyncTwelveLabs` client on this running emulator.

        The same settings as :meth:`client`; close it with ``await client.aclose()`` (or use
        ``async with``).

        Example:
            >>> async with Emulator(speed=5).start().async_client() as client:  # doctest: +SKIP
            ...     index = await client.indexes.get_or_create("talks")
        """
        from .._client import AsyncTwelveLabs

        return AsyncTwelveLabs(**self._client_options(options))

    def _client_options(self, options: dict[str, Any]) -> dict[str, Any]:
        # The client is imported only here: the server side shares no code with it, and
        # `import tl_integrations.emulator` stays free of it.
        self._app()  # refuse before a client points at a port nobody listens on
        return {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "poll_policy": self._poll_policy(),
            **options,
        }

    def _poll_policy(self) -> PollPolicy | None:
        if self.config.speed <= 1:
            return None  # the client's own default, tuned for the real API
        from .._polling import PollPolicy

        return PollPolicy().faster(self.config.speed)

    # ------------------------------------------------------------------ controls

    def stats(self) -> dict[str, Any]:
        """Request counts by route, statuses, faults, uploads, chunks and bytes received.

        Example:
            >>> with Emulator() as emu, emu.client() as client:  # doctest: +SKIP
            ...     _ = client.indexes.get_or_create("talks")
            ...     emu.stats()["requests"]["GET /v1.3/indexes"]
            1
        """
        state = self._app().emulator
        with state.lock:
            return state.stats.to_dict()

    def reset(self) -> None:
        """Forget every asset, upload, index, video, task, media file and stat; restore the
        configured faults. In a data directory only the emulator's own files go (see
        ``POST /_emulator/reset``).

        Example:
            >>> emu.reset()  # doctest: +SKIP
            >>> emu.stats()["requests_total"]  # doctest: +SKIP
            0
        """
        self._app().emulator.reset()

    def set_faults(
        self,
        faults: Faults | str | dict[str, float] | None = None,
        *,
        seed: int | None = None,
        **probabilities: float,
    ) -> None:
        """Set fault probabilities: ``set_faults("500=0.1,drop=0.02")``, ``set_faults(p500=0.1)``
        or ``set_faults()`` to clear every fault (planned ones too). The fault generator
        restarts from ``seed``.

        Example:
            >>> emu.set_faults("503=0.2", seed=1)  # doctest: +SKIP
        """
        state = self._app().emulator
        if faults is None and not probabilities:
            state.faults.forget_planned()
        if isinstance(faults, str):
            faults = Faults.parse(faults)
        elif isinstance(faults, dict):
            faults = Faults.from_mapping(faults)
        elif faults is None:
            faults = Faults(**probabilities)
        state.set_faults(faults, seed=seed)

    def fail_next(
        self, method: str, path: str, action: str = "503", *, times: int = 1, after: int = 0
    ) -> None:
        """Plan a fault for particular requests, to test how a client copes with exactly
        that failure: of the requests that match ``method`` and ``path`` from now on, the
        first ``after`` pass, and the ``times`` after them get ``action``.

        Args:
            method: ``"GET"``, ``"POST"`` ... or ``"*"`` for any.
            path: The path under ``/v1.3``; a segment ``*`` or ``{name}`` matches any one
                segment (``"/tasks/{task_id}"``). Chunk PUTs are ``"/_upload/*/*"``.
            action: ``"500"``, ``"502"``, ``"503"``, ``"429"`` (with ``Retry-After: 1``),
                ``"drop"`` (close the connection before handling the request) or ``"lost"``
                (handle it, e.g. create the task, then close the connection unanswered).
            times: How many matching requests get the fault.
            after: How many matching requests pass first.

        Raises:
            ValueError: An unknown method or action, a path that does not start with
                ``/``, or ``times < 1`` / ``after < 0``.

        Example:
            >>> with Emulator(speed=100.0) as emu, emu.client() as client:  # doctest: +SKIP
            ...     emu.fail_next("GET", "/indexes", "503", times=2)
            ...     client.indexes.list()  # retried twice, then answered
        """
        rule = PlannedFault(method, path, action, times=times, after=after)
        self._app().emulator.faults.plan(rule)

    def advance(self, seconds: float) -> None:
        """Move the manual clock forward (tasks progress without sleeping); the webhook
        events that fall due are sent before it returns.

        Example:
            >>> with Emulator(EmulatorConfig(clock=ManualClock())) as emu:  # doctest: +SKIP
            ...     emu.advance(60.0)  # a minute of processing, at once
        """
        if self.clock is None:
            raise RuntimeError("advance() needs EmulatorConfig(clock=ManualClock())")
        self.clock.advance(seconds)
        if self.app is not None:
            self.app.emulator.dispatcher.flush()
