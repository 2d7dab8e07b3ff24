"""Customer profile: one customer's nine scores, segments, mood and habits, as of the sidebar."""

from __future__ import annotations

import streamlit as st

from dashboard import profile_charts as charts
from dashboard import profiles as prof
from dashboard import ui
from dashboard.sidebar import current_as_of

# st.session_state keys (comments, not docstrings: Streamlit's "magic" would print them).
SEARCH_KEY = "profile_search"
CUSTOMER_KEY = "profile_customer"


def emotion(profile: prof.CustomerProfile) -> None:
    st.subheader("Mood and how to approach them")
    state = profile.emotional_state.replace("_", " ")
    rating = (
        "no reviews yet"
        if profile.mean_rating is None
        else (
            f"recency-weighted rating {profile.mean_rating:.1f} / 5 from {profile.reviews} reviews"
        )
    )
    st.metric("Emotional state", state, help=rating)
    st.caption(rating)
    st.markdown(f"**Tone to use:** {profile.tone}.")
    unhappy = [*profile.unhappy_brands, *profile.unhappy_categories]
    st.markdown(
        "**Unhappy with:** "
        + (", ".join(ui.md(u) for u in unhappy) if unhappy else "nothing they reviewed")
        + "  \n**Best time to reach them:** "
        + (", ".join(profile.active_weekdays) or "-")
        + " around "
        + (", ".join(f"{h:02d}:00" for h in profile.active_hours) or "-")
    )


def histories(profile: prof.CustomerProfile) -> None:
    st.subheader("Recent history")
    tabs = st.tabs(["Searches", "Cart adds", "Wishlist adds", "Purchases"])
    frames = [profile.searches, profile.cart_adds, profile.wishlist_adds, profile.purchases]
    for tab, frame in zip(tabs, frames, strict=True):
        with tab:
            if frame.empty:
                st.caption("Nothing before the **As of** date.")
            else:
                st.dataframe(frame, hide_index=True, height=260)


def customer_profile() -> None:
    url = ui.page_store("Customer profile")
    if url is None:
        return
    as_of = current_as_of()
    profiles = prof.load_profiles(url, as_of)
    if profiles.empty:
        st.info(
            "No customer has an order, event or review before the **As of** date. Pick a "
            "later day in the sidebar, or load customers with `personalize import`.",
            icon=":material/person_off:",
        )
        return
    search, pick = st.columns([1, 2])
    text = search.text_input("Search by id or name", key=SEARCH_KEY, placeholder="e.g. c00042")
    choices = prof.find_customers(profiles, text)
    if not choices:
        st.warning(f"No customer id or name contains '{ui.md(text)}'.")
        return
    labels = prof.customer_label(profiles)
    customer_id = pick.selectbox(
        "Customer", choices, key=CUSTOMER_KEY, format_func=lambda c: labels.get(c, c),
        help=f"Most active first; {len(choices):,} shown. Type in the search box to narrow.",
    )  # fmt: skip
    profile = prof.load_profile(url, as_of, str(customer_id))
    if profile is None:
        st.warning(f"No customer '{ui.md(customer_id)}' in this store.")
        return
    points = profile.data_points
    st.caption(
        f"Before {profile.as_of:%Y-%m-%d %H:%M} UTC: {points['orders']:,} orders, "
        f"{points['activity']:,} actions, {points['reviews']:,} reviews across all channels"
        + (
            f", {profile.stitched['events']:,} anonymous events stitched in."
            if profile.stitched["events"]
            else "."
        )
    )
    st.markdown(
        "**Segments:** "
        + (
            " ".join(f":blue-badge[{ui.md(s)}]" for s in profile.segments)
            or "none at the saved thresholds"
        )
    )
    table = prof.scores_table(profile, profiles)
    ui.show_chart(charts.scores_chart(prof.score_quantiles(profiles), table), empty="")
    st.caption(
        "Each score runs 0-100. The grey box holds the middle half of all customers, the "
        "whiskers 90% of them; the diamond is this customer. A score with too little "
        "evidence says \"not enough data\" (and how much there is) instead of a number. "
        "Why each score is what it is:"
    )
    st.dataframe(
        table, hide_index=True,
        column_config=prof.score_detail_columns(),
    )  # fmt: skip

    left, right = st.columns(2)
    with left:
        emotion(profile)
    with right:
        times = prof.load_activity_times(url, as_of, profile.customer_id)
        ui.show_chart(charts.activity_heatmap(times), empty="No activity yet.")
    channels, categories, brands = st.columns(3)
    with channels:
        ui.show_chart(
            charts.channels_chart(prof.channels_frame(profile)),
            empty="No activity on any channel yet.",
        )
    with categories:
        ui.show_chart(
            charts.interest_chart(profile.category_interest, "Category interest"),
            empty="No category interest yet.",
        )
    with brands:
        ui.show_chart(
            charts.interest_chart(profile.brand_interest, "Brand interest"),
            empty="No brand interest yet.",
        )
    st.caption("Interest counts views and purchases, older ones weighing less (half-life 90 days).")
    histories(profile)


customer_profile()
