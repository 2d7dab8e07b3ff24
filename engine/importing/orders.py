"""Writing orders: matched line by line against the stored ones.

An order already stored gains only the lines it does not have yet (an export cut in
the middle of an order, then exported whole, loses nothing and doubles nothing), and
its time stays its earliest line's; an order whose stored content differs is a
conflict, refused unless ``--replace`` takes the file's version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, select, update

from engine.errors import ValidationError

from .report import ImportReport
from .rows import IN_CHUNK, ORDER_LINES, ORDERS, existing_ids

_LINE_KEY = ["order_id", "product_id", "quantity", "unit_price", "discount", "line_time"]


def _stored_lines(connection: Connection, order_ids: Sequence[Any]) -> pd.DataFrame:
    """Lines of stored orders, each with its own time (NULL: the order's) and its order's."""
    columns = [
        "order_id",
        "product_id",
        "quantity",
        "unit_price",
        "discount",
        "line_no",
        "own_time",
        "order_time",
        "order_customer",
    ]
    parts: list[pd.DataFrame] = []
    for start in range(0, len(order_ids), IN_CHUNK):
        chunk = list(order_ids[start : start + IN_CHUNK])
        query = (
            select(
                ORDER_LINES.c.order_id,
                ORDER_LINES.c.product_id,
                ORDER_LINES.c.quantity,
                ORDER_LINES.c.unit_price,
                ORDER_LINES.c.discount,
                ORDER_LINES.c.line_no,
                ORDER_LINES.c.ordered_at,
                ORDERS.c.ordered_at,
                ORDERS.c.customer_id,
            )
            .join(ORDERS, ORDERS.c.order_id == ORDER_LINES.c.order_id)
            .where(ORDER_LINES.c.order_id.in_(chunk))
        )
        parts.append(pd.DataFrame(connection.execute(query).fetchall(), columns=columns))
    stored = pd.concat(parts, ignore_index=True)
    for column in ("own_time", "order_time"):
        stored[column] = pd.to_datetime(stored[column]).astype("datetime64[us]")
    stored["line_time"] = stored["own_time"].fillna(stored["order_time"])
    for column in ("quantity", "unit_price", "discount"):
        stored[column] = stored[column].astype(float)
    return stored


def _occurrence(frame: pd.DataFrame) -> pd.Series:
    """1 for the first line with a given key, 2 for its repeat, ... (multiset matching)."""
    return frame.groupby(_LINE_KEY, sort=False, dropna=False).cumcount()


def _order_header(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per order: its earliest line's time, customer, channel, device and location."""
    earliest = lines.sort_values("line_time", kind="stable").drop_duplicates("order_id")
    header = [c for c in ("customer_id", "channel", "device", "location") if c in earliest]
    return earliest[["order_id", *header, "line_time"]].rename(columns={"line_time": "ordered_at"})


def _line_rows(lines: pd.DataFrame, order_time: pd.Series, first_no: pd.Series) -> pd.DataFrame:
    """Rows for ``order_lines``: a line's own time is stored only where it is not its order's."""
    rows = lines[["order_id", "product_id", "quantity", "unit_price", "discount"]].copy()
    rows["line_no"] = lines.groupby("order_id", sort=False).cumcount().to_numpy() + first_no
    own = lines["line_time"].where(lines["line_time"] != order_time)
    rows["ordered_at"] = own.astype("datetime64[us]")
    return rows


def write_orders(
    connection: Connection,
    frame: pd.DataFrame,
    report: ImportReport,
    label: str,
    *,
    replace: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, Any, Any]]]:
    """New orders, new lines (of new and stored orders), and stored orders' time changes.

    A stored order gains the file's lines it lacks. A file line that contradicts a
    stored one (another customer; the same product at the same time with another
    quantity, price or discount) is a conflict: refused, or with ``replace`` the
    stored order is deleted here and the file's version written as a new order.

    Returns ``(order_rows, line_rows, moves)``; ``moves`` are ``(order_id, old time,
    new time)`` for stored orders that gained an earlier line. New rows are not
    written here: placeholders for the ids they reference must go in first.

    Raises:
        ValidationError: conflicts, without ``replace`` (the caller's transaction
            then rolls back, so nothing is written).
    """
    orders_counts = report.table("orders")
    lines_counts = report.table("order_lines")
    lines = frame.rename(columns={"ordered_at": "line_time"}).copy()
    lines["discount"] = lines["discount"].fillna(0.0) if "discount" in lines else 0.0
    for column in ("quantity", "unit_price", "discount"):
        lines[column] = lines[column].astype(float)
    orders_counts.read += int(lines["order_id"].nunique())
    lines_counts.read += len(lines)

    known = existing_ids(connection, ORDERS.c.order_id, lines["order_id"].unique())
    in_store = lines["order_id"].isin(known).to_numpy()
    new_lines: list[pd.DataFrame] = []
    moves: list[tuple[str, Any, Any]] = []
    old = lines.loc[in_store].copy()
    if not old.empty:
        stored = _stored_lines(connection, sorted(known))
        keys = [*_LINE_KEY, "_n"]
        old["_n"] = _occurrence(old).to_numpy()
        stored["_n"] = _occurrence(stored).to_numpy()
        matched = pd.Series(
            old.merge(stored[keys], on=keys, how="left", indicator=True)["_merge"]
            .eq("both")
            .to_numpy(),
            index=old.index,
        )
        kept = stored.merge(old[keys], on=keys, how="left", indicator=True)["_merge"].eq("both")
        loose = stored.loc[~kept.to_numpy()]
        by_id = stored.drop_duplicates("order_id").set_index("order_id")
        owner = old["order_id"].map(by_id["order_customer"])
        foreign = (old["customer_id"] != owner).to_numpy()
        place = ["order_id", "product_id", "line_time"]
        clash = ~matched.to_numpy() & pd.MultiIndex.from_frame(old[place]).isin(
            pd.MultiIndex.from_frame(loose[place])
        )
        conflict = foreign | clash
        if conflict.any():
            replaced = _conflicts(old, owner, foreign, conflict, label, replace)
            delete_orders(connection, replaced)
            orders_counts.updated += len(replaced)
            in_store = in_store & ~lines["order_id"].isin(replaced).to_numpy()
            keep = ~old["order_id"].isin(replaced)
            old, matched = old.loc[keep], matched.loc[keep]
        extra = old.loc[~matched]
        lines_counts.skipped_existing += int(matched.sum())
        grown = set(extra["order_id"])
        orders_counts.skipped_existing += len(set(old["order_id"]) - grown)
        orders_counts.updated += len(grown)
        if grown:
            was = extra["order_id"].map(by_id["order_time"])
            earliest = extra.groupby("order_id")["line_time"].transform("min")
            now = earliest.where(earliest < was, was)
            for order_id, before, after in (
                pd.DataFrame({"o": extra["order_id"], "b": was, "a": now})
                .drop_duplicates("o")
                .itertuples(index=False)
            ):
                if after < before:
                    moves.append((order_id, before.to_pydatetime(), after.to_pydatetime()))
            last_no = stored.groupby("order_id")["line_no"].max()
            new_lines.append(_line_rows(extra, now, extra["order_id"].map(last_no) + 1))

    fresh = lines.loc[~in_store]
    header = _order_header(fresh)
    order_time = fresh.groupby("order_id", sort=False)["line_time"].transform("min")
    new_lines.insert(0, _line_rows(fresh, order_time, pd.Series(1, index=fresh.index)))
    return header, pd.concat(new_lines, ignore_index=True), moves


def _conflicts(
    old: pd.DataFrame,
    owner: pd.Series,
    foreign: np.ndarray,
    conflict: np.ndarray,
    label: str,
    replace: bool,
) -> set[Any]:
    """The orders to replace; without ``replace``, a refusal naming each conflicting line."""
    if replace:
        return set(old.loc[conflict, "order_id"])
    problems: list[str] = []
    for position in np.flatnonzero(conflict):
        row = old.iloc[position]
        if foreign[position]:
            why = f"stored for customer {owner.iloc[position]!r}, here {row['customer_id']!r}"
        else:
            why = (
                f"its line of product {row['product_id']!r} at {row['line_time']} has another "
                "quantity, price or discount"
            )
        problems.append(
            f"{label}:{int(row['_line'])}: order_id: order {row['order_id']!r} is already "
            f"stored with different content ({why})"
        )
    shown = "; ".join(problems[:5])
    more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    raise ValidationError(
        f"orders already stored differ from this file, nothing imported: {shown}{more} "
        "(use --replace to take this file's version of those orders)",
        problems=problems,
    )


def delete_orders(connection: Connection, order_ids: Iterable[Any]) -> None:
    """Remove orders and their lines (for ``replace``: the file's version goes in anew)."""
    ids = sorted(order_ids)
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        connection.execute(delete(ORDER_LINES).where(ORDER_LINES.c.order_id.in_(chunk)))
        connection.execute(delete(ORDERS).where(ORDERS.c.order_id.in_(chunk)))


def move_orders(connection: Connection, moves: list[tuple[str, Any, Any]]) -> None:
    """Stored orders that gained an earlier line: the order takes that time, and its
    lines that carried the old order time implicitly now carry it explicitly."""
    for order_id, before, after in moves:
        connection.execute(
            update(ORDER_LINES)
            .where(ORDER_LINES.c.order_id == order_id, ORDER_LINES.c.ordered_at.is_(None))
            .values(ordered_at=before)
        )
        connection.execute(
            update(ORDERS).where(ORDERS.c.order_id == order_id).values(ordered_at=after)
        )
