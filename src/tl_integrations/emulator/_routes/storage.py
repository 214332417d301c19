"""``PUT /_upload/{upload_id}/{chunk_index}?sig=``: the presigned chunk URLs of multipart
uploads, served by the emulator itself in place of a storage provider.

Like S3, it needs no API key (the signature is the credential) and answers the chunk's MD5
as a quoted ``ETag``; the request body is streamed to disk as it arrives.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .._backend.errors import Forbidden
from .params import state_of
from .table import RouteTable

__all__ = ["routes"]


def _length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    return int(raw) if raw is not None and raw.isdigit() else None


routes = RouteTable()


@routes.route("/{upload_id}/{chunk_index:int}", "PUT")
async def put_chunk(request: Request) -> Response:
    """Store one chunk; 200 with ``ETag``, 403 for a used, expired or forged URL."""
    state = state_of(request)
    signature = request.query_params.get("sig")
    if not signature:
        raise Forbidden("The URL has no signature (sig).", code="upload_url_invalid")
    etag, size = await state.backend.uploads.write(
        request.path_params["upload_id"],
        request.path_params["chunk_index"],
        signature,
        request.stream(),
        length=_length(request),
    )
    with state.lock:
        state.stats.bytes_received += size
        state.stats.chunks += 1
    return Response(status_code=200, headers={"ETag": f'"{etag}"'})
