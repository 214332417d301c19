"""Settings of the emulator: timing model, media and request limits, rate limits, faults,
the clock, and who may reach it (hosts, local files).

Everything is a frozen dataclass with generous defaults, so ``EmulatorConfig()`` is a working
emulator and tests change only what they need (``EmulatorConfig(speed=100, seed=1)``).
"""

from __future__ import annotations

import ipaddress
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

__all__ = [
    "EmulatorConfig",
    "Faults",
    "ManualClock",
    "MediaLimits",
    "RateLimits",
    "RequestLimits",
    "Stage",
    "StageModel",
    "UploadLimits",
]

Clock = Callable[[], float]
_LAST_DATE_S = 253_402_300_799.0  # 9999-12-31T23:59:59Z
#: Every model an index was ever made with (the emulator can serve each).
INDEX_MODEL_NAMES = frozenset({"marengo3.0", "marengo2.7", "pegasus1.2", "pegasus1.5"})


class ManualClock:
    """A clock that only moves when told to: tests drive task progress without sleeping.

    Args:
        start_s: The initial time, in seconds since the Unix epoch.

    Example:
        >>> clock = ManualClock(start_s=1_700_000_000.0)
        >>> clock.advance(5.0)
        1700000005.0
        >>> clock()
        1700000005.0
    """

    def __init__(self, start_s: float = 1_700_000_000.0) -> None:
        self._now_s = float(start_s)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        """Return the current time in seconds since the epoch."""
        with self._lock:
            return self._now_s

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (finite, >= 0) and return the new time.

        Raises:
            ValueError: For a negative, infinite or NaN step, or one past the year 9999 (a
                clock there would break every date the emulator writes).

        Example:
            >>> ManualClock(start_s=10.0).advance(2.5)
            12.5
        """
        if not math.isfinite(seconds):
            raise ValueError(f"a clock advances by a finite number of seconds, not {seconds}")
        if seconds < 0:
            raise ValueError(f"a clock cannot go back (advance by {seconds} s)")
        with self._lock:
            if self._now_s + seconds > _LAST_DATE_S:
                raise ValueError(
                    f"advancing by {seconds} s would take the clock past the year 9999, "
                    "which no date can show"
                )
            self._now_s += seconds
            return self._now_s


@dataclass(frozen=True)
class Stage:
    """How long one processing stage takes: ``base_s + per_video_s * video duration``.

    Example:
        >>> Stage(base_s=1.0, per_video_s=0.1).seconds(video_duration_s=30.0)
        4.0
    """

    base_s: float = 0.5
    per_video_s: float = 0.0

    def seconds(self, *, video_duration_s: float) -> float:
        """Unscaled duration of this stage for a video of the given length.

        Example:
            >>> Stage(base_s=2.0, per_video_s=0.5).seconds(video_duration_s=10.0)
            7.0
        """
        return self.base_s + self.per_video_s * video_duration_s


@dataclass(frozen=True)
class StageModel:
    """Durations of the indexing stages, embedding tasks, asset processing, analysis tasks
    and entity processing (after each change of an entity's images), before ``speed`` scaling.

    An analysis task waits ``queued`` and ``pending`` (the indexing stages' values), then
    works ``analysis``, which scales with the analysed window rather than the whole video.

    ``jitter`` spreads each duration by up to +/- that fraction, deterministically per task
    (derived from the seed and the task id).

    Example:
        >>> StageModel().indexing.seconds(video_duration_s=60.0)
        7.0
    """

    validating: Stage = field(default_factory=lambda: Stage(1.0, 0.0))
    pending: Stage = field(default_factory=lambda: Stage(0.5, 0.0))
    queued: Stage = field(default_factory=lambda: Stage(0.5, 0.0))
    indexing: Stage = field(default_factory=lambda: Stage(1.0, 0.1))
    embedding: Stage = field(default_factory=lambda: Stage(1.0, 0.05))
    asset: Stage = field(default_factory=lambda: Stage(1.0, 0.01))
    analysis: Stage = field(default_factory=lambda: Stage(2.0, 0.02))
    entity: Stage = field(default_factory=lambda: Stage(2.0, 0.0))
    jitter: float = 0.2


@dataclass(frozen=True)
class MediaLimits:
    """The media rules enforced on uploads (defaults: Marengo 3.0 era, see the API notes).

    Example:
        >>> MediaLimits(min_duration_s=1.0).min_duration_s
        1.0
    """

    min_duration_s: float = 4.0
    max_duration_s: float = 4 * 3600.0
    min_side_px: int = 360
    max_long_side_px: int = 5184
    max_short_side_px: int = 2160
    max_aspect_ratio: float = 2.4
    max_file_size_bytes: int = 2 * 1024**3
    max_base64_bytes: int = 36 * 1024**2


_MB = 1024**2
_GB = 1024**3


@dataclass(frozen=True)
class UploadLimits:
    """The rules of ``POST /assets`` and of multipart upload sessions.

    Sizes are bytes. ``chunk_size_bytes`` is the part size the server picks for a session
    (raised when a file would need more than ``max_chunks`` parts, as S3 allows 10,000);
    ``initial_urls`` is how many presigned chunk URLs a new session hands out, so that a
    large file needs ``presigned-urls`` for the rest.

    Example:
        >>> UploadLimits(chunk_size_bytes=1024).chunk_size_for(10_000)
        1024
        >>> UploadLimits(chunk_size_bytes=1024, max_chunks=5).chunk_size_for(10_000)
        2000
    """

    direct_bytes: int = 200 * _MB
    url_bytes: int = 4 * _GB
    image_bytes: int = 32 * _MB
    url_document_bytes: int = 512 * _MB
    multipart_bytes: int = 10 * _GB
    chunk_size_bytes: int = 8 * _MB
    max_chunks: int = 10_000
    initial_urls: int = 10
    url_ttl_s: float = 3600.0
    session_ttl_s: float = 86400.0

    def __post_init__(self) -> None:
        if self.chunk_size_bytes < 1 or self.max_chunks < 1 or self.initial_urls < 1:
            raise ValueError("chunk_size_bytes, max_chunks and initial_urls must be >= 1")

    def chunk_size_for(self, total_size: int) -> int:
        """The chunk size of a session for a file of ``total_size`` bytes.

        Example:
            >>> UploadLimits(chunk_size_bytes=4096).chunk_size_for(10_000)
            4096
        """
        return max(self.chunk_size_bytes, -(-total_size // self.max_chunks))


_RATE_CATEGORIES = ("tasks", "assets", "embed", "search", "analyze", "default")


@dataclass(frozen=True)
class RateLimits:
    """Requests per minute per endpoint category (token buckets; 0 disables a limit).

    Categories: ``tasks`` (POST /tasks and POST /indexes/{id}/indexed-assets), ``assets``
    (POST /assets), ``embed`` (POST /embed, /embed/tasks, /embed-v2, /embed-v2/tasks),
    ``search`` (POST /search), ``analyze`` (POST /analyze, /analyze/tasks and
    /analyze/batches) and ``default`` (every other request).

    Example:
        >>> RateLimits(search=2).per_minute("search")
        2
    """

    tasks: int = 600
    assets: int = 600
    embed: int = 600
    search: int = 600
    analyze: int = 600
    default: int = 60_000

    def per_minute(self, category: str) -> int:
        """The limit of one category (``default`` for unknown names).

        Example:
            >>> limits = RateLimits(search=30)
            >>> limits.per_minute("search"), limits.per_minute("nope") == limits.default
            (30, True)
        """
        return int(getattr(self, category if category in _RATE_CATEGORIES else "default"))


_FAULT_KEYS = {
    "500": "p500",
    "502": "p502",
    "503": "p503",
    "429": "p429",
    "drop": "drop",
    "lost": "lost",
    "latency": "latency",
    "latency_s": "latency_s",
    "fail": "fail",
    "webhook_drop": "webhook_drop",
    "webhook_duplicate": "webhook_duplicate",
    "webhook_delay": "webhook_delay",
    "webhook_delay_s": "webhook_delay_s",
    "webhook_reorder": "webhook_reorder",
}
# Settings that are durations, not probabilities.
_FAULT_SECONDS = ("latency_s", "webhook_delay_s")


_MAX_FAULT_S = 3600.0


@dataclass(frozen=True)
class Faults:
    """Probabilities of injected faults, drawn per API request from a seeded generator.

    ``p500``/``p502``/``p503``: answer with that status; ``p429``: answer 429 with
    ``Retry-After: 1``; ``drop``: close the connection without a response, before the
    request is handled; ``lost``: handle the request (an upload is stored, a task created),
    then close the connection instead of answering, as when a response is lost on the way
    back; ``latency``: add ``latency_s`` seconds before answering; ``fail``: share of new
    tasks that fail.

    Webhook deliveries draw from their own generator (seeded, keyed by event, so the same
    seed gives the same fate to the same event whatever the order of requests):
    ``webhook_drop``: the event is never sent; ``webhook_duplicate``: it is sent twice;
    ``webhook_delay``: it is sent ``webhook_delay_s`` emulator seconds late;
    ``webhook_reorder``: it is held back until the next event due has been sent.

    Example:
        >>> Faults.parse("500=0.1,drop=0.02,fail=0.5").p500
        0.1
        >>> Faults.parse("latency=1,latency_s=0.01").to_spec()
        'latency=1.0,latency_s=0.01'
    """

    p500: float = 0.0
    p502: float = 0.0
    p503: float = 0.0
    p429: float = 0.0
    drop: float = 0.0
    lost: float = 0.0
    latency: float = 0.0
    latency_s: float = 0.5
    fail: float = 0.0
    webhook_drop: float = 0.0
    webhook_duplicate: float = 0.0
    webhook_delay: float = 0.0
    webhook_delay_s: float = 30.0
    webhook_reorder: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name not in _FAULT_SECONDS and not 0.0 <= value <= 1.0:
                raise ValueError(f"fault probability {f.name}={value} is not within [0, 1]")
        for name in _FAULT_SECONDS:
            value = getattr(self, name)
            if not 0 <= value <= _MAX_FAULT_S:
                # NaN fails this too: an endless or NaN sleep would stall every request.
                raise ValueError(
                    f"{name} must be within [0, {_MAX_FAULT_S:g}] seconds, got {value}"
                )

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """Parse ``"500=0.1,503=0.05,429=0.05,drop=0.02,latency=0.05,fail=0.1"``.

        Example:
            >>> Faults.parse("500=0.1, drop=0.02").to_dict()
            {'500': 0.1, 'drop': 0.02}
        """
        values: dict[str, float] = {}
        for item in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, raw = item.partition("=")
            if not sep or key.strip() not in _FAULT_KEYS:
                raise ValueError(f"bad fault {item!r}; keys: {', '.join(_FAULT_KEYS)}")
            values[_FAULT_KEYS[key.strip()]] = float(raw)
        return cls(**values)

    @classmethod
    def from_mapping(cls, data: Mapping[str, float]) -> Faults:
        """Build from ``{"500": 0.1, "drop": 0.02}`` (the keys of :meth:`parse`).

        Example:
            >>> Faults.from_mapping({"503": 0.2}) == Faults.parse("503=0.2")
            True
        """
        return cls.parse(",".join(f"{k}={v}" for k, v in data.items()))

    def to_dict(self) -> dict[str, float]:
        """The non-default settings, keyed like :meth:`parse` expects.

        Example:
            >>> Faults().to_dict()
            {}
        """
        default = Faults()
        return {
            key: float(getattr(self, attr))
            for key, attr in _FAULT_KEYS.items()
            if getattr(self, attr) != getattr(default, attr)
        }

    def to_spec(self) -> str:
        """The inverse of :meth:`parse` (only non-default settings).

        Example:
            >>> Faults.parse("503=0.2,drop=0.01").to_spec()
            '503=0.2,drop=0.01'
        """
        return ",".join(f"{k}={v}" for k, v in self.to_dict().items())


@dataclass(frozen=True)
class RequestLimits:
    """What one request or connection may cost the server: body sizes and waiting times.

    Sizes are bytes, times seconds. Files in forms have their own limits (``MediaLimits``,
    ``UploadLimits``); these cap the rest, so that no request can fill memory or hold a
    connection forever:

    - ``json_bytes``: a JSON body (base64 media in Embed v2 bodies count; 36 MB of media
      is about 48 MB of base64).
    - ``form_parts``: fields and files in one form; ``form_field_bytes``: one text field;
      ``form_text_bytes``: all text fields (and urlencoded bodies) of one request.
    - ``header_timeout_s``: from connecting (or the end of the previous answer on a kept
      connection) to a complete request head; a connection that sends nothing, or drips
      its headers, is closed then.
    - ``read_timeout_s``: the longest wait for the next piece of a request body; a stalled
      upload is cut off then.

    Example:
        >>> RequestLimits(json_bytes=1024).json_bytes
        1024
        >>> RequestLimits(read_timeout_s=0)
        Traceback (most recent call last):
        ...
        ValueError: read_timeout_s must be a positive number of seconds, got 0
    """

    json_bytes: int = 64 * _MB
    form_parts: int = 1000
    form_field_bytes: int = _MB
    form_text_bytes: int = 16 * _MB
    header_timeout_s: float = 30.0
    read_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("json_bytes", "form_parts", "form_field_bytes", "form_text_bytes"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {getattr(self, name)}")
        for name in ("header_timeout_s", "read_timeout_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value}")


def random_seed() -> int:
    """A seed drawn at random (63 bits, so that it stays a JSON number).

    The default seed is drawn, not fixed: ids derive from it, and ids that every emulator
    shares would let anyone guess them. Give ``seed=`` to reproduce a run.

    Example:
        >>> 0 <= random_seed() < 2**63
        True
    """
    return secrets.randbits(63)


LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes an emulator instance.

    Args:
        speed: Processing speed-up; stage durations are divided by it (100 = 100x faster).
        seed: Makes ids, stage jitter, task failures and faults reproducible. By default
            one is drawn at random, so that ids cannot be guessed; with a given seed they
            can, so give one only where that does not matter (tests, benchmarks).
        api_key: The only key accepted; ``None`` accepts any non-empty ``x-api-key``.
        data_dir: Where state and media persist across restarts; ``None`` uses a temporary
            directory removed at shutdown. One emulator at a time uses a directory (a
            second one gets ``DataDirInUse``), and a directory holding files that are not
            the emulator's is refused.
        clock: Seconds since the epoch (default ``time.time``); pass a :class:`ManualClock`
            to drive task progress from a test.
        stages: The timing model of tasks.
        failure_rate: Share of tasks that fail (besides ``faults.fail``).
        media: The media rules of indexing and embedding.
        uploads: The rules of assets and multipart uploads (sizes, chunk size, URL lifetimes).
        media_validation: ``"sync"`` rejects bad media with a 400 on create; ``"async"``
            accepts the upload and fails the task after its validating stage.
        rate_limits: Requests per minute per category.
        faults: Injected faults.
        search_page_ttl_s: Lifetime of search page tokens.
        requests: Body sizes and waiting times of one request (:class:`RequestLimits`).
        allowed_hosts: ``Host`` names served besides loopback ones (``localhost``,
            ``127.0.0.1``, ``::1``); ``"*"`` serves any. Other names get a 403, so that a
            web page cannot reach the emulator by pointing its own name at 127.0.0.1 (DNS
            rebinding).
        file_dirs: Directories whose files ``file://`` media URLs may name. Empty (the
            default) refuses ``file://``: otherwise any request could read any file the
            emulator can.
        index_models: The models ``POST /indexes`` accepts: today's API takes
            ``marengo3.0`` only. Add retired ones (``marengo2.7``, ``pegasus1.2``) to make
            indexes like those an account created before they were retired.
        webhook_url: Where to POST signed webhook events (``index.task.*`` when indexing
            ends, ``analyze.task.*`` when an analysis ends), as the API does for the URL
            registered in its dashboard; None sends none.
        webhook_secret: The secret events are signed with (``TL-Signature``); never shown
            in a ``repr``.
        webhook_attempts: Deliveries of one event before giving up; a failed one (no
            answer, or not 2xx) is retried after 1, 2, 4 ... (at most 300) seconds of the
            emulator's clock.

    Example:
        >>> cfg = EmulatorConfig(speed=50.0, seed=7, clock=ManualClock())
        >>> cfg.with_overrides(api_key="secret").api_key
        'secret'
    """

    speed: float = 1.0
    seed: int = field(default_factory=random_seed)
    api_key: str | None = field(default=None, repr=False)
    data_dir: Path | str | None = None
    clock: Clock = time.time
    stages: StageModel = field(default_factory=StageModel)
    failure_rate: float = 0.0
    media: MediaLimits = field(default_factory=MediaLimits)
    uploads: UploadLimits = field(default_factory=UploadLimits)
    media_validation: str = "sync"
    rate_limits: RateLimits = field(default_factory=RateLimits)
    faults: Faults = field(default_factory=Faults)
    search_page_ttl_s: float = 3600.0
    requests: RequestLimits = field(default_factory=RequestLimits)
    allowed_hosts: tuple[str, ...] = ()
    file_dirs: tuple[Path | str, ...] = ()
    index_models: tuple[str, ...] = ("marengo3.0",)
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_attempts: int = 8

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be a whole number, got {self.seed!r}")
        if isinstance(self.allowed_hosts, str) or isinstance(self.file_dirs, (str, Path)):
            raise ValueError("allowed_hosts and file_dirs are sequences (a tuple of values)")
        if self.webhook_url is not None:
            if not self.webhook_url.startswith(("http://", "https://")):
                raise ValueError(f"webhook_url must be an http(s) URL, got {self.webhook_url!r}")
            if not self.webhook_secret:
                raise ValueError("webhook_url needs a webhook_secret to sign events with")
        if self.webhook_attempts < 1:
            raise ValueError(f"webhook_attempts must be >= 1, got {self.webhook_attempts}")
        if not self.speed > 0:
            raise ValueError(f"speed must be > 0, got {self.speed}")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError(f"failure_rate must be within [0, 1], got {self.failure_rate}")
        if self.media_validation not in ("sync", "async"):
            raise ValueError("media_validation must be 'sync' or 'async'")
        if not self.index_models or not set(self.index_models) <= INDEX_MODEL_NAMES:
            raise ValueError(
                f"index_models must be some of {sorted(INDEX_MODEL_NAMES)}, "
                f"got {self.index_models!r}"
            )

    def serves_host(self, host: str | None) -> bool:
        """Whether a request whose ``Host`` header names ``host`` (port and brackets
        allowed) is served: loopback names, ``allowed_hosts``, or anything with ``"*"``.

        Example:
            >>> cfg = EmulatorConfig(allowed_hosts=("emu.internal",))
            >>> [cfg.serves_host(h) for h in ("127.0.0.1:8765", "[::1]:80", "emu.internal",
            ...                               "attacker.example")]
            [True, True, True, False]
        """
        if "*" in self.allowed_hosts:
            return True
        name = host_name(host or "")
        return is_loopback(name) or name in {h.lower() for h in self.allowed_hosts}

    def with_overrides(self, **overrides: object) -> EmulatorConfig:
        """A copy with some fields replaced (``faults`` may be given as a spec string).

        Example:
            >>> EmulatorConfig().with_overrides(speed=50.0, faults="503=0.1").faults.to_spec()
            '503=0.1'
        """
        if isinstance(overrides.get("faults"), str):
            overrides["faults"] = Faults.parse(str(overrides["faults"]))
        return replace(self, **overrides)  # type: ignore[arg-type]


def host_name(host: str) -> str:
    """The name in a ``Host`` header or a bind address: no port, no brackets, lower case.

    Example:
        >>> host_name("LocalHost:8765"), host_name("[::1]:80"), host_name("::1")
        ('localhost', '::1', '::1')
    """
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:  # name:port (an IPv6 address has more than one colon)
        return host.partition(":")[0]
    return host


def is_loopback(name: str) -> bool:
    """Whether a host name or address (as :func:`host_name` gives it) is this machine.

    Example:
        >>> is_loopback("127.0.0.5"), is_loopback("::1"), is_loopback("0.0.0.0")
        (True, True, False)
    """
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
