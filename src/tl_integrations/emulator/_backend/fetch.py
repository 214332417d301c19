"""Bring media given by URL or base64 onto disk, without the internet.

The emulator has no network: a media URL may be an ``http(s)`` URL on a loopback host, or a
``file://`` URL inside a directory the emulator was told to read (``file_dirs``); anything
else is answered with a 400 that says so. Redirects are followed only while they stay on
loopback hosts, so a local server cannot send the emulator elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse
from urllib.request import url2pathname

import anyio.to_thread
import httpx

from .._config import host_name, is_loopback
from .errors import Invalid
from .formats import has_control_characters

__all__ = ["decode_base64", "fetch_url", "is_loopback_host"]

_CHUNK = 1024 * 1024
_MAX_REDIRECTS = 5
# Read a local file itself, never through a link swapped in (0 where the flag is unknown); a
# FIFO named by the URL must not block the open.
_OPEN_LOCAL = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` names this machine (``localhost``, ``127.0.0.0/8``, ``::1``).

    Example:
        >>> is_loopback_host("127.0.0.1"), is_loopback_host("example.org")
        (True, False)
    """
    return bool(host) and is_loopback(host_name(host or ""))


def _too_large(name: str, max_bytes: int) -> Invalid:
    return Invalid(
        None,
        f"The file {name!r} is too large: the limit is {max_bytes} bytes.",
        code="video_filesize_too_large",
    )


def _url_filename(url: str) -> str:
    # "%00" or "%0A" in the path must not become a control character in a stored name.
    name = os.path.basename(unquote(urlparse(url).path))
    return "".join(c for c in name if not has_control_characters(c)) or "video"


def _new_file(dest_dir: Path) -> Path:
    fd, path = tempfile.mkstemp(dir=dest_dir, prefix="fetch-")
    os.close(fd)
    return Path(path)


async def fetch_url(
    url: str,
    *,
    dest_dir: Path,
    max_bytes: int,
    field: str = "video_url",
    file_dirs: Sequence[Path | str] = (),
) -> tuple[Path, str]:
    """Copy the media at ``url`` to a new file in ``dest_dir``; return (path, filename).

    Args:
        url: A loopback ``http(s)`` URL, or a ``file://`` URL inside ``file_dirs``.
        dest_dir: Where the copy goes.
        max_bytes: The largest file accepted.
        field: The request field named in errors.
        file_dirs: Directories ``file://`` URLs may read from (none: refused).

    Raises:
        Invalid: For a non-local URL, a file outside ``file_dirs``, a missing file, an HTTP
            error, a redirect off loopback or a too-large file.

    Example:
        >>> path, name = await fetch_url("file:///tmp/a.mp4", dest_dir=Path("/tmp"),
        ...                              max_bytes=2**31, file_dirs=["/tmp"])  # doctest: +SKIP
    """
    if has_control_characters(url):
        raise Invalid(
            field,
            f"The {field} must not contain control characters (NUL, line breaks ...); got "
            f"{url[:200]!r}.",
        )
    try:
        parsed = urlparse(url.strip())
        _ = parsed.hostname, parsed.port  # parsed now: "http://[::1", ":99999" raise here
    except ValueError as exc:
        raise Invalid(field, f"The {field} {url!r} is not a valid URL: {exc}.") from exc
    if parsed.scheme == "file":
        local = url2pathname(parsed.path)
        if has_control_characters(local):  # "%00" decodes to a NUL, which no path holds
            raise Invalid(
                field, f"The {field} {url!r} names no file: its path holds a control character."
            )
        source = _allowed_file(Path(local), file_dirs, field)
        return await _copy_local(source, file_dirs, dest_dir, max_bytes, field)
    if parsed.scheme in ("http", "https") and is_loopback_host(parsed.hostname):
        return await _download(url.strip(), dest_dir, max_bytes, field)
    raise Invalid(
        field,
        f"The emulator has no internet access: {field} must be an http(s) URL on a loopback "
        f"host (localhost, 127.0.0.1, ::1), or a file:// URL in a directory it may read "
        f"(--allow-file-dir); got {url!r}.",
    )


def _outside(source: Path, allowed: Sequence[Path], field: str) -> Invalid:
    shown = ", ".join(str(d) for d in allowed)
    return Invalid(
        field,
        f"The {field} {str(source)!r} is outside the directories the emulator may read "
        f"({shown}); move the file there or upload it.",
    )


def _allowed_file(source: Path, file_dirs: Sequence[Path | str], field: str) -> Path:
    """The real path of a ``file://`` source, if it lies inside an allowed directory."""
    if not file_dirs:
        raise Invalid(
            field,
            f"The emulator reads no local files by URL: {field} {str(source)!r} is a file:// "
            "URL. Upload the file itself, serve it over http on loopback, or start the "
            "emulator with --allow-file-dir DIR (EmulatorConfig(file_dirs=[DIR])).",
        )
    real = Path(os.path.realpath(source))  # symlinks and ".." cannot lead out
    allowed = [Path(os.path.realpath(d)) for d in file_dirs]
    if not any(real.is_relative_to(d) for d in allowed):
        raise _outside(source, allowed, field)
    return real


def _opened_path(fd: int, checked: Path) -> Path | None:
    """Where the file open as ``fd`` is (None when that cannot be told)."""
    proc = f"/proc/self/fd/{fd}"
    if os.path.islink(proc):  # Linux: the kernel's own path of what was opened
        return Path(os.readlink(proc))
    # Elsewhere: the checked name must still lead to the very file that was opened.
    try:
        again = Path(os.path.realpath(checked))
        same = os.path.samestat(os.stat(again), os.fstat(fd))
    except OSError:
        return None
    return again if same else None


def _open_allowed(real: Path, file_dirs: Sequence[Path | str], field: str) -> int:
    """Open the checked ``real`` path of a ``file://`` source and check what was opened, not
    the name: a file (or a directory above it) swapped for a link between the check and the
    open cannot lead out of the allowed directories."""
    allowed = [Path(os.path.realpath(d)) for d in file_dirs]
    try:
        fd = os.open(real, _OPEN_LOCAL)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise Invalid(field, f"The {field} {str(real)!r} names no file ({reason}).") from exc
    try:
        opened = _opened_path(fd, real)
        if opened is None or not any(opened.is_relative_to(d) for d in allowed):
            raise _outside(real, allowed, field)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Invalid(field, f"The {field} {str(real)!r} names no file.")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _copy_file(
    source: Path, file_dirs: Sequence[Path | str], dest_dir: Path, max_bytes: int, field: str
) -> Path:
    with os.fdopen(_open_allowed(source, file_dirs, field), "rb") as handle:
        if os.fstat(handle.fileno()).st_size > max_bytes:
            raise _too_large(source.name, max_bytes)
        target = _new_file(dest_dir)
        try:
            size = 0
            with target.open("wb") as out:
                while chunk := handle.read(_CHUNK):  # from the open file, not by name
                    size += len(chunk)
                    if size > max_bytes:
                        raise _too_large(source.name, max_bytes)
                    out.write(chunk)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    return target


async def _copy_local(
    source: Path, file_dirs: Sequence[Path | str], dest_dir: Path, max_bytes: int, field: str
) -> tuple[Path, str]:
    target = await anyio.to_thread.run_sync(
        _copy_file, source, file_dirs, dest_dir, max_bytes, field
    )
    return target, source.name


async def _download(url: str, dest_dir: Path, max_bytes: int, field: str) -> tuple[Path, str]:
    target = _new_file(dest_dir)
    client = httpx.AsyncClient(timeout=60.0, follow_redirects=False)
    try:
        async with client:
            response = await _follow(client, url, field)
            try:
                if response.status_code != 200:
                    raise Invalid(
                        field, f"Could not fetch {field} {url!r}: HTTP {response.status_code}."
                    )
                await _save_stream(response, target, max_bytes, _url_filename(url))
            finally:
                await response.aclose()
    except httpx.HTTPError as exc:
        target.unlink(missing_ok=True)
        message = f"Could not fetch {field} {url!r}: {exc}."
        raise Invalid(field, message) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target, _url_filename(url)


async def _follow(client: httpx.AsyncClient, url: str, field: str) -> httpx.Response:
    """GET ``url`` (streamed), following redirects only while they stay on loopback."""
    for _ in range(_MAX_REDIRECTS + 1):
        response = await client.send(client.build_request("GET", url), stream=True)
        location = response.headers.get("location")
        if not response.is_redirect or location is None:
            return response
        await response.aclose()
        url = urljoin(url, location)
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not is_loopback_host(parsed.hostname):
            raise Invalid(
                field,
                f"The {field} redirects to {url!r}, off this machine: the emulator follows "
                "redirects only to loopback hosts.",
            )
    raise Invalid(field, f"The {field} redirects more than {_MAX_REDIRECTS} times.")


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
