"""Analysis tasks (``/analyze/tasks``): asynchronous Pegasus answers on the emulator's clock.

A task is checked and answered when it is created (the answer is deterministic), then
walks ``queued -> pending -> processing -> ready | failed`` on the clock, its processing
time scaled by the analysed window; ``canceled`` ends it from any non-terminal status.
Statuses are computed on every read, so no worker runs.

Its ``analyze.task.*`` webhook event is published when it is created, due at its planned
end (see ``webhooks.py``); a cancel withdraws it and publishes ``canceled`` instead. Tasks
made by a batch send none, as the API says.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .analysis import Analysis, Generation, Media
from .analysis_rules import MODES, Ask, MediaSource, task_ask
from .errors import Conflict, invalid
from .idempotency import IdempotencyKeys
from .ingest import AssetRef, RemoteUrl
from .lifecycle import analysis_status, plan_analysis_stages, task_rng
from .queries import Page, PageRequest, Sort, paginate
from .records import AnalysisTaskRec
from .store import Store, fate_key, lookup
from .webhooks import Webhooks

__all__ = [
    "STATUSES",
    "TERMINAL",
    "AnalysisTaskFilter",
    "AnalysisTaskView",
    "AnalysisTasks",
]

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
        webhooks: Where the tasks' ``analyze.task.*`` events are published (None: none).

    Example:
        >>> view, replayed = await tasks.create(body, idempotency_key="k1",
        ...                                     scope="api-key")  # doctest: +SKIP
        >>> view.status, replayed  # doctest: +SKIP
        ('queued', False)
    """

    def __init__(
        self,
        store: Store,
        analysis: Analysis,
        keys: IdempotencyKeys,
        webhooks: Webhooks | None = None,
    ) -> None:
        self.store = store
        self.analysis = analysis
        self.keys = keys
        self.webhooks = webhooks

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
                self.keys.remember(idempotency_key, **where, body=body, resource_id=rec.id)
                self.store.save()
                return self.view(rec), False

    def _fate_key(self, media: Media | None) -> str | None:
        """What decides whether a task fails: the media and how many earlier analysis
        tasks had the same source, so that its fate for a given seed does not depend on
        which concurrent request got the next id, and asking again draws anew."""
        base = fate_key(media.info, ()) if media is not None else None
        if base is None or media is None:
            return None
        earlier = sum(
            1
            for rec in self.store.records.analysis_tasks.values()
            if rec.video_source == media.source
        )
        return f"{base}:analysis:{earlier}"

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
        elif store.task_fails(task_id, media_key=self._fate_key(media)):
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
        self._publish_end(rec)
        return rec

    def _publish_end(self, rec: AnalysisTaskRec) -> None:
        """Schedule the task's end event, due when its planned end comes (batch tasks send
        none; a batch's expiry or cancel ends them, not a webhook)."""
        if self.webhooks is None or rec.batch_id is not None:
            return
        status, ended_at, _ = analysis_status(rec, now_s=math.inf)
        self._publish(rec, status, ended_at)

    def _publish(self, rec: AnalysisTaskRec, status: str, at_s: float) -> None:
        assert self.webhooks is not None
        error = (rec.error or {"message": TASK_FAILED}) if status == "failed" else None
        self.webhooks.publish_analysis(
            rec.id,
            status=status,
            at_s=at_s,
            created_at_s=rec.created_at,
            custom_id=rec.custom_id,
            video_source=rec.video_source,
            error_message=None if error is None else error.get("message"),
        )

    def resume_webhooks(self) -> None:
        """Publish again the end events of tasks still running (after a restart: the event
        queue lives in memory, the records on disk)."""
        if self.webhooks is None or not self.webhooks.enabled:
            return
        with self.store.lock:
            for rec in self.store.records.analysis_tasks.values():
                if self.view(rec).status not in TERMINAL:
                    self._publish_end(rec)

    def webhook_records(self, task_id: str) -> list[dict[str, Any]] | None:
        """The task's ``webhooks`` field (None when no webhook URL is configured)."""
        return None if self.webhooks is None else self.webhooks.records(task_id)

    # ------------------------------------------------------------------ reading

    def view(self, rec: AnalysisTaskRec) -> AnalysisTaskView:
        """The task's status now."""
        status, at, cause = analysis_status(rec, now_s=self.store.now())
        return AnalysisTaskView(rec, status, at, cause)

    def _task(self, task_id: str) -> AnalysisTaskRec:
        return lookup(self.store.records.analysis_tasks, task_id, "analysis task")

    def get(self, task_id: str) -> AnalysisTaskView:
        """One task.

        Raises:
            NotFound: When there is no such task.
        """
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
            if self.webhooks is not None:
                # Its planned ready (or failed) will never come: canceled comes now.
                self.webhooks.withdraw(task_id)
                self._publish(rec, "canceled", rec.canceled_at)
            self.store.save()
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
            if self.webhooks is not None:
                self.webhooks.withdraw(task_id)


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
