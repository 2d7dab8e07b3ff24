"""Where each page lives, and tables whose members open a page in one click.

A table of customers gets three columns, "Profile", "Recommendations" and "Prediction";
clicking one of their cells opens that page for that customer (same "As of", same tab).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import state

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
TOUR = PAGES_DIR / "start_here.py"
OVERVIEW = PAGES_DIR / "overview.py"
PROFILE = PAGES_DIR / "customer_profile.py"
SEGMENTS = PAGES_DIR / "segments.py"
AUDIENCES = PAGES_DIR / "audiences.py"
PREDICTIONS = PAGES_DIR / "predictions.py"
RECOMMENDATIONS = PAGES_DIR / "recommendations.py"

OPEN = {
    "open_profile": ("Profile", PROFILE),
    "open_recommendations": ("Recommendations", RECOMMENDATIONS),
    "open_prediction": ("Prediction", PREDICTIONS),
}
"""The link columns added to a table of customers: column -> (label, page)."""
OPEN_TEXT = "open ›"


def with_links(frame: pd.DataFrame, *, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """``frame`` with the link columns (after the id and name) unless ``exclude``-d."""
    links = {c: OPEN_TEXT for c in OPEN if c not in exclude}
    front = [c for c in ("customer_id", "name") if c in frame.columns]
    rest = [c for c in frame.columns if c not in front]
    return frame[front].assign(**links).join(frame[rest])


def link_columns() -> dict[str, Any]:
    return {
        column: st.column_config.TextColumn(
            label, width="small", help=f"Click to open their {label.lower()}"
        )
        for column, (label, _page) in OPEN.items()
    }


def customer_table(
    frame: pd.DataFrame,
    *,
    key: str,
    column_config: dict[str, Any] | None = None,
    exclude: tuple[str, ...] = (),
    **kwargs: Any,
) -> None:
    """Show ``frame`` (with a ``customer_id`` column) with the link columns; a click on a
    link cell opens that page for that row's customer."""
    shown = with_links(frame, exclude=exclude).reset_index(drop=True)
    event = st.dataframe(
        shown, hide_index=True, key=key, on_select="rerun", selection_mode="single-cell",
        column_config={**(column_config or {}), **link_columns()}, **kwargs,
    )  # fmt: skip
    cells = event.selection.get("cells", []) if event is not None else []
    for row, column in cells:
        if column in OPEN and 0 <= int(row) < len(shown):
            open_customer(str(shown.at[int(row), "customer_id"]), OPEN[column][1])


def open_customer(customer_id: str, page: Path) -> None:
    """Switch to ``page`` following ``customer_id`` (with the shared "As of")."""
    state.share_customer(customer_id)
    st.switch_page(page, query_params=state.link_params(customer=customer_id))
