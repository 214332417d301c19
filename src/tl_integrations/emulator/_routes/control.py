"""Control endpoints under ``/_emulator`` (not part of the TwelveLabs API).

``GET stats``, ``POST reset``, ``GET``/``POST faults``, ``POST faults/next`` (plan a fault
for particular requests), ``GET``/``POST clock`` (advance a
:class:`ManualClock`), ``GET media/{id}`` (the file of a video or an asset: ``hls.video_url``,
an asset's ``hls.manifest_url`` and the multipart ``url``), ``GET thumbnails/{id}.png`` (an
asset's ``thumbnail.representative_url``) and ``GET thumbnails/{id}/{seconds}.png`` (the
frame of a video at that time: a search clip's ``thumbnail_url``). They need the API key when
the emulator was started with one (the gate checks it); the media and thumbnail links the API
hands out are signed instead, and work without it. A POST takes ``application/json`` only.

``reset`` forgets every record and deletes the files the emulator stored for them: in a
data directory, ``state.json`` and the emulator's own files in ``media/``, ``vectors/`` and
``multipart/``; nothing else there, and never the directory itself.
"""

from __future__ import annotations

import math
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from .._apierror import JSONResponse
from .._backend.errors import Invalid, NotFound
from .._config import Faults, ManualClock
from .._faults import FaultInjector, PlannedFault
from .._media import MediaError, frame_at, png_bytes, png_from_pixels
from .params import json_body, state_of
from .table import RouteTable

__all__ = ["routes"]


routes = RouteTable()


@routes.route("/stats", "GET")
async def stats(request: Request) -> Response:
    """``GET /_emulator/stats``: request counts by route, statuses, faults, uploads, bytes."""
    state = state_of(request)
    with state.lock:
        return JSONResponse(state.stats.to_dict())


@routes.route("/reset", "POST")
async def reset(request: Request) -> Response:
    """``POST /_emulator/reset``: forget every record, stat and stored file; 204."""
    state_of(request).reset()
    return Response(status_code=204)


def _faults_json(faults: FaultInjector) -> dict[str, Any]:
    probabilities = faults.faults
    return {
        "faults": probabilities.to_dict(),
        "spec": probabilities.to_spec(),
        "seed": faults.seed,
        "next": faults.planned(),
    }


@routes.route("/faults", "GET")
async def get_faults(request: Request) -> Response:
    """``GET /_emulator/faults``: the probabilities, the seed, and the planned faults still
    to happen (``next``)."""
    return JSONResponse(_faults_json(state_of(request).faults))


@routes.route("/faults", "POST")
async def set_faults(request: Request) -> Response:
    """``POST /_emulator/faults`` with ``{"spec": "500=0.1,drop=0.02", "seed": 1}`` or
    ``{"faults": {"500": 0.1}}``; an empty body clears every fault, planned ones too."""
    state = state_of(request)
    body = await json_body(request)
    if not body:
        state.faults.forget_planned()
    try:
        if isinstance(body.get("spec"), str):
            faults = Faults.parse(body["spec"])
        else:
            mapping = body.get("faults") or {}
            if not isinstance(mapping, dict):
                raise TypeError(f"faults must be an object, got {mapping!r}")
            faults = Faults.from_mapping(mapping)
    except (ValueError, TypeError) as exc:
        raise Invalid(None, f"Bad faults: {exc}") from exc
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise Invalid("seed", f"Bad seed: a whole number is needed, got {seed!r}.")
    state.set_faults(faults, seed=seed)
    return JSONResponse(_faults_json(state.faults))


@routes.route("/faults/next", "POST")
async def plan_fault(request: Request) -> Response:
    """``POST /_emulator/faults/next`` with ``{"method": "GET", "path": "/tasks/*",
    "action": "503", "times": 2, "after": 0}``: of the requests that match from now on, the
    first ``after`` pass and the next ``times`` get ``action`` (see ``PlannedFault``)."""
    state = state_of(request)
    body = await json_body(request)
    try:
        rule = PlannedFault.from_mapping(body)
    except (ValueError, TypeError) as exc:
        raise Invalid(None, f"Bad planned fault: {exc}") from exc
    state.faults.plan(rule)
    return JSONResponse(_faults_json(state.faults))


@routes.route("/clock", "GET", "POST")
async def clock(request: Request) -> Response:
    """``GET``: the emulator's time; ``POST {"advance_s": 10}`` moves a manual clock."""
    state = state_of(request)
    if request.method == "POST":
        body = await json_body(request)
        if not isinstance(state.config.clock, ManualClock):
            raise Invalid(None, "This emulator runs on the wall clock.")
        step = body.get("advance_s", 0.0)
        if isinstance(step, bool) or not isinstance(step, (int, float)):
            raise Invalid("advance_s", f"Bad advance_s: a number of seconds, got {step!r}.")
        try:
            state.config.clock.advance(float(step))
        except ValueError as exc:  # negative, infinite or NaN
            raise Invalid("advance_s", f"Bad advance_s: {exc}") from exc
    return JSONResponse(
        {"now_s": state.now(), "manual": isinstance(state.config.clock, ManualClock)}
    )


@routes.route("/media/{owner_id}", "GET")
async def media(request: Request) -> Response:
    """``GET /_emulator/media/{owner_id}``: the file of a video or an asset (range requests
    supported)."""
    owner_id = request.path_params["owner_id"]
    path = state_of(request).backend.media_file(owner_id)
    if path is None or not path.is_file():
        raise NotFound("media file", owner_id)
    return FileResponse(path)


@routes.route("/thumbnails/{asset_id}.png", "GET")
async def thumbnail(request: Request) -> Response:
    """``GET /_emulator/thumbnails/{asset_id}.png``: a PNG of the asset's main colour."""
    asset_id = request.path_params["asset_id"]
    rgb = state_of(request).backend.thumbnail_rgb(asset_id)
    if rgb is None:
        raise NotFound("thumbnail", asset_id)
    return Response(png_bytes(rgb), media_type="image/png")


@routes.route("/thumbnails/{owner_id}/{at_s}.png", "GET")
async def frame(request: Request) -> Response:
    """``GET /_emulator/thumbnails/{owner_id}/{at_s}.png``: the frame of a stored video (or
    video asset) at ``at_s`` seconds, as a PNG 320 pixels wide."""
    owner_id, raw = request.path_params["owner_id"], request.path_params["at_s"]
    try:
        at_s = float(raw)
    except ValueError:
        raise Invalid("at_s", f"The time {raw!r} is not a number of seconds.") from None
    if not math.isfinite(at_s):
        raise Invalid("at_s", f"The time {raw!r} is not a finite number of seconds.")
    path = state_of(request).backend.media_file(owner_id)
    if path is None or not path.is_file():
        raise NotFound("video", owner_id)
    try:
        pixels = await anyio.to_thread.run_sync(lambda: frame_at(path, at_s))
    except MediaError:
        raise NotFound("frame of", owner_id) from None
    return Response(png_from_pixels(pixels), media_type="image/png")
