"""Bulk writing of frames into the store: one code path for the seed and the importer."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy import JSON, Connection, Table

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


def _plain_columns(frame: pd.DataFrame, dialect: str) -> list[np.ndarray]:
    """Column arrays of plain DBAPI values, bypassing SQLAlchemy's per-row type processing.

    On SQLite, timestamps become text in exactly the form SQLAlchemy's ``DateTime``
    stores (``YYYY-MM-DD HH:MM:SS.ffffff``) and booleans become 0/1, so rows written
    here read back like rows written through the ORM.
    """
    columns: list[np.ndarray] = []
    for name in frame.columns:
        series = frame[name]
        missing = series.isna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(series) and dialect == "sqlite":
            stamps = series.to_numpy().astype("datetime64[us]")
            values = np.char.replace(np.datetime_as_string(stamps, unit="us"), "T", " ").astype(
                object
            )
        elif pd.api.types.is_datetime64_any_dtype(series):
            values = np.array(series.dt.to_pydatetime(), dtype=object, copy=True)
        elif pd.api.types.is_bool_dtype(series) and dialect == "sqlite":
            values = (
                series.astype(object)
                .map(lambda v: None if v is None or v is pd.NA else int(v))
                .to_numpy(dtype=object, copy=True)
            )
        elif pd.api.types.is_integer_dtype(series) and not missing.any():
            values = series.to_numpy(dtype=np.int64).astype(object)
        else:
            values = series.astype(object).to_numpy(copy=True)
        values[missing] = None
        columns.append(values)
    return columns


def _with_scalar_defaults(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus the table's Python-side scalar defaults (e.g. ``in_stock=True``) for
    columns it lacks: the fast paths bypass SQLAlchemy, which would otherwise apply them."""
    missing = {
        column.name: column.default.arg  # type: ignore[union-attr,attr-defined]
        for column in table.columns
        if column.name not in frame.columns
        and column.default is not None
        and column.default.is_scalar
    }
    return frame.assign(**missing) if missing else frame


def _serialise_json(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its JSON columns as JSON text (``None`` stays SQL NULL).

    The fast paths bypass SQLAlchemy's JSON type, which would otherwise do this;
    ``json.dumps`` is also what that type uses by default, so rows read back alike.
    """
    names = [c.name for c in table.columns if c.name in frame.columns and isinstance(c.type, JSON)]
    if not names:
        return frame
    return frame.assign(
        **{
            name: [
                None if v is None or (isinstance(v, float) and v != v) else json.dumps(v)
                for v in frame[name].tolist()
            ]
            for name in names
        }
    )


def _insert_sqlite(connection: Connection, table: Table, chunk: pd.DataFrame) -> None:
    names = ", ".join(f'"{c}"' for c in chunk.columns)
    marks = ", ".join("?" * len(chunk.columns))
    rows = list(zip(*_plain_columns(chunk, "sqlite"), strict=True))
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)


def _insert_postgresql(connection: Connection, table: Table, chunk: pd.DataFrame) -> None:
    names = ", ".join(f'"{c}"' for c in chunk.columns)
    cursor = connection.connection.cursor()  # the psycopg 3 cursor: COPY is its fast path
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in zip(*_plain_columns(chunk, "postgresql"), strict=True):
            copy.write_row(row)


def insert_frame(
    connection: Connection,
    table: Table,
    frame: pd.DataFrame,
    *,
    chunk_size: int = 50_000,
    progress: ProgressFn | None = None,
) -> int:
    """Insert every row of ``frame`` into ``table``, in chunks, on the backend's fast path.

    SQLite gets a plain ``executemany`` of tuples and PostgreSQL ``COPY``, skipping
    SQLAlchemy's per-row parameter processing (several times faster at a million
    rows); other backends go through SQLAlchemy's ``executemany``. ``frame``'s
    columns must be columns of ``table``; JSON columns hold Python objects
    (dicts, lists, ...), serialised here with ``json.dumps``.
    The caller owns the transaction. Returns the number of rows inserted.
    """
    total = len(frame)
    if total == 0:
        return 0
    unknown = set(frame.columns) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"columns not in {table.name}: {sorted(unknown)}")
    frame = _with_scalar_defaults(table, frame)
    dialect = connection.dialect.name
    driver = connection.dialect.driver
    fast = dialect == "sqlite" or (dialect == "postgresql" and driver == "psycopg")
    for start in range(0, total, chunk_size):
        chunk = frame.iloc[start : start + chunk_size]
        if fast:
            # Per chunk, so at most one chunk of JSON text exists at a time.
            chunk = _serialise_json(table, chunk)
        if dialect == "sqlite":
            _insert_sqlite(connection, table, chunk)
        elif dialect == "postgresql" and driver == "psycopg":
            _insert_postgresql(connection, table, chunk)
        else:
            connection.execute(table.insert(), frame_records(chunk))
        if progress is not None:
            progress(table.name, min(start + chunk_size, total), total)
    return total


def refresh_statistics(connection: Connection, tables: list[Table]) -> None:
    """After a bulk load, give PostgreSQL's planner the new sizes (``ANALYZE``) instead of
    waiting for autovacuum: a query right after a large import would otherwise be planned
    for the empty tables. SQLite plans without gathered statistics; nothing to do there."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.exec_driver_sql(f'ANALYZE "{table.name}"')
