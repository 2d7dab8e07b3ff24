"""Predictive personalization: next purchase, still-active probability and customer value.

Models (one per file, the ``lifetimes`` layout): :class:`BetaGeoFitter` (BG/NBD),
:class:`ModifiedBetaGeoFitter` (MBG/NBD), :class:`GammaGammaFitter` (spend) and the
:class:`NaiveNextPurchase` baseline; :class:`PurchasePredictor` combines them per
customer; :func:`evaluate_predictions` scores them on a temporal holdout.
See docs/prediction.md.
"""

from .bgnbd import BetaGeoFitter
from .evaluation import calibration_table, evaluate_predictions
from .gamma_gamma import GammaGammaFitter
from .mbgnbd import ModifiedBetaGeoFitter
from .naive import NaiveNextPurchase
from .next_purchase import OUTPUT_COLUMNS, PurchasePredictor
from .summary import purchase_days, rfm_summary, summary_from_purchase_days
from .views import export_frame, prediction_record, slipping_high_value, store_outlook

__all__ = [
    "OUTPUT_COLUMNS",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "NaiveNextPurchase",
    "PurchasePredictor",
    "calibration_table",
    "evaluate_predictions",
    "export_frame",
    "prediction_record",
    "purchase_days",
    "rfm_summary",
    "slipping_high_value",
    "store_outlook",
    "summary_from_purchase_days",
]
