"""Pure text shaping for ingestion: transcript windows, chapters, records, metadata, ids.

Nothing here does I/O. The engines fetch what TwelveLabs knows about a video and hand it to
these functions, which turn it into :class:`TextPiece` objects and flat metadata.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "CHAPTERS_SCHEMA",
    "CONTENT_KINDS",
    "DEFAULT_CHAPTERS_PROMPT",
    "DEFAULT_SUMMARY_PROMPT",
    "RESERVED_METADATA",
    "ContentKind",
    "MetadataValue",
    "TextPiece",
    "VideoInfo",
    "VideoRecord",
    "chunk_transcript",
    "parse_chapters",
    "piece_id",
    "piece_metadata",
    "segment_pieces",
]

logger = logging.getLogger("tl_integrations._ingest")

ContentKind = Literal["transcript", "summary", "chapters", "segments"]
CONTENT_KINDS: tuple[ContentKind, ...] = ("transcript", "summary", "chapters", "segments")
MetadataValue = str | float | bool
RESERVED_METADATA = frozenset(
    {"source", "video_id", "index_id", "task_id", "asset_id", "filename", "duration_s"}
    | {"content_kind", "start_s", "end_s", "chapter_title", "segment"}
)
"""Metadata keys of every piece; a segment field may not take one of these names."""

DEFAULT_SUMMARY_PROMPT = (
    "Summarize this video in one or two paragraphs: what is shown, what is said, "
    "and the main points a viewer should remember."
)
DEFAULT_CHAPTERS_PROMPT = (
    "Split this video into chapters. For each chapter give its start and end time in "
    "seconds, a short title and a one-paragraph summary."
)

# An object at the top level (not a bare array): structured-output APIs commonly require it.
CHAPTERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "start": {"type": "number", "description": "start time in seconds"},
                    "end": {"type": "number", "description": "end time in seconds"},
                    "title": {"type": "string"},
                    "summary": {"type": "string"},
                },
                "required": ["start", "end", "title", "summary"],
            },
        }
    },
    "required": ["chapters"],
}

# A namespace of our own, so the ids are stable across runs and machines but never collide
# with uuid5 ids other tools derive from the same strings.
_ID_NAMESPACE = uuid.UUID("5b0f3c1e-8a4d-4e43-9b7a-7c1d0e2f4a61")


@dataclass(frozen=True)
class TextPiece:
    """One piece of text about a video, with its place in time when it has one.

    Attributes:
        text: the text (never empty).
        content_kind: ``"transcript"``, ``"summary"``, ``"chapters"`` or ``"segments"``.
        start_s: start of the moment it describes, in seconds; None for a whole-video text.
        end_s: end of that moment, in seconds; None for a whole-video text.
        chapter_title: the chapter's title, for chapters only.
        segment: for segments: the definition it answers (``scene``...).
        fields: for segments: the values of the fields you defined, flattened (lists
            joined with ", ").

    Example:
        >>> TextPiece("Welcome back.", "transcript", start_s=0.0, end_s=4.8).end_s
        4.8
    """

    text: str
    content_kind: ContentKind
    start_s: float | None = None
    end_s: float | None = None
    chapter_title: str | None = None
    segment: str | None = None
    fields: Mapping[str, MetadataValue] | None = None


@dataclass(frozen=True)
class VideoInfo:
    """What identifies one ingested video and where it came from.

    Attributes:
        source: the input exactly as the caller gave it (path, URL or ``video:<id>``).
        video_id: the TwelveLabs video id.
        index_id: the index holding it.
        task_id: the indexing task that produced it, when known (``/tasks`` uploads).
        filename: the file name the server recorded, when known.
        duration_s: the video's duration in seconds, when known.
        asset_id: the asset it was indexed from, when known.

    Example:
        >>> VideoInfo("talk.mp4", "v1", "i1", task_id="t1", filename="talk.mp4").video_id
        'v1'
    """

    source: str
    video_id: str
    index_id: str
    task_id: str | None = None
    filename: str | None = None
    duration_s: float | None = None
    asset_id: str | None = None


@dataclass(frozen=True)
class VideoRecord:
    """A ready video and the text pieces made from it; the unit the engines yield.

    Example:
        >>> info = VideoInfo("a.mp4", "v1", "i1", task_id="t1", filename="a.mp4", duration_s=9.0)
        >>> rec = VideoRecord(info, (TextPiece("Hi there.", "transcript", 0.0, 2.0),))
        >>> [(doc_id == piece_id(info, rec.pieces[0]), meta["start_s"])
        ...  for doc_id, text, meta in rec.items()]
        [(True, 0.0)]
    """

    video: VideoInfo
    pieces: tuple[TextPiece, ...]

    def items(self) -> Iterator[tuple[str, str, dict[str, MetadataValue]]]:
        """Yield ``(stable_id, text, flat_metadata)`` for every piece, in order.

        Example:
            >>> info = VideoInfo("a.mp4", "v1", "i1")
            >>> rec = VideoRecord(info, (TextPiece("All of it.", "summary"),))
            >>> next(rec.items())[2]["content_kind"]
            'summary'
        """
        for piece in self.pieces:
            yield piece_id(self.video, piece), piece.text, piece_metadata(self.video, piece)


def piece_id(video: VideoInfo, piece: TextPiece) -> str:
    """A stable id for a piece: a UUID derived from video id, content kind and start time.

    Reloading the same video gives the same ids, so a vector store replaces entries instead
    of duplicating them. A UUID (rather than the readable key) is accepted by every store,
    including those that insist on UUIDs (Qdrant).

    Example:
        >>> info = VideoInfo("a.mp4", "v1", "i1")
        >>> piece_id(info, TextPiece("x", "summary")) == piece_id(info, TextPiece("y", "summary"))
        True
    """
    start = "video" if piece.start_s is None else f"{piece.start_s:.3f}"
    kind = piece.content_kind if piece.segment is None else f"segments/{piece.segment}"
    return str(uuid.uuid5(_ID_NAMESPACE, f"{video.video_id}/{kind}/{start}"))


def piece_metadata(video: VideoInfo, piece: TextPiece) -> dict[str, MetadataValue]:
    """Flat metadata for one piece; keys whose value is unknown are left out.

    Example:
        >>> info = VideoInfo("a.mp4", "v1", "i1", task_id="t1", filename="a.mp4", duration_s=9.0)
        >>> sorted(piece_metadata(info, TextPiece("s", "summary")))
        ['content_kind', 'duration_s', 'filename', 'index_id', 'source', 'task_id', 'video_id']
    """
    candidates: dict[str, MetadataValue | None] = {
        "source": video.source,
        "video_id": video.video_id,
        "index_id": video.index_id,
        "task_id": video.task_id,
        "asset_id": video.asset_id,
        "filename": video.filename,
        "duration_s": video.duration_s,
        "content_kind": piece.content_kind,
        "start_s": piece.start_s,
        "end_s": piece.end_s,
        "chapter_title": piece.chapter_title,
        "segment": piece.segment,
    }
    flat = {key: value for key, value in candidates.items() if value is not None}
    for key, value in (piece.fields or {}).items():
        flat.setdefault(key, value)
    return flat


def _flat(value: Any) -> MetadataValue | None:
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value) if isinstance(value, float) else value
    if isinstance(value, list):
        return ", ".join(str(_flat(v)) for v in value if _flat(v) is not None)
    return None


def segment_pieces(segments: Iterable[Any], *, text_field: str = "description") -> list[TextPiece]:
    """Segments (``definition``, ``start_s``, ``end_s``, ``fields``) as text pieces.

    The text is the segment's ``text_field`` (a one-line fallback naming the other fields
    when it is empty); every other field is kept as flat metadata.

    Example:
        >>> from types import SimpleNamespace as S
        >>> seg = S(definition="scene", start_s=0.0, end_s=4.0,
        ...         fields={"description": "A kitchen.", "people": ["Ann", "Bob"]})
        >>> piece = segment_pieces([seg])[0]
        >>> piece.text, piece.fields
        ('A kitchen.', {'people': 'Ann, Bob'})
    """
    pieces = []
    for seg in segments:
        fields = {k: f for k, v in seg.fields.items() if (f := _flat(v)) is not None}
        text = str(fields.pop(text_field, "") or "").strip()
        if not text:
            shown = "; ".join(f"{k}: {v}" for k, v in fields.items())
            text = f"{seg.definition} {seg.start_s:.1f}-{seg.end_s:.1f} s" + (
                f" ({shown})" if shown else ""
            )
        safe = {k: v for k, v in fields.items() if k not in RESERVED_METADATA}
        pieces.append(
            TextPiece(
                text,
                "segments",
                seg.start_s,
                seg.end_s,
                segment=seg.definition,
                fields=safe or None,
            )
        )
    return pieces


def chunk_transcript(
    utterances: Iterable[tuple[float, float, str]], *, chunk_s: float
) -> list[TextPiece]:
    """Group utterances into windows of at most ``chunk_s`` seconds, never cutting one.

    A window starts at its first utterance and takes the following ones while they end
    within ``chunk_s`` of that start. An utterance longer than ``chunk_s`` gets a window of
    its own. Blank utterances are ignored, so silence yields no pieces at all.

    Args:
        utterances: ``(start_s, end_s, text)`` triples, in any order.
        chunk_s: the window length in seconds (> 0).

    Returns:
        Transcript pieces in time order, each spanning its utterances exactly.

    Example:
        >>> lines = [(0.0, 2.0, "Hello."), (2.5, 4.0, "Welcome."), (6.0, 9.0, "Today: cats.")]
        >>> [(p.start_s, p.end_s, p.text) for p in chunk_transcript(lines, chunk_s=5.0)]
        [(0.0, 4.0, 'Hello. Welcome.'), (6.0, 9.0, 'Today: cats.')]
    """
    spoken = sorted((s, e, t.strip()) for s, e, t in utterances if t and t.strip())
    windows: list[list[tuple[float, float, str]]] = []
    for utterance in spoken:
        current = windows[-1] if windows else None
        if current is not None and utterance[1] - current[0][0] <= chunk_s:
            current.append(utterance)
        else:
            windows.append([utterance])
    return [
        TextPiece(
            " ".join(text for _, _, text in window),
            "transcript",
            start_s=window[0][0],
            end_s=max(end for _, end, _ in window),
        )
        for window in windows
    ]


def parse_chapters(data: Any) -> list[TextPiece]:
    """Turn the JSON an analyze call returned for :data:`CHAPTERS_SCHEMA` into pieces.

    Accepts the schema's ``{"chapters": [...]}`` or a bare list, and the field spellings the
    API has used (``start``/``start_sec``, ``title``/``chapter_title``,
    ``summary``/``chapter_summary``). Items without valid times or text are skipped with a
    warning rather than guessed.

    Example:
        >>> data = {"chapters": [{"start": 0, "end": 6.5, "title": "Intro", "summary": "Hi."}]}
        >>> [(p.start_s, p.end_s, p.chapter_title, p.text) for p in parse_chapters(data)]
        [(0.0, 6.5, 'Intro', 'Intro\\nHi.')]
    """
    items = data.get("chapters") if isinstance(data, Mapping) else data
    if not isinstance(items, Sequence) or isinstance(items, str):
        logger.warning("chapters answer has no list of chapters; got %s", type(data).__name__)
        return []
    pieces = [piece for item in items if (piece := _chapter_piece(item)) is not None]
    return sorted(pieces, key=lambda p: p.start_s or 0.0)


def _chapter_piece(item: Any) -> TextPiece | None:
    if not isinstance(item, Mapping):
        return None
    start = _first_number(item, ("start", "start_s", "start_sec"))
    end = _first_number(item, ("end", "end_s", "end_sec"))
    title = str(_first(item, ("title", "chapter_title")) or "").strip()
    summary = str(_first(item, ("summary", "chapter_summary")) or "").strip()
    if start is None or end is None or end < start or not (title or summary):
        logger.warning("skipping a chapter without valid times or text: %r", item)
        return None
    text = "\n".join(part for part in (title, summary) if part)
    return TextPiece(text, "chapters", start_s=start, end_s=end, chapter_title=title or None)


def _first(item: Mapping[str, Any], keys: Sequence[str]) -> Any:
    return next((item[key] for key in keys if item.get(key) is not None), None)


def _first_number(item: Mapping[str, Any], keys: Sequence[str]) -> float | None:
    value = _first(item, keys)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None
