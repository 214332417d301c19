"""Analysis with Pegasus (``POST /analyze``): the result model and ``client.analyze``.

Example:
    >>> AnalyzeResult.from_api({"id": "g1", "data": "A cat.", "finish_reason": "stop"}).text
    'A cat.'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from .._errors import InvalidRequestError, MalformedResponseError
from .._flows import Context, Flow
from .._transport import Request, path_segment, send_json
from .._wire import as_object, opt_obj, opt_str
from . import AsyncResource, Resource, awaited

__all__ = ["Analyze", "AnalyzeResult", "AsyncAnalyze", "analyze_flow"]


@dataclass(frozen=True)
class AnalyzeResult:
    """The answer of ``POST /analyze`` (non-streaming).

    Attributes:
        text: the generated text.
        finish_reason: ``stop`` or ``length`` (ran out of ``max_tokens``).
        data: the parsed JSON value when a ``json_schema`` response format was asked for.
        usage: token counts as sent (``output_tokens``, maybe ``input_tokens``).
        id: the generation id.

    Example:
        >>> AnalyzeResult.from_api({"data": "x", "usage": {"output_tokens": 3}}).usage
        {'output_tokens': 3}
    """

    text: str
    finish_reason: str | None = None
    data: Any = None
    usage: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, body: Any, *, data: Any = None) -> AnalyzeResult:
        """Parse the response; ``data`` is the already-parsed JSON answer, if any."""
        obj = as_object(body, "analyze response")
        what = "analyze response"
        return cls(
            text=opt_str(obj, "data", what) or "",
            finish_reason=opt_str(obj, "finish_reason", what),
            data=data,
            usage=opt_obj(obj, "usage", what) or {},
            id=opt_str(obj, "id", what),
            raw=obj,
        )


def analyze_request(
    video_id: str,
    prompt: str,
    *,
    temperature: float | None,
    response_format: Mapping[str, Any] | None,
    max_tokens: int | None,
) -> Request:
    """``POST /analyze`` with ``stream`` explicitly false (the API defaults it to true)."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequestError("prompt must be a non-empty string")
    if temperature is not None and not 0.0 <= temperature <= 1.0:
        raise InvalidRequestError(f"temperature must be 0 to 1, got {temperature}")
    path_segment(video_id, "video_id")
    body: dict[str, Any] = {"video_id": video_id, "prompt": prompt, "stream": False}
    if temperature is not None:
        body["temperature"] = temperature
    if response_format is not None:
        body["response_format"] = dict(response_format)
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return Request("POST", "/analyze", json=body, retry="always")


def analyze_result(body: Any, response_format: Mapping[str, Any] | None) -> AnalyzeResult:
    """Parse the answer; decode the JSON text when a ``json_schema`` format was asked for."""
    obj = dict(as_object(body, "analyze response"))
    raw_data = obj.get("data")
    if isinstance(raw_data, (dict, list)):
        try:
            obj["data"] = orjson.dumps(raw_data).decode()
        except orjson.JSONEncodeError as exc:
            raise MalformedResponseError(f"analyze response: 'data' is not JSON: {exc}") from exc
        return AnalyzeResult.from_api(obj, data=raw_data)
    wants_json = bool(response_format) and (response_format or {}).get("type") == "json_schema"
    if not wants_json:
        return AnalyzeResult.from_api(obj)
    text = raw_data if isinstance(raw_data, str) else ""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        reason = obj.get("finish_reason")
        hint = "; raise max_tokens" if reason == "length" else ""
        raise MalformedResponseError(
            f"analyze returned text that is not the requested JSON (finish_reason={reason!r})"
            f"{hint}",
            body=obj,
        ) from None
    return AnalyzeResult.from_api(obj, data=parsed)


def analyze_flow(
    video_id: str,
    prompt: str,
    ctx: Context,
    *,
    temperature: float | None = None,
    response_format: Mapping[str, Any] | None = None,
    max_tokens: int | None = None,
) -> Flow[AnalyzeResult]:
    """Ask Pegasus about a video (see :meth:`Analyze.__call__`)."""
    request = analyze_request(
        video_id,
        prompt,
        temperature=temperature,
        response_format=response_format,
        max_tokens=max_tokens,
    )
    body = yield from send_json(request, ctx)
    return analyze_result(body, response_format)


class Analyze(Resource):
    """``client.analyze(video_id, prompt)``: ask Pegasus about a video.

    Example:
        >>> result = client.analyze(video_id, "Summarize this video")  # doctest: +SKIP
        >>> result.text, result.finish_reason  # doctest: +SKIP
        ('Two hosts review a phone...', 'stop')
    """

    def __call__(
        self,
        video_id: str,
        prompt: str,
        *,
        temperature: float | None = None,
        response_format: Mapping[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> AnalyzeResult:
        """Generate text about a video (non-streaming).

        ``response_format={"type": "json_schema", "json_schema": {...}}`` asks for JSON; the
        parsed value is then in ``result.data``.

        Raises:
            MalformedResponseError: JSON was asked for and the answer is not JSON.

        Example:
            >>> client.analyze(video_id, "Name the speaker").text  # doctest: +SKIP
            'Dr. Ada Park'
        """
        analyze_request(  # refuse bad arguments before anything is sent
            video_id,
            prompt,
            temperature=temperature,
            response_format=response_format,
            max_tokens=max_tokens,
        )
        flow = analyze_flow(
            video_id,
            prompt,
            self._ctx,
            temperature=temperature,
            response_format=response_format,
            max_tokens=max_tokens,
        )
        return self._client._run(flow)


class AsyncAnalyze(AsyncResource):
    """``client.analyze`` of :class:`~tl_integrations.AsyncTwelveLabs` (awaited).

    Example:
        >>> result = await client.analyze(video_id, "Summarize")  # doctest: +SKIP
    """

    __call__ = awaited(Analyze.__call__)
