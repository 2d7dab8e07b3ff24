"""Pieces of the Start here tour: a customer's name, a step's link, the store at a
glance, and the moments' top picks."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard import data, nav, state, ui
from dashboard import recommendations as rec


def who(profiles: pd.DataFrame, customer_id: str) -> str:
    """``"Jane Doe (c00042)"``, or the id alone where there is no name."""
    names = profiles.set_index("customer_id")["name"] if "name" in profiles else pd.Series()
    name = names.get(customer_id)
    return f"{name} ({customer_id})" if isinstance(name, str) and name else customer_id


def link(page, label: str, params: dict[str, str], icon: str) -> None:
    # The tour's links keep the sidebar's "As of" day along with the example's choices.
    st.page_link(page, label=label, icon=icon, query_params=state.link_params(**params))


def glance(url: str) -> None:
    identity, summary = data.load_identity(url), data.load_summary(url)
    with st.container(border=True):
        st.markdown("#### 1 · The store at a glance")
        if identity.description:
            st.markdown(ui.md(identity.description))
        st.markdown(
            f"{summary.customers:,} customers, {summary.products:,} products, "
            f"{summary.orders:,} orders and {summary.events:,} events; prices in "
            f"{identity.currency}."
        )
        link(nav.OVERVIEW, "Open the store overview", {}, ":material/storefront:")


def top_pick(url: str, as_of: datetime | None, customer_id: str, context: dict[str, str]) -> str:
    pick = rec.top_pick(url, as_of, customer_id, **context)
    return (
        "nothing in stock to show" if pick is None else f"**{ui.md(pick[0])}** ({ui.md(pick[1])})"
    )
