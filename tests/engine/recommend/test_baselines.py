"""The evaluation's baselines run the shared recommender suite on the toy store, plus the
answers each one must get right there (see toy.py)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.recommend.als import ALSRecommender
from engine.recommend.ease import EASERecommender
from engine.recommend.frequency import PersonalFrequencyRecommender
from engine.recommend.itemknn import ItemKNNRecommender
from engine.recommend.tifu import TIFUKNNRecommender, tifu_vectors

from .test_recommenders import RecommenderSuite
from .toy import toy_store


@pytest.fixture(scope="module")
def data():
    return toy_store()


def ids(model, customer, k=5):
    return [s.product_id for s in model.recommend(customer, k=k)]


class TestPersonalFrequency(RecommenderSuite):
    def make(self):
        return PersonalFrequencyRecommender()

    def test_own_items_first_by_count_then_popularity(self, fitted):
        # c6: 20 weekly milks, one wine; then the most-bought product (tv).
        assert ids(fitted, "c6", 3) == ["milk", "wine", "tv"]
        assert fitted.recommend("c6", k=1)[0].reason == "You bought this in 20 orders"

    def test_recency_weighting(self, data):
        # c5 bought cheese 10/40/70 days ago and yogurt a day before each: with a short
        # half-life the fresher cheese wins; without decay they tie (then position: cheese).
        short = PersonalFrequencyRecommender(half_life_days=5).fit(data)
        assert ids(short, "c5", 1) == ["wine"]  # wine: 2 days ago
        plain = PersonalFrequencyRecommender(half_life_days=None).fit(data)
        assert ids(plain, "c5", 2) == ["cheese", "yogurt"]

    def test_cold_customer_gets_popularity(self, fitted):
        assert ids(fitted, "c8", 1) == ["tv"]


class TestItemKNN(RecommenderSuite):
    def make(self):
        return ItemKNNRecommender()

    def test_bought_together(self, fitted):
        assert next(p for p in ids(fitted, "c4", 5) if p != "tv") == "cable"


class TestEASE(RecommenderSuite):
    def make(self):
        return EASERecommender(l2=1.0)

    def test_bought_together(self, fitted, data):
        # c4 bought the tv: the cable (with the tv for 3 of its 4 buyers) beats the milk (2)
        # and anything never bought with a tv.
        scores = dict(
            zip(data.product_ids, fitted.score_rows(np.array([data.row_of("c4")]))[0], strict=True)
        )
        assert scores["cable"] > scores["milk"] > scores["wine"]

    def test_item_bound(self, data):
        model = EASERecommender(max_items=3).fit(data)
        assert len(model.items_) == 3
        scores = model.score_rows(np.array([0]))[0]
        assert (scores > 0).sum() == 3


class TestALS(RecommenderSuite):
    def make(self):
        return ALSRecommender(factors=4, iterations=10)

    def test_own_staple_ranks_high(self, fitted):
        assert "milk" in ids(fitted, "c6", 3)


class TestTIFUKNN(RecommenderSuite):
    def make(self):
        return TIFUKNNRecommender(neighbours=2)

    def test_weekly_milk_first(self, fitted):
        assert ids(fitted, "c6", 1) == ["milk"]

    def test_vectors_by_hand(self, data):
        # c5: six baskets (cheese, yogurt alternating, newest cheese 10 days ago). Groups of 2,
        # newest first: [cheese10, yogurt11], [cheese40, yogurt41], [cheese70, yogurt71]
        # plus wine 2 days ago makes 7 baskets: [wine, cheese10], [yogurt11, cheese40],
        # [yogurt41, cheese70], [yogurt71]. Decays 0.5 within, 0.5 across; 4 groups.
        v = tifu_vectors(data, group_size=2, within_decay=0.5, group_decay=0.5).toarray()
        row = data.row_of("c5")
        col = data.product_index.get_loc
        g = 4
        wine = 1 / 2 / g
        cheese = (0.5 / 2 + 0.5 * 0.5 / 2 + 0.25 * 0.5 / 2) / g
        yogurt = (0.5 * 1 / 2 + 0.25 * 1 / 2 + 0.125 * 1 / 1) / g
        assert np.isclose(v[row, col("wine")], wine)
        assert np.isclose(v[row, col("cheese")], cheese)
        assert np.isclose(v[row, col("yogurt")], yogurt)

    def test_neighbours_fill_in(self, fitted):
        # c4's own tv and sunglasses first; then from the nearest customers (c1..c3, who
        # also bought the tv) their newer baskets: tea, then the cable.
        top = ids(fitted, "c4", 4)
        assert set(top[:2]) == {"tv", "sunglasses"} and top[2:] == ["tea", "cable"]
