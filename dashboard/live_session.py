"""The "Live" page's run, owned by one browser session.

One :class:`dashboard.live.LiveRun` per Streamlit session, kept in ``st.session_state``
under :data:`RUN_KEY`: starting while one runs is refused (never two runs writing for
one session), and the run's thread asks Streamlit's runtime between events whether its
session is still connected, so closing the tab stops it cleanly.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlalchemy import func, select

from dashboard.data import get_engine, versioned
from dashboard.live import LiveRun, LiveState
from engine.db import session_scope
from engine.errors import UserError
from engine.models import Customer, Event, Order

RUN_KEY = "live_run"
PICKER_LIMIT = 500
SPEEDS: dict[str, float] = {
    "1 minute per second (60x)": 60.0,
    "10 minutes per second (600x)": 600.0,
    "1 hour per second (3,600x)": 3_600.0,
    "6 hours per second (21,600x)": 21_600.0,
    "1 day per second (86,400x)": 86_400.0,
}
INJECT_LABELS = {
    "review_1_star": "a 1-star review of their last purchase",
    "late_night_mobile_purchase": "a late-night purchase on mobile",
    "product_view": "a product view",
    "cart_add": "a cart add",
}


def current() -> LiveRun | None:
    """This session's run (running or finished), if any."""
    run = st.session_state.get(RUN_KEY)
    return run if isinstance(run, LiveRun) else None


def _session_alive() -> Callable[[], bool]:
    """True while this browser session is connected (always, outside a server)."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return lambda: True
    server, session_id = runtime.get_instance(), ctx.session_id
    return lambda: server.is_active_session(session_id)


def start(url: str, *, speed: float, seed: int, follow: str | None) -> LiveRun:
    """Start this session's run (refused while one runs).

    Raises:
        UserError: a run is going already, or a bad speed or customer.
    """
    running = current()
    if running is not None and running.running:
        raise UserError("the market is running already: stop it first")
    blend = None
    if follow is not None:
        from dashboard.recommendations import NotEnoughData, fit_blend

        try:
            blend = fit_blend(url, None)
        except NotEnoughData:
            blend = None  # the followed customer is shown without recommendations
    run = LiveRun(
        get_engine(url), speed=speed, seed=seed, follow=follow, blend=blend, alive=_session_alive()
    )
    run.start()
    st.session_state[RUN_KEY] = run
    return run


def stop() -> LiveState | None:
    """Stop this session's run after the event being written; its final state."""
    run = current()
    if run is None:
        return None
    run.stop()
    return run.state()


@versioned(show_spinner=False)
def follow_choices(url: str, limit: int = PICKER_LIMIT) -> pd.DataFrame:
    """``customer_id, label`` ("C00042 · Nancy Conley") of the most active customers."""
    with session_scope(get_engine(url)) as session:
        orders = (
            select(Order.customer_id, func.count().label("n"))
            .group_by(Order.customer_id)
            .subquery()
        )
        events = (
            select(Event.customer_id, func.count().label("n"))
            .where(Event.customer_id.is_not(None))
            .group_by(Event.customer_id)
            .subquery()
        )
        activity = (func.coalesce(orders.c.n, 0) + func.coalesce(events.c.n, 0)).label("a")
        rows = session.execute(
            select(Customer.customer_id, Customer.name, activity)
            .outerjoin(orders, orders.c.customer_id == Customer.customer_id)
            .outerjoin(events, events.c.customer_id == Customer.customer_id)
            .order_by(activity.desc(), Customer.customer_id)
            .limit(limit)
        ).all()
    frame = pd.DataFrame(rows, columns=["customer_id", "name", "activity"])
    frame["label"] = [
        f"{c} · {n}" if n else str(c)
        for c, n in zip(frame["customer_id"], frame["name"], strict=True)
    ]
    return frame[["customer_id", "label"]]


def feed_frame(state: LiveState) -> pd.DataFrame:
    """The event stream as a table, newest first (``*`` marks the followed customer)."""
    rows = [
        {
            "time (simulated)": e["at"],
            "customer": ("* " if e["followed"] else "") + str(e["customer"]),
            "event": e["event"] + (" (injected)" if e["injected"] else ""),
            "what": e["what"],
            "device": e["device"],
        }
        for e in state.feed
    ]
    return pd.DataFrame(rows, columns=["time (simulated)", "customer", "event", "what", "device"])


__all__ = [
    "INJECT_LABELS",
    "RUN_KEY",
    "SPEEDS",
    "current",
    "feed_frame",
    "follow_choices",
    "start",
    "stop",
]
