"""Segment memberships as the predictions' store view needs them (one small query).

The memberships are written by ``personalize score`` (and kept current by ``track``);
this module only reads them, so the predictions stay independent of how segments
are computed.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import SegmentMembership


def segment_members_frame(session: Session) -> pd.DataFrame:
    """Every stored membership.

    Returns:
        Columns ``customer_id, segment`` (strings; a customer may appear once per
        segment), sorted by segment then customer; empty when nothing is scored yet.
    """
    rows = session.execute(
        select(SegmentMembership.customer_id, SegmentMembership.segment).order_by(
            SegmentMembership.segment, SegmentMembership.customer_id
        )
    ).all()
    return pd.DataFrame(rows, columns=["customer_id", "segment"]).astype(
        {"customer_id": str, "segment": str}
    )


def segments_stamp(session: Session) -> tuple[int, datetime | None, datetime | None]:
    """What the stored memberships are, in one aggregate query: ``(memberships, newest
    as_of they were computed at, newest computed_at)``; ``(0, None, None)`` when none are.

    Cheap enough to ask on every page run: a cache keyed by it refreshes as soon as
    ``score`` or ``track`` rewrites the memberships.
    """
    count, as_of, computed = session.execute(
        select(
            func.count(),
            func.max(SegmentMembership.as_of),
            func.max(SegmentMembership.computed_at),
        ).select_from(SegmentMembership)
    ).one()
    return int(count or 0), as_of, computed
