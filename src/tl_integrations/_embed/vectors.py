"""Video segment vectors as numpy arrays.

A :class:`VideoEmbedding` holds every segment of one video: a float32 matrix ``(n, dim)``
and parallel arrays of start and end seconds, options and scopes. :mod:`.decode` builds one
straight from the response bytes.

Example:
    >>> import numpy as np
    >>> ve = VideoEmbedding.from_arrays(
    ...     np.eye(2, dtype=np.float32), start_s=[0.0, 6.0], end_s=[6.0, 12.0],
    ...     options=["visual", "visual"], scopes=["clip", "clip"], model_name="marengo3.0")
    >>> len(ve), ve.dim
    (2, 2)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._errors import MalformedResponseError

__all__ = ["EmbeddingDecodeError", "VideoEmbedding", "same_scope"]

_FORMAT_VERSION = 1
_SAVED = ("vectors", "start_s", "end_s", "options", "scopes", "model_name", "task_id", "duration_s")
# "video" (Embed v1) and "asset" (Embed v2) name the same thing: one vector for the whole span.
_WHOLE_SCOPES = frozenset({"video", "asset"})


class EmbeddingDecodeError(MalformedResponseError, ValueError):
    """An embedding response (or a saved ``.npz``) does not have the expected shape.

    Raised for truncated JSON, missing fields, wrong types, ragged or non-finite vectors. It
    is a :class:`~tl_integrations.MalformedResponseError`, so a
    :class:`~tl_integrations.TwelveLabsError` too.

    Example:
        >>> from tl_integrations._embed.decode import decode_video_v2
        >>> decode_video_v2(b'{"data": [{"embedding": [1.0]')
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


@dataclass(frozen=True, eq=False, repr=False)
class VideoEmbedding:
    """All segment vectors of one video, as parallel numpy arrays.

    Attributes:
        vectors: float32 matrix, shape ``(n, dim)``, one row per segment.
        start_s: float64 start of each segment, in seconds.
        end_s: float64 end of each segment, in seconds.
        options: str array, the embedding option of each row (``visual``, ``audio``...).
        scopes: str array, ``clip`` or the whole-video scope (``video`` on Embed v1,
            ``asset`` on Embed v2; :meth:`select` accepts either spelling).
        model_name: the model that made the vectors.
        task_id: the embedding task, or ``""`` when unknown.
        duration_s: the video's duration in seconds, when the server said it.

    Example:
        >>> import numpy as np
        >>> ve = VideoEmbedding.from_arrays(
        ...     np.ones((3, 4), dtype=np.float32), start_s=[0, 6, 0], end_s=[6, 12, 12],
        ...     options=["visual", "visual", "audio"], scopes=["clip", "clip", "asset"],
        ...     model_name="marengo3.0", task_id="t1", duration_s=12.0)
        >>> ve
        VideoEmbedding(task_id='t1', model_name='marengo3.0', segments=3, dim=4, ...)
        >>> len(ve.select(option="visual")), len(ve.select(scope="video"))
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
    ) -> VideoEmbedding:
        """Build one from array-likes, converting dtypes and checking that lengths agree.

        Raises:
            EmbeddingDecodeError: shapes disagree or vectors are not a finite 2-D matrix.

        Example:
            >>> VideoEmbedding.from_arrays([[1.0, 0.0]], start_s=[0], end_s=[6],
            ...     options=["audio"], scopes=["clip"], model_name="marengo3.0").vectors.dtype
            dtype('float32')
        """
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2:
            raise EmbeddingDecodeError(f"vectors must be 2-D (n, dim), got shape {matrix.shape}")
        ve = cls(
            vectors=matrix,
            start_s=np.asarray(start_s, dtype=np.float64).reshape(-1),
            end_s=np.asarray(end_s, dtype=np.float64).reshape(-1),
            options=np.asarray(options, dtype=np.str_).reshape(-1),
            scopes=np.asarray(scopes, dtype=np.str_).reshape(-1),
            model_name=model_name,
            task_id=task_id,
            duration_s=duration_s,
        )
        ve._check()
        return ve

    def _check(self) -> None:
        n = self.vectors.shape[0]
        for name in ("start_s", "end_s", "options", "scopes"):
            if getattr(self, name).shape != (n,):
                got = getattr(self, name).shape
                raise EmbeddingDecodeError(f"{name} has shape {got}, expected ({n},)")
        if not np.isfinite(self.vectors).all():
            raise EmbeddingDecodeError(f"task {self.task_id or '?'}: vectors contain NaN or inf")

    @property
    def dim(self) -> int:
        """The vector dimension (1024 for Marengo 2.7, 512 for Marengo 3.0).

        Example:
            >>> _example().dim
            4
        """
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    def __repr__(self) -> str:
        opts = sorted(set(self.options.tolist()))
        scopes = sorted(set(self.scopes.tolist()))
        return (
            f"VideoEmbedding(task_id={self.task_id!r}, model_name={self.model_name!r}, "
            f"segments={len(self)}, dim={self.dim}, options={opts}, scopes={scopes}, "
            f"duration_s={self.duration_s})"
        )

    def select(
        self,
        option: str | Iterable[str] | None = None,
        scope: str | Iterable[str] | None = None,
    ) -> VideoEmbedding:
        """Keep the segments whose option and scope match (None keeps all).

        ``scope="video"`` and ``scope="asset"`` both select the whole-video vectors.

        Example:
            >>> ve = _example()
            >>> len(ve.select(option="visual", scope="clip"))
            2
            >>> ve.select(option=["audio"]).options.tolist()
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

    def _take(self, mask: NDArray[np.bool_]) -> VideoEmbedding:
        return VideoEmbedding(
            vectors=self.vectors[mask],
            start_s=self.start_s[mask],
            end_s=self.end_s[mask],
            options=self.options[mask],
            scopes=self.scopes[mask],
            model_name=self.model_name,
            task_id=self.task_id,
            duration_s=self.duration_s,
        )

    def save(self, path: str | os.PathLike[str] | IO[bytes]) -> None:
        """Write to an ``.npz`` file (uncompressed; no pickled objects).

        Example:
            >>> import io
            >>> buf = io.BytesIO(); _example().save(buf); _ = buf.seek(0)
            >>> len(VideoEmbedding.load(buf))
            3
        """
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
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str] | IO[bytes]) -> VideoEmbedding:
        """Read what :meth:`save` wrote (``allow_pickle=False``).

        Raises:
            EmbeddingDecodeError: the file lacks a field or holds inconsistent arrays.

        Example:
            >>> import io
            >>> buf = io.BytesIO(); _example().save(buf); _ = buf.seek(0)
            >>> VideoEmbedding.load(buf).model_name
            'marengo3.0'
        """
        with np.load(path, allow_pickle=False) as npz:
            try:
                arrays = {name: npz[name] for name in _SAVED}
            except KeyError as exc:
                raise EmbeddingDecodeError(f"not a saved VideoEmbedding: {exc}") from exc
            except ValueError as exc:  # an object array, which would need pickle
                raise EmbeddingDecodeError(f"refusing to load {path!r}: {exc}") from exc
        duration = float(arrays["duration_s"])
        return cls.from_arrays(
            arrays["vectors"],
            start_s=arrays["start_s"],
            end_s=arrays["end_s"],
            options=arrays["options"],
            scopes=arrays["scopes"],
            model_name=str(arrays["model_name"]),
            task_id=str(arrays["task_id"]),
            duration_s=None if np.isnan(duration) else duration,
        )


def _example() -> VideoEmbedding:
    return VideoEmbedding.from_arrays(
        np.ones((3, 4), dtype=np.float32),
        start_s=[0, 6, 0],
        end_s=[6, 12, 12],
        options=["visual", "visual", "audio"],
        scopes=["clip", "clip", "clip"],
        model_name="marengo3.0",
        task_id="t1",
    )
