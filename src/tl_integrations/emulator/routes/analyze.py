"""``POST /analyze``: a deterministic Pegasus stand-in (one JSON, or NDJSON when streaming)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .. import semantics
from ..apierror import ApiError, JSONResponse
from ..ingest import probe_upload, upload_from_source
from ..media import MediaInfo
from ..state import EmulatorState
from .common import invalid, json_body, missing, state_of

__all__ = ["routes"]

PROMPT_LIMIT = 2000
_CHUNK_CHARS = 24


async def _media_info(state: EmulatorState, body: dict[str, Any]) -> MediaInfo:
    video = body.get("video")
    if isinstance(video, dict) and video.get("type") in ("url", "base64_string"):
        upload = await upload_from_source(state, video, field="video")
        try:
            return await probe_upload(state, upload)
        finally:
            upload.discard()
    ident = body.get("video_id")
    if isinstance(video, dict) and video.get("type") == "asset_id":
        ident = video.get("asset_id")
    if not ident:
        raise missing("video")
    with state.lock:
        info = state.find_video(str(ident)).info
    assert info is not None
    return info


def _schema(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format")
    if fmt is None:
        return None
    if (
        not isinstance(fmt, dict)
        or fmt.get("type") != "json_schema"
        or not isinstance(fmt.get("json_schema"), dict)
    ):
        raise invalid("response_format", "must be {'type': 'json_schema', 'json_schema': {...}}")
    schema: dict[str, Any] = fmt["json_schema"]
    inner = schema.get("schema")
    # Also accept the OpenAI-style wrapper {"name": ..., "schema": {...}}.
    return inner if isinstance(inner, dict) and "type" not in schema else schema


def _generate(
    info: MediaInfo, prompt: str, schema: dict[str, Any] | None, max_tokens: int | None
) -> tuple[str, str]:
    if schema is not None:
        text = orjson.dumps(semantics.fill_schema(schema, info, prompt=prompt)).decode()
    else:
        text = semantics.analyze_text(info, prompt=prompt)
    words = text.split(" ")
    if max_tokens is not None and len(words) > max_tokens:
        return " ".join(words[:max_tokens]), "length"
    return text, "stop"


def _max_tokens(body: dict[str, Any]) -> int | None:
    raw = body.get("max_tokens")
    if raw is None:
        return None
    if not isinstance(raw, int) or raw < 1:
        raise invalid("max_tokens", f"must be a positive integer, got {raw!r}")
    return raw


async def analyze(request: Request) -> Response:
    """``POST /analyze``: ``video_id`` or ``video``, ``prompt``, ``stream``, ``response_format``."""
    state = state_of(request)
    body = await json_body(request)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise missing("prompt")
    if len(prompt.split()) > PROMPT_LIMIT:
        raise ApiError(400, "token_limit_exceeded", f"The prompt exceeds {PROMPT_LIMIT} tokens.")
    schema = _schema(body)
    limit = _max_tokens(body)
    info = await _media_info(state, body)
    text, finish = _generate(info, prompt, schema, limit)
    generation_id = state.new_id()
    usage = {"output_tokens": len(text.split()), "input_tokens": len(prompt.split())}
    if body.get("stream", True) is False:
        return JSONResponse(
            {"id": generation_id, "data": text, "finish_reason": finish, "usage": usage}
        )
    return StreamingResponse(
        _events(generation_id, text, finish, usage), media_type="application/x-ndjson"
    )


async def _events(
    generation_id: str, text: str, finish: str, usage: dict[str, int]
) -> AsyncIterator[bytes]:
    yield _line({"event_type": "stream_start", "metadata": {"generation_id": generation_id}})
    for i in range(0, len(text), _CHUNK_CHARS):
        yield _line({"event_type": "text_generation", "text": text[i : i + _CHUNK_CHARS]})
    end = {"generation_id": generation_id, "usage": usage}
    yield _line({"event_type": "stream_end", "finish_reason": finish, "metadata": end})


def _line(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event) + b"\n"


routes = [Route("/analyze", analyze, methods=["POST"])]
