"""Behavioral profiles: nine scores, micro-segments, emotional state, real-time tracking.

See ``docs/scoring.md`` for every formula and ``docs/personas.md`` for the
signals the synthetic market plants.
"""

from engine.profiles.customer import CustomerProfile, ScoreDetail, get_profile
from engine.profiles.emotion import STATES, TONES
from engine.profiles.export import score_export
from engine.profiles.memberships import segment_members, segment_overlaps, segment_sizes
from engine.profiles.profile import PROFILE_COLUMNS, compute_profiles
from engine.profiles.score_run import ScoreRunReport, score_store, score_store_concurrently
from engine.profiles.scoring import SCORES, Calibration, fit_calibration
from engine.profiles.segments import (
    DEFAULT_RULES,
    Rule,
    assign_segments,
    load_rules,
    preview_segment_sizes,
    save_rules,
)
from engine.profiles.track_batch import track_many
from engine.profiles.tracking import TrackResult, track
from engine.profiles.validation import validate_event

__all__ = [
    "DEFAULT_RULES",
    "PROFILE_COLUMNS",
    "SCORES",
    "STATES",
    "TONES",
    "Calibration",
    "CustomerProfile",
    "Rule",
    "ScoreDetail",
    "ScoreRunReport",
    "TrackResult",
    "assign_segments",
    "compute_profiles",
    "fit_calibration",
    "get_profile",
    "load_rules",
    "preview_segment_sizes",
    "save_rules",
    "score_export",
    "score_store",
    "score_store_concurrently",
    "segment_members",
    "segment_overlaps",
    "segment_sizes",
    "track",
    "track_many",
    "validate_event",
]
