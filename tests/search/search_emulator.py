"""Helpers of the search, entity and retrieval tests, which run on the emulator (fixtures in
conftest.py).

:class:`Wire` sits between a client and the emulator, in the transport: it records every
request (with its parsed form) so that tests can check what went on the wire, and it can
lose an answer after the emulator handled the request, or edit an answer, to show what the
client does then. A uniquely named module, so that tests can import it (every test folder
has a conftest).
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from testkit import FakeClock
from tl_integrations import AsyncTwelveLabs, PollPolicy, RetryPolicy, TwelveLabs
from tl_integrations.emulator import Emulator

# --- the emulator --------------------------------------------------------------------------

KITCHEN = [
    (0.5, 3.0, "Welcome to the kitchen"),
    (3.5, 6.0, "today we bake sourdough bread"),
    (7.0, 9.5, "first mix flour and water"),
    (10.0, 12.5, "then knead the dough for ten minutes"),
    (13.5, 16.0, "the oven must be very hot"),
]
GARDEN = [
    (0.5, 3.0, "tomatoes need full sun"),
    (4.0, 7.0, "water the roses at dawn"),
    (8.0, 11.0, "compost feeds hungry soil"),
]
# Two 8 s videos of two 4 s scenes each. The cyan scene says nothing; meadow.mp4 has no
# video stream to play (it was indexed with enable_video_stream=False).
SUNSET = [(0.5, 3.5, "the sun sets over the sea"), (4.5, 7.5, "night falls on the quiet town")]
MEADOW = [(0.5, 3.5, "cows graze in the meadow")]
RGB = {
    "orange": (245, 140, 30),
    "purple": (140, 60, 180),
    "green": (40, 180, 60),
    "cyan": (40, 200, 210),
}


@dataclass(frozen=True)
class Indexed:
    """An emulator index holding two subtitled videos (ready), and the emulator."""

    emulator: Emulator
    index_id: str
    index_name: str
    kitchen: str  # video ids
    garden: str
    media: Path  # the folder holding kitchen.mp4 and garden.mp4


@dataclass(frozen=True)
class Scenes:
    """An emulator index of two coloured videos (see SUNSET and MEADOW), and one PNG per
    colour of ``RGB``."""

    index_id: str
    index_name: str
    sunset: str  # video ids
    meadow: str
    images: dict[str, Path]


def emulator_client(emu: Emulator) -> TwelveLabs:
    """A client whose sleeps move the emulator's clock."""
    time = FakeClock(emulator=emu)
    return TwelveLabs(api_key=emu.api_key, base_url=emu.base_url, clock=time, sleep=time.sleep)


def emulator_async_client(emu: Emulator) -> AsyncTwelveLabs:
    time = FakeClock(emulator=emu)
    return AsyncTwelveLabs(
        api_key=emu.api_key, base_url=emu.base_url, clock=time, sleep=time.async_sleep
    )


# --- the wire ------------------------------------------------------------------------------


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


Edit = Callable[[httpx.Request, Any], Any]


@dataclass
class Wire:
    """Records what a client sends to the emulator; loses or edits chosen answers.

    ``lose_answers`` holds ``(method, path)`` pairs (path relative to the API base): the next
    such request is handled by the emulator, then its answer is lost (a read timeout).
    ``edit`` rewrites the JSON answer of every request (None: answers pass unchanged).
    """

    emulator: Emulator
    requests: list[httpx.Request] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    lose_answers: list[tuple[str, str]] = field(default_factory=list)
    edit: Edit | None = None
    _opened: list[httpx.Client] = field(default_factory=list)
    _opened_async: list[httpx.AsyncClient] = field(default_factory=list)

    def close(self) -> None:
        """Close the connections of the sync clients made here."""
        for http in self._opened:
            http.close()

    async def aclose(self) -> None:
        """Close the connections of the async clients made here: on the event loop they ran
        on, so call it there before that loop ends."""
        for http in self._opened_async:
            await http.aclose()

    def _relative(self, request: httpx.Request) -> str:
        return request.url.path.removeprefix(httpx.URL(self.emulator.base_url).path)

    def _sent(self, request: httpx.Request) -> None:
        request.read()
        self.requests.append(request)
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            self.forms.append(parse_form(request))

    def _answered(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        key = (request.method, self._relative(request))
        if key in self.lose_answers:
            self.lose_answers.remove(key)
            raise httpx.ReadTimeout("the answer was lost", request=request)
        if self.edit is None or "json" not in response.headers.get("content-type", ""):
            return response
        body = self.edit(request, orjson.loads(response.content))
        headers = {k: v for k, v in response.headers.items() if k != "content-length"}
        return httpx.Response(response.status_code, headers=headers, content=orjson.dumps(body))

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        """The requests made to ``method path`` (path relative to the API base)."""
        return [r for r in self.requests if r.method == method and self._relative(r) == path]

    def client(self) -> TwelveLabs:
        """A client on this wire, whose sleeps move the emulator's clock."""
        assert self.emulator.clock is not None
        http = httpx.Client(transport=_SyncWire(self), timeout=60.0)
        self._opened.append(http)
        time = FakeClock(emulator=self.emulator)
        return TwelveLabs(
            api_key=self.emulator.api_key,
            base_url=self.emulator.base_url,
            http_client=http,
            clock=time,
            sleep=time.sleep,
            poll_policy=PollPolicy(jitter=0.0),
            retry_policy=RetryPolicy(jitter=0.0),
        )

    def async_client(self) -> AsyncTwelveLabs:
        """The async twin of :meth:`client`."""
        emu = self.emulator
        time = FakeClock(emulator=emu)
        http = httpx.AsyncClient(transport=_AsyncWire(self), timeout=60.0)
        self._opened_async.append(http)
        return AsyncTwelveLabs(
            api_key=emu.api_key,
            base_url=emu.base_url,
            http_client=http,
            clock=time,
            sleep=time.async_sleep,
            poll_policy=PollPolicy(jitter=0.0),
            retry_policy=RetryPolicy(jitter=0.0),
        )


class _SyncWire(httpx.BaseTransport):
    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.wire._sent(request)
        response = self.inner.handle_request(request)
        response.read()
        return self.wire._answered(request, response)

    def close(self) -> None:
        self.inner.close()


class _AsyncWire(httpx.AsyncBaseTransport):
    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.wire._sent(request)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        return self.wire._answered(request, response)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Twin:
    """A client of either kind on a :class:`Wire`; ``run`` and ``collect`` hide the
    ``await``, so one test body checks the sync client and its derived async twin.

    The async client's calls all run on one event loop of the twin's own: its pooled
    connections belong to that loop, and would break on a fresh loop per call."""

    def __init__(self, kind: str, wire: Wire) -> None:
        self.kind = kind
        self.wire = wire
        self.client: Any = wire.client() if kind == "sync" else wire.async_client()
        self.loop = asyncio.new_event_loop()

    def run(self, value: Any) -> Any:
        if inspect.isawaitable(value):

            async def wait() -> Any:
                return await value

            return self.loop.run_until_complete(wait())
        return value

    def collect(self, iterable: Any) -> list[Any]:
        if hasattr(iterable, "__aiter__"):

            async def drain() -> list[Any]:
                return [item async for item in iterable]

            return self.loop.run_until_complete(drain())
        return list(iterable)

    def close(self) -> None:
        if isinstance(self.client, AsyncTwelveLabs):
            self.loop.run_until_complete(self.client._http.aclose())
        else:
            assert isinstance(self.client, TwelveLabs)
            self.client._http.close()
        self.loop.close()
