"""Bring media given by URL or base64 onto disk, without the internet.

The emulator has no network: ``video_url`` may be a ``file://`` URL or an ``http(s)`` URL on a
loopback host; anything else is answered with a 400 that says so.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import anyio.to_thread
import httpx

from .errors import Invalid

__all__ = ["decode_base64", "fetch_url", "is_loopback_host"]

_CHUNK = 1024 * 1024


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` names this machine (``localhost``, ``127.0.0.0/8``, ``::1``).

    Example:
        >>> is_loopback_host("127.0.0.1"), is_loopback_host("example.org")
        (True, False)
    """
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _too_large(name: str, max_bytes: int) -> Invalid:
    return Invalid(
        None,
        f"The file {name!r} is too large: the limit is {max_bytes} bytes.",
        code="video_filesize_too_large",
    )


def _url_filename(url: str) -> str:
    return os.path.basename(unquote(urlparse(url).path)) or "video"


def _new_file(dest_dir: Path) -> Path:
    fd, path = tempfile.mkstemp(dir=dest_dir, prefix="fetch-")
    os.close(fd)
    return Path(path)


async def fetch_url(
    url: str, *, dest_dir: Path, max_bytes: int, field: str = "video_url"
) -> tuple[Path, str]:
    """Copy the media at ``url`` to a new file in ``dest_dir``; return (path, filename).

    Raises:
        Invalid: For a non-local URL, a missing file, an HTTP error or a too-large file.

    Example:
        >>> path, name = await fetch_url("file:///tmp/a.mp4", dest_dir=Path("/tmp"),
        ...                              max_bytes=2**31)  # doctest: +SKIP
    """
    parsed = urlparse(url.strip())
    if parsed.scheme == "file":
        return await _copy_local(Path(url2pathname(parsed.path)), dest_dir, max_bytes, field)
    if parsed.scheme in ("http", "https") and is_loopback_host(parsed.hostname):
        return await _download(url.strip(), dest_dir, max_bytes, field)
    raise Invalid(
        field,
        f"The emulator has no internet access: {field} must be a file:// URL or an http(s) "
        f"URL on a loopback host (localhost, 127.0.0.1, ::1); got {url!r}.",
    )


def _copy_file(source: Path, dest_dir: Path, max_bytes: int, field: str) -> Path:
    if not source.is_file():
        raise Invalid(field, f"The {field} {str(source)!r} names no file.")
    if source.stat().st_size > max_bytes:
        raise _too_large(source.name, max_bytes)
    target = _new_file(dest_dir)
    shutil.copyfile(source, target)
    return target


async def _copy_local(source: Path, dest_dir: Path, max_bytes: int, field: str) -> tuple[Path, str]:
    target = await anyio.to_thread.run_sync(_copy_file, source, dest_dir, max_bytes, field)
    return target, source.name


async def _download(url: str, dest_dir: Path, max_bytes: int, field: str) -> tuple[Path, str]:
    target = _new_file(dest_dir)
    client = httpx.AsyncClient(timeout=60.0, follow_redirects=True)
    try:
        async with client, client.stream("GET", url) as response:
            if response.status_code != 200:
                raise Invalid(
                    field, f"Could not fetch {field} {url!r}: HTTP {response.status_code}."
                )
            await _save_stream(response, target, max_bytes, _url_filename(url))
    except httpx.HTTPError as exc:
        target.unlink(missing_ok=True)
        message = f"Could not fetch {field} {url!r}: {exc}."
        raise Invalid(field, message) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target, _url_filename(url)


async def _save_stream(response: httpx.Response, target: Path, max_bytes: int, name: str) -> None:
    size = 0
    with target.open("wb") as out:
        async for chunk in response.aiter_bytes(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(name, max_bytes)
            out.write(chunk)


def decode_base64(data: str, *, dest_dir: Path, max_bytes: int, name: str = "media") -> Path:
    """Decode a base64 string (a ``data:`` URL prefix is allowed) into a new file.

    Raises:
        Invalid: When the text is not base64 or decodes to more than ``max_bytes``.

    Example:
        >>> path = decode_base64("aGVsbG8=", dest_dir=Path("/tmp"), max_bytes=100)  # doctest: +SKIP
        >>> path.read_bytes()  # doctest: +SKIP
        b'hello'
    """
    payload = data.split(",", 1)[1] if data.startswith("data:") else data
    if len(payload) * 3 // 4 > max_bytes:
        raise _too_large(name, max_bytes)
    try:
        raw = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(name, f"The {name} is not valid base64.") from exc
    target = _new_file(dest_dir)
    target.write_bytes(raw)
    return target
