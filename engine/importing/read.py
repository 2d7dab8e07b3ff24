"""Reading import files into frames of stripped strings, with each row's line number."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import UserError
from engine.events import EVENT_FIELDS, NotText, event_keys, json_text

from .report import RejectedRow

# Separators a spreadsheet export may use instead of the contract's comma.
_OTHER_SEPARATORS = (";", "\t", "|")
# pandas' message for a row wider than the first one (the header, with header=None).
_WIDER_ROW = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def check_path(path: Path, label: str) -> None:
    if not path.exists():
        raise UserError(f"{label}: no such file")
    if not path.is_file():
        raise UserError(f"{label}: not a file")
    if path.stat().st_size == 0:
        raise UserError(f"{label}: the file is empty (expected a header row and data rows)")


def _separator(path: Path, label: str) -> str:
    """The header's separator: a comma, unless the header has none but another one."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = handle.readline()
    except UnicodeDecodeError as exc:
        raise UserError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if "," in header:
        return ","
    counts = {sep: header.count(sep) for sep in _OTHER_SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def read_csv(path: Path, label: str) -> tuple[pd.DataFrame, np.ndarray]:
    """All cells as stripped strings, and each row's line number in the file.

    The header is read as a row like any other (``header=None``), so a row with more
    fields than the header is an error naming its line instead of silently shifting
    every column (pandas would otherwise take the first column as an index).

    Raises:
        UserError: not UTF-8, not CSV, a row wider than the header, a repeated or
            empty column name, or a header with no rows.
    """
    sep = _separator(path, label)
    try:
        # Blank lines are kept (and dropped below) so row positions map to line numbers.
        table = pd.read_csv(
            path,
            sep=sep,
            header=None,
            index_col=False,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
        )
    except UnicodeDecodeError as exc:
        raise UserError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except pd.errors.EmptyDataError as exc:
        raise UserError(f"{label}: the file is empty (expected a header row)") from exc
    except pd.errors.ParserError as exc:
        wider = _WIDER_ROW.search(str(exc))
        if wider:
            width, line, fields = (int(g) for g in wider.groups())
            raise UserError(
                f"{label}:{line}: has {fields} fields but the header has {width} "
                "(an unquoted separator inside a value, or a trailing one?)"
            ) from exc
        raise UserError(f"{label}: not a valid CSV file: {str(exc).strip()}") from exc
    table = table.fillna("")
    # Header names are matched case-insensitively: "Customer_ID" is customer_id.
    names = [str(c).strip().lower() for c in table.iloc[0]]
    repeated = sorted({n for n in names if names.count(n) > 1 and n})
    if repeated:
        raise UserError(f"{label}:1: column {repeated[0]!r} appears more than once in the header")
    if "" in names and any(table.iloc[1:, names.index("")].astype(str).str.strip() != ""):
        raise UserError(f"{label}:1: a column with values has no name in the header")
    frame = table.iloc[1:].reset_index(drop=True)
    frame.columns = names
    frame = frame.loc[:, [n for n in names if n]]
    for name in frame.columns:
        frame[name] = frame[name].astype(str).str.strip()
    lines = np.arange(len(frame), dtype=np.int64) + 2
    if any(frame[c].str.contains("\n", regex=False).any() for c in frame.columns):
        # A quoted value spans lines: count lines the slow, exact way.
        lines = _csv_line_numbers(path, len(frame), sep)
    blank = (frame == "").all(axis=1).to_numpy() if len(frame.columns) else np.zeros(0, bool)
    if blank.all():
        raise UserError(f"{label}: has a header but no rows (nothing to import)")
    return frame.loc[~blank].reset_index(drop=True), lines[~blank]


def _csv_line_numbers(path: Path, rows: int, sep: str) -> np.ndarray:
    starts: list[int] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=sep)
        next(reader, None)
        line = reader.line_num
        for _ in reader:
            starts.append(line + 1)
            line = reader.line_num
    return np.asarray(starts[:rows], dtype=np.int64)


def _event_texts(obj: dict[Any, Any]) -> tuple[dict[str, str], str | None]:
    """An event's known fields as text by engine.events' JSON rule (NaN and null are
    no value), and the first field that holds no scalar (``true``, an object)."""
    record: dict[str, str] = {}
    for name, value in event_keys(obj).items():
        if name not in EVENT_FIELDS:
            continue  # unknown fields are ignored, whatever they hold
        try:
            record[name] = json_text(value) or ""
        except NotText:
            return record, name
    return record, None


def read_jsonl(path: Path, label: str) -> tuple[pd.DataFrame, np.ndarray, list[RejectedRow]]:
    """One event (JSON object) per line; unparseable lines are problems, not crashes."""
    records: list[dict[str, str]] = []
    lines: list[int] = []
    problems: list[RejectedRow] = []
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except json.JSONDecodeError as exc:
                    problems.append(RejectedRow(label, number, "(json)", f"not JSON: {exc.msg}"))
                    continue
                if not isinstance(obj, dict):
                    problems.append(RejectedRow(label, number, "(json)", "not a JSON object"))
                    continue
                record, not_scalar = _event_texts(obj)
                if not_scalar is not None:
                    problems.append(
                        RejectedRow(label, number, not_scalar, "not a string, number or null")
                    )
                    continue
                records.append(record)
                lines.append(number)
    except UnicodeDecodeError as exc:
        raise UserError(f"{label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not records and not problems:
        raise UserError(f"{label}: the file has no events (expected one JSON object per line)")
    frame = pd.DataFrame.from_records(records).fillna("") if records else pd.DataFrame()
    for name in frame.columns:
        frame[name] = frame[name].astype(str)
    return frame, np.asarray(lines, dtype=np.int64), problems
