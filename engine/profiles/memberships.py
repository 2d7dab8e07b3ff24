"""The store's segment memberships: who is in which segment, how many, and the overlaps.

Without ``as_of`` each reads the memberships stored by ``score``/``track``; with it,
they are computed on the fly from the profiles as of that moment (so this module
sits above both :mod:`engine.profiles.profile` and :mod:`engine.profiles.segments`).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from engine.models import SegmentMembership
from engine.profiles.profile import compute_profiles
from engine.profiles.segments import assign_segments, load_rules, overlaps_of


def _computed_members(session: Session, as_of: datetime) -> pd.DataFrame:
    profiles = compute_profiles(session, as_of=as_of)
    return assign_segments(profiles, load_rules(session))


def segment_members(session: Session, *, as_of: datetime | None = None) -> pd.DataFrame:
    """Every membership: frame ``customer_id, segment`` sorted by segment, customer.

    Without ``as_of``: the stored memberships (written by ``score``/``track``).
    With ``as_of``: computed on the fly from data before it.
    """
    if as_of is not None:
        return _computed_members(session, as_of)
    rows = session.execute(
        select(SegmentMembership.customer_id, SegmentMembership.segment).order_by(
            SegmentMembership.segment, SegmentMembership.customer_id
        )
    ).all()
    return pd.DataFrame(rows, columns=["customer_id", "segment"])


def segment_sizes(session: Session, *, as_of: datetime | None = None) -> pd.DataFrame:
    """Frame ``segment, size`` sorted by segment (one ``GROUP BY`` on stored rows)."""
    if as_of is not None:
        members = _computed_members(session, as_of)
        sizes = members.groupby("segment").size().rename("size").reset_index()
        return sizes.sort_values("segment").reset_index(drop=True)
    rows = session.execute(
        select(SegmentMembership.segment, func.count().label("size"))
        .group_by(SegmentMembership.segment)
        .order_by(SegmentMembership.segment)
    ).all()
    return pd.DataFrame(rows, columns=["segment", "size"])


def segment_overlaps(session: Session, *, as_of: datetime | None = None) -> pd.DataFrame:
    """Pairwise overlaps ``segment_a, segment_b, customers`` (a < b, pairs with >= 1 customer).

    Stored memberships: one self-join ``GROUP BY`` in the database.
    """
    if as_of is not None:
        return overlaps_of(_computed_members(session, as_of))
    a = aliased(SegmentMembership)
    b = aliased(SegmentMembership)
    rows = session.execute(
        select(a.segment, b.segment, func.count())
        .join(b, (a.customer_id == b.customer_id) & (a.segment < b.segment))
        .group_by(a.segment, b.segment)
        .order_by(a.segment, b.segment)
    ).all()
    return pd.DataFrame(rows, columns=["segment_a", "segment_b", "customers"])
