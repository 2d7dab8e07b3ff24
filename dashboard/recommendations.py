"""Cached access to the recommenders for the "Recommendations" page (the "Evaluation"
page has :mod:`dashboard.evaluation`).

The fitted :class:`engine.recommend.BlendRecommender` is a resource (``st.cache_resource``,
one per ``(url, as_of)``, a few kept). Asking it for a list takes milliseconds and the
blend weights are per call, so lists and comparisons are computed on every rerun and
the weight sliders never refit. A store too thin to fit raises :class:`NotEnoughData`
with a message saying what is needed, so the pages show advice, never a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import state
from dashboard.data import get_engine, versioned
from dashboard.ui import CHART_HEIGHT, cached_figure
from engine.db import session_scope
from engine.errors import UserError
from engine.recommend import (
    DEVICES,
    TIMES_OF_DAY,
    WEATHERS,
    BlendRecommender,
    Context,
    StoreData,
    compare_contexts,
    parse_context,
)

BLEND_CACHE_ENTRIES = 4
"""Fitted blends kept per server: a few "As of" dates back and forth, not every one."""

PICKER_LIMIT = 1_000
"""Customers listed in the picker (most active first); any other id can be typed in."""

ANONYMOUS = "anonymous"
ANY = "any"
"""The context pickers' "not set" choice."""

LABELS: dict[str, str] = {
    "contextual": "Contextual",
    "collaborative": "Collaborative",
    "content": "Content-based",
    "trending": "Trending",
    "rebuy": "Buy it again",
    "quality": "Best rated",
    "popularity": "Popularity (baseline)",
    "blend": "Blend",
}
COLORS: dict[str, str] = {
    "contextual": "#4C78A8",
    "collaborative": "#F58518",
    "content": "#54A24B",
    "trending": "#E45756",
    "rebuy": "#72B7B2",
    "quality": "#B279A2",
    "popularity": "#9D9D9D",
    "blend": "#1F3B73",
}
UP, DOWN, SAME = "#2E8B57", "#C0392B", "#7F7F7F"
LIST_COLUMNS = ["rank", "product_id", "name", "category", "brand", "price", "score", "reason"]


class NotEnoughData(Exception):
    """The store has too little before ``as_of`` to fit the recommenders."""


@versioned(
    st.cache_resource,
    max_entries=BLEND_CACHE_ENTRIES,
    show_spinner="Fitting the recommenders...",
)
def fit_blend(url: str, as_of: datetime | None) -> BlendRecommender:
    """The blend of every recommender fitted on the store before ``as_of`` (None: all of it).

    Raises:
        NotEnoughData: no products, or no orders and events, or a fit the store cannot
            support. Not cached, so loading more data and reloading recovers.
    """
    with session_scope(get_engine(url)) as session:
        data = StoreData.load(session, as_of=as_of)
    when = "the newest data" if as_of is None else f"{as_of:%Y-%m-%d %H:%M} UTC"
    # As of T a product exists only from its first data, so "no orders or events"
    # is checked first: it is the truer message for a catalogue nobody has touched.
    if data.order_lines.empty and data.events.empty:
        raise NotEnoughData(_needed(f"There are no orders or events before {when}."))
    if data.n_items == 0:
        raise NotEnoughData(_needed("The store has no products."))
    try:
        return BlendRecommender().fit(data)
    except (UserError, ValueError) as exc:  # e.g. a catalogue nobody has touched yet
        raise NotEnoughData(_needed(f"The recommenders could not be fitted: {exc}.")) from exc


def _needed(problem: str) -> str:
    return (
        f"{problem} Recommendations learn from what customers viewed and bought: pick a "
        "later **As of** date in the sidebar, or load the store's orders, products and "
        "events first."
    )


def customer_choices(blend: BlendRecommender, limit: int | None = PICKER_LIMIT) -> list[str]:
    """``"anonymous"`` then the ``limit`` most active customers (orders + events), ties by id."""
    data = blend.data_
    active = np.flatnonzero(data.activity > 0)
    order = np.lexsort((data.customer_ids[active].astype(str), -data.activity[active]))
    return [ANONYMOUS, *data.customer_ids[active[order[:limit]]].astype(str).tolist()]


def context_options(blend: BlendRecommender) -> dict[str, list[str]]:
    """Per context field, the picker's choices: ``"any"`` then the valid values."""
    return {
        "weather": [ANY, *WEATHERS],
        "time_of_day": [ANY, *TIMES_OF_DAY],
        "location": [ANY, *blend.data_.known_locations],
        "device": [ANY, *DEVICES],
    }


def context_picker(
    container: Any,
    blend: BlendRecommender,
    prefix: str,
    defaults: Mapping[str, str],
    *,
    shared_as: str | None = None,
) -> Context:
    """Four selectboxes (weather, time of day, location, device) in ``container``'s
    columns, under session keys ``f"{prefix}_{field}"``; returns the validated context.

    With ``shared_as`` (a parameter suffix, ``""`` or ``"_a"``), each choice is kept in the
    address (``?weather=rainy``) and a value found there is chosen (:mod:`dashboard.state`).
    """
    options = context_options(blend)
    chosen = {}
    for column, (field, values) in zip(container.columns(4), options.items(), strict=True):
        key = f"{prefix}_{field}"
        default = defaults.get(field, ANY)
        index = values.index(default) if default in values else 0
        extra: dict[str, Any] = {}
        if shared_as is not None:
            param = state.CONTEXT_PARAMS[field] + shared_as
            given = state.shared(param)
            if given in values:
                st.session_state[key], index = given, 0  # index 0: the state's value rules
            extra = {"on_change": _share_context, "args": (key, param)}
        chosen[field] = column.selectbox(
            field.replace("_", " ").capitalize(), values, index=index, key=key, **extra
        )
    return make_context(blend, **chosen)


def _share_context(key: str, param: str) -> None:
    # A callback: the address follows the choice before the page runs again.
    value = st.session_state[key]
    state.share(param, None if value == ANY else value)


def make_context(blend: BlendRecommender, **fields: str | None) -> Context:
    """:func:`engine.recommend.parse_context` with ``"any"`` meaning unset."""
    values = {k: (None if v in (None, ANY) else v) for k, v in fields.items()}
    return parse_context(**values, known_locations=blend.data_.known_locations)


def context_label(context: Context) -> str:
    """``"rainy evening"``-style words for a context (``"no context"`` when unset)."""
    words = (context.weather, context.time_of_day, context.location, context.device)
    return " ".join(v for v in words if v) or "no context"


def customer_of(choice: str | None) -> str | None:
    """The customer id of a picker choice (None: anonymous)."""
    return None if not choice or choice == ANONYMOUS else str(choice)


def recommendation_frame(
    blend: BlendRecommender,
    customer_id: str | None,
    context: Context,
    *,
    k: int = 20,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The blend's list with the products' attributes.

    Returns:
        ``rank, product_id, name, category, brand, price, score, reason`` then one
        column of points per recommender that contributed (they add up to ``score``).

    Raises:
        UserError: unknown customer, bad k or weights.
    """
    items = blend.recommend(customer_id, context, k=k, weights=weights)
    names = list(dict.fromkeys(n for s in items for n in s.contributions))
    points = pd.DataFrame([s.contributions for s in items], columns=names).fillna(0.0)
    ids = [s.product_id for s in items]
    attrs = blend.data_.products.set_index("product_id").reindex(ids)
    frame = pd.DataFrame({
        "rank": np.arange(1, len(items) + 1),
        "product_id": ids,
        "name": pd.Series(blend.data_.product_names, index=blend.data_.product_ids)
        .reindex(ids).to_numpy(),
        "category": attrs["category"].to_numpy(),
        "brand": attrs["brand"].to_numpy(),
        "price": pd.to_numeric(attrs["price"], errors="coerce").to_numpy(),
        "score": [s.score for s in items],
        "reason": [s.reason for s in items],
    })  # fmt: skip
    return pd.concat([frame, points], axis=1)


@versioned(show_spinner=False)
def top_pick(
    url: str, as_of: datetime | None, customer_id: str, **context: str
) -> tuple[str, str] | None:
    """The first product the blend would show ``customer_id`` in ``context`` (fields as
    :func:`make_context`), as ``(name, reason)``; ``None`` when nothing is in stock."""
    blend = fit_blend(url, as_of)
    frame = recommendation_frame(blend, customer_id, make_context(blend, **context), k=1)
    return None if frame.empty else (str(frame.iloc[0]["name"]), str(frame.iloc[0]["reason"]))


def contributors(frame: pd.DataFrame) -> list[str]:
    """The recommenders with points in a :func:`recommendation_frame`, in blend order."""
    return [c for c in frame.columns if c not in LIST_COLUMNS and (frame[c] > 0).any()]


def _short(text: str, width: int = 32) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@cached_figure
def contribution_chart(frame: pd.DataFrame) -> go.Figure | None:
    """Stacked horizontal bars: each recommender's points per listed product, rank 1 on top."""
    names = contributors(frame)
    if frame.empty or not names:
        return None
    labels = [f"{r}. {_short(str(n))}" for r, n in zip(frame["rank"], frame["name"], strict=True)]
    figure = go.Figure()
    for name in names:
        figure.add_trace(go.Bar(
            y=labels, x=frame[name], name=LABELS.get(name, name), orientation="h",
            marker_color=COLORS.get(name), hovertemplate="%{y}<br>" + LABELS.get(name, name)
            + ": %{x:.1f} points<extra></extra>",
        ))  # fmt: skip
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title_text="score (points from each recommender)", range=[0, 100])
    figure.update_layout(
        barmode="stack",
        title={"text": "Why each product: points per recommender", "x": 0, "xanchor": "left"},
        height=max(CHART_HEIGHT, 130 + 24 * len(frame)),
        # The legend sits between the title and the bars, where every row can see it.
        margin={"l": 10, "r": 10, "t": 80, "b": 10},
        legend={
            "orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0,
            "traceorder": "normal",  # as stacked, left to right
        },
        hovermode="closest",
    )  # fmt: skip
    return figure


def comparison_frame(
    blend: BlendRecommender,
    customer_id: str | None,
    first: Context,
    second: Context,
    *,
    k: int = 20,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """:func:`engine.recommend.compare_contexts` plus ``change``: ``"▲ n"`` (up n places in
    the second context), ``"▼ n"``, ``"="``, ``"new"`` (only in the second list) or
    ``"leaves"`` (only in the first)."""
    out = compare_contexts(blend, customer_id, first, second, k=k, weights=weights)
    move = out["movement"]
    change = np.select(
        [out["rank_first"].isna(), out["rank_second"].isna(), move > 0, move < 0],
        ["new", "leaves", "▲ " + move.abs().fillna(0).astype(int).astype(str),
         "▼ " + move.abs().fillna(0).astype(int).astype(str)],
        "=",
    )  # fmt: skip
    return out.assign(change=change)


def side_lists(comparison: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first and the second list of a :func:`comparison_frame`, each
    ``rank, name, reason, score, change`` in its own order (``change`` is the same per product)."""
    lists = []
    for side in ("first", "second"):
        part = comparison.dropna(subset=[f"rank_{side}"]).sort_values(f"rank_{side}")
        lists.append(pd.DataFrame({
            "rank": part[f"rank_{side}"].astype(int).to_numpy(),
            "name": part["name"].to_numpy(),
            "reason": part[f"reason_{side}"].to_numpy(),
            "score": part[f"score_{side}"].to_numpy(),
            "change": part["change"].to_numpy(),
        }))  # fmt: skip
    return lists[0], lists[1]


def change_color(change: str) -> str:
    """CSS for a ``change`` cell: green up or new, red down or leaving, grey unchanged."""
    if change.startswith("▲") or change == "new":
        return f"color: {UP}; font-weight: 600"
    if change.startswith("▼") or change == "leaves":
        return f"color: {DOWN}; font-weight: 600"
    return f"color: {SAME}"


def styled(frame: pd.DataFrame) -> Any:
    """``frame`` with its ``change`` column coloured (a pandas Styler for ``st.dataframe``)."""
    return frame.style.map(change_color, subset=["change"]).format({"score": "{:.1f}"})


@cached_figure
def movement_chart(comparison: pd.DataFrame, first: str, second: str) -> go.Figure | None:
    """Rank in the first context (left) against the second (right), one line per product;
    products missing from a list sit on a "not listed" row below the last rank."""
    if comparison.empty:
        return None
    k = int(np.nanmax(comparison[["rank_first", "rank_second"]].to_numpy()))
    out_rank = k + 1.5
    figure = go.Figure()
    for row in comparison.itertuples(index=False):  # at most 2k short lines
        a = out_rank if pd.isna(row.rank_first) else row.rank_first
        b = out_rank if pd.isna(row.rank_second) else row.rank_second
        color = UP if b < a else DOWN if b > a else SAME
        figure.add_trace(go.Scatter(
            x=[0, 1], y=[a, b], mode="lines+markers", line={"color": color, "width": 2},
            marker={"size": 7}, showlegend=False, name=_short(str(row.name), 24),
            hovertemplate=f"{row.name}<br>{row.change}<extra></extra>",
        ))  # fmt: skip
    # Names outside the lines: the first list's on the left, the second's on the right.
    for side, x, anchor, pad in (
        ("first", 0, "left", lambda t: t + "  "),
        ("second", 1, "right", lambda t: "  " + t),
    ):
        listed = comparison.dropna(subset=[f"rank_{side}"])
        figure.add_trace(go.Scatter(
            x=[x] * len(listed), y=listed[f"rank_{side}"], mode="text",
            text=[pad(_short(str(n), 26)) for n in listed["name"]],
            textposition=f"middle {anchor}",
            textfont={"size": 11}, showlegend=False, hoverinfo="skip",
        ))  # fmt: skip
    figure.update_xaxes(
        tickvals=[0, 1], ticktext=[first, second], range=[-0.75, 1.75], side="top", showgrid=False
    )
    ticks = list(range(1, k + 1)) + [out_rank]
    figure.update_yaxes(
        autorange="reversed", tickvals=ticks, ticktext=[str(t) for t in range(1, k + 1)]
        + ["not listed"], showgrid=False, zeroline=False,
    )  # fmt: skip
    figure.update_layout(
        title={"text": "What moved: rank in each context", "x": 0, "xanchor": "left"},
        height=max(CHART_HEIGHT, 120 + 24 * (k + 2)),
        margin={"l": 10, "r": 10, "t": 70, "b": 10},
        hovermode="closest",
    )
    return figure
