"""Serving an ASGI app with uvicorn on a background thread: the emulator and the webhook
receiver's standalone server both run this way, for tests, notebooks and the CLI.

:class:`BackgroundServer` is what both servers share: the thread's start and stop, their
address, and ``with`` starting and stopping them.

uvicorn is imported by the caller (it is an extra); this module only needs its ``Server``
object's ``serve``, ``started`` and ``should_exit``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any, TypeVar

from ._closing import Closing

_ServerT = TypeVar("_ServerT", bound="BackgroundServer")

# Binding is done before the thread starts; this only bounds the wait for uvicorn's start.
START_TIMEOUT_S = 20.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket with ``TCP_NODELAY`` (inherited by accepted connections).

    Without it, uvicorn's separate header and body writes meet Nagle's algorithm and the
    client's delayed ACK: about 40 ms per request instead of under 1 ms.

    Example:
        >>> sock = bind_socket("127.0.0.1", 0); sock.getsockname()[1] > 0
        True
        >>> sock.close()
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


class ServerThread:
    """A uvicorn ``Server`` serving one bound socket on a daemon thread.

    Example:
        >>> import uvicorn  # doctest: +SKIP
        >>> sock = bind_socket("127.0.0.1", 0)  # doctest: +SKIP
        >>> server = uvicorn.Server(uvicorn.Config(app))  # doctest: +SKIP
        >>> thread = ServerThread(server, sock, "demo")  # doctest: +SKIP
        >>> thread.start(timeout_s=20)  # doctest: +SKIP
        True
        >>> thread.stop(timeout_s=20)  # doctest: +SKIP
    """

    def __init__(self, server: Any, sock: socket.socket, name: str) -> None:
        self.server = server
        self._sock = sock
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), name=name, daemon=True
        )

    def start(self, *, timeout_s: float) -> bool:
        """Start the thread and wait until the server accepts connections; False when it
        died or did not start within ``timeout_s`` (the caller says what failed)."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                return False
            time.sleep(0.005)  # waiting for the server thread, not for time
        return True

    def stop(self, *, timeout_s: float) -> None:
        """Ask the server to exit and wait for its thread (idempotent)."""
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=timeout_s)
        self._sock.close()


class BackgroundServer(Closing):
    """Base of a server run on a :class:`ServerThread`: a context manager that starts it
    and stops it.

    A subclass sets ``host`` and ``port`` and writes ``start`` (idempotent, returning
    ``self``), which binds a socket and hands the server to :meth:`_serve`; its public stop
    method calls :meth:`_stop_serving`.

    Example:
        >>> class Demo(BackgroundServer):
        ...     host, port = "::1", 8000
        ...     def start(self): return self
        >>> with Demo() as server:
        ...     server._origin
        'http://[::1]:8000'
    """

    host: str
    port: int
    _thread: ServerThread | None = None

    def start(self: _ServerT) -> _ServerT:
        raise NotImplementedError

    @property
    def _origin(self) -> str:
        """``http://host:port``, an IPv6 host in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _serve(self, server: Any, sock: socket.socket, name: str) -> bool:
        """Serve ``sock`` with the uvicorn ``server`` on a thread called ``name``; False
        (and the server stopped) when it did not start, for the caller to say why."""
        self._thread = ServerThread(server, sock, name)
        if self._thread.start(timeout_s=START_TIMEOUT_S):
            return True
        self._stop_serving()
        return False

    def _stop_serving(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        if self._thread is not None:
            self._thread.stop(timeout_s=START_TIMEOUT_S)
        self._thread = None

    def _close_on_exit(self) -> None:
        self._stop_serving()

    def __enter__(self: _ServerT) -> _ServerT:
        return self.start()
