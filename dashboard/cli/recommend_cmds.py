"""``personalize recommend``: explained recommendations for one customer in one context,
or for every customer as CSV (see ../shared/CONTRACT.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from engine.db import open_store, session_scope
from engine.errors import UserError
from engine.recommend.base import StoreData
from engine.recommend.blend import BlendRecommender
from engine.recommend.context import parse_context, validate_k
from engine.timeutil import parse_as_of

from .output import emit_json, log


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    rec = subparsers.add_parser(
        "recommend",
        parents=[common],
        help="ranked, explained recommendations for one customer in one context (or --all as CSV)",
    )
    rec.add_argument("customer", nargs="?", metavar="CUSTOMER", help="the customer's id")
    rec.add_argument(
        "--anonymous", action="store_true", help="recommend for an anonymous visitor (no CUSTOMER)"
    )
    rec.add_argument(
        "--all",
        action="store_true",
        help="every customer active before --as-of (with --format csv)",
    )
    rec.add_argument("--weather", help="sunny|cloudy|rainy|snowy|hot|cold")
    rec.add_argument("--time-of-day", help="morning|afternoon|evening|night or an hour 0..23")
    rec.add_argument("--location", help="a city, region or country the store knows")
    rec.add_argument("--device", help="desktop|mobile|tablet")
    rec.add_argument("--k", type=int, default=20, help="how many products, 1..100 (default 20)")
    rec.add_argument("--as-of", help="use only data before this ISO date/datetime")
    rec.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="NAME=W",
        help="blend weight override, e.g. contextual=0.9 (repeatable)",
    )
    rec.add_argument("--json", action="store_true", help="print one JSON document")
    rec.add_argument("--format", choices=["csv"], help="output format of --all")
    rec.set_defaults(handler=run_recommend)


def _weights(pairs: list[str]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise UserError(f"invalid --weight {pair!r}: expected NAME=NUMBER, e.g. rebuy=1.0")
    return out


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


def run_recommend(args: argparse.Namespace) -> int:
    validate_k(args.k)
    if args.all:
        if args.customer or args.anonymous:
            raise UserError("--all recommends for every customer: give no CUSTOMER")
        if args.format != "csv":
            raise UserError("recommend --all needs --format csv")
    elif args.customer is None and not args.anonymous:
        raise UserError("give a CUSTOMER id, --anonymous, or --all --format csv")
    elif args.format is not None:
        raise UserError("--format csv is for recommend --all")
    as_of = parse_as_of(args.as_of)
    weights = _weights(args.weight)
    # Refuse bad closed-list values before the (slower) load; places need the store.
    parse_context(weather=args.weather, time_of_day=args.time_of_day, device=args.device)
    engine = open_store(args.db)
    try:
        with session_scope(engine) as session:
            data = StoreData.load(session, as_of=as_of)
    finally:
        engine.dispose()
    context = parse_context(
        weather=args.weather,
        time_of_day=args.time_of_day,
        location=args.location,
        device=args.device,
        known_locations=data.known_locations,
    )
    customer = None if args.anonymous else args.customer
    if customer is not None and data.row_of(customer) < 0:
        raise UserError(
            f"unknown customer {customer!r}: not in the store as of "
            f"{data.as_of:%Y-%m-%d %H:%M}; use --anonymous for a visitor"
        )
    if data.n_items == 0:
        raise UserError(
            "the store has no products: run `personalize seed` or "
            "`personalize import --products FILE` first"
        )
    log(
        f"recommend: fitting on {data.n_customers:,} customers, {data.n_items:,} products "
        f"as of {data.as_of:%Y-%m-%d %H:%M} ..."
    )
    blend = BlendRecommender(weights=weights).fit(data)
    if args.all:
        frame = blend.recommend_all(context=None if context.is_empty else context, k=args.k)
        frame.to_csv(sys.stdout, index=False)
        return 0
    items = blend.recommend(customer, context, k=args.k)
    products = data.products.set_index("product_id")
    rows: list[dict[str, Any]] = []
    for rank, item in enumerate(items, start=1):
        p = products.loc[item.product_id]
        rows.append(
            {
                "rank": rank,
                "product_id": item.product_id,
                "name": _text(p["name"]),
                "category": _text(p["category"]),
                "brand": _text(p["brand"]),
                "score": item.score,
                "reason": item.reason,
                "contributions": item.contributions,
            }
        )
    if args.json:
        emit_json(
            {
                "customer_id": customer,
                "as_of": data.as_of,
                "context": {
                    "weather": context.weather,
                    "time_of_day": context.time_of_day,
                    "location": context.location,
                    "device": context.device,
                },
                "k": args.k,
                "weights": blend.weights_,
                "recommendations": rows,
            }
        )
        return 0
    who = customer if customer is not None else "anonymous visitor"
    print(
        f"{len(rows)} recommendations for {who} as of {data.as_of:%Y-%m-%d %H:%M} "
        f"[{context.label()}]"
    )
    for row in rows:
        name = row["name"] or row["product_id"]
        print(f"{row['rank']:>3}. {row['score']:6.1f}  {name[:40]:<40}  {row['reason']}")
    return 0
