"""The store-identity options shared by ``personalize import`` and ``personalize info``."""

from __future__ import annotations

import argparse

from engine.store_settings import StoreIdentity, checked_changes

FIELDS = {
    "store_name": "name",
    "currency": "currency",
    "timezone": "timezone",
    "description": "description",
}


def add_identity_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("store identity (shown by the dashboard and `info`)")
    group.add_argument("--store-name", metavar="NAME", help="the store's name")
    group.add_argument(
        "--currency", metavar="CODE", help="ISO 4217 code of the store's money, e.g. USD, EUR, GBP"
    )
    group.add_argument(
        "--timezone", metavar="ZONE", help="IANA time zone of the store's clock, e.g. Europe/London"
    )
    group.add_argument("--description", metavar="TEXT", help="a short description")


def identity_changes(args: argparse.Namespace) -> dict[str, str]:
    """The identity fields given on the command line, validated (before anything is written).

    Raises:
        engine.errors.UserError: a value is invalid.
    """
    given = {
        field: getattr(args, option)
        for option, field in FIELDS.items()
        if getattr(args, option) is not None
    }
    return checked_changes(**given)


def identity_lines(identity: StoreIdentity) -> list[str]:
    """``info``'s lines for the identity (defaults say how to set them)."""
    lines = [
        f"{'store':<13} {identity.name}",
        f"{'currency':<13} {identity.currency}",
        f"{'time zone':<13} {identity.timezone}",
    ]
    if identity.description:
        lines.append(f"{'description':<13} {identity.description}")
    if identity.is_default:
        lines.append(
            f"{'':<13} (defaults: set them with --store-name, --currency, "
            "--timezone, --description)"
        )
    return lines
