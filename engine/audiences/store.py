"""Saved audiences: a name and a rule's text in the ``audiences`` table.

Only the rule is kept, never its members, so a saved audience means the same thing at
every "as of". Like every data function here these take the caller's session and never
commit.
"""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audiences.evaluate import compile_rule, valid_segments
from engine.audiences.grammar import render
from engine.errors import UserError
from engine.models import Audience

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}")
NAME_RULE = "1-100 letters, digits, spaces, '_', '.' or '-', starting with a letter or digit"


def check_name(name: str) -> str:
    """``name`` without surrounding spaces.

    Raises:
        UserError: not a valid audience name (the message says what is).
    """
    cleaned = name.strip()
    if not NAME_PATTERN.fullmatch(cleaned):
        raise UserError(f"invalid audience name {name!r}: use {NAME_RULE}")
    return cleaned


def save_audience(session: Session, name: str, rule: str, *, updated_at: datetime) -> Audience:
    """Create or replace audience ``name`` with ``rule`` (stored in canonical form).

    Raises:
        UserError: an invalid name, or a rule with bad syntax or unknown names.
    """
    name = check_name(name)
    text = render(compile_rule(rule, valid_segments(session)))
    audience = session.get(Audience, name)
    if audience is None:
        audience = Audience(name=name, rule=text, created_at=updated_at, updated_at=updated_at)
        session.add(audience)
    else:
        audience.rule, audience.updated_at = text, updated_at
    session.flush()
    return audience


def list_audiences(session: Session) -> pd.DataFrame:
    """Every saved audience: frame ``name, rule, created_at, updated_at`` sorted by name."""
    rows = session.execute(
        select(Audience.name, Audience.rule, Audience.created_at, Audience.updated_at).order_by(
            Audience.name
        )
    ).all()
    return pd.DataFrame(rows, columns=["name", "rule", "created_at", "updated_at"])


def get_audience(session: Session, name: str) -> Audience:
    """The saved audience ``name``.

    Raises:
        UserError: no such audience (the message lists the saved ones).
    """
    audience = session.get(Audience, name.strip())
    if audience is None:
        saved = session.scalars(select(Audience.name).order_by(Audience.name)).all()
        choices = ", ".join(saved) if saved else "none yet (define one first)"
        raise UserError(f"unknown audience {name!r}; saved audiences: {choices}")
    return audience


def delete_audience(session: Session, name: str) -> None:
    """Delete audience ``name``.

    Raises:
        UserError: no such audience.
    """
    session.delete(get_audience(session, name))
    session.flush()
