"""Analysis: a deterministic Pegasus stand-in that answers prompts about one video."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from .. import semantics
from ..media import MediaInfo
from .errors import Invalid, invalid, missing
from .ingest import AssetRef, Base64Data, RemoteUrl, probe_upload, receive
from .store import Store

__all__ = ["PROMPT_LIMIT", "Analysis", "Generation"]

PROMPT_LIMIT = 2000

#: Resolves an asset id (or, for older clients, a video id) to its media information.
AssetInfo = Callable[[AssetRef], MediaInfo]


@dataclass(frozen=True)
class Generation:
    """One answer: its id, text, why it stopped (``stop``/``length``) and token counts.

    Example:
        >>> Generation("g", "Hi.", "stop", {"output_tokens": 1, "input_tokens": 1}).text
        'Hi.'
    """

    id: str
    text: str
    finish_reason: str
    usage: dict[str, int]


def _schema(response_format: Any) -> dict[str, Any] | None:
    if response_format is None:
        return None
    fmt = response_format
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


def _max_tokens(raw: Any) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, int) or raw < 1:
        raise invalid("max_tokens", f"must be a positive integer, got {raw!r}")
    return raw


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


class Analysis:
    """Answers prompts about a video given by URL, base64, asset id or (older) video id.

    Args:
        store: The records.
        asset_info: How an asset id finds the media information behind it.

    Example:
        >>> await analysis.generate(prompt="Title?", source=AssetRef(asset_id),
        ...                         response_format=None, max_tokens=None)  # doctest: +SKIP
    """

    def __init__(self, store: Store, *, asset_info: AssetInfo) -> None:
        self.store = store
        self.asset_info = asset_info

    async def _info(self, source: RemoteUrl | Base64Data | AssetRef | None) -> MediaInfo:
        if isinstance(source, (RemoteUrl, Base64Data)):
            upload = await receive(self.store, source)
            try:
                return await probe_upload(self.store, upload)
            finally:
                upload.discard()
        if source is None:
            raise missing("video")
        with self.store.lock:
            return self.asset_info(source)

    async def generate(
        self,
        *,
        prompt: Any,
        source: RemoteUrl | Base64Data | AssetRef | None,
        response_format: Any,
        max_tokens: Any,
    ) -> Generation:
        """Answer ``prompt`` about the video (JSON text when a schema is given).

        Raises:
            Invalid: For a missing or too-long prompt, a bad format or media problem.
            NotFound: When the asset does not exist.
        """
        if not isinstance(prompt, str) or not prompt.strip():
            raise missing("prompt")
        if len(prompt.split()) > PROMPT_LIMIT:
            raise Invalid(
                None, f"The prompt exceeds {PROMPT_LIMIT} tokens.", code="token_limit_exceeded"
            )
        schema = _schema(response_format)
        limit = _max_tokens(max_tokens)
        info = await self._info(source)
        text, finish = _generate(info, prompt, schema, limit)
        usage = {"output_tokens": len(text.split()), "input_tokens": len(prompt.split())}
        return Generation(self.store.new_id(), text, finish, usage)
