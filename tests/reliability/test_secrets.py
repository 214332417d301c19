"""Scenario 6: the API key never leaks, and is never sent where it could be read.

A distinctive key goes through a full run of every adapter, sync and async, with failures
on purpose; it must not appear in any exception (message, repr, traceback, pickle), any log
line at DEBUG (ours, httpx's, httpcore's), any ``repr``, LangChain ``dumps``, LlamaIndex
``to_dict``/``to_json``, a pickle of an adapter, or the CLI's output. Plain ``http://`` to a
host that is not this machine is refused before anything is sent, and the emulator listens
on loopback and turns away requests without the key.
"""

from __future__ import annotations

import http.server
import logging
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
import pytest
from langchain_core.load import dumps
from pydantic import SecretStr

from testkit import FakeClock, start_emulator
from tl_integrations import (
    APIConnectionError,
    AsyncTwelveLabs,
    AuthenticationError,
    BadRequestError,
    IngestError,
    IngestFailure,
    IngestOptions,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    TaskFailedError,
    TaskTimeoutError,
    TwelveLabs,
    TwelveLabsError,
    VideoIngest,
)
from tl_integrations.emulator import Emulator, EmulatorConfig, Faults, ManualClock
from tl_integrations.langchain import TwelveLabsEmbeddings, TwelveLabsVideoLoader
from tl_integrations.llama_index import TwelveLabsEmbedding, TwelveLabsVideoReader

from .conftest import SECRET_KEY, Media, async_client, sync_client

KEY = SECRET_KEY


def assert_clean(text: str | bytes, where: str) -> None:
    """The key (or its last 16 characters) is not in ``text``."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")  # a pickle: the key would be there byte for byte
    assert KEY not in text, f"the API key leaked into {where}"
    assert KEY[-16:] not in text, f"part of the API key leaked into {where}"


def check_exception(exc: BaseException, where: str) -> None:
    assert_clean(str(exc), f"str() of {where}")
    assert_clean(repr(exc), f"repr() of {where}")
    assert_clean("".join(traceback.format_exception(exc)), f"the traceback of {where}")
    assert_clean(repr(getattr(exc, "body", None)), f"the body of {where}")
    assert_clean(pickle.dumps(exc), f"a pickle of {where}")


@pytest.fixture(scope="module")
def emu(request: pytest.FixtureRequest) -> Emulator:
    # "async" media validation: a bad video becomes a failed task, not a 400.
    config = EmulatorConfig(clock=ManualClock(), seed=6, api_key=KEY, media_validation="async")
    return start_emulator(request, config)


@pytest.fixture(scope="module")
def vt(emu: Emulator) -> FakeClock:
    assert emu.clock is not None
    return FakeClock(server=emu.clock)


@pytest.fixture
def client(emu: Emulator, vt: FakeClock) -> Iterator[TwelveLabs]:
    with sync_client(emu, vt) as made:
        yield made


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("tl_integrations", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _check_logs(caplog: pytest.LogCaptureFixture) -> int:
    for record in caplog.records:
        assert_clean(record.getMessage(), f"a log line of {record.name}")
    assert_clean(caplog.text, "the formatted log (with tracebacks)")
    names = {record.name.split(".")[0] for record in caplog.records}
    assert {"tl_integrations", "httpx", "httpcore"} <= names, names
    return len(caplog.records)


def _inputs(media: Media) -> list[str]:
    # Two good videos and one that fails (too short): the failure path is logged too.
    return [str(media.videos[4]), str(media.videos[5]), str(media.short)]


def _errors_from_clients(
    emu: Emulator, vt: FakeClock, client: TwelveLabs, media: Media
) -> list[Exception]:
    """One of every error a client raises, each caught for inspection."""
    caught: list[Exception] = []

    def expect(kind: type[Exception], call: Callable[[], object]) -> None:
        with pytest.raises(kind) as info:
            call()
        caught.append(info.value)

    index = client.indexes.get_or_create("secrets")
    expect(NotFoundError, lambda: client.indexes.retrieve("0123456789abcdef01234567"))
    expect(BadRequestError, lambda: client.indexes.create("secrets"))  # the name is taken
    expect(InvalidRequestError, lambda: client.embed.text(" ", model_name="marengo3.0"))
    pending = client.tasks.create(index_id=index.id, file=media.short)
    expect(TaskTimeoutError, lambda: client.tasks.wait(pending.id, timeout_s=0.5))
    expect(TaskFailedError, lambda: client.tasks.wait(pending.id, timeout_s=600.0))
    emu.set_faults("429=1", seed=1)
    try:
        with sync_client(emu, vt, max_retries=0) as impatient:
            expect(RateLimitError, lambda: list(impatient.indexes.list()))
    finally:
        emu.set_faults(Faults())
    with (
        Emulator(api_key="tlk-another-key") as other,
        TwelveLabs(api_key=KEY, base_url=other.base_url) as stranger,
    ):
        expect(AuthenticationError, lambda: list(stranger.indexes.list()))
    with TwelveLabs(api_key=KEY, base_url="http://127.0.0.1:9/v1.3", max_retries=0) as gone:
        expect(APIConnectionError, lambda: gone.tasks.retrieve("t1"))
    expect(InvalidRequestError, lambda: TwelveLabs(api_key=KEY, base_url="http://10.1.2.3/v1.3"))
    return caught


def test_a_full_run_leaks_nothing(
    emu: Emulator,
    vt: FakeClock,
    client: TwelveLabs,
    media: Media,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    errors: list[BaseException] = []
    loader = TwelveLabsVideoLoader(
        _inputs(media), index_name="secrets", client=client, on_error="raise"
    )
    with pytest.raises(IngestError) as ingest_error:
        list(loader.lazy_load())
    errors.append(ingest_error.value)
    errors += [failure.exception for failure in loader.failures]
    reader = TwelveLabsVideoReader(index_name="secrets", client=client, on_error="skip")
    docs = reader.load_data(_inputs(media))
    assert docs
    assert len(reader.failures) == 1
    lc = TwelveLabsEmbeddings(api_key=SecretStr(KEY), client=client)
    lc.embed_documents(["a red kite", "a blue sea"])
    video = lc.embed_video(media.videos[4], clip_length_s=2)
    li = TwelveLabsEmbedding(api_key=SecretStr(KEY), client=client)
    li.get_query_embedding("a red kite")
    errors += _errors_from_clients(emu, vt, client, media)
    for error in errors:
        check_exception(error, type(error).__name__)
    things: list[Any] = [client, client.tasks, loader, reader, lc, li, video, *docs]
    things += [client.tasks.retrieve(t.id) for t in client.tasks.list(page_limit=5)]
    things += list(loader.failures) + list(reader.failures)
    for thing in things:
        assert_clean(repr(thing), f"repr() of {type(thing).__name__}")
    assert _check_logs(debug_logs) > 100


async def test_an_async_run_leaks_nothing(
    emu: Emulator, vt: FakeClock, media: Media, debug_logs: pytest.LogCaptureFixture
) -> None:
    async with async_client(emu, vt) as aclient:
        loader = TwelveLabsVideoLoader(
            _inputs(media), index_name="secrets-async", async_client=aclient, on_error="skip"
        )
        docs = [doc async for doc in loader.alazy_load()]
        reader = TwelveLabsVideoReader(
            index_name="secrets-async", async_client=aclient, on_error="raise"
        )
        with pytest.raises(IngestError) as caught:
            await reader.aload_data(_inputs(media))
        lc = TwelveLabsEmbeddings(api_key=SecretStr(KEY), async_client=aclient)
        await lc.aembed_query("a red kite")
        li = TwelveLabsEmbedding(api_key=SecretStr(KEY), async_client=aclient)
        await li.aget_query_embedding("a red kite")
        with pytest.raises(NotFoundError) as missing:
            await aclient.indexes.retrieve("0123456789abcdef01234567")
    assert docs
    assert len(loader.failures) == 1
    for error in (caught.value, missing.value, *[f.exception for f in loader.failures]):
        check_exception(error, type(error).__name__)
    for thing in (aclient, loader, reader, lc, li, *docs):
        assert_clean(repr(thing), f"repr() of {type(thing).__name__}")
    assert _check_logs(debug_logs) > 50


# -- serialisation of the adapters ------------------------------------------------------------


def _adapters() -> dict[str, Callable[[], Any]]:
    return {
        "loader": lambda: TwelveLabsVideoLoader(["video:abc"], index_name="x", api_key=KEY),
        "reader": lambda: TwelveLabsVideoReader(index_name="x", api_key=KEY),
        "langchain embeddings": lambda: TwelveLabsEmbeddings(api_key=SecretStr(KEY)),
        "llama-index embedding": lambda: TwelveLabsEmbedding(api_key=SecretStr(KEY)),
    }


@pytest.mark.parametrize("name", list(_adapters()))
def test_serialised_adapters_carry_no_key(name: str) -> None:
    adapter = _adapters()[name]()
    assert_clean(repr(adapter), f"repr() of the {name}")
    assert_clean(str(adapter), f"str() of the {name}")
    assert_clean(dumps(adapter), f"langchain dumps() of the {name}")
    for method in ("to_dict", "to_json", "model_dump_json"):
        if hasattr(adapter, method):
            assert_clean(str(getattr(adapter, method)()), f"{method}() of the {name}")


@pytest.mark.parametrize(
    "name",
    ["loader", "reader", "langchain embeddings", "llama-index embedding"],
)
def test_pickled_adapters_carry_no_key(name: str) -> None:
    assert_clean(pickle.dumps(_adapters()[name]()), f"a pickle of the {name}")


def test_failures_and_their_tasks_pickle_without_the_client(
    client: TwelveLabs, emu: Emulator
) -> None:
    """A failed task remembers its client (for ``wait_for_done``); a pickle must not."""
    index = client.indexes.get_or_create("secrets")
    task = client.tasks.retrieve(next(iter(client.tasks.list(index_id=index.id))).id)
    assert task.__dict__["_owner"] is client
    failed = TaskFailedError(task.id, task=task, reason="x")
    error = IngestError([IngestFailure("a.mp4", str(failed), failed)])
    for thing in (task, failed, error):
        blob = pickle.dumps(thing)
        assert_clean(blob, f"a pickle of {type(thing).__name__}")
    restored = pickle.loads(pickle.dumps(failed))
    assert restored.task.id == task.id
    assert "_owner" not in restored.task.__dict__


# -- the CLI ------------------------------------------------------------------------------


def test_cli_output_has_no_key(
    emulator_for: Callable[..., Emulator],
    media: Media,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tl_integrations._cli import main

    # The CLI waits on the wall clock: a fast emulator of its own, not the manual-clock one.
    emu = emulator_for(api_key=KEY, speed=200.0)
    monkeypatch.setenv("TWELVELABS_API_KEY", KEY)
    monkeypatch.setenv("TWELVELABS_BASE_URL", emu.base_url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    video = str(media.videos[6])
    runs = [
        ["--debug", "index", video, "--index", "secrets-cli"],
        ["--json", "search", "--index", "secrets-cli", "explains"],
        ["--debug", "wait", "0123456789abcdef01234567", "--timeout", "1"],
        ["--debug", "--base-url", "http://10.1.2.3/v1.3", "search", "--index", "x", "y"],
    ]
    for argv in runs:
        code = main(argv)
        out, err = capsys.readouterr()
        assert_clean(out + err, f"the output of {argv}")
        assert code in (0, 1, 2), (argv, out, err)


# -- where the key may be sent ------------------------------------------------------------

INSECURE = [
    "http://10.1.2.3/v1.3",
    "http://api.twelvelabs.io/v1.3",
    "http://127.0.0.1.nip.io/v1.3",
    "http://localhost.example.com/v1.3",
    "http://127.0.0.1@example.com/v1.3",
    "http://[::ffff:10.0.0.1]/v1.3",
]


@pytest.mark.parametrize("base_url", INSECURE)
def test_plain_http_to_another_host_is_refused(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    transport = httpx.MockTransport(record)
    secret, video = SecretStr(KEY), ["video:abc"]
    attempts: list[Callable[[], object]] = [
        lambda: TwelveLabs(
            api_key=KEY, base_url=base_url, http_client=httpx.Client(transport=transport)
        ),
        lambda: AsyncTwelveLabs(api_key=KEY, base_url=base_url),
        lambda: list(
            TwelveLabsVideoLoader(video, index_name="x", api_key=KEY, base_url=base_url).lazy_load()
        ),
        lambda: TwelveLabsVideoReader(index_name="x", api_key=KEY, base_url=base_url).load_data(
            video
        ),
        lambda: TwelveLabsEmbeddings(api_key=secret, base_url=base_url).embed_query("q"),
        lambda: TwelveLabsEmbedding(api_key=secret, base_url=base_url).get_query_embedding("q"),
    ]
    monkeypatch.setenv("TWELVELABS_BASE_URL", base_url)
    monkeypatch.setenv("TWELVELABS_API_KEY", KEY)
    attempts.append(lambda: TwelveLabs())
    for attempt in attempts:
        with pytest.raises(InvalidRequestError, match="refusing to send the API key over plain"):
            attempt()
    assert sent == []


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:9/v1.3", "http://localhost:9/v1.3", "http://[::1]:9/v1.3"]
)
def test_plain_http_to_this_machine_is_allowed(base_url: str) -> None:
    with TwelveLabs(api_key=KEY, base_url=base_url) as client:
        assert client.base_url == base_url
    TwelveLabs(api_key=KEY, base_url="http://10.1.2.3/v1.3", allow_insecure=True).close()


# -- the emulator's side ----------------------------------------------------------------


def _listening(pid: int, port: int) -> set[str]:
    conns = psutil.Process(pid).net_connections(kind="inet")
    return {c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN and c.laddr.port == port}


def _refuses_without_key(base_url: str, key: str) -> None:
    url = f"{base_url}/indexes"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"x-api-key": "tlk-guess"}).status_code == 401
    assert httpx.get(url, headers={"x-api-key": key}).status_code == 200
    root = base_url.rsplit("/", 1)[0]
    assert httpx.get(f"{root}/_emulator/stats").status_code == 401


def test_the_emulator_listens_on_loopback_and_wants_the_key() -> None:
    with Emulator(api_key=KEY) as emu:
        assert emu.host == "127.0.0.1"
        assert _listening(os.getpid(), emu.port) == {"127.0.0.1"}
        _refuses_without_key(emu.base_url, KEY)
    with Emulator() as open_emu:  # no key configured: any key, but never none
        url = f"{open_emu.base_url}/indexes"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"x-api-key": "anything"}).status_code == 200


def test_the_emulator_command_listens_on_loopback(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tl_integrations.emulator", "--port", "0"]
    command += ["--api-key", KEY, "--data-dir", str(tmp_path / "data"), "--log-level", "warning"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"base_url (http://127\.0\.0\.1:(\d+)/v1\.3)", first)
        assert match, first
        assert_clean(first, "the emulator's banner")
        port = int(match.group(2))
        deadline = time.monotonic() + 20.0  # the banner comes just before listen()
        while not _listening(proc.pid, port) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _listening(proc.pid, port) == {"127.0.0.1"}
        _refuses_without_key(match.group(1), KEY)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert_clean(out + err, "the emulator's own output")


def test_errors_name_what_failed_not_the_key(client: TwelveLabs) -> None:
    with pytest.raises(TwelveLabsError) as caught:
        client.tasks.retrieve("0123456789abcdef01234567")
    message = str(caught.value)
    assert "GET /tasks/0123456789abcdef01234567" in message
    check_exception(caught.value, "a 404")


# -- keys that cannot be keys ----------------------------------------------------------

# Each carries a distinctive part, searched for wherever the key could show.
MARK = "BADKEY-7Q9Z"
BAD_KEYS = {
    "CR LF (a header split)": f"tlk-{MARK}\r\nx-evil: 1",
    "a line feed": f"tlk-{MARK}\nmore",
    "NUL": f"tlk-{MARK}\x00tail",
    "non-ASCII": f"tlk-{MARK}-clé",
    "a tab": f"tlk-{MARK}\tx",
}


@pytest.mark.parametrize("name", list(BAD_KEYS))
def test_a_key_no_key_could_be_is_refused_unseen(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = BAD_KEYS[name]
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    base = "https://api.example.test/v1.3"
    attempts: dict[str, Callable[[], object]] = {
        "TwelveLabs": lambda: TwelveLabs(
            api_key=key, base_url=base, http_client=httpx.Client(transport=transport)
        ),
        "AsyncTwelveLabs": lambda: AsyncTwelveLabs(api_key=key, base_url=base),
        "the loader": lambda: list(
            TwelveLabsVideoLoader(
                ["video:abc"], index_name="x", api_key=SecretStr(key), base_url=base
            ).lazy_load()
        ),
    }
    if "\x00" not in key:  # no environment can hold a NUL
        monkeypatch.setenv("TWELVELABS_API_KEY", key)
        attempts["the environment"] = lambda: TwelveLabs(base_url=base)
    for where, attempt in attempts.items():
        with pytest.raises(InvalidRequestError) as caught:
            attempt()
        shown = [str(caught.value), repr(caught.value)]
        shown.append("".join(traceback.format_exception(caught.value)))
        for text in shown:
            assert MARK not in text, f"{where}: the key is shown in {text!r}"
        assert "API key contains characters no key has" in str(caught.value), where
    assert sent == []


# -- redirects: the key stays with the host it was given for ---------------------------


def _redirecting(seen: list[httpx.Request]) -> httpx.MockTransport:
    """api.example.test sends some paths elsewhere; every request is recorded."""
    moves = {
        "/v1.3/indexes/elsewhere": "https://cdn.other.test/indexes/i1",
        "/v1.3/indexes/plain": "http://plain.other.test/indexes/i1",
        "/v1.3/indexes/home": "/v1.3/indexes/i1",
    }

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        target = moves.get(request.url.path) if request.url.host == "api.example.test" else None
        if target is not None:
            return httpx.Response(302, headers={"Location": target})
        return httpx.Response(200, json={"_id": "i1", "index_name": "talks"})

    return httpx.MockTransport(answer)


def _check_redirects(seen: list[httpx.Request], outcomes: dict[str, object]) -> None:
    for request in seen:
        if request.url.host != "api.example.test":
            assert "x-api-key" not in request.headers, f"the key went to {request.url.host}"
    assert getattr(outcomes["elsewhere"], "id", None) == "i1"  # followed, without the key
    assert isinstance(outcomes["plain"], TwelveLabsError)  # never to plain http elsewhere
    assert not any(request.url.host == "plain.other.test" for request in seen)
    home = [
        r for r in seen if r.url.path == "/v1.3/indexes/i1" and r.url.host == "api.example.test"
    ]
    assert home
    assert all(r.headers["x-api-key"] == KEY for r in home)  # same host: kept
    assert getattr(outcomes["home"], "id", None) == "i1"


def test_the_key_never_follows_a_redirect_to_another_host() -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(transport=_redirecting(seen), follow_redirects=True)
    outcomes: dict[str, object] = {}
    with TwelveLabs(api_key=KEY, base_url="https://api.example.test/v1.3", http_client=http) as c:
        for name in ("elsewhere", "plain", "home"):
            try:
                outcomes[name] = c.indexes.retrieve(name)
            except TwelveLabsError as exc:
                outcomes[name] = exc
    _check_redirects(seen, outcomes)


async def test_the_key_never_follows_an_async_redirect_to_another_host() -> None:
    seen: list[httpx.Request] = []
    http = httpx.AsyncClient(transport=_redirecting(seen), follow_redirects=True)
    outcomes: dict[str, object] = {}
    async with AsyncTwelveLabs(
        api_key=KEY, base_url="https://api.example.test/v1.3", http_client=http
    ) as c:
        for name in ("elsewhere", "plain", "home"):
            try:
                outcomes[name] = await c.indexes.retrieve(name)
            except TwelveLabsError as exc:
                outcomes[name] = exc
    _check_redirects(seen, outcomes)


# -- signed URLs: their signature is a credential too -----------------------------------

SIGNATURE = "SIGNATURE-8d7f3e"


@pytest.fixture(scope="module")
def refusing_storage() -> Iterator[str]:
    """A storage server on this machine that refuses every download (403)."""

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(403, "signature mismatch")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("upload", ["assets", "tasks"])
def test_a_signed_url_is_redacted_in_failures(
    upload: str, refusing_storage: str, client: TwelveLabs
) -> None:
    url = f"{refusing_storage}/private/talk.mp4?X-Amz-Credential=AKIA1&X-Amz-Signature={SIGNATURE}"
    failures: list[IngestFailure] = []
    options = IngestOptions(
        index_name="secrets-urls",
        content=("transcript",),
        upload=upload,  # type: ignore[arg-type]
    )
    with pytest.raises(IngestError) as caught:
        list(VideoIngest(client, options).run([url], failures=failures))
    (failure,) = failures
    assert failure.source == f"{refusing_storage}/private/talk.mp4"
    assert "403" in failure.reason
    shown = {
        "the source": failure.source,
        "the reason": failure.reason,
        "str() of the exception": str(failure.exception),
        "repr() of the failure": repr(failure),
        "the traceback": "".join(traceback.format_exception(failure.exception)),
        "the body": repr(getattr(failure.exception, "body", None)),
        "the run's error": str(caught.value),
        "a pickle of the failure": pickle.dumps(failure).decode("latin-1"),
    }
    for where, text in shown.items():
        assert SIGNATURE not in text, f"the URL's signature is in {where}"
    assert isinstance(failure.exception, BadRequestError)
    assert failure.exception.status_code == 400  # still the error it was, for the caller
