"""Cut a probed video into segments and embed each one for the requested options.

Segment rules follow the API: fixed clips of ``clip_length_s`` (2-10 s, default 6) from the
window start, a last clip shorter than 2 s dropped; a ``video``/``asset`` scope row spans the
whole window. Vectors come from ``semantics`` (subtitle words plus colour statistics) and,
for the ``audio`` option, from the sound: what that option means depends on the model
(:data:`AUDIO_MEANING`). Rows of documents also carry pages, quadrants and chunk numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _semantics as semantics
from ._media import Document, MediaInfo
from ._vectors import embed_sound, segment_sounds

__all__ = [
    "AUDIO_MEANING",
    "SegmentSet",
    "build_segments",
    "clip_bounds",
    "document_segments",
    "index_bounds",
    "scene_bounds",
    "segment_text",
    "single_row",
]

MIN_LAST_CLIP_S = 2.0
_CLIP_SCOPE = "clip"
_QUADRANTS = ("top_left", "top_right", "bottom_left", "bottom_right")
_PAPER = np.asarray([[0.96, 0.96, 0.96]], np.float32)  # a page is white paper
#: What the ``audio`` embedding option hears, per model: Marengo 2.7's audio was the speech;
#: on Marengo 3.0 it is the non-speech sound (speech is ``transcription``); Marengo 3.5 has no
#: transcription, so its audio is both.
AUDIO_MEANING = {
    "Marengo-retrieval-2.7": "speech",
    "marengo2.7": "speech",
    "marengo3.0": "sound",
    "marengo3.5": "both",
}


@dataclass
class SegmentSet:
    """Segment vectors of one video: a float32 matrix plus parallel per-row attributes.

    ``option`` and ``scope`` are ``""`` where the API says null (a query, a synchronous
    image); ``start_s``/``end_s`` are NaN for rows without time. Document rows also have
    ``start_page``/``end_page`` (1-based, 0: not a page), ``quadrant`` (``""``: the whole
    page) and ``chunk_index`` (-1: not a chunk); other sets have None there.

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
    start_page: NDArray[np.int64] | None = None
    end_page: NDArray[np.int64] | None = None
    quadrant: list[str] | None = None
    chunk_index: NDArray[np.int64] | None = None

    @property
    def documentary(self) -> bool:
        """Whether the rows carry page, quadrant and chunk columns (a document's set)."""
        return self.start_page is not None

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
        return self.take(keep)

    def take(self, rows: Sequence[int]) -> SegmentSet:
        """The given rows, in that order, as a new set (every column kept).

        Example:
            >>> SegmentSet.empty(dim=2).take([]).vectors.shape
            (0, 2)
        """
        keep = list(rows)
        return SegmentSet(
            self.vectors[keep],
            self.start_s[keep],
            self.end_s[keep],
            [self.option[i] for i in keep],
            [self.scope[i] for i in keep],
            None if self.start_page is None else self.start_page[keep],
            None if self.end_page is None else self.end_page[keep],
            None if self.quadrant is None else [self.quadrant[i] for i in keep],
            None if self.chunk_index is None else self.chunk_index[keep],
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
    option: str, info: MediaInfo, span: tuple[float, float], dim: int, audio: str
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
        return _audio_vector(info, span, dim, text=text if info.has_audio else "", audio=audio)
    return semantics.embed_segment(text=text, colours=colours, dim=dim)


def _audio_vector(
    info: MediaInfo, span: tuple[float, float], dim: int, *, text: str, audio: str
) -> NDArray[np.float32]:
    """The ``audio`` option: speech (2.7), sound without speech (3.0), or both (3.5).

    No picture in the audio space; a file without sound has only its silence.
    """
    speech = semantics.embed_segment(text=text, colours=np.zeros((0, 3), np.float32), dim=dim)
    if audio == "speech":
        return speech
    sound = embed_sound(segment_sounds(info, start_s=span[0], end_s=span[1]), dim=dim)
    if audio == "sound" or not text:
        return sound
    both: NDArray[np.float32] = speech + np.float32(0.5) * sound
    both /= np.float32(np.linalg.norm(both))
    return both


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
    audio: str = "speech",
) -> SegmentSet:
    """Embed every (option x clip) plus one whole-window row per option when asked.

    Rows are grouped by option: clips in time order, then the ``video_scope`` row. With
    ``fused``, one extra ``"fused"`` row per span averages the options' vectors. ``audio``
    says what the ``audio`` option hears (see :data:`AUDIO_MEANING`).

    Example:
        >>> s = build_segments(info, dim=512, options=["visual"], scopes=["clip", "video"],
        ...                    bounds=[(0, 6), (6, 12)], window=(0, 12))  # doctest: +SKIP
        >>> s.scope  # doctest: +SKIP
        ['clip', 'clip', 'video']
    """
    spans = list(bounds) if _CLIP_SCOPE in scopes else []
    tail = [window] if video_scope in scopes else []
    labels = list(options) + (["fused"] if fused else [])
    rows: list[NDArray[np.float32]] = []
    start: list[float] = []
    end: list[float] = []
    option_col: list[str] = []
    scope_col: list[str] = []
    for label in labels:
        for span, scope in [(s, _CLIP_SCOPE) for s in spans] + [(w, video_scope) for w in tail]:
            rows.append(_vector(label, info, span, dim, options, audio))
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
    audio: str,
) -> NDArray[np.float32]:
    if label != "fused":
        return _option_vector(label, info, span, dim, audio)
    total = np.zeros(dim, np.float32)
    for option in options:
        total += _option_vector(option, info, span, dim, audio)
    norm = float(np.linalg.norm(total))
    return total / np.float32(norm) if norm > 0 else total


def single_row(
    vector: NDArray[np.float32], *, option: str = "", scope: str = "", document: bool = False
) -> SegmentSet:
    """A set of one row without time (a query, an image, a mix); ``""`` option and scope
    are rendered as null.

    Example:
        >>> single_row(np.ones(2, np.float32), option="visual", scope="asset").scope
        ['asset']
    """
    nan = np.full(1, np.nan)
    rows = SegmentSet(np.asarray(vector, np.float32)[None, :], nan, nan.copy(), [option], [scope])
    if document:
        rows.start_page, rows.end_page = np.zeros(1, np.int64), np.zeros(1, np.int64)
        rows.quadrant, rows.chunk_index = [""], np.full(1, -1, np.int64)
    return rows


def _page_vector(text: str, dim: int) -> NDArray[np.float32]:
    return semantics.embed_segment(text=text, colours=_PAPER, dim=dim)


def _quarters(text: str) -> list[str]:
    """A page's words in four parts, in reading order (the emulator knows no layout)."""
    words = text.split()
    size = max(1, -(-len(words) // 4))
    return [" ".join(words[i * size : (i + 1) * size]) for i in range(4)]


def document_segments(
    doc: Document,
    *,
    dim: int,
    options: Sequence[str],
    scopes: Sequence[str],
    quadrants: bool = False,
    chunks: Sequence[str] = (),
) -> SegmentSet:
    """The rows of a document task: pages (and their quarters) of a PDF for visual/local,
    one row for the whole file per option for asset, one per text chunk for text/local.

    Example:
        >>> doc = Document("a.pdf", 9, "pdf", ("A red kite.", "The sea."), "A red kite. The sea.")
        >>> rows = document_segments(doc, dim=8, options=["visual"], scopes=["local"])
        >>> rows.scope, rows.start_page.tolist()
        (['page', 'page'], [1, 2])
    """
    vectors: list[NDArray[np.float32]] = []
    cols: dict[str, list[Any]] = {k: [] for k in ("option", "scope", "page", "quadrant", "chunk")}

    def add(
        vector: NDArray[np.float32],
        option: str,
        scope: str,
        page: int = 0,
        quadrant: str = "",
        chunk: int = -1,
    ) -> None:
        vectors.append(vector)
        for key, value in zip(cols, (option, scope, page, quadrant, chunk), strict=True):
            cols[key].append(value)

    for option in options:
        if "local" in scopes and option == "visual":
            for number, text in enumerate(doc.pages, start=1):
                add(_page_vector(text, dim), option, "page", number)
                if quadrants:
                    for name, part in zip(_QUADRANTS, _quarters(text), strict=True):
                        add(_page_vector(part, dim), option, "page", number, name)
        if "local" in scopes and option == "text":
            for index, chunk in enumerate(chunks):
                add(semantics.embed_text(chunk, dim=dim), option, "chunk", chunk=index)
        if "asset" in scopes:
            whole = (
                _page_vector(doc.text, dim)
                if option == "visual"
                else (semantics.embed_text(doc.text, dim=dim))
            )
            add(whole, option, "asset")
    if not vectors:
        return SegmentSet.empty(dim=dim)
    nan = np.full(len(vectors), np.nan)
    pages = np.asarray(cols["page"], np.int64)
    return SegmentSet(
        np.vstack(vectors).astype(np.float32),
        nan,
        nan.copy(),
        cols["option"],
        cols["scope"],
        pages,
        pages.copy(),
        cols["quadrant"],
        np.asarray(cols["chunk"], np.int64),
    )
