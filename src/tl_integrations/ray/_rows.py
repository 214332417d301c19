"""Batches in and out: Ray Data hands the callables columns, and takes a table back.

A batch in is a mapping of column name to a numpy array (Ray Data's default format), a
pandas DataFrame or an Arrow table. A batch out is an Arrow table whose column types are
declared, not guessed: a column that happens to hold only None in one batch (no chapter
titles, say) is still a string column, so the Parquet files of one run read back as one
dataset. Vectors are a fixed-size float32 tensor column.

Example:
    >>> rows = rows_of({"source": np.array(["a.mp4", "b.mp4"]), "n": np.array([1, 2])})
    >>> rows[1]
    {'source': 'b.mp4', 'n': 2}
    >>> table = table_of([{"x": "a", "y": 1.5}, {"x": None, "y": None}], types={"y": "float"})
    >>> table.column("x").to_pylist(), table.column("y").to_pylist(), str(table.schema.types[0])
    (['a', None], [1.5, None], 'string')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["Batch", "rows_of", "source_column", "table_of"]

Batch = Mapping[str, Any]
"""What Ray Data passes to a callable: columns by name (numpy arrays, by default)."""


def _columns(batch: Any) -> dict[str, Any]:
    if isinstance(batch, Mapping):
        return dict(batch)
    to_pydict = getattr(batch, "to_pydict", None)  # an Arrow table
    if callable(to_pydict):
        return dict(to_pydict())
    to_dict = getattr(batch, "to_dict", None)  # a pandas DataFrame
    if callable(to_dict):
        return {name: list(values.values()) for name, values in to_dict().items()}
    raise TypeError(f"a batch must be a mapping of columns, got {type(batch).__name__}")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:  # NaN: a missing number
        return None
    return value


def rows_of(batch: Any) -> list[dict[str, Any]]:
    """The rows of a batch, as dicts of plain Python values (NaN becomes None)."""
    columns = _columns(batch)
    if not columns:
        return []
    size = len(next(iter(columns.values())))
    return [{name: _plain(values[i]) for name, values in columns.items()} for i in range(size)]


def source_column(rows: Sequence[Mapping[str, Any]], column: str) -> list[str]:
    """The source of every row, as a string.

    Raises:
        KeyError: no such column, naming the columns there are.

    Example:
        >>> source_column([{"path": "a.mp4"}], "path")
        ['a.mp4']
    """
    if rows and column not in rows[0]:
        raise KeyError(
            f"the batch has no {column!r} column (it has {sorted(rows[0])}); pass "
            "source_column=... to name the column of paths, URLs or 'video:<id>'"
        )
    return [str(row[column]) for row in rows]


def table_of(
    rows: Sequence[Mapping[str, Any]],
    *,
    types: Mapping[str, str] | None = None,
    order: Sequence[str] = (),
) -> Any:
    """An Arrow table of ``rows``.

    ``types`` maps a column to ``"str"``, ``"float"``, ``"bool"`` or ``"vector:<dim>"``
    (float32, None -> all NaN); a column named in ``order`` but not in ``types`` is a
    string; any other column's type is inferred (string when it holds only None).
    """
    import pyarrow as pa

    names: list[str] = list(order)
    for row in rows:
        names += [name for name in row if name not in names]
    declared = {name: "str" for name in order}
    declared.update(types or {})
    arrays = [_array([row.get(name) for row in rows], declared.get(name)) for name in names]
    return pa.Table.from_arrays(arrays, names=names)


def _array(values: list[Any], kind: str | None) -> Any:
    import pyarrow as pa

    if kind is None:
        inferred = pa.array(values)
        return inferred.cast(pa.string()) if pa.types.is_null(inferred.type) else inferred
    if kind == "str":
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())
    if kind == "float":
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    if kind == "bool":
        return pa.array([bool(v) for v in values], type=pa.bool_())
    if kind.startswith("vector:"):
        from ray.data.extensions import ArrowTensorArray

        dim = int(kind.split(":", 1)[1])
        matrix = np.full((len(values), dim), np.nan, dtype=np.float32)
        for i, value in enumerate(values):
            if value is not None:
                matrix[i] = np.asarray(value, dtype=np.float32)
        return ArrowTensorArray.from_numpy(matrix)
    raise ValueError(f"unknown column type {kind!r}")
