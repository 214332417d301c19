"""Legacy indexing tasks (``/tasks``): upload and index in one step, then wait."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from ..media import MediaInfo
from ..segments import SegmentSet, build_segments, index_bounds
from .errors import Invalid, NotFound
from .ingest import LocalFile, RemoteUrl, Upload, discard, probe_upload, receive
from .lifecycle import FAIL_STAGE, plan_index_stages, task_rng
from .queries import Page, PageRequest, Range, Sort, TimeRange, paginate
from .records import IndexRec, IndexTaskRec, VideoRec
from .store import Store, fate_key
from .videos import Videos

__all__ = ["INDEX_CLIP_S", "TaskFilter", "TaskView", "Tasks", "index_segments"]

INDEX_CLIP_S = 6.0
TASK_FAILED = {
    "code": "task_failed",
    "message": "The emulator failed this task on purpose (failure_rate or fail fault).",
}


def index_segments(info: MediaInfo, index: IndexRec) -> SegmentSet:
    """Clip vectors of an indexed video for every embedding option the index enables.

    Example:
        >>> index_segments(info, index).scope[0]  # doctest: +SKIP
        'clip'
    """
    return build_segments(
        info,
        dim=index.dim,
        options=index.embedding_options,
        scopes=["clip"],
        bounds=index_bounds(info, max_clip_s=INDEX_CLIP_S),
        window=(0.0, info.duration_s),
    )


@dataclass(frozen=True)
class TaskView:
    """A task with its status now.

    Example:
        >>> TaskView(task, "ready", 0.0, None).status  # doctest: +SKIP
        'ready'
    """

    rec: IndexTaskRec
    status: str
    updated_at: float
    video: VideoRec | None

    @property
    def error(self) -> dict[str, str] | None:
        """Why the task failed (an emulator extension; the API gives no reason)."""
        if self.status != "failed":
            return None
        return self.rec.error or TASK_FAILED


@dataclass(frozen=True)
class TaskFilter:
    """The filters of ``GET /tasks``.

    Example:
        >>> TaskFilter(statuses=("ready",)).index_id is None
        True
    """

    index_id: str | None = None
    statuses: tuple[str, ...] = ()
    filename: str | None = None
    ranges: Mapping[str, Range] = field(default_factory=dict)
    created: TimeRange = field(default_factory=TimeRange)
    updated: TimeRange = field(default_factory=TimeRange)


class Tasks:
    """Indexing tasks: create one from media, follow its stages, list and delete.

    Example:
        >>> task = await tasks.create(index_id, source=LocalFile(path, "a.mp4"),
        ...                           user_metadata={}, stream=True)  # doctest: +SKIP
    """

    def __init__(self, store: Store, videos: Videos) -> None:
        self.store = store
        self.videos = videos

    async def create(
        self,
        index_id: str,
        *,
        source: LocalFile | RemoteUrl,
        user_metadata: dict[str, Any],
        stream: bool,
    ) -> IndexTaskRec:
        """Receive and probe the media, then register the task and its video.

        With ``media_validation="async"``, media that breaks a rule is accepted and the task
        fails after its validating stage.

        Raises:
            NotFound: When the index does not exist.
            Invalid: For media that cannot be received or (sync validation) breaks a rule.
        """
        store = self.store
        try:
            index = store.index(index_id)
        except NotFound:
            discard(source)
            raise
        upload = await receive(store, source)
        info, error = await self._probe_or_defer(upload)
        segments = None
        if info is not None and index.marengo:
            segments = await anyio.to_thread.run_sync(lambda: index_segments(info, index))
        task = self._register(
            index, upload, info=info, error=error, user_metadata=user_metadata, stream=stream
        )
        if segments is not None:
            store.put_segments(task.video_id, segments)
        return task

    async def _probe_or_defer(
        self, upload: Upload
    ) -> tuple[MediaInfo | None, dict[str, str] | None]:
        try:
            return await probe_upload(self.store, upload), None
        except Invalid as err:
            if self.store.config.media_validation == "sync":
                raise
            return None, {"code": err.code, "message": err.message}

    def _register(
        self,
        index: IndexRec,
        upload: Upload,
        *,
        info: MediaInfo | None,
        error: dict[str, str] | None,
        user_metadata: dict[str, Any],
        stream: bool,
    ) -> IndexTaskRec:
        store = self.store
        with store.lock:
            task_id, video_id, asset_id = store.new_id(), store.new_id(), store.new_id()
            stages = plan_index_stages(
                store.config.stages,
                video_duration_s=info.duration_s if info else 0.0,
                speed=store.config.speed,
                rng=task_rng(seed=store.config.seed, task_id=task_id),
            )
            key = fate_key(info, (v.info for v in store.records.videos.values()))
            fails = store.task_fails(task_id, media_key=key)
            fail_stage = "validating" if error else (FAIL_STAGE if fails else None)
            media = (
                store.persistence.store_media(
                    upload.path, owner_id=video_id, filename=upload.filename
                )
                if info
                else None
            )
            now = store.now()
            task = IndexTaskRec(task_id, video_id, index.id, now, stages, fail_stage, error)
            rel = str(media.relative_to(store.persistence.root)) if media else ""
            store.records.videos[video_id] = VideoRec(
                video_id, asset_id, index.id, task_id, now, rel, info, user_metadata, stream
            )
            store.records.tasks[task_id] = task
            store.save()
        return task

    def _task(self, task_id: str) -> IndexTaskRec:
        rec = self.store.records.tasks.get(task_id)
        if rec is None:
            raise NotFound("task", task_id)
        return rec

    def view(self, task: IndexTaskRec) -> TaskView:
        """The task with its status now and its video (if still there)."""
        status, updated = self.videos.task_status(task)
        return TaskView(task, status, updated, self.store.records.videos.get(task.video_id))

    def get(self, task_id: str) -> TaskView:
        """One task.

        Raises:
            NotFound: When there is no such task.
        """
        with self.store.lock:
            return self.view(self._task(task_id))

    def _matches(self, view: TaskView, flt: TaskFilter) -> bool:
        if (flt.index_id and view.rec.index_id != flt.index_id) or (
            flt.statuses and view.status not in flt.statuses
        ):
            return False
        info = view.video.info if view.video else None
        if flt.filename and (info is None or info.filename != flt.filename):
            return False
        values = {
            "duration": info.duration_s if info else None,
            "width": info.width if info else None,
            "height": info.height if info else None,
        }
        if not all(r.matches(values.get(name)) for name, r in flt.ranges.items()):
            return False
        return flt.created.matches(view.rec.created_at) and flt.updated.matches(view.updated_at)

    def list(self, flt: TaskFilter, sort: Sort, page: PageRequest) -> Page[TaskView]:
        """Filtered, sorted and paged tasks."""
        keys = {"created_at": lambda v: v.rec.created_at, "updated_at": lambda v: v.updated_at}
        with self.store.lock:
            views = [self.view(t) for t in self.store.records.tasks.values()]
            found = [v for v in views if self._matches(v, flt)]
            return paginate(sort.apply(found, keys), page)

    def delete(self, task_id: str) -> None:
        """Delete a ready task (once its video is gone) or a failed one (with its video).

        Raises:
            Invalid: ``task_cannot_be_deleted`` otherwise.
        """
        store = self.store
        with store.lock:
            view = self.view(self._task(task_id))
            status, video = view.status, view.video
            if status not in ("ready", "failed") or (status == "ready" and video is not None):
                raise Invalid(
                    None,
                    f"The task {task_id!r} is {status}; only ready or failed tasks can be "
                    "deleted, and a ready task's video must be deleted first.",
                    code="task_cannot_be_deleted",
                )
            if video is not None:
                self.videos.forget(video)
            del store.records.tasks[task_id]
            store.save()
