"""An asset's transcription in its three segmentations, built from the media's subtitles.

The emulator has no speech recognition: the subtitle lines stand for what is said. Each line
is one utterance (one speaker turn); sentences and words split a line and share its time
span in proportion to their length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._media import MediaInfo, Utterance

__all__ = ["SEGMENTATIONS", "Span", "segment"]

SEGMENTATIONS = ("words", "sentences", "utterances")
SPEAKER = "speaker_0"
_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")


@dataclass(frozen=True)
class Span:
    """One timed piece of the transcript (``speaker`` only on utterances).

    Example:
        >>> Span(0.0, 1.0, "Hello.", "speaker_0").value
        'Hello.'
    """

    start: float
    end: float
    value: str
    speaker: str | None = None


def _spread(line: Utterance, pieces: list[str]) -> list[Span]:
    """Share the line's time among ``pieces`` in proportion to their length."""
    weights = [len(p) + 1 for p in pieces]
    total = sum(weights) or 1
    spans, at = [], line.start_s
    length = line.end_s - line.start_s
    for piece, weight in zip(pieces, weights, strict=True):
        end = at + length * weight / total
        spans.append(Span(round(at, 3), round(end, 3), piece))
        at = end
    return spans


def segment(info: MediaInfo | None, segmentation: str) -> list[Span]:
    """The transcript split into ``words``, ``sentences`` or ``utterances``.

    Example:
        >>> import numpy as np
        >>> info = MediaInfo("a.mp4", 1, 4.0, 24.0, 8, 8, True,
        ...                  (Utterance(0.0, 2.0, "Hi there. Bye!"),), np.zeros((0, 3)), 1.0)
        >>> [s.value for s in segment(info, "sentences")]
        ['Hi there.', 'Bye!']
        >>> segment(info, "words")[0]
        Span(start=0.0, end=0.462, value='Hi', speaker=None)
    """
    lines = info.utterances if info is not None else ()
    if segmentation == "utterances":
        return [Span(u.start_s, u.end_s, u.text, SPEAKER) for u in lines]
    spans: list[Span] = []
    for line in lines:
        if segmentation == "sentences":
            pieces = [s.strip() for s in _SENTENCE.findall(line.text) if s.strip()]
        else:
            pieces = [w.strip(".,;:!?\"'") for w in line.text.split()]
            pieces = [w for w in pieces if w]
        spans += _spread(line, pieces)
    return spans
