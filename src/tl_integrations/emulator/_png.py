"""Encode solid-colour PNG images (for thumbnails and test images), with only zlib."""

from __future__ import annotations

import struct
import zlib

__all__ = ["png_bytes"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(rgb: tuple[int, int, int], *, width: int = 160, height: int = 90) -> bytes:
    """A ``width`` x ``height`` PNG filled with one 8-bit RGB colour.

    Example:
        >>> png_bytes((200, 30, 30), width=2, height=2)[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    if width < 1 or height < 1:
        raise ValueError(f"a PNG needs a positive size, got {width}x{height}")
    row = b"\x00" + bytes(max(0, min(255, int(c))) for c in rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return (
        _SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * height))
        + _chunk(b"IEND", b"")
    )
