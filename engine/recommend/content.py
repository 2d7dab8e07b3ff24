"""Content-based: the customer's category, brand and price-band interests matched to products.

A customer's interests are the shares of their implicit feedback (purchases,
carts, views) per category, brand and price band (quintile of the price within
the product's category). Product names are a fourth signal through TF-IDF,
which carries the whole weight where categories are missing (real imports often
lack them). Within equal interests, better-selling products come first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from .base import Contexts, Recommender, StoreData, lookup, row_entries, sparse_rows

N_PRICE_BANDS = 5
BAND_WORDS = ("budget", "lower-priced", "mid-priced", "higher-priced", "premium")


def price_bands(products: pd.DataFrame, n: int = N_PRICE_BANDS) -> np.ndarray:
    """Per product its price band 0..n-1 within its category (-1 without a price)."""
    price = pd.to_numeric(products["price"], errors="coerce")
    price = price.fillna(pd.to_numeric(products["list_price"], errors="coerce"))
    group = products["category"].fillna("\x00all")
    pct = price.groupby(group).rank(pct=True, method="average")
    bands = np.floor(pct.to_numpy() * n - 1e-9)
    return np.where(np.isnan(bands), -1, np.clip(bands, 0, n - 1)).astype(np.int64)


class ContentRecommender(Recommender):
    """Matches the customer's category, brand, price-band and name interests to products.

    Parameters:
        category_weight, brand_weight, price_weight, text_weight: how much each
            interest counts (text is used alone where a product has no category).
        popularity_tiebreak: share of the score given by the product's popularity,
            so that within a category the products people buy come first.

    Learned state: ``category_affinity_``, ``brand_affinity_``, ``band_affinity_``
    (customers x labels, rows sum to 1), ``text_profile_`` (customers x terms).
    """

    name = "content"
    label = "Matches your interests"

    def __init__(
        self,
        category_weight: float = 1.0,
        brand_weight: float = 0.6,
        price_weight: float = 0.3,
        text_weight: float = 0.6,
        popularity_tiebreak: float = 0.5,
    ) -> None:
        self.category_weight = category_weight
        self.brand_weight = brand_weight
        self.price_weight = price_weight
        self.text_weight = text_weight
        self.popularity_tiebreak = popularity_tiebreak

    def _fit(self, data: StoreData) -> None:
        x = data.interactions
        self.cat_items_, self.category_labels_ = data.one_hot("category")
        self.brand_items_, self.brand_labels_ = data.one_hot("brand")
        bands = price_bands(data.products)
        keep = bands >= 0
        self.band_items_ = sp.csr_matrix(
            (np.ones(int(keep.sum())), (np.flatnonzero(keep), bands[keep])),
            shape=(data.n_items, N_PRICE_BANDS),
        )
        self.item_category_, _ = data.codes("category")
        self.item_brand_, _ = data.codes("brand")
        self.item_band_ = bands
        self.history_ = x.copy()
        self.history_.sort_indices()
        self.category_affinity_ = normalize(x @ self.cat_items_, norm="l1").tocsr()
        self.brand_affinity_ = normalize(x @ self.brand_items_, norm="l1").tocsr()
        self.band_affinity_ = normalize(x @ self.band_items_, norm="l1").tocsr()
        for m in (self.category_affinity_, self.brand_affinity_, self.band_affinity_):
            m.sort_indices()
        names = data.products["name"].fillna("").astype(str)
        self.text_items_: sp.csr_matrix | None = None
        if (names.str.len() > 0).any():
            try:
                tfidf = TfidfVectorizer(
                    min_df=2,
                    max_features=20_000,
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b[^\W\d_]{2,}\b",
                )
                self.text_items_ = tfidf.fit_transform(names).tocsr().astype(np.float32)
                self.text_profile_ = normalize(x @ self.text_items_, norm="l2").tocsr()
                self.text_profile_.sort_indices()
                self.text_items_t_ = self.text_items_.T.tocsr()
            except ValueError:  # no usable words at all
                self.text_items_ = None
        # Name similarity counts fully where the category is missing, partly elsewhere.
        self.text_item_weight_ = (
            np.where(self.item_category_ < 0, 1.0 + self.category_weight, 1.0).astype(np.float32)
            * self.text_weight
        )
        pop = np.log1p(data.item_popularity)
        pop = pop / pop.max() if pop.max() > 0 else pop
        self.tiebreak_ = ((1 - self.popularity_tiebreak) + self.popularity_tiebreak * pop).astype(
            np.float32
        )

    @staticmethod
    def _gather(affinity: sp.csr_matrix, rows: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Per row and product: the row's affinity to the product's label (0 if unlabelled)."""
        dense = sparse_rows(affinity, rows).toarray()
        return np.where(codes[None, :] >= 0, dense[:, np.maximum(codes, 0)], 0.0)

    def _parts(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        parts = {
            "category": self._gather(self.category_affinity_, rows, self.item_category_)
            * self.category_weight,
            "brand": self._gather(self.brand_affinity_, rows, self.item_brand_) * self.brand_weight,
            "price": self._gather(self.band_affinity_, rows, self.item_band_) * self.price_weight,
        }
        if self.text_items_ is not None:
            parts["text"] = (
                sparse_rows(self.text_profile_, rows) @ self.text_items_t_
            ).toarray() * self.text_item_weight_[None, :]
        return parts

    def score_rows(self, rows: np.ndarray, context: Contexts = None) -> np.ndarray:
        self._check_fitted()
        parts = self._parts(rows)
        interest = parts["category"] + parts["brand"] + parts.get("text", 0.0)
        # Price band alone says nothing about what to buy: it only tilts real interests.
        total = interest * (1.0 + parts["price"]) * self.tiebreak_[None, :]
        return total.astype(np.float32)

    def _parts_at(self, row: int, items: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`_parts` of one row at some products only (cheap, for explanations)."""

        def at(affinity: sp.csr_matrix, codes: np.ndarray) -> np.ndarray:
            c = codes[items]
            return np.where(c >= 0, lookup(affinity, row, np.maximum(c, 0)), 0.0)

        parts = {
            "category": at(self.category_affinity_, self.item_category_) * self.category_weight,
            "brand": at(self.brand_affinity_, self.item_brand_) * self.brand_weight,
            "price": at(self.band_affinity_, self.item_band_) * self.price_weight,
        }
        if self.text_items_ is not None:
            idx, val = row_entries(self.text_profile_, row)
            profile = np.zeros(self.text_items_.shape[1])
            profile[idx] = val
            parts["text"] = (
                sparse_rows(self.text_items_, items) @ profile
            ) * self.text_item_weight_[items]
        return parts

    def explain(self, row: int, items: np.ndarray, context=None) -> list[str]:  # type: ignore[no-untyped-def]
        self._check_fitted()
        items = np.asarray(items, dtype=np.int64)
        parts = self._parts_at(row, items)
        names = list(parts)
        stacked = np.stack([parts[n] for n in names])
        best = [names[j] for j in np.argmax(stacked, axis=0)]
        similar = self._similar(row, items[np.array([b == "text" for b in best], dtype=bool)])
        out = []
        for i, kind in zip(items, best, strict=True):
            if kind == "category" and self.item_category_[i] >= 0:
                out.append(f"You often buy from {self.category_labels_[self.item_category_[i]]}")
            elif kind == "brand" and self.item_brand_[i] >= 0:
                out.append(f"You like {self.brand_labels_[self.item_brand_[i]]}")
            elif kind == "text" and int(i) in similar:
                out.append(f"Similar to {similar[int(i)]}, which you showed interest in")
            elif self.item_band_[i] >= 0 and kind == "price":
                out.append(f"In your usual price range ({BAND_WORDS[self.item_band_[i]]})")
            else:
                out.append("Matches what you usually look at")
        return out

    def _similar(self, row: int, items: np.ndarray) -> dict[int, str]:
        """For each item, the name of the most similar (by name) other product in the row's
        history; items with none (only themselves, or products of the very same name,
        which would read "similar to itself") are left out."""
        if self.text_items_ is None or len(items) == 0 or row < 0:
            return {}
        hist, _ = row_entries(self.history_, row)
        if len(hist) == 0:
            return {}
        sims = (
            sparse_rows(self.text_items_, hist) @ sparse_rows(self.text_items_, items).T
        ).toarray()
        names = self.data_.product_names
        same = (hist[:, None] == items[None, :]) | (names[hist][:, None] == names[items][None, :])
        sims[same] = 0.0
        best = np.argmax(sims, axis=0)
        found = sims[best, np.arange(len(items))] > 0
        return {
            int(i): str(names[hist[b]]) for i, b, ok in zip(items, best, found, strict=True) if ok
        }
