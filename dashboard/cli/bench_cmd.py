"""``personalize bench``: the performance benchmark (figures, targets, same-run baselines)."""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict

from benchmarks.harness import BenchOptions, Metric, run_section

from .output import emit_json, log

# Each issue adds its section here; each runs in its own process.
SECTIONS: dict[str, str] = {
    "seed": "benchmarks.seed:run",
    "profiles": "benchmarks.profiles:run",
    "recommend": "benchmarks.recommend:run",
    "predict": "benchmarks.predict:run",
    "cli": "benchmarks.cli:run",
    "writers": "benchmarks.writers:run",
    "serve": "benchmarks.serve:run",
    "live": "benchmarks.live:run",
    "dashboard": "benchmarks.dashboard:run",
}


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("bench", parents=[common], help="the performance benchmark")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--only",
        choices=sorted(SECTIONS),
        action="append",
        help="run only this section (repeatable)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes, for a smoke run (targets are for the full sizes)",
    )
    parser.set_defaults(handler=run)


def _format(metric: Metric) -> str:
    target = ""
    if metric.target is not None:
        op = "<=" if metric.lower_is_better else ">="
        verdict = "ok" if metric.ok else "MISSED"
        target = f"  [target {op} {metric.target:g} {metric.unit}: {verdict}]"
    note = f"  ({metric.note})" if metric.note else ""
    return f"  {metric.name:<48} {metric.value:>12,.3f} {metric.unit:<8}{target}{note}"


def run(args: argparse.Namespace) -> int:
    options = BenchOptions(
        quick=args.quick,
        postgres_url=args.db
        if args.db and args.db.startswith("postgres")
        else os.environ.get("PERSONALIZE_BENCH_POSTGRES_URL"),
    )
    metrics: list[Metric] = []
    for name in args.only or list(SECTIONS):
        log(f"bench: running section '{name}' ...")
        section_metrics = run_section(SECTIONS[name], options)
        metrics.extend(section_metrics)
        if not args.json:
            print(f"[{name}]")
            for metric in section_metrics:
                print(_format(metric), flush=True)
    if args.json:
        emit_json({"quick": args.quick, "metrics": [asdict(m) for m in metrics]})
    return 0
