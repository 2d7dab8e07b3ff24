"""The sidebar every page shares: which store is loaded, the "As of" date, and sharing.

Choosing the date ``D`` means "as of the end of D": every page uses only data
stamped strictly before ``D + 1 day, 00:00`` (UTC, as stored). The default is
the store's newest data date, so the whole store is in view.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import PurePath

import streamlit as st
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dashboard import data, state
from engine.store import StoreSummary

AS_OF_KEY = "sidebar_as_of_date"
"""``st.session_state`` key of the chosen "As of" date (a ``datetime.date``)."""

SHARE_KEY = "sidebar_share_open"
"""``st.session_state`` key of the "Share this view" panel (``True`` while it is open)."""

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


def backend_label(url: str) -> str:
    """Where the store lives, in words: ``"SQLite file store.db"``, ``"PostgreSQL on
    db.example/shop"``; never a folder, a user name or a password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "unknown database"
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:":
            return "SQLite in memory"
        return f"SQLite file {PurePath(database).name}"
    name = {"postgresql": "PostgreSQL", "mysql": "MySQL"}.get(backend, backend)
    where = "/".join(part for part in (parsed.host, parsed.database) if part)
    return f"{name} on {where}" if where else name


def _sync_as_of(first: date, last: date) -> None:
    """Take the day from the address (``?as_of=2026-10-31``) when it is new there."""
    given = st.query_params.get(state.AS_OF)
    if not given or given == st.session_state.get("sidebar_as_of_seen"):
        return
    st.session_state["sidebar_as_of_seen"] = given
    try:
        day = date.fromisoformat(given)
    except ValueError:
        st.session_state["sidebar_as_of_note"] = (
            f'The link\'s "as of" {given[:20]!r} is not a date (YYYY-MM-DD): showing the '
            "newest data instead."
        )
        return
    if not first <= day <= last:
        st.session_state["sidebar_as_of_note"] = (
            f"The link asks for the store as of {day:%Y-%m-%d}, outside its data "
            f"({first:%Y-%m-%d} to {last:%Y-%m-%d}): showing the nearest day instead."
        )
        day = min(max(day, first), last)
    st.session_state[AS_OF_KEY] = day


def _share_as_of(last: date) -> None:
    chosen = st.session_state.get(AS_OF_KEY)
    state.share(state.AS_OF, None if chosen == last else f"{chosen:%Y-%m-%d}")
    st.session_state["sidebar_as_of_seen"] = st.query_params.get(state.AS_OF)


def view_params() -> dict[str, str]:
    """The view's shared choices: the customer, the context and the day (a shared link or
    a snapshot keeps its day, even the newest)."""
    params = state.link_params()
    chosen = st.session_state.get(AS_OF_KEY)
    if isinstance(chosen, date):
        params[state.AS_OF] = f"{chosen:%Y-%m-%d}"
    return params


def share_panel(page: st.Page | None) -> None:
    """The view's shareable link: this page with the same customer, context and day (drawn
    after the page ran, so it holds the choices the page just made)."""
    params = view_params()
    path = f"/{page.url_path}" if page is not None and page.url_path else "/"
    base = st.context.url.split("?")[0] if st.context.url else path
    # Drawn only while open: the code block's highlighter is heavy for the browser, and
    # opening reruns the app, so the link holds what a fragment just changed.
    with st.expander(
        "Share this view", icon=":material/share:", key=SHARE_KEY, on_change="rerun"
    ) as panel:
        if panel.open:
            st.caption("This link reopens this page with the same customer, context and day:")
            st.code(state.shareable_link(base, params), language=None, wrap_lines=True)


def draw_sidebar(page: st.Page | None = None) -> StoreSummary:
    """Draw the store panel and the "As of" picker; returns the summary.

    Raises:
        engine.errors.UserError: the store cannot be opened (the app shows the message).
    """
    url = data.database_url()
    summary = data.load_summary(url)
    identity = data.load_identity(url)
    with st.sidebar:
        st.subheader(identity.name)
        st.caption(
            f"{backend_label(url)} · prices in {identity.currency} · times in {identity.timezone}"
        )
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
        _sync_as_of(first, last)
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
        _share_as_of(last)
        if note := st.session_state.pop("sidebar_as_of_note", None):
            st.warning(note, icon=":material/event_busy:")
    return summary
