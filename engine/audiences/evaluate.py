"""Evaluating an audience rule as of a moment: who is in it, how it splits, how it grew.

Everything a rule reads is gathered once per "as of" into an :class:`AudienceData`
(profiles and segments from :func:`engine.profiles.compute_profiles`, predictions from
a :class:`engine.predict.PurchasePredictor` fitted on the data before it); evaluating
a rule is then pure numpy over that frame, so what-if thresholds cost milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.audiences.fields import (
    FIELDS,
    PREDICTED_FIELDS,
    SCORE_SEGMENTS,
    check_rule,
    fields_used,
)
from engine.audiences.grammar import And, Comparison, Node, Not, Or, Segment, parse
from engine.errors import UserError
from engine.frames import load_customers
from engine.models import Order, Product
from engine.profiles import compute_profiles
from engine.profiles.segments import enthusiast_segment
from engine.timeutil import resolve_as_of

CONTACT_COLUMNS = ["customer_id", "name", "email", "city"]
NO_VALUE = "(none)"
"""Shown for a customer without a top category or without any order (no channel)."""


@dataclass(frozen=True)
class AudienceData:
    """Everything a rule can read about every customer as of ``as_of``.

    ``customers``: one row per customer with data before ``as_of``, sorted by id:
    :data:`CONTACT_COLUMNS`, ``top_category``, ``channel`` (where most of their orders
    were placed), every score field and, when ``predicted``, the predicted fields.
    ``members``: ``customer_id, segment`` under the store's segment rules.
    ``segments``: every segment a rule may name (whether or not it has members).
    """

    as_of: datetime
    customers: pd.DataFrame
    members: pd.DataFrame
    segments: tuple[str, ...]
    predicted: bool


def valid_segments(session: Session) -> tuple[str, ...]:
    """Segment names a rule may use: the score segments, then one enthusiast segment
    per category of the catalog, sorted."""
    categories = session.scalars(
        select(Product.category).where(Product.category.is_not(None)).distinct()
    ).all()
    enthusiasts = sorted({enthusiast_segment(c) for c in categories if c} - {"_enthusiast"})
    return (*SCORE_SEGMENTS, *enthusiasts)


def main_channels(session: Session, *, as_of: datetime) -> pd.Series:
    """Each customer's channel with the most orders before ``as_of`` (ties: the first
    name in alphabetical order), indexed by customer id; one ``GROUP BY`` in the database."""
    rows = session.execute(
        select(Order.customer_id, Order.channel, func.count().label("orders"))
        .where(Order.ordered_at < as_of, Order.customer_id.is_not(None))
        .group_by(Order.customer_id, Order.channel)
    ).all()
    counts = pd.DataFrame(rows, columns=["customer_id", "channel", "orders"])
    if counts.empty:
        return pd.Series(dtype=object, name="channel")
    counts["channel"] = counts["channel"].fillna("unknown")
    counts = counts.sort_values(
        ["customer_id", "orders", "channel"], ascending=[True, False, True], kind="stable"
    )
    return counts.drop_duplicates("customer_id").set_index("customer_id")["channel"]


def load_audience_data(
    session: Session, *, as_of: datetime | None = None, predictions: bool = False
) -> AudienceData:
    """Gather what rules read as of ``as_of`` (default: just after the newest data).

    Args:
        predictions: also fit the purchase models and add :data:`PREDICTED_FIELDS`
            (seconds on a large store; only rules comparing them need it).

    Raises:
        UserError: ``predictions`` asked for but there is no order before ``as_of``.
    """
    moment = resolve_as_of(session, as_of)
    profiles = compute_profiles(session, as_of=moment)
    contacts = load_customers(session)[CONTACT_COLUMNS]
    score_fields = [f for f in FIELDS if f not in PREDICTED_FIELDS]
    frame = profiles[["customer_id", "top_category", *score_fields]].merge(
        contacts, on="customer_id", how="left"
    )
    frame["top_category"] = frame["top_category"].fillna(NO_VALUE)
    frame["channel"] = frame["customer_id"].map(main_channels(session, as_of=moment))
    frame["channel"] = frame["channel"].fillna(NO_VALUE)
    if predictions:
        from engine.predict.service import fit_store_predictor

        predictor = fit_store_predictor(session, as_of=moment)
        predicted = predictor.predict(frame["customer_id"].astype(str).tolist())
        predicted = predicted.set_index("customer_id")[list(PREDICTED_FIELDS)]
        frame = frame.join(predicted, on="customer_id")
    columns = [*CONTACT_COLUMNS, "top_category", "channel", *score_fields]
    columns += list(PREDICTED_FIELDS) if predictions else []
    frame = frame[columns].sort_values("customer_id", kind="stable").reset_index(drop=True)
    # astype: before any data the frame is empty and pandas cannot tell its column holds text
    names = profiles["segments"].fillna("").astype(str).str.split(";")
    members = profiles[["customer_id"]].assign(segment=names).explode("segment")
    members = members.loc[members["segment"].fillna("") != "", ["customer_id", "segment"]]
    return AudienceData(
        moment, frame, members.reset_index(drop=True), valid_segments(session), predictions
    )


def compile_rule(text: str, segments: tuple[str, ...]) -> Node:
    """Parse ``text`` and check its names against ``segments`` and the fields.

    Raises:
        UserError: bad syntax, an unknown segment or field, or a value out of range.
    """
    node = parse(text)
    check_rule(node, segments)
    return node


def mask(node: Node, data: AudienceData) -> np.ndarray:
    """Which rows of ``data.customers`` the rule selects (a missing value never
    satisfies a comparison, so ``NOT`` of it selects the customer).

    Raises:
        ValueError: the rule compares a predicted field but ``data`` has no predictions.
    """
    frame = data.customers
    if isinstance(node, Segment):
        inside = data.members.loc[data.members["segment"] == node.name, "customer_id"]
        return frame["customer_id"].isin(inside).to_numpy()
    if isinstance(node, Comparison):
        if node.field not in frame.columns:
            raise ValueError(f"{node.field} needs load_audience_data(predictions=True)")
        values = frame[node.field].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            if node.op == "between":
                return (values >= node.value) & (values <= float(node.high))  # type: ignore[arg-type]
            return _COMPARE[node.op](values, node.value)
    if isinstance(node, Not):
        return ~mask(node.operand, data)
    parts = [mask(operand, data) for operand in node.operands]
    combine = np.logical_and if isinstance(node, And) else np.logical_or
    assert isinstance(node, And | Or)
    return combine.reduce(parts)


_COMPARE = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
    "=": np.equal,
    "!=": np.not_equal,
}


def audience_members(node: Node, data: AudienceData) -> pd.DataFrame:
    """The audience's members, sorted by id: :data:`CONTACT_COLUMNS`, ``top_category``,
    ``channel``, then the fields the rule reads (:func:`fields_used`)."""
    chosen = data.customers.loc[mask(node, data)]
    columns = [*CONTACT_COLUMNS, "top_category", "channel", *fields_used(node)]
    return chosen[columns].reset_index(drop=True)


def export_frame(node: Node, members: pd.DataFrame) -> pd.DataFrame:
    """The export of an audience: :data:`CONTACT_COLUMNS` then the fields the rule
    reads, each rounded to its field's decimals."""
    used = fields_used(node)
    out = members[[*CONTACT_COLUMNS, *used]].copy()
    for name in used:
        out[name] = out[name].round(FIELDS[name].decimals)
    return out


def export_csv(node: Node, members: pd.DataFrame) -> str:
    """:func:`export_frame` as CSV text (header row, ``\\n`` line ends): the same bytes
    from the CLI and the dashboard."""
    return export_frame(node, members).to_csv(index=False, lineterminator="\n")


def splits(members: pd.DataFrame, data: AudienceData) -> dict[str, pd.DataFrame]:
    """How the audience splits: ``{"segment" | "category" | "channel": frame}``, each
    frame ``value, customers, share`` (share of the audience, 0..1), largest first.
    A customer counts once per segment they are in, so segment counts may add up to
    more than the audience."""
    size = max(len(members), 1)
    chosen = data.members.loc[data.members["customer_id"].isin(members["customer_id"])]
    out = {}
    for name, values in (
        ("segment", chosen["segment"]),
        ("category", members["top_category"]),
        ("channel", members["channel"]),
    ):
        counts = values.value_counts().rename_axis("value").rename("customers").reset_index()
        counts = counts.sort_values(["customers", "value"], ascending=[False, True])
        out[name] = counts.assign(share=counts["customers"] / size).reset_index(drop=True)
    return out


def monthly_as_of(first: datetime, last: datetime, *, limit: int = 12) -> list[datetime]:
    """The moments of a size-over-time chart: the ``limit - 1`` latest month starts after
    ``first`` and before ``last``, then ``last`` itself."""
    starts = pd.date_range(
        pd.Timestamp(first).normalize() + pd.offsets.MonthBegin(1),
        pd.Timestamp(last),
        freq="MS",
        inclusive="left",
    )
    points = [t.to_pydatetime() for t in starts[-(limit - 1) :]] if limit > 1 else []
    return [*points, last]


def size_over_time(session: Session, node: Node, moments: list[datetime]) -> pd.DataFrame:
    """The audience re-evaluated at each moment: ``as_of, size, customers, share``
    (``customers``: everyone with data before it; ``share`` 0..1). A moment before
    any order gives size 0 for a rule on predictions instead of an error."""
    rows = []
    predicted = any(FIELDS[f].predicted for f in fields_used(node))
    for moment in moments:
        try:
            data = load_audience_data(session, as_of=moment, predictions=predicted)
            size = int(mask(node, data).sum())
            customers = len(data.customers)
        except UserError:
            size, customers = 0, 0
        rows.append(
            {
                "as_of": moment,
                "size": size,
                "customers": customers,
                "share": size / customers if customers else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=["as_of", "size", "customers", "share"])
