"""Legacy indexing tasks (``/tasks``): upload and index in one step, then wait.

A task now does what the newer flow does in two steps: it makes an asset of the upload
(ready at once, so analysis can name it) and indexes it into a video that shares the task's
timeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from .._media import MediaInfo
from .assets import Assets
from .errors import Invalid, NotFound
from .ingest import LocalFile, RemoteUrl, Upload, discard, receive
from .lifecycle import index_status
from .media_rules import check_media, probe_media
from .queries import Page, PageRequest, Range, Sort, TimeRange, paginate
from .records import IndexTaskRec, VideoRec
from .store import Store, lookup
from .videos import Videos, check_receives, index_segments

__all__ = ["TaskFilter", "TaskView", "Tasks"]

TASK_FAILED = {
    "code": "task_failed",
    "message": "The emulator failed this task on purpose (failure_rate or fail fault).",
}


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

    def matches(self, view: TaskView) -> bool:
        """Whether a task passes every filter."""
        if (self.index_id and view.rec.index_id != self.index_id) or (
            self.statuses and view.status not in self.statuses
        ):
            return False
        info = view.video.info if view.video else None
        if self.filename and (info is None or info.filename != self.filename):
            return False
        values = {
            "duration": info.duration_s if info else None,
            "width": info.width if info else None,
            "height": info.height if info else None,
        }
        if not all(r.matches(values.get(name)) for name, r in self.ranges.items()):
            return False
        return self.created.matches(view.rec.created_at) and self.updated.matches(view.updated_at)


def _rule(err: Invalid) -> dict[str, str]:
    return {"code": err.code, "message": err.message}


class Tasks:
    """Indexing tasks: create one from media, follow its stages, list and delete.

    Example:
        >>> task = await tasks.create(index_id, source=LocalFile(path, "a.mp4"),
        ...                           user_metadata={}, stream=True)  # doctest: +SKIP
    """

    def __init__(self, store: Store, assets: Assets, videos: Videos) -> None:
        self.store = store
        self.assets = assets
        self.videos = videos

    async def create(
        self,
        index_id: str,
        *,
        source: LocalFile | RemoteUrl,
        user_metadata: dict[str, Any],
        stream: bool,
    ) -> IndexTaskRec:
        """Receive and probe the media, then register its asset, its video and the task.

        With ``media_validation="async"``, media that breaks a rule (or cannot be read) is
        accepted and the task fails after its validating stage.

        Raises:
            NotFound: When the index does not exist.
            Invalid: For media that cannot be received or (sync validation) breaks a rule.
        """
        store = self.store
        try:
            index = store.index(index_id)
            check_receives(index)
        except (NotFound, Invalid):
            discard(source)
            raise
        upload = await receive(store, source)
        info, broken, error = await self._inspect(upload)
        segments = None
        if error is None and info is not None and index.marengo:
            segments = await anyio.to_thread.run_sync(lambda: index_segments(info, index))
        with store.lock:
            # Ids in this order, as before assets existed: the same seed gives the same ids.
            task_id, video_id, asset_id = store.new_id(), store.new_id(), store.new_id()
            if segments is not None:  # before the records: see Videos.create
                store.put_segments(video_id, segments)
            asset = self.assets.adopt(upload, asset_id=asset_id, info=info, error=broken)
            video = self.videos.start(
                index,
                video_id=video_id,
                asset=asset,
                error=error,
                user_metadata=user_metadata,
                stream=stream,
                plan_key=task_id,
                task_id=task_id,
            )
            task = IndexTaskRec(
                task_id,
                video_id,
                index.id,
                video.created_at,
                video.durations_s,
                video.fail_stage,
                video.error,
            )
            store.records.tasks[task_id] = task
            store.save()
        return task

    async def _inspect(
        self, upload: Upload
    ) -> tuple[MediaInfo | None, str | None, dict[str, str] | None]:
        """(info, why the file is unreadable, the rule error that fails the task).

        An unreadable file is dropped; a readable one that breaks a rule stays with its
        asset (only the indexing fails). In sync mode both are refused.
        """
        sync = self.store.config.media_validation == "sync"
        try:
            info = await anyio.to_thread.run_sync(
                lambda: probe_media(upload.path, filename=upload.filename)
            )
        except Invalid as err:
            upload.discard()
            if sync:
                raise
            return None, err.message, _rule(err)
        try:
            check_media(info, self.store.config.media)
        except Invalid as err:
            if sync:
                upload.discard()
                raise
            return info, None, _rule(err)
        return info, None, None

    def _task(self, task_id: str) -> IndexTaskRec:
        return lookup(self.store.records.tasks, task_id, "task")

    def view(self, task: IndexTaskRec) -> TaskView:
        """The task with its status now and its video (if still there)."""
        status, updated = index_status(task, now_s=self.store.now())
        return TaskView(task, status, updated, self.store.records.videos.get(task.video_id))

    def get(self, task_id: str) -> TaskView:
        """One task.

        Raises:
            NotFound: When there is no such task.
        """
        with self.store.lock:
            return self.view(self._task(task_id))

    def list(self, flt: TaskFilter, sort: Sort, page: PageRequest) -> Page[TaskView]:
        """Filtered, sorted and paged tasks."""
        keys = {"created_at": lambda v: v.rec.created_at, "updated_at": lambda v: v.updated_at}
        with self.store.lock:
            views = [self.view(t) for t in self.store.records.tasks.values()]
            found = [v for v in views if flt.matches(v)]
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
