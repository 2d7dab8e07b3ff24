"""The stored scores as an export: ``customer_id`` and the nine scores (CONTRACT.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Profile, ProfileStats

from .scoring import EVIDENCE, SCORES, evidence_mask
from .segments import load_min_evidence


def score_export(session: Session) -> pd.DataFrame:
    """Every stored profile's scores, sorted by customer id.

    Columns: ``customer_id`` and the nine :data:`engine.profiles.scoring.SCORES`, each
    NaN where the customer's evidence for it (its :data:`EVIDENCE` count) is below the
    store's minimum (:func:`engine.profiles.segments.load_min_evidence`): "not enough
    data", not a number.
    """
    evidence = sorted(set(EVIDENCE.values()))
    statement = (
        select(
            Profile.customer_id,
            *(getattr(Profile, s) for s in SCORES),
            *(getattr(ProfileStats, e).label(f"n_{e}") for e in evidence),
        )
        .join(ProfileStats, ProfileStats.customer_id == Profile.customer_id)
        .order_by(Profile.customer_id)
    )
    frame = pd.read_sql(statement, session.connection())
    enough = evidence_mask({e: frame[f"n_{e}"] for e in evidence}, load_min_evidence(session))
    out = frame[["customer_id"]].copy()
    for name in SCORES:
        out[name] = np.where(enough[name], frame[name].astype(float).round(2), np.nan)
    return out
