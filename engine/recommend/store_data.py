"""The data every recommender is fitted on: the store's frames as of a moment and the
sparse matrices derived from them (customers x products), built once and shared."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sqlalchemy.orm import Session

from engine import frames
from engine.frames import EVENT_COLUMNS, ORDER_LINE_COLUMNS
from engine.timeutil import resolve_as_of

# Implicit-feedback strength of each kind of signal (a purchase counts most).
EVENT_WEIGHTS = {"product_view": 0.15, "wishlist_add": 0.4, "cart_add": 0.5}
PURCHASE_WEIGHT = 1.0
GOOD_REVIEW_WEIGHT = 0.5

REVIEW_COLUMNS = [
    "review_id",
    "customer_id",
    "product_id",
    "rating",
    "reviewed_at",
    "category",
    "brand",
]
PRODUCT_COLUMNS = [
    "product_id",
    "name",
    "category",
    "brand",
    "price",
    "list_price",
    "tags",
    "region",
    "in_stock",
]
CUSTOMER_COLUMNS = ["customer_id", "name", "email", "city", "region", "country", "signup_at"]


def _with_columns(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(columns=columns) if frame is None else frame.copy()
    for name in columns:
        if name not in frame.columns:
            frame[name] = None
    return frame


@dataclass(eq=False)
class StoreData:
    """The store's frames strictly before ``as_of`` and the matrices derived from them.

    Frames (columns as in :mod:`engine.frames`): ``order_lines``, ``events``,
    ``reviews``, ``products``, ``customers``. Build with :meth:`load` (from a
    session) or :meth:`from_frames` (tests, experiments); derived arrays are
    computed once, lazily, and shared by every recommender fitted on it.
    """

    order_lines: pd.DataFrame
    events: pd.DataFrame
    reviews: pd.DataFrame
    products: pd.DataFrame
    customers: pd.DataFrame
    as_of: datetime

    # ----------------------------------------------------------------- building
    @classmethod
    def load(cls, session: Session, *, as_of: datetime | None = None) -> StoreData:
        """Load every frame as of ``as_of`` (default: just after the newest data)."""
        as_of = resolve_as_of(session, as_of)
        return cls.from_frames(
            as_of=as_of,
            order_lines=frames.load_order_lines(session, as_of=as_of),
            events=frames.load_events(session, as_of=as_of),
            reviews=frames.load_reviews(session, as_of=as_of),
            products=frames.load_products(session, as_of=as_of),
            customers=frames.load_customers(session, as_of=as_of),
        )

    @classmethod
    def from_frames(
        cls,
        *,
        as_of: datetime,
        products: pd.DataFrame,
        order_lines: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        reviews: pd.DataFrame | None = None,
        customers: pd.DataFrame | None = None,
    ) -> StoreData:
        """Build from frames; missing frames or columns are filled empty, rows at or after
        ``as_of`` dropped. ``customers`` defaults to everyone seen in orders or events."""
        lines = _with_columns(order_lines, ORDER_LINE_COLUMNS)
        evs = _with_columns(events, EVENT_COLUMNS)
        revs = _with_columns(reviews, REVIEW_COLUMNS)
        prods = _with_columns(products, PRODUCT_COLUMNS)
        prods["product_id"] = prods["product_id"].astype(str)
        prods = prods.drop_duplicates("product_id").sort_values("product_id", kind="stable")
        prods = prods.reset_index(drop=True)
        for frame, column in ((lines, "ordered_at"), (evs, "occurred_at"), (revs, "reviewed_at")):
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
        lines = lines[lines["ordered_at"] < as_of]
        evs = evs[evs["occurred_at"] < as_of]
        revs = revs[revs["reviewed_at"] < as_of]
        # Order lines carry the product's category and brand (as frames.load_order_lines does).
        attrs = prods.set_index("product_id")[["category", "brand"]]
        for name in ("category", "brand"):
            if lines[name].isna().all() and len(lines):
                lines[name] = lines["product_id"].astype(str).map(attrs[name])
            if revs[name].isna().all() and len(revs):
                revs[name] = revs["product_id"].astype(str).map(attrs[name])
        if customers is None:
            ids = pd.concat([lines["customer_id"], evs["customer_id"], revs["customer_id"]])
            customers = pd.DataFrame({"customer_id": sorted(ids.dropna().astype(str).unique())})
        custs = _with_columns(customers, CUSTOMER_COLUMNS)
        custs["customer_id"] = custs["customer_id"].astype(str)
        custs = custs.drop_duplicates("customer_id")
        return cls(
            lines.reset_index(drop=True),
            evs.reset_index(drop=True),
            revs.reset_index(drop=True),
            prods,
            custs.reset_index(drop=True),
            as_of,
        )

    def before(self, as_of: datetime) -> StoreData:
        """The same store as of an earlier moment: frames cut at ``as_of``, and only the
        products and customers that exist by then (as :mod:`engine.frames` rules: some
        data of theirs before ``as_of``, or for a customer a signup before it)."""
        if as_of > self.as_of:
            raise ValueError(f"cannot move as_of forward ({as_of} > {self.as_of})")
        moment = pd.Timestamp(as_of)
        lines = self.order_lines[self.order_lines["ordered_at"] < moment]
        evs = self.events[self.events["occurred_at"] < moment]
        revs = self.reviews[self.reviews["reviewed_at"] < moment]

        def present(ids: pd.Series, *columns: pd.Series) -> np.ndarray:
            # Index look-ups of the distinct ids: isin on arrow strings costs seconds.
            seen = pd.Index(
                pd.unique(
                    np.concatenate([c.dropna().astype(str).to_numpy(dtype=object) for c in columns])
                )
            )
            return seen.get_indexer(ids.astype(str).to_numpy(dtype=object)) >= 0

        products = self.products[
            present(
                self.products["product_id"],
                lines["product_id"],
                evs["product_id"],
                revs["product_id"],
            )
        ]
        signup = pd.to_datetime(self.customers["signup_at"])
        customers = self.customers[
            (signup < moment).to_numpy()
            | present(
                self.customers["customer_id"],
                lines["customer_id"],
                evs["customer_id"],
                revs["customer_id"],
            )
        ]
        return StoreData.from_frames(
            as_of=as_of,
            products=products,
            order_lines=lines,
            events=evs,
            reviews=revs,
            customers=customers,
        )

    # ----------------------------------------------------------------- indices
    @cached_property
    def product_ids(self) -> np.ndarray:
        """Product ids in column order of every matrix (sorted)."""
        return self.products["product_id"].astype(str).to_numpy()

    @cached_property
    def product_index(self) -> pd.Index:
        return pd.Index(self.product_ids)

    @cached_property
    def customer_ids(self) -> np.ndarray:
        """Customer ids in row order: the customers frame plus anyone seen in the history."""
        ids = pd.concat(
            [
                self.customers["customer_id"],
                self.order_lines["customer_id"],
                self.events["customer_id"],
                self.reviews["customer_id"],
            ]
        )
        return np.array(sorted(ids.dropna().astype(str).unique()), dtype=object)

    @cached_property
    def customer_index(self) -> pd.Index:
        return pd.Index(self.customer_ids)

    @property
    def n_items(self) -> int:
        return len(self.product_ids)

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    @cached_property
    def _customer_rows(self) -> dict[str, int]:
        return {str(c): i for i, c in enumerate(self.customer_ids)}

    def row_of(self, customer_id: str | None) -> int:
        """The matrix row of a customer, -1 for None or someone with no row."""
        if customer_id is None:
            return -1
        return self._customer_rows.get(str(customer_id), -1)

    def rows_of(self, customer_ids: Iterable[str | None]) -> np.ndarray:
        ids = [str(c) if c is not None else "\x00none" for c in customer_ids]
        return self.customer_index.get_indexer(ids).astype(np.int64)

    # ----------------------------------------------------------------- frames with indices
    @cached_property
    def purchases(self) -> pd.DataFrame:
        """Order lines of known customers and products with ``row``, ``item`` and
        ``age_days`` (days before ``as_of``)."""
        lines = self.order_lines.dropna(subset=["customer_id", "product_id"])
        frame = pd.DataFrame(
            {
                "order_id": lines["order_id"].astype(str).to_numpy(),
                "row": self.customer_index.get_indexer(lines["customer_id"].astype(str)),
                "item": self.product_index.get_indexer(lines["product_id"].astype(str)),
                "ordered_at": lines["ordered_at"].to_numpy(),
                "quantity": pd.to_numeric(lines["quantity"], errors="coerce").fillna(1).to_numpy(),
                "device": lines["device"].to_numpy(),
                "location": lines["location"].to_numpy(),
                "weather": lines["weather"].to_numpy(),
            }
        )
        frame = frame[(frame["row"] >= 0) & (frame["item"] >= 0)].reset_index(drop=True)
        frame["age_days"] = (
            pd.Timestamp(self.as_of) - frame["ordered_at"]
        ).dt.total_seconds() / 86400.0
        return frame

    @cached_property
    def item_events(self) -> pd.DataFrame:
        """Product events (views, carts, wishlists; anonymous ones too) with ``row`` (-1 when
        anonymous), ``item``, ``weight`` and ``age_days``."""
        ev = self.events[self.events["event_type"].isin(list(EVENT_WEIGHTS))]
        ev = ev.dropna(subset=["product_id"])
        cust = ev["customer_id"].astype(object).where(ev["customer_id"].notna(), "\x00none")
        frame = pd.DataFrame(
            {
                "row": self.customer_index.get_indexer(cust.astype(str)),
                "item": self.product_index.get_indexer(ev["product_id"].astype(str)),
                "weight": ev["event_type"].map(EVENT_WEIGHTS).to_numpy(dtype=float),
                "occurred_at": ev["occurred_at"].to_numpy(),
                "device": ev["device"].to_numpy(),
                "location": ev["location"].to_numpy(),
                "weather": ev["weather"].to_numpy(),
            }
        )
        frame = frame[frame["item"] >= 0].reset_index(drop=True)
        frame["age_days"] = (
            pd.Timestamp(self.as_of) - frame["occurred_at"]
        ).dt.total_seconds() / 86400.0
        return frame

    # ----------------------------------------------------------------- matrices
    def _matrix(self, rows: np.ndarray, items: np.ndarray, values: np.ndarray) -> sp.csr_matrix:
        m = sp.csr_matrix(
            (values.astype(np.float64), (rows, items)), shape=(self.n_customers, self.n_items)
        )
        m.sum_duplicates()
        return m

    @cached_property
    def purchase_counts(self) -> sp.csr_matrix:
        """customers x products: number of distinct orders containing the product."""
        p = self.purchases.drop_duplicates(["order_id", "item"])
        return self._matrix(p["row"].to_numpy(), p["item"].to_numpy(), np.ones(len(p)))

    @cached_property
    def interactions(self) -> sp.csr_matrix:
        """customers x products: implicit feedback, purchases 1, carts 0.5, wishlists 0.4,
        views 0.15 per event, good reviews (4-5) 0.5; ``log1p`` so heavy viewers do not
        drown a purchase."""
        p = self.purchase_counts.tocoo()
        ev = self.item_events[self.item_events["row"] >= 0]
        rv = self.reviews.dropna(subset=["customer_id", "product_id"])
        rv = rv[pd.to_numeric(rv["rating"], errors="coerce") >= 4]
        rv_rows = self.customer_index.get_indexer(rv["customer_id"].astype(str))
        rv_items = self.product_index.get_indexer(rv["product_id"].astype(str))
        keep = (rv_rows >= 0) & (rv_items >= 0)
        rows = np.concatenate([p.row, ev["row"].to_numpy(), rv_rows[keep]])
        items = np.concatenate([p.col, ev["item"].to_numpy(), rv_items[keep]])
        values = np.concatenate(
            [
                p.data * PURCHASE_WEIGHT,
                ev["weight"].to_numpy(),
                np.full(int(keep.sum()), GOOD_REVIEW_WEIGHT),
            ]
        )
        m = self._matrix(rows, items, values)
        m.data = np.log1p(m.data)
        return m

    @cached_property
    def activity(self) -> np.ndarray:
        """Per customer row: number of purchase lines plus product events (how much we know)."""
        n = np.bincount(self.purchases["row"].to_numpy(), minlength=self.n_customers)
        ev = self.item_events[self.item_events["row"] >= 0]
        n = n + np.bincount(ev["row"].to_numpy(), minlength=self.n_customers)
        return n.astype(np.int64)

    @cached_property
    def in_stock(self) -> np.ndarray:
        """Per product: may it be shown (unknown stock counts as in stock)."""
        s = self.products["in_stock"]
        return s.isna().to_numpy() | s.fillna(True).astype(bool).to_numpy()

    @cached_property
    def item_popularity(self) -> np.ndarray:
        """Per product: distinct customers who bought it before ``as_of``."""
        pc = self.purchase_counts.copy()
        pc.data[:] = 1.0
        return np.asarray(pc.sum(axis=0)).ravel()

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Per product the code of ``column`` (-1 when missing) and the code's labels."""
        codes, labels = pd.factorize(self.products[column], sort=True)
        return codes.astype(np.int64), np.asarray(labels, dtype=object)

    def one_hot(self, column: str) -> tuple[sp.csr_matrix, np.ndarray]:
        """products x labels indicator matrix of ``column`` (missing values: empty row)."""
        codes, labels = self.codes(column)
        keep = codes >= 0
        m = sp.csr_matrix(
            (np.ones(int(keep.sum())), (np.flatnonzero(keep), codes[keep])),
            shape=(self.n_items, max(len(labels), 1)),
        )
        return m, labels

    @cached_property
    def product_names(self) -> np.ndarray:
        names = self.products["name"].astype(object)
        return names.where(names.notna(), self.products["product_id"]).astype(str).to_numpy()

    @cached_property
    def customer_places(self) -> pd.DataFrame:
        """Per customer row: ``city, region, country`` (home city falls back to the most
        frequent order location)."""
        c = self.customers.set_index("customer_id")[["city", "region", "country"]]
        places = c.reindex(self.customer_ids)
        if places["city"].isna().any() and len(self.purchases):
            loc = self.purchases.dropna(subset=["location"])
            if len(loc):
                # The most frequent location per customer (ties: the first in sort order),
                # set-based: a per-customer value_counts costs seconds on real stores.
                counts = loc.groupby(["row", "location"], sort=True).size().reset_index()
                counts = counts.sort_values(["row", 0], ascending=[True, False], kind="stable")
                top = counts.drop_duplicates("row")
                fill = pd.Series(
                    np.asarray(top["location"], dtype=object), index=top["row"].to_numpy()
                )
                home = fill.reindex(np.arange(self.n_customers)).to_numpy(dtype=object)
                places["city"] = places["city"].fillna(pd.Series(home, index=places.index))
        return places.reset_index(drop=True)

    @cached_property
    def known_locations(self) -> list[str]:
        """Every city, region and country the store knows (customers, orders, products)."""
        values = (
            pd.concat(
                [
                    self.customers["city"],
                    self.customers["region"],
                    self.customers["country"],
                    self.order_lines["location"],
                    self.products["region"],
                ]
            )
            .dropna()
            .astype(str)
        )
        return sorted(set(values[values.str.strip() != ""]))
