"""Reading embedding tasks' state for the async client: status, wait and wait_many.

:class:`AsyncWaitingTasks` is the base of :class:`~._tasks_async.AsyncEmbedTasks`; the twin
of :mod:`._waiting_sync`, differing only by ``await``. Every decision lives in
:class:`~._shared.TasksCore` and :mod:`..polling`; this shell only sends and sleeps.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import NotFoundError
from ..polling import TRANSIENT_ERRORS, PollPolicy, PollState, async_wait_for, maybe_await
from ._shared import (
    MAX_PAGE_LIMIT,
    MAX_SCAN_PAGES,
    Call,
    OnUpdate,
    TaskRef,
    TasksCore,
    clip_or_timeout,
    compat_policy,
    duration_of,
    group_pending,
    retry_delay,
    status_of,
    task_id_of,
)
from .params import ProtocolName
from .task import EmbeddingTask

if TYPE_CHECKING:
    from ..client._async import AsyncTwelveLabs

__all__ = ["AsyncWaitingTasks"]


class AsyncWaitingTasks(TasksCore):
    """Sending, locating and waiting: the half of :class:`AsyncEmbedTasks` that reads tasks.

    Example:
        >>> task = await client.embed.tasks.wait("6651c0ffee0000aaaabbbbcc")  # doctest: +SKIP
        >>> task.status  # doctest: +SKIP
        'ready'
    """

    _client: AsyncTwelveLabs

    async def _send(self, call: Call) -> httpx.Response:
        return await self._client._request(call.method, call.path, **(call.kwargs or {}))

    async def _locate(
        self,
        task: TaskRef,
        candidates: tuple[ProtocolName, ...],
        make: Callable[[ProtocolName, str], Call],
    ) -> tuple[ProtocolName, httpx.Response]:
        task_id = task_id_of(task)
        for protocol in candidates[:-1]:
            try:
                return protocol, await self._send(make(protocol, task_id))
            except NotFoundError:
                continue
        return candidates[-1], await self._send(make(candidates[-1], task_id))

    async def status(self, task: TaskRef, *, model_name: str | None = None) -> EmbeddingTask:
        """Fetch a task's current state (no vectors).

        Example:
            >>> await client.embed.tasks.status("6651c0ffee0000aaaabbbbcc").status  # doctest: +SKIP
            'processing'
        """
        return (await self._status(task, model_name))[0]

    async def _status(
        self, task: TaskRef, model_name: str | None
    ) -> tuple[EmbeddingTask, dict[str, Any]]:
        candidates = self._candidates(task, model_name)
        protocol, response = await self._locate(task, candidates, self._poll_call)
        return self._parse(response.content, protocol, task_id=task_id_of(task))

    async def wait(
        self,
        task: TaskRef,
        *,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> EmbeddingTask:
        """Poll until the task is ready and return it; raise if it fails or time runs out.

        Checks at once, then at growing, jittered intervals. A passed EmbeddingTask is
        updated in place too.

        Raises:
            TaskFailedError: the task failed (with the server's reason when it gave one).
            TaskTimeoutError: ``timeout_s`` passed; the task keeps running, call again.

        Example:
            >>> await client.embed.tasks.wait(task, timeout_s=600)  # doctest: +SKIP
        """
        return (await self._wait(task, timeout_s=timeout_s, on_update=on_update))[0]

    async def _wait(
        self,
        task: TaskRef,
        *,
        timeout_s: float | None,
        on_update: OnUpdate | None,
        policy: PollPolicy | None = None,
        on_check: OnUpdate | None = None,
        raise_on_failed: bool = True,
    ) -> tuple[EmbeddingTask, dict[str, Any]]:
        last: list[dict[str, Any]] = []

        async def fetch() -> EmbeddingTask:
            fresh, doc = await self._status(task, None)
            last[:] = [doc]
            return fresh

        final = await async_wait_for(
            fetch,
            task_id=task_id_of(task),
            status_of=status_of,
            policy=policy or self._client._poll_policy,
            clock=self._client._clock,
            sleep=self._client._sleep,
            timeout_s=timeout_s,
            on_update=on_update,
            on_check=on_check,
            failure=self._failure,
            duration_of=duration_of,
            raise_on_failed=raise_on_failed,
        )
        if isinstance(task, EmbeddingTask):
            task._update(final)
        return final, last[0]

    def wait_many(
        self,
        tasks: Iterable[TaskRef],
        *,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> AsyncIterator[EmbeddingTask]:
        """Yield each task once it is ready or failed, in the order they finish.

        Several pending tasks of one API are checked with list requests (50 a page) rather
        than one request each. Failed tasks are yielded, not raised: check ``task.status``.

        Raises:
            TaskTimeoutError: at ``timeout_s``, naming every task still pending.

        Example:
            >>> async for task in client.embed.tasks.wait_many(ids):  # doctest: +SKIP
            ...     print(task.id, task.status)
        """
        refs = self._ids(tasks)
        return self._wait_many(refs, timeout_s=timeout_s, on_update=on_update)

    async def _wait_many(
        self, refs: builtins.list[TaskRef], *, timeout_s: float | None, on_update: OnUpdate | None
    ) -> AsyncIterator[EmbeddingTask]:
        pending = {task_id_of(ref): ref for ref in refs}
        seen: dict[str, str] = {}
        policy = self._client._poll_policy
        state = PollState(
            task_id=next(iter(pending), ""),
            policy=policy,
            clock=self._client._clock,
            timeout_s=timeout_s,
        )
        rounds = 0
        while pending:
            rounds += 1
            try:
                found = await self._round(pending)
            except TRANSIENT_ERRORS as error:
                await self._client._sleep(retry_delay(state, error, pending))
                continue
            for task in found:
                if seen.get(task.id) != task.status and on_update is not None:
                    await maybe_await(on_update(task))
                seen[task.id] = task.status
                if task.done and pending.pop(task.id, None) is not None:
                    yield task
            if pending:
                delay = clip_or_timeout(
                    state,
                    policy.batch_interval_s(rounds, pending=len(pending), waited=len(refs)),
                    pending,
                )
                await self._client._sleep(delay)

    async def _round(self, pending: dict[str, TaskRef]) -> builtins.list[EmbeddingTask]:
        found: builtins.list[EmbeddingTask] = []
        for protocol, ids in group_pending(pending, self).items():
            if protocol is not None and len(ids) > 1:
                listed = await self._scan(protocol, set(ids))
                found += listed
                ids = [i for i in ids if i not in {t.id for t in listed}]
            found += [await self.status(pending[i]) for i in ids]
        return found

    async def _scan(self, protocol: ProtocolName, ids: set[str]) -> builtins.list[EmbeddingTask]:
        found: builtins.list[EmbeddingTask] = []
        for page in range(1, MAX_SCAN_PAGES + 1):
            call = self._list_call(protocol, page=page, page_limit=MAX_PAGE_LIMIT)
            tasks, total = self._page((await self._send(call)).content, protocol)
            found += [t for t in tasks if t.id in ids]
            if len(found) == len(ids) or not self._more_pages(page, total, len(tasks)):
                break
        return found

    async def _wait_for_done_compat(
        self,
        task: EmbeddingTask,
        *,
        sleep_interval_s: float,
        callback: OnUpdate | None,
        timeout_s: float | None,
    ) -> str:
        async def on_check(fresh: EmbeddingTask) -> None:
            task._update(fresh)
            if callback is not None:
                await maybe_await(callback(task))

        policy = compat_policy(self._client._poll_policy, sleep_interval_s)
        final, _ = await self._wait(
            task,
            timeout_s=timeout_s,
            on_update=None,
            policy=policy,
            on_check=on_check,
            raise_on_failed=False,
        )
        return final.status
