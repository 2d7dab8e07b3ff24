"""The personalization engine: the store, profiles, segments, recommendations, predictions.

This module names the public API. Names resolve lazily (PEP 562), so importing
one corner of the engine (say, the CLI's ``info``) does not pay for loading
scikit-learn and scipy.

The store and data access
    :func:`open_store`, :func:`session_scope`, :func:`store_summary`,
    :func:`import_files`, the point-in-time frame loaders ``load_*``.
Behavioral profiles (``engine.profiles``)
    :func:`score_store`, :func:`compute_profiles`, :func:`get_profile`, :func:`track`,
    segment rules and sizes.
Recommendations (``engine.recommend``)
    :class:`StoreData`, :class:`BlendRecommender`, :func:`parse_context`,
    :func:`compare_contexts`, :func:`evaluate_recommenders`.
Predictions (``engine.predict``)
    :class:`PurchasePredictor`, :class:`BetaGeoFitter`, :class:`GammaGammaFitter`,
    :func:`evaluate_predictions`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # the store
    "Settings": "engine.config",
    "get_settings": "engine.config",
    "UserError": "engine.errors",
    "ValidationError": "engine.errors",
    "open_store": "engine.db",
    "session_scope": "engine.db",
    "mask_url": "engine.db",
    "store_summary": "engine.store",
    "StoreSummary": "engine.store",
    "parse_as_of": "engine.timeutil",
    "resolve_as_of": "engine.timeutil",
    "import_files": "engine.importing",
    "ImportReport": "engine.importing",
    "load_order_lines": "engine.frames",
    "load_events": "engine.frames",
    "load_reviews": "engine.frames",
    "load_products": "engine.frames",
    "load_customers": "engine.frames",
    "store_overview": "engine.overview",
    # profiles and segments
    "SCORES": "engine.profiles",
    "DEFAULT_RULES": "engine.profiles",
    "Rule": "engine.profiles",
    "CustomerProfile": "engine.profiles",
    "compute_profiles": "engine.profiles",
    "score_store": "engine.profiles",
    "get_profile": "engine.profiles",
    "track": "engine.profiles",
    "validate_event": "engine.profiles",
    "segment_sizes": "engine.profiles",
    "segment_overlaps": "engine.profiles",
    "segment_members": "engine.profiles",
    "preview_segment_sizes": "engine.profiles",
    "save_rules": "engine.profiles",
    "load_rules": "engine.profiles",
    # recommendations
    "StoreData": "engine.recommend",
    "BlendRecommender": "engine.recommend",
    "Context": "engine.recommend",
    "Scored": "engine.recommend",
    "parse_context": "engine.recommend",
    "compare_contexts": "engine.recommend",
    # predictions
    "PurchasePredictor": "engine.predict",
    "BetaGeoFitter": "engine.predict",
    "GammaGammaFitter": "engine.predict",
    "evaluate_predictions": "engine.predict",
}
_RENAMED = {"evaluate_recommenders": ("engine.recommend", "evaluate")}

__all__ = sorted([*_EXPORTS, *_RENAMED])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _RENAMED:
        module, attribute = _RENAMED[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
