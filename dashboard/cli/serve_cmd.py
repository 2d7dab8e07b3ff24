"""``personalize serve``: the storefront HTTP API on uvicorn (see docs/api.md)."""

from __future__ import annotations

import argparse
import os

from engine.db import open_store
from engine.errors import UserError

from .output import log

DEFAULT_PORT = 8000


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "serve",
        parents=[common],
        help="the storefront HTTP API: tracking, recommendations, profiles, predictions",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--refit-every",
        type=float,
        metavar="SECONDS",
        help="seconds between scheduled refits of the served models "
        "(default $PERSONALIZE_API_REFIT_EVERY_S, else 3600; 0: only on "
        "POST /admin/refit)",
    )
    parser.add_argument(
        "--fit",
        choices=["background", "blocking", "lazy"],
        help="fit the models at startup in the background (default), before "
        "answering, or on first use",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        default=None,
        help="log every request (default $PERSONALIZE_API_ACCESS_LOG, else "
        "off: a line per request costs more than some requests, and the "
        "proxy in front usually logs them)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise UserError(f"invalid port {args.port}; valid values: 1..65535")
    if args.refit_every is not None and args.refit_every < 0:
        raise UserError(f"invalid --refit-every {args.refit_every:g}: expected seconds >= 0")
    import uvicorn

    from engine.api import create_app, get_api_settings

    settings = get_api_settings()
    if args.refit_every is not None:
        settings.refit_every_s = args.refit_every
    if args.fit is not None:
        settings.fit = args.fit
    if args.access_log is not None:
        settings.access_log = args.access_log
    engine = open_store(args.db)  # a bad URL is refused here, in one line
    try:
        app = create_app(engine, settings=settings)
        log(
            f"serve: {engine.url.render_as_string(hide_password=True)} on "
            f"http://{args.host}:{args.port} (OpenAPI docs at /docs; fitting models "
            f"{settings.fit})"
        )
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            access_log=settings.access_log,
            log_level=os.environ.get("PERSONALIZE_API_LOG_LEVEL", "info"),
        )
    finally:
        engine.dispose()
    return 0
