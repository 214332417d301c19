"""Route tables of the emulator, one module per resource."""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import (
    analyze,
    assets,
    control,
    embed,
    embed_v2,
    indexes,
    search,
    tasks,
    videos,
)

__all__ = ["api_routes", "control_routes"]


def api_routes() -> list[BaseRoute]:
    """Every TwelveLabs endpoint, relative to ``/v1.3``.

    Example:
        >>> any(getattr(r, "path", "") == "/tasks" for r in api_routes())
        True
    """
    modules = (
        indexes,
        videos,
        tasks,
        assets,
        embed,
        embed_v2,
        search,
        analyze,
    )
    return [route for module in modules for route in module.routes]


def control_routes() -> list[BaseRoute]:
    """The ``/_emulator`` control endpoints (relative to that prefix).

    Example:
        >>> len(control_routes()) > 3
        True
    """
    return list(control.routes)
