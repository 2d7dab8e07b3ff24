"""Predictions: when each customer will buy next, how sure we are, and who is slipping away."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from dashboard import nav, state, ui
from dashboard import prediction_charts as charts
from dashboard import predictions as pred
from dashboard.picker import pick_customer
from dashboard.sidebar import current_as_of


def one_customer(url: str, as_of: datetime | None, choices: list[str]) -> None:
    st.subheader("One customer")
    customer_id = pick_customer(
        url, page="predictions", universe=choices, what="most valuable (12-month spend) first"
    )
    if customer_id is None:
        return
    left, right, _ = st.columns([1, 1, 2])
    params = state.link_params(customer=customer_id)
    left.page_link(
        nav.PROFILE, label="Their profile", icon=":material/id_card:", query_params=params
    )
    right.page_link(
        nav.RECOMMENDATIONS,
        label="What they would be shown",
        icon=":material/star:",
        query_params=params,
    )
    view = pred.load_customer(url, as_of, str(customer_id)) if customer_id else None
    if view is None:
        st.warning(f"No customer '{ui.md(customer_id)}' in this store before the **As of** date.")
        return
    if not view.has_purchases:
        st.caption(
            "No purchase before the **As of** date: these are the store's average answers, "
            "with low confidence."
        )
    headlines = charts.customer_headlines(view)
    for row in (headlines[:3], headlines[3:]):
        for column, headline in zip(st.columns(3), row, strict=True):
            column.metric(headline.label, headline.value, help=headline.meaning)
            column.caption(headline.meaning)

    timeline, active = st.columns([3, 2])
    with timeline:
        ui.show_chart(charts.timeline_chart(view), empty="No purchases yet.")
    with active:
        ui.show_chart(charts.p_active_chart(view), empty="No purchase yet: nothing to track.")
    categories, chances = st.columns([3, 2])
    with categories:
        ui.show_chart(charts.categories_chart(view), empty="The store has no product categories.")
    with chances:
        ui.show_chart(charts.buy_chances_chart(view), empty="No prediction.")


def store_view(url: str, as_of: datetime | None) -> None:
    st.subheader("Who will buy soon")
    view = pred.load_store_view(url, as_of)
    if view.has_segments:
        newer = (
            as_of is not None and view.segments_as_of is not None and (view.segments_as_of > as_of)
        )
        st.caption(
            f"Expected buyers: the sum of each customer's chance to buy within the window. "
            f"Segments as last scored for the whole store, on {view.segments_as_of:%Y-%m-%d}"
            + (
                " (after the **As of** date, so they may reflect later behaviour)."
                if newer
                else "."
            )
        )
    else:
        st.info(
            "The store's segment memberships have not been scored yet, so this shows all "
            "customers together; the outlook per segment appears once they are.",
            icon=":material/group_work:",
        )
    chart, table = st.columns(2)
    with chart:
        ui.show_chart(charts.outlook_chart(view.outlook), empty="No customers yet.")
    with table:
        st.dataframe(
            view.outlook,
            hide_index=True,
            height="content",  # a few dozen segments at most: show them all, like the chart
            column_config=charts.outlook_columns(),
        )


def slipping(url: str, as_of: datetime | None) -> None:
    st.subheader("High-value customers slipping away")
    frame = pred.load_slipping(url, as_of)
    st.caption(
        "Top 20% of spenders whose chance of still being active fell by 5 points or more "
        "over the last 90 days, biggest drop first: the ones to win back now."
    )
    if frame.empty:
        st.success("No high-value customer is slipping away.", icon=":material/verified:")
        return
    nav.customer_table(
        frame,
        key="predictions_slipping",
        column_config=charts.slipping_columns(),
        exclude=("open_prediction",),
    )
    st.download_button(
        f"Download the {len(frame):,} customers (CSV)",
        data=pred.slipping_csv(frame),
        file_name="slipping_high_value.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


def predictions() -> None:
    url = ui.page_store("Predictions")
    if url is None:
        return
    as_of = current_as_of()
    try:
        choices = pred.load_predictions(url, as_of)["customer_id"].astype(str).tolist()
    except pred.NotEnoughHistory as exc:
        st.info(str(exc), icon=":material/hourglass_empty:")
        return
    st.caption(
        "Predicted from the orders before the **As of** date in the sidebar, with a "
        "repeat-buying model (MBG/NBD) for activity and timing and Gamma-Gamma for spend."
    )
    one_customer(url, as_of, choices)
    store_view(url, as_of)
    slipping(url, as_of)


predictions()
