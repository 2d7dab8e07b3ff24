"""``personalize simulate``: the live market, headless (the dashboard's "Live" page does
the same on screen; see docs/live.md)."""

from __future__ import annotations

import argparse
import math
import signal
import threading
import time
from typing import Any

from engine.errors import UserError

from .output import emit_json, log

HELP = "run the live market: simulated shoppers' events through track() at a chosen speed"
PROGRESS_EVERY_S = 5.0


def _number(name: str, kind: type, minimum: float, maximum: float | None = None) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if (
            value is None
            or not math.isfinite(value)
            or value < minimum
            or (maximum is not None and value > maximum)
        ):
            most = f" and at most {maximum:,.0f}" if maximum is not None else ""
            raise argparse.ArgumentTypeError(
                f"invalid {name} {text!r}: expected a number >= {minimum:g}{most}"
            )
        return value

    return parse


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from dashboard.live import MAX_SPEED

    parser = subparsers.add_parser(
        "simulate",
        parents=[common],
        help=HELP,
        description="Simulated shoppers, drawn from the same market model as the seed "
        "(on an imported store: from each customer's observed behaviour), keep shopping "
        "from the store's newest data on. Every event goes through track() in its own "
        "transaction, so stopping (Ctrl-C or the minutes elapsed) leaves the store "
        "consistent and a later `score` agrees with what tracking showed.",
    )
    parser.add_argument(
        "--minutes",
        type=_number("--minutes", float, 0.01),
        default=1.0,
        metavar="M",
        help="real (wall-clock) minutes to run (default 1)",
    )
    parser.add_argument(
        "--speed",
        type=_number("--speed", float, 1, MAX_SPEED),
        default=3600.0,
        metavar="X",
        help="simulated seconds per real second (default 3600: an hour of the market every "
        "second; 1 is real time). The simulated clock never passes the wall clock, and "
        "when tracking cannot keep up the run falls behind instead of skipping events",
    )
    parser.add_argument(
        "--seed",
        type=_number("--seed", int, 0),
        default=0,
        metavar="S",
        help="seeds the simulation: same store, seed and speed, same events (default 0)",
    )
    parser.add_argument(
        "--follow",
        metavar="CUSTOMER",
        help="print this customer's profile changes as their events arrive "
        "(they shop more often, in their own way)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON summary at the end (changes go to stderr)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from dashboard.live import LiveRun
    from engine.db import open_store

    engine = open_store(args.db)
    try:
        _check_customer(engine, args.follow)
        blend = _blend(engine) if args.follow else None

        def changed(event: dict[str, Any], found: list[str]) -> None:
            line = f"{event['occurred_at'][:16]} {args.follow} {event['event_type']}: " + "; ".join(
                found
            )
            if args.json:
                log(line)
            else:
                print(line, flush=True)

        live = LiveRun(
            engine,
            speed=args.speed,
            seed=args.seed,
            follow=args.follow,
            minutes=args.minutes,
            blend=blend,
            on_change=changed,
        )
        log(
            f"simulate: {live.source} shoppers from {live.start_at:%Y-%m-%d %H:%M} at "
            f"{args.speed:g}x for {args.minutes:g} minute(s); Ctrl-C stops cleanly"
        )
        interrupted = _drive(live)
        if live.error is not None:
            raise live.error
    finally:
        engine.dispose()
    state = live.state()
    summary = {
        "source": live.source,
        "speed": args.speed,
        "seed": args.seed,
        "started_at": live.start_at.isoformat(),
        "clock": state.clock.isoformat() if state.clock else None,
        "events": state.events,
        "purchases": state.purchases,
        "customers": state.customers,
        "refused": state.refused,
        "stopped": "interrupted" if interrupted else state.message,
    }
    if args.json:
        emit_json(summary)
    else:
        print(
            f"{state.events:,} events ({state.purchases:,} purchases) from "
            f"{state.customers:,} customers, simulated {live.start_at:%Y-%m-%d %H:%M} to "
            f"{state.clock:%Y-%m-%d %H:%M}; {summary['stopped']}"
            if state.clock
            else f"no events; {summary['stopped']}"
        )
    return 130 if interrupted else 0


def _check_customer(engine: Any, customer_id: str | None) -> None:
    """Refuse an unknown --follow before the recommenders are fitted for them."""
    from engine.db import session_scope
    from engine.models import Customer

    if customer_id is None:
        return
    with session_scope(engine) as session:
        if session.get(Customer, customer_id) is None:
            raise UserError(f"unknown customer {customer_id!r} (--follow)")


def _blend(engine: Any) -> Any:
    from engine.db import session_scope
    from engine.recommend import BlendRecommender, StoreData

    log("simulate: fitting the recommenders for the followed customer ...")
    with session_scope(engine) as session:
        data = StoreData.load(session)
    try:
        return BlendRecommender().fit(data)
    except (UserError, ValueError) as exc:
        log(f"simulate: no recommendations ({exc})")
        return None


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _drive(live: Any) -> bool:
    """Run in a worker thread; Ctrl-C (or a ``kill``) stops after the event being
    written. True when interrupted.

    The handlers are installed here, not inherited: a process started in the background
    by a non-interactive shell inherits SIGINT ignored, and Python then leaves it so."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    worker = threading.Thread(target=live.run, name="personalize-simulate", daemon=True)
    worker.start()
    last = time.monotonic()
    try:
        while worker.is_alive():
            worker.join(0.2)
            if time.monotonic() - last >= PROGRESS_EVERY_S:
                last = time.monotonic()
                s = live.state()
                log(
                    f"  {s.events:,} events, {s.per_second:.0f}/s, clock "
                    f"{s.clock:%Y-%m-%d %H:%M}"
                    + (f", {s.behind_s:.0f} s behind" if s.behind_s > 60 else "")
                )
    except KeyboardInterrupt:
        log("simulate: stopping after the event being written ...")
        live.stop(wait=False)
        worker.join()
        return True
    return False
