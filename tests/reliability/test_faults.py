"""Scenario 1: seeded faults on every request; nothing is lost, duplicated or paid twice.

The emulator answers, reproducibly: 10% 5xx (500/502/503), 5% 429 with ``Retry-After``,
2% dropped connections (half of them after the server acted: the answer is lost), 5% added
latency, and fails 10% of tasks. Every video that did not
fail must yield its Documents exactly once, every failed one must be reported with its input
and reason, and the emulator must have stored each file once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from langchain_core.documents import Document

from testkit import FakeClock, start_emulator
from tl_integrations import IngestError, IngestFailure, TaskFailedError, TwelveLabs
from tl_integrations.emulator import Emulator, EmulatorConfig, Faults, ManualClock
from tl_integrations.langchain import TwelveLabsEmbeddings, TwelveLabsVideoLoader

from .conftest import (
    VIDEO_COUNT,
    LosingTransport,
    Media,
    RetryLog,
    line_of,
    report,
    server_truth,
    sync_client,
)

pytestmark = pytest.mark.slow

# 2% dropped connections: half before the server reads the request ("drop"), half after it
# acted on it ("lost": an upload stored, a task created, and no answer).
FAULTS = Faults.parse(
    "500=0.04,502=0.03,503=0.03,429=0.05,drop=0.01,lost=0.01,latency=0.05,latency_s=0.005,fail=0.1"
)
# The fault draws are a seeded sequence: with this seed the first 17 requests of every run
# below meet every kind of fault (checked by the stats assertions), so a run that makes
# fewer requests than another (threads interleave differently) still meets them all.
SEED = 1651
# Under a 17% chance of a fault per attempt, 8 retries make a request fail for good about
# once in 10^7; the default budget of 3 would lose roughly one request in a thousand.
MAX_RETRIES = 8
FAULT_KINDS = ("500", "502", "503", "429", "drop", "lost", "latency")


@pytest.fixture
def emu(request: pytest.FixtureRequest) -> Emulator:
    return start_emulator(request, EmulatorConfig(clock=ManualClock(), seed=SEED, faults=FAULTS))


@pytest.fixture
def vt(emu: Emulator) -> FakeClock:
    assert emu.clock is not None
    return FakeClock(server=emu.clock)


@pytest.fixture
def client(emu: Emulator, vt: FakeClock) -> Iterator[TwelveLabs]:
    with sync_client(emu, vt, max_retries=MAX_RETRIES) as made:
        yield made


def _loader(media: Media, client: TwelveLabs, *, on_error: str) -> TwelveLabsVideoLoader:
    return TwelveLabsVideoLoader(
        [str(path) for path in media.videos],
        index_name=f"faults-{on_error}",
        content=("transcript", "summary"),
        client=client,
        on_error=on_error,  # type: ignore[arg-type]
    )


def _check_outcome(
    emu: Emulator, media: Media, docs: list[Document], failures: tuple[IngestFailure, ...]
) -> dict[str, int]:
    """Every input is either failed (as the server says) or has its Documents, once."""
    truth = server_truth(emu)
    not_indexed = {str(p) for p in media.videos if p.name in truth.failed_files}
    # A video indexed but whose summary (an analysis task) failed fails its input too.
    not_summarised = {str(p) for p in media.videos if p.name in truth.failed_analyses}
    failed_inputs = not_indexed | not_summarised
    assert truth.statuses["failed"] == len(not_indexed) >= 1
    assert truth.statuses["ready"] == VIDEO_COUNT - len(not_indexed)
    assert not_summarised - not_indexed
    # Failures: exactly the inputs whose task failed, each once, with its input and reason.
    assert sorted(f.source for f in failures) == sorted(failed_inputs)
    for failure in failures:
        assert isinstance(failure.exception, TaskFailedError)
        assert Path(failure.source).name in failure.reason
        assert "on purpose" in failure.reason  # the server's own reason
    # Documents: each surviving input yields its transcript line and summary, exactly once.
    ids = Counter(doc.id for doc in docs)
    assert max(ids.values()) == 1, "a Document was yielded twice"
    by_source = Counter((d.metadata["source"], d.metadata["content_kind"]) for d in docs)
    for number, path in enumerate(media.videos):
        expected = 0 if str(path) in failed_inputs else 1
        assert by_source[(str(path), "transcript")] == expected, path.name
        assert by_source[(str(path), "summary")] == expected, path.name
        transcripts = [
            d.page_content
            for d in docs
            if d.metadata["source"] == str(path) and d.metadata["content_kind"] == "transcript"
        ]
        assert transcripts == ([line_of(number)] if expected else [])
    # Paid once: the emulator received and stored every file exactly once.
    stats = emu.stats()
    assert stats["uploads"] == VIDEO_COUNT
    assert len(truth.hashes) == VIDEO_COUNT
    assert set(truth.hashes.values()) == {1}
    for kind in FAULT_KINDS:
        assert stats["faults"].get(kind, 0) >= 1, f"no {kind} fault was injected"
    return {"failed": len(failed_inputs), "documents": len(docs)}


def test_loader_skip_mode_loses_nothing(
    emu: Emulator, client: TwelveLabs, media: Media, retry_log: RetryLog
) -> None:
    loader = _loader(media, client, on_error="skip")
    docs = list(loader.lazy_load())
    counts = _check_outcome(emu, media, docs, tuple(loader.failures))
    stats = emu.stats()
    report(
        "faults/loader skip",
        videos=VIDEO_COUNT,
        **counts,
        requests=stats["requests_total"],
        faults=stats["faults"],
        retries=retry_log.total,
        retry_causes=dict(retry_log.causes),
        uploads=stats["uploads"],
        duplicates=0,
        lost=0,
    )
    # Each injected failure was answered by exactly one recovery (retry, re-send, re-poll).
    assert retry_log.total == sum(stats["faults"].get(k, 0) for k in FAULT_KINDS[:-1])


def test_loader_raise_mode_names_every_failure(
    emu: Emulator, client: TwelveLabs, media: Media, retry_log: RetryLog
) -> None:
    loader = _loader(media, client, on_error="raise")
    docs: list[Document] = []
    with pytest.raises(IngestError) as caught:
        docs.extend(loader.lazy_load())  # extended as they come, up to the error at the end
    error = caught.value
    counts = _check_outcome(emu, media, docs, error.failures)
    message = str(error)
    assert message.startswith(f"{counts['failed']} of the videos failed")
    for failure in error.failures:
        assert failure.source in message
        assert "on purpose" in message
    assert loader.failures == list(error.failures)
    stats = emu.stats()
    report(
        "faults/loader raise",
        videos=VIDEO_COUNT,
        **counts,
        faults=stats["faults"],
        retries=retry_log.total,
        duplicates=0,
        lost=0,
    )


def test_loader_lost_upload_answers_are_not_paid_twice(
    emu: Emulator, vt: FakeClock, media: Media, retry_log: RetryLog
) -> None:
    """On top of the faults, every third upload reaches the server and its answer is lost
    (a read timeout): the client must find the stored video instead of sending it again."""
    transport = LosingTransport(lambda n: n % 3 == 0)
    with (
        httpx.Client(transport=transport) as http,
        sync_client(emu, vt, max_retries=MAX_RETRIES, http_client=http) as client,
    ):
        loader = _loader(media, client, on_error="skip")
        docs = list(loader.lazy_load())
    counts = _check_outcome(emu, media, docs, tuple(loader.failures))
    assert transport.lost >= 5
    assert retry_log.causes["stored upload found"] >= 1
    report(
        "faults/lost upload answers",
        videos=VIDEO_COUNT,
        **counts,
        answers_lost=transport.lost,
        retries=retry_log.total,
        retry_causes=dict(retry_log.causes),
        uploads=emu.stats()["uploads"],
        duplicates=0,
        lost=0,
    )


TEXTS = [f"text number {n}: {line_of(n % VIDEO_COUNT)} and {n * 7 % 13} more" for n in range(200)]


@pytest.mark.parametrize("model", ["marengo3.0", "Marengo-retrieval-2.7"])
def test_embed_texts_keep_order_under_faults(
    emu: Emulator, client: TwelveLabs, model: str, retry_log: RetryLog
) -> None:
    emu.set_faults(Faults())
    clean = client.embed.texts(TEXTS, model_name=model)
    emu.set_faults(FAULTS, seed=SEED)
    before = emu.stats()["faults"]
    noisy = client.embed.texts(TEXTS, model_name=model, max_concurrency=8)
    via_langchain = TwelveLabsEmbeddings(model=model, client=client).embed_documents(TEXTS)
    assert noisy.shape == clean.shape == (len(TEXTS), 512 if model == "marengo3.0" else 1024)
    assert np.array_equal(noisy, clean), "a text's vector was lost, swapped or altered"
    assert np.array_equal(np.asarray(via_langchain, dtype=np.float32), clean)
    faults = Counter(emu.stats()["faults"]) - Counter(before)
    for kind in FAULT_KINDS:
        assert faults[kind] >= 1, f"no {kind} fault was injected"
    report(
        f"faults/embed.texts {model}",
        texts=2 * len(TEXTS),
        faults=dict(faults),
        retries=retry_log.total,
        duplicates=0,
        lost=0,
    )


def test_embed_video_under_faults(
    emu: Emulator, client: TwelveLabs, media: Media, retry_log: RetryLog
) -> None:
    paths = media.videos[:10]
    embeddings = TwelveLabsEmbeddings(client=client)
    emu.set_faults(Faults())
    clean = [embeddings.embed_video(path, clip_length_s=2) for path in paths]
    emu.set_faults(FAULTS, seed=SEED)
    before = emu.stats()["faults"]
    outcomes: list[object] = []
    for path in paths:
        try:
            outcomes.append(embeddings.embed_video(path, clip_length_s=2))
        except TaskFailedError as exc:
            outcomes.append(exc)
    failed = [o for o in outcomes if isinstance(o, TaskFailedError)]
    assert len(failed) == server_truth(emu).failed_embed_tasks
    for got, want in zip(outcomes, clean, strict=True):
        if isinstance(got, TaskFailedError):
            assert got.reason
            assert "failed" in got.reason
            continue
        assert np.array_equal(got.vectors, want.vectors)  # type: ignore[attr-defined]
        assert np.array_equal(got.start_s, want.start_s)  # type: ignore[attr-defined]
    faults = Counter(emu.stats()["faults"]) - Counter(before)
    report(
        "faults/embed_video",
        videos=len(paths),
        failed=len(failed),
        faults=dict(faults),
        retries=retry_log.total,
        duplicates=0,
        lost=0,
    )
