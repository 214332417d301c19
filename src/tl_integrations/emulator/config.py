"""Settings of the emulator: timing model, media limits, rate limits, faults and the clock.

Everything is a frozen dataclass with generous defaults, so ``EmulatorConfig()`` is a working
emulator and tests change only what they need (``EmulatorConfig(speed=100, seed=1)``).
"""

from __future__ import annotations

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
    "Stage",
    "StageModel",
    "UploadLimits",
]

Clock = Callable[[], float]


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
        """Move the clock forward by ``seconds`` (>= 0) and return the new time.

        Example:
            >>> ManualClock(start_s=10.0).advance(2.5)
            12.5
        """
        if seconds < 0:
            raise ValueError(f"a clock cannot go back (advance by {seconds} s)")
        with self._lock:
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
        """Unscaled duration of this stage for a video of the given length."""
        return self.base_s + self.per_video_s * video_duration_s


@dataclass(frozen=True)
class StageModel:
    """Durations of the indexing stages, embedding tasks, asset processing and entity
    processing (after each change of an entity's images), before ``speed`` scaling.

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
        """The chunk size of a session for a file of ``total_size`` bytes."""
        return max(self.chunk_size_bytes, -(-total_size // self.max_chunks))


_RATE_CATEGORIES = ("tasks", "assets", "embed", "search", "analyze", "default")


@dataclass(frozen=True)
class RateLimits:
    """Requests per minute per endpoint category (token buckets; 0 disables a limit).

    Categories: ``tasks`` (POST /tasks and POST /indexes/{id}/indexed-assets), ``assets``
    (POST /assets), ``embed`` (POST /embed, /embed/tasks, /embed-v2, /embed-v2/tasks),
    ``search`` (POST /search), ``analyze`` (POST /analyze) and ``default`` (every other
    request).

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
        """The limit of one category (``default`` for unknown names)."""
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
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """Parse ``"500=0.1,503=0.05,429=0.05,drop=0.02,latency=0.05,fail=0.1"``."""
        values: dict[str, float] = {}
        for item in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, raw = item.partition("=")
            if not sep or key.strip() not in _FAULT_KEYS:
                raise ValueError(f"bad fault {item!r}; keys: {', '.join(_FAULT_KEYS)}")
            values[_FAULT_KEYS[key.strip()]] = float(raw)
        return cls(**values)

    @classmethod
    def from_mapping(cls, data: Mapping[str, float]) -> Faults:
        """Build from ``{"500": 0.1, "drop": 0.02}`` (the keys of :meth:`parse`)."""
        return cls.parse(",".join(f"{k}={v}" for k, v in data.items()))

    def to_dict(self) -> dict[str, float]:
        """The non-default settings, keyed like :meth:`parse` expects."""
        default = Faults()
        return {
            key: float(getattr(self, attr))
            for key, attr in _FAULT_KEYS.items()
            if getattr(self, attr) != getattr(default, attr)
        }

    def to_spec(self) -> str:
        """The inverse of :meth:`parse` (only non-default settings)."""
        return ",".join(f"{k}={v}" for k, v in self.to_dict().items())


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes an emulator instance.

    Args:
        speed: Processing speed-up; stage durations are divided by it (100 = 100x faster).
        seed: Makes ids, stage jitter, task failures and faults reproducible.
        api_key: The only key accepted; ``None`` accepts any non-empty ``x-api-key``.
        data_dir: Where state and media persist across restarts; ``None`` uses a temporary
            directory removed at shutdown.
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
    seed: int = 0
    api_key: str | None = None
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
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_attempts: int = 8

    def __post_init__(self) -> None:
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

    def with_overrides(self, **overrides: object) -> EmulatorConfig:
        """A copy with some fields replaced (``faults`` may be given as a spec string)."""
        if isinstance(overrides.get("faults"), str):
            overrides["faults"] = Faults.parse(str(overrides["faults"]))
        return replace(self, **overrides)  # type: ignore[arg-type]
