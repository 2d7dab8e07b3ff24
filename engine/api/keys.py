"""API keys: create, list, revoke and verify (only a hash of each secret is stored).

A token reads ``psk_<key_id>_<secret>``. ``key_id`` (public, 12 hex digits) finds
the row; the secret is 32 random bytes (``secrets.token_urlsafe``) and the row
keeps only its SHA-256, compared with :func:`hmac.compare_digest`. A plain hash
is enough here: the secret is random, not a password a person chose, so there is
nothing to guess that a slow hash would protect. The functions take the session
from the caller and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from engine.errors import UserError, choice_error
from engine.models import API_SCOPES, ApiKey

PREFIX = "psk_"
_NAME_MAX = 100
_TOKEN_MAX = 200

SCOPE_GRANTS: dict[str, frozenset[str]] = {
    "track": frozenset({"track"}),
    "read": frozenset({"read"}),
    "admin": frozenset(API_SCOPES),
}
"""What each scope may do: ``admin`` may do everything."""


@dataclass(frozen=True)
class KeyInfo:
    """A key as listed (never its secret)."""

    key_id: str
    name: str
    scope: str
    created_at: datetime
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "name": self.name,
            "scope": self.scope,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(row.key_id, row.name, row.scope, row.created_at, row.revoked_at)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _now() -> datetime:
    # Bookkeeping stamps only (when a key was made or revoked), never an "as of".
    return datetime.now(UTC).replace(tzinfo=None)


def create_key(session: Session, *, name: str, scope: str) -> tuple[KeyInfo, str]:
    """Make a key; returns it and its token, which is shown once and never stored.

    Raises:
        UserError: an unknown scope or an empty or over-long name.
    """
    if scope not in API_SCOPES:
        raise choice_error("scope", scope, API_SCOPES)
    name = name.strip()
    if not name or len(name) > _NAME_MAX:
        raise UserError(f"invalid name {name!r}: expected 1 to {_NAME_MAX} characters")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        key_id=key_id,
        name=name,
        scope=scope,
        secret_hash=_digest(secret),
        created_at=_now(),
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return _info(row), f"{PREFIX}{key_id}_{secret}"


def list_keys(session: Session) -> list[KeyInfo]:
    """Every key, revoked ones too, oldest first."""
    rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id))
    return [_info(r) for r in rows]


def revoke_key(session: Session, key_id: str) -> KeyInfo:
    """Revoke a key by its id (the part after ``psk_`` up to the next ``_``), or a whole token.

    Raises:
        UserError: no such key.
    """
    wanted = key_id.strip()
    if wanted.startswith(PREFIX):
        wanted = wanted[len(PREFIX) :].split("_", 1)[0]
    row = session.get(ApiKey, wanted) if 0 < len(wanted) <= 16 else None
    if row is None:
        raise UserError(f"unknown API key {key_id[:24]!r}: see `personalize apikey list`")
    if row.revoked_at is None:
        row.revoked_at = _now()
        session.flush()
    return _info(row)


_KEY = select(
    ApiKey.key_id,
    ApiKey.name,
    ApiKey.scope,
    ApiKey.created_at,
    ApiKey.revoked_at,
    ApiKey.secret_hash,
).where(ApiKey.key_id == bindparam("kid"))


def verify_token(session: Session | Connection, token: str) -> KeyInfo | None:
    """The live key a token belongs to, else None (malformed, unknown, wrong or revoked).

    The caller cannot tell which of those it was, by the answer or (for a known id)
    by its timing: the secret is compared in constant time.
    """
    if not token.startswith(PREFIX) or len(token) > _TOKEN_MAX:
        return None
    key_id, sep, secret = token[len(PREFIX) :].partition("_")
    if not sep or not secret or len(key_id) > 16:
        return None
    conn = session.connection() if isinstance(session, Session) else session
    row = conn.execute(_KEY, {"kid": key_id}).first()
    expected = row.secret_hash if row is not None else _digest("")
    matches = hmac.compare_digest(_digest(secret), expected)
    if row is None or not matches or row.revoked_at is not None:
        return None
    return KeyInfo(row.key_id, row.name, row.scope, row.created_at, row.revoked_at)


def grants(scope: str, needed: str) -> bool:
    """Whether a key of ``scope`` may do what needs ``needed``."""
    return needed in SCOPE_GRANTS.get(scope, frozenset())
