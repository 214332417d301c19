"""Write small sample videos (H.264 + AAC + mov_text subtitles) with PyAV.

:func:`make_sample_video` writes one video to order; :func:`sample_videos` writes the three
of the demo and the notebooks (:data:`SAMPLES`: cooking, football, astronomy).
"""

from __future__ import annotations

import math
import os
import pathlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from ._media_types import COLOURS, Colour, SceneSpec

__all__ = ["SAMPLES", "SampleVideo", "make_sample_video", "sample_videos"]

_DEFAULT_SCENES = ("red", "green", "blue", "yellow")
_MS = Fraction(1, 1000)
_AUDIO_RATE = 24_000
_AUDIO_FRAME = 1024
_ASS_HEADER = (
    "[Script Info]\r\nScriptType: v4.00+\r\nPlayResX: 384\r\nPlayResY: 288\r\n\r\n"
    "[V4+ Styles]\r\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
    "OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, "
    "Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\r\n"
    "Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0"
    "\r\n\r\n[Events]\r\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, "
    "Effect, Text\r\n"
).encode("ascii")

# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class _Scene:
    start_s: float
    end_s: float
    rgb: tuple[int, int, int]
    name: str


def make_sample_video(
    path: str | os.PathLike[str],
    *,
    duration_s: float = 12.0,
    size: tuple[int, int] = (640, 360),
    fps: float = 24,
    scenes: Sequence[SceneSpec] | None = None,
    subtitles: Sequence[tuple[float, float, str]] | None = None,
    audio: bool = True,
    seed: int = 0,
) -> pathlib.Path:
    """Write a small H.264 + AAC MP4 with coloured scenes and a ``mov_text`` subtitle track.

    Args:
        path: Where to write the MP4 (overwritten).
        duration_s: Length of the video in seconds.
        size: ``(width, height)`` in pixels; both must be even.
        fps: Frame rate.
        scenes: Colour names (``"red"``; see :data:`COLOURS`) or RGB tuples (ints 0-255, or
            floats 0.0-1.0) splitting the video into equal scenes, or ``(start_s, end_s,
            colour)`` tuples (uncovered time is black). Default: red, green, blue, yellow.
        subtitles: ``(start_s, end_s, text)`` lines, times rounded to milliseconds; lines must
            not overlap. Default: one line per scene naming its colour. ``()`` writes no
            subtitle track at all.
        audio: Write an AAC track (a quiet tone whose pitch changes with the scene).
        seed: Varies the light pattern and the audio noise; the same seed gives the same file.

    Returns:
        The path written, as a :class:`pathlib.Path`.

    Raises:
        ValueError: On an odd size, a non-positive duration or fps, or bad scenes/subtitles.

    Example:
        >>> p = make_sample_video(tmp / "a.mp4", duration_s=6,  # doctest: +SKIP
        ...                       subtitles=[(0.5, 2.0, "A red kite.")])
        >>> probe(p).utterances[0].text  # doctest: +SKIP
        'A red kite.'
    """
    out_path = pathlib.Path(path)
    width, height = size
    if duration_s <= 0 or fps <= 0:
        raise ValueError(f"duration_s and fps must be positive (got {duration_s}, {fps})")
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise ValueError(f"size must be even and at least 2x2 (got {width}x{height})")
    plan = _resolve_scenes(scenes, duration_s=duration_s)
    lines = _resolve_subtitles(subtitles, plan, duration_s=duration_s)
    with av.open(str(out_path), "w", format="mp4") as out:
        _Writer(out, size=size, fps=fps, audio=audio, subtitles=bool(lines)).write(
            plan, lines, duration_s=duration_s, seed=seed
        )
    return out_path


def _colour_rgb(colour: Colour) -> tuple[int, int, int]:
    if isinstance(colour, str):
        try:
            return COLOURS[colour.lower()]
        except KeyError:
            raise ValueError(f"unknown colour {colour!r}; known: {sorted(COLOURS)}") from None
    if len(colour) != 3:
        raise ValueError(f"a colour needs 3 components, got {colour!r}")
    scale = 255.0 if any(isinstance(c, float) for c in colour) else 1.0
    r, g, b = (round(min(max(float(c) * scale, 0.0), 255.0)) for c in colour)
    return (r, g, b)


def _colour_name(rgb: tuple[int, int, int]) -> str:
    target = np.asarray(rgb, dtype=np.float64)
    return min(COLOURS, key=lambda n: float(np.sum((np.asarray(COLOURS[n]) - target) ** 2)))


def _scene_from_spec(spec: SceneSpec, index: int, step: float) -> _Scene:
    if isinstance(spec, tuple) and len(spec) == 3 and not isinstance(spec[2], (int, float)):
        start, end, colour = spec
        if not 0 <= float(start) < float(end):
            raise ValueError(f"scene times must satisfy 0 <= start < end, got {spec!r}")
        rgb = _colour_rgb(colour)
        return _Scene(float(start), float(end), rgb, _name_of(colour, rgb))
    rgb = _colour_rgb(spec)
    return _Scene(index * step, (index + 1) * step, rgb, _name_of(spec, rgb))


def _name_of(colour: Colour, rgb: tuple[int, int, int]) -> str:
    return colour.lower() if isinstance(colour, str) else _colour_name(rgb)


def _resolve_scenes(scenes: Sequence[SceneSpec] | None, *, duration_s: float) -> list[_Scene]:
    specs: Sequence[SceneSpec] = _DEFAULT_SCENES if scenes is None else scenes
    if not specs:
        return [_Scene(0.0, duration_s, COLOURS["black"], "black")]
    step = duration_s / len(specs)
    return sorted(
        (_scene_from_spec(s, i, step) for i, s in enumerate(specs)), key=lambda s: s.start_s
    )


def _resolve_subtitles(
    subtitles: Sequence[tuple[float, float, str]] | None,
    plan: list[_Scene],
    *,
    duration_s: float,
) -> list[tuple[int, int, str]]:
    if subtitles is None:
        subtitles = [
            (s.start_s + 0.25 * (s.end_s - s.start_s), s.end_s, f"This is the {s.name} scene.")
            for s in plan
            if s.start_s < duration_s
        ]
    lines = sorted((round(s * 1000), round(e * 1000), t) for s, e, t in subtitles)
    previous_end = 0
    for start_ms, end_ms, text in lines:
        if start_ms < previous_end or end_ms <= start_ms or end_ms > round(duration_s * 1000):
            raise ValueError(f"subtitle {text!r} overlaps another or lies outside the video")
        previous_end = end_ms
    return lines


class _Writer:
    """Encodes the three streams of a sample video, interleaved in time order."""

    def __init__(
        self, out: Any, *, size: tuple[int, int], fps: float, audio: bool, subtitles: bool
    ) -> None:
        self.out = out
        self.rate = Fraction(fps).limit_denominator(1001)
        self.video = out.add_stream("libx264", rate=self.rate, options=_X264_OPTIONS)
        self.video.width, self.video.height = size
        self.video.pix_fmt = "yuv420p"
        self.video.codec_context.gop_size = max(1, round(fps))
        self.audio = out.add_stream("aac", rate=_AUDIO_RATE, layout="mono") if audio else None
        self.subs = out.add_stream("mov_text") if subtitles else None
        if self.subs is not None:
            # mov_text's encoder turns the ASS header into the track's sample description.
            self.subs.codec_context.subtitle_header = _ASS_HEADER
            self.subs.codec_context.time_base = _MS

    def write(
        self, plan: list[_Scene], lines: list[tuple[int, int, str]], *, duration_s: float, seed: int
    ) -> None:
        n_frames = max(1, round(duration_s * self.rate))
        ripple = _ripple(self.video.width, self.video.height, seed=seed)
        frames: dict[tuple[int, int, int], Any] = {}
        tone = _ToneTrack(plan, seed=seed)
        pending = list(reversed(lines))
        for i in range(n_frames):
            t = float(i / self.rate)
            while pending and pending[-1][0] <= t * 1000:
                self._mux_subtitle(*pending.pop())
            if self.audio is not None:
                self._mux_audio(tone, until_s=min(t + 1.0, duration_s))
            scene = next((s for s in plan if s.start_s <= t < s.end_s), None)
            rgb = scene.rgb if scene is not None else COLOURS["black"]
            if rgb not in frames:
                frames[rgb] = _scene_frame(rgb, ripple)
            frame = frames[rgb]
            frame.pts = i
            self.out.mux(self.video.encode(frame))
        for line in reversed(pending):
            self._mux_subtitle(*line)
        if self.audio is not None:
            self._mux_audio(tone, until_s=duration_s)
            self.out.mux(self.audio.encode(None))
        self.out.mux(self.video.encode(None))

    def _mux_audio(self, tone: _ToneTrack, *, until_s: float) -> None:
        assert self.audio is not None
        for frame in tone.frames_until(until_s):
            self.out.mux(self.audio.encode(frame))

    def _mux_subtitle(self, start_ms: int, end_ms: int, text: str) -> None:
        assert self.subs is not None
        dialogue = "0,0,Default,,0,0,0,," + text.replace("\r\n", "\n").replace("\n", "\\N")
        subtitle = av.subtitles.subtitle.SubtitleSet.create(
            dialogue.encode(), 0, end_ms - start_ms, start_ms
        )
        packet = self.subs.codec_context.encode_subtitle(subtitle)
        packet.stream = self.subs
        packet.time_base = _MS
        self.out.mux(packet)


_X264_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "crf": "30"}


def _ripple(width: int, height: int, *, seed: int) -> NDArray[np.float64]:
    """A faint diagonal wave with zero mean, so frames are not flat but keep their mean colour."""
    yy, xx = np.mgrid[0:height, 0:width]
    wave: NDArray[np.float64] = 10.0 * np.sin((xx + yy + 7 * seed) * (2 * math.pi / 48.0))
    return wave[..., None]


def _scene_frame(rgb: tuple[int, int, int], ripple: NDArray[np.float64]) -> Any:
    image = np.clip(np.asarray(rgb, np.float64)[None, None, :] + ripple, 0, 255)
    frame = av.VideoFrame.from_ndarray(image.astype(np.uint8), format="rgb24")
    return frame.reformat(format="yuv420p")


class _ToneTrack:
    """Mono float samples: a quiet sine whose pitch follows the scene, plus faint noise."""

    def __init__(self, plan: list[_Scene], *, seed: int) -> None:
        self.plan = plan
        self.rng = np.random.default_rng(seed)
        self.next_sample = 0

    def frames_until(self, until_s: float) -> Iterator[Any]:
        end = round(until_s * _AUDIO_RATE)
        while self.next_sample < end:
            n = min(_AUDIO_FRAME, end - self.next_sample)
            t = (self.next_sample + np.arange(n)) / _AUDIO_RATE
            freq = np.full(n, 220.0)
            for k, scene in enumerate(self.plan):
                freq[(t >= scene.start_s) & (t < scene.end_s)] = 330.0 + 110.0 * (k % 6)
            wave = 0.1 * np.sin(2 * math.pi * freq * t) + 0.003 * self.rng.standard_normal(n)
            frame = av.AudioFrame.from_ndarray(
                wave.astype(np.float32)[None, :], format="fltp", layout="mono"
            )
            frame.sample_rate = _AUDIO_RATE
            frame.pts = self.next_sample
            self.next_sample += n
            yield frame


# --------------------------------------------------------------------------- the samples

Line = tuple[float, float, str]


@dataclass(frozen=True)
class SampleVideo:
    """One of the sample videos: a file name, a topic, scene colours and subtitle lines.

    Attributes:
        filename: the file's name (``cooking.mp4``).
        topic: what it is about, in a word.
        scenes: colour names of its equal-length scenes.
        subtitles: ``(start_s, end_s, text)`` lines, what the emulator "hears" and reads.
        duration_s: its length in seconds.

    Example:
        >>> SAMPLES[0].filename, SAMPLES[0].duration_s, SAMPLES[0].subtitles[2][2]
        ('cooking.mp4', 12.0, 'Boil the pasta in salted water for nine minutes.')
    """

    filename: str
    topic: str
    scenes: tuple[str, ...]
    subtitles: tuple[Line, ...]
    duration_s: float = 12.0


SAMPLES: tuple[SampleVideo, ...] = (
    SampleVideo(
        "cooking.mp4",
        "cooking",
        ("orange", "white", "red"),
        (
            (0.0, 3.0, "Welcome to the kitchen: today we make fresh tomato pasta."),
            (3.0, 6.0, "Chop two ripe tomatoes and a clove of garlic."),
            (6.0, 9.0, "Boil the pasta in salted water for nine minutes."),
            (9.0, 12.0, "Toss it with the sauce and finish with fresh basil."),
        ),
    ),
    SampleVideo(
        "football.mp4",
        "football",
        ("green", "white", "blue"),
        (
            (0.0, 3.0, "Kick-off at the stadium, the home team plays in blue."),
            (3.0, 6.0, "A long pass down the wing and a shot on goal!"),
            (6.0, 9.0, "The goalkeeper saves it with a diving stop."),
            (9.0, 12.0, "In the last minute a header from a corner wins the match."),
        ),
    ),
    SampleVideo(
        "astronomy.mp4",
        "astronomy",
        ("black", "yellow", "purple"),
        (
            (0.0, 3.0, "Tonight we look up at the night sky."),
            (3.0, 6.0, "Saturn's rings are made of ice and rock."),
            (6.0, 9.0, "Jupiter is the largest planet, its storm is bigger than Earth."),
            (9.0, 12.0, "Through a small telescope you can see four of its moons."),
        ),
    ),
)
"""The three sample videos of the demo and the notebooks, 12 s each."""

# Small and short: three videos are written in about a second, and uploaded in no time.
_SAMPLE_SIZE = (640, 360)
_SAMPLE_FPS = 12.0


def sample_videos(folder: str | os.PathLike[str]) -> list[pathlib.Path]:
    """The three sample videos of :data:`SAMPLES`, written into ``folder`` once.

    Cooking, football and astronomy: 12 s each, three coloured scenes, a quiet tone and a
    subtitle line every 3 s (which the emulator takes for speech). They are the same bytes
    on every machine. A video already in ``folder`` under its name is kept, so calling again
    writes nothing; a file is written under a temporary name first, so an interrupted call
    never leaves a broken video behind. The folder is created if needed.

    Args:
        folder: where the videos go.

    Returns:
        Their paths, in the order of :data:`SAMPLES` (cooking, football, astronomy).

    Example:
        >>> from tl_integrations.emulator import sample_videos
        >>> [path.name for path in sample_videos("videos")]  # doctest: +SKIP
        ['cooking.mp4', 'football.mp4', 'astronomy.mp4']
    """
    directory = pathlib.Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    return [_sample_video(directory, seed, sample) for seed, sample in enumerate(SAMPLES)]


def _sample_video(directory: pathlib.Path, seed: int, sample: SampleVideo) -> pathlib.Path:
    path = directory / sample.filename
    if path.is_file() and path.stat().st_size > 0:
        return path
    partial = directory / f".{sample.filename}.{uuid.uuid4().hex}.partial"
    try:
        make_sample_video(
            partial,
            duration_s=sample.duration_s,
            size=_SAMPLE_SIZE,
            fps=_SAMPLE_FPS,
            scenes=list(sample.scenes),
            subtitles=list(sample.subtitles),
            seed=seed,
        )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
