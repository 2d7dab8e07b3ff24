"""``personalize dashboard``: start the Streamlit app on the chosen store.

On first run the embedded store is empty, so the command seeds a synthetic
market into it (``PERSONALIZE_DASHBOARD_CUSTOMERS`` customers, seed
``PERSONALIZE_SEED``) before starting: the dashboard opens on something to see.
A store the user named (``--db`` or ``PERSONALIZE_DATABASE_URL``) is never
written to; when it is empty the app itself says how to seed or import.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from engine.config import Settings, get_settings
from engine.db import mask_url, open_store, resolve_url, session_scope
from engine.errors import UserError
from engine.store import store_summary

from .output import log

APP_PATH = Path(__file__).resolve().parent.parent / "app.py"
DEFAULT_PORT = 8501


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        parents=[common],
        help="start the Streamlit dashboard (seeds the embedded store first if it is empty)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to serve on")
    parser.add_argument(
        "--no-seed",
        action="store_true",
        help="do not seed the embedded store when it is empty",
    )
    parser.set_defaults(handler=run)


def streamlit_command(port: int) -> list[str]:
    """The ``streamlit run`` command line for the app on ``port``."""
    return [
        # streamlit run, plus a thread that warms the pages' caches (dashboard/server.py).
        sys.executable, "-m", "dashboard.server", "run", str(APP_PATH),
        "--server.port", str(port),
        "--server.headless", "true",
        # No usage statistics leave the machine; analysts need no "Deploy" button.
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
        # An analyst's server, not a developer's: watching every imported module's file
        # for edits costs CPU all the time (polling where inotify runs out) and saves none.
        "--server.fileWatcherType", "none",
        # Streamlit collects garbage after every rerun, a fragment's too: with the fitted
        # models and frames in memory that held the server ~0.2 s per click (the warm-up
        # then freezes what it built, so Python's own collections skip it).
        "--runner.postScriptGC", "false",
    ]  # fmt: skip


class _Progress:
    """``progress(label, done, total)`` on stderr, one line per label per 10% step."""

    def __init__(self) -> None:
        self._shown: dict[str, int] = {}

    def __call__(self, label: str, done: int, total: int) -> None:
        step = 10 * done // total if total else 10
        if self._shown.get(label, -1) < step:
            self._shown[label] = step
            log(f"  {label:<24} {done:>10,} / {total:,}")


def seed_embedded_store(engine: Engine, settings: Settings) -> None:
    """Generate the default synthetic market and write it into ``engine``, progress on stderr."""
    try:
        # Submodules, not the package: they import even from a namespace-package install.
        from seed.market import MarketConfig, generate_market
        from seed.writer import write_market
    except ImportError as exc:  # the seed package ships with the project; this is a broken install
        raise UserError(f"cannot seed the store: the seed package is unavailable ({exc})") from exc
    progress = _Progress()
    log(f"seeding the empty store with {settings.dashboard_customers:,} customers "
        f"(seed {settings.seed}) ...")  # fmt: skip
    market = generate_market(
        MarketConfig(customers=settings.dashboard_customers, seed=settings.seed),
        progress=progress,
    )
    write_market(engine, market, progress=progress)
    log("seeded")


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise UserError(f"invalid --port {args.port}: expected 1..65535")
    settings = get_settings()
    url = resolve_url(args.db)
    embedded = not args.db and not settings.database_url
    engine = open_store(url)
    try:
        with session_scope(engine) as session:
            summary = store_summary(session)
        # Only a store with nothing at all is seeded: the seed refuses to mix with real rows.
        empty = summary.is_empty and summary.events == 0 and summary.reviews == 0
        if empty and embedded and not args.no_seed:
            seed_embedded_store(engine, settings)
        elif empty:
            log("the store is empty: run `personalize seed` or `personalize import --orders FILE`")
    finally:
        engine.dispose()
    log(f"store  {mask_url(url)}")
    log(f"open   http://localhost:{args.port}  (Ctrl+C stops the server)")
    # The app reads its store from the environment, so it opens exactly this one.
    env = {**os.environ, "PERSONALIZE_DATABASE_URL": url}
    return serve(streamlit_command(args.port), env=env)


def serve(command: list[str], *, env: dict[str, str]) -> int:
    """Run the server until it exits; stopping this process (Ctrl+C, SIGTERM) stops it too."""

    def _terminated(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _terminated)
    server = subprocess.Popen(command, env=env)
    try:
        return server.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
