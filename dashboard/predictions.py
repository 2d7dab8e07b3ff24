"""Cached access to the purchase predictions for the "Predictions" page.

The fitted :class:`engine.predict.PurchasePredictor` is a resource (``st.cache_resource``,
one per ``(url, as_of)``, a few kept); the frames drawn from it are data
(``st.cache_data``). A store that cannot support a fit raises :class:`NotEnoughHistory`
with a message saying what is needed, so the page shows advice, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard.data import get_engine, versioned
from engine.db import session_scope
from engine.errors import UserError
from engine.predict import PurchasePredictor, slipping_high_value, store_outlook
from engine.predict.segments_view import segment_members_frame, segments_stamp
from engine.predict.service import all_predictions, fit_store_predictor

PREDICTOR_CACHE_ENTRIES = 4
"""Fitted predictors kept per server: a few "As of" dates back and forth, not every one."""

PICKER_LIMIT = 1_000
"""Customers listed in the picker (most valuable first); any other id can be typed in."""

ALL_CUSTOMERS = "all customers"
SLIPPING_COLUMNS = [
    "customer_id", "total_spend", "clv_12m", "p_active_before", "p_active", "p_active_drop",
    "last_purchase",
]  # fmt: skip


class NotEnoughHistory(Exception):
    """The store has too little order history before ``as_of`` to fit the purchase models."""


@dataclass(frozen=True)
class CustomerView:
    """Everything the page shows about one customer.

    ``prediction``: one row of :meth:`PurchasePredictor.predict` (all its columns).
    ``history``: purchase days ``day, value, n_orders``. ``p_active``: ``date, p_active``
    at monthly points up to ``as_of`` (NaN before the first purchase).
    """

    customer_id: str
    prediction: pd.Series
    history: pd.DataFrame
    p_active: pd.DataFrame
    as_of: datetime
    window_days: float
    horizon_days: float
    price_coverage: float

    @property
    def has_purchases(self) -> bool:
        return int(self.prediction["n_purchases"]) > 0


@dataclass(frozen=True)
class StoreView:
    """Expected buyers per segment and where the segments came from.

    ``outlook``: :func:`engine.predict.store_outlook` columns (``segment, customers,
    expected_buyers_7d, expected_buyers_30d, expected_buyers_90d``), "all customers" first.
    ``segments_as_of``: when the stored memberships were computed (``None``: never scored).
    """

    outlook: pd.DataFrame
    segments_as_of: datetime | None

    @property
    def has_segments(self) -> bool:
        return self.segments_as_of is not None


@versioned(
    st.cache_resource,
    max_entries=PREDICTOR_CACHE_ENTRIES,
    show_spinner="Fitting the purchase models...",
)
def fit_predictor(url: str, as_of: datetime | None) -> PurchasePredictor:
    """The predictor fitted on the orders before ``as_of`` (``None``: the whole store).

    Raises:
        NotEnoughHistory: no order before ``as_of``, or nobody bought on two different
            days (the repeat-buying models learn purchase rates from repeat purchases).
            Not cached, so adding orders and reloading recovers.
    """
    try:
        with session_scope(get_engine(url)) as session:
            predictor = fit_store_predictor(session, as_of=as_of)
    except UserError as exc:
        raise NotEnoughHistory(_needed(f"There are no orders before {_when(as_of)}.")) from exc
    except ValueError as exc:  # the optimiser refusing a degenerate store
        raise NotEnoughHistory(_needed(f"The purchase models could not be fitted: {exc}.")) from exc
    summary = predictor.summary_
    if not (summary["frequency"] > 0).any():
        raise NotEnoughHistory(
            _needed(
                f"Before {_when(as_of)} the store has {len(summary):,} buyers, "
                "but none of them bought on two different days."
            )
        )
    return predictor


def _when(as_of: datetime | None) -> str:
    return "the newest data" if as_of is None else f"{as_of:%Y-%m-%d %H:%M} UTC"


def _needed(problem: str) -> str:
    return (
        f"{problem} Predictions need order history: at least one customer who bought on "
        "two different days, and the more customers the better (a few hundred buyers with "
        "a few months of orders calibrate the confidence). Pick a later **As of** date in "
        "the sidebar, or load more of the store's orders."
    )


@versioned(show_spinner="Predicting every customer...")
def load_predictions(url: str, as_of: datetime | None) -> pd.DataFrame:
    """Predictions for every buyer and every customer known before ``as_of``
    (:func:`engine.predict.service.all_predictions` columns), most valuable first."""
    predictor = fit_predictor(url, as_of)
    with session_scope(get_engine(url)) as session:
        predictions = all_predictions(session, predictor)
    return predictions.sort_values(
        ["clv_12m", "customer_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


@versioned(show_spinner=False)
def customer_choices(url: str, as_of: datetime | None) -> list[str]:
    """Customer ids for the picker: the most valuable (highest ``clv_12m``) first."""
    return load_predictions(url, as_of)["customer_id"].head(PICKER_LIMIT).astype(str).tolist()


def monthly_points(first: pd.Timestamp, as_of: datetime) -> pd.DatetimeIndex:
    """Where to sample ``p_active``: each month start after ``first``, and ``as_of`` itself.

    A customer younger than three months gets weekly points instead, so the curve has a shape.
    """
    end = pd.Timestamp(as_of)
    start = first.floor("D") + pd.Timedelta(days=1)
    frequency = "MS" if end - start > pd.Timedelta(days=92) else "W-MON"
    points = pd.date_range(start, end, freq=frequency, inclusive="left")
    return points.append(pd.DatetimeIndex([start, end])).unique().sort_values()


@versioned(show_spinner=False)
def load_customer(url: str, as_of: datetime | None, customer_id: str) -> CustomerView | None:
    """One customer's prediction, purchase timeline and ``p_active`` over time;
    ``None`` when the store does not know ``customer_id`` before ``as_of``."""
    predictions = load_predictions(url, as_of)
    row = predictions.loc[predictions["customer_id"] == customer_id]
    if row.empty:
        return None
    predictor = fit_predictor(url, as_of)
    history = predictor.history(customer_id)
    moment = predictor.as_of_.to_pydatetime()
    if history.empty:
        p_active = pd.DataFrame(
            {"date": pd.DatetimeIndex([], dtype="datetime64[ns]"), "p_active": []}
        )
    else:
        dates = monthly_points(pd.Timestamp(history["day"].min()), moment)
        p_active = predictor.p_active_history(customer_id, dates)[["date", "p_active"]]
    return CustomerView(
        customer_id=customer_id,
        prediction=row.iloc[0],
        history=history,
        p_active=p_active,
        as_of=moment,
        window_days=float(predictor.window_days),
        horizon_days=float(predictor.horizon_days),
        price_coverage=float(predictor.price_coverage),
    )


def load_store_view(url: str, as_of: datetime | None) -> StoreView:
    """Expected buyers in 7, 30 and 90 days, for all customers and per stored segment.

    The memberships' stamp is read on every call (one aggregate query) and keys the
    cache, so running ``personalize score`` shows up at the next rerun.
    """
    with session_scope(get_engine(url)) as session:
        stamp = segments_stamp(session)
    return _store_view(url, as_of, stamp)


@versioned(show_spinner=False)
def _store_view(
    url: str, as_of: datetime | None, stamp: tuple[int, datetime | None, datetime | None]
) -> StoreView:
    predictions = load_predictions(url, as_of)
    count, scored, _ = stamp
    members = None
    if count:
        with session_scope(get_engine(url)) as session:
            members = segment_members_frame(session)
    outlook = store_outlook(predictions, segments=members)
    return StoreView(outlook=outlook, segments_as_of=scored if count else None)


@versioned(show_spinner=False)
def load_slipping(url: str, as_of: datetime | None) -> pd.DataFrame:
    """High-value customers whose ``p_active`` fell over the last 90 days, biggest drop
    first (:func:`engine.predict.slipping_high_value` columns, every one of them)."""
    predictor = fit_predictor(url, as_of)
    return slipping_high_value(predictor, predictions=load_predictions(url, as_of), limit=None)


def slipping_csv(slipping: pd.DataFrame) -> bytes:
    """The slipping list as CSV (UTF-8): ids, money to cents, probabilities to 4 decimals,
    ``last_purchase`` as an ISO date."""
    out = slipping[SLIPPING_COLUMNS].copy()
    for column in ("total_spend", "clv_12m"):
        out[column] = out[column].round(2)
    for column in ("p_active_before", "p_active", "p_active_drop"):
        out[column] = out[column].round(4)
    out["last_purchase"] = pd.to_datetime(out["last_purchase"]).dt.strftime("%Y-%m-%d")
    return out.to_csv(index=False).encode("utf-8")
