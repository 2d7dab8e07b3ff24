"""The ``personalize`` command line (see ../shared/CONTRACT.md).

Each command lives in its own module with ``register(subparsers, common)``;
``main`` turns user mistakes (:class:`engine.errors.UserError`) into one line
on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

from engine.errors import UserError, describe_store_fault

from . import (
    bench_cmd,
    dashboard_cmd,
    evaluate_cmd,
    import_cmd,
    info_cmd,
    predict_cmd,
    profile_cmds,
    recommend_cmds,
    repair_cmd,
    seed_cmd,
)

COMMAND_MODULES = [
    info_cmd, seed_cmd, import_cmd, profile_cmds, recommend_cmds, predict_cmd, evaluate_cmd,
    bench_cmd, dashboard_cmd, repair_cmd,
]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one clear line (exit 2), not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL (default: $PERSONALIZE_DATABASE_URL, else the embedded "
        "SQLite store)",
    )
    parser = _Parser(
        prog="personalize",
        description="Hyper-personalization engine for online stores.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for module in COMMAND_MODULES:
        module.register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
    except (DBAPIError, OSError) as exc:
        # A fault of the environment (read-only or full disk, a file that is not a store):
        # one sentence with a hint; anything else is a bug and keeps its traceback.
        sentence = describe_store_fault(exc)
        if sentence is None:
            raise
        print(f"personalize {args.command}: error: {sentence}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
