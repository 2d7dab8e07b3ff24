"""What an import did: per-table counts, rows skipped by decision, rows rejected."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Line numbers quoted per skip reason (the JSON report keeps the same sample).
SAMPLE_LINES = 5


@dataclass(frozen=True)
class RejectedRow:
    """One problem found in an input file (``line`` as a text editor counts; header = 1)."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.reason}"


@dataclass
class SkippedRows:
    """Rows left out on purpose (a return, a guest checkout, a repeated line...), with why.

    Unlike a :class:`RejectedRow`, a skipped row is readable: the importer decided it
    is not a sale or not a fact worth keeping, so it never refuses the import.
    """

    file: str
    reason: str
    rows: int = 0
    lines: list[int] = field(default_factory=list)  # the first few, as an editor counts

    def __str__(self) -> str:
        shown = ", ".join(str(n) for n in self.lines)
        more = ", ..." if self.rows > len(self.lines) else ""
        return f"{self.file}: {self.rows:,} skipped: {self.reason} (lines {shown}{more})"


@dataclass
class TableCounts:
    """What happened to one table's rows.

    ``read``: rows offered by the files (for ``orders``, distinct orders);
    ``inserted``/``updated``: rows written; ``skipped_existing``: rows already
    in the store (or repeated within the file) and therefore not written.
    """

    read: int = 0
    inserted: int = 0
    updated: int = 0
    skipped_existing: int = 0


@dataclass
class ImportReport:
    """The outcome of :func:`engine.importing.import_files`."""

    tables: dict[str, TableCounts] = field(default_factory=dict)
    placeholders: dict[str, int] = field(default_factory=lambda: {"customers": 0, "products": 0})
    skipped: list[SkippedRows] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def table(self, name: str) -> TableCounts:
        return self.tables.setdefault(name, TableCounts())

    @property
    def inserted_total(self) -> int:
        return sum(c.inserted for c in self.tables.values())

    @property
    def skipped_total(self) -> int:
        return sum(s.rows for s in self.skipped)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (every rejected row included)."""
        return {
            "tables": {name: asdict(counts) for name, counts in self.tables.items()},
            "placeholders": dict(self.placeholders),
            "skipped": [asdict(s) for s in self.skipped],
            "rejected": [asdict(r) for r in self.rejected],
            "warnings": list(self.warnings),
        }
