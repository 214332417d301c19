"""The official SDK (twelvelabs 1.3.6), unchanged, on today's upload path: assets, multipart
uploads and indexed assets, as its README and its helpers use them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from twelvelabs import TwelveLabs
from twelvelabs.errors import ConflictError, NotFoundError

from testkit import start_emulator
from tl_integrations.emulator import Emulator, ManualClock, UploadLimits

from .conftest import LINES, unique

CHUNK = 4 * 1024 * 1024


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, clock: ManualClock, media_dir: Path) -> Emulator:
    limits = UploadLimits(chunk_size_bytes=CHUNK)
    return start_emulator(request, clock=clock, seed=4, uploads=limits, file_dirs=(media_dir,))


@pytest.fixture(scope="module")
def sessions() -> list[dict[str, Any]]:
    """Every multipart session the SDK opened (read off the wire: its helper keeps the
    upload id to itself)."""
    return []


@pytest.fixture(scope="module")
def sdk(server: Emulator, sessions: list[dict[str, Any]]) -> Iterator[TwelveLabs]:
    def record(response: httpx.Response) -> None:
        request = response.request
        if request.method == "POST" and request.url.path.endswith("/assets/multipart-uploads"):
            response.read()
            sessions.append(response.json())

    with httpx.Client(timeout=120.0, event_hooks={"response": [record]}) as http:
        yield TwelveLabs(api_key=server.api_key, base_url=server.base_url, httpx_client=http)


def until(clock: ManualClock, probe: Any, done: Any, *, step_s: float = 1.0) -> Any:
    """Poll ``probe`` the README way, moving the manual clock instead of sleeping."""
    for _ in range(600):
        value = probe()
        if done(value):
            return value
        clock.advance(step_s)
    raise AssertionError(f"still not done: {value!r}")


def marengo_index(sdk: TwelveLabs) -> str:
    index = sdk.indexes.create(
        index_name=unique("sdk"),
        models=[{"model_name": "marengo3.0", "model_options": ["visual", "audio"]}],
    )
    assert index.id
    return index.id


@pytest.mark.parametrize("method", ["url", "direct"])
def test_the_readme_flow(
    sdk: TwelveLabs, clock: ManualClock, videos: dict[str, Path], method: str
) -> None:
    if method == "url":
        asset = sdk.assets.create(method="url", url=videos["beach"].as_uri())
    else:
        with videos["beach"].open("rb") as handle:
            asset = sdk.assets.create(method="direct", file=handle)
    assert asset.id
    assert asset.status == "processing"
    asset = until(clock, lambda: sdk.assets.retrieve(asset.id), lambda a: a.status != "processing")
    assert asset.status == "ready"
    index_id = marengo_index(sdk)
    indexed_asset = sdk.indexes.indexed_assets.create(index_id=index_id, asset_id=asset.id)
    assert indexed_asset.id
    statuses: list[str] = []

    def poll() -> Any:
        item = sdk.indexes.indexed_assets.retrieve(
            index_id=index_id, indexed_asset_id=indexed_asset.id
        )
        statuses.append(item.status)
        return item

    done = until(clock, poll, lambda i: i.status in ("ready", "failed"), step_s=0.25)
    assert done.status == "ready"
    assert statuses[0] == "validating"
    results = sdk.search.query(
        index_id=index_id, query_text="penguins on the ice", search_options=["visual", "audio"]
    )
    first = next(iter(results))
    assert (first.video_id, first.rank) == (indexed_asset.id, 1)
    assert first.start == 3.0
    video = sdk.indexes.videos.retrieve(index_id, indexed_asset.id)
    assert video.asset_id == asset.id


def test_assets_crud_metadata_transcription_and_delete(
    sdk: TwelveLabs, clock: ManualClock, videos: dict[str, Path]
) -> None:
    with videos["concert"].open("rb") as handle:
        asset = sdk.assets.create(
            method="direct",
            file=handle,
            filename="Concert Night.mp4",
            user_metadata=json.dumps({"venue": "harbour", "year": 2026}),
        )
    assert asset.id
    assert asset.user_metadata == {"venue": "harbour", "year": 2026}
    clock.advance(60.0)
    found = list(sdk.assets.list(filename="concert night", asset_types=["video"], page_limit=1))
    assert [a.id for a in found] == [asset.id]
    detail = sdk.assets.retrieve(asset.id)
    assert (detail.status, detail.file_type, detail.duration) == ("ready", "video/mp4", 12.0)
    assert detail.technical_metadata
    assert detail.technical_metadata.video_width == 640
    assert detail.hls
    assert detail.hls.manifest_url
    sdk.assets.update_user_metadata(asset.id, user_metadata={"year": None, "tags": ["live"]})
    assert sdk.assets.retrieve(asset.id).user_metadata == {"venue": "harbour", "tags": ["live"]}
    sdk.assets.replace_user_metadata(asset.id, user_metadata={"only": True})
    assert sdk.assets.retrieve(asset.id).user_metadata == {"only": True}
    sdk.assets.delete_user_metadata(asset.id)
    assert sdk.assets.retrieve(asset.id).user_metadata is None
    transcript = sdk.assets.retrieve_transcription(asset.id, include=["words", "utterances"])
    assert transcript.status == "ready"
    assert [u.value for u in transcript.utterances or []] == LINES["concert"]
    assert transcript.words
    assert transcript.words[0].value == "The"
    index_id = marengo_index(sdk)
    indexed = sdk.indexes.indexed_assets.create(index_id=index_id, asset_id=asset.id)
    with pytest.raises(ConflictError):
        sdk.assets.delete(asset.id)
    users = list(sdk.indexes.indexed_assets.list_by_asset(asset.id))
    assert [(u.id, u.index.id if u.index else None) for u in users] == [(indexed.id, index_id)]
    sdk.assets.delete(asset.id, force=True)
    with pytest.raises(NotFoundError):
        sdk.assets.retrieve(asset.id)


def test_indexed_assets_list_filters_and_update(
    sdk: TwelveLabs, clock: ManualClock, videos: dict[str, Path]
) -> None:
    asset = sdk.assets.create(method="url", url=videos["beach"].as_uri())
    assert asset.id
    clock.advance(60.0)
    index_id = marengo_index(sdk)
    news = sdk.indexes.indexed_assets.create(
        index_id=index_id, asset_id=asset.id, user_metadata={"category": "news"}
    )
    sdk.indexes.indexed_assets.create(
        index_id=index_id, asset_id=asset.id, user_metadata={"category": "sport"}
    )
    clock.advance(600.0)
    # The SDK sends ?user_metadata[category]=news; the emulator also takes ?category=news.
    hits = sdk.indexes.indexed_assets.list(index_id, user_metadata={"category": "news"})
    assert [i.id for i in hits] == [news.id]
    ready = sdk.indexes.indexed_assets.list(index_id, status=["ready"], duration={"gte": 10})
    assert len(list(ready)) == 2
    assert news.id
    sdk.indexes.indexed_assets.update(index_id, news.id, user_metadata={"category": "politics"})
    detail = sdk.indexes.indexed_assets.retrieve(
        index_id, news.id, embedding_option=["visual"], transcription=True
    )
    assert detail.user_metadata == {"category": "politics"}
    assert detail.embedding
    assert detail.transcription
    sdk.indexes.indexed_assets.delete(index_id, news.id)
    assert [i.id for i in sdk.indexes.indexed_assets.list(index_id)] != [news.id]


@pytest.mark.slow
def test_the_multipart_helper_uploads_a_large_file(
    sdk: TwelveLabs,
    clock: ManualClock,
    videos: dict[str, Path],
    tmp_path: Path,
    sessions: list[dict[str, Any]],
) -> None:
    big = tmp_path / "big.mp4"
    big.write_bytes(videos["beach"].read_bytes())
    with big.open("r+b") as handle:
        handle.truncate(300 * 1024 * 1024)  # a real video, then zeros (the MP4 still plays)
    progress: list[float] = []
    result = sdk.multipart_upload.upload_file(
        big, batch_size=10, progress_callback=lambda p: progress.append(p.percentage)
    )
    session = sessions[-1]
    assert session["total_chunks"] == 75
    assert len(session["upload_urls"]) < session["total_chunks"]
    assert result.asset_id == session["asset_id"]
    assert result.asset_url
    assert progress[-1] == 100.0
    status = sdk.multipart_upload.wait_for_upload_completion(
        session["upload_id"], sleep_interval=0.001
    )
    assert (status.status, status.completed_chunks, status.total_chunks) == ("completed", 75, 75)
    assert sdk.assets.retrieve(result.asset_id).status == "processing"
    clock.advance(600.0)
    asset = sdk.assets.retrieve(result.asset_id)
    assert (asset.status, asset.size, asset.duration) == ("ready", big.stat().st_size, 12.0)
    assert not (tmp_path / "big_chunks").exists()  # the helper cleaned up after itself


def test_the_raw_multipart_calls_with_a_fresh_url(
    sdk: TwelveLabs, server: Emulator, videos: dict[str, Path]
) -> None:
    data = videos["concert"].read_bytes()
    data += b"\0" * (2 * CHUNK + 1000 - len(data))  # three chunks
    session = sdk.multipart_upload.create(
        filename="concert.mp4",
        type="video",
        total_size=len(data),
        enable_hls=True,
        user_metadata={"source": "raw"},
    )
    assert session.upload_id
    assert session.chunk_size == CHUNK
    assert session.total_chunks == 3
    given = {u.chunk_index: u.url for u in session.upload_urls or []}
    parts = {n: data[(n - 1) * CHUNK : n * CHUNK] for n in (1, 2, 3)}
    etags = {}
    for n in (1, 2, 3):
        url = given[n]
        assert url
        answer = httpx.put(url, content=parts[n], headers=session.upload_headers or {})
        etags[n] = answer.headers["etag"].strip('"')
    # A chunk sent again needs a fresh URL: the first one was single use.
    assert httpx.put(given[2] or "", content=parts[2]).status_code == 403
    fresh = sdk.multipart_upload.get_additional_presigned_urls(session.upload_id, start=2, count=1)
    assert fresh.upload_urls
    assert fresh.upload_urls[0].url
    answer = httpx.put(fresh.upload_urls[0].url, content=parts[2])
    etags[2] = answer.headers["etag"].strip('"')
    incomplete = [u.upload_id for u in sdk.multipart_upload.list_incomplete_uploads()]
    assert session.upload_id in incomplete

    def report(*numbers: int) -> Any:
        return sdk.multipart_upload.report_chunk_batch(
            session.upload_id,
            completed_chunks=[
                {
                    "chunk_index": n,
                    "proof": etags[n],
                    "proof_type": "etag",
                    "chunk_size": len(parts[n]),
                }
                for n in numbers
            ],
        )

    partial = report(3, 1)
    assert (partial.url, partial.processed_chunks, partial.total_completed) == (None, 2, 2)
    chunks = list(sdk.multipart_upload.get_status(session.upload_id, page_limit=2))
    assert [(c.index, c.status) for c in chunks] == [
        (1, "completed"),
        (2, "pending"),
        (3, "completed"),
    ]
    final = report(2, 3)
    assert (final.processed_chunks, final.duplicate_chunks, final.total_completed) == (1, 1, 3)
    assert final.url
    assert sdk.multipart_upload.wait_for_upload_completion(session.upload_id).status == "completed"
    server.advance(600.0)
    asset = sdk.assets.retrieve(session.asset_id or "")
    assert (asset.status, asset.user_metadata, asset.method) == (
        "ready",
        {"source": "raw"},
        "multipart",
    )
    assert asset.hls
    assert httpx.get(asset.hls.manifest_url or "").content == data
