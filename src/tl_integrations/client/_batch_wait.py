"""The pure state of ``wait_many`` (no I/O): who is pending, what to ask, when to stop.

``wait_many`` polls with the list endpoint: while two or more pending tasks share an index,
one ``GET /tasks?index_id=...&status=<non-terminal statuses>`` (50 a page) tells which of them
are still running; those that dropped out of it are resolved with one
``GET /tasks?status=ready&status=failed&sort_by=updated_at`` page, and any left over (or any
task whose index is unknown or whose status is not one we know) with ``GET /tasks/{id}``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import TaskTimeoutError, TwelveLabsError
from ..models import Task
from ..polling import PollPolicy, PollState
from ._calls import Call, list_call
from ._tasks_core import PAGE_SIZE, PENDING_STATUSES, TERMINAL_STATUSES, task_id_of

__all__ = ["BatchWait", "RoundPlan"]

logger = logging.getLogger("tl_integrations")


@dataclass
class RoundPlan:
    """What one ``wait_many`` round asks: list calls per shared index, GETs for the rest."""

    groups: dict[str, list[str]] = field(default_factory=dict)
    singles: list[str] = field(default_factory=list)


class BatchWait:
    """The pure state of ``wait_many``: who is pending, what to ask next, when to stop."""

    def __init__(
        self,
        refs: Iterable[str | Task],
        *,
        policy: PollPolicy,
        clock: Any,
        timeout_s: float | None,
    ) -> None:
        self.pending: dict[str, Task | None] = {}
        for ref in refs:
            self.pending.setdefault(task_id_of(ref), ref if isinstance(ref, Task) else None)
        first = next(iter(self.pending), "")
        self.waited = len(self.pending)
        self.state = PollState(task_id=first, policy=policy, clock=clock, timeout_s=timeout_s)
        self.policy = policy
        self.rounds = 0
        self._odd: set[str] = set()
        self._seen: dict[str, str] = {}
        self._changes: list[Task] = []
        self._finished: list[Task] = []

    def _grouping(self) -> RoundPlan:
        by_index: dict[str, list[str]] = {}
        plan = RoundPlan()
        for task_id, task in self.pending.items():
            if task is None or not task.index_id or task_id in self._odd:
                plan.singles.append(task_id)
            else:
                by_index.setdefault(task.index_id, []).append(task_id)
        for index_id, ids in by_index.items():
            if len(ids) >= 2:
                plan.groups[index_id] = ids
            else:
                plan.singles.extend(ids)
        return plan

    def plan(self) -> RoundPlan:
        """Start a round: group pending tasks by index."""
        self.rounds += 1
        plan = self._grouping()
        logger.debug(
            "wait_many round %d: %d pending, %d index lists, %d single GETs",
            self.rounds,
            len(self.pending),
            len(plan.groups),
            len(plan.singles),
        )
        return plan

    @staticmethod
    def pending_call(index_id: str) -> Call:
        """The non-terminal tasks of an index (all pages are read)."""
        params = {"index_id": index_id, "status": list(PENDING_STATUSES), "page_limit": PAGE_SIZE}
        return list_call("/tasks", params)

    @staticmethod
    def finished_call(index_id: str) -> Call:
        """The most recently finished tasks of an index (one page)."""
        params = {
            "index_id": index_id,
            "status": list(TERMINAL_STATUSES),
            "sort_by": "updated_at",
            "sort_option": "desc",
            "page_limit": PAGE_SIZE,
        }
        return list_call("/tasks", params)

    def absorb(self, task: Task) -> None:
        """Record a fresh view of a task (ignored when it is not one we wait for)."""
        if task.id not in self.pending:
            return
        if self._seen.get(task.id) != task.status:
            self._seen[task.id] = task.status
            self._changes.append(task)
        if task.done:
            del self.pending[task.id]
            self._finished.append(task)
            return
        self.pending[task.id] = task

    def absorb_single(self, task: Task) -> None:
        """A per-task GET; a pending status the list filter does not know makes the task odd."""
        self.absorb(task)
        if task.id in self.pending and task.status not in PENDING_STATUSES:
            self._odd.add(task.id)

    def absorb_listing(self, ids: list[str], listed: Iterable[Task]) -> list[str]:
        """Absorb a listing; return those of ``ids`` still pending and absent from it."""
        listed_ids: set[str] = set()
        for task in listed:
            listed_ids.add(task.id)
            self.absorb(task)
        return [tid for tid in ids if tid in self.pending and tid not in listed_ids]

    def take_changes(self) -> list[Task]:
        """Tasks whose status changed this round (for ``on_update``)."""
        changes, self._changes = self._changes, []
        return changes

    def take_finished(self) -> list[Task]:
        """Tasks that became ready or failed this round, in the order they finished.

        Within one round the server's ``updated_at`` (RFC 3339, so it sorts as text) orders
        them; tasks without it keep the order they were seen in.
        """
        finished, self._finished = self._finished, []
        finished.sort(key=lambda task: task.updated_at or "")
        return finished

    def next_delay_s(self) -> float:
        """Sleep before the next round, clipped to the deadline (raises TaskTimeoutError)."""
        # A round costs one request per shared index (or for a lone task), so it can look
        # often; many tasks in different indexes cost one request each and back off further.
        plan = self._grouping()
        if plan.groups or len(self.pending) == 1:
            interval = self.policy.batch_interval_s(
                self.rounds, pending=len(self.pending), waited=self.waited
            )
        else:
            interval = self.policy.interval_s(self.rounds)
        try:
            return self.state.clip(interval)
        except TaskTimeoutError:
            raise self.timeout_error() from None

    def after_error(self, error: TwelveLabsError) -> float | None:
        """A transient error in a round: the sleep before the next, or None to re-raise.

        At the deadline: TaskTimeoutError naming every pending task, chained from ``error``.
        """
        try:
            return self.state.after_error(error)
        except TaskTimeoutError:
            raise self.timeout_error() from error

    def timeout_error(self) -> TaskTimeoutError:
        """TaskTimeoutError naming every still-pending task."""
        ids = list(self.pending)
        first = self.pending.get(ids[0]) if ids else None
        self.state.last_status = None if first is None else first.status
        return self.state.timeout_error(ids)
