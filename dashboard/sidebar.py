"""The sidebar every page shares: which store is loaded, and the "As of" date.

Choosing the date ``D`` means "as of the end of D": every page uses only data
stamped strictly before ``D + 1 day, 00:00`` (UTC, as stored). The default is
the store's newest data date, so the whole store is in view.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import streamlit as st

from dashboard import data
from engine.db import mask_url
from engine.store import StoreSummary

AS_OF_KEY = "sidebar_as_of_date"
"""``st.session_state`` key of the chosen "As of" date (a ``datetime.date``)."""

AS_OF_HELP = (
    "Show the store as it was at the end of this day: only orders, events and reviews "
    "stamped strictly before the next midnight (UTC) count. Defaults to the newest data."
)


def as_of_for(day: date) -> datetime:
    """The moment "as of the end of ``day``" means: the next midnight, naive UTC."""
    return datetime.combine(day + timedelta(days=1), time())


def current_as_of() -> datetime | None:
    """The ``as_of`` every page passes to the engine; ``None`` when the store has no data yet."""
    day = st.session_state.get(AS_OF_KEY)
    return as_of_for(day) if isinstance(day, date) else None


def draw_sidebar() -> StoreSummary:
    """Draw the store panel and the "As of" picker; returns the store's summary.

    Raises:
        engine.errors.UserError: the store cannot be opened (the app shows the message).
    """
    url = data.database_url()
    summary = data.load_summary(url)
    backend = data.backend_name(url)
    with st.sidebar:
        st.subheader("Store")
        st.caption(f"`{mask_url(url)}` ({backend})")
        st.markdown(
            f"{summary.customers:,} customers · {summary.products:,} products  \n"
            f"{summary.orders:,} orders · {summary.events:,} events · "
            f"{summary.reviews:,} reviews"
        )
        if summary.first_activity is None or summary.last_activity is None:
            # No dated data: nothing to pick, and no stale date from another store may linger.
            st.session_state.pop(AS_OF_KEY, None)
            st.caption("No orders or events yet.")
            return summary
        first, last = summary.first_activity.date(), summary.last_activity.date()
        st.caption(f"Data from {first:%Y-%m-%d} to {last:%Y-%m-%d}")
        chosen = st.session_state.get(AS_OF_KEY)
        if not isinstance(chosen, date) or not first <= chosen <= last:
            # Seeding the widget through session_state (not value=) keeps the choice across
            # pages and reruns, and resets it when the store's range no longer holds it.
            st.session_state[AS_OF_KEY] = last
        st.date_input(
            "As of (end of day)",
            key=AS_OF_KEY,
            min_value=first,
            max_value=last,
            format="YYYY-MM-DD",
            help=AS_OF_HELP,
        )
    return summary
