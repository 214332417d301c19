"""Shared pieces of the reliability suite: media, virtual time, server-side truth, counters.

Every emulator here runs on a :class:`ManualClock`. Clients get the sleeps of a
``testkit.FakeClock`` on that clock, which move it forward instead of waiting, so retries,
``Retry-After`` waits and polling cost no wall time.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit import FakeClock
from tl_integrations import AsyncTwelveLabs, TwelveLabs
from tl_integrations.emulator import Emulator, make_sample_video

# Distinctive, so that a leak anywhere is found by a plain substring search.
SECRET_KEY = "tlk-RELIABILITY-S3CR3T-7f3c9a1e5b"
VIDEO_COUNT = 30
# Each video says one sentence no other video says: a Document names its video.
TOPICS = [
    "apples", "bridges", "comets", "dolphins", "engines", "ferns", "glaciers", "harbours",
    "islands", "jazz", "kites", "lanterns", "meteors", "nebulas", "orchids", "pyramids",
    "quartz", "rivers", "saturn", "tulips", "umbrellas", "volcanoes", "walruses", "xylophones",
    "yachts", "zebras", "anchors", "beacons", "canyons", "deserts",
]  # fmt: skip


def line_of(number: int) -> str:
    """The one subtitle line of video ``number``."""
    return f"video {number} explains {TOPICS[number]}"


@dataclass(frozen=True)
class Media:
    """Generated once per session: small, fast videos and some bad inputs."""

    videos: tuple[Path, ...]  # VIDEO_COUNT 5 s 640x360 clips, each with its own line
    short: Path  # 2 s: under the 4 s minimum
    tiny: Path  # 200x200: under the 360 px minimum
    text_as_mp4: Path  # a text file named .mp4


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    root = tmp_path_factory.mktemp("reliability-media")
    videos = tuple(
        make_sample_video(
            root / f"clip-{n:02d}.mp4",
            duration_s=5.0,
            size=(640, 360),
            fps=2,
            subtitles=[(0.5, 4.5, line_of(n))],
            audio=False,
            seed=n,
        )
        for n in range(VIDEO_COUNT)
    )
    text = root / "notes.mp4"
    text.write_text("these are meeting notes, not a video\n" * 20)
    return Media(
        videos=videos,
        short=make_sample_video(root / "short.mp4", duration_s=2.0, fps=2, audio=False),
        tiny=make_sample_video(
            root / "tiny.mp4", duration_s=5.0, size=(200, 200), fps=2, audio=False
        ),
        text_as_mp4=text,
    )


def sync_client(emu: Emulator, vt: FakeClock, **kwargs: Any) -> TwelveLabs:
    """A client of ``emu`` whose sleeps move the emulator's clock."""
    kwargs.setdefault("api_key", SECRET_KEY)
    return TwelveLabs(base_url=emu.base_url, clock=vt, sleep=vt.sleep, **kwargs)


def async_client(emu: Emulator, vt: FakeClock, **kwargs: Any) -> AsyncTwelveLabs:
    """The async twin of :func:`sync_client`."""
    kwargs.setdefault("api_key", SECRET_KEY)
    return AsyncTwelveLabs(base_url=emu.base_url, clock=vt, sleep=vt.async_sleep, **kwargs)


@dataclass(frozen=True)
class ServerTruth:
    """What the emulator itself recorded: every stored upload and the fate of its jobs."""

    hashes: Counter[str]  # tl_sha256 -> videos stored with it (failed ones included)
    failed_files: frozenset[str]  # file names whose indexing failed
    statuses: Counter[str]  # indexing statuses now (indexed assets, by either path)
    failed_embed_tasks: int
    assets: int = 0  # files stored as assets (both paths store one per upload)
    failed_analyses: frozenset[str] = frozenset()  # file names whose analysis task failed


def records_of(emu: Emulator) -> Any:
    """The emulator's records (in-process), for checks on what the server stored."""
    assert emu.app is not None
    return emu.app.emulator.backend.store.records


def server_truth(emu: Emulator) -> ServerTruth:
    """Read the emulator's records directly (in-process), not through the API."""
    assert emu.app is not None
    backend = emu.app.emulator.backend
    records = backend.store.records
    with backend.store.lock:
        videos = list(records.videos.values())
        views = [backend.videos.view(video) for video in videos]
        statuses = Counter(view.status for view in views)
        failed_names = {
            view.rec.info.filename for view in views if view.status == "failed" and view.rec.info
        }
        embed_failed = sum(
            backend.embeddings.view(rec).status == "failed" for rec in records.embed_tasks.values()
        )
        analyses = [backend.analysis_tasks.view(t) for t in records.analysis_tasks.values()]
        failed_assets = {
            (a.rec.video_source or {}).get("asset_id") for a in analyses if a.status == "failed"
        }
        analysis_failed = {
            records.assets[asset_id].filename
            for asset_id in failed_assets
            if asset_id in records.assets
        }
        assets = len(records.assets)
    hashes = Counter(
        str(v.user_metadata["tl_sha256"]) for v in videos if "tl_sha256" in v.user_metadata
    )
    return ServerTruth(
        hashes, frozenset(failed_names), statuses, embed_failed, assets, frozenset(analysis_failed)
    )


# The client's debug lines for each way it recovers from a failed attempt.
_RETRY_LINE = re.compile(r"^retrying (\S+) (\S+) after (.+?) in ")
_RESEND_LINE = re.compile(r"^.+ was not handled; sending again")
_FOUND_LINE = re.compile(r"^.+ was handled despite")
_POLL_ERROR_LINE = re.compile(r"^checking .+ failed \(")


class RetryLog(logging.Handler):
    """Counts the client's retries from its debug log, by cause (``status 503``...)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.causes: Counter[str] = Counter()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.lines.append(f"{record.threadName}: {message}")
        match = _RETRY_LINE.match(message)
        if match:
            self.causes[match.group(3).split(" (")[0]] += 1
        elif _RESEND_LINE.match(message):
            self.causes["upload sent again"] += 1
        elif _FOUND_LINE.match(message):
            self.causes["stored upload found"] += 1
        elif _POLL_ERROR_LINE.match(message):
            self.causes["poll round retried"] += 1

    @property
    def total(self) -> int:
        """Failed attempts the client recovered from (request retries, re-sent uploads,
        uploads found stored after a lost answer, poll rounds tried again)."""
        return sum(self.causes.values())


@pytest.fixture
def retry_log() -> Iterator[RetryLog]:
    """Record the client's debug log for the duration of a test."""
    handler = RetryLog()
    logger = logging.getLogger("tl_integrations")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def report(title: str, **counts: object) -> None:
    """Print one line of counts (shown with ``pytest -s``; the closing note quotes them)."""
    shown = ", ".join(f"{key}={value}" for key, value in counts.items())
    print(f"\n[reliability] {title}: {shown}")


def is_upload(request: httpx.Request) -> bool:
    """A request that stores a file: ``POST /assets`` (or ``POST /tasks``, the older path).

    Example:
        >>> is_upload(httpx.Request("POST", "http://h/v1.3/analyze/tasks"))
        False
    """
    return request.method == "POST" and request.url.path.endswith(("/v1.3/assets", "/v1.3/tasks"))


class LosingTransport(httpx.HTTPTransport):
    """Delivers chosen uploads to the server, then loses the answer (a read timeout)."""

    def __init__(self, lose: Callable[[int], bool]) -> None:
        super().__init__()
        self.lose = lose
        self.uploads = 0
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if is_upload(request):
            self.uploads += 1
            if self.lose(self.uploads):
                response.read()
                response.close()
                self.lost += 1
                raise httpx.ReadTimeout("the answer never came", request=request)
        return response
