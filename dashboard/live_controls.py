"""The Live page's event injection and counters."""

from __future__ import annotations

import streamlit as st

from dashboard import live_session as live
from dashboard import ui
from dashboard.live import LiveState
from engine.errors import UserError
from seed.live import INJECTABLE

INJECT_KEY = "live_inject"


def inject(running: bool) -> None:
    run = live.current()
    what, button, _ = st.columns([2, 1, 3])
    kind = what.selectbox(
        "Inject for the followed customer",
        INJECTABLE,
        key=INJECT_KEY,
        format_func=lambda k: live.INJECT_LABELS[k],
    )
    if button.button("Inject", icon=":material/bolt:", disabled=not running):
        try:
            assert run is not None
            run.inject(kind)
        except UserError as exc:
            st.error(str(exc), icon=":material/error:")


def counters(state: LiveState) -> None:
    cells = st.columns(5)
    cells[0].metric("Events", ui.fmt_count(state.events))
    cells[1].metric("Customers touched", ui.fmt_count(state.customers))
    cells[2].metric("Purchases", ui.fmt_count(state.purchases))
    cells[3].metric("Events/s", f"{state.per_second:.1f}")
    cells[4].metric("Simulated clock", f"{state.clock:%d %b %H:%M}" if state.clock else "-")
    behind = f"; {state.behind_s:.0f} s behind" if state.behind_s > 60 else ""
    refused = f"; {state.refused} refused" if state.refused else ""
    st.caption(f"Status: {state.message}{behind}{refused}")
