"""Writing validated rows: parents before children, set-based lookups, one transaction.

Ids already in the store are found with chunked ``IN`` queries and new rows go in
through :func:`engine.bulk.insert_frame`. Orders are matched line by line: an order
already stored gains only the lines it does not have yet (an export cut in the middle
of an order, then exported whole, loses nothing and doubles nothing), and its time
stays its earliest line's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Column, Connection, Table, bindparam, delete, select, update

from engine.bulk import ProgressFn, frame_records, insert_frame
from engine.errors import ValidationError
from engine.models import (
    Customer,
    Event,
    IdentityLink,
    Order,
    OrderLine,
    Product,
    Review,
)

from .report import ImportReport, TableCounts
from .validate import Parsed

# Ids per IN (...) query: well under SQLite's and PostgreSQL's bind-parameter limits.
_IN_CHUNK = 5_000

_CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
_PRODUCTS: Table = Product.__table__  # type: ignore[assignment]
_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_ORDER_LINES: Table = OrderLine.__table__  # type: ignore[assignment]
_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_REVIEWS: Table = Review.__table__  # type: ignore[assignment]
_LINKS: Table = IdentityLink.__table__  # type: ignore[assignment]
WRITTEN_TABLES = (_CUSTOMERS, _PRODUCTS, _ORDERS, _ORDER_LINES, _REVIEWS, _EVENTS, _LINKS)


def _existing_ids(connection: Connection, column: Column[Any], ids: Iterable[Any]) -> set[Any]:
    """Which of ``ids`` are already in ``column`` (chunked ``IN`` queries)."""
    unique = list(dict.fromkeys(i for i in ids if i is not None))
    found: set[Any] = set()
    for start in range(0, len(unique), _IN_CHUNK):
        chunk = unique[start : start + _IN_CHUNK]
        found.update(connection.execute(select(column).where(column.in_(chunk))).scalars())
    return found


def _existing_rows(
    connection: Connection, table: Table, key: str, columns: Sequence[str], ids: Sequence[Any]
) -> pd.DataFrame:
    selected = [table.c[key], *(table.c[c] for c in columns)]
    parts: list[pd.DataFrame] = []
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = list(ids[start : start + _IN_CHUNK])
        result = connection.execute(select(*selected).where(table.c[key].in_(chunk)))
        parts.append(pd.DataFrame(result.fetchall(), columns=[key, *columns]))
    if not parts:
        return pd.DataFrame(columns=[key, *columns])
    return pd.concat(parts, ignore_index=True)


def _same(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Element-wise equality where two missing values are equal."""
    a = left.to_numpy(dtype=object)
    b = right.to_numpy(dtype=object)
    a_na = pd.isna(left).to_numpy()
    b_na = pd.isna(right).to_numpy()
    # Object arrays compare element by element (str, float, bool and datetime alike).
    equal = np.asarray(a == b, dtype=bool)
    return (a_na & b_na) | (~a_na & ~b_na & equal)


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
    existing = _existing_rows(connection, table, key, columns, frame[key].tolist())
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
        changed |= ~_same(merged[column], old_values)
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
            [
                {"b_key": r[key], **{f"b_{c}": r[c] for c in columns}}
                for r in records
            ],
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
    wanted -= _existing_ids(connection, table.c[key], wanted)
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
        given.loc[missing] = [
            "r-" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:24] for k in keys
        ]
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
        known = _existing_ids(connection, _EVENTS.c.event_id, frame.loc[with_id, "event_id"])
        keep &= ~repeated & ~(with_id & frame["event_id"].isin(known).to_numpy())
    anonymous = ~with_id
    if anonymous.any():
        keys = frame.loc[anonymous, _EVENT_KEY].astype(object).fillna("")
        keys["occurred_at"] = frame.loc[anonymous, "occurred_at"]
        repeated = keys.duplicated(keep="first").to_numpy()
        lo, hi = keys["occurred_at"].min(), keys["occurred_at"].max()
        result = connection.execute(
            select(*(_EVENTS.c[c] for c in _EVENT_KEY)).where(
                _EVENTS.c.occurred_at.between(lo.to_pydatetime(), hi.to_pydatetime())
            )
        )
        stored = pd.DataFrame(result.fetchall(), columns=_EVENT_KEY).astype(object).fillna("")
        if stored.empty:
            in_store = np.zeros(len(keys), dtype=bool)
        else:
            stored["occurred_at"] = pd.to_datetime(stored["occurred_at"]).astype(
                "datetime64[us]"
            )
            marked = keys.merge(
                stored.drop_duplicates().assign(_stored=True), on=_EVENT_KEY, how="left"
            )
            in_store = marked["_stored"].eq(True).to_numpy()
        keep[anonymous] &= ~repeated & ~in_store
    counts.skipped_existing += int((~keep).sum())
    return frame.loc[keep]






# --------------------------------------------------------------------------- orders


_LINE_KEY = ["order_id", "product_id", "quantity", "unit_price", "discount", "line_time"]


def _stored_lines(connection: Connection, order_ids: Sequence[Any]) -> pd.DataFrame:
    """Lines of stored orders, each with its own time (NULL: the order's) and its order's."""
    columns = ["order_id", "product_id", "quantity", "unit_price", "discount", "line_no",
               "own_time", "order_time", "order_customer"]
    parts: list[pd.DataFrame] = []
    for start in range(0, len(order_ids), _IN_CHUNK):
        chunk = list(order_ids[start : start + _IN_CHUNK])
        query = (
            select(
                _ORDER_LINES.c.order_id, _ORDER_LINES.c.product_id, _ORDER_LINES.c.quantity,
                _ORDER_LINES.c.unit_price, _ORDER_LINES.c.discount, _ORDER_LINES.c.line_no,
                _ORDER_LINES.c.ordered_at, _ORDERS.c.ordered_at, _ORDERS.c.customer_id,
            )
            .join(_ORDERS, _ORDERS.c.order_id == _ORDER_LINES.c.order_id)
            .where(_ORDER_LINES.c.order_id.in_(chunk))
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

    known = _existing_ids(connection, _ORDERS.c.order_id, lines["order_id"].unique())
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
            .eq("both").to_numpy(),
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
                .drop_duplicates("o").itertuples(index=False)
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
            why = (f"its line of product {row['product_id']!r} at {row['line_time']} has another "
                   "quantity, price or discount")
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
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        connection.execute(delete(_ORDER_LINES).where(_ORDER_LINES.c.order_id.in_(chunk)))
        connection.execute(delete(_ORDERS).where(_ORDERS.c.order_id.in_(chunk)))


def move_orders(connection: Connection, moves: list[tuple[str, Any, Any]]) -> None:
    """Stored orders that gained an earlier line: the order takes that time, and its
    lines that carried the old order time implicitly now carry it explicitly."""
    for order_id, before, after in moves:
        connection.execute(
            update(_ORDER_LINES)
            .where(_ORDER_LINES.c.order_id == order_id, _ORDER_LINES.c.ordered_at.is_(None))
            .values(ordered_at=before)
        )
        connection.execute(
            update(_ORDERS).where(_ORDERS.c.order_id == order_id).values(ordered_at=after)
        )


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
            c for c in ("name", "email", "city", "region", "country", "signup_at")
            if c in parsed["customers"].present
        ]
        counts = report.table("customers")
        counts.read += len(frame)
        _upsert(connection, _CUSTOMERS, "customer_id", frame[["customer_id", *columns]],
                columns, counts, progress)
    if "products" in valid:
        frame = valid["products"]
        columns = [c for c in ("name", "category", "brand", "price", "list_price", "tags",
                               "region", "in_stock") if c in parsed["products"].present]
        counts = report.table("products")
        counts.read += len(frame)
        _upsert(connection, _PRODUCTS, "product_id", frame[["product_id", *columns]],
                columns, counts, progress)

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
        s for s in (order_rows.get("customer_id"), events.get("customer_id"),
                    reviews.get("customer_id")) if s is not None
    ]
    referenced_products = [
        s for s in (line_rows.get("product_id"), events.get("product_id"),
                    reviews.get("product_id")) if s is not None
    ]
    if referenced_customers:
        report.placeholders["customers"] += _placeholders(
            connection, _CUSTOMERS, "customer_id", pd.concat(referenced_customers),
            in_import_customers, progress,
        )
    if referenced_products:
        report.placeholders["products"] += _placeholders(
            connection, _PRODUCTS, "product_id", pd.concat(referenced_products),
            in_import_products, progress,
        )

    if "orders" in valid:
        move_orders(connection, moves)
        report.table("orders").inserted += insert_frame(
            connection, _ORDERS, order_rows, progress=progress
        )
        report.table("order_lines").inserted += insert_frame(
            connection, _ORDER_LINES, line_rows, progress=progress
        )

    if "reviews" in valid:
        counts = report.table("reviews")
        counts.read += len(reviews)
        repeated = reviews["review_id"].duplicated(keep="first")
        known = _existing_ids(connection, _REVIEWS.c.review_id, reviews["review_id"])
        skip = repeated | reviews["review_id"].isin(known)
        counts.skipped_existing += int(skip.sum())
        columns = [c for c in ("review_id", "customer_id", "product_id", "rating",
                               "reviewed_at", "text") if c in reviews]
        fresh = reviews.loc[~skip, columns].copy()
        fresh["rating"] = fresh["rating"].astype("int64")
        counts.inserted += insert_frame(connection, _REVIEWS, fresh, progress=progress)

    if "events" in valid:
        counts = report.table("events")
        counts.read += len(events)
        events = events.copy()
        fresh = _new_events(connection, events, counts)
        columns = [c.name for c in _EVENTS.columns if c.name != "id" and c.name in fresh]
        fresh = fresh[columns].copy()
        if "rating" in fresh:
            fresh["rating"] = fresh["rating"].astype("Int64")
        counts.inserted += insert_frame(connection, _EVENTS, fresh, progress=progress)
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
    known = _existing_ids(connection, _LINKS.c.anonymous_id, first["anonymous_id"])
    stored = first["anonymous_id"].isin(known)
    counts.skipped_existing += int(stored.sum())
    counts.inserted += insert_frame(connection, _LINKS, first.loc[~stored], progress=progress)
