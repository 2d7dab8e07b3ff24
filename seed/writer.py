"""Write a generated :class:`~seed.market.Market` into a store, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, insert, select

from engine.bulk import insert_frame, refresh_statistics
from engine.errors import UserError
from engine.models import Base, Customer, Event, Order, Product, Review
from engine.store_settings import StoreSettings
from seed.market import Market

ProgressFn = Callable[[str, int, int], None]

STORE_NAME = "The Final Market"
STORE_DESCRIPTION = (
    "A synthetic department store, from electronics to groceries, with shoppers in 19 "
    "cities of four countries whose habits (night owls, bargain hunters, weekend "
    "shoppers...) were planted by the seed, so every answer the engine gives can be checked."
)
# The market stamps each shopper's local clock as stored time, so its zone is UTC: a
# night owl's 23:00 purchase reads 23:00 on every page (the engine's night is store clock).
STORE_IDENTITY = {
    "name": STORE_NAME,
    "currency": "USD",
    "timezone": "UTC",
    "description": STORE_DESCRIPTION,
}

# Configuration, not data: a reseed keeps the user's segment thresholds.
_KEPT_TABLES = {"segment_rules"}


def identity_links(events: pd.DataFrame) -> pd.DataFrame:
    """Identity links implied by events carrying both ids.

    Args:
        events: frame with ``anonymous_id, customer_id, occurred_at``.

    Returns:
        Frame ``anonymous_id, customer_id, linked_at``: one row per anonymous id,
        linked to the customer of its earliest event carrying both ids.
    """
    both = events.loc[
        events["anonymous_id"].notna() & events["customer_id"].notna(),
        ["anonymous_id", "customer_id", "occurred_at"],
    ]
    first = both.sort_values(["anonymous_id", "occurred_at"], kind="mergesort")
    first = first.drop_duplicates("anonymous_id", keep="first")
    return first.rename(columns={"occurred_at": "linked_at"}).reset_index(drop=True)


@contextmanager
def _roomy_cache(connection: Connection) -> Iterator[None]:
    """On SQLite, a large page cache while loading: the random-order index inserts
    (events by customer and time, lines by product) otherwise spill pages mid-transaction."""
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql("PRAGMA cache_size=-262144")  # KiB: 256 MiB
    connection.commit()
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(previous or -2000)}")
        connection.commit()


def store_has_data(engine: Engine) -> bool:
    """True when any customer, product, order, event or review is stored."""
    with engine.connect() as connection:
        for model in (Customer, Product, Order, Event, Review):
            if connection.scalar(select(func.count()).select_from(model)):
                return True
    return False


def write_market(
    engine: Engine,
    market: Market,
    *,
    reset: bool = False,
    progress: ProgressFn | None = None,
) -> dict[str, int]:
    """Bulk-insert every table of ``market`` into the store behind ``engine``.

    All rows go in one transaction, parents before children, so a failure leaves
    the store as it was. ``identity_links`` are derived from events carrying both
    an anonymous and a customer id.

    Args:
        engine: an engine on a store whose schema is current (``engine.db.open_store``).
        market: the generated market.
        reset: first delete every stored row (all tables but ``segment_rules``,
            children first); without it a non-empty store is refused.
        progress: optional ``progress(table, rows_done, rows_total)``.

    Returns:
        Rows written per table name.

    Raises:
        UserError: the store already holds data and ``reset`` is false.
    """
    if not reset and store_has_data(engine):
        raise UserError(
            "the store already holds data; use --reset to replace it with the synthetic market"
        )
    frames = market.tables()
    links = identity_links(market.events)
    written: dict[str, int] = {}
    with engine.connect() as connection, _roomy_cache(connection), connection.begin():
        if reset:
            for table in reversed(Base.metadata.sorted_tables):
                if table.name not in _KEPT_TABLES:
                    connection.execute(delete(table))
        for name, frame in frames.items():
            table = Base.metadata.tables[name]
            written[name] = insert_frame(connection, table, frame, progress=progress)
            if name == "events":
                written["identity_links"] = insert_frame(
                    connection, Base.metadata.tables["identity_links"], links, progress=progress
                )
        # The synthetic store's identity, stamped with the market's own "now" (same rows).
        connection.execute(delete(StoreSettings))
        connection.execute(
            insert(StoreSettings).values(id=1, **STORE_IDENTITY, updated_at=market.config.end)
        )
        refresh_statistics(connection, list(Base.metadata.sorted_tables))
    return written


def write_truth(market: Market, path: str | Path) -> Path:
    """Write each customer's planted traits and latent propensities as CSV.

    Columns: ``customer_id,traits`` then one column per score, named as the score,
    holding the customer's latent propensity for it (:mod:`seed.propensities`).
    ``traits`` is ``;``-separated and sorted, named as the segments plus
    ``lapsed`` (empty for a customer with no planted trait).

    Raises:
        engine.errors.UserError: the file cannot be written.
    """
    target = Path(path)
    try:
        if target.parent and not target.parent.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
        columns = [
            "customer_id",
            "traits",
            *(c for c in market.truth.columns if c not in ("customer_id", "traits")),
        ]
        market.truth.to_csv(target, index=False, columns=columns)
    except OSError as exc:
        raise UserError(f"cannot write truth file {str(target)!r}: {exc.strerror or exc}") from exc
    return target
