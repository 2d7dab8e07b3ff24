"""Plotly figures, table settings and plain-word labels for the "Predictions" page.

Builders take the frames of :mod:`dashboard.predictions` and return a figure, or
``None`` when there is nothing to draw (the page then shows a caption instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import ui
from dashboard.predictions import CustomerView

PREDICTION_COLOR = "#E45756"
ACTIVE_COLOR = "#54A24B"
WINDOW_COLORS = {7: "#E45756", 30: "#F58518", 90: "#4C78A8"}


@dataclass(frozen=True)
class Headline:
    """One number on the page: its label, formatted value and what it means in plain words."""

    label: str
    value: str
    meaning: str


def customer_headlines(view: CustomerView) -> list[Headline]:
    """The customer's headline numbers, formatted, each with a one-line explanation."""
    row = view.prediction
    low, high = row["predicted_date_low"], row["predicted_date_high"]
    coverage = round(view.price_coverage * 10)
    return [
        Headline(
            "Next purchase",
            f"{row['predicted_date']:%Y-%m-%d}",
            f"Most likely day of the next order (if one comes within {view.horizon_days:.0f} "
            f"days); half of those orders fall between {low:%b %d} and {high:%b %d}.",
        ),
        Headline(
            "Confidence",
            f"{row['confidence']:.0f} / 100",
            f"How often customers with this confidence bought within {view.window_days:.0f} "
            "days of their predicted date.",
        ),
        Headline(
            "Still active",
            f"{row['p_active']:.1%}",
            "Chance they are still a customer at all, judged from how often and how "
            "recently they bought (p_active).",
        ),
        Headline(
            "Purchases, next 90 days",
            f"{row['expected_purchases_90d']:.1f}",
            "Purchase days to expect in the next 90 days, allowing for the chance they left.",
        ),
        Headline(
            "Spend, next 12 months",
            ui.fmt_money(float(row["clv_12m"])),
            "Expected spend over 12 months (clv_12m): expected purchases x expected order value.",
        ),
        Headline(
            "Next order value",
            f"{ui.fmt_money(float(row['price_low']))} - {ui.fmt_money(float(row['price_high']))}",
            f"{coverage} in 10 of their orders should cost this much: their own orders, "
            "pulled toward the store's when they have few.",
        ),
    ]


def outlook_columns() -> dict[str, Any]:
    """``st.dataframe`` column settings for the :func:`engine.predict.store_outlook` table."""
    windows = {
        f"expected_buyers_{w}d": st.column_config.NumberColumn(
            f"{w} d", format="%.0f", width="small", help=f"Expected buyers within {w} days"
        )
        for w in WINDOW_COLORS
    }
    return {
        "segment": "Segment",
        "customers": st.column_config.NumberColumn("Customers", format="%d", width="small"),
        **windows,
    }


def slipping_columns() -> dict[str, Any]:
    """``st.dataframe`` column settings for the :func:`engine.predict.slipping_high_value` list."""
    number, percent = st.column_config.NumberColumn, "percent"
    return {
        "customer_id": "Customer",
        "total_spend": ui.money_column("Spent so far"),
        "clv_12m": ui.money_column("Spend, next 12 months"),
        "p_active_before": number("Active 90 d ago", format=percent),
        "p_active": number("Active now", format=percent),
        "p_active_drop": number("Drop", format=percent),
        "last_purchase": st.column_config.DatetimeColumn("Last purchase", format="YYYY-MM-DD"),
    }


def _layout(figure: go.Figure, title: str, *, legend: bool = True) -> go.Figure:
    # Timelines and bars read point by point here, and the legend sits a little lower.
    return ui.chart_layout(figure, title, legend=legend, legend_y=-0.15, hovermode="closest")


def _as_of_line(figure: go.Figure, as_of: datetime) -> None:
    # add_vline's annotation cannot place itself on a date axis: draw both by hand.
    moment = pd.Timestamp(as_of)
    figure.add_shape(
        type="line", x0=moment, x1=moment, y0=0, y1=1, yref="paper",
        line={"color": "grey", "dash": "dot", "width": 1},
    )  # fmt: skip
    figure.add_annotation(
        x=moment, y=1, yref="paper", text="as of", showarrow=False,
        xanchor="right", yanchor="top", font={"color": "grey", "size": 11},
    )  # fmt: skip


def timeline_chart(view: CustomerView) -> go.Figure:
    """Purchase days (order values) up to ``as_of``, then the predicted next purchase:
    a marker at the predicted date and expected order value, the shaded date band
    (``predicted_date_low`` .. ``predicted_date_high``) and the likely price range."""
    row = view.prediction
    figure = go.Figure()
    if not view.history.empty:
        figure.add_trace(
            go.Scatter(
                x=view.history["day"],
                y=view.history["value"],
                mode="markers",
                name="purchases",
                marker={"size": 8, "color": ui.ORDERS_COLOR},
                customdata=view.history[["n_orders"]].to_numpy(),
                hovertemplate="%{x|%Y-%m-%d}: "
                + ui.money_hover("y")
                + " (%{customdata[0]} orders)<extra></extra>",
            )
        )
    low, high = row["predicted_date_low"], row["predicted_date_high"] + pd.Timedelta(days=1)
    figure.add_vrect(
        x0=low, x1=high, fillcolor=PREDICTION_COLOR, opacity=0.15, line_width=0, layer="below"
    )
    value = float(row["expected_order_value"])
    likely = f"{low:%b %d} - {row['predicted_date_high']:%b %d}"
    figure.add_trace(
        go.Scatter(
            x=[row["predicted_date"]],
            y=[value],
            mode="markers",
            name="predicted next purchase (band: likely dates; bar: likely value)",
            marker={"size": 14, "symbol": "star", "color": PREDICTION_COLOR},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [max(float(row["price_high"]) - value, 0.0)],
                "arrayminus": [max(value - float(row["price_low"]), 0.0)],
                "color": PREDICTION_COLOR,
            },
            hovertemplate=(
                f"next purchase %{{x|%Y-%m-%d}} (likely {likely})"
                f"<br>value about {ui.money_hover('y')} "
                f"({ui.fmt_money_exact(float(row['price_low']))} - "
                f"{ui.fmt_money_exact(float(row['price_high']))})<extra></extra>"
            ),
        )
    )
    _as_of_line(figure, view.as_of)
    # Shapes do not widen the axis: frame the history and the whole predicted band.
    first = view.history["day"].min() if not view.history.empty else pd.Timestamp(view.as_of)
    end = max(high, pd.Timestamp(view.as_of))
    pad = max((end - first) * 0.03, pd.Timedelta(days=2))
    figure.update_xaxes(range=[first - pad, end + pad])
    figure.update_yaxes(title_text="order value", rangemode="tozero")
    ui.money_axis(figure)
    return _layout(figure, "Purchases and the predicted next one")


def p_active_chart(view: CustomerView) -> go.Figure | None:
    """``p_active`` at monthly points up to ``as_of``; ``None`` without a purchase."""
    frame = view.p_active.dropna(subset=["p_active"])
    if frame.empty:
        return None
    figure = go.Figure(
        go.Scatter(
            x=frame["date"],
            y=frame["p_active"],
            mode="lines+markers",
            name="p_active",
            line={"color": ACTIVE_COLOR, "width": 2, "shape": "hv"},
            hovertemplate="%{x|%Y-%m-%d}: %{y:.0%} likely still active<extra></extra>",
        )
    )
    if not view.history.empty:
        # Purchases on the same axis explain the jumps: each one revives p_active.
        figure.add_trace(
            go.Scatter(
                x=view.history["day"],
                y=[0.02] * len(view.history),
                mode="markers",
                name="purchases",
                marker={"symbol": "line-ns-open", "size": 10, "color": ui.ORDERS_COLOR},
                hovertemplate="purchase %{x|%Y-%m-%d}<extra></extra>",
            )
        )
    figure.update_yaxes(range=[0, 1.05], tickformat=".0%", title_text="p_active")
    return _layout(figure, "Still active? (p_active over time)", legend=False)


def categories_chart(view: CustomerView) -> go.Figure | None:
    """The likely categories of the next order with their probabilities (horizontal bars)."""
    probabilities = dict(view.prediction["category_probabilities"])
    if not probabilities:
        return None
    names, shares = list(probabilities), list(probabilities.values())
    figure = go.Figure(
        go.Bar(
            y=names,
            x=shares,
            orientation="h",
            marker_color=ui.REVENUE_COLOR,
            text=[f"{share:.0%}" for share in shares],
            textposition="auto",
            hovertemplate="%{y}: %{x:.0%}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(tickformat=".0%", rangemode="tozero")
    return _layout(figure, "Likely categories of the next order", legend=False)


def buy_chances_chart(view: CustomerView) -> go.Figure:
    """The customer's chance of at least one purchase within 7, 30 and 90 days (bars)."""
    windows = list(WINDOW_COLORS)
    chances = [float(view.prediction[f"p_buy_{w}d"]) for w in windows]
    figure = go.Figure(
        go.Bar(
            x=[f"{w} days" for w in windows],
            y=chances,
            marker_color=[WINDOW_COLORS[w] for w in windows],
            text=[f"{chance:.0%}" for chance in chances],
            textposition="auto",
            hovertemplate="buys within %{x}: %{y:.1%}<extra></extra>",
        )
    )
    figure.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return _layout(figure, "Chance of buying within...", legend=False)


def outlook_chart(outlook: pd.DataFrame) -> go.Figure | None:
    """The share of each segment expected to buy within 7, 30 and 90 days (grouped bars).

    Shares, not counts, so a segment of 40 reads beside "all customers"; the hover gives
    the counts. ``outlook``: ``segment, customers, expected_buyers_{7,30,90}d``.
    """
    if outlook.empty:
        return None
    figure = go.Figure()
    size = outlook["customers"].clip(lower=1)
    for window, color in WINDOW_COLORS.items():
        buyers = outlook[f"expected_buyers_{window}d"]
        figure.add_trace(
            go.Bar(
                y=outlook["segment"],
                x=buyers / size,
                name=f"within {window} days",
                orientation="h",
                marker_color=color,
                customdata=pd.concat([buyers, outlook["customers"]], axis=1).to_numpy(),
                hovertemplate=(
                    f"%{{y}}: %{{x:.0%}} within {window} days "
                    "(%{customdata[0]:,.0f} of %{customdata[1]:,} customers)<extra></extra>"
                ),
            )
        )
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(tickformat=".0%", range=[0, 1])
    figure.update_layout(barmode="group", bargap=0.25)
    _layout(figure, "Share of each segment expected to buy")
    height = max(ui.CHART_HEIGHT, 110 + 34 * len(outlook))
    # keep the legend a fixed ~40 px below the plot however tall the chart grows
    figure.update_layout(height=height, legend={"y": -40 / (height - 50)})
    return figure
