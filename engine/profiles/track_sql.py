"""The statements of real-time tracking (:mod:`engine.profiles.tracking` for one event,
:mod:`engine.profiles.track_batch` for many), built once: building SQL costs more than
running it on the hot path."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.models import (
    Customer,
    Event,
    IdentityLink,
    Order,
    OrderLine,
    Product,
    Profile,
    ProfileStats,
    Review,
    SegmentMembership,
)
from engine.profiles.scoring import SCORES
from engine.profiles.stats import COUNT_COLUMNS, FLOAT_COLUMNS

EVENT_FIELDS = (
    "event_id",
    "customer_id",
    "anonymous_id",
    "event_type",
    "product_id",
    "query",
    "occurred_at",
    "channel",
    "device",
    "location",
    "weather",
    "rating",
)
"""The columns of ``events`` a tracked event fills."""


def _keyed_update(table: Any, key: str) -> Any:
    """``UPDATE table SET <every other column given> WHERE key = :b_key``."""
    return update(table).where(table.c[key] == bindparam(f"b_{key}"))


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _many(column: Any) -> Any:
    """``column IN (:ids)``, the list bound when run."""
    return column.in_(bindparam("ids", expanding=True))


class Statements:
    """Every statement of tracking; ``…_many`` variants take a list ``ids``."""

    def __init__(self) -> None:
        products, events = _table(Product), _table(Event)
        profiles, stats = _table(Profile), _table(ProfileStats)
        memberships, links = _table(SegmentMembership), _table(IdentityLink)
        customers = _table(Customer)
        product_columns = (
            products.c.product_id,
            products.c.price,
            products.c.list_price,
            products.c.brand,
            products.c.category,
        )
        self.product = select(*product_columns).where(products.c.product_id == bindparam("pid"))
        self.product_many = select(*product_columns).where(_many(products.c.product_id))
        # one event's three look-ups in one round trip: its product (NULLs when there is
        # none), the id of a stored event with its event_id, the customer its
        # anonymous_id is linked to (each NULL where the parameter is)
        one = select(literal(1).label("one")).subquery("one")
        self.checks = select(
            *product_columns,
            select(events.c.id)
            .where(events.c.event_id == bindparam("eid"))
            .limit(1)
            .scalar_subquery()
            .label("duplicate_id"),
            select(links.c.customer_id)
            .where(links.c.anonymous_id == bindparam("aid"))
            .scalar_subquery()
            .label("linked_to"),
        ).select_from(one.outerjoin(products, products.c.product_id == bindparam("pid")))
        self.duplicate = select(events.c.id).where(events.c.event_id == bindparam("eid")).limit(1)
        self.duplicate_many = select(events.c.event_id).where(_many(events.c.event_id))
        self.link = select(links.c.customer_id).where(links.c.anonymous_id == bindparam("aid"))
        self.link_many = select(links.c.anonymous_id, links.c.customer_id).where(
            _many(links.c.anonymous_id)
        )
        stored = select(
            profiles.c.customer_id,
            profiles.c.as_of.label("profile_as_of"),
            profiles.c.calibration_id,
            profiles.c.emotional_state.label("state_before"),
            *(profiles.c[name].label(f"before_{name}") for name in SCORES),
            stats.c.customer_id.label("stats_customer_id"),
            # the memberships before, in one string ("" or NULL: none)
            select(func.aggregate_strings(memberships.c.segment, ","))
            .where(memberships.c.customer_id == profiles.c.customer_id)
            .scalar_subquery()
            .label("segments_before"),
            *(stats.c[name] for name in (*COUNT_COLUMNS, *FLOAT_COLUMNS, "top_category")),
        ).select_from(profiles.outerjoin(stats, stats.c.customer_id == profiles.c.customer_id))
        self.stored = stored.where(profiles.c.customer_id == bindparam("cid"))
        self.stored_many = stored.where(_many(profiles.c.customer_id))
        # PostgreSQL: lock the customer's profile until commit, so two writers of one
        # customer take turns; a statement of its own, so that `stored`, run after the
        # wait, reads the other writer's committed statistics too (a join locking one
        # side re-reads only that side). SQLite: the store is locked at BEGIN IMMEDIATE.
        self.lock = (
            select(profiles.c.customer_id)
            .where(profiles.c.customer_id == bindparam("cid"))
            .with_for_update()
        )
        # in id order: two batches locking overlapping customers take them in one order
        self.lock_many = (
            select(profiles.c.customer_id)
            .where(_many(profiles.c.customer_id))
            .order_by(profiles.c.customer_id)
            .with_for_update()
        )
        self.customers_many = select(customers.c.customer_id).where(_many(customers.c.customer_id))
        self.insert_customer = {
            "sqlite": sqlite_insert(customers).on_conflict_do_nothing(),
            "postgresql": postgresql_insert(customers).on_conflict_do_nothing(),
        }
        self.insert_link = insert(links)
        self.insert_event = insert(events).returning(events.c.id)
        self.insert_events = insert(events).returning(events.c.id, sort_by_parameter_order=True)
        self.insert_order = insert(_table(Order))
        self.insert_line = insert(_table(OrderLine))
        self.insert_review = insert(_table(Review))
        self.insert_profile = insert(profiles)
        self.update_profile = _keyed_update(profiles, "customer_id")
        self.insert_stats = insert(stats)
        self.update_stats = _keyed_update(stats, "customer_id")
        self.memberships = select(memberships.c.segment).where(
            memberships.c.customer_id == bindparam("cid")
        )
        self.memberships_many = select(memberships.c.customer_id, memberships.c.segment).where(
            _many(memberships.c.customer_id)
        )
        self.delete_memberships = delete(memberships).where(
            memberships.c.customer_id == bindparam("cid")
        )
        self.delete_memberships_many = delete(memberships).where(_many(memberships.c.customer_id))
        self.insert_membership = insert(memberships)


SQL = Statements()
