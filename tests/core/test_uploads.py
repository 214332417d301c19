"""Uploads are validated up front and streamed from disk, never read into memory."""

from __future__ import annotations

import io
import pathlib
import tracemalloc

import httpx
import pytest

from tl_integrations import InvalidVideoError, ServerError, TwelveLabs
from tl_integrations._uploads import video_source

from .fakeapi import API_KEY, BASE_URL, AfterHandling, FakeTwelveLabs

SIZE = 24 * 1024 * 1024


class CountingTransport(httpx.BaseTransport):
    """Consumes the request body chunk by chunk, keeping only the chunk sizes."""

    def __init__(self) -> None:
        self.chunks: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for chunk in request.stream:  # type: ignore[union-attr]
            self.chunks.append(len(chunk))
        return httpx.Response(200, json={"_id": "t1", "video_id": "v1"})


def test_a_large_upload_is_streamed_in_chunks(tmp_path: pathlib.Path) -> None:
    video = tmp_path / "big.mp4"
    with video.open("wb") as handle:
        handle.truncate(SIZE)  # sparse: no memory or disk spent making it
    transport = CountingTransport()
    with TwelveLabs(
        api_key=API_KEY, base_url=BASE_URL, http_client=httpx.Client(transport=transport)
    ) as client:
        tracemalloc.start()
        try:
            client.tasks.create(index_id="i1", file=video)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        client._http.close()
    assert sum(transport.chunks) > SIZE
    assert max(transport.chunks) <= 64 * 1024
    assert len(transport.chunks) >= SIZE // (64 * 1024)
    assert peak < SIZE / 8, f"peak {peak} bytes: the file was buffered"


def test_content_length_is_known_without_reading(tmp_path: pathlib.Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"z" * 1000)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"_id": "t1", "video_id": "v1"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with TwelveLabs(api_key=API_KEY, base_url=BASE_URL, http_client=http) as client:
        client.tasks.create(index_id="i1", file=video)
    assert int(seen[0].headers["content-length"]) > 1000
    assert seen[0].headers["content-type"].startswith("multipart/form-data")
    http.close()


def test_too_large_and_text_mode(tmp_path: pathlib.Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"z" * 100)
    with pytest.raises(InvalidVideoError, match="limited to") as info:
        video_source(video, max_bytes=10)
    assert "v.mp4" in str(info.value)
    with video.open("r") as text, pytest.raises(InvalidVideoError, match="'rb'"):
        video_source(text)  # type: ignore[arg-type]
    with pytest.raises(InvalidVideoError, match="empty"):
        video_source(io.BytesIO(b""))


def test_a_sparse_2gb_plus_file_is_refused_before_sending(
    tmp_path: pathlib.Path, api: FakeTwelveLabs
) -> None:
    video = tmp_path / "huge.mp4"
    with video.open("wb") as handle:
        handle.truncate(2 * 1024**3 + 1)
    with api.client() as client, pytest.raises(InvalidVideoError, match="2 GB"):
        client.tasks.create(index_id="i1", file=video)
    assert api.requests == []


class _Pipe(io.RawIOBase):
    """A readable stream that cannot seek, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_non_seekable_stream_is_sent_once_only(api: FakeTwelveLabs) -> None:
    index_id = api.add_index()
    api.fail("POST", "/tasks", httpx.Response(503))
    with api.client() as client, pytest.raises(ServerError):
        client.tasks.create(index_id=index_id, file=_Pipe(b"data" * 10))  # type: ignore[arg-type]
    assert api.count("POST", "/tasks") == 1


def test_each_retry_resends_the_whole_file(api: FakeTwelveLabs, tmp_path: pathlib.Path) -> None:
    index_id = api.add_index()
    video = tmp_path / "v.mp4"
    video.write_bytes(b"q" * 5000)
    api.fail("POST", "/tasks", AfterHandling(httpx.Response(500)))
    api.uploads.clear()
    with video.open("rb") as handle, api.client() as client:
        handle.seek(1234)
        client.tasks.create(index_id=index_id, file=handle)
    assert api.uploads == [5000]
