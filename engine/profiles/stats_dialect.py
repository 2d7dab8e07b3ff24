"""The SQL pieces the statistics' queries share: the dialects' spellings, which
customers a query covers, and reading a result into a frame."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, DateTime, bindparam, text
from sqlalchemy.sql.elements import TextClause

from engine.profiles.stats_definitions import T0_EPOCH


@dataclass(frozen=True)
class Dialect:
    """The few spellings SQLite and PostgreSQL do not share."""

    name: str

    def epoch(self, column: str) -> str:
        if self.name == "sqlite":
            return f"((julianday({column}) - 2440587.5) * 86400.0)"
        # date_part is double precision; EXTRACT is NUMERIC since PostgreSQL 14, and
        # exp() of a NUMERIC is computed to dozens of digits (many times slower).
        return f"date_part('epoch', {column})"

    def decay(self, column: str, lam: float) -> str:
        """``exp(lam * days since T0)`` of a timestamp column."""
        return f"exp({lam!r} * ({self.epoch(column)} - {T0_EPOCH!r}) / 86400.0)"

    def unindexed(self, column: str) -> str:
        """``column`` in a form SQLite will not use an index for (``+column``): the time
        filters must not steer the planner off the customer-ordered covering indexes."""
        return f"+{column}" if self.name == "sqlite" else column

    def least(self, a: str, b: str) -> str:
        return f"min({a}, {b})" if self.name == "sqlite" else f"LEAST({a}, {b})"

    def key(self, length: int) -> str:
        """Type of a key column of a temporary table: PostgreSQL compares ``"C"``-collated
        text bytewise (any other collation goes through the C library, several times slower)."""
        return f"VARCHAR({length})" + (' COLLATE "C"' if self.name == "postgresql" else "")

    @property
    def keyed(self) -> str:
        """Table suffix: SQLite stores a keyed temporary table as its primary-key B-tree."""
        return " WITHOUT ROWID" if self.name == "sqlite" else ""

    @property
    def timestamp(self) -> str:
        return "DATETIME" if self.name == "sqlite" else "TIMESTAMP"


@dataclass(frozen=True)
class CustomerSet:
    """Which customers a batch part covers: a range ``[lo, hi)``, a list, or all."""

    lo: str | None = None
    hi: str | None = None
    ids: tuple[str, ...] | None = None

    def where(self, column: str) -> str:
        if self.ids is not None:
            return f"{column} IN :ids"
        parts = [f"{column} IS NOT NULL"]
        if self.lo is not None:
            parts.append(f"{column} >= :lo")
        if self.hi is not None:
            parts.append(f"{column} < :hi")
        return " AND ".join(parts)

    def params(self) -> dict[str, Any]:
        if self.ids is not None:
            return {"ids": list(self.ids)}
        return {k: v for k, v in (("lo", self.lo), ("hi", self.hi)) if v is not None}


def statement(sql: str, customers: CustomerSet) -> TextClause:
    statement = text(sql)
    binds = [bindparam("as_of", type_=DateTime()), bindparam("since", type_=DateTime())]
    binds = [b for b in binds if f":{b.key}" in sql]
    if customers.ids is not None and ":ids" in sql:
        binds.append(bindparam("ids", expanding=True))
    return statement.bindparams(*binds)


def read_frame(connection: Connection, statement: Any, params: dict[str, Any]) -> pd.DataFrame:
    result = connection.execute(statement, params)
    keys = list(result.keys())
    # Column-wise from plain tuples: cheaper than pandas probing each Row object.
    columns = list(zip(*result.fetchall(), strict=False)) or [()] * len(keys)
    frame = pd.DataFrame({k: list(v) for k, v in zip(keys, columns, strict=True)}, columns=keys)
    for name in frame.columns:
        # PostgreSQL's SUM of integers is NUMERIC: Decimal objects do not mix with floats.
        present = frame[name].dropna()
        if frame[name].dtype == object and len(present) and isinstance(present.iloc[0], Decimal):
            frame[name] = frame[name].astype(float)
    return frame
