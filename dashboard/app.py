"""The dashboard's entrypoint: ``personalize dashboard`` (or ``streamlit run dashboard/app.py``).

A router plus a frame, like Streamlit's own ``hello`` app: it sets the page
config once, draws the shared sidebar (which store, "As of" date) and routes
with ``st.navigation`` over explicit ``st.Page`` entries. Each page is one
snake_case file in the top-level ``pages/`` package, given by absolute path, so
the legacy auto-discovered ``pages/`` folder (beside this file) never applies.
Adding a page is one line in :func:`pages`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import data, snapshot
from dashboard.sidebar import current_as_of, draw_sidebar, share_panel
from engine.errors import UserError

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
FAVICON = Path(__file__).resolve().parent / "favicon.png"


def pages() -> list[st.Page]:
    """The dashboard's pages, in menu order; the first is the default."""
    return [
        st.Page(
            PAGES_DIR / "start_here.py", title="Start here", icon=":material/tour:", default=True
        ),
        st.Page(PAGES_DIR / "overview.py", title="Store overview", icon=":material/storefront:"),
        st.Page(
            PAGES_DIR / "customer_profile.py", title="Customer profile", icon=":material/id_card:"
        ),
        st.Page(PAGES_DIR / "segments.py", title="Segments", icon=":material/group_work:"),
        st.Page(PAGES_DIR / "audiences.py", title="Audiences", icon=":material/groups:"),
        st.Page(PAGES_DIR / "predictions.py", title="Predictions", icon=":material/query_stats:"),
        st.Page(PAGES_DIR / "recommendations.py", title="Recommendations", icon=":material/star:"),
        st.Page(PAGES_DIR / "evaluation.py", title="Evaluation", icon=":material/fact_check:"),
        st.Page(PAGES_DIR / "live.py", title="Live", icon=":material/sensors:"),
    ]


def store_name() -> str:
    """The store's name for the browser tab ("personalize" while it cannot be read)."""
    try:
        return data.load_identity(data.database_url()).name
    except UserError:
        return "personalize"


def run() -> None:
    # A file, not a ":material/...:" icon: Streamlit fetches those favicons from Google's
    # font servers, and the dashboard sends no viewer's browser to another host.
    st.set_page_config(page_title="personalize", page_icon=str(FAVICON), layout="wide")
    page = st.navigation(pages())
    st.set_page_config(page_title=store_name())  # the browser tab: the store's name
    try:
        draw_sidebar(page)
    except UserError as exc:
        st.error(f"Cannot open the store: {exc}", icon=":material/error:")
        st.stop()
    page.run()
    # A store with data: its view can be shared, unless this run draws it for a snapshot.
    if current_as_of() is not None and not snapshot.taking():
        with st.sidebar:
            share_panel(page)
            snapshot.panel(page)


if __name__ == "__main__":
    run()
