"""Objects passed between the readers, the rule engine and the reports.

Kept free of Django so that validation runs from a command, a task or a test on a file path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

import polars as pl

# Name of the 1-based row-number column every reader adds to a table frame (spec 1, "Row").
ROW = "__row"


class Outcome(StrEnum):
    REJECTED = "Rejected"
    PARTIALLY_ACCEPTED = "Partially accepted"
    ACCEPTED_WITH_WARNINGS = "Accepted with warnings"
    ACCEPTED = "Accepted"

    @property
    def successful(self) -> bool:
        return self is not Outcome.REJECTED


@dataclass(frozen=True)
class RegisterEntry:
    code: str
    name: str = ""
    type: str = "PROVIDER"  # PROVIDER, COMMISSIONER, CSU, ADMIN
    ltc_mus_pilot: bool = False
    ea_pilot: bool = False
    acts_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrganisationRegister:
    """Spec 6.6. Codes are upper-case."""

    entries: dict[str, RegisterEntry] = field(default_factory=dict)

    def get(self, code: str) -> RegisterEntry | None:
        return self.entries.get(code.upper())

    def commissioner_codes(self) -> frozenset[str]:
        return frozenset(c for c, e in self.entries.items() if e.type == "COMMISSIONER")


@dataclass(frozen=True)
class UploadContext:
    """Facts fixed when an upload arrives (spec 1)."""

    org_code: str
    period: str  # YYYY-MM
    window_type: str  # "Primary" or "Refresh"
    received_at: datetime  # timezone-aware
    window_opens_on: date | None  # local open date of the submission's window (EA130)
    register: OrganisationRegister
    file_name: str = ""


@dataclass
class RawTable:
    """One table, CSV entry or sheet as read from the file, before any normalisation.

    ``frame`` has one String column per header position, named ``c0``, ``c1``, ... (header names
    may be blank or repeated, so they cannot be polars names), plus ``ROW``; the CSV reader gives a large
    entry's columns with few distinct values as Categorical (over categories of their own, which may also
    hold the header's name) instead of String. Values are the text
    as read (untrimmed); a NULL/empty cell is null or "". Fully blank rows may be present.
    """

    name: str  # table name as the file gives it (entry name without extension, sheet name, Access name)
    source: str  # what the user sees: "Person.csv", sheet "Person", Access table "Person"
    headers: list[str]  # header names as read, trimmed (spec 4.3); "" for a blank name
    frame: pl.DataFrame
    access_types: list[str] | None = (
        None  # Access data type per column (FILE014), e.g. "Text", "Long Integer"
    )


@dataclass(frozen=True)
class FileFinding:
    """A finding raised outside the vectorised record stage (FILE rules, HDR rules)."""

    rule_id: str
    table: str | None = None
    column: str | None = None
    row_number: int | None = None
    value: str | None = None
    record_key: str | None = None


@dataclass
class ReadResult:
    kind: str  # "mdb", "csvzip", "xlsx"
    tables: list[RawTable] = field(default_factory=list)
    findings: list[FileFinding] = field(default_factory=list)  # FILE003-FILE007


@dataclass(frozen=True)
class TableCounts:
    read: int = 0
    accepted: int = 0
    rejected_record: int = 0
    rejected_group: int = 0
    with_warnings: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "accepted": self.accepted,
            "rejected_record": self.rejected_record,
            "rejected_group": self.rejected_group,
            "with_warnings": self.with_warnings,
        }


# Columns of ValidationResult.findings, in this order, sorted in the report's line order (spec 10.1).
FINDING_COLUMNS: dict[str, type[pl.DataType]] = {
    "rule_id": pl.String,
    "severity": pl.String,
    "stage": pl.String,
    "table": pl.String,
    "row_number": pl.Int64,
    "record_key": pl.String,
    "column": pl.String,
    "value": pl.String,
    "message": pl.String,
}


@dataclass
class ValidationResult:
    outcome: Outcome
    profile: str | None  # "P15STD", "P15LTC" or None when not determined
    findings: pl.DataFrame  # FINDING_COLUMNS, in report line order
    counts: dict[str, TableCounts] | None  # None when the file never reached stage 5
    accepted: dict[str, pl.DataFrame]  # normalised accepted rows: ROW_NUMBER then spec columns
    findings_by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def total_records(self) -> int:
        """TOTAL_RECORDS: accepted Person rows (spec 7.1)."""
        if self.counts is None or "Person" not in self.counts:
            return 0
        return self.counts["Person"].accepted


# progress(stage, table, fraction 0..1) - called by the engine so a worker can show a progress bar.
ProgressCallback = Callable[[str, str | None, float], None]
