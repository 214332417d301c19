"""A small fake TwelveLabs API for ``httpx.MockTransport``: dict state, a fake clock.

Tasks walk ``validating -> pending -> queued -> indexing -> ready|failed`` as the fake clock
advances (``ready_after_s`` after creation), so tests drive time through ``FakeClock.sleep``
and never wait on the wall clock. Faults are queued per route::

    api.fail("GET", "/tasks/t1", httpx.Response(503), httpx.Response(503))
    api.fail("POST", "/tasks", AfterHandling(httpx.ReadTimeout("slow")))  # stored, then lost

Every request is recorded in ``api.requests``.
"""

from __future__ import annotations

import datetime
import email.parser
import email.policy
import email.utils
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from testkit import FakeClock
from tl_integrations import AsyncTwelveLabs, PollPolicy, RetryPolicy, TwelveLabs

API_KEY = "tlk_FAKE_SECRET_0123456789abcdef"
BASE_URL = "https://api.twelvelabs.test/v1.3"
EPOCH = 1_700_000_000.0
STAGES = ("validating", "pending", "queued", "indexing")
_VIDEO_FILTERS = {"page", "page_limit", "sort_by", "sort_option", "filename"}


@dataclass
class AfterHandling:
    """A fault that lets the server handle (and store) the request, then raises ``error``
    (or answers with it, when it is a response)."""

    error: Exception | httpx.Response


@dataclass
class FakeTask:
    id: str
    index_id: str
    video_id: str
    filename: str
    created_s: float
    ready_after_s: float
    final: str = "ready"
    duration: float = 30.0
    reason: str | None = None

    def status(self, now: float) -> str:
        age = now - self.created_s
        if age >= self.ready_after_s:
            return self.final
        return STAGES[min(3, int(4 * age / self.ready_after_s))]

    def changed_s(self, now: float) -> float:
        age = min(now - self.created_s, self.ready_after_s)
        step = self.ready_after_s / 4
        return self.created_s + (
            self.ready_after_s if age >= self.ready_after_s else step * int(age / step)
        )

    def to_api(self, now: float, *, hls: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "_id": self.id,
            "index_id": self.index_id,
            "video_id": self.video_id,
            "status": self.status(now),
            "created_at": iso(self.created_s),
            "updated_at": iso(self.changed_s(now)),
            "system_metadata": {"filename": self.filename, "duration": self.duration},
            "future_field": {"kept": True},
        }
        if hls:
            body["hls"] = {
                "video_url": f"https://cdn.test/{self.video_id}.m3u8",
                "status": "COMPLETE",
            }
        if self.reason and body["status"] == "failed":
            body["error_message"] = self.reason
        return body


def iso(seconds: float) -> str:
    """RFC 3339, as the API writes timestamps."""
    moment = datetime.datetime.fromtimestamp(EPOCH + seconds, tz=datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def http_date(seconds: float) -> str:
    """RFC 7231, as in a ``Date`` header."""
    return email.utils.formatdate(EPOCH + seconds, usegmt=True)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=orjson.dumps(body), headers=headers)


def error(status: int, code: str, message: str) -> httpx.Response:
    return _json(status, {"code": code, "message": message})


def parse_form(request: httpx.Request) -> tuple[dict[str, list[str]], dict[str, tuple[str, bytes]]]:
    """Fields and files of a multipart/form-data request."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    fields: dict[str, list[str]] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        if filename is not None:
            files[str(name)] = (filename, payload)
        else:
            fields.setdefault(str(name), []).append(payload.decode())
    return fields, files


@dataclass
class FakeTwelveLabs:
    """The fake API. Use :meth:`client` / :meth:`async_client` to talk to it."""

    clock: FakeClock = field(default_factory=FakeClock)
    api_key: str = API_KEY
    ready_after_s: float = 10.0
    requests: list[httpx.Request] = field(default_factory=list)
    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: list[int] = field(default_factory=list)
    _faults: list[tuple[str, str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # Set-up ------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):022x}"

    def add_index(self, name: str = "idx") -> str:
        index_id = self.new_id("a")
        self.indexes[index_id] = {"_id": index_id, "index_name": name, "created_at": iso(0)}
        return index_id

    def add_task(
        self,
        index_id: str,
        *,
        ready_after_s: float | None = None,
        final: str = "ready",
        filename: str = "clip.mp4",
        user_metadata: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> FakeTask:
        video_id = self.new_id("b")
        task = FakeTask(
            id=self.new_id("c"),
            index_id=index_id,
            video_id=video_id,
            filename=filename,
            created_s=self.clock.now,
            ready_after_s=self.ready_after_s if ready_after_s is None else ready_after_s,
            final=final,
            reason=reason,
        )
        self.tasks[task.id] = task
        self.videos[video_id] = {
            "_id": video_id,
            "index_id": index_id,
            "user_metadata": dict(user_metadata or {}),
            "system_metadata": {"filename": filename, "duration": task.duration},
        }
        return task

    def fail(self, method: str, path: str, *actions: Any) -> None:
        """Queue faults for requests whose path matches ``path`` (a regex, anchored)."""
        for action in actions:
            self._faults.append((method, path, action))

    def count(self, method: str, path: str = "") -> int:
        return sum(
            1 for r in self.requests if r.method == method and r.url.path.startswith("/v1.3" + path)
        )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def client(self, **kwargs: Any) -> TwelveLabs:
        options: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": BASE_URL,
            "http_client": httpx.Client(transport=self.transport()),
            "clock": self.clock,
            "sleep": self.clock.sleep,
            "retry_policy": RetryPolicy(random=lambda: 0.5),
            "poll_policy": PollPolicy(random=lambda: 0.5),
        }
        options.update(kwargs)
        return TwelveLabs(**options)

    def async_client(self, **kwargs: Any) -> AsyncTwelveLabs:
        options: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": BASE_URL,
            "http_client": httpx.AsyncClient(transport=self.transport()),
            "clock": self.clock,
            "sleep": self.clock.async_sleep,
            "retry_policy": RetryPolicy(random=lambda: 0.5),
            "poll_policy": PollPolicy(random=lambda: 0.5),
        }
        options.update(kwargs)
        return AsyncTwelveLabs(**options)

    # Dispatch ----------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/v1.3")
        fault = self._take_fault(request.method, path)
        if isinstance(fault, httpx.Response):
            return self._stamp(fault)
        if isinstance(fault, Exception):
            raise fault
        if request.headers.get("x-api-key") != self.api_key:
            return self._stamp(error(401, "api_key_invalid", "The API key is invalid."))
        response = self._stamp(self._route(request, path))
        if isinstance(fault, AfterHandling):
            if isinstance(fault.error, httpx.Response):
                return self._stamp(fault.error)
            raise fault.error
        return response

    def _take_fault(self, method: str, path: str) -> Any:
        for position, (fault_method, pattern, action) in enumerate(self._faults):
            if fault_method == method and re.fullmatch(pattern, path):
                del self._faults[position]
                return action
        return None

    def _stamp(self, response: httpx.Response) -> httpx.Response:
        response.headers.setdefault("Date", http_date(self.clock.now))
        return response

    def _route(self, request: httpx.Request, path: str) -> httpx.Response:
        routes: list[tuple[str, str, Callable[..., httpx.Response]]] = [
            ("POST", r"/indexes", self._create_index),
            ("GET", r"/indexes", self._list_indexes),
            ("GET", r"/indexes/([^/]+)", self._get_index),
            ("DELETE", r"/indexes/([^/]+)", self._delete_index),
            ("GET", r"/indexes/([^/]+)/videos", self._list_videos),
            ("GET", r"/indexes/([^/]+)/videos/([^/]+)", self._get_video),
            ("POST", r"/tasks", self._create_task),
            ("GET", r"/tasks", self._list_tasks),
            ("GET", r"/tasks/([^/]+)", self._get_task),
            ("DELETE", r"/tasks/([^/]+)", self._delete_task),
            ("POST", r"/search", self._search),
            ("GET", r"/search/([^/]+)", self._search_page),
            ("POST", r"/analyze", self._analyze),
        ]
        for method, pattern, route in routes:
            match = re.fullmatch(pattern, path)
            if method == request.method and match:
                return route(request, *match.groups())
        return error(404, "not_found", f"no route for {request.method} {path}")

    # Routes ------------------------------------------------------------------------------

    def _create_index(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        if any(i["index_name"] == body["index_name"] for i in self.indexes.values()):
            return error(400, "index_name_already_exists", "taken")
        index_id = self.add_index(body["index_name"])
        self.indexes[index_id]["models"] = body["models"]
        return _json(201, {"_id": index_id})

    def _list_indexes(self, request: httpx.Request) -> httpx.Response:
        name = request.url.params.get("index_name")
        items = [i for i in self.indexes.values() if name is None or i["index_name"] == name]
        return self._page(request, items)

    def _get_index(self, request: httpx.Request, index_id: str) -> httpx.Response:
        if index_id not in self.indexes:
            return error(404, "not_found", f"index {index_id} not found")
        return _json(200, self.indexes[index_id])

    def _delete_index(self, request: httpx.Request, index_id: str) -> httpx.Response:
        self.indexes.pop(index_id, None)
        return httpx.Response(204)

    def _list_videos(self, request: httpx.Request, index_id: str) -> httpx.Response:
        params = request.url.params
        wanted = {k: v for k, v in params.items() if k not in _VIDEO_FILTERS}
        items = [
            v
            for v in self.videos.values()
            if v["index_id"] == index_id
            and all(
                str(v["user_metadata"].get(k)).lower() == val.lower() for k, val in wanted.items()
            )
            and params.get("filename") in (None, v["system_metadata"]["filename"])
        ]
        return self._page(request, [{k: v for k, v in i.items() if k != "index_id"} for i in items])

    def _get_video(self, request: httpx.Request, index_id: str, video_id: str) -> httpx.Response:
        video = self.videos.get(video_id)
        if video is None or video["index_id"] != index_id:
            return error(404, "not_found", f"video {video_id} not found")
        body = {k: v for k, v in video.items() if k != "index_id"}
        if request.url.params.get("transcription") == "true":
            body["transcription"] = [{"start": 0.0, "end": 2.5, "value": "hello there"}]
        return _json(200, body)

    def _create_task(self, request: httpx.Request) -> httpx.Response:
        fields, files = parse_form(request)
        index_id = fields["index_id"][0]
        if index_id not in self.indexes:
            return error(400, "parameter_invalid", "index_id does not exist")
        metadata = orjson.loads(fields["user_metadata"][0]) if "user_metadata" in fields else {}
        filename, payload = files.get("video_file", ("remote.mp4", b""))
        self.uploads.append(len(payload))
        task = self.add_task(index_id, filename=filename, user_metadata=metadata)
        return _json(200, {"_id": task.id, "video_id": task.video_id})

    def _list_tasks(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        statuses = params.get_list("status")
        now = self.clock.now
        items = [
            t
            for t in self.tasks.values()
            if params.get("index_id") in (None, t.index_id)
            and params.get("filename") in (None, t.filename)
            and (not statuses or t.status(now) in statuses)
        ]
        key = t_updated if params.get("sort_by") == "updated_at" else t_created
        items.sort(key=lambda t: key(t, now), reverse=params.get("sort_option", "desc") == "desc")
        return self._page(request, [t.to_api(now) for t in items])

    def _get_task(self, request: httpx.Request, task_id: str) -> httpx.Response:
        task = self.tasks.get(task_id)
        if task is None:
            return error(404, "not_found", f"task {task_id} not found")
        return _json(200, task.to_api(self.clock.now, hls=True))

    def _delete_task(self, request: httpx.Request, task_id: str) -> httpx.Response:
        self.tasks.pop(task_id, None)
        return httpx.Response(204)

    def _search(self, request: httpx.Request) -> httpx.Response:
        fields, _ = parse_form(request)
        limit = int(fields.get("page_limit", ["10"])[0])
        return self._search_result(0, limit)

    def _search_page(self, request: httpx.Request, token: str) -> httpx.Response:
        start, limit = (int(part) for part in token.split("-"))
        return self._search_result(start, limit)

    def _search_result(self, start: int, limit: int) -> httpx.Response:
        total = 25
        data = [
            {
                "video_id": "v1",
                "start": float(i),
                "end": i + 2.0,
                "rank": i + 1,
                "thumbnail_url": None,
            }
            for i in range(start, min(total, start + limit))
        ]
        token = f"{start + limit}-{limit}" if start + limit < total else None
        return _json(200, {"data": data, "page_info": {"next_page_token": token}})

    def _analyze(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        if body.get("stream") is not False:
            return error(400, "parameter_invalid", "this fake only answers stream=false")
        wants_json = (body.get("response_format") or {}).get("type") == "json_schema"
        video = body.get("video") or {}
        if "video_id" in body or video.get("type") not in ("asset_id", "url"):
            return error(400, "parameter_invalid", "video must be {type: asset_id | url, ...}")
        text = '{"title": "A fake video"}' if wants_json else f"About {video.get('asset_id')}."
        return _json(
            200, {"id": "g1", "data": text, "finish_reason": "stop", "usage": {"output_tokens": 5}}
        )

    def _page(self, request: httpx.Request, items: list[Any]) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        limit = int(request.url.params.get("page_limit", "10"))
        total_page = max(1, -(-len(items) // limit))
        chunk = items[(page - 1) * limit : page * limit]
        info = {"page": page, "limit_per_page": limit, "total_page": total_page}
        return _json(200, {"data": chunk, "page_info": {**info, "total_results": len(items)}})


def t_created(task: FakeTask, now: float) -> float:
    return task.created_s


def t_updated(task: FakeTask, now: float) -> float:
    return task.changed_s(now)
