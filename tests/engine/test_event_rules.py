"""One event validator: ``track()`` (engine.events.EventRecord, through validate_event) and
the importer (vectorised over whole files) give every raw event the same verdict and,
when they accept it, the same values; table-driven for the cases where they used to
disagree, property-based for the rest (CSV cells and JSON values alike)."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticError

from engine.api.schemas import EventIn
from engine.errors import ValidationError
from engine.events import CHOICES, EVENT_FIELDS, FIELD_LENGTHS, EventRecord
from engine.importing.read import read_jsonl
from engine.importing.validate import validate
from engine.models import Event
from engine.profiles.validation import validate_event
from engine.timestamps import ISO_FORMS, TIMESTAMP, parse_timestamp
from engine.vocabulary import ALIASES, CHANNELS, canonical

Verdict = tuple[bool, dict[str, Any] | None]


def _model(raw: dict[str, Any]) -> Verdict:
    try:
        return True, validate_event(raw)
    except ValidationError:
        return False, None


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """An importer's typed row in validate_event's terms (None, datetime, int)."""
    out: dict[str, Any] = {}
    for name in EVENT_FIELDS:
        value = row.get(name)
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
            out[name] = None
        elif name == "occurred_at":
            out[name] = pd.Timestamp(value).to_pydatetime()
        elif name == "rating":
            out[name] = int(value)
        else:
            out[name] = value
    return out


def _importer_frame(
    raw: pd.DataFrame, lines: np.ndarray, unreadable: frozenset[int] = frozenset()
) -> list[Verdict]:
    """Each line's verdict: refused if unreadable (JSON) or a problem names its row."""
    parsed = validate("events", "e.csv", raw, lines)
    bad = set(parsed.problems["row"].astype(int))
    verdicts: list[Verdict] = []
    by_line = dict(zip(lines.tolist(), range(len(lines)), strict=True))
    for line in sorted(set(by_line) | unreadable):
        if line in unreadable:
            verdicts.append((False, None))
            continue
        row = by_line[line]
        if row in bad:
            verdicts.append((False, None))
        else:
            verdicts.append((True, _clean(parsed.frame.iloc[row].to_dict())))
    return verdicts


def _importer_csv(rows: list[dict[str, str]]) -> list[Verdict]:
    """What ``import --events`` decides for each row of a CSV (cells stripped, as read)."""
    raw = pd.DataFrame(
        [{name: str(row.get(name, "")).strip() for name in EVENT_FIELDS} for row in rows],
        columns=list(EVENT_FIELDS),
        dtype=object,
    )
    return _importer_frame(raw, np.arange(len(rows), dtype=np.int64) + 2)


def _agree(rows: list[dict[str, Any]], importer: list[Verdict]) -> None:
    for row, decided in zip(rows, importer, strict=True):
        assert _model(row) == decided, row


AT = "2024-02-02T10:00:00"
BASE = {"event_type": "search", "customer_id": "c1", "occurred_at": AT}


def _event(**fields: str) -> dict[str, str]:
    return {**BASE, **fields}


# (raw event, accepted?) where track() and the importer used to disagree, and edges
CASES: list[tuple[dict[str, str], bool]] = [
    (_event(event_type="View", product_id="p1"), True),  # track refused the spelling
    (_event(event_type="Add To Cart", product_id="p1"), True),
    (_event(event_type="add-to-wishlist", product_id="p1"), True),
    (_event(event_type="teleport"), False),
    (_event(event_type="view\x00"), False),
    (_event(device="Phone"), True),  # track refused, the importer read "mobile"
    (_event(device="PC"), True),
    (_event(device="watch"), False),
    (_event(weather="Rainy"), True),
    (_event(weather="foggy"), False),
    (_event(channel="iOS"), True),
    (_event(channel="Mobile Web"), True),
    (_event(channel="Kiosk"), True),  # channels are a free vocabulary
    (_event(channel="c" * 32), True),
    (_event(channel="c" * 33), False),
    (_event(channel="a" + " " * 40 + "b"), True),  # the stored "a_b" fits (track measured raw)
    (_event(channel="İ" * 20), False),  # 20 letters, 40 once lower-cased: the column's
    (_event(customer_id="c" * 64), True),
    (_event(customer_id="c" * 65), False),
    (_event(customer_id="c\x01"), False),
    (_event(query="rain\x00"), False),
    (_event(query="tab\there"), True),
    (_event(location="l" * 101), False),
    (_event(customer_id="", anonymous_id=""), False),
    (_event(customer_id="", anonymous_id="a1"), True),
    # a product event of no product, a review with no rating: real exports hold them
    (_event(event_type="product_view"), True),
    (_event(event_type="purchase"), True),
    (_event(event_type="review", product_id="p1"), True),
    (_event(event_type="review"), True),
    (_event(event_type="review", product_id="p1", rating="4.0"), True),
    (_event(rating="1e0"), True),
    (_event(rating="1_0"), False),  # float() reads 10; pandas does not
    (_event(rating="٥"), False),  # float() reads 5; pandas does not
    (_event(rating="5.5"), False),
    (_event(rating="0"), False),
    (_event(rating="inf"), False),
    (_event(occurred_at="2024-02-02"), True),
    (_event(occurred_at="2024-02-02 10:00"), True),
    (_event(occurred_at="2024-02-02t10:00:00z"), True),
    (_event(occurred_at="2024-02-02T10:00:00+01"), True),
    (_event(occurred_at="2024-02-02T10:00:00 +01:30"), True),
    (_event(occurred_at="2024-02-02T10:00:00.123456789Z"), True),
    # the importer (pandas) read these; track() did not
    (_event(occurred_at="2024-02"), True),
    (_event(occurred_at="2024-2-2"), True),
    (_event(occurred_at="2024"), True),
    (_event(occurred_at="2024/01/02"), True),
    (_event(occurred_at="2024.01.02 10:00"), True),
    (_event(occurred_at="2024-01-01 10:00:00."), True),
    (_event(occurred_at="2024-02-02 9:5:1"), True),
    (_event(occurred_at="2024-02-02T10:00:00.5 +01:00"), True),
    # track() (fromisoformat) read these; the importer did not
    (_event(occurred_at="20240202"), True),  # pandas too
    (_event(occurred_at="2024-W05-5"), True),
    (_event(occurred_at="2024W055T10:00"), True),
    (_event(occurred_at="2024-02-02T10:00:00,5"), True),
    (_event(occurred_at="2024-02-02T10:00:00+01:00:30"), True),
    # neither read these, or fromisoformat read them otherwise than ISO 8601 means
    (_event(occurred_at="12/1/2010"), False),
    (_event(occurred_at="2024-02-02T10:00:00,"), False),
    (_event(occurred_at="2024-02-02T10.5"), False),  # 10:30 in ISO 8601, 10:00:00.5 read
    (_event(occurred_at="2024-02-02T10:30.5"), False),
    (_event(occurred_at="2024-02-02x10:00"), False),
    (_event(occurred_at="2024-02-02+05:00"), False),  # read as 05:00, the "+" a separator
    (_event(occurred_at="20240202Z"), False),
    (_event(occurred_at="2024-02-02 10:00:00 UTC"), False),
    (_event(occurred_at="2023-02-29"), False),
    (_event(occurred_at="1600-01-01"), False),
    (_event(occurred_at="9999-12-31"), False),
    (_event(occurred_at="2300-01-01"), False),
    (_event(occurred_at="1970-01-01T00:30:00+01:00"), False),
    (_event(occurred_at="0001-01-01T00:00:00+01:00"), False),
    (_event(occurred_at="yesterday"), False),
]


def test_the_cases_that_used_to_disagree_now_agree() -> None:
    rows = [row for row, _ in CASES]
    importer = _importer_csv(rows)
    for (row, accepted), decided in zip(CASES, importer, strict=True):
        assert decided[0] is accepted, row
        assert _model(row) == decided, row


def test_spellings_become_the_contracts_values() -> None:
    ok, clean = _model(
        _event(
            event_type="View",
            product_id="p1",
            device="Phone",
            channel="iPhone",
            weather="SUNNY",
            rating=" 4 ",
        )
    )
    assert ok and clean is not None
    assert (
        clean["event_type"],
        clean["device"],
        clean["channel"],
        clean["weather"],
        clean["rating"],
    ) == ("product_view", "mobile", "ios", "sunny", 4)
    ok, clean = _model(_event(occurred_at="2024-02-02T10:00:00.1234567+01:00"))
    assert clean is not None and clean["occurred_at"] == datetime(2024, 2, 2, 9, 0, 0, 123456)


def test_a_canonical_value_is_its_own_spelling() -> None:
    # validate_event's fast path skips canonical() for values already in the lists
    for field, values in (*CHOICES.items(), ("channel", CHANNELS)):
        assert all(canonical(field, v) == v for v in values)
    for field, aliases in ALIASES.items():
        assert set(aliases.values()) <= set(CHOICES.get(field, CHANNELS))


def test_the_limits_are_the_columns_and_the_schemas_say_so() -> None:
    assert set(FIELD_LENGTHS) == {
        "event_id",
        "customer_id",
        "anonymous_id",
        "product_id",
        "query",
        "channel",
        "location",
    }
    for model in (EventRecord, EventIn):
        schema = model.model_json_schema()["properties"]
        for name, limit in FIELD_LENGTHS.items():
            assert limit == Event.__table__.c[name].type.length
            branch = next(b for b in schema[name]["anyOf"] if b.get("type") == "string")
            assert branch["maxLength"] == limit


# --------------------------------------------------------------------------- properties

EVENT_TYPE_WORDS = [
    *CHOICES["event_type"],
    *ALIASES["event_type"],
    "Product View",
    "ADD-TO-CART",
    "teleport",
    "",
    " ",
]
TIMES = [
    "2024-02-02",
    AT,
    "2024-2-2 9:05",
    "2024-02",
    "2024",
    "2024/02/02",
    "2024.02.02",
    "2024-02-02 10:00:00.",
    "2024-W05-5",
    "2024W055T1000",
    "2024-02-02T10:00:00,5",
    "2024-02-02T10:00:00+01:00:30",
    "2024-02-02T10.5",
    "2024-02-02x10:00",
    "12/1/2010",
    "2024-02-02 23:59",
    "2024-02-02T10:00:00Z",
    "2024-02-02t10:00z",
    "2024-02-02T10:00:00-05:00",
    "2024-02-02T10:00:00 +0130",
    "2024-02-02T10:00:00.5",
    "2024-02-30",
    "2024-13-01",
    "2024-02",
    "20240202",
    "2024-02-02T24:00",
    "2300-01-01",
    "1969-12-31T23:59:59",
    "1970-01-01T00:00:00",
    "1600-01-01",
    "0000-01-01",
    "",
]


def _texts(*pool: str, size: int = 8) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(pool), st.text(max_size=size))


def _long(name: str) -> list[str]:
    limit = FIELD_LENGTHS[name]
    return ["x" * limit, "x" * (limit + 1), "é" * limit]


FIELDS: dict[str, st.SearchStrategy[str]] = {
    "event_type": _texts(*EVENT_TYPE_WORDS),
    "occurred_at": st.one_of(
        st.sampled_from(TIMES),
        st.from_regex(TIMESTAMP, fullmatch=True),
        st.deferred(lambda: iso_texts),
        st.deferred(lambda: scrambled_times),
        st.text(max_size=25),
    ),
    "event_id": _texts("", "e1", "e\x01", *_long("event_id")),
    "customer_id": _texts("", "c1", "0042", " c2 ", "c\x00", *_long("customer_id")),
    "anonymous_id": _texts("", "a1", *_long("anonymous_id")),
    "product_id": _texts("", "p1", *_long("product_id")),
    "query": _texts("", "tea", "rain\x00", *_long("query")),
    "channel": _texts(
        "", "iOS", "iPhone", "in-store", "Kiosk", "a  -  b", "İ" * 17, *_long("channel")
    ),
    "location": _texts("", "Paris", *_long("location")),
    "device": _texts("", *CHOICES["device"], *ALIASES["device"], "Tablet", "watch"),
    "weather": _texts("", *CHOICES["weather"], "Rainy", "foggy"),
    "rating": _texts(
        "", "1", "5", "4.0", "5.5", "0", "6", "1e0", ".5e1", "1_0", "٥", "nan", "-inf", "+3"
    ),
}
csv_rows = st.lists(st.fixed_dictionaries({}, optional=FIELDS), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=csv_rows)
def test_any_csv_row_gets_the_same_verdict_and_values(rows: list[dict[str, str]]) -> None:
    _agree(rows, _importer_csv(rows))


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.from_regex(TIMESTAMP, fullmatch=True),
        st.sampled_from([t for t in TIMES if re.fullmatch(TIMESTAMP, t.upper())]),
    )
)
def test_a_timestamp_reads_the_same_in_pandas(text: str) -> None:
    # the fast path (fromisoformat) reads the common forms as pandas, the importer's
    # reader of whole columns, does
    parsed = pd.to_datetime(pd.Series([text.upper()]), format="ISO8601", utc=True, errors="coerce")[
        0
    ]
    mine = parse_timestamp(text)
    if parsed is not pd.NaT and parsed.year < 1:  # pandas has a year 0: outside any window
        assert mine == datetime.min, text
    elif parsed is not pd.NaT:
        assert pd.Timestamp(mine) == parsed.tz_localize(None).floor("us"), text


def _pandas_before(text: str) -> datetime | None:
    """The importer's reading at 2f55295: pandas, ISO8601, on the cell as written."""
    value = pd.to_datetime(pd.Series([text]), format="ISO8601", utc=True, errors="coerce")[0]
    if value is pd.NaT or value.year < 1:
        return None
    return value.tz_localize(None).floor("us").to_pydatetime()


def _python_before(text: str) -> datetime | None:
    """track()'s reading at 2f55295: fromisoformat, "Z" for UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    except (ValueError, OverflowError):
        return None


_DIGITS = st.integers(0, 99).map(lambda n: f"{n:02d}")
_HOURS = st.integers(0, 23).map(lambda n: f"{n:02d}")
_SIXTY = st.integers(0, 59).map(lambda n: f"{n:02d}")
_DATES = st.one_of(
    st.builds(
        lambda y, m, d, sep: f"{y}{sep}{m}{sep}{d}",
        st.integers(1969, 2031),
        st.integers(1, 12).map(lambda n: f"{n:02d}"),
        st.integers(1, 31).map(lambda n: f"{n:02d}"),
        st.sampled_from(["-", ""]),
    ),
    st.builds(
        lambda y, w, d, sep: f"{y}{sep}W{w:02d}{d}",
        st.integers(1969, 2031),
        st.integers(1, 53),
        st.sampled_from(["", "-1", "-7", "3"]),
        st.sampled_from(["-", ""]),
    ),
)
_TIMES = st.builds(
    lambda h, m, sec, frac, colon: (
        h
        + "".join(f"{colon}{part}" for part in (m, sec) if part is not None)
        + (frac if sec is not None else "")
    ),
    _HOURS,
    st.one_of(st.none(), _SIXTY),
    st.one_of(st.none(), _SIXTY),
    st.sampled_from(["", ".5", ",25", ".1234567"]),
    st.sampled_from([":", ""]),
)
_OFFSETS = st.sampled_from(
    ["", "Z", "z", "+01:00", "-05:30", "+0100", "+01", "-00:00", "+01:00:30", " +01:00"]
)
iso_texts = st.one_of(
    _DATES,
    st.builds(
        lambda d, sep, t, o: f"{d}{sep}{t}{o}",
        _DATES,
        st.sampled_from(["T", "t", " "]),
        _TIMES,
        _OFFSETS,
    ),
)
"""ISO 8601 timestamps, extended and basic, calendar and week dates."""
scrambled_times = st.lists(
    st.sampled_from([*"-T :.,+ZW/tz", "2024", "02", "2", "1", "30", "00", "5", "01", "9"]),
    max_size=9,
).map(lambda parts: "".join(parts))
"""Pieces of timestamps in any order: what both readers make of near misses."""


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(iso_texts, scrambled_times, st.sampled_from(TIMES)))
def test_the_rule_is_the_union_of_what_the_importer_and_track_read_before(text: str) -> None:
    mine = parse_timestamp(text)
    # every cell the importer read is read, to the same moment (imports stay as lenient)
    before = _pandas_before(text)
    if before is not None:
        assert mine == before, text
    # nothing neither reader read (but for the letters' case), and the same moment
    if mine not in (None, datetime.min, datetime.max) and before is None:
        assert mine in (
            _pandas_before(text.upper()),
            _python_before(text),
            _python_before(text.upper()),
        ), text
    # every ISO 8601 form track() read is read (not its misreadings: T10.5, 2024-02-02x10)
    python = _python_before(text)
    if python is not None and re.fullmatch(ISO_FORMS, text.upper()):
        assert mine == python, text


@pytest.mark.parametrize(
    "kind, column",
    [("orders", "ordered_at"), ("reviews", "reviewed_at"), ("customers", "signup_at")],
)
def test_every_file_reads_timestamps_by_the_one_rule(kind: str, column: str) -> None:
    texts = [row["occurred_at"] for row, _ in CASES if row["occurred_at"] != AT] + TIMES
    base = {
        "customer_id": "c1",
        "order_id": "o1",
        "product_id": "p1",
        "quantity": "1",
        "unit_price": "2",
        "rating": "4",
    }
    names = {
        "orders": ["customer_id", "order_id", "product_id", "quantity", "unit_price"],
        "reviews": ["customer_id", "product_id", "rating"],
        "customers": ["customer_id"],
    }
    raw = pd.DataFrame(
        [{**{n: base[n] for n in names[kind]}, column: t} for t in texts], dtype=object
    )
    lines = np.arange(len(texts), dtype=np.int64) + 2
    parsed = validate(kind, f"{kind}.csv", raw, lines)
    bad = set(parsed.problems["row"].astype(int)) if len(parsed.problems) else set()
    for row, text in enumerate(texts):
        ok, clean = _model({**BASE, "occurred_at": text})  # the same rule and window
        if text == "":
            continue
        assert (row not in bad) is ok, text
        if ok:
            assert clean is not None
            assert pd.Timestamp(parsed.frame[column].iloc[row]) == pd.Timestamp(
                clean["occurred_at"]
            ), text


def test_a_fraction_only_the_fallback_reads_keeps_its_microseconds() -> None:
    # pandas types a column it reads nothing of in seconds: the week date's fraction,
    # read after it, must still fit
    rows = [_event(occurred_at="2024-W05-5T10:00:00,25")]
    [(ok, clean)] = _importer_csv(rows)
    assert ok and clean is not None
    assert clean["occurred_at"] == datetime(2024, 2, 2, 10, 0, 0, 250000)
    assert _model(rows[0]) == (True, clean)


JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 7),
    st.sampled_from([4.0, 2.5, 1e20]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.just("k"), st.integers(), max_size=1),
)
json_events = st.lists(
    st.fixed_dictionaries(
        {"event_type": FIELDS["event_type"], "occurred_at": FIELDS["occurred_at"]},
        optional={
            name: st.one_of(strategy, JSON_VALUES)
            for name, strategy in FIELDS.items()
            if name not in ("event_type", "occurred_at")
        }
        | {"Customer_ID": st.sampled_from(["c9", 12]), "colour": JSON_VALUES},
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(events=json_events)
def test_any_json_event_gets_the_same_verdict_and_values(
    tmp_path: Path, events: list[dict[str, Any]]
) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    raw, lines, problems = read_jsonl(path, "e.jsonl")
    for name in EVENT_FIELDS:
        if name not in raw:
            raw[name] = ""
    importer = _importer_frame(raw, lines, frozenset(p.line for p in problems))
    _agree(events, importer)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {},
            optional={name: st.one_of(strategy, JSON_VALUES) for name, strategy in FIELDS.items()},
        ),
        max_size=6,
    )
)
def test_the_api_refuses_nothing_track_accepts_and_cleans_alike(rows: list[dict[str, Any]]) -> None:
    # POST /events checks the free fields (EventIn), then track() the cleaned event
    for row in rows:
        try:
            body = EventIn.model_validate(row).model_dump(exclude_none=True)
        except PydanticError:
            assert _model(row) == (False, None), row
            continue
        assert _model(body) == _model(row), row


@pytest.mark.parametrize("value", [float("nan"), float("inf"), None, "", "  "])
def test_json_nan_and_blanks_are_no_value(value: object) -> None:
    ok, clean = _model({**BASE, "anonymous_id": "a1", "customer_id": value})
    assert ok and clean is not None and clean["customer_id"] is None
