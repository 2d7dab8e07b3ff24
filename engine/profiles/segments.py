"""Micro-segments: one configurable rule set over the profile scores.

A rule is ``score > threshold``. The defaults are those of ``docs/personas.md``;
thresholds saved with :func:`save_rules` live in the ``segment_rules`` table and
override the defaults. ``<category>_enthusiast`` is the one family rule: the
customer's top category holds at least ``threshold`` percent of their
time-decayed interest (views and purchased lines), with at least
:data:`MIN_ENTHUSIAST_EVENTS` such events.

A score without enough evidence ("not enough data", NaN) puts nobody in its
segment. The minimum evidence per score lives beside the rules: defaults in
:data:`engine.profiles.scoring.MIN_EVIDENCE`, overrides saved with
:func:`save_min_evidence` in the same table (rows ``min_evidence:<score>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.errors import UserError
from engine.models import SegmentMembership, SegmentRule
from engine.profiles.scoring import EVIDENCE, MIN_EVIDENCE, SCORES
from engine.vocabulary import slug

ENTHUSIAST = "category_enthusiast"
"""Name of the enthusiast rule (its members are named ``<category slug>_enthusiast``)."""
CATEGORY_INTEREST = "category_interest"
MIN_ENTHUSIAST_EVENTS = 10
"""Views + purchased lines with a category needed before an interest share means anything."""


@dataclass(frozen=True)
class Rule:
    """``score > threshold`` (for the enthusiast rule: top-category share >= threshold)."""

    score: str
    threshold: float


DEFAULT_RULES: dict[str, Rule] = {
    "high_value": Rule("lifetime_value", 80.0),
    "frequent_buyer": Rule("purchase_frequency", 70.0),
    "deal_seeker": Rule("price_sensitivity", 60.0),
    "brand_loyal": Rule("brand_loyalty", 70.0),
    "impulse_buyer": Rule("impulse_buying", 60.0),
    "researcher": Rule("research_intensity", 70.0),
    "weekend_shopper": Rule("weekend_shopping", 60.0),
    "night_owl": Rule("night_shopping", 60.0),
    "mobile_first": Rule("mobile_usage", 70.0),
    ENTHUSIAST: Rule(CATEGORY_INTEREST, 50.0),
}

Rules = Mapping[str, Rule]


def enthusiast_segment(category: str) -> str:
    return f"{slug(category)}_enthusiast"


def normalise_rules(rules: Mapping[str, Rule | float] | None) -> dict[str, Rule]:
    """Defaults overridden by ``rules`` (a :class:`Rule` or a bare threshold per segment).

    Raises:
        UserError: an unknown segment, or a threshold outside 0..100.
    """
    out = dict(DEFAULT_RULES)
    for segment, value in (rules or {}).items():
        if segment not in DEFAULT_RULES:
            raise UserError(
                f"unknown segment rule {segment!r}; valid values: {', '.join(DEFAULT_RULES)}"
            )
        rule = (
            value if isinstance(value, Rule) else Rule(DEFAULT_RULES[segment].score, float(value))
        )
        if not 0.0 <= rule.threshold <= 100.0 or np.isnan(rule.threshold):
            raise UserError(
                f"invalid threshold {rule.threshold!r} for {segment}: "
                "expected a number from 0 to 100"
            )
        out[segment] = Rule(DEFAULT_RULES[segment].score, float(rule.threshold))
    return out


_SAVED_RULES = select(SegmentRule.__table__.c.segment, SegmentRule.__table__.c.threshold)


def load_rules(session: Session) -> dict[str, Rule]:
    """The store's rule set: saved thresholds over the defaults."""
    return load_segment_settings(session)[0]


_SETTINGS: dict[tuple[tuple[str, Any], ...], tuple[dict[str, Rule], dict[str, int]]] = {}
"""Parsed settings by the saved rows they came from (a store has a handful of rows)."""


def load_segment_settings(session: Session) -> tuple[dict[str, Rule], dict[str, int]]:
    """The store's rule set and minimum evidence per score (:func:`load_rules`,
    :func:`load_min_evidence`) from one read of ``segment_rules``.

    Real-time tracking needs both for every event: one small read, and what was parsed
    from the same rows before is reused (copies: callers may change what they get).
    """
    saved = tuple(sorted((s, t) for s, t in session.connection().execute(_SAVED_RULES).all()))
    found = _SETTINGS.get(saved)
    if found is None:
        if len(_SETTINGS) > 64:  # rows edited again and again: keep the cache small
            _SETTINGS.clear()
        found = _SETTINGS[saved] = (
            normalise_rules({s: t for s, t in saved if s in DEFAULT_RULES}),
            normalise_min_evidence(
                {
                    s[len(MIN_EVIDENCE_KEY) :]: t
                    for s, t in saved
                    if s.startswith(MIN_EVIDENCE_KEY) and s[len(MIN_EVIDENCE_KEY) :] in MIN_EVIDENCE
                }
            ),
        )
    return dict(found[0]), dict(found[1])


def save_rules(
    session: Session, rules: Mapping[str, Rule | float], *, updated_at: datetime
) -> dict[str, Rule]:
    """Store thresholds (upsert per segment); returns the full rule set now in force.

    The caller commits. Stored memberships are not recomputed: run
    :func:`engine.profiles.score_store` to apply the new rules.
    """
    merged = normalise_rules(rules)
    for segment in rules:
        row = session.get(SegmentRule, segment)
        rule = merged[segment]
        if row is None:
            session.add(
                SegmentRule(
                    segment=segment,
                    score=rule.score,
                    threshold=rule.threshold,
                    updated_at=updated_at,
                )
            )
        else:
            row.threshold, row.score, row.updated_at = rule.threshold, rule.score, updated_at
    session.flush()
    return merged


# --------------------------------------------------------------------------- evidence

MIN_EVIDENCE_KEY = "min_evidence:"
"""Prefix of the ``segment_rules`` rows holding a score's minimum evidence."""


def normalise_min_evidence(values: Mapping[str, float] | None) -> dict[str, int]:
    """Defaults (:data:`engine.profiles.scoring.MIN_EVIDENCE`) overridden by ``values``.

    Raises:
        UserError: an unknown score, or a minimum that is not a whole number >= 1.
    """
    out = dict(MIN_EVIDENCE)
    for score, value in (values or {}).items():
        if score not in MIN_EVIDENCE:
            raise UserError(f"unknown score {score!r}; valid values: {', '.join(SCORES)}")
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or np.isnan(value)
            or value < 1
            or float(value) != int(value)
        ):
            raise UserError(
                f"invalid minimum evidence {value!r} for {score}: "
                f"expected a whole number of {EVIDENCE[score]} >= 1"
            )
        out[score] = int(value)
    return out


def load_min_evidence(session: Session) -> dict[str, int]:
    """The store's minimum evidence per score: saved values over the defaults."""
    return load_segment_settings(session)[1]


def save_min_evidence(
    session: Session, values: Mapping[str, float], *, updated_at: datetime
) -> dict[str, int]:
    """Store minimum evidence per score (upsert, beside the segment rules); returns the
    full set now in force. The caller commits; run ``score`` to apply it."""
    merged = normalise_min_evidence(values)
    for score in values:
        key = f"{MIN_EVIDENCE_KEY}{score}"
        row = session.get(SegmentRule, key)
        if row is None:
            session.add(
                SegmentRule(
                    segment=key, score=score, threshold=float(merged[score]), updated_at=updated_at
                )
            )
        else:
            row.threshold, row.updated_at = float(merged[score]), updated_at
    session.flush()
    return merged


def assign_segments(profiles: pd.DataFrame, rules: Rules | None = None) -> pd.DataFrame:
    """Every membership implied by ``rules`` (default rules when ``None``).

    Args:
        profiles: one row per customer with ``customer_id``, the nine score
            columns and ``top_category, category_share`` (0-100),
            ``interest_events`` (as from :func:`engine.profiles.compute_profiles`).
        rules: the rule set (see :func:`normalise_rules`).

    Returns:
        Frame ``customer_id, segment``, sorted by segment then customer.
    """
    rules = normalise_rules(rules)
    parts: list[pd.DataFrame] = []
    ids = profiles["customer_id"].to_numpy()
    for segment, rule in rules.items():
        if segment == ENTHUSIAST:
            mask = (
                (profiles["category_share"].to_numpy(dtype=float) >= rule.threshold)
                & (profiles["interest_events"].to_numpy() >= MIN_ENTHUSIAST_EVENTS)
                & profiles["top_category"].notna().to_numpy()
            )
            names = profiles.loc[mask, "top_category"].map(enthusiast_segment).to_numpy()
            parts.append(pd.DataFrame({"customer_id": ids[mask], "segment": names}))
            continue
        # NaN (not enough data) is never above a threshold: no segment without evidence.
        with np.errstate(invalid="ignore"):
            mask = profiles[rule.score].to_numpy(dtype=float) > rule.threshold
        parts.append(pd.DataFrame({"customer_id": ids[mask], "segment": segment}))
    if not parts:
        return pd.DataFrame(columns=["customer_id", "segment"])
    members = pd.concat(parts, ignore_index=True)
    return members.sort_values(["segment", "customer_id"], kind="stable").reset_index(drop=True)


def segments_for(
    scores: Mapping[str, float | None],
    top_category: str | None,
    category_share: float,
    interest_events: int,
    rules: Rules,
) -> list[str]:
    """One customer's segments under ``rules`` (the same tests as :func:`assign_segments`)."""
    out: list[str] = []
    for segment, rule in rules.items():
        if segment == ENTHUSIAST:
            if (
                top_category is not None
                and category_share >= rule.threshold
                and interest_events >= MIN_ENTHUSIAST_EVENTS
            ):
                out.append(enthusiast_segment(top_category))
        elif (value := scores[rule.score]) is not None and value > rule.threshold:
            out.append(segment)  # None/NaN (not enough data) is never above it
    return sorted(out)


def preview_segment_sizes(profiles: pd.DataFrame, rules: Rules | None = None) -> pd.DataFrame:
    """What-if sizes for a rule set, without touching the store (for threshold sliders).

    Returns frame ``segment, size`` (every score segment listed, even when empty;
    enthusiast segments that have members), sorted by segment.
    """
    merged = normalise_rules(rules)
    members = assign_segments(profiles, merged)
    sizes = members.groupby("segment").size()
    names = sorted(set(s for s in merged if s != ENTHUSIAST) | set(sizes.index))
    return pd.DataFrame(
        {
            "segment": names,
            "size": [int(sizes.get(n, 0)) for n in names],
        }
    )


def overlaps_of(members: pd.DataFrame) -> pd.DataFrame:
    """Pairwise overlaps of a membership frame: ``segment_a, segment_b, customers`` (a < b)."""
    pairs = members.merge(members, on="customer_id", suffixes=("_a", "_b"))
    pairs = pairs.loc[pairs["segment_a"] < pairs["segment_b"]]
    counts = pairs.groupby(["segment_a", "segment_b"]).size().rename("customers")
    return counts.reset_index().sort_values(["segment_a", "segment_b"]).reset_index(drop=True)


# --------------------------------------------------------------------------- the store


def replace_memberships(
    session: Session,
    members: pd.DataFrame,
    *,
    as_of: datetime,
    computed_at: datetime,
    customer_ids: list[str] | None = None,
) -> None:
    """Delete the memberships of ``customer_ids`` (all when ``None``) and write ``members``."""
    statement = delete(SegmentMembership)
    if customer_ids is not None:
        statement = statement.where(SegmentMembership.customer_id.in_(customer_ids))
    session.execute(statement)
    if members.empty:
        return
    from engine.bulk import insert_frame

    frame = members[["customer_id", "segment"]].copy()
    frame["computed_at"] = computed_at
    frame["as_of"] = as_of
    insert_frame(session.connection(), SegmentMembership.__table__, frame)  # type: ignore[arg-type]


__all__ = [
    "DEFAULT_RULES",
    "ENTHUSIAST",
    "MIN_EVIDENCE",
    "Rule",
    "SCORES",
    "assign_segments",
    "load_min_evidence",
    "load_rules",
    "load_segment_settings",
    "normalise_min_evidence",
    "normalise_rules",
    "save_min_evidence",
    "preview_segment_sizes",
    "replace_memberships",
    "save_rules",
]
