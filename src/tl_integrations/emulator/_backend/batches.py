"""Analysis batches (``/analyze/batches``): many assets analysed in one request.

A batch makes one analysis task per request item (they carry its ``batch_id``) and reports
on them: its status (``pending -> processing -> completed``, or ``canceling -> canceled``,
or ``expired`` 24 hours after creation) and item counters follow from its tasks' statuses,
computed on every read. Results stay readable for 30 days, or until the batch is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .analysis import Analysis, Generation, Media
from .analysis_rules import BATCH_MODELS, MODES, Ask, batch_ask
from .analysis_tasks import TERMINAL, AnalysisTasks, AnalysisTaskView
from .errors import Conflict, Invalid, NotFound, check_among, invalid, missing
from .idempotency import IdempotencyKeys
from .queries import Page, PageRequest, Sort, paginate
from .records import BatchRec
from .store import Store

__all__ = [
    "ACTIVE",
    "BATCH_STATUSES",
    "MAX_ACTIVE",
    "MAX_ITEMS",
    "BatchFilter",
    "BatchView",
    "Batches",
    "item_status",
]

BATCH_STATUSES = ("pending", "processing", "canceling", "canceled", "completed", "expired")
ACTIVE = ("pending", "processing", "canceling")
MAX_ITEMS = 1000
MAX_ACTIVE = 5
MAX_CONTENT_S = 2000 * 3600.0
EXPIRY_S = 24 * 3600.0
RETENTION_S = 30 * 24 * 3600.0
# Items do not all start at once: each waits this much longer than the one before it.
ITEM_STAGGER_S = 0.2
RESOURCE = "analysis_batch"


def item_status(task_status: str) -> str:
    """A task's status as a batch item reports it (``pending`` counts as ``queued``).

    Example:
        >>> item_status("pending"), item_status("ready")
        ('queued', 'ready')
    """
    return "queued" if task_status in ("queued", "pending") else task_status


@dataclass(frozen=True)
class BatchView:
    """A batch with its status now (and since when), and its tasks in request order.

    Example:
        >>> BatchView(rec, "completed", 30.0, []).counts["ready_items"]  # doctest: +SKIP
        0
    """

    rec: BatchRec
    status: str
    status_at: float
    tasks: list[AnalysisTaskView]

    @property
    def counts(self) -> dict[str, int]:
        """``queued_items``, ``processing_items``, ``ready_items``, ``failed_items`` and
        ``canceled_items``."""
        counts = dict.fromkeys(("queued", "processing", "ready", "failed", "canceled"), 0)
        for task in self.tasks:
            counts[item_status(task.status)] += 1
        return {f"{name}_items": n for name, n in counts.items()}


def _status(rec: BatchRec, tasks: Sequence[AnalysisTaskView], now_s: float) -> tuple[str, float]:
    ended = [t.status_at for t in tasks if t.status in TERMINAL]
    last = max(ended, default=rec.created_at)
    done = len(ended) == len(tasks)
    if rec.canceled_at is not None:
        return ("canceled", max(last, rec.canceled_at)) if done else ("canceling", rec.canceled_at)
    if done and any(t.cause == "deadline" for t in tasks):
        return "expired", rec.expires_at
    if done:
        return "completed", last
    started = [t.status_at for t in tasks if t.status not in ("queued", "pending")]
    return ("processing", min(started)) if started else ("pending", rec.created_at)


@dataclass(frozen=True)
class BatchFilter:
    """The filters of ``GET /analyze/batches`` (each repeatable: any of the values).

    Example:
        >>> BatchFilter(statuses=("completed",)).modes
        ()
    """

    statuses: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()

    def check(self) -> None:
        """Raise ``Invalid`` for an unknown status or mode."""
        check_among("status", self.statuses, BATCH_STATUSES)
        check_among("analysis_mode", self.modes, MODES)

    def matches(self, view: BatchView) -> bool:
        """Whether a batch passes every filter."""
        return (not self.statuses or view.status in self.statuses) and (
            not self.modes or view.rec.mode in self.modes
        )


@dataclass(frozen=True)
class _Item:
    ask: Ask
    media: Media | None
    answer: Generation | None
    failure: dict[str, str] | None


class Batches:
    """The analysis batches of one emulator.

    Args:
        store: The records.
        analysis: Finds media and builds answers.
        tasks: The analysis tasks (each item is one).
        keys: The ``Idempotency-Key`` records.

    Example:
        >>> view, replayed = await batches.create(body, idempotency_key=None,
        ...                                       scope="api-key")  # doctest: +SKIP
        >>> view.status  # doctest: +SKIP
        'pending'
    """

    def __init__(
        self, store: Store, analysis: Analysis, tasks: AnalysisTasks, keys: IdempotencyKeys
    ) -> None:
        self.store = store
        self.analysis = analysis
        self.tasks = tasks
        self.keys = keys

    # ------------------------------------------------------------------ creating

    async def create(
        self, body: Mapping[str, Any], *, idempotency_key: str | None, scope: str
    ) -> tuple[BatchView, bool]:
        """Check every item, answer it and register the batch with one task per item.

        An item whose window is over 2 hours fails on its own (``video_duration_too_long``);
        any other broken item refuses the whole batch.

        Raises:
            Invalid: For a bad body or item (naming ``requests[n]``), or over 2,000 hours.
            NotFound: When an item's asset does not exist.
            Conflict: With 5 batches active already, or a key still being handled.
            Unprocessable: For an ``Idempotency-Key`` reused for another body.
        """
        model, mode, requests, defaults = _batch_fields(body)
        where = {"scope": scope, "resource": RESOURCE}
        found = self.keys.find(
            idempotency_key, **where, body=body, exists=self.store.records.batches.__contains__
        )
        if found is not None:
            return self.get(found), True
        asks = [
            batch_ask(item, n=n, model=model, mode=mode, defaults=defaults)
            for n, item in enumerate(requests)
        ]
        _unique_custom_ids(asks)
        self._check_room()
        with self.keys.handling(idempotency_key, **where):
            items = [await self._item(ask) for ask in asks]
            total = sum(i.media.seconds for i in items if i.media is not None)
            if total > MAX_CONTENT_S:
                raise invalid(
                    "requests",
                    f"the batch holds {total / 3600:.1f} content hours; the limit is 2,000",
                )
            with self.store.lock:
                self._check_room()
                rec = self._start(model, mode, items)
                self.keys.remember(idempotency_key, **where, body=body, resource_id=rec.id)
                self.store.save()
                return self.view(rec), False

    async def _item(self, ask: Ask) -> _Item:
        try:
            media = await self.analysis.media(ask, sync=False)
        except Invalid as err:
            if err.code != "video_duration_too_long":
                raise
            return _Item(ask, None, None, {"code": err.code, "message": err.message})
        return _Item(ask, media, self.analysis.answer(ask, media), None)

    def _check_room(self) -> None:
        with self.store.lock:
            active = [v for v in self._views() if v.status in ACTIVE]
        if len(active) >= MAX_ACTIVE:
            raise Conflict(
                f"{len(active)} batches are active (pending, processing or canceling); the "
                f"limit is {MAX_ACTIVE}. Wait for one to end or cancel one.",
                code="batch_limit_reached",
            )

    def _start(self, model: str, mode: str, items: list[_Item]) -> BatchRec:
        store = self.store
        now = store.now()
        batch_id = store.new_id()
        expires = now + EXPIRY_S
        tasks = [
            self.tasks.start(
                item.ask,
                item.media,
                item.answer,
                failure=item.failure,
                batch_id=batch_id,
                deadline_s=expires,
                queue_s=n * ITEM_STAGGER_S,
            )
            for n, item in enumerate(items)
        ]
        rec = BatchRec(batch_id, now, expires, model, mode, [t.id for t in tasks])
        store.records.batches[batch_id] = rec
        return rec

    # ------------------------------------------------------------------ reading

    def view(self, rec: BatchRec) -> BatchView:
        """The batch's status now."""
        tasks = self.tasks.views(rec.task_ids)
        status, at = _status(rec, tasks, self.store.now())
        return BatchView(rec, status, at, tasks)

    def _views(self) -> list[BatchView]:
        now = self.store.now()
        return [
            self.view(r)
            for r in self.store.records.batches.values()
            if now - r.created_at <= RETENTION_S
        ]

    def _batch(self, batch_id: str) -> BatchRec:
        rec = self.store.records.batches.get(batch_id)
        if rec is None or self.store.now() - rec.created_at > RETENTION_S:
            raise NotFound("batch", batch_id)
        return rec

    def get(self, batch_id: str) -> BatchView:
        """One batch (results are kept 30 days).

        Raises:
            NotFound: When there is no such batch, or it is over 30 days old.
        """
        with self.store.lock:
            return self.view(self._batch(batch_id))

    def list(self, flt: BatchFilter, page: PageRequest) -> Page[BatchView]:
        """Filtered batches, newest first, paged.

        Raises:
            Invalid: For an unknown status or mode.
        """
        flt.check()
        with self.store.lock:
            found = [v for v in self._views() if flt.matches(v)]
            newest = Sort().apply(found, {"created_at": lambda v: v.rec.created_at})
            return paginate(newest, page)

    # ------------------------------------------------------------------ changing

    def cancel(self, batch_id: str) -> BatchView:
        """Cancel the items still waiting; those processing finish. The answer is the
        batch as it is now (``canceling`` until every item ended).

        Raises:
            NotFound: When there is no such batch.
            Conflict: When it already ended.
        """
        with self.store.lock:
            rec = self._batch(batch_id)
            view = self.view(rec)
            if view.status == "canceling":
                return view
            if view.status not in ACTIVE:
                raise Conflict(
                    f"The batch {batch_id!r} is {view.status}; only pending or processing "
                    "batches can be canceled.",
                    code="batch_not_cancelable",
                )
            rec.canceled_at = self.store.now()
            tasks = self.store.records.analysis_tasks
            self.tasks.stop(
                (tasks[i] for i in rec.task_ids if i in tasks),
                code="batch_canceled",
                waiting_only=True,
            )
            self.store.save()
            return self.view(rec)

    def delete(self, batch_id: str) -> None:
        """Delete an ended batch and its tasks.

        Raises:
            NotFound: When there is no such batch.
            Conflict: Unless it is completed, canceled or expired.
        """
        with self.store.lock:
            rec = self._batch(batch_id)
            status = self.view(rec).status
            if status in ACTIVE:
                raise Conflict(
                    f"The batch {batch_id!r} is {status}; only completed, canceled or expired "
                    "batches can be deleted.",
                    code="batch_in_progress",
                )
            self.tasks.forget(rec.task_ids)
            del self.store.records.batches[batch_id]
            self.store.save()


def _batch_fields(body: Mapping[str, Any]) -> tuple[str, str, list[Any], dict[str, Any] | None]:
    model, mode = body.get("model_name"), body.get("analysis_mode")
    if model is None:
        raise missing("model_name")
    if model not in BATCH_MODELS:
        raise invalid("model_name", f"batches take only {list(BATCH_MODELS)}, got {model!r}")
    if mode is None:
        raise missing("analysis_mode")
    if mode not in MODES:
        raise invalid("analysis_mode", f"must be one of {list(MODES)}, got {mode!r}")
    requests = body.get("requests")
    if not isinstance(requests, list) or not 1 <= len(requests) <= MAX_ITEMS:
        raise invalid("requests", f"must be a list of 1 to {MAX_ITEMS} items")
    defaults = body.get("defaults")
    if defaults is not None and not isinstance(defaults, dict):
        raise invalid("defaults", "must be an object")
    return str(model), str(mode), requests, defaults


def _unique_custom_ids(asks: Sequence[Ask]) -> None:
    seen: set[str] = set()
    for n, ask in enumerate(asks):
        if ask.custom_id is None:
            continue
        if ask.custom_id in seen:
            raise invalid(
                f"requests[{n}].custom_id", f"{ask.custom_id!r} is used twice in this batch"
            )
        seen.add(ask.custom_id)
