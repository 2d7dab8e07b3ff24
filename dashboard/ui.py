"""Shared UI pieces: number formats, empty states and plotly chart builders.

Chart builders take the engine's frames (columns as documented in
:mod:`engine.overview`) and return a figure, or ``None`` when there is nothing
to draw, so pages stay a list of "build, then show".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, cast

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboard import data
from engine.currency import affixes, format_money, minor_units
from engine.errors import UserError
from engine.store_settings import zone
from engine.vocabulary import EVENT_TYPES

CHART_HEIGHT = 340
ORDERS_COLOR = "#4C78A8"
REVENUE_COLOR = "#F58518"
EVENTS_COLOR = "#54A24B"


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


def currency() -> str:
    """The store's ISO 4217 currency (``USD`` while the store cannot be read)."""
    try:
        return data.load_identity(data.database_url()).currency
    except UserError:
        return "USD"


def fmt_money(value: float | None) -> str:
    """Money short enough for a metric tile, in the store's currency.

    ``1234.5`` -> ``"$1,234.50"``; ``434495.1`` -> ``"$434.5k"``; ``3623456`` -> ``"$3.62M"``;
    ``None`` (nothing to average) -> ``"-"``. :func:`fmt_money_exact` gives every digit.
    """
    return format_money(value, currency(), short=True)


def fmt_money_exact(value: float | None) -> str:
    """``3623456.1`` -> ``"$3,623,456.10"``; ``None`` -> ``"-"``."""
    return format_money(value, currency())


def money_format() -> str:
    """A ``st.column_config.NumberColumn`` format for money: ``"$%.2f"``, ``"%.2f CHF"``."""
    prefix, suffix = affixes(currency())
    return f"{prefix}%.{minor_units(currency())}f{suffix}".replace("%%", "%")


def money_column(label: str, **kwargs: Any) -> Any:
    """A table column of money in the store's currency."""
    return st.column_config.NumberColumn(label, format=money_format(), **kwargs)


def money_hover(expression: str) -> str:
    """A plotly hover template piece for money: ``money_hover("x")`` -> ``"$%{x:,.2f}"``."""
    prefix, suffix = affixes(currency())
    return f"{prefix}%{{{expression}:,.{minor_units(currency())}f}}{suffix}"


def money_axis(figure: go.Figure, axis: str = "y", **selector: object) -> None:
    """Tick labels of ``axis`` in the store's currency (``$`` before, or ``CHF`` after)."""
    prefix, suffix = affixes(currency())
    update = figure.update_yaxes if axis == "y" else figure.update_xaxes
    update(tickprefix=prefix, ticksuffix=suffix, **selector)


def clock_offset(when: datetime | None) -> tuple[int, str]:
    """Whole hours from stored time (UTC) to the store's time zone at ``when``, and the
    zone's name: ``(-5, "America/New_York")`` in winter. Half-hour zones round down."""
    identity = data.load_identity(data.database_url())
    moment = (when or datetime.now(UTC).replace(tzinfo=None)).replace(tzinfo=UTC)
    delta = moment.astimezone(zone(identity)).utcoffset() or timedelta()
    return int(delta.total_seconds() // 3600), identity.timezone


def show_empty_store() -> None:
    """What to do when the store has no data yet: seed it or import a real store's files."""
    st.info(
        "The store is empty: there is nothing to show yet. Load it first, then reload "
        "this page: either the demo market (**The Final Market**, made-up shoppers whose "
        "habits are known) or your own store's exports of orders, products, events, "
        "reviews and customers as CSV files. The README (*Set up on a fresh machine*) says how.",
        icon=":material/database:",
    )


def store_header(url: str) -> None:
    """The store's name above a page's title."""
    st.caption(f":material/storefront: **{md(data.load_identity(url).name)}**")


def page_store(title: str) -> str | None:
    """Draw a page's title and return the store's URL; on an empty store, show how to seed
    or import instead and return ``None`` (the page then stops)."""
    url = data.database_url()
    store_header(url)
    st.title(title)
    if data.load_summary(url).is_empty:
        show_empty_store()
        return None
    return url


FIGURES_KEPT = 256
"""Figures kept per chart builder (a few per page, customer and "As of")."""

P = ParamSpec("P")


def cached_figure(
    builder: Callable[P, go.Figure | None],
) -> Callable[P, go.Figure | None]:
    """``builder`` with its figures kept for the whole server (``st.cache_resource``), per
    its arguments and the store's currency: building a plotly figure costs far more than
    drawing the same one again. The figure is shared, so callers draw it and never change it.
    """

    def keyed(currency_code: str, *args: Any, **kwargs: Any) -> go.Figure | None:
        return builder(*args, **kwargs)

    # Streamlit keys a cache by module, qualified name and source: keep builders apart.
    keyed.__module__ = builder.__module__
    keyed.__qualname__ = f"{builder.__qualname__}@figure"
    cached = st.cache_resource(max_entries=FIGURES_KEPT, show_spinner=False)(keyed)

    @functools.wraps(builder)
    def call(*args: P.args, **kwargs: P.kwargs) -> go.Figure | None:
        return cast("go.Figure | None", cached(currency(), *args, **kwargs))

    call.clear = cached.clear  # type: ignore[attr-defined]
    return call


def show_chart(figure: go.Figure | None, *, empty: str) -> None:
    """Draw ``figure`` full width, or the caption ``empty`` when there is nothing to draw."""
    if figure is None:
        st.caption(empty)
    else:
        st.plotly_chart(figure, width="stretch", config={"displaylogo": False})


def open_tab(labels: list[str], *, key: str) -> tuple[str, Any]:
    """Tabs whose hidden ones draw nothing: returns the open tab's label and container.

    A click on another tab reruns the app (or the fragment the tabs are in), which then
    draws that tab only; ``st.session_state[key]`` holds the open tab's label.
    """
    tabs = st.tabs(labels, key=key, on_change="rerun")
    for label, tab in zip(labels, tabs, strict=True):
        if tab.open:
            return label, tab
    return labels[0], tabs[0]


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


@cached_figure
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
            hovertemplate=money_hover("y"),
            line={"color": REVENUE_COLOR, "width": 2},
        ),
        secondary_y=True,
    )
    figure.update_yaxes(title_text="orders", secondary_y=False, rangemode="tozero")
    figure.update_yaxes(title_text="revenue", secondary_y=True, rangemode="tozero", showgrid=False)
    money_axis(figure, secondary_y=True)
    return chart_layout(figure, f"Orders and revenue per {period}")


@cached_figure
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


@cached_figure
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


@cached_figure
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
            hovertemplate="%{y}<br>revenue "
            + money_hover("x")
            + "<br>%{customdata[0]:,} orders<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title_text="revenue")
    money_axis(figure, "x")
    chart_layout(figure, title, legend=False)
    figure.update_layout(hovermode="closest")
    return figure


@cached_figure
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
            hovertemplate="%{x}: %{y:,} orders<br>revenue "
            + money_hover("customdata[0]")
            + "<extra></extra>",
        )
    )
    figure.update_yaxes(title_text="orders")
    chart_layout(figure, "Orders by weather", legend=False)
    figure.update_layout(hovermode="closest")
    return figure


SEGMENT_NAMES = {
    "high_value": "High-value customers", "frequent_buyer": "Frequent buyers",
    "deal_seeker": "Deal seekers", "brand_loyal": "Brand loyalists",
    "impulse_buyer": "Impulse buyers", "researcher": "Researchers",
    "weekend_shopper": "Weekend shoppers", "night_owl": "Night owls",
    "mobile_first": "Mobile-first shoppers", "category_enthusiast": "Category enthusiasts",
}  # fmt: skip


def segment_name(segment: object) -> str:
    """A segment in words: ``night_owl`` -> ``"Night owls"``, ``electronics_enthusiast`` ->
    ``"Electronics enthusiasts"``; any other name has its underscores made spaces."""
    text = str(segment)
    if text in SEGMENT_NAMES:
        return SEGMENT_NAMES[text]
    if text.endswith("_enthusiast"):
        return f"{text.removesuffix('_enthusiast').replace('_', ' ').capitalize()} enthusiasts"
    return text.replace("_", " ").capitalize()


def warned(part: Callable[..., None]) -> Callable[..., None]:
    """``part`` as a fragment (its own widgets rerun only it) that shows a UserError as a
    warning: an error inside a fragment never reaches the page's own ``try``."""

    @st.fragment
    @functools.wraps(part)
    def run(*args: Any) -> None:
        try:
            part(*args)
        except UserError as exc:
            st.warning(str(exc), icon=":material/warning:")

    return run
