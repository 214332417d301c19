"""The media rules: probe an upload and check it against the configured limits.

Each failure is an :class:`Invalid` carrying the API's error code and a message that states
the rule and the value found.
"""

from __future__ import annotations

from pathlib import Path

from .._config import MediaLimits
from .._media import MediaError, MediaInfo, probe
from .errors import Invalid

__all__ = ["check_media", "probe_media"]


def probe_media(path: Path, *, filename: str) -> MediaInfo:
    """Probe a file; an unreadable one becomes a 400 ``video_file_broken``.

    Example:
        >>> probe_media(Path("notes.txt"), filename="notes.txt")  # doctest: +SKIP
        Traceback (most recent call last):
        Invalid: The video file 'notes.txt' is broken or not a video: ...
    """
    try:
        return probe(path, filename=filename)
    except MediaError as exc:
        raise Invalid(
            None, f"The video file {filename!r} is broken or not a video: {exc}", code=exc.code
        ) from exc


def _fail(code: str, message: str) -> Invalid:
    return Invalid(None, message, code=code)


def check_media(info: MediaInfo, limits: MediaLimits, *, picture: bool = True) -> None:
    """Raise the first rule ``info`` breaks (duration, size, then resolution and aspect).

    Args:
        info: The probed media.
        limits: The rules.
        picture: Check resolution and aspect ratio (False for audio inputs).

    Example:
        >>> check_media(info, MediaLimits(min_duration_s=20.0))  # doctest: +SKIP
        Traceback (most recent call last):
        Invalid: The video is too short; ...
    """
    _check_duration(info, limits)
    if info.size_bytes > limits.max_file_size_bytes:
        raise _fail(
            "video_filesize_too_large",
            f"The file {info.filename!r} is {info.size_bytes} bytes; the limit is "
            f"{limits.max_file_size_bytes} bytes.",
        )
    if picture:
        _check_resolution(info, limits)


def _check_duration(info: MediaInfo, limits: MediaLimits) -> None:
    if info.duration_s < limits.min_duration_s:
        raise _fail(
            "video_duration_too_short",
            f"The video is too short; it must be at least {limits.min_duration_s:g} s long "
            f"(got {info.duration_s:.1f} s).",
        )
    if info.duration_s > limits.max_duration_s:
        raise _fail(
            "video_duration_too_long",
            f"The video is too long; it must be at most {limits.max_duration_s:g} s long "
            f"(got {info.duration_s:.1f} s).",
        )


def _check_resolution(info: MediaInfo, limits: MediaLimits) -> None:
    short, long = sorted((info.width, info.height))
    allowed = (
        f"{limits.min_side_px}x{limits.min_side_px} to "
        f"{limits.max_long_side_px}x{limits.max_short_side_px}"
    )
    got = f"{info.width}x{info.height}"
    if short < limits.min_side_px:
        raise _fail(
            "video_resolution_too_low",
            f"The resolution is too low; it must be {allowed} (got {got}).",
        )
    if long > limits.max_long_side_px or short > limits.max_short_side_px:
        raise _fail(
            "video_resolution_too_high",
            f"The resolution is too high; it must be {allowed} (got {got}).",
        )
    ratio = long / short
    if ratio > limits.max_aspect_ratio + 1e-9:
        raise _fail(
            "video_resolution_invalid_aspect_ratio",
            f"The aspect ratio must be between 1:{limits.max_aspect_ratio:g} and "
            f"{limits.max_aspect_ratio:g}:1 (got {got}, {ratio:.2f}:1).",
        )
