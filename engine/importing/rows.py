"""What the importer asks of the store: its tables and chunked look-ups of stored rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Column, Connection, Table, select

from engine.models import (
    Customer,
    Event,
    IdentityLink,
    Order,
    OrderLine,
    Product,
    Review,
)

# Ids per IN (...) query: well under SQLite's and PostgreSQL's bind-parameter limits.
IN_CHUNK = 5_000

CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
PRODUCTS: Table = Product.__table__  # type: ignore[assignment]
ORDERS: Table = Order.__table__  # type: ignore[assignment]
ORDER_LINES: Table = OrderLine.__table__  # type: ignore[assignment]
EVENTS: Table = Event.__table__  # type: ignore[assignment]
REVIEWS: Table = Review.__table__  # type: ignore[assignment]
LINKS: Table = IdentityLink.__table__  # type: ignore[assignment]
WRITTEN_TABLES = (CUSTOMERS, PRODUCTS, ORDERS, ORDER_LINES, REVIEWS, EVENTS, LINKS)


def existing_ids(connection: Connection, column: Column[Any], ids: Iterable[Any]) -> set[Any]:
    """Which of ``ids`` are already in ``column`` (chunked ``IN`` queries)."""
    unique = list(dict.fromkeys(i for i in ids if i is not None))
    found: set[Any] = set()
    for start in range(0, len(unique), IN_CHUNK):
        chunk = unique[start : start + IN_CHUNK]
        found.update(connection.execute(select(column).where(column.in_(chunk))).scalars())
    return found


def existing_rows(
    connection: Connection, table: Table, key: str, columns: Sequence[str], ids: Sequence[Any]
) -> pd.DataFrame:
    selected = [table.c[key], *(table.c[c] for c in columns)]
    parts: list[pd.DataFrame] = []
    for start in range(0, len(ids), IN_CHUNK):
        chunk = list(ids[start : start + IN_CHUNK])
        result = connection.execute(select(*selected).where(table.c[key].in_(chunk)))
        parts.append(pd.DataFrame(result.fetchall(), columns=[key, *columns]))
    if not parts:
        return pd.DataFrame(columns=[key, *columns])
    return pd.concat(parts, ignore_index=True)


def same_values(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Element-wise equality where two missing values are equal."""
    a = left.to_numpy(dtype=object)
    b = right.to_numpy(dtype=object)
    a_na = pd.isna(left).to_numpy()
    b_na = pd.isna(right).to_numpy()
    # Object arrays compare element by element (str, float, bool and datetime alike).
    equal = np.asarray(a == b, dtype=bool)
    return (a_na & b_na) | (~a_na & ~b_na & equal)
