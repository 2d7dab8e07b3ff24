"""The ``personalize`` command line (see ../shared/CONTRACT.md).

Each command lives in its own module with ``register(subparsers, common)``;
``main`` turns user mistakes (:class:`engine.errors.UserError`) into one line
on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from engine.errors import UserError

# Every command: (its module in this package, its one-line help). Only the module of
# the command being run is imported, so `personalize --help` and `personalize info`
# answer at once instead of loading scikit-learn and SciPy (a test checks that these
# help lines match what each module registers).
COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("info_cmd", "what is loaded: counts, date range, database in use"),
    "seed": ("seed_cmd", "generate the synthetic store (same seed, same rows)"),
    "import": ("import_cmd", "load a real store's CSV exports; idempotent"),
    "score": ("profile_cmds", "recompute every profile, score and segment in batch"),
    "profile": (
        "profile_cmds",
        "one unified profile: 9 scores, segments, emotional state, channels, histories",
    ),
    "segments": ("profile_cmds", "segment sizes and pairwise overlaps"),
    "track": ("profile_cmds", "record behavior in real time; the profile reflects it at once"),
    "recommend": (
        "recommend_cmds",
        "ranked, explained recommendations for one customer in one context (or --all as CSV)",
    ),
    "predict": (
        "predict_cmd",
        "next purchase, confidence, p_active, expected purchases and 12-month value",
    ),
    "evaluate": (
        "evaluate_cmd",
        "temporal-holdout quality of recommenders and predictions vs baselines",
    ),
    "bench": ("bench_cmd", "the performance benchmark"),
    "dashboard": (
        "dashboard_cmd",
        "start the Streamlit dashboard (seeds the embedded store first if it is empty)",
    ),
    "repair": ("repair_cmd", "remove rows stamped outside the plausible window (see `info`)"),
    "serve": (
        "serve_cmd",
        "the storefront HTTP API: tracking, recommendations, profiles, predictions",
    ),
    "apikey": ("apikey_cmd", "create, list or revoke API keys of `personalize serve`"),
    "simulate": (
        "simulate_cmd",
        "run the live market: simulated shoppers' events through track() at a chosen speed",
    ),
    "snapshot": (
        "snapshot_cmd",
        "save a dashboard page's view (customer, context, as of) as a PNG or PDF snapshot",
    ),
    "audience": (
        "audience_cmd",
        "define, list, show, delete or evaluate audiences (segments and score ranges)",
    ),
}


def command_module(name: str) -> ModuleType:
    """The module that implements command ``name`` (imported on first use)."""
    return importlib.import_module(f"{__name__}.{COMMANDS[name][0]}")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one clear line (exit 2), not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _requested(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (skipping a global ``--db URL`` before it), if any."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token == "--db":
            skip = True
        elif token in COMMANDS:
            return token
        elif not token.startswith("-"):
            return None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the requested command's module is imported (every command when
    ``argv`` is None, e.g. for documentation or tests)."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,  # keeps a global --db given before the command
        help="SQLAlchemy database URL (default: $PERSONALIZE_DATABASE_URL, else the embedded "
        "SQLite store)",
    )
    parser = _Parser(
        prog="personalize",
        description="Hyper-personalization engine for online stores. Global options may "
        "also come before the command: personalize --db URL info --json.",
    )
    parser.add_argument("--db", metavar="URL", default=None, help="the store's URL (as above)")
    parser.add_argument(
        "--json",
        dest="global_json",
        action="store_true",
        help="one JSON document, for commands that offer --json",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    wanted = list(COMMANDS) if argv is None else [_requested(argv)]
    for name in wanted:
        if name is not None and name not in subparsers.choices:
            command_module(name).register(subparsers, common)
    for name, (_, text) in COMMANDS.items():
        if name not in subparsers.choices:
            subparsers.add_parser(name, help=text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.global_json:
        if not hasattr(args, "json"):
            parser.error(f"{args.command} has no --json")
        args.json = True
    try:
        return int(args.handler(args) or 0)
    except UserError as exc:
        print(f"personalize {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head`, which stopped reading: end quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        # A fault of the environment (read-only or full disk, a file that is not a store):
        # one sentence with a hint; anything else is a bug and keeps its traceback.
        from sqlalchemy.exc import DBAPIError

        from engine.errors import describe_store_fault

        sentence = describe_store_fault(exc) if isinstance(exc, DBAPIError | OSError) else None
        if sentence is None:
            raise
        print(f"personalize {args.command}: error: {sentence}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
