"""Embedding vectors of any media as numpy arrays: :class:`MediaEmbedding`.

A :class:`MediaEmbedding` holds every row the API returned for one input (the segments of a
video or an audio file, the one vector of an image, the pages or text chunks of a document,
the vector of a query): a float32 matrix ``(n, dim)`` and parallel arrays that say what
each row covers (seconds, option, scope, and for documents pages, chunk and quadrant).
:mod:`.decode` builds one straight from the response bytes. ``VideoEmbedding`` is the same
class under its first name.

Vectors of different models, or of one model at different dimensions, live in different
spaces and must never be compared: :attr:`MediaEmbedding.space` names the space and
:func:`check_same_space` refuses to mix them.

Example:
    >>> import numpy as np
    >>> me = MediaEmbedding.from_arrays(
    ...     np.eye(2, dtype=np.float32), start_s=[0.0, 6.0], end_s=[6.0, 12.0],
    ...     options=["visual", "visual"], scopes=["clip", "clip"], model_name="marengo3.0")
    >>> len(me), me.dim, me.space
    (2, 2, 'marengo3.0/2')
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import orjson
from numpy.typing import ArrayLike, NDArray

from .._errors import InvalidRequestError, MalformedResponseError

__all__ = [
    "EmbeddingDecodeError",
    "MediaEmbedding",
    "VideoEmbedding",
    "check_same_space",
    "same_scope",
    "space_of",
]

# 1: the video arrays; 2: adds input type, pages, chunks, quadrants, uncertainty and usage.
_FORMAT_VERSION = 2
_SAVED = ("vectors", "start_s", "end_s", "options", "scopes", "model_name", "task_id", "duration_s")
# "video" (Embed v1) and "asset" (Embed v2) name the same thing: one vector for the whole span.
_WHOLE_SCOPES = frozenset({"video", "asset"})
NO_PAGE = 0
"""``start_page``/``end_page`` of a row that is not a page (pages count from 1)."""
NO_CHUNK = -1
"""``chunk_index`` of a row that is not a text chunk (chunks count from 0)."""


class EmbeddingDecodeError(MalformedResponseError, ValueError):
    """An embedding response (or a saved ``.npz``) does not have the expected shape.

    Raised for truncated JSON, missing fields, wrong types, ragged or non-finite vectors. It
    is a :class:`~tl_integrations.MalformedResponseError`, so a
    :class:`~tl_integrations.TwelveLabsError` too.

    Example:
        >>> from tl_integrations._embed.decode import decode_media_v2
        >>> decode_media_v2(b'{"data": [{"embedding": [1.0]')
        Traceback (most recent call last):
        ...
        tl_integrations._embed.vectors.EmbeddingDecodeError: embedding response is not valid ...
    """


def same_scope(a: str, b: str) -> bool:
    """Tell whether two scope names mean the same thing (``video`` and ``asset`` do).

    Example:
        >>> same_scope("video", "asset"), same_scope("clip", "asset")
        (True, False)
    """
    return a == b or (a in _WHOLE_SCOPES and b in _WHOLE_SCOPES)


def space_of(model_name: str, dim: int) -> str:
    """The name of a vector space: the model and the dimension (``"marengo3.5/256"``).

    Vectors are comparable only within one space: Marengo 3.5 and 3.0 vectors are not,
    and a 256-d Matryoshka prefix is not comparable with a 512-d vector either.

    Example:
        >>> space_of("marengo3.5", 256)
        'marengo3.5/256'
    """
    return f"{model_name}/{dim}"


def check_same_space(expected: str, got: str, *, what: str = "these vectors") -> None:
    """Refuse to mix vectors of two spaces (see :func:`space_of`).

    Raises:
        InvalidRequestError: the spaces differ; the message names both and the fix.

    Example:
        >>> check_same_space("marengo3.0/512", "marengo3.0/512")
        >>> check_same_space("marengo3.0/512", "marengo3.5/512", what="the store")
        Traceback (most recent call last):
        ...
        tl_integrations.InvalidRequestError: the store is of the space marengo3.0/512 and \
these vectors are marengo3.5/512: vectors of different models or dimensions cannot be \
compared; keep one store (and one query model) per space
    """
    if expected != got:
        raise InvalidRequestError(
            f"{what} is of the space {expected} and these vectors are {got}: vectors of "
            "different models or dimensions cannot be compared; keep one store (and one "
            "query model) per space"
        )


def _column(values: ArrayLike | None, n: int, *, dtype: Any, fill: Any) -> NDArray[Any]:
    if values is None:
        return np.full(n, fill, dtype=dtype)
    return np.asarray(values, dtype=dtype).reshape(-1)


@dataclass(frozen=True, eq=False, repr=False)
class MediaEmbedding:
    """All vectors the API returned for one input, as parallel numpy arrays.

    One type for every modality: a video's or an audio file's segments, an image's vector,
    a document's pages or text chunks, a query's vector. Arrays are parallel to the rows of
    ``vectors``; a field that does not apply to a row holds a neutral value (NaN seconds,
    ``""``, page 0, chunk -1).

    Attributes:
        vectors: float32 matrix, shape ``(n, dim)``, one row per segment, page or chunk.
        start_s / end_s: float64 seconds each row covers (NaN for images, documents, text).
        options: str array, the embedding option of each row (``visual``, ``audio``,
            ``transcription``, ``text``, ``fused``; ``""`` when the API said none).
        scopes: str array: ``clip``, the whole-input scope (``video`` on Embed v1,
            ``asset`` on Embed v2; :meth:`select` accepts either), ``page`` or ``chunk``.
        model_name: the model that made the vectors.
        task_id: the embedding task, or ``""`` (none, or unknown).
        duration_s: the media's duration in seconds, when the server said it.
        input_type: what was embedded: ``video``, ``audio``, ``image``, ``document``,
            ``text`` or ``multi_input``.
        start_page / end_page: int64 1-based pages of a PDF row (0: not a page row).
        chunk_index: int64 0-based text chunk of a .txt/.md row (-1: not a chunk row).
        quadrants: str array, the quarter of the page (``top_left``...) or ``""``.
        uncertainty: float32 ``(n, dim)`` per-dimension uncertainty (Marengo 3.5, when
            asked for; higher means less confident), or None.
        usage: the token counts the API reported (Marengo 3.5), or None.

    Example:
        >>> import numpy as np
        >>> me = MediaEmbedding.from_arrays(
        ...     np.ones((3, 4), dtype=np.float32), start_s=[0, 6, 0], end_s=[6, 12, 12],
        ...     options=["visual", "visual", "audio"], scopes=["clip", "clip", "asset"],
        ...     model_name="marengo3.0", task_id="t1", duration_s=12.0)
        >>> me
        MediaEmbedding(task_id='t1', model_name='marengo3.0', input_type='video', rows=3, ...)
        >>> len(me.select(option="visual")), len(me.select(scope="video"))
        (2, 1)
    """

    vectors: NDArray[np.float32]
    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    options: NDArray[np.str_]
    scopes: NDArray[np.str_]
    model_name: str
    task_id: str = ""
    duration_s: float | None = None
    input_type: str = "video"
    # None stands for "no such rows" and is replaced by neutral arrays in __post_init__, so
    # after construction these are always arrays (typed as what readers get).
    start_page: NDArray[np.int64] = None  # type: ignore[assignment]
    end_page: NDArray[np.int64] = None  # type: ignore[assignment]
    chunk_index: NDArray[np.int64] = None  # type: ignore[assignment]
    quadrants: NDArray[np.str_] = None  # type: ignore[assignment]
    uncertainty: NDArray[np.float32] | None = None
    usage: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        # Rows that are not pages, chunks or quarters get neutral values, so that every
        # array is always there and parallel (callers never test for None).
        n = int(np.shape(self.vectors)[0]) if np.ndim(self.vectors) == 2 else 0
        for name, dtype, fill in (
            ("start_page", np.int64, NO_PAGE),
            ("end_page", np.int64, NO_PAGE),
            ("chunk_index", np.int64, NO_CHUNK),
            ("quadrants", np.str_, ""),
        ):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.full(n, fill, dtype=dtype))

    @classmethod
    def from_arrays(
        cls,
        vectors: ArrayLike,
        *,
        start_s: ArrayLike,
        end_s: ArrayLike,
        options: ArrayLike,
        scopes: ArrayLike,
        model_name: str,
        task_id: str = "",
        duration_s: float | None = None,
        input_type: str = "video",
        start_page: ArrayLike | None = None,
        end_page: ArrayLike | None = None,
        chunk_index: ArrayLike | None = None,
        quadrants: ArrayLike | None = None,
        uncertainty: ArrayLike | None = None,
        usage: Mapping[str, Any] | None = None,
    ) -> MediaEmbedding:
        """Build one from array-likes, converting dtypes and checking that lengths agree.

        Raises:
            EmbeddingDecodeError: shapes disagree or vectors are not a finite 2-D matrix.

        Example:
            >>> MediaEmbedding.from_arrays([[1.0, 0.0]], start_s=[0], end_s=[6],
            ...     options=["audio"], scopes=["clip"], model_name="marengo3.0").vectors.dtype
            dtype('float32')
        """
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2:
            raise EmbeddingDecodeError(f"vectors must be 2-D (n, dim), got shape {matrix.shape}")
        n = matrix.shape[0]
        me = cls(
            vectors=matrix,
            start_s=np.asarray(start_s, dtype=np.float64).reshape(-1),
            end_s=np.asarray(end_s, dtype=np.float64).reshape(-1),
            options=np.asarray(options, dtype=np.str_).reshape(-1),
            scopes=np.asarray(scopes, dtype=np.str_).reshape(-1),
            model_name=model_name,
            task_id=task_id,
            duration_s=duration_s,
            input_type=input_type,
            start_page=_column(start_page, n, dtype=np.int64, fill=NO_PAGE),
            end_page=_column(end_page, n, dtype=np.int64, fill=NO_PAGE),
            chunk_index=_column(chunk_index, n, dtype=np.int64, fill=NO_CHUNK),
            quadrants=_column(quadrants, n, dtype=np.str_, fill=""),
            uncertainty=None if uncertainty is None else np.asarray(uncertainty, np.float32),
            usage=usage,
        )
        me._check()
        return me

    def _check(self) -> None:
        n = self.vectors.shape[0]
        for name in (
            "start_s",
            "end_s",
            "options",
            "scopes",
            "start_page",
            "end_page",
            "chunk_index",
            "quadrants",
        ):
            got = getattr(self, name).shape
            if got != (n,):
                raise EmbeddingDecodeError(f"{name} has shape {got}, expected ({n},)")
        if not np.isfinite(self.vectors).all():
            raise EmbeddingDecodeError(f"task {self.task_id or '?'}: vectors contain NaN or inf")
        if self.uncertainty is not None and self.uncertainty.shape != self.vectors.shape:
            raise EmbeddingDecodeError(
                f"uncertainty has shape {self.uncertainty.shape}, expected {self.vectors.shape}"
            )

    @property
    def dim(self) -> int:
        """The vector dimension (1024 for Marengo 2.7, 512 for Marengo 3.0, 512 or less
        for Marengo 3.5).

        Example:
            >>> _example().dim
            4
        """
        return int(self.vectors.shape[1])

    @property
    def space(self) -> str:
        """The vector space of the rows, model and dimension (see :func:`space_of`).

        Example:
            >>> _example().space
            'marengo3.0/4'
        """
        return space_of(self.model_name, self.dim)

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def __repr__(self) -> str:
        opts = sorted(set(self.options.tolist()))
        scopes = sorted(set(self.scopes.tolist()))
        return (
            f"MediaEmbedding(task_id={self.task_id!r}, model_name={self.model_name!r}, "
            f"input_type={self.input_type!r}, rows={len(self)}, dim={self.dim}, "
            f"options={opts}, scopes={scopes}, duration_s={self.duration_s})"
        )

    def select(
        self,
        option: str | Iterable[str] | None = None,
        scope: str | Iterable[str] | None = None,
    ) -> MediaEmbedding:
        """Keep the rows whose option and scope match (None keeps all).

        ``scope="video"`` and ``scope="asset"`` both select the whole-input vectors.

        Example:
            >>> me = _example()
            >>> len(me.select(option="visual", scope="clip"))
            2
            >>> me.select(option=["audio"]).options.tolist()
            ['audio']
        """
        mask = np.ones(len(self), dtype=bool)
        if option is not None:
            wanted = [option] if isinstance(option, str) else list(option)
            mask &= np.isin(self.options, wanted)
        if scope is not None:
            wanted = [scope] if isinstance(scope, str) else list(scope)
            if _WHOLE_SCOPES & set(wanted):
                wanted = [*wanted, *_WHOLE_SCOPES]
            mask &= np.isin(self.scopes, wanted)
        return self._take(mask)

    def _take(self, mask: NDArray[np.bool_] | NDArray[np.intp]) -> MediaEmbedding:
        return MediaEmbedding(
            vectors=self.vectors[mask],
            start_s=self.start_s[mask],
            end_s=self.end_s[mask],
            options=self.options[mask],
            scopes=self.scopes[mask],
            model_name=self.model_name,
            task_id=self.task_id,
            duration_s=self.duration_s,
            input_type=self.input_type,
            start_page=self.start_page[mask],
            end_page=self.end_page[mask],
            chunk_index=self.chunk_index[mask],
            quadrants=self.quadrants[mask],
            uncertainty=None if self.uncertainty is None else self.uncertainty[mask],
            usage=self.usage,
        )

    def save(self, path: str | os.PathLike[str] | IO[bytes]) -> None:
        """Write to an ``.npz`` file (uncompressed; no pickled objects).

        Example:
            >>> import io
            >>> buf = io.BytesIO(); _example().save(buf); _ = buf.seek(0)
            >>> len(MediaEmbedding.load(buf))
            3
        """
        extra: dict[str, Any] = {}
        if self.uncertainty is not None:
            extra["uncertainty"] = self.uncertainty
        np.savez(
            path,
            format_version=np.asarray(_FORMAT_VERSION),
            vectors=self.vectors,
            start_s=self.start_s,
            end_s=self.end_s,
            options=self.options,
            scopes=self.scopes,
            model_name=np.asarray(self.model_name, dtype=np.str_),
            task_id=np.asarray(self.task_id, dtype=np.str_),
            duration_s=np.asarray(np.nan if self.duration_s is None else self.duration_s),
            input_type=np.asarray(self.input_type, dtype=np.str_),
            start_page=self.start_page,
            end_page=self.end_page,
            chunk_index=self.chunk_index,
            quadrants=self.quadrants,
            # JSON text, not a pickled dict: loading never runs code.
            usage=np.asarray(orjson.dumps(self.usage).decode(), dtype=np.str_),
            **extra,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str] | IO[bytes]) -> MediaEmbedding:
        """Read what :meth:`save` wrote (``allow_pickle=False``); files saved before
        documents existed (video only) load too.

        Raises:
            EmbeddingDecodeError: the file lacks a field or holds inconsistent arrays.

        Example:
            >>> import io
            >>> buf = io.BytesIO(); _example().save(buf); _ = buf.seek(0)
            >>> MediaEmbedding.load(buf).model_name
            'marengo3.0'
        """
        with np.load(path, allow_pickle=False) as npz:
            try:
                arrays = {name: npz[name] for name in _SAVED}
                extra = {name: npz[name] for name in npz.files if name not in _SAVED}
            except KeyError as exc:
                raise EmbeddingDecodeError(f"not a saved MediaEmbedding: {exc}") from exc
            except ValueError as exc:  # an object array, which would need pickle
                raise EmbeddingDecodeError(f"refusing to load {path!r}: {exc}") from exc
        duration = float(arrays["duration_s"])
        usage = orjson.loads(str(extra["usage"])) if "usage" in extra else None
        return cls.from_arrays(
            arrays["vectors"],
            start_s=arrays["start_s"],
            end_s=arrays["end_s"],
            options=arrays["options"],
            scopes=arrays["scopes"],
            model_name=str(arrays["model_name"]),
            task_id=str(arrays["task_id"]),
            duration_s=None if np.isnan(duration) else duration,
            input_type=str(extra.get("input_type", "video")),
            start_page=extra.get("start_page"),
            end_page=extra.get("end_page"),
            chunk_index=extra.get("chunk_index"),
            quadrants=extra.get("quadrants"),
            uncertainty=extra.get("uncertainty"),
            usage=usage if isinstance(usage, dict) else None,
        )


VideoEmbedding = MediaEmbedding
"""The first name of :class:`MediaEmbedding` (when it held only videos); the same class."""


def _example() -> MediaEmbedding:
    return MediaEmbedding.from_arrays(
        np.ones((3, 4), dtype=np.float32),
        start_s=[0, 6, 0],
        end_s=[6, 12, 12],
        options=["visual", "visual", "audio"],
        scopes=["clip", "clip", "clip"],
        model_name="marengo3.0",
        task_id="t1",
    )
