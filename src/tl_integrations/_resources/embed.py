"""Embeddings: ``client.embed`` (texts, one-call video) and ``client.embed.tasks``.

One interface over two protocols: the model name picks it (``Marengo-retrieval-2.7`` speaks
Embed v1, ``marengo3.0`` Embed v2), and a task id this client has not seen is looked for in
v2, then v1 (:class:`ProtocolMemory` remembers where each id it met lives). Both protocols
are task kinds of the engine (:data:`V1_TASKS`, :data:`V2_TASKS`): waiting for one or for
thousands is the engine's. A ready Embed v2 task is read whole, vectors included, so the
read that sees it finish also brings its vectors: they are kept on the task and
:meth:`EmbedTasks.vectors` sends nothing more.

Never paying twice: ``POST /embed/tasks`` and ``POST /embed-v2/tasks`` carry no client
token, so after a 5xx, a timeout or a dropped connection (the request may have been stored)
:class:`EmbedCreation` lists the newest tasks of the protocol (one page of 50) and adopts
this create's own before sending again:

* **named** creates (a local file on Embed v1, or a URL on either): the newest task with
  the same model, ``input_filename`` / ``input_url`` and clip length, created since the
  upload began (the server's ``Date`` against ``created_at``) and not already returned by
  this resource;
* **anonymous** creates (a local file on Embed v2, sent inline as base64: the server knows
  no file name): adopted only when exactly one unclaimed task of the model and clip length
  without ``input_url`` was created within ``ANONYMOUS_MARGIN_S`` of the upload, and no
  other create of this resource ran at any time during this one (:class:`CreateLog`).
  Otherwise the error is raised rather than risk another video's vectors.

Example:
    >>> task = parse_task({"_id": "t1", "status": "processing"}, protocol="v2")
    >>> task.id, task.model_name, task.done, task.kind.noun
    ('t1', 'marengo3.0', False, 'embedding task')
"""

from __future__ import annotations

import base64
import logging
import threading
from collections import OrderedDict
from collections.abc import (
    Callable,
    Container,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from .._embed import wire
from .._embed.decode import decode_text_v1, decode_text_v2, video_from_v1, video_from_v2
from .._embed.params import (
    CLIP_LENGTH_DEFAULT_S,
    MODELS,
    ModelSpec,
    ProtocolName,
    VideoSource,
    VideoTaskRequest,
    check_text,
    inline_limit_message,
    normalize_options,
    resolve_model,
    validate_video_task,
)
from .._embed.vectors import EmbeddingDecodeError, VideoEmbedding
from .._engine import (
    Creation,
    Job,
    Locate,
    TaskKind,
    WaitMany,
    create,
    fetch,
    job_id_of,
    wait,
    wait_for_done,
)
from .._errors import (
    InvalidRequestError,
    InvalidVideoError,
    NotFoundError,
    TwelveLabsError,
)
from .._flows import Context, Flow, Gather
from .._paging import PAGE_LIMIT_MAX, pages
from .._transport import Reply, Request, path_segment, send, server_now
from .._wire import as_object
from . import AsyncJobResource, AsyncResource, JobResource, Resource, awaited, streamed, waited
from .tasks import CANDIDATE_MARGIN_S, epoch_s

if TYPE_CHECKING:
    from .._client import AsyncTwelveLabs, TwelveLabs

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "V1_TASKS",
    "V2_TASKS",
    "AsyncEmbed",
    "AsyncEmbedTasks",
    "Embed",
    "EmbedCreation",
    "EmbedTasks",
    "EmbedWaitMany",
    "EmbeddingTask",
    "ProtocolMemory",
    "TaskRef",
    "parse_task",
]

logger = logging.getLogger("tl_integrations")

DEFAULT_MAX_CONCURRENCY = 8
"""Text embedding requests in flight at once, by default (``texts``, the adapters)."""
# Slack for an anonymous match: the Date header has 1 s resolution; anything wider would let
# a task created just before this upload (by another program) pass for it.
ANONYMOUS_MARGIN_S = 2.0
# How many created/seen task ids remember their protocol or their claim.
_REMEMBERED = 4096
_PROTOCOL_MODEL: dict[ProtocolName, ModelSpec] = {spec.protocol: spec for spec in MODELS.values()}

OnUpdate = Callable[["EmbeddingTask"], object]


@dataclass(eq=False)
class EmbeddingTask(Job):
    """A video embedding task (Embed v1 or v2; the caller need not care which).

    Attributes:
        id: the task id.
        model_name: the model computing the vectors.
        status: ``processing``, ``ready`` or ``failed`` (an unknown value counts as running).
        media_duration_s: the video's duration in seconds, when known.
        reason: why the task failed, when the server said.
        protocol: ``"v1"`` or ``"v2"``, the Embed API the task lives in (built by hand with
            only ``model_name="Marengo-retrieval-2.7"``, it is ``"v1"``: no other serves it).
        raw: the task object as the server last sent it (without v2's bulky ``data``).

    Example:
        >>> task = parse_task({"_id": "t1", "model_name": "Marengo-retrieval-2.7",
        ...                    "status": "ready"}, protocol="v1")
        >>> task.done, task.protocol
        (True, 'v1')
        >>> EmbeddingTask("t2", "processing", model_name="Marengo-retrieval-2.7").protocol
        'v1'
    """

    model_name: str = ""
    media_duration_s: float | None = None
    reason: str | None = None
    protocol: ProtocolName = "v2"

    def __post_init__(self) -> None:
        # A v1-only model settles the protocol of a task built by hand (the default, v2,
        # would send its polls to an API that never heard of it).
        spec = MODELS.get(self.model_name)
        if spec is not None and spec.protocol == "v1":
            self.protocol = "v1"

    @property
    def kind(self) -> EmbeddingTasks:
        """The task kind of this task's protocol."""
        return V1_TASKS if self.protocol == "v1" else V2_TASKS

    @property
    def duration_s(self) -> float | None:
        """The video's duration in seconds, when known (spaces out polls)."""
        return self.media_duration_s

    @property
    def failure_reason(self) -> str | None:
        """Why the task failed, when the server said."""
        return self.reason

    def update_from(self, other: Job) -> None:
        """Copy a fresher view of this task (keeping vectors it already carries)."""
        super().update_from(other)
        if "_vectors" in other.__dict__:
            self.__dict__["_vectors"] = other.__dict__["_vectors"]


TaskRef = str | Job
"""An embedding task given by id or as the object a client returned."""


def _reason(doc: Mapping[str, Any]) -> str | None:
    error = doc.get("error")
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        return str(error["message"])
    embedding = doc.get("video_embedding")
    if isinstance(embedding, Mapping) and isinstance(embedding.get("error_message"), str):
        return str(embedding["error_message"])
    return None


def _duration(doc: Mapping[str, Any]) -> float | None:
    meta = doc.get("metadata")
    embedding = doc.get("video_embedding")
    if not isinstance(meta, Mapping) and isinstance(embedding, Mapping):
        meta = embedding.get("metadata")
    value = meta.get("duration") if isinstance(meta, Mapping) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_task(
    doc: Mapping[str, Any],
    *,
    protocol: ProtocolName,
    model_name: str | None = None,
    task_id: str | None = None,
) -> EmbeddingTask:
    """Build an :class:`EmbeddingTask` from a task object of either protocol.

    Tolerant: unknown fields are kept in ``raw``; a missing status reads ``processing``
    and a missing model is the protocol's model.

    Raises:
        EmbeddingDecodeError: the object has no ``_id`` and none was given.

    Example:
        >>> parse_task({"_id": "t", "status": "failed", "error": {"message": "broken"}},
        ...            protocol="v2").reason
        'broken'
    """
    found_id = _opt_str(doc.get("_id")) or _opt_str(doc.get("id")) or task_id
    if not found_id:
        raise EmbeddingDecodeError(f"the server's task object has no _id: {dict(doc)!r:.200}")
    return EmbeddingTask(
        id=found_id,
        status=_opt_str(doc.get("status")) or "processing",
        model_name=_opt_str(doc.get("model_name")) or model_name or _PROTOCOL_MODEL[protocol].name,
        created_at=_opt_str(doc.get("created_at")),
        updated_at=_opt_str(doc.get("updated_at")),
        media_duration_s=_duration(doc),
        reason=_reason(doc),
        protocol=protocol,
        raw={key: value for key, value in doc.items() if key != "data"},
    )


def _decode_vectors(doc: Mapping[str, Any], task: EmbeddingTask) -> VideoEmbedding:
    spec = MODELS.get(task.model_name, _PROTOCOL_MODEL[task.protocol])
    decode = video_from_v1 if task.protocol == "v1" else video_from_v2
    return decode(doc, task_id=task.id, model_name=spec.name, dim_hint=spec.dim)


class EmbeddingTasks(TaskKind[EmbeddingTask]):
    """The task kind of one embedding protocol; pending tasks are listed together.

    A ready Embed v2 task carries its vectors in the same answer, so they are decoded
    once and kept on the task: waiting for it and reading its vectors cost one request.

    Example:
        >>> V1_TASKS.retrieve("t1").path, V2_TASKS.retrieve("t1").path
        ('/embed/tasks/t1/status', '/embed-v2/tasks/t1')
    """

    noun: ClassVar[str] = "embedding task"
    pending: ClassVar[tuple[str, ...]] = ("processing",)

    def __init__(self, protocol: ProtocolName) -> None:
        self.protocol: ProtocolName = protocol

    def retrieve(self, job_id: str) -> Request:
        """The task's state: v1 has a light ``/status``; v2 reads the whole task."""
        return Request("GET", wire.poll_path(self.protocol, path_segment(job_id, "task_id")))

    def parse(self, reply: Reply, *, like: EmbeddingTask | None) -> EmbeddingTask:
        """The task in a retrieve reply (v2: with its vectors once ready)."""
        doc = as_object(reply.json(), "embedding task")
        task = parse_task(doc, protocol=self.protocol, task_id=like.id if like else None)
        if self.protocol == "v2" and task.ready and doc.get("data") is not None:
            task.__dict__["_vectors"] = _decode_vectors(doc, task)
        return task

    def group(self, job: EmbeddingTask) -> Hashable | None:
        """All pending tasks of the protocol are listed together."""
        return self.protocol

    def listings(self, group: Hashable, ids: Sequence[str]) -> list[Request]:
        """The protocol's tasks still processing (every page is read)."""
        params = {"status": "processing", "page_limit": PAGE_LIMIT_MAX}
        return [Request("GET", wire.list_path(self.protocol), params=params)]

    def finished_listing(self, group: Hashable) -> Request | None:
        """Embed v1: the newest tasks, whatever their status (finished ones among them).

        Tasks that left the ``processing`` listing are found here with one request. Embed v2
        has none on purpose: each finished task is read by itself, and that read carries
        its vectors (kept on the task), which a listing does not.
        """
        if self.protocol == "v2":
            return None
        return Request("GET", wire.list_path(self.protocol), params={"page_limit": PAGE_LIMIT_MAX})

    def parse_item(self, item: Any, group: Hashable) -> EmbeddingTask:
        """One task of a list page."""
        return parse_task(as_object(item, "embedding task"), protocol=self.protocol)


V1_TASKS = EmbeddingTasks("v1")
V2_TASKS = EmbeddingTasks("v2")
_KINDS: dict[ProtocolName, EmbeddingTasks] = {"v1": V1_TASKS, "v2": V2_TASKS}


# --- creating -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateIdentity:
    """What a listed task must show to be the one a create may have made.

    Example:
        >>> req = validate_video_task(model_name="Marengo-retrieval-2.7", video_url="https://x")
        >>> CreateIdentity.of(req).input_url
        'https://x'
    """

    protocol: ProtocolName
    model_name: str
    clip_length_s: float
    input_url: str | None
    input_filename: str | None
    label: str = "video"  # for log lines: the local file name, never a (maybe signed) URL

    @classmethod
    def of(cls, req: VideoTaskRequest) -> CreateIdentity:
        """The identity of a checked request (v2 sends files inline, without their name)."""
        named_file = req.video_file is not None and req.model.protocol == "v1"
        return cls(
            protocol=req.model.protocol,
            model_name=req.model.name,
            clip_length_s=float(req.clip_length_s),
            input_url=req.video_url,
            input_filename=req.video_file.filename if named_file and req.video_file else None,
            label=req.video_file.filename if req.video_file is not None else "video_url",
        )

    @property
    def anonymous(self) -> bool:
        """True when the server's task carries nothing that names this upload.

        Example:
            >>> CreateIdentity("v2", "marengo3.0", 6.0, None, None).anonymous
            True
        """
        return self.input_url is None and self.input_filename is None

    def matches(self, task: EmbeddingTask) -> bool:
        """True when nothing in the task's listing contradicts this create.

        Example:
            >>> task = EmbeddingTask(id="t", status="ready", model_name="m", raw={
            ...     "video_embedding": {"metadata": {"input_filename": "a.mp4",
            ...                                      "video_clip_length": 6}}})
            >>> CreateIdentity("v1", "m", 6.0, None, "a.mp4").matches(task)
            True
        """
        video = task.raw.get("video_embedding")
        meta = video.get("metadata") if isinstance(video, Mapping) else None
        if task.model_name != self.model_name or not isinstance(meta, Mapping):
            return False
        clip = meta.get("video_clip_length", meta.get("clip_length"))
        if isinstance(clip, (int, float)) and abs(float(clip) - self.clip_length_s) > 1e-6:
            return False
        if self.input_url is not None:
            return bool(meta.get("input_url") == self.input_url)
        if self.input_filename is not None:
            return bool(meta.get("input_filename") == self.input_filename)
        return meta.get("input_url") is None


class CreateLog:
    """The creates of one task resource: which overlapped, which task ids were returned.

    Thread-safe: one resource may be shared by threads (and by an event loop's tasks).

    Example:
        >>> log = CreateLog()
        >>> ticket = log.begin(); log.alone(ticket)
        True
        >>> log.end(); log.claim("t1"); "t1" in log.claimed()
        True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = 0
        self._running = 0
        self._claimed: OrderedDict[str, None] = OrderedDict()

    def begin(self) -> tuple[int, bool]:
        """Record the start of a create: its sequence number and whether it overlapped."""
        with self._lock:
            self._started += 1
            self._running += 1
            return self._started, self._running > 1

    def end(self) -> None:
        """Record the end of a create."""
        with self._lock:
            self._running -= 1

    def alone(self, ticket: tuple[int, bool]) -> bool:
        """True when no other create ran at any time since ``ticket`` began."""
        with self._lock:
            return not ticket[1] and self._started == ticket[0]

    def claim(self, task_id: str) -> None:
        """Remember a task id returned by a create, so that no later create adopts it."""
        with self._lock:
            self._claimed[task_id] = None
            while len(self._claimed) > _REMEMBERED:
                self._claimed.popitem(last=False)

    def claimed(self) -> frozenset[str]:
        """The task ids already returned by creates of this resource."""
        with self._lock:
            return frozenset(self._claimed)


def pick(
    tasks: list[EmbeddingTask],
    ident: CreateIdentity,
    *,
    now: float | None,
    elapsed_s: float,
    claimed: Container[str],
    alone: bool,
    error: TwelveLabsError,
) -> EmbeddingTask | None:
    """The listed task this create made, None when it made none (send again).

    Raises:
        error: several tasks could be this anonymous create's own.

    Example:
        >>> pick([], CreateIdentity("v2", "marengo3.0", 6.0, None, None), now=None,
        ...      elapsed_s=1.0, claimed=(), alone=True, error=TwelveLabsError("x")) is None
        True
    """
    margin = ANONYMOUS_MARGIN_S if ident.anonymous else CANDIDATE_MARGIN_S
    cutoff = None if now is None else now - elapsed_s - margin

    def recent(task: EmbeddingTask) -> bool:
        created = epoch_s(task.created_at)
        if cutoff is None or created is None:
            # Without a time, a named task may still be ours; an anonymous one cannot be told.
            return not ident.anonymous
        return created >= cutoff

    fresh = [t for t in tasks if t.id not in claimed and ident.matches(t) and recent(t)]
    if fresh and (not ident.anonymous or (len(fresh) == 1 and alone)):
        return fresh[0]
    if not fresh:
        return None
    logger.warning(
        "upload %s: %d recent embedding tasks could be its own; not sent again",
        ident.label,
        len(fresh),
    )
    raise error


def _inline_base64(req: VideoTaskRequest) -> str | None:
    if req.video_file is None:
        return None
    limit = req.model.max_file_bytes
    with req.video_file.opened() as (name, handle, _content_type):
        payload = handle.read(limit + 1)
    if len(payload) > limit:
        raise InvalidVideoError(inline_limit_message(name, len(payload), req.model), path=name)
    return base64.b64encode(payload).decode("ascii")


class EmbedCreation(Creation[EmbeddingTask]):
    """One ``POST /embed/tasks`` or ``POST /embed-v2/tasks``, checked before any upload.

    Run it with :meth:`run`: the resource's :class:`CreateLog` then knows whether another
    create overlapped this one at any time, which an anonymous upload needs to know.

    Example:
        >>> req = validate_video_task(model_name="marengo3.0", video_url="https://x/a.mp4")
        >>> EmbedCreation(req, CreateLog()).request.path
        '/embed-v2/tasks'
    """

    def __init__(self, req: VideoTaskRequest, log: CreateLog) -> None:
        self.ident = CreateIdentity.of(req)
        self.log = log
        self._ticket: tuple[int, bool] | None = None
        path = wire.create_path(req.model.protocol)
        if req.model.protocol == "v2":
            body = wire.v2_video_body(req, base64_string=_inline_base64(req))
            request = Request("POST", path, json=body)
        else:
            files = {"video_file": req.video_file} if req.video_file is not None else {}
            request = Request("POST", path, form=wire.v1_video_form(req), files=files)
        super().__init__(request)

    def run(self, ctx: Context) -> Flow[EmbeddingTask]:
        """The engine's :func:`~tl_integrations._engine.create`, watched by the log.

        The watch spans the whole create, from its first POST to the last lookup: a create
        running beside it may have stored the very task a lookup finds.
        """
        self._ticket = self.log.begin()
        try:
            task: EmbeddingTask = yield from create(self, ctx)
        finally:
            self.log.end()
        return task

    def created(self, reply: Reply) -> EmbeddingTask:
        """The task in the create's answer, claimed so no later create adopts it."""
        task = parse_task(as_object(reply.json(), "created task"), protocol=self.ident.protocol)
        task.model_name = self.ident.model_name
        self.log.claim(task.id)
        return task

    def find(
        self, ctx: Context, error: TwelveLabsError, started: float
    ) -> Flow[EmbeddingTask | None]:
        """The task this create made despite the error, if it can be told (see the module)."""
        params = {"page": 1, "page_limit": PAGE_LIMIT_MAX}
        request = Request("GET", wire.list_path(self.ident.protocol), params=params)
        reply = yield from send(request, ctx)
        kind = _KINDS[self.ident.protocol]
        items = as_object(reply.json(), "embedding task list").get("data") or []
        tasks = [kind.parse_item(item, kind.protocol) for item in items if isinstance(item, dict)]
        found = pick(
            tasks,
            self.ident,
            now=server_now(reply.headers),
            elapsed_s=ctx.clock() - started,
            claimed=self.log.claimed(),
            # Outside run() nothing watched the create: count it as overlapped (never adopt
            # an anonymous match on a guess).
            alone=self._ticket is not None and self.log.alone(self._ticket),
            error=error,
        )
        if found is not None:
            self.log.claim(found.id)
        return found


# --- reading ------------------------------------------------------------------------------


class ProtocolMemory:
    """Which protocol each task id seen by a resource lives in (so no probing is needed).

    Example:
        >>> memory = ProtocolMemory()
        >>> memory.candidates("t1", None)
        ('v2', 'v1')
        >>> memory.remember("t1", "v1"); memory.candidates("t1", None)
        ('v1',)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: OrderedDict[str, ProtocolName] = OrderedDict()

    def remember(self, task_id: str, protocol: ProtocolName) -> None:
        """Record where ``task_id`` lives."""
        with self._lock:
            self._known[task_id] = protocol
            self._known.move_to_end(task_id)
            while len(self._known) > _REMEMBERED:
                self._known.popitem(last=False)

    def learn(self, task: TaskRef) -> None:
        """Remember the protocol of a task object (it may come from another client).

        Example:
            >>> memory = ProtocolMemory()
            >>> memory.learn(EmbeddingTask("t1", "ready", protocol="v1"))
            >>> memory.candidates("t1", None)
            ('v1',)
        """
        if isinstance(task, EmbeddingTask):
            self.remember(task.id, task.protocol)

    def stand_in(self, task: TaskRef) -> TaskRef:
        """What a ``wait_many`` should hold for ``task``, so that it is listed at once.

        A task object is kept (and learnt); a remembered id becomes a ``processing`` task
        of its protocol, which the wait lists with the protocol's other tasks from its
        first round on; an unknown id stays an id (read once, probing). A stand-in is never
        handed out: the wait yields the tasks it read.

        Example:
            >>> memory = ProtocolMemory(); memory.remember("t1", "v1")
            >>> memory.stand_in("t1").kind.noun, memory.stand_in("t2")
            ('embedding task', 't2')
        """
        self.learn(task)
        if isinstance(task, Job):
            return task
        with self._lock:
            known = self._known.get(job_id_of(task))
        return task if known is None else EmbeddingTask(task, "processing", protocol=known)

    def candidates(
        self, task: TaskRef, model_name: str | None, options: Any = None
    ) -> tuple[ProtocolName, ...]:
        """Which protocol(s) to ask about a task, most likely first.

        Embedding options that only one model has narrow the choice without a request.
        """
        if model_name is not None:
            found: tuple[ProtocolName, ...] = (resolve_model(model_name).protocol,)
        elif isinstance(task, EmbeddingTask):
            found = (task.protocol,)
        else:
            with self._lock:
                known = self._known.get(job_id_of(task))
            found = (known,) if known is not None else ("v2", "v1")
        if options is None:
            return found
        fitting = tuple(p for p in found if _options_fit(options, p))
        if not fitting:
            normalize_options(options, model=_PROTOCOL_MODEL[found[0]])  # raises, naming them
        return fitting


def _options_fit(options: Any, protocol: ProtocolName) -> bool:
    try:
        normalize_options(options, model=_PROTOCOL_MODEL[protocol])
    except InvalidRequestError:
        return False
    return True


def _locate(
    task: TaskRef, protocols: tuple[ProtocolName, ...], memory: ProtocolMemory, ctx: Context
) -> Flow[EmbeddingTask]:
    task_id = job_id_of(task)
    for protocol in protocols[:-1]:
        try:
            found = yield from fetch(_KINDS[protocol], task_id, ctx)
        except NotFoundError:
            continue
        memory.remember(task_id, protocol)
        return found
    found = yield from fetch(_KINDS[protocols[-1]], task_id, ctx)
    memory.remember(task_id, protocols[-1])
    return found


def _locator(memory: ProtocolMemory) -> Callable[[str, Context], Flow[Job]]:
    def locate(task_id: str, ctx: Context) -> Flow[Job]:
        found = yield from _locate(task_id, memory.candidates(task_id, None), memory, ctx)
        return found

    return locate


def _retrieve(
    task: TaskRef, model_name: str | None, memory: ProtocolMemory, ctx: Context
) -> Flow[EmbeddingTask]:
    found = yield from _locate(task, memory.candidates(task, model_name), memory, ctx)
    return found


def _wait(
    task: TaskRef, memory: ProtocolMemory, ctx: Context, **options: Any
) -> Flow[EmbeddingTask]:
    memory.learn(task)  # a task from elsewhere is then polled without probing
    done: EmbeddingTask = yield from wait(task, ctx, locate=_locator(memory), **options)
    return done


def _wait_for_done(
    task: TaskRef, memory: ProtocolMemory, ctx: Context, **options: Any
) -> Flow[EmbeddingTask]:
    if not isinstance(task, EmbeddingTask):
        task = yield from _retrieve(task, None, memory, ctx)
    done: EmbeddingTask = yield from wait_for_done(task, ctx, **options)
    return done


class EmbedWaitMany(WaitMany):
    """The engine's :class:`~tl_integrations._engine.WaitMany`, with this resource's memory.

    Ids whose protocol the resource knows join as tasks of that protocol (see
    :meth:`ProtocolMemory.stand_in`), whether given at the start or added later, so that
    they are listed with their protocol's other tasks from the first round on.

    Example:
        >>> from tl_integrations import PollPolicy, RetryPolicy
        >>> memory = ProtocolMemory(); memory.remember("t1", "v2")
        >>> waiting = EmbedWaitMany(["t1"], Context(RetryPolicy(), PollPolicy(), clock=float),
        ...                         memory=memory)
        >>> waiting.pending_ids()
        ['t1']
    """

    def __init__(
        self, refs: Iterable[TaskRef], ctx: Context, *, memory: ProtocolMemory, **options: Any
    ) -> None:
        self._memory = memory  # before super().__init__, which adds the first tasks
        super().__init__(refs, ctx, locate=_locator(memory), **options)

    def add(self, *refs: Job | str) -> None:
        """Let tasks (or ids) join the wait (thread-safe)."""
        stand_ins = (
            self._memory.stand_in(r) if isinstance(r, (str, EmbeddingTask)) else r for r in refs
        )
        super().add(*stand_ins)


def _vectors(
    task: TaskRef,
    options: Any,
    model_name: str | None,
    memory: ProtocolMemory,
    ctx: Context,
) -> Flow[VideoEmbedding]:
    protocols = memory.candidates(task, model_name, options)
    if isinstance(task, EmbeddingTask) and task.protocol in protocols:
        kept = task.__dict__.get("_vectors")
        if isinstance(kept, VideoEmbedding):
            return _select(kept, options, task.protocol)
    task_id = job_id_of(task)
    for protocol in protocols:
        wanted = normalize_options(options, model=_PROTOCOL_MODEL[protocol])
        params = {"embedding_option": list(wanted)} if protocol == "v1" and wanted else None
        path = wire.retrieve_path(protocol, path_segment(task_id, "task_id"))
        try:
            reply = yield from send(Request("GET", path, params=params), ctx)
        except NotFoundError:
            if protocol == protocols[-1]:
                raise
            continue
        memory.remember(task_id, protocol)
        doc = as_object(reply.json(), "embedding task")
        fresh = parse_task(doc, protocol=protocol, task_id=task_id)
        _check_ready(fresh)
        return _select(_decode_vectors(doc, fresh), options, protocol)
    raise AssertionError("unreachable")  # pragma: no cover


def _check_ready(task: EmbeddingTask) -> None:
    if task.failed:
        raise task.kind.failure(task)
    if not task.ready:
        raise InvalidRequestError(
            f"embedding task {task.id} is still {task.status!r}; "
            f"wait for it first: client.embed.tasks.wait({task.id!r})"
        )


def _select(video: VideoEmbedding, options: Any, protocol: ProtocolName) -> VideoEmbedding:
    # Embed v1 filters on the server; v2 always sends every option, so filter here.
    wanted = normalize_options(options, model=_PROTOCOL_MODEL[protocol])
    return video if wanted is None or protocol == "v1" else video.select(option=wanted)


def _timestamp(value: str | datetime | None, *, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        # RFC 3339 needs an offset: a naive datetime is local time (as Python reads it).
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    raise InvalidRequestError(f"{name} must be an RFC 3339 string or a datetime, got {value!r}")


def _list(
    protocols: tuple[ProtocolName, ...],
    params: dict[str, Any],
    memory: ProtocolMemory,
    ctx: Context,
) -> Flow[None]:
    for protocol in protocols:
        kind = _KINDS[protocol]

        def parse(item: Any, kind: EmbeddingTasks = kind) -> EmbeddingTask:
            task = kind.parse_item(item, kind.protocol)._bind(ctx.owner)
            memory.remember(task.id, kind.protocol)
            return task

        yield from pages(
            Request("GET", wire.list_path(protocol), params=params),
            ctx,
            "embedding task list",
            parse,
        )


def _list_params(
    *,
    status: str | None,
    started_at: str | datetime | None,
    ended_at: str | datetime | None,
    page_limit: int,
) -> dict[str, Any]:
    if (
        isinstance(page_limit, bool)
        or not isinstance(page_limit, int)
        or not (1 <= page_limit <= PAGE_LIMIT_MAX)
    ):
        raise InvalidRequestError(f"page_limit must be 1 to {PAGE_LIMIT_MAX}, got {page_limit!r}")
    return {
        "page_limit": page_limit,
        "status": status,
        "started_at": _timestamp(started_at, name="started_at"),
        "ended_at": _timestamp(ended_at, name="ended_at"),
    }


def _list_protocols(model_name: str | None) -> tuple[ProtocolName, ...]:
    return ("v2", "v1") if model_name is None else (resolve_model(model_name).protocol,)


def _create(creation: EmbedCreation, memory: ProtocolMemory, ctx: Context) -> Flow[EmbeddingTask]:
    task = yield from creation.run(ctx)
    memory.remember(task.id, task.protocol)
    return task


def _create_and_wait(
    creation: EmbedCreation, memory: ProtocolMemory, ctx: Context, **options: Any
) -> Flow[EmbeddingTask]:
    task = yield from _create(creation, memory, ctx)
    done: EmbeddingTask = yield from wait(task, ctx, **options)
    return done


def _video(
    creation: EmbedCreation, options: Any, memory: ProtocolMemory, ctx: Context, **waiting: Any
) -> Flow[VideoEmbedding]:
    task = yield from _create_and_wait(creation, memory, ctx, **waiting)
    video = yield from _vectors(task, options, None, memory, ctx)
    return video


def _video_creation(
    video: VideoSource,
    log: CreateLog,
    *,
    model_name: str,
    clip_length_s: float,
    options: str | Iterable[str] | None,
    scopes: str | Iterable[str] | None,
    start_s: float | None,
    end_s: float | None,
) -> EmbedCreation:
    source: dict[str, Any]
    if isinstance(video, str) and _is_url(video):
        source = {"video_url": video}
    else:
        source = {"video_file": video}
    req = validate_video_task(
        model_name=model_name,
        video_clip_length=clip_length_s,
        video_start_offset_sec=start_s,
        video_end_offset_sec=end_s,
        video_embedding_scope=scopes,
        embedding_options=options,
        **source,
    )
    return EmbedCreation(req, log)


def _is_url(value: str) -> bool:
    head, sep, _ = value.partition("://")
    return (
        bool(sep)
        and head.isascii()
        and head.replace("+", "").replace(".", "").replace("-", "").isalnum()
    )


# --- texts --------------------------------------------------------------------------------


def _text_request(text: str, model: ModelSpec) -> Request:
    path = wire.text_path(model.protocol)
    if model.protocol == "v1":
        form = wire.v1_text_form(text, model=model)
        # files={} makes the form multipart, the only encoding /embed accepts.
        return Request("POST", path, form=form, files={}, retry="always")
    return Request("POST", path, json=wire.v2_text_body(text, model=model), retry="always")


def _text(text: str, model: ModelSpec, ctx: Context) -> Flow[NDArray[np.float32]]:
    reply = yield from send(_text_request(text, model), ctx)
    decode = decode_text_v1 if model.protocol == "v1" else decode_text_v2
    return decode(reply.content)


def _texts(
    texts: list[str], model: ModelSpec, limit: int, ctx: Context
) -> Flow[NDArray[np.float32]]:
    factories = [lambda text=text: _text(text, model, ctx) for text in texts]
    vectors: list[NDArray[np.float32]] = yield Gather(factories, limit=limit)
    if not vectors:
        return np.zeros((0, model.dim), dtype=np.float32)
    return np.stack(vectors)


def _check_texts(texts: Sequence[str], max_concurrency: int) -> list[str]:
    if isinstance(texts, str):
        raise InvalidRequestError("texts must be a list of strings; for one text use text()")
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise InvalidRequestError(f"max_concurrency must be an int, got {max_concurrency!r}")
    if max_concurrency < 1:
        raise InvalidRequestError(f"max_concurrency must be >= 1, got {max_concurrency}")
    return [check_text(text) for text in texts]


# --- resources ----------------------------------------------------------------------------


class EmbedTasks(JobResource[EmbeddingTask]):
    """``client.embed.tasks`` (alias ``client.embed.task``): video embedding tasks.

    Example:
        >>> task = client.embed.tasks.create(model_name="marengo3.0",
        ...                                  video_file="talk.mp4")  # doctest: +SKIP
        >>> task = client.embed.tasks.wait(task, timeout_s=600)  # doctest: +SKIP
        >>> client.embed.tasks.vectors(task).vectors.shape  # doctest: +SKIP
        (24, 512)
    """

    def __init__(self, client: TwelveLabs) -> None:
        super().__init__(client)
        self._memory = ProtocolMemory()
        self._log = CreateLog()

    def _locator(self) -> Locate:
        return _locator(self._memory)

    def _waiter(self, jobs: Iterable[Job | str], **options: Any) -> WaitMany:
        return EmbedWaitMany(jobs, self._ctx, memory=self._memory, **options)

    def _known(self, job: str | Job) -> None:
        self._memory.learn(job)  # a task from elsewhere is then polled without probing

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
        Marengo 2.7 (up to 2 GB); Marengo 3.0 takes local files up to 36 MB inline. A
        create whose answer is lost is found again rather than paid twice (see the module).

        Args:
            model_name: ``"marengo3.0"`` (512-d, Embed v2) or ``"Marengo-retrieval-2.7"``
                (1024-d, Embed v1).
            video_file: a path or an open binary file.
            video_url: a URL to the raw video bytes (instead of ``video_file``).
            video_clip_length: seconds per clip, 2 to 10 (default 6).
            video_start_offset_sec / video_end_offset_sec: embed only this range.
            video_embedding_scope: ``"clip"`` and/or ``"video"`` (alias ``"asset"``).
            embedding_options: options to compute (Marengo 3.0: visual, audio,
                transcription; Marengo 2.7 computes all and filters when read).

        Raises:
            InvalidRequestError / InvalidVideoError: a parameter or the file is refused.
            ServerError / APIConnectionError: past the retry budget, or when a task the
                server may have stored cannot be told apart from others (nothing re-sent).

        Example:
            >>> client.embed.tasks.create(model_name="Marengo-retrieval-2.7",
            ...                           video_file="talk.mp4").status  # doctest: +SKIP
            'processing'
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
        flow = _create(EmbedCreation(req, self._log), self._memory, self._ctx)
        return self._client._run(flow)

    def retrieve(self, task: TaskRef, *, model_name: str | None = None) -> EmbeddingTask:
        """Fetch a task's current state (its vectors come from :meth:`vectors`).

        Example:
            >>> client.embed.tasks.retrieve(task_id).status  # doctest: +SKIP
            'processing'
        """
        return self._client._run(_retrieve(task, model_name, self._memory, self._ctx))

    def vectors(
        self,
        task: TaskRef,
        *,
        embedding_options: str | Iterable[str] | None = None,
        model_name: str | None = None,
    ) -> VideoEmbedding:
        """A ready task's segment vectors as a :class:`VideoEmbedding`.

        An Embed v2 task returned by :meth:`wait`, :meth:`wait_many` or
        :meth:`create_and_wait` already carries them (no request). Embed v1 filters the
        options on the server; Embed v2 sends them all and they are filtered here.

        Args:
            task: the task or its id.
            embedding_options: options to keep (None: all of them).
            model_name: the task's model, when known (spares a lookup of an unseen id).

        Raises:
            TaskFailedError: the task failed.
            InvalidRequestError: the task is still processing (call :meth:`wait` first).

        Example:
            >>> client.embed.tasks.vectors(task, embedding_options=["audio"])  # doctest: +SKIP
        """
        flow = _vectors(task, embedding_options, model_name, self._memory, self._ctx)
        return self._client._run(flow)

    def list(
        self,
        *,
        model_name: str | None = None,
        status: str | None = None,
        started_at: str | datetime | None = None,
        ended_at: str | datetime | None = None,
        page_limit: int = PAGE_LIMIT_MAX,
    ) -> Iterator[EmbeddingTask]:
        """Iterate over embedding tasks (the API keeps 7 days), every page, newest first.

        Without ``model_name`` both APIs are listed (Embed v2, then v1).

        Example:
            >>> [t.id for t in client.embed.tasks.list(status="ready")]  # doctest: +SKIP
        """
        params = _list_params(
            status=status, started_at=started_at, ended_at=ended_at, page_limit=page_limit
        )
        flow = _list(_list_protocols(model_name), params, self._memory, self._ctx)
        return self._client._iterate(flow)

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
        creation = EmbedCreation(req, self._log)
        flow = _create_and_wait(
            creation, self._memory, self._ctx, timeout_s=timeout_s, on_update=on_update
        )
        return self._client._run(flow)


class AsyncEmbedTasks(AsyncJobResource):
    """``client.embed.tasks`` of :class:`~tl_integrations.AsyncTwelveLabs` (same, awaited).

    Example:
        >>> task = await client.embed.tasks.create(model_name="marengo3.0",
        ...                                        video_url=url)  # doctest: +SKIP
    """

    def __init__(self, client: AsyncTwelveLabs) -> None:
        super().__init__(client)
        self._memory = ProtocolMemory()
        self._log = CreateLog()

    _locator = EmbedTasks._locator
    _waiter = EmbedTasks._waiter
    _known = EmbedTasks._known

    create = awaited(EmbedTasks.create)
    retrieve = awaited(EmbedTasks.retrieve)
    vectors = awaited(EmbedTasks.vectors)
    list = streamed(EmbedTasks.list)
    wait = awaited(EmbedTasks.wait)
    wait_many = waited(EmbedTasks.wait_many)
    wait_for_done = awaited(EmbedTasks.wait_for_done)
    create_and_wait = awaited(EmbedTasks.create_and_wait)


class Embed(Resource):
    """``client.embed``: text vectors, and a whole video's segment vectors in one call.

    Attributes:
        tasks: video embedding tasks (:class:`EmbedTasks`); ``task`` is an alias.

    Example:
        >>> query = client.embed.text("a red car", model_name="marengo3.0")  # doctest: +SKIP
        >>> ve = client.embed.video("talk.mp4", model_name="marengo3.0")  # doctest: +SKIP
        >>> scores = ve.vectors @ query  # doctest: +SKIP
    """

    def __init__(self, client: TwelveLabs) -> None:
        super().__init__(client)
        self.tasks = EmbedTasks(client)
        self.task = self.tasks

    def text(self, text: str, *, model_name: str) -> NDArray[np.float32]:
        """Embed one text; returns a float32 vector ``(dim,)`` in the model's video space.

        Raises:
            InvalidRequestError: blank text or unknown model.

        Example:
            >>> client.embed.text("a red car", model_name="marengo3.0").shape  # doctest: +SKIP
            (512,)
        """
        return self._client._run(_text(check_text(text), resolve_model(model_name), self._ctx))

    def texts(
        self,
        texts: Sequence[str],
        *,
        model_name: str,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> NDArray[np.float32]:
        """Embed many texts, ``max_concurrency`` requests at a time; returns ``(n, dim)``.

        Rows keep the order of ``texts``. All texts are checked before the first request;
        the first error stops what has not started yet and is raised.

        Example:
            >>> client.embed.texts(["cat", "dog"], model_name="marengo3.0").shape  # doctest: +SKIP
            (2, 512)
        """
        checked = _check_texts(texts, max_concurrency)
        flow = _texts(checked, resolve_model(model_name), max_concurrency, self._ctx)
        return self._client._run(flow)

    def video(
        self,
        video: VideoSource,
        *,
        model_name: str = "marengo3.0",
        clip_length_s: float = CLIP_LENGTH_DEFAULT_S,
        options: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = ("clip",),
        start_s: float | None = None,
        end_s: float | None = None,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> VideoEmbedding:
        """Embed one video: create the task, wait for it, and return its vectors.

        Args:
            video: a local path, an open binary file, or a URL to the raw media.
            model_name: ``"marengo3.0"`` (512-d) or ``"Marengo-retrieval-2.7"`` (1024-d).
            clip_length_s: seconds per clip (2 to 10).
            options: options to keep (None: all the model has).
            scopes: ``"clip"`` and/or ``"video"`` (alias ``"asset"``).
            start_s / end_s: embed only this range of the video, in seconds.
            timeout_s: give up waiting after this many seconds (the task keeps running).
            on_update: called with the task whenever its status changes.

        Raises:
            InvalidRequestError / InvalidVideoError: refused before upload.
            TaskFailedError / TaskTimeoutError: as :meth:`EmbedTasks.wait`.

        Example:
            >>> ve = client.embed.video("talk.mp4", clip_length_s=4)  # doctest: +SKIP
        """
        creation = _video_creation(
            video,
            self.tasks._log,
            model_name=model_name,
            clip_length_s=clip_length_s,
            options=options,
            scopes=scopes,
            start_s=start_s,
            end_s=end_s,
        )
        memory = self.tasks._memory
        flow = _video(
            creation, options, memory, self._ctx, timeout_s=timeout_s, on_update=on_update
        )
        return self._client._run(flow)


class AsyncEmbed(AsyncResource):
    """``client.embed`` of :class:`~tl_integrations.AsyncTwelveLabs` (same methods, awaited).

    Example:
        >>> vector = await client.embed.text("a red car", model_name="marengo3.0")  # doctest: +SKIP
    """

    def __init__(self, client: AsyncTwelveLabs) -> None:
        super().__init__(client)
        self.tasks = AsyncEmbedTasks(client)
        self.task = self.tasks

    text = awaited(Embed.text)
    texts = awaited(Embed.texts)
    video = awaited(Embed.video)
