"""Audiences: combine segments, score ranges and predictions; size, splits, members, export."""

from __future__ import annotations

import hashlib

import streamlit as st

from dashboard import audiences as aud
from dashboard import nav, ui
from dashboard.audience_controls import helpers, save_box
from dashboard.sidebar import current_as_of
from engine.audiences import SYNTAX, AudienceData, render, with_thresholds
from engine.audiences.grammar import Node, comparisons
from engine.errors import UserError

# st.session_state keys (comments, not docstrings: Streamlit's "magic" would print them).
HISTORY_KEY = "audiences_history"
WHATIF_KEY = "audiences_whatif_{}_{}"
RULE_PARAM = "rule"
LINKED_KEY = "audiences_linked_rule"
EXAMPLE = "(night_owl OR mobile_first) AND lifetime_value >= 50"


def what_ifs(url: str, node: Node, data: AudienceData) -> Node:
    base, rules = comparisons(node), aud.segment_rules(url, node)
    if not base and not rules:
        return node
    st.subheader("What if the thresholds were...")
    st.caption(
        "These apply to everything below (size, splits, members, download) until you "
        "save the audience with them."
    )
    digest = hashlib.sha1(render(node).encode()).hexdigest()[:10]
    columns = st.columns(3)
    thresholds = {}
    for i, (name, rule) in enumerate(rules.items()):
        thresholds[name] = columns[i % 3].slider(
            f"{name}: {rule.score} above",
            0.0,
            100.0,
            float(rule.threshold),
            1.0,
            key=WHATIF_KEY.format(digest, f"{name}@{rule.threshold:g}"),
        )
    overrides = {}
    for i, comparison in enumerate(base, start=len(rules)):
        low, high, step, value = aud.slider_spec(comparison, data)
        chosen = columns[i % 3].slider(
            render(comparison), low, high, value, step, key=WHATIF_KEY.format(digest, i)
        )
        overrides[i - len(rules)] = aud.bounds_of(chosen)
    return aud.segment_what_ifs(with_thresholds(node, overrides), rules, thresholds)


def results(url: str, node: Node, data: AudienceData, name: str | None) -> None:
    chosen = aud.members(node, data)
    total = len(data.customers)
    size, share = st.columns(2)
    size.metric("Customers in the audience", ui.fmt_count(len(chosen)))
    share.metric(
        "Share of customers",
        f"{len(chosen) / total:.1%}" if total else "-",
        help=f"Of the {total:,} customers with data before the As of date",
    )
    for column, (key, split) in zip(
        st.columns(3), aud.audience_splits(chosen, data).items(), strict=True
    ):
        with column:
            ui.show_chart(aud.split_chart(split, key), empty="Nobody in the audience.")
    st.subheader("Members")
    st.caption(
        "Click **open ›** in a row to see that customer's profile, recommendations or prediction."
    )
    nav.customer_table(
        chosen, key="audiences_members_table", height=320, column_config=aud.member_columns(chosen)
    )
    st.download_button(
        f"Download the {len(chosen):,} members (CSV)", data=aud.export_bytes(node, chosen),
        file_name=aud.export_name(name), mime="text/csv", icon=":material/download:",
        on_click="ignore",
    )  # fmt: skip
    if st.toggle(
        "Size over time",
        key=HISTORY_KEY,
        help="Re-evaluates the audience at the start of each month",
    ):
        history = aud.size_history(url, data.as_of, render(node))
        ui.show_chart(aud.history_chart(history), empty="No history yet.")


def audiences() -> None:
    url = ui.page_store("Audiences")
    if url is None:
        return
    if message := st.session_state.pop(aud.MESSAGE_KEY, None):
        getattr(st, message[0])(ui.md(message[1]))
    saved = aud.saved_audiences(url)
    rules = dict(zip(saved["name"], saved["rule"], strict=True))
    st.selectbox(
        "Saved audiences", [aud.NEW, *rules], key=aud.PICK_KEY, on_change=aud.on_pick, args=(rules,)
    )
    linked = st.query_params.get(RULE_PARAM)  # a link's rule (the tour's) once per link
    if linked and linked != st.session_state.get(LINKED_KEY):
        st.session_state[LINKED_KEY] = st.session_state[aud.RULE_KEY] = linked
    st.session_state.setdefault(aud.RULE_KEY, EXAMPLE)
    helpers(url)
    text = st.text_area("Rule", key=aud.RULE_KEY, height=80, help=SYNTAX[0].upper() + SYNTAX[1:])
    try:
        node = aud.compile_text(url, text)
    except UserError as exc:
        st.error(f"This rule cannot be used: {ui.md(exc)}", icon=":material/error:")
        return
    try:
        data = aud.data_for(url, current_as_of(), node)
    except UserError:
        st.warning(
            "No orders before the **As of** date, so no predicted field can be "
            "computed: pick a later day in the sidebar, or take them out of the rule."
        )
        return
    if data.customers.empty:
        st.info("No customer has data before the **As of** date: pick a later day.")
        return
    effective = what_ifs(url, node, data)
    if effective != node:
        st.info(f"Rule in effect: `{render(effective)}`", icon=":material/tune:")
    results(url, effective, data, st.session_state.get(aud.NAME_KEY))
    save_box(url, effective, list(rules))


audiences()
