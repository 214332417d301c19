"""The demo's material: three short sample videos on distinct topics, and three questions.

Each video has coloured scenes and timed subtitle lines; the emulator's stand-in models read
the subtitles, so a question that names what a line says finds that moment.

Example:
    >>> [v.filename for v in SAMPLES]
    ['cooking.mp4', 'football.mp4', 'astronomy.mp4']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["QUESTIONS", "SAMPLES", "SampleVideo", "make_videos"]

Line = tuple[float, float, str]


@dataclass(frozen=True)
class SampleVideo:
    """One sample video: a file name, its scene colours and its subtitle lines.

    Example:
        >>> SAMPLES[0].duration_s
        12.0
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

QUESTIONS: tuple[str, ...] = (
    "How long should the pasta boil?",
    "Which planet has rings of ice and rock?",
    "Who wins the match in the last minute?",
)


def make_videos(
    directory: Path,
    *,
    samples: Sequence[SampleVideo] = SAMPLES,
    size: tuple[int, int] = (640, 360),
    fps: float = 12.0,
) -> list[Path]:
    """Write the sample videos into ``directory`` (H.264 + AAC + subtitles); return paths.

    Needs the ``emulator`` extra (PyAV).

    Example:
        >>> make_videos(Path("/tmp/demo"))  # doctest: +SKIP
        [PosixPath('/tmp/demo/cooking.mp4'), ...]
    """
    from ..emulator import make_sample_video

    paths = []
    for seed, sample in enumerate(samples):
        paths.append(
            make_sample_video(
                directory / sample.filename,
                duration_s=sample.duration_s,
                size=size,
                fps=fps,
                scenes=list(sample.scenes),
                subtitles=list(sample.subtitles),
                seed=seed,
            )
        )
    return paths
