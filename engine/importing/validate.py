"""Checking every row of a file, and deciding which readable rows are not worth keeping.

Two outcomes besides "import it":

- a **problem** (the row cannot be read: a bad number, timestamp or value): the
  import is refused unless ``skip_invalid``, and the file, line, column and reason
  are reported;
- a **decision** (the row is readable but is not a sale or a fact worth keeping: a
  return, a cancellation, a guest checkout, an exact repeat): the row is skipped
  and counted with its reason, and the import goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import ValidationError
from engine.events import ID_CONTROL, RATING_RANGE, TEXT_CONTROL, show
from engine.timestamps import OFFSET_GIVEN, read_timestamp
from engine.timeutil import plausible_window, window_text
from engine.vocabulary import canonical_series

from .report import SAMPLE_LINES, RejectedRow, SkippedRows
from .spec import FALSE_WORDS, SPECS, TRUE_WORDS, Col

__all__ = ["Parsed", "drop_invalid", "rejected_rows", "show", "skipped_rows", "validate"]

# An order id like "C536379" is a cancellation in retail exports (UCI Online Retail).
_CANCELLATION_ID = r"[Cc]\d+"


@dataclass
class Parsed:
    """One validated file: typed values of its rows, the problems found, the decisions made."""

    kind: str
    label: str
    frame: pd.DataFrame  # typed columns (absent optional columns are missing), plus "_line"
    present: frozenset[str]
    problems: pd.DataFrame  # columns: row (position in frame), column, reason
    skipped: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))  # row -> reason
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.frame)


def _problem_frame(rows: np.ndarray, column: str, reasons: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame({"row": rows, "column": column, "reason": list(reasons)})


def _check_column(
    raw: pd.Series, spec: Col, problems: list[pd.DataFrame], notes: list[str], label: str
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

    if spec.must_have_value:
        flag(empty, "is empty (required)")
    present = ~empty
    keep = pd.Series(present, index=raw.index)
    kind = spec.kind
    if kind in ("id", "text", "tags", "choice", "label"):
        # A NUL byte cannot be stored by PostgreSQL; other control characters in an id
        # make it print as something it is not.
        control = ID_CONTROL if kind == "id" else TEXT_CONTROL
        hidden = present & raw.str.contains(control, regex=True).to_numpy()
        flag(hidden, "contains a control character (e.g. a NUL byte)")
        values = raw
        if kind == "tags":
            values = (
                raw.str.replace(r"\s*;\s*", ";", regex=True)
                .str.replace(r";{2,}", ";", regex=True)
                .str.strip(";")
            )
        if kind in ("choice", "label"):
            values = canonical_series(raw, spec.name)
            respelled = present & (values != raw).to_numpy()
            if kind == "choice":
                bad = present & ~values.isin(spec.choices).to_numpy()
                valid = ", ".join(spec.choices)
                flag(bad, raw[bad].map(lambda v: f"invalid value {show(v)}; valid values: {valid}"))
                respelled &= ~bad
            if respelled.any():
                pairs = pd.DataFrame({"was": raw[respelled], "now": values[respelled]})
                shown = ", ".join(
                    f"{show(was)} -> {show(now)}"
                    for was, now in pairs.drop_duplicates().head(3).itertuples(index=False)
                )
                notes.append(
                    f"{label}: {spec.name}: {int(respelled.sum()):,} values respelled the "
                    f"contract's way ({shown})"
                )
        if spec.max_length is not None:
            flag(
                (values.str.len() > spec.max_length).to_numpy(),
                f"longer than {spec.max_length} characters",
            )
        return values.astype(object).where(keep, None)
    if kind in ("number", "nonnegative", "rating"):
        # what pandas reads as a number is engine.events.NUMBER (no "1_0", no "٥")
        numbers = pd.to_numeric(raw.where(keep), errors="coerce")
        numeric = numbers.to_numpy(dtype=float)
        not_number = present & ~np.isfinite(numeric)
        flag(not_number, raw[not_number].map(lambda v: f"not a number: {show(v)}"))
        ok = present & ~not_number
        if spec.max_value is not None:
            huge = ok & (np.abs(np.nan_to_num(numeric)) > spec.max_value)
            flag(
                huge,
                raw[huge].map(
                    lambda v: f"implausibly large: {show(v)} (at most {spec.max_value:,.0f})"
                ),
            )
            ok &= ~huge
        if kind == "nonnegative":
            bad = ok & ~(numeric >= 0)
            flag(bad, raw[bad].map(lambda v: f"must be a number >= 0, got {show(v)}"))
        elif kind == "rating":
            low, high = RATING_RANGE
            bad = ok & ~((numeric >= low) & (numeric <= high) & (np.floor(numeric) == numeric))
            flag(bad, raw[bad].map(lambda v: f"must be an integer 1..5, got {show(v)}"))
        return numbers
    if kind == "timestamp":
        return _check_timestamps(raw, spec, present, flag, notes, label)
    if kind == "bool":
        lowered = raw.str.lower()
        truthy = lowered.isin(TRUE_WORDS).to_numpy()
        falsy = lowered.isin(FALSE_WORDS).to_numpy()
        bad = present & ~truthy & ~falsy
        valid = ", ".join(TRUE_WORDS + FALSE_WORDS)
        flag(bad, raw[bad].map(lambda v: f"invalid value {show(v)}; valid values: {valid}"))
        # An empty in_stock means in stock: a catalogue lists what it sells.
        return pd.Series(~falsy, index=raw.index, dtype=bool)
    raise AssertionError(f"unknown column kind {kind}")  # pragma: no cover


def _check_timestamps(
    raw: pd.Series, spec: Col, present: np.ndarray, flag: Any, notes: list[str], label: str
) -> pd.Series:
    """engine.timestamps' rule over a column: pandas reads every cell at once (the common
    forms, and the rest as it always did); what it cannot read or hold (week dates,
    ``10:00:00,5``, year 1600) gets :func:`engine.timestamps.read_timestamp`'s reading,
    so a cell means what it would mean to track()."""
    text = raw.str.upper()
    parsed = pd.to_datetime(text.where(present), format="ISO8601", utc=True, errors="coerce")
    # The store keeps naive UTC at microsecond precision (what the databases hold).
    naive = parsed.dt.tz_localize(None).dt.floor("us").astype("datetime64[us]")
    unread = np.flatnonzero(present & naive.isna().to_numpy())
    window = plausible_window()
    not_iso = np.zeros(len(raw), dtype=bool)
    outside = present & ((naive < window[0]) | (naive > window[1])).to_numpy()
    for row, text_value in zip(unread, text.iloc[unread], strict=True):
        value = read_timestamp(text_value)
        if value is None:
            not_iso[row] = True
        elif window[0] <= value <= window[1]:
            naive.iloc[row] = value
        else:
            outside[row] = True
    flag(
        not_iso,
        raw[not_iso].map(
            lambda v: f"not an ISO 8601 timestamp: {show(v)} (e.g. 2024-06-01T12:00:00)"
        ),
    )
    flag(
        outside,
        raw[outside].map(
            lambda v: f"{show(v)} is outside the plausible window {window_text(window)}"
        ),
    )
    shifted = present & ~outside & ~not_iso & text.str.contains(OFFSET_GIVEN).to_numpy(dtype=bool)
    if shifted.any():
        notes.append(
            f"{label}: {spec.name}: {int(shifted.sum()):,} timestamps with a UTC offset "
            "stored in UTC"
        )
    return naive


def validate(kind: str, label: str, raw: pd.DataFrame, lines: np.ndarray) -> Parsed:
    """Check every row of one file; structural problems (missing columns) raise at once."""
    specs = SPECS[kind]
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
    notes: list[str] = []
    typed: dict[str, pd.Series] = {}
    for spec in specs:
        if spec.name in raw.columns:
            typed[spec.name] = _check_column(raw[spec.name], spec, problems, notes, label)
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
    parsed = Parsed(kind, label, frame, frozenset(typed), table, notes=notes)
    if kind == "orders":
        parsed.skipped = _order_decisions(frame, table)
    return parsed


def _order_decisions(frame: pd.DataFrame, problems: pd.DataFrame) -> pd.Series:
    """Readable order lines that are not sales: row position -> why it is skipped."""
    undecided = np.ones(len(frame), dtype=bool)
    undecided[problems["row"].to_numpy(dtype=np.int64)] = False
    reasons = pd.Series([None] * len(frame), index=frame.index, dtype=object)

    def decide(mask: np.ndarray, reason: str) -> None:
        chosen = undecided & mask
        reasons[chosen] = reason
        undecided[chosen] = False

    decide(
        frame["customer_id"].isna().to_numpy(),
        "no customer id (a guest checkout cannot join a customer's profile)",
    )
    order_ids = frame["order_id"].fillna("")
    cancelled = order_ids.str.fullmatch(_CANCELLATION_ID).to_numpy()
    # Only where the store's plain order ids are numbers: "C123" is otherwise just an id.
    if cancelled.any() and order_ids.str.fullmatch(r"\d+").any():
        decide(cancelled, "a cancellation (its order id starts with C)")
    decide((frame["quantity"] <= 0).to_numpy(), "a return or cancellation (quantity <= 0)")
    decide(
        (frame["unit_price"] < 0).to_numpy(),
        "a negative price (an accounting adjustment, not a sale)",
    )
    columns = [c for c in frame.columns if c != "_line"]
    candidates = frame.loc[undecided, columns]
    repeats = candidates.duplicated(keep="first").to_numpy()
    mask = np.zeros(len(frame), dtype=bool)
    mask[np.flatnonzero(undecided)[repeats]] = True
    decide(mask, "an exact repeat of an earlier line")
    kept = frame.loc[undecided, ["order_id", "customer_id"]]
    customers = kept.groupby("order_id", sort=False)["customer_id"].transform("nunique")
    mixed = np.zeros(len(frame), dtype=bool)
    mixed[np.flatnonzero(undecided)[(customers > 1).to_numpy()]] = True
    decide(mixed, "its order's lines name different customers (whose order it is is unknown)")
    return reasons.dropna()


def rejected_rows(parsed: Parsed) -> list[RejectedRow]:
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


def skipped_rows(parsed: Parsed) -> list[SkippedRows]:
    """The decisions, one entry per reason, with the first lines of each."""
    if parsed.skipped.empty:
        return []
    lines = parsed.frame["_line"]
    found: list[SkippedRows] = []
    for reason, rows in parsed.skipped.groupby(parsed.skipped, sort=False):
        numbers = sorted(int(n) for n in lines.loc[rows.index])
        found.append(SkippedRows(parsed.label, str(reason), len(numbers), numbers[:SAMPLE_LINES]))
    return found


def drop_invalid(parsed: Parsed) -> tuple[pd.DataFrame, list[RejectedRow]]:
    """The rows to write: no problem and no decision against them.

    For orders, an order with an unreadable line is dropped whole (with
    ``skip_invalid``): a partial order would look like a smaller basket.
    """
    frame = parsed.frame
    bad = np.zeros(len(frame), dtype=bool)
    bad[parsed.problems["row"].to_numpy(dtype=np.int64)] = True
    extra: list[RejectedRow] = []
    if parsed.kind == "orders" and bad.any():
        bad_orders = set(frame.loc[bad, "order_id"].dropna())
        siblings = frame["order_id"].isin(bad_orders).to_numpy() & ~bad
        siblings[frame.index.get_indexer(parsed.skipped.index)] = False
        for order_id, line in zip(
            frame.loc[siblings, "order_id"], frame.loc[siblings, "_line"], strict=True
        ):
            extra.append(
                RejectedRow(
                    parsed.label,
                    int(line),
                    "order_id",
                    f"order {show(order_id)} has an invalid line; the whole order is skipped",
                )
            )
        bad |= siblings
    bad[frame.index.get_indexer(parsed.skipped.index)] = True
    return frame.loc[~bad].reset_index(drop=True), extra
