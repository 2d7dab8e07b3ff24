"""``personalize import``: load a real store's CSV exports (formats in CONTRACT.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy import Engine

from engine.db import open_store, session_scope
from engine.errors import UserError
from engine.importing import FILE_KINDS, ImportReport, import_files
from engine.store_settings import DEFAULT_IDENTITY, StoreIdentity, read_identity, save_identity

from .identity_opts import add_identity_options, identity_changes
from .output import emit_json, log

_GENERIC_FOLDERS = {
    "",
    "tmp",
    "temp",
    "data",
    "export",
    "exports",
    "downloads",
    "csv",
    "files",
    "import",
    "imports",
    "home",
    "root",
}

# In CONTRACT.md's order; required columns first.
_FILE_HELP = {
    "orders": "order lines: customer_id, order_id, product_id, quantity, unit_price, ordered_at "
    "[, discount, channel, device, location]",
    "products": "product_id [, name, category, brand, price, list_price, tags, region, in_stock]",
    "events": "CSV or JSONL: event_type, occurred_at, customer_id and/or anonymous_id "
    "[, event_id, product_id, query, channel, device, location, weather, rating]",
    "reviews": "customer_id, product_id, rating, reviewed_at [, review_id, text]",
    "customers": "customer_id [, name, email, city, region, country, signup_at]",
}
assert set(_FILE_HELP) == set(FILE_KINDS)

# Rejected rows printed in the human summary; --json lists them all.
_SHOWN_REJECTED = 20


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "import",
        parents=[common],
        help="load a real store's CSV exports; idempotent",
        description="Load CSV exports (events may also be .jsonl). Every row is validated "
        "before anything is written; an unreadable row refuses the whole import unless "
        "--skip-invalid is given. Returns, cancellations, guest checkouts and exact repeats "
        "are skipped and counted, never refused (docs/importing.md).",
    )
    for kind, text in _FILE_HELP.items():
        parser.add_argument(f"--{kind}", metavar="FILE", help=text)
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows and report the rejected ones",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="where a stored order differs from the file, take the file's version "
        "(without it such an import is refused)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_identity_options(parser)
    parser.set_defaults(handler=run)


def _progress(label: str, done: int, total: int) -> None:
    log(f"  {label}: {done:,}/{total:,}")


def run(args: argparse.Namespace) -> int:
    files = {kind: getattr(args, kind) for kind in FILE_KINDS}
    changes = identity_changes(args)  # a bad currency refuses the import before it starts
    if not any(files.values()):
        options = ", ".join(f"--{kind} FILE" for kind in _FILE_HELP)
        raise UserError(f"nothing to import: give at least one of {options}")
    engine = open_store(args.db)
    try:
        report = import_files(
            engine,
            **files,
            skip_invalid=args.skip_invalid,
            replace=args.replace,
            progress=_progress,
        )
        with session_scope(engine) as session:
            unnamed = read_identity(session).is_default
        named_by_folder = unnamed and "name" not in changes
        if named_by_folder:  # a first import names the store after its files' folder
            changes = {"name": folder_name(files), **changes}
        identity = save_identity(engine, **changes) if changes else _read(engine)
    finally:
        engine.dispose()
    if named_by_folder:
        log(
            f"store settings: named {identity.name!r} after the files' folder, prices in "
            f"{identity.currency}, times in {identity.timezone}; change them with "
            "--store-name, --currency, --timezone, --description"
        )
    if args.json:
        emit_json({**report.as_dict(), "store": identity.as_dict()})
        return 0
    _print_summary(report)
    return 0


def folder_name(files: dict[str, str | None]) -> str:
    """The store's default name: the folder of the first file given (``data/corner-shop/
    orders.csv`` -> ``"Corner shop"``), or ``"My store"`` when that says nothing."""
    first = next((Path(f) for f in files.values() if f), None)
    folder = first.resolve().parent.name if first is not None else ""
    words = " ".join(folder.replace("_", " ").replace("-", " ").split())
    if not words or words.lower() in _GENERIC_FOLDERS:
        return DEFAULT_IDENTITY.name
    return words[:1].upper() + words[1:]


def _read(engine: Engine) -> StoreIdentity:
    with session_scope(engine) as session:
        return read_identity(session)


def _print_summary(report: ImportReport) -> None:
    print(f"{'table':<15}{'read':>10}{'inserted':>10}{'updated':>10}{'existing':>10}")
    for name, counts in report.tables.items():
        print(
            f"{name:<15}{counts.read:>10,}{counts.inserted:>10,}{counts.updated:>10,}"
            f"{counts.skipped_existing:>10,}"
        )
    print(
        f"created {report.placeholders['products']:,} placeholder products, "
        f"{report.placeholders['customers']:,} placeholder customers"
    )
    if report.skipped:
        print(f"skipped {report.skipped_total:,} rows that are not sales or facts to keep:")
        for skipped in report.skipped:
            print(f"  {skipped}")
    for warning in report.warnings:
        print(f"note: {warning}")
    if report.rejected:
        print(f"rejected {len(report.rejected):,} rows:")
        for row in report.rejected[:_SHOWN_REJECTED]:
            print(f"  {row}")
        if len(report.rejected) > _SHOWN_REJECTED:
            print(f"  and {len(report.rejected) - _SHOWN_REJECTED:,} more (--json lists them all)")
