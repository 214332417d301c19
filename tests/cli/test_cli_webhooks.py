"""``tl-integrations webhooks``: a receiver on a port that prints each verified event, counts
what it refused, and never prints its secret."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import io
import json
import threading
import time

import httpx
import pytest

from tl_integrations._cli import main
from tl_integrations._cli.backend import Settings
from tl_integrations._cli.output import Console
from tl_integrations._cli.parser import build_parser
from tl_integrations._cli.webhooks import run_webhooks

SECRET = "whsec_CLI-s3cret-never-printed"


class Notices(io.StringIO):
    """stderr that says when the server has printed its URL."""

    def __init__(self) -> None:
        super().__init__()
        self.listening = threading.Event()

    def write(self, text: str) -> int:
        if "http://" in text:
            self.listening.set()
        return super().write(text)


def signed(job_id: str, *, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {"id": f"whe_{job_id}", "type": "index.task.ready", "data": {"id": job_id}}
    ).encode()
    at = int(time.time())  # the receiver checks against the wall clock, as in real use
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"TL-Signature": f"t={at},v1={mac}"}


def test_it_prints_each_event_once_and_sums_up_what_it_refused() -> None:
    pytest.importorskip("uvicorn")
    args = build_parser().parse_args(
        ["webhooks", "--port", "0", "--secret", SECRET, "--count", "2", "--json"]
    )
    out, err = io.StringIO(), Notices()
    console = Console(json_mode=True, stdout=out, stderr=err)
    codes: list[int] = []
    runner = threading.Thread(
        target=lambda: codes.append(run_webhooks(args, Settings.from_args(args), console))
    )
    runner.start()
    assert err.listening.wait(timeout=30)
    url = err.getvalue().split("at ", 1)[1].split(" ", 1)[0]
    first = signed("t1")
    assert httpx.post(url, content=first[0], headers=first[1]).status_code == 200
    assert httpx.post(url, content=first[0], headers=first[1]).json()["duplicate"] is True
    forged = signed("t9", secret="whsec_forged")
    assert httpx.post(url, content=forged[0], headers=forged[1]).status_code == 401
    second = signed("t2")
    assert httpx.post(url, content=second[0], headers=second[1]).status_code == 200
    runner.join(timeout=30)
    assert codes == [0]
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["job_id"], e["status"], e["type"]) for e in lines] == [
        ("t1", "ready", "index.task.ready"),
        ("t2", "ready", "index.task.ready"),
    ]
    assert "2 event(s), 1 duplicate(s) ignored, 1 request(s) refused" in err.getvalue()
    assert SECRET not in out.getvalue() + err.getvalue()


def test_without_a_secret_it_says_where_to_put_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TWELVELABS_WEBHOOK_SECRET", raising=False)
    assert main(["webhooks", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "TWELVELABS_WEBHOOK_SECRET" in err
    assert "--secret" in err


def test_a_human_line_per_event() -> None:
    from tl_integrations import WebhookEvent
    from tl_integrations._cli.webhooks import event_line

    got = WebhookEvent("e", "analyze.task.failed", None, {"id": "a1", "status": "failed"})
    assert event_line(got, json_mode=False) == "-  analyze.task.failed  a1  failed"


def test_the_parser_checks_the_port() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["webhooks", "--port", "70000"])
    assert isinstance(build_parser().parse_args(["webhooks"]), argparse.Namespace)
