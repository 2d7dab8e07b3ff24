"""What a timestamp in an imported file or a tracked event may look like, and what it means.

One rule for the five import files and ``track()``: a timestamp is accepted if either
reader of the store before the two were made one accepted it (the importer read every
file with ``pandas.to_datetime(format="ISO8601")``, ``track()`` with
``datetime.fromisoformat``), unless its reading is doubtful. Without an offset a time is
UTC; with one it is converted to naive UTC (the store's time). The letters are read in
either case (``t``, ``z``, ``w``).

- the common ISO 8601 forms (:data:`TIMESTAMP`: ``2024-06-01``, ``2024-06-01T12:00``,
  ``... 12:00:00.5+01:00``) take a fast path: a regular expression and
  ``datetime.fromisoformat`` (the importer hands the whole column to pandas, which
  reads them the same: ``tests/engine/test_event_rules.py``);
- the other ISO 8601 shapes (:data:`ISO_FORMS`: basic ``20240202T1000``, week dates
  ``2024-W05-5``, a comma before the fraction ``10:00:00,5``, an offset with seconds
  ``+01:00:30``) are read as ``fromisoformat`` reads them, which is what ISO 8601 means
  (``track()`` accepted them; pandas, where it reads one too, reads the same moment);
- any other text is read as pandas reads it with ``format="ISO8601"`` (what the importer
  accepted: ``2024-1-1``, ``2024-02``, ``2024``, ``2024/01/02``, ``2024.01.02``,
  ``2024-01-01 10:00:00.``, ``2024-02-02T10:00:00.5 +01:00``).

Refused as doubtful, though ``fromisoformat`` read them: a fraction of an hour or a minute
(``T10.5``, read as 10:00:00.5 where ISO 8601 means 10:30), any other character between
date and time (``2024-02-02x10:00``), an offset after a date alone (``2024-02-02+05:00``,
read as 05:00 local). A value outside the years a datetime holds is
``datetime.min``/``max``: outside any plausible window (:mod:`engine.timeutil`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

__all__ = ["ISO_FORMS", "OFFSET_GIVEN", "TIMESTAMP", "parse_timestamp", "read_timestamp"]

_TWO = r"[0-9]{2}"
TIMESTAMP = (
    r"(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"(?:[T ](?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9])"
    r"(?::(?P<second>[0-5][0-9])(?:\.(?P<fraction>[0-9]+))?)?"
    r"(?: ?(?P<offset>Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?))?)?"
)
"""The common ISO 8601 timestamps (matched on the upper-cased text), read on the fast path:
a date, then optionally ``T`` or a space, ``HH:MM``, ``:SS``, ``.fraction`` and an offset
(``Z``, ``+HH:MM``, ``+HHMM``, ``+HH``, a space before it allowed)."""
ISO_FORMS = (
    rf"[0-9]{{4}}(?:-{_TWO}-{_TWO}|{_TWO}{_TWO}|-?W{_TWO}(?:-?[0-9])?)"
    rf"(?:[T ]{_TWO}(?::?{_TWO}(?::?{_TWO}(?:[.,][0-9]+)?)?)?"
    rf"(?:Z|[+-]{_TWO}(?::?{_TWO}(?::?{_TWO}(?:\.[0-9]+)?)?)?)?)?"
)
"""The shapes in which ``fromisoformat``'s reading is the ISO 8601 meaning (upper-cased):
an extended, basic or week date, then optionally ``T`` or a space, a time whose only
fraction is of the second (``.`` or ``,``) and an offset."""
OFFSET_GIVEN = r"[T:].*(?:Z|[+-][0-9]{1,2}(?::?[0-9]{2}){0,2}(?:\.[0-9]+)?)$"
"""An accepted timestamp (upper-cased) that carries an offset: a time, then ``Z`` or a
signed offset at the end (the importer notes how many it converted)."""
_TIMESTAMP, _ISO_FORMS = re.compile(TIMESTAMP), re.compile(ISO_FORMS)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # an offset moves it before year 1 or past 9999
        return datetime.min if value.year < 2 else datetime.max


def _pandas(text: str) -> datetime | None:
    """pandas' ISO 8601 reading of one text (the importer's reader of every cell)."""
    import pandas as pd  # only for the rare forms: track()'s usual path has no pandas

    value: Any = pd.to_datetime([text], format="ISO8601", utc=True, errors="coerce")[0]
    if value is pd.NaT:
        return None
    value = value.tz_localize(None).floor("us")
    if value.year < 1:  # pandas has a year 0 ("-5" and "/5" are years): no plausible time
        return datetime.min
    return value.to_pydatetime()  # type: ignore[no-any-return]


def read_timestamp(text: str) -> datetime | None:
    """An upper-cased text of the ISO 8601 shapes (:data:`TIMESTAMP`, :data:`ISO_FORMS`)
    as ``fromisoformat`` reads it, else ``None`` (the importer asks this of the cells its
    vectorised pandas did not read)."""
    if _TIMESTAMP.fullmatch(text) is not None or _ISO_FORMS.fullmatch(text) is not None:
        if " " in text[10:]:  # fromisoformat reads "10:00:00.5+01:00", not "... +01:00"
            text = text[:11] + text[11:].replace(" ", "")
        try:
            return _utc(datetime.fromisoformat(text))
        except ValueError:  # 2023-02-29, 2024-04-31, week 54
            return None
    return None


def parse_timestamp(text: str) -> datetime | None:
    """Naive UTC of a timestamp by the rule of this module; ``None`` if it is none.

    Fractions of a microsecond are cut (the store keeps microseconds). The ISO 8601
    shapes are read without pandas (where both read a text, they read the same moment),
    so only the importer's looser forms pay for it.
    """
    text = text.upper()
    value = read_timestamp(text)
    return value if value is not None else _pandas(text)
