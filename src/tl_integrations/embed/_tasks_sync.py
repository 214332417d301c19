"""``client.embed.tasks`` (alias ``client.embed.task``) of the sync client.

Its async twin (:mod:`._tasks_async`) differs only by ``await``; every decision lives in
:class:`~._shared.TasksCore`. Creating and fetching vectors live here; reading a task's
state (status, wait, wait_many) lives in the base class, :mod:`._waiting_sync`.
The caller never picks a protocol: the model name does (Marengo 2.7 -> Embed v1, Marengo 3.0
-> Embed v2), and a task id this client has not seen is looked up in both.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime

from ..errors import APIConnectionError, ServerError, TwelveLabsError
from ._shared import (
    MAX_PAGE_LIMIT,
    Call,
    OnUpdate,
    TaskRef,
    inline_base64,
    ready_video,
    task_id_of,
)
from ._stored import CreateIdentity, Ticket, check_arrived, pick, redo_delay
from ._waiting_sync import WaitingTasks
from .params import ProtocolName, VideoSource, validate_video_task
from .task import EmbeddingTask
from .vectors import VideoEmbedding

__all__ = ["EmbedTasks"]


class EmbedTasks(WaitingTasks):
    """Video embedding tasks on a :class:`~tl_integrations.TwelveLabs` client.

    Example:
        >>> task = client.embed.tasks.create(
        ...     model_name="marengo3.0", video_file="talk.mp4")  # doctest: +SKIP
        >>> task = client.embed.tasks.wait(task, timeout_s=600)  # doctest: +SKIP
        >>> ve = client.embed.tasks.retrieve(task)  # doctest: +SKIP
        >>> ve.vectors.shape  # doctest: +SKIP
        (24, 512)
    """

    def create(
        self,
        *,
        model_name: str,
        video_file: VideoSource | None = None,
        video_url: str | None = None,
        video_clip_length: float | None = None,
        video_start_offset_sec: float | None = None,
        video_end_offset_sec: float | None = None,
        video_embedding_scope: str | Iterable[str] | None = None,
        embedding_options: str | Iterable[str] | None = None,
    ) -> EmbeddingTask:
        """Start an embedding task for one video (a local file or a URL to the raw media).

        Every parameter is checked before any byte is uploaded. Files stream from disk on
        Marengo 2.7 (up to 2 GB); Marengo 3.0 takes local files up to 36 MB inline.

        Transient failures never make you pay twice. A POST that never reached the server
        (or got a 429) is retried as usual. After a 5xx, a timeout or a dropped connection
        the newest tasks are listed and the one this call made, if any, is returned: same
        file name or URL, model and clip length, created since the upload began. Marengo 3.0
        sends local files inline, without a name, so there the task is adopted only when it
        is the single new one (created within 2 s, no other create of this client running);
        several candidates re-raise the error rather than risk another video's vectors. Only
        when no task matches is the request sent again (see :mod:`._stored`).

        Args:
            model_name: ``"marengo3.0"`` (512-d, Embed v2) or ``"Marengo-retrieval-2.7"``
                (1024-d, Embed v1).
            video_file: a path or an open binary file.
            video_url: a URL to the raw video bytes (instead of ``video_file``).
            video_clip_length: seconds per clip, 2 to 10 (default 6).
            video_start_offset_sec / video_end_offset_sec: embed only this range (Marengo
                2.7 needs both or neither; the range must hold at least one clip).
            video_embedding_scope: ``"clip"`` and/or ``"video"`` (alias ``"asset"``);
                default ``["clip"]``.
            embedding_options: options to compute (Marengo 3.0: visual, audio,
                transcription; Marengo 2.7 computes all and filters on retrieve).

        Raises:
            InvalidRequestError / InvalidVideoError: a parameter or the file is refused.
            ServerError / APIConnectionError: past the retry budget, or when a task the
                server may have stored cannot be told apart from others (nothing re-sent).

        Example:
            >>> client.embed.task.create(model_name="Marengo-retrieval-2.7",
            ...                          video_file="talk.mp4")  # doctest: +SKIP
            EmbeddingTask(id='...', model_name='Marengo-retrieval-2.7', status='processing', ...)
        """
        req = validate_video_task(
            model_name=model_name,
            video_file=video_file,
            video_url=video_url,
            video_clip_length=video_clip_length,
            video_start_offset_sec=video_start_offset_sec,
            video_end_offset_sec=video_end_offset_sec,
            video_embedding_scope=video_embedding_scope,
            embedding_options=embedding_options,
        )
        inline = inline_base64(req) if req.model.protocol == "v2" else None
        return self._create(CreateIdentity.of(req), self._create_call(req, inline))

    def _create(self, ident: CreateIdentity, call: Call) -> EmbeddingTask:
        for attempt in itertools.count():
            ticket = self._creates.begin()
            started = self._client._clock()
            try:
                task = self._parse(self._send(call).content, ident.protocol)[0]
            except (ServerError, APIConnectionError) as error:
                found = self._find_created(ident, error, started, ticket)
                if found is None:
                    files = (call.kwargs or {}).get("files")
                    policy = self._client._retry_policy
                    delay = redo_delay(policy, attempt, error, files=files, label=ident.label)
                    self._client._sleep(delay)
                    continue
                task = found
            finally:
                self._creates.end()
            self._creates.claim(task.id)
            return task
        raise AssertionError("unreachable")  # pragma: no cover

    def _find_created(
        self, ident: CreateIdentity, error: TwelveLabsError, started: float, ticket: Ticket
    ) -> EmbeddingTask | None:
        """The task a failed create made after all, None if it made none (re-raises
        ``error`` when the POST cannot have been stored or the match is ambiguous)."""
        check_arrived(error)
        response = self._send(self._lookup_call(ident))
        tasks, _ = self._page(response.content, ident.protocol)
        return pick(
            tasks,
            ident,
            headers=response.headers,
            elapsed_s=self._client._clock() - started,
            claimed=self._creates.claimed(),
            alone=self._creates.alone(ticket),
            error=error,
        )

    def retrieve(
        self,
        task: TaskRef,
        *,
        embedding_options: str | Iterable[str] | None = None,
        model_name: str | None = None,
    ) -> VideoEmbedding:
        """Fetch a ready task's segment vectors as a :class:`VideoEmbedding`.

        Raises:
            TaskFailedError: the task failed.
            InvalidRequestError: the task is still processing (call :meth:`wait` first).

        Example:
            >>> client.embed.tasks.retrieve(task, embedding_options=["audio"])  # doctest: +SKIP
        """
        candidates = self._candidates(task, model_name, embedding_options)

        def make(protocol: ProtocolName, task_id: str) -> Call:
            return self._retrieve_call(protocol, task_id, embedding_options)

        protocol, response = self._locate(task, candidates, make)
        fresh, doc = self._parse(response.content, protocol, task_id=task_id_of(task))
        return ready_video(doc, protocol=protocol, task=fresh, options=embedding_options)

    def list(
        self,
        *,
        model_name: str | None = None,
        status: str | None = None,
        started_at: str | datetime | None = None,
        ended_at: str | datetime | None = None,
        page_limit: int = MAX_PAGE_LIMIT,
    ) -> Iterator[EmbeddingTask]:
        """Iterate over embedding tasks (the API keeps 7 days), every page, newest first.

        Without ``model_name`` both APIs are listed (Embed v2, then v1).

        Example:
            >>> [t.id for t in client.embed.tasks.list(status="ready")]  # doctest: +SKIP
        """
        limit = self._check_page_limit(page_limit)
        for protocol in self._list_protocols(model_name):
            page = 1
            while True:
                call = self._list_call(
                    protocol,
                    page=page,
                    page_limit=limit,
                    status=status,
                    started_at=started_at,
                    ended_at=ended_at,
                )
                tasks, total = self._page(self._send(call).content, protocol)
                yield from tasks
                if not self._more_pages(page, total, len(tasks)):
                    break
                page += 1

    def create_and_wait(
        self,
        *,
        model_name: str,
        video_file: VideoSource | None = None,
        video_url: str | None = None,
        video_clip_length: float | None = None,
        video_start_offset_sec: float | None = None,
        video_end_offset_sec: float | None = None,
        video_embedding_scope: str | Iterable[str] | None = None,
        embedding_options: str | Iterable[str] | None = None,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> EmbeddingTask:
        """:meth:`create` then :meth:`wait`: returns the ready task (raises like ``wait``).

        Example:
            >>> client.embed.tasks.create_and_wait(model_name="marengo3.0",
            ...                                    video_url=url)  # doctest: +SKIP
        """
        task = self.create(
            model_name=model_name,
            video_file=video_file,
            video_url=video_url,
            video_clip_length=video_clip_length,
            video_start_offset_sec=video_start_offset_sec,
            video_end_offset_sec=video_end_offset_sec,
            video_embedding_scope=video_embedding_scope,
            embedding_options=embedding_options,
        )
        return self.wait(task, timeout_s=timeout_s, on_update=on_update)
