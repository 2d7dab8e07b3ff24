"""Cached access to audiences for the "Audiences" page: data as of T, rules, charts.

What rules read (:func:`engine.audiences.load_audience_data`) is cached per
``(url, as_of, with predictions)``; a rule is then evaluated in memory, so typing a
rule or moving a what-if slider costs milliseconds. The purchase models are fitted only
once a rule compares a predicted field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import ui
from dashboard.data import get_engine, load_summary, versioned
from engine.audiences import (
    FIELDS,
    AudienceData,
    audience_members,
    compile_rule,
    delete_audience,
    export_csv,
    list_audiences,
    load_audience_data,
    monthly_as_of,
    needs_predictions,
    save_audience,
    size_over_time,
    splits,
    valid_segments,
)
from engine.audiences.fields import SCORE_SEGMENTS
from engine.audiences.grammar import Comparison, Node, segments, with_segments_as
from engine.db import session_scope
from engine.errors import UserError
from engine.profiles import Rule, load_rules

SPLIT_TITLES = {"segment": "By segment", "category": "By top category", "channel": "By channel"}
HISTORY_POINTS = 12
"""Monthly points of the size-over-time chart (each re-scores the whole store)."""
COMBINERS = ("AND", "OR", "AND NOT", "OR NOT")

# The page's st.session_state keys (its editor's callbacks below write them).
RULE_KEY = "audiences_rule"
NAME_KEY = "audiences_name"
PICK_KEY = "audiences_saved"
MESSAGE_KEY = "audiences_message"
SEGMENT_KEY = "audiences_segment"
LOW_KEY = "audiences_low"
HIGH_KEY = "audiences_high"
NEW = "(new audience)"


@versioned(show_spinner=False)
def segment_choices(url: str) -> tuple[str, ...]:
    """Every segment a rule may name (:func:`engine.audiences.valid_segments`)."""
    with session_scope(get_engine(url)) as session:
        return valid_segments(session)


def compile_text(url: str, text: str) -> Node:
    """The checked syntax tree of ``text``.

    Raises:
        engine.errors.UserError: bad syntax, unknown segment or field (the page shows it).
    """
    return compile_rule(text, segment_choices(url))


@versioned(max_entries=4, show_spinner="Scoring every customer for the audience...")
def load_data(
    url: str, as_of: datetime | None, predictions: bool, thresholds: tuple[tuple[str, float], ...]
) -> AudienceData:
    """What rules read as of ``as_of``; with ``predictions``, also the fitted purchase
    predictions (then an ``engine.errors.UserError`` when there is no order before it).
    ``thresholds`` (the stored segment rules) only keys the cache: saving new ones on the
    Segments page re-forms the segments here at the next rerun."""
    with session_scope(get_engine(url)) as session:
        return load_audience_data(session, as_of=as_of, predictions=predictions)


def data_for(url: str, as_of: datetime | None, node: Node) -> AudienceData:
    """The data ``node`` needs: with predictions only when it compares a predicted field."""
    with session_scope(get_engine(url)) as session:
        rules = load_rules(session)
    thresholds = tuple(sorted((name, rule.threshold) for name, rule in rules.items()))
    return load_data(url, as_of, needs_predictions(node), thresholds)


def members(node: Node, data: AudienceData) -> pd.DataFrame:
    """:func:`engine.audiences.audience_members` (documented columns)."""
    return audience_members(node, data)


def export_bytes(node: Node, chosen: pd.DataFrame) -> bytes:
    """The audience's CSV, byte for byte what ``personalize audience eval`` prints."""
    return export_csv(node, chosen).encode("utf-8")


def audience_splits(chosen: pd.DataFrame, data: AudienceData) -> dict[str, pd.DataFrame]:
    """:func:`engine.audiences.splits`: by segment, top category and channel."""
    return splits(chosen, data)


@versioned(max_entries=16, show_spinner="Re-scoring every month...")
def size_history(url: str, as_of: datetime, rule: str) -> pd.DataFrame:
    """The audience's size at monthly "as of" points up to ``as_of``
    (:func:`engine.audiences.size_over_time` columns)."""
    first = load_summary(url).first_activity
    with session_scope(get_engine(url)) as session:
        node = compile_rule(rule, valid_segments(session))
        moments = monthly_as_of(first or as_of, as_of, limit=HISTORY_POINTS)
        return size_over_time(session, node, moments)


def saved_audiences(url: str) -> pd.DataFrame:
    """Saved audiences ``name, rule, created_at, updated_at`` (read fresh: one small query)."""
    with session_scope(get_engine(url)) as session:
        return list_audiences(session)


def save(url: str, name: str, rule: str) -> str:
    """Save ``rule`` as audience ``name``; returns the stored name.

    Raises:
        engine.errors.UserError: an invalid name or rule (nothing is written).
    """
    with session_scope(get_engine(url)) as session:
        # The wall clock only stamps when the audience changed.
        stamp = datetime.now(UTC).replace(tzinfo=None)
        return save_audience(session, name, rule, updated_at=stamp).name


def delete(url: str, name: str) -> None:
    """Delete audience ``name``."""
    with session_scope(get_engine(url)) as session:
        delete_audience(session, name)


def slider_spec(
    comparison: Comparison, data: AudienceData
) -> tuple[float, float, float, float | tuple[float, float]]:
    """``(low, high, step, value)`` of a what-if slider for ``comparison``: the field's
    range (up to the store's largest value for open-ended money, and wide enough for the
    rule's own numbers) and the rule's number, or its two bounds for ``between``."""
    field = FIELDS[comparison.field]
    high = field.high
    if high is None:
        largest = pd.to_numeric(data.customers[field.name]).max()
        high = float(
            round(max(float(largest or 0.0), comparison.value, comparison.high or 0.0, 1.0) + 0.5)
        )
    step = 0.01 if high <= 1.0 else 1.0
    if comparison.high is None:
        return field.low, high, step, comparison.value
    return field.low, high, step, (comparison.value, comparison.high)


def bounds_of(chosen: float | tuple[float, float]) -> tuple[float, float | None]:
    """A what-if slider's value as ``(value, high)`` for ``with_thresholds``."""
    # Rounded: a slider's float steps accumulate noise (0.35000000000000003).
    if isinstance(chosen, tuple | list):
        return round(float(chosen[0]), 4), round(float(chosen[1]), 4)
    return round(float(chosen), 4), None


def segment_rules(url: str, node: Node) -> dict[str, Rule]:
    """The stored rule (``score > threshold``) of each score segment ``node`` names, in
    reading order (enthusiast segments have no single threshold to move)."""
    with session_scope(get_engine(url)) as session:
        rules = load_rules(session)
    names = dict.fromkeys(s.name for s in segments(node) if s.name in SCORE_SEGMENTS)
    return {name: rules[name] for name in names}


def segment_what_ifs(node: Node, rules: dict[str, Rule], thresholds: dict[str, float]) -> Node:
    """``node`` with each segment whose threshold was moved written out as its comparison
    (``night_owl`` at 70 -> ``night_shopping > 70``); unmoved segments stay as they are."""
    moved = {
        name: Comparison(rules[name].score, ">", float(value))
        for name, value in thresholds.items()
        if value != rules[name].threshold
    }
    return with_segments_as(node, moved)


def appended(rule: str, combiner: str, atom: str) -> str:
    """``rule`` with ``atom`` joined by ``combiner`` (``AND``, ``OR``, ``AND NOT``,
    ``OR NOT``); the rule so far is parenthesised so the new part applies to all of it."""
    rule = rule.strip()
    negate = combiner.endswith("NOT")
    word = combiner.split()[0]
    part = f"NOT {atom}" if negate else atom
    if not rule:
        return part
    left = f"({rule})" if word == "AND" and " OR " in rule.upper() else rule
    return f"{left} {word} {part}"


def range_atom(field: str, low: float, high: float) -> str:
    """The comparison text for ``low <= field <= high``."""
    return f"{field} between {low:g} and {high:g}"


def split_chart(split: pd.DataFrame, key: str) -> go.Figure | None:
    """Horizontal bars of one split (``value, customers, share``), largest on top."""
    if split.empty:
        return None
    top = split.head(12).iloc[::-1]
    figure = go.Figure(go.Bar(
        x=top["customers"], y=top["value"].astype(str), orientation="h",
        text=[f"{s:.0%}" for s in top["share"]], textposition="auto",
        hovertemplate="%{y}: %{x:,} customers<extra></extra>",
    ))  # fmt: skip
    figure.update_xaxes(title="customers")
    return ui.chart_layout(figure, SPLIT_TITLES[key], legend=False, hovermode="closest")


def history_chart(history: pd.DataFrame) -> go.Figure | None:
    """The audience's size at each monthly "as of" (a line), share of customers on hover."""
    if history.empty:
        return None
    figure = go.Figure(go.Scatter(
        x=history["as_of"], y=history["size"], mode="lines+markers",
        customdata=history["share"],
        hovertemplate="%{x|%Y-%m-%d}: %{y:,} customers (%{customdata:.1%})<extra></extra>",
    ))  # fmt: skip
    figure.update_yaxes(title="customers", rangemode="tozero")
    return ui.chart_layout(figure, "Size over time", legend=False, hovermode="closest")


def member_columns(chosen: pd.DataFrame) -> dict[str, Any]:
    """``st.dataframe`` column settings for the members: each field to its export's
    decimals (probabilities as percentages), readable titles for the rest."""
    config: dict[str, Any] = {
        "customer_id": "customer",
        "top_category": "top category",
        "channel": "main channel",
    }
    for name in chosen.columns.intersection(list(FIELDS)):
        field = FIELDS[name]
        if name == "clv_12m":  # the one money field
            config[name] = ui.money_column(name, help=field.label)
            continue
        fmt = "percent" if field.high == 1.0 else f"%.{max(field.decimals - 1, 0)}f"
        config[name] = st.column_config.NumberColumn(name, format=fmt, help=field.label)
    return config


def export_name(name: str | None) -> str:
    """The download's file name: the audience's name made file-safe."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in (name or "audience"))
    return f"{stem or 'audience'}.csv"


# --------------------------------------------------------------------------- editor callbacks


def on_pick(rules: dict[str, str]) -> None:
    """Callback of the saved-audience picker: its rule and name fill the editor
    (callbacks run before the page draws its widgets)."""
    picked = st.session_state[PICK_KEY]
    if picked != NEW:
        st.session_state[RULE_KEY], st.session_state[NAME_KEY] = rules[picked], picked


def on_add(combiner_key: str, range_of: str | None = None) -> None:
    """Callback of the helpers: join their segment (or ``range_of``'s range) to the rule
    with the combiner chosen at ``combiner_key``."""
    state = st.session_state
    if range_of is None:
        atom = state[SEGMENT_KEY]
    else:
        low, high = sorted((state[LOW_KEY], state[HIGH_KEY]))
        atom = range_atom(range_of, low, high)
    state[RULE_KEY] = appended(state[RULE_KEY], state[combiner_key], atom)


def on_save(url: str, rule: str) -> None:
    """Callback of "Save audience": ``rule`` (the what-ifs applied) is stored under the
    typed name and becomes the editor's rule; the outcome is left for the page to show."""
    try:
        stored = save(url, st.session_state[NAME_KEY], rule)
    except UserError as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
        return
    st.session_state[RULE_KEY] = rule
    st.session_state[MESSAGE_KEY] = ("success", f"Saved audience {stored}: {rule}")


def on_delete(url: str, name: str) -> None:
    """Callback of "Delete audience"."""
    delete(url, name)
    st.session_state[MESSAGE_KEY] = ("success", f"Deleted audience {name}")
