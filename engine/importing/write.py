"""Writing validated rows: parents before children, set-based lookups, one transaction.

Ids already in the store are found with chunked ``IN`` queries and new rows go in
through :func:`engine.bulk.insert_frame`; orders are matched line by line
(:mod:`engine.importing.orders`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, bindparam, select

from engine.bulk import ProgressFn, frame_records, insert_frame

from .orders import move_orders, write_orders
from .report import ImportReport, TableCounts
from .rows import (
    CUSTOMERS,
    EVENTS,
    LINKS,
    ORDER_LINES,
    ORDERS,
    PRODUCTS,
    REVIEWS,
    WRITTEN_TABLES,
    existing_ids,
    existing_rows,
    same_values,
)
from .validate import Parsed


def _upsert(
    connection: Connection,
    table: Table,
    key: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    counts: TableCounts,
    progress: ProgressFn | None,
) -> None:
    """Insert new rows; update rows whose given columns changed; leave equal rows alone."""
    # A row listed twice: the later one wins, as it would on a second import.
    repeated = len(frame)
    frame = frame.drop_duplicates(key, keep="last")
    counts.skipped_existing += repeated - len(frame)
    existing = existing_rows(connection, table, key, columns, frame[key].tolist())
    is_new = ~frame[key].isin(existing[key]).to_numpy()
    counts.inserted += insert_frame(connection, table, frame.loc[is_new], progress=progress)
    old = frame.loc[~is_new]
    if old.empty:
        return
    merged = old.merge(existing, on=key, how="left", suffixes=("", "_old"))
    changed = np.zeros(len(merged), dtype=bool)
    for column in columns:
        old_values = merged[f"{column}_old"]
        if pd.api.types.is_datetime64_any_dtype(merged[column]):
            old_values = pd.to_datetime(old_values).astype("datetime64[us]")
        changed |= ~same_values(merged[column], old_values)
    counts.skipped_existing += int((~changed).sum())
    if changed.any():
        update = (
            table.update()
            .where(table.c[key] == bindparam("b_key"))
            .values({c: bindparam(f"b_{c}") for c in columns})
        )
        rows = merged.loc[changed, [key, *columns]]
        records = frame_records(rows)
        connection.execute(
            update,
            [{"b_key": r[key], **{f"b_{c}": r[c] for c in columns}} for r in records],
        )
        counts.updated += len(records)


def _placeholders(
    connection: Connection,
    table: Table,
    key: str,
    ids: pd.Series,
    known: set[Any],
    progress: ProgressFn | None,
) -> int:
    """Insert id-only rows for referenced ids found neither in the store nor in the import."""
    wanted = set(ids.dropna().unique()) - known
    if not wanted:
        return 0
    wanted -= existing_ids(connection, table.c[key], wanted)
    frame = pd.DataFrame({key: sorted(wanted)})

    def labelled(label: str, done: int, total: int) -> None:
        if progress is not None:
            progress(f"placeholder {label}", done, total)

    return insert_frame(connection, table, frame, progress=labelled)


def _review_ids(frame: pd.DataFrame) -> pd.Series:
    """Given review ids, else a stable id from (customer_id, product_id, reviewed_at)."""
    given = frame["review_id"] if "review_id" in frame else pd.Series(None, index=frame.index)
    missing = given.isna()
    if missing.any():
        keys = (
            frame.loc[missing, "customer_id"].astype(str)
            + "|"
            + frame.loc[missing, "product_id"].astype(str)
            + "|"
            + frame.loc[missing, "reviewed_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
        )
        given = given.astype(object).copy()
        given.loc[missing] = ["r-" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:24] for k in keys]
    return given


_EVENT_KEY = ["customer_id", "anonymous_id", "event_type", "product_id", "occurred_at", "query"]


def _new_events(connection: Connection, frame: pd.DataFrame, counts: TableCounts) -> pd.DataFrame:
    """Events not yet in the store: by ``event_id`` when given, else by full content."""
    for column in _EVENT_KEY + ["event_id"]:
        if column not in frame:
            frame[column] = None
    with_id = frame["event_id"].notna().to_numpy()
    keep = np.ones(len(frame), dtype=bool)
    if with_id.any():
        repeated = frame["event_id"].duplicated(keep="first").to_numpy() & with_id
        known = existing_ids(connection, EVENTS.c.event_id, frame.loc[with_id, "event_id"])
        keep &= ~repeated & ~(with_id & frame["event_id"].isin(known).to_numpy())
    anonymous = ~with_id
    if anonymous.any():
        keys = frame.loc[anonymous, _EVENT_KEY].astype(object).fillna("")
        keys["occurred_at"] = frame.loc[anonymous, "occurred_at"]
        repeated = keys.duplicated(keep="first").to_numpy()
        lo, hi = keys["occurred_at"].min(), keys["occurred_at"].max()
        result = connection.execute(
            select(*(EVENTS.c[c] for c in _EVENT_KEY)).where(
                EVENTS.c.occurred_at.between(lo.to_pydatetime(), hi.to_pydatetime())
            )
        )
        stored = pd.DataFrame(result.fetchall(), columns=_EVENT_KEY).astype(object).fillna("")
        if stored.empty:
            in_store = np.zeros(len(keys), dtype=bool)
        else:
            stored["occurred_at"] = pd.to_datetime(stored["occurred_at"]).astype("datetime64[us]")
            marked = keys.merge(
                stored.drop_duplicates().assign(_stored=True), on=_EVENT_KEY, how="left"
            )
            in_store = marked["_stored"].eq(True).to_numpy()
        keep[anonymous] &= ~repeated & ~in_store
    counts.skipped_existing += int((~keep).sum())
    return frame.loc[keep]


# --------------------------------------------------------------------------- everything


def write_all(
    connection: Connection,
    valid: dict[str, pd.DataFrame],
    parsed: dict[str, Parsed],
    report: ImportReport,
    progress: ProgressFn | None,
    *,
    replace: bool = False,
) -> None:
    """Write the valid rows, parents before children (foreign keys hold at every step)."""
    # --- customers and products: upserts of the columns the file gives.
    if "customers" in valid:
        frame = valid["customers"]
        columns: list[str] = [
            c
            for c in ("name", "email", "city", "region", "country", "signup_at")
            if c in parsed["customers"].present
        ]
        counts = report.table("customers")
        counts.read += len(frame)
        _upsert(
            connection,
            CUSTOMERS,
            "customer_id",
            frame[["customer_id", *columns]],
            columns,
            counts,
            progress,
        )
    if "products" in valid:
        frame = valid["products"]
        columns = [
            c
            for c in (
                "name",
                "category",
                "brand",
                "price",
                "list_price",
                "tags",
                "region",
                "in_stock",
            )
            if c in parsed["products"].present
        ]
        counts = report.table("products")
        counts.read += len(frame)
        _upsert(
            connection,
            PRODUCTS,
            "product_id",
            frame[["product_id", *columns]],
            columns,
            counts,
            progress,
        )

    order_rows = pd.DataFrame()
    line_rows = pd.DataFrame()
    moves: list[tuple[str, Any, Any]] = []
    if "orders" in valid:
        order_rows, line_rows, moves = write_orders(
            connection, valid["orders"], report, parsed["orders"].label, replace=replace
        )

    events = valid.get("events", pd.DataFrame())
    reviews = valid.get("reviews", pd.DataFrame())
    if "reviews" in valid:
        reviews = reviews.copy()
        reviews["review_id"] = _review_ids(reviews)

    # --- placeholders for every id referenced but defined nowhere.
    in_import_customers = set(valid["customers"]["customer_id"]) if "customers" in valid else set()
    in_import_products = set(valid["products"]["product_id"]) if "products" in valid else set()
    referenced_customers = [
        s
        for s in (
            order_rows.get("customer_id"),
            events.get("customer_id"),
            reviews.get("customer_id"),
        )
        if s is not None
    ]
    referenced_products = [
        s
        for s in (line_rows.get("product_id"), events.get("product_id"), reviews.get("product_id"))
        if s is not None
    ]
    if referenced_customers:
        report.placeholders["customers"] += _placeholders(
            connection,
            CUSTOMERS,
            "customer_id",
            pd.concat(referenced_customers),
            in_import_customers,
            progress,
        )
    if referenced_products:
        report.placeholders["products"] += _placeholders(
            connection,
            PRODUCTS,
            "product_id",
            pd.concat(referenced_products),
            in_import_products,
            progress,
        )

    if "orders" in valid:
        move_orders(connection, moves)
        report.table("orders").inserted += insert_frame(
            connection, ORDERS, order_rows, progress=progress
        )
        report.table("order_lines").inserted += insert_frame(
            connection, ORDER_LINES, line_rows, progress=progress
        )

    if "reviews" in valid:
        counts = report.table("reviews")
        counts.read += len(reviews)
        repeated = reviews["review_id"].duplicated(keep="first")
        known = existing_ids(connection, REVIEWS.c.review_id, reviews["review_id"])
        skip = repeated | reviews["review_id"].isin(known)
        counts.skipped_existing += int(skip.sum())
        columns = [
            c
            for c in ("review_id", "customer_id", "product_id", "rating", "reviewed_at", "text")
            if c in reviews
        ]
        fresh = reviews.loc[~skip, columns].copy()
        fresh["rating"] = fresh["rating"].astype("int64")
        counts.inserted += insert_frame(connection, REVIEWS, fresh, progress=progress)

    if "events" in valid:
        counts = report.table("events")
        counts.read += len(events)
        events = events.copy()
        fresh = _new_events(connection, events, counts)
        columns = [c.name for c in EVENTS.columns if c.name != "id" and c.name in fresh]
        fresh = fresh[columns].copy()
        if "rating" in fresh:
            fresh["rating"] = fresh["rating"].astype("Int64")
        counts.inserted += insert_frame(connection, EVENTS, fresh, progress=progress)
        _link_identities(connection, events, report, progress)


def _link_identities(
    connection: Connection,
    events: pd.DataFrame,
    report: ImportReport,
    progress: ProgressFn | None,
) -> None:
    """An anonymous id seen with a customer id belongs to that customer (first sighting wins)."""
    if "anonymous_id" not in events or "customer_id" not in events:
        return
    both = events.loc[events["anonymous_id"].notna() & events["customer_id"].notna()]
    counts = report.table("identity_links")
    if both.empty:
        return
    first = (
        both.sort_values("occurred_at", kind="stable")
        .drop_duplicates("anonymous_id", keep="first")[
            ["anonymous_id", "customer_id", "occurred_at"]
        ]
        .rename(columns={"occurred_at": "linked_at"})
    )
    counts.read += len(first)
    known = existing_ids(connection, LINKS.c.anonymous_id, first["anonymous_id"])
    stored = first["anonymous_id"].isin(known)
    counts.skipped_existing += int(stored.sum())
    counts.inserted += insert_frame(connection, LINKS, first.loc[~stored], progress=progress)


__all__ = ["WRITTEN_TABLES", "write_all"]
