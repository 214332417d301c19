"""Write small sample sound files and images (tests, the demo and notebooks use them).

Example:
    >>> import tempfile, pathlib
    >>> out = make_sample_image(pathlib.Path(tempfile.mkdtemp()) / "flag.png", ["red", "blue"])
    >>> out.read_bytes()[:4]
    b'\\x89PNG'
"""

from __future__ import annotations

import math
import os
import pathlib
from collections.abc import Sequence
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from ._media_types import COLOURS, Colour
from ._png import png_from_pixels

__all__ = ["make_sample_audio", "make_sample_image"]

_RATE = 22_050
_FRAME = 1152  # an MP3 frame; other codecs take it too
_CODECS = {".mp3": "mp3", ".wav": "pcm_s16le", ".m4a": "aac", ".flac": "flac"}
_DEFAULT_TONES = (220.0, 330.0, 440.0, 660.0)


def make_sample_audio(
    path: str | os.PathLike[str],
    *,
    duration_s: float = 12.0,
    tones: Sequence[float] = _DEFAULT_TONES,
    volume: float = 0.3,
) -> pathlib.Path:
    """Write a sound file of sine tones in equal parts (0 Hz: silence), no picture.

    The format follows the extension: ``.mp3``, ``.wav``, ``.m4a`` or ``.flac``.

    Args:
        path: Where to write (overwritten).
        duration_s: Length in seconds.
        tones: The pitch of each part, in Hz, in order.
        volume: Peak amplitude, 0 to 1.

    Example:
        >>> import tempfile, pathlib
        >>> out = make_sample_audio(pathlib.Path(tempfile.mkdtemp()) / "a.wav", duration_s=1)
        >>> out.read_bytes()[8:12]
        b'WAVE'
    """
    out = pathlib.Path(path)
    codec = _CODECS.get(out.suffix.lower())
    if codec is None:
        raise ValueError(f"write .mp3, .wav, .m4a or .flac, not {out.suffix!r}")
    total = round(duration_s * _RATE)
    t = np.arange(total) / _RATE
    part = max(1, math.ceil(total / max(1, len(tones))))
    freq = np.repeat(np.asarray(tones, np.float64), part)[:total]
    wave = (volume * np.sin(2 * math.pi * freq * t)).astype(np.float32)
    with av.open(str(out), "w") as container:
        stream = container.add_stream(codec, rate=_RATE, layout="mono")
        fmt = stream.codec_context.format.name if stream.codec_context.format else "fltp"
        for start in range(0, total, _FRAME):
            chunk = wave[start : start + _FRAME]
            samples = _as_format(chunk, fmt)
            frame = av.AudioFrame.from_ndarray(samples[None, :], format=fmt, layout="mono")
            frame.sample_rate, frame.pts = _RATE, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out


def _as_format(chunk: NDArray[np.float32], fmt: str) -> NDArray[Any]:
    """Float samples in the encoder's sample format (``s16``, ``s32``, ``flt``...)."""
    if fmt.startswith("s16"):
        return (chunk * 32767).astype(np.int16)
    if fmt.startswith("s32"):
        return (chunk.astype(np.float64) * 2147483647).astype(np.int32)
    if fmt.startswith("dbl"):
        return chunk.astype(np.float64)
    return chunk


def make_sample_image(
    path: str | os.PathLike[str],
    colours: Sequence[Colour] = ("red",),
    *,
    size: tuple[int, int] = (64, 48),
) -> pathlib.Path:
    """Write a PNG of vertical stripes, one per colour (a name or an RGB triple in 0-255).

    Example:
        >>> import tempfile, pathlib
        >>> out = make_sample_image(pathlib.Path(tempfile.mkdtemp()) / "a.png", [(0, 0, 0)])
        >>> out.stat().st_size > 0
        True
    """
    width, height = size
    rgb = [COLOURS[c] if isinstance(c, str) else tuple(int(v) for v in c) for c in colours]
    if not rgb:
        raise ValueError("give at least one colour")
    columns = np.repeat(np.arange(len(rgb)), math.ceil(width / len(rgb)))[:width]
    pixels = np.asarray(rgb, np.uint8)[columns][None, :, :].repeat(height, axis=0)
    out = pathlib.Path(path)
    out.write_bytes(png_from_pixels(pixels))
    return out
