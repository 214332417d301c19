"""The index desk: one actor per index that every worker of a pipeline talks to.

It keeps what must be shared for nothing to be paid twice and for waiting to stay cheap:

- **claims**: the first input to claim a piece of content (its SHA-256, or a URL's key)
  or a video owns it; any other input of the run with the same content is skipped,
  whichever worker holds it, so two workers never upload the same file;
- **the tasks created in this run**, so a worker looking for a task left running by an
  earlier run does not take another input's task for its own;
- **one wait** for every indexing job of the index (indexed assets, and tasks of the older
  path): the engine's ``WaitMany`` in ``open`` mode, polled with the list endpoints (one
  request per page of pending jobs) in a thread of the actor; workers hand it their jobs
  and get each one back finished, so ten thousand pending videos cost what the list
  endpoint needs, not a request per video. With webhooks (see :mod:`._cluster`) the desk
  hosts the receiver, the wait ends on events, and polling is only the slow safety net;
- **the outcome of every input** (uploaded, indexed, skipped, failed and why), so the run
  ends with exact counts even when Ray retried a batch.

:class:`Ledger` is that bookkeeping, pure; :class:`DeskActor` is the actor's body.

Example:
    >>> ledger = Ledger()
    >>> ledger.claim("tl_sha256:ab12", "a.mp4"), ledger.claim("tl_sha256:ab12", "b.mp4")
    ('a.mp4', 'a.mp4')
    >>> ledger.report([RowReport("a.mp4", "indexed", uploaded=True),
    ...                RowReport("b.mp4", "skipped", "same content as a.mp4")])
    >>> ledger.counts()
    {'uploaded': 1, 'indexed': 1, 'skipped': 1, 'failed': 0}
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from collections.abc import Awaitable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx

from .._engine import EVENT_FALLBACK_POLL_S, Job, WaitMany
from .._flows import Context, Flow
from .._resources.indexed_assets import IndexedAsset, read_indexed
from .._resources.tasks import _read_task

if TYPE_CHECKING:
    from .._client import TwelveLabs
    from .._receiver import WebhookReceiver, WebhookServer
    from .._transport import Request
    from ._budget import AsyncSharedBudget
    from ._cluster import Connection
    from ._webhooks import Webhooks

__all__ = ["DeskActor", "Ledger", "RowReport", "Status"]

logger = logging.getLogger("tl_integrations.ray")

Status = Literal["indexed", "skipped", "failed", "read"]
"""What a stage says of one input: ``indexed`` (a ready video), ``skipped`` (nothing to
do: same content as another input, or already done), ``failed``, or ``read`` (its
documents or vectors were made)."""


@dataclass(frozen=True)
class RowReport:
    """One input's outcome at one stage.

    Example:
        >>> RowReport("talk.mp4", "failed", "task t1 failed: video too short").status
        'failed'
    """

    source: str
    status: Status
    reason: str = ""
    uploaded: bool = False


class Ledger:
    """Claims, tasks made in this run, and every input's outcome; safe across threads.

    Example:
        >>> ledger = Ledger()
        >>> ledger.note_created({"t1": "tl_sha256:ab12"}); ledger.created_here(["t1", "t9"])
        {'t1': 'tl_sha256:ab12'}
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[str, str] = {}
        self._created: dict[str, str] = {}
        self._uploaded: set[str] = set()
        self._indexed: set[str] = set()
        self._skipped: dict[str, str] = {}
        self._failed: dict[str, str] = {}

    def claim(self, key: str, source: str) -> str:
        """The input that owns ``key``: ``source`` itself when it is the first to ask (or
        asks again, as a retried batch does)."""
        with self._lock:
            return self._owners.setdefault(key, source)

    def note_created(self, created: Mapping[str, str]) -> None:
        """Remember tasks this run created: task id -> the content key it was made for."""
        with self._lock:
            self._created.update(created)

    def created_here(self, task_ids: Iterable[str]) -> dict[str, str]:
        """Those of ``task_ids`` that this run created, with their content keys."""
        with self._lock:
            return {
                task_id: self._created[task_id] for task_id in task_ids if task_id in self._created
            }

    def report(self, reports: Iterable[RowReport]) -> None:
        """Record outcomes; a later report of the same input and stage replaces it."""
        with self._lock:
            for item in reports:
                if item.uploaded:
                    self._uploaded.add(item.source)
                if item.status == "failed":
                    self._failed[item.source] = item.reason
                    continue
                self._failed.pop(item.source, None)
                if item.status == "indexed":
                    self._indexed.add(item.source)
                elif item.status == "skipped":
                    self._skipped[item.source] = item.reason

    def reset_counts(self) -> None:
        """Count afresh (a new run on the same desk); claims and tasks made are kept."""
        with self._lock:
            self._uploaded.clear()
            self._indexed.clear()
            self._skipped.clear()
            self._failed.clear()

    def counts(self) -> dict[str, int]:
        """Inputs uploaded, indexed (now or before), skipped and failed, each counted once."""
        with self._lock:
            return {
                "uploaded": len(self._uploaded),
                "indexed": len(self._indexed),
                "skipped": len(self._skipped),
                "failed": len(self._failed),
            }

    def failures(self) -> list[tuple[str, str]]:
        """``(source, reason)`` of every input that failed, in the order they failed."""
        with self._lock:
            return list(self._failed.items())


class _RequestCounter:
    """Counts the HTTP requests one client sends (an httpx event hook)."""

    def __init__(self) -> None:
        self.by_route: collections.Counter[str] = collections.Counter()

    def __call__(self, request: httpx.Request) -> None:
        self.by_route[f"{request.method} {route_of(request.url.path)}"] += 1


def route_of(path: str) -> str:
    """A request's path with its ids left out, as the desk counts its requests.

    Example:
        >>> route_of("/v1.3/indexes/i1/indexed-assets"), route_of("/v1.3/tasks/t1")
        ('/indexed-assets', '/tasks/{id}')
    """
    for noun in ("tasks", "indexed-assets"):
        if path.endswith(f"/{noun}"):
            return f"/{noun}"
        if f"/{noun}/" in path:
            return f"/{noun}/{{id}}"
    return path


class DeskActor:
    """The body of an index's desk actor (an asyncio actor: many workers wait at once).

    Args:
        connection: how to reach the API (the desk makes its own client, which shares the
            cluster's budget).
        index_id: the index whose tasks it waits for.
        webhooks: serve a webhook receiver here, which the shared wait listens to (see
            :mod:`._webhooks`); None: the wait polls.

    Raises:
        OSError: the webhook port cannot be bound (the actor does not start).
    """

    def __init__(
        self, connection: Connection, index_id: str, webhooks: Webhooks | None = None
    ) -> None:
        self._connection = connection
        self.index_id = index_id
        self._webhooks = webhooks
        self._receiver: WebhookReceiver | None = None
        self._server: WebhookServer | None = None
        if webhooks is not None:
            # Bound now, so that a busy port fails ClusterIndex.open, not the first wait.
            self._receiver, self._server = webhooks.serve()
        self.ledger = Ledger()
        self._requests = _RequestCounter()
        self._client: TwelveLabs | None = None
        self._wait: WaitMany | None = None
        self._indexed: set[str] = set()  # jobs that are indexed assets (read with the index)
        self._done: dict[str, Job] = {}
        self._futures: dict[str, list[asyncio.Future[Job | str]]] = collections.defaultdict(list)
        self._members: collections.Counter[str] = collections.Counter()
        self._rounds = 0
        self._waited = 0

    # -- the shared wait -------------------------------------------------------------------

    def _client_for_waiting(self, loop: asyncio.AbstractEventLoop) -> TwelveLabs:
        if self._client is None:
            http = httpx.Client(event_hooks={"request": [self._requests]})
            shared = self._connection.budget
            budget = None if shared is None else _LoopBudget(shared.asynchronous(), loop)
            self._client = self._connection.client(
                http_client=http, budget=budget, events=self._receiver
            )
        return self._client

    def _waiting(self, loop: asyncio.AbstractEventLoop) -> WaitMany:
        if self._wait is None:
            client = self._client_for_waiting(loop)
            hooks = self._webhooks
            fallback_s = EVENT_FALLBACK_POLL_S if hooks is None else hooks.fallback_poll_s
            wait = WaitMany(
                [], client._ctx, locate=self._locate, open=True, fallback_poll_s=fallback_s
            )
            self._wait = wait
            thread = threading.Thread(
                target=self._watch, args=(client, wait, loop), name="tl-desk-wait", daemon=True
            )
            thread.start()
        return self._wait

    def _locate(self, job_id: str, ctx: Context) -> Flow[Job]:
        # A job alone in its kind's list is read by id: an indexed asset with its index.
        job: Job
        if job_id in self._indexed:
            job = yield from read_indexed(None, self.index_id, job_id, ctx)
        else:
            job = yield from _read_task(job_id, ctx)
        return job

    def _watch(self, client: TwelveLabs, wait: WaitMany, loop: asyncio.AbstractEventLoop) -> None:
        try:
            for job in _finished_jobs(client, wait):
                loop.call_soon_threadsafe(self._finished, job)
        except BaseException as exc:  # the wait is over; its jobs fail with the reason
            logger.warning("the shared wait of index %s stopped: %s", self.index_id, exc)
            loop.call_soon_threadsafe(self._broken, wait, exc)

    def _finished(self, job: Job) -> None:
        self._done[job.id] = job
        for future in self._futures.pop(job.id, ()):
            if not future.done():
                future.set_result(job)

    def _broken(self, wait: WaitMany, exc: BaseException) -> None:
        self._rounds += wait.rounds
        self._waited += wait.waited
        if self._wait is wait:
            self._wait = None
        reason = f"waiting for the indexing task failed: {type(exc).__name__}: {exc}"
        for task_id in wait.pending_ids():
            for future in self._futures.pop(task_id, ()):
                if not future.done():
                    future.set_result(reason)

    async def wait(self, tasks: list[Job], member: str) -> list[Job | str]:
        """Each job (indexing task or indexed asset) once finished (ready or failed), or why
        it could not be waited for."""
        self._members[member] += 1
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Job | str]] = []
        joining: list[Job] = []
        for task in tasks:
            if isinstance(task, IndexedAsset):
                self._indexed.add(task.id)
            future: asyncio.Future[Job | str] = loop.create_future()
            done = self._done.get(task.id)
            if done is not None:
                future.set_result(done)
            else:
                self._futures[task.id].append(future)
                joining.append(task)
            futures.append(future)
        if joining:
            self._waiting(loop).add(*joining)
        return list(await asyncio.gather(*futures))

    # -- claims and outcomes ---------------------------------------------------------------

    def claim(self, key: str, source: str, member: str) -> str:
        """The input owning ``key`` (see :meth:`Ledger.claim`)."""
        self._members[member] += 1
        return self.ledger.claim(key, source)

    def note_created(self, created: dict[str, str]) -> None:
        """Remember tasks this run created (task id -> content key)."""
        self.ledger.note_created(created)

    def created_here(self, task_ids: list[str]) -> dict[str, str]:
        """Those of ``task_ids`` this run created, with their content keys."""
        return self.ledger.created_here(task_ids)

    def report(self, reports: list[RowReport]) -> None:
        """Record outcomes (see :meth:`Ledger.report`)."""
        self.ledger.report(reports)

    def reset_counts(self) -> None:
        """Count afresh (see :meth:`Ledger.reset_counts`)."""
        self.ledger.reset_counts()

    def webhook_url(self) -> str | None:
        """Where this desk receives webhooks (None: it does not)."""
        from ._webhooks import reachable_url

        return None if self._server is None else reachable_url(self._server)

    def summary(self) -> dict[str, Any]:
        """Counts, failures, what the shared wait cost, and the webhooks it heard."""
        wait = self._wait
        return {
            "counts": self.ledger.counts(),
            "failures": self.ledger.failures(),
            "waited": self._waited + (wait.waited if wait is not None else 0),
            "rounds": self._rounds + (wait.rounds if wait is not None else 0),
            "pending": len(wait.pending_ids()) if wait is not None else 0,
            "wait_requests": dict(self._requests.by_route),
            "members": dict(self._members),
            "webhooks": None if self._receiver is None else self._receiver.stats,
        }

    def close(self) -> None:
        """End the shared wait (its thread stops once the pending tasks finish) and stop
        serving webhooks."""
        if self._wait is not None:
            self._wait.close()
        if self._server is not None:
            self._server.close()


class _LoopBudget:
    """The shared budget for the wait's thread: asks the actor through this actor's event
    loop (an asyncio actor must not block on ``ray.get``, even from another thread)."""

    def __init__(self, budget: AsyncSharedBudget, loop: asyncio.AbstractEventLoop) -> None:
        self._budget = budget
        self._loop = loop

    def acquire(self, request: Request) -> float:
        asked = asyncio.run_coroutine_threadsafe(
            _awaited(self._budget.acquire(request)), self._loop
        )
        return float(asked.result())

    def settle(self, request: Request, status: int | None, headers: Any) -> None:
        self._loop.call_soon_threadsafe(self._budget.settle, request, status, headers)


async def _awaited(value: Awaitable[float]) -> float:
    return await value


def _finished_jobs(client: TwelveLabs, wait: WaitMany) -> Iterator[Job]:
    yield from client._iterate(wait.flow())
