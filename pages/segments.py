"""Segments: who is in each micro-segment, how they overlap, and what-if threshold sliders."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard import nav, ui
from dashboard import profile_charts as charts
from dashboard import profiles as prof
from dashboard.segment_controls import minimums
from dashboard.sidebar import current_as_of

# st.session_state keys (comments, not docstrings: Streamlit's "magic" would print them).
SLIDER_KEY = "segments_threshold_{}"
SAVED_KEY = "segments_saved_message"
SCORE_KEY = "segments_score"
MEMBERS_KEY = "segments_members_of"


def save(url: str, segments: list[str]) -> None:
    # A callback: it runs before the page, so the page reads the rules just saved.
    thresholds = {s: float(st.session_state[SLIDER_KEY.format(s)]) for s in segments}
    prof.save_thresholds(url, thresholds)
    st.session_state[SAVED_KEY] = (
        "Thresholds saved: every page now uses them. The per-segment outlook on Predictions "
        "follows once the store's memberships are next re-scored."
    )


def sliders(url: str, profiles: pd.DataFrame, rules: Mapping[str, prof.Rule]) -> pd.DataFrame:
    st.subheader("What if the thresholds were...")
    st.caption(
        "Move a slider to see at once how many customers each segment would hold. A customer "
        "joins a segment when their score is above the threshold (for category enthusiasts: "
        "when one category holds at least that share of their interest). Nothing changes for "
        "anyone else until you press **Save thresholds**."
    )
    thresholds: dict[str, float] = {}
    tiles = {}
    names = list(rules)
    for start in range(0, len(names), 5):
        for column, segment in zip(st.columns(5), names[start : start + 5], strict=False):
            rule = rules[segment]
            box = column.container(border=True)
            thresholds[segment] = box.slider(
                f"**{ui.segment_name(segment)}**: {prof.SCORE_LABELS[rule.score].lower()} "
                + ("at least" if prof.is_enthusiast_rule(segment) else "above"),
                min_value=0.0, max_value=100.0, step=1.0, value=float(rule.threshold),
                format="%.0f", key=SLIDER_KEY.format(segment),
            )  # fmt: skip
            tiles[segment] = box.empty()  # filled below, once every threshold is known
    sizes = prof.size_comparison(profiles, rules, thresholds)
    for segment, tile in tiles.items():
        label, now, preview = prof.rule_sizes(sizes, segment)
        tile.metric(
            f"{ui.segment_name(label)} size", f"{preview:,}",
            delta=f"{preview - now:+,}" if preview != now else None,
            help=f"{now:,} customers at the saved threshold",
        )  # fmt: skip
    changed = {s for s, t in thresholds.items() if t != rules[s].threshold}
    st.button(
        "Save thresholds", type="primary", icon=":material/save:", disabled=not changed,
        on_click=save, args=(url, sorted(changed)),
    )  # fmt: skip
    return sizes


@st.fragment  # a slider step reruns the tiles and the sizes chart only
def what_if(url: str, profiles: pd.DataFrame, rules: Mapping[str, prof.Rule]) -> None:
    if SAVED_KEY in st.session_state:  # saved: every part of the page reads the new rules
        st.rerun(scope="app")
    sizes = sliders(url, profiles, rules)
    left, _ = st.columns(2)
    with left:
        ui.show_chart(charts.sizes_chart(sizes), empty="No segment has members.")


def segments() -> None:
    url = ui.page_store("Segments")
    if url is None:
        return
    as_of: datetime | None = current_as_of()
    profiles = prof.load_profiles(url, as_of)
    if profiles.empty:
        st.info(
            "No customer has an order, event or review before the **As of** date, so no "
            "segment can be formed. Pick a later day in the sidebar.",
            icon=":material/group_off:",
        )
        return
    if message := st.session_state.pop(SAVED_KEY, None):
        st.success(message, icon=":material/check_circle:")
    st.caption(
        f"{len(profiles):,} customers scored on their history before the **As of** date. "
        "Segments group customers who share a habit, so a campaign can target them."
    )
    rules = prof.stored_rules(url)
    what_if(url, profiles, rules)
    minimums(url, SAVED_KEY)
    members = prof.members_of(profiles, rules)

    left, _ = st.columns(2)
    with left:
        ui.show_chart(
            charts.overlap_heatmap(prof.overlap_matrix(members)), empty="No segment has members."
        )
        st.caption("A dark cell: many customers sit in both segments, so one offer reaches both.")

    st.subheader("Scores inside each segment")
    score = st.selectbox(
        "Score", list(prof.SCORES), key=SCORE_KEY, format_func=lambda s: prof.SCORE_LABELS[s]
    )
    spread = prof.score_by_segment(profiles, members, score)
    ui.show_chart(charts.segment_scores_chart(spread, score), empty="No segment has members.")
    st.caption("Boxes hold the middle half of each segment; whiskers reach 90% of it.")

    st.subheader("Members")
    names = sorted(members["segment"].unique())
    if not names:
        st.caption("No segment has members at the saved thresholds.")
        return
    segment = st.selectbox("Segment", names, key=MEMBERS_KEY, format_func=ui.segment_name)
    table = prof.member_table(profiles, members, segment)
    st.caption(
        "Click **open ›** in a row to see that customer's profile, recommendations or prediction."
    )
    nav.customer_table(table, key="segments_members_table", column_config=prof.score_columns())
    st.download_button(
        f"Download the {len(table):,} members of {ui.segment_name(segment)} (CSV)",
        data=prof.members_csv(table), file_name=f"{segment}_members.csv", mime="text/csv",
        icon=":material/download:", on_click="ignore",
    )  # fmt: skip


segments()
