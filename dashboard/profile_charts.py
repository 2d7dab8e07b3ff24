"""Plotly figures for the "Customer profile" and "Segments" pages.

Each builder takes frames from :mod:`dashboard.profiles` and returns a figure, or
``None`` when there is nothing to draw. Box plots are drawn from precomputed
quantiles (whiskers at the 5th and 95th percentiles), so a store of any size sends
the browser a handful of numbers per box.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.profiles import SCORE_LABELS, WEEKDAYS
from dashboard.ui import (
    CHART_HEIGHT,
    EVENTS_COLOR,
    ORDERS_COLOR,
    REVENUE_COLOR,
    cached_figure,
    chart_layout,
    segment_name,
)

NOW_COLOR = "#9D9D9D"
PREVIEW_COLOR = ORDERS_COLOR


def _boxes(figure: go.Figure, quantiles: pd.DataFrame, labels: list[str], name: str) -> None:
    figure.add_trace(
        go.Box(
            y=labels, q1=quantiles["q25"], median=quantiles["q50"], q3=quantiles["q75"],
            lowerfence=quantiles["q05"], upperfence=quantiles["q95"], orientation="h",
            name=name, marker_color=NOW_COLOR, fillcolor="rgba(157,157,157,0.25)",
            hoverinfo="x",
        )
    )  # fmt: skip


@cached_figure
def scores_chart(quantiles: pd.DataFrame, scores: pd.DataFrame) -> go.Figure:
    """The customer's nine scores (diamonds) over the population's boxes.

    ``quantiles``: index score names, ``q05 .. q95`` (:func:`dashboard.profiles.score_quantiles`).
    ``scores``: ``score`` (label), ``value``, ``percentile``, ``evidence`` (``scores_table``).
    A score without enough data gets no diamond (there is nothing to place) but its state,
    "not enough data (n of min ...)", written on its row.
    """
    labels = [SCORE_LABELS[name] for name in quantiles.index]
    figure = go.Figure()
    _boxes(figure, quantiles, labels, "all customers (5th-95th percentile)")
    missing = scores.loc[scores["value"].isna()]
    for label, state in zip(missing["score"], missing["evidence"], strict=True):
        figure.add_annotation(
            x=50,
            y=label,
            text=state,
            showarrow=False,
            bgcolor="rgba(255,255,255,0.85)",
            font={"color": REVENUE_COLOR},
        )
    scores = scores.loc[scores["value"].notna()]
    figure.add_trace(
        go.Scatter(
            x=scores["value"], y=scores["score"], mode="markers+text", name="this customer",
            marker={"symbol": "diamond", "size": 13, "color": REVENUE_COLOR},
            text=scores["value"].round(0).astype(int).astype(str), textposition="top center",
            customdata=scores[["percentile"]].to_numpy(),
            hovertemplate="%{y}: %{x:.1f} (above %{customdata[0]:.0f}% of customers)"
            "<extra></extra>",
        )
    )  # fmt: skip
    figure.update_xaxes(range=[-2, 102], title_text="score (0-100)")
    figure.update_yaxes(autorange="reversed")
    chart_layout(figure, "Scores against all customers")
    figure.update_layout(height=CHART_HEIGHT + 120, hovermode="closest")
    return figure


@cached_figure
def channels_chart(channels: pd.DataFrame) -> go.Figure | None:
    """Events and orders per channel. ``channels``: ``channel, events, orders``."""
    if not channels[["events", "orders"]].to_numpy().any():
        return None
    figure = go.Figure()
    for measure, color in (("events", EVENTS_COLOR), ("orders", ORDERS_COLOR)):
        figure.add_trace(
            go.Bar(
                y=channels["channel"], x=channels[measure], name=measure, orientation="h",
                marker_color=color,
            )
        )  # fmt: skip
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(barmode="group")
    chart_layout(figure, "Activity per channel")
    figure.update_layout(hovermode="y unified")
    return figure


@cached_figure
def activity_heatmap(times: pd.DataFrame, offset: int = 0, zone: str = "UTC") -> go.Figure | None:
    """Actions per weekday and hour on the store's clock (stored hours shifted by ``offset``
    hours into ``zone``). ``times``: ``weekday`` (Mon..Sun), ``hour``, ``actions``."""
    if times.empty:
        return None
    times = shift_times(times, offset)
    grid = times.pivot_table(index="weekday", columns="hour", values="actions", fill_value=0)
    grid = grid.reindex(index=list(WEEKDAYS), columns=range(24), fill_value=0)
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(), x=[f"{h:02d}h" for h in range(24)], y=list(WEEKDAYS),
            colorscale="Blues", hovertemplate="%{y} %{x}: %{z} actions<extra></extra>",
        )
    )  # fmt: skip
    figure.update_yaxes(autorange="reversed")
    chart_layout(figure, f"When they are active (their local time, {zone})", legend=False)
    figure.update_layout(hovermode="closest")
    return figure


def shift_times(times: pd.DataFrame, offset: int) -> pd.DataFrame:
    """``times`` moved ``offset`` hours (weekdays roll over at midnight)."""
    if not offset:
        return times
    total = times["hour"].astype(int) + offset
    day = times["weekday"].map({d: i for i, d in enumerate(WEEKDAYS)}) + total // 24
    return times.assign(hour=total % 24, weekday=(day % 7).map(dict(enumerate(WEEKDAYS))))


@cached_figure
def interest_chart(interest: pd.DataFrame, title: str, top: int = 10) -> go.Figure | None:
    """Time-decayed interest shares, largest first. ``interest``: ``name, weight, share``."""
    if interest.empty:
        return None
    head = interest.head(top)
    figure = go.Figure(
        go.Bar(
            y=head["name"].astype(str), x=head["share"] * 100, orientation="h",
            marker_color=ORDERS_COLOR, hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
        )
    )  # fmt: skip
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(ticksuffix="%")
    chart_layout(figure, title, legend=False)
    figure.update_layout(hovermode="closest")
    return figure


@cached_figure
def sizes_chart(sizes: pd.DataFrame) -> go.Figure | None:
    """Segment sizes now and with the sliders' thresholds. ``sizes``: ``segment, now, preview``."""
    if sizes.empty:
        return None
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            y=[segment_name(s) for s in sizes["segment"]],
            x=sizes["now"],
            name="saved thresholds",
            orientation="h",
            marker_color=NOW_COLOR,
        )
    )
    figure.add_trace(
        go.Bar(
            y=[segment_name(s) for s in sizes["segment"]],
            x=sizes["preview"],
            name="slider thresholds",
            orientation="h",
            marker_color=PREVIEW_COLOR,
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(title_text="customers")
    figure.update_layout(barmode="group")
    chart_layout(figure, "Segment sizes")
    figure.update_layout(height=max(CHART_HEIGHT, 60 + 34 * len(sizes)), hovermode="y unified")
    return figure


@cached_figure
def overlap_heatmap(matrix: pd.DataFrame) -> go.Figure | None:
    """Customers in both segments, also as a share of the row's segment; the diagonal (the
    segment's own size) is left blank so the colours compare overlaps, not sizes. Every
    segment is labelled (readable names); counts and shares are written in small grids."""
    if matrix.empty:
        return None
    z = matrix.to_numpy(dtype=float, copy=True)
    sizes = np.diag(z).copy()
    np.fill_diagonal(z, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(sizes[:, None] > 0, z / sizes[:, None] * 100.0, np.nan)
    names = [segment_name(s) for s in matrix.columns]
    rows = [segment_name(s) for s in matrix.index]
    figure = go.Figure(
        go.Heatmap(
            z=z, x=names, y=rows, colorscale="Blues", customdata=share,
            texttemplate="%{z:.0f}<br>%{customdata:.0f}%" if len(matrix) <= 10 else None,
            hovertemplate="%{y} and %{x}: %{z} customers, %{customdata:.0f}% of %{y}"
                          "<extra></extra>",
            colorbar={"title": {"text": "customers"}},
        )
    )  # fmt: skip
    figure.update_yaxes(
        autorange="reversed", tickmode="array", tickvals=rows, ticktext=rows, automargin=True
    )
    figure.update_xaxes(
        tickmode="array", tickvals=names, ticktext=names, tickangle=-40, automargin=True
    )
    chart_layout(figure, "Overlaps: customers in both segments (and % of the row's)", legend=False)
    figure.update_layout(height=max(CHART_HEIGHT + 80, 200 + 30 * len(matrix)), hovermode="closest")
    return figure


@cached_figure
def segment_scores_chart(spread: pd.DataFrame, score: str) -> go.Figure | None:
    """Box per segment of one score. ``spread``: ``segment, customers, q05 .. q95``."""
    if spread.empty:
        return None
    figure = go.Figure()
    _boxes(
        figure, spread, [segment_name(s) for s in spread["segment"]], SCORE_LABELS.get(score, score)
    )
    figure.update_traces(marker_color=PREVIEW_COLOR, fillcolor="rgba(76,120,168,0.3)")
    figure.update_xaxes(range=[-2, 102], title_text=f"{SCORE_LABELS.get(score, score)} (0-100)")
    figure.update_yaxes(autorange="reversed")
    chart_layout(figure, f"{SCORE_LABELS.get(score, score)} by segment", legend=False)
    figure.update_layout(height=max(CHART_HEIGHT, 60 + 30 * len(spread)), hovermode="closest")
    return figure
