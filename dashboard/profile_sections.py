"""Sections of the Customer profile page: the emotional state and the histories
(orders, events, reviews)."""

from __future__ import annotations

import streamlit as st

from dashboard import profiles as prof
from dashboard import ui


def emotion(profile: prof.CustomerProfile) -> None:
    st.subheader("Mood and how to approach them")
    rating = (
        "no reviews yet"
        if profile.mean_rating is None
        else (
            f"recency-weighted rating {profile.mean_rating:.1f} / 5 from {profile.reviews} reviews"
        )
    )
    st.metric("Emotional state", profile.emotional_state.replace("_", " "), help=rating)
    st.caption(rating)
    st.markdown(f"**Tone to use:** {profile.tone}.")
    unhappy = [*profile.unhappy_brands, *profile.unhappy_categories]
    offset, zone = ui.clock_offset(profile.as_of)
    hours = sorted({(h + offset) % 24 for h in profile.active_hours})
    st.markdown(
        "**Unhappy with:** "
        + (", ".join(ui.md(u) for u in unhappy) if unhappy else "nothing they reviewed")
        + "  \n**Best time to reach them:** "
        + (", ".join(profile.active_weekdays) or "-")
        + " around "
        + (", ".join(f"{h:02d}:00" for h in hours) or "-")
        + f" (their local time, {ui.md(zone)})"
    )


MONEY_COLUMNS = ("unit_price", "discount", "price", "line_total", "revenue")


HISTORIES = {
    "Searches": "searches",
    "Cart adds": "cart_adds",
    "Wishlist adds": "wishlist_adds",
    "Purchases": "purchases",
}


@st.fragment  # a tab click reruns this part only, which draws the open tab's table only
def histories(profile: prof.CustomerProfile) -> None:
    st.subheader("Recent history")
    label, tab = ui.open_tab(list(HISTORIES), key="profile_history_tab")
    frame = getattr(profile, HISTORIES[label])
    with tab:
        if frame.empty:
            st.caption("Nothing before the **As of** date.")
        else:
            money = {
                c: ui.money_column(c.replace("_", " ")) for c in MONEY_COLUMNS if c in frame.columns
            }  # in the store's currency
            st.dataframe(frame, hide_index=True, height=260, column_config=money)
