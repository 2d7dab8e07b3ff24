"""The store's identity: its name, currency, time zone and a short description.

One row in ``store_settings`` (revision 0007). A store nobody has named yet reads the
defaults (:data:`DEFAULT_IDENTITY`); ``personalize seed`` names the synthetic market,
``personalize import``/``info`` set any field (``--store-name``, ``--currency``,
``--timezone``, ``--description``). Every value is validated before it is stored.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import DateTime, Engine, Integer, String, Text, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.currency import validate_currency
from engine.db import run_write
from engine.errors import UserError
from engine.models import Base

NAME_MAX = 100
DESCRIPTION_MAX = 500
_ROW_ID = 1  # the one row


class StoreSettings(Base):
    """The store's identity (one row, ``id = 1``); see :mod:`engine.store_settings`."""

    __tablename__ = "store_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


@dataclass(frozen=True)
class StoreIdentity:
    """What the store calls itself and how it counts money and time."""

    name: str
    currency: str
    timezone: str
    description: str
    is_default: bool = False
    """True when nothing is stored yet (the values are :data:`DEFAULT_IDENTITY`'s)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_IDENTITY = StoreIdentity(
    name="My store", currency="USD", timezone="UTC",
    description="A store imported from its own order exports.", is_default=True,
)  # fmt: skip
"""An imported store until someone names it: dollars, and the clock the data is stamped in."""


def _text(field: str, value: str, limit: int, *, empty_ok: bool) -> str:
    text = " ".join(str(value).split())  # newlines and runs of spaces: one space
    if not text and not empty_ok:
        raise UserError(f"invalid {field}: it is empty; give 1 to {limit} characters")
    if len(text) > limit:
        raise UserError(f"invalid {field}: {len(text)} characters; at most {limit} allowed")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in text):
        raise UserError(f"invalid {field} {text!r}: control characters are not allowed")
    return text


def validate_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone the system knows (``Europe/London``, ``UTC``).

    Raises:
        UserError: unknown zone; names the nearest zones and how many there are.
    """
    text = str(name).strip()
    zones = available_timezones()
    if text in zones:
        return text
    by_lower = {z.lower(): z for z in zones}
    if text.lower() in by_lower:
        return by_lower[text.lower()]
    near = difflib.get_close_matches(text, sorted(zones), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(near)}? " if near else ""
    raise UserError(
        f"invalid time zone {name!r}: {hint}give one of the {len(zones)} IANA zone names "
        "such as UTC, Europe/London, America/New_York, Asia/Tokyo"
    )


def read_identity(session: Session) -> StoreIdentity:
    """The stored identity, or :data:`DEFAULT_IDENTITY` when none is stored (or the store
    predates revision 0007 and was opened without upgrading)."""
    try:
        row = session.scalar(select(StoreSettings).where(StoreSettings.id == _ROW_ID))
    except (OperationalError, ProgrammingError):
        session.rollback()
        return DEFAULT_IDENTITY
    if row is None:
        return DEFAULT_IDENTITY
    return StoreIdentity(row.name, row.currency, row.timezone, row.description)


def checked_changes(
    *,
    name: str | None = None,
    currency: str | None = None,
    timezone: str | None = None,
    description: str | None = None,
) -> dict[str, str]:
    """The given fields, validated and normalised (``None`` = leave as it is).

    Raises:
        UserError: a value is invalid (the message names the field and what is valid).
    """
    changes: dict[str, str] = {}
    if name is not None:
        changes["name"] = _text("store name", name, NAME_MAX, empty_ok=False)
    if currency is not None:
        changes["currency"] = validate_currency(currency)
    if timezone is not None:
        changes["timezone"] = validate_timezone(timezone)
    if description is not None:
        changes["description"] = _text("description", description, DESCRIPTION_MAX, empty_ok=True)
    return changes


def write_identity(session: Session, changes: dict[str, str], *, now: datetime) -> StoreIdentity:
    """Store ``changes`` (from :func:`checked_changes`) over the current identity; the
    caller owns the transaction (use :func:`engine.db.run_write`)."""
    merged = replace(read_identity(session), **changes, is_default=False)
    row = session.get(StoreSettings, _ROW_ID)
    if row is None:
        row = StoreSettings(id=_ROW_ID)
        session.add(row)
    row.name, row.currency = merged.name, merged.currency
    row.timezone, row.description = merged.timezone, merged.description
    row.updated_at = now
    return merged


def zone(identity: StoreIdentity) -> ZoneInfo:
    """The identity's time zone (UTC if the stored name is no longer known here)."""
    try:
        return ZoneInfo(identity.timezone)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def save_identity(
    engine: Engine,
    *,
    name: str | None = None,
    currency: str | None = None,
    timezone: str | None = None,
    description: str | None = None,
) -> StoreIdentity:
    """Validate and store the given fields in one write transaction; returns the result.

    Raises:
        UserError: a value is invalid (nothing is written).
    """
    changes = checked_changes(
        name=name, currency=currency, timezone=timezone, description=description
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    return run_write(engine, lambda session: write_identity(session, changes, now=now))
