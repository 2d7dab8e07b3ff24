"""``personalize evaluate``: temporal-holdout quality of recommendations and predictions.

``--as-of T`` is the split: every model is fitted on data stamped strictly
before T (as if it were T now) and scored against what customers did after it.
Without it, each section picks the latest split whose whole test window is
observed (newest data minus the window).
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.db import open_store, session_scope
from engine.errors import UserError
from engine.predict.service import evaluate_store, evaluation_rows
from engine.recommend.context import validate_k
from engine.recommend.evaluation import DEFAULT_HOLDOUT_DAYS, evaluate
from engine.timeutil import parse_as_of

from .output import emit_json, log

SECTIONS = ("recommendations", "predictions")


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "evaluate", parents=[common],
        help="temporal-holdout quality of recommenders and predictions vs baselines",
    )
    parser.add_argument("--as-of", help="the split moment T (ISO date or datetime)")
    parser.add_argument("--k", type=int, default=10, help="list length, 1..100 (default 10)")
    parser.add_argument(
        "--holdout-days", type=float, default=DEFAULT_HOLDOUT_DAYS,
        help=f"recommendations: test window after T in days (default {DEFAULT_HOLDOUT_DAYS:g})",
    )
    parser.add_argument(
        "--horizon-days", type=int, default=90,
        help="predictions: horizon of 'buys within' in days (default 90)",
    )
    parser.add_argument(
        "--only", choices=SECTIONS, help="evaluate only recommendations or only predictions"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    validate_k(args.k)
    if not args.holdout_days > 0:
        raise UserError(f"invalid --holdout-days {args.holdout_days!r}: must be > 0")
    if not args.horizon_days > 0:
        raise UserError(f"invalid --horizon-days {args.horizon_days!r}: must be > 0")
    as_of = parse_as_of(args.as_of)
    sections = [args.only] if args.only else list(SECTIONS)
    document: dict[str, Any] = {}
    engine = open_store(args.db)
    try:
        with session_scope(engine) as session:
            if "recommendations" in sections:
                log("evaluate: fitting every recommender on the data before the split ...")
                document.update(
                    evaluate(session, as_of=as_of, k=args.k, holdout_days=args.holdout_days)
                )
            if "predictions" in sections:
                log("evaluate: fitting the purchase models on the data before the split ...")
                document["predictions"] = evaluate_store(
                    session, as_of=as_of, horizon_days=args.horizon_days
                )
    finally:
        engine.dispose()
    if args.json:
        emit_json(document)
        return 0
    if "recommendations" in document:
        _print_recommendations(document["recommendations"])
    if "predictions" in document:
        _print_predictions(document["predictions"])
    return 0


def _print_recommendations(report: dict[str, Any]) -> None:
    k = report["k"]
    print(f"recommendations: trained before {report['split_at']:%Y-%m-%d %H:%M}, tested on "
          f"the next {report['holdout_days']:g} days; {report['customers']:,} customers, "
          f"{report['products']:,} products, full ranking, k={k}")
    print(f"  {'model':<14}{'precision':>11}{'recall':>9}{'ndcg':>9}{'hit rate':>10}"
          f"{'coverage':>10}")
    for name, m in report["models"].items():
        print(f"  {name:<14}{m['precision']:>11.4f}{m['recall']:>9.4f}{m['ndcg']:>9.4f}"
              f"{m['hit_rate']:>10.4f}{m['coverage']:>10.4f}")
    ratio = report["blend_vs_popularity_ndcg"]
    if ratio is not None:
        print(f"  blend NDCG@{k} / popularity NDCG@{k} = {ratio:.2f}")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.3f}"


def _print_predictions(result: dict[str, Any]) -> None:
    print(f"predictions: fitted before {result['as_of']}, horizon {result['horizon_days']} days")
    print(f"  {'metric':<48}{'model':>12}{'naive':>12}")
    for metric, model, naive in evaluation_rows(result):
        print(f"  {metric:<48}{_fmt(model):>12}{_fmt(naive):>12}")
