"""What a tracked event must look like: :func:`validate_event` checks one event in the
import format of ``CONTRACT.md`` and returns its clean fields, or refuses it naming the
field, the value and the valid values (nothing is written for a refused event).

The rules are :class:`engine.events.EventRecord`'s, the ones the importer and the API
read too; this module keeps the name ``track()`` and ``track_many()`` call.
"""

from __future__ import annotations

from typing import Any

from engine.events import FIELD_LENGTHS, NEEDS_CUSTOMER, check_event

__all__ = ["EVENT_FIELD_LENGTHS", "NEEDS_CUSTOMER", "validate_event"]

EVENT_FIELD_LENGTHS = FIELD_LENGTHS
"""The longest text of each free-text field of an event: the ``events`` columns' lengths."""


def validate_event(event: Any) -> dict[str, Any]:
    """Check one event (the import format of CONTRACT.md) and return its clean fields:
    every field of :data:`engine.events.EVENT_FIELDS`, ``None`` where absent.

    Raises:
        ValidationError: naming the field, the value and the valid values.
    """
    return check_event(event).model_dump()
