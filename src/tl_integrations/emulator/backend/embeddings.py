"""Embeddings: text vectors now, and video/audio embedding tasks (Embed API v1 and v2).

Both API versions share one kind of record (:class:`EmbedTaskRec`, ``api`` says which);
they differ in the parameters they take and in how their answers are shaped (the routes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import numpy as np
from numpy.typing import NDArray

from .. import semantics
from ..media import MediaInfo
from ..segments import SegmentSet, build_segments, clip_bounds, scene_bounds
from .errors import Invalid, NotFound, invalid, missing
from .ingest import AssetRef, Base64Data, LocalFile, RemoteUrl, probe_upload, receive
from .lifecycle import embed_status, plan_embedding_s, task_rng
from .media_rules import check_media
from .models import V1_MODELS, truncate_text, v1_model
from .queries import Page, PageRequest, Sort, paginate
from .records import EmbedTaskRec
from .store import Store, fate_key

__all__ = ["V2_DIM", "V2_MODEL", "EmbedTaskFilter", "EmbedView", "Embeddings"]

V2_MODEL = "marengo3.0"
V2_DIM = 512
V2_TEXT_LIMIT = 500
V2_OPTIONS = {"video": ("visual", "audio", "transcription"), "audio": ("audio", "transcription")}
_WEEK_S = 7 * 86400.0
_FAILED = "The emulator failed this task on purpose (failure_rate or fail fault)."

#: Resolves an asset id to the media information of the ready asset behind it.
AssetInfo = Callable[[AssetRef], MediaInfo]


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


def _list_field(
    spec: dict[str, Any], name: str, allowed: tuple[str, ...], default: list[str]
) -> list[str]:
    value = spec.get(name)
    if value is None:
        return list(default)
    if not isinstance(value, list) or not value or any(v not in allowed for v in value):
        raise invalid(name, f"must be a non-empty list of {list(allowed)}, got {value!r}")
    return [v for v in allowed if v in value]


def _bounds_v2(
    spec: dict[str, Any], info: MediaInfo, window: tuple[float, float]
) -> tuple[list[tuple[float, float]], float]:
    seg = spec.get("segmentation") or {"strategy": "fixed", "fixed": {"duration_sec": 6}}
    strategy = seg.get("strategy") if isinstance(seg, dict) else None
    if strategy == "dynamic":
        min_s = float((seg.get("dynamic") or {}).get("min_duration_sec", 4))
        return scene_bounds(info, *window, min_duration_s=min_s), min_s
    if strategy == "fixed":
        length = float((seg.get("fixed") or {}).get("duration_sec", 6))
        if not 1.0 <= length <= 10.0:
            raise invalid(
                "segmentation", f"fixed.duration_sec must be between 1 and 10, got {length}"
            )
        return clip_bounds(*window, clip_length_s=length), length
    raise invalid("segmentation", f"strategy must be fixed or dynamic, got {strategy!r}")


def _window_v2(spec: dict[str, Any], info: MediaInfo) -> tuple[float, float]:
    start = float(spec.get("start_sec") or 0.0)
    end = float(spec.get("end_sec") or info.duration_s)
    if not 0 <= start < end <= info.duration_s + 1e-6:
        raise invalid(
            "start_sec",
            f"need 0 <= start_sec < end_sec <= duration ({info.duration_s:.2f}), "
            f"got {start}, {end}",
        )
    return start, min(end, info.duration_s)


def _plan_v2(
    input_type: str, spec: dict[str, Any], info: MediaInfo, meta: dict[str, Any]
) -> tuple[dict[str, Any], SegmentSet]:
    options = _list_field(
        spec, "embedding_option", V2_OPTIONS[input_type], list(V2_OPTIONS[input_type])
    )
    scopes = _list_field(spec, "embedding_scope", ("clip", "asset"), ["clip", "asset"])
    types = _list_field(
        spec, "embedding_type", ("separate_embedding", "fused_embedding"), ["separate_embedding"]
    )
    window = _window_v2(spec, info)
    bounds, clip_s = _bounds_v2(spec, info, window)
    metadata = {
        "input_type": input_type,
        **meta,
        "clip_length": round(clip_s),
        "embedding_scopes": scopes,
        "embedding_options": options,
        "duration": round(info.duration_s, 3),
        "start_offset_sec": window[0],
        "end_offset_sec": window[1],
        "embedding_dimension": V2_DIM,
    }
    segments = build_segments(
        info,
        dim=V2_DIM,
        options=options,
        scopes=scopes,
        bounds=bounds,
        window=window,
        video_scope="asset",
        fused="fused_embedding" in types,
    )
    if "separate_embedding" not in types:
        segments = segments.only("fused")
    return metadata, segments


def _check_v2_model(model_name: Any) -> None:
    if model_name != V2_MODEL:
        raise invalid("model_name", f"the emulator serves {V2_MODEL!r}; got {model_name!r}")


class Embeddings:
    """Text embeddings and embedding tasks of both API versions.

    Args:
        store: The records.
        asset_info: How an ``asset_id`` media source finds its media information.

    Example:
        >>> embeddings.text_v1("marengo3.0", "a red kite", truncate="end")  # doctest: +SKIP
    """

    def __init__(self, store: Store, *, asset_info: AssetInfo) -> None:
        self.store = store
        self.asset_info = asset_info

    # ------------------------------------------------------------------ text

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

    def text_v2(
        self, model_name: Any, input_type: Any, text: Any, *, auto_truncate: bool
    ) -> NDArray[np.float32]:
        """A text vector from Embed API v2 (Marengo 3.0; only ``input_type: text``).

        Raises:
            Invalid: For another model or input type, or a missing text.
        """
        _check_v2_model(model_name)
        if input_type != "text":
            raise invalid(
                "input_type",
                f"the emulator embeds text synchronously; got {input_type!r} "
                "(use /embed-v2/tasks for video and audio)",
            )
        if not isinstance(text, str) or not text.strip():
            raise missing("text.input_text")
        mode = "end" if auto_truncate else "none"
        return semantics.embed_text(
            truncate_text(text, limit=V2_TEXT_LIMIT, mode=mode, field="text.input_text"),
            dim=V2_DIM,
        )

    # ------------------------------------------------------------------ tasks

    async def _media(
        self, source: LocalFile | RemoteUrl | Base64Data | AssetRef, *, picture: bool = True
    ) -> tuple[MediaInfo | None, dict[str, str], str | None]:
        """(media information, how task metadata names the input, why it breaks a rule).

        An asset is not probed again: its media was read when it was processed. In async
        validation mode a rule broken comes back as the reason (info None) instead of an
        error, so that the task can fail later; fetch errors are raised either way.
        """
        sync = self.store.config.media_validation == "sync"
        if isinstance(source, AssetRef):
            with self.store.lock:
                info = self.asset_info(source)
            named = {"input_filename": info.filename}
            try:
                check_media(info, self.store.config.media, picture=picture)
            except Invalid as err:
                if sync:
                    raise
                return None, named, err.message
            return info, named, None
        upload = await receive(self.store, source)
        named = upload.metadata()
        try:
            info = await probe_upload(self.store, upload, picture=picture)
        except Invalid as err:
            if sync:
                raise
            return None, named, err.message
        upload.discard()
        return info, named, None

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
        info, named, error = await self._media(source)
        if info is None:
            return self._register("v1", model_name, None, {"metadata": named}, error)
        window = _window_v1(info, start_s, end_s, clip)
        metadata: dict[str, Any] = {
            **named,
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
        source: LocalFile | RemoteUrl | Base64Data | AssetRef | None,
    ) -> EmbedTaskRec:
        """An Embed API v2 video or audio task (``spec`` is the request's ``video``/``audio``).

        Raises:
            Invalid: For bad parameters, or media that (sync validation) breaks a rule.
        """
        _check_v2_model(model_name)
        if input_type not in V2_OPTIONS:
            raise invalid(
                "input_type", f"the emulator embeds video or audio in tasks; got {input_type!r}"
            )
        if not isinstance(spec, dict):
            raise missing(input_type)
        if source is None:
            raise Invalid(
                f"{input_type}.media_source",
                f"{input_type}.media_source needs exactly one of url, base64_string or asset_id.",
                code="parameter_not_provided",
            )
        info, named, error = await self._media(source, picture=input_type == "video")
        if info is None:
            params = {"metadata": {"input_type": input_type, **named}}
            return self._register("v2", V2_MODEL, None, params, error)
        metadata, segments = await anyio.to_thread.run_sync(
            lambda: _plan_v2(input_type, spec, info, named)
        )
        rec = self._register("v2", V2_MODEL, info, {"metadata": metadata}, None)
        self.store.put_segments(rec.id, segments)
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
