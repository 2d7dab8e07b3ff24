"""Recommendations: what a customer would be shown, in a context, and why."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import recommendations as rec
from dashboard import state, ui
from dashboard.picker import pick_customer as pick_shared
from dashboard.sidebar import current_as_of
from engine.errors import UserError
from engine.recommend import DEFAULT_WEIGHTS, BlendRecommender

# st.session_state keys (comments, not docstrings: Streamlit's "magic" would print them).
K_KEY = "recommendations_k"
WEIGHT_KEY = "recommendations_weight_{}"
# Name, reason and score first: the table is read left to right and may be cut on the right.
SHOWN = ["rank", "name", "reason", "score", "category", "brand", "price", "product_id"]
FIRST = {"weather": "sunny", "time_of_day": "morning"}
SECOND = {"weather": "rainy", "time_of_day": "evening"}


def pick_customer(url: str, blend: BlendRecommender) -> str | None:
    choices = rec.customer_choices(blend, limit=None)
    left, k = st.columns([3, 1])
    with left:
        chosen = pick_shared(
            url,
            page="recommendations",
            universe=choices[1:],
            leading=[rec.ANONYMOUS],
            default=1,
            what="anonymous (a first-time visitor), then the most active",
        )
    k.number_input("How many (k)", min_value=1, max_value=100, value=20, key=K_KEY)
    return rec.customer_of(chosen)


def pick_weights() -> dict[str, float]:
    with st.expander("Blend weights", icon=":material/tune:"):
        st.caption(
            "How much each recommender counts (0 switches it off). Changing them re-ranks "
            "at once: nothing is refitted."
        )
        columns = st.columns(len(DEFAULT_WEIGHTS))
        return {
            name: column.slider(
                rec.LABELS[name], 0.0, 2.0, float(default), 0.05, key=WEIGHT_KEY.format(name)
            )
            for column, (name, default) in zip(columns, DEFAULT_WEIGHTS.items(), strict=True)
        }


@ui.warned  # a context change reruns this list only
def ranked_list(blend, customer_id, weights) -> None:
    st.subheader("What they would see")
    context = rec.context_picker(st, blend, "recommendations_ctx", {}, shared_as="")
    frame = rec.recommendation_frame(
        blend, customer_id, context, k=int(st.session_state[K_KEY]), weights=weights
    )
    if frame.empty:
        st.info("Nothing to show with these weights: raise at least one.", icon=":material/info:")
        return
    st.dataframe(
        frame[SHOWN],
        hide_index=True,
        height=min(36 + 35 * len(frame), 760),
        column_config={
            "rank": st.column_config.NumberColumn("#", width="small"),
            "price": ui.money_column("Price"),
            "score": st.column_config.ProgressColumn(
                "Score", min_value=0, max_value=100, format="%.1f"
            ),
            "name": st.column_config.TextColumn("Product", width="medium"),
            "reason": st.column_config.TextColumn("Why", width="large"),
            "category": "Category",
            "brand": "Brand",
            "product_id": "Id",
        },
    )
    ui.show_chart(rec.contribution_chart(frame), empty="No recommender contributed.")


@ui.warned  # either context's change reruns the comparison only
def compare(blend, customer_id, weights) -> None:
    st.subheader("Compare two contexts")
    st.caption("Two requests by the same customer: what moves up or down, enters or leaves.")
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown("**First context**")
        first = rec.context_picker(
            st, blend, "recommendations_first", FIRST, shared_as=state.COMPARE_SUFFIXES[0]
        )
    with right.container(border=True):
        st.markdown("**Second context**")
        second = rec.context_picker(
            st, blend, "recommendations_second", SECOND, shared_as=state.COMPARE_SUFFIXES[1]
        )
    k = int(st.session_state[K_KEY])
    both = rec.comparison_frame(blend, customer_id, first, second, k=k, weights=weights)
    one, two = rec.side_lists(both)
    config: dict[str, Any] = {
        "rank": st.column_config.NumberColumn("#", width="small"),
        "name": st.column_config.TextColumn("Product", width="medium"),
        "reason": st.column_config.TextColumn("Why", width="medium"),
        "score": "Score",
        "change": "Change",
    }
    for column, frame in ((left, one), (right, two)):
        column.dataframe(
            rec.styled(frame), hide_index=True, column_config=config, height=36 + 35 * len(frame)
        )
    moved = both["change"].str.startswith(("▲", "▼")).sum()
    st.caption(
        f"{(both['change'] == 'new').sum()} products enter, {(both['change'] == 'leaves').sum()} "
        f"leave and {moved} change place in the second context (green: up or new; red: down "
        "or leaving)."
    )
    chart = rec.movement_chart(both, rec.context_label(first), rec.context_label(second))
    ui.show_chart(chart, empty="Nothing to compare.")


def recommendations() -> None:
    url = ui.page_store("Recommendations")
    if url is None:
        return
    as_of = current_as_of()
    try:
        blend = rec.fit_blend(url, as_of)
    except rec.NotEnoughData as exc:
        st.info(str(exc), icon=":material/info:")
        return
    st.caption(
        f"Fitted on everything before {blend.as_of_:%Y-%m-%d %H:%M} UTC (pick another day "
        "under **As of** in the sidebar). Out-of-stock products are never shown."
    )
    customer_id = pick_customer(url, blend)
    weights = pick_weights()
    try:
        ranked_list(blend, customer_id, weights)
        compare(blend, customer_id, weights)
    except UserError as exc:
        st.warning(str(exc), icon=":material/warning:")


recommendations()
