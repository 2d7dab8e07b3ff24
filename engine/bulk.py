"""Bulk writing of frames into the store: one code path for the seed and the importer."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table

ProgressFn = Callable[[str, int, int], None]
"""``progress(label, done, total)``: called as rows are written."""


def frame_records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows of ``frame`` as dicts of plain Python values (NaN/NaT become ``None``)."""
    columns: dict[str, np.ndarray] = {}
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            values = np.array(series.dt.to_pydatetime(), dtype=object, copy=True)
            values[series.isna().to_numpy()] = None
        elif pd.api.types.is_bool_dtype(series):
            values = series.astype(object).to_numpy()
        elif pd.api.types.is_integer_dtype(series) and not series.isna().any():
            values = series.to_numpy(dtype=np.int64).astype(object)
        elif pd.api.types.is_float_dtype(series):
            values = series.astype(object).to_numpy(copy=True)
            values[series.isna().to_numpy()] = None
        else:
            values = series.astype(object).to_numpy(copy=True)
            values[series.isna().to_numpy()] = None
        columns[name] = values
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def insert_frame(
    connection: Connection,
    table: Table,
    frame: pd.DataFrame,
    *,
    chunk_size: int = 50_000,
    progress: ProgressFn | None = None,
) -> int:
    """Insert every row of ``frame`` into ``table`` with executemany, in chunks.

    ``frame``'s columns must be columns of ``table``. The caller owns the
    transaction. Returns the number of rows inserted.
    """
    total = len(frame)
    if total == 0:
        return 0
    unknown = set(frame.columns) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"columns not in {table.name}: {sorted(unknown)}")
    statement = table.insert()
    for start in range(0, total, chunk_size):
        chunk = frame.iloc[start : start + chunk_size]
        connection.execute(statement, frame_records(chunk))
        if progress is not None:
            progress(table.name, min(start + chunk_size, total), total)
    return total
