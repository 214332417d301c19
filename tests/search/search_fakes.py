"""A fake of the parts of the API the emulator does not serve yet, on httpx.MockTransport.

It follows ``twelvelabs-api-current.md`` exactly where the client is tested against it:
``POST /search`` (multipart: text, image, composed and entity queries, thumbnails and
transcriptions on every clip, grouping, page tokens), ``GET /assets/{id}``, entity
collections and entities (§9.1, entities ``processing`` until the fake clock passes
``entity_ready_after_s``), and enough of indexes and videos for the adapters. Every request
is recorded with its parsed form. Helpers here; fixtures in conftest.py.
"""

from __future__ import annotations

import asyncio
import datetime
import email.parser
import email.policy
import inspect
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from tl_integrations import AsyncTwelveLabs, PollPolicy, RetryPolicy, TwelveLabs

BASE = "https://api.twelvelabs.test/v1.3"
API_KEY = "tlk_search_FAKE_0123456789"
EPOCH = 1_750_000_000.0
ENTITY_MENTION = re.compile(r"<@([0-9a-zA-Z_-]+)>")


class FakeClock:
    """Monotonic seconds that move only when a client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def iso(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(EPOCH + seconds, tz=datetime.timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class Form:
    """A parsed multipart body: repeated fields and every file part, in order."""

    fields: dict[str, list[str]]
    files: list[tuple[str, str, bytes]]

    def one(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None


def parse_form(request: httpx.Request) -> Form:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    form = Form({}, [])
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        filename = part.get_filename()
        if filename is not None:
            form.files.append((name, filename, payload))
        else:
            form.fields.setdefault(name, []).append(payload.decode())
    return form


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, content=orjson.dumps(body))


def bad(message: str, code: str = "parameter_invalid") -> httpx.Response:
    return _json(400, {"code": code, "message": message})


@dataclass
class FakeClip:
    video_id: str
    start: float
    end: float
    transcription: str | None
    entities: frozenset[str] = frozenset()

    def to_api(self, rank: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "video_id": self.video_id,
            "start": self.start,
            "end": self.end,
            "rank": rank,
            "thumbnail_url": f"https://thumbs.test/{self.video_id}/{self.start:g}.jpg",
        }
        if self.transcription is not None:
            body["transcription"] = self.transcription
        return body


@dataclass
class FakeSearchAPI:
    """The fake server; ``client()`` / ``async_client()`` talk to it."""

    clock: FakeClock = field(default_factory=FakeClock)
    requests: list[httpx.Request] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    clips: list[FakeClip] = field(default_factory=list)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    entity_ready_after_s: float = 5.0
    analyses: list[dict[str, Any]] = field(default_factory=list)
    lose_answers: list[tuple[str, str]] = field(default_factory=list)
    _sessions: dict[str, list[list[dict[str, Any]]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- set-up -------------------------------------------------------------------------

    def new_id(self) -> str:
        return f"{next(self._ids):024x}"

    def add_index(self, name: str) -> str:
        index_id = self.new_id()
        self.indexes[index_id] = {"_id": index_id, "index_name": name, "video_count": 0}
        return index_id

    def add_video(
        self,
        index_id: str,
        filename: str,
        lines: list[tuple[float, float, str]],
        *,
        user_metadata: dict[str, Any] | None = None,
        stream: bool = True,
        entities: dict[float, set[str]] | None = None,
    ) -> str:
        video_id = self.new_id()
        video: dict[str, Any] = {
            "_id": video_id,
            "system_metadata": {"filename": filename, "duration": lines[-1][1] + 1},
            "user_metadata": dict(user_metadata or {}),
            "transcription": [{"start": s, "end": e, "value": t} for s, e, t in lines],
            "index_id": index_id,
        }
        if stream:
            video["hls"] = {"video_url": f"https://cdn.test/{video_id}.m3u8", "status": "COMPLETE"}
        self.videos[video_id] = video
        self.indexes[index_id]["video_count"] += 1
        for start, end, text in lines:
            found = frozenset((entities or {}).get(start, set()))
            self.clips.append(FakeClip(video_id, start, end, text, found))
        return video_id

    def add_silent_clip(self, video_id: str, start: float, end: float) -> None:
        self.clips.append(FakeClip(video_id, start, end, None))

    def add_asset(
        self, *, status: str = "ready", file_type: str = "image/jpeg", thumbnail: bool = True
    ) -> str:
        asset_id = self.new_id()
        asset: dict[str, Any] = {"_id": asset_id, "status": status, "file_type": file_type}
        if thumbnail:
            asset["thumbnail"] = {
                "representative_url": f"https://assets.test/{asset_id}.jpg",
                "status": "ready",
            }
        self.assets[asset_id] = asset
        return asset_id

    def client(self, **kwargs: Any) -> TwelveLabs:
        return TwelveLabs(
            api_key=API_KEY,
            base_url=BASE,
            http_client=httpx.Client(transport=httpx.MockTransport(self.handle)),
            clock=self.clock,
            sleep=self.clock.sleep,
            poll_policy=PollPolicy(jitter=0.0),
            retry_policy=RetryPolicy(jitter=0.0),
            **kwargs,
        )

    def async_client(self, **kwargs: Any) -> AsyncTwelveLabs:
        return AsyncTwelveLabs(
            api_key=API_KEY,
            base_url=BASE,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(self.handle)),
            clock=self.clock,
            sleep=self.clock.async_sleep,
            poll_policy=PollPolicy(jitter=0.0),
            retry_policy=RetryPolicy(jitter=0.0),
            **kwargs,
        )

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        """The requests made to ``method path`` (path relative to the base)."""
        return [
            r
            for r in self.requests
            if r.method == method and r.url.path == httpx.URL(BASE + path).path
        ]

    # --- routing ------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if request.headers.get("x-api-key") != API_KEY:
            return _json(401, {"code": "api_key_invalid", "message": "bad key"})
        path = request.url.path.removeprefix(httpx.URL(BASE).path)
        for method, pattern, route in self._routes():
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                response = route(request, *match.groups())
                if (method, path) in self.lose_answers:  # handled, then the answer is lost
                    self.lose_answers.remove((method, path))
                    raise httpx.ReadTimeout("the answer was lost", request=request)
                return response
        return _json(404, {"code": "not_found", "message": f"no route {request.method} {path}"})

    def _routes(self) -> list[tuple[str, str, Callable[..., httpx.Response]]]:
        ec = r"/entity-collections/([^/]+)"
        return [
            ("POST", r"/search", self._search),
            ("GET", r"/search/([^/]+)", self._search_page),
            ("GET", r"/assets/([^/]+)", self._asset),
            ("GET", r"/indexes", self._list_indexes),
            ("GET", r"/indexes/([^/]+)", self._get_index),
            ("GET", r"/indexes/([^/]+)/videos", self._list_videos),
            ("GET", r"/indexes/([^/]+)/videos/([^/]+)", self._get_video),
            ("GET", r"/indexes/([^/]+)/indexed-assets/([^/]+)", self._get_indexed_asset),
            ("POST", r"/analyze", self._analyze),
            ("GET", r"/entity-collections", self._list_collections),
            ("POST", r"/entity-collections", self._create_collection),
            ("GET", ec, self._get_collection),
            ("PATCH", ec, self._update_collection),
            ("DELETE", ec, self._delete_collection),
            ("GET", ec + r"/entities", self._list_entities),
            ("POST", ec + r"/entities", self._create_entity),
            ("POST", ec + r"/entities/bulk", self._bulk_entities),
            ("GET", ec + r"/entities/([^/]+)", self._get_entity),
            ("PATCH", ec + r"/entities/([^/]+)", self._update_entity),
            ("DELETE", ec + r"/entities/([^/]+)", self._delete_entity),
            ("POST", ec + r"/entities/([^/]+)/assets", self._add_assets),
            ("DELETE", ec + r"/entities/([^/]+)/assets", self._remove_assets),
            ("GET", r"/assets/([^/]+)/entities", self._entities_of_asset),
        ]

    # --- search -------------------------------------------------------------------------

    def _search(self, request: httpx.Request) -> httpx.Response:
        form = parse_form(request)
        self.forms.append(form)
        problem = self._check_search(form)
        if problem is not None:
            return bad(problem)
        text = form.one("query_text") or ""
        wanted = set(ENTITY_MENTION.findall(text))
        for entity_id in wanted:
            entity = self.entities.get(entity_id)
            if entity is None or self._status(entity) != "ready":
                return bad(f"entity {entity_id} is not ready", "entity_not_ready")
        hits = [
            c
            for c in self.clips
            if self.videos[c.video_id]["index_id"] == form.one("index_id") and wanted <= c.entities
        ]
        words = set(ENTITY_MENTION.sub("", text).lower().split())
        hits.sort(key=lambda c: -len(words & set((c.transcription or "").lower().split())))
        items = [c.to_api(rank) for rank, c in enumerate(hits, 1)]
        meta = form.one("include_user_metadata") == "true"
        if meta:
            for item in items:
                item["user_metadata"] = self.videos[item["video_id"]]["user_metadata"]
        if form.one("group_by") == "video":
            groups: dict[str, list[dict[str, Any]]] = {}
            for item in items:
                groups.setdefault(item["video_id"], []).append(item)
            items = [{"id": vid, "clips": clips} for vid, clips in groups.items()]
        limit = int(form.one("page_limit") or 10)
        pages = [items[i : i + limit] for i in range(0, len(items), limit)] or [[]]
        session = self.new_id()
        self._sessions[session] = pages
        return self._page(session, 0, meta)

    def _check_search(self, form: Form) -> str | None:
        options = form.fields.get("search_options", [])
        if not form.one("index_id") or not options:
            return "index_id and search_options are required"
        if not set(options) <= {"visual", "audio", "transcription"}:
            return f"unknown search_options {options}"
        if "transcription_options" in form.fields and "transcription" not in options:
            return "transcription_options need the transcription search option"
        media = form.fields.get("query_media_url", []) + [name for name, _, _ in form.files]
        if any(name != "query_media_file" for name, _, _ in form.files):
            return "only query_media_file parts are accepted"
        if media and form.one("query_media_type") != "image":
            return "query_media_type=image is required with media"
        if form.one("query_media_type") == "image" and not media:
            return "an image query needs query_media_url or query_media_file"
        if len(media) > 10:
            return "at most 10 images"
        if not media and not form.one("query_text"):
            return "query_text is required for text queries"
        if not 1 <= int(form.one("page_limit") or 10) <= 50:
            return "page_limit must be 1 to 50"
        raw_filter = form.one("filter")
        if raw_filter is not None and not isinstance(orjson.loads(raw_filter), dict):
            return "filter must be a JSON object"
        return None

    def _page(self, session: str, number: int, meta: bool) -> httpx.Response:
        pages = self._sessions[session]
        data = pages[number]
        if not meta:
            data = [_without_metadata(item) for item in data]
        info: dict[str, Any] = {"limit_per_page": len(pages[0]), "page_expires_at": iso(3600)}
        if number + 1 < len(pages):
            info["next_page_token"] = f"{session}-{number + 1}"
        return _json(
            200, {"search_pool": {"total_count": len(self.videos)}, "data": data, "page_info": info}
        )

    def _search_page(self, request: httpx.Request, token: str) -> httpx.Response:
        session, _, number = token.rpartition("-")
        if session not in self._sessions:
            return bad("unknown page token", "search_page_token_expired")
        meta = request.url.params.get("include_user_metadata") == "true"
        return self._page(session, int(number), meta)

    # --- assets, indexes, videos, analyze ------------------------------------------------

    def _asset(self, request: httpx.Request, asset_id: str) -> httpx.Response:
        asset = self.assets.get(asset_id)
        return _json(200, asset) if asset else _json(404, {"code": "not_found", "message": "no"})

    def _list_indexes(self, request: httpx.Request) -> httpx.Response:
        name = request.url.params.get("index_name")
        items = [i for i in self.indexes.values() if name is None or name in i["index_name"]]
        return self._paged(request, items)

    def _get_index(self, request: httpx.Request, index_id: str) -> httpx.Response:
        index = self.indexes.get(index_id)
        return _json(200, index) if index else bad(f"index {index_id} not found")

    def _list_videos(self, request: httpx.Request, index_id: str) -> httpx.Response:
        items = [
            {k: v for k, v in video.items() if k not in ("transcription", "index_id", "hls")}
            for video in self.videos.values()
            if video["index_id"] == index_id
        ]
        return self._paged(request, items)

    def _get_video(self, request: httpx.Request, index_id: str, video_id: str) -> httpx.Response:
        video = self.videos.get(video_id)
        if video is None or video["index_id"] != index_id:
            return _json(404, {"code": "video_not_found", "message": f"no video {video_id}"})
        body = {k: v for k, v in video.items() if k != "index_id"}
        if request.url.params.get("transcription") != "true":
            body.pop("transcription")
        return _json(200, body)

    def _get_indexed_asset(
        self, request: httpx.Request, index_id: str, video_id: str
    ) -> httpx.Response:
        """A video as an indexed asset (its id is its asset's too, in this fake)."""
        video = self.videos.get(video_id)
        if video is None or video["index_id"] != index_id:
            return _json(404, {"code": "not_found", "message": f"no indexed asset {video_id}"})
        body = {"_id": video_id, "asset_id": video_id, "status": "ready"}
        return _json(200, {**body, "system_metadata": video["system_metadata"]})

    def _analyze(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        self.analyses.append(body)
        asset_id = (body.get("video") or {}).get("asset_id")
        if asset_id not in self.videos:
            return _json(404, {"code": "not_found", "message": "no such asset"})
        text = f"About {self.videos[asset_id]['system_metadata']['filename']}."
        return _json(200, {"id": "g1", "data": text, "finish_reason": "stop"})

    def _paged(self, request: httpx.Request, items: list[Any]) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        limit = int(request.url.params.get("page_limit", "10"))
        chunk = items[(page - 1) * limit : page * limit]
        total = max(1, -(-len(items) // limit))
        return _json(
            200,
            {
                "data": chunk,
                "page_info": {"page": page, "total_page": total, "total_results": len(items)},
            },
        )

    # --- entity collections and entities -------------------------------------------------

    def _collection(self, collection_id: str) -> dict[str, Any] | None:
        return self.collections.get(collection_id)

    def _list_collections(self, request: httpx.Request) -> httpx.Response:
        name = request.url.params.get("name")
        items = [c for c in self.collections.values() if name is None or c["name"] == name]
        return self._paged(request, items)

    def _create_collection(self, request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        if not isinstance(body.get("name"), str) or not body["name"]:
            return bad("name is required")
        cid = self.new_id()
        self.collections[cid] = {
            "_id": cid,
            "name": body["name"],
            "description": body.get("description"),
            "created_at": iso(self.clock.now),
            "updated_at": iso(self.clock.now),
        }
        return _json(201, self.collections[cid])

    def _get_collection(self, request: httpx.Request, cid: str) -> httpx.Response:
        found = self._collection(cid)
        return _json(200, found) if found else bad(f"entity collection {cid} not found")

    def _update_collection(self, request: httpx.Request, cid: str) -> httpx.Response:
        found = self._collection(cid)
        if found is None:
            return bad(f"entity collection {cid} not found")
        body = orjson.loads(request.content)
        for key in ("name", "description"):
            if body.get(key) is not None:
                found[key] = body[key]
        found["updated_at"] = iso(self.clock.now)
        return _json(200, found)

    def _delete_collection(self, request: httpx.Request, cid: str) -> httpx.Response:
        if self.collections.pop(cid, None) is None:
            return bad(f"entity collection {cid} not found")
        for eid in [e for e, ent in self.entities.items() if ent["entity_collection_id"] == cid]:
            del self.entities[eid]
        return httpx.Response(204)

    def _status(self, entity: dict[str, Any]) -> str:
        return "ready" if self.clock.now >= entity["_ready_at"] else "processing"

    def _entity_json(self, entity: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in entity.items() if not k.startswith("_") or k == "_id"}
        body["status"] = self._status(entity)
        return body

    def _entity_error(self, item: Any) -> str | None:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return "name is required"
        ids = item.get("asset_ids")
        if not isinstance(ids, list) or not ids:
            return "asset_ids needs at least one asset"
        missing = [a for a in ids if a not in self.assets]
        return f"assets not found: {missing}" if missing else None

    def _new_entity(self, cid: str, item: dict[str, Any]) -> dict[str, Any]:
        eid = self.new_id()
        entity = {
            "_id": eid,
            "entity_collection_id": cid,
            "name": item["name"],
            "description": item.get("description"),
            "metadata": item.get("metadata") or {},
            "asset_ids": list(item["asset_ids"]),
            "created_at": iso(self.clock.now),
            "updated_at": iso(self.clock.now),
            "_ready_at": self.clock.now + self.entity_ready_after_s,
        }
        self.entities[eid] = entity
        return entity

    def _list_entities(self, request: httpx.Request, cid: str) -> httpx.Response:
        if self._collection(cid) is None:
            return bad(f"entity collection {cid} not found")
        params = request.url.params
        items = [
            self._entity_json(e)
            for e in self.entities.values()
            if e["entity_collection_id"] == cid
            and params.get("name") in (None, e["name"])
            and params.get("status") in (None, self._status(e))
        ]
        if params.get("sort_by") == "updated_at":
            items.sort(key=lambda e: e["updated_at"], reverse=params.get("sort_option") != "asc")
        return self._paged(request, items)

    def _create_entity(self, request: httpx.Request, cid: str) -> httpx.Response:
        if self._collection(cid) is None:
            return bad(f"entity collection {cid} not found")
        body = orjson.loads(request.content)
        problem = self._entity_error(body)
        if problem:
            return bad(problem)
        return _json(201, self._entity_json(self._new_entity(cid, body)))

    def _bulk_entities(self, request: httpx.Request, cid: str) -> httpx.Response:
        if self._collection(cid) is None:
            return bad(f"entity collection {cid} not found")
        made, errors = [], []
        for n, item in enumerate(orjson.loads(request.content)["entities"]):
            problem = self._entity_error(item)
            if problem:
                errors.append(
                    {"entity_index": n, "entity_name": item.get("name"), "error_reason": problem}
                )
            else:
                entity = self._new_entity(cid, item)
                made.append(
                    {"_id": entity["_id"], "name": entity["name"], "status": self._status(entity)}
                )
        return _json(
            201,
            {
                "success_count": len(made),
                "failed_count": len(errors),
                "entities": made,
                "errors": errors,
            },
        )

    def _entity(self, cid: str, eid: str) -> dict[str, Any] | None:
        entity = self.entities.get(eid)
        return entity if entity is not None and entity["entity_collection_id"] == cid else None

    def _get_entity(self, request: httpx.Request, cid: str, eid: str) -> httpx.Response:
        entity = self._entity(cid, eid)
        return _json(200, self._entity_json(entity)) if entity else bad(f"entity {eid} not found")

    def _update_entity(self, request: httpx.Request, cid: str, eid: str) -> httpx.Response:
        entity = self._entity(cid, eid)
        if entity is None:
            return bad(f"entity {eid} not found")
        body = orjson.loads(request.content)
        for key in ("name", "description", "metadata"):
            if body.get(key) is not None:
                entity[key] = body[key]
        entity["updated_at"] = iso(self.clock.now)
        return _json(200, self._entity_json(entity))

    def _delete_entity(self, request: httpx.Request, cid: str, eid: str) -> httpx.Response:
        if self._entity(cid, eid) is None:
            return bad(f"entity {eid} not found")
        del self.entities[eid]
        return httpx.Response(204)

    def _add_assets(self, request: httpx.Request, cid: str, eid: str) -> httpx.Response:
        return self._change_assets(request, cid, eid, add=True)

    def _remove_assets(self, request: httpx.Request, cid: str, eid: str) -> httpx.Response:
        return self._change_assets(request, cid, eid, add=False)

    def _change_assets(
        self, request: httpx.Request, cid: str, eid: str, *, add: bool
    ) -> httpx.Response:
        entity = self._entity(cid, eid)
        if entity is None:
            return bad(f"entity {eid} not found")
        ids = orjson.loads(request.content).get("asset_ids")
        if not isinstance(ids, list) or not ids:
            return bad("asset_ids is required")
        if add:
            entity["asset_ids"] += [a for a in ids if a not in entity["asset_ids"]]
        else:
            left = [a for a in entity["asset_ids"] if a not in ids]
            if not left:
                return bad("an entity keeps at least one asset", "entity_last_asset")
            entity["asset_ids"] = left
        entity["_ready_at"] = self.clock.now + self.entity_ready_after_s
        entity["updated_at"] = iso(self.clock.now)
        return _json(200, self._entity_json(entity))

    def _entities_of_asset(self, request: httpx.Request, asset_id: str) -> httpx.Response:
        items = [self._entity_json(e) for e in self.entities.values() if asset_id in e["asset_ids"]]
        return self._paged(request, items)


def _without_metadata(item: dict[str, Any]) -> dict[str, Any]:
    item = {k: v for k, v in item.items() if k != "user_metadata"}
    if "clips" in item:
        item["clips"] = [_without_metadata(c) for c in item["clips"]]
    return item


class Twin:
    """A client of either kind; ``run`` and ``collect`` hide the ``await``, so one test
    body checks the sync client and its derived async twin."""

    def __init__(self, kind: str, api: FakeSearchAPI) -> None:
        self.kind = kind
        self.api = api
        self.client: Any = api.client() if kind == "sync" else api.async_client()

    def run(self, value: Any) -> Any:
        if inspect.isawaitable(value):

            async def wait() -> Any:
                return await value

            return asyncio.run(wait())
        return value

    def collect(self, iterable: Any) -> list[Any]:
        if hasattr(iterable, "__aiter__"):

            async def drain() -> list[Any]:
                return [item async for item in iterable]

            return asyncio.run(drain())
        return list(iterable)

    def close(self) -> None:
        if isinstance(self.client, AsyncTwelveLabs):
            asyncio.run(self.client._http.aclose())
        else:
            assert isinstance(self.client, TwelveLabs)
            self.client._http.close()
