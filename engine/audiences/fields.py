"""What an audience rule may name: segments and fields, with their ranges and checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.audiences.grammar import Comparison, Node, comparisons, segments
from engine.errors import UserError
from engine.profiles.scoring import SCORES
from engine.profiles.segments import CATEGORY_INTEREST, DEFAULT_RULES, ENTHUSIAST


@dataclass(frozen=True)
class Field:
    """A number per customer a rule can compare: its range, decimals in exports, meaning."""

    name: str
    low: float
    high: float | None
    decimals: int
    label: str
    predicted: bool = False


FIELDS: dict[str, Field] = {
    **{
        name: Field(name, 0.0, 100.0, 2, f"{name.replace('_', ' ')} score (0-100)")
        for name in SCORES
    },
    "category_share": Field(
        "category_share", 0.0, 100.0, 2, "top category's share of interest, percent"
    ),
    "p_active": Field("p_active", 0.0, 1.0, 4, "probability still active (0-1)", True),
    "p_buy_7d": Field("p_buy_7d", 0.0, 1.0, 4, "probability of buying within 7 days", True),
    "p_buy_30d": Field("p_buy_30d", 0.0, 1.0, 4, "probability of buying within 30 days", True),
    "p_buy_90d": Field("p_buy_90d", 0.0, 1.0, 4, "probability of buying within 90 days", True),
    "clv_12m": Field("clv_12m", 0.0, None, 2, "predicted value of the next 12 months", True),
}
"""Every field, scores first, then the predicted ones (from :mod:`engine.predict`)."""

PREDICTED_FIELDS = tuple(name for name, field in FIELDS.items() if field.predicted)
SCORE_SEGMENTS = tuple(name for name in DEFAULT_RULES if name != ENTHUSIAST)
"""Segments with one fixed name (enthusiast segments are named after a category)."""


def segment_field(segment: str) -> str:
    """The field a segment is defined on (``night_owl`` -> ``night_shopping``)."""
    rule = DEFAULT_RULES.get(segment, DEFAULT_RULES[ENTHUSIAST])
    return "category_share" if rule.score == CATEGORY_INTEREST else rule.score


def _range(field: Field) -> str:
    if field.high is None:
        return f"{field.low:g} or more"
    return f"{field.low:g} to {field.high:g}"


def check_rule(node: Node, valid_segments: Sequence[str]) -> None:
    """Refuse a rule naming an unknown segment or field, or a value outside a field's range.

    Raises:
        UserError: naming the problem and the valid choices.
    """
    known = set(valid_segments)
    for segment in segments(node):
        if segment.name in FIELDS:
            raise UserError(
                f"{segment.name!r} is a field, not a segment: compare it, e.g. "
                f"'{segment.name} between {_example(FIELDS[segment.name])}'"
            )
        if segment.name not in known:
            raise UserError(
                f"unknown segment {segment.name!r}; valid segments: {', '.join(valid_segments)}"
            )
    for comparison in comparisons(node):
        _check_comparison(comparison, known)


def _example(field: Field) -> str:
    high = field.high if field.high is not None else 1000.0
    return f"{field.low + (high - field.low) / 2:g} and {high:g}"


def _check_comparison(comparison: Comparison, known: set[str]) -> None:
    field = FIELDS.get(comparison.field)
    if field is None:
        hint = (
            f" ({comparison.field!r} is a segment: name it alone, without a comparison)"
            if comparison.field in known
            else ""
        )
        raise UserError(
            f"unknown field {comparison.field!r}{hint}; valid fields: {', '.join(FIELDS)}"
        )
    for value in (comparison.value, comparison.high):
        if value is None:
            continue
        if value < field.low or (field.high is not None and value > field.high):
            raise UserError(
                f"{comparison.field} ({field.label}) runs from {_range(field)}: "
                f"{value:g} is outside it"
            )


def fields_used(node: Node) -> list[str]:
    """The fields a rule reads, in reading order without repeats: its comparisons' fields,
    then the field behind each segment it names."""
    names = [c.field for c in comparisons(node)]
    names += [segment_field(s.name) for s in segments(node)]
    return list(dict.fromkeys(names))


def needs_predictions(node: Node) -> bool:
    """Whether ``node`` compares a predicted field (so the purchase models must be fitted)."""
    return any(FIELDS[c.field].predicted for c in comparisons(node) if c.field in FIELDS)
