"""Analysis tasks (``/analyze/tasks``): asynchronous Pegasus answers on the emulator's clock.

A task is checked and answered when it is created (the answer is deterministic), then
walks ``queued -> pending -> processing -> ready | failed`` on the clock, its processing
time scaled by the analysed window; ``canceled`` ends it from any non-terminal status.
Statuses are computed on every read, so no worker runs.

Task ends (ready, failed, canceled) are published to :meth:`AnalysisTasks.watch`
callbacks (the webhook deliveries use them): each end once, noticed by :meth:`sweep`,
which every call of this service runs and which a delivery loop may run on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .analysis import Analysis, Generation, Media
from .analysis_rules import MODES, Ask, MediaSource, task_ask
from .errors import Conflict, NotFound, invalid
from .idempotency import IdempotencyKeys
from .ingest import AssetRef, RemoteUrl
from .lifecycle import analysis_status, plan_analysis_stages, task_rng
from .queries import Page, PageRequest, Sort, paginate
from .records import AnalysisTaskRec
from .store import Store

__all__ = [
    "STATUSES",
    "TERMINAL",
    "AnalysisTaskFilter",
    "AnalysisTaskView",
    "AnalysisTasks",
    "TaskEnded",
]

logger = logging.getLogger("tl_integrations.emulator")

STATUSES = ("queued", "pending", "processing", "ready", "failed", "canceled")
TERMINAL = ("ready", "failed", "canceled")
RESOURCE = "analysis_task"
TASK_FAILED = "The emulator failed this analysis task on purpose (failure_rate or fail fault)."
_CANCELED = {
    "user_canceled": "The task was canceled.",
    "batch_canceled": "The batch was canceled before this item started.",
}


@dataclass(frozen=True)
class AnalysisTaskView:
    """A task with its status now, since when, and why it stopped early (if it did).

    Example:
        >>> view = AnalysisTaskView(rec, "ready", 12.0, None)  # doctest: +SKIP
        >>> view.completed_at  # doctest: +SKIP
        12.0
    """

    rec: AnalysisTaskRec
    status: str
    status_at: float
    cause: str | None

    @property
    def completed_at(self) -> float | None:
        """When the task ended (None while it runs)."""
        return self.status_at if self.status in TERMINAL else None

    @property
    def result(self) -> dict[str, Any] | None:
        """The answer, once ready."""
        return self.rec.result if self.status == "ready" else None

    @property
    def error(self) -> dict[str, str] | None:
        """Why it failed or was canceled, or the warning of a ready task's cut answer."""
        rec = self.rec
        if self.status == "canceled":
            if self.cause == "deadline":
                return {"code": "batch_expired", "message": "The batch expired first."}
            code = rec.cancel_code or "user_canceled"
            return {"code": code, "message": _CANCELED.get(code, "The task was canceled.")}
        if self.status == "failed":
            if self.cause == "deadline":
                return {
                    "code": "batch_processing_timeout",
                    "message": "The batch expired while this item was processing.",
                }
            return rec.error or {"message": TASK_FAILED}
        return rec.error if self.status == "ready" else None


@dataclass(frozen=True)
class TaskEnded:
    """A task reached a terminal status (what an ``analyze.task.*`` webhook reports).

    Tasks made by a batch carry ``batch_id``; the API sends them no per-task webhooks.

    Example:
        >>> TaskEnded(view).status  # doctest: +SKIP
        'ready'
    """

    view: AnalysisTaskView

    @property
    def task_id(self) -> str:
        """The task's id."""
        return self.view.rec.id

    @property
    def status(self) -> str:
        """``ready``, ``failed`` or ``canceled``."""
        return self.view.status

    @property
    def at_s(self) -> float:
        """When it ended (the emulator's clock)."""
        return self.view.status_at

    @property
    def batch_id(self) -> str | None:
        """The batch that made it, if one did."""
        return self.view.rec.batch_id


@dataclass(frozen=True)
class AnalysisTaskFilter:
    """The filters of ``GET /analyze/tasks`` (each takes one value).

    Example:
        >>> AnalysisTaskFilter(status="ready").analysis_mode is None
        True
    """

    status: str | None = None
    video_url: str | None = None
    asset_id: str | None = None
    analysis_mode: str | None = None

    def check(self) -> None:
        """Raise ``Invalid`` for an unknown status or mode."""
        if self.status is not None and self.status not in STATUSES:
            raise invalid("status", f"must be one of {list(STATUSES)}, got {self.status!r}")
        if self.analysis_mode is not None and self.analysis_mode not in MODES:
            raise invalid("analysis_mode", f"must be one of {list(MODES)}")

    def matches(self, view: AnalysisTaskView) -> bool:
        """Whether a task passes every filter."""
        source = view.rec.video_source or {}
        checks = (
            (self.status, view.status),
            (self.video_url, source.get("url")),
            (self.asset_id, source.get("asset_id")),
            (self.analysis_mode, view.rec.mode),
        )
        return all(wanted is None or wanted == value for wanted, value in checks)


class AnalysisTasks:
    """The analysis tasks of one emulator.

    Args:
        store: The records.
        analysis: Finds media and builds answers.
        keys: The ``Idempotency-Key`` records.

    Example:
        >>> view, replayed = await tasks.create(body, idempotency_key="k1",
        ...                                     scope="api-key")  # doctest: +SKIP
        >>> view.status, replayed  # doctest: +SKIP
        ('queued', False)
    """

    def __init__(self, store: Store, analysis: Analysis, keys: IdempotencyKeys) -> None:
        self.store = store
        self.analysis = analysis
        self.keys = keys
        self._listeners: list[Callable[[TaskEnded], None]] = []
        self._published: set[str] = set()

    # ------------------------------------------------------------------ creating

    async def create(
        self, body: Mapping[str, Any], *, idempotency_key: str | None, scope: str
    ) -> tuple[AnalysisTaskView, bool]:
        """Check, answer and register a task; (the task, whether it is a replay of an
        earlier request with the same ``Idempotency-Key``).

        Raises:
            Invalid: For a request or media that breaks a rule.
            Unprocessable: For an unsupported JSON schema, or a key reused for another body.
            Conflict: While another request with the same key is being handled.
            NotFound: When the asset does not exist.
        """
        ask = task_ask(body)
        where = {"scope": scope, "resource": RESOURCE}
        if idempotency_key is not None:
            found = self.keys.find(
                idempotency_key,
                **where,
                body=body,
                exists=self.store.records.analysis_tasks.__contains__,
            )
            if found is not None:
                return self.get(found), True
        with self.keys.handling(idempotency_key, **where):
            media = await self.analysis.media(ask, sync=False)
            answer = self.analysis.answer(ask, media)
            with self.store.lock:
                rec = self.start(ask, media, answer)
                if idempotency_key is not None:
                    self.keys.remember(idempotency_key, **where, body=body, resource_id=rec.id)
                self.store.save()
                return self.view(rec), False

    def start(
        self,
        ask: Ask,
        media: Media | None,
        answer: Generation | None,
        *,
        failure: dict[str, str] | None = None,
        batch_id: str | None = None,
        deadline_s: float | None = None,
        queue_s: float = 0.0,
    ) -> AnalysisTaskRec:
        """Register a task (call under the lock; the caller saves).

        ``failure`` makes a task that fails at once (a batch item that breaks a rule of its
        own); otherwise the task fails when its answer overflows a segmentation's
        ``max_tokens`` or by ``failure_rate`` / the ``fail`` fault.
        """
        store = self.store
        task_id = store.new_id()
        seconds = media.seconds if media is not None else 0.0
        durations = plan_analysis_stages(
            store.config.stages,
            window_s=seconds,
            speed=store.config.speed,
            rng=task_rng(seed=store.config.seed, task_id=task_id),
            queue_s=queue_s,
        )
        error, result = failure, None
        if failure is not None:
            durations = [0.0, 0.0, 0.0]
        elif (
            answer is not None
            and ask.mode == "time_based_metadata"
            and answer.finish_reason == "length"
        ):
            error = {
                "message": f"Segmentation reached max_tokens ({ask.token_limit}) before it "
                "finished; raise max_tokens (or use pegasus1.6 with 'unlimited')."
            }
        elif store.task_fails(task_id):
            error = {"message": TASK_FAILED}
        elif answer is not None:
            result, error = answer.result(), answer.warning
        rec = AnalysisTaskRec(
            id=task_id,
            created_at=store.now(),
            model=ask.model,
            mode=ask.mode,
            request_params=_request_params(ask),
            video_source=media.source if media is not None else _asked_source(ask),
            durations_s=durations,
            result=result,
            error=error,
            fails=result is None,
            custom_id=ask.custom_id,
            batch_id=batch_id,
            deadline_s=deadline_s,
        )
        store.records.analysis_tasks[task_id] = rec
        return rec

    # ------------------------------------------------------------------ reading

    def view(self, rec: AnalysisTaskRec) -> AnalysisTaskView:
        """The task's status now."""
        status, at, cause = analysis_status(rec, now_s=self.store.now())
        return AnalysisTaskView(rec, status, at, cause)

    def _task(self, task_id: str) -> AnalysisTaskRec:
        rec = self.store.records.analysis_tasks.get(task_id)
        if rec is None:
            raise NotFound("analysis task", task_id)
        return rec

    def get(self, task_id: str) -> AnalysisTaskView:
        """One task.

        Raises:
            NotFound: When there is no such task.
        """
        self.sweep()
        with self.store.lock:
            return self.view(self._task(task_id))

    def views(self, task_ids: Iterable[str]) -> list[AnalysisTaskView]:
        """The tasks that still exist among ``task_ids``, in that order."""
        with self.store.lock:
            tasks = self.store.records.analysis_tasks
            return [self.view(tasks[i]) for i in task_ids if i in tasks]

    def list(self, flt: AnalysisTaskFilter, page: PageRequest) -> Page[AnalysisTaskView]:
        """Filtered tasks, newest first, paged.

        Raises:
            Invalid: For an unknown status or mode.
        """
        flt.check()
        self.sweep()
        with self.store.lock:
            views = [self.view(t) for t in self.store.records.analysis_tasks.values()]
            found = [v for v in views if flt.matches(v)]
            newest = Sort().apply(found, {"created_at": lambda v: v.rec.created_at})
            return paginate(newest, page)

    # ------------------------------------------------------------------ changing

    def cancel(self, task_id: str) -> AnalysisTaskView:
        """Cancel a task that has not ended (canceling a canceled task changes nothing).

        Raises:
            NotFound: When there is no such task.
            Conflict: When it already ended, or belongs to a batch (cancel the batch).
        """
        with self.store.lock:
            rec = self._task(task_id)
            view = self.view(rec)
            if view.status == "canceled":
                return view
            if rec.batch_id is not None:
                raise Conflict(
                    f"The task {task_id!r} belongs to batch {rec.batch_id!r}; cancel the batch "
                    "(POST /analyze/batches/{batch_id}/cancel).",
                    code="task_in_batch",
                )
            if view.status in TERMINAL:
                raise Conflict(
                    f"The task {task_id!r} is {view.status}; only queued, pending or processing "
                    "tasks can be canceled.",
                    code="task_not_cancelable",
                )
            rec.canceled_at, rec.cancel_code = self.store.now(), "user_canceled"
            self.store.save()
        self.sweep()
        return self.get(task_id)

    def stop(self, recs: Iterable[AnalysisTaskRec], *, code: str, waiting_only: bool) -> None:
        """Cancel tasks now (call under the lock; the caller saves); with ``waiting_only``
        those already processing carry on (a batch's cancel)."""
        now = self.store.now()
        for rec in recs:
            status = self.view(rec).status
            if status in TERMINAL or (waiting_only and status == "processing"):
                continue
            rec.canceled_at, rec.cancel_code = now, code

    def delete(self, task_id: str) -> None:
        """Delete an ended task.

        Raises:
            NotFound: When there is no such task.
            Conflict: While it is queued, pending or processing.
        """
        with self.store.lock:
            view = self.view(self._task(task_id))
            if view.status not in TERMINAL:
                raise Conflict(
                    f"The task {task_id!r} is {view.status}; cancel it or wait for it to end "
                    "before deleting it.",
                    code="task_in_progress",
                )
            self.forget([task_id])
            self.store.save()

    def forget(self, task_ids: Iterable[str]) -> None:
        """Remove task records (call under the lock; the caller saves)."""
        for task_id in task_ids:
            self.store.records.analysis_tasks.pop(task_id, None)
            self._published.discard(task_id)

    # ------------------------------------------------------------------ ends

    def watch(self, callback: Callable[[TaskEnded], None]) -> Callable[[], None]:
        """Call ``callback`` once for every task that ends from now on (also for tasks of
        batches; those carry ``batch_id``). Returns the function that stops it.

        Example:
            >>> stop = backend.analysis_tasks.watch(print)  # doctest: +SKIP
            >>> stop()  # doctest: +SKIP
        """
        with self.store.lock:
            self._listeners.append(callback)
            if len(self._listeners) == 1:
                # Tasks that ended before anyone watched are not news.
                self._published |= {
                    r.id
                    for r in self.store.records.analysis_tasks.values()
                    if self.view(r).status in TERMINAL
                }

        def stop() -> None:
            with self.store.lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return stop

    def sweep(self) -> tuple[TaskEnded, ...]:
        """Publish every task end not published yet, in the order they happened.

        Runs on every call of this service; a webhook delivery loop calls it to hear of
        tasks that end while no request comes in.
        """
        with self.store.lock:
            if not self._listeners:
                return ()
            ended = [
                TaskEnded(view)
                for view in map(self.view, self.store.records.analysis_tasks.values())
                if view.status in TERMINAL and view.rec.id not in self._published
            ]
            ended.sort(key=lambda e: e.at_s)
            self._published |= {e.task_id for e in ended}
            listeners = list(self._listeners)
        for event in ended:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:  # a listener's bug must not break the API
                    logger.exception("analysis task listener failed on %s", event.task_id)
        return tuple(ended)

    def reset(self) -> None:
        """Forget what was published (the records go with the store's)."""
        with self.store.lock:
            self._published.clear()


def _request_params(ask: Ask) -> dict[str, Any]:
    params = dict(ask.params)
    if ask.images:
        params["analysis_mode"] = "general"
        params["image"] = [_image_echo(i.name, i.source) for i in ask.images]
    return params


def _image_echo(name: str, source: MediaSource) -> dict[str, Any]:
    # Base64 sources come back with their name and type only.
    echo: dict[str, Any] = {"name": name, "media_type": "image"}
    if isinstance(source, RemoteUrl):
        echo["url"] = source.url
    elif isinstance(source, AssetRef):
        echo["asset_id"] = source.asset_id
    return echo


def _asked_source(ask: Ask) -> dict[str, Any] | None:
    """The ``video_source`` of a task whose media was never read (it failed at once)."""
    video = ask.video
    if isinstance(video, AssetRef):
        return {"type": "asset_id", "asset_id": video.asset_id}
    if isinstance(video, RemoteUrl):
        return {"type": "url", "url": video.url}
    return None if video is None else {"type": "base64_string"}
