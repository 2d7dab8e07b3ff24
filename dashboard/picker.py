"""The one customer picker every page uses: search by id or name (any case), the choice
shared across pages and kept in the address (:mod:`dashboard.state`)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard import data, state, ui
from dashboard.sidebar import SHARE_KEY

PICKER_LIMIT = 200
"""Customers listed at once; searching reaches everyone."""


def find(
    names: pd.DataFrame, universe: Sequence[str], text: str, limit: int = PICKER_LIMIT
) -> list[str]:
    """Ids of ``universe`` (in its order) whose id or name contains ``text``, any case; an
    id equal to ``text`` comes first. ``names``: ``customer_id, name``."""
    ids = pd.Series(list(universe), dtype=object).astype(str)
    needle = text.strip().lower()
    if not needle:
        return ids.head(limit).tolist()
    name_of = names.set_index("customer_id")["name"]
    lowered_names = ids.map(name_of).fillna("").astype(str).str.lower()
    lowered = ids.str.lower()
    hit = lowered.str.contains(needle, regex=False) | lowered_names.str.contains(
        needle, regex=False
    )
    exact = lowered == needle
    return pd.concat([ids[exact], ids[hit & ~exact]]).head(limit).tolist()


def labels(names: pd.DataFrame) -> dict[str, str]:
    """``customer_id -> "c00042 · Jane Doe"`` (the id alone where there is no name)."""
    ids = names["customer_id"].astype(str)
    text = (ids + " · " + names["name"].fillna("").astype(str)).str.rstrip(" ·")
    return dict(zip(ids, text, strict=True))


_PICKED = "picker_just_picked"  # st.session_state flag: the callback ran this rerun


def _picked(key: str) -> None:
    # A callback: it runs before the page, which then reads the customer just chosen.
    state.share_customer(st.session_state[key])
    st.session_state[_PICKED] = True


def _in_fragment_run() -> bool:
    ctx = get_script_run_ctx()
    return bool(ctx and ctx.fragment_ids_this_run)


def pick_customer(
    url: str,
    *,
    page: str,
    universe: Sequence[str],
    leading: Sequence[str] = (),
    default: int = 0,
    what: str = "most active first",
) -> str | None:
    """A search box and a picker over ``universe`` (valid ids, best first), preceded by
    ``leading`` choices (e.g. anonymous). Returns the chosen id, or ``None`` when the search
    matches nobody (the page is told so). The chosen customer becomes the shared one."""
    names = data.load_customer_names(url)
    label_of = labels(names)
    search, pick = st.columns([1, 2])
    text = search.text_input(
        "Search by id or name",
        key=f"{page}_customer_search",
        placeholder="e.g. c00042 or a name",
        help="Any case; part of an id or a name is enough.",
    )
    current = shared_before = state.shared_customer()
    found = find(names, universe, text)
    if not text.strip() and current and current not in found and current in set(universe):
        found = [current, *found]  # the followed customer, even beyond the top of the list
    options = [*leading, *found]
    if not found and text.strip():
        search.warning(f"No customer id or name contains '{ui.md(text)}'.")
    if not found and not leading:
        return None
    key = f"{page}_customer"
    if current and current not in options and current not in set(universe):
        search.caption(
            f"Customer '{ui.md(current[:40])}' has no data here before the "
            "**As of** date: showing another one."
        )
    if current not in options:
        current = (
            options[len(leading)]
            if text.strip() and found
            else options[min(default, len(options) - 1)]
        )
        state.share_customer(current)
    st.session_state[key] = current
    pick.selectbox(
        "Customer", options, key=key, on_change=_picked, args=(key,),
        format_func=lambda c: label_of.get(c, c),
        help=f"{what.capitalize()}; {len(found):,} shown. Type in the search box to narrow.",
    )  # fmt: skip
    chosen = str(st.session_state[key])
    changed = st.session_state.pop(_PICKED, False) or chosen != shared_before
    if changed and st.session_state.get(SHARE_KEY) and _in_fragment_run():
        st.rerun(scope="app")  # the open "Share this view" link must name the new customer
    return chosen
