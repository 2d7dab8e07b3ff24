"""``personalize predict``: next-purchase predictions for one customer or everyone."""

from __future__ import annotations

import argparse
import sys

from engine.db import open_store, session_scope
from engine.errors import UserError
from engine.predict import export_frame, prediction_record
from engine.predict.service import all_predictions, check_customer, fit_store_predictor
from engine.timeutil import parse_as_of

from .output import emit_json, log


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "predict",
        parents=[common],
        help="next purchase, confidence, p_active, expected purchases and 12-month value",
    )
    parser.add_argument("customer", nargs="?", metavar="CUSTOMER", help="one customer id")
    parser.add_argument("--all", action="store_true", help="every customer (use --format csv)")
    parser.add_argument("--as-of", metavar="T", help="use only data strictly before T (ISO 8601)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--format", choices=["csv", "json"], help="output format for --all")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.all == bool(args.customer):
        raise UserError("give either one CUSTOMER or --all")
    if args.customer and args.format:
        raise UserError("--format is for --all; use --json for one customer")
    as_of = parse_as_of(args.as_of)
    engine = open_store(args.db)
    with session_scope(engine) as session:
        if args.customer:
            check_customer(session, args.customer, as_of)
        else:
            log("predict: fitting the repeat-buying models ...")
        predictor = fit_store_predictor(session, as_of=as_of)
        if args.all:
            frame = all_predictions(session, predictor)
        else:
            frame = predictor.predict([args.customer])
    if args.all:
        if (args.format or ("json" if args.json else "csv")) == "json":
            emit_json([prediction_record(row) for _, row in frame.iterrows()])
        else:
            export_frame(frame).to_csv(sys.stdout, index=False, lineterminator="\n")
        return 0
    record = prediction_record(frame.iloc[0])
    record["as_of"] = predictor.as_of_.isoformat()
    if args.json:
        emit_json(record)
        return 0
    print(f"customer            {record['customer_id']}  (as of {record['as_of']})")
    print(
        f"next purchase       {record['predicted_date']}  "
        f"(likely {record['predicted_date_low']} .. {record['predicted_date_high']})"
    )
    print(
        f"confidence          {record['confidence']:.0f}/100 "
        f"(chance of a purchase within 7 days of that date)"
    )
    print(f"p_active            {record['p_active']:.3f}")
    print(f"purchases in 90 d   {record['expected_purchases_90d']:.2f}")
    categories = ", ".join(f"{c} {p:.0%}" for c, p in record["category_probabilities"].items())
    print(f"likely categories   {categories or '(no categories known)'}")
    print(f"next order value    {record['price_low']:,.2f} .. {record['price_high']:,.2f}")
    print(f"value next 12 m     {record['clv_12m']:,.2f}")
    return 0
