"""Loading a real store's exports: orders, products, events, reviews and customers.

The formats are those of ``../shared/CONTRACT.md`` ("Import files"). The import
works in two phases so that a bad file never leaves a half-written store:

1. every row of every given file is read (as strings) and validated column by
   column with vectorised masks; problems are collected as
   ``(file, line, column, reason)`` where ``line`` counts like a text editor
   (the header is line 1);
2. only then, in ONE transaction, the valid rows are written: ids already in
   the store are found with set-based queries (chunked ``IN``), and new rows
   go in through :func:`engine.bulk.insert_frame`.

Without ``skip_invalid`` any problem raises :class:`ValidationError` before a
single row is written. Importing the same files twice adds nothing: orders
and reviews already present are skipped whole (orders are immutable), products
and customers are upserted, events are matched on ``event_id`` or, without
one, on their full content.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Column, Connection, Engine, Table, bindparam, select

from engine.bulk import ProgressFn, frame_records, insert_frame, refresh_statistics
from engine.errors import UserError, ValidationError
from engine.models import (
    DEVICES,
    EVENT_TYPES,
    WEATHERS,
    Customer,
    Event,
    IdentityLink,
    Order,
    OrderLine,
    Product,
    Review,
)

FILE_KINDS = ("customers", "products", "orders", "events", "reviews")
"""The kinds of file :func:`import_files` reads, in the order they are written."""

TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f")

# How many problems a refusal quotes before "and N more".
_QUOTED_PROBLEMS = 5
# Ids per IN (...) query: well under SQLite's and PostgreSQL's bind-parameter limits.
_IN_CHUNK = 5_000
# Longest value quoted back in a reason.
_SHOWN_CHARS = 40

_CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
_PRODUCTS: Table = Product.__table__  # type: ignore[assignment]
_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_ORDER_LINES: Table = OrderLine.__table__  # type: ignore[assignment]
_EVENTS: Table = Event.__table__  # type: ignore[assignment]
_REVIEWS: Table = Review.__table__  # type: ignore[assignment]
_LINKS: Table = IdentityLink.__table__  # type: ignore[assignment]


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class RejectedRow:
    """One problem found in an input file (``line`` as a text editor counts; header = 1)."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.reason}"


@dataclass
class TableCounts:
    """What happened to one table's rows.

    ``read``: rows offered by the files (for ``orders``, distinct orders);
    ``inserted``/``updated``: rows written; ``skipped_existing``: rows already
    in the store (or repeated within the file) and therefore not written.
    """

    read: int = 0
    inserted: int = 0
    updated: int = 0
    skipped_existing: int = 0


@dataclass
class ImportReport:
    """The outcome of :func:`import_files`."""

    tables: dict[str, TableCounts] = field(default_factory=dict)
    placeholders: dict[str, int] = field(
        default_factory=lambda: {"customers": 0, "products": 0}
    )
    rejected: list[RejectedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def table(self, name: str) -> TableCounts:
        return self.tables.setdefault(name, TableCounts())

    @property
    def inserted_total(self) -> int:
        return sum(c.inserted for c in self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (every rejected row included)."""
        return {
            "tables": {name: asdict(counts) for name, counts in self.tables.items()},
            "placeholders": dict(self.placeholders),
            "rejected": [asdict(r) for r in self.rejected],
            "warnings": list(self.warnings),
        }


# --------------------------------------------------------------------------- file specs


@dataclass(frozen=True)
class _Col:
    """One column of an import format and how its values are checked."""

    name: str
    kind: str  # id | text | positive | nonnegative | rating | timestamp | bool | tags | choice
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None


def _length(column: Any) -> int | None:
    return getattr(column.property.columns[0].type, "length", None)


_SPECS: dict[str, tuple[_Col, ...]] = {
    "orders": (
        _Col("customer_id", "id", True, max_length=_length(Customer.customer_id)),
        _Col("order_id", "id", True, max_length=_length(Order.order_id)),
        _Col("product_id", "id", True, max_length=_length(Product.product_id)),
        _Col("quantity", "positive", True),
        _Col("unit_price", "nonnegative", True),
        _Col("ordered_at", "timestamp", True),
        _Col("discount", "nonnegative"),
        _Col("channel", "text", max_length=_length(Order.channel)),
        _Col("device", "choice", choices=DEVICES),
        _Col("location", "text", max_length=_length(Order.location)),
    ),
    "products": (
        _Col("product_id", "id", True, max_length=_length(Product.product_id)),
        _Col("name", "text", max_length=_length(Product.name)),
        _Col("category", "text", max_length=_length(Product.category)),
        _Col("brand", "text", max_length=_length(Product.brand)),
        _Col("price", "nonnegative"),
        _Col("list_price", "nonnegative"),
        _Col("tags", "tags", max_length=_length(Product.tags)),
        _Col("region", "text", max_length=_length(Product.region)),
        _Col("in_stock", "bool"),
    ),
    "events": (
        _Col("event_type", "choice", True, choices=EVENT_TYPES),
        _Col("occurred_at", "timestamp", True),
        _Col("customer_id", "id", max_length=_length(Customer.customer_id)),
        _Col("anonymous_id", "id", max_length=_length(Event.anonymous_id)),
        _Col("event_id", "id", max_length=_length(Event.event_id)),
        _Col("product_id", "id", max_length=_length(Product.product_id)),
        _Col("query", "text", max_length=_length(Event.query)),
        _Col("channel", "text", max_length=_length(Event.channel)),
        _Col("device", "choice", choices=DEVICES),
        _Col("location", "text", max_length=_length(Event.location)),
        _Col("weather", "choice", choices=WEATHERS),
        _Col("rating", "rating"),
    ),
    "reviews": (
        _Col("customer_id", "id", True, max_length=_length(Customer.customer_id)),
        _Col("product_id", "id", True, max_length=_length(Product.product_id)),
        _Col("rating", "rating", True),
        _Col("reviewed_at", "timestamp", True),
        _Col("review_id", "id", max_length=_length(Review.review_id)),
        _Col("text", "text"),
    ),
    "customers": (
        _Col("customer_id", "id", True, max_length=_length(Customer.customer_id)),
        _Col("name", "text", max_length=_length(Customer.name)),
        _Col("email", "text", max_length=_length(Customer.email)),
        _Col("city", "text", max_length=_length(Customer.city)),
        _Col("region", "text", max_length=_length(Customer.region)),
        _Col("country", "text", max_length=_length(Customer.country)),
        _Col("signup_at", "timestamp"),
    ),
}


@dataclass
class _Parsed:
    """One validated file: typed values of its valid rows, and the problems found."""

    kind: str
    label: str
    frame: pd.DataFrame  # typed columns (absent optional columns are missing), plus "_line"
    present: frozenset[str]
    problems: pd.DataFrame  # columns: row (position in frame), column, reason
    rows: int = 0


# --------------------------------------------------------------------------- reading


def _show(value: object) -> str:
    text = str(value)
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 3] + "..."
    return repr(text)


def _check_path(path: Path, label: str) -> None:
    if not path.exists():
        raise UserError(f"{label}: no such file")
    if not path.is_file():
        raise UserError(f"{label}: not a file")
    if path.stat().st_size == 0:
        raise UserError(f"{label}: the file is empty (expected a header row and data rows)")


def _read_csv(path: Path, label: str) -> tuple[pd.DataFrame, np.ndarray]:
    """All cells as stripped strings, and each row's line number in the file."""
    try:
        # Blank lines are kept (and dropped below) so row positions map to line numbers.
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
        )
    except UnicodeDecodeError as exc:
        raise UserError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except pd.errors.EmptyDataError as exc:
        raise UserError(f"{label}: the file is empty (expected a header row)") from exc
    except pd.errors.ParserError as exc:
        raise UserError(f"{label}: not a valid CSV file: {str(exc).strip()}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.fillna("")
    for name in frame.columns:
        frame[name] = frame[name].astype(str).str.strip()
    lines = np.arange(len(frame), dtype=np.int64) + 2
    if any(frame[c].str.contains("\n", regex=False).any() for c in frame.columns):
        # A quoted value spans lines: count lines the slow, exact way.
        lines = _csv_line_numbers(path, len(frame))
    blank = (frame == "").all(axis=1).to_numpy() if len(frame.columns) else np.zeros(0, bool)
    return frame.loc[~blank].reset_index(drop=True), lines[~blank]


def _csv_line_numbers(path: Path, rows: int) -> np.ndarray:
    starts: list[int] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        line = reader.line_num
        for _ in reader:
            starts.append(line + 1)
            line = reader.line_num
    return np.asarray(starts[:rows], dtype=np.int64)


def _scalar_text(value: object) -> str | None:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value).strip()
    return None


def _read_jsonl(path: Path, label: str) -> tuple[pd.DataFrame, np.ndarray, list[RejectedRow]]:
    """One JSON object per line; unparseable lines are problems, not crashes."""
    records: list[dict[str, str]] = []
    lines: list[int] = []
    problems: list[RejectedRow] = []
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except json.JSONDecodeError as exc:
                    problems.append(RejectedRow(label, number, "(json)", f"not JSON: {exc.msg}"))
                    continue
                if not isinstance(obj, dict):
                    problems.append(RejectedRow(label, number, "(json)", "not a JSON object"))
                    continue
                record = {str(k).strip(): _scalar_text(v) for k, v in obj.items()}
                nested = [k for k, v in record.items() if v is None]
                if nested:
                    problems.append(
                        RejectedRow(label, number, nested[0], "not a string, number or null")
                    )
                    continue
                records.append(record)  # type: ignore[arg-type]
                lines.append(number)
    except UnicodeDecodeError as exc:
        raise UserError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not records and not problems:
        raise UserError(f"{label}: the file has no events (expected one JSON object per line)")
    frame = pd.DataFrame.from_records(records).fillna("") if records else pd.DataFrame()
    for name in frame.columns:
        frame[name] = frame[name].astype(str)
    return frame, np.asarray(lines, dtype=np.int64), problems


# --------------------------------------------------------------------------- validation


def _problem_frame(rows: np.ndarray, column: str, reasons: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame({"row": rows, "column": column, "reason": list(reasons)})


def _check_column(
    raw: pd.Series, spec: _Col, problems: list[pd.DataFrame]
) -> pd.Series:
    """Typed values of one column; each bad cell adds a problem (row position, column, reason)."""
    empty = (raw == "").to_numpy()

    def flag(mask: np.ndarray, reasons: pd.Series | str) -> None:
        if not mask.any():
            return
        rows = np.flatnonzero(mask)
        if isinstance(reasons, str):
            reasons = pd.Series([reasons] * len(rows))
        problems.append(_problem_frame(rows, spec.name, reasons))

    if spec.required:
        flag(empty, "is empty (required)")
    present = ~empty
    kind = spec.kind
    if kind in ("id", "text", "tags", "choice"):
        values = raw
        if kind == "tags":
            values = (
                raw.str.replace(r"\s*;\s*", ";", regex=True)
                .str.replace(r";{2,}", ";", regex=True)
                .str.strip(";")
            )
        if kind == "choice":
            values = raw.str.lower()
            bad = present & ~values.isin(spec.choices).to_numpy()
            valid = ", ".join(spec.choices)
            flag(bad, raw[bad].map(lambda v: f"invalid value {_show(v)}; valid values: {valid}"))
        if spec.max_length is not None:
            flag(
                (values.str.len() > spec.max_length).to_numpy(),
                f"longer than {spec.max_length} characters",
            )
        return values.astype(object).where(pd.Series(present, index=raw.index), None)
    if kind in ("positive", "nonnegative", "rating"):
        numbers = pd.to_numeric(raw.where(pd.Series(present, index=raw.index)), errors="coerce")
        numeric = numbers.to_numpy(dtype=float)
        not_number = present & ~np.isfinite(numeric)
        flag(not_number, raw[not_number].map(lambda v: f"not a number: {_show(v)}"))
        ok = present & ~not_number
        if kind == "positive":
            bad = ok & ~(numeric > 0)
            flag(bad, raw[bad].map(lambda v: f"must be a number > 0, got {_show(v)}"))
        elif kind == "nonnegative":
            bad = ok & ~(numeric >= 0)
            flag(bad, raw[bad].map(lambda v: f"must be a number >= 0, got {_show(v)}"))
        else:
            bad = ok & ~((numeric >= 1) & (numeric <= 5) & (np.floor(numeric) == numeric))
            flag(bad, raw[bad].map(lambda v: f"must be an integer 1..5, got {_show(v)}"))
        return numbers
    if kind == "timestamp":
        parsed = pd.to_datetime(
            raw.where(pd.Series(present, index=raw.index)),
            format="ISO8601",
            utc=True,
            errors="coerce",
        )
        bad = present & parsed.isna().to_numpy()
        flag(
            bad,
            raw[bad].map(
                lambda v: f"not an ISO 8601 timestamp: {_show(v)} (e.g. 2024-06-01T12:00:00)"
            ),
        )
        # The store keeps naive UTC at microsecond precision (what the databases hold).
        return parsed.dt.tz_localize(None).dt.floor("us").astype("datetime64[us]")
    if kind == "bool":
        lowered = raw.str.lower()
        truthy = lowered.isin(TRUE_WORDS).to_numpy()
        falsy = lowered.isin(FALSE_WORDS).to_numpy()
        bad = present & ~truthy & ~falsy
        valid = ", ".join(TRUE_WORDS + FALSE_WORDS)
        flag(bad, raw[bad].map(lambda v: f"invalid value {_show(v)}; valid values: {valid}"))
        # An empty in_stock means in stock: a catalogue lists what it sells.
        return pd.Series(~falsy, index=raw.index, dtype=bool)
    raise AssertionError(f"unknown column kind {kind}")  # pragma: no cover


def _validate(kind: str, label: str, raw: pd.DataFrame, lines: np.ndarray) -> _Parsed:
    """Check every row of one file; structural problems (missing columns) raise at once."""
    specs = _SPECS[kind]
    missing = [s.name for s in specs if s.required and s.name not in raw.columns]
    if kind == "events" and not {"customer_id", "anonymous_id"} & set(raw.columns):
        missing.append("customer_id or anonymous_id")
    if missing:
        required = ", ".join(s.name for s in specs if s.required)
        if kind == "events":
            required += ", and customer_id or anonymous_id"
        raise ValidationError(
            f"{label}:1: missing required column {', '.join(missing)} "
            f"(required: {required}; found: {', '.join(raw.columns) or 'none'})",
            problems=[f"{label}:1: {name}: required column missing" for name in missing],
        )
    problems: list[pd.DataFrame] = []
    typed: dict[str, pd.Series] = {}
    for spec in specs:
        if spec.name in raw.columns:
            typed[spec.name] = _check_column(raw[spec.name], spec, problems)
    frame = pd.DataFrame(typed, index=raw.index)
    if kind == "events":
        nobody = np.ones(len(frame), dtype=bool)
        for column in ("customer_id", "anonymous_id"):
            if column in frame:
                nobody &= frame[column].isna().to_numpy()
        if nobody.any():
            problems.append(
                _problem_frame(
                    np.flatnonzero(nobody),
                    "customer_id",
                    ["an event needs customer_id or anonymous_id"] * int(nobody.sum()),
                )
            )
    frame["_line"] = lines
    table = (
        pd.concat(problems, ignore_index=True)
        if problems
        else pd.DataFrame({"row": np.zeros(0, np.int64), "column": [], "reason": []})
    )
    if kind == "orders":
        table = pd.concat([table, _order_consistency(frame, table)], ignore_index=True)
    return _Parsed(kind, label, frame, frozenset(typed), table, rows=len(frame))


def _order_consistency(frame: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    """Lines of one order must agree on its customer and time (the header is the first line)."""
    valid = np.ones(len(frame), dtype=bool)
    valid[problems["row"].to_numpy(dtype=np.int64)] = False
    ok = frame.loc[valid, ["order_id", "customer_id", "ordered_at", "_line"]]
    if ok.empty:
        return problems.iloc[0:0]
    first = ok.groupby("order_id", sort=False).transform("first")
    found: list[pd.DataFrame] = []
    for column in ("customer_id", "ordered_at"):
        differs = ok[column] != first[column]
        if differs.any():
            rows = np.flatnonzero(valid)[differs.to_numpy()]
            reasons = [
                f"differs from line {line} of the same order ({column} comes from its first line)"
                for line in first.loc[differs, "_line"]
            ]
            found.append(_problem_frame(rows, column, reasons))
    return pd.concat(found, ignore_index=True) if found else problems.iloc[0:0]


def _rejected_rows(parsed: _Parsed) -> list[RejectedRow]:
    lines = parsed.frame["_line"].to_numpy()
    table = parsed.problems.copy()
    table["line"] = lines[table["row"].to_numpy(dtype=np.int64)] if len(table) else []
    table = table.sort_values(["line"], kind="stable")
    return [
        RejectedRow(parsed.label, int(line), str(column), str(reason))
        for line, column, reason in zip(
            table["line"], table["column"], table["reason"], strict=True
        )
    ]


def _drop_invalid(parsed: _Parsed) -> tuple[pd.DataFrame, list[RejectedRow]]:
    """The file's valid rows; for orders, an order with any bad line is dropped whole."""
    frame = parsed.frame
    bad = np.zeros(len(frame), dtype=bool)
    bad[parsed.problems["row"].to_numpy(dtype=np.int64)] = True
    extra: list[RejectedRow] = []
    if parsed.kind == "orders" and bad.any():
        # A partial order would be stored for good (orders are immutable): drop it all.
        bad_orders = set(frame.loc[bad, "order_id"].dropna())
        siblings = frame["order_id"].isin(bad_orders).to_numpy() & ~bad
        for order_id, line in zip(
            frame.loc[siblings, "order_id"], frame.loc[siblings, "_line"], strict=True
        ):
            extra.append(
                RejectedRow(
                    parsed.label,
                    int(line),
                    "order_id",
                    f"order {_show(order_id)} has an invalid line; the whole order is skipped",
                )
            )
        bad |= siblings
    return frame.loc[~bad].reset_index(drop=True), extra


# --------------------------------------------------------------------------- writing helpers


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


# --------------------------------------------------------------------------- the import


def _parse_file(kind: str, path: str | Path) -> tuple[_Parsed, list[RejectedRow]]:
    path = Path(path)
    label = str(path)
    _check_path(path, label)
    json_problems: list[RejectedRow] = []
    if kind == "events" and path.suffix.lower() in (".jsonl", ".ndjson"):
        raw, lines, json_problems = _read_jsonl(path, label)
    else:
        raw, lines = _read_csv(path, label)
    return _validate(kind, label, raw, lines), json_problems


def import_files(
    engine: Engine,
    *,
    orders: str | Path | None = None,
    products: str | Path | None = None,
    events: str | Path | None = None,
    reviews: str | Path | None = None,
    customers: str | Path | None = None,
    skip_invalid: bool = False,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Validate every row of the given files, then write them in one transaction.

    Args:
        engine: the store (schema at head, see :func:`engine.db.open_store`).
        orders, products, events, reviews, customers: paths of CSV files in the
            formats of CONTRACT.md; ``events`` may also be ``.jsonl``.
        skip_invalid: import the valid rows and report the rejected ones,
            instead of refusing the whole import.
        progress: ``progress(label, done, total)`` as rows are validated and written.

    Returns:
        An :class:`ImportReport`: per-table counts, placeholders created,
        rejected rows (only with ``skip_invalid``) and warnings.

    Raises:
        UserError: a file is missing, empty or not UTF-8 CSV; no file given.
        ValidationError: a required column is missing, or (without
            ``skip_invalid``) any row is invalid. Nothing is written then.
    """
    paths = {
        "customers": customers,
        "products": products,
        "orders": orders,
        "events": events,
        "reviews": reviews,
    }
    given = {kind: path for kind, path in paths.items() if path is not None}
    if not given:
        raise UserError(
            "nothing to import: give at least one of orders, products, events, reviews, customers"
        )
    parsed: dict[str, _Parsed] = {}
    rejected: list[RejectedRow] = []
    for kind, path in given.items():
        one, json_problems = _parse_file(kind, path)
        parsed[kind] = one
        rejected.extend(sorted(json_problems + _rejected_rows(one), key=lambda r: r.line))
    if rejected and not skip_invalid:
        shown = "; ".join(str(r) for r in rejected[:_QUOTED_PROBLEMS])
        more = len(rejected) - _QUOTED_PROBLEMS
        message = f"invalid rows, nothing imported: {shown}"
        if more > 0:
            message += f"; and {more} more"
        message += " (fix the file, or use --skip-invalid to import the valid rows)"
        raise ValidationError(message, problems=[str(r) for r in rejected])

    if progress is not None:
        for kind, one in parsed.items():
            progress(f"validated {kind}", one.rows, one.rows)
    report = ImportReport(rejected=list(rejected))
    valid: dict[str, pd.DataFrame] = {}
    for kind, one in parsed.items():
        frame, extra = _drop_invalid(one)
        report.rejected.extend(extra)
        valid[kind] = frame
    file_order = {one.label: i for i, one in enumerate(parsed.values())}
    report.rejected.sort(key=lambda r: (file_order.get(r.file, 0), r.line))

    with engine.begin() as connection:
        _write(connection, valid, parsed, report, progress)
        refresh_statistics(connection, [
            model.__table__  # type: ignore[misc]
            for model in (Customer, Product, Order, OrderLine, Review, Event, IdentityLink)
        ])
    return report


def _write(
    connection: Connection,
    valid: dict[str, pd.DataFrame],
    parsed: dict[str, _Parsed],
    report: ImportReport,
    progress: ProgressFn | None,
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

    # --- orders: skip ids already stored (immutable), number lines in file order.
    order_rows = pd.DataFrame()
    line_rows = pd.DataFrame()
    if "orders" in valid:
        frame = valid["orders"]
        orders_counts = report.table("orders")
        lines_counts = report.table("order_lines")
        orders_counts.read += int(frame["order_id"].nunique())
        lines_counts.read += len(frame)
        known = _existing_ids(connection, _ORDERS.c.order_id, frame["order_id"].unique())
        stored = frame["order_id"].isin(known).to_numpy()
        orders_counts.skipped_existing += len(known)
        lines_counts.skipped_existing += int(stored.sum())
        fresh = frame.loc[~stored].copy()
        fresh["line_no"] = fresh.groupby("order_id", sort=False).cumcount() + 1
        header = [c for c in ("customer_id", "ordered_at", "channel", "device", "location")
                  if c in fresh]
        order_rows = fresh.drop_duplicates("order_id", keep="first")[["order_id", *header]]
        line_rows = fresh[["order_id", "line_no", "product_id", "quantity", "unit_price"]].copy()
        line_rows["discount"] = (
            fresh["discount"].fillna(0.0) if "discount" in fresh else 0.0
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
