"""JSON shapes that several resources share: page info, HLS, segments, transcripts, times.

Route modules render their own objects; what two of them render alike lives here, so that
no route module imports another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request

from .._apierror import JSONResponse
from .._backend.embeddings import EmbedView
from .._backend.queries import Page
from .._backend.videos import Embedding, VideoView
from .._gate import CONTROL_PREFIX
from .._ids import rfc3339
from .._media import MediaInfo
from .._segments import SegmentSet
from .params import backend_of, embed_task_filter, page_request

__all__ = [
    "embed_task_head",
    "embed_task_page",
    "embedding_json",
    "hls_json",
    "media_url",
    "page_info",
    "page_json",
    "segment_json",
    "signed_url",
    "system_metadata",
    "transcription_json",
    "video_json",
]

_HLS_STATUS = {"ready": "COMPLETE", "failed": "ERROR"}
_T = TypeVar("_T")


def page_info(page: Page[Any]) -> dict[str, int]:
    """The ``page_info`` of a page-numbered list.

    Example:
        >>> from .._backend.queries import PageRequest, paginate
        >>> page_info(paginate([1, 2, 3], PageRequest(page=2, limit=2)))
        {'limit_per_page': 2, 'page': 2, 'total_page': 2, 'total_results': 3}
    """
    return {
        "limit_per_page": page.limit,
        "page": page.page,
        "total_page": page.total_pages,
        "total_results": page.total,
    }


def page_json(page: Page[_T], render: Callable[[_T], dict[str, Any]]) -> JSONResponse:
    """The answer of a page-numbered list: each item rendered, and the ``page_info``.

    Example:
        >>> from .._backend.queries import PageRequest, paginate
        >>> page = paginate([1, 2, 3], PageRequest(page=2, limit=2))
        >>> import json
        >>> json.loads(page_json(page, lambda n: {"n": n}).body)["data"]
        [{'n': 3}]
    """
    return JSONResponse({"data": [render(v) for v in page.items], "page_info": page_info(page)})


def embed_task_head(view: EmbedView, *, model: bool = True) -> dict[str, Any]:
    """What every answer about an embedding task starts with: its id, ``model_name`` (which
    the Embed v2 retrieve answer leaves out: ``model=False``), status and times.

    Example:
        >>> list(embed_task_head(view, model=False))  # doctest: +SKIP
        ['_id', 'status', 'created_at', 'updated_at']
    """
    rec = view.rec
    head: dict[str, Any] = {"_id": rec.id}
    if model:
        head["model_name"] = rec.model_name
    head["status"] = view.status
    head["created_at"] = rfc3339(rec.created_at)
    head["updated_at"] = rfc3339(view.updated_at)
    return head


def embed_task_page(
    request: Request, *, api: str, render: Callable[[EmbedView], dict[str, Any]]
) -> JSONResponse:
    """One page of embedding tasks of ``api`` (``v1`` or ``v2``), filtered by the query.

    Example:
        >>> embed_task_page(request, api="v2", render=lambda v: {"_id": v.rec.id})  # doctest: +SKIP
        <starlette.responses.JSONResponse object at ...>
    """
    query = request.query_params
    page = backend_of(request).embeddings.list(
        api=api, flt=embed_task_filter(query), page=page_request(query)
    )
    return page_json(page, render)


def signed_url(request: Request, path: str) -> str:
    """A link to ``path`` on this emulator that works without the API key (like a CDN's
    signed URL): a ``<video>`` tag or a download tool can follow it.

    Example:
        >>> signed_url(request, "/_emulator/media/abc")  # doctest: +SKIP
        'http://127.0.0.1:8765/_emulator/media/abc?sig=5f0c...'
    """
    signature = request.app.state.emulator.backend.store.sign(path)
    return f"{str(request.base_url).rstrip('/')}{path}?sig={signature}"


def media_url(request: Request, owner_id: str) -> str:
    """Where the emulator serves a stored media file (a video's or an asset's), signed.

    Example:
        >>> media_url(request, "abc")  # doctest: +SKIP
        'http://127.0.0.1:8765/_emulator/media/abc?sig=5f0c...'
    """
    return signed_url(request, f"{CONTROL_PREFIX}/media/{owner_id}")


def hls_json(request: Request, video_id: str, *, status: str, updated_at: float) -> dict[str, Any]:
    """The ``hls`` object of a video or task; ``video_url`` serves the original file.

    Example:
        >>> hls_json(request, "v", status="ready", updated_at=0.0)["status"]  # doctest: +SKIP
        'COMPLETE'
    """
    return {
        "video_url": media_url(request, video_id),
        "thumbnail_urls": [],
        "status": _HLS_STATUS.get(status, "PROCESSING"),
        "updated_at": rfc3339(updated_at),
    }


def system_metadata(info: MediaInfo | None, *, with_size: bool) -> dict[str, Any]:
    """``system_metadata`` of a video: filename, duration, fps, width, height (and size).

    Example:
        >>> system_metadata(None, with_size=True)
        {'filename': None}
    """
    if info is None:
        return {"filename": None}
    data: dict[str, Any] = {
        "filename": info.filename,
        "duration": round(info.duration_s, 3),
        "fps": round(info.fps, 3),
        "width": info.width,
        "height": info.height,
    }
    if with_size:
        data["size"] = info.size_bytes
    return data


def segment_json(segments: SegmentSet, rows: list[int]) -> list[dict[str, Any]]:
    """Embed API v1 segment objects (``float``, ``start_offset_sec`` ...) for the given rows.

    Example:
        >>> segment_json(SegmentSet.empty(dim=4), [])
        []
    """
    return [
        {
            "start_offset_sec": float(segments.start_s[i]),
            "end_offset_sec": float(segments.end_s[i]),
            "embedding_scope": segments.scope[i],
            "embedding_option": segments.option[i],
            "float": segments.vectors[i],
        }
        for i in rows
    ]


def transcription_json(info: MediaInfo | None) -> list[dict[str, Any]]:
    """``[{start, end, value}]`` from the subtitle track (empty without one).

    Example:
        >>> transcription_json(None)
        []
    """
    utterances = info.utterances if info is not None else ()
    return [{"start": u.start_s, "end": u.end_s, "value": u.text} for u in utterances]


def video_json(view: VideoView, *, with_size: bool) -> dict[str, Any]:
    """What a video and an indexed asset share: ids, times and system metadata.

    ``indexed_at`` is null until indexing finished; ``updated_at`` is the last change.

    Example:
        >>> video_json(view, with_size=True)["system_metadata"]["size"]  # doctest: +SKIP
        1048576
    """
    video = view.rec
    return {
        "_id": video.id,
        "asset_id": video.asset_id,
        "created_at": rfc3339(video.created_at),
        "updated_at": rfc3339(view.updated_at),
        "indexed_at": rfc3339(view.indexed_at) if view.indexed_at is not None else None,
        "system_metadata": system_metadata(video.info, with_size=with_size),
    }


def embedding_json(found: Embedding) -> dict[str, Any]:
    """The ``embedding`` object of a video or an indexed asset.

    Example:
        >>> embedding_json(Embedding("marengo3.0", SegmentSet.empty(dim=2), []))
        {'model_name': 'marengo3.0', 'video_embedding': {'segments': []}}
    """
    return {
        "model_name": found.model_name,
        "video_embedding": {"segments": segment_json(found.segments, found.rows)},
    }
