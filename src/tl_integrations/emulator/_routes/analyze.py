"""``POST /analyze``: synchronous Pegasus answers, as one JSON body or a stream.

With ``"stream": true`` (the default) the answer is newline-delimited JSON: a
``stream_start`` event, the text in ``text_generation`` fragments (cut anywhere, even
mid-word), then ``stream_end`` with the finish reason and token counts; each line is sent
as soon as it is made. A refused request is answered with a JSON error before anything
streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio.lowlevel
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .._apierror import JSONResponse
from .._backend.analysis import Generation
from .params import backend_of, json_body
from .table import RouteTable

__all__ = ["routes", "stream_events"]

# Fragments are short and their length varies, as a model's tokens would.
_FRAGMENT_CHARS = (7, 3, 11, 5, 9)


routes = RouteTable()


@routes.route("/analyze", "POST")
async def analyze(request: Request) -> Response:
    """``POST /analyze``: ``model_name``, ``video`` or ``image``, ``prompt`` or
    ``prompt_v2``, ``temperature``, ``response_format``, ``max_tokens``, ``start_time``,
    ``end_time``, ``stream``."""
    body = await json_body(request)
    answer = await backend_of(request).analysis.generate(body)
    if body.get("stream", True) is False:
        data: dict[str, Any] = {
            "id": answer.id,
            "data": answer.text,
            "finish_reason": answer.finish_reason,
            "usage": answer.usage,
        }
        if answer.warning is not None:
            data["error"] = answer.warning
        return JSONResponse(data)
    return StreamingResponse(_lines(answer), media_type="application/x-ndjson")


def stream_events(answer: Generation) -> list[dict[str, Any]]:
    """The events of a streamed answer, in order.

    Example:
        >>> events = stream_events(Generation("g", "Hello world", "stop", {"output_tokens": 2}))
        >>> [e.get("text") for e in events[1:-1]]
        ['Hello w', 'orl', 'd']
        >>> events[0]["event_type"], events[-1]["event_type"]
        ('stream_start', 'stream_end')
    """
    events: list[dict[str, Any]] = [
        {"event_type": "stream_start", "metadata": {"generation_id": answer.id}}
    ]
    text, at, n = answer.text, 0, 0
    while at < len(text):
        size = _FRAGMENT_CHARS[n % len(_FRAGMENT_CHARS)]
        events.append({"event_type": "text_generation", "text": text[at : at + size]})
        at, n = at + size, n + 1
    end: dict[str, Any] = {
        "event_type": "stream_end",
        "finish_reason": answer.finish_reason,
        "metadata": {"generation_id": answer.id, "usage": answer.usage},
    }
    if answer.warning is not None:
        end["error"] = answer.warning
    return [*events, end]


async def _lines(answer: Generation) -> AsyncIterator[bytes]:
    for event in stream_events(answer):
        yield orjson.dumps(event) + b"\n"
        await anyio.lowlevel.checkpoint()  # let the server send this line before the next is made
