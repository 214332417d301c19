"""Helpers of the embedding tests: a scripted fake API on httpx.MockTransport, a fake clock,
and the emulator harness. Fixtures using them live in conftest.py; tests import from here
(a uniquely named module, so it cannot clash with another directory's conftest).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson

from testkit import FakeClock
from tl_integrations import AsyncTwelveLabs, PollPolicy, RetryPolicy, TwelveLabs

BASE = "https://api.test/v1.3"
_PART = re.compile(
    rb'name="([^"]+)"(?:; filename="([^"]*)")?\r\n(?:Content-Type: [^\r]*\r\n)?\r\n(.*?)\r\n--',
    re.S,
)


def form_fields(request: httpx.Request) -> list[tuple[str, bytes]]:
    """The (name, value) parts of a multipart body, in order (file parts included)."""
    return [(name.decode(), value) for name, _filename, value in _PART.findall(request.content)]


def vector(seed: str, dim: int) -> list[float]:
    """A deterministic unit vector for ``seed``."""
    rng = np.random.default_rng(int(hashlib.sha256(seed.encode()).hexdigest()[:12], 16))
    v = rng.standard_normal(dim)
    return [float(x) for x in v / np.linalg.norm(v)]


@dataclass
class FakeTask:
    """One embedding task in the fake."""

    id: str
    protocol: str
    model: str
    duration_s: float
    clip_s: float
    scopes: list[str]
    options: list[str]
    polls_left: int
    fail: bool = False


@dataclass
class FakeEmbedAPI:
    """A scripted Embed v1 + v2 server for MockTransport.

    Attributes:
        requests: every request received, in order.
        polls_to_ready: status checks answered ``processing`` before ``ready``.
        duration_s: the duration of every uploaded video.
        text_429s: how many text requests answer 429 (Retry-After: 2) before succeeding.
        fail_next: the next created task fails.
    """

    requests: list[httpx.Request] = field(default_factory=list)
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    polls_to_ready: int = 1
    duration_s: float = 20.0
    text_429s: int = 0
    fail_next: bool = False
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # --- routing ---------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        path = request.url.path.removeprefix("/v1.3")
        method = request.method
        v2 = path.startswith("/embed-v2")
        routes: list[tuple[str, str, Callable[..., httpx.Response]]] = [
            ("POST", r"/embed/tasks", self._create_v1),
            ("POST", r"/embed-v2/tasks", self._create_v2),
            ("GET", r"/embed/tasks/(\w+)/status", self._status_v1),
            ("GET", r"/embed/tasks/(\w+)", self._retrieve_v1),
            ("GET", r"/embed-v2/tasks/(\w+)", self._retrieve_v2),
            ("GET", r"/embed(?:-v2)?/tasks", self._list),
            ("POST", r"/embed", self._text_v1),
            ("POST", r"/embed-v2", self._text_v2),
        ]
        for want, pattern, route in routes:
            match = re.fullmatch(pattern, path)
            if want == method and match:
                return route(request, *match.groups())
        return self._error(404, "not_found", f"no route {method} {path}", wrapped=v2)

    @staticmethod
    def _error(status: int, code: str, message: str, *, wrapped: bool) -> httpx.Response:
        body = {"code": code, "message": message}
        return httpx.Response(status, json={"error": body} if wrapped else body)

    def upload_requests(self) -> list[httpx.Request]:
        """Requests that created a task (and so may have carried an upload)."""
        return [r for r in self.requests if r.method == "POST"]

    def _new(
        self, protocol: str, model: str, clip_s: float, scopes: list[str], options: list[str]
    ) -> FakeTask:
        task = FakeTask(
            id=f"{next(self._ids):024x}",
            protocol=protocol,
            model=model,
            duration_s=self.duration_s,
            clip_s=clip_s,
            scopes=scopes,
            options=options,
            polls_left=self.polls_to_ready,
            fail=self.fail_next,
        )
        self.fail_next = False
        self.tasks[task.id] = task
        return task

    # --- v1 --------------------------------------------------------------------------

    def _create_v1(self, request: httpx.Request) -> httpx.Response:
        fields = form_fields(request)
        form = {k: v.decode(errors="replace") for k, v in fields}
        scopes = [v.decode() for k, v in fields if k == "video_embedding_scope"] or ["clip"]
        clip = float(form.get("video_clip_length", 6))
        task = self._new("v1", form["model_name"], clip, scopes, ["visual-text", "audio"])
        return httpx.Response(200, json={"_id": task.id})

    def _advance(self, task: FakeTask) -> str:
        if task.polls_left > 0:
            task.polls_left -= 1
            return "processing"
        return "failed" if task.fail else "ready"

    def _task_or_404(self, task_id: str, *, wrapped: bool) -> FakeTask | httpx.Response:
        task = self.tasks.get(task_id)
        want = "v2" if wrapped else "v1"
        if task is None or task.protocol != want:
            return self._error(404, "not_found", f"task {task_id} not found", wrapped=wrapped)
        return task

    def _status_v1(self, request: httpx.Request, task_id: str) -> httpx.Response:
        task = self._task_or_404(task_id, wrapped=False)
        if isinstance(task, httpx.Response):
            return task
        meta = {"duration": task.duration_s, "video_clip_length": task.clip_s}
        body = {
            "_id": task.id,
            "model_name": task.model,
            "status": self._advance(task),
            "video_embedding": {"metadata": meta},
        }
        return httpx.Response(200, json=body)

    def segments(self, task: FakeTask, options: list[str]) -> list[dict[str, Any]]:
        dim = 1024 if task.protocol == "v1" else 512
        bounds = []
        t = 0.0
        while t < task.duration_s:
            end = min(t + task.clip_s, task.duration_s)
            if end - t < 2 and bounds:
                break
            bounds.append((t, end))
            t = end
        whole = "video" if task.protocol == "v1" else "asset"
        rows = []
        for option in options:
            spans = [(b, "clip") for b in bounds if "clip" in task.scopes]
            spans += [((0.0, task.duration_s), whole)] if whole in task.scopes else []
            for (start, end), scope in spans:
                rows.append(
                    (option, scope, start, end, vector(f"{task.id}{option}{start}{scope}", dim))
                )
        if task.protocol == "v1":
            return [
                {
                    "start_offset_sec": s,
                    "end_offset_sec": e,
                    "embedding_scope": sc,
                    "embedding_option": o,
                    "float": v,
                }
                for o, sc, s, e, v in rows
            ]
        return [
            {
                "start_sec": s,
                "end_sec": e,
                "embedding_scope": sc,
                "embedding_option": o,
                "embedding": v,
            }
            for o, sc, s, e, v in rows
        ]

    def _retrieve_v1(self, request: httpx.Request, task_id: str) -> httpx.Response:
        task = self._task_or_404(task_id, wrapped=False)
        if isinstance(task, httpx.Response):
            return task
        wanted = request.url.params.get_list("embedding_option") or task.options
        body = {
            "_id": task.id,
            "model_name": task.model,
            "status": "ready",
            "video_embedding": {
                "metadata": {"duration": task.duration_s},
                "segments": self.segments(task, wanted),
            },
        }
        return httpx.Response(200, content=orjson.dumps(body))

    # --- v2 --------------------------------------------------------------------------

    def _create_v2(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        video = body["video"]
        options = video.get("embedding_option") or ["visual", "audio", "transcription"]
        clip = video["segmentation"]["fixed"]["duration_sec"]
        task = self._new("v2", body["model_name"], clip, video["embedding_scope"], options)
        return httpx.Response(202, json={"_id": task.id, "status": "processing", "data": None})

    def _retrieve_v2(self, request: httpx.Request, task_id: str) -> httpx.Response:
        task = self._task_or_404(task_id, wrapped=True)
        if isinstance(task, httpx.Response):
            return task
        status = self._advance(task)
        body: dict[str, Any] = {
            "_id": task.id,
            "status": status,
            "data": None,
            "metadata": {"duration": task.duration_s},
        }
        if status == "ready":
            body["data"] = self.segments(task, task.options)
        if status == "failed":
            body["error"] = {"message": "could not process your media"}
        return httpx.Response(200, content=orjson.dumps(body))

    def _list(self, request: httpx.Request) -> httpx.Response:
        """Tasks of the path's protocol, oldest first; a check each (like a status read);
        ``status`` filters on the status the check found."""
        protocol = "v2" if request.url.path.endswith("embed-v2/tasks") else "v1"
        wanted = request.url.params.get("status")
        mine = [t for t in self.tasks.values() if t.protocol == protocol]
        rows = [{"_id": t.id, "model_name": t.model, "status": self._advance(t)} for t in mine]
        rows = [row for row in rows if wanted is None or row["status"] == wanted]
        page = int(request.url.params.get("page", 1))
        limit = int(request.url.params.get("page_limit", 10))
        data = rows[(page - 1) * limit : page * limit]
        total = max(1, -(-len(rows) // limit))
        return httpx.Response(
            200, json={"data": data, "page_info": {"page": page, "total_page": total}}
        )

    # --- text ------------------------------------------------------------------------

    def _maybe_429(self, *, wrapped: bool) -> httpx.Response | None:
        if self.text_429s <= 0:
            return None
        self.text_429s -= 1
        response = self._error(429, "too_many_requests", "slow down", wrapped=wrapped)
        response.headers["Retry-After"] = "2"
        return response

    def _text_v1(self, request: httpx.Request) -> httpx.Response:
        limited = self._maybe_429(wrapped=False)
        if limited is not None:
            return limited
        form = {k: v.decode() for k, v in form_fields(request)}
        seg = {"float": vector(form["text"], 1024)}
        return httpx.Response(
            200, json={"model_name": form["model_name"], "text_embedding": {"segments": [seg]}}
        )

    def _text_v2(self, request: httpx.Request) -> httpx.Response:
        limited = self._maybe_429(wrapped=True)
        if limited is not None:
            return limited
        body = orjson.loads(request.content)
        item = {"embedding": vector(body["text"]["input_text"], 512), "embedding_option": None}
        return httpx.Response(200, json={"data": [item]})


NO_JITTER_RETRY = RetryPolicy(max_retries=3, jitter=0.0)
NO_JITTER_POLL = PollPolicy(jitter=0.0)


# --- the emulator (end to end) ---------------------------------------------------------------

# Three scenes whose subtitles hold distinctive words: a text query naming one must find it.
SCENES = [
    (0.0, 6.0, "A red fox jumps over the wooden fence."),
    (6.0, 12.0, "Saturn has glittering rings of ice."),
    (12.0, 18.0, "Boil the basil pasta in salted water."),
]


@dataclass
class EmulatorHarness:
    """A running emulator on a manual clock, and what tests need around it."""

    emulator: Any
    clock: Any
    videos: dict[str, Path]

    def __post_init__(self) -> None:
        self.time = FakeClock(server=self.clock)  # the clients' clock: sleeps move the server's

    def client(self) -> TwelveLabs:
        emu = self.emulator
        return TwelveLabs(
            api_key=emu.api_key, base_url=emu.base_url, clock=self.time, sleep=self.time.sleep
        )

    def aclient(self) -> AsyncTwelveLabs:
        emu = self.emulator
        return AsyncTwelveLabs(
            api_key=emu.api_key, base_url=emu.base_url, clock=self.time, sleep=self.time.async_sleep
        )

    def posts(self) -> int:
        """How many POST requests the emulator has received so far."""
        stats = self.emulator.stats()["requests"]
        return sum(count for route, count in stats.items() if route.startswith("POST"))
