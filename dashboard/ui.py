"""Shared UI pieces: number formats, empty states and plotly chart builders.

Chart builders take the engine's frames (columns as documented in
:mod:`engine.overview`) and return a figure, or ``None`` when there is nothing
to draw, so pages stay a list of "build, then show".
"""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboard import data
from engine.vocabulary import EVENT_TYPES

CHART_HEIGHT = 340
ORDERS_COLOR = "#4C78A8"
REVENUE_COLOR = "#F58518"
EVENTS_COLOR = "#54A24B"

SEED_COMMANDS = """\
personalize seed                      # a synthetic market with planted personas
personalize import --orders orders.csv --products products.csv --events events.csv
"""


# Characters Markdown (and Streamlit's directives: :color[...], :material/icon:, $math$)
# gives a meaning to inside a line; a backslash before each makes it literal. (Line-start
# markers such as "#", "-" or "1." cannot occur: md() output is always mid-sentence.)
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()!|<>~:$&])")
# GitHub-flavoured Markdown turns a bare "http://...", "www.x" or "a@b.c" into a link in
# the parsed text, escapes or not; an invisible word joiner inside each keeps it text.
_AUTOLINKS = re.compile(r"(?i)(?<=http)(?=s?:)|(?<=ftp)(?=:)|(?<=www)(?=\.)|(?<=@)")
_WORD_JOINER = "\u2060"


def md(text: object) -> str:
    """``text`` from the store (a brand, a category, a customer id) made literal in Markdown.

    Every store-supplied string shown through ``st.markdown``, ``st.caption``,
    ``st.info`` and the like goes through here: a brand named ``![x](http://host/x.png)``
    must read as that text, not make every viewer's browser fetch the address.
    """
    unlinked = _AUTOLINKS.sub(_WORD_JOINER, str(text))
    return _MARKDOWN_SPECIALS.sub(r"\\\1", unlinked).replace("\n", " ")


def fmt_count(value: int) -> str:
    """``12345`` -> ``"12,345"``."""
    return f"{value:,}"


def fmt_money(value: float | None) -> str:
    """Money short enough for a metric tile.

    ``1234.5`` -> ``"1,234.50"``; ``434495.1`` -> ``"434.5k"``; ``3623456`` -> ``"3.62M"``;
    ``None`` (nothing to average) -> ``"-"``. :func:`fmt_money_exact` gives every digit.
    """
    if value is None:
        return "-"
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:,.2f}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:,.1f}k"
    return f"{value:,.2f}"


def fmt_money_exact(value: float | None) -> str:
    """``3623456.1`` -> ``"3,623,456.10"``; ``None`` -> ``"-"``."""
    return "-" if value is None else f"{value:,.2f}"


def show_empty_store() -> None:
    """What to do when the store has no data yet: seed it or import a real store's files."""
    st.info(
        "The store is empty. Fill it from a terminal, then reload this page:\n\n"
        "* `personalize seed` generates a synthetic market with planted personas;\n"
        "* `personalize import --orders orders.csv` loads a real store's exports "
        "(also `--products`, `--events`, `--reviews`, `--customers`).",
        icon=":material/database:",
    )
    st.code(SEED_COMMANDS, language="bash")


def page_store(title: str) -> str | None:
    """Draw a page's title and return the store's URL; on an empty store, show how to seed
    or import instead and return ``None`` (the page then stops)."""
    st.title(title)
    url = data.database_url()
    if data.load_summary(url).is_empty:
        show_empty_store()
        return None
    return url


def show_chart(figure: go.Figure | None, *, empty: str) -> None:
    """Draw ``figure`` full width, or the caption ``empty`` when there is nothing to draw."""
    if figure is None:
        st.caption(empty)
    else:
        st.plotly_chart(figure, width="stretch", config={"displaylogo": False})


def chart_layout(
    figure: go.Figure,
    title: str,
    *,
    legend: bool = True,
    legend_y: float = -0.12,
    hovermode: str = "x unified",
) -> go.Figure:
    """The dashboard's one chart frame: left-aligned title, fixed height, tight margins."""
    figure.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=CHART_HEIGHT,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        showlegend=legend,
        # Below the plot: a legend on top collides with the title once it wraps.
        legend={"orientation": "h", "yanchor": "top", "y": legend_y, "xanchor": "left", "x": 0},
        hovermode=hovermode,
    )
    return figure


def activity_chart(activity: pd.DataFrame, period: str) -> go.Figure | None:
    """Orders (bars, left axis) and revenue (line, right axis) per period.

    ``activity``: ``period, orders, revenue`` (``events`` is ignored).
    """
    if activity.empty or activity["orders"].sum() == 0:
        return None
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(
        go.Bar(
            x=activity["period"],
            y=activity["orders"],
            name="orders",
            marker_color=ORDERS_COLOR,
            opacity=0.75,
        ),
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(
            x=activity["period"],
            y=activity["revenue"],
            name="revenue",
            mode="lines",
            line={"color": REVENUE_COLOR, "width": 2},
        ),
        secondary_y=True,
    )
    figure.update_yaxes(title_text="orders", secondary_y=False, rangemode="tozero")
    figure.update_yaxes(title_text="revenue", secondary_y=True, rangemode="tozero", showgrid=False)
    return chart_layout(figure, f"Orders and revenue per {period}")


def events_chart(events_by_type: pd.DataFrame, period: str) -> go.Figure | None:
    """Stacked areas of events per period, one per event type.

    ``events_by_type``: ``period, event_type, events``.
    """
    if events_by_type.empty:
        return None
    wide = events_by_type.pivot_table(
        index="period", columns="event_type", values="events", aggfunc="sum", fill_value=0
    )
    # The funnel's order (views at the bottom), so colours mean the same on every store.
    known = [t for t in EVENT_TYPES if t in wide.columns]
    wide = wide[known + sorted(set(wide.columns) - set(known))]
    figure = go.Figure()
    for event_type in wide.columns:
        figure.add_trace(
            go.Scatter(
                x=wide.index,
                y=wide[event_type],
                name=str(event_type),
                mode="lines",
                stackgroup="events",
                line={"width": 0.5},
            )
        )
    figure.update_yaxes(title_text="events")
    return chart_layout(figure, f"Events per {period}, by type")


def mix_chart(mix: pd.DataFrame, key: str, title: str) -> go.Figure | None:
    """Share of orders and of events per value of ``key`` (grouped horizontal bars, percent).

    ``mix``: ``<key>, orders, events`` (as from :func:`engine.overview.channel_mix`).
    Shares, not counts, because a store has many times more events than orders.
    """
    if mix.empty:
        return None
    figure = go.Figure()
    for measure, color in (("orders", ORDERS_COLOR), ("events", EVENTS_COLOR)):
        total = mix[measure].sum()
        share = mix[measure] / total * 100 if total else mix[measure] * 0.0
        figure.add_trace(
            go.Bar(
                y=mix[key],
                x=share,
                name=f"% of {measure}",
                orientation="h",
                marker_color=color,
                hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
            )
        )
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(ticksuffix="%")
    figure.update_layout(barmode="group")
    chart_layout(figure, title)
    figure.update_layout(hovermode="closest")
    return figure


def ranking_chart(top: pd.DataFrame, key: str, title: str) -> go.Figure | None:
    """Horizontal bars of revenue, biggest first. ``top``: ``<key>, revenue, orders``."""
    if top.empty:
        return None
    figure = go.Figure(
        go.Bar(
            y=top[key],
            x=top["revenue"],
            orientation="h",
            marker_color=REVENUE_COLOR,
            customdata=top[["orders"]].to_numpy(),
            hovertemplate="%{y}<br>revenue %{x:,.2f}<br>%{customdata[0]:,} orders<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title_text="revenue")
    chart_layout(figure, title, legend=False)
    figure.update_layout(hovermode="closest")
    return figure


def weather_chart(weather: pd.DataFrame) -> go.Figure | None:
    """Orders by the weather recorded on them. ``weather``: ``weather, orders, revenue``."""
    if weather.empty:
        return None
    figure = go.Figure(
        go.Bar(
            x=weather["weather"],
            y=weather["orders"],
            marker_color=ORDERS_COLOR,
            customdata=weather[["revenue"]].to_numpy(),
            hovertemplate="%{x}: %{y:,} orders<br>revenue %{customdata[0]:,.2f}<extra></extra>",
        )
    )
    figure.update_yaxes(title_text="orders")
    chart_layout(figure, "Orders by weather", legend=False)
    figure.update_layout(hovermode="closest")
    return figure
