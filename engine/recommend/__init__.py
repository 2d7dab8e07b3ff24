"""Recommendations: collaborative, content-based, contextual, trending and buy-it-again,
blended, explained, and evaluated against tuned baselines (popularity, personal
frequency, item-kNN, ALS, EASE, TIFU-KNN) in two protocols.

Typical use::

    data = StoreData.load(session, as_of=T)          # frames as of T, shared by all
    blend = BlendRecommender().fit(data)
    ctx = parse_context(weather="rainy", time_of_day=8, known_locations=data.known_locations)
    blend.recommend("C00042", ctx, k=20)             # -> list[Scored]
"""

from .als import ALSRecommender
from .base import NotFittedError, Recommender, Scored, StoreData
from .blend import DEFAULT_WEIGHTS, BlendRecommender, default_recommenders
from .collaborative import CollaborativeRecommender
from .content import ContentRecommender
from .context import DEVICES, TIMES_OF_DAY, WEATHERS, Context, parse_context, validate_k
from .contextual import ContextualRecommender
from .ease import EASERecommender
from .emotion import Mood
from .evaluation import BASELINES, PROTOCOLS, evaluate, evaluate_store, ranking_metrics
from .frequency import PersonalFrequencyRecommender
from .itemknn import ItemKNNRecommender
from .lists import compare_contexts
from .popularity import PopularityRecommender
from .rebuy import RebuyRecommender
from .tifu import TIFUKNNRecommender
from .trending import TrendingRecommender

__all__ = [
    "ALSRecommender",
    "BASELINES",
    "EASERecommender",
    "ItemKNNRecommender",
    "PROTOCOLS",
    "PersonalFrequencyRecommender",
    "TIFUKNNRecommender",
    "DEFAULT_WEIGHTS",
    "DEVICES",
    "TIMES_OF_DAY",
    "WEATHERS",
    "BlendRecommender",
    "CollaborativeRecommender",
    "ContentRecommender",
    "Context",
    "ContextualRecommender",
    "Mood",
    "NotFittedError",
    "PopularityRecommender",
    "RebuyRecommender",
    "Recommender",
    "Scored",
    "StoreData",
    "TrendingRecommender",
    "compare_contexts",
    "default_recommenders",
    "evaluate",
    "evaluate_store",
    "parse_context",
    "ranking_metrics",
    "validate_k",
]
