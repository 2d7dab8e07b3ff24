"""Segments page controls: the minimum evidence each score needs, edited and saved."""

from __future__ import annotations

import streamlit as st

from dashboard import profiles as prof

# st.session_state keys (comments, not docstrings: Streamlit's "magic" would print them).
MIN_KEY = "segments_min_evidence_{}"


def save_minimums(url: str, saved_key: str) -> None:
    # A callback, like save(): the page then scores with the minimums just saved.
    prof.save_minimums(url, {s: int(st.session_state[MIN_KEY.format(s)]) for s in prof.SCORES})
    st.session_state[saved_key] = (
        "Minimum evidence saved: every score below it now says "
        '"not enough data", is not ranked and puts nobody in a segment.'
    )


def minimums(url: str, saved_key: str) -> None:
    """The expander of each score's minimum evidence, saved with one button; the saved
    message goes to ``st.session_state[saved_key]``."""
    saved = prof.stored_min_evidence(url)
    with st.expander("Minimum evidence per score"):
        st.caption(
            'Below its minimum a score is "not enough data": not shown as a number, '
            "not ranked and no reason to join a segment (docs/scoring.md says why)."
        )
        for column, score in zip(st.columns(3) * 3, prof.SCORES, strict=True):
            column.number_input(
                prof.evidence_label(score),
                min_value=1,
                step=1,
                value=saved[score],
                key=MIN_KEY.format(score),
            )
        changed = any(st.session_state[MIN_KEY.format(s)] != saved[s] for s in prof.SCORES)
        st.button(
            "Save minimums",
            icon=":material/save:",
            disabled=not changed,
            on_click=save_minimums,
            args=(url, saved_key),
        )
