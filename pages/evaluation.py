"""Evaluation: how well the recommenders (and the purchase predictions) did on held-out data."""

from __future__ import annotations

import streamlit as st

from dashboard import evaluation as ev
from dashboard import ui
from dashboard.sidebar import current_as_of
from engine.errors import UserError

# st.session_state keys (comments, not docstrings: Streamlit's "magic" would print them).
RUN_KEY = "evaluation_requested"
K_KEY = "evaluation_k"
DAYS_KEY = "evaluation_holdout_days"

FMT = "%Y-%m-%d %H:%M"


def protocol_table(view: ev.EvaluationView, protocol: str, label: str) -> None:
    st.markdown(f"**{label.capitalize()}** ({view.customers[protocol]:,} customers)")
    table = view.tables[protocol]
    if table.empty:
        st.caption(
            "Nobody to score here: no customer bought a product new to them in the "
            "window. Try a longer test window."
        )
        return
    columns = {
        m: st.column_config.NumberColumn(f"{name}@{view.k}", format="%.2f%%")
        for m, name in ev.METRICS.items()
    }
    st.dataframe(
        table.drop(columns="model"),
        hide_index=True,
        column_config={
            "label": "Model",
            **columns,
            "coverage": st.column_config.NumberColumn("Coverage", format="%.1f%%"),
            "fit_seconds": st.column_config.NumberColumn("Fit (s)", format="%.2f"),
            "rank_seconds": st.column_config.NumberColumn("Rank (s)", format="%.2f"),
            "settings": "Settings (chosen on validation)",
        },
    )


def recommender_section(url: str, as_of) -> None:
    st.subheader("Recommenders")
    try:
        view = ev.run_evaluation(
            url, as_of, int(st.session_state[K_KEY]), float(st.session_state[DAYS_KEY])
        )
    except UserError as exc:
        st.info(f"Cannot evaluate: {exc}", icon=":material/info:")
        return
    tuned = (
        f"Baselines were tuned on [{view.validation_from:{FMT}}, {view.test_from:{FMT}}), "
        "inside the training period."
        if view.validation_from is not None
        else "Too little history to tune: baselines use their defaults."
    )
    st.caption(
        f"Trained before {view.test_from:{FMT}}, tested on what customers bought in "
        f"[{view.test_from:{FMT}}, {view.as_of:{FMT}}) UTC, ranking all {view.products:,} "
        f"products (out-of-stock ones excluded). {tuned}"
    )
    ui.show_chart(ev.ndcg_chart(view), empty="No model evaluated.")
    for protocol, label in (
        ("repeat", "repeats allowed"),
        ("new", "new items only: the customer's past products removed"),
    ):
        protocol_table(view, protocol, label)


def prediction_section(url: str, as_of) -> None:
    st.subheader("Purchase predictions")
    try:
        methods, calibration, other = ev.run_prediction_evaluation(url, as_of)
    except (UserError, ValueError) as exc:
        st.info(f"Cannot evaluate the predictions: {exc}", icon=":material/info:")
        return
    days = ev.PREDICTION_HORIZON_DAYS
    st.caption(
        f"Fitted before the last {days} days up to the **As of** date and scored on what "
        f"happened in them. Brier (lower is better) and AUC of P(buy within {days} days); "
        "date errors over the customers who bought and over **everyone** (a customer who did "
        "not buy counts with the window's end as a lower bound)."
    )
    number = st.column_config.NumberColumn
    st.dataframe(methods, hide_index=True, column_config={
        "method": "Method", "brier": number("Brier", format="%.4f"),
        "auc": number("AUC", format="%.3f"),
        "buyers_median_days": number("Buyers: median days off", format="%.1f"),
        "buyers_mean_days": number("Buyers: mean days off", format="%.1f"),
        "everyone_median_days": number("Everyone: median days off", format="%.1f"),
        "everyone_mean_days": number("Everyone: mean days off", format="%.1f"),
        "fit_seconds": number("Fit s", format="%.2f"),
        "predict_seconds": number("Predict s", format="%.2f"),
    })  # fmt: skip
    left, right = st.columns(2)
    left.caption(f"Is our P(buy within {days} days) calibrated? Stated vs observed per bin.")
    left.dataframe(calibration, hide_index=True, column_config={
        "bin": "P(buy) bin", "customers": number("Customers", format="%d"),
        "stated": number("Stated", format="%.3f"),
        "observed": number("Observed", format="%.3f"),
    })  # fmt: skip
    right.caption("Other figures, ours against last purchase + mean gap.")
    right.dataframe(other, hide_index=True, column_config={
        "metric": "Metric", "model": number("Ours", format="%.3f"),
        "naive": number("Naive", format="%.3f"),
    })  # fmt: skip


def evaluation() -> None:
    url = ui.page_store("Evaluation")
    if url is None:
        return
    as_of = current_as_of()
    st.caption(
        "A temporal split: every model learns from the data before the test window and is "
        "scored on what customers really bought in it. The window ends at the sidebar's "
        "**As of** date; nothing after it is read. Runs take a while, so they start on request."
    )
    k, days, run = st.columns([1, 1, 2], vertical_alignment="bottom")
    k.number_input("k (list length)", min_value=1, max_value=100, value=10, key=K_KEY)
    days.number_input("Test window (days)", min_value=1, max_value=365, value=30, key=DAYS_KEY)
    if run.button("Run the evaluation", type="primary", icon=":material/play_arrow:"):
        st.session_state[RUN_KEY] = True
    if not st.session_state.get(RUN_KEY):
        st.caption("Press **Run the evaluation** to score every recommender and baseline.")
        return
    recommender_section(url, as_of)
    prediction_section(url, as_of)


evaluation()
