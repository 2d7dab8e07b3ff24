"""The one recommender interface and the data every recommender is fitted on.

:class:`StoreData` holds the store's frames as of a moment (built once with
:meth:`StoreData.load` and shared by all recommenders) plus the sparse matrices
derived from them (customers x products). :class:`Recommender` follows the
scikit-learn contract: parameters in ``__init__``, ``fit(data, as_of=...)``
returns ``self``, learned state ends in ``_``, :class:`NotFittedError` before fit.

Each recommender scores the whole catalog for a batch of customers at once
(:meth:`Recommender.score_rows`, a dense ``rows x products`` array, 0 meaning
"nothing to say"), so one request, the blend, ``recommend --all`` and the
offline evaluation share one vectorised path; :meth:`Recommender.recommend`
turns one row into ranked, explained :class:`Scored` items.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sqlalchemy.orm import Session

from engine import frames
from engine.errors import UserError
from engine.frames import EVENT_COLUMNS, ORDER_LINE_COLUMNS
from engine.timeutil import resolve_as_of

from .context import Context, validate_k

__all__ = ["NotFittedError", "Recommender", "Scored", "StoreData", "Contexts"]

# Implicit-feedback strength of each kind of signal (a purchase counts most).
EVENT_WEIGHTS = {"product_view": 0.15, "wishlist_add": 0.4, "cart_add": 0.5}
PURCHASE_WEIGHT = 1.0
GOOD_REVIEW_WEIGHT = 0.5

REVIEW_COLUMNS = ["review_id", "customer_id", "product_id", "rating", "reviewed_at",
                  "category", "brand"]
PRODUCT_COLUMNS = ["product_id", "name", "category", "brand", "price", "list_price", "tags",
                   "region", "in_stock"]
CUSTOMER_COLUMNS = ["customer_id", "name", "email", "city", "region", "country", "signup_at"]

# One context for every row, or one per row.
Contexts = Context | Sequence[Context | None] | None


def _with_columns(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(columns=columns) if frame is None else frame.copy()
    for name in columns:
        if name not in frame.columns:
            frame[name] = None
    return frame


@dataclass(frozen=True)
class Scored:
    """One recommended product: its score, why, and (for the blend) each recommender's share.

    ``score`` is the recommender's raw score, or 0..100 for the blend, whose
    ``contributions`` (recommender name -> points) add up to ``score``.
    """

    product_id: str
    score: float
    reason: str
    contributions: dict[str, float] = field(default_factory=dict)


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
        return cls(lines.reset_index(drop=True), evs.reset_index(drop=True),
                   revs.reset_index(drop=True), prods, custs.reset_index(drop=True), as_of)

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
            seen = pd.Index(pd.unique(np.concatenate(
                [c.dropna().astype(str).to_numpy(dtype=object) for c in columns])))
            return seen.get_indexer(ids.astype(str).to_numpy(dtype=object)) >= 0

        products = self.products[present(self.products["product_id"], lines["product_id"],
                                         evs["product_id"], revs["product_id"])]
        signup = pd.to_datetime(self.customers["signup_at"])
        customers = self.customers[(signup < moment).to_numpy()
                                   | present(self.customers["customer_id"], lines["customer_id"],
                                             evs["customer_id"], revs["customer_id"])]
        return StoreData.from_frames(
            as_of=as_of, products=products, order_lines=lines,
            events=evs, reviews=revs, customers=customers,
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
        ids = pd.concat([self.customers["customer_id"], self.order_lines["customer_id"],
                         self.events["customer_id"], self.reviews["customer_id"]])
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
        frame = pd.DataFrame({
            "order_id": lines["order_id"].astype(str).to_numpy(),
            "row": self.customer_index.get_indexer(lines["customer_id"].astype(str)),
            "item": self.product_index.get_indexer(lines["product_id"].astype(str)),
            "ordered_at": lines["ordered_at"].to_numpy(),
            "quantity": pd.to_numeric(lines["quantity"], errors="coerce").fillna(1).to_numpy(),
            "device": lines["device"].to_numpy(),
            "location": lines["location"].to_numpy(),
            "weather": lines["weather"].to_numpy(),
        })
        frame = frame[(frame["row"] >= 0) & (frame["item"] >= 0)].reset_index(drop=True)
        frame["age_days"] = (pd.Timestamp(self.as_of) - frame["ordered_at"]).dt.total_seconds() \
            / 86400.0
        return frame

    @cached_property
    def item_events(self) -> pd.DataFrame:
        """Product events (views, carts, wishlists; anonymous ones too) with ``row`` (-1 when
        anonymous), ``item``, ``weight`` and ``age_days``."""
        ev = self.events[self.events["event_type"].isin(list(EVENT_WEIGHTS))]
        ev = ev.dropna(subset=["product_id"])
        cust = ev["customer_id"].astype(object).where(ev["customer_id"].notna(), "\x00none")
        frame = pd.DataFrame({
            "row": self.customer_index.get_indexer(cust.astype(str)),
            "item": self.product_index.get_indexer(ev["product_id"].astype(str)),
            "weight": ev["event_type"].map(EVENT_WEIGHTS).to_numpy(dtype=float),
            "occurred_at": ev["occurred_at"].to_numpy(),
            "device": ev["device"].to_numpy(),
            "location": ev["location"].to_numpy(),
            "weather": ev["weather"].to_numpy(),
        })
        frame = frame[frame["item"] >= 0].reset_index(drop=True)
        frame["age_days"] = (pd.Timestamp(self.as_of) - frame["occurred_at"]).dt.total_seconds() \
            / 86400.0
        return frame

    # ----------------------------------------------------------------- matrices
    def _matrix(self, rows: np.ndarray, items: np.ndarray, values: np.ndarray) -> sp.csr_matrix:
        m = sp.csr_matrix((values.astype(np.float64), (rows, items)),
                          shape=(self.n_customers, self.n_items))
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
        values = np.concatenate([p.data * PURCHASE_WEIGHT, ev["weight"].to_numpy(),
                                 np.full(int(keep.sum()), GOOD_REVIEW_WEIGHT)])
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
        m = sp.csr_matrix((np.ones(int(keep.sum())), (np.flatnonzero(keep), codes[keep])),
                          shape=(self.n_items, max(len(labels), 1)))
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
                fill = pd.Series(np.asarray(top["location"], dtype=object),
                                 index=top["row"].to_numpy())
                home = fill.reindex(np.arange(self.n_customers)).to_numpy(dtype=object)
                places["city"] = places["city"].fillna(pd.Series(home, index=places.index))
        return places.reset_index(drop=True)

    @cached_property
    def known_locations(self) -> list[str]:
        """Every city, region and country the store knows (customers, orders, products)."""
        values = pd.concat([
            self.customers["city"], self.customers["region"], self.customers["country"],
            self.order_lines["location"], self.products["region"],
        ]).dropna().astype(str)
        return sorted(set(values[values.str.strip() != ""]))


class Recommender(ABC):
    """The one interface: ``fit(data, as_of=...)``, ``score_rows``, ``recommend``.

    Subclasses set ``name`` (short key) and ``label`` (plain words) and implement
    :meth:`_fit`, :meth:`score_rows` and :meth:`explain`. ``scale`` is how the
    blend turns raw scores into 0..100: ``None`` means relative to the row's best,
    a number means ``score * scale`` (for scores that are already probabilities).
    """

    name: ClassVar[str] = "recommender"
    label: ClassVar[str] = "Recommender"
    scale: ClassVar[float | None] = None

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters (scikit-learn style)."""
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def fit(self, data: StoreData, *, as_of: datetime | None = None) -> Self:
        """Learn from ``data`` (cut at ``as_of`` when that is earlier than ``data.as_of``).

        Returns:
            self, fitted.

        Raises:
            UserError: the store has no products, or no orders or events before ``as_of``.
        """
        if as_of is not None and as_of < data.as_of:
            data = data.before(as_of)
        if data.n_items == 0:
            raise UserError(
                "the store has no products: import a catalog "
                "(personalize import --products FILE) or seed a store"
            )
        if data.interactions.nnz == 0:
            raise UserError(
                f"no orders or events before {data.as_of:%Y-%m-%d %H:%M}: nothing to learn "
                "from (pick a later as-of, or import orders)"
            )
        self.data_ = data
        self.as_of_ = data.as_of
        self._fit(data)
        return self

    @abstractmethod
    def _fit(self, data: StoreData) -> None: ...

    def _check_fitted(self) -> None:
        if not hasattr(self, "data_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(data, as_of=...) first"
            )

    @abstractmethod
    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        """Scores of every product for customer rows (-1: anonymous/unknown).

        Args:
            rows: customer row numbers (``StoreData.rows_of``).
            context: one :class:`Context` for all rows, one per row, or None.

        Returns:
            float32 array ``len(rows) x n_items``, >= 0; 0 means no opinion.
        """

    @abstractmethod
    def explain(self, row: int, items: np.ndarray, context: Context | None = None) -> list[str]:
        """Plain-words reasons for recommending ``items`` (product positions) to ``row``."""

    def explain_many(self, rows: np.ndarray, items: np.ndarray,
                     contexts: Sequence[Context | None] | None = None) -> list[str]:
        """:meth:`explain` for many (row, product) pairs (parallel arrays; ``contexts`` one
        per pair). This default explains each row's pairs in one call; recommenders whose
        reasons vectorise override it."""
        rows = np.asarray(rows, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        out = np.empty(len(items), dtype=object)
        order = np.argsort(rows, kind="stable")
        bounds = np.flatnonzero(np.r_[True, rows[order][1:] != rows[order][:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            pos = order[a:b]
            ctx = contexts[pos[0]] if contexts is not None else None
            out[pos] = self.explain(int(rows[pos[0]]), items[pos], ctx)
        return [str(r) for r in out]

    # ----------------------------------------------------------------- shared
    def customer_row(self, customer_id: str | None, *, allow_unknown: bool = False) -> int:
        """The row of ``customer_id``; None is anonymous (-1).

        Raises:
            UserError: the customer is not in the store (unless ``allow_unknown``).
        """
        self._check_fitted()
        row = self.data_.row_of(customer_id)
        if row < 0 and customer_id is not None and not allow_unknown:
            raise UserError(
                f"unknown customer {customer_id!r}: not in the store as of "
                f"{self.as_of_:%Y-%m-%d %H:%M}; use anonymous (no customer) or check the id"
            )
        return row

    def exclusion_mask(self, exclude: Iterable[str]) -> np.ndarray:
        mask = ~self.data_.in_stock.copy()
        ids = [str(e) for e in exclude]
        if ids:
            pos = self.data_.product_index.get_indexer(ids)
            mask[pos[pos >= 0]] = True
        return mask

    def recommend(
        self,
        customer_id: str | None,
        context: Context | None = None,
        *,
        k: int = 20,
        exclude: Iterable[str] = (),
        allow_unknown: bool = False,
    ) -> list[Scored]:
        """The top ``k`` in-stock products for a customer (None: anonymous) in a context.

        Args:
            customer_id: the customer, or None for an anonymous visitor.
            context: weather, time of day, location, device (validated, see
                :func:`~engine.recommend.context.parse_context`).
            k: how many, 1..100.
            exclude: product ids never to return.
            allow_unknown: treat an unknown customer as anonymous instead of refusing.

        Returns:
            Up to ``k`` :class:`Scored` items, best first (only items with a positive score).

        Raises:
            NotFittedError: before :meth:`fit`.
            UserError: unknown customer, or k outside 1..100.
        """
        validate_k(k)
        row = self.customer_row(customer_id, allow_unknown=allow_unknown)
        scores = self.score_rows(np.array([row]), context)[0]
        scores[self.exclusion_mask(exclude)] = 0.0
        items = top_k(scores[None, :], k)[0]
        items = items[scores[items] > 0]
        reasons = self.explain(row, items, context) if len(items) else []
        return [Scored(str(self.data_.product_ids[i]), float(scores[i]), reason)
                for i, reason in zip(items, reasons, strict=True)]


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column positions of the ``k`` best scores of each row, best first (ties: lower position)."""
    n = scores.shape[1]
    k = min(k, n)
    if k <= 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    if k < n:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(n), (scores.shape[0], 1))
    picked = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -picked), axis=1)
    return np.take_along_axis(part, order, axis=1)


def normalise_rows(scores: np.ndarray) -> np.ndarray:
    """Each row scaled so its best is 100 (rows of zeros stay zero)."""
    top = scores.max(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(top > 0, scores / np.where(top > 0, top, 1.0) * 100.0, 0.0)
    return out.astype(np.float32)


def rows_entries(matrix: sp.csr_matrix, rows: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored entries of some CSR rows as ``(position in rows, column, value)`` arrays."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = matrix.indptr[rows].astype(np.int64)
    lengths = matrix.indptr[rows + 1] - starts
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    take = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
    which = np.repeat(np.arange(len(rows)), lengths)
    return which, matrix.indices[take], matrix.data[take]


def sparse_rows(matrix: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """Rows of a CSR matrix where -1 gives an empty row (built straight from the CSR
    arrays: scipy's fancy indexing costs more than the work at request time)."""
    rows = np.asarray(rows, dtype=np.int64)
    safe = np.maximum(rows, 0)
    starts = matrix.indptr[safe].astype(np.int64)
    lengths = np.where(rows >= 0, matrix.indptr[safe + 1] - starts, 0)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    take = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
    return sp.csr_matrix((matrix.data[take], matrix.indices[take], indptr),
                         shape=(len(rows), matrix.shape[1]))


def row_entries(matrix: sp.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    """Column positions and values of one CSR row without scipy's indexing overhead
    (``row`` -1 gives nothing). The matrix must have sorted indices."""
    if row < 0:
        return np.zeros(0, dtype=matrix.indices.dtype), np.zeros(0, dtype=matrix.dtype)
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def lookup(matrix: sp.csr_matrix, row: int, columns: np.ndarray) -> np.ndarray:
    """Values of ``matrix[row, columns]`` (0 where absent), vectorised over ``columns``."""
    idx, data = row_entries(matrix, row)
    columns = np.asarray(columns)
    if len(idx) == 0:
        return np.zeros(len(columns), dtype=float)
    pos = np.minimum(np.searchsorted(idx, columns), len(idx) - 1)
    return np.where(idx[pos] == columns, data[pos], 0).astype(float)


def context_list(context: Contexts, n: int) -> list[Context | None]:
    """The per-row list form of a context argument."""
    if context is None or isinstance(context, Context):
        return [context] * n
    out = list(context)
    if len(out) != n:
        raise ValueError(f"{len(out)} contexts for {n} rows")
    return out
