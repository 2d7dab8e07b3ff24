"""What a customer will buy next and for how much: category mix and order value range.

Both shrink the customer's own history toward the store's (a customer with one order
is mostly the store; one with fifty is mostly themselves), on order lines before
``as_of``. Integer codes and bincounts throughout: grouping millions of string keys
in pandas is the slow path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm


class CategoryMix:
    """Each customer's category counts and the store's mix; :meth:`predict` gives the
    top three categories per customer, ``(n_c + k m_c) / (n + k)``."""

    def fit(self, lines: pd.DataFrame) -> CategoryMix:
        """``lines``: ``customer_id`` and (when known) ``category``."""
        if "category" in lines:
            known = lines.loc[lines["category"].notna() & (lines["category"].astype(str) != "")]
        else:
            known = lines.iloc[0:0].assign(category=pd.Series(dtype=str))
        counts = (
            known.groupby([known["customer_id"].astype(str), known["category"].astype(str)])
            .size()
            .rename("n")
            .reset_index()
        )
        counts.columns = ["customer_id", "category", "n"]
        self.counts_ = counts
        mix = counts.groupby("category")["n"].sum()
        self.mix_ = (mix / mix.sum()).sort_values(ascending=False) if len(mix) else mix
        return self

    def predict(self, index: pd.Index, prior_strength: float) -> pd.DataFrame:
        """Top three categories per customer: (n_c + k m_c) / (n + k).

        Candidates are the customer's own categories plus the store's top three (a
        category the customer never bought scores k m_c / (n + k), which only the store's
        top three can win). Integer codes throughout: string grouping is the slow path.
        """
        k = float(prior_strength)
        mix = self.mix_
        if len(mix) == 0:
            return pd.DataFrame(
                {"likely_categories": "", "category_probabilities": [{}] * len(index)},
                index=index,
            )
        names = mix.index.to_numpy(dtype=object)
        shares = mix.to_numpy(dtype=float)
        counts = self.counts_
        cust = index.get_indexer(counts["customer_id"])
        mine = cust >= 0
        cust = cust[mine]
        cat = mix.index.get_indexer(counts["category"])[mine]
        n = counts["n"].to_numpy(dtype=float)[mine]
        totals = np.bincount(cust, weights=n, minlength=len(index))
        own_score = (n + k * shares[cat]) / (totals[cust] + k)
        top = np.arange(min(3, len(mix)))
        prior_cust = np.repeat(np.arange(len(index)), len(top))
        prior_cat = np.tile(top, len(index))
        prior_score = k * shares[prior_cat] / (totals[prior_cust] + k)
        # a category the customer bought keeps its own (higher) score
        fresh = ~np.isin(prior_cust * len(mix) + prior_cat, cust * len(mix) + cat)
        all_cust = np.concatenate([cust, prior_cust[fresh]])
        all_cat = np.concatenate([cat, prior_cat[fresh]])
        all_score = np.concatenate([own_score, prior_score[fresh]])
        order = np.lexsort((all_cat, -all_score, all_cust))
        all_cust, all_cat, all_score = all_cust[order], all_cat[order], all_score[order]
        group_start = np.searchsorted(all_cust, all_cust, side="left")
        rank = np.arange(len(all_cust)) - group_start
        keep = rank < 3
        top_cat = np.full((len(index), 3), -1)
        top_score = np.zeros((len(index), 3))
        top_cat[all_cust[keep], rank[keep]] = all_cat[keep]
        top_score[all_cust[keep], rank[keep]] = all_score[keep]
        labels = np.where(top_cat >= 0, names[np.maximum(top_cat, 0)], "")
        joined = (
            pd.Series(labels[:, 0], dtype=object)
            .str.cat(
                [pd.Series(labels[:, 1], dtype=object), pd.Series(labels[:, 2], dtype=object)],
                sep=";",
            )
            .str.strip(";")
        )
        probabilities = [
            {c: round(float(p), 4) for c, p in zip(cs, ps, strict=True) if c}
            for cs, ps in zip(labels.tolist(), top_score.tolist(), strict=True)
        ]
        return pd.DataFrame(
            {"likely_categories": joined.to_numpy(), "category_probabilities": probabilities},
            index=index,
        )


class PriceRange:
    """Each customer's log order values and the store's; :meth:`predict` gives a range
    covering ``coverage`` of their next order's value (a normal on the log scale)."""

    def fit(self, lines: pd.DataFrame) -> PriceRange:
        """``lines``: ``customer_id, amount`` and ``order_id`` (else ``ordered_at``)."""
        # Integer codes and bincounts: grouping 10^6 string keys in pandas is the slow part.
        key = lines["order_id"] if "order_id" in lines else lines["ordered_at"]
        order_code, _ = pd.factorize(key)
        customer_code, customers = pd.factorize(lines["customer_id"].astype(str))
        n_orders = int(order_code.max()) + 1 if len(order_code) else 0
        value = np.bincount(
            order_code, weights=lines["amount"].astype(float).fillna(0.0), minlength=n_orders
        )
        owner = np.zeros(n_orders, dtype=np.int64)
        owner[order_code] = customer_code
        keep = value > 0
        logs, owner = np.log(value[keep]), owner[keep]
        size = np.bincount(owner, minlength=len(customers)).astype(float)
        total = np.bincount(owner, weights=logs, minlength=len(customers))
        squares = np.bincount(owner, weights=logs**2, minlength=len(customers))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / size
            var = np.maximum(squares / size - mean**2, 0.0)
        stats = pd.DataFrame(
            {"n": size, "mean": mean, "var": var}, index=pd.Index(customers, name="customer_id")
        )
        self.stats_ = stats.loc[stats["n"] > 0]
        self.population_ = (float(logs.mean()), float(logs.std())) if len(logs) else (0.0, 0.0)
        return self

    def predict(
        self, index: pd.Index, prior_strength: float, coverage: float
    ) -> tuple[np.ndarray, np.ndarray]:
        k = float(prior_strength)
        mu0, sd0 = self.population_
        stats = self.stats_.reindex(index)
        n = stats["n"].fillna(0.0).to_numpy()
        mean = stats["mean"].fillna(mu0).to_numpy()
        var = stats["var"].fillna(0.0).to_numpy()
        mu = (n * mean + k * mu0) / (n + k)
        # own spread counts n - 1 degrees of freedom; the population's counts k
        spread = np.sqrt(
            (np.maximum(n - 1.0, 0.0) * var + k * sd0**2) / (np.maximum(n - 1.0, 0.0) + k)
        )
        z = float(norm.ppf(0.5 + coverage / 2.0))
        return np.exp(mu - z * spread), np.exp(mu + z * spread)
