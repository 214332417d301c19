"""Value types shared by the emulator's media writer and prober."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "COLOURS",
    "Colour",
    "MediaError",
    "MediaInfo",
    "Picture",
    "SceneSpec",
    "StreamFacts",
    "Utterance",
]

#: Named colours accepted by :func:`make_sample_video` (8-bit RGB).
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (40, 70, 220),
    "yellow": (235, 215, 50),
    "purple": (140, 60, 180),
    "orange": (245, 140, 30),
    "cyan": (40, 200, 210),
    "magenta": (215, 50, 170),
    "white": (235, 235, 235),
    "grey": (128, 128, 128),
    "black": (16, 16, 16),
}

Colour: TypeAlias = "str | tuple[float, float, float]"
SceneSpec: TypeAlias = "Colour | tuple[float, float, Colour]"


class MediaError(Exception):
    """A file cannot be used as a video; ``code`` is the TwelveLabs error code to answer with.

    Example:
        >>> err = MediaError("not a media file: notes.mp4", code="video_file_broken")
        >>> (err.code, str(err))
        ('video_file_broken', 'not a media file: notes.mp4')
    """

    def __init__(self, message: str = "", *, code: str = "video_file_broken") -> None:
        super().__init__(message or code)
        self.code = code


@dataclass(frozen=True)
class StreamFacts:
    """What a container says about itself: format, duration and its streams.

    ``video`` and ``audio`` hold one dict per stream with the keys of the API's
    ``technical_metadata`` stream objects (``index``, ``codec``, ``width`` ...);
    ``picture_rgb`` is the mean colour of a still image (None for anything else).

    Example:
        >>> StreamFacts("mp3", 3.0, None, (), ({"codec": "mp3"},)).audio[0]["codec"]
        'mp3'
    """

    container: str
    duration_s: float
    bit_rate: int | None
    video: tuple[dict[str, Any], ...]
    audio: tuple[dict[str, Any], ...]
    picture_rgb: tuple[int, int, int] | None = None


@dataclass(frozen=True)
class Utterance:
    """One timed subtitle line.

    Example:
        >>> Utterance(0.5, 2.0, "Hello there.").end_s
        2.0
    """

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True, eq=False)
class MediaInfo:
    """What :func:`probe` learned about a video (or :func:`probe_audio` about a sound file).

    ``colours[i]`` is the mean RGB (floats in [0, 1]) of a frame taken near
    ``(i + 0.5) * sample_step_s``; ``sample_step_s`` may be larger than requested when the
    video is long (see ``max_samples`` in :func:`probe`). ``sounds[i]`` is the loudness
    (dBFS) and the dominant pitch (Hz, 0 in silence) of the sound at the same times; None
    when the file has no sound, or was probed before sounds were read. A sound file has
    no picture: no colours, width and height 0.

    Example:
        >>> info = MediaInfo("a.mp4", 10, 4.0, 24.0, 640, 360, False, (),
        ...                  np.zeros((4, 3), np.float32), 1.0)
        >>> MediaInfo.from_dict(info.to_dict()).duration_s
        4.0
    """

    filename: str
    size_bytes: int
    duration_s: float
    fps: float
    width: int
    height: int
    has_audio: bool
    utterances: tuple[Utterance, ...]
    colours: NDArray[np.float32]
    sample_step_s: float
    sounds: NDArray[np.float32] | None = None

    @property
    def transcript(self) -> str:
        """All subtitle lines joined by spaces.

        Example:
            >>> MediaInfo("a.mp4", 1, 4.0, 24.0, 8, 8, False, (Utterance(0, 1, "Hi."),),
            ...           np.zeros((0, 3), np.float32), 1.0).transcript
            'Hi.'
        """
        return " ".join(u.text for u in self.utterances)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for persisting); :meth:`from_dict` reverses it.

        Example:
            >>> MediaInfo("a.mp4", 1, 4.0, 24.0, 8, 8, False, (),
            ...           np.zeros((0, 3), np.float32), 1.0).to_dict()["width"]
            8
        """
        return {
            "filename": self.filename,
            "size_bytes": self.size_bytes,
            "duration_s": self.duration_s,
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "has_audio": self.has_audio,
            "utterances": [[u.start_s, u.end_s, u.text] for u in self.utterances],
            "colours": self.colours.astype(float).tolist(),
            "sample_step_s": self.sample_step_s,
            "sounds": None if self.sounds is None else self.sounds.astype(float).tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaInfo:
        """Rebuild a :class:`MediaInfo` from :meth:`to_dict` output.

        Example:
            >>> d = {"filename": "a.mp4", "size_bytes": 1, "duration_s": 4.0, "fps": 24.0,
            ...      "width": 8, "height": 8, "has_audio": True, "utterances": [[0, 1, "Hi"]],
            ...      "colours": [[0.5, 0.5, 0.5]], "sample_step_s": 1.0}
            >>> MediaInfo.from_dict(d).utterances[0].text
            'Hi'
        """
        colours = np.asarray(data["colours"], dtype=np.float32).reshape(-1, 3)
        sounds = data.get("sounds")  # absent from states saved before sounds were read
        utterances = tuple(Utterance(float(s), float(e), str(t)) for s, e, t in data["utterances"])
        return cls(
            filename=str(data["filename"]),
            size_bytes=int(data["size_bytes"]),
            duration_s=float(data["duration_s"]),
            fps=float(data["fps"]),
            width=int(data["width"]),
            height=int(data["height"]),
            has_audio=bool(data["has_audio"]),
            utterances=utterances,
            colours=colours,
            sample_step_s=float(data["sample_step_s"]),
            sounds=None if sounds is None else np.asarray(sounds, np.float32).reshape(-1, 2),
        )


@dataclass(frozen=True, eq=False)
class Picture:
    """What :func:`probe_picture` read from an image's pixels.

    ``cells`` are the mean RGB (floats in [0, 1]) of a 4 x 4 grid over the picture, row by
    row; ``layout`` the mean brightness of an 8 x 8 grid, centred and scaled (what the
    picture looks like without its colours).

    Example:
        >>> Picture("a.png", 10, 64, 48, np.zeros((16, 3), np.float32),
        ...         np.zeros(64, np.float32)).cells.shape
        (16, 3)
    """

    filename: str
    size_bytes: int
    width: int
    height: int
    cells: NDArray[np.float32]
    layout: NDArray[np.float32]
