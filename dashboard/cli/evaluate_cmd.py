"""``personalize evaluate``: quality of recommendations, predictions and profiles.

``--as-of T`` reads only data stamped strictly before T (as if it were T now).
Recommendations are tested on ``[T - holdout, T)`` and trained before it (see
:mod:`engine.recommend.evaluation`); without ``--as-of``, T is just after the newest data.
Profiles (``--truth FILE``, a seeded store's truth file) are scored as of T and compared
with what the seed planted (:mod:`engine.profiles.recovery`).
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.db import open_store, session_scope
from engine.errors import UserError
from engine.predict.service import evaluate_store, evaluation_rows, method_rows
from engine.profiles.recovery import profile_recovery, read_truth
from engine.recommend.context import validate_k
from engine.recommend.evaluation import DEFAULT_HOLDOUT_DAYS, evaluate
from engine.timeutil import parse_as_of

from .output import emit_json, log

SECTIONS = ("recommendations", "predictions", "profiles")


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        parents=[common],
        help="temporal-holdout quality of recommenders and predictions vs baselines",
    )
    parser.add_argument(
        "--as-of", help="evaluate as of T: only data before T is read (ISO date or datetime)"
    )
    parser.add_argument("--k", type=int, default=10, help="list length, 1..100 (default 10)")
    parser.add_argument(
        "--holdout-days",
        type=float,
        default=DEFAULT_HOLDOUT_DAYS,
        help=f"recommendations: test window before T in days (default {DEFAULT_HOLDOUT_DAYS:g})",
    )
    parser.add_argument(
        "--horizon-days",
        type=int,
        default=90,
        help="predictions: horizon of 'buys within' in days (default 90)",
    )
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        help="evaluate only recommendations, predictions or profiles (profiles need --truth)",
    )
    parser.add_argument(
        "--truth",
        metavar="FILE",
        help="profiles: the seed's truth file (personalize seed --truth FILE); scores are "
        "compared with the planted propensities and segments with the planted traits",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--format",
        choices=["markdown"],
        help="markdown: print the tables as Markdown (for the README)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    validate_k(args.k)
    if not args.holdout_days > 0:
        raise UserError(f"invalid --holdout-days {args.holdout_days!r}: must be > 0")
    if not args.horizon_days > 0:
        raise UserError(f"invalid --horizon-days {args.horizon_days!r}: must be > 0")
    as_of = parse_as_of(args.as_of)
    if args.only == "profiles" and not args.truth:
        raise UserError(
            "evaluate --only profiles needs --truth FILE: the truth file of a "
            "seeded store (personalize seed --truth FILE)"
        )
    sections = [args.only] if args.only else [s for s in SECTIONS if s != "profiles" or args.truth]
    truth = read_truth(args.truth) if "profiles" in sections else None
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
            if truth is not None:
                log("evaluate: scoring every profile against the planted truth ...")
                document["profiles"] = profile_recovery(session, truth, as_of=as_of)
    finally:
        engine.dispose()
    if args.json:
        emit_json(document)
        return 0
    if "recommendations" in document:
        _print_recommendations(document["recommendations"], markdown=args.format == "markdown")
    if "predictions" in document:
        _print_predictions(document["predictions"], markdown=args.format == "markdown")
    if "profiles" in document:
        _print_profiles(document["profiles"], markdown=args.format == "markdown")
    return 0


COLUMNS = (
    ("ndcg", "NDCG"),
    ("recall", "recall"),
    ("precision", "precision"),
    ("hit_rate", "hit rate"),
    ("past_share", "past share"),
    ("coverage", "coverage"),
)


def _settings(settings: dict[str, Any]) -> str:
    # Scales are bookkeeping of the blend's new-items scorer, not choices: left out here.
    shown = {
        k: v for k, v in settings.items() if not isinstance(v, dict) and not k.endswith("_scale")
    }
    return (
        ", ".join(f"{k}={round(v, 4) if isinstance(v, float) else v}" for k, v in shown.items())
        or "-"
    )


def _print_recommendations(report: dict[str, Any], markdown: bool = False) -> None:
    k = report["k"]
    validation = report["validation_from"]
    fmt = "%Y-%m-%d %H:%M"
    tuned = (
        f"baselines tuned on [{validation:{fmt}}, {report['test_from']:{fmt}})"
        if validation is not None
        else "baselines at their defaults (no validation window)"
    )
    print(
        f"recommendations: trained before {report['test_from']:%Y-%m-%d %H:%M}, tested on "
        f"[{report['test_from']:%Y-%m-%d %H:%M}, {report['as_of']:%Y-%m-%d %H:%M}); "
        f"{report['products']:,} products, full ranking, k={k}; {tuned}"
    )
    for protocol in report["protocols"].values():
        print()
        print(f"{protocol['label']} ({protocol['customers']:,} customers)")
        if not protocol["models"]:
            print("  nobody to score: no customer bought a product new to them in the window")
            continue
        heads = [
            "model",
            *(f"{h}@{k}" if n != "coverage" else h for n, h in COLUMNS),
            "fit s",
            "rank s",
            "settings",
        ]
        rows = [
            [
                name,
                *(f"{m[n]:.4f}" for n, _ in COLUMNS),
                f"{m['fit_seconds']:.2f}",
                f"{m['rank_seconds']:.2f}",
                _settings(m["settings"]),
            ]
            for name, m in protocol["models"].items()
        ]
        if markdown:
            print("| " + " | ".join(heads) + " |")
            print(
                "|"
                + "|".join("---" if i in (0, len(heads) - 1) else "---:" for i in range(len(heads)))
                + "|"
            )
            for row in rows:
                print("| " + " | ".join(row) + " |")
            continue
        widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(len(heads) - 1)]
        print(
            "  "
            + "  ".join(
                h.ljust(w) if i == 0 else h.rjust(w)
                for i, (h, w) in enumerate(zip(heads, widths, strict=False))
            )
            + "  "
            + heads[-1]
        )
        for row in rows:
            print(
                "  "
                + "  ".join(
                    c.ljust(w) if i == 0 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=False))
                )
                + "  "
                + row[-1]
            )


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


PREDICTION_HEADS = (
    "method",
    "Brier",
    "AUC",
    "buyers: median d",
    "buyers: mean d",
    "everyone: median d",
    "everyone: mean d",
    "fit s",
    "predict s",
)


def _table(heads: tuple[str, ...] | list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(heads) + " |")
        print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(heads))) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(r[i])) for r in [list(heads), *rows]) for i in range(len(heads))]
    for row in [list(heads), *rows]:
        print(
            "  "
            + "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def _print_predictions(result: dict[str, Any], markdown: bool = False) -> None:
    horizon = result["horizon_days"]
    print(
        f"predictions: fitted before {result['as_of']:%Y-%m-%d %H:%M}, scored on the next "
        f"{horizon} days; {result['customers']:,} customers, {result['buyers']:,} bought "
        f"in the window (base rate {result['buy_within_horizon']['base_rate']:.3f})"
    )
    print(
        f"P(buy within {horizon} d): Brier (lower is better) and AUC; date errors in days "
        "over the buyers and over everyone (a customer who did not buy counts with the "
        "window's end as a lower bound)"
    )
    rows = [
        [
            r["method"],
            _fmt(r["brier"], 4),
            _fmt(r["auc"]),
            _fmt(r["buyers_median_days"], 1),
            _fmt(r["buyers_mean_days"], 1),
            _fmt(r["everyone_median_days"], 1),
            _fmt(r["everyone_mean_days"], 1),
            _fmt(r["fit_seconds"], 2),
            _fmt(r["predict_seconds"], 2),
        ]
        for r in method_rows(result)
    ]
    _table(PREDICTION_HEADS, rows, markdown)
    print()
    print(f"calibration of our P(buy within {horizon} d): stated vs observed share per bin")
    _table(
        ("P(buy) bin", "customers", "stated", "observed"),
        [
            [r["bin"], f"{r['customers']:,}", f"{r['stated']:.3f}", f"{r['observed']:.3f}"]
            for r in result["p_buy_calibration"]
        ],
        markdown,
    )
    print()
    print("other figures (ours vs last purchase + mean gap)")
    _table(
        ("metric", "ours", "naive"),
        [[m, _fmt(a), _fmt(b)] for m, a, b in evaluation_rows(result)],
        markdown,
    )


def _print_profiles(result: dict[str, Any], markdown: bool = False) -> None:
    print(
        f"profiles: scored as of {result['as_of']:%Y-%m-%d %H:%M}; {result['customers']:,} "
        "customers against the seed's planted propensities and traits"
    )
    print(
        "each score: Spearman rank correlation with its latent propensity over the "
        "customers who have it (enough evidence), and the share of buyers who have it"
    )
    _table(
        ("score", "Spearman", "customers", "buyers", "given to buyers"),
        [
            [
                r["score"],
                _fmt(r["spearman"]),
                f"{r['customers']:,}",
                f"{r['buyers']:,}",
                "-" if r["given_share"] is None else f"{r['given_share']:.1%}",
            ]
            for r in result["scores"]
        ],
        markdown,
    )
    print()
    print(
        "each segment at the store's rules vs the customers planted with the trait "
        "(enthusiasts pooled)"
    )
    _table(
        ("segment", "planted", "found", "precision", "recall"),
        [
            [
                r["segment"],
                f"{r['planted']:,}",
                f"{r['found']:,}",
                _fmt(r["precision"], 2),
                _fmt(r["recall"], 2),
            ]
            for r in result["segments"]
        ],
        markdown,
    )
