"""Watch the indexing tasks a client creates and waits for, to draw a status board.

The ingest engine (behind the LangChain loader) waits with ``client.tasks.wait_many`` and
offers no status callback of its own, so the CLI and the demo give it a client whose
``tasks`` resource reports every task it creates and every status change it sees.

Example:
    >>> from tl_integrations.client import TwelveLabs
    >>> seen = TaskWatch(["talk.mp4"], on_status=lambda label, task: None)
    >>> client = TwelveLabs(api_key="tlk_example")
    >>> seen.attach(client)
    >>> type(client.tasks).__name__
    'WatchedTasks'
    >>> client.close()
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..client import TwelveLabs
from ..client._tasks_sync import OnUpdate, Tasks
from ..models import Task
from ..polling import PollPolicy
from ..uploads import VideoFile

__all__ = ["TaskWatch", "WatchedTasks"]

OnStatus = Callable[[str, Task], object]


class TaskWatch:
    """Maps tasks to the inputs they came from and reports their statuses.

    Args:
        labels: the inputs as the user gave them (paths or URLs).
        on_status: called with ``(label, task)`` on every create and status change of a
            task that belongs to one of the labels (from worker threads too).

    Example:
        >>> watch = TaskWatch(["a.mp4"], on_status=print)
        >>> watch.created
        set()
    """

    def __init__(self, labels: Sequence[str], *, on_status: OnStatus) -> None:
        self._on_status = on_status
        self._by_key = {_key(label): label for label in labels}
        self._by_name = {Path(label).name: label for label in labels if "://" not in label}
        self._by_task: dict[str, str] = {}
        self._lock = threading.Lock()
        self.created: set[str] = set()

    def attach(self, client: TwelveLabs) -> None:
        """Make ``client.tasks`` (and ``client.task``) report to this watch."""
        watched = WatchedTasks(client, watch=self)
        client.tasks = watched
        client.task = watched

    def label_of(self, task: Task) -> str | None:
        """The input a task belongs to, if known."""
        with self._lock:
            label = self._by_task.get(task.id)
            if label is None and task.system_metadata.filename:
                label = self._by_name.get(task.system_metadata.filename)
                if label is not None:
                    self._by_task[task.id] = label
        return label

    def on_created(self, task: Task, *, file: object, video_url: str | None) -> None:
        """Record a task created for ``file`` or ``video_url``."""
        target = video_url if video_url is not None else file
        label = self._by_key.get(_key(target)) if isinstance(target, (str, Path)) else None
        with self._lock:
            self.created.add(task.id)
            if label is not None:
                self._by_task[task.id] = label
        if label is not None:
            self._on_status(label, task)

    def on_update(self, task: Task) -> None:
        """Report one observed status change."""
        label = self.label_of(task)
        if label is not None:
            self._on_status(label, task)


class WatchedTasks(Tasks):
    """``client.tasks`` that reports to a :class:`TaskWatch`; otherwise unchanged.

    Example:
        >>> issubclass(WatchedTasks, Tasks)
        True
    """

    def __init__(self, client: TwelveLabs, *, watch: TaskWatch) -> None:
        super().__init__(client)
        self._watch = watch

    def create(
        self,
        *,
        index_id: str,
        file: VideoFile | None = None,
        video_url: str | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        enable_video_stream: bool | None = None,
    ) -> Task:
        """Create the task (see :meth:`Tasks.create`) and report it."""
        task = super().create(
            index_id=index_id,
            file=file,
            video_url=video_url,
            user_metadata=user_metadata,
            enable_video_stream=enable_video_stream,
        )
        self._watch.on_created(task, file=file, video_url=video_url)
        return task

    def wait_many(
        self,
        task_ids: Iterable[str | Task],
        *,
        timeout_s: float | None = None,
        poll: PollPolicy | None = None,
        on_update: OnUpdate | None = None,
    ) -> Iterator[Task]:
        """Wait (see :meth:`Tasks.wait_many`), reporting every status change."""

        def both(task: Task) -> None:
            if on_update is not None:
                on_update(task)
            self._watch.on_update(task)

        return super().wait_many(task_ids, timeout_s=timeout_s, poll=poll, on_update=both)


def _key(target: object) -> str:
    if isinstance(target, str) and "://" in target:
        return target
    return str(Path(str(target)).expanduser())
