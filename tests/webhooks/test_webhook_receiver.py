"""``WebhookReceiver``: an ASGI app (mountable, answering what a sender needs), an event
source (deduplicated, newest per job, wakes its subscribers), a small server, and a secret
that never shows."""

from __future__ import annotations

import asyncio
import logging
import pickle
import subprocess
import sys
from typing import Any

import httpx
import pytest

from tl_integrations import WebhookEvent, WebhookReceiver, WebhookVerificationError

from .signing import NOW, SECRET, event, signed


def make(**kwargs: Any) -> WebhookReceiver:
    kwargs.setdefault("clock", lambda: float(NOW))
    return WebhookReceiver(SECRET, **kwargs)


class Flag:
    def __init__(self) -> None:
        self.raised = 0

    def set(self) -> None:
        self.raised += 1


def test_each_event_is_kept_once_per_id_and_newest_per_job() -> None:
    receiver = make()
    first = signed(event("index.task.ready", "t1", status="ready"))
    assert receiver.receive(*first) is not None
    assert receiver.receive(*first) is None  # a delivery retry
    assert receiver.latest(["t1", "t2"]) == {"t1": {"id": "t1", "status": "ready"}}
    assert receiver.stats == {"events": 1, "duplicates": 1, "rejected": 0}


def test_a_late_event_never_replaces_a_newer_one_of_the_same_job() -> None:
    receiver = make()
    newer = event("analyze.task.canceled", "t1", status="canceled", created_at="2026-10-02T10:00Z")
    older = event("analyze.task.ready", "t1", status="ready", created_at="2026-10-02T09:00Z")
    receiver.receive(*signed(newer))
    receiver.receive(*signed(older))  # reordered on the way
    assert receiver.latest(["t1"])["t1"]["status"] == "canceled"
    assert receiver.stats["events"] == 2


def test_refused_requests_change_nothing_and_are_counted() -> None:
    receiver = make()
    with pytest.raises(WebhookVerificationError):
        receiver.receive(*signed(event("index.task.failed", "t1"), secret="whsec_forged"))
    with pytest.raises(WebhookVerificationError):
        receiver.receive(*signed(event("index.task.failed", "t1"), at=NOW - 3600))
    assert receiver.latest(["t1"]) == {}
    assert receiver.stats == {"events": 0, "duplicates": 0, "rejected": 2}


def test_subscribers_are_woken_by_new_events_only_until_they_leave() -> None:
    receiver = make()
    flag = Flag()
    stop = receiver.subscribe(flag)
    body = signed(event("index.task.ready", "t1"))
    receiver.receive(*body)
    receiver.receive(*body)  # a duplicate wakes nobody
    stop()
    receiver.receive(*signed(event("index.task.ready", "t2")))
    assert flag.raised == 1


def test_on_event_sees_each_new_event_and_its_errors_are_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[WebhookEvent] = []

    def record(received: WebhookEvent) -> None:
        seen.append(received)
        raise RuntimeError("the callback broke")

    receiver = make(on_event=record)
    body = signed(event("index.task.ready", "t1"))
    with caplog.at_level(logging.ERROR, logger="tl_integrations"):
        assert receiver.receive(*body) is not None
        receiver.receive(*body)
    assert [e.job_id for e in seen] == ["t1"]
    assert "on_event callback failed" in caplog.text


def test_memory_is_bounded_oldest_first() -> None:
    receiver = make(remembered=2)
    for job in ("t1", "t2", "t3"):
        receiver.receive(*signed(event("index.task.ready", job)))
    assert sorted(receiver.latest(["t1", "t2", "t3"])) == ["t2", "t3"]
    # the oldest id was forgotten too: its retry counts as new (the wait absorbs it once)
    assert receiver.receive(*signed(event("index.task.ready", "t1"))) is not None


def test_the_secret_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    receiver = make()
    with caplog.at_level(logging.DEBUG, logger="tl_integrations"):
        receiver.receive(*signed(event("index.task.ready", "t1")))
        with pytest.raises(WebhookVerificationError):
            receiver.receive(*signed(event("index.task.ready", "t2"), secret="whsec_other"))
    assert SECRET not in repr(receiver)
    assert SECRET not in caplog.text
    assert "whsec_other" not in caplog.text
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(receiver)


@pytest.mark.parametrize(
    "kwargs",
    [{"tolerance_s": 0}, {"max_body_bytes": 0}, {"remembered": True}, {"remembered": 1.5}],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any]) -> None:
    from tl_integrations import InvalidRequestError

    with pytest.raises(InvalidRequestError):
        make(**kwargs)


# --- ASGI ------------------------------------------------------------------------------------


async def post(app: Any, body: bytes, headers: dict[str, str], path: str = "/") -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
        return await http.post(path, content=body, headers=headers)


async def test_asgi_answers_what_a_sender_needs() -> None:
    receiver = make()
    body, headers = signed(event("index.task.ready", "t1"))
    first = await post(receiver, body, headers)
    again = await post(receiver, body, headers)
    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    forged = await post(receiver, *signed(event("index.task.ready", "t2"), secret="whsec_x"))
    stale = await post(receiver, *signed(event("index.task.ready", "t3"), at=NOW - 900))
    broken = await post(receiver, *signed(b"[1, 2]"))
    assert (forged.status_code, forged.json()) == (401, {"error": "signature"})
    assert (stale.status_code, stale.json()) == (401, {"error": "timestamp"})
    assert (broken.status_code, broken.json()) == (400, {"error": "body"})
    assert receiver.stats == {"events": 1, "duplicates": 1, "rejected": 3}


async def test_asgi_other_methods_and_oversized_bodies() -> None:
    receiver = make(max_body_bytes=64)
    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
        health = await http.get("/")
        put = await http.put("/", content=b"{}")
        big = await http.post("/", content=b"x" * 65)
    assert (health.status_code, health.json()["receiver"]) == (200, "tl-integrations")
    assert (put.status_code, put.headers["allow"]) == (405, "POST, GET")
    assert big.status_code == 413
    assert receiver.stats["rejected"] == 0  # never even verified


async def test_it_mounts_in_a_starlette_app_under_any_path() -> None:
    starlette = pytest.importorskip("starlette.applications")
    from starlette.routing import Mount

    receiver = make()
    app = starlette.Starlette(routes=[Mount("/twelvelabs/webhooks", app=receiver)])
    # Starlette redirects a mount's bare path to its slashed form: register the slashed URL.
    response = await post(app, *signed(event("index.task.ready", "t1")), "/twelvelabs/webhooks/")
    assert response.status_code == 200
    assert receiver.latest(["t1"])


async def test_asgi_lifespan_is_answered() -> None:
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(make()({"type": "lifespan"}, receive, send), timeout=5)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


# --- the standalone server -------------------------------------------------------------------


def test_serve_runs_a_real_server_until_closed() -> None:
    pytest.importorskip("uvicorn")
    receiver = make()
    with receiver.serve(port=0) as server:
        assert server.url.startswith("http://127.0.0.1:")
        response = httpx.post(
            server.url,
            content=signed(event("index.task.ready", "t1"))[0],
            headers=signed(event("index.task.ready", "t1"))[1],
        )
        assert response.status_code == 200
        assert SECRET not in repr(server)
    assert receiver.latest(["t1"])
    with pytest.raises(httpx.ConnectError):
        httpx.post(server.url, content=b"{}")


def test_a_missing_uvicorn_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ImportError, match=r"pip install 'tl-integrations\[emulator\]'"):
        make().serve()


def test_the_receiver_imports_no_server_or_framework() -> None:
    code = (
        "import sys\n"
        "from tl_integrations import WebhookReceiver, verify_webhook\n"
        "WebhookReceiver('s')\n"
        "heavy = {'starlette', 'uvicorn', 'fastapi', 'av', 'langchain_core', 'llama_index'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
