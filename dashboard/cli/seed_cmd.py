"""``personalize seed``: generate the synthetic market and write it to the store."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from engine.db import mask_url, open_store
from engine.errors import UserError

# Submodules, not the package: the CLI must import seed even where it is installed
# as a namespace package (an editable install made before seed/__init__.py existed).
from seed.market import MarketConfig, generate_market
from seed.writer import store_has_data, write_market, write_truth

from .output import emit_json, log


def _positive_int(name: str, minimum: int = 1) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"invalid {name} {text!r}: expected an integer >= {minimum}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"invalid {name} {text!r}: expected an integer >= {minimum}"
            )
        return value

    return parse


def _available_memory_bytes() -> int | None:
    """``MemAvailable`` of ``/proc/meminfo`` (None where there is none)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _check_memory(config: MarketConfig) -> None:
    """Say what a large market will take, and refuse one this machine cannot hold."""
    need = config.estimated_memory_bytes()
    if need < 2**30:
        return
    have = _available_memory_bytes()
    log(
        f"seed: about {config.estimated_rows():,} rows; needs about {need / 2**30:.1f} GiB "
        "of memory" + (f" ({have / 2**30:.1f} GiB available)" if have else "")
    )
    if have is not None and need > have:
        raise UserError(
            f"a market of {config.customers:,} customers over {config.days:,} days needs about "
            f"{need / 2**30:.1f} GiB of memory and {have / 2**30:.1f} GiB is available: "
            "use fewer --customers or --days"
        )


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    defaults = MarketConfig()
    parser = subparsers.add_parser(
        "seed", parents=[common], help="generate the synthetic store (same seed, same rows)"
    )
    parser.add_argument(
        "--customers",
        type=_positive_int("--customers"),
        default=defaults.customers,
        metavar="N",
        help=f"number of customers (default {defaults.customers})",
    )
    parser.add_argument(
        "--products",
        type=_positive_int("--products"),
        default=defaults.products,
        metavar="N",
        help=f"number of products (default {defaults.products})",
    )
    parser.add_argument(
        "--days",
        type=_positive_int("--days"),
        default=defaults.days,
        metavar="N",
        help=f"days of history (default {defaults.days})",
    )
    parser.add_argument(
        "--seed",
        type=_positive_int("--seed", minimum=0),
        default=defaults.seed,
        metavar="S",
        help=f"random seed (default {defaults.seed})",
    )
    parser.add_argument("--reset", action="store_true", help="delete everything in the store first")
    parser.add_argument(
        "--truth",
        metavar="FILE",
        help="also write each customer's planted traits and latent propensities "
        "(customer_id,traits,<one column per score>)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


class _Progress:
    """Compact progress on stderr: one line per generation step, one per table written."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.writing = False

    def __call__(self, label: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.start
        if not self.writing:
            log(f"  [{done}/{total}] {label:<15} ({elapsed:5.1f} s)")
        elif done == total:
            log(f"  {label:<15} {total:>9,} rows ({elapsed:5.1f} s)")


def run(args: argparse.Namespace) -> int:
    config = MarketConfig(
        customers=args.customers, products=args.products, days=args.days, seed=args.seed
    )
    config.validate()
    _check_memory(config)
    engine = open_store(args.db)
    try:
        if not args.reset and store_has_data(engine):
            # Refuse before spending time on generation; write_market checks again.
            raise UserError(
                "the store already holds data; use --reset to replace it with the synthetic market"
            )
        database = mask_url(engine.url.render_as_string(hide_password=False))
        log(
            f"seeding {database}: {config.customers:,} customers, {config.products:,} products, "
            f"{config.days} days, seed {config.seed}"
        )
        progress = _Progress()
        log("generating ...")
        market = generate_market(config, progress=progress)
        log("writing ...")
        progress.writing = True
        written = write_market(engine, market, reset=args.reset, progress=progress)
    finally:
        engine.dispose()
    truth_path = str(write_truth(market, args.truth)) if args.truth else None
    elapsed = time.perf_counter() - progress.start
    summary = {
        "database": database,
        "seed": config.seed,
        "customers": config.customers,
        "products": config.products,
        "days": config.days,
        "start": config.start,
        "end": config.end,
        "rows": written,
        "truth": truth_path,
        "seconds": round(elapsed, 2),
    }
    if args.json:
        emit_json(summary)
        return 0
    print(
        f"seeded {database} in {elapsed:.1f} s "
        f"(seed {config.seed}, {config.start:%Y-%m-%d} .. {config.end:%Y-%m-%d})"
    )
    for table, count in written.items():
        print(f"  {table:<15} {count:>9,}")
    if truth_path:
        print(f"planted traits written to {truth_path}")
    return 0
