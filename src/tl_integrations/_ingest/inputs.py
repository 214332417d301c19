"""Pure input handling: options, resolving and checking inputs, hashing files.

Everything a caller can get wrong is caught here, before the first request is sent.
"""

from __future__ import annotations

import os
import stat
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

from .._errors import InvalidRequestError, InvalidVideoError, check_int
from .._resources.analyze import SegmentDefinition, SegmentField, segmentation_body
from .._resources.assets import HASH_KEY
from .._uploads import MULTIPART_LIMITS, check_video_name, media_type_of, sha256_file, url_key
from .content import (
    CONTENT_KINDS,
    DEFAULT_CHAPTERS_PROMPT,
    DEFAULT_SUMMARY_PROMPT,
    RESERVED_METADATA,
    ContentKind,
)

__all__ = [
    "HASH_KEY",
    "MAX_UPLOAD_BYTES",
    "URL_HASH_KEY",
    "IngestOptions",
    "OnError",
    "OnStatus",
    "VideoInput",
    "VideoSource",
    "display_source",
    "resolve_inputs",
    "sha256_file",
    "upload_limit",
    "url_key",
    "with_text_field",
]

VideoInput = Union[str, "os.PathLike[str]"]
OnError = Literal["raise", "skip"]
# on_status(source, status): see IngestOptions for the statuses and when they come.
OnStatus = Callable[[str, str], object]

# user_metadata keys the ingest writes on upload and looks videos up by on the next run:
# HASH_KEY is the assets' own (the same marker finds the asset and its indexed assets).
# A URL is remembered by its hash: signed URLs carry credentials that must not be stored.
URL_HASH_KEY = "tl_url_sha256"
MAX_UPLOAD_BYTES = 2 * 1024**3
"""The largest file the older one-step ``/tasks`` upload takes."""


def upload_limit(upload: str) -> int:
    """The largest local file an ingest on this upload path takes, in bytes.

    Example:
        >>> upload_limit("assets") // 1024**3, upload_limit("tasks") // 1024**3
        (10, 2)
    """
    return MULTIPART_LIMITS["video"] if upload == "assets" else MAX_UPLOAD_BYTES


VIDEO_PREFIX = "video:"
_HASH_BLOCK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class IngestOptions:
    """What to ingest into which index, and how; checked on construction.

    Attributes:
        index_id: an existing index; give this or ``index_name``, not both.
        index_name: an index got or created (with the client's default models) by name.
        content: the content kinds to produce, in order.
        chunk_s: transcript window length in seconds.
        summary_prompt: the prompt for ``summary``.
        chapters_prompt: the prompt for ``chapters``.
        max_concurrency: at most this many inputs hash at once, and at most this many
            upload at once (an upload in flight never holds back the hashing, so the
            look-up, of another input); the light steps (look-ups, index creates, reads) of
            up to four times as many run beside them.
        timeout_s: deadline for all indexing tasks of one run, in seconds; None waits on.
        on_error: ``"raise"`` one :class:`IngestError` at the end, or ``"skip"`` and log;
            for inputs that fail once sent (:func:`resolve_inputs` refuses bad local files
            up front, whatever this says).
        show_progress: show a tqdm bar (needs ``tqdm``).
        on_status: called as ``on_status(source, status)`` each time an input moves on,
            ``source`` being the input as given (see below); None calls nothing.
        upload: ``"assets"`` (the API's current path: an asset, then an indexed asset; large
            files in resumable chunks) or ``"tasks"`` (the older one-step ``/tasks``).
        pegasus_model: the model of summaries, chapters and segments (``pegasus1.5`` or
            ``pegasus1.6``); analyses are cached with the video (see the loader).
        segment_definitions: what ``segments`` looks for: :class:`SegmentDefinition` objects
            or their dicts (default: each scene, with a description, the people and the
            mood); a field named ``description`` (added when missing) is the text. Checked
            here and kept in wire form (dicts).
        on_progress: ``on_progress(source, bytes_done, total_bytes)`` while a file uploads.

    Statuses, in the order an input goes through them (the sync and async engines report
    the same ones; each is reported when the input enters it, never twice in a row, and an
    input skips those that do not apply to it):

    - ``"hashing"``: computing a local file's SHA-256 (once one of the ``max_concurrency``
      hashing slots is free: until then an input has no status yet).
    - ``"looking up"``: asking the index for a video (or a running task) with that
      content, or for the video named by ``"video:<id>"``.
    - ``"uploading"``: sending the file (or the URL): as an asset, or with the task (a
      file again once it holds an upload slot).
    - the task's statuses as polled: ``"validating"``, ``"pending"``, ``"queued"``,
      ``"indexing"``, ``"ready"`` (any other status the server sends is passed on too).
      Polling samples them, so a short stage may be missed. A reused video has none.
    - ``"reading"``: fetching the transcript, summary and chapters.
    - ``"done"`` (its records are about to be yielded) or ``"failed"`` (the input failed,
      for whatever reason: see the run's failures). Exactly one of the two comes, last.

    A running task found by file name is only a candidate: if it turns out to hold other
    content, the input goes back to ``"uploading"``. That is why a failed task is reported
    as ``"failed"`` only when it fails the input.

    The callback is called from the engine's worker threads too (hashing, looking up and
    uploading), but never twice at once. It should return quickly: the run waits for it.
    An exception it raises is not taken for a failure of the input: it ends the run at once
    and propagates unchanged out of ``run()`` (uploads under way finish first, as on any
    early exit), so a bug in a callback is never silently counted as a failed video.

    Raises:
        InvalidRequestError: for any invalid combination, naming the fix.

    Example:
        >>> IngestOptions(index_name="talks", content=("summary",)).content
        ('summary',)
        >>> seen = []
        >>> options = IngestOptions(index_id="i1", on_status=lambda src, st: seen.append(st))
        >>> # after a run: ['hashing', 'looking up', 'uploading', 'validating', ..., 'done']
        >>> IngestOptions()
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: give index_id or index_name (one of them)
    """

    index_id: str | None = None
    index_name: str | None = None
    content: tuple[ContentKind, ...] = ("transcript", "summary")
    chunk_s: float = 30.0
    summary_prompt: str = DEFAULT_SUMMARY_PROMPT
    chapters_prompt: str = DEFAULT_CHAPTERS_PROMPT
    max_concurrency: int = 4
    timeout_s: float | None = None
    on_error: OnError = "raise"
    show_progress: bool = False
    on_status: OnStatus | None = field(default=None, repr=False, compare=False)
    upload: Literal["assets", "tasks"] = "assets"
    pegasus_model: str = "pegasus1.5"
    segment_definitions: tuple[Any, ...] | None = None
    on_progress: Callable[[str, int, int], object] | None = field(
        default=None, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if (self.index_id is None) == (self.index_name is None):
            raise InvalidRequestError("give index_id or index_name (one of them)")
        for name in ("index_id", "index_name", "summary_prompt", "chapters_prompt"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InvalidRequestError(f"{name} must be a non-empty string, got {value!r}")
        self._check_content()
        self._check_numbers()
        if self.on_error not in ("raise", "skip"):
            raise InvalidRequestError(f"on_error must be 'raise' or 'skip', got {self.on_error!r}")
        if self.upload not in ("assets", "tasks"):
            raise InvalidRequestError(f"upload must be 'assets' or 'tasks', got {self.upload!r}")
        if self.pegasus_model not in ("pegasus1.5", "pegasus1.6"):
            raise InvalidRequestError(
                f"pegasus_model must be 'pegasus1.5' or 'pegasus1.6', got {self.pegasus_model!r}"
            )
        self._check_segments()
        if self.on_status is not None and not callable(self.on_status):
            raise InvalidRequestError(
                f"on_status must be a callable (source, status) or None, got {self.on_status!r}"
            )

    def _check_content(self) -> None:
        content = (self.content,) if isinstance(self.content, str) else tuple(self.content)
        unknown = [kind for kind in content if kind not in CONTENT_KINDS]
        if unknown or not content:
            raise InvalidRequestError(
                f"content must be a non-empty subset of {CONTENT_KINDS}, got {self.content!r}"
            )
        object.__setattr__(self, "content", tuple(dict.fromkeys(content)))

    def _check_segments(self) -> None:
        """Check the segment definitions as the API would, and keep their wire form."""
        given = self.segment_definitions
        if given is None:
            return
        if isinstance(given, (Mapping, SegmentDefinition)):
            given = (given,)
        wire = tuple(with_text_field(d) for d in given)
        for definition in wire:
            clash = [f["name"] for f in definition["fields"] if f.get("name") in RESERVED_METADATA]
            if clash:
                raise InvalidRequestError(
                    f"segment fields {clash} of {definition.get('id')!r} would hide the "
                    f"metadata of the same name; rename them (taken: {sorted(RESERVED_METADATA)})"
                )
        segmentation_body(
            definitions=wire,
            min_segment_s=None,
            max_segment_s=None,
            custom_id=None,
            base={"model_name": self.pegasus_model},
        )
        object.__setattr__(self, "segment_definitions", wire)

    def _check_numbers(self) -> None:
        if not _positive(self.chunk_s):
            raise InvalidRequestError(f"chunk_s must be a positive number, got {self.chunk_s!r}")
        check_int("max_concurrency", self.max_concurrency)
        if self.timeout_s is not None and not _positive(self.timeout_s):
            raise InvalidRequestError(f"timeout_s must be positive or None, got {self.timeout_s!r}")


TEXT_FIELD = {
    "name": "description",
    "type": "string",
    "description": "one or two sentences on what happens in this segment",
}
"""The field whose value is a segment's Document text, added to definitions without it."""


def with_text_field(definition: SegmentDefinition | Mapping[str, Any]) -> dict[str, Any]:
    """A segment definition's wire form with a ``description`` field (the Document text).

    Raises:
        InvalidRequestError: not a definition (``SegmentDefinition`` or a dict with ``id``).

    Example:
        >>> with_text_field({"id": "scene", "description": "each scene"})["fields"][0]["name"]
        'description'
    """
    if isinstance(definition, SegmentDefinition):
        wire = definition.to_api()
    elif isinstance(definition, Mapping) and definition.get("id"):
        wire = dict(definition)
    else:
        raise InvalidRequestError(
            f"segment definitions are SegmentDefinition(...) or dicts with an id, "
            f"got {definition!r}"
        )
    fields = [
        f.to_api() if isinstance(f, SegmentField) else dict(f) for f in wire.get("fields", [])
    ]
    if not any(f.get("name") == TEXT_FIELD["name"] for f in fields):
        fields.insert(0, dict(TEXT_FIELD))
    return {**wire, "fields": fields}


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True)
class VideoSource:
    """One resolved input: a local file, an http(s) URL, or a video already in the index.

    Attributes:
        source: the input as the caller gave it, as a string (goes into ``metadata["source"]``).
        kind: ``"file"``, ``"url"`` or ``"video"``.
        path: the local file, for ``"file"``.
        url: the URL, for ``"url"``.
        video_id: the existing video id, for ``"video"``.

    Example:
        >>> resolve_inputs("video:65f0a1")[0].video_id
        '65f0a1'
    """

    source: str
    kind: Literal["file", "url", "video"]
    path: Path | None = None
    url: str | None = None
    video_id: str | None = None


def resolve_inputs(
    videos: VideoInput | Iterable[VideoInput],
    *,
    recursive: bool = False,
    max_bytes: int = MULTIPART_LIMITS["video"],
) -> list[VideoSource]:
    """Resolve and check every input up front; nothing is sent.

    Args:
        videos: one input or many. An input is a local path (str or ``os.PathLike``), a
            directory (its video files, by extension, sorted; hidden files skipped), a glob
            pattern (``"talks/*.mp4"``, ``"**/*.mov"``), an ``http(s)://`` URL of the raw
            media, or ``"video:<id>"`` for a video already in the target index. Repeated
            inputs are kept once (a file however its path is spelled).
        recursive: a directory includes the video files of its subdirectories too.
        max_bytes: the largest local file (see :func:`upload_limit`; default: the assets
            path's 10 GB).

    Returns:
        The inputs in order, without repeats.

    Raises:
        InvalidVideoError: a local file is missing, not a regular file, empty, over
            ``max_bytes``, or by its extension an image, audio or document file.
        InvalidRequestError: an input is of no accepted form (an empty string too: it is not
            the current folder), or there are no inputs.

    Example:
        >>> [s.kind for s in resolve_inputs(["https://example.com/a.mp4", "video:abc"])]
        ['url', 'video']
    """
    items: Sequence[VideoInput]
    if isinstance(videos, (str, os.PathLike)):
        items = [videos]
    elif isinstance(videos, Iterable):
        items = list(videos)
    else:
        raise InvalidRequestError(
            "videos must be a path, a URL, 'video:<id>' or a list of them, "
            f"got {type(videos).__name__}"
        )
    if not items:
        raise InvalidRequestError("no videos given; pass a path, a URL or 'video:<id>'")
    expanded = [name for item in items for name in _expand(item, recursive=recursive)]
    resolved = [_resolve_one(item, max_bytes) for item in expanded]
    # One file however it is spelled ("a.mp4", "./a.mp4", its absolute path): the first kept.
    kept: dict[str, VideoSource] = {}
    for source in resolved:
        kept.setdefault(_identity(source), source)
    return list(kept.values())


def _identity(source: VideoSource) -> str:
    if source.path is None:
        return source.source
    try:
        return str(source.path.resolve())
    except OSError:
        return source.source


def _expand(item: VideoInput, *, recursive: bool) -> list[VideoInput]:
    """A directory or a glob as the video files it names; any other input as it is."""
    if not isinstance(item, (str, os.PathLike)):
        return [item]
    name = os.fspath(item)
    if not str(name).strip():
        raise InvalidRequestError(
            "a video input is an empty string; pass a path, a URL or 'video:<id>' "
            "(a folder's videos: its path, e.g. '.')"
        )
    if name.startswith(VIDEO_PREFIX) or "://" in name:
        return [item]
    path = Path(name).expanduser()
    if path.is_dir():
        pattern = "**/*" if recursive else "*"
        found = _videos_in(path.glob(pattern), root=path)
        if not found:
            raise InvalidVideoError(
                f"directory {name!r} holds no video files (.mp4, .mov, .mkv...)"
                + ("" if recursive else "; pass recursive=True to look in its subdirectories"),
                path=name,
            )
        return [str(p) for p in found]
    if not path.exists() and any(ch in name for ch in "*?["):
        base = Path(name).expanduser()
        anchor = Path(base.anchor or ".")
        relative = str(base.relative_to(anchor)) if base.is_absolute() else name
        found = _videos_in(anchor.glob(relative), root=anchor)
        if not found:
            raise InvalidVideoError(f"no video files match {name!r}", path=name)
        return [str(p) for p in found]
    return [item]


def _videos_in(paths: Iterable[Path], *, root: Path) -> list[Path]:
    keep = []
    for path in paths:
        parts = path.relative_to(root).parts if path.is_relative_to(root) else path.parts
        if any(part.startswith(".") for part in parts) or not path.is_file():
            continue
        if media_type_of(path.name) == "video":
            keep.append(path)
    return sorted(keep)


def _resolve_one(item: VideoInput, max_bytes: int) -> VideoSource:
    if isinstance(item, os.PathLike):
        return _local_file(os.fspath(item), max_bytes)
    if not isinstance(item, str):
        raise InvalidRequestError(
            f"a video input must be a path, a URL or 'video:<id>', got {type(item).__name__}"
        )
    if item.startswith(VIDEO_PREFIX):
        video_id = item[len(VIDEO_PREFIX) :].strip()
        if not video_id or any(ch.isspace() or ch == "/" for ch in video_id):
            raise InvalidRequestError(f"{item!r} is not 'video:<id>' with a valid video id")
        return VideoSource(item, "video", video_id=video_id)
    if "://" in item:
        return _url(item)
    return _local_file(item, max_bytes)


def _url(item: str) -> VideoSource:
    parts = urllib.parse.urlsplit(item)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidRequestError(
            f"unsupported video URL {display_source(item)!r}: use an http(s) URL of the raw "
            "media, a local path, or 'video:<id>'"
        )
    return VideoSource(item, "url", url=item)


def _local_file(name: str, max_bytes: int) -> VideoSource:
    path = Path(name).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InvalidVideoError(f"no such file: {name!r}; check the path", path=name) from None
    except OSError as exc:
        raise InvalidVideoError(f"cannot read {name!r}: {exc.strerror}", path=name) from exc
    if not stat.S_ISREG(info.st_mode):
        raise InvalidVideoError(f"{name!r} is not a regular file; pass a video file", path=name)
    check_video_name(name)
    if info.st_size == 0:
        raise InvalidVideoError(f"{name!r} is empty; pass a video file", path=name)
    if info.st_size > max_bytes:
        tasks_path = max_bytes <= MAX_UPLOAD_BYTES
        raise InvalidVideoError(
            f"{name!r} is {info.st_size} bytes, over the {max_bytes // 1024**3} GB upload "
            "limit; "
            + ("upload it as an asset (upload='assets', up to 10 GB) or " if tasks_path else "")
            + "host it and pass its URL instead",
            path=name,
        )
    if not os.access(path, os.R_OK):
        raise InvalidVideoError(f"{name!r} is not readable; check its permissions", path=name)
    return VideoSource(name, "file", path=path)


def display_source(source: str) -> str:
    """The input as safe to log: a URL loses its query and fragment (signatures, tokens).

    Example:
        >>> display_source("https://cdn.example.com/a.mp4?X-Amz-Signature=abc")
        'https://cdn.example.com/a.mp4'
        >>> display_source("clips/a.mp4")
        'clips/a.mp4'
    """
    if "://" not in source:
        return source
    parts = urllib.parse.urlsplit(source)
    host = parts.netloc.rpartition("@")[2]  # user:password@ is a credential too
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))
