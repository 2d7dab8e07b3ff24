"""The Audiences page's rule helpers (segments and score ranges added to the rule)
and its save box."""

from __future__ import annotations

import streamlit as st

from dashboard import audiences as aud
from engine.audiences import FIELDS, render
from engine.audiences.grammar import Node


def helpers(url: str) -> None:
    with st.expander("Build the rule with helpers", icon=":material/build:"):
        left, right = st.columns(2)
        left.selectbox("Segment", aud.segment_choices(url), key=aud.SEGMENT_KEY)
        left.radio("Join with", aud.COMBINERS, key="audiences_segment_combiner", horizontal=True)
        left.button("Add segment", on_click=aud.on_add, args=("audiences_segment_combiner",))
        field = right.selectbox(
            "Field",
            list(FIELDS),
            key="audiences_field",
            format_func=lambda f: f"{f}: {FIELDS[f].label}",
        )
        top = FIELDS[field].high or 1000.0  # money has no upper bound: a round start
        low, high = right.columns(2)
        low.number_input("From", 0.0, None, value=top / 2, key=aud.LOW_KEY)
        high.number_input("To", 0.0, None, value=top, key=aud.HIGH_KEY)
        right.radio("Join with", aud.COMBINERS, key="audiences_field_combiner", horizontal=True)
        right.button("Add range", on_click=aud.on_add, args=("audiences_field_combiner", field))


def save_box(url: str, node: Node, saved: list[str]) -> None:
    st.subheader("Save")
    name = st.text_input("Audience name", key=aud.NAME_KEY, placeholder="e.g. night owls")
    left, right = st.columns(2)
    left.button(
        "Save audience",
        type="primary",
        icon=":material/save:",
        on_click=aud.on_save,
        args=(url, render(node)),
    )
    if name.strip() in saved:
        right.button(
            "Delete audience",
            icon=":material/delete:",
            on_click=aud.on_delete,
            args=(url, name.strip()),
        )
