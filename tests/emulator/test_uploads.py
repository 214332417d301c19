"""Multipart uploads: sessions, presigned chunk URLs (single use, expiring), ETag proofs,
reports in any order, completion, expiry, faults and restarts, over raw HTTP."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit import start_emulator
from tl_integrations.emulator import Emulator, ManualClock, UploadLimits

CHUNK = 1000
LIMITS = UploadLimits(chunk_size_bytes=CHUNK, initial_urls=2, image_bytes=5000)
DATA = os.urandom(2500)  # three chunks: 1000, 1000 and 500 bytes
PARTS = [DATA[:1000], DATA[1000:2000], DATA[2000:]]


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> Emulator:
    return start_emulator(request, clock=ManualClock(), seed=2, uploads=LIMITS)


@pytest.fixture(scope="module")
def http(server: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"x-api-key": "k"}) as client:
        yield client


def start(http: httpx.Client, *, size: int = len(DATA), **extra: Any) -> dict[str, Any]:
    body = {"filename": "movie.mp4", "type": "video", "total_size": size, **extra}
    answer = http.post("/assets/multipart-uploads", json=body)
    assert answer.status_code == 201, answer.text
    session: dict[str, Any] = answer.json()
    return session


def urls(http: httpx.Client, upload_id: str, first: int, count: int) -> dict[int, str]:
    answer = http.post(
        f"/assets/multipart-uploads/{upload_id}/presigned-urls",
        json={"start": first, "count": count},
    )
    assert answer.status_code == 200, answer.text
    return {u["chunk_index"]: u["url"] for u in answer.json()["upload_urls"]}


def put(url: str, data: bytes) -> httpx.Response:
    """A chunk PUT as a storage client sends it: no API key."""
    return httpx.put(url, content=data, headers={"Content-Type": "application/octet-stream"})


def proof(index: int, etag: str, size: int) -> dict[str, Any]:
    return {"chunk_index": index, "proof": etag, "proof_type": "etag", "chunk_size": size}


def report(http: httpx.Client, upload_id: str, *items: dict[str, Any]) -> httpx.Response:
    return http.post(
        f"/assets/multipart-uploads/{upload_id}", json={"completed_chunks": list(items)}
    )


def upload_all(http: httpx.Client, session: dict[str, Any]) -> list[str]:
    """PUT every chunk with fresh URLs; returns the ETags (quotes stripped)."""
    fresh = urls(http, session["upload_id"], 1, session["total_chunks"])
    return [put(fresh[n + 1], part).headers["etag"].strip('"') for n, part in enumerate(PARTS)]


def test_a_session_reserves_an_asset_and_hands_out_some_urls(http: httpx.Client) -> None:
    session = start(http, user_metadata={"team": "a", "skip": ""}, enable_thumbnail=True)
    assert (session["chunk_size"], session["total_chunks"]) == (CHUNK, 3)
    assert [u["chunk_index"] for u in session["upload_urls"]] == [1, 2]  # not all three
    assert session["upload_headers"] == {"Content-Type": "application/octet-stream"}
    asset = http.get(f"/assets/{session['asset_id']}").json()
    assert (asset["status"], asset["method"], asset["user_metadata"]) == (
        "processing",
        "multipart",
        {"team": "a"},
    )
    assert "hls" not in asset  # multipart sessions default HLS off
    assert asset["thumbnail"]["status"] == "processing"
    listed = http.get("/assets", params={"asset_ids": session["asset_id"]}).json()["data"]
    assert [a["_id"] for a in listed] == [session["asset_id"]]
    open_ = [s["upload_id"] for s in http.get("/assets/multipart-uploads").json()["data"]]
    assert session["upload_id"] in open_


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "video", "total_size": 10}, "filename"),
        ({"filename": "a.mp4", "type": "document", "total_size": 10}, "type"),
        ({"filename": "a.mp4", "type": "video", "total_size": 0}, "total_size"),
        ({"filename": "a.mp4", "type": "video", "total_size": "10"}, "total_size"),
        ({"filename": "a.png", "type": "image", "total_size": 5001}, "at most 5000 bytes"),
        ({"filename": "a.mp4", "type": "video", "total_size": 10 * 1024**3 + 1}, "at most"),
        (
            {"filename": "a.mp4", "type": "video", "total_size": 9, "enable_hls": "yes"},
            "enable_hls",
        ),
    ],
)
def test_session_refusals(http: httpx.Client, body: dict[str, Any], field: str) -> None:
    answer = http.post("/assets/multipart-uploads", json=body)
    assert answer.status_code == 400
    assert field in answer.json()["message"]


def test_chunk_urls_are_single_use_and_answer_the_md5(http: httpx.Client) -> None:
    session = start(http)
    first = session["upload_urls"][0]["url"]
    stored = put(first, PARTS[0])
    assert stored.status_code == 200
    assert stored.headers["etag"] == f'"{hashlib.md5(PARTS[0]).hexdigest()}"'
    again = put(first, PARTS[0])
    assert (again.status_code, again.json()["code"]) == (403, "upload_url_used")
    forged = first.rsplit("sig=", 1)[0] + "sig=forged"
    assert put(forged, PARTS[0]).json()["code"] == "upload_url_invalid"
    other_chunk = first.replace("/1?sig=", "/2?sig=")
    assert put(other_chunk, PARTS[1]).json()["code"] == "upload_url_invalid"
    assert put(first.split("?")[0], PARTS[0]).status_code == 403
    fresh = urls(http, session["upload_id"], 1, 1)[1]
    assert fresh != first
    assert put(fresh, PARTS[0]).status_code == 200


def test_chunk_urls_expire_after_an_hour(server: Emulator, http: httpx.Client) -> None:
    session = start(http)
    url = session["upload_urls"][0]["url"]
    server.advance(3601.0)
    late = put(url, PARTS[0])
    assert (late.status_code, late.json()["code"]) == (403, "upload_url_expired")
    assert "presigned-urls" in late.json()["message"]
    assert put(urls(http, session["upload_id"], 1, 1)[1], PARTS[0]).status_code == 200


def test_chunk_sizes_are_checked(http: httpx.Client) -> None:
    session = start(http)
    url = session["upload_urls"][0]["url"]
    short = put(url, PARTS[0][:10])
    assert (short.status_code, short.json()["code"]) == (400, "chunk_size_mismatch")
    assert put(url, PARTS[0]).status_code == 200  # refused before the URL was spent
    # Without a Content-Length the size shows only at the end: the chunk is marked failed.
    second = session["upload_urls"][1]["url"]
    broken = httpx.put(second, content=iter([PARTS[1][:300]]))
    assert broken.json()["code"] == "chunk_size_mismatch"
    status = http.get(f"/assets/multipart-uploads/{session['upload_id']}").json()
    chunk = status["uploaded_chunks"][1]
    assert (chunk["status"], status["chunks_failed"]) == ("failed", 1)
    assert chunk["error"]
    assert put(urls(http, session["upload_id"], 2, 1)[2], PARTS[1]).status_code == 200
    status = http.get(f"/assets/multipart-uploads/{session['upload_id']}").json()
    assert (status["uploaded_chunks"][1]["status"], status["chunks_failed"]) == ("pending", 0)


def test_reports_in_any_order_with_duplicates_and_url_at_the_end(
    server: Emulator, http: httpx.Client
) -> None:
    session = start(http)
    upload_id = session["upload_id"]
    etags = upload_all(http, session)
    third = report(http, upload_id, proof(3, etags[2], 500), proof(3, etags[2], 500))
    assert third.json() == {
        "asset_id": session["asset_id"],
        "processed_chunks": 1,
        "duplicate_chunks": 1,
        "total_completed": 1,
    }
    status = http.get(f"/assets/multipart-uploads/{upload_id}").json()
    assert status["status"] == "active"
    assert [c["status"] for c in status["uploaded_chunks"]] == ["pending", "pending", "completed"]
    first = report(http, upload_id, proof(1, f'"{etags[0]}"', 1000), proof(3, etags[2], 500))
    assert "url" not in first.json()
    assert (first.json()["processed_chunks"], first.json()["duplicate_chunks"]) == (1, 1)
    assert http.get(f"/assets/{session['asset_id']}").json()["status"] == "processing"
    last = report(http, upload_id, proof(2, etags[1], 1000)).json()
    assert last["total_completed"] == 3
    assert f"/_emulator/media/{session['asset_id']}?sig=" in last["url"]
    assert report(http, upload_id, proof(2, etags[1], 1000)).json()["duplicate_chunks"] == 1
    status = http.get(f"/assets/multipart-uploads/{upload_id}").json()
    assert (status["status"], status["chunks_completed"], status["uploaded_size"]) == (
        "completed",
        3,
        len(DATA),
    )
    open_ = [s["upload_id"] for s in http.get("/assets/multipart-uploads").json()["data"]]
    assert upload_id not in open_
    server.advance(600.0)
    asset = http.get(f"/assets/{session['asset_id']}").json()
    assert asset["status"] == "failed"  # random bytes are no video
    assert asset["technical_metadata"]["file_size_bytes"] == len(DATA)


def test_a_wrong_proof_keeps_nothing_of_the_report(http: httpx.Client) -> None:
    session = start(http)
    upload_id = session["upload_id"]
    etags = upload_all(http, session)
    wrong = report(http, upload_id, proof(1, etags[0], 1000), proof(2, etags[0], 1000))
    assert (wrong.status_code, wrong.json()["code"]) == (400, "chunk_proof_mismatch")
    sizes = report(http, upload_id, proof(1, etags[0], 999))
    assert sizes.json()["code"] == "chunk_size_mismatch"
    status = http.get(f"/assets/multipart-uploads/{upload_id}").json()
    assert status["chunks_completed"] == 0
    other = start(http)
    missing = report(http, other["upload_id"], proof(1, etags[0], 1000))
    assert missing.json()["code"] == "chunk_not_uploaded"
    out_of_range = report(http, upload_id, proof(4, etags[0], 1000))
    assert out_of_range.status_code == 400
    assert report(http, upload_id).json()["code"] == "parameter_not_provided"
    bad_type = report(http, upload_id, {**proof(1, etags[0], 1000), "proof_type": "md5"})
    assert "proof_type" in bad_type.json()["message"]
    assert report(http, "0" * 24, proof(1, etags[0], 1000)).status_code == 404


def test_status_pages_every_chunk(http: httpx.Client) -> None:
    session = start(http)
    upload_id = session["upload_id"]
    put(session["upload_urls"][0]["url"], PARTS[0])
    page = http.get(
        f"/assets/multipart-uploads/{upload_id}", params={"page_limit": 2, "page": 2}
    ).json()
    assert [c["index"] for c in page["uploaded_chunks"]] == [3]
    assert page["page_info"]["total_results"] == 3
    assert (page["chunks_pending"], page["uploaded_size"], page["total_size"]) == (3, 1000, 2500)
    past = http.get(f"/assets/multipart-uploads/{upload_id}", params={"page": 9}).json()
    assert past["uploaded_chunks"] == []
    assert http.get("/assets/multipart-uploads/" + "0" * 24).status_code == 404


def test_presigned_url_requests_are_bounded(http: httpx.Client) -> None:
    upload_id = start(http)["upload_id"]
    path = f"/assets/multipart-uploads/{upload_id}/presigned-urls"
    clipped = http.post(path, json={"start": 2, "count": 50}).json()
    assert (clipped["start_index"], clipped["count"]) == (2, 2)
    assert [u["chunk_index"] for u in clipped["upload_urls"]] == [2, 3]
    assert clipped["generated_at"] < clipped["expires_at"]
    for body in ({"start": 1, "count": 51}, {"start": 0, "count": 1}, {"start": 4, "count": 1}):
        assert http.post(path, json=body).status_code == 400
    assert http.post(path, json={"start": 1}).status_code == 400


def test_an_expired_session_takes_nothing_more(server: Emulator, http: httpx.Client) -> None:
    session = start(http)
    upload_id = session["upload_id"]
    etag = put(session["upload_urls"][0]["url"], PARTS[0]).headers["etag"]
    server.advance(86401.0)
    status = http.get(f"/assets/multipart-uploads/{upload_id}").json()
    assert status["status"] == "expired"
    late = report(http, upload_id, proof(1, etag, 1000))
    assert (late.status_code, late.json()["code"]) == (400, "upload_session_expired")
    more = http.post(
        f"/assets/multipart-uploads/{upload_id}/presigned-urls", json={"start": 1, "count": 1}
    )
    assert more.json()["code"] == "upload_session_expired"
    asset = http.get(f"/assets/{session['asset_id']}").json()
    assert asset["status"] == "failed"
    listed = {
        s["upload_id"]: s["status"] for s in http.get("/assets/multipart-uploads").json()["data"]
    }
    assert listed[upload_id] == "expired"


def test_chunk_puts_meet_the_faults_and_no_key_is_needed(
    server: Emulator, http: httpx.Client
) -> None:
    session = start(http)
    url = session["upload_urls"][0]["url"]
    try:
        server.set_faults(p500=1.0)
        assert put(url, PARTS[0]).status_code == 500  # answered before the route: URL unspent
        server.set_faults(lost=1.0)
        with pytest.raises(httpx.RemoteProtocolError):
            put(url, PARTS[0])  # stored, but the answer never came
    finally:
        server.set_faults()
    assert put(url, PARTS[0]).json()["code"] == "upload_url_used"
    status = http.get(f"/assets/multipart-uploads/{session['upload_id']}").json()
    assert status["uploaded_size"] == 1000  # the chunk did arrive
    etag = put(urls(http, session["upload_id"], 1, 1)[1], PARTS[0]).headers["etag"]
    assert report(http, session["upload_id"], proof(1, etag, 1000)).status_code == 200
    stats = server.stats()
    assert stats["requests"]["PUT /_upload/{id}/{n}"] >= 4
    assert stats["faults"]["lost"] >= 1
    assert stats["chunks"] >= 2


def test_keyed_emulator_needs_no_key_for_chunks(emulator_for: Callable[..., Emulator]) -> None:
    emu = emulator_for(api_key="secret", uploads=LIMITS)
    with httpx.Client(base_url=emu.base_url, headers={"x-api-key": "secret"}) as http:
        url = start(http)["upload_urls"][0]["url"]
        assert put(url, PARTS[0]).status_code == 200


def test_an_upload_resumes_after_a_restart(tmp_path: Path, videos: dict[str, Path]) -> None:
    clock = ManualClock()
    data = tmp_path / "data"
    video = videos["beach"].read_bytes()
    parts = [video[i : i + 100_000] for i in range(0, len(video), 100_000)]
    limits = UploadLimits(chunk_size_bytes=100_000, initial_urls=len(parts))
    with (
        Emulator(data_dir=data, clock=clock, uploads=limits) as first,
        httpx.Client(base_url=first.base_url, headers={"x-api-key": "k"}) as http,
    ):
        session = start(http, size=len(video), enable_hls=True)
        given = {u["chunk_index"]: u["url"] for u in session["upload_urls"]}
        etags = {1: put(given[1], parts[0]).headers["etag"]}
        assert report(http, session["upload_id"], proof(1, etags[1], len(parts[0]))).is_success
    with (
        Emulator(data_dir=data, clock=clock, uploads=limits) as again,
        httpx.Client(base_url=again.base_url, headers={"x-api-key": "k"}) as http,
    ):
        upload_id = session["upload_id"]
        assert http.get(f"/assets/multipart-uploads/{upload_id}").json()["chunks_completed"] == 1
        port = again.base_url.split(":")[2].split("/")[0]
        for n, part in enumerate(parts[1:], start=2):
            url = given[n].replace(given[n].split(":")[2].split("/")[0], port, 1)
            etags[n] = put(url, part).headers["etag"]  # URLs given before the restart still work
        done = report(
            http,
            upload_id,
            *(proof(n, etags[n], len(parts[n - 1])) for n in range(2, len(parts) + 1)),
        ).json()
        assert "url" in done
        clock.advance(600.0)
        asset = http.get(f"/assets/{session['asset_id']}").json()
        assert (asset["status"], asset["duration"]) == ("ready", pytest.approx(12.0, abs=0.1))
        assert http.get(asset["hls"]["manifest_url"]).content == video


def test_deleting_the_asset_ends_its_upload(http: httpx.Client) -> None:
    session = start(http)
    assert http.delete(f"/assets/{session['asset_id']}").status_code == 204
    assert http.get(f"/assets/multipart-uploads/{session['upload_id']}").status_code == 404
    assert put(session["upload_urls"][0]["url"], PARTS[0]).status_code == 404
