"""Customer profile: one customer's nine scores, segments, mood and habits, as of the sidebar."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard import nav, state, ui
from dashboard import profile_charts as charts
from dashboard import profiles as prof
from dashboard.picker import pick_customer
from dashboard.profile_sections import emotion, histories
from dashboard.sidebar import current_as_of


def elsewhere(customer_id: str) -> None:
    left, right, _ = st.columns([1, 1, 2])
    params = state.link_params(customer=customer_id)
    left.page_link(
        nav.RECOMMENDATIONS,
        label="What they would be shown",
        icon=":material/star:",
        query_params=params,
    )
    right.page_link(
        nav.PREDICTIONS,
        label="When they will buy next",
        icon=":material/query_stats:",
        query_params=params,
    )


INTERESTS = {
    "Categories": ("category_interest", "Category interest", "No category interest yet."),
    "Brands": ("brand_interest", "Brand interest", "No brand interest yet."),
}


@st.fragment  # one chart at a time: a tab click reruns this part only
def habits(url: str, as_of: datetime | None, profile: prof.CustomerProfile) -> None:
    label, tab = ui.open_tab(["When they act", "Channels", *INTERESTS], key="profile_habits_tab")
    with tab:
        if label in INTERESTS:
            field, title, empty = INTERESTS[label]
            ui.show_chart(charts.interest_chart(getattr(profile, field), title), empty=empty)
            st.caption(
                "Interest counts views and purchases, older ones weighing less (half-life 90 days)."
            )
        elif label == "Channels":
            ui.show_chart(
                charts.channels_chart(prof.channels_frame(profile)),
                empty="No activity on any channel yet.",
            )
        else:
            times = prof.load_activity_times(url, as_of, profile.customer_id)
            ui.show_chart(
                charts.activity_heatmap(times, *ui.clock_offset(profile.as_of)),
                empty="No activity yet.",
            )


def customer_profile() -> None:
    url = ui.page_store("Customer profile")
    if url is None:
        return
    as_of = current_as_of()
    profiles = prof.load_profiles(url, as_of)
    if profiles.empty:
        st.info(
            "No customer has an order, event or review before the **As of** date. Pick a "
            "later day in the sidebar.",
            icon=":material/person_off:",
        )
        return
    one_customer(url, as_of, profiles)


@st.fragment  # picking another customer reruns this part only
def one_customer(url: str, as_of: datetime | None, profiles: pd.DataFrame) -> None:
    customer_id = pick_customer(
        url, page="profile", universe=profiles["customer_id"].astype(str).tolist()
    )
    if customer_id is None:
        return
    profile = prof.load_profile(url, as_of, str(customer_id))
    if profile is None:
        st.warning(f"No customer '{ui.md(customer_id)}' in this store.")
        return
    elsewhere(profile.customer_id)
    points = profile.data_points
    stitched = profile.stitched["events"]
    st.caption(
        f"Before {profile.as_of:%Y-%m-%d %H:%M} UTC: {points['orders']:,} orders, "
        f"{points['activity']:,} actions, {points['reviews']:,} reviews across all channels"
        + (f", {stitched:,} anonymous events stitched in." if stitched else ".")
    )
    st.markdown(
        "**Segments:** "
        + (
            " ".join(f":blue-badge[{ui.md(ui.segment_name(s))}]" for s in profile.segments)
            or "none at the saved thresholds"
        )
    )
    table = prof.scores_table(profile, profiles)
    ui.show_chart(charts.scores_chart(prof.score_quantiles(profiles), table), empty="")
    st.caption(
        "Each score runs 0-100. The grey box holds the middle half of all customers, the "
        "whiskers 90% of them; the diamond is this customer. A score with too little "
        'evidence says "not enough data" (and how much there is) instead of a number. '
        "Why each score is what it is:"
    )
    st.dataframe(table, hide_index=True, column_config=prof.score_detail_columns())
    left, right = st.columns(2)
    with left:
        emotion(profile)
    with right:
        habits(url, as_of, profile)
    histories(profile)


customer_profile()
