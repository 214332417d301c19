"""Read an image's declared size from its header, decoding nothing.

A small compressed file can declare a huge picture (a 2 MB PNG of 16000x16000 pixels
decodes to gigabytes), and FFmpeg decodes the first picture while it merely *opens* an
image. So the size an image declares is read here first, from the bytes of its header,
and an image over :data:`MAX_IMAGE_PIXELS` is refused before PyAV ever sees it.

The formats the API takes for images are read: PNG (and APNG), JPEG, GIF, WebP, BMP and
TIFF. Other files give None here; for them :mod:`._probe` still bounds what FFmpeg may
decode (its ``max_pixels`` option).
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from ._media_types import MediaError

__all__ = [
    "ANALYZE_IMAGE_PIXELS",
    "MAX_IMAGE_PIXELS",
    "check_image_pixels",
    "declared_image_size",
]

#: The API documents no pixel limit for image assets or embeddings (only 32 MB files), so
#: the emulator picks a generous one: 8192 x 8192 pixels (67,108,864), far above any
#: documented picture limit, and small enough that decoding stays in the hundreds of MB.
MAX_IMAGE_PIXELS = 8192 * 8192
#: Analysis images: "≤ 20 MB and ≤ 16,777,216 px each" (``types/analyze_image_input.py``).
ANALYZE_IMAGE_PIXELS = 16_777_216

_JPEG_SOF = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_JPEG_MAX_SEGMENTS = 4096
_TIFF_MAX_ENTRIES = 4096


def declared_image_size(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """The (width, height) an image's header declares, or None when the file is not a PNG,
    JPEG, GIF, WebP, BMP or TIFF image whose header can be read.

    Reads a few bytes (a JPEG: its segment headers up to the frame header); decodes nothing.

    Example:
        >>> import pathlib, tempfile
        >>> from tl_integrations.emulator._png import png_bytes
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.png"
        >>> _ = path.write_bytes(png_bytes((1, 2, 3), width=40, height=30))
        >>> declared_image_size(path)
        (40, 30)
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(32)
            return _declared(handle, head)
    except (OSError, struct.error, ValueError):
        return None


def check_image_pixels(
    path: str | os.PathLike[str], name: str, *, limit: int = MAX_IMAGE_PIXELS
) -> None:
    """Refuse an image whose header declares more than ``limit`` pixels, before decoding.

    A file whose header cannot be read passes (it is not one of the image formats read
    here; decoding it later is bounded separately).

    Raises:
        MediaError: ``code="parameter_invalid"``, naming the size found and the limit.

    Example:
        >>> import pathlib, tempfile
        >>> from tl_integrations.emulator._png import png_bytes
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "big.png"
        >>> _ = path.write_bytes(png_bytes((1, 2, 3), width=300, height=200))
        >>> try:
        ...     check_image_pixels(path, "big.png", limit=10_000)
        ... except MediaError as exc:
        ...     print(exc)
        big.png: the image declares 300x200 = 60000 pixels; at most 10000 are accepted
    """
    size = declared_image_size(path)
    if size is None:
        return
    width, height = size
    if width * height > limit:
        reason = (
            "the API's limit for analysis images"
            if limit == ANALYZE_IMAGE_PIXELS
            else "the emulator's own cap, as the API documents no pixel limit here"
            if limit == MAX_IMAGE_PIXELS
            else ""
        )
        raise MediaError(
            f"{name}: the image declares {width}x{height} = {width * height} pixels; at most "
            f"{limit} are accepted" + (f" ({reason})" if reason else ""),
            code="parameter_invalid",
        )


def _declared(handle: BinaryIO, head: bytes) -> tuple[int, int] | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        return width, height
    if head[:6] in (b"GIF87a", b"GIF89a"):
        width, height = struct.unpack("<HH", head[6:10])
        return width, height
    if head.startswith(b"BM"):
        return _bmp(head)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(head)
    if head[:3] == b"\xff\xd8\xff":
        return _jpeg(handle)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff(handle, head)
    return None


def _bmp(head: bytes) -> tuple[int, int] | None:
    (dib_size,) = struct.unpack("<I", head[14:18])
    if dib_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack("<HH", head[18:22])
        return width, height
    width, height = struct.unpack("<ii", head[18:26])
    return abs(width), abs(height)  # a negative height means top-down rows


def _webp(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X":  # canvas size minus one, 24 bits each
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _jpeg(handle: BinaryIO) -> tuple[int, int] | None:
    handle.seek(2)
    for _ in range(_JPEG_MAX_SEGMENTS):
        marker = handle.read(2)
        while len(marker) == 2 and marker[0] == 0xFF and marker[1] == 0xFF:  # fill bytes
            marker = marker[1:] + handle.read(1)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        kind = marker[1]
        if kind == 0x01 or 0xD0 <= kind <= 0xD7:  # markers without a length
            continue
        if kind in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            return None
        (length,) = struct.unpack(">H", handle.read(2))
        if kind in _JPEG_SOF:
            _precision, height, width = struct.unpack(">BHH", handle.read(5))
            # A height of 0 is set later (DNL marker): count it as the largest possible.
            return width, height or 0xFFFF
        handle.seek(length - 2, os.SEEK_CUR)
    return None


def _tiff(handle: BinaryIO, head: bytes) -> tuple[int, int] | None:
    order = "<" if head[:2] == b"II" else ">"
    (first_ifd,) = struct.unpack(order + "I", head[4:8])
    handle.seek(first_ifd)
    (count,) = struct.unpack(order + "H", handle.read(2))
    found: dict[int, int] = {}
    for _ in range(min(count, _TIFF_MAX_ENTRIES)):
        tag, kind, _n, value = struct.unpack(order + "HHI4s", handle.read(12))
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT or LONG
            fmt = "H" if kind == 3 else "I"
            (found[tag],) = struct.unpack(order + fmt, value[: struct.calcsize(fmt)])
    if 256 in found and 257 in found:
        return found[256], found[257]
    return None
