"""The pure half of ``client.embed.tasks``: everything but sending and sleeping.

Both twins (:class:`~._tasks_sync.EmbedTasks`, :class:`~._tasks_async.AsyncEmbedTasks`) inherit
:class:`TasksCore`, so they build requests, pick protocols, parse tasks and decide what a
response means in exactly one place.
"""

from __future__ import annotations

import base64
import dataclasses
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import (
    InvalidRequestError,
    InvalidVideoError,
    TaskFailedError,
    TaskTimeoutError,
    TwelveLabsError,
)
from ..models import parse_page
from ..polling import PollPolicy, PollState
from . import wire
from ._stored import CreateIdentity, CreateLog
from .decode import loads_object, video_from_v1, video_from_v2
from .params import (
    MODELS,
    ModelSpec,
    ProtocolName,
    VideoTaskRequest,
    inline_limit_message,
    normalize_options,
    resolve_model,
)
from .task import EmbeddingTask, parse_task
from .vectors import VideoEmbedding

__all__ = [
    "MAX_PAGE_LIMIT",
    "MAX_SCAN_PAGES",
    "Call",
    "OnUpdate",
    "TaskRef",
    "TasksCore",
    "clip_or_timeout",
    "compat_policy",
    "duration_of",
    "group_pending",
    "inline_base64",
    "ready_video",
    "retry_delay",
    "status_of",
    "task_id_of",
]

TaskRef = str | EmbeddingTask
OnUpdate = Callable[[EmbeddingTask], object]
MAX_PAGE_LIMIT = 50
# Beyond this many pages, a wait_many round asks for the missing tasks one by one.
MAX_SCAN_PAGES = 4
_PROTOCOL_MODEL: dict[ProtocolName, ModelSpec] = {spec.protocol: spec for spec in MODELS.values()}
# How many created/seen task ids remember their protocol (so no probing is needed).
_KNOWN_MAX = 4096


@dataclass(frozen=True)
class Call:
    """One ``_request`` to make: method, path and keyword arguments.

    Example:
        >>> Call("GET", "/embed-v2/tasks/t1").kwargs
        {}
    """

    method: str
    path: str
    kwargs: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.kwargs is None:
            object.__setattr__(self, "kwargs", {})


def task_id_of(task: TaskRef) -> str:
    """The id of a task given as an id or an EmbeddingTask; checked to be a non-empty str.

    Example:
        >>> task_id_of("t1"), task_id_of(EmbeddingTask(id="t2", model_name="m", status="x"))
        ('t1', 't2')
    """
    task_id = task.id if isinstance(task, EmbeddingTask) else task
    if not isinstance(task_id, str) or not task_id.strip():
        raise InvalidRequestError(f"task id must be a non-empty string, got {task_id!r}")
    return task_id


def inline_base64(req: VideoTaskRequest) -> str | None:
    """Read a local file for Embed v2 (inline base64), enforcing the model's size limit.

    Example:
        >>> from tl_integrations.embed.params import validate_video_task
        >>> inline_base64(validate_video_task(model_name="marengo3.0", video_url="u")) is None
        True
    """
    if req.video_file is None:
        return None
    limit = req.model.max_file_bytes
    with req.video_file.opened() as (name, handle, _content_type):
        payload = handle.read(limit + 1)
    if len(payload) > limit:
        raise InvalidVideoError(inline_limit_message(name, len(payload), req.model), path=name)
    return base64.b64encode(payload).decode("ascii")


def ready_video(
    doc: dict[str, Any], *, protocol: ProtocolName, task: EmbeddingTask, options: Any
) -> VideoEmbedding:
    """Decode a retrieved task into vectors, after checking it is ready.

    Raises:
        TaskFailedError: the task failed.
        InvalidRequestError: the task is not finished yet (wait for it first).

    Example:
        >>> task = EmbeddingTask(id="t", model_name="marengo3.0", status="ready")
        >>> len(ready_video({"status": "ready", "data": []}, protocol="v2", task=task,
        ...                 options=None))
        0
    """
    status = doc.get("status")
    if status == "failed":
        raise TaskFailedError(task.id, reason=task.reason, task=task)
    if status is not None and status != "ready":
        raise InvalidRequestError(
            f"embedding task {task.id} is still {status!r}; "
            f"wait for it first: client.embed.tasks.wait({task.id!r})"
        )
    spec = MODELS.get(task.model_name, _PROTOCOL_MODEL[protocol])
    wanted = normalize_options(options, model=spec)
    if protocol == "v1":
        video = video_from_v1(doc, task_id=task.id, model_name=spec.name, dim_hint=spec.dim)
    else:
        video = video_from_v2(doc, task_id=task.id, model_name=spec.name, dim_hint=spec.dim)
    # Embed v1 filters on the server; v2 always sends every option, so filter here.
    return video if wanted is None else video.select(option=wanted)


def _options_fit(options: Any, protocol: ProtocolName) -> bool:
    try:
        normalize_options(options, model=_PROTOCOL_MODEL[protocol])
    except InvalidRequestError:
        return False
    return True


def _timestamp(value: str | datetime | None, *, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise InvalidRequestError(f"{name} must be an RFC 3339 string or a datetime, got {value!r}")


class TasksCore:
    """State and pure decisions shared by the sync and async task resources.

    Example:
        >>> TasksCore(client=None)._candidates("6651c0ffee0000aaaabbbbcc", None)
        ('v2', 'v1')
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._known: OrderedDict[str, ProtocolName] = OrderedDict()
        self._creates = CreateLog()

    # --- protocols ---------------------------------------------------------------------

    def _remember(self, task_id: str, protocol: ProtocolName) -> None:
        self._known[task_id] = protocol
        self._known.move_to_end(task_id)
        while len(self._known) > _KNOWN_MAX:
            self._known.popitem(last=False)

    def _candidates(
        self, task: TaskRef, model_name: str | None, options: Any = None
    ) -> tuple[ProtocolName, ...]:
        """Which protocol(s) to ask about a task, most likely first.

        An id this resource has not seen is looked for in Embed v2, then v1; embedding
        options that only one model has narrow that down without a request.
        """
        if model_name is not None:
            found: tuple[ProtocolName, ...] = (resolve_model(model_name).protocol,)
        elif isinstance(task, EmbeddingTask):
            found = (task.protocol,)
        else:
            known = self._known.get(task_id_of(task))
            found = (known,) if known is not None else ("v2", "v1")
        if options is None:
            return found
        fitting = tuple(p for p in found if _options_fit(options, p))
        if not fitting:
            normalize_options(options, model=_PROTOCOL_MODEL[found[0]])  # raises, naming them
        return fitting

    def _bind(self, task: EmbeddingTask, protocol: ProtocolName) -> EmbeddingTask:
        self._remember(task.id, protocol)
        task._owner = self
        return task

    # --- requests ----------------------------------------------------------------------

    def _create_call(self, req: VideoTaskRequest, inline: str | None) -> Call:
        path = wire.create_path(req.model.protocol)
        if req.model.protocol == "v2":
            return Call("POST", path, {"json": wire.v2_video_body(req, base64_string=inline)})
        files = {"video_file": req.video_file} if req.video_file is not None else {}
        return Call("POST", path, {"data": wire.v1_video_form(req), "files": files})

    def _lookup_call(self, ident: CreateIdentity) -> Call:
        """The newest tasks of the protocol (one page), to find a create's lost answer."""
        return self._list_call(
            ident.protocol,
            page=1,
            page_limit=MAX_PAGE_LIMIT,
            status=None,
            started_at=None,
            ended_at=None,
        )

    def _poll_call(self, protocol: ProtocolName, task_id: str) -> Call:
        return Call("GET", wire.poll_path(protocol, task_id))

    def _retrieve_call(self, protocol: ProtocolName, task_id: str, options: Any) -> Call:
        path = wire.retrieve_path(protocol, task_id)
        wanted = normalize_options(options, model=_PROTOCOL_MODEL[protocol])
        if protocol == "v1" and wanted is not None:
            return Call("GET", path, {"params": {"embedding_option": list(wanted)}})
        return Call("GET", path)

    def _list_call(
        self,
        protocol: ProtocolName,
        *,
        page: int,
        page_limit: int,
        status: str | None = None,
        started_at: str | datetime | None = None,
        ended_at: str | datetime | None = None,
    ) -> Call:
        params = {
            "page": page,
            "page_limit": page_limit,
            "status": status,
            "started_at": _timestamp(started_at, name="started_at"),
            "ended_at": _timestamp(ended_at, name="ended_at"),
        }
        return Call("GET", wire.list_path(protocol), {"params": params})

    # --- responses ---------------------------------------------------------------------

    def _parse(
        self, body: bytes, protocol: ProtocolName, *, task_id: str | None = None
    ) -> tuple[EmbeddingTask, dict[str, Any]]:
        doc = loads_object(body)
        model = _PROTOCOL_MODEL[protocol].name
        task = parse_task(doc, protocol=protocol, model_name=model, task_id=task_id)
        return self._bind(task, protocol), doc

    def _page(self, body: bytes, protocol: ProtocolName) -> tuple[list[EmbeddingTask], int | None]:
        items, total_pages = parse_page(loads_object(body), "embedding tasks")
        model = _PROTOCOL_MODEL[protocol].name
        tasks = [
            self._bind(parse_task(item, protocol=protocol, model_name=model), protocol)
            for item in items
            if isinstance(item, dict)
        ]
        return tasks, total_pages

    @staticmethod
    def _more_pages(page: int, total_pages: int | None, got: int) -> bool:
        return got > 0 and (total_pages is None or page < total_pages)

    @staticmethod
    def _failure(task: EmbeddingTask) -> TaskFailedError:
        return TaskFailedError(task.id, reason=task.reason, task=task)

    @staticmethod
    def _list_protocols(model_name: str | None) -> tuple[ProtocolName, ...]:
        return ("v2", "v1") if model_name is None else (resolve_model(model_name).protocol,)

    @staticmethod
    def _check_page_limit(page_limit: int) -> int:
        if isinstance(page_limit, bool) or not 1 <= page_limit <= MAX_PAGE_LIMIT:
            raise InvalidRequestError(f"page_limit must be 1 to {MAX_PAGE_LIMIT}, got {page_limit}")
        return page_limit

    @staticmethod
    def _ids(tasks: Iterable[TaskRef]) -> list[TaskRef]:
        refs = list(tasks)
        for ref in refs:
            task_id_of(ref)
        return refs


def status_of(task: EmbeddingTask) -> str:
    """The status of a task (for the poll shells).

    Example:
        >>> status_of(EmbeddingTask(id="t", model_name="m", status="ready"))
        'ready'
    """
    return task.status


def duration_of(task: EmbeddingTask) -> float | None:
    """The video duration of a task, in seconds, when known (spaces out polls).

    Example:
        >>> duration_of(EmbeddingTask(id="t", model_name="m", status="x", duration_s=9.5))
        9.5
    """
    return task.duration_s


def compat_policy(policy: PollPolicy, interval_s: float) -> PollPolicy:
    """The fixed-interval policy of the seed's ``wait_for_done(sleep_interval=...)``.

    Example:
        >>> compat_policy(PollPolicy(), 2.0).interval_s(5)
        2.0
    """
    fixed = PollPolicy.fixed(interval_s)
    return dataclasses.replace(fixed, max_consecutive_errors=policy.max_consecutive_errors)


def group_pending(
    pending: dict[str, TaskRef], core: TasksCore
) -> dict[ProtocolName | None, list[str]]:
    """Pending ids by protocol (None: unknown yet, so looked up one by one).

    Example:
        >>> group_pending({"t1": "t1"}, TasksCore(client=None))
        {None: ['t1']}
    """
    groups: dict[ProtocolName | None, list[str]] = {}
    for task_id, ref in pending.items():
        found = core._candidates(ref, None)
        groups.setdefault(found[0] if len(found) == 1 else None, []).append(task_id)
    return groups


def clip_or_timeout(state: PollState, delay_s: float, pending: dict[str, TaskRef]) -> float:
    """Clip a sleep to the deadline; at the deadline raise naming every pending task.

    Example:
        >>> state = PollState(task_id="a", policy=PollPolicy(), clock=lambda: 0.0)
        >>> clip_or_timeout(state, 3.0, {"a": "a"})
        3.0
    """
    try:
        return state.clip(delay_s)
    except TaskTimeoutError:
        raise state.timeout_error(list(pending)) from None


def retry_delay(state: PollState, error: TwelveLabsError, pending: dict[str, TaskRef]) -> float:
    """The sleep after a transient error in ``wait_many``; re-raise it when too many came.

    At the deadline, raise TaskTimeoutError naming every pending task.

    Example:
        >>> from tl_integrations.errors import ServerError
        >>> state = PollState(task_id="a", policy=PollPolicy(jitter=0.0), clock=lambda: 0.0)
        >>> retry_delay(state, ServerError("502", status_code=502), {"a": "a"})
        1.0
    """
    try:
        delay = state.after_error(error)
    except TaskTimeoutError:
        raise state.timeout_error(list(pending)) from None
    if delay is None:
        raise error
    return delay
