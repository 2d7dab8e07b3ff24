"""Cached access to the behavioral profiles for the "Customer profile" and "Segments" pages.

Scoring the whole store (:func:`engine.profiles.compute_profiles`) takes seconds on a large
store, so its frame is cached per ``(url, as_of)`` and everything population-wide (score
quartiles, segment sizes, overlaps, what-if sizes) is derived from it in memory. One
customer's full profile (:func:`engine.profiles.get_profile`) is cached per
``(url, as_of, customer)``. Saving thresholds clears both, since segments depend on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.data import get_engine, versioned
from engine.db import session_scope
from engine.errors import UserError
from engine.frames import load_customers, load_events, load_order_lines
from engine.profiles import (
    SCORES,
    Calibration,
    CustomerProfile,
    Rule,
    assign_segments,
    compute_profiles,
    get_profile,
    load_rules,
    preview_segment_sizes,
    save_rules,
)
from engine.profiles.scoring import EVIDENCE, EVIDENCE_WORDS, not_enough_data
from engine.profiles.segments import (
    ENTHUSIAST,
    load_min_evidence,
    overlaps_of,
    save_min_evidence,
)

PICKER_LIMIT = 500
"""Customers listed in the picker after filtering (most active first); type to narrow."""

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Box plots are drawn from these (precomputed: a browser cannot take 100,000 raw points)."""

SCORE_LABELS = {
    "lifetime_value": "Lifetime value",
    "purchase_frequency": "Purchase frequency",
    "price_sensitivity": "Price sensitivity",
    "brand_loyalty": "Brand loyalty",
    "impulse_buying": "Impulse buying",
    "research_intensity": "Research intensity",
    "weekend_shopping": "Weekend shopping",
    "night_shopping": "Night shopping",
    "mobile_usage": "Mobile usage",
    "category_interest": "Top category's share of interest",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@versioned(max_entries=4, show_spinner="Scoring every customer...")
def load_profiles(url: str, as_of: datetime | None) -> pd.DataFrame:
    """Every customer's profile as of ``as_of`` plus their ``name``.

    Columns: :data:`engine.profiles.PROFILE_COLUMNS`, ``segments`` (``;``-joined, the
    stored rules) and ``name``; most active first (``activity`` then ``orders``
    descending, ``customer_id``).
    """
    with session_scope(get_engine(url)) as session:
        profiles = compute_profiles(session, as_of=as_of)
        names = load_customers(session)[["customer_id", "name"]]
    if profiles.empty:  # no customer yet: the page says so (and the key's dtype is unknown)
        return profiles.assign(name=pd.Series(dtype=object))
    attrs = dict(profiles.attrs)  # the calibration and as_of (a merge drops them)
    profiles = (
        profiles.merge(names, on="customer_id", how="left")
        .sort_values(
            ["activity", "orders", "customer_id"], ascending=[False, False, True], kind="stable"
        )
        .reset_index(drop=True)
    )
    profiles.attrs = attrs
    return profiles


def find_customers(profiles: pd.DataFrame, text: str, limit: int = PICKER_LIMIT) -> list[str]:
    """Ids of the customers whose id or name contains ``text`` (any case), in frame order,
    except that an id equal to ``text`` comes first (typing an id picks that customer)."""
    needle = text.strip().lower()
    if needle:
        ids = profiles["customer_id"].astype(str).str.lower()
        hit = ids.str.contains(needle, regex=False)
        hit |= profiles["name"].fillna("").str.lower().str.contains(needle, regex=False)
        exact = (ids == needle).to_numpy()
        profiles = pd.concat([profiles.loc[exact], profiles.loc[hit.to_numpy() & ~exact]])
    return profiles["customer_id"].astype(str).head(limit).tolist()


def customer_label(profiles: pd.DataFrame) -> dict[str, str]:
    """``customer_id -> "id · name"`` for the picker."""
    names = profiles["name"].fillna("").astype(str)
    ids = profiles["customer_id"].astype(str)
    return dict(zip(ids, (ids + " · " + names).str.rstrip(" ·"), strict=True))


@versioned(max_entries=64, show_spinner="Building the profile...")
def load_profile(url: str, as_of: datetime | None, customer_id: str) -> CustomerProfile | None:
    """One customer's :class:`engine.profiles.CustomerProfile`; ``None`` for an unknown id.

    A profile computed as of a moment is scored against the calibration the whole
    store was scored with for the population charts (cached), not refitted.
    """
    reference = load_profiles(url, as_of).attrs.get("calibration")
    calibration = Calibration.from_dict(reference) if reference else None
    try:
        with session_scope(get_engine(url)) as session:
            return get_profile(session, customer_id, as_of=as_of, calibration=calibration)
    except UserError:
        return None


@versioned(show_spinner=False)
def load_activity_times(url: str, as_of: datetime | None, customer_id: str) -> pd.DataFrame:
    """When the customer acts: frame ``weekday`` (Mon..Sun), ``hour`` (0-23), ``actions``.

    Actions are the engine's "activity": behavioral events other than ``purchase``, plus
    orders (each purchase counted once, through its order). Empty weekday/hour pairs omitted.
    """
    with session_scope(get_engine(url)) as session:
        events = load_events(session, as_of=as_of, customer_ids=[customer_id])
        lines = load_order_lines(session, as_of=as_of, customer_ids=[customer_id])
    stamps = pd.concat(
        [
            events.loc[events["event_type"] != "purchase", "occurred_at"],
            lines.drop_duplicates("order_id")["ordered_at"],
        ],
        ignore_index=True,
    )
    stamps = pd.to_datetime(stamps)
    frame = pd.DataFrame({"weekday": stamps.dt.day_of_week, "hour": stamps.dt.hour})
    counts = frame.groupby(["weekday", "hour"]).size().rename("actions").reset_index()
    counts["weekday"] = counts["weekday"].map(dict(enumerate(WEEKDAYS)))
    return counts


def score_quantiles(profiles: pd.DataFrame) -> pd.DataFrame:
    """The population's spread per score: index :data:`SCORES`, columns ``q05 .. q95``
    (over the customers who have each score)."""
    table = profiles[list(SCORES)].quantile(list(QUANTILES)).T
    table.columns = [f"q{round(q * 100):02d}" for q in QUANTILES]
    return table


def percentile_of(profiles: pd.DataFrame, score: str, value: float | None) -> float:
    """Percent of the customers who have ``score`` scoring at or below ``value``.

    NaN when ``value`` is ``None`` (not enough data: not ranked) or nobody has the score;
    customers without enough data for it are not part of the population it ranks in.
    """
    scored = profiles[score].dropna()
    if value is None or scored.empty:
        return float("nan")
    return float((scored <= value + 1e-9).mean() * 100)


def scores_table(profile: CustomerProfile, profiles: pd.DataFrame) -> pd.DataFrame:
    """One row per score: ``score, value, percentile, n, evidence, explanation, inputs``.

    ``value`` and ``percentile`` are NaN where there is not enough data; ``evidence``
    then says so, with how much there is ("not enough data (3 of 5 order lines)"), and
    is "given" otherwise.
    """
    rows = []
    for name in SCORES:
        detail = profile.scores[name]
        inputs = ", ".join(
            f"{k} = {v:,.4g}" if isinstance(v, float) else f"{k} = {v}"
            for k, v in detail.inputs.items()
        )
        rows.append({
            "score": SCORE_LABELS[name],
            "value": float("nan") if detail.value is None else detail.value,
            "percentile": percentile_of(profiles, name, detail.value), "n": detail.n,
            "evidence": "given" if detail.value is not None
            else not_enough_data(name, detail.n, detail.min_n),
            "explanation": detail.explanation, "inputs": inputs,
        })  # fmt: skip
    return pd.DataFrame(rows)


def channels_frame(profile: CustomerProfile) -> pd.DataFrame:
    """Per-channel activity: ``channel, events, orders`` (every channel, zeros included)."""
    return pd.DataFrame(
        [{"channel": c, **counts} for c, counts in profile.channels.items()],
        columns=["channel", "events", "orders"],
    )


# --------------------------------------------------------------------------- segments


def stored_rules(url: str) -> dict[str, Rule]:
    """The thresholds in force (saved over the defaults); read fresh, one small query."""
    with session_scope(get_engine(url)) as session:
        return load_rules(session)


def members_of(profiles: pd.DataFrame, rules: Mapping[str, Rule]) -> pd.DataFrame:
    """Memberships under ``rules``: ``customer_id, segment``."""
    return assign_segments(profiles, rules)


def size_comparison(
    profiles: pd.DataFrame, rules: Mapping[str, Rule], thresholds: Mapping[str, float]
) -> pd.DataFrame:
    """Each segment's size under ``rules`` and with ``thresholds`` (segment -> number)
    instead: ``segment, now, preview, change``.

    Nothing is written; segments empty under both rule sets are kept for the score rules.
    """
    now = preview_segment_sizes(profiles, rules).rename(columns={"size": "now"})
    what_if = {**rules, **{s: Rule(rules[s].score, float(t)) for s, t in thresholds.items()}}
    preview = preview_segment_sizes(profiles, what_if).rename(columns={"size": "preview"})
    frame = now.merge(preview, on="segment", how="outer").fillna(0)
    frame[["now", "preview"]] = frame[["now", "preview"]].astype(int)
    frame["change"] = frame["preview"] - frame["now"]
    return frame.sort_values("segment").reset_index(drop=True)


def rule_sizes(sizes: pd.DataFrame, segment: str) -> tuple[str, int, int]:
    """``(label, now, preview)`` of one rule from :func:`size_comparison`'s frame; the
    enthusiast rule sums every ``<category>_enthusiast`` segment ("all enthusiasts")."""
    if is_enthusiast_rule(segment):
        chosen, label = sizes.loc[sizes["segment"].str.endswith("_enthusiast")], "all enthusiasts"
    else:
        chosen, label = sizes.loc[sizes["segment"] == segment], segment
    return label, int(chosen["now"].sum()), int(chosen["preview"].sum())


def overlap_matrix(members: pd.DataFrame) -> pd.DataFrame:
    """Customers in both segments (square, symmetric; the diagonal is each segment's size)."""
    sizes = members.groupby("segment").size()
    names = sorted(sizes.index)
    matrix = pd.DataFrame(0, index=names, columns=names)
    for a, b, n in overlaps_of(members).itertuples(index=False):
        matrix.loc[a, b] = matrix.loc[b, a] = int(n)
    for name in names:
        matrix.loc[name, name] = int(sizes[name])
    return matrix


def score_by_segment(profiles: pd.DataFrame, members: pd.DataFrame, score: str) -> pd.DataFrame:
    """The spread of ``score`` in each segment and among all customers.

    Returns ``segment, customers, q05, q25, q50, q75, q95``, "all customers" first;
    ``customers`` counts those who have the score (customers with not enough data for
    it are left out of its spread).
    """
    values = members.merge(profiles[["customer_id", score]], on="customer_id")
    everyone = profiles[["customer_id", score]].assign(segment="all customers")
    values = pd.concat([everyone, values], ignore_index=True).dropna(subset=[score])
    grouped = values.groupby("segment", sort=False)[score]
    table = grouped.quantile(list(QUANTILES)).unstack()
    table.columns = [f"q{round(q * 100):02d}" for q in QUANTILES]
    table.insert(0, "customers", grouped.size())
    return table.reset_index()


def member_table(profiles: pd.DataFrame, members: pd.DataFrame, segment: str) -> pd.DataFrame:
    """The members of ``segment``: ``customer_id, segment, name`` and the nine scores."""
    chosen = members.loc[members["segment"] == segment, ["customer_id", "segment"]]
    table = chosen.merge(profiles[["customer_id", "name", *SCORES]], on="customer_id")
    return table.sort_values("customer_id").reset_index(drop=True)


def score_detail_columns() -> dict[str, Any]:
    """``st.dataframe`` column settings for :func:`scores_table`."""
    return {
        "value": st.column_config.NumberColumn("score", format="%.1f"),
        "percentile": st.column_config.ProgressColumn(
            "percentile", help="Share of all customers scoring the same or lower",
            format="%.0f%%", min_value=0, max_value=100,
        ),
        "n": st.column_config.NumberColumn("evidence (n)", help="How many observations"),
        "evidence": st.column_config.TextColumn(
            "state", help="A score needs a minimum of evidence (set on the Segments page); "
            "below it the score is not given, ranked against others or used for segments"),
    }  # fmt: skip


def score_columns() -> dict[str, Any]:
    """``st.dataframe`` column settings: the nine scores to one decimal, with readable titles."""
    return {
        score: st.column_config.NumberColumn(SCORE_LABELS[score], format="%.1f") for score in SCORES
    }


def members_csv(table: pd.DataFrame) -> bytes:
    """``customer_id,segment`` then the nine scores (2 decimals), UTF-8."""
    out = table[["customer_id", "segment", *SCORES]].copy()
    out[list(SCORES)] = out[list(SCORES)].round(2)
    return out.to_csv(index=False).encode("utf-8")


def save_thresholds(url: str, thresholds: Mapping[str, float]) -> dict[str, Rule]:
    """Store ``thresholds`` (segment -> number) and drop the cached profiles built on the old ones.

    Raises:
        engine.errors.UserError: a threshold outside 0..100 (nothing is written).
    """
    with session_scope(get_engine(url)) as session:
        # The wall clock only stamps when the rules changed; no analytic result reads it.
        rules = save_rules(
            session, dict(thresholds), updated_at=datetime.now(UTC).replace(tzinfo=None)
        )
    load_profiles.clear()
    load_profile.clear()
    return rules


def stored_min_evidence(url: str) -> dict[str, int]:
    """The minimum evidence per score in force (saved over the defaults)."""
    with session_scope(get_engine(url)) as session:
        return load_min_evidence(session)


def save_minimums(url: str, minimums: Mapping[str, int]) -> dict[str, int]:
    """Store minimum evidence per score and drop the cached profiles scored with the old ones.

    Raises:
        engine.errors.UserError: a minimum that is not a whole number >= 1 (nothing is written).
    """
    with session_scope(get_engine(url)) as session:
        merged = save_min_evidence(
            session, dict(minimums), updated_at=datetime.now(UTC).replace(tzinfo=None)
        )
    load_profiles.clear()
    load_profile.clear()
    return merged


def evidence_label(score: str) -> str:
    """``"Brand loyalty: branded products"``: a score and what its evidence counts."""
    return f"{SCORE_LABELS[score]}: {EVIDENCE_WORDS[EVIDENCE[score]]}"


def is_enthusiast_rule(segment: str) -> bool:
    return segment == ENTHUSIAST
