"""Route tables of the emulator, one module per resource."""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import (
    analysis_batches,
    analysis_tasks,
    analyze,
    assets,
    control,
    embed,
    embed_v2,
    entities,
    indexes,
    search,
    storage,
    tasks,
    uploads,
    videos,
)

__all__ = ["api_routes", "control_routes", "storage_routes"]


def api_routes() -> list[BaseRoute]:
    """Every TwelveLabs endpoint, relative to ``/v1.3``.

    Example:
        >>> any(getattr(r, "path", "") == "/tasks" for r in api_routes())
        True
    """
    # uploads before assets: "/assets/multipart-uploads" is not an asset id.
    modules = (
        indexes,
        videos,
        tasks,
        uploads,
        assets,
        embed,
        embed_v2,
        search,
        analyze,
        analysis_tasks,
        analysis_batches,
        entities,
    )
    return [route for module in modules for route in module.routes]


def control_routes() -> list[BaseRoute]:
    """The ``/_emulator`` control endpoints (relative to that prefix).

    Example:
        >>> len(control_routes()) > 3
        True
    """
    return list(control.routes)


def storage_routes() -> list[BaseRoute]:
    """The presigned chunk URLs of multipart uploads (relative to ``/_upload``).

    Example:
        >>> [getattr(r, "path", "") for r in storage_routes()]
        ['/{upload_id}/{chunk_index:int}']
    """
    return list(storage.routes)
