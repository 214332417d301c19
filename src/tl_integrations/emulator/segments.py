"""Cut a probed video into segments and embed each one for the requested options.

Segment rules follow the API: fixed clips of ``clip_length_s`` (2-10 s, default 6) from the
window start, a last clip shorter than 2 s dropped; a ``video``/``asset`` scope row spans the
whole window. Vectors come from ``semantics``: subtitle words plus colour statistics for
``visual``, the words alone for ``transcription``, and the sound besides speech for ``audio``
(speech too on Marengo 2.7).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import semantics
from .media import MediaInfo

__all__ = [
    "SegmentSet",
    "build_segments",
    "clip_bounds",
    "index_bounds",
    "scene_bounds",
    "segment_text",
]

MIN_LAST_CLIP_S = 2.0
_CLIP_SCOPE = "clip"


@dataclass
class SegmentSet:
    """Segment vectors of one video: a float32 matrix plus parallel per-row attributes.

    Example:
        >>> s = SegmentSet.empty(dim=4)
        >>> s.vectors.shape, len(s)
        ((0, 4), 0)
    """

    vectors: NDArray[np.float32]
    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    option: list[str]
    scope: list[str]

    @classmethod
    def empty(cls, *, dim: int) -> SegmentSet:
        """A set with no rows."""
        zero = np.zeros(0, np.float64)
        return cls(np.zeros((0, dim), np.float32), zero, zero.copy(), [], [])

    def __len__(self) -> int:
        return len(self.option)

    def rows(self, *, options: list[str] | None = None, scope: str | None = None) -> list[int]:
        """Indices of rows with one of ``options`` (all when None) and the given scope."""
        return [
            i
            for i in range(len(self))
            if (options is None or self.option[i] in options)
            and (scope is None or self.scope[i] == scope)
        ]

    def only(self, option: str) -> SegmentSet:
        """The rows of one option, as a new set.

        Example:
            >>> SegmentSet.empty(dim=2).only("fused").vectors.shape
            (0, 2)
        """
        keep = [i for i, o in enumerate(self.option) if o == option]
        return SegmentSet(
            self.vectors[keep],
            self.start_s[keep],
            self.end_s[keep],
            [option] * len(keep),
            [self.scope[i] for i in keep],
        )


def clip_bounds(start_s: float, end_s: float, *, clip_length_s: float) -> list[tuple[float, float]]:
    """Fixed-length clips covering ``[start_s, end_s)``; a tail under 2 s is dropped.

    Example:
        >>> clip_bounds(0.0, 14.5, clip_length_s=6.0)
        [(0.0, 6.0), (6.0, 12.0), (12.0, 14.5)]
        >>> clip_bounds(0.0, 31.0, clip_length_s=6.0)[-1]
        (24.0, 30.0)
    """
    bounds: list[tuple[float, float]] = []
    t = start_s
    while t < end_s - 1e-9:
        end = min(t + clip_length_s, end_s)
        if end - t < MIN_LAST_CLIP_S and bounds:
            break
        bounds.append((round(t, 3), round(end, 3)))
        t = end
    return bounds


def scene_bounds(
    info: MediaInfo, start_s: float, end_s: float, *, min_duration_s: float
) -> list[tuple[float, float]]:
    """Clips cut at scene changes, merged until each lasts at least ``min_duration_s``.

    Example:
        >>> scene_bounds(info, 0.0, 12.0, min_duration_s=2.0)  # doctest: +SKIP
        [(0.0, 3.0), (3.0, 6.0), (6.0, 9.0), (9.0, 12.0)]
    """
    cuts = semantics.scene_cuts(info.colours, sample_step_s=info.sample_step_s)
    edges = [start_s] + [c for c in cuts if start_s < c < end_s] + [end_s]
    bounds: list[tuple[float, float]] = []
    begin = edges[0]
    for edge in edges[1:]:
        if edge - begin >= min_duration_s or edge == end_s:
            bounds.append((round(begin, 3), round(edge, 3)))
            begin = edge
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < min_duration_s:
        last = bounds.pop()
        bounds[-1] = (bounds[-1][0], last[1])
    return bounds


def index_bounds(info: MediaInfo, *, max_clip_s: float = 6.0) -> list[tuple[float, float]]:
    """Clips of an indexed video: scenes (cut at colour changes, at least 2 s), each split
    evenly into pieces of at most ``max_clip_s``; together they cover the whole video.

    Example:
        >>> index_bounds(info)  # doctest: +SKIP
        [(0.0, 3.0), (3.0, 6.0), (6.0, 9.0), (9.0, 12.0)]
    """
    bounds: list[tuple[float, float]] = []
    for start, end in scene_bounds(info, 0.0, info.duration_s, min_duration_s=MIN_LAST_CLIP_S):
        pieces = max(1, math.ceil((end - start) / max_clip_s - 1e-9))
        step = (end - start) / pieces
        bounds += [
            (round(start + i * step, 3), round(start + (i + 1) * step, 3)) for i in range(pieces)
        ]
    return bounds


def segment_text(info: MediaInfo, start_s: float, end_s: float) -> str:
    """The subtitle lines overlapping ``[start_s, end_s)``, joined by spaces.

    Example:
        >>> segment_text(info, 0.0, 6.0)  # doctest: +SKIP
        'This is the red scene.'
    """
    return semantics.segment_text(info, start_s=start_s, end_s=end_s)


def _option_vector(
    option: str, info: MediaInfo, span: tuple[float, float], dim: int, *, speech_in_audio: bool
) -> NDArray[np.float32]:
    text = segment_text(info, *span)
    colours = semantics.segment_colours(info, start_s=span[0], end_s=span[1])
    if option == "transcription":
        return (
            semantics.embed_text(text, dim=dim)
            if text
            else semantics.embed_segment(text="", colours=colours, dim=dim)
        )
    if option == "audio":
        # No picture in the audio space. Marengo 3.0 hears only non-speech sound there (speech
        # is the transcription option); Marengo 2.7 hears everything, words too.
        sound = semantics.sound_description(has_audio=info.has_audio)
        heard = f"{text} {sound}" if speech_in_audio and info.has_audio else sound
        return semantics.embed_text(heard, dim=dim)
    return semantics.embed_segment(text=text, colours=colours, dim=dim)


def build_segments(
    info: MediaInfo,
    *,
    dim: int,
    options: Sequence[str],
    scopes: Sequence[str],
    bounds: Sequence[tuple[float, float]],
    window: tuple[float, float],
    video_scope: str = "video",
    fused: bool = False,
) -> SegmentSet:
    """Embed every (option x clip) plus one whole-window row per option when asked.

    Rows are grouped by option: clips in time order, then the ``video_scope`` row. With
    ``fused``, one extra ``"fused"`` row per span averages the options' vectors.

    Example:
        >>> s = build_segments(info, dim=512, options=["visual"], scopes=["clip", "video"],
        ...                    bounds=[(0, 6), (6, 12)], window=(0, 12))  # doctest: +SKIP
        >>> s.scope  # doctest: +SKIP
        ['clip', 'clip', 'video']
    """
    spans = list(bounds) if _CLIP_SCOPE in scopes else []
    tail = [window] if video_scope in scopes else []
    labels = list(options) + (["fused"] if fused else [])
    # Only Marengo 2.7 has the visual-text option, and only its audio includes speech.
    speech_in_audio = "visual-text" in options
    rows: list[NDArray[np.float32]] = []
    start: list[float] = []
    end: list[float] = []
    option_col: list[str] = []
    scope_col: list[str] = []
    for label in labels:
        for span, scope in [(s, _CLIP_SCOPE) for s in spans] + [(w, video_scope) for w in tail]:
            rows.append(_vector(label, info, span, dim, options, speech_in_audio))
            start.append(span[0])
            end.append(span[1])
            option_col.append(label)
            scope_col.append(scope)
    if not rows:
        return SegmentSet.empty(dim=dim)
    matrix = np.vstack(rows).astype(np.float32)
    return SegmentSet(matrix, np.asarray(start), np.asarray(end), option_col, scope_col)


def _vector(
    label: str,
    info: MediaInfo,
    span: tuple[float, float],
    dim: int,
    options: Sequence[str],
    speech_in_audio: bool,
) -> NDArray[np.float32]:
    if label != "fused":
        return _option_vector(label, info, span, dim, speech_in_audio=speech_in_audio)
    total = np.zeros(dim, np.float32)
    for option in options:
        total += _option_vector(option, info, span, dim, speech_in_audio=speech_in_audio)
    norm = float(np.linalg.norm(total))
    return total / np.float32(norm) if norm > 0 else total
