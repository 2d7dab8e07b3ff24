"""Every recommender runs the same suite on the toy store (see toy.py for the right answers)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import UserError
from engine.recommend import (
    BlendRecommender,
    CollaborativeRecommender,
    ContentRecommender,
    Context,
    ContextualRecommender,
    NotFittedError,
    PopularityRecommender,
    RebuyRecommender,
    Recommender,
    TrendingRecommender,
)

from .toy import toy_store


@pytest.fixture(scope="module")
def data():
    return toy_store()


class RecommenderSuite:
    """The shared mixin: ``make()`` builds an unfitted recommender."""

    def make(self) -> Recommender:
        raise NotImplementedError

    @pytest.fixture
    def fitted(self, data):
        return self.make().fit(data)

    def test_not_fitted(self):
        with pytest.raises(NotFittedError):
            self.make().recommend("c1")

    def test_fit_returns_self_and_keeps_params(self, data):
        model = self.make()
        params = model.get_params()
        assert model.fit(data) is model
        assert model.get_params() == params

    def test_ranked_unique_explained(self, fitted):
        items = fitted.recommend("c5", Context(weather="rainy"), k=5)
        ids = [s.product_id for s in items]
        assert len(ids) == len(set(ids)) <= 5
        scores = [s.score for s in items]
        assert scores == sorted(scores, reverse=True)
        assert all(isinstance(s.reason, str) and s.reason for s in items)

    def test_out_of_stock_never_shown(self, fitted):
        for customer in ("c1", "c2", "c3", "c5", None):
            assert "stale" not in [s.product_id for s in fitted.recommend(customer, k=20)]

    def test_exclude(self, fitted):
        first = fitted.recommend("c6", Context(weather="rainy"), k=3)
        if first:
            again = fitted.recommend(
                "c6", Context(weather="rainy"), k=3, exclude=[first[0].product_id]
            )
            assert first[0].product_id not in [s.product_id for s in again]

    def test_unknown_customer_refused_anonymous_allowed(self, fitted):
        with pytest.raises(UserError, match="unknown customer 'nobody'"):
            fitted.recommend("nobody")
        fitted.recommend(None, Context(weather="rainy"))
        fitted.recommend("nobody", allow_unknown=True)

    @pytest.mark.parametrize("k", [0, 101])
    def test_k_out_of_range(self, fitted, k):
        with pytest.raises(UserError, match="1 to 100"):
            fitted.recommend("c1", k=k)

    def test_score_rows_shape(self, fitted, data):
        scores = fitted.score_rows(np.array([0, -1, 3]), Context(time_of_day="morning"))
        assert scores.shape == (3, data.n_items)
        assert (scores >= 0).all()

    def test_deterministic(self, data):
        a = self.make().fit(data).recommend("c4", Context(weather="sunny"), k=5)
        b = self.make().fit(data).recommend("c4", Context(weather="sunny"), k=5)
        assert a == b


class TestPopularity(RecommenderSuite):
    def make(self):
        return PopularityRecommender()

    def test_most_buyers_first(self, fitted):
        assert fitted.recommend("c8", k=1)[0].product_id == "tv"


class TestCollaborative(RecommenderSuite):
    def make(self):
        return CollaborativeRecommender()

    def test_bought_together(self, fitted):
        # c1..c3 bought tv and cable; c4 only the tv.
        top = fitted.recommend("c4", k=1)[0]
        assert top.product_id == "cable"
        assert top.reason.startswith("Customers who")

    def test_no_history_no_opinion(self, fitted):
        assert fitted.recommend("c8", k=5) == []


class TestContent(RecommenderSuite):
    def make(self):
        return ContentRecommender()

    def test_category_interest(self, fitted):
        top = fitted.recommend("c5", k=3)
        assert {s.product_id for s in top} <= {"milk", "cheese", "yogurt", "butter"}
        assert top[0].reason == "You often buy from Dairy"

    def test_names_when_categories_missing(self, data):
        from engine.recommend.base import StoreData

        products = data.products.assign(category=None, brand=None)
        bare = StoreData.from_frames(
            as_of=data.as_of,
            products=products,
            order_lines=data.order_lines,
            customers=data.customers,
        )
        top = ContentRecommender().fit(bare).recommend("c5", k=2)
        # Names share "Moo": milk and the bought cheese/yogurt come first.
        assert {s.product_id for s in top} <= {"milk", "cheese", "yogurt"}
        assert top[0].reason.startswith("Similar to Moo")


class TestContextual(RecommenderSuite):
    def make(self):
        return ContextualRecommender()

    def test_rain_tag(self, fitted):
        top = fitted.recommend("c5", Context(weather="rainy"), k=1)[0]
        assert top.product_id == "umbrella"
        assert top.reason == "Because it is raining in Seattle"

    def test_sunny_and_evening_tags(self, fitted):
        def rank(weather: str, product: str) -> int:
            ids = [s.product_id for s in fitted.recommend(None, Context(weather=weather), k=20)]
            return ids.index(product)

        assert rank("sunny", "sunglasses") < rank("sunny", "umbrella")
        assert rank("rainy", "umbrella") < rank("rainy", "sunglasses")
        evening = {
            s.product_id for s in fitted.recommend(None, Context(time_of_day="evening"), k=2)
        }
        assert evening == {"tea", "wine"}

    def test_empty_context_says_nothing(self, fitted):
        assert fitted.recommend("c5", Context(), k=5) == []

    def test_lift_learned_without_tags(self, data):
        # No tags at all: Outdoor sells in the rain in the history, so it is lifted.
        lines = data.order_lines.copy()
        lines["weather"] = np.where(lines["product_id"] == "umbrella", "rainy", "sunny")
        from engine.recommend.base import StoreData

        bare = StoreData.from_frames(
            as_of=data.as_of,
            products=data.products.assign(tags=None),
            order_lines=lines,
            customers=data.customers,
        )
        model = ContextualRecommender(smoothing=1.0).fit(bare)
        rainy = model.score_context(Context(weather="rainy"))
        sunny = model.score_context(Context(weather="sunny"))
        umbrella = bare.product_index.get_loc("umbrella")
        tv = bare.product_index.get_loc("tv")
        assert rainy[umbrella] / rainy[tv] > sunny[umbrella] / sunny[tv]
        reason = model.explain(-1, np.array([umbrella]), Context(weather="rainy"))[0]
        assert reason == "Sells more when it is raining"


class TestTrending(RecommenderSuite):
    def make(self):
        return TrendingRecommender()

    def test_recent_beats_old(self, fitted):
        top = fitted.recommend("c8", k=1)[0]
        assert top.product_id == "wine"
        assert top.reason == "Trending this week"


class TestRebuy(RecommenderSuite):
    def make(self):
        return RebuyRecommender()

    def test_weekly_milk(self, fitted):
        top = fitted.recommend("c6", k=1)[0]
        assert top.product_id == "milk"
        assert top.reason == "You buy this about every 7 days"
        assert top.score > 0.5

    def test_one_off_purchase_unlikely(self, fitted):
        tv = fitted.recommend("c4", k=5)
        assert all(s.score < 0.1 for s in tv)

    def test_only_bought_items(self, fitted):
        assert {s.product_id for s in fitted.recommend("c5", k=10)} <= {"cheese", "yogurt", "wine"}


class TestBlend(RecommenderSuite):
    def make(self):
        return BlendRecommender()
