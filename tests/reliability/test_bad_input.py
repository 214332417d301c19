"""Scenario 5: bad input, table-driven: the exact error type and a message that says what to
fix. What the client can know (paths, sizes, parameters) is refused before a single request
is sent, checked with the emulator's request, upload and byte counters; what only the server
can know (the media itself, URLs, keys, ids) comes back as the API's typed error.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from testkit import FakeClock, start_emulator
from tl_integrations import (
    AsyncTwelveLabs,
    AuthenticationError,
    BadRequestError,
    IngestError,
    InvalidRequestError,
    InvalidVideoError,
    NotFoundError,
    PollPolicy,
    RetryPolicy,
    TwelveLabs,
)
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock
from tl_integrations.langchain import TwelveLabsEmbeddings, TwelveLabsVideoLoader

from .conftest import SECRET_KEY, Media, sync_client


@dataclass(frozen=True)
class Ctx:
    """What a case needs: a client, an index, the media and a scratch directory."""

    client: TwelveLabs
    wrong_key_client: TwelveLabs
    index_id: str
    media: Media
    scratch: Path


@pytest.fixture(scope="module")
def emu(request: pytest.FixtureRequest) -> Emulator:
    config = EmulatorConfig(clock=ManualClock(), seed=2, api_key=SECRET_KEY)
    return start_emulator(request, config)


@pytest.fixture(scope="module")
def ctx(emu: Emulator, media: Media, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ctx]:
    assert emu.clock is not None
    vt = FakeClock(server=emu.clock)
    scratch = tmp_path_factory.mktemp("bad-input")
    (scratch / "empty.mp4").write_bytes(b"")
    (scratch / "a folder.mp4").mkdir()
    with open(scratch / "huge.mp4", "wb") as handle:
        os.truncate(handle.fileno(), 3 * 1024**3)  # sparse: 3 GB on paper, no disk used
    with open(scratch / "huger.mp4", "wb") as handle:
        os.truncate(handle.fileno(), 11 * 1024**3)  # over the 10 GB an asset may be
    with (
        sync_client(emu, vt) as client,
        sync_client(emu, vt, api_key="tlk-not-the-right-key") as wrong,
    ):
        index = client.indexes.create("bad-input")
        yield Ctx(client, wrong, index.id, media, scratch)


Call = Callable[[Ctx], object]


@dataclass(frozen=True)
class Case:
    """One bad input: the call, the error it must raise, and the fix its message must name."""

    call: Call
    error: type[Exception]
    says: str  # a regex the message must match: what is wrong and what to do
    client_side: bool  # refused before any request


def _create(file: Callable[[Ctx], object]) -> Call:
    return lambda c: c.client.tasks.create(index_id=c.index_id, file=file(c))  # type: ignore[arg-type]


def _embed(**kwargs: object) -> Call:
    def call(c: Ctx) -> object:
        args = {"model_name": "marengo3.0", "video_file": c.media.videos[0], **kwargs}
        return c.client.embed.tasks.create(**args)  # type: ignore[arg-type]

    return call


def _loader(name: str, upload: str = "assets") -> Call:
    return lambda c: TwelveLabsVideoLoader(
        [str(c.scratch / name)],
        index_id=c.index_id,
        client=c.client,
        upload=upload,  # type: ignore[arg-type]
    )


CASES: dict[str, Case] = {
    "missing path": Case(
        _create(lambda c: c.scratch / "no-such.mp4"),
        InvalidVideoError,
        r"not found: '.*no-such\.mp4'; check the path",
        True,
    ),
    "a directory": Case(
        _create(lambda c: c.scratch / "a folder.mp4"),
        InvalidVideoError,
        r"is a directory, not a video file; pass the path of one video file",
        True,
    ),
    "an empty file": Case(
        _create(lambda c: c.scratch / "empty.mp4"),
        InvalidVideoError,
        r"empty\.mp4' is empty \(0 bytes\); re-export or re-download it",
        True,
    ),
    "a sparse 3 GB file": Case(
        _create(lambda c: c.scratch / "huge.mp4"),
        InvalidVideoError,
        r"is 3\.00 GB but uploads are limited to 2 GB; compress or split the video, or pass "
        r"video_url=",
        True,
    ),
    "a sparse 3 GB file to embed": Case(
        lambda c: c.client.embed.tasks.create(
            model_name="Marengo-retrieval-2.7", video_file=c.scratch / "huge.mp4"
        ),
        InvalidVideoError,
        r"is 3\.00 GB but uploads are limited to 2 GB",
        True,
    ),
    "a text file renamed .mp4": Case(
        _create(lambda c: c.media.text_as_mp4),
        BadRequestError,
        r"400 video_file_broken: The video file 'notes\.mp4' is broken or not a video",
        False,
    ),
    "a 2-second video": Case(
        _create(lambda c: c.media.short),
        BadRequestError,
        r"400 video_duration_too_short: .* at least 4 s long \(got 2\.0 s\)",
        False,
    ),
    "a 200x200 video": Case(
        _create(lambda c: c.media.tiny),
        BadRequestError,
        r"400 video_resolution_too_low: .* 360x360 .*\(got 200x200\)",
        False,
    ),
    "a URL the server cannot fetch": Case(
        lambda c: c.client.tasks.create(
            index_id=c.index_id, video_url="https://videos.example.invalid/talk.mp4"
        ),
        BadRequestError,
        r"400 parameter_invalid: .*no internet access: video_url must be an http\(s\) URL on "
        r"a loopback host .*or a file:// URL in a directory it may read \(--allow-file-dir\)",
        False,
    ),
    "an invalid key": Case(
        lambda c: list(c.wrong_key_client.indexes.list()),
        AuthenticationError,
        r"401 api_key_invalid: The API key is missing or invalid; send it in the x-api-key",
        False,
    ),
    "an unknown index id": Case(
        lambda c: c.client.indexes.retrieve("0123456789abcdef01234567"),
        NotFoundError,
        r"404 resource_not_exist: The index '0123456789abcdef01234567' does not exist",
        False,
    ),
    "an unknown index id for the loader": Case(
        lambda c: list(
            TwelveLabsVideoLoader(
                [str(c.media.videos[0])], index_id="0123456789abcdef01234567", client=c.client
            ).lazy_load()
        ),
        NotFoundError,
        r"The index '0123456789abcdef01234567' does not exist",
        False,
    ),
    "an unknown embedding model": Case(
        lambda c: c.client.embed.text("a red car", model_name="marengo9"),
        InvalidRequestError,
        r"unknown embedding model 'marengo9'; use one of 'Marengo-retrieval-2.7', 'marengo3.0'",
        True,
    ),
    # Adapters refuse bad options with the project's error, whatever validates them.
    "an unknown model for LangChain": Case(
        lambda c: TwelveLabsEmbeddings(model="marengo9", client=c.client),
        InvalidRequestError,
        r"unknown embedding model 'marengo9'; use one of",
        True,
    ),
    "an unknown index model": Case(
        lambda c: c.client.indexes.create("bad-model", models=[{"model_name": "marengo9"}]),
        BadRequestError,
        r"400 parameter_invalid: models: unknown model_name 'marengo9'; use one of",
        False,
    ),
    "a clip length of 1": Case(
        _embed(video_clip_length=1),
        InvalidRequestError,
        r"video_clip_length must be 2 to 10 s, got 1",
        True,
    ),
    "a clip length of 11": Case(
        _embed(video_clip_length=11),
        InvalidRequestError,
        r"video_clip_length must be 2 to 10 s, got 11",
        True,
    ),
    "a negative offset": Case(
        _embed(video_start_offset_sec=-1.0),
        InvalidRequestError,
        r"video_start_offset_sec must be >= 0 s, got -1",
        True,
    ),
    "inverted offsets": Case(
        _embed(video_start_offset_sec=4.0, video_end_offset_sec=1.0),
        InvalidRequestError,
        r"video_end_offset_sec \(1\.0\) must be greater than video_start_offset_sec \(4\.0\)",
        True,
    ),
    "the loader given a missing path": Case(
        _loader("no-such.mp4"),
        InvalidVideoError,
        r"no such file: '.*no-such\.mp4'; check the path",
        True,
    ),
    "the loader given a folder with no videos": Case(
        _loader("a folder.mp4"),
        InvalidVideoError,
        r"holds no video files \(\.mp4, \.mov, \.mkv\.\.\.\); pass recursive=True",
        True,
    ),
    "the loader given an empty file": Case(
        _loader("empty.mp4"), InvalidVideoError, r"is empty; pass a video file", True
    ),
    "the loader given a sparse 11 GB file": Case(
        _loader("huger.mp4"),
        InvalidVideoError,
        r"over the 10 GB upload limit; host it and pass its URL instead",
        True,
    ),
    "the loader on /tasks given a sparse 3 GB file": Case(
        _loader("huge.mp4", upload="tasks"),
        InvalidVideoError,
        r"over the 2 GB upload limit; upload it as an asset \(upload='assets', up to 10 GB\) "
        r"or host it and pass its URL instead",
        True,
    ),
}

# Policies and timeouts are checked when they are made: a zero poll interval once made 4,760
# requests in 2 s, and a NaN deadline never passes.
POLICY_CASES: dict[str, tuple[Call, str]] = {
    "a zero poll interval": (
        lambda c: PollPolicy(initial_interval_s=0),
        r"PollPolicy.initial_interval_s must be > 0, got 0",
    ),
    "a negative poll interval": (
        lambda c: PollPolicy(max_interval_s=-1.0),
        r"PollPolicy.max_interval_s must be > 0, got -1",
    ),
    "a NaN poll interval": (
        lambda c: PollPolicy(initial_interval_s=float("nan")),
        r"PollPolicy.initial_interval_s must be finite, got nan",
    ),
    "a zero list cadence": (
        lambda c: PollPolicy(min_batch_interval_s=0.0),
        r"PollPolicy.min_batch_interval_s must be > 0",
    ),
    "a negative retry count": (
        lambda c: RetryPolicy(max_retries=-1),
        r"RetryPolicy.max_retries must be >= 0, got -1",
    ),
    "a NaN retry delay": (
        lambda c: RetryPolicy(base_delay_s=float("nan")),
        r"RetryPolicy.base_delay_s must be finite",
    ),
    "a zero retry delay cap": (
        lambda c: RetryPolicy(max_delay_s=0.0),
        r"RetryPolicy.max_delay_s must be > 0",
    ),
    "a client timeout of NaN": (
        lambda c: TwelveLabs(api_key=SECRET_KEY, base_url=c.client.base_url, timeout_s=math.nan),
        r"timeout_s must be a finite number of seconds >= 0 \(or None\), got nan",
    ),
    "an infinite client timeout": (
        lambda c: AsyncTwelveLabs(api_key=SECRET_KEY, base_url=c.client.base_url, timeout_s=1e999),
        r"timeout_s must be a finite number of seconds >= 0 \(or None\), got inf",
    ),
    "a wait with a NaN deadline": (
        lambda c: c.client.tasks.wait("0123456789abcdef01234567", timeout_s=math.nan),
        r"timeout_s must be a finite number of seconds >= 0 \(or None\), got nan",
    ),
    "a wait_many with an infinite deadline": (
        lambda c: list(c.client.tasks.wait_many(["0123456789abcdef01234567"], timeout_s=math.inf)),
        r"timeout_s must be a finite number of seconds >= 0 \(or None\), got inf",
    ),
}
# An id becomes one path segment: ".." would turn /indexes/i/videos/.. into the index itself.
ID_CASES: dict[str, tuple[Call, str]] = {
    "a video id of ..": (
        lambda c: c.client.videos.retrieve(c.index_id, ".."),
        r"video_id must be an id, got '\.\.'",
    ),
    "a video id of .": (
        lambda c: c.client.videos.retrieve(c.index_id, "."),
        r"video_id must be an id, got '\.'",
    ),
    "an index id of ..": (
        lambda c: c.client.indexes.retrieve(".."),
        r"index_id must be an id, got '\.\.'",
    ),
    "a task id with a line break": (
        lambda c: c.client.tasks.retrieve("t1\r\nx-api-key: stolen"),
        r"task_id must be an id",
    ),
}
CASES.update(
    {
        name: Case(call, InvalidRequestError, says, True)
        for name, (call, says) in POLICY_CASES.items()
    }
)
CASES.update(
    {name: Case(call, InvalidRequestError, says, True) for name, (call, says) in ID_CASES.items()}
)


def _counters(emu: Emulator) -> tuple[int, int, int]:
    stats = emu.stats()
    return stats["requests_total"], stats["uploads"], stats["bytes_received"]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_clearly(name: str, emu: Emulator, ctx: Ctx) -> None:
    case = CASES[name]
    before = _counters(emu)
    with pytest.raises(case.error) as caught:
        case.call(ctx)
    assert type(caught.value) is case.error, repr(caught.value)
    assert re.search(case.says, str(caught.value)), str(caught.value)
    requests, uploads, received = _counters(emu)
    if case.client_side:
        assert (requests, uploads, received) == before, "sent before the input was checked"
    else:
        assert requests > before[0]
        assert getattr(caught.value, "status_code", None) in (400, 401, 404)


def test_a_failing_url_is_reported_by_the_loader(emu: Emulator, ctx: Ctx) -> None:
    url = "https://videos.example.invalid/talk.mp4?signature=abc"
    loader = TwelveLabsVideoLoader([url], index_id=ctx.index_id, client=ctx.client)
    with pytest.raises(IngestError) as caught:
        list(loader.lazy_load())
    (failure,) = caught.value.failures
    assert failure.source == "https://videos.example.invalid/talk.mp4"  # the query may be a key
    assert isinstance(failure.exception, BadRequestError)
    assert "no internet access" in failure.reason
    assert "signature=abc" not in str(caught.value)  # query strings may carry credentials


UNUSUAL_NAME = "my clip – été 🎬 (final).mp4"


def test_spaces_unicode_and_dot_dot_in_a_path_work(ctx: Ctx) -> None:
    folder = ctx.scratch / "sub dir"
    folder.mkdir(exist_ok=True)
    (folder / UNUSUAL_NAME).write_bytes(ctx.media.videos[1].read_bytes())
    path = ctx.scratch / "sub dir" / ".." / "sub dir" / UNUSUAL_NAME
    task = ctx.client.tasks.create(index_id=ctx.index_id, file=path)
    fetched = ctx.client.tasks.retrieve(task.id)
    assert fetched.system_metadata.filename == UNUSUAL_NAME


def test_a_dot_dot_file_name_is_sanitised(emu: Emulator, ctx: Ctx) -> None:
    """The client sends only the base name; the server strips any path it is sent anyway."""
    handle = io.BytesIO(ctx.media.videos[2].read_bytes())
    handle.name = "../../outside é.mp4"
    task = ctx.client.tasks.create(index_id=ctx.index_id, file=handle)
    assert ctx.client.tasks.retrieve(task.id).system_metadata.filename == "outside é.mp4"
    # A raw request that does send ../ in the multipart file name (as a hostile client could).
    files = {"video_file": ("../../../escape é.mp4", ctx.media.videos[3].read_bytes())}
    raw = httpx.post(
        f"{emu.base_url}/tasks",
        headers={"x-api-key": SECRET_KEY},
        data={"index_id": ctx.index_id},
        files=files,
    )
    assert raw.status_code == 200, raw.text
    stored = ctx.client.tasks.retrieve(raw.json()["_id"])
    assert stored.system_metadata.filename == "escape é.mp4"
    assert emu.app is not None
    root = emu.app.emulator.backend.store.persistence.root.resolve()
    for video in emu.app.emulator.backend.store.records.videos.values():
        if video.media_path:
            assert (root / video.media_path).resolve().is_relative_to(root)
    assert not list(root.parent.glob("escape*"))
