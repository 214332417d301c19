"""Timing of everything that takes time: stage durations fixed at creation, statuses
computed lazily from the clock.

Pure functions; the clock value is passed in, so a test drives time by hand.
"""

from __future__ import annotations

import random
from typing import Protocol

from .._config import Stage, StageModel
from .records import AnalysisTaskRec, AssetRec, EmbedTaskRec, EntityRec, UploadRec

__all__ = [
    "ANALYSIS_STAGES",
    "INDEX_STAGES",
    "Staged",
    "analysis_status",
    "asset_status",
    "embed_status",
    "entity_status",
    "index_status",
    "plan_analysis_stages",
    "plan_asset_s",
    "plan_embedding_s",
    "plan_entity_s",
    "plan_index_stages",
    "task_rng",
    "upload_status",
]

INDEX_STAGES = ("validating", "pending", "queued", "indexing")
ANALYSIS_STAGES = ("queued", "pending", "processing")
# A randomly failing task fails at the end of this stage.
FAIL_STAGE = "indexing"


def task_rng(*, seed: int, task_id: str) -> random.Random:
    """A generator private to one task, so its jitter and fate do not depend on request order.

    Example:
        >>> task_rng(seed=1, task_id="a").random() == task_rng(seed=1, task_id="a").random()
        True
    """
    return random.Random(f"{seed}:{task_id}")


def _scaled(
    stage: Stage, *, video_s: float, speed: float, jitter: float, rng: random.Random
) -> float:
    spread = 1.0 + jitter * (2.0 * rng.random() - 1.0)
    return max(0.0, stage.seconds(video_duration_s=video_s) * spread / speed)


def plan_index_stages(
    model: StageModel, *, video_duration_s: float, speed: float, rng: random.Random
) -> list[float]:
    """Durations (seconds) of validating, pending, queued and indexing for one task.

    Example:
        >>> d = plan_index_stages(StageModel(jitter=0.0), video_duration_s=10.0, speed=2.0,
        ...                       rng=random.Random(0))
        >>> d
        [0.5, 0.25, 0.25, 1.0]
    """
    stages = (model.validating, model.pending, model.queued, model.indexing)
    return [
        _scaled(s, video_s=video_duration_s, speed=speed, jitter=model.jitter, rng=rng)
        for s in stages
    ]


def plan_embedding_s(
    model: StageModel, *, video_duration_s: float, speed: float, rng: random.Random
) -> float:
    """Processing time (seconds) of one embedding task.

    Example:
        >>> plan_embedding_s(StageModel(jitter=0.0), video_duration_s=20.0, speed=1.0,
        ...                  rng=random.Random(0))
        2.0
    """
    return _scaled(
        model.embedding, video_s=video_duration_s, speed=speed, jitter=model.jitter, rng=rng
    )


class Staged(Protocol):
    """Anything indexed: an indexing task, or the video (indexed asset) it makes.

    Example:
        >>> from tl_integrations.emulator._backend.records import VideoRec
        >>> video = VideoRec("v", "a", "i", 0.0, "", None, durations_s=[1.0, 1.0, 1.0, 1.0])
        >>> index_status(video, now_s=10.0)
        ('ready', 4.0)
    """

    @property
    def created_at(self) -> float:
        """When indexing started."""

    @property
    def durations_s(self) -> list[float]:
        """Durations of validating, pending, queued and indexing."""

    @property
    def fail_stage(self) -> str | None:
        """The stage at whose end indexing fails, if it does."""


def index_status(task: Staged, *, now_s: float) -> tuple[str, float]:
    """The task's status at ``now_s`` and the time it entered that status (``updated_at``).

    Example:
        >>> from tl_integrations.emulator._backend.records import IndexTaskRec
        >>> t = IndexTaskRec("t", "v", "i", 100.0, [1.0, 1.0, 1.0, 2.0])
        >>> index_status(t, now_s=100.5), index_status(t, now_s=103.5), index_status(t, now_s=200)
        (('validating', 100.0), ('indexing', 103.0), ('ready', 105.0))
    """
    entered = task.created_at
    for stage, duration in zip(INDEX_STAGES, task.durations_s, strict=False):
        if now_s < entered + duration:
            return stage, entered
        entered += duration
        if stage == task.fail_stage:
            return "failed", entered
    return "ready", entered


def plan_asset_s(
    model: StageModel, *, media_duration_s: float, speed: float, rng: random.Random
) -> float:
    """Processing time (seconds) of one asset once its bytes are in.

    Example:
        >>> plan_asset_s(StageModel(jitter=0.0), media_duration_s=100.0, speed=2.0,
        ...              rng=random.Random(0))
        1.0
    """
    return _scaled(model.asset, video_s=media_duration_s, speed=speed, jitter=model.jitter, rng=rng)


def upload_status(upload: UploadRec, *, now_s: float) -> str:
    """``completed`` once every chunk is reported, ``expired`` after the deadline, else
    ``active``.

    Example:
        >>> u = UploadRec("u", "a", "f", "video", 10, 4, 3, 0.0, 100.0, "x")
        >>> upload_status(u, now_s=50.0), upload_status(u, now_s=101.0)
        ('active', 'expired')
    """
    if upload.completed_at is not None:
        return "completed"
    return "expired" if now_s > upload.expires_at else "active"


def asset_status(
    asset: AssetRec, *, now_s: float, upload: UploadRec | None = None
) -> tuple[str, float]:
    """(status, since when) of an asset: ``processing`` until its bytes are in and checked,
    then ``ready`` or ``failed``; an asset whose upload session expired has ``failed``.

    Example:
        >>> a = AssetRec("a", "direct", "video", "a.mp4", "video/mp4", 10.0, processing_s=2.0,
        ...              ready_from=10.0)
        >>> asset_status(a, now_s=11.0), asset_status(a, now_s=12.0)
        (('processing', 10.0), ('ready', 12.0))
    """
    if asset.ready_from is None:
        if upload is not None and upload_status(upload, now_s=now_s) == "expired":
            return "failed", upload.expires_at
        return "processing", asset.created_at
    done_at = asset.ready_from + asset.processing_s
    if now_s < done_at:
        return "processing", asset.created_at
    return ("failed" if asset.error else "ready"), done_at


def embed_status(task: EmbedTaskRec, *, now_s: float) -> tuple[str, float]:
    """``processing`` until the task's duration has passed, then ``ready`` or ``failed``.

    Example:
        >>> t = EmbedTaskRec("e", "v1", "marengo3.0", 10.0, 2.0, None, {})
        >>> embed_status(t, now_s=11.0), embed_status(t, now_s=12.0)
        (('processing', 10.0), ('ready', 12.0))
    """
    done_at = task.created_at + task.duration_s
    if now_s < done_at:
        return "processing", task.created_at
    return ("failed" if task.failed else "ready"), done_at


def plan_entity_s(model: StageModel, *, speed: float, rng: random.Random) -> float:
    """Processing time (seconds) of an entity after it is made or its images change.

    Example:
        >>> plan_entity_s(StageModel(jitter=0.0), speed=2.0, rng=random.Random(0))
        1.0
    """
    return _scaled(model.entity, video_s=0.0, speed=speed, jitter=model.jitter, rng=rng)


def entity_status(entity: EntityRec, *, now_s: float) -> tuple[str, float]:
    """``processing`` for ``processing_s`` after the last change of its images, then
    ``ready`` (an entity never fails: bad images are refused when given).

    Example:
        >>> e = EntityRec("e", "c", "Ada", None, {}, ["a"], 10.0, 10.0, 10.0, 2.0)
        >>> entity_status(e, now_s=11.0), entity_status(e, now_s=12.0)
        (('processing', 10.0), ('ready', 12.0))
    """
    done_at = entity.changed_at + entity.processing_s
    if now_s < done_at:
        return "processing", entity.changed_at
    return "ready", done_at


def plan_analysis_stages(
    model: StageModel,
    *,
    window_s: float,
    speed: float,
    rng: random.Random,
    queue_s: float = 0.0,
) -> list[float]:
    """Durations (seconds) of queued, pending and processing for one analysis task.

    The work scales with the analysed window; ``queue_s`` is extra waiting in the queue
    (the items of a batch do not all start at once).

    Example:
        >>> plan_analysis_stages(StageModel(jitter=0.0), window_s=100.0, speed=2.0,
        ...                      rng=random.Random(0), queue_s=1.0)
        [0.75, 0.25, 2.0]
    """
    queued, pending, work = (
        _scaled(s, video_s=window_s, speed=speed, jitter=model.jitter, rng=rng)
        for s in (model.queued, model.pending, model.analysis)
    )
    return [queued + queue_s / speed, pending, work]


def analysis_status(task: AnalysisTaskRec, *, now_s: float) -> tuple[str, float, str | None]:
    """(status, since when, why it stopped early) of an analysis task at ``now_s``.

    A task walks queued, pending and processing, then ends ready (or failed, when its fate
    says so). A cancellation stops it at ``canceled_at`` (cause ``"cancel"``); a batch
    that expires while the task waits cancels it, and fails it while it works (cause
    ``"deadline"``).

    Example:
        >>> t = AnalysisTaskRec("t", 100.0, "pegasus1.5", "general", {}, None, [1.0, 1.0, 2.0])
        >>> analysis_status(t, now_s=100.5), analysis_status(t, now_s=102.5)
        (('queued', 100.0, None), ('processing', 102.0, None))
        >>> analysis_status(t, now_s=200.0)
        ('ready', 104.0, None)
        >>> t.canceled_at = 101.5
        >>> analysis_status(t, now_s=200.0)
        ('canceled', 101.5, 'cancel')
    """
    entered = task.created_at
    for stage, duration in zip(ANALYSIS_STAGES, task.durations_s, strict=False):
        end = entered + duration
        stop = task.canceled_at
        if stop is not None and stop < end and stop <= now_s:
            return "canceled", max(stop, entered), "cancel"
        deadline = task.deadline_s
        if deadline is not None and deadline < end and deadline <= now_s:
            return ("failed" if stage == "processing" else "canceled"), deadline, "deadline"
        if now_s < end:
            return stage, entered, None
        entered = end
    return ("failed" if task.fails else "ready"), entered, None
