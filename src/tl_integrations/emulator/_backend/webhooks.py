"""Webhook events, as the API sends them: published when a job's end is known, due when
the emulator's clock reaches it, retried when the receiver fails, recorded per job.

A job's fate and end time are fixed when it is created (see ``lifecycle.py``), so its
terminal event is published then, due at that end time: nothing polls the records. The
services call :meth:`Webhooks.publish_indexing` (indexing tasks and indexed assets: one
``index.task.ready`` / ``index.task.failed`` each) and :meth:`Webhooks.publish_analysis`
(``analyze.task.*``), :meth:`Webhooks.withdraw` when a job goes away before its event is
sent, and :meth:`Webhooks.records` to render an analysis task's ``webhooks`` field.

Sending is not done here (no HTTP in the backend): the emulator's dispatcher takes what is
:meth:`Webhooks.due`, POSTs it, signed, and reports back with :meth:`Webhooks.sent`.

The delivery faults (``webhook_drop``, ``webhook_duplicate``, ``webhook_delay``,
``webhook_reorder``) are drawn per event from a generator keyed by the seed and the event,
so the same seed gives every event the same fate whatever the order of requests.

Example:
    >>> from .._config import EmulatorConfig, ManualClock
    >>> from .store import Store
    >>> clock = ManualClock(start_s=100.0)
    >>> hooks = Webhooks(Store(EmulatorConfig(clock=clock, webhook_url="http://127.0.0.1:9/",
    ...                                       webhook_secret="s")))
    >>> hooks.publish("index.task.ready", {"id": "t1", "status": "ready"}, at_s=105.0)
    'whe_...'
    >>> hooks.due(now_s=104.0), [d.subject_id for d in hooks.due(now_s=105.0)]
    ([], ['t1'])
    >>> hooks.store.close()
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .._config import Faults
from .._ids import rfc3339
from .lifecycle import index_status
from .records import IndexRec, VideoRec
from .store import Store

__all__ = ["MAX_BACKOFF_S", "Delivery", "Webhooks"]

MAX_BACKOFF_S = 300.0
"""Retries of a failed delivery wait 1, 2, 4 ... seconds, at most this long."""
DUPLICATE_AFTER_S = 1.0
"""A duplicated event (fault) is sent again this long after it was delivered."""
_REORDER_GAP_S = 0.001


@dataclass
class Delivery:
    """One event and what became of it.

    Example:
        >>> Delivery("whe_1", "t1", "index.task.ready", b"{}", 5.0).delivered
        False
    """

    event_id: str
    subject_id: str
    type: str
    body: bytes = field(repr=False)
    due_s: float
    attempts: int = 0
    delivered: bool = False
    last_error: str | None = None
    dropped: bool = False
    duplicate: bool = False
    reorder: bool = False
    withdrawn: bool = False
    in_flight: bool = False
    faults: tuple[str, ...] = ()


class Webhooks:
    """The webhook events of one emulator: a queue ordered by the emulator's clock.

    Args:
        store: the records (for the configuration and the seed).
        faults: the current faults (they may change while the emulator runs).

    Example:
        >>> from .._config import EmulatorConfig
        >>> hooks = Webhooks(Store(EmulatorConfig()))
        >>> hooks.enabled, hooks.publish("index.task.ready", {"id": "t1"}, at_s=0.0)
        (False, None)
        >>> hooks.store.close()
    """

    def __init__(self, store: Store, *, faults: Callable[[], Faults] = Faults) -> None:
        self.store = store
        self._faults = faults
        self._lock = threading.Lock()
        self._queue: list[tuple[float, int, str]] = []
        self._events: dict[str, Delivery] = {}
        self._by_subject: dict[str, list[str]] = {}
        self._order = itertools.count()
        self._listeners: list[Callable[[], object]] = []

    @property
    def enabled(self) -> bool:
        """Whether a webhook URL is configured (else nothing is ever published)."""
        return self.store.config.webhook_url is not None

    def on_publish(self, listener: Callable[[], object]) -> None:
        """Call ``listener`` after each publish (the dispatcher wakes up: an event may be
        due sooner than the one it waits for)."""
        self._listeners.append(listener)

    # ------------------------------------------------------------------ publishing

    def publish(self, event_type: str, data: dict[str, Any], *, at_s: float) -> str | None:
        """Schedule one event about ``data["id"]``, due at ``at_s`` (emulator time).

        Returns:
            the event id, or None when no webhook URL is configured.
        """
        if not self.enabled:
            return None
        subject = str(data["id"])
        seed = self.store.config.seed
        event_id = (
            "whe_"
            + hashlib.blake2b(f"{seed}:{subject}:{event_type}".encode(), digest_size=12).hexdigest()
        )
        envelope = {"id": event_id, "created_at": rfc3339(at_s), "type": event_type, "data": data}
        delivery = Delivery(event_id, subject, event_type, orjson.dumps(envelope), at_s)
        self._draw_faults(delivery, random.Random(f"{seed}:{event_id}:webhook"))
        with self._lock:
            self._events[event_id] = delivery
            self._by_subject.setdefault(subject, []).append(event_id)
            if not delivery.dropped:
                self._push(delivery)
        for listener in list(self._listeners):
            listener()
        return event_id

    def _draw_faults(self, delivery: Delivery, rng: random.Random) -> None:
        faults = self._faults()
        draws = {name: rng.random() for name in ("drop", "duplicate", "delay", "reorder")}
        drawn = [name for name, draw in draws.items() if draw < getattr(faults, f"webhook_{name}")]
        delivery.faults = tuple(drawn)
        if "drop" in drawn:
            delivery.dropped = True
            delivery.last_error = "dropped (emulator fault webhook_drop)"
        delivery.duplicate = "duplicate" in drawn
        if "delay" in drawn:
            delivery.due_s += faults.webhook_delay_s
        delivery.reorder = "reorder" in drawn

    def publish_indexing(self, video: VideoRec, index: IndexRec) -> str | None:
        """The ``index.task.ready`` / ``index.task.failed`` event of a video being indexed,
        due when its indexing ends. Its ``id`` is the legacy task's when a ``POST /tasks``
        made the video, else the indexed asset's (which is also the video's id).
        """
        status, ended_at = index_status(video, now_s=float("inf"))
        models = [{"name": m["model_name"], "options": m["model_options"]} for m in index.models]
        data = {
            "id": video.task_id or video.id,
            "metadata": {"duration": video.info.duration_s if video.info else None},
            "status": status,
            "models": models,
            "tags": [],
        }
        return self.publish(f"index.task.{status}", data, at_s=ended_at)

    def publish_analysis(
        self,
        task_id: str,
        *,
        status: str,
        at_s: float,
        created_at_s: float,
        custom_id: str | None = None,
        video_source: dict[str, Any] | None = None,
        error_message: str | None = None,
    ) -> str | None:
        """The ``analyze.task.<status>`` event of an analysis task (``ready``, ``failed``
        or ``canceled``), due at ``at_s``. Call it when the task is created (with its
        planned end) and, on cancel, :meth:`withdraw` first, then publish ``canceled``.
        Tasks made by a batch send none (the API says so).
        """
        data: dict[str, Any] = {
            "id": task_id,
            "custom_id": custom_id,
            "created_at": rfc3339(created_at_s),
            "status": status,
        }
        if video_source is not None:
            data["video_source"] = video_source
        if error_message is not None and status != "canceled":
            data["error"] = {"message": error_message}
        return self.publish(f"analyze.task.{status}", data, at_s=at_s)

    def withdraw(self, subject_id: str) -> None:
        """Forget the events of ``subject_id`` that were not sent yet (a deleted video, a
        canceled analysis whose ``ready`` will never come)."""
        with self._lock:
            for event_id in self._by_subject.get(subject_id, ()):
                delivery = self._events[event_id]
                if delivery.attempts == 0 and not delivery.in_flight:
                    delivery.withdrawn = True

    # ------------------------------------------------------------------ reading

    def records(self, subject_id: str) -> list[dict[str, Any]] | None:
        """The ``webhooks`` field of a job: ``[{url, delivered, attempts, last_error?}]``
        for its newest event; None when no webhook URL is configured (the field is then
        omitted)."""
        url = self.store.config.webhook_url
        if url is None:
            return None
        with self._lock:
            events = [self._events[e] for e in self._by_subject.get(subject_id, ())]
        live = [d for d in events if not d.withdrawn]
        if not live:
            return [{"url": url, "delivered": False, "attempts": 0}]
        latest = live[-1]
        record: dict[str, Any] = {
            "url": url,
            "delivered": latest.delivered,
            "attempts": latest.attempts,
        }
        if latest.last_error is not None:
            record["last_error"] = latest.last_error
        return [record]

    def event(self, event_id: str) -> Delivery | None:
        """One event by id."""
        with self._lock:
            return self._events.get(event_id)

    def deliveries(self, subject_id: str) -> list[Delivery]:
        """The events about one job, oldest first (``faults`` names what was drawn)."""
        with self._lock:
            return [self._events[e] for e in self._by_subject.get(subject_id, ())]

    def next_due_s(self) -> float | None:
        """When the next queued event is due (emulator time), None when none is."""
        with self._lock:
            self._skip_stale()
            return self._queue[0][0] if self._queue else None

    # ------------------------------------------------------------------ sending

    def due(self, *, now_s: float) -> list[Delivery]:
        """Take every event due at ``now_s`` (they are in flight until :meth:`sent`).

        A ``webhook_reorder`` event is put back just after the next event due, once.
        """
        taken: list[Delivery] = []
        with self._lock:
            while True:
                self._skip_stale()
                if not self._queue or self._queue[0][0] > now_s:
                    return taken
                _, _, event_id = heapq.heappop(self._queue)
                delivery = self._events[event_id]
                if delivery.reorder and self._queue:
                    delivery.reorder = False
                    delivery.due_s = self._queue[0][0] + _REORDER_GAP_S
                    self._push(delivery)
                    continue
                delivery.reorder = False
                delivery.in_flight = True
                taken.append(delivery)

    def sent(self, delivery: Delivery, *, now_s: float, error: str | None) -> None:
        """Record one POST: ``error`` None when the receiver answered 2xx; a failure is
        retried with backoff until ``webhook_attempts`` is spent."""
        with self._lock:
            delivery.in_flight = False
            delivery.attempts += 1
            if error is None:
                if delivery.delivered:
                    delivery.duplicate = False  # the duplicate went out too
                    return
                delivery.delivered = True
                delivery.last_error = None
                if delivery.duplicate:
                    delivery.due_s = now_s + DUPLICATE_AFTER_S
                    self._push(delivery)
                return
            delivery.last_error = error
            if delivery.delivered:
                delivery.duplicate = False
                return
            if delivery.attempts >= self.store.config.webhook_attempts:
                return
            delivery.due_s = now_s + min(2.0 ** (delivery.attempts - 1), MAX_BACKOFF_S)
            self._push(delivery)

    def pending(self) -> int:
        """Events queued (retries and duplicates included) or in flight."""
        with self._lock:
            queued = sum(1 for _, _, e in self._queue if not self._events[e].withdrawn)
            return queued + sum(1 for d in self._events.values() if d.in_flight)

    def reset(self) -> None:
        """Forget every event."""
        with self._lock:
            self._queue.clear()
            self._events.clear()
            self._by_subject.clear()

    def _push(self, delivery: Delivery) -> None:
        heapq.heappush(self._queue, (delivery.due_s, next(self._order), delivery.event_id))

    def _skip_stale(self) -> None:
        while self._queue:
            event = self._events.get(self._queue[0][2])
            if event is not None and not event.withdrawn and event.due_s == self._queue[0][0]:
                return
            heapq.heappop(self._queue)
