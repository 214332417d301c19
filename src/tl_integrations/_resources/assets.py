"""Assets (``/assets``): uploaded media files, the model, the task kind and ``client.assets``.

Today every file the API works on is an asset: uploaded directly (up to 200 MB), fetched
from a URL (up to 4 GB), or sent in chunks by a multipart session (up to 10 GB, see
:mod:`.uploads`). An asset is ``processing``, then ``ready`` (or ``failed``); indexing,
analysis and embeddings take ready assets.

``client.assets.upload(path)`` is the one call for a local file: it hashes the file, finds an
asset of this account with the same file name that already holds the same bytes (its SHA-256
is stored in the asset's ``user_metadata``; ``GET /assets`` filters by name only, so a copy
under another name is not looked for) and returns it without sending anything; otherwise
it picks a direct upload or a resumable multipart session by size, streams from disk, and
returns the asset once it is ready.

Example:
    >>> asset = Asset.from_api({"_id": "a1", "status": "processing", "filename": "talk.mp4",
    ...                         "user_metadata": {"tl_sha256": "ab12"}})
    >>> asset.done, asset.user_metadata["tl_sha256"], asset.kind.noun
    (False, 'ab12', 'asset')
"""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import stat
import time
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, NamedTuple

import orjson

from .._claims import CLAIMS, kept
from .._engine import (
    Creation,
    Job,
    JobRef,
    Locate,
    TaskKind,
    create,
    fetch,
    job_id_of,
    wait,
    wait_for_done,
)
from .._errors import InvalidRequestError, InvalidVideoError, TwelveLabsError, check_int
from .._flows import Call, Context, Flow, Sleep, emitted
from .._paging import PAGE_LIMIT_MAX, pages
from .._polling import check_timeout
from .._transport import Reply, Request, path_segment, send, send_json
from .._uploads import (
    DIRECT_LIMITS,
    MULTIPART_LIMITS,
    MediaType,
    UploadSource,
    media_type_of,
    safe_filename,
    sha256_file,
)
from .._wire import as_object, opt_float, opt_int, opt_list, opt_obj, opt_str, req_str
from . import AsyncJobResource, JobResource, awaited, streamed
from .tasks import UPLOAD_TOKEN_KEY, check_user_metadata
from .uploads import OnProgress, SessionCreation, UploadJournal, multipart_upload
from .videos import parse_utterances

__all__ = [
    "ASSETS",
    "HASH_KEY",
    "Asset",
    "AssetTranscript",
    "Assets",
    "AsyncAssets",
    "TranscriptLine",
    "Uploader",
    "delete_asset",
    "upload_asset",
]

logger = logging.getLogger("tl_integrations")

HASH_KEY = "tl_sha256"
"""The ``user_metadata`` key holding the SHA-256 of an uploaded file's bytes."""
MULTIPART_THRESHOLD_BYTES = 64 * 1024**2
"""Files above this go up in parallel chunks (resumable); smaller ones in one request."""
_LOOKUP_PAGES = 4

OnUpdate = Callable[["Asset"], object]


@dataclass(eq=False)
class Asset(Job):
    """An uploaded media file: ``processing`` -> ``ready`` | ``failed``.

    Attributes:
        method: ``direct``, ``url``, ``multipart`` or ``connector``.
        filename: the file's name.
        file_type: its MIME type.
        user_metadata: your key/value pairs.
        size: bytes (once ready).
        media_duration_s: seconds of audio or video (once ready).
        hls / thumbnail: the streaming and thumbnail blocks, when asked for.
        technical_metadata: what the platform measured (codecs, frame size...).
        reused: True when :meth:`Assets.upload` found this asset by the file's bytes and
            sent nothing (so whoever deletes it may take it from someone else).

    Example:
        >>> Asset.from_api({"_id": "a1", "status": "failed",
        ...                 "error": {"message": "not a video"}}).failure_reason
        'not a video'
    """

    method: str | None = None
    filename: str | None = None
    file_type: str | None = None
    user_metadata: dict[str, Any] = field(default_factory=dict)
    size: int | None = None
    media_duration_s: float | None = None
    hls: dict[str, Any] | None = None
    thumbnail: dict[str, Any] | None = None
    technical_metadata: dict[str, Any] | None = field(default=None, repr=False)
    reused: bool = field(default=False, repr=False, compare=False)

    @property
    def kind(self) -> AssetKind:
        """The task kind of assets."""
        return ASSETS

    @property
    def duration_s(self) -> float | None:
        """Seconds of audio or video, once known."""
        return self.media_duration_s

    @classmethod
    def from_api(cls, data: Any) -> Asset:
        """Parse an asset object (create, retrieve or list item)."""
        obj = as_object(data, "asset")
        what = f"asset {obj.get('_id', '?')}"
        return cls(
            id=req_str(obj, "_id", "asset"),
            status=opt_str(obj, "status", what) or "processing",
            method=opt_str(obj, "method", what),
            filename=opt_str(obj, "filename", what),
            file_type=opt_str(obj, "file_type", what),
            user_metadata=opt_obj(obj, "user_metadata", what) or {},
            size=opt_int(obj, "size", what, non_negative=True),
            media_duration_s=opt_float(obj, "duration", what, non_negative=True),
            hls=opt_obj(obj, "hls", what),
            thumbnail=opt_obj(obj, "thumbnail", what),
            technical_metadata=opt_obj(obj, "technical_metadata", what),
            created_at=opt_str(obj, "created_at", what),
            updated_at=opt_str(obj, "updated_at", what),
            raw=obj,
        )


class AssetKind(TaskKind[Asset]):
    """The task kind of assets: pending ones are read 50 at a time by their ids.

    Example:
        >>> [r.params["asset_ids"][:2] for r in ASSETS.listings("assets", ["a1", "a2"])]
        [['a1', 'a2']]
    """

    noun: ClassVar[str] = "asset"
    pending: ClassVar[tuple[str, ...]] = ("processing",)

    def retrieve(self, job_id: str) -> Request:
        """``GET /assets/{asset_id}``."""
        return Request("GET", f"/assets/{path_segment(job_id, 'asset_id')}")

    def parse(self, reply: Reply, *, like: Asset | None) -> Asset:
        """The asset in a retrieve reply."""
        return Asset.from_api(reply.json())

    def group(self, job: Asset) -> Hashable | None:
        """Every asset can be listed by id, whatever its status."""
        return "assets"

    def listings(self, group: Hashable, ids: Sequence[str]) -> list[Request]:
        """``GET /assets?asset_ids=...``, 50 ids a request."""
        return [
            Request(
                "GET",
                "/assets",
                params={
                    "asset_ids": list(ids[i : i + PAGE_LIMIT_MAX]),
                    "page_limit": PAGE_LIMIT_MAX,
                },
            )
            for i in range(0, len(ids), PAGE_LIMIT_MAX)
        ]

    def parse_item(self, item: Any, group: Hashable) -> Asset:
        """One asset of a list page."""
        return Asset.from_api(item)


ASSETS = AssetKind()


class TranscriptLine(NamedTuple):
    """One timed piece of an asset's transcript: ``(start_s, end_s, text, speaker)``.

    Example:
        >>> TranscriptLine(0.0, 2.5, "Hello", "A").speaker
        'A'
    """

    start_s: float
    end_s: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class AssetTranscript:
    """An asset's transcription (``GET /assets/{id}/transcription``).

    Each list is None when the server did not send it (not requested, not ready, or not
    supported for this file): read what is there rather than assume.

    Example:
        >>> t = AssetTranscript.from_api({"status": "ready", "utterances": [
        ...     {"start": 0, "end": 2, "value": "Hi all", "speaker": "A"}]})
        >>> t.utterances[0].text, t.words
        ('Hi all', None)
    """

    status: str
    words: list[TranscriptLine] | None = None
    sentences: list[TranscriptLine] | None = None
    utterances: list[TranscriptLine] | None = None
    error: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> AssetTranscript:
        """Parse a transcription answer."""
        obj = as_object(data, "asset transcription")
        what = "asset transcription"
        error = opt_obj(obj, "error", what)
        return cls(
            status=opt_str(obj, "status", what) or "ready",
            words=_lines(obj, "words", what),
            sentences=_lines(obj, "sentences", what),
            utterances=_lines(obj, "utterances", what),
            error=opt_str(error, "message", what) if error else None,
        )


def _lines(obj: Mapping[str, Any], key: str, what: str) -> list[TranscriptLine] | None:
    """The timed phrases under ``key``, read as a video's (:func:`parse_utterances`), each
    with its speaker."""
    items = opt_list(obj, key, what)
    if items is None:
        return None
    phrases = parse_utterances(items, f"{what}.{key}")
    return [
        TranscriptLine(*phrase, speaker=opt_str(item, "speaker", what))
        for item, phrase in zip(items, phrases, strict=True)
    ]


# --- creating ------------------------------------------------------------------------------


class AssetCreation(Creation[Asset]):
    """One ``POST /assets`` (a local file, or a URL); found again by a token when lost.

    The file name is sent as its own form field, kept verbatim by the server, and the
    token in ``user_metadata``: a lost answer is resolved by listing the assets with that
    name and reading their metadata.

    Example:
        >>> creation = AssetCreation(url="https://example.com/a.mp4")
        >>> creation.request.form["method"], creation.filename
        ('url', 'a.mp4')
    """

    def __init__(
        self,
        *,
        file: str | os.PathLike[str] | None = None,
        url: str | None = None,
        filename: str | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        enable_hls: bool = True,
        enable_thumbnail: bool = True,
    ) -> None:
        if (file is None) == (url is None):
            raise InvalidRequestError("pass exactly one of file= (a local path) or url=")
        metadata = check_user_metadata(user_metadata)
        self.token = str(metadata.get(UPLOAD_TOKEN_KEY) or uuid.uuid4().hex)
        metadata[UPLOAD_TOKEN_KEY] = self.token
        files: dict[str, UploadSource] = {}
        if file is not None:
            path = check_media_file(file, multipart=False)
            shown = filename or path.name
            files["file"] = UploadSource(
                filename=safe_filename(shown), path=path, size_bytes=path.stat().st_size
            )
        else:
            assert url is not None
            if not isinstance(url, str) or "://" not in url:
                raise InvalidRequestError(
                    f"url must be an http(s) URL to the raw media, got {url!r}"
                )
            shown = filename or url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "media"
        self.filename = safe_filename(shown)
        form = {
            "method": "direct" if file is not None else "url",
            "url": url,
            "filename": self.filename,
            "enable_hls": enable_hls,
            "enable_thumbnail": enable_thumbnail,
            "user_metadata": orjson.dumps(metadata).decode(),
        }
        super().__init__(Request("POST", "/assets", form=form, files=files))

    def created(self, reply: Reply) -> Asset:
        """The asset in the answer (``processing``)."""
        return Asset.from_api(reply.json())

    def find(self, ctx: Context, error: TwelveLabsError, started: float) -> Flow[Asset | None]:
        """The asset this create made despite the error, None when it made none."""
        found: Asset | None = yield from find_by_metadata(
            ctx, self.filename, UPLOAD_TOKEN_KEY, self.token
        )
        return found


def find_by_metadata(ctx: Context, filename: str, key: str, value: str) -> Flow[Asset | None]:
    """The newest asset named ``filename`` whose ``user_metadata[key] == value``, or None."""
    assets = yield from _assets_named(ctx, filename)
    for asset in assets:
        if asset.user_metadata.get(key) == value:
            return asset._bind(ctx.owner)
    return None


def _assets_named(ctx: Context, filename: str) -> Flow[list[Asset]]:
    """The assets named ``filename``, newest first (the first pages of them)."""
    request = Request("GET", "/assets", params={"filename": filename, "page_limit": PAGE_LIMIT_MAX})
    assets: list[Asset]
    assets, _ = yield from emitted(
        pages(request, ctx, "asset list", Asset.from_api, max_pages=_LOOKUP_PAGES)
    )
    return assets


def delete_asset(asset_id: str, ctx: Context, *, force: bool = False) -> Flow[None]:
    """``DELETE /assets/{asset_id}`` (409 while indexed assets use it, unless ``force``)."""
    params = {"force": True} if force else None
    yield from send(Request("DELETE", ASSETS.retrieve(asset_id).path, params=params), ctx)


def check_media_file(file: str | os.PathLike[str], *, multipart: bool) -> pathlib.Path:
    """A local media file must exist, be regular, readable, not empty, of a known type and
    within the API's size limit for how it is sent.

    Raises:
        InvalidVideoError: naming the file and the fix.

    Example:
        >>> check_media_file("/no/such/file.mp4", multipart=True)
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidVideoError: file not found: '/no/such/file.mp4'; check the path
    """
    shown = str(file)
    path = pathlib.Path(file).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InvalidVideoError(f"file not found: {shown!r}; check the path", path=shown) from None
    except OSError as exc:
        raise InvalidVideoError(f"cannot access {shown!r}: {exc.strerror}", path=shown) from exc
    if not stat.S_ISREG(info.st_mode):
        raise InvalidVideoError(f"{shown!r} is not a regular file; pass one media file", path=shown)
    if not os.access(path, os.R_OK):
        raise InvalidVideoError(f"{shown!r} is not readable; fix its permissions", path=shown)
    if info.st_size == 0:
        raise InvalidVideoError(f"{shown!r} is empty (0 bytes)", path=shown)
    media = media_type_of(path.name)
    if media is None:
        raise InvalidVideoError(
            f"{shown!r} is not a video, audio, image or document file the API takes (by its "
            "extension: .mp4, .mov, .mp3, .wav, .png, .jpg, .pdf, .txt, .md...)",
            path=shown,
        )
    limit = MULTIPART_LIMITS.get(media, 0) if multipart else DIRECT_LIMITS[media]
    limit = max(limit, DIRECT_LIMITS[media])
    if info.st_size > limit:
        raise InvalidVideoError(
            f"{shown!r} is {info.st_size / 1024**2:.1f} MB; {media} files are limited to "
            f"{limit / 1024**2:.0f} MB{' for a direct upload' if not multipart else ''}",
            path=shown,
        )
    return path


# --- uploading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadPlan:
    """A checked local file and how it will go up (made by :func:`plan_upload`).

    Example:
        >>> plan = plan_upload("talk.mp4", filename=None, user_metadata=None, enable_hls=True,
        ...                    enable_thumbnail=True, multipart_threshold_bytes=1)  # doctest: +SKIP
        >>> plan.multipart  # doctest: +SKIP
        True
    """

    path: pathlib.Path
    size: int
    media: MediaType
    filename: str
    user_metadata: dict[str, Any]
    enable_hls: bool
    enable_thumbnail: bool
    multipart: bool


def plan_upload(
    path: str | os.PathLike[str],
    *,
    filename: str | None = None,
    user_metadata: Mapping[str, Any] | None = None,
    enable_hls: bool = True,
    enable_thumbnail: bool = True,
    multipart_threshold_bytes: int = MULTIPART_THRESHOLD_BYTES,
) -> UploadPlan:
    """Check a local file and decide direct or multipart (before any byte is sent); the
    defaults are those of :meth:`Assets.upload`."""
    checked = check_media_file(path, multipart=True)
    size = checked.stat().st_size
    media = media_type_of(checked.name)
    assert media is not None
    multipart = media in MULTIPART_LIMITS and (
        size > multipart_threshold_bytes or size > DIRECT_LIMITS[media]
    )
    return UploadPlan(
        path=checked,
        size=size,
        media=media,
        filename=safe_filename(filename or checked.name),
        user_metadata=check_user_metadata(user_metadata),
        enable_hls=enable_hls,
        enable_thumbnail=enable_thumbnail,
        multipart=multipart,
    )


def upload_asset(
    plan: UploadPlan,
    ctx: Context,
    *,
    base_url: str,
    journal: UploadJournal,
    max_concurrency: int,
    on_progress: OnProgress | None,
    timeout_s: float | None,
    digest: str | None = None,
) -> Flow[Asset]:
    """Upload a checked file once: reuse an asset with the same name and bytes, else send it,
    then wait until the asset is ready. ``digest``: the file's SHA-256 when the caller has it.

    Overlapping uploads of the same bytes pay once: in this process the content is claimed
    (another flow uploading it is waited for, then its asset found), and the hash marker is
    looked up again right before sending; an asset another process made at the same moment
    is adopted and ours deleted (:func:`converge_assets`).
    """
    timeout_s = check_timeout(timeout_s)  # refused before a byte is sent, not after
    if digest is None:
        digest = yield Call(sha256_file, (plan.path,), blocking=True)
    with (yield from CLAIMS.hold((base_url, HASH_KEY, digest))):
        made = yield from _upload_claimed(
            plan, digest, ctx, base_url=base_url, journal=journal, max_concurrency=max_concurrency,
            on_progress=on_progress,
        )  # fmt: skip
    if isinstance(made, str):
        uploaded: Asset = yield from wait(made, ctx, kind=ASSETS, timeout_s=timeout_s)
        return uploaded
    if made.ready:
        return made  # ready when found or when converged: nothing to wait for
    reused = made.reused
    asset: Asset = yield from wait(made, ctx, timeout_s=timeout_s)
    asset.reused = reused  # after the wait: a fresh read would reset it
    return asset


@dataclass(frozen=True)
class Uploader:
    """Uploads a local file that a job reads (an analysis, an embedding) as a bare asset.

    Such an asset needs neither streaming nor thumbnails; it goes through the assets
    resource's journal, so an upload interrupted here resumes from ``assets.upload``.

    Example:
        >>> Uploader("https://api.twelvelabs.io/v1.3", UploadJournal()).base_url
        'https://api.twelvelabs.io/v1.3'
    """

    base_url: str
    journal: UploadJournal

    @classmethod
    def of(cls, client: Any) -> Uploader:
        """The uploader of a client (its base URL, its assets' journal)."""
        return cls(client.base_url, client.assets._journal)

    def upload(
        self,
        path: str | os.PathLike[str],
        ctx: Context,
        *,
        timeout_s: float | None = None,
        playable: bool = False,
        digest: str | None = None,
        max_concurrency: int = 5,
        on_progress: OnProgress | None = None,
    ) -> Flow[Asset]:
        """Upload ``path`` once (checked first; the same bytes reuse their asset).

        ``playable``: the asset gets streaming and thumbnails (for a video that is indexed);
        ``digest``: the file's SHA-256, when the caller hashed it already.
        """
        plan = plan_upload(path, enable_hls=playable, enable_thumbnail=playable)
        asset = yield from upload_asset(
            plan,
            ctx,
            base_url=self.base_url,
            journal=self.journal,
            max_concurrency=max_concurrency,
            on_progress=on_progress,
            timeout_s=timeout_s,
            digest=digest,
        )
        return asset


def _upload_claimed(
    plan: UploadPlan,
    digest: str,
    ctx: Context,
    *,
    base_url: str,
    journal: UploadJournal,
    max_concurrency: int,
    on_progress: OnProgress | None,
) -> Flow[Asset | str]:
    """Look up, then send, while holding the content's claim: the asset, or a multipart
    upload's asset id."""
    existing = yield from find_by_metadata(ctx, plan.filename, HASH_KEY, digest)
    if existing is not None and _interrupted_here(existing, journal, digest, base_url):
        existing = None  # our own unfinished multipart upload: resumed below, not waited on
    if existing is not None and not existing.failed:
        logger.info("reusing asset %s for %s (same bytes)", existing.id, plan.path.name)
        if on_progress is not None:
            yield Call(on_progress, (plan.size, plan.size))
        existing.reused = True
        return existing
    metadata = {HASH_KEY: digest, **plan.user_metadata}
    if plan.multipart:

        def remove_orphan(ctx: Context) -> Flow[None]:
            orphan = yield from find_by_metadata(ctx, plan.filename, HASH_KEY, digest)
            if orphan is not None and orphan.method == "multipart":
                yield from delete_asset(orphan.id, ctx, force=True)

        creation = SessionCreation(
            path=plan.path,
            size=plan.size,
            sha256=digest,
            filename=plan.filename,
            media_type=plan.media,
            user_metadata=metadata,
            enable_hls=plan.enable_hls,
            enable_thumbnail=plan.enable_thumbnail,
            remove_orphan=remove_orphan,
        )
        asset_id: str = yield from multipart_upload(
            creation,
            ctx,
            journal=journal,
            base_url=base_url,
            max_concurrency=max_concurrency,
            on_progress=on_progress,
        )
        return asset_id
    landed = yield from _sent_elsewhere(plan, digest, ctx, journal, base_url)
    if landed is not None:
        if on_progress is not None:
            yield Call(on_progress, (plan.size, plan.size))
        return landed
    marker = _in_flight_path(journal, digest, base_url)
    # Until the create ends, a run of this machine started meanwhile waits for it to land
    # rather than sending the same bytes again (also after this process is killed: its
    # bytes may still be crossing a slow link).
    bound = ctx.timeout_s if ctx.timeout_s is not None else _IN_FLIGHT_MAX_S
    yield Call(_write_in_flight, (marker, time.time() + bound))
    try:
        created = yield from create(
            AssetCreation(
                file=plan.path,
                filename=plan.filename,
                user_metadata=metadata,
                enable_hls=plan.enable_hls,
                enable_thumbnail=plan.enable_thumbnail,
            ),
            ctx,
        )
    finally:
        _clear_in_flight(marker)
    kept = yield from converge_assets(created, ctx, plan.filename, digest)
    if on_progress is not None:
        yield Call(on_progress, (plan.size, plan.size))
    return kept


# A direct upload in flight, for the runs of this machine: the file holds the wall time
# (time.time(), shared by processes) until which its bytes may still land on the server.
_IN_FLIGHT_MAX_S = 3600.0


def _in_flight_path(journal: UploadJournal, digest: str, base_url: str) -> pathlib.Path:
    return journal.path_for(digest, base_url).with_suffix(".sending")


def _write_in_flight(marker: pathlib.Path, until: float) -> None:
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(repr(until), "utf-8")


def _clear_in_flight(marker: pathlib.Path) -> None:
    with contextlib.suppress(OSError):
        marker.unlink()


def _in_flight_until(marker: pathlib.Path) -> float | None:
    try:
        return float(marker.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _sent_elsewhere(
    plan: UploadPlan, digest: str, ctx: Context, journal: UploadJournal, base_url: str
) -> Flow[Asset | None]:
    """The asset another run of this machine is still sending these bytes as, once it has
    landed; None when no run is (or its bound passed without the asset appearing)."""
    marker = _in_flight_path(journal, digest, base_url)
    rounds = 1
    while True:
        until = yield Call(_in_flight_until, (marker,))
        if until is None or time.time() >= until:
            return None
        logger.info("%s is being uploaded by another run; waiting for it", plan.path.name)
        yield Sleep(ctx.poll.interval_s(rounds))
        rounds += 1
        landed = yield from find_by_metadata(ctx, plan.filename, HASH_KEY, digest)
        if landed is not None and not landed.failed:
            landed.reused = True
            return landed


def converge_assets(made: Asset, ctx: Context, filename: str, digest: str) -> Flow[Asset]:
    """``made``, or the asset with the same bytes another process created first (ours is
    then deleted): every creator keeps the same one (:func:`~.._claims.kept`).
    """
    assets = yield from _assets_named(ctx, filename)
    twins = [a for a in assets if a.user_metadata.get(HASH_KEY) == digest and not a.failed]
    chosen = kept(made, twins)
    if chosen is made:
        # The listing's copy is newer than the create's answer: often ready already, which
        # saves the first read of the wait.
        listed = next((a for a in twins if a.id == made.id), None)
        if listed is not None:
            made.update_from(listed)
        return made
    logger.info("asset %s duplicates %s made at the same time", made.id, chosen.id)
    yield from delete_asset(made.id, ctx, force=True)
    chosen.reused = True
    return chosen._bind(ctx.owner)


def _interrupted_here(asset: Asset, journal: UploadJournal, digest: str, base_url: str) -> bool:
    """True for the asset of a multipart upload this machine began and did not finish.

    Such an asset carries the file's hash from the start, so it looks like a twin; but it
    stays ``processing`` until its chunks arrive, which only a resumed upload sends. The
    journal (deleted once an upload completes) tells the two apart.
    """
    entry = journal.load(digest, base_url)
    return entry is not None and entry.get("asset_id") == asset.id


# --- the resource --------------------------------------------------------------------------


def _read(job_id: str, ctx: Context) -> Flow[Job]:
    asset: Job = yield from fetch(ASSETS, job_id, ctx)
    return asset


def _list_request(
    asset_ids: Iterable[str] | None,
    asset_types: Iterable[MediaType] | None,
    filename: str | None,
    page_limit: int,
) -> Request:
    if isinstance(asset_ids, str):  # a lone id would be sent one character at a time
        raise InvalidRequestError(f"asset_ids takes a list of ids, got {asset_ids!r}")
    params = {
        "asset_ids": [path_segment(a, "asset_id") and a for a in asset_ids] if asset_ids else None,
        "asset_types": list(asset_types) if asset_types else None,
        "filename": filename,
        "page_limit": page_limit,
    }
    if not 1 <= page_limit <= PAGE_LIMIT_MAX:
        raise InvalidRequestError(f"page_limit must be 1 to {PAGE_LIMIT_MAX}, got {page_limit}")
    return Request("GET", "/assets", params=params)


def _list(request: Request, ctx: Context) -> Flow[None]:
    yield from pages(request, ctx, "asset list", lambda item: Asset.from_api(item)._bind(ctx.owner))


def _transcription(asset_id: str, include: Sequence[str], ctx: Context) -> Flow[AssetTranscript]:
    bad = [kind for kind in include if kind not in ("words", "sentences", "utterances")]
    if bad or isinstance(include, str):
        raise InvalidRequestError(
            f"include takes 'words', 'sentences' and/or 'utterances', got {include!r}"
        )
    path = f"{ASSETS.retrieve(asset_id).path}/transcription"
    body = yield from send_json(Request("GET", path, params={"include": list(include)}), ctx)
    return AssetTranscript.from_api(body)


def _user_metadata(
    asset_id: str, method: Literal["PATCH", "PUT", "DELETE"], metadata: Any, ctx: Context
) -> Flow[None]:
    path = f"{ASSETS.retrieve(asset_id).path}/user-metadata"
    body = None if method == "DELETE" else {"user_metadata": _checked_update(method, metadata)}
    yield from send(Request(method, path, json=body), ctx)


def _checked_update(method: str, metadata: Any) -> dict[str, Any]:
    """New user metadata, checked before sending: a merge (PATCH) may also hold None
    values, which delete their keys; a replacement may not."""
    if not isinstance(metadata, Mapping):
        raise InvalidRequestError(
            f"user_metadata must be a mapping of strings to values, got {metadata!r}"
        )
    deleted = {
        k: v for k, v in metadata.items() if v is None and method == "PATCH" and isinstance(k, str)
    }
    kept = check_user_metadata({k: v for k, v in metadata.items() if k not in deleted})
    return {**kept, **deleted}


def _created(creation: AssetCreation, ctx: Context) -> Flow[Asset]:
    asset: Asset = yield from create(creation, ctx)
    return asset


def _wait_for_done(
    asset: JobRef,
    ctx: Context,
    sleep_interval: float,
    callback: OnUpdate | None,
    timeout_s: float | None,
) -> Flow[Asset]:
    job = (
        asset
        if isinstance(asset, Asset)
        else (yield from fetch(ASSETS, job_id_of(asset, "asset_id"), ctx))
    )
    done: Asset = yield from wait_for_done(
        job, ctx, sleep_interval=sleep_interval, callback=callback, timeout_s=timeout_s
    )
    return done


class Assets(JobResource[Asset]):
    """``client.assets``: upload media files, read, list and delete them, wait for them.

    Example:
        >>> asset = client.assets.upload("lecture.mp4", on_progress=print)  # doctest: +SKIP
        >>> asset.status, asset.media_duration_s  # doctest: +SKIP
        ('ready', 3605.2)
    """

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self._journal = UploadJournal()

    def _locator(self) -> Locate:
        return _read

    def create(
        self,
        file: str | os.PathLike[str] | None = None,
        *,
        url: str | None = None,
        filename: str | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        enable_hls: bool = True,
        enable_thumbnail: bool = True,
    ) -> Asset:
        """Create an asset from a local file (one request, up to 200 MB) or a URL; no wait.

        For a file of any size, with de-duplication and resuming, use :meth:`upload`.

        Raises:
            InvalidVideoError: the file is missing, empty, of an unknown type or too large.
            InvalidRequestError: both or neither of ``file`` and ``url``.

        Example:
            >>> client.assets.create(url="https://example.com/talk.mp4").status  # doctest: +SKIP
            'processing'
        """
        creation = AssetCreation(
            file=file,
            url=url,
            filename=filename,
            user_metadata=user_metadata,
            enable_hls=enable_hls,
            enable_thumbnail=enable_thumbnail,
        )
        return self._client._run(_created(creation, self._ctx))

    def upload(
        self,
        path: str | os.PathLike[str],
        *,
        filename: str | None = None,
        user_metadata: Mapping[str, Any] | None = None,
        enable_hls: bool = True,
        enable_thumbnail: bool = True,
        max_concurrency: int = 5,
        on_progress: OnProgress | None = None,
        timeout_s: float | None = None,
        multipart_threshold_bytes: int = MULTIPART_THRESHOLD_BYTES,
    ) -> Asset:
        """Upload one local file of any size (up to 10 GB) and return the ready asset.

        The file is checked first, then hashed: an asset of this account with the same
        ``filename`` holding the same bytes is returned without sending anything (the API
        lists assets by name, not by content: a copy under another name is sent again).
        Otherwise a file up to ``multipart_threshold_bytes`` goes in one streamed request;
        a larger one in chunks, ``max_concurrency`` at a time, straight from the file (no
        temporary files). An interrupted multipart upload resumes where it stopped when
        called again (see :mod:`.uploads` for the journal).

        Args:
            path: the local file (video, audio, image, PDF, .txt or .md).
            filename: the name the asset gets (default: the file's).
            user_metadata: your key/value pairs (``tl_sha256`` is added).
            max_concurrency: chunks sent at once.
            on_progress: ``on_progress(bytes_done, total_bytes)`` as chunks arrive.
            timeout_s: how long to wait for the asset to be ready, in seconds.

        Raises:
            InvalidVideoError: refused before upload (missing, empty, type, size).
            TaskFailedError: the asset failed (the server's reason included).
            TaskTimeoutError: ``timeout_s`` passed (call again: nothing is sent twice).

        Example:
            >>> client.assets.upload("big.mov", max_concurrency=8).id  # doctest: +SKIP
            '6711a09ae4a1b37f8a9c5d01'
        """
        check_int("max_concurrency", max_concurrency)
        plan = plan_upload(
            path,
            filename=filename,
            user_metadata=user_metadata,
            enable_hls=enable_hls,
            enable_thumbnail=enable_thumbnail,
            multipart_threshold_bytes=multipart_threshold_bytes,
        )
        flow = upload_asset(
            plan,
            self._ctx,
            base_url=self._client.base_url,
            journal=self._journal,
            max_concurrency=max_concurrency,
            on_progress=on_progress,
            timeout_s=timeout_s,
        )
        return self._client._run(flow)

    def retrieve(self, asset_id: str | Asset) -> Asset:
        """Fetch an asset.

        Raises:
            NotFoundError: no such asset.

        Example:
            >>> client.assets.retrieve(asset_id).status  # doctest: +SKIP
            'ready'
        """
        return self._client._run(fetch(ASSETS, job_id_of(asset_id, "asset_id"), self._ctx))

    def list(
        self,
        *,
        asset_ids: Iterable[str] | None = None,
        asset_types: Iterable[MediaType] | None = None,
        filename: str | None = None,
        page_limit: int = PAGE_LIMIT_MAX,
    ) -> Iterator[Asset]:
        """Iterate over assets, newest first, with the API's filters (every page).

        Example:
            >>> [a.filename for a in client.assets.list(asset_types=["video"])]  # doctest: +SKIP
            ['talk.mp4']
        """
        request = _list_request(asset_ids, asset_types, filename, page_limit)
        return self._client._iterate(_list(request, self._ctx))

    def delete(self, asset_id: str | Asset, *, force: bool = False) -> None:
        """Delete an asset; refused (``ConflictError``, 409) while an index uses it, unless
        ``force=True``.

        Example:
            >>> client.assets.delete(asset_id, force=True)  # doctest: +SKIP
        """
        return self._client._run(
            delete_asset(job_id_of(asset_id, "asset_id"), self._ctx, force=force)
        )

    def transcription(
        self,
        asset_id: str | Asset,
        *,
        include: Sequence[str] = ("words", "sentences", "utterances"),
    ) -> AssetTranscript:
        """The asset's transcript: words, sentences and utterances with their speakers.

        Raises:
            NotFoundError: no such asset, or it has no transcription (yet).

        Example:
            >>> t = client.assets.transcription(asset_id, include=["utterances"])  # doctest: +SKIP
            >>> [(u.speaker, u.text) for u in t.utterances]  # doctest: +SKIP
        """
        flow = _transcription(job_id_of(asset_id, "asset_id"), include, self._ctx)
        return self._client._run(flow)

    def update_user_metadata(self, asset_id: str | Asset, user_metadata: Mapping[str, Any]) -> None:
        """Merge ``user_metadata`` into the asset's (a None value deletes that key).

        Example:
            >>> client.assets.update_user_metadata(asset_id, {"team": "blue"})  # doctest: +SKIP
        """
        flow = _user_metadata(job_id_of(asset_id, "asset_id"), "PATCH", user_metadata, self._ctx)
        return self._client._run(flow)

    def replace_user_metadata(
        self, asset_id: str | Asset, user_metadata: Mapping[str, Any]
    ) -> None:
        """Replace the asset's user metadata with ``user_metadata`` (``{}`` clears it).

        Example:
            >>> client.assets.replace_user_metadata(asset_id, {"team": "red"})  # doctest: +SKIP
        """
        flow = _user_metadata(job_id_of(asset_id, "asset_id"), "PUT", user_metadata, self._ctx)
        return self._client._run(flow)

    def clear_user_metadata(self, asset_id: str | Asset) -> None:
        """Remove all of the asset's user metadata.

        Example:
            >>> client.assets.clear_user_metadata(asset_id)  # doctest: +SKIP
        """
        flow = _user_metadata(job_id_of(asset_id, "asset_id"), "DELETE", None, self._ctx)
        return self._client._run(flow)


class AsyncAssets(AsyncJobResource[Asset]):
    """``client.assets`` of :class:`~tl_integrations.AsyncTwelveLabs` (same methods, awaited).

    Example:
        >>> asset = await client.assets.upload("talk.mp4")  # doctest: +SKIP
    """

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self._journal = UploadJournal()

    _locator = Assets._locator

    create = awaited(Assets.create)
    upload = awaited(Assets.upload)
    retrieve = awaited(Assets.retrieve)
    list = streamed(Assets.list)
    delete = awaited(Assets.delete)
    transcription = awaited(Assets.transcription)
    update_user_metadata = awaited(Assets.update_user_metadata)
    replace_user_metadata = awaited(Assets.replace_user_metadata)
    clear_user_metadata = awaited(Assets.clear_user_metadata)
