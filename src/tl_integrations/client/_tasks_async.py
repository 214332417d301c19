"""``client.tasks`` (alias ``client.task``) for :class:`AsyncTwelveLabs`: the async twin."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._http import response_json
from ..errors import (
    APIConnectionError,
    NotFoundError,
    ServerError,
    TaskTimeoutError,
    TwelveLabsError,
)
from ..models import Task, parse_page
from ..polling import TRANSIENT_ERRORS, PollPolicy, async_wait_for, maybe_await
from ..uploads import VideoFile
from . import _stored
from . import _tasks_core as core
from ._batch_wait import BatchWait
from ._calls import Call
from ._paging import aiter_items

if TYPE_CHECKING:
    from ._async import AsyncTwelveLabs

__all__ = ["AsyncTasks"]

logger = logging.getLogger("tl_integrations")

OnUpdate = Callable[[Task], object]


class AsyncTasks:
    """Video indexing tasks (async): the twin of ``Tasks``; ``wait_many`` is an async iterator.

    Example:
        >>> task = await client.tasks.create(index_id=index.id, file="talk.mp4")  # doctest: +SKIP
        >>> task = await client.tasks.wait(task.id, timeout_s=900)  # doctest: +SKIP
        >>> task.video_id  # doctest: +SKIP
        '6650a1b2c3d4e5f601234567'
    """

    def __init__(self, client: AsyncTwelveLabs) -> None:
        self._client = client

    async def create(
        self,
        *,
        index_id: str,
        file: VideoFile | None = None,
        video_url: str | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        enable_video_stream: bool | None = None,
    ) -> Task:
        """Upload a video (streamed from disk) or a URL into an index; returns at once.

        A local path is checked before any byte is sent. The upload is never made twice: if
        the POST may have reached the server without an answer (timeout, dropped connection,
        5xx), the index is searched for the upload token (``user_metadata["tl_upload_token"]``)
        and the task found there is returned instead.

        Raises:
            InvalidVideoError: the file is missing, empty, not a regular file or over 2 GB.
            InvalidRequestError: both or neither of ``file`` and ``video_url``.
        """
        plan = core.UploadPlan.build(
            index_id=index_id,
            file=file,
            video_url=video_url,
            user_metadata=user_metadata,
            enable_video_stream=enable_video_stream,
        )
        attempt = 0
        while True:
            started = self._client._clock()
            try:
                response = await self._client._request(**plan.call().kwargs())
                return plan.created(response_json(response), self._client)
            except (ServerError, APIConnectionError) as error:
                if not core.may_have_arrived(error):
                    raise
                found = await self._find_stored(plan, error, started)
                if found is not None:
                    logger.debug(
                        "upload %s was stored despite %s", plan.token, type(error).__name__
                    )
                    return found
                delay = core.redo_delay_s(self._client._retry_policy, attempt, error)
                if delay is None or not plan.resendable:
                    raise
                logger.debug("upload %s not stored; sending again in %.2f s", plan.token, delay)
                await self._client._sleep(delay)
                attempt += 1

    async def _find_stored(
        self, plan: core.UploadPlan, error: TwelveLabsError, started: float
    ) -> Task | None:
        """The task of an upload the server may have stored, or None when it has not.

        Raises:
            the original ``error`` when running tasks with the same file name are still not
            finished after ``CANDIDATE_WAIT_S``: sending again could pay twice.
        """
        # Candidates first: a task that finishes between the two look-ups is then found by
        # its token (in the other order it could be in neither).
        candidates = await self._candidates(plan, started)
        found = await self._find_upload(plan)
        running = [task for task in candidates if not task.done]
        if found is not None or not candidates:
            return found
        if running:
            logger.info("upload %s may be a running task of %r; waiting", plan.token, plan.filename)
        try:
            waiting = self.wait_many(running, timeout_s=_stored.CANDIDATE_WAIT_S)
            finished = [task async for task in waiting]
        except TaskTimeoutError:
            logger.warning("upload %s: cannot tell if it was stored; not sent again", plan.token)
            raise error from None
        found = await self._find_upload(plan) if running else None
        failed = _stored.failed_own(candidates, finished)
        if found is None and failed is not None:
            logger.info("upload %s: taking failed task %s as its own", plan.token, failed)
            return await self.retrieve(failed)
        return found

    async def _candidates(self, plan: core.UploadPlan, started: float) -> list[Task]:
        """Running or failed tasks with the upload's file name that the server created since
        the upload began, newest first."""
        call = plan.candidates_call()
        if call is None:
            return []
        response = await self._client._request(**call.kwargs())
        items, _ = parse_page(response_json(response), "tasks")
        tasks = [Task.from_api(i, index_id=plan.index_id) for i in items[: _stored.CANDIDATES]]
        elapsed_s = self._client._clock() - started
        now = _stored.server_now(response.headers)
        return _stored.created_since(tasks, server_now=now, elapsed_s=elapsed_s)

    async def _find_upload(self, plan: core.UploadPlan) -> Task | None:
        body = response_json(await self._client._request(**plan.find_video_call().kwargs()))
        video_id = core.first_video_id(body)
        if video_id is None:
            return None
        for page in core.lookup_pages():
            page_body = response_json(
                await self._client._request(**plan.find_task_call(page).kwargs())
            )
            task, more = core.match_video(page_body, video_id, plan.index_id, self._client)
            if task is not None or not more:
                return task or await self._task_by_video_id(video_id)
        return await self._task_by_video_id(video_id)

    async def _task_by_video_id(self, video_id: str) -> Task | None:
        # The API often gives a task the id of its video; worth one GET before giving up.
        try:
            return await self.retrieve(video_id)
        except NotFoundError:
            logger.warning("video %s was stored but its task was not found", video_id)
            return None

    async def retrieve(self, task_id: str) -> Task:
        """Fetch a task (``GET /tasks/{task_id}``, which includes ``hls``).

        Raises:
            NotFoundError: no such task.
        """
        task_id = core.task_id_of(task_id)
        body = response_json(await self._client._request("GET", core.task_path(task_id)))
        return Task.from_api(body, client=self._client)

    async def delete(self, task_id: str) -> None:
        """Delete a task; only ``ready`` or ``failed`` tasks can be deleted."""
        await self._client._request("DELETE", core.task_path(core.task_id_of(task_id)))

    async def wait(
        self,
        task_id: str | Task,
        *,
        timeout_s: float | None = None,
        poll: PollPolicy | None = None,
        on_update: OnUpdate | None = None,
    ) -> Task:
        """Poll one task until it is ready, within ``timeout_s`` seconds.

        Raises:
            TaskFailedError: the task failed (task id, video id, index id, filename, reason).
            TaskTimeoutError: the deadline passed (never slept past); call again to resume.
            AuthenticationError, NotFoundError, ...: permanent errors, at once.
        """
        tid = core.task_id_of(task_id)
        client = self._client
        return await async_wait_for(
            lambda: self.retrieve(tid),
            task_id=tid,
            status_of=core.task_status,
            policy=poll or client._poll_policy,
            clock=client._clock,
            sleep=client._sleep,
            timeout_s=timeout_s,
            on_update=on_update,
            failure=core.task_failed_error,
            duration_of=core.task_duration,
        )

    async def wait_many(
        self,
        task_ids: Iterable[str | Task],
        *,
        timeout_s: float | None = None,
        poll: PollPolicy | None = None,
        on_update: OnUpdate | None = None,
    ) -> AsyncIterator[Task]:
        """Yield every task once it is terminal, in the order they finish.

        Failed tasks are **yielded, not raised**, so every outcome is seen; check
        ``task.status`` (or ``task.failed``). Passing Task objects (as returned by
        ``create``) saves the first round of per-task requests, since their index is known.
        Tasks sharing an index are polled together with list requests.

        Raises:
            TaskTimeoutError: at the deadline, naming every still-pending task id.
        """
        client = self._client
        batch = BatchWait(
            task_ids, policy=poll or client._poll_policy, clock=client._clock, timeout_s=timeout_s
        )
        while batch.pending:
            try:
                await self._round(batch)
            except TRANSIENT_ERRORS as error:
                delay = batch.after_error(error)
                if delay is None:
                    raise
                await client._sleep(delay)
                continue
            for task in batch.take_changes():
                if on_update is not None:
                    await maybe_await(on_update(task))
            for task in batch.take_finished():
                yield task
            if batch.pending:
                await client._sleep(batch.next_delay_s())

    async def _round(self, batch: BatchWait) -> None:
        plan = batch.plan()
        for index_id, ids in plan.groups.items():
            listed = await self._tasks(batch.pending_call(index_id), index_id)
            gone = batch.absorb_listing(ids, listed)
            if len(gone) >= 2:
                finished = await self._tasks(
                    batch.finished_call(index_id), index_id, core.PAGE_SIZE
                )
                gone = batch.absorb_listing(gone, finished)
            plan.singles.extend(gone)
        for task_id in plan.singles:
            batch.absorb_single(await self.retrieve(task_id))

    async def _tasks(self, call: Call, index_id: str, max_items: int | None = None) -> list[Task]:
        tasks: list[Task] = []
        async with contextlib.aclosing(aiter_items(self._client, call, "task list")) as items:
            async for item in items:
                tasks.append(Task.from_api(item, index_id=index_id, client=self._client))
                if max_items is not None and len(tasks) >= max_items:
                    break
        return tasks

    async def create_and_wait(
        self,
        *,
        index_id: str,
        file: VideoFile | None = None,
        video_url: str | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        enable_video_stream: bool | None = None,
        timeout_s: float | None = None,
        poll: PollPolicy | None = None,
        on_update: OnUpdate | None = None,
    ) -> Task:
        """:meth:`create` then :meth:`wait`; ``timeout_s`` bounds the wait only."""
        task = await self.create(
            index_id=index_id,
            file=file,
            video_url=video_url,
            user_metadata=user_metadata,
            enable_video_stream=enable_video_stream,
        )
        return await self.wait(task, timeout_s=timeout_s, poll=poll, on_update=on_update)

    async def list(
        self,
        *,
        index_id: str | None = None,
        status: str | Iterable[str] | None = None,
        filename: str | None = None,
        page_limit: int = 50,
        sort_by: str | None = None,
        sort_option: str | None = None,
    ) -> AsyncIterator[Task]:
        """Iterate over tasks (all pages), filtered by index, status(es) and file name."""
        call = core.list_tasks(
            index_id=index_id,
            status=status,
            filename=filename,
            page_limit=page_limit,
            sort_by=sort_by,
            sort_option=sort_option,
        )
        async for item in aiter_items(self._client, call, "task list"):
            yield Task.from_api(item, index_id=index_id, client=self._client)
