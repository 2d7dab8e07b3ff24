"""``personalize info``: what is loaded, and from which database."""

from __future__ import annotations

import argparse

from engine.currency import format_money
from engine.db import mask_url, open_store, session_scope
from engine.repair import find_implausible
from engine.store import store_summary
from engine.store_settings import read_identity, save_identity
from engine.timeutil import window_text

from .identity_opts import add_identity_options, identity_changes, identity_lines
from .output import emit_json, log


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "info", parents=[common], help="what is loaded: counts, date range, database in use"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_identity_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    changes = identity_changes(args)
    engine = open_store(args.db)
    if changes:
        save_identity(engine, **changes)
        log(f"store settings saved: {', '.join(sorted(changes))}")
    with session_scope(engine) as session:
        summary = store_summary(session)
        implausible = find_implausible(session)
        identity = read_identity(session)
    database = mask_url(engine.url.render_as_string(hide_password=False))
    if args.json:
        emit_json(
            {
                "database": database,
                "backend": engine.dialect.name,
                **summary.as_dict(),
                "implausible_rows": implausible.rows,
                "store": identity.as_dict(),
            }
        )
        return 0
    for line in identity_lines(identity):
        print(line)
    print(f"database      {database} ({engine.dialect.name})")
    if summary.is_empty:
        print("the store is empty: run `personalize seed` or `personalize import --orders FILE`")
    for label, value in [
        ("customers", summary.customers),
        ("products", summary.products),
        ("orders", summary.orders),
        ("order lines", summary.order_lines),
        ("events", summary.events),
        ("reviews", summary.reviews),
        ("memberships", summary.segment_memberships),
    ]:
        print(f"{label:<13} {value:,}")
    print(f"{'revenue':<13} {format_money(summary.revenue, identity.currency)}")
    if summary.first_activity is not None:
        print(
            f"{'activity':<13} {summary.first_activity:%Y-%m-%d %H:%M} .. "
            f"{summary.last_activity:%Y-%m-%d %H:%M}"
        )
    if implausible.total:
        parts = ", ".join(f"{table} {count:,}" for table, count in implausible.rows.items())
        print(
            f"{'implausible':<13} {implausible.total:,} rows stamped outside "
            f"{window_text(implausible.window)}, left out of every answer: {parts} "
            "(`personalize repair` removes them)"
        )
    return 0
