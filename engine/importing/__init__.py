"""Loading a real store's exports: orders, products, events, reviews and customers.

The formats are those of ``../shared/CONTRACT.md`` ("Import files"); how real
exports are read (returns, guest checkouts, repeated lines, per-line times, time
zones, spellings) is in ``docs/importing.md``. The import works in two phases so
that a bad file never leaves a half-written store:

1. every row of every given file is read (:mod:`.read`, as strings) and checked
   column by column with vectorised masks (:mod:`.validate`, formats in :mod:`.spec`;
   an event's rules are :mod:`engine.events`', the ones ``track()`` follows):
   unreadable cells are problems ``(file, line, column, reason)``, readable rows
   that are not facts worth keeping are skipped by decision, with a reason;
2. only then, in ONE transaction, the rows are written (:mod:`.write`).

Without ``skip_invalid`` any problem raises :class:`ValidationError` before a
single row is written; decisions never refuse an import. Importing the same
files twice adds nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine

from engine.bulk import ProgressFn, refresh_statistics
from engine.db import run_write
from engine.errors import UserError, ValidationError

from .read import check_path, read_csv, read_jsonl
from .report import ImportReport, RejectedRow, SkippedRows, TableCounts
from .spec import FILE_KINDS
from .validate import Parsed, drop_invalid, rejected_rows, skipped_rows, validate
from .write import WRITTEN_TABLES, write_all

__all__ = [
    "FILE_KINDS",
    "ImportReport",
    "RejectedRow",
    "SkippedRows",
    "TableCounts",
    "import_files",
]

# How many problems a refusal quotes before "and N more".
_QUOTED_PROBLEMS = 5


def _parse_file(kind: str, path: str | Path) -> tuple[Parsed, list[RejectedRow]]:
    path = Path(path)
    label = str(path)
    check_path(path, label)
    json_problems: list[RejectedRow] = []
    if kind == "events" and path.suffix.lower() in (".jsonl", ".ndjson"):
        raw, lines, json_problems = read_jsonl(path, label)
    else:
        raw, lines = read_csv(path, label)
    return validate(kind, label, raw, lines), json_problems


def import_files(
    engine: Engine,
    *,
    orders: str | Path | None = None,
    products: str | Path | None = None,
    events: str | Path | None = None,
    reviews: str | Path | None = None,
    customers: str | Path | None = None,
    skip_invalid: bool = False,
    replace: bool = False,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Validate every row of the given files, then write them in one transaction.

    Args:
        engine: the store (schema at head, see :func:`engine.db.open_store`).
        orders, products, events, reviews, customers: paths of CSV files in the
            formats of CONTRACT.md; ``events`` may also be ``.jsonl``.
        skip_invalid: import the readable rows and report the rejected ones,
            instead of refusing the whole import.
        replace: where an order already stored differs from the file (another
            customer, a line with another quantity or price), take the file's
            version instead of refusing.
        progress: ``progress(label, done, total)`` as rows are validated and written.

    Returns:
        An :class:`ImportReport`: per-table counts, placeholders created, rows
        skipped by decision (with reasons), rejected rows (only with
        ``skip_invalid``) and notes on values respelled or converted.

    Raises:
        UserError: a file is missing, empty or not UTF-8 CSV; no file given.
        ValidationError: a required column is missing, or (without
            ``skip_invalid``) any row is unreadable, or (without ``replace``) a
            stored order differs from the file. Nothing is written then.
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
    parsed: dict[str, Parsed] = {}
    rejected: list[RejectedRow] = []
    for kind, path in given.items():
        one, json_problems = _parse_file(kind, path)
        parsed[kind] = one
        rejected.extend(sorted(json_problems + rejected_rows(one), key=lambda r: r.line))
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
    valid: dict[str, pd.DataFrame] = {}
    extra_rejected: list[RejectedRow] = []
    for kind, one in parsed.items():
        frame, extra = drop_invalid(one)
        extra_rejected.extend(extra)
        valid[kind] = frame
    file_order = {one.label: i for i, one in enumerate(parsed.values())}

    def write(connection: Connection) -> ImportReport:
        report = ImportReport(rejected=list(rejected) + extra_rejected)
        report.rejected.sort(key=lambda r: (file_order.get(r.file, 0), r.line))
        for one in parsed.values():
            report.skipped.extend(skipped_rows(one))
            report.warnings.extend(one.notes)
        write_all(connection, valid, parsed, report, progress, replace=replace)
        refresh_statistics(connection, list(WRITTEN_TABLES))
        return report

    # Two imports at once: each holds the write lock from its first read (SQLite) and
    # the loser of a race on PostgreSQL reruns its whole transaction, which then sees
    # the winner's rows as stored.
    return run_write(engine, lambda session: write(session.connection()))
