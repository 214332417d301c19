"""Bounded resources: request bodies and forms are capped, connections that stall are
closed, and bad control values are a 400, never a broken server."""

from __future__ import annotations

import email.utils
import socket
from collections.abc import Callable, Iterator

import httpx
import pytest

from testkit import start_emulator
from tl_integrations.emulator import Emulator, ManualClock

KEY = "k"
# Only reached when the server holds a connection it should have closed.
FAILSAFE_S = 10.0
SHORT_S = 0.3  # the timeouts of the emulator under test


def _limits(**values: object) -> object:
    from tl_integrations.emulator import RequestLimits

    return RequestLimits(**values)  # type: ignore[arg-type]


@pytest.fixture
def quick(request: pytest.FixtureRequest) -> Emulator:
    """An emulator whose header and body timeouts are short, and whose caps are small."""
    limits = _limits(
        header_timeout_s=SHORT_S,
        read_timeout_s=SHORT_S,
        json_bytes=4096,
        form_parts=10,
        form_text_bytes=10_000,
    )
    return start_emulator(request, clock=ManualClock(), requests=limits)


@pytest.fixture
def http(quick: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=quick.base_url, headers={"x-api-key": KEY}) as client:
        yield client


def _connect(emu: Emulator) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", emu.port))
    sock.settimeout(FAILSAFE_S)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection (reading whatever it answered first)."""
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def _head(path: str, *extra: str, method: str = "GET") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"x-api-key: {KEY}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# ---------------------------------------------------------------------- bodies and forms


def test_a_body_declared_too_large_is_refused_before_it_is_read(
    emulator_for: Callable[..., Emulator],
) -> None:
    """Default limits: 100 MB announced for a JSON body gets a 413 at once; the server does
    not wait for (or buffer) the bytes."""
    emu = emulator_for()
    with _connect(emu) as sock:
        sock.sendall(
            _head(
                "/v1.3/indexes",
                "content-type: application/json",
                "content-length: 100000000",
                method="POST",
            )
        )
        status = sock.recv(65536).split(b"\r\n", 1)[0]
    assert status == b"HTTP/1.1 413 Request Entity Too Large"


def test_a_streamed_json_body_is_cut_at_the_limit(http: httpx.Client) -> None:
    chunks = iter([b'{"index_name": "' + b"x" * 3000, b"x" * 3000 + b'"}'])  # no length
    refused = http.post("/indexes", content=chunks, headers={"content-type": "application/json"})
    assert refused.status_code == 413
    assert refused.json()["code"] == "request_too_large"
    assert "RequestLimits.json_bytes" in refused.json()["message"]
    assert http.get("/indexes").json()["data"] == []


def test_a_form_with_too_many_parts_is_refused(emulator_for: Callable[..., Emulator]) -> None:
    """Default limits: 1,001 form fields."""
    fields = [("search_options", "visual")] * 1001 + [("index_id", "0" * 24)]
    emu = emulator_for()
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": KEY}) as h:
        for refused in (
            h.post("/search", data=dict.fromkeys(["query_text"], "x"), files=[*_parts(fields)]),
            h.post("/search", content=_urlencoded(fields), headers=_FORM),
        ):
            assert refused.status_code == 413, refused.text
            assert "form_parts" in refused.json()["message"]


def test_form_text_is_capped_per_request(http: httpx.Client) -> None:
    fields = [("query_text", "x" * 4000), ("index_id", "y" * 4000), ("page_token", "z" * 4000)]
    multipart = http.post("/search", files=[*_parts(fields)])
    urlencoded = http.post("/search", content=_urlencoded(fields), headers=_FORM)
    for refused in (multipart, urlencoded):
        assert refused.status_code == 413, refused.text
        assert "form_text_bytes" in refused.json()["message"]


_FORM = {"content-type": "application/x-www-form-urlencoded"}


def _parts(fields: list[tuple[str, str]]) -> Iterator[tuple[str, tuple[None, str]]]:
    """Text fields as multipart parts (httpx sends ``files=`` entries with no file name as
    plain fields)."""
    for name, value in fields:
        yield name, (None, value)


def _urlencoded(fields: list[tuple[str, str]]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()


# ---------------------------------------------------------------------- stalled connections


def test_a_connection_that_sends_nothing_is_closed(quick: Emulator) -> None:
    with _connect(quick) as sock:
        assert _closed_by_server(sock)


def test_a_request_head_that_stops_halfway_is_closed(quick: Emulator) -> None:
    with _connect(quick) as sock:
        sock.sendall(b"GET /v1.3/indexes HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-")
        assert _closed_by_server(sock)


def test_a_kept_alive_connection_that_stalls_in_its_next_head_is_closed(
    quick: Emulator,
) -> None:
    with _connect(quick) as sock:
        sock.sendall(_head("/v1.3/indexes"))
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /v1.3/indexes HTTP/1.1\r\n")
        assert _closed_by_server(sock)


def test_a_body_that_stops_arriving_is_cut_off(quick: Emulator, http: httpx.Client) -> None:
    head = _head(
        "/v1.3/indexes", "content-type: application/json", "content-length: 1000", method="POST"
    )
    with _connect(quick) as sock:
        sock.sendall(head + b'{"index_name": "stalled"')
        assert _closed_by_server(sock)
    upload = _head(
        "/v1.3/tasks",
        "content-type: multipart/form-data; boundary=b",
        "content-length: 100000",
        method="POST",
    )
    with _connect(quick) as sock:
        sock.sendall(upload + b'--b\r\ncontent-disposition: form-data; name="video_file"; ')
        sock.sendall(b'filename="a.mp4"\r\n\r\n' + b"\x00" * 1000)
        assert _closed_by_server(sock)
    assert http.get("/indexes").json()["data"] == []  # and the server still answers
    assert http.get("/tasks").json()["data"] == []


# ---------------------------------------------------------------------- control values


@pytest.mark.parametrize("step", ["nan", "inf", "-inf", 1e308, -1, "10", True, None, [1]])
def test_a_bad_clock_advance_is_a_400_and_the_server_stays_up(
    emulator_for: Callable[..., Emulator], step: object
) -> None:
    clock = ManualClock(start_s=1_700_000_000.0)
    emu = emulator_for(clock=clock)
    with httpx.Client(headers={"x-api-key": KEY}) as http:
        refused = http.post(f"{emu.url}/_emulator/clock", json={"advance_s": step})
        assert refused.status_code == 400, refused.text
        assert refused.json()["message"].startswith("Bad advance_s")
        assert clock() == 1_700_000_000.0
        after = http.get(f"{emu.base_url}/indexes")
        assert after.status_code == 200
        assert email.utils.parsedate_to_datetime(after.headers["date"]).year == 2023
        assert http.post(f"{emu.url}/_emulator/clock", json={"advance_s": 5}).status_code == 200
    with pytest.raises(ValueError, match="finite"):
        clock.advance(float("nan"))


@pytest.mark.parametrize(
    "body",
    [
        {"spec": "500=0.1", "seed": "x"},
        {"spec": "500=0.1", "seed": 1.5},
        {"spec": "500=0.1", "seed": [1]},
        {"spec": "500=0.1", "seed": True},
        {"faults": [1]},
        {"faults": {"500": "x"}},
        {"spec": "500=nan"},
        {"spec": "latency=1,latency_s=inf"},
        {"spec": "latency=1,latency_s=nan"},
    ],
)
def test_bad_faults_are_a_400_and_the_server_stays_up(
    emulator_for: Callable[..., Emulator], body: dict[str, object]
) -> None:
    emu = emulator_for()
    with httpx.Client(headers={"x-api-key": KEY}, timeout=FAILSAFE_S) as http:
        refused = http.post(f"{emu.url}/_emulator/faults", json=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["message"].startswith("Bad ")
        assert http.get(f"{emu.url}/_emulator/faults").json()["faults"] == {}
        assert http.get(f"{emu.base_url}/indexes").status_code == 200
