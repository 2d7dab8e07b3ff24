"""Live store: the market running in real time, and one customer changing as it does."""

from __future__ import annotations

import streamlit as st

from dashboard import live_session as live
from dashboard import ui
from dashboard.live import LiveState
from dashboard.live_controls import counters, inject
from dashboard.live_follow import LABELS
from engine.errors import UserError

# st.session_state keys (comments, not docstrings: Streamlit's "magic" would print them).
SPEED_KEY = "live_speed"
SEED_KEY = "live_seed"
FOLLOW_KEY = "live_follow"
TYPED_KEY = "live_follow_typed"
REFRESH_S = 1.0


def controls(url: str, running: bool) -> None:
    choices = live.follow_choices(url)
    speed, seed, follow, typed = st.columns([2, 1, 2, 1])
    speed.selectbox(
        "Speed",
        list(live.SPEEDS),
        index=2,
        key=SPEED_KEY,
        disabled=running,
        help="Simulated time per real second. The market never runs past "
        "today; when tracking cannot keep up it falls behind, never skips.",
    )
    seed.number_input("Seed", min_value=0, value=0, step=1, key=SEED_KEY, disabled=running)
    labels = choices["label"].tolist()
    pick = follow.selectbox(
        "Follow",
        labels,
        key=FOLLOW_KEY,
        help="The most active customers; type to search by id or name.",
    )
    other = typed.text_input("...or any customer id", key=TYPED_KEY).strip()
    chosen = other or (str(choices["customer_id"].iloc[labels.index(pick)]) if pick else None)
    run = live.current()
    start, stop, _ = st.columns([1, 1, 4])
    try:
        if start.button(
            "Start the market", icon=":material/play_arrow:", type="primary", disabled=running
        ):
            live.start(
                url,
                speed=live.SPEEDS[st.session_state[SPEED_KEY]],
                seed=int(st.session_state[SEED_KEY]),
                follow=chosen,
            )
            st.rerun()
        if stop.button("Stop", icon=":material/stop:", disabled=not running):
            live.stop()
            st.rerun()
        if running and run is not None and chosen != run.follow_id:
            run.follow(chosen)
    except UserError as exc:
        st.error(str(exc), icon=":material/error:")


def followed(state: LiveState) -> None:
    if state.followed is None:
        st.info("Pick a customer to follow, then start the market.", icon=":material/person:")
        return
    now, before = state.followed.look, state.followed.previous
    st.subheader(ui.md(f"{now.name or now.customer_id} ({now.customer_id})"))
    mood = f"{now.mean_rating:.1f} stars" if now.mean_rating is not None else "no reviews"
    st.markdown(
        f"**Emotional state:** {now.emotional_state} ({mood})  \n"
        f"**Segments:** {ui.md(', '.join(now.segments) or 'none')}"
    )
    cells = st.columns(3)
    for i, (name, value) in enumerate(now.scores.items()):
        old = before.scores.get(name) if before is not None else None
        delta = round(value - old) if value is not None and old is not None else None
        cells[i % 3].metric(
            LABELS[name], "n/a" if value is None else f"{value:.0f}", delta=delta or None
        )
    if state.followed.history:
        event, found = state.followed.history[0]
        st.markdown(f"**What changed** with {ui.md(event)}:")
        if found:
            st.success("\n".join(f"- {ui.md(line)}" for line in found), icon=":material/bolt:")
        else:
            st.caption("Nothing that shows: the scores moved by less than a point.")
    if now.recommendations:
        st.markdown("**Recommended now** (in the context of their latest event)")
        st.table([{k: r[k] for k in ("name", "score", "reason")} for r in now.recommendations])
    with st.expander("Earlier changes"):
        for event, found in state.followed.history[1:]:
            st.caption(ui.md(f"{event}: {'; '.join(found) or 'no visible change'}"))


def live_view(was_running: bool) -> None:
    run = live.current()
    state = run.state() if run is not None else LiveState(message="not started")
    if was_running and not state.running:
        st.rerun()  # it stopped by itself (minutes, error): redraw the controls too
    counters(state)
    stream, person = st.columns([3, 2])
    with stream:
        st.subheader("Event stream")
        if state.feed:
            st.dataframe(live.feed_frame(state), hide_index=True, width="stretch")
        else:
            st.caption("No events yet: start the market.")
    with person:
        followed(state)


def page() -> None:
    url = ui.page_store("Live store")
    if url is None:
        return
    st.caption(
        "Simulated shoppers, drawn from the same market model as the seed (on an "
        "imported store, from each customer's own behaviour), keep shopping from the "
        "store's last day on. Every event goes through the engine's track(), the "
        "same as a storefront's: profiles, segments and recommendations change at "
        "once, and stopping leaves the store consistent."
    )
    run = live.current()
    running = run is not None and run.running
    controls(url, running)
    inject(running)
    st.fragment(run_every=REFRESH_S if running else None)(live_view)(running)


page()
