"""The one recommender interface; the data it is fitted on and the array helpers.

:class:`StoreData` (:mod:`engine.recommend.store_data`) holds the store's frames as
of a moment (built once with :meth:`StoreData.load` and shared by all recommenders)
plus the sparse matrices derived from them (customers x products); the array
helpers are in :mod:`engine.recommend.sparse` (both importable from here).

:class:`Recommender` follows the scikit-learn contract: parameters in ``__init__``,
``fit(data, as_of=...)`` returns ``self``, learned state ends in ``_``,
:class:`NotFittedError` before fit.

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
from typing import Any, ClassVar, Self

import numpy as np
from sklearn.exceptions import NotFittedError

from engine.errors import UserError

from .context import Context, validate_k
from .sparse import lookup, normalise_rows, row_entries, rows_entries, sparse_rows, top_k
from .store_data import StoreData

__all__ = [
    "Contexts",
    "NotFittedError",
    "Recommender",
    "Scored",
    "StoreData",
    "context_list",
    "lookup",
    "normalise_rows",
    "row_entries",
    "rows_entries",
    "sparse_rows",
    "top_k",
]

# One context for every row, or one per row.
Contexts = Context | Sequence[Context | None] | None


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

    def explain_many(
        self, rows: np.ndarray, items: np.ndarray, contexts: Sequence[Context | None] | None = None
    ) -> list[str]:
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
        return [
            Scored(str(self.data_.product_ids[i]), float(scores[i]), reason)
            for i, reason in zip(items, reasons, strict=True)
        ]


def context_list(context: Contexts, n: int) -> list[Context | None]:
    """The per-row list form of a context argument."""
    if context is None or isinstance(context, Context):
        return [context] * n
    out = list(context)
    if len(out) != n:
        raise ValueError(f"{len(out)} contexts for {n} rows")
    return out
