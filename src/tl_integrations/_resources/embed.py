"""Embeddings: ``client.embed`` (texts, one-call media helpers, ``multi``) and
``client.embed.tasks``.

One interface over two protocols: the model name picks it (``Marengo-retrieval-2.7`` speaks
Embed v1; ``marengo3.0`` and ``marengo3.5`` Embed v2), and a task id this client has not
seen is looked for in v2, then v1 (:class:`ProtocolMemory` remembers where each id it met
lives). Both protocols are task kinds of the engine (:data:`V1_TASKS`, :data:`V2_TASKS`):
waiting for one or for thousands is the engine's. A ready Embed v2 task is read whole,
vectors included, so the read that sees it finish also brings its vectors: they are kept on
the task and :meth:`EmbedTasks.vectors` sends nothing more.

Media: a URL or an asset is referenced as it is. A local file goes up as an asset
(``client.assets.upload``: de-duplicated by SHA-256, multipart and resumable above 64 MB,
any size the API takes) and the task reads ``asset_id``; the one-call helpers
(``video``, ``audio``, ``document``) delete an asset they made once its vectors are read,
unless ``keep_asset=True``, and never one they found by its bytes. An open file object is
sent inline (base64, up to 36 MB); Embed v1 streams the file in the create itself. Images
and ``multi`` use the synchronous endpoint (one request; local files inline, up to 32 MB).

Never paying twice: ``POST /embed/tasks`` and ``POST /embed-v2/tasks`` carry no client
token, so after a 5xx, a timeout or a dropped connection (the request may have been stored)
:class:`EmbedCreation` lists the newest tasks of the protocol (one page of 50) and adopts
this create's own before sending again:

* **named** creates (a URL, an asset, a local file on Embed v1): the newest task with the
  same model, input type, ``input_url`` / ``input_filename`` and clip length, created since
  the create began (the server's ``Date`` against ``created_at``) and not already returned
  by this resource;
* **anonymous** creates (an open file sent inline: the server knows no file name): adopted
  only when exactly one unclaimed task of the model and clip length without ``input_url``
  was created within ``ANONYMOUS_MARGIN_S`` of the upload, and no other create of this
  resource ran at any time during this one (:class:`CreateLog`). Otherwise the error is
  raised rather than risk another file's vectors.

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
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
import orjson
from numpy.typing import NDArray

from .._embed import wire
from .._embed.decode import decode_text_v1, decode_text_v2, media_from_v1, media_from_v2
from .._embed.params import (
    MODELS,
    SDK_SPELLING,
    MediaInput,
    MediaRef,
    ModelSpec,
    MultiRequest,
    ProtocolName,
    TaskRequest,
    VideoSource,
    check_dimension,
    check_text,
    media_ref,
    protocol_options,
    resolve_model,
    untyped_assets,
    validate_multi,
    validate_task,
    validate_video_task,
)
from .._embed.vectors import EmbeddingDecodeError, MediaEmbedding
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
    NotFoundError,
    TaskTimeoutError,
    TwelveLabsError,
    check_int,
)
from .._flows import Call, Context, Flow, Gather
from .._paging import PAGE_LIMIT_MAX, pages
from .._polling import check_timeout
from .._transport import Reply, Request, path_segment, send, server_now
from .._wire import as_object
from . import AsyncJobResource, AsyncResource, JobResource, Resource, awaited, streamed
from .assets import ASSETS, Asset, Uploader, delete_asset
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
T = TypeVar("T")

DEFAULT_MAX_CONCURRENCY = 8
"""Text embedding requests in flight at once, by default (``texts``, the adapters)."""
# Slack for an anonymous match: the Date header has 1 s resolution; anything wider would let
# a task created just before this upload (by another program) pass for it.
ANONYMOUS_MARGIN_S = 2.0
# How many created/seen task ids remember their protocol or their claim.
_REMEMBERED = 4096
# The model a task of each protocol is, when nothing says otherwise.
_PROTOCOL_MODEL: dict[ProtocolName, ModelSpec] = {
    "v1": MODELS["Marengo-retrieval-2.7"],
    "v2": MODELS["marengo3.0"],
}
_INPUT_KEYS = ("video", "audio", "image", "document")

OnUpdate = Callable[["EmbeddingTask"], object]


@dataclass(eq=False)
class EmbeddingTask(Job):
    """An embedding task (Embed v1 or v2; the caller need not care which).

    Attributes:
        id: the task id.
        model_name: the model computing the vectors.
        status: ``processing``, ``ready`` or ``failed`` (an unknown value counts as running).
        media_duration_s: the media's duration in seconds, when known.
        reason: why the task failed, when the server said.
        protocol: ``"v1"`` or ``"v2"``, the Embed API the task lives in (built by hand with
            only ``model_name="Marengo-retrieval-2.7"``, it is ``"v1"``: no other serves it).
        input_type: ``video``, ``audio``, ``image`` or ``document``, when known.
        asset_id: the asset the task reads, when this client named or made one (an asset
            made for a local file by :meth:`EmbedTasks.create` is yours to delete).
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
    input_type: str | None = None
    asset_id: str | None = None

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
        """The media's duration in seconds, when known (spaces out polls)."""
        return self.media_duration_s

    @property
    def failure_reason(self) -> str | None:
        """Why the task failed, when the server said."""
        return self.reason

    def update_from(self, other: Job) -> None:
        """Copy a fresher view of this task (keeping vectors it already carries, and the
        model it is known to run: a retrieved v2 task does not name its model)."""
        known = self.model_name
        super().update_from(other)
        if known and "model_name" not in other.raw:
            self.model_name = known
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


def _listed_metadata(doc: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any] | None]:
    """The input type and metadata of a task: ``metadata`` (retrieve) or
    ``<type>_embedding.metadata`` (list items, and Embed v1)."""
    meta = doc.get("metadata")
    if isinstance(meta, Mapping):
        kind = meta.get("input_type")
        return (kind if isinstance(kind, str) else None), meta
    for key in _INPUT_KEYS:
        block = doc.get(f"{key}_embedding")
        if isinstance(block, Mapping):
            inner = block.get("metadata")
            return key, inner if isinstance(inner, Mapping) else None
    return None, None


def _duration(meta: Mapping[str, Any] | None) -> float | None:
    value = meta.get("duration") if meta is not None else None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _model_of(doc: Mapping[str, Any], meta: Mapping[str, Any] | None, protocol: str) -> str | None:
    named = _opt_str(doc.get("model_name"))
    if named or protocol != "v2":
        return named
    # A retrieved v2 task does not name its model; only Marengo 3.5 reports a dimension
    # or token usage, so they tell it apart from 3.0.
    if doc.get("usage") is not None or (meta is not None and "embedding_dimension" in meta):
        return "marengo3.5"
    return None


def parse_task(
    doc: Mapping[str, Any],
    *,
    protocol: ProtocolName,
    model_name: str | None = None,
    task_id: str | None = None,
) -> EmbeddingTask:
    """Build an :class:`EmbeddingTask` from a task object of either protocol.

    Tolerant: unknown fields are kept in ``raw``; a missing status reads ``processing``;
    a missing model is ``model_name``, else what the object shows (Marengo 3.5 reports a
    dimension), else the protocol's first model.

    Raises:
        EmbeddingDecodeError: the object has no ``_id`` and none was given.

    Example:
        >>> parse_task({"_id": "t", "status": "failed", "error": {"message": "broken"}},
        ...            protocol="v2").reason
        'broken'
        >>> parse_task({"_id": "t", "metadata": {"input_type": "audio",
        ...             "embedding_dimension": 256}}, protocol="v2").model_name
        'marengo3.5'
    """
    found_id = _opt_str(doc.get("_id")) or _opt_str(doc.get("id")) or task_id
    if not found_id:
        raise EmbeddingDecodeError(f"the server's task object has no _id: {dict(doc)!r:.200}")
    kind, meta = _listed_metadata(doc)
    model = (
        _model_of(doc, meta, protocol)
        if _opt_str(doc.get("model_name"))
        else model_name or _model_of(doc, meta, protocol)
    )
    return EmbeddingTask(
        id=found_id,
        status=_opt_str(doc.get("status")) or "processing",
        model_name=model or _PROTOCOL_MODEL[protocol].name,
        created_at=_opt_str(doc.get("created_at")),
        updated_at=_opt_str(doc.get("updated_at")),
        media_duration_s=_duration(meta),
        reason=_reason(doc),
        protocol=protocol,
        input_type=kind or ("video" if protocol == "v1" else None),
        raw={key: value for key, value in doc.items() if key != "data"},
    )


def _decode_vectors(doc: Mapping[str, Any], task: EmbeddingTask) -> MediaEmbedding:
    spec = MODELS.get(task.model_name, _PROTOCOL_MODEL[task.protocol])
    if task.protocol == "v1":
        return media_from_v1(doc, task_id=task.id, model_name=spec.name, dim_hint=spec.dim)
    _, meta = _listed_metadata(doc)
    dim = meta.get("embedding_dimension") if meta is not None else None
    return media_from_v2(
        doc,
        task_id=task.id,
        model_name=spec.name,
        dim_hint=dim if isinstance(dim, int) and not isinstance(dim, bool) else spec.dim,
        input_type=task.input_type,
    )


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
        task = parse_task(
            doc,
            protocol=self.protocol,
            # A retrieved v2 task does not name its model: the one we know is kept.
            model_name=like.model_name if like is not None and like.model_name else None,
            task_id=like.id if like else None,
        )
        if like is not None and task.input_type is None:
            task.input_type = like.input_type
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
    clip_length_s: float | None
    input_url: str | None
    input_filename: str | None
    label: str = "video"  # for log lines: the local file name, never a (maybe signed) URL
    input_type: str = "video"

    @classmethod
    def of(cls, req: TaskRequest, *, asset_filename: str | None = None) -> CreateIdentity:
        """The identity of a checked request (an inline file goes without its name; an
        asset is named by its file name, which the task's listing shows)."""
        ref = req.source
        named_file = ref.kind in ("path", "stream") and req.model.protocol == "v1"
        return cls(
            protocol=req.model.protocol,
            model_name=req.model.name,
            clip_length_s=None if req.clip_length_s is None else float(req.clip_length_s),
            input_url=ref.url,
            input_filename=asset_filename or (ref.filename if named_file else None),
            label=ref.shown,
            input_type=req.input_type,
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
        block = task.raw.get(f"{self.input_type}_embedding")
        meta = block.get("metadata") if isinstance(block, Mapping) else None
        if task.model_name != self.model_name or not isinstance(meta, Mapping):
            return False
        clip = meta.get(f"{self.input_type}_clip_length", meta.get("clip_length"))
        if (
            self.clip_length_s is not None
            and isinstance(clip, (int, float))
            and abs(float(clip) - self.clip_length_s) > 1e-6
        ):
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


def _read_base64(ref: MediaRef) -> str:
    """A local file or an open file, base64-encoded (sizes were checked before)."""
    if ref.kind == "path":
        assert ref.path is not None
        return base64.b64encode(ref.path.read_bytes()).decode("ascii")
    assert ref.stream is not None
    handle = ref.stream
    if handle.seekable():
        handle.seek(0)
    return base64.b64encode(handle.read()).decode("ascii")


class EmbedCreation(Creation[EmbeddingTask]):
    """One ``POST /embed/tasks`` or ``POST /embed-v2/tasks``, checked before any upload.

    Run it with :meth:`run`: the resource's :class:`CreateLog` then knows whether another
    create overlapped this one at any time, which an anonymous upload needs to know.

    Args:
        req: the checked request.
        log: the resource's creates.
        source: the Embed v2 ``media_source`` (None: made from ``req``, reading an open
            file inline).
        asset: the asset the task reads (names the create in a listing), if any.

    Example:
        >>> req = validate_video_task(model_name="marengo3.0", video_url="https://x/a.mp4")
        >>> EmbedCreation(req, CreateLog()).request.path
        '/embed-v2/tasks'
    """

    def __init__(
        self,
        req: TaskRequest,
        log: CreateLog,
        *,
        source: dict[str, str] | None = None,
        asset: Asset | None = None,
    ) -> None:
        self.req = req
        self.ident = CreateIdentity.of(req, asset_filename=asset.filename if asset else None)
        self.log = log
        self.asset_id = asset.id if asset is not None else req.source.asset_id
        self._ticket: tuple[int, bool] | None = None
        path = wire.create_path(req.model.protocol)
        if req.model.protocol == "v2":
            body = wire.v2_task_body(req, source or _source_of(req.source))
            request = Request("POST", path, json=body)
        else:
            files = {"video_file": req.file} if req.file is not None else {}
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
        task.asset_id = self.asset_id
        task.input_type = task.input_type or self.req.input_type
        return task

    def created(self, reply: Reply) -> EmbeddingTask:
        """The task in the create's answer, claimed so no later create adopts it."""
        doc = as_object(reply.json(), "created task")
        task = parse_task(doc, protocol=self.ident.protocol, model_name=self.ident.model_name)
        task.model_name = self.ident.model_name
        task.input_type = self.req.input_type
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


def _source_of(ref: MediaRef) -> dict[str, str]:
    """The ``media_source`` of a URL, an asset or an open file (read inline)."""
    if ref.kind == "url":
        return wire.media_source(url=ref.url)
    if ref.kind == "asset":
        return wire.media_source(asset_id=ref.asset_id)
    if ref.kind == "stream":
        return wire.media_source(base64_string=_read_base64(ref))
    raise AssertionError("a local path goes up as an asset first")  # pragma: no cover


# --- planning: check now, or after the lookup of an asset ------------------------------------


@dataclass(frozen=True)
class TaskPlan:
    """A task to create: checked now, or (an asset named only by its id) once the asset's
    type is known, still before the create is sent.

    Example:
        >>> plan = TaskPlan.of(resolve_model("marengo3.5"), "6711a0c2e4a1b37f8a9c5d00", {})
        >>> plan.req is None, plan.source.asset_id
        (True, '6711a0c2e4a1b37f8a9c5d00')
    """

    model: ModelSpec
    source: MediaRef
    options: Mapping[str, Any]
    req: TaskRequest | None

    @classmethod
    def of(cls, model: ModelSpec, media: MediaInput, options: Mapping[str, Any]) -> TaskPlan:
        """Check what can be checked now (everything, unless an asset's type is unknown)."""
        source = media if isinstance(media, MediaRef) else media_ref(media)
        input_type = options.get("input_type")
        _check_timed_media(source, input_type)
        unknown = source.kind == "asset" and (
            (input_type is None and source.media_type is None)
            or (input_type == "document" and source.filename is None)
        )
        req = None if unknown else validate_task(model, source, options)
        return cls(model, source, dict(options), req)

    def resolve(self, asset: Asset) -> TaskRequest:
        """The checked request, now that the asset (and so its type) is known.

        Raises:
            InvalidRequestError: a rule the asset's type breaks, or an asset not ready.
        """
        _check_asset_ready(asset)
        ref = media_ref(asset)
        return validate_task(self.model, ref, self.options)


def _check_timed_media(source: MediaRef, input_type: Any) -> None:
    """A video or audio embedding of what its name says is another kind (``notes.txt``),
    refused before it is uploaded."""
    kind = source.media_type
    never = {"video": ("image", "document", "audio"), "audio": ("image", "document")}
    if kind is not None and kind in never.get(str(input_type), ()):
        raise InvalidRequestError(
            f"{source.shown} is {kind}, not {input_type}; use client.embed.{kind}()"
        )


def _check_asset_ready(asset: Asset) -> None:
    if not asset.ready:
        raise InvalidRequestError(
            f"asset {asset.id} is {asset.status}; embeddings read ready assets only: "
            f"client.assets.wait({asset.id!r})"
            + (f" (it failed: {asset.failure_reason})" if asset.failed else "")
        )


@dataclass
class Started:
    """A created task, and the asset made for it (None: nothing to clean up).

    Example:
        >>> Started(EmbeddingTask("t", "processing"), None).made_asset_id is None
        True
    """

    task: EmbeddingTask
    made_asset_id: str | None


def _start(
    plan: TaskPlan,
    log: CreateLog,
    memory: ProtocolMemory,
    uploads: Uploader,
    ctx: Context,
    *,
    timeout_s: float | None = None,
) -> Flow[Started]:
    """Create the task: look up an asset's type, upload a local file as an asset (the
    request is checked before either), then send the create."""
    req = plan.req
    if req is None:
        assert plan.source.asset_id is not None
        found: Asset = yield from fetch(ASSETS, plan.source.asset_id, ctx)
        req = plan.resolve(found)
    asset: Asset | None = None
    made: str | None = None
    if req.model.protocol == "v2" and req.source.kind == "path":
        assert req.source.path is not None
        asset = yield from uploads.upload(req.source.path, ctx, timeout_s=timeout_s)
        made = None if asset.reused else asset.id
        source: dict[str, str] | None = wire.media_source(asset_id=asset.id)
    else:
        source = None  # a URL, an asset, or an open file read inline by the creation
    creation = EmbedCreation(req, log, source=source, asset=asset)
    try:
        task = yield from creation.run(ctx)
    except TwelveLabsError:
        if made is not None:  # the asset would have no task to serve
            yield from _discard_asset(made, ctx)
        raise
    memory.remember(task.id, task.protocol)
    return Started(task, made)


def _discard_asset(asset_id: str, ctx: Context) -> Flow[None]:
    """Delete an asset made for an embedding; a failure is logged, never raised (the
    vectors, or the error being raised, matter more than the leftover)."""
    try:
        yield from delete_asset(asset_id, ctx)
    except TwelveLabsError as exc:
        logger.warning("could not delete asset %s made for an embedding: %s", asset_id, exc)


def _embed_media(
    plan: TaskPlan,
    log: CreateLog,
    memory: ProtocolMemory,
    uploads: Uploader,
    ctx: Context,
    *,
    options: Any,
    keep_asset: bool,
    timeout_s: float | None,
    on_update: OnUpdate | None,
) -> Flow[MediaEmbedding]:
    """Create, wait, read the vectors; then delete the asset made for a local file."""
    started = yield from _start(plan, log, memory, uploads, ctx, timeout_s=timeout_s)
    made = None if keep_asset else started.made_asset_id
    try:
        done: EmbeddingTask = yield from wait(
            started.task, ctx, timeout_s=timeout_s, on_update=on_update
        )
        vectors = yield from _vectors(done, options, None, memory, ctx)
    except TaskTimeoutError:
        if made is not None:
            # The task still reads it: deleting it now would fail the task.
            logger.warning(
                "embedding task %s is still running: asset %s kept (delete it once the "
                "task is done: client.assets.delete(%r))",
                started.task.id,
                made,
                made,
            )
        raise
    except TwelveLabsError:
        if made is not None:
            yield from _discard_asset(made, ctx)
        raise
    if made is not None:
        yield from _discard_asset(made, ctx)
    return vectors


# --- synchronous embeddings (/embed-v2: multi_input, images) -------------------------------


def _sources_json(req: MultiRequest) -> Flow[list[dict[str, str]]]:
    found: list[dict[str, str]] = []
    for spec in req.sources:
        ref = spec.ref
        if ref.kind in ("path", "stream"):
            encoded: str = yield Call(_read_base64, (ref,), blocking=True)
            found.append(wire.media_source(base64_string=encoded))
        else:
            found.append(_source_of(ref))
    return found


def _types_of(untyped: Mapping[int, str], ctx: Context) -> Flow[dict[int, Any]]:
    """Look up assets named only by id: their media types (each must be ready)."""
    types: dict[int, Any] = {}
    for index, asset_id in untyped.items():
        asset: Asset = yield from fetch(ASSETS, asset_id, ctx)
        _check_asset_ready(asset)
        kind = media_ref(asset).media_type
        if kind is None:
            raise InvalidRequestError(f"asset {asset_id} holds {asset.file_type}: not media")
        types[index] = kind
    return types


def _multi(
    model: ModelSpec,
    text: str | None,
    media: Any,
    checks: Mapping[str, Any],
    ctx: Context,
    *,
    input_type: str = "multi_input",
    req: MultiRequest | None = None,
) -> Flow[MediaEmbedding]:
    if req is None:
        types = yield from _types_of(untyped_assets(media), ctx)
        req = validate_multi(model, text, media, media_types=types, **checks)
    sources = yield from _sources_json(req)
    body = wire.v2_multi_body(req, sources)
    reply = yield from send(Request("POST", wire.text_path("v2"), json=body, retry="always"), ctx)
    return _decode_sync(reply, model, input_type)


def _decode_sync(reply: Reply, model: ModelSpec, input_type: str) -> MediaEmbedding:
    try:
        doc = orjson.loads(reply.content)
    except orjson.JSONDecodeError as exc:
        raise EmbeddingDecodeError(f"embedding response is not valid JSON: {exc}") from exc
    doc = as_object(doc, "embedding response")
    return media_from_v2(doc, model_name=model.name, dim_hint=model.dim, input_type=input_type)


def _checked_image(req: MultiRequest) -> MultiRequest:
    kind = req.sources[0].media_type
    if kind != "image":
        raise InvalidRequestError(
            f"{req.sources[0].ref.shown} is {kind}, not an image; use client.embed.{kind}()"
        )
    return req


def _image(
    model: ModelSpec,
    image: Any,
    checks: Mapping[str, Any],
    ctx: Context,
    *,
    req: MultiRequest | None,
) -> Flow[MediaEmbedding]:
    """One image on the synchronous endpoint: ``input_type: image`` on Marengo 3.0, a
    ``multi_input`` of one source on 3.5 (the only form it takes there)."""
    if req is None:
        types = yield from _types_of(untyped_assets([image]), ctx)
        req = _checked_image(
            validate_multi(model, None, [image], media_types={0: "image", **types}, **checks)
        )
    sources = yield from _sources_json(req)
    if model.sync_single:
        body = wire.v2_image_body(model, sources[0])
    else:
        body = wire.v2_multi_body(req, sources)
    reply = yield from send(Request("POST", wire.text_path("v2"), json=body, retry="always"), ctx)
    return _decode_sync(reply, model, "image")


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
            _wanted(options, found[0])  # raises, naming the options there are
        return fitting


def _wanted(options: Any, protocol: ProtocolName) -> tuple[str, ...] | None:
    """Options to keep when reading vectors (None: all), checked against every option a
    model of ``protocol`` makes (the task's own model may not be known yet).

    Raises:
        InvalidRequestError: an option no model of the protocol makes.
    """
    if options is None:
        return None
    items = [options] if isinstance(options, str) else list(options)
    if not items or not all(isinstance(o, str) for o in items):
        raise InvalidRequestError(f"embedding options must be a list of strings, got {options!r}")
    wanted = tuple(dict.fromkeys(o.strip().lower() for o in items))
    known = protocol_options(protocol)
    bad = [o for o in wanted if o not in known]
    if bad:
        raise InvalidRequestError(
            f"embedding option(s) {bad} not available for Embed {protocol}; use {', '.join(known)}"
        )
    return wanted


def _options_fit(options: Any, protocol: ProtocolName) -> bool:
    try:
        _wanted(options, protocol)
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
) -> Flow[MediaEmbedding]:
    protocols = memory.candidates(task, model_name, options)
    if isinstance(task, EmbeddingTask) and task.protocol in protocols:
        kept = task.__dict__.get("_vectors")
        if isinstance(kept, MediaEmbedding):
            if task.model_name and kept.model_name != task.model_name:
                # Decoded by a read that could only guess the model; the task knows it.
                kept = replace(kept, model_name=task.model_name)
            return _select(kept, options, task.protocol)
    task_id = job_id_of(task)
    for protocol in protocols:
        wanted = _wanted(options, protocol)
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
        known = task.model_name if isinstance(task, EmbeddingTask) else model_name
        fresh = parse_task(doc, protocol=protocol, model_name=known, task_id=task_id)
        if isinstance(task, EmbeddingTask) and fresh.input_type is None:
            fresh.input_type = task.input_type
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


def _select(media: MediaEmbedding, options: Any, protocol: ProtocolName) -> MediaEmbedding:
    # Embed v1 filters on the server; v2 always sends every option, so filter here.
    wanted = _wanted(options, protocol)
    return media if wanted is None or protocol == "v1" else media.select(option=wanted)


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


def _create(
    plan: TaskPlan, log: CreateLog, memory: ProtocolMemory, uploads: Uploader, ctx: Context
) -> Flow[EmbeddingTask]:
    started = yield from _start(plan, log, memory, uploads, ctx)
    return started.task


def _create_and_wait(
    plan: TaskPlan,
    log: CreateLog,
    memory: ProtocolMemory,
    uploads: Uploader,
    ctx: Context,
    **options: Any,
) -> Flow[EmbeddingTask]:
    task = yield from _create(plan, log, memory, uploads, ctx)
    done: EmbeddingTask = yield from wait(task, ctx, **options)
    return done


# --- texts --------------------------------------------------------------------------------


def _text_request(text: str, model: ModelSpec, dimension: int | None) -> Request:
    path = wire.text_path(model.protocol)
    if model.protocol == "v1":
        form = wire.v1_text_form(text, model=model)
        # files={} makes the form multipart, the only encoding /embed accepts.
        return Request("POST", path, form=form, files={}, retry="always")
    body = wire.v2_text_body(text, model=model, dimension=dimension)
    return Request("POST", path, json=body, retry="always")


def _text(
    text: str, model: ModelSpec, dimension: int | None, ctx: Context
) -> Flow[NDArray[np.float32]]:
    reply = yield from send(_text_request(text, model, dimension), ctx)
    decode = decode_text_v1 if model.protocol == "v1" else decode_text_v2
    return decode(reply.content)


def _texts(
    texts: list[str], model: ModelSpec, dimension: int | None, limit: int, ctx: Context
) -> Flow[NDArray[np.float32]]:
    factories = [lambda text=text: _text(text, model, dimension, ctx) for text in texts]
    vectors: list[NDArray[np.float32]] = yield Gather(factories, limit=limit)
    if not vectors:
        return np.zeros((0, dimension or model.dim), dtype=np.float32)
    return np.stack(vectors)


def _check_texts(texts: Sequence[str], max_concurrency: int) -> list[str]:
    if isinstance(texts, str):
        raise InvalidRequestError("texts must be a list of strings; for one text use text()")
    check_int("max_concurrency", max_concurrency)
    return [check_text(text) for text in texts]


# --- planning from the public arguments ------------------------------------------------------


def _legacy_media(media: MediaInput | None, video_file: Any, video_url: Any) -> MediaRef:
    """One media reference from ``media`` or the SDK's ``video_file`` / ``video_url``."""
    given = [
        name
        for name, v in (("media", media), ("video_file", video_file), ("video_url", video_url))
        if v is not None
    ]
    if len(given) != 1:
        raise InvalidRequestError(
            "pass exactly one of media, video_file or video_url"
            + (f" (got {', '.join(given)})" if given else "")
        )
    if media is not None:
        return media if isinstance(media, MediaRef) else media_ref(media)
    return validate_video_task(
        model_name="marengo3.0", video_file=video_file, video_url=video_url
    ).source


def _one_of(first: Any, second: Any, *, names: str) -> Any:
    if first is not None and second is not None:
        raise InvalidRequestError(f"pass {names}, not both (they are the same setting)")
    return first if first is not None else second


_TIMED_OPTIONS = (
    "clip_length_s",
    "segmentation",
    "min_clip_length_s",
    "options",
    "scopes",
    "start_s",
    "end_s",
    "embedding_dimension",
    "embedding_uncertainty",
)


def _timed_plan(input_type: str, media: MediaInput, args: Mapping[str, Any]) -> TaskPlan:
    """The plan of :meth:`Embed.video` / :meth:`Embed.audio` from their arguments (by name)."""
    options = {name: args[name] for name in _TIMED_OPTIONS}
    return TaskPlan.of(
        resolve_model(args["model_name"]), media, {"input_type": input_type, **options}
    )


# --- resources ----------------------------------------------------------------------------


class EmbedTasks(JobResource[EmbeddingTask]):
    """``client.embed.tasks`` (alias ``client.embed.task``): embedding tasks of any input.

    Example:
        >>> task = client.embed.tasks.create("talk.mp3", model_name="marengo3.5")  # doctest: +SKIP
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

    def _run_plan(self, flow: Callable[..., Flow[T]], plan: TaskPlan, **options: Any) -> T:
        """Run ``flow(plan, log, memory, uploads, ctx, **options)``: a create of ``plan``
        (alone, waited for, or read), recorded in this resource's log and memory."""
        uploads = Uploader.of(self._client)
        return self._client._run(flow(plan, self._log, self._memory, uploads, self._ctx, **options))

    def create(
        self,
        media: MediaInput | None = None,
        *,
        model_name: str,
        input_type: str | None = None,
        video_file: VideoSource | None = None,
        video_url: str | None = None,
        video_clip_length: float | None = None,
        video_start_offset_sec: float | None = None,
        video_end_offset_sec: float | None = None,
        video_embedding_scope: str | Iterable[str] | None = None,
        embedding_scope: str | Iterable[str] | None = None,
        embedding_options: str | Iterable[str] | None = None,
        segmentation: str | None = None,
        min_clip_length_s: float | None = None,
        embedding_dimension: int | None = None,
        embedding_uncertainty: bool | None = None,
        spatial: str | None = None,
        max_sentences: int | None = None,
        overlap_sentences: int | None = None,
    ) -> EmbeddingTask:
        """Start an embedding task for one medium: video, audio, image or document.

        Every parameter is checked before any byte is uploaded. The medium is a URL, an
        asset (or its id), a local path or an open binary file; its type comes from its
        name unless ``input_type`` says. On Embed v2 a local path goes up as an asset
        (any size, de-duplicated) which the task reads: it is **kept** (``task.asset_id``;
        the one-call helpers such as :meth:`Embed.audio` delete theirs). A create whose
        answer is lost is found again rather than paid twice (see the module).

        Args:
            media: the medium (``video_file`` / ``video_url`` are the SDK's spellings).
            model_name: ``"marengo3.5"`` (video, audio, image, document; 512-d or less),
                ``"marengo3.0"`` (video, audio; 512-d) or ``"Marengo-retrieval-2.7"``
                (video; 1024-d, Embed v1).
            input_type: ``video``, ``audio``, ``image`` or ``document`` (default: by name).
            video_clip_length: seconds per clip of fixed segmentation, 2 to 10 (default 6);
                applies to audio too.
            video_start_offset_sec / video_end_offset_sec: embed only this range (audio
                too).
            video_embedding_scope / embedding_scope: ``clip`` and/or ``video`` (alias
                ``asset``); for documents ``local`` and/or ``asset``.
            embedding_options: options to compute: Marengo 3.0 video ``visual``, ``audio``
                (non-speech sound), ``transcription`` (speech); Marengo 3.5 ``visual`` and
                ``audio`` (all sound, speech included); documents ``visual``/``text``.
                Marengo 2.7 computes all and filters when read.
            segmentation: ``fixed`` (default) or ``dynamic`` (scene cuts; video, and audio
                on Marengo 3.5) with ``min_clip_length_s`` (2 to 5).
            embedding_dimension: Marengo 3.5: 1 to 512 (default 512); a shorter vector is
                the prefix of the full one.
            embedding_uncertainty: Marengo 3.5: also return per-dimension uncertainty
                (audio/video: scopes without ``asset``; not for PDFs).
            spatial: PDF pages: ``standard`` or ``quadrants`` (whole page + four quarters).
            max_sentences / overlap_sentences: .txt/.md chunks (scope ``local``).

        Raises:
            InvalidRequestError / InvalidVideoError: a parameter or the file is refused.
            ServerError / APIConnectionError: past the retry budget, or when a task the
                server may have stored cannot be told apart from others (nothing re-sent).

        Example:
            >>> client.embed.tasks.create("report.pdf", model_name="marengo3.5",
            ...                           spatial="quadrants").status  # doctest: +SKIP
            'processing'
        """
        given = locals()
        plan = _plan_create(media, {name: given[name] for name in _CREATE_ARGS})
        return self._run_plan(_create, plan)

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
    ) -> MediaEmbedding:
        """A ready task's vectors as a :class:`~tl_integrations.MediaEmbedding`.

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

        Without ``model_name`` both APIs are listed (Embed v2, then v1); a model name picks
        its API only: ``marengo3.0`` and ``marengo3.5`` share Embed v2, whose listing holds
        both (each task says its ``model_name``).

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
        /,
        media: MediaInput | None = None,
        *,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
        **create_args: Any,
    ) -> EmbeddingTask:
        """:meth:`create` (same arguments) then :meth:`wait`: returns the ready task
        (raises like ``wait``).

        Example:
            >>> client.embed.tasks.create_and_wait(model_name="marengo3.0",
            ...                                    video_url=url)  # doctest: +SKIP
        """
        plan = _plan_create(media, create_args)
        return self._run_plan(_create_and_wait, plan, timeout_s=timeout_s, on_update=on_update)


def _document_options(
    spatial: str | None, max_sentences: int | None, overlap_sentences: int | None
) -> dict[str, Any]:
    return {
        "spatial": spatial,
        "max_sentences": max_sentences,
        "overlap_sentences": overlap_sentences,
    }


_CREATE_ARGS = frozenset(
    {
        "model_name",
        "input_type",
        "video_file",
        "video_url",
        "video_clip_length",
        "video_start_offset_sec",
        "video_end_offset_sec",
        "video_embedding_scope",
        "embedding_scope",
        "embedding_options",
        "segmentation",
        "min_clip_length_s",
        "embedding_dimension",
        "embedding_uncertainty",
        "spatial",
        "max_sentences",
        "overlap_sentences",
    }
)


def _plan_create(media: MediaInput | None, args: Mapping[str, Any]) -> TaskPlan:
    """The plan of :meth:`EmbedTasks.create`'s arguments (for ``create_and_wait``)."""
    unknown = sorted(set(args) - _CREATE_ARGS)
    if unknown:
        raise InvalidRequestError(f"unknown argument(s) {unknown}; see client.embed.tasks.create")
    if "model_name" not in args:
        raise InvalidRequestError("model_name is required")
    options = {
        "input_type": args.get("input_type") or ("video" if media is None else None),
        "clip_length_s": args.get("video_clip_length"),
        "segmentation": args.get("segmentation"),
        "min_clip_length_s": args.get("min_clip_length_s"),
        "options": args.get("embedding_options"),
        "scopes": _one_of(
            args.get("video_embedding_scope"),
            args.get("embedding_scope"),
            names="video_embedding_scope or embedding_scope",
        ),
        "start_s": args.get("video_start_offset_sec"),
        "end_s": args.get("video_end_offset_sec"),
        "embedding_dimension": args.get("embedding_dimension"),
        "embedding_uncertainty": args.get("embedding_uncertainty"),
        **_document_options(
            args.get("spatial"), args.get("max_sentences"), args.get("overlap_sentences")
        ),
        "spelling": SDK_SPELLING,
    }
    source = _legacy_media(media, args.get("video_file"), args.get("video_url"))
    return TaskPlan.of(resolve_model(args["model_name"]), source, options)


class AsyncEmbedTasks(AsyncJobResource[EmbeddingTask]):
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
    _run_plan = EmbedTasks._run_plan

    create = awaited(EmbedTasks.create)
    retrieve = awaited(EmbedTasks.retrieve)
    vectors = awaited(EmbedTasks.vectors)
    list = streamed(EmbedTasks.list)
    create_and_wait = awaited(EmbedTasks.create_and_wait)


class Embed(Resource):
    """``client.embed``: vectors of texts, videos, audio, images, documents and mixes.

    Every helper returns numpy: ``text`` one vector, ``texts`` a matrix, the others a
    :class:`~tl_integrations.MediaEmbedding` (one float32 matrix and parallel arrays
    saying what each row covers). Compare vectors of one space only
    (``MediaEmbedding.space``: the model and the dimension).

    Attributes:
        tasks: embedding tasks (:class:`EmbedTasks`); ``task`` is an alias.

    Example:
        >>> query = client.embed.text("a red car", model_name="marengo3.0")  # doctest: +SKIP
        >>> me = client.embed.video("talk.mp4", model_name="marengo3.0")  # doctest: +SKIP
        >>> scores = me.vectors @ query  # doctest: +SKIP
    """

    def __init__(self, client: TwelveLabs) -> None:
        super().__init__(client)
        self.tasks = EmbedTasks(client)
        self.task = self.tasks

    def text(
        self, text: str, *, model_name: str, embedding_dimension: int | None = None
    ) -> NDArray[np.float32]:
        """Embed one text; returns a float32 vector ``(dim,)`` in the model's media space.

        Marengo 3.5 embeds text through the synchronous ``multi_input`` form (the only one
        it takes), with ``embedding_dimension`` (1 to 512, Matryoshka prefixes).

        Raises:
            InvalidRequestError: blank text, unknown model, or a dimension it refuses.

        Example:
            >>> client.embed.text("a red car", model_name="marengo3.5",
            ...                   embedding_dimension=256).shape  # doctest: +SKIP
            (256,)
        """
        model = resolve_model(model_name)
        dimension = check_dimension(embedding_dimension, model)
        return self._client._run(_text(check_text(text), model, dimension, self._ctx))

    def texts(
        self,
        texts: Sequence[str],
        *,
        model_name: str,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        embedding_dimension: int | None = None,
    ) -> NDArray[np.float32]:
        """Embed many texts, ``max_concurrency`` requests at a time; returns ``(n, dim)``.

        Rows keep the order of ``texts``. All texts are checked before the first request;
        the first error stops what has not started yet and is raised.

        Example:
            >>> client.embed.texts(["cat", "dog"], model_name="marengo3.0").shape  # doctest: +SKIP
            (2, 512)
        """
        checked = _check_texts(texts, max_concurrency)
        model = resolve_model(model_name)
        dimension = check_dimension(embedding_dimension, model)
        flow = _texts(checked, model, dimension, max_concurrency, self._ctx)
        return self._client._run(flow)

    def video(
        self,
        video: MediaInput,
        *,
        model_name: str = "marengo3.0",
        clip_length_s: float | None = None,
        segmentation: str | None = None,
        min_clip_length_s: float | None = None,
        options: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = ("clip",),
        start_s: float | None = None,
        end_s: float | None = None,
        embedding_dimension: int | None = None,
        embedding_uncertainty: bool | None = None,
        keep_asset: bool = False,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> MediaEmbedding:
        """Embed one video: create the task, wait for it, and return its vectors.

        A local file goes up as an asset (any size; a file already uploaded is found by
        its bytes and not sent again); an asset made here is deleted once the vectors are
        read, unless ``keep_asset``. Marengo 2.7 streams the file with the task instead.

        Args:
            video: a local path, an open binary file, a URL to the raw media, an asset or
                its id.
            model_name: ``"marengo3.0"`` (512-d), ``"marengo3.5"`` (512-d or less) or
                ``"Marengo-retrieval-2.7"`` (1024-d).
            clip_length_s: seconds per clip of fixed segmentation (2 to 10, default 6).
            segmentation: ``fixed`` (default) or ``dynamic`` (clips cut at scene changes,
                at least ``min_clip_length_s``, 2 to 5 s).
            options: options to keep (None: all the model has; see
                :meth:`EmbedTasks.create`).
            scopes: ``"clip"`` and/or ``"video"`` (alias ``"asset"``).
            start_s / end_s: embed only this range of the video, in seconds.
            embedding_dimension / embedding_uncertainty: Marengo 3.5 (see
                :meth:`EmbedTasks.create`).
            keep_asset: keep the asset made for a local file.
            timeout_s: give up waiting after this many seconds (the task keeps running,
                and so does the asset it reads).
            on_update: called with the task whenever its status changes.

        Raises:
            InvalidRequestError / InvalidVideoError: refused before upload.
            TaskFailedError / TaskTimeoutError: as :meth:`EmbedTasks.wait`.

        Example:
            >>> me = client.embed.video("talk.mp4", clip_length_s=4)  # doctest: +SKIP
        """
        args = locals()
        return self._embed(_timed_plan("video", video, args), args, options=options)

    def audio(
        self,
        audio: MediaInput,
        *,
        model_name: str = "marengo3.0",
        clip_length_s: float | None = None,
        segmentation: str | None = None,
        min_clip_length_s: float | None = None,
        options: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = ("clip",),
        start_s: float | None = None,
        end_s: float | None = None,
        embedding_dimension: int | None = None,
        embedding_uncertainty: bool | None = None,
        keep_asset: bool = False,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> MediaEmbedding:
        """Embed one audio file (MP3, WAV, M4A...): task, wait, vectors, as :meth:`video`.

        Options: Marengo 3.0 ``audio`` (non-speech sound) and ``transcription`` (speech);
        Marengo 3.5 ``audio`` only, which covers speech, music and other sound. Dynamic
        segmentation needs Marengo 3.5.

        Example:
            >>> me = client.embed.audio("podcast.mp3", model_name="marengo3.5",
            ...                         embedding_dimension=256)  # doctest: +SKIP
            >>> me.dim  # doctest: +SKIP
            256
        """
        args = locals()
        return self._embed(_timed_plan("audio", audio, args), args, options=options)

    def document(
        self,
        document: MediaInput,
        *,
        model_name: str = "marengo3.5",
        options: str | Iterable[str] | None = None,
        scopes: str | Iterable[str] | None = None,
        spatial: str | None = None,
        max_sentences: int | None = None,
        overlap_sentences: int | None = None,
        embedding_dimension: int | None = None,
        embedding_uncertainty: bool | None = None,
        keep_asset: bool = False,
        timeout_s: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> MediaEmbedding:
        """Embed a PDF, .txt or .md document (Marengo 3.5): task, wait, vectors.

        Defaults: a PDF gives one ``visual`` vector per page (``start_page`` /
        ``end_page``); a text file one ``text`` vector for the whole file. Allowed
        option/scope pairs: PDF visual/local (pages), visual/asset, text/asset; .txt/.md
        text/asset, text/local (sentence chunks, ``max_sentences`` sentences each,
        ``overlap_sentences`` shared; rows sorted by ``chunk_index``).

        Args:
            document: a local path, a URL, an asset or its id.
            spatial: PDF pages: ``quadrants`` adds a vector per quarter of each page
                (``quadrants`` array), at five times the cost.

        Raises:
            InvalidRequestError: a pair or option the file type does not take.
            TaskFailedError: e.g. a PDF over its page allowance (64 pages per MB).

        Example:
            >>> me = client.embed.document("report.pdf", embedding_dimension=256)  # doctest: +SKIP
            >>> me.start_page.tolist()  # doctest: +SKIP
            [1, 2, 3]
        """
        plan = TaskPlan.of(
            resolve_model(model_name),
            document,
            {
                "input_type": "document",
                "options": options,
                "scopes": scopes,
                "embedding_dimension": embedding_dimension,
                "embedding_uncertainty": embedding_uncertainty,
                **_document_options(spatial, max_sentences, overlap_sentences),
            },
        )
        return self._embed(plan, locals(), options=None)

    def image(
        self,
        image: MediaInput,
        *,
        model_name: str = "marengo3.0",
        embedding_dimension: int | None = None,
        embedding_uncertainty: bool | None = None,
    ) -> MediaEmbedding:
        """Embed one image (up to 32 MB) with one synchronous request; one row.

        Marengo 3.0 uses ``input_type: image``; Marengo 3.5 takes it as a one-source
        ``multi_input`` (its only synchronous form). A local file goes inline (no asset).

        Example:
            >>> client.embed.image("logo.png", model_name="marengo3.5",
            ...                    embedding_dimension=256).vectors.shape  # doctest: +SKIP
            (1, 256)
        """
        model = resolve_model(model_name)
        checks: dict[str, Any] = {
            "embedding_dimension": embedding_dimension,
            "embedding_uncertainty": embedding_uncertainty,
        }
        req = None
        if not untyped_assets([image]):
            # A source whose name does not tell its type (an open file) is taken as an image.
            guess: dict[int, Any] = {0: "image"}
            req = _checked_image(validate_multi(model, None, [image], media_types=guess, **checks))
        return self._client._run(_image(model, image, checks, self._ctx, req=req))

    def multi(
        self,
        text: str | None = None,
        *,
        media: Sequence[MediaInput] | Mapping[str, MediaInput] | None = None,
        model_name: str = "marengo3.5",
        embedding_dimension: int | None = None,
        embedding_uncertainty: bool | None = None,
        auto_truncate: bool | None = None,
    ) -> MediaEmbedding:
        """One vector for a text with up to 10 media sources (the ``multi_input`` form).

        Name sources with a mapping and reference them from the text as ``<@name>``.
        Marengo 3.5 takes images, video and audio (up to 30 s) and documents; Marengo 3.0
        images only. The API's rules are checked first: sources of different types need a
        text; a PDF goes alone, without text; text documents need a picture or a sound
        beside them; uncertainty needs text only or media only.

        Args:
            text: the text (Marengo 3.5: up to 2,000 tokens; ``auto_truncate`` cuts
                longer text instead of refusing it).
            media: local files (inline, up to 32 MB each), URLs, assets or asset ids.

        Raises:
            InvalidRequestError / InvalidVideoError: a rule broken, a file too large.

        Example:
            >>> me = client.embed.multi("a person wearing <@shirt>",
            ...                         media={"shirt": "shirt.png"})  # doctest: +SKIP
            >>> me.vectors.shape  # doctest: +SKIP
            (1, 512)
        """
        model = resolve_model(model_name)
        checks: dict[str, Any] = {
            "embedding_dimension": embedding_dimension,
            "embedding_uncertainty": embedding_uncertainty,
            "auto_truncate": auto_truncate,
        }
        req = None if untyped_assets(media) else validate_multi(model, text, media, **checks)
        return self._client._run(_multi(model, text, media, checks, self._ctx, req=req))

    def _embed(self, plan: TaskPlan, args: Mapping[str, Any], *, options: Any) -> MediaEmbedding:
        """Run :func:`_embed_media` for ``plan``, keeping ``options`` of the vectors, with the
        caller's ``keep_asset``, ``timeout_s`` and ``on_update`` (``args``, by name)."""
        keep_asset = args["keep_asset"]
        if not isinstance(keep_asset, bool):
            raise InvalidRequestError(f"keep_asset must be True or False, got {keep_asset!r}")
        return self.tasks._run_plan(
            _embed_media,
            plan,
            options=options,
            keep_asset=keep_asset,
            timeout_s=check_timeout(args["timeout_s"]),  # before the upload, not after it
            on_update=args["on_update"],
        )


class AsyncEmbed(AsyncResource):
    """``client.embed`` of :class:`~tl_integrations.AsyncTwelveLabs` (same methods, awaited).

    Example:
        >>> vector = await client.embed.text("a red car", model_name="marengo3.0")  # doctest: +SKIP
    """

    def __init__(self, client: AsyncTwelveLabs) -> None:
        super().__init__(client)
        self.tasks = AsyncEmbedTasks(client)
        self.task = self.tasks

    _embed = Embed._embed

    text = awaited(Embed.text)
    texts = awaited(Embed.texts)
    video = awaited(Embed.video)
    audio = awaited(Embed.audio)
    document = awaited(Embed.document)
    image = awaited(Embed.image)
    multi = awaited(Embed.multi)
