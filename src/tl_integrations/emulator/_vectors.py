"""Deterministic stand-in embeddings: hashed word vectors plus a small colour component.

A text and a video segment land in the same space: a segment is embedded from the subtitle words
spoken in it and the names of its dominant colours, so a text query that names what a segment says
ranks that segment first. Sound is embedded from words naming its loudness and pitch ("loud",
"pitch+5"...), read from the real samples; a picture from the names of its colours, cell by
cell, plus a fixed projection of its light layout. The same input always gives the same float32
unit vector; :func:`uncertainty` derives the per-dimension uncertainty Marengo 3.5 can return.
"""

from __future__ import annotations

import functools
import hashlib
import re

import numpy as np
from numpy.typing import NDArray

from ._media import COLOURS, MediaInfo, Picture, Utterance

__all__ = [
    "colour_share",
    "embed_picture",
    "embed_sound",
    "embed_text",
    "segment_colours",
    "segment_sounds",
    "segment_text",
    "sound_words",
    "tokenize",
    "uncertainty",
]

_QUIET_DB = -30.0
_SILENT_DB = -60.0
_LAYOUT_WEIGHT = 0.5

_STOP_TEXT = (
    "a an the is are was were be been am of to and or in on at by for with as it its this that "
    "these those there here i you he she we they me him her us them my your our their do does did "
    "so but if then than not no over up down out into from about what which who whom how when "
    "where why will would can could shall should has have had just very all some any"
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
PALETTE_NAMES = tuple(COLOURS)
PALETTE = np.asarray([COLOURS[n] for n in PALETTE_NAMES], dtype=np.float32) / 255.0


def tokenize(text: str) -> list[str]:
    """Normalised content words: lowercase, punctuation and stop words dropped, plurals folded.

    Example:
        >>> tokenize("The kites are RED, aren't they? Flies, boxes!")
        ['kite', 'red', "aren't", 'fly', 'box']
    """
    return [stem for stem, _ in stemmed_words(text)]


def stemmed_words(text: str) -> list[tuple[str, str]]:
    """(stem, surface) pairs of the content words of ``text``."""
    return [(_stem(w), w) for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS]


def _stem(word: str) -> str:
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=4096)  # at most 16 MB of 1024-d word vectors
def _word_vector(word: str, dim: int) -> NDArray[np.float32]:
    seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    vector /= np.float32(np.linalg.norm(vector))
    vector.setflags(write=False)
    return vector


def _unit(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    norm = float(np.linalg.norm(vector))
    return vector / np.float32(norm) if norm > 0 else vector


def _bag(words: list[str], dim: int) -> NDArray[np.float32]:
    total = np.zeros(dim, dtype=np.float32)
    for word in words:
        total += _word_vector(word, dim)
    return total


def embed_text(text: str, *, dim: int) -> NDArray[np.float32]:
    """Embed text as the normalised sum of its words' hashed vectors (float32, unit norm).

    Text without content words maps to one fixed vector, so the result is always unit norm.

    Example:
        >>> v = embed_text("A red kite", dim=512)
        >>> v.shape, round(float(v @ v), 5), bool(v @ embed_text("red kites!", dim=512) > 0.99)
        ((512,), 1.0, True)
    """
    words = tokenize(text) or ["<empty>"]
    return _unit(_bag(words, dim))


def _colour_vector(colours: NDArray[np.float32], dim: int) -> NDArray[np.float32]:
    """Colour statistics in the text space: the names of the nearest palette colours."""
    nearest = _palette_index(colours)
    if not len(nearest):
        return np.zeros(dim, dtype=np.float32)
    counts = np.bincount(nearest, minlength=len(PALETTE_NAMES))
    total = np.zeros(dim, dtype=np.float32)
    for index in np.flatnonzero(counts):
        total += np.float32(counts[index]) * _word_vector(PALETTE_NAMES[index], dim)
    return _unit(total)


def _palette_index(colours: NDArray[np.float32]) -> NDArray[np.intp]:
    """The nearest palette colour of each sample."""
    samples = np.asarray(colours, dtype=np.float32).reshape(-1, 3)
    distances = ((samples[:, None, :] - PALETTE[None, :, :]) ** 2).sum(axis=2)
    return np.asarray(distances.argmin(axis=1), dtype=np.intp)


def colour_share(colours: NDArray[np.float32], rgb: tuple[int, int, int]) -> float:
    """The share of ``colours`` (samples in [0, 1]) nearest to the same palette colour as
    ``rgb`` (8-bit): how much of a clip shows something of that colour.

    Example:
        >>> samples = np.array([[0.85, 0.15, 0.15]] * 3 + [[0.15, 0.27, 0.85]], np.float32)
        >>> colour_share(samples, (200, 30, 30))
        0.75
    """
    found = _palette_index(colours)
    if not len(found):
        return 0.0
    wanted = _palette_index(np.asarray(rgb, dtype=np.float32)[None, :] / 255.0)[0]
    return float(np.mean(found == wanted))


def embed_segment(
    *, text: str, colours: NDArray[np.float32], dim: int, colour_weight: float = 0.25
) -> NDArray[np.float32]:
    """Embed a video segment in the same space as :func:`embed_text`.

    The words spoken in the segment dominate; the colours add ``colour_weight`` of the vectors
    of their nearest colour names (so "red" also finds red scenes a little).

    Args:
        text: The words spoken in the segment (see :func:`segment_text`).
        colours: ``(n, 3)`` mean RGB samples in [0, 1] inside the segment.
        dim: Vector size (1024 for Marengo 2.7, 512 for Marengo 3.0).
        colour_weight: Weight of the colour part relative to the (unit) word part.

    Example:
        >>> seg = embed_segment(text="A red kite.", colours=np.zeros((0, 3), np.float32), dim=512)
        >>> bool(seg @ embed_text("kite", dim=512) > 0.5)
        True
    """
    words = tokenize(text)
    speech = _unit(_bag(words, dim)) if words else np.zeros(dim, dtype=np.float32)
    picture = _colour_vector(colours, dim)
    combined = speech + np.float32(colour_weight) * picture
    if not float(np.abs(combined).sum()):
        return embed_text("", dim=dim)
    return _unit(combined)


def segment_text(info: MediaInfo, *, start_s: float, end_s: float) -> str:
    """The subtitle lines overlapping ``[start_s, end_s)``, joined by spaces.

    Example:
        >>> segment_text(_demo_info(), start_s=0, end_s=4)
        'A red kite flies.'
    """
    return " ".join(u.text for u in info.utterances if u.start_s < end_s and u.end_s > start_s)


def segment_colours(info: MediaInfo, *, start_s: float, end_s: float) -> NDArray[np.float32]:
    """The colour samples whose time falls inside ``[start_s, end_s)`` (at least one if any).

    Example:
        >>> segment_colours(_demo_info(), start_s=0, end_s=2).shape
        (2, 3)
    """
    step = info.sample_step_s
    times = (np.arange(len(info.colours)) + 0.5) * step
    inside = info.colours[(times >= start_s) & (times < end_s)]
    if len(inside) or not len(info.colours):
        return inside
    nearest = min(int(start_s / step), len(info.colours) - 1)
    return info.colours[nearest : nearest + 1]


def segment_sounds(info: MediaInfo, *, start_s: float, end_s: float) -> NDArray[np.float32]:
    """The sound samples (loudness, pitch) whose time falls inside ``[start_s, end_s)``.

    Example:
        >>> segment_sounds(_demo_info(), start_s=0, end_s=2).tolist()
        [[-20.0, 440.0], [-20.0, 440.0]]
    """
    if info.sounds is None or not len(info.sounds):
        return np.zeros((0, 2), np.float32)
    step = info.sample_step_s
    times = (np.arange(len(info.sounds)) + 0.5) * step
    inside = info.sounds[(times >= start_s) & (times < end_s)]
    if len(inside):
        return inside
    nearest = min(int(start_s / step), len(info.sounds) - 1)
    return info.sounds[nearest : nearest + 1]


def sound_words(sounds: NDArray[np.float32]) -> list[str]:
    """Words for sound samples: how loud (``silence``, ``quiet``, ``loud``) and, when there
    is a sound, its pitch in semitones from A4 (``pitch+0`` is 440 Hz).

    Example:
        >>> sound_words(np.array([[-20.0, 880.0], [-90.0, 0.0]], np.float32))
        ['loud', 'pitch+12', 'silence']
    """
    words: list[str] = []
    for loudness, pitch in np.asarray(sounds, np.float32).reshape(-1, 2).tolist():
        if loudness < _SILENT_DB:
            words.append("silence")
            continue
        words.append("quiet" if loudness < _QUIET_DB else "loud")
        if pitch > 0:
            words.append(f"pitch{round(12 * np.log2(pitch / 440.0)):+d}")
    return words


def embed_sound(sounds: NDArray[np.float32], *, dim: int) -> NDArray[np.float32]:
    """Embed sound samples as the normalised sum of their words' vectors (silence when none).

    Example:
        >>> loud = embed_sound(np.array([[-20.0, 440.0]], np.float32), dim=64)
        >>> bool(loud @ embed_text("loud", dim=64) > 0.5)
        True
    """
    return _unit(_bag(sound_words(sounds) or ["silence"], dim))


@functools.lru_cache(maxsize=8)
def _layout_projection(dim: int) -> NDArray[np.float32]:
    rng = np.random.default_rng(0x7E1A)
    matrix: NDArray[np.float32] = rng.standard_normal((64, dim)).astype(np.float32)
    matrix /= np.float32(8.0)
    matrix.setflags(write=False)
    return matrix


def embed_picture(picture: Picture, *, dim: int) -> NDArray[np.float32]:
    """Embed an image from its pixels: the colour names of its 16 cells (so "red" finds red
    pictures, as it finds red scenes) plus a projection of its light layout (so two pictures
    of the same colours but different shapes differ).

    Example:
        >>> red = Picture("r.png", 1, 4, 4, np.tile([[0.86, 0.16, 0.16]], (16, 1)).astype(
        ...     np.float32), np.zeros(64, np.float32))
        >>> bool(embed_picture(red, dim=64) @ embed_text("red", dim=64) > 0.9)
        True
    """
    colours = _colour_vector(picture.cells, dim)
    layout = np.asarray(picture.layout, np.float32) @ _layout_projection(dim)
    return _unit(colours + np.float32(_LAYOUT_WEIGHT / 8.0) * layout)


def uncertainty(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    """A per-dimension uncertainty in (0, 1] for a unit vector: dimensions with little weight
    are the least certain. Computed on the full vector, so a prefix of it is the uncertainty
    of the same prefix of the vector.

    Example:
        >>> u = uncertainty(np.array([1.0, 0.0], np.float32))
        >>> bool(u[1] > u[0]), u.dtype
        (True, dtype('float32'))
    """
    scale = np.float32(np.sqrt(len(vector)))
    found: NDArray[np.float32] = np.exp(-np.abs(np.asarray(vector, np.float32)) * scale)
    return found.astype(np.float32)


def _demo_info() -> MediaInfo:
    """A tiny 8 s video (red then blue, two subtitle lines) for the examples."""
    colours = np.array([[0.85, 0.15, 0.15]] * 4 + [[0.15, 0.27, 0.85]] * 4, dtype=np.float32)
    lines = (Utterance(0.5, 3.0, "A red kite flies."), Utterance(4.5, 7.0, "The sea is calm."))
    sounds = np.array([[-20.0, 440.0]] * 4 + [[-20.0, 660.0]] * 4, dtype=np.float32)
    return MediaInfo("demo.mp4", 1000, 8.0, 24.0, 640, 360, True, lines, colours, 1.0, sounds)
