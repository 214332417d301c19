"""Analysis: a deterministic Pegasus stand-in that answers prompts about a video or images.

:class:`Analysis` finds the media of a checked request (an asset, a URL to fetch, inline
base64, or Pegasus 1.6 images) and builds the answer from its subtitles and colours: free
text, a JSON value for a schema, or time-based metadata (segments). The synchronous
``POST /analyze`` uses it directly; analysis tasks and batches keep its answers.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import numpy as np
import orjson

from .. import _semantics as semantics
from .._media import ANALYZE_IMAGE_PIXELS, MediaError, MediaInfo, check_image_pixels, probe_streams
from .analysis_rules import Ask, ImageInput, MediaSource, count_tokens, sync_ask, window_of
from .assets import Assets
from .errors import Invalid
from .ingest import AssetRef, Base64Data, RemoteUrl, receive
from .media_rules import check_media, probe_media
from .store import Store

__all__ = ["BASE64_VIDEO_LIMIT", "Analysis", "Generation", "Media"]

BASE64_VIDEO_LIMIT = 30 * 1024**2
IMAGE_LIMIT = 20 * 1024**2

#: Resolves an asset id (or, for older clients, a video id) to its media information.
AssetInfo = Callable[[AssetRef], MediaInfo]


@dataclass(frozen=True)
class Generation:
    """One answer: its id, text, why it stopped (``stop``/``length``), token counts, and the
    warning that goes with a cut answer.

    Example:
        >>> Generation("g", "Hi.", "stop", {"output_tokens": 1, "input_tokens": 1}).text
        'Hi.'
    """

    id: str
    text: str
    finish_reason: str
    usage: dict[str, int]
    warning: dict[str, str] | None = None

    def result(self) -> dict[str, Any]:
        """The ``result`` object of an analysis task (``data`` is always a string).

        Example:
            >>> Generation("g", "Hi.", "stop", {"output_tokens": 1}).result()["generation_id"]
            'g'
        """
        return {
            "generation_id": self.id,
            "data": self.text,
            "finish_reason": self.finish_reason,
            "usage": dict(self.usage),
        }


@dataclass(frozen=True)
class Media:
    """What a request analyses: the media (images become a one-second-per-image slideshow),
    the window of it, and how a task reports its source (``video_source``; None for images).

    Example:
        >>> Media(semantics._demo_info(), (0.0, 8.0), None).seconds
        8.0
    """

    info: MediaInfo
    window: semantics.Window
    source: dict[str, Any] | None
    image_names: tuple[tuple[str, str], ...] = ()

    @property
    def seconds(self) -> float:
        """The analysed duration."""
        return self.window[1] - self.window[0]


def _cut(text: str, limit: int) -> str:
    """``text`` up to its ``limit``-th token."""
    for n, match in enumerate(re.finditer(r"[A-Za-z0-9]+", text), start=1):
        if n == limit:
            return text[: match.end()]
    return text


def _slideshow(colours: list[tuple[int, int, int]]) -> MediaInfo:
    """Images as a silent video, one second each, so that every answer builder reads them."""
    rgb = np.asarray(colours, np.float32).reshape(-1, 3) / 255.0
    seconds = float(len(colours))
    return MediaInfo("images", 0, seconds, 1.0, 512, 512, False, (), rgb, 1.0)


def _check_asset_pixels(technical: dict[str, Any], field: str | None, name: str) -> None:
    """An image asset named by an analysis request keeps the API's analysis pixel limit."""
    width, height = technical.get("image_width"), technical.get("image_height")
    if not (isinstance(width, int) and isinstance(height, int)):
        return
    if width * height > ANALYZE_IMAGE_PIXELS:
        raise Invalid(
            field,
            f"The image {name!r} is {width}x{height} = {width * height} pixels; analysis "
            f"takes images of at most {ANALYZE_IMAGE_PIXELS} pixels.",
        )


def _video_source(source: MediaSource, info: MediaInfo) -> dict[str, Any]:
    meta = {"system_metadata": {"duration": round(info.duration_s, 3)}}
    if isinstance(source, RemoteUrl):
        return {"type": "url", "url": source.url, **meta}
    if isinstance(source, AssetRef):
        return {"type": "asset_id", "asset_id": source.asset_id, **meta}
    return {"type": "base64_string", **meta}


class Analysis:
    """Answers analysis requests about a video given by URL, base64 or asset id, or about
    images (Pegasus 1.6).

    Args:
        store: The records.
        assets: The assets (images are read from them).
        asset_info: How an asset id finds the media information behind it.

    Example:
        >>> answer = await analysis.generate({"video": {"type": "asset_id",
        ...     "asset_id": asset_id}, "prompt": "Title?"})  # doctest: +SKIP
    """

    def __init__(self, store: Store, *, assets: Assets, asset_info: AssetInfo) -> None:
        self.store = store
        self.assets = assets
        self.asset_info = asset_info

    async def generate(self, body: dict[str, Any]) -> Generation:
        """Answer a ``POST /analyze`` body (JSON text when a schema is given).

        Raises:
            Invalid: For a request or media that breaks a rule (video_id, model, window...).
            Unprocessable: For a JSON schema with a keyword Pegasus does not support.
            NotFound: When the asset does not exist.
        """
        ask = sync_ask(body)
        media = await self.media(ask, sync=True)
        return self.answer(ask, media)

    # ------------------------------------------------------------------ media

    async def media(self, ask: Ask, *, sync: bool) -> Media:
        """The media of a checked request, with its window checked against its duration.

        Raises:
            Invalid: For media that cannot be read or breaks the analysis limits.
            NotFound: When an asset does not exist.
        """
        if ask.images:
            return await self._images(ask.images)
        assert ask.video is not None
        info = await self._video(ask.video)
        window = window_of(ask, info.duration_s, sync=sync)
        return Media(info, window, _video_source(ask.video, info))

    async def _video(self, source: MediaSource) -> MediaInfo:
        if isinstance(source, AssetRef):
            with self.store.lock:
                info = self.asset_info(source)
        else:
            if isinstance(source, Base64Data) and len(source.data) * 3 // 4 > BASE64_VIDEO_LIMIT:
                raise Invalid(
                    source.field,
                    f"A base64 video may hold up to {BASE64_VIDEO_LIMIT} bytes; upload larger "
                    "files as an asset.",
                    code="video_filesize_too_large",
                )
            upload = await receive(self.store, source)
            try:
                # Not probe_upload: it applies indexing's durations (4 s minimum); analysis
                # takes 1 s to 2 h, checked by window_of.
                info = await anyio.to_thread.run_sync(
                    lambda: probe_media(upload.path, filename=upload.filename)
                )
            finally:
                upload.discard()
        if not info.width:
            raise Invalid(
                source.field, "The media has no picture; Pegasus analyses videos (or images)."
            )
        # Only the picture (and, for fetched files, size) rules apply here: durations are
        # the analysis' own (window_of), and an asset's size was checked when it was made.
        rules = dataclasses.replace(
            self.store.config.media, min_duration_s=0.0, max_duration_s=math.inf
        )
        check_media(
            dataclasses.replace(info, size_bytes=0) if isinstance(source, AssetRef) else info,
            rules,
        )
        return info

    async def _images(self, images: tuple[ImageInput, ...]) -> Media:
        colours = [await self._image_colour(image) for image in images]
        names = tuple(
            (image.name, semantics.colour_name(rgb))
            for image, rgb in zip(images, colours, strict=True)
        )
        info = _slideshow(colours)
        return Media(info, (0.0, info.duration_s), None, names)

    async def _image_colour(self, image: ImageInput) -> tuple[int, int, int]:
        source = image.source
        if isinstance(source, AssetRef):
            with self.store.lock:
                rec = self.assets.ready(source)
            if rec.kind != "image" or rec.thumbnail_rgb is None:
                raise Invalid(source.field, f"The asset {source.asset_id!r} is not an image.")
            _check_asset_pixels(rec.technical, source.field, image.name)
            red, green, blue = rec.thumbnail_rgb
            return red, green, blue
        if isinstance(source, Base64Data) and len(source.data) * 3 // 4 > IMAGE_LIMIT:
            raise Invalid(source.field, f"An image may hold up to {IMAGE_LIMIT} bytes.")
        upload = await receive(self.store, source, max_bytes=IMAGE_LIMIT)
        try:
            # The header first: the API takes at most ANALYZE_IMAGE_PIXELS per image, and
            # a larger one is refused before any decoding.
            check_image_pixels(upload.path, image.name, limit=ANALYZE_IMAGE_PIXELS)
            facts = await anyio.to_thread.run_sync(
                lambda: probe_streams(upload.path, filename=upload.filename)
            )
        except MediaError as exc:
            raise Invalid(source.field, f"The image {image.name!r} cannot be read: {exc}") from exc
        finally:
            upload.discard()
        if facts.picture_rgb is None:
            raise Invalid(source.field, f"The image {image.name!r} is not a still image.")
        red, green, blue = facts.picture_rgb
        return red, green, blue

    # ------------------------------------------------------------------ answers

    def answer(self, ask: Ask, media: Media) -> Generation:
        """The answer to ``ask`` about ``media``; ``finish_reason`` is ``length`` when the
        output passes the request's token limit (a segmentation task then fails).

        Example:
            >>> answer = analysis.answer(ask, media)  # doctest: +SKIP
        """
        if ask.mode == "time_based_metadata":
            found = semantics.time_based_metadata(
                media.info,
                list(ask.definitions),
                window=media.window,
                min_segment_s=ask.min_segment_s,
                max_segment_s=ask.max_segment_s,
                time_format=ask.time_format,
            )
            text = orjson.dumps(found).decode()
        elif ask.schema is not None:
            value = semantics.fill_schema(
                ask.schema, media.info, prompt=ask.prompt, window=media.window
            )
            text = orjson.dumps(value).decode()
        else:
            text = semantics.analyze_text(media.info, prompt=ask.prompt or "", window=media.window)
            if media.image_names:
                told = "; ".join(f"{name} is mostly {colour}" for name, colour in media.image_names)
                text = f"{len(media.image_names)} image(s): {told}.\n{text}"
        return self._generation(ask, media, text)

    def _generation(self, ask: Ask, media: Media, text: str) -> Generation:
        limit = ask.token_limit
        finish, warning = "stop", None
        if limit is not None and count_tokens(text) > limit:
            finish = "length"
            warning = {
                "code": "max_tokens_reached",
                "message": f"The answer reached max_tokens ({limit}) and is cut.",
            }
            if ask.mode == "general":
                text = _cut(text, limit)
        prompt_tokens = count_tokens(ask.prompt or "")
        usage = {
            "output_tokens": count_tokens(text),
            # One token a second stands for the video in the context.
            "input_tokens": prompt_tokens + math.ceil(media.seconds),
        }
        return Generation(self.store.new_id(), text, finish, usage, warning)
