"""``personalize snapshot``: save a dashboard view as a PNG or PDF, without a browser open.

Starts the dashboard on a free loopback port against the store, draws the view in a
headless Chromium exactly as the sidebar's "Snapshot" control does
(:mod:`dashboard.snapshot`), writes the files and stops the server. The view is a page
with a customer and an "As of" day, or a link copied from "Share this view".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import IO
from urllib.parse import parse_qsl, urlsplit

from engine.errors import UserError

from .output import log

HELP = "save a dashboard page's view (customer, context, as of) as a PNG or PDF snapshot"
FORMATS = (".png", ".pdf")
START_TIMEOUT_S = 180.0
DRAW_TIMEOUT_S = 300.0  # a server just started draws its first page while it warms its caches


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "snapshot",
        parents=[common],
        help=HELP,
        description="Start the dashboard on the store, draw one view in a headless Chromium "
        "(/usr/lib/chromium/chromium, or $PERSONALIZE_CHROMIUM) and save it: a full-page PNG "
        "and/or a one-page PDF, as the sidebar's Snapshot control does.",
    )
    parser.add_argument(
        "--page",
        metavar="PAGE",
        help="the page, as in its address: start_here (default), overview, "
        "customer_profile, recommendations, ...",
    )
    parser.add_argument("--customer", metavar="ID", help="the customer the page follows")
    parser.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help='the sidebar\'s "As of" day (default: the newest data)',
    )
    parser.add_argument(
        "--link",
        metavar="URL",
        help='a link from "Share this view": its page, customer, context '
        "and day (instead of --page, --customer, --as-of)",
    )
    parser.add_argument(
        "--out",
        action="append",
        metavar="FILE",
        help="where to save, .png or .pdf; give it twice for both (default: PAGE.png)",
    )
    parser.add_argument(
        "--width",
        type=int,
        default=1400,
        metavar="PX",
        help="the browser window's width in pixels (default 1400)",
    )
    parser.set_defaults(handler=run)


def page_names() -> list[str]:
    from dashboard.nav import PAGES_DIR

    return sorted(p.stem for p in PAGES_DIR.glob("*.py") if p.stem != "__init__")


def page_path(page: str) -> str:
    """The page's address: the tour, the app's default page, lives at ``/`` only."""
    from dashboard.nav import TOUR

    return "/" if page in {"", TOUR.stem} else f"/{page}"


def view(args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """The page's path and the view's parameters the arguments ask for.

    Raises:
        UserError: an unknown page, a day that is not YYYY-MM-DD, a mixed --link.
    """
    from dashboard.nav import TOUR

    if args.link:
        if args.customer or args.as_of or args.page:
            raise UserError("--link already names the page, customer and day: give it alone")
        parts = urlsplit(args.link)
        page, params = parts.path.strip("/").split("/")[-1], dict(parse_qsl(parts.query))
    else:
        page, params = (args.page or TOUR.stem).strip("/"), {}
        if args.customer:
            params["customer"] = args.customer
        if args.as_of:
            params["as_of"] = args.as_of
    names = page_names()
    if page and page not in names:
        raise UserError(f"unknown page {page!r}: expected one of {', '.join(names)}")
    if "as_of" in params:
        try:
            date.fromisoformat(params["as_of"])
        except ValueError:
            raise UserError(
                f"invalid as of {params['as_of']!r}: expected a day as YYYY-MM-DD"
            ) from None
    return page_path(page), params


def outputs(args: argparse.Namespace, page: str) -> list[Path]:
    from dashboard.nav import TOUR

    paths = [Path(out) for out in args.out or [f"{page.strip('/') or TOUR.stem}.png"]]
    for path in paths:
        if path.suffix.lower() not in FORMATS:
            raise UserError(
                f"cannot tell the format of {str(path)!r}: expected a name "
                f"ending in {' or '.join(FORMATS)}"
            )
        if not path.parent.is_dir():
            raise UserError(f"no folder {str(path.parent)!r} to save {path.name} in")
    return paths


def run(args: argparse.Namespace) -> int:
    from dashboard import snapshot
    from engine.db import open_store, resolve_url, session_scope
    from engine.models import Customer
    from engine.store import store_summary

    if not 320 <= args.width <= 4000:
        raise UserError(f"invalid --width {args.width}: expected 320..4000 pixels")
    path, params = view(args)
    files = outputs(args, path)
    if problem := snapshot.unavailable():
        raise UserError(problem)
    url = resolve_url(args.db)
    engine = open_store(url)
    try:
        with session_scope(engine) as session:
            if store_summary(session).last_activity is None:
                raise UserError(
                    "the store has no orders or events to show: run "
                    "`personalize seed` or `personalize import` first"
                )
            customer = params.get("customer")
            if customer and session.get(Customer, customer) is None:
                raise UserError(f"unknown customer {customer!r}")
    finally:
        engine.dispose()
    with serving(url) as base:
        log(f"snapshot: drawing {path} ...")
        shot = snapshot.take(
            snapshot.snapshot_url(base, path, params), width=args.width, timeout_s=DRAW_TIMEOUT_S
        )
    for file in files:
        file.write_bytes(shot.png if file.suffix.lower() == ".png" else shot.pdf)
        print(f"{file} ({file.stat().st_size:,} bytes)")
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    database_url: str, *, timeout_s: float = START_TIMEOUT_S, server_log: IO[bytes] | None = None
) -> Iterator[str]:
    """The dashboard served on a free loopback port against ``database_url`` (its base URL),
    stopped afterwards (the browser tests serve it this way too). ``server_log``: a file opened
    for reading and writing that keeps the server's output (default: a temporary one).

    Raises:
        UserError: the server exited or did not answer within ``timeout_s`` seconds.
    """
    from .dashboard_cmd import streamlit_command

    port = _free_port()
    env = {**os.environ, "PERSONALIZE_DATABASE_URL": database_url}
    with tempfile.TemporaryFile() if server_log is None else nullcontext(server_log) as output:
        server = subprocess.Popen(
            [*streamlit_command(port), "--server.address", "127.0.0.1"],
            env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(server, base, output, time.monotonic() + timeout_s)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_for(
    server: subprocess.Popen[bytes], base: str, output: IO[bytes], deadline: float
) -> None:
    while True:
        if server.poll() is not None:
            output.seek(0)
            lines = output.read().decode(errors="replace").strip().splitlines()
            raise UserError(
                f"the dashboard server stopped before answering (exit "
                f"{server.returncode}): {lines[-1] if lines else 'no output'}"
            )
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise UserError(f"the dashboard server did not answer on {base} in time")
        time.sleep(0.3)
