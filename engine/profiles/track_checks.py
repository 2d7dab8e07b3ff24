"""The checks of :func:`engine.profiles.track_batch.track_many`: every event of a batch
decided in order (valid, a known product, not a duplicate, a customer), as
:func:`engine.profiles.tracking.track` would one after the other, before anything is
written."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from engine.errors import UserError
from engine.profiles.track_core import TrackResult
from engine.profiles.track_sql import SQL
from engine.profiles.validation import NEEDS_CUSTOMER, validate_event

CHUNK = 500


@dataclass
class Accepted:
    """An event that passed every check: what one at a time would do with it."""

    index: int
    raw: Mapping[str, Any]
    ev: dict[str, Any]
    product: Any
    customer_id: str | None
    relinked: bool
    slow: bool = False


def chunked_rows(conn: Connection, statement: Any, ids: Iterable[str]) -> list[Any]:
    wanted = sorted(set(ids))
    out: list[Any] = []
    for start in range(0, len(wanted), CHUNK):
        out += conn.execute(statement, {"ids": wanted[start : start + CHUNK]}).all()
    return out


def refusal(index: int, raw: Mapping[str, Any], error: str) -> TrackResult:
    event_id = raw.get("event_id") if isinstance(raw, Mapping) else None
    return TrackResult(
        "refused", None, event_id if isinstance(event_id, str) else None, error=error
    )


def check_events(
    conn: Connection, events: Sequence[Mapping[str, Any]]
) -> tuple[list[Accepted], dict[int, TrackResult]]:
    """Decide every event in order, as ``track`` would one after the other."""
    valid: list[tuple[int, dict[str, Any]]] = []
    decided: dict[int, TrackResult] = {}
    for index, raw in enumerate(events):
        try:
            valid.append((index, validate_event(raw)))
        except UserError as exc:
            decided[index] = refusal(index, raw, str(exc))
    products = {
        r.product_id: r
        for r in chunked_rows(
            conn, SQL.product_many, (ev["product_id"] for _, ev in valid if ev["product_id"])
        )
    }
    seen = {
        r.event_id
        for r in chunked_rows(
            conn, SQL.duplicate_many, (ev["event_id"] for _, ev in valid if ev["event_id"])
        )
    }
    links = {
        r.anonymous_id: r.customer_id
        for r in chunked_rows(
            conn, SQL.link_many, (ev["anonymous_id"] for _, ev in valid if ev["anonymous_id"])
        )
    }
    accepted: list[Accepted] = []
    for index, ev in valid:
        product = products.get(ev["product_id"]) if ev["product_id"] else None
        if ev["product_id"] and product is None:
            decided[index] = refusal(
                index, events[index], f"invalid product_id {ev['product_id']!r}: no such product"
            )
            continue
        if ev["event_id"] is not None and ev["event_id"] in seen:
            decided[index] = TrackResult("duplicate", ev["customer_id"], ev["event_id"])
            continue
        linked_to = links.get(ev["anonymous_id"]) if ev["anonymous_id"] else None
        customer_id = ev["customer_id"] or linked_to
        if ev["event_type"] in NEEDS_CUSTOMER and customer_id is None:
            decided[index] = refusal(
                index,
                events[index],
                (
                    f"missing customer_id: a {ev['event_type']} event needs a customer_id "
                    "(or an anonymous_id already linked to a customer)"
                ),
            )
            continue
        relinked = (
            ev["anonymous_id"] is not None and ev["customer_id"] is not None and linked_to is None
        )
        if relinked:
            links[ev["anonymous_id"]] = ev["customer_id"]
        if ev["event_id"] is not None:
            seen.add(ev["event_id"])
        accepted.append(Accepted(index, events[index], ev, product, customer_id, relinked))
    return accepted, decided
