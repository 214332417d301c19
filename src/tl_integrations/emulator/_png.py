"""Encode PNG images (thumbnails, video frames and test images), with only zlib."""

from __future__ import annotations

import struct
import zlib

import numpy as np
from numpy.typing import NDArray

__all__ = ["png_bytes", "png_image"]

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
    return _encode(width, height, row * height)


def png_image(pixels: NDArray[np.uint8]) -> bytes:
    """A PNG of an ``(height, width, 3)`` array of 8-bit RGB pixels.

    Example:
        >>> png_image(np.zeros((2, 3, 3), np.uint8))[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise ValueError(f"a PNG needs (height, width, 3) pixels, got shape {pixels.shape}")
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    rows = np.zeros((height, 1 + 3 * width), np.uint8)  # each row starts with filter 0
    rows[:, 1:] = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(height, 3 * width)
    return _encode(width, height, rows.tobytes())


def _encode(width: int, height: int, rows: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return (
        _SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )
