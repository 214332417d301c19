"""The Starlette application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from ._apierror import ApiError, JSONResponse, api_error_of, error_response
from ._backend.errors import EmulatorError
from ._config import EmulatorConfig
from ._gate import API_PREFIX, CONTROL_PREFIX, STORAGE_PREFIX, Gate
from ._routes import api_routes, control_routes, storage_routes
from ._state import EmulatorState

__all__ = ["EmulatorApp", "create_app"]


def _wrapped(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX + "/embed-v2")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc, wrapped=_wrapped(request))


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EmulatorError)
    return error_response(api_error_of(exc), wrapped=_wrapped(request))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = "not_found" if exc.status_code == 404 else "parameter_invalid"
    message = f"{request.method} {request.url.path}: {exc.detail}"
    return error_response(ApiError(exc.status_code, code, message), wrapped=_wrapped(request))


async def _server_error(request: Request, exc: Exception) -> Response:
    err = ApiError(500, "generic_error", f"Internal error in the emulator: {exc!r}")
    return error_response(err, wrapped=_wrapped(request))


async def _root(request: Request) -> Response:
    return JSONResponse(
        {
            "name": "tl-integrations TwelveLabs emulator",
            "api_base_url": str(request.base_url).rstrip("/") + API_PREFIX,
            "control": [f"{CONTROL_PREFIX}/{p}" for p in ("stats", "reset", "faults", "clock")],
        }
    )


class EmulatorApp(Starlette):
    """A Starlette app whose outermost layer is the :class:`Gate` (faults, auth, limits).

    The gate sits outside Starlette's own middleware so that it sees the server's ``send``
    and can drop a connection without answering.

    Example:
        >>> app = create_app(EmulatorConfig(seed=1))
        >>> isinstance(app, Starlette), app.emulator.config.seed
        (True, 1)
    """

    emulator: EmulatorState

    def __init__(self, state: EmulatorState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.emulator = state
        self.state.emulator = state
        self._gate = Gate(super().__call__, state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection through the gate."""
        await self._gate(scope, receive, send)


def create_app(config: EmulatorConfig | None = None, **overrides: Any) -> EmulatorApp:
    """Build an emulator ASGI app (serve it with uvicorn, or use ``Emulator`` for a thread).

    Args:
        config: Settings (default ``EmulatorConfig()``).
        **overrides: Fields of :class:`EmulatorConfig` to replace, e.g. ``speed=100``.

    Example:
        >>> app = create_app(speed=100.0, seed=3)
        >>> app.emulator.config.speed
        100.0
    """
    cfg = (config or EmulatorConfig()).with_overrides(**overrides)
    state = EmulatorState(cfg)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state.dispatcher.start()  # webhooks go out only while the server runs
        try:
            yield
        finally:
            state.close()

    return EmulatorApp(
        state,
        routes=[
            Route("/", _root, methods=["GET"]),
            Mount(API_PREFIX, routes=api_routes()),
            Mount(CONTROL_PREFIX, routes=control_routes()),
            Mount(STORAGE_PREFIX, routes=storage_routes()),
        ],
        exception_handlers={
            ApiError: _api_error,
            EmulatorError: _domain_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
