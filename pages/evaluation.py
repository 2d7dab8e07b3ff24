"""Evaluation: how well the recommenders (and the purchase predictions) did on held-out data."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard import recommendations as rec
from dashboard import ui
from dashboard.sidebar import current_as_of
from engine.errors import UserError

# st.session_state keys (comments, not docstrings: Streamlit's "magic" would print them).
RUN_KEY = "evaluation_requested"
K_KEY = "evaluation_k"
DAYS_KEY = "evaluation_holdout_days"


def recommender_section(url: str, as_of) -> None:
    st.subheader("Recommenders")
    try:
        view = rec.run_evaluation(
            url, as_of, int(st.session_state[K_KEY]), float(st.session_state[DAYS_KEY])
        )
    except UserError as exc:
        st.info(f"Cannot evaluate: {exc}", icon=":material/info:")
        return
    end = view.split_at + timedelta(days=view.holdout_days)
    st.caption(
        f"Trained before {view.split_at:%Y-%m-%d %H:%M}, tested on what {view.customers:,} "
        f"customers bought until {end:%Y-%m-%d %H:%M} UTC, ranking all {view.products:,} "
        "products (out-of-stock ones excluded)."
    )
    if view.blend_vs_popularity is not None:
        st.metric(
            f"Blend NDCG@{view.k} vs popularity",
            f"{view.blend_vs_popularity:.2f}x",
            help="The blend's NDCG divided by the popularity baseline's: above 1 is better.",
        )
    ui.show_chart(rec.evaluation_chart(view.metrics, view.k), empty="No model evaluated.")
    percent = {
        m: st.column_config.NumberColumn(f"{label}@{view.k}", format="%.1f%%")
        for m, label in rec.METRICS.items()
    }
    percent["coverage"] = st.column_config.NumberColumn("Coverage", format="%.1f%%")
    st.dataframe(
        rec.evaluation_table(view.metrics),
        hide_index=True,
        column_config={"label": "Model", **percent, "customers": "Customers"},
    )


def prediction_section(url: str, as_of) -> None:
    st.subheader("Purchase predictions")
    try:
        rows = rec.run_prediction_evaluation(url, as_of)
    except (UserError, ValueError) as exc:
        st.info(f"Cannot evaluate the predictions: {exc}", icon=":material/info:")
        return
    st.caption(
        f"Fitted before the last {rec.PREDICTION_HORIZON_DAYS} days up to the **As of** date, "
        "compared with what happened, against a naive baseline."
    )
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "metric": "Metric",
            "model": st.column_config.NumberColumn("Model", format="%.3f"),
            "naive": st.column_config.NumberColumn("Naive baseline", format="%.3f"),
        },
    )


def evaluation() -> None:
    url = ui.page_store("Evaluation")
    if url is None:
        return
    as_of = current_as_of()
    st.caption(
        "A temporal split: every model learns from the data before the test window and is "
        "scored on what customers really bought in it. The window ends at the sidebar's "
        "**As of** date. Runs take a few seconds, so they start on request."
    )
    k, days, run = st.columns([1, 1, 2], vertical_alignment="bottom")
    k.number_input("k (list length)", min_value=1, max_value=100, value=10, key=K_KEY)
    days.number_input("Test window (days)", min_value=1, max_value=365, value=30, key=DAYS_KEY)
    if run.button("Run the evaluation", type="primary", icon=":material/play_arrow:"):
        st.session_state[RUN_KEY] = True
    if not st.session_state.get(RUN_KEY):
        st.caption("Press **Run the evaluation** to score every recommender.")
        return
    recommender_section(url, as_of)
    prediction_section(url, as_of)


evaluation()
