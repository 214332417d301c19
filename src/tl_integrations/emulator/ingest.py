"""From a request to probed media on disk: uploads, URLs, base64, existing assets."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread

from .apierror import ApiError
from .fetch import decode_base64, fetch_url
from .media import MediaInfo
from .multipart import Form
from .state import EmulatorState
from .validation import check_media, probe_media

__all__ = ["Upload", "probe_upload", "upload_from_form", "upload_from_source"]


@dataclass
class Upload:
    """Media received for one request, in the upload directory until it is kept.

    Example:
        >>> Upload(Path("/tmp/x"), "a.mp4", None).input_url is None
        True
    """

    path: Path
    filename: str
    input_url: str | None
    owned: bool = True

    def discard(self) -> None:
        """Delete the file unless it belongs to an existing video."""
        if self.owned:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def metadata(self) -> dict[str, str]:
        """``{"input_url": ...}`` or ``{"input_filename": ...}`` for task metadata."""
        if self.input_url is not None:
            return {"input_url": self.input_url}
        return {"input_filename": self.filename}


async def upload_from_form(
    state: EmulatorState,
    form: Form,
    *,
    file_field: str = "video_file",
    url_field: str = "video_url",
) -> Upload:
    """The media of a multipart request; the URL wins when both are sent (as documented).

    Raises:
        ApiError: 400 ``parameter_not_provided`` when neither is present, or a fetch error.
    """
    url = form.get(url_field)
    part = form.file(file_field)
    if url:
        path, name = await fetch_url(
            url,
            dest_dir=state.persistence.uploads_dir,
            max_bytes=state.config.media.max_file_size_bytes,
            field=url_field,
        )
        return Upload(path, name, url)
    if part is not None:
        # Detach the part from the form so its cleanup does not delete the kept file.
        form.files[file_field].remove(part)
        return Upload(part.path, part.filename or "video", None)
    raise ApiError(
        400,
        "parameter_not_provided",
        f"Provide the video as {file_field} (a file) or {url_field} (a URL).",
    )


async def upload_from_source(
    state: EmulatorState, source: Any, *, field: str = "media_source"
) -> Upload:
    """The media of a JSON ``media_source``/``video`` object: url, base64_string or asset_id."""
    if not isinstance(source, dict):
        raise ApiError(
            400, "parameter_invalid", f"{field} must be an object.", details={"field": field}
        )
    limits = state.config.media
    if source.get("url"):
        url = str(source["url"])
        path, name = await fetch_url(
            url,
            dest_dir=state.persistence.uploads_dir,
            max_bytes=limits.max_file_size_bytes,
            field=f"{field}.url",
        )
        return Upload(path, name, url)
    if source.get("base64_string"):
        path = decode_base64(
            str(source["base64_string"]),
            dest_dir=state.persistence.uploads_dir,
            max_bytes=limits.max_base64_bytes,
            name=f"{field}.base64_string",
        )
        return Upload(path, "media", None)
    if source.get("asset_id"):
        video = state.find_video(str(source["asset_id"]))
        name = video.info.filename if video.info is not None else "video"
        return Upload(state.persistence.root / video.media_path, name, None, owned=False)
    raise ApiError(
        400,
        "parameter_not_provided",
        f"{field} needs exactly one of url, base64_string or asset_id.",
        details={"field": field},
    )


async def probe_upload(state: EmulatorState, upload: Upload, *, picture: bool = True) -> MediaInfo:
    """Probe in a worker thread and apply the media rules; discards the file on failure."""
    try:
        info = await anyio.to_thread.run_sync(
            lambda: probe_media(upload.path, filename=upload.filename)
        )
        check_media(info, state.config.media, picture=picture)
    except ApiError:
        upload.discard()
        raise
    return info
