"""The emulator sends webhooks like the API: one signed event per indexing job, when its
status turns terminal on the emulator's clock, retried with backoff, recorded, and subject
to the delivery faults (dropped, duplicated, delayed, reordered), reproducibly."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tl_integrations import WebhookReceiver
from tl_integrations.emulator import Emulator, EmulatorConfig, Faults, ManualClock
from tl_integrations.emulator._backend import Backend
from tl_integrations.emulator._cli import build_parser, config_from_args

from .conftest import make_sample_video, unique

SECRET = "whsec_emulator-TEST"
START = 1_790_000_000.0


class Sink(WebhookReceiver):
    """A receiver that keeps every raw request, and answers 503 while ``down``."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(SECRET, clock=clock)
        self.raw: list[tuple[bytes, dict[str, str]]] = []
        self.down = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and self.down:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await super().__call__(scope, receive, send)

    def receive(self, body: bytes | str, headers: Any) -> Any:
        pairs = {k.decode(): v.decode() for k, v in headers}
        self.raw.append((bytes(body) if isinstance(body, bytes) else body.encode(), pairs))
        return super().receive(body, headers)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.raw]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hooks")
    return make_sample_video(root / "clip.mp4", duration_s=5.0, size=(640, 360), fps=2)


class Rig:
    """An emulator on a manual clock whose webhooks go to a :class:`Sink`."""

    def __init__(self, sink: Sink, emu: Emulator) -> None:
        self.sink = sink
        self.emu = emu
        self.http = httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"})
        models = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]
        answer = self.http.post("/indexes", json={"index_name": unique("hooks"), "models": models})
        self.index_id: str = answer.json()["_id"]

    @property
    def hooks(self) -> Any:
        assert self.emu.app is not None
        return self.emu.app.emulator.backend.webhooks

    def task(self, video: Path) -> str:
        with video.open("rb") as handle:
            answer = self.http.post(
                "/tasks",
                data={"index_id": self.index_id},
                files={"video_file": (video.name, handle)},
            )
        task_id: str = answer.json()["_id"]
        return task_id

    def status(self, task_id: str) -> str:
        status: str = self.http.get(f"/tasks/{task_id}").json()["status"]
        return status

    def asset(self, video: Path) -> str:
        with video.open("rb") as handle:
            answer = self.http.post(
                "/assets", data={"method": "direct"}, files={"file": (video.name, handle)}
            )
        self.emu.advance(600.0)
        asset_id: str = answer.json()["_id"]
        return asset_id


def rig(clock: ManualClock, **config: Any) -> Iterator[Rig]:
    sink = Sink(clock)
    with sink.serve() as server, Emulator(
        clock=clock, seed=config.pop("seed", 5), webhook_url=server.url, webhook_secret=SECRET,
        **config,
    ) as emu:  # fmt: skip
        made = Rig(sink, emu)
        yield made
        made.http.close()


@pytest.fixture
def hooks() -> Iterator[Rig]:
    yield from rig(ManualClock(start_s=START))


def test_a_task_sends_one_signed_event_at_the_moment_it_ends(hooks: Rig, video: Path) -> None:
    task_id = hooks.task(video)
    for _ in range(60):
        hooks.emu.advance(0.25)
        ended = hooks.status(task_id) == "ready"
        assert len(hooks.sink.raw) == (1 if ended else 0)  # not before, and at once
        if ended:
            break
    body, headers = hooks.sink.raw[0]
    sent = json.loads(body)
    assert sent["type"] == "index.task.ready"
    assert sent["id"].startswith("whe_")
    assert sent["data"]["id"] == task_id
    assert sent["data"]["status"] == "ready"
    assert sent["data"]["metadata"]["duration"] == pytest.approx(5.0, abs=0.5)
    assert sent["data"]["models"] == [{"name": "marengo3.0", "options": ["visual", "audio"]}]
    assert sent["created_at"] == hooks.http.get(f"/tasks/{task_id}").json()["updated_at"]
    # the signature, computed by hand: t is the emulator's clock, v1 the HMAC of "<t>.<body>"
    stamp, mac = (part.split("=", 1)[1] for part in headers["tl-signature"].split(","))
    assert int(stamp) == int(hooks.emu.clock())  # type: ignore[misc]
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    assert mac == expected.hexdigest()
    assert hooks.hooks.records(task_id) == [
        {"url": hooks.hooks.store.config.webhook_url, "delivered": True, "attempts": 1}
    ]
    hooks.emu.advance(3600.0)
    assert len(hooks.sink.raw) == 1


def test_an_indexed_asset_event_carries_its_own_id_and_a_failure_is_failed(video: Path) -> None:
    for made in rig(ManualClock(start_s=START), faults=Faults(fail=1.0)):
        asset_id = made.asset(video)
        answer = made.http.post(
            f"/indexes/{made.index_id}/indexed-assets", json={"asset_id": asset_id}
        )
        indexed_id = answer.json()["_id"]
        made.emu.advance(600.0)
        (sent,) = made.sink.bodies()
        assert (sent["type"], sent["data"]["id"], sent["data"]["status"]) == (
            "index.task.failed",
            indexed_id,
            "failed",
        )


def test_a_job_deleted_before_it_ends_sends_nothing(hooks: Rig, video: Path) -> None:
    asset_id = hooks.asset(video)
    path = f"/indexes/{hooks.index_id}/indexed-assets"
    indexed_id = hooks.http.post(path, json={"asset_id": asset_id}).json()["_id"]
    assert hooks.http.delete(f"{path}/{indexed_id}").status_code == 204
    hooks.emu.advance(600.0)
    assert hooks.sink.raw == []


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    hooks: Rig, video: Path
) -> None:
    hooks.sink.down = True
    task_id = hooks.task(video)
    while hooks.status(task_id) != "ready":
        hooks.emu.advance(0.5)
    attempts = []
    for _ in range(4):  # 1st try at the end, then after 1, 2 and 4 s
        attempts.append(hooks.hooks.records(task_id)[0]["attempts"])
        hooks.emu.advance(1.0)
    record = hooks.hooks.records(task_id)[0]
    assert record["last_error"] == "HTTP 503"
    assert record["delivered"] is False
    assert attempts == [1, 2, 2, 3]  # 1 s, then 2 s later: backoff, not a fixed beat
    hooks.sink.down = False
    hooks.emu.advance(8.0)
    assert hooks.hooks.records(task_id)[0] == {
        "url": hooks.hooks.store.config.webhook_url,
        "delivered": True,
        "attempts": 4,
    }
    assert [b["data"]["id"] for b in hooks.sink.bodies()] == [task_id]


def test_a_receiver_that_never_answers_is_given_up_on(
    emulator_for: Callable[..., Emulator], video: Path
) -> None:
    clock = ManualClock(start_s=START)
    emu = emulator_for(
        clock=clock, webhook_url="http://127.0.0.1:9/", webhook_secret=SECRET, webhook_attempts=3
    )
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        models = [{"model_name": "marengo3.0", "model_options": ["visual"]}]
        index_id = http.post("/indexes", json={"index_name": "x", "models": models}).json()["_id"]
        with video.open("rb") as handle:
            task_id = http.post(
                "/tasks", data={"index_id": index_id}, files={"video_file": ("a.mp4", handle)}
            ).json()["_id"]
        for _ in range(20):
            emu.advance(30.0)
        assert emu.app is not None
        (record,) = emu.app.emulator.backend.webhooks.records(task_id)
    assert (record["delivered"], record["attempts"]) == (False, 3)
    assert record["last_error"].startswith("ConnectError")


def test_delivery_faults_drop_duplicate_and_delay(video: Path) -> None:
    for made in rig(ManualClock(start_s=START), faults=Faults(webhook_drop=1.0)):
        task_id = made.task(video)
        made.emu.advance(600.0)
        assert made.sink.raw == []
        assert made.hooks.records(task_id)[0]["last_error"].startswith("dropped")
    for made in rig(ManualClock(start_s=START), faults=Faults(webhook_duplicate=1.0)):
        task_id = made.task(video)
        made.emu.advance(600.0)
        made.emu.advance(1.0)
        assert [b["id"] for b in made.sink.bodies()] == [made.sink.bodies()[0]["id"]] * 2
        assert made.sink.stats == {"events": 1, "duplicates": 1, "rejected": 0}
    delay = Faults(webhook_delay=1.0, webhook_delay_s=30.0)
    for made in rig(ManualClock(start_s=START), faults=delay):
        task_id = made.task(video)
        while made.status(task_id) != "ready":
            made.emu.advance(0.5)
        made.emu.advance(29.0)
        assert made.sink.raw == []
        made.emu.advance(1.0)
        assert len(made.sink.raw) == 1


def test_a_restarted_emulator_still_sends_the_events_to_come(tmp_path: Path, video: Path) -> None:
    clock = ManualClock(start_s=START)
    sink = Sink(clock)
    config = {"clock": clock, "seed": 5, "data_dir": tmp_path / "data", "webhook_secret": SECRET}
    with sink.serve() as server:
        with Emulator(webhook_url=server.url, **config) as emu:
            made = Rig(sink, emu)
            task_id = made.task(video)
            made.http.close()
        with Emulator(webhook_url=server.url, **config) as again:
            again.advance(600.0)
    assert [b["data"]["id"] for b in sink.bodies()] == [task_id]


def test_the_dispatcher_thread_sends_on_a_running_clock_too(video: Path) -> None:
    arrived = threading.Event()
    receiver = WebhookReceiver(SECRET, on_event=lambda _e: arrived.set())
    with receiver.serve() as server, Emulator(
        speed=50.0, webhook_url=server.url, webhook_secret=SECRET
    ) as emu, httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:  # fmt: skip
        models = [{"model_name": "marengo3.0", "model_options": ["visual"]}]
        index_id = http.post("/indexes", json={"index_name": "x", "models": models}).json()["_id"]
        with video.open("rb") as handle:
            http.post(
                "/tasks", data={"index_id": index_id}, files={"video_file": ("a.mp4", handle)}
            )
        assert arrived.wait(timeout=30)  # nobody advances this clock: the thread sent it


# --- the service, without HTTP ---------------------------------------------------------------


def service(seed: int = 3, **faults: float) -> Backend:
    config = EmulatorConfig(
        seed=seed, webhook_url="http://127.0.0.1:9/", webhook_secret=SECRET, clock=ManualClock()
    )
    return Backend(config, faults=lambda: Faults(**faults))


def test_analysis_events_have_the_documented_shape_and_cancel_withdraws_ready() -> None:
    backend = service()
    hooks = backend.webhooks
    source = {"type": "asset_id", "asset_id": "a1", "system_metadata": {"duration": 61.0}}
    hooks.publish_analysis(
        "t1", status="ready", at_s=50.0, created_at_s=0.0, custom_id="job-1", video_source=source
    )
    hooks.withdraw("t1")  # canceled before it ended
    hooks.publish_analysis(
        "t1", status="canceled", at_s=10.0, created_at_s=0.0, custom_id="job-1",
        error_message="user_canceled",
    )  # fmt: skip
    hooks.publish_analysis(
        "t2", status="failed", at_s=20.0, created_at_s=0.0, error_message="too long"
    )
    sent = [json.loads(d.body) for d in hooks.due(now_s=100.0)]
    assert [(s["type"], s["data"]["id"]) for s in sent] == [
        ("analyze.task.canceled", "t1"),
        ("analyze.task.failed", "t2"),
    ]
    assert sent[0]["data"] == {
        "id": "t1",
        "custom_id": "job-1",
        "created_at": "1970-01-01T00:00:00.000Z",
        "status": "canceled",
    }
    assert sent[1]["data"]["custom_id"] is None  # the key is always there
    assert sent[1]["data"]["error"] == {"message": "too long"}
    assert hooks.records("t3") == [
        {"url": "http://127.0.0.1:9/", "delivered": False, "attempts": 0}
    ]
    backend.close()


def test_without_a_url_nothing_is_published_and_the_field_is_omitted() -> None:
    backend = Backend(EmulatorConfig())
    assert (
        backend.webhooks.publish_analysis("t1", status="ready", at_s=1.0, created_at_s=0.0) is None
    )
    assert backend.webhooks.records("t1") is None
    backend.close()


def test_a_reordered_event_goes_out_after_the_next_one_due() -> None:
    for seed in range(200):  # the fates are fixed by seed and event: find a + not b
        backend = service(seed, webhook_reorder=0.5)
        hooks = backend.webhooks
        a = hooks.event(hooks.publish("index.task.ready", {"id": "a"}, at_s=10.0) or "")
        b = hooks.event(hooks.publish("index.task.ready", {"id": "b"}, at_s=20.0) or "")
        backend.close()
        if a is not None and b is not None and a.reorder and not b.reorder:
            break
    else:
        pytest.fail("no seed reorders a and not b")
    assert hooks.due(now_s=15.0) == []
    assert [d.subject_id for d in hooks.due(now_s=20.0)] == ["b"]
    assert [d.subject_id for d in hooks.due(now_s=20.01)] == ["a"]


def test_the_same_seed_gives_every_event_the_same_fate_in_any_order() -> None:
    def fates(order: list[str]) -> dict[str, tuple[bool, bool, float]]:
        backend = service(webhook_drop=0.3, webhook_duplicate=0.3, webhook_delay=0.3)
        hooks = backend.webhooks
        out = {}
        for job in order:
            event_id = hooks.publish("index.task.ready", {"id": job}, at_s=0.0) or ""
            d = hooks.event(event_id)
            out[job] = (d.dropped, d.duplicate, d.due_s)
        backend.close()
        return out

    jobs = [f"job{n}" for n in range(40)]
    first = fates(jobs)
    assert first == fates(list(reversed(jobs)))
    assert len({fate for fate in first.values()}) > 1  # the faults did draw


# --- configuration ---------------------------------------------------------------------------


def test_configuration_refuses_what_cannot_work_and_hides_the_secret() -> None:
    with pytest.raises(ValueError, match="webhook_secret"):
        EmulatorConfig(webhook_url="http://127.0.0.1:8000/")
    with pytest.raises(ValueError, match="http"):
        EmulatorConfig(webhook_url="ftp://x/", webhook_secret=SECRET)
    with pytest.raises(ValueError, match="webhook_attempts"):
        EmulatorConfig(webhook_url="http://x/", webhook_secret=SECRET, webhook_attempts=0)
    assert SECRET not in repr(EmulatorConfig(webhook_url="http://x/", webhook_secret=SECRET))
    faults = Faults.parse("webhook_drop=0.1,webhook_duplicate=0.2,webhook_delay_s=5")
    assert (faults.webhook_drop, faults.webhook_duplicate, faults.webhook_delay_s) == (
        0.1,
        0.2,
        5.0,
    )
    assert Faults.parse(faults.to_spec()) == faults
    with pytest.raises(ValueError, match="webhook_delay_s"):
        Faults(webhook_delay_s=-1.0)


def test_the_command_line_takes_the_url_and_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    args = build_parser().parse_args(["--webhook-url", "http://127.0.0.1:8000/"])
    monkeypatch.setenv("TWELVELABS_WEBHOOK_SECRET", SECRET)
    config = config_from_args(args)
    assert (config.webhook_url, config.webhook_secret) == ("http://127.0.0.1:8000/", SECRET)
    args = build_parser().parse_args(["--webhook-url", "http://x/", "--webhook-secret", "s2"])
    assert config_from_args(args).webhook_secret == "s2"


def test_analysis_tasks_send_their_end_and_batches_send_none(hooks: Rig, video: Path) -> None:
    asset = hooks.asset(video)
    source = {"type": "asset_id", "asset_id": asset}
    made = hooks.http.post(
        "/analyze/tasks", json={"video": source, "prompt": "Hi", "custom_id": "c1"}
    )
    stopped = hooks.http.post("/analyze/tasks", json={"video": source, "prompt": "Stop"})
    hooks.http.post(f"/analyze/tasks/{stopped.json()['task_id']}/cancel")
    batch = {
        "model_name": "pegasus1.5",
        "analysis_mode": "general",
        "defaults": {"prompt": {"input_text": "Hi"}},
        "requests": [{"video": source}],
    }
    assert hooks.http.post("/analyze/batches", json=batch).status_code == 202
    hooks.emu.advance(600.0)
    task_id = made.json()["task_id"]
    bodies = hooks.sink.bodies()
    # The cancel's event may still be in flight when advance() sends the ready one: the
    # order of two deliveries is not part of the contract, their content is.
    sent = sorted((b["type"], b["data"]["id"]) for b in bodies)
    assert sent == [
        ("analyze.task.canceled", stopped.json()["task_id"]),
        ("analyze.task.ready", task_id),
    ]
    (ready,) = [b["data"] for b in bodies if b["type"] == "analyze.task.ready"]
    assert (ready["custom_id"], ready["video_source"]["asset_id"]) == ("c1", asset)
    task = hooks.http.get(f"/analyze/tasks/{task_id}").json()
    assert task["webhooks"] == [
        {"url": hooks.hooks.store.config.webhook_url, "delivered": True, "attempts": 1}
    ]
