"""Store overview: the whole store at a glance, as of the sidebar's date."""

from __future__ import annotations

import streamlit as st

from dashboard import data, ui
from dashboard.sidebar import current_as_of
from engine.overview import StoreOverview

# st.session_state keys (comments, not docstrings: Streamlit's "magic" would print them).
MIX_KEY = "overview_mix_tab"
SELLERS_KEY = "overview_sellers_tab"


def overview() -> None:
    url = ui.page_store("Store overview")
    if url is None:
        return
    view = data.load_overview(url, current_as_of())
    st.caption(
        f"Everything stamped before {view.as_of:%Y-%m-%d %H:%M} UTC "
        "(pick another day under **As of** in the sidebar)."
    )

    kpis = view.kpis
    columns = st.columns(6)
    columns[0].metric(
        "Active customers",
        ui.fmt_count(kpis.customers),
        help="Customers with an order, event or review",
    )
    columns[1].metric("Products", ui.fmt_count(kpis.products))
    columns[2].metric("Orders", ui.fmt_count(kpis.orders))
    columns[3].metric(
        "Revenue",
        ui.fmt_money(kpis.revenue),
        help=f"{ui.fmt_money_exact(kpis.revenue)}, net of discounts",
    )
    columns[4].metric(
        "Avg order value",
        ui.fmt_money(kpis.average_order_value),
        help=ui.fmt_money_exact(kpis.average_order_value),
    )
    columns[5].metric("Events", ui.fmt_count(kpis.events))

    left, right = st.columns(2)
    with left:
        ui.show_chart(ui.activity_chart(view.activity, view.period), empty="No orders yet.")
    with right:
        ui.show_chart(ui.events_chart(view.events_by_type, view.period), empty="No events yet.")

    left, right = st.columns(2)
    with left:
        mixes(view)
    with right:
        sellers(view)


# One chart at a time in each group: the browser draws four charts on arrival, not seven,
# and a tab click reruns only its group (a fragment).
@st.fragment
def mixes(view: StoreOverview) -> None:
    label, tab = ui.open_tab(["Channels", "Devices", "Weather"], key=MIX_KEY)
    with tab:
        if label == "Weather":
            ui.show_chart(ui.weather_chart(view.weather), empty="No orders yet.")
        elif label == "Devices":
            ui.show_chart(
                ui.mix_chart(view.devices, "device", "Device mix"), empty="No devices recorded."
            )
        else:
            ui.show_chart(
                ui.mix_chart(view.channels, "channel", "Channel mix"), empty="No channels recorded."
            )


@st.fragment
def sellers(view: StoreOverview) -> None:
    label, tab = ui.open_tab(["Top categories", "Top brands"], key=SELLERS_KEY)
    with tab:
        if label == "Top brands":
            ui.show_chart(
                ui.ranking_chart(view.brands, "brand", "Top brands by revenue"),
                empty="No sales yet.",
            )
        else:
            ui.show_chart(
                ui.ranking_chart(view.categories, "category", "Top categories by revenue"),
                empty="No sales yet.",
            )


overview()
