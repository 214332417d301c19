"""``client.embed``: video embedding tasks, text embeddings, and a one-call video embedding.

:class:`Embed` hangs off :class:`~tl_integrations.TwelveLabs`, :class:`AsyncEmbed` off
:class:`~tl_integrations.AsyncTwelveLabs`; they have the same methods with the same
signatures. Text embeddings are one request per text (the API has no batch call), sent
concurrently under a bound, in order, and retried on 429 as the server asks.

Example:
    >>> client = TwelveLabs()  # doctest: +SKIP
    >>> query = client.embed.text("a red car", model_name="marengo3.0")  # doctest: +SKIP
    >>> ve = client.embed.video("talk.mp4", model_name="marengo3.0")  # doctest: +SKIP
    >>> scores = ve.vectors @ query  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidRequestError
from . import wire
from ._shared import OnUpdate, ready_video
from ._tasks_async import AsyncEmbedTasks
from ._tasks_sync import EmbedTasks
from .decode import decode_text_v1, decode_text_v2
from .params import CLIP_LENGTH_DEFAULT_S, ModelSpec, VideoSource, check_text, resolve_model
from .vectors import VideoEmbedding

if TYPE_CHECKING:
    import httpx

    from ..client._async import AsyncTwelveLabs
    from ..client._sync import TwelveLabs

__all__ = ["AsyncEmbed", "Embed"]

DEFAULT_MAX_CONCURRENCY = 8
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _text_request(text: str, model: ModelSpec) -> dict[str, Any]:
    """The ``_request`` arguments for one text; safe to repeat, so always retried."""
    if model.protocol == "v1":
        form = {"model_name": model.name, "text": text}
        return {"data": form, "files": {}, "retry": "always"}
    return {"json": wire.v2_text_body(text, model=model), "retry": "always"}


def _decode_text(response: httpx.Response, model: ModelSpec) -> NDArray[np.float32]:
    decode = decode_text_v1 if model.protocol == "v1" else decode_text_v2
    return decode(response.content)


def _check_texts(texts: Sequence[str], max_concurrency: int) -> list[str]:
    if isinstance(texts, str):
        raise InvalidRequestError("texts must be a list of strings; for one text use text()")
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise InvalidRequestError(f"max_concurrency must be an int, got {max_concurrency!r}")
    if max_concurrency < 1:
        raise InvalidRequestError(f"max_concurrency must be >= 1, got {max_concurrency}")
    return [check_text(text) for text in texts]


def _stack(vectors: list[NDArray[np.float32]], model: ModelSpec) -> NDArray[np.float32]:
    if not vectors:
        return np.zeros((0, model.dim), dtype=np.float32)
    return np.stack(vectors)


def _video_source(video: VideoSource) -> dict[str, Any]:
    """``video_url=`` for a URL string (``https://``, ``file://``...), else ``video_file=``."""
    if isinstance(video, str) and _URL.match(video):
        return {"video_url": video}
    if isinstance(video, (str, os.PathLike)) or hasattr(video, "read"):
        return {"video_file": video}
    raise InvalidRequestError(
        f"video must be a path, an open binary file or a URL, got {type(video).__name__}"
    )


def _video_create_args(
    video: VideoSource,
    *,
    model_name: str,
    clip_length_s: float,
    options: str | Iterable[str] | None,
    scopes: str | Iterable[str] | None,
    start_s: float | None,
    end_s: float | None,
) -> dict[str, Any]:
    return {
        "model_name": model_name,
        **_video_source(video),
        "video_clip_length": clip_length_s,
        "video_start_offset_sec": start_s,
        "video_end_offset_sec": end_s,
        "video_embedding_scope": scopes,
        "embedding_options": options,
    }


class Embed:
    """``client.embed`` of :class:`~tl_integrations.TwelveLabs`.

    Attributes:
        tasks: video embedding tasks (:class:`EmbedTasks`); ``task`` is an alias.

    Example:
        >>> vectors = client.embed.texts(["a red car", "a dog"],
        ...                              model_name="marengo3.0")  # doctest: +SKIP
        >>> vectors.shape  # doctest: +SKIP
        (2, 512)
    """

    def __init__(self, client: TwelveLabs) -> None:
        self._client = client
        self.tasks = EmbedTasks(client)
        self.task = self.tasks

    def text(self, text: str, *, model_name: str) -> NDArray[np.float32]:
        """Embed one text; returns a float32 vector ``(dim,)`` in the model's video space.

        Raises:
            InvalidRequestError: blank text or unknown model.

        Example:
            >>> client.embed.text("a red car", model_name="marengo3.0").shape  # doctest: +SKIP
            (512,)
        """
        model = resolve_model(model_name)
        request = _text_request(check_text(text), model)
        response = self._client._request("POST", wire.text_path(model.protocol), **request)
        return _decode_text(response, model)

    def texts(
        self,
        texts: Sequence[str],
        *,
        model_name: str,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> NDArray[np.float32]:
        """Embed many texts, ``max_concurrency`` requests at a time; returns ``(n, dim)``.

        Rows keep the order of ``texts``. All texts are checked before the first request;
        the first error cancels what has not started yet and is raised.

        Example:
            >>> client.embed.texts(["cat", "dog"], model_name="marengo3.0").shape  # doctest: +SKIP
            (2, 512)
        """
        checked = _check_texts(texts, max_concurrency)
        model = resolve_model(model_name)
        if len(checked) <= 1:
            return _stack([self.text(t, model_name=model.name) for t in checked], model)
        workers = min(max_concurrency, len(checked))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tl-embed") as pool:
            futures = [pool.submit(self.text, t, model_name=model.name) for t in checked]
            try:
                return _stack([future.result() for future in futures], model)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def video(
        self,
        video: VideoSource,
        *,
        model_name: str = "marengo3.0",
        clip_length_s: float = CLIP_LENGTH_DEFAULT_S,
        options: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = ("clip",),
        start_s: float | None = None,
        end_s: float | None = None,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> VideoEmbedding:
        """Embed one video: create the task, wait for it, and return its vectors.

        Args:
            video: a local path, an open binary file, or a URL to the raw media.
            model_name: ``"marengo3.0"`` (512-d) or ``"Marengo-retrieval-2.7"`` (1024-d).
            clip_length_s: seconds per clip (2 to 10).
            options: options to keep (None: all the model has).
            scopes: ``"clip"`` and/or ``"video"`` (alias ``"asset"``).
            start_s / end_s: embed only this range of the video, in seconds.
            timeout_s: give up waiting after this many seconds (the task keeps running).

        Raises:
            InvalidRequestError / InvalidVideoError: refused before upload.
            TaskFailedError / TaskTimeoutError: as :meth:`EmbedTasks.wait`.

        Example:
            >>> ve = client.embed.video("talk.mp4", clip_length_s=4)  # doctest: +SKIP
        """
        args = _video_create_args(
            video,
            model_name=model_name,
            clip_length_s=clip_length_s,
            options=options,
            scopes=scopes,
            start_s=start_s,
            end_s=end_s,
        )
        task = self.tasks.create(**args)
        final, doc = self.tasks._wait(task, timeout_s=timeout_s, on_update=on_update)
        if final.protocol == "v2":
            # The last poll of an Embed v2 task already carries the vectors.
            return ready_video(doc, protocol="v2", task=final, options=options)
        return self.tasks.retrieve(final, embedding_options=options)


class AsyncEmbed:
    """``client.embed`` of :class:`~tl_integrations.AsyncTwelveLabs` (same methods, awaited).

    Attributes:
        tasks: video embedding tasks (:class:`AsyncEmbedTasks`); ``task`` is an alias.

    Example:
        >>> vector = await client.embed.text("a red car",
        ...                                  model_name="marengo3.0")  # doctest: +SKIP
    """

    def __init__(self, client: AsyncTwelveLabs) -> None:
        self._client = client
        self.tasks = AsyncEmbedTasks(client)
        self.task = self.tasks

    async def text(self, text: str, *, model_name: str) -> NDArray[np.float32]:
        """Embed one text; returns a float32 vector ``(dim,)`` (see :meth:`Embed.text`).

        Example:
            >>> await client.embed.text("a red car", model_name="marengo3.0")  # doctest: +SKIP
        """
        model = resolve_model(model_name)
        request = _text_request(check_text(text), model)
        response = await self._client._request("POST", wire.text_path(model.protocol), **request)
        return _decode_text(response, model)

    async def texts(
        self,
        texts: Sequence[str],
        *,
        model_name: str,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> NDArray[np.float32]:
        """Embed many texts concurrently under a semaphore; returns ``(n, dim)`` in order.

        The first error cancels the other requests and is raised.

        Example:
            >>> await client.embed.texts(["cat", "dog"], model_name="marengo3.0")  # doctest: +SKIP
        """
        checked = _check_texts(texts, max_concurrency)
        model = resolve_model(model_name)
        gate = asyncio.Semaphore(max_concurrency)

        async def one(text: str) -> NDArray[np.float32]:
            async with gate:
                return await self.text(text, model_name=model.name)

        jobs = [asyncio.ensure_future(one(text)) for text in checked]
        try:
            return _stack(list(await asyncio.gather(*jobs)), model)
        except BaseException:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            raise

    async def video(
        self,
        video: VideoSource,
        *,
        model_name: str = "marengo3.0",
        clip_length_s: float = CLIP_LENGTH_DEFAULT_S,
        options: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = ("clip",),
        start_s: float | None = None,
        end_s: float | None = None,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> VideoEmbedding:
        """Embed one video: create, wait, fetch the vectors (see :meth:`Embed.video`).

        Example:
            >>> ve = await client.embed.video("talk.mp4")  # doctest: +SKIP
        """
        args = _video_create_args(
            video,
            model_name=model_name,
            clip_length_s=clip_length_s,
            options=options,
            scopes=scopes,
            start_s=start_s,
            end_s=end_s,
        )
        task = await self.tasks.create(**args)
        final, doc = await self.tasks._wait(task, timeout_s=timeout_s, on_update=on_update)
        if final.protocol == "v2":
            return ready_video(doc, protocol="v2", task=final, options=options)
        return await self.tasks.retrieve(final, embedding_options=options)
