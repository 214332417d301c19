"""Embeddings: text vectors, synchronous Embed v2 requests, and embedding tasks (v1 and v2).

Both API versions share one kind of task record (:class:`EmbedTaskRec`, ``api`` says which);
they differ in the parameters they take and in how their answers are shaped (the routes).
Embed v2 serves Marengo 3.0 and 3.5 (:mod:`.embed_rules` checks what each accepts): tasks
for video, audio, images and documents, and a synchronous endpoint (3.0: text, image,
text_image, audio, video, multi_input of images; 3.5: multi_input of any media).

Vectors are always computed at 512 dimensions and kept so; a request for fewer gets the
prefix when the answer is rendered (Matryoshka), and uncertainty vectors are derived from
the full vector the same way. Every vector comes from the medium itself: subtitles,
colours and sound samples of audio and video, pixels of images, the text of PDF pages and
of text files (see :mod:`.._vectors`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import numpy as np
from numpy.typing import NDArray

from .. import _semantics as semantics
from .._documents import chunk_sentences, sentences
from .._media import MediaInfo
from .._segments import (
    AUDIO_MEANING,
    SegmentSet,
    build_segments,
    clip_bounds,
    document_segments,
    scene_bounds,
    single_row,
)
from .._vectors import embed_picture
from . import embed_rules as rules
from .errors import Invalid, NotFound, TooLarge, invalid, missing
from .ingest import AssetRef, Base64Data, LocalFile, Probed, RemoteUrl, probe_as, receive
from .lifecycle import embed_status, plan_embedding_s, task_rng
from .media_rules import check_media
from .models import V1_MODELS, truncate_text, v1_model
from .queries import Page, PageRequest, Sort, paginate
from .records import EmbedTaskRec
from .store import Store, fate_key

__all__ = [
    "V2_DIM",
    "EmbedTaskFilter",
    "EmbedView",
    "Embeddings",
    "StoredMedia",
    "SyncRequest",
    "SyncResult",
]

V2_DIM = rules.FULL_DIM
_WEEK_S = 7 * 86400.0
_MB = 1024**2
_FAILED = "The emulator failed this task on purpose (failure_rate or fail fault)."
_SYNC_SOURCE_BYTES = 32 * _MB
_SYNC_MEDIA_S = 30.0
_IMAGE_BYTES = 32 * _MB
# Token accounting of Marengo 3.5 (the emulator's own numbers; the API does not publish its):
# a word of text, a picture, a second of sound or of video, a PDF page.
_TOKENS = {"image": 256, "audio_s": 10, "video_s": 30, "page": 258}

Source = LocalFile | RemoteUrl | Base64Data | AssetRef


class _Unreadable(Invalid):
    """A file sent with a request that cannot be read as its input type; a task created in
    async validation mode fails with it instead of being refused."""

    def __init__(self, cause: Invalid, named: dict[str, str]) -> None:
        super().__init__(cause.field, cause.message, code=cause.code)
        self.named = named


@dataclass(frozen=True)
class StoredMedia:
    """A medium the platform holds (an asset, or a video's file) as embeddings read it.

    Example:
        >>> StoredMedia("image", "a.png", None, None).kind
        'image'
    """

    kind: str
    filename: str
    path: Path | None
    info: MediaInfo | None


#: Resolves an asset id to the ready medium behind it.
AssetMedia = Callable[[AssetRef], StoredMedia]


@dataclass(frozen=True)
class EmbedView:
    """An embedding task with its status now, and its vectors once ready.

    Example:
        >>> EmbedView(rec, "processing", 0.0, None).segments is None  # doctest: +SKIP
        True
    """

    rec: EmbedTaskRec
    status: str
    updated_at: float
    segments: SegmentSet | None

    @property
    def dimension(self) -> int:
        """The dimension the task's vectors are rendered at (a Matryoshka prefix)."""
        return int(self.rec.params.get("dimension") or V2_DIM)

    @property
    def uncertainty(self) -> bool:
        """Whether the task's rows carry uncertainty vectors."""
        return bool(self.rec.params.get("uncertainty"))


@dataclass(frozen=True)
class EmbedTaskFilter:
    """The filters of the embedding task lists (times in seconds since the epoch).

    Example:
        >>> EmbedTaskFilter(statuses=("ready",)).since_s is None
        True
    """

    since_s: float | None = None
    until_s: float | None = None
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncRequest:
    """A ``POST /embed-v2`` request, as the route read it.

    Attributes:
        model_name / input_type: as sent.
        text: the ``input_text`` of ``text``, ``text_image`` or ``multi_input``.
        spec: the input object (``audio``, ``video``, ``multi_input``...).
        sources: the media, in order (one for single inputs; one per ``multi_input``
            source; None where an item names none).
        auto_truncate / dimension / uncertainty: the top-level options as sent.

    Example:
        >>> SyncRequest("marengo3.5", "multi_input", "a kite", {}, []).sources
        []
    """

    model_name: Any
    input_type: Any
    text: Any
    spec: Mapping[str, Any]
    sources: Sequence[Source | None]
    auto_truncate: Any = None
    dimension: Any = None
    uncertainty: Any = None


@dataclass(frozen=True)
class SyncResult:
    """The answer of a synchronous request: 512-d rows to render at ``dimension``.

    Example:
        >>> SyncResult(SegmentSet.empty(dim=512), 512, False, None, None).dimension
        512
    """

    segments: SegmentSet
    dimension: int
    uncertainty: bool
    usage: dict[str, Any] | None
    metadata: dict[str, Any] | None


def _window(
    spec_start: float | None, spec_end: float | None, info: MediaInfo
) -> tuple[float, float]:
    start = spec_start or 0.0
    end = info.duration_s if spec_end is None else spec_end
    if not 0 <= start < end <= info.duration_s + 1e-6:
        raise invalid(
            "start_sec",
            f"need 0 <= start_sec < end_sec <= duration ({info.duration_s:.2f}), "
            f"got {start}, {end}",
        )
    return start, min(end, info.duration_s)


def _window_v1(
    info: MediaInfo, start: float | None, end: float | None, clip_s: float
) -> tuple[float, float]:
    if (start is None) != (end is None):
        raise invalid(
            "video_end_offset_sec" if end is None else "video_start_offset_sec",
            "set both video_start_offset_sec and video_end_offset_sec, or neither",
        )
    lo, hi = (0.0, info.duration_s) if start is None or end is None else (start, end)
    if lo < 0 or lo > max(0.0, info.duration_s - clip_s):
        raise invalid(
            "video_start_offset_sec", f"must be between 0 and duration - clip length, got {lo}"
        )
    if hi > info.duration_s + 1e-6 or hi < lo + clip_s:
        raise invalid(
            "video_end_offset_sec",
            "must be at least start + clip length and at most the duration "
            f"{info.duration_s:.2f}, got {hi}",
        )
    return lo, min(hi, info.duration_s)


def _timed_rows(
    model: str, kind: str, plan: rules.TimedPlan, info: MediaInfo, notes: Any
) -> tuple[dict[str, Any], SegmentSet]:
    """The rows of an audio or video input and the metadata that describes them."""
    window = _window(plan.start_s, plan.end_s, info)
    if plan.clip_s is not None:
        bounds = clip_bounds(*window, clip_length_s=plan.clip_s)
    elif kind == "video":
        bounds = scene_bounds(info, *window, min_duration_s=plan.min_clip_s or 2.0)
    else:  # sound has no scenes: dynamic clips of the shortest allowed length
        bounds = clip_bounds(*window, clip_length_s=max(plan.min_clip_s or 2.0, 2.0))
    segments = build_segments(
        info,
        dim=V2_DIM,
        options=plan.options,
        scopes=plan.scopes,
        bounds=bounds,
        window=window,
        video_scope="asset",
        fused=plan.fused,
        audio=AUDIO_MEANING[model],
    )
    if plan.fused and notes:
        segments = _fold_notes(segments, notes)
    if not plan.separate:
        segments = segments.only("fused")
    metadata: dict[str, Any] = {
        "input_type": kind,
        "embedding_scopes": plan.scopes,
        "embedding_options": plan.options,
        "duration": round(info.duration_s, 3),
        "start_offset_sec": window[0],
        "end_offset_sec": window[1],
    }
    if plan.clip_s is not None:
        metadata["clip_length"] = round(plan.clip_s)
    return metadata, segments


def _fold_notes(segments: SegmentSet, notes: Any) -> SegmentSet:
    """Marengo 3.5 ``time_based_metadata``: each note joins the fused rows it overlaps."""
    if not isinstance(notes, list) or not all(isinstance(n, dict) for n in notes):
        raise invalid("time_based_metadata", "must be a list of {start, end, text}")
    for n in notes:
        if not isinstance(n.get("text"), str) or not all(
            isinstance(n.get(k), (int, float)) for k in ("start", "end")
        ):
            raise invalid("time_based_metadata", f"each entry needs start, end and text: {n!r}")
    vectors = segments.vectors.copy()
    for i, option in enumerate(segments.option):
        if option != "fused":
            continue
        for n in notes:
            if n["start"] < segments.end_s[i] and n["end"] > segments.start_s[i]:
                vectors[i] += semantics.embed_text(n["text"], dim=V2_DIM)
        vectors[i] /= np.float32(np.linalg.norm(vectors[i]) or 1.0)
    segments.vectors = vectors
    return segments


def _unit(vectors: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
    total: NDArray[np.float32] = np.sum(np.asarray(vectors, np.float32), axis=0)
    norm = float(np.linalg.norm(total))
    return total / np.float32(norm) if norm > 0 else total


def _whole(info: MediaInfo, options: list[str], model: str) -> NDArray[np.float32]:
    """One vector for a whole short medium (a ``multi_input`` audio or video source)."""
    rows = build_segments(
        info,
        dim=V2_DIM,
        options=options,
        scopes=["asset"],
        bounds=[],
        window=(0.0, info.duration_s),
        video_scope="asset",
        audio=AUDIO_MEANING[model],
    )
    return _unit(list(rows.vectors))


def _words(text: str) -> int:
    return len(text.split())


class Embeddings:
    """Text embeddings, synchronous Embed v2 requests, and embedding tasks of both versions.

    Args:
        store: The records.
        asset_media: How an ``asset_id`` media source finds the ready medium behind it.

    Example:
        >>> embeddings.text_v1("marengo3.0", "a red kite", truncate="end")  # doctest: +SKIP
    """

    def __init__(self, store: Store, *, asset_media: AssetMedia) -> None:
        self.store = store
        self.asset_media = asset_media

    # ------------------------------------------------------------------ text (v1)

    def text_v1(self, model_name: str | None, text: str | None, *, truncate: str) -> NDArray[Any]:
        """A text vector from an Embed API v1 model (``truncate``: start, end or none).

        Raises:
            Invalid: For an unknown model, a missing text or a bad truncation mode.
        """
        dim, _, limit = v1_model(model_name)
        if not text:
            raise missing("text")
        if truncate not in ("start", "end", "none"):
            raise invalid("text_truncate", f"must be start, end or none, got {truncate!r}")
        return semantics.embed_text(truncate_text(text, limit=limit, mode=truncate), dim=dim)

    # ------------------------------------------------------------------ reading media

    async def _read(self, source: Source | None, kind: str, *, field: str) -> Probed:
        """The medium of a source read as ``kind`` (sound, picture, document, video).

        Raises:
            Invalid: no source, an asset not ready or of another kind, an unreadable file.
            NotFound: an unknown asset.
        """
        if source is None:
            raise Invalid(
                field,
                f"{field} needs exactly one of url, base64_string or asset_id.",
                code="parameter_not_provided",
            )
        if isinstance(source, AssetRef):
            return await self._read_asset(source, kind)
        upload = await receive(self.store, source)
        try:
            return await anyio.to_thread.run_sync(
                lambda: probe_as(upload.path, upload.filename, kind, upload.metadata())
            )
        except Invalid as err:
            raise _Unreadable(err, upload.metadata()) from err
        finally:
            upload.discard()

    async def _read_for_task(
        self, source: Source | None, kind: str, *, field: str
    ) -> tuple[Probed | None, dict[str, str], str | None]:
        """(medium, how the task names it, why it fails): in async validation mode a file
        that cannot be read is created as a task that fails, as the API does."""
        try:
            media = await self._read(source, kind, field=field)
        except _Unreadable as err:
            if self.store.config.media_validation == "sync":
                raise
            return None, err.named, err.message
        return media, media.named, None

    async def _read_asset(self, ref: AssetRef, kind: str) -> Probed:
        with self.store.lock:
            stored = self.asset_media(ref)
        named = {"input_filename": stored.filename}
        fits = stored.kind == kind or (kind == "audio" and stored.kind == "video")
        if not fits:
            raise Invalid(ref.field, f"The asset {ref.asset_id!r} holds {stored.kind}, not {kind}.")
        if kind in ("video", "audio"):
            if stored.info is None:
                raise Invalid(ref.field, f"The asset {ref.asset_id!r} has no readable {kind}.")
            return Probed(kind, named, stored.info.size_bytes, info=stored.info)
        if stored.path is None:
            raise Invalid(ref.field, f"The asset {ref.asset_id!r} has no stored file.")
        path = stored.path
        return await anyio.to_thread.run_sync(lambda: probe_as(path, stored.filename, kind, named))

    def _media_error(self, media: Probed, *, picture: bool) -> str | None:
        """The rule an audio or video input breaks: raised in sync validation mode,
        returned (the task will fail with it) in async mode."""
        assert media.info is not None
        try:
            check_media(media.info, self.store.config.media, picture=picture)
        except Invalid as err:
            if self.store.config.media_validation == "sync":
                raise
            return err.message
        return None

    # ------------------------------------------------------------------ synchronous (v2)

    async def embed_v2(self, req: SyncRequest) -> SyncResult:
        """``POST /embed-v2``: one request, the vectors in the answer.

        Raises:
            Invalid: a rule of §7.1 broken (model, input type, options, mixing...).
            TooLarge: a Marengo 3.5 source over 32 MB or over its PDF page allowance.
        """
        model = rules.check_model(req.model_name)
        size = rules.matryoshka(model, req.dimension, req.uncertainty)
        if req.input_type not in rules.SYNC_INPUTS[model]:
            only = ", ".join(rules.SYNC_INPUTS[model])
            raise invalid("input_type", f"{model} takes {only} here, got {req.input_type!r}")
        kind = str(req.input_type)
        if kind == "multi_input":
            return await self._multi(model, req, size)
        if kind == "text":
            text = self._text(model, req.text, req.auto_truncate, field="text.input_text")
            return SyncResult(
                single_row(semantics.embed_text(text, dim=V2_DIM)), V2_DIM, False, None, None
            )
        source = req.sources[0] if req.sources else None
        if kind in ("image", "text_image"):
            media = await self._read(source, "image", field=f"{kind}.media_source")
            self._image_size(media, field=f"{kind}.media_source")
            assert media.picture is not None
            parts = [embed_picture(media.picture, dim=V2_DIM)]
            if kind == "text_image":
                text = self._text(model, req.text, None, field="text_image.input_text")
                parts.append(semantics.embed_text(text, dim=V2_DIM))
            metadata = {"input_type": kind, **media.named}
            return SyncResult(single_row(_unit(parts)), V2_DIM, False, None, metadata)
        media = await self._read(source, kind, field=f"{kind}.media_source")
        assert media.info is not None
        if media.info.duration_s > 600.0:
            raise invalid(f"{kind}.media_source", "synchronous audio and video last up to 10 min")
        plan = rules.timed_plan(model, kind, req.spec, uncertainty=False)
        metadata, segments = await anyio.to_thread.run_sync(
            lambda: _timed_rows(model, kind, plan, media.info, None)  # type: ignore[arg-type]
        )
        return SyncResult(segments, V2_DIM, False, None, {**metadata, **media.named})

    def _text(self, model: str, text: Any, auto_truncate: Any, *, field: str) -> str:
        """A text checked against the model's token limit (words stand in for tokens)."""
        if not isinstance(text, str) or not text.strip():
            raise missing(field)
        limit = rules.TEXT_TOKENS[model]
        if model == "marengo3.0":
            return truncate_text(
                text, limit=limit, mode="end" if auto_truncate is not False else "none", field=field
            )
        if _words(text) > limit and auto_truncate is not True:
            raise invalid(
                field,
                f"the text has {_words(text)} tokens; the limit is {limit} "
                "(send auto_truncate: true to cut it)",
            )
        return truncate_text(text, limit=limit, mode="end", field=field)

    def _image_size(self, media: Probed, *, field: str, too_large: bool = False) -> None:
        if media.size_bytes > _IMAGE_BYTES:
            message = (
                f"File size ({media.size_bytes / _MB:.1f} MB) exceeds maximum limit of "
                f"{_IMAGE_BYTES // _MB} MB"
            )
            raise TooLarge(message, field=field) if too_large else Invalid(field, message)

    async def _multi(self, model: str, req: SyncRequest, size: rules.Matryoshka) -> SyncResult:
        items = req.spec.get("media_sources") or []
        if not isinstance(items, list):
            raise invalid("multi_input.media_sources", "must be a list")
        text, plan = rules.multi_plan(model, req.text, items, uncertainty=size.uncertainty)
        parts: list[NDArray[np.float32]] = []
        tokens: dict[str, int] = {}
        truncated = False
        if text is not None:
            # The references name sources; their words are not part of what is said.
            bare = " ".join(rules.without_references(text).split())
            cut = self._text(model, bare or text, req.auto_truncate, field="multi_input.input_text")
            truncated = _words(cut) < _words(bare or text)
            parts.append(semantics.embed_text(cut, dim=V2_DIM))
            tokens["text"] = _words(cut)
        texts_only = True
        for spec in plan:
            source = req.sources[spec.index] if spec.index < len(req.sources) else None
            vector, used, texty = await self._source_vector(
                model, spec, source, alone=len(plan) == 1 and text is None
            )
            parts.append(vector)
            texts_only &= texty
            for key, count in used.items():
                tokens[key] = tokens.get(key, 0) + count
        if plan and texts_only and (text is not None or len(plan) > 1):
            raise Invalid(
                "multi_input",
                "multi_input: the content is all text (text documents and input_text); send "
                "one text document alone, input_text alone, or add an image, video or audio",
            )
        usage = self._usage(model, tokens, truncated)
        metadata: dict[str, Any] = {"input_type": "multi_input"}
        if model == "marengo3.5":
            metadata["embedding_dimension"] = size.dimension
        return SyncResult(
            single_row(_unit(parts)), size.dimension, size.uncertainty, usage, metadata
        )

    async def _source_vector(
        self, model: str, spec: rules.MultiSource, source: Source | None, *, alone: bool
    ) -> tuple[NDArray[np.float32], dict[str, int], bool]:
        """(vector, tokens used, whether it is text) of one ``multi_input`` source."""
        field = f"multi_input.media_sources[{spec.index}]"
        media = await self._read(source, spec.media_type, field=field)
        if model == "marengo3.5" and media.size_bytes > _SYNC_SOURCE_BYTES:
            raise TooLarge(
                f"File size ({media.size_bytes / _MB:.1f} MB) exceeds maximum limit of "
                f"{_SYNC_SOURCE_BYTES // _MB} MB",
                field=field,
            )
        if media.picture is not None:
            return embed_picture(media.picture, dim=V2_DIM), {"image": _TOKENS["image"]}, False
        if media.info is not None:
            if media.info.duration_s > _SYNC_MEDIA_S + 1e-6:
                raise invalid(
                    field,
                    f"Duration ({media.info.duration_s:.1f} seconds) exceeds maximum limit of "
                    f"{_SYNC_MEDIA_S:g} seconds (0 minutes)",
                )
            options = ["audio"] if spec.media_type == "audio" else ["visual", "audio"]
            key = f"{spec.media_type}_s"
            used = {spec.media_type: math.ceil(media.info.duration_s) * _TOKENS[key]}
            return _whole(media.info, options, model), used, False
        document = media.document
        assert document is not None
        if document.format == "pdf":
            if not alone:
                raise invalid(field, "a PDF must be the only source, without input_text")
            allowance = 16 * max(1, math.ceil(document.size_bytes / _MB))
            if document.page_count > allowance:
                raise TooLarge(
                    f"Document ({document.page_count} pages) exceeds maximum limit of "
                    f"{allowance} pages (16 pages per MB)",
                    field=field,
                )
            vector = semantics.embed_segment(
                text=document.text, colours=np.asarray([[0.96] * 3], np.float32), dim=V2_DIM
            )
            return vector, {"document": document.page_count * _TOKENS["page"]}, False
        return (
            semantics.embed_text(document.text, dim=V2_DIM),
            {"document": _words(document.text)},
            True,
        )

    @staticmethod
    def _usage(model: str, tokens: dict[str, int], truncated: bool) -> dict[str, Any] | None:
        if model != "marengo3.5":
            return None
        usage: dict[str, Any] = {"input_tokens": tokens, "truncated": truncated}
        if truncated:
            usage["truncation_reason"] = "model_context_window"
        return usage

    # ------------------------------------------------------------------ tasks

    async def create_v1(
        self,
        model_name: str | None,
        *,
        source: LocalFile | RemoteUrl,
        clip_s: float | None,
        scopes: list[str],
        start_s: float | None,
        end_s: float | None,
    ) -> EmbedTaskRec:
        """An Embed API v1 video task; its vectors are computed now, shown once ready.

        Raises:
            Invalid: For bad parameters, or media that (sync validation) breaks a rule.
        """
        dim, options, _ = v1_model(model_name)
        assert model_name is not None
        clip = 6.0 if clip_s is None else clip_s
        if not 2.0 <= clip <= 10.0:
            raise invalid("video_clip_length", f"must be between 2 and 10 seconds, got {clip}")
        if any(s not in ("clip", "video") for s in scopes):
            raise invalid("video_embedding_scope", f"values must be clip or video, got {scopes}")
        kept_scopes = ["clip", *[s for s in scopes if s == "video"][:1]]
        media, named, error = await self._read_for_task(source, "video", field="video_file")
        if media is not None:
            error = self._media_error(media, picture=True)
        if media is None or error is not None:
            return self._register("v1", model_name, None, {"metadata": named}, error)
        info = media.info
        assert info is not None
        window = _window_v1(info, start_s, end_s, clip)
        metadata: dict[str, Any] = {
            **media.named,
            "video_clip_length": clip,
            "video_embedding_scope": kept_scopes,
            "video_embedding_option": list(options),
            "duration": round(info.duration_s, 3),
        }
        bounds = clip_bounds(*window, clip_length_s=clip)
        segments = await anyio.to_thread.run_sync(
            lambda: build_segments(
                info, dim=dim, options=options, scopes=kept_scopes, bounds=bounds, window=window
            )
        )
        params = {"metadata": metadata, "window": list(window)}
        rec = self._register("v1", model_name, info, params, None)
        self.store.put_segments(rec.id, segments)
        return rec

    async def create_v2(
        self,
        model_name: Any,
        input_type: Any,
        spec: Any,
        *,
        source: Source | None,
        dimension: Any = None,
        uncertainty: Any = None,
    ) -> EmbedTaskRec:
        """An Embed API v2 task for video, audio (both models), image or document (3.5).

        ``spec`` is the request's ``video``/``audio``/``image``/``document`` object.

        Raises:
            Invalid: For bad parameters, an asset that is not ready, or media that (sync
                validation) breaks a rule.
        """
        model = rules.check_model(model_name)
        size = rules.matryoshka(model, dimension, uncertainty)
        if input_type not in rules.TASK_INPUTS[model]:
            only = ", ".join(rules.TASK_INPUTS[model])
            raise invalid("input_type", f"{model} embeds {only} in tasks, got {input_type!r}")
        kind = str(input_type)
        if not isinstance(spec, dict):
            raise missing(kind)
        plan: Any = None
        if kind in ("video", "audio"):
            plan = rules.timed_plan(model, kind, spec, uncertainty=size.uncertainty)
        elif kind == "image":
            rules.image_plan(spec)
        media, named, error = await self._read_for_task(source, kind, field=f"{kind}.media_source")
        params: dict[str, Any] = {
            "metadata": {"input_type": kind, **named},
            "dimension": size.dimension,
            "uncertainty": size.uncertainty,
        }
        if model == "marengo3.5":
            params["metadata"]["embedding_dimension"] = size.dimension
        if media is None:
            return self._register("v2", model, None, params, error)
        if kind in ("video", "audio"):
            return await self._timed_task(model, kind, plan, media, params, spec)
        if kind == "image":
            self._image_size(media, field="image.media_source")
            assert media.picture is not None
            rows = single_row(
                embed_picture(media.picture, dim=V2_DIM), option="visual", scope="asset"
            )
            meta = {"embedding_options": ["visual"], "embedding_scopes": ["asset"]}
            return self._finish(model, None, params, meta, rows, {"image": _TOKENS["image"]})
        return await self._document_task(model, media, spec, params, size)

    async def _timed_task(
        self,
        model: str,
        kind: str,
        plan: rules.TimedPlan,
        media: Probed,
        params: dict[str, Any],
        spec: Mapping[str, Any],
    ) -> EmbedTaskRec:
        error = self._media_error(media, picture=kind == "video")
        if error is not None:
            return self._register("v2", model, None, params, error)
        info = media.info
        assert info is not None
        notes = spec.get("time_based_metadata")
        metadata, rows = await anyio.to_thread.run_sync(
            lambda: _timed_rows(model, kind, plan, info, notes)
        )
        seconds = math.ceil(metadata["end_offset_sec"] - metadata["start_offset_sec"])
        used = {kind: seconds * _TOKENS[f"{kind}_s"]}
        return self._finish(model, info, params, metadata, rows, used)

    async def _document_task(
        self,
        model: str,
        media: Probed,
        spec: Mapping[str, Any],
        params: dict[str, Any],
        size: rules.Matryoshka,
    ) -> EmbedTaskRec:
        document = media.document
        assert document is not None
        plan = rules.document_plan(document.format, spec, uncertainty=size.uncertainty)
        meta = {"embedding_options": plan.options, "embedding_scopes": plan.scopes}
        if document.format == "pdf":
            pages = document.page_count * (5 if plan.quadrants else 1)
            allowance = 64 * max(1, math.ceil(document.size_bytes / _MB))
            if pages > allowance:
                # Created, then failed: the API checks the allowance while processing.
                message = (
                    f"Document ({document.page_count} pages) exceeds maximum limit of "
                    f"{allowance // (5 if plan.quadrants else 1)} pages"
                )
                return self._register("v2", model, None, {**params, **meta}, message)
            used = {"document": pages * _TOKENS["page"]}
        else:
            used = {"document": _words(document.text)}
        chunks: list[str] = []
        if plan.max_sentences is not None:
            chunks = chunk_sentences(
                sentences(document.text), max_sentences=plan.max_sentences, overlap=plan.overlap
            )
            longest = max((_words(c) for c in chunks), default=0)
            if longest > rules.TEXT_TOKENS[model]:
                message = "The content exceeds the context window of the model."
                return self._register("v2", model, None, {**params, **meta}, message)
        rows = await anyio.to_thread.run_sync(
            lambda: document_segments(
                document,
                dim=V2_DIM,
                options=plan.options,
                scopes=plan.scopes,
                quadrants=plan.quadrants,
                chunks=chunks,
            )
        )
        return self._finish(model, None, params, meta, rows, used)

    def _finish(
        self,
        model: str,
        info: MediaInfo | None,
        params: dict[str, Any],
        metadata: Mapping[str, Any],
        rows: SegmentSet,
        tokens: dict[str, int],
    ) -> EmbedTaskRec:
        params = {**params, "metadata": {**params["metadata"], **metadata}}
        params["usage"] = self._usage(model, tokens, False)
        rec = self._register("v2", model, info, params, None)
        if rows.chunk_index is not None and (rows.chunk_index >= 0).any():
            # The API does not keep chunks in order: neither does the emulator (seeded).
            order = list(range(len(rows)))
            random.Random(f"{self.store.config.seed}:{rec.id}:order").shuffle(order)
            rows = rows.take(order)
        self.store.put_segments(rec.id, rows)
        return rec

    def _register(
        self,
        api: str,
        model_name: str,
        info: MediaInfo | None,
        params: dict[str, Any],
        error: str | None,
    ) -> EmbedTaskRec:
        """Record a task with its planned duration and fate."""
        store = self.store
        with store.lock:
            task_id = store.new_id()
            rng = task_rng(seed=store.config.seed, task_id=task_id)
            duration = plan_embedding_s(
                store.config.stages,
                video_duration_s=info.duration_s if info else 0.0,
                speed=store.config.speed,
                rng=rng,
            )
            key = fate_key(info, (t.info for t in store.records.embed_tasks.values()))
            if error is None and store.task_fails(task_id, media_key=key):
                error = _FAILED
            rec = EmbedTaskRec(task_id, api, model_name, store.now(), duration, info, params, error)
            store.records.embed_tasks[task_id] = rec
            store.save()
        return rec

    # ------------------------------------------------------------------ reading

    def view(self, rec: EmbedTaskRec) -> EmbedView:
        """The task's status now, with its vectors when ready."""
        status, updated = embed_status(rec, now_s=self.store.now())
        segments = None
        if status == "ready":
            dim = V1_MODELS[rec.model_name][0] if rec.api == "v1" else V2_DIM
            segments = self.store.records.segments.get(rec.id) or SegmentSet.empty(dim=dim)
        return EmbedView(rec, status, updated, segments)

    def v1_rows(self, view: EmbedView, wanted: list[str]) -> list[int]:
        """Rows of a ready v1 task for ``wanted`` options (default: every option).

        Raises:
            Invalid: When an option is not one of the model's.
        """
        options = list(V1_MODELS[view.rec.model_name][1])
        wanted = wanted or options
        if any(o not in options for o in wanted):
            raise invalid(
                "embedding_option",
                f"{wanted} not available for {view.rec.model_name}; use {options}",
            )
        return view.segments.rows(options=wanted) if view.segments is not None else []

    def get(self, task_id: str, *, api: str) -> EmbedView:
        """One task of that API version (``v1`` or ``v2``).

        Raises:
            NotFound: When there is no such task for that version.
        """
        with self.store.lock:
            rec = self.store.records.embed_tasks.get(task_id)
            if rec is None or rec.api != api:
                raise NotFound("embedding task", task_id)
            return self.view(rec)

    def list(self, *, api: str, flt: EmbedTaskFilter, page: PageRequest) -> Page[EmbedView]:
        """Tasks of one version, newest first; the last 7 days unless a date is given."""
        store = self.store
        since_s, until_s, statuses = flt.since_s, flt.until_s, flt.statuses
        if since_s is None and until_s is None:
            since_s = store.now() - _WEEK_S
        with store.lock:
            views = [self.view(r) for r in store.records.embed_tasks.values() if r.api == api]
            found = [
                v
                for v in views
                if (since_s is None or v.rec.created_at >= since_s)
                and (until_s is None or v.rec.created_at <= until_s)
                and (not statuses or v.status in statuses)
            ]
            newest = Sort().apply(found, {"created_at": lambda v: v.rec.created_at})
            return paginate(newest, page)
