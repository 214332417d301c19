"""Decoders: embedding response bytes to numpy, with one parse and one conversion.

The decoders go from the response bytes to the matrix with one ``orjson.loads`` and one numpy
conversion, without a Python object per segment beyond what orjson itself makes. Every shape
problem (truncated JSON, missing fields, wrong types, ragged or non-finite vectors) raises
:class:`~.vectors.EmbeddingDecodeError`, never ``KeyError`` or ``TypeError``.

Example:
    >>> decode_text_v2(b'{"data": [{"embedding": [0.6, 0.8]}]}')
    array([0.6, 0.8], dtype=float32)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import orjson
from numpy.typing import NDArray

from .vectors import NO_CHUNK, NO_PAGE, EmbeddingDecodeError, MediaEmbedding

__all__ = [
    "decode_media_v1",
    "decode_media_v2",
    "decode_text_v1",
    "decode_text_v2",
    "decode_video_v1",
    "decode_video_v2",
    "media_from_v1",
    "media_from_v2",
    "video_from_v1",
    "video_from_v2",
]


def _loads(body: bytes | str) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise EmbeddingDecodeError(f"embedding response is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise EmbeddingDecodeError(f"embedding response is not a JSON object: {type(doc)}")
    return doc


def _field(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping) or key not in obj:
            raise EmbeddingDecodeError(f"embedding response has no {'.'.join(path)!r}")
        obj = obj[key]
    return obj


def _matrix(rows: list[Any], *, dim_hint: int, what: str) -> NDArray[np.float32]:
    """One numpy conversion for all rows; numbers only, same length, finite."""
    if not rows:
        return np.zeros((0, dim_hint), dtype=np.float32)
    try:
        # Let numpy infer the dtype first: asking for float32 directly would silently
        # accept strings like "0.5" and turn null into NaN.
        raw = np.asarray(rows)
    except (ValueError, TypeError) as exc:
        raise EmbeddingDecodeError(f"{what}: vectors are ragged or malformed: {exc}") from exc
    if raw.ndim != 2 or raw.dtype.kind not in "fi" or raw.shape[1] == 0:
        raise EmbeddingDecodeError(
            f"{what}: vectors must be non-empty lists of numbers of one length "
            f"(got shape {raw.shape}, dtype {raw.dtype})"
        )
    with np.errstate(over="ignore"):  # values beyond float32 become inf, refused just below
        matrix = raw.astype(np.float32)
    if not np.isfinite(matrix).all():
        raise EmbeddingDecodeError(f"{what}: vectors contain NaN or inf")
    return matrix


def _numbers(values: list[Any], *, what: str, nullable: bool = False) -> NDArray[np.float64]:
    """Seconds as float64; a null (a row without time) becomes NaN when ``nullable``."""
    if nullable and any(v is None for v in values):
        values = [math.nan if v is None else v for v in values]
    if not all(type(v) is float or type(v) is int for v in values):
        raise EmbeddingDecodeError(f"{what} must be numbers")
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _strings(values: list[Any], *, what: str, nullable: bool = False) -> NDArray[np.str_]:
    """Labels as a str array; a null (no option, no scope) becomes ``""`` when ``nullable``."""
    if nullable and any(v is None for v in values):
        values = ["" if v is None else v for v in values]
    if not all(type(v) is str for v in values):
        raise EmbeddingDecodeError(f"{what} must be strings")
    return np.asarray(values, dtype=np.str_).reshape(-1)


def _integers(values: list[Any], *, what: str, none: int) -> NDArray[np.int64]:
    if not all(v is None or type(v) is int for v in values):
        raise EmbeddingDecodeError(f"{what} must be whole numbers")
    return np.asarray([none if v is None else v for v in values], dtype=np.int64)


def _columns(
    segments: Any, keys: Sequence[str], *, what: str
) -> tuple[list[Any], list[Any], list[Any], list[Any], list[Any]]:
    """Split a list of segment objects into five lists (vector, start, end, option, scope).

    The vector is required; the other four may be absent (a query, an image, a page).
    """
    if not isinstance(segments, list):
        raise EmbeddingDecodeError(f"{what}: segments must be a list")
    vec, start, end, opt, scope = keys
    try:
        return (
            [s[vec] for s in segments],
            [s[start] for s in segments],
            [s[end] for s in segments],
            [s[opt] for s in segments],
            [s[scope] for s in segments],
        )
    except (KeyError, TypeError, IndexError) as exc:
        raise EmbeddingDecodeError(f"{what}: a segment lacks {exc}") from exc


def _optional(items: list[Any], key: str) -> list[Any]:
    return [item.get(key) for item in items]


def _build(
    cols: tuple[list[Any], list[Any], list[Any], list[Any], list[Any]],
    *,
    model_name: str,
    task_id: str,
    duration_s: float | None,
    dim_hint: int,
) -> MediaEmbedding:
    what = f"task {task_id or '?'}"
    vectors, start, end, options, scopes = cols
    return MediaEmbedding.from_arrays(
        _matrix(vectors, dim_hint=dim_hint, what=what),
        start_s=_numbers(start, what=f"{what}: segment start times"),
        end_s=_numbers(end, what=f"{what}: segment end times"),
        options=_strings(options, what=f"{what}: embedding options"),
        scopes=_strings(scopes, what=f"{what}: embedding scopes"),
        model_name=model_name,
        task_id=task_id,
        duration_s=duration_s,
    )


def _duration(metadata: Any) -> float | None:
    value = metadata.get("duration") if isinstance(metadata, Mapping) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _str_or(value: Any, default: str) -> str:
    return value if isinstance(value, str) else default


def media_from_v1(
    doc: Mapping[str, Any], *, task_id: str = "", model_name: str = "", dim_hint: int = 0
) -> MediaEmbedding:
    """Build a MediaEmbedding from a parsed Embed v1 task (``GET /embed/tasks/{id}``).

    Raises:
        EmbeddingDecodeError: the object is not the documented shape.

    Example:
        >>> doc = {"_id": "t1", "video_embedding": {"segments": []}}
        >>> media_from_v1(doc, dim_hint=4).vectors.shape
        (0, 4)
    """
    task_id = _str_or(doc.get("_id"), task_id)
    segments = _field(doc, "video_embedding", "segments")
    keys = ("float", "start_offset_sec", "end_offset_sec", "embedding_option", "embedding_scope")
    return _build(
        _columns(segments, keys, what=f"task {task_id or '?'}"),
        model_name=_str_or(doc.get("model_name"), model_name),
        task_id=task_id,
        duration_s=_duration(_field(doc, "video_embedding").get("metadata")),
        dim_hint=dim_hint,
    )


def media_from_v2(
    doc: Mapping[str, Any],
    *,
    task_id: str = "",
    model_name: str = "marengo3.0",
    dim_hint: int = 0,
    input_type: str | None = None,
) -> MediaEmbedding:
    """Build a MediaEmbedding from a parsed Embed v2 answer: a ready task
    (``GET /embed-v2/tasks/{id}``) or a synchronous one (``POST /embed-v2``).

    Every field of ``data[]`` is read: seconds, option and scope (null for a query or an
    image: NaN and ``""``), pages, quadrant and chunk of documents, and the uncertainty
    vectors. Text chunks come back in no set order: they are sorted by ``chunk_index``.

    Raises:
        EmbeddingDecodeError: the object is not the documented shape, or ``data`` is null.

    Example:
        >>> me = media_from_v2({"_id": "t2", "data": [
        ...     {"embedding": [0.6, 0.8], "embedding_option": "text",
        ...      "embedding_scope": "chunk", "chunk_index": 1},
        ...     {"embedding": [1.0, 0.0], "embedding_option": "text",
        ...      "embedding_scope": "chunk", "chunk_index": 0}]})
        >>> me.chunk_index.tolist(), me.vectors[0].tolist()
        ([0, 1], [1.0, 0.0])
    """
    task_id = _str_or(doc.get("_id"), task_id)
    what = f"task {task_id or '?'}"
    data = _field(doc, "data")
    if data is None:
        raise EmbeddingDecodeError(f"{what}: no embeddings yet (status {doc.get('status')!r})")
    if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
        raise EmbeddingDecodeError(f"{what}: data must be a list of objects")
    try:
        vectors = [item["embedding"] for item in data]
    except KeyError as exc:
        raise EmbeddingDecodeError(f"{what}: an item lacks {exc}") from exc
    uncertain = _optional(data, "embedding_uncertainty")
    metadata = doc.get("metadata")
    kind = metadata.get("input_type") if isinstance(metadata, Mapping) else None
    usage = doc.get("usage")
    me = MediaEmbedding.from_arrays(
        _matrix(vectors, dim_hint=dim_hint, what=what),
        start_s=_numbers(_optional(data, "start_sec"), what=f"{what}: start_sec", nullable=True),
        end_s=_numbers(_optional(data, "end_sec"), what=f"{what}: end_sec", nullable=True),
        options=_strings(
            _optional(data, "embedding_option"), what=f"{what}: embedding_option", nullable=True
        ),
        scopes=_strings(
            _optional(data, "embedding_scope"), what=f"{what}: embedding_scope", nullable=True
        ),
        model_name=_str_or(doc.get("model_name"), model_name),
        task_id=task_id,
        duration_s=_duration(metadata),
        input_type=input_type or (kind if isinstance(kind, str) else "video"),
        start_page=_integers(_optional(data, "start_page_number"), what="pages", none=NO_PAGE),
        end_page=_integers(_optional(data, "end_page_number"), what="pages", none=NO_PAGE),
        chunk_index=_integers(_optional(data, "chunk_index"), what="chunk_index", none=NO_CHUNK),
        quadrants=_strings(_optional(data, "quadrant"), what=f"{what}: quadrant", nullable=True),
        uncertainty=None
        if all(u is None for u in uncertain)
        else _matrix(uncertain, dim_hint=dim_hint, what=f"{what}: embedding_uncertainty"),
        usage=usage if isinstance(usage, Mapping) else None,
    )
    if (me.chunk_index != NO_CHUNK).any():
        # Chunks in reading order; rows that are not chunks (the whole file) stay last.
        order = np.argsort(
            np.where(me.chunk_index == NO_CHUNK, np.iinfo(np.int64).max, me.chunk_index),
            kind="stable",
        )
        me = me._take(order)
    return me


video_from_v1 = media_from_v1
video_from_v2 = media_from_v2


def decode_media_v1(
    body: bytes | str, *, task_id: str = "", model_name: str = "", dim_hint: int = 0
) -> MediaEmbedding:
    """Decode ``GET /embed/tasks/{id}`` (Embed v1) bytes into a :class:`MediaEmbedding`.

    Raises:
        EmbeddingDecodeError: the body is not the documented shape.

    Example:
        >>> body = (b'{"_id": "t1", "model_name": "Marengo-retrieval-2.7", "video_embedding": '
        ...         b'{"metadata": {"duration": 8.0}, "segments": [{"start_offset_sec": 0, '
        ...         b'"end_offset_sec": 6, "embedding_scope": "clip", '
        ...         b'"embedding_option": "visual-text", "float": [0.5, 0.5]}]}}')
        >>> decode_video_v1(body)  # doctest: +NORMALIZE_WHITESPACE
        MediaEmbedding(task_id='t1', model_name='Marengo-retrieval-2.7', input_type='video',
                       rows=1, ...)
    """
    doc = _loads(body)
    return media_from_v1(doc, task_id=task_id, model_name=model_name, dim_hint=dim_hint)


def decode_media_v2(
    body: bytes | str, *, task_id: str = "", model_name: str = "marengo3.0", dim_hint: int = 0
) -> MediaEmbedding:
    """Decode ``GET /embed-v2/tasks/{id}`` bytes (a ready task) into a MediaEmbedding.

    Raises:
        EmbeddingDecodeError: the body is not the documented shape, or ``data`` is null.

    Example:
        >>> body = (b'{"_id": "t2", "status": "ready", "metadata": {"duration": 8.0}, "data": '
        ...         b'[{"embedding": [0.1, 0.2], "embedding_option": "visual", '
        ...         b'"embedding_scope": "asset", "start_sec": 0, "end_sec": 8.0}]}')
        >>> decode_video_v2(body).scopes.tolist()
        ['asset']
    """
    doc = _loads(body)
    return media_from_v2(doc, task_id=task_id, model_name=model_name, dim_hint=dim_hint)


decode_video_v1 = decode_media_v1
decode_video_v2 = decode_media_v2


def _one_vector(rows: Any, *, what: str) -> NDArray[np.float32]:
    if not isinstance(rows, list) or not rows:
        raise EmbeddingDecodeError(f"{what}: the response holds no vector")
    vector: NDArray[np.float32] = _matrix([rows[0]], dim_hint=0, what=what)[0]
    return vector


def decode_text_v1(body: bytes | str) -> NDArray[np.float32]:
    """Decode ``POST /embed`` (Embed v1, text) into one float32 vector ``(dim,)``.

    Raises:
        EmbeddingDecodeError: malformed body, or the server's ``error_message`` for the text.

    Example:
        >>> decode_text_v1(b'{"text_embedding": {"segments": [{"float": [0.6, 0.8]}]}}')
        array([0.6, 0.8], dtype=float32)
    """
    doc = _loads(body)
    text = _field(doc, "text_embedding")
    if isinstance(text, dict) and text.get("error_message"):
        raise EmbeddingDecodeError(f"text embedding failed: {text['error_message']}")
    segments = _field(text, "segments")
    try:
        rows = [s["float"] for s in segments]
    except (KeyError, TypeError) as exc:
        raise EmbeddingDecodeError(f"text embedding: a segment lacks {exc}") from exc
    return _one_vector(rows, what="text embedding")


def decode_text_v2(body: bytes | str) -> NDArray[np.float32]:
    """Decode ``POST /embed-v2`` (Embed v2, ``input_type`` text) into one float32 vector.

    Raises:
        EmbeddingDecodeError: the body is not the documented shape.

    Example:
        >>> decode_text_v2(b'{"data": [{"embedding": [1.0, 0.0]}]}')
        array([1., 0.], dtype=float32)
    """
    data = _field(_loads(body), "data")
    try:
        rows = [item["embedding"] for item in cast(list[Any], data)]
    except (KeyError, TypeError) as exc:
        raise EmbeddingDecodeError(f"text embedding: an item lacks {exc}") from exc
    return _one_vector(rows, what="text embedding")
