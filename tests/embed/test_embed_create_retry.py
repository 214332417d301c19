"""Creating an embedding task survives transient failures and never pays twice.

A scripted server on ``httpx.MockTransport`` decides, per POST, whether the task is stored and
whether the answer arrives; the emulator checks the same against real task listings. On
Embed v2 a local path goes up as an asset first (the fake keeps assets too), so the task is
named by the asset's file name; an open file goes inline, anonymous.
"""

from __future__ import annotations

import email.utils
import io
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from embed_support import (
    BASE,
    NO_JITTER_POLL,
    NO_JITTER_RETRY,
    EmulatorHarness,
    form_fields,
)

from testkit import FakeClock
from tl_integrations import (
    APIConnectionError,
    AsyncTwelveLabs,
    BadRequestError,
    InvalidRequestError,
    ServerError,
    TwelveLabs,
)

V1 = "Marengo-retrieval-2.7"
V2 = "marengo3.0"
EPOCH_S = 1_700_000_000.0  # the fake server's time when the client's clock reads 0
URL = "https://media.example/talk.mp4"
SOURCES = [(V1, "file"), (V1, "url"), (V2, "file"), (V2, "stream"), (V2, "url")]


def _api_time(epoch_s: float) -> str:
    """A time as the API writes it (RFC 3339, milliseconds, ``Z``)."""
    moment = datetime.fromtimestamp(epoch_s, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class CreateServer:
    """Embed task creation and listing, with a script of what happens to each POST.

    ``script`` items: ``"ok"``; ``"400"`` / ``"500"`` (refused before storing);
    ``"stored-500"`` (stored, then a 500); ``"stored-drop"`` (stored, then the answer is
    lost); ``"drop"`` (the connection dies before the server acts). Once the script is used
    up, POSTs succeed. ``after_store`` items are called, one per stored task, before its
    answer goes out.
    """

    time: FakeClock
    script: list[str] = field(default_factory=list)
    after_store: list[Callable[[], None]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    posts: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def now(self) -> float:
        return EPOCH_S + self.time.now

    def add(self, *, protocol: str, model: str, age_s: float = 0.0, **meta: Any) -> str:
        """Store a task (as if created ``age_s`` ago) and return its id."""
        task_id = f"{next(self._ids):024x}"
        self.tasks.append(
            {
                "_id": task_id,
                "protocol": protocol,
                "model_name": model,
                "status": "processing",
                "created_at": _api_time(self.now() - age_s),
                "video_embedding": {"metadata": meta},
            }
        )
        return task_id

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        path = request.url.path.removeprefix("/v1.3")
        if path.startswith("/assets"):
            return self._asset(request, path)
        protocol = "v2" if path.startswith("/embed-v2") else "v1"
        if request.method == "GET" and path.endswith("/tasks"):
            return self._list(protocol)
        assert request.method == "POST", path
        self.posts += 1
        step = self.script.pop(0) if self.script else "ok"
        if step in ("400", "500", "drop"):
            return self._fail(step, request)
        task_id = self.add(protocol=protocol, model=self._model(request), **self._meta(request))
        if self.after_store:
            self.after_store.pop(0)()
        if step != "ok":
            return self._fail(step.removeprefix("stored-"), request)
        return httpx.Response(200, json={"_id": task_id})

    def _asset(self, request: httpx.Request, path: str) -> httpx.Response:
        """Assets, ready at once: the create, the lookup by name, a read and a delete."""
        if request.method == "POST":
            fields = dict(form_fields(request))
            name = request.content.split(b'filename="')[1].split(b'"')[0].decode()
            asset_id = f"a{next(self._ids):023x}"
            self.assets[asset_id] = {
                "_id": asset_id,
                "status": "ready",
                "filename": name,
                "user_metadata": orjson.loads(fields["user_metadata"]),
            }
            return httpx.Response(201, json=self.assets[asset_id])
        if request.method == "DELETE":
            self.deleted.append(path.rsplit("/", 1)[-1])
            return httpx.Response(204)
        if path == "/assets":
            name = request.url.params.get("filename", "")
            found = [a for a in self.assets.values() if name in a["filename"]]
            return httpx.Response(200, json={"data": found, "page_info": {"total_page": 1}})
        return httpx.Response(200, json=self.assets[path.rsplit("/", 1)[-1]])

    @staticmethod
    def _fail(kind: str, request: httpx.Request) -> httpx.Response:
        if kind == "drop":
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        return httpx.Response(int(kind), json={"code": "some_error", "message": "oops"})

    @staticmethod
    def _model(request: httpx.Request) -> str:
        if request.url.path.endswith("embed-v2/tasks"):
            return str(orjson.loads(request.content)["model_name"])
        return V1

    def _meta(self, request: httpx.Request) -> dict[str, Any]:
        if request.url.path.endswith("embed-v2/tasks"):
            video = orjson.loads(request.content)["video"]
            source = video["media_source"]
            clip = video["segmentation"]["fixed"]["duration_sec"]
            named: dict[str, Any] = {}
            if "url" in source:
                named = {"input_url": source["url"]}
            elif "asset_id" in source:
                named = {"input_filename": self.assets[source["asset_id"]]["filename"]}
            return {**named, "video_clip_length": clip}
        form = {name: value.decode(errors="replace") for name, value in form_fields(request)}
        clip = float(form["video_clip_length"])
        if "video_url" in form:
            return {"input_url": form["video_url"], "video_clip_length": clip}
        name = request.content.split(b'filename="')[1].split(b'"')[0].decode()
        return {"input_filename": name, "video_clip_length": clip}

    def _list(self, protocol: str) -> httpx.Response:
        mine = [t for t in reversed(self.tasks) if t["protocol"] == protocol]
        data = [{k: v for k, v in t.items() if k != "protocol"} for t in mine[:50]]
        date = email.utils.formatdate(self.now(), usegmt=True)
        return httpx.Response(
            200,
            json={"data": data, "page_info": {"page": 1, "total_page": 1}},
            headers={"Date": date},
        )


@pytest.fixture
def server(fake_time: FakeClock) -> CreateServer:
    return CreateServer(time=fake_time)


@pytest.fixture
def api(server: CreateServer, fake_time: FakeClock) -> Iterator[TwelveLabs]:
    http = httpx.Client(transport=httpx.MockTransport(server.handler))
    with TwelveLabs(
        api_key="test-key",
        base_url=BASE,
        http_client=http,
        clock=fake_time,
        sleep=fake_time.sleep,
        retry_policy=NO_JITTER_RETRY,
        poll_policy=NO_JITTER_POLL,
    ) as c:
        yield c
    http.close()


def _create(api: TwelveLabs, model: str, video: Path | str | io.BytesIO, **kwargs: Any) -> str:
    source = {"video_url": video} if isinstance(video, str) else {"video_file": video}
    return api.embed.tasks.create(model_name=model, **source, **kwargs).id


def _video(kind: str, video_file: Path) -> Path | str | io.BytesIO:
    """The same video as a path, an open file (sent inline on Embed v2) or a URL."""
    if kind == "stream":
        return io.BytesIO(video_file.read_bytes())
    return video_file if kind == "file" else URL


@pytest.mark.parametrize("fault", ["stored-drop", "stored-500"])
@pytest.mark.parametrize(("model", "video"), SOURCES)
def test_a_stored_task_whose_answer_was_lost_is_adopted(
    api: TwelveLabs, server: CreateServer, video_file: Path, model: str, video: str, fault: str
) -> None:
    server.script = [fault]
    task_id = _create(api, model, _video(video, video_file))
    assert server.posts == 1
    assert [t["_id"] for t in server.tasks] == [task_id]


@pytest.mark.parametrize("fault", ["500", "drop"])
@pytest.mark.parametrize(("model", "video"), SOURCES)
def test_a_task_never_stored_is_sent_again_once(
    api: TwelveLabs,
    server: CreateServer,
    fake_time: FakeClock,
    video_file: Path,
    model: str,
    video: str,
    fault: str,
) -> None:
    server.script = [fault]
    task_id = _create(api, model, _video(video, video_file))
    assert server.posts == 2
    assert [t["_id"] for t in server.tasks] == [task_id]
    assert fake_time.sleeps == [NO_JITTER_RETRY.base_delay_s]


def test_a_task_returned_before_is_not_adopted(
    api: TwelveLabs, server: CreateServer, video_file: Path
) -> None:
    first = _create(api, V1, video_file)
    server.script = ["500"]
    second = _create(api, V1, video_file)
    assert second != first
    assert server.posts == 3


@pytest.mark.parametrize(
    ("model", "meta"),
    [
        (V1, {"input_filename": "other.mp4", "video_clip_length": 6.0}),
        (V1, {"input_filename": "clip.mp4", "video_clip_length": 4.0}),
        (V2, {"input_url": URL, "video_clip_length": 6}),
        (V2, {"video_clip_length": 4}),
    ],
)
def test_a_recent_task_of_another_request_is_not_adopted(
    api: TwelveLabs, server: CreateServer, video_file: Path, model: str, meta: dict[str, Any]
) -> None:
    protocol = "v1" if model == V1 else "v2"
    foreign = server.add(protocol=protocol, model=model, **meta)
    server.script = ["500"]
    assert _create(api, model, video_file) != foreign
    assert server.posts == 2


def test_an_anonymous_upload_ignores_tasks_created_before_it(
    api: TwelveLabs, server: CreateServer, video_file: Path
) -> None:
    # Inline (base64) uploads carry no name: only the creation time tells tasks apart.
    older = server.add(protocol="v2", model=V2, age_s=30.0, video_clip_length=6)
    server.script = ["drop"]
    assert _create(api, V2, _video("stream", video_file)) != older
    assert server.posts == 2


def test_an_ambiguous_anonymous_upload_raises_and_is_not_sent_again(
    api: TwelveLabs, server: CreateServer, video_file: Path
) -> None:
    server.add(protocol="v2", model=V2, video_clip_length=6)
    server.script = ["stored-drop"]
    with pytest.raises(APIConnectionError):
        _create(api, V2, _video("stream", video_file))
    assert server.posts == 1


def test_a_local_file_goes_up_as_an_asset_that_create_keeps(
    api: TwelveLabs, server: CreateServer, video_file: Path
) -> None:
    task = api.embed.tasks.create(model_name=V2, video_file=video_file)
    (asset_id,) = server.assets
    assert task.asset_id == asset_id
    assert server.tasks[0]["video_embedding"]["metadata"]["input_filename"] == "clip.mp4"
    # The same bytes again: the asset is found by its hash, nothing is uploaded twice.
    again = api.embed.tasks.create(model_name=V2, video_file=video_file)
    assert again.asset_id == asset_id
    assert len(server.assets) == 1
    assert server.deleted == []  # create hands the asset to the caller


def test_the_retry_budget_bounds_the_attempts(
    api: TwelveLabs, server: CreateServer, video_file: Path
) -> None:
    server.script = ["500"] * 10
    with pytest.raises(ServerError):
        _create(api, V1, video_file)
    assert server.posts == NO_JITTER_RETRY.max_retries + 1
    assert server.tasks == []


def test_a_refused_create_is_not_retried(
    api: TwelveLabs, server: CreateServer, video_file: Path
) -> None:
    server.script = ["400"]
    with pytest.raises(BadRequestError):
        _create(api, V1, video_file)
    assert server.posts == 1


async def test_the_async_twin_adopts_a_stored_task(
    server: CreateServer, fake_time: FakeClock, video_file: Path
) -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(server.handler))
    async with AsyncTwelveLabs(
        api_key="test-key",
        base_url=BASE,
        http_client=http,
        clock=fake_time,
        sleep=fake_time.async_sleep,
        retry_policy=NO_JITTER_RETRY,
    ) as client:
        server.script = ["stored-drop"]
        adopted = await client.embed.tasks.create(
            model_name=V2, video_file=_video("stream", video_file)
        )
        server.script = ["500"]
        resent = await client.embed.tasks.create(
            model_name=V2, video_file=_video("stream", video_file)
        )
    await http.aclose()
    assert [t["_id"] for t in server.tasks] == [adopted.id, resent.id]
    assert server.posts == 3


# --- the emulator: real listings, answers lost after the server acted (its ``lost`` fault) ------


@pytest.mark.parametrize("model", [V1, V2])
def test_the_emulator_stores_one_task_when_the_answer_is_lost(
    emu: EmulatorHarness, model: str
) -> None:
    emu.clock.advance(600.0)  # tasks of other tests are older than this upload
    path = "/embed/tasks" if model == V1 else "/embed-v2/tasks"
    lost_before = emu.emulator.stats()["faults"].get("lost", 0)
    with TwelveLabs(
        api_key=emu.emulator.api_key,
        base_url=emu.emulator.base_url,
        clock=emu.clock,
        sleep=emu.time.sleep,
    ) as client:
        before = {t.id for t in client.embed.tasks.list(model_name=model)}
        emu.emulator.fail_next("POST", path, "lost")
        task = client.embed.tasks.create(model_name=model, video_file=emu.videos["short"])
        ve = client.embed.tasks.vectors(client.embed.tasks.wait(task, timeout_s=600))
        after = {t.id for t in client.embed.tasks.list(model_name=model)}
    assert emu.emulator.stats()["faults"]["lost"] == lost_before + 1
    assert after - before == {task.id}
    assert len(ve) > 0


def test_invalid_input_is_refused_before_any_request(api: TwelveLabs, server: CreateServer) -> None:
    with pytest.raises(InvalidRequestError):
        api.embed.tasks.create(model_name=V2)
    assert server.posts == 0


def test_an_anonymous_upload_never_adopts_the_task_of_a_create_running_beside_it(
    api: TwelveLabs, server: CreateServer, video_file: Path
) -> None:
    # B's POST is stored but its answer is held back; A's POST dies before the server acts.
    # B's task is then the only recent, unclaimed, matching one: only knowing that B's create
    # was running during A's keeps A from taking B's video's vectors for its own.
    b_stored, a_finished = threading.Event(), threading.Event()

    def hold_b_until_a_finished() -> None:
        b_stored.set()
        assert a_finished.wait(timeout=30), "A's create never ended"

    server.script, server.after_store = ["ok", "drop"], [hold_b_until_a_finished]
    with ThreadPoolExecutor(max_workers=1) as pool:
        b = pool.submit(
            api.embed.tasks.create, model_name=V2, video_file=_video("stream", video_file)
        )
        assert b_stored.wait(timeout=30)
        try:
            with pytest.raises(APIConnectionError):
                api.embed.tasks.create(model_name=V2, video_file=_video("stream", video_file))
        finally:
            a_finished.set()
        assert [t["_id"] for t in server.tasks] == [b.result(timeout=30).id]
    assert server.posts == 2
