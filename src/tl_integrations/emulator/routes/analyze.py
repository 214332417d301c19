"""``POST /analyze``: a deterministic Pegasus stand-in (one JSON, or NDJSON when streaming)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..apierror import JSONResponse
from ..backend.analysis import Generation
from ..backend.ingest import AssetRef, Base64Data, RemoteUrl
from .params import backend_of, json_body

__all__ = ["routes"]

_CHUNK_CHARS = 24


def _source(body: dict[str, Any]) -> RemoteUrl | Base64Data | AssetRef | None:
    """The ``video`` object (url, base64_string or asset_id), or the older ``video_id``."""
    video = body.get("video")
    if isinstance(video, dict) and video.get("type") == "url" and video.get("url"):
        return RemoteUrl(str(video["url"]), field="video.url")
    if (
        isinstance(video, dict)
        and video.get("type") == "base64_string"
        and video.get("base64_string")
    ):
        return Base64Data(str(video["base64_string"]), field="video.base64_string")
    if isinstance(video, dict) and video.get("type") == "asset_id" and video.get("asset_id"):
        return AssetRef(str(video["asset_id"]), field="video.asset_id")
    if body.get("video_id"):
        return AssetRef(str(body["video_id"]), field="video_id")
    return None


async def analyze(request: Request) -> Response:
    """``POST /analyze``: ``video`` (or ``video_id``), ``prompt``, ``stream``,
    ``response_format``, ``max_tokens``."""
    body = await json_body(request)
    answer = await backend_of(request).analysis.generate(
        prompt=body.get("prompt"),
        source=_source(body),
        response_format=body.get("response_format"),
        max_tokens=body.get("max_tokens"),
    )
    if body.get("stream", True) is False:
        return JSONResponse(
            {
                "id": answer.id,
                "data": answer.text,
                "finish_reason": answer.finish_reason,
                "usage": answer.usage,
            }
        )
    return StreamingResponse(_events(answer), media_type="application/x-ndjson")


async def _events(answer: Generation) -> AsyncIterator[bytes]:
    yield _line({"event_type": "stream_start", "metadata": {"generation_id": answer.id}})
    text = answer.text
    for i in range(0, len(text), _CHUNK_CHARS):
        yield _line({"event_type": "text_generation", "text": text[i : i + _CHUNK_CHARS]})
    end = {"generation_id": answer.id, "usage": answer.usage}
    yield _line(
        {"event_type": "stream_end", "finish_reason": answer.finish_reason, "metadata": end}
    )


def _line(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event) + b"\n"


routes = [Route("/analyze", analyze, methods=["POST"])]
