"""Start here: a guided tour of the store in five steps, each one click from the page that
shows it with the right customer and context already chosen (:mod:`dashboard.tour`)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard import audiences as aud
from dashboard import nav, tour, ui
from dashboard import predictions as pred
from dashboard import profiles as prof
from dashboard import recommendations as rec
from dashboard.sidebar import current_as_of
from dashboard.tour_steps import glance, link, top_pick, who
from engine.errors import UserError


def personas(profiles: pd.DataFrame, picks: list[tour.Persona]) -> None:
    with st.container(border=True):
        st.markdown("#### 2 · Meet three customers whose habits differ")
        if not picks:
            st.caption("Not enough customers with orders yet to tell habits apart.")
            return
        for column, pick in zip(st.columns(len(picks)), picks, strict=True):
            with column:
                st.markdown(f"**{ui.md(who(profiles, pick.customer_id))}**")
                st.caption(
                    f"{ui.segment_name(pick.segment)}: "
                    f"{prof.SCORE_LABELS[pick.score].lower()} {pick.value:.0f}/100, "
                    f"higher than {pick.percentile:.0%} of customers."
                )
                link(
                    nav.PROFILE,
                    "Their profile",
                    tour.customer_params(pick.customer_id),
                    ":material/id_card:",
                )


def moments(
    url: str, as_of: datetime | None, profiles: pd.DataFrame, picks: list[tour.Persona]
) -> None:
    with st.container(border=True):
        st.markdown("#### 3 · What each is shown on a rainy evening and on a sunny morning")
        try:
            rec.fit_blend(url, as_of)
        except rec.NotEnoughData as exc:
            st.caption(ui.md(exc))
            return
        for pick in picks:
            st.markdown(
                f"**{ui.md(who(profiles, pick.customer_id))}**: rainy evening: "
                f"{top_pick(url, as_of, pick.customer_id, tour.RAINY_EVENING)}; sunny morning: "
                f"{top_pick(url, as_of, pick.customer_id, tour.SUNNY_MORNING)}"
            )
            link(
                nav.RECOMMENDATIONS,
                "Compare the two moments side by side",
                tour.contexts_params(pick.customer_id),
                ":material/star:",
            )


def outlook(url: str, as_of: datetime | None, profiles: pd.DataFrame) -> None:
    with st.container(border=True):
        st.markdown("#### 4 · Who is about to buy, and who is slipping away")
        try:
            predictions = pred.load_predictions(url, as_of)
        except pred.NotEnoughHistory as exc:
            st.caption(ui.md(exc))
            return
        slipping = pred.load_slipping(url, as_of)
        buyer = tour.pick_buyer(predictions)
        leaving = tour.pick_slipping(slipping, predictions)
        left, right = st.columns(2)
        for column, customer, text in (
            (left, buyer, "most likely to buy within 90 days"),
            (right, leaving, "a valuable customer slipping away"),
        ):
            with column:
                if customer is None:
                    st.caption(f"Nobody is {text} yet.")
                    continue
                st.markdown(f"**{ui.md(who(profiles, customer))}**: {text}.")
                link(
                    nav.PREDICTIONS,
                    "Their prediction",
                    tour.customer_params(customer),
                    ":material/query_stats:",
                )


def campaign(url: str, as_of: datetime | None, picks: list[tour.Persona]) -> None:
    with st.container(border=True):
        st.markdown("#### 5 · A campaign audience and its size")
        rule = tour.campaign_rule(picks[0] if picks else None)
        try:
            node = aud.compile_text(url, rule)
            audience = aud.data_for(url, as_of, node)
            size = len(aud.members(node, audience))
        except UserError as exc:
            st.caption(f"No audience yet: {ui.md(exc)}")
            return
        share = size / len(audience.customers) if len(audience.customers) else 0.0
        st.markdown(f"`{rule}`: **{size:,} customers** ({share:.1%} of the store).")
        link(nav.AUDIENCES, "Build it on Audiences", {"rule": rule}, ":material/groups:")


def start_here() -> None:
    url = ui.page_store("Start here")
    if url is None:
        return
    as_of = current_as_of()
    st.caption(
        "A five-minute story of this store. Each step opens the page that shows it, "
        "with the customer and the moment already chosen."
    )
    glance(url)
    profiles = prof.load_profiles(url, as_of)
    if profiles.empty:
        st.info("No customer has data before the **As of** date: pick a later day.")
        return
    picks = tour.pick_personas(profiles)
    personas(profiles, picks)
    moments(url, as_of, profiles, picks)
    outlook(url, as_of, profiles)
    campaign(url, as_of, picks)


start_here()
