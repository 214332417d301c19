"""Probe an uploaded file with PyAV: metadata, subtitle lines, colours, sounds and pixels.

A video gives its colours and subtitle lines over time, and the loudness and pitch of its
sound at the same times; a sound file (MP3, WAV...) gives its sound only; an image its
pixels on a coarse grid. Files are streamed, never read whole into memory, and the work is
bounded: long files are sampled at keyframes (pictures) or by seeking (sound).
"""

from __future__ import annotations

import contextlib
import math
import os
import pathlib
import re
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from ._image_header import MAX_IMAGE_PIXELS, check_image_pixels
from ._media_types import MediaError, MediaInfo, Picture, StreamFacts, Utterance

__all__ = ["frame_at", "probe", "probe_audio", "probe_picture", "probe_streams"]

_TEXT_SUBTITLE_CODECS = frozenset({"mov_text", "subrip", "srt", "webvtt", "ass", "ssa", "text"})
# Above this many decoded pixels, probe samples keyframes only (a 2-hour file stays cheap).
_SEQUENTIAL_PIXEL_BUDGET = 600_000_000
_THUMB_WIDTH = 32
# Sound is read as 8 kHz mono: enough for loudness and a pitch up to 4 kHz.
_SOUND_RATE = 8000
# Up to this long, a file's sound is decoded in one pass; longer ones are sampled by seeking.
_SEQUENTIAL_SOUND_S = 900.0
_SEEK_WINDOW_S = 0.25
_SILENCE_DB = -120.0
# Images that may hold several frames (their first one is the picture); other codecs with a
# second frame are videos.
_ANIMATED_IMAGE_CODECS = frozenset({"gif", "webp", "apng"})
# FFmpeg's own bound on one decoded picture (its ``max_pixels`` codec option): the last
# guard for a picture whose size no header told (image formats _image_header cannot read,
# video frames), so that no file makes the emulator decode a gigantic picture.
_DECODER_OPTIONS = {"max_pixels": str(MAX_IMAGE_PIXELS)}


@contextlib.contextmanager
def _open(path: str | os.PathLike[str], name: str) -> Iterator[Any]:
    """``av.open`` for reading, after refusing an image whose header declares too many
    pixels; FFmpeg then decodes no picture larger than :data:`MAX_IMAGE_PIXELS` (neither
    while opening, when it decodes a first picture to learn the format, nor later)."""
    check_image_pixels(path, name)
    with av.open(str(path), "r", options=_DECODER_OPTIONS) as container:
        for stream in container.streams.video:
            if stream.codec_context is not None:
                stream.codec_context.options = dict(_DECODER_OPTIONS)
        yield container


def probe(
    path: str | os.PathLike[str],
    *,
    filename: str | None = None,
    sample_step_s: float = 1.0,
    max_samples: int = 300,
) -> MediaInfo:
    """Read a video's metadata, subtitle lines and mean colours over time.

    Only a bounded number of frames is decoded: every frame for short files, one keyframe per
    sample for long ones; the file is streamed, never read whole into memory.

    Args:
        path: The file to read.
        filename: Name to report (default: the path's name).
        sample_step_s: Requested time between colour samples.
        max_samples: At most this many colour samples; for longer videos the step grows to
            ``duration_s / max_samples`` (see ``MediaInfo.sample_step_s``).

    Returns:
        A :class:`MediaInfo`.

    Raises:
        MediaError: ``code="video_file_broken"`` when the file is not a decodable video.
        OSError: When the path does not exist or cannot be read.

    Example:
        >>> info = probe(make_sample_video(tmp / "a.mp4"))  # doctest: +SKIP
        >>> round(info.duration_s), info.width, info.colours.shape  # doctest: +SKIP
        (12, 640, (12, 3))
    """
    size_bytes = os.stat(path).st_size
    name = filename if filename is not None else pathlib.Path(path).name
    if sample_step_s <= 0 or max_samples < 1:
        raise ValueError("sample_step_s must be positive and max_samples at least 1")
    try:
        return _probe(str(path), name, size_bytes, sample_step_s, max_samples)
    except MediaError:
        raise
    except Exception as exc:  # PyAV raises many types on garbage; all mean "not a video"
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise MediaError(f"{name}: not a readable video file ({reason})") from exc


def probe_streams(path: str | os.PathLike[str], *, filename: str | None = None) -> StreamFacts:
    """Read the container and its audio and video streams, decoding nothing but (for an
    image) its one picture.

    Raises:
        MediaError: When the file is not a media file PyAV can open.

    Example:
        >>> facts = probe_streams(make_sample_video(tmp / "a.mp4"))  # doctest: +SKIP
        >>> facts.video[0]["codec"], facts.audio[0]["sample_rate"]  # doctest: +SKIP
        ('h264', 24000)
    """
    name = filename if filename is not None else pathlib.Path(path).name
    try:
        with _open(path, name) as container:
            return _stream_facts(container)
    except MediaError:
        raise
    except Exception as exc:  # PyAV raises many types on garbage; all mean "not media"
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise MediaError(f"{name}: not a readable media file ({reason})") from exc


def _stream_facts(container: Any) -> StreamFacts:
    duration_s = float(container.duration / 1e6) if container.duration else 0.0
    video, audio = [], []
    for index, stream in enumerate(container.streams):
        ctx = stream.codec_context
        seconds = (
            float(stream.duration * stream.time_base)
            if stream.duration is not None and stream.time_base is not None
            else duration_s
        )
        if stream.type == "video":
            video.append(
                {
                    "index": index,
                    "codec": ctx.name,
                    "width": ctx.width,
                    "height": ctx.height,
                    "fps": float(stream.average_rate or stream.guessed_rate or 0.0),
                    "duration_seconds": round(seconds, 3),
                    "pixel_format": ctx.format.name if ctx.format is not None else None,
                    "bitrate_bps": ctx.bit_rate or None,
                }
            )
        elif stream.type == "audio":
            audio.append(
                {
                    "index": index,
                    "codec": ctx.name,
                    "sample_rate": ctx.sample_rate,
                    "channels": ctx.channels,
                    "channel_layout": ctx.layout.name if ctx.layout is not None else None,
                    "duration_seconds": round(seconds, 3),
                    "bitrate_bps": ctx.bit_rate or None,
                }
            )
    rgb = _first_picture_rgb(container) if video and not duration_s else None
    return StreamFacts(
        container=container.format.name,
        duration_s=duration_s,
        bit_rate=container.bit_rate or None,
        video=tuple(video),
        audio=tuple(audio),
        picture_rgb=rgb,
    )


def _first_picture_rgb(container: Any) -> tuple[int, int, int] | None:
    """The mean colour of an image (a container with a picture and no duration)."""
    frame = next(iter(container.decode(video=0)), None)
    if frame is None:
        return None
    mean = _mean_rgb(frame) * 255.0
    return (round(float(mean[0])), round(float(mean[1])), round(float(mean[2])))


def _probe(path: str, name: str, size_bytes: int, step_s: float, max_samples: int) -> MediaInfo:
    with _open(path, name) as container:
        video = _video_stream(container, name)
        # Times are reported from the first frame (MPEG-TS files often start at 1.4 s).
        origin_s = max(0.0, (container.start_time or 0) / 1e6)
        duration_s = _duration_s(container, video)
        if not duration_s > 0:
            raise MediaError(f"{name}: the video has no duration")
        fps = float(video.average_rate or video.guessed_rate or 0.0)
        width, height = video.codec_context.width, video.codec_context.height
        if width <= 0 or height <= 0:
            raise MediaError(f"{name}: the video stream has no picture size")
        has_audio = any(s.type == "audio" for s in container.streams)
        utterances = _read_utterances(container, origin_s=origin_s)
    n_samples = min(max_samples, max(1, math.ceil(duration_s / step_s - 1e-6)))
    step_s = max(step_s, duration_s / n_samples)
    colours = _sample_colours(path, name, n_samples=n_samples, step_s=step_s, origin_s=origin_s)
    sounds = (
        _sample_sounds(path, n_samples=n_samples, step_s=step_s, origin_s=origin_s)
        if has_audio
        else None
    )
    return MediaInfo(
        filename=name,
        size_bytes=size_bytes,
        duration_s=duration_s,
        fps=fps,
        width=width,
        height=height,
        has_audio=has_audio,
        utterances=utterances,
        colours=colours,
        sample_step_s=step_s,
        sounds=sounds,
    )


def probe_audio(
    path: str | os.PathLike[str],
    *,
    filename: str | None = None,
    sample_step_s: float = 1.0,
    max_samples: int = 300,
) -> MediaInfo:
    """Read a file's sound: its duration and, over time, its loudness and pitch.

    Any file with an audio stream works (MP3, WAV, M4A, or the sound of a video); it has no
    picture in the result (width and height 0, no colours) and no subtitle lines.

    Raises:
        MediaError: ``code="video_file_broken"`` when the file has no readable sound.

    Example:
        >>> info = probe_audio(make_sample_audio(tmp / "a.mp3", duration_s=6))  # doctest: +SKIP
        >>> round(info.duration_s), info.sounds.shape  # doctest: +SKIP
        (6, (6, 2))
    """
    size_bytes = os.stat(path).st_size
    name = filename if filename is not None else pathlib.Path(path).name
    try:
        with _open(path, name) as container:
            if not container.streams.audio:
                raise MediaError(f"{name}: the file has no audio stream")
            stream = container.streams.audio[0]
            duration_s = _duration_s(container, stream)
            origin_s = max(0.0, (container.start_time or 0) / 1e6)
    except MediaError:
        raise
    except Exception as exc:  # PyAV raises many types on garbage; all mean "not audio"
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise MediaError(f"{name}: not a readable audio file ({reason})") from exc
    if not duration_s > 0:
        raise MediaError(f"{name}: the audio has no duration")
    n_samples = min(max_samples, max(1, math.ceil(duration_s / sample_step_s - 1e-6)))
    step_s = max(sample_step_s, duration_s / n_samples)
    sounds = _sample_sounds(str(path), n_samples=n_samples, step_s=step_s, origin_s=origin_s)
    empty = np.zeros((0, 3), np.float32)
    return MediaInfo(name, size_bytes, duration_s, 0.0, 0, 0, True, (), empty, step_s, sounds)


def probe_picture(
    path: str | os.PathLike[str], *, filename: str | None = None, still: bool = False
) -> Picture:
    """Read an image's pixels (its first frame for an animation) on a coarse grid.

    With ``still=True`` a video or a sound file is refused rather than read as its first
    frame (a search query must be an image).

    Raises:
        MediaError: When the file is not an image PyAV can decode (or, with ``still``, is a
            video or a sound file).

    Example:
        >>> picture = probe_picture(make_sample_image(tmp / "a.png", ["red", "blue"]))
        ... # doctest: +SKIP
        >>> picture.cells.shape, picture.layout.shape  # doctest: +SKIP
        ((16, 3), (64,))
    """
    size_bytes = os.stat(path).st_size
    name = filename if filename is not None else pathlib.Path(path).name
    try:
        with _open(path, name) as container:
            if still and any(s.type == "audio" for s in container.streams):
                raise MediaError(f"{name}: a video or a sound file, not a still image")
            frames = container.decode(video=0)
            frame = next(frames, None)
            if frame is None:
                raise MediaError(f"{name}: the image has no picture")
            codec = container.streams.video[0].codec_context.name
            if still and codec not in _ANIMATED_IMAGE_CODECS and next(frames, None) is not None:
                raise MediaError(f"{name}: a video, not a still image")
            width, height = frame.width, frame.height
            cells = frame.reformat(width=4, height=4, format="rgb24", interpolation="AREA")
            grey = frame.reformat(width=8, height=8, format="gray", interpolation="AREA")
            rgb = np.asarray(cells.to_ndarray(), np.float32).reshape(16, 3) / 255.0
            light = np.asarray(grey.to_ndarray(), np.float32).reshape(64) / 255.0
    except MediaError:
        raise
    except Exception as exc:  # PyAV raises many types on garbage; all mean "not an image"
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise MediaError(f"{name}: not a readable image ({reason})") from exc
    spread = float(light.std())
    layout = (light - light.mean()) / np.float32(spread) if spread > 1e-6 else light * 0
    return Picture(name, size_bytes, width, height, rgb, layout.astype(np.float32))


def _sample_sounds(
    path: str, *, n_samples: int, step_s: float, origin_s: float
) -> NDArray[np.float32] | None:
    """Loudness (dBFS) and dominant pitch (Hz) of the sound around each sample time."""
    try:
        with _open(path, pathlib.Path(path).name) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            for other in container.streams:
                if other is not stream:
                    other.discard = av.stream.Discard.all
            if n_samples * step_s <= _SEQUENTIAL_SOUND_S:
                pcm = _decode_sound(container, stream, until_s=None)
                per = max(1, round(step_s * _SOUND_RATE))
                windows = [pcm[i * per : (i + 1) * per] for i in range(n_samples)]
            else:
                windows = _seek_sounds(container, stream, n_samples, step_s, origin_s)
    except av.FFmpegError:
        return None  # an unreadable sound track: the picture still counts
    return np.asarray([_sound_features(w) for w in windows], dtype=np.float32).reshape(-1, 2)


def _decode_sound(container: Any, stream: Any, *, until_s: float | None) -> NDArray[np.float32]:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=_SOUND_RATE)
    chunks: list[NDArray[np.float32]] = []
    got = 0
    wanted = None if until_s is None else int(until_s * _SOUND_RATE)
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunk = np.asarray(out.to_ndarray(), np.float32).reshape(-1)
                chunks.append(chunk)
                got += len(chunk)
            if wanted is not None and got >= wanted:
                break
    except av.FFmpegError:
        pass  # a damaged tail: keep what was decoded
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def _seek_sounds(
    container: Any, stream: Any, n_samples: int, step_s: float, origin_s: float
) -> list[NDArray[np.float32]]:
    windows: list[NDArray[np.float32]] = []
    time_base = stream.time_base or Fraction(1, 1_000_000)
    for i in range(n_samples):
        t = origin_s + (i + 0.5) * step_s
        try:
            container.seek(int(t / time_base), stream=stream, backward=True)
            windows.append(_decode_sound(container, stream, until_s=_SEEK_WINDOW_S))
        except av.FFmpegError:
            windows.append(np.zeros(0, np.float32))
    return windows


def _sound_features(samples: NDArray[np.float32]) -> tuple[float, float]:
    """(loudness in dBFS, dominant pitch in Hz; 0 Hz when silent)."""
    if not len(samples):
        return _SILENCE_DB, 0.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    loudness = 20.0 * math.log10(rms) if rms > 1e-6 else _SILENCE_DB
    middle = len(samples) // 2
    part = samples[max(0, middle - 2048) : middle + 2048].astype(np.float64)
    if len(part) < 64 or loudness <= _SILENCE_DB:
        return loudness, 0.0
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
    spectrum[0] = 0.0  # no DC
    peak = int(np.argmax(spectrum))
    return loudness, peak * _SOUND_RATE / len(part)


def _video_stream(container: Any, name: str) -> Any:
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise MediaError(f"{name}: the file has no video stream")


def _duration_s(container: Any, video: Any) -> float:
    if container.duration is not None and container.duration > 0:
        return float(container.duration / 1e6)
    if video.duration is not None and video.time_base is not None:
        return float(video.duration * video.time_base)
    return 0.0


def _subtitle_stream(container: Any) -> Any | None:
    for stream in container.streams.subtitles:
        if stream.codec_context.name in _TEXT_SUBTITLE_CODECS:
            return stream
    return None


def _read_utterances(container: Any, *, origin_s: float) -> tuple[Utterance, ...]:
    stream = _subtitle_stream(container)
    if stream is None:
        return ()
    for other in container.streams:
        if other is not stream:
            # Lets demuxers such as MP4's skip the other tracks' data instead of reading it.
            other.discard = av.stream.Discard.all
    found: list[Utterance] = []
    for packet in container.demux(stream):
        if packet.pts is None or not packet.size or packet.time_base is None:
            continue
        try:
            subtitle = stream.decode2(packet)
        except av.FFmpegError:
            continue
        if subtitle is not None:
            found.extend(_utterance(packet, subtitle, origin_s=origin_s))
    return tuple(sorted(found, key=lambda u: (u.start_s, u.end_s)))


def _utterance(packet: Any, subtitle: Any, *, origin_s: float) -> list[Utterance]:
    text = "\n".join(t for t in (_rect_text(r) for r in subtitle) if t)
    if not text:
        return []
    base_s = float(packet.pts * packet.time_base) - origin_s
    start_s = base_s + subtitle.start_display_time / 1000
    if packet.duration:
        end_s = base_s + float(packet.duration * packet.time_base)
    elif 0 < subtitle.end_display_time < 0xFFFFFFFF:
        end_s = base_s + subtitle.end_display_time / 1000
    else:
        end_s = start_s
    return [Utterance(round(start_s, 3), round(end_s, 3), text)]


# Override blocks ("{\\i1}") and the empty "{}" FFmpeg inserts after an escaped brace.
_ASS_OVERRIDE = re.compile(r"(?<!\\)\{(?:\\[^}]*)?\}")


def _rect_text(rect: Any) -> str:
    kind = getattr(rect, "type", b"")
    if kind == b"ass":
        # "ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text"
        raw = bytes(rect.ass).decode("utf-8", "replace").split(",", 8)[-1]
    elif kind == b"text":
        raw = bytes(rect.text).decode("utf-8", "replace")
    else:
        return ""
    return _strip_ass(raw)


def _strip_ass(raw: str) -> str:
    """Plain text from an ASS event text: markup dropped, escapes resolved."""
    text = _ASS_OVERRIDE.sub("", raw)
    text = text.replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")
    text = text.replace("\\{", "{").replace("\\}", "}")
    # FFmpeg defuses a literal backslash by following it with a WORD JOINER.
    return text.replace("\\\u2060", "\\").strip()


def _sample_colours(
    path: str, name: str, *, n_samples: int, step_s: float, origin_s: float
) -> NDArray[np.float32]:
    times = origin_s + (np.arange(n_samples, dtype=np.float64) + 0.5) * step_s
    with _open(path, name) as container:
        video = _video_stream(container, name)
        for other in container.streams:
            if other is not video:
                other.discard = av.stream.Discard.all
        ctx = video.codec_context
        pixels = ctx.width * ctx.height * float(video.average_rate or 30) * float(times[-1])
        if pixels <= _SEQUENTIAL_PIXEL_BUDGET:
            ctx.thread_type = "AUTO"
            found = _colours_sequential(container, video, times)
        else:
            ctx.skip_frame = "NONKEY"
            found = _colours_keyframes(container, video, times)
    if not found:
        raise MediaError(f"{name}: no video frame could be decoded")
    # A file cut short keeps its last readable colour for the missing tail.
    found.extend([found[-1]] * (n_samples - len(found)))
    return np.asarray(found, dtype=np.float32)


def _colours_sequential(container: Any, video: Any, times: NDArray[np.float64]) -> list[Any]:
    found: list[Any] = []
    half_frame_s = 0.5 / float(video.average_rate or 30)
    try:
        for frame in container.decode(video):
            if frame.time is None or frame.time + half_frame_s < times[len(found)]:
                continue
            colour = _mean_rgb(frame)
            while len(found) < len(times) and frame.time + half_frame_s >= times[len(found)]:
                found.append(colour)
            if len(found) == len(times):
                break
    except av.FFmpegError:
        pass  # a damaged tail: keep what was decoded
    return found


def _colours_keyframes(container: Any, video: Any, times: NDArray[np.float64]) -> list[Any]:
    found: list[Any] = []
    time_base = video.time_base or Fraction(1, 1_000_000)
    for t in times:
        try:
            container.seek(int(t / time_base), stream=video, backward=True)
            frame = next(iter(container.decode(video)), None)
        except av.FFmpegError:
            break
        if frame is None:
            break
        found.append(_mean_rgb(frame))
    return found


def _mean_rgb(frame: Any) -> NDArray[np.float32]:
    thumb_h = max(2, round(_THUMB_WIDTH * frame.height / max(frame.width, 1)))
    small = frame.reformat(width=_THUMB_WIDTH, height=thumb_h, format="rgb24", interpolation="AREA")
    pixels = np.asarray(small.to_ndarray(), dtype=np.float32).reshape(-1, 3)
    return np.asarray(pixels.mean(axis=0) / 255.0, dtype=np.float32)


def frame_at(path: str | os.PathLike[str], at_s: float, *, width: int = 320) -> NDArray[np.uint8]:
    """The video frame shown at ``at_s`` seconds, scaled to ``width`` pixels (RGB, 8-bit).

    The time is clamped to the video; it counts from the first frame, as ``probe`` does.

    Raises:
        MediaError: When the file has no video stream or no frame can be decoded.

    Example:
        >>> frame_at(make_sample_video(tmp / "a.mp4"), 1.0, width=64).shape  # doctest: +SKIP
        (36, 64, 3)
    """
    name = pathlib.Path(path).name
    try:
        with _open(path, name) as container:
            video = _video_stream(container, name)
            for other in container.streams:
                if other is not video:
                    other.discard = av.stream.Discard.all
            origin_s = max(0.0, (container.start_time or 0) / 1e6)
            frame = _frame_at(container, video, origin_s + max(0.0, at_s))
    except MediaError:
        raise
    except Exception as exc:  # PyAV raises many types on garbage
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise MediaError(f"{name}: no frame at {at_s:g} s ({reason})") from exc
    if frame is None:
        raise MediaError(f"{name}: no frame at {at_s:g} s")
    height = max(2, round(width * frame.height / max(frame.width, 1)))
    small = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA")
    return np.asarray(small.to_ndarray(), dtype=np.uint8)


def _frame_at(container: Any, video: Any, at_s: float) -> Any:
    """The last frame starting at or before ``at_s`` (the first frame if none does)."""
    time_base = video.time_base or Fraction(1, 1_000_000)
    container.seek(int(at_s / time_base), stream=video, backward=True)
    shown = None
    for frame in container.decode(video):
        if shown is not None and frame.time is not None and frame.time > at_s:
            break
        shown = frame
    return shown
