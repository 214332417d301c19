"""Encode PNG images (solid-colour thumbnails, and test images from pixels), with only zlib."""

from __future__ import annotations

import struct
import zlib
from typing import Any

__all__ = ["png_bytes", "png_from_pixels"]

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


def png_from_pixels(pixels: Any) -> bytes:
    """A PNG of an ``(height, width, 3)`` array of 8-bit RGB pixels.

    Example:
        >>> import numpy as np
        >>> png_from_pixels(np.zeros((2, 3, 3), np.uint8))[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    import numpy as np

    image = np.asarray(pixels, dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
        raise ValueError(f"pixels must be (height, width, 3), got {image.shape}")
    height, width = image.shape[:2]
    rows = np.concatenate([np.zeros((height, 1), np.uint8), image.reshape(height, -1)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return (
        _SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes()))
        + _chunk(b"IEND", b"")
    )
