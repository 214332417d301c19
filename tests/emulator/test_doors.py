"""The emulator's doors: who may reach it, what control requests may do, which files a URL
may read, and which links work without the key."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from testkit import png_bytes, start_emulator
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock

KEY = "door-key"
MODELS = [{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}]


@pytest.fixture
def keyed(request: pytest.FixtureRequest) -> Emulator:
    return start_emulator(request, api_key=KEY, clock=ManualClock(), seed=11)


@pytest.fixture
def http(keyed: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=keyed.base_url, headers={"x-api-key": KEY}) as client:
        yield client


def _index(http: httpx.Client, name: str = "doors") -> str:
    made = http.post("/indexes", json={"index_name": name, "models": MODELS})
    assert made.status_code == 201, made.text
    index_id: str = made.json()["_id"]
    return index_id


def _ready_video(emu: Emulator, http: httpx.Client, path: Path) -> dict[str, object]:
    with path.open("rb") as f:
        files = {"video_file": (path.name, f)}
        task = http.post("/tasks", data={"index_id": _index(http)}, files=files)
    assert task.status_code == 200, task.text
    emu.advance(600.0)
    detail = http.get(f"/tasks/{task.json()['_id']}").json()
    assert detail["status"] == "ready"
    return dict(detail)


# ---------------------------------------------------------------------- control routes


def test_control_routes_need_the_key_when_one_is_set(keyed: Emulator, http: httpx.Client) -> None:
    _index(http)
    for method, path in (("GET", "stats"), ("POST", "reset"), ("POST", "faults")):
        bare = httpx.request(method, f"{keyed.url}/_emulator/{path}", json={})
        assert bare.status_code == 401, path
        wrong = httpx.request(
            method, f"{keyed.url}/_emulator/{path}", json={}, headers={"x-api-key": "guess"}
        )
        assert wrong.status_code == 401, path
    assert len(http.get("/indexes").json()["data"]) == 1  # nothing was reset


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_control_posts_take_json_only(
    keyed: Emulator, http: httpx.Client, content_type: str | None
) -> None:
    """What a web page may send anywhere without asking (a form, text/plain, no body at
    all) cannot reset the emulator or change its faults."""
    _index(http)
    headers = {"x-api-key": KEY}
    if content_type:
        headers["content-type"] = content_type
    for path, body in (("reset", b""), ("faults", b'{"spec": "500=1"}')):
        refused = httpx.post(f"{keyed.url}/_emulator/{path}", content=body, headers=headers)
        assert refused.status_code == 415, (path, refused.text)
        assert "application/json" in refused.json()["message"]
    assert len(http.get("/indexes").json()["data"]) == 1  # not reset
    assert http.get("/indexes").status_code == 200  # no fault was set
    done = httpx.post(f"{keyed.url}/_emulator/reset", json={}, headers={"x-api-key": KEY})
    assert done.status_code == 204
    assert http.get("/indexes").json()["data"] == []


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8765", "10.0.0.7"])
def test_foreign_host_names_are_refused(keyed: Emulator, http: httpx.Client, host: str) -> None:
    """DNS rebinding: a page on attacker.example whose name now points at 127.0.0.1 still
    sends ``Host: attacker.example``."""
    _index(http)
    for url in (f"{keyed.base_url}/indexes", f"{keyed.url}/_emulator/stats", keyed.url + "/"):
        refused = httpx.get(url, headers={"host": host, "x-api-key": KEY})
        assert refused.status_code == 403, url
        assert refused.json()["code"] == "host_not_allowed"
        assert "--allow-host" in refused.json()["message"]
    reset = httpx.post(
        f"{keyed.url}/_emulator/reset", json={}, headers={"host": host, "x-api-key": KEY}
    )
    assert reset.status_code == 403
    assert len(http.get("/indexes").json()["data"]) == 1
    for loopback in ("localhost", f"localhost:{keyed.port}", "127.0.0.1", "[::1]:80"):
        assert http.get("/indexes", headers={"host": loopback}).status_code == 200


def test_allowed_hosts_are_served(emulator_for: Callable[..., Emulator]) -> None:
    emu = emulator_for(allowed_hosts=("emu.internal",))
    headers = {"x-api-key": "k"}
    assert httpx.get(f"{emu.base_url}/indexes", headers={**headers, "host": "emu.internal"})
    other = httpx.get(f"{emu.base_url}/indexes", headers={**headers, "host": "other.example"})
    assert other.status_code == 403
    emu = emulator_for(allowed_hosts=("*",))
    anyone = httpx.get(f"{emu.base_url}/indexes", headers={"x-api-key": "k", "host": "x.y"})
    assert anyone.status_code == 200


def test_serving_beyond_loopback_needs_a_key_and_warns() -> None:
    from tl_integrations.emulator._server import exposure

    with pytest.raises(ValueError, match=r"without an API key .* give an API key"):
        Emulator(host="0.0.0.0").start()
    config, warning = exposure(EmulatorConfig(api_key="k"), "0.0.0.0")
    assert warning is not None
    assert warning.startswith("WARNING: the emulator listens on 0.0.0.0, beyond this machine")
    assert config.allowed_hosts == ("*",)  # the key guards it; any name reaches it
    config, _ = exposure(EmulatorConfig(api_key="k"), "192.168.1.5")
    assert config.allowed_hosts == ("192.168.1.5",)
    assert exposure(EmulatorConfig(), "::1")[1] is None


# ---------------------------------------------------------------------- media links


def test_media_needs_the_key_or_the_signed_link(
    keyed: Emulator, http: httpx.Client, videos: dict[str, Path]
) -> None:
    detail = _ready_video(keyed, http, videos["beach"])
    video_id = str(detail["video_id"])
    hls = detail["hls"]
    assert isinstance(hls, dict)
    signed = str(hls["video_url"])
    bare = f"{keyed.url}/_emulator/media/{video_id}"
    assert httpx.get(bare).status_code == 401
    assert httpx.get(bare, headers={"x-api-key": "guess"}).status_code == 401
    assert httpx.get(bare, headers={"x-api-key": KEY}).content == videos["beach"].read_bytes()
    # The link the API hands out plays without the key (a <video> tag sends no header) ...
    assert "?sig=" in signed
    assert httpx.get(signed).content == videos["beach"].read_bytes()
    # ... and only for what it names.
    assert httpx.get(signed[:-1] + ("0" if signed[-1] != "0" else "1")).status_code == 401
    other_id = str(detail["_id"])  # the task id: another path, same signature
    assert (
        httpx.get(f"{bare.replace(video_id, other_id)}?{signed.split('?')[1]}").status_code == 401
    )


def test_thumbnails_need_the_key_or_the_signed_link(keyed: Emulator, http: httpx.Client) -> None:
    red = png_bytes((200, 30, 30), width=64, height=48)
    asset = http.post("/assets", data={"method": "direct"}, files={"file": ("red.png", red)})
    assert asset.status_code == 201, asset.text
    keyed.advance(600.0)
    done = http.get(f"/assets/{asset.json()['_id']}").json()
    link = done["thumbnail"]["representative_url"]
    assert httpx.get(link).content.startswith(b"\x89PNG")
    assert httpx.get(link.split("?")[0]).status_code == 401


def test_ids_are_not_predictable_from_the_default_seed() -> None:
    """The old ids were blake2b("0:1"), blake2b("0:2") ... for every emulator started
    without a seed: anyone could name the first video of anyone's emulator."""
    old_first = hashlib.blake2b(b"0:1", digest_size=12).hexdigest()
    firsts = []
    for _ in range(2):
        with Emulator() as emu, httpx.Client(headers={"x-api-key": "k"}) as http:
            made = http.post(f"{emu.base_url}/indexes", json={"index_name": "a", "models": MODELS})
            firsts.append(made.json()["_id"])
    assert old_first not in firsts
    assert firsts[0] != firsts[1]
    seeded = []
    for _ in range(2):  # a given seed still reproduces a run
        with Emulator(seed=7) as emu, httpx.Client(headers={"x-api-key": "k"}) as http:
            made = http.post(f"{emu.base_url}/indexes", json={"index_name": "a", "models": MODELS})
            seeded.append(made.json()["_id"])
    assert seeded[0] == seeded[1]


# ---------------------------------------------------------------------- file:// and URLs


def test_file_urls_are_refused_by_default(
    emulator_for: Callable[..., Emulator], tmp_path: Path, videos: dict[str, Path]
) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    emu = emulator_for(clock=ManualClock())
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        index_id = _index(http)
        for url in (videos["beach"].as_uri(), secret.as_uri(), "file:///etc/passwd"):
            task = http.post("/tasks", data={"index_id": index_id, "video_url": url})
            asset = http.post("/assets", data={"method": "url", "url": url})
            for refused in (task, asset):
                assert refused.status_code == 400, refused.text
                assert "--allow-file-dir" in refused.json()["message"]
        assert emu.stats()["uploads"] == 0
        assert not list(emu._app().emulator.backend.store.persistence.media_dir.iterdir())


def test_file_urls_are_confined_to_the_allowed_directories(
    emulator_for: Callable[..., Emulator], tmp_path: Path, videos: dict[str, Path]
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    inside = allowed / "beach.mp4"
    inside.write_bytes(videos["beach"].read_bytes())
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(videos["beach"].read_bytes())
    (allowed / "link.mp4").symlink_to(outside)  # a link inside that leads out
    emu = emulator_for(clock=ManualClock(), file_dirs=(allowed,))
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        index_id = _index(http)
        ok = http.post("/tasks", data={"index_id": index_id, "video_url": inside.as_uri()})
        assert ok.status_code == 200, ok.text
        for url in (
            outside.as_uri(),
            (allowed / "link.mp4").as_uri(),
            f"file://{allowed}/../outside.mp4",
        ):
            refused = http.post("/tasks", data={"index_id": index_id, "video_url": url})
            assert refused.status_code == 400, url
            assert "outside the directories the emulator may read" in refused.json()["message"]


class _Redirector(BaseHTTPRequestHandler):
    """``/hop`` redirects to ``/video`` on the address in ``target``; ``/video`` serves."""

    target = ""
    video = b""
    served: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        if self.path == "/hop":
            self.send_response(302)
            self.send_header("Location", self.target)
            self.end_headers()
            return
        type(self).served.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.video)))
        self.end_headers()
        self.wfile.write(self.video)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def redirector(videos: dict[str, Path]) -> Iterator[tuple[str, type[_Redirector]]]:
    handler = type("Handler", (_Redirector,), {"video": videos["beach"].read_bytes(), "served": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_loopback_urls_do_not_follow_redirects_off_loopback(
    emulator_for: Callable[..., Emulator],
    redirector: tuple[str, type[_Redirector]],
) -> None:
    base, handler = redirector
    port = base.rsplit(":", 1)[1]
    emu = emulator_for(clock=ManualClock())
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "k"}) as http:
        index_id = _index(http)
        handler.target = f"{base}/video"  # loopback to loopback: followed
        ok = http.post("/tasks", data={"index_id": index_id, "video_url": f"{base}/hop"})
        assert ok.status_code == 200, ok.text
        # 0.0.0.0 reaches this machine too, but is no loopback name: a server could as well
        # name any host of the network.
        handler.target = f"http://0.0.0.0:{port}/elsewhere"
        refused = http.post("/tasks", data={"index_id": index_id, "video_url": f"{base}/hop"})
        assert refused.status_code == 400
        assert "follows redirects only to loopback hosts" in refused.json()["message"]
    assert handler.served == ["/video"]  # /elsewhere was never fetched
