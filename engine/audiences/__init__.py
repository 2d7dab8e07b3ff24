"""Audiences: segments and score or prediction ranges combined by a small rule language.

``parse("(night_owl OR mobile_first) AND lifetime_value >= 70")`` gives a syntax tree
(:mod:`engine.audiences.grammar`); :func:`load_audience_data` gathers what rules read as
of a moment and :func:`audience_members` evaluates one; saved audiences keep only their
rule (:mod:`engine.audiences.store`).
"""

from engine.audiences.evaluate import (
    AudienceData,
    audience_members,
    compile_rule,
    export_csv,
    load_audience_data,
    mask,
    monthly_as_of,
    size_over_time,
    splits,
    valid_segments,
)
from engine.audiences.fields import FIELDS, PREDICTED_FIELDS, fields_used, needs_predictions
from engine.audiences.grammar import SYNTAX, RuleSyntaxError, parse, render, with_thresholds
from engine.audiences.store import delete_audience, get_audience, list_audiences, save_audience

__all__ = [
    "FIELDS",
    "PREDICTED_FIELDS",
    "SYNTAX",
    "AudienceData",
    "RuleSyntaxError",
    "audience_members",
    "compile_rule",
    "delete_audience",
    "export_csv",
    "fields_used",
    "get_audience",
    "list_audiences",
    "load_audience_data",
    "mask",
    "monthly_as_of",
    "needs_predictions",
    "parse",
    "render",
    "save_audience",
    "size_over_time",
    "splits",
    "valid_segments",
    "with_thresholds",
]
