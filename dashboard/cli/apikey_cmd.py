"""``personalize apikey create|list|revoke``: keys of the storefront API (stored hashed)."""

from __future__ import annotations

import argparse

from engine.api.keys import create_key, list_keys, revoke_key
from engine.db import open_store, session_scope
from engine.models import API_SCOPES

from .output import emit_json, log


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "apikey",
        parents=[common],
        help="create, list or revoke API keys of `personalize serve`",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    create = actions.add_parser("create", parents=[common], help="make a key (shown once)")
    create.add_argument(
        "--scope",
        required=True,
        choices=API_SCOPES,
        help="track: POST /events; read: every GET; admin: everything",
    )
    create.add_argument("--name", required=True, help="who or what uses it, e.g. storefront")
    create.add_argument("--json", action="store_true", help="print one JSON document")
    listing = actions.add_parser("list", parents=[common], help="every key (never secrets)")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    revoke = actions.add_parser("revoke", parents=[common], help="revoke a key at once")
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id (or the whole key)")
    revoke.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    engine = open_store(args.db)
    try:
        with session_scope(engine) as session:
            if args.action == "create":
                info, token = create_key(session, name=args.name, scope=args.scope)
            elif args.action == "list":
                keys = list_keys(session)
            else:
                info = revoke_key(session, args.key_id)
    finally:
        engine.dispose()
    if args.action == "create":
        if args.json:
            emit_json({**info.as_dict(), "key": token})
        else:
            log(
                f"created key {info.key_id} ({info.scope}) for {info.name}; it is shown "
                "once, store it now:"
            )
            print(token)
    elif args.action == "list":
        if args.json:
            emit_json([k.as_dict() for k in keys])
        elif not keys:
            print("no API keys: make one with `personalize apikey create --scope read --name NAME`")
        else:
            for k in keys:
                state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
                print(f"{k.key_id}  {k.scope:<6} {state:<24} {k.name}")
    else:
        if args.json:
            emit_json(info.as_dict())
        else:
            print(f"revoked {info.key_id} ({info.scope}, {info.name})")
    return 0
