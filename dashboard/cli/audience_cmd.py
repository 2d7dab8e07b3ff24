"""``personalize audience define|list|show|delete|eval``: audiences from a rule's text.

The rule language is :mod:`engine.audiences.grammar` (segments and field comparisons
with AND, OR, NOT and parentheses); a bad rule is one line on stderr naming the problem
and the valid choices, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy.orm import Session

from engine.audiences import (
    audience_members,
    compile_rule,
    delete_audience,
    export_csv,
    get_audience,
    list_audiences,
    load_audience_data,
    needs_predictions,
    save_audience,
    splits,
    valid_segments,
)
from engine.audiences.grammar import Node
from engine.db import open_store, session_scope
from engine.timeutil import parse_as_of

from .output import emit_json, log

RULE_HELP = (
    'the rule, e.g. "(night_owl OR mobile_first) AND lifetime_value >= 70"; '
    "fields compare with > >= < <= = != or BETWEEN x AND y"
)


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "audience",
        parents=[common],
        help="define, list, show, delete or evaluate audiences (segments and score ranges)",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    define = actions.add_parser("define", parents=[common], help="save an audience by name")
    define.add_argument("name", metavar="NAME", help="the audience's name")
    define.add_argument("rule", metavar="RULE", help=RULE_HELP)
    define.add_argument("--json", action="store_true", help="print one JSON document")
    listing = actions.add_parser("list", parents=[common], help="every saved audience")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    show = actions.add_parser(
        "show", parents=[common], help="a saved audience's size and splits, or its members"
    )
    show.add_argument("name", metavar="NAME", help="the audience's name")
    delete = actions.add_parser("delete", parents=[common], help="delete a saved audience")
    delete.add_argument("name", metavar="NAME", help="the audience's name")
    evaluate = actions.add_parser(
        "eval", parents=[common], help="evaluate a rule without saving it"
    )
    evaluate.add_argument("rule", metavar="RULE", help=RULE_HELP)
    for action in (show, evaluate):
        action.add_argument("--as-of", metavar="T", help="evaluate on data before T (ISO 8601)")
        action.add_argument(
            "--members",
            action="store_true",
            help="the members (customer_id,name,email,city, the scores used)",
        )
        action.add_argument("--format", choices=["csv"], help="members as CSV (implies --members)")
        action.add_argument("--json", action="store_true", help="print one JSON document")
    delete.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    as_of = parse_as_of(getattr(args, "as_of", None))
    engine = open_store(args.db)
    try:
        with session_scope(engine) as session:
            if args.action == "define":
                # The wall clock only stamps when the audience changed.
                audience = save_audience(
                    session, args.name, args.rule, updated_at=datetime.now(UTC).replace(tzinfo=None)
                )
                return _print_defined(args, audience.name, audience.rule)
            if args.action == "list":
                return _print_list(args, list_audiences(session))
            if args.action == "delete":
                delete_audience(session, args.name)
                if args.json:
                    emit_json({"deleted": args.name})
                else:
                    print(f"deleted audience {args.name}")
                return 0
            if args.action == "show":
                name, rule = args.name, get_audience(session, args.name).rule
            else:
                name, rule = None, args.rule
            return _evaluate(session, args, name, rule, as_of)
    finally:
        engine.dispose()


def _print_defined(args: argparse.Namespace, name: str, rule: str) -> int:
    if args.json:
        emit_json({"name": name, "rule": rule})
    else:
        print(f"saved audience {name}: {rule}")
    return 0


def _print_list(args: argparse.Namespace, saved: pd.DataFrame) -> int:
    if args.json:
        emit_json(saved.to_dict("records"))
    elif saved.empty:
        print('no saved audiences: define one with `personalize audience define NAME "RULE"`')
    for row in saved.itertuples() if not args.json else ():
        print(f"{row.name:<24} {row.rule}")
    return 0


def _evaluate(
    session: Session, args: argparse.Namespace, name: str | None, rule: str, as_of: datetime | None
) -> int:
    # The rule is checked before anything is scored, so a typo is refused at once.
    node: Node = compile_rule(rule, valid_segments(session))
    if needs_predictions(node):
        log("audience: fitting the purchase models ...")
    data = load_audience_data(session, as_of=as_of, predictions=needs_predictions(node))
    members = audience_members(node, data)
    if args.members or args.format:
        if args.json:
            # A customer without a value (e.g. no name) is null, never NaN (invalid JSON).
            emit_json(members.astype(object).where(members.notna(), None).to_dict("records"))
        else:
            sys.stdout.write(export_csv(node, members))
        return 0
    customers = len(data.customers)
    share = len(members) / customers if customers else 0.0
    parts = splits(members, data)
    if args.json:
        emit_json(
            {
                "name": name,
                "rule": rule,
                "as_of": data.as_of,
                "size": len(members),
                "customers": customers,
                "share": share,
                "splits": {k: v.to_dict("records") for k, v in parts.items()},
            }
        )
        return 0
    if name is not None:
        print(f"audience   {name}")
    print(f"rule       {rule}")
    print(f"as of      {data.as_of:%Y-%m-%d %H:%M:%S}")
    print(f"size       {len(members):,} of {customers:,} customers ({share:.1%})")
    for label, frame in parts.items():
        top = ", ".join(f"{r.value} {r.customers:,}" for r in frame.head(8).itertuples())
        print(f"by {label:<9}{top or '-'}")
    return 0
