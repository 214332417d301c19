"""A hostile or broken server cannot take the client down: not its time, not its memory.

A real socket server misbehaves on purpose: it drips its answer a byte at a time (headers
or body), stalls after reading the request, streams an endless body, declares a huge one,
or sends a gzip bomb. It keeps misbehaving until the test ends, so a call that returns at
all returned because the client gave up by its own bound, not because the server stopped;
a generous guard only keeps a broken client from hanging the suite. Nothing asserts a
duration: the outcomes are exception types, bytes the server managed to send, and memory.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from testkit import FakeClock
from tl_integrations import (
    APIConnectionError,
    AsyncTwelveLabs,
    MalformedResponseError,
    RateLimitError,
    TaskTimeoutError,
    TwelveLabs,
)

KEY = "tlk-hostile-server"
GUARD_S = 60.0  # a client still stuck after this is broken; never reached when it works
DRIP_EVERY_S = 0.02
BOUND_S = 0.3  # the client's timeout_s, or a wait's deadline
# At one byte per DRIP_EVERY_S, a bound of BOUND_S lets about 15 bytes through.
MOST_DRIPPED_BYTES = 150
MIB = 1024 * 1024


@dataclass
class Outcome:
    """What a call running in a worker thread ended with."""

    value: Any = None
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)


def started(call: Callable[[], object]) -> Outcome:
    """Start ``call`` in a thread; its outcome fills in when it ends."""
    outcome = Outcome()

    def run() -> None:
        try:
            outcome.value = call()
        except BaseException as exc:  # the test inspects it
            outcome.error = exc
        finally:
            outcome.finished.set()

    threading.Thread(target=run, daemon=True, name="hostile-call").start()
    return outcome


def in_worker(call: Callable[[], object]) -> Outcome:
    """Run ``call`` in a thread; return once it ended or the guard passed."""
    outcome = started(call)
    outcome.finished.wait(GUARD_S)
    return outcome


class BadServer:
    """A TCP server answering every request the same hostile way, until :meth:`stop`.

    Modes: ``drip-headers`` (a header block that never ends, one byte at a time),
    ``drip-body`` (headers, then an endless body one byte at a time), ``stall`` (reads the
    request, answers nothing), ``endless`` (a chunked body streamed as fast as it is read),
    ``declared`` (announces a 600 MB body), ``bomb`` (a 1 MB gzip body inflating to 1 GB).
    """

    def __init__(self, mode: str, *, bomb: bytes = b"") -> None:
        self.mode = mode
        self.bomb = bomb
        self.sent = 0
        self.connections = 0
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True, name=f"bad-{mode}").start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1.3"

    def stop(self) -> None:
        self.stopped.set()
        self._sock.close()
        with self._lock:
            for conn in self._conns:
                conn.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        with self._lock:
            self.sent += len(data)

    def _drip(self, conn: socket.socket, data: bytes) -> None:
        for byte in data:
            if self.stopped.wait(DRIP_EVERY_S):
                return
            self._send(conn, bytes([byte]))

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            getattr(self, "_" + self.mode.replace("-", "_"))(conn)
        except OSError:
            pass  # the client hung up: what a bounded client does

    def _drip_headers(self, conn: socket.socket) -> None:
        self._drip(conn, b"HTTP/1.1 200 OK\r\n")
        while not self.stopped.is_set():
            self._drip(conn, b"x-padding: " + b"a" * 60 + b"\r\n")

    def _drip_body(self, conn: socket.socket) -> None:
        self._send(conn, b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n")
        self._send(conn, b"content-length: 100000000\r\n\r\n")
        while not self.stopped.is_set():
            self._drip(conn, b'{"_id": "t1", "status": "ready"}')

    def _stall(self, conn: socket.socket) -> None:
        self.stopped.wait()

    def _endless(self, conn: socket.socket) -> None:
        self._send(conn, b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n")
        self._send(conn, b"transfer-encoding: chunked\r\n\r\n")
        chunk = b" " * MIB
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        while not self.stopped.is_set() and self.sent < 400 * MIB:
            self._send(conn, framed)

    def _declared(self, conn: socket.socket) -> None:
        self._send(conn, b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n")
        self._send(conn, f"content-length: {600 * MIB}\r\n\r\n".encode())
        chunk = b" " * MIB
        while not self.stopped.is_set() and self.sent < 600 * MIB:
            self._send(conn, chunk)

    def _bomb(self, conn: socket.socket) -> None:
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
            f"content-length: {len(self.bomb)}\r\n\r\n"
        )
        self._send(conn, head.encode() + self.bomb)
        self.stopped.wait()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """1 GB of JSON whitespace, gzipped to about 1 MB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b" " * MIB
    parts = [packer.compress(b"[")] + [packer.compress(zeros) for _ in range(1024)]
    return b"".join([*parts, packer.compress(b"]"), packer.flush()])


@pytest.fixture
def serve() -> Iterator[Callable[..., BadServer]]:
    servers: list[BadServer] = []

    def start(mode: str, **kwargs: Any) -> BadServer:
        servers.append(BadServer(mode, **kwargs))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


# -- time: timeout_s bounds a whole request, a wait's deadline bounds the whole wait ------


@pytest.mark.parametrize("mode", ["drip-headers", "drip-body", "stall"])
def test_a_slow_server_cannot_hold_a_request(mode: str, serve: Callable[..., BadServer]) -> None:
    server = serve(mode)
    client = TwelveLabs(api_key=KEY, base_url=server.base_url, timeout_s=BOUND_S, max_retries=0)
    outcome = in_worker(lambda: client.tasks.retrieve("t1"))
    assert outcome.finished.is_set(), f"a server in {mode} mode held the request"
    assert not server.stopped.is_set()  # it was still at it: the client gave up by itself
    assert isinstance(outcome.error, APIConnectionError), outcome.error
    assert "Timeout" in str(outcome.error)
    assert server.sent < MOST_DRIPPED_BYTES


@pytest.mark.parametrize("mode", ["drip-headers", "drip-body", "stall"])
def test_a_slow_server_cannot_hold_an_async_request(
    mode: str, serve: Callable[..., BadServer]
) -> None:
    server = serve(mode)

    async def call() -> object:
        async with AsyncTwelveLabs(
            api_key=KEY, base_url=server.base_url, timeout_s=BOUND_S, max_retries=0
        ) as client:
            return await client.tasks.retrieve("t1")

    outcome = in_worker(lambda: asyncio.run(call()))
    assert outcome.finished.is_set(), f"a server in {mode} mode held the request"
    assert isinstance(outcome.error, APIConnectionError), outcome.error
    assert server.sent < MOST_DRIPPED_BYTES


@pytest.mark.parametrize("mode", ["drip-headers", "drip-body", "stall"])
def test_a_slow_server_cannot_hold_a_wait(mode: str, serve: Callable[..., BadServer]) -> None:
    """The client's own timeout is the default 600 s: the wait's deadline is what bounds."""
    server = serve(mode)
    client = TwelveLabs(api_key=KEY, base_url=server.base_url)
    outcome = in_worker(lambda: client.tasks.wait("t1", timeout_s=BOUND_S))
    assert outcome.finished.is_set(), f"a server in {mode} mode held the wait"
    assert isinstance(outcome.error, TaskTimeoutError), outcome.error
    assert outcome.error.task_ids == ["t1"]


def test_a_stalled_server_cannot_hold_wait_many(serve: Callable[..., BadServer]) -> None:
    server = serve("stall")
    client = TwelveLabs(api_key=KEY, base_url=server.base_url)
    outcome = in_worker(lambda: list(client.tasks.wait_many(["t1", "t2"], timeout_s=BOUND_S)))
    assert outcome.finished.is_set(), "a stalled server held wait_many"
    assert isinstance(outcome.error, TaskTimeoutError), outcome.error
    assert sorted(outcome.error.task_ids) == ["t1", "t2"]


def _paced_server(requests: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(429, headers={"Retry-After": "100"}, json={"code": "too_many"})

    return httpx.MockTransport(answer)


@pytest.mark.parametrize("how", ["wait", "wait_many"])
def test_a_retry_after_past_the_deadline_ends_the_wait_at_once(how: str) -> None:
    requests: list[httpx.Request] = []
    time = FakeClock(1000.0)
    client = TwelveLabs(
        api_key=KEY,
        base_url="https://api.example.test/v1.3",
        http_client=httpx.Client(transport=_paced_server(requests)),
        clock=time,
        sleep=time.sleep,
    )
    call: Callable[[], object] = (
        (lambda: client.tasks.wait("t1", timeout_s=3))
        if how == "wait"
        else (lambda: list(client.tasks.wait_many(["t1"], timeout_s=3)))
    )
    with pytest.raises(TaskTimeoutError) as caught:
        call()
    assert caught.value.retry_after_s == 100.0  # the server's hint, for the caller to use
    assert isinstance(caught.value.__cause__, RateLimitError)
    assert time.sleeps == [], "slept although the server asked for more than the time left"
    assert len(requests) == 1


async def test_a_retry_after_past_the_deadline_ends_an_async_wait_at_once() -> None:
    requests: list[httpx.Request] = []
    time = FakeClock(1000.0)
    async with AsyncTwelveLabs(
        api_key=KEY,
        base_url="https://api.example.test/v1.3",
        http_client=httpx.AsyncClient(transport=_paced_server(requests)),
        clock=time,
        sleep=time.async_sleep,
    ) as client:
        with pytest.raises(TaskTimeoutError) as caught:
            await client.tasks.wait("t1", timeout_s=3)
    assert caught.value.retry_after_s == 100.0
    assert time.sleeps == []
    assert len(requests) == 1


# -- memory: bodies are capped before they are read into memory -------------------------


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_growth(call: Callable[[], object]) -> tuple[Outcome, int]:
    """Run ``call`` while sampling this process's resident memory; the peak growth."""
    baseline = _rss_bytes()
    peak = baseline
    outcome = started(call)
    while not outcome.finished.wait(0.002):
        peak = max(peak, _rss_bytes())
    return outcome, max(peak, _rss_bytes()) - baseline


def test_an_endless_body_is_cut_at_the_cap(serve: Callable[..., BadServer]) -> None:
    server = serve("endless")
    cap = 8 * MIB
    client = TwelveLabs(api_key=KEY, base_url=server.base_url, max_response_bytes=cap)
    outcome, growth = peak_growth(lambda: client.tasks.retrieve("t1"))
    assert isinstance(outcome.error, MalformedResponseError), outcome.error
    assert "over 8388608 bytes" in str(outcome.error)
    # What the server pushed before the client hung up: the cap plus the sockets' buffers.
    assert server.sent < 64 * MIB
    assert growth < 128 * MIB


def test_a_declared_huge_body_is_refused_unread(serve: Callable[..., BadServer]) -> None:
    server = serve("declared")
    client = TwelveLabs(api_key=KEY, base_url=server.base_url)  # the default cap: 512 MiB
    outcome, growth = peak_growth(lambda: client.tasks.retrieve("t1"))
    assert isinstance(outcome.error, MalformedResponseError), outcome.error
    assert "refusing to read it" in str(outcome.error)
    assert server.sent < 64 * MIB
    assert growth < 128 * MIB


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_gzip_bomb_is_refused_by_what_it_inflates_to(
    asynchronous: bool, serve: Callable[..., BadServer], bomb: bytes
) -> None:
    server = serve("bomb", bomb=bomb)
    assert len(bomb) < 2 * MIB

    def call() -> object:
        if not asynchronous:
            return TwelveLabs(api_key=KEY, base_url=server.base_url).tasks.retrieve("t1")

        async def fetch() -> object:
            async with AsyncTwelveLabs(api_key=KEY, base_url=server.base_url) as client:
                return await client.tasks.retrieve("t1")

        return asyncio.run(fetch())

    outcome, growth = peak_growth(call)
    assert isinstance(outcome.error, MalformedResponseError), outcome.error
    assert "decompression bomb" in str(outcome.error)
    assert growth < 128 * MIB, f"the client grew by {growth / MIB:.0f} MiB"


# -- what the server says is checked before it becomes data -------------------------------


def _answering(body: dict[str, Any]) -> TwelveLabs:
    return TwelveLabs(
        api_key=KEY,
        base_url="https://api.example.test/v1.3",
        http_client=httpx.Client(
            transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body))
        ),
        max_retries=0,
    )


VIDEO = {"_id": "v1", "system_metadata": {"filename": "a.mp4", "duration": 12.5}}
NEGATIVE: dict[str, tuple[dict[str, Any], Callable[[TwelveLabs], object], str]] = {
    "a negative video duration": (
        {**VIDEO, "system_metadata": {"duration": -12.5}},
        lambda c: c.videos.retrieve("i1", "v1"),
        "'duration' should be >= 0",
    ),
    "a negative transcript time": (
        {**VIDEO, "transcription": [{"start": -3.0, "end": 1.0, "value": "hi"}]},
        lambda c: c.videos.retrieve("i1", "v1", transcription=True),
        "'start' should be >= 0",
    ),
    "a negative clip start": (
        {"data": [{"video_id": "v1", "start": -1.0, "end": 4.0, "rank": 1}]},
        lambda c: list(c.search.query(index_id="i1", query_text="cats")),
        "'start' should be >= 0",
    ),
    "a negative rank": (
        {"data": [{"video_id": "v1", "start": 1.0, "end": 4.0, "rank": -2}]},
        lambda c: list(c.search.query(index_id="i1", query_text="cats")),
        "'rank' should be >= 0",
    ),
    "a negative asset duration": (
        {"_id": "a1", "status": "ready", "duration": -4.0},
        lambda c: c.assets.retrieve("a1"),
        "'duration' should be >= 0",
    ),
    "a negative index duration": (
        {"_id": "i1", "index_name": "x", "total_duration": -60.0},
        lambda c: c.indexes.retrieve("i1"),
        "'total_duration' should be >= 0",
    ),
    "a task answered for another id": (
        {"_id": "t2", "status": "ready", "index_id": "i1"},
        lambda c: c.tasks.retrieve("t1"),
        "asked for task t1 and the server answered with t2",
    ),
    "an asset answered for another id": (
        {"_id": "a2", "status": "ready"},
        lambda c: c.assets.retrieve("a1"),
        "asked for asset a1 and the server answered with a2",
    ),
}


@pytest.mark.parametrize("name", list(NEGATIVE))
def test_impossible_numbers_and_ids_are_malformed_answers(name: str) -> None:
    body, call, says = NEGATIVE[name]
    with pytest.raises(MalformedResponseError) as caught:
        call(_answering(body))
    assert says in str(caught.value)
