"""``personalize repair``: remove rows stamped outside the plausible window."""

from __future__ import annotations

import argparse

from engine.db import open_store, session_scope
from engine.repair import Implausible, find_implausible, repair_store
from engine.timeutil import window_text

from .output import emit_json


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "repair",
        parents=[common],
        help="remove rows stamped outside the plausible window (see `info`)",
        description="Remove orders, lines, events, reviews and identity links stamped outside "
        "the plausible window (default 1970-01-01 to one day past now), and clear implausible "
        "signup dates. Run `personalize score` afterwards.",
    )
    parser.add_argument("--dry-run", action="store_true", help="count them, remove nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def _document(found: Implausible, removed: bool) -> dict[str, object]:
    return {
        "window": [found.window[0].isoformat(), found.window[1].isoformat()],
        "rows": found.rows,
        "removed": removed,
    }


def run(args: argparse.Namespace) -> int:
    engine = open_store(args.db)
    try:
        with session_scope(engine) as session:
            found = find_implausible(session) if args.dry_run else repair_store(session)
    finally:
        engine.dispose()
    if args.json:
        emit_json(_document(found, removed=not args.dry_run))
        return 0
    if not found.total:
        print(f"nothing to repair: every row is within {window_text(found.window)}")
        return 0
    verb = "would remove" if args.dry_run else "removed"
    parts = ", ".join(f"{table} {count:,}" for table, count in found.rows.items())
    print(f"{verb} {found.total:,} rows stamped outside {window_text(found.window)}: {parts}")
    if not args.dry_run:
        print(
            "(signup dates are cleared, not removed; run `personalize score` to refresh profiles)"
        )
    return 0
