"""``personalize score | profile | segments | track``: behavioral profiles (CONTRACT.md)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine.db import open_store, run_write, session_scope
from engine.errors import UserError, ValidationError
from engine.profiles import (
    SCORES,
    TrackResult,
    get_profile,
    score_export,
    score_store_concurrently,
    segment_members,
    segment_overlaps,
    segment_sizes,
    track,
)
from engine.timeutil import parse_as_of

from .output import emit_json, log


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    score = subparsers.add_parser(
        "score", parents=[common], help="recompute every profile, score and segment in batch"
    )
    score.add_argument("--as-of", metavar="T", help="use only data before T (ISO 8601)")
    score.add_argument(
        "--format",
        choices=["csv"],
        help="print customer_id and the nine scores (empty: not enough data)",
    )
    score.add_argument("--json", action="store_true", help="print one JSON document")
    score.set_defaults(handler=run_score)

    profile = subparsers.add_parser(
        "profile",
        parents=[common],
        help="one unified profile: 9 scores, segments, emotional state, channels, histories",
    )
    profile.add_argument("customer", metavar="CUSTOMER", help="customer id")
    profile.add_argument("--as-of", metavar="T", help="compute from data before T (ISO 8601)")
    profile.add_argument("--json", action="store_true", help="print one JSON document")
    profile.set_defaults(handler=run_profile)

    segments = subparsers.add_parser(
        "segments", parents=[common], help="segment sizes and pairwise overlaps"
    )
    segments.add_argument("--as-of", metavar="T", help="compute from data before T (ISO 8601)")
    segments.add_argument(
        "--members",
        action="store_true",
        help="every membership (customer_id,segment) instead of sizes",
    )
    segments.add_argument("--format", choices=["csv"], help="output format of --members")
    segments.add_argument("--json", action="store_true", help="print one JSON document")
    segments.set_defaults(handler=run_segments)

    track_parser = subparsers.add_parser(
        "track",
        parents=[common],
        help="record behavior in real time; the profile reflects it at once",
    )
    source = track_parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--event", metavar="JSON", help="one event as a JSON object")
    source.add_argument("--file", metavar="FILE", help="events, one JSON object per line")
    track_parser.add_argument("--json", action="store_true", help="print one JSON document")
    track_parser.set_defaults(handler=run_track)


def run_score(args: argparse.Namespace) -> int:
    as_of = parse_as_of(args.as_of)
    engine = open_store(args.db)
    try:
        log("score: computing every profile ...")
        # computes without a lock and writes under one, keeping what `track` updated
        # meanwhile (engine.profiles.score_run)
        report = score_store_concurrently(engine, as_of=as_of)
        with session_scope(engine) as session:
            scores = score_export(session) if args.format == "csv" else None
    finally:
        engine.dispose()
    if scores is not None:
        scores.to_csv(sys.stdout, index=False, lineterminator="\n", float_format="%.2f")
        return 0
    if args.json:
        emit_json(report.as_dict())
        return 0
    print(
        f"scored {report.customers:,} customers as of {report.as_of:%Y-%m-%d %H:%M:%S}; "
        f"{report.memberships:,} segment memberships"
    )
    for segment, size in sorted(report.segment_sizes.items()):
        print(f"  {segment:<32} {size:>8,}")
    return 0


def run_profile(args: argparse.Namespace) -> int:
    as_of = parse_as_of(args.as_of)
    engine = open_store(args.db)
    try:
        with session_scope(engine) as session:
            profile = get_profile(session, args.customer, as_of=as_of)
    finally:
        engine.dispose()
    if args.json:
        emit_json(profile.as_dict())
        return 0
    print(f"customer   {profile.customer_id}" + (f" ({profile.name})" if profile.name else ""))
    print(f"as of      {profile.as_of:%Y-%m-%d %H:%M:%S} ({profile.source})")
    print(
        f"data       {profile.data_points['orders']} orders, {profile.data_points['lines']} "
        f"lines, {profile.data_points['activity']} actions, {profile.reviews} reviews"
    )
    for name in SCORES:
        detail = profile.scores[name]
        value = "   n/a" if detail.value is None else f"{detail.value:6.1f}"
        print(f"  {name:<20} {value}  {detail.explanation}")
    print(f"segments   {', '.join(profile.segments) or '(none)'}")
    mood = profile.emotional_state
    if profile.mean_rating is not None:
        mood += f" (weighted mean rating {profile.mean_rating:.2f})"
    print(f"emotion    {mood}; tone: {profile.tone}")
    if profile.unhappy_brands or profile.unhappy_categories:
        print(
            f"unhappy    brands: {', '.join(profile.unhappy_brands) or '-'}; "
            f"categories: {', '.join(profile.unhappy_categories) or '-'}"
        )
    print(f"active     hours {profile.active_hours}, days {', '.join(profile.active_weekdays)}")
    channels = ", ".join(
        f"{c} {v['events']}/{v['orders']}"
        for c, v in profile.channels.items()
        if v["events"] or v["orders"]
    )
    print(f"channels   (events/orders) {channels or '-'}")
    top = profile.category_interest.head(3)
    print("interests  " + (", ".join(f"{r.name} {r.share:.0%}" for r in top.itertuples()) or "-"))
    print(
        f"stitched   {profile.stitched['events']} anonymous events from "
        f"{profile.stitched['anonymous_ids']} anonymous ids"
    )
    return 0


def run_segments(args: argparse.Namespace) -> int:
    as_of = parse_as_of(args.as_of)
    if args.format and not args.members:
        raise UserError("--format csv applies to --members only")
    engine = open_store(args.db)
    try:
        with session_scope(engine) as session:
            if args.members:
                members = segment_members(session, as_of=as_of)
            else:
                sizes = segment_sizes(session, as_of=as_of)
                overlaps = segment_overlaps(session, as_of=as_of)
    finally:
        engine.dispose()
    if args.members:
        if args.json:
            emit_json(members.to_dict("records"))
            return 0
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["customer_id", "segment"])
        writer.writerows(members.itertuples(index=False, name=None))
        return 0
    if args.json:
        emit_json(
            {
                "as_of": as_of,
                "sizes": sizes.to_dict("records"),
                "overlaps": overlaps.to_dict("records"),
            }
        )
        return 0
    if sizes.empty:
        print("no segment memberships: run `personalize score` first")
        return 0
    for row in sizes.itertuples():
        print(f"{row.segment:<32} {row.size:>8,}")
    if not overlaps.empty:
        print("overlaps")
        for row in overlaps.itertuples():
            print(f"  {row.segment_a} & {row.segment_b}: {row.customers:,}")
    return 0


def _read_events(args: argparse.Namespace) -> list[tuple[str, Any]]:
    """``(label, event)`` pairs; a line that is not a JSON object is a user mistake."""
    if args.event is not None:
        texts = [("--event", args.event)]
    else:
        path = Path(args.file)
        if not path.is_file():
            raise UserError(f"{path}: no such file")
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        texts = [(f"{path}:{n}", text) for n, text in enumerate(lines, start=1) if text.strip()]
        if not texts:
            raise UserError(f"{path}: no events (expected one JSON object per line)")
    events = []
    for label, text in texts:
        try:
            events.append((label, json.loads(text)))
        except json.JSONDecodeError as exc:
            raise UserError(f"{label}: not JSON: {exc.msg}") from exc
    return events


def run_track(args: argparse.Namespace) -> int:
    events = _read_events(args)
    engine = open_store(args.db)
    try:
        # One transaction: an invalid event anywhere writes nothing at all; one that
        # lost a race with another writer is rerun whole.
        def record(session: Session) -> list[TrackResult]:
            recorded = []
            for label, event in events:
                try:
                    recorded.append(track(session, event))
                except ValidationError as exc:
                    raise UserError(f"{label}: {exc} (nothing written)") from exc
            return recorded

        results = run_write(engine, record)
    finally:
        engine.dispose()
    if args.json:
        emit_json([r.as_dict() for r in results])
        return 0
    for result in results:
        who = result.customer_id or "(anonymous)"
        segs = ", ".join(result.segments) or "(none)"
        print(f"{result.status:<10} {who}  segments: {segs}")
    return 0
