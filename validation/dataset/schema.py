"""The shapes of a data-set definition: tables, columns, code lists, formats and rules.

A definition (one module per data-set version, e.g. ``iapt_v1_5``) is plain data built from these
classes; readers, the rule engine, templates and reports all read the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColumnType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    TIME = "time"


class Obligation(StrEnum):
    MANDATORY = "M"
    REQUIRED = "R"
    OPTIONAL = "O"


class Severity(StrEnum):
    FILE_REJECT = "FILE_REJECT"
    GROUP_REJECT = "GROUP_REJECT"
    RECORD_REJECT = "RECORD_REJECT"
    WARNING = "WARNING"


class Stage(StrEnum):
    GATE = "GATE"
    READ = "READ"
    HEADER = "HEADER"
    PROFILE = "PROFILE"
    RECORDS = "RECORDS"
    FINAL = "FINAL"


STAGE_ORDER: dict[str, int] = {s.value: i for i, s in enumerate(Stage, start=1)}


@dataclass(frozen=True)
class CodeList:
    name: str
    title: str
    codes: dict[str, str]  # code -> meaning, in spec order
    defaults: tuple[str, ...] = ()  # DQ kind "default" (spec 10.2)
    others: tuple[str, ...] = ()  # DQ kind "other"
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)  # e.g. EndCode groups

    @property
    def xlsx_pad_width(self) -> int | None:
        """Width to zero-pad whole numeric XLSX cells to (spec 4.4), or None if this list is not padded."""
        widths = {len(c) for c in self.codes}
        if len(widths) == 1 and all(c.isdigit() for c in self.codes):
            return widths.pop()
        return None


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    obligation: Obligation
    length: int | None = None  # text(n) / integer(n)
    precision: int | None = None  # decimal(p, s)
    scale: int | None = None
    codelist: str | None = None
    format: str | None = None  # named format (spec 3.3)
    range: tuple[str, str] | None = None  # inclusive bounds as decimal text
    key: str | None = None  # PK, FK, K, FK+K, PK+FK
    description: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    prefix: str
    columns: tuple[Column, ...]
    parent: str | None = None
    fk: str | None = None  # column holding the parent's key
    row_key: tuple[str, ...] = ()
    report_key: tuple[str, ...] = ()
    level: int = 0  # cascade level (spec 6.2 item 5)
    description: str = ""

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}.{name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    idb_version: str
    required_tables: tuple[str, ...]
    optional_tables: tuple[str, ...]

    @property
    def tables(self) -> tuple[str, ...]:
        return self.required_tables + self.optional_tables


@dataclass(frozen=True)
class RuleSpec:
    """A catalogue entry: the spec's words. The engine binds each ID to an implementation."""

    id: str
    severity: Severity
    stage: Stage
    table: str | None
    columns: tuple[str, ...]
    each: bool
    message: str
    condition: str = ""
    # FILE010-FILE014 run in HEADER (for Header) and again in PROFILE (other tables): the spec's
    # "HEADER+PROFILE". ``stage`` is the first stage, ``also_stage`` the second.
    also_stage: Stage | None = None

    @property
    def stage_label(self) -> str:
        """The stage as the catalogue writes it, e.g. "RECORDS" or "HEADER+PROFILE"."""
        return f"{self.stage}+{self.also_stage}" if self.also_stage else str(self.stage)


@dataclass(frozen=True)
class DataSet:
    version: str  # rule-set version shown on receipts, e.g. "IAPT v1.5 / spec 1.0"
    tables: dict[str, Table]  # in spec section 3 order
    codelists: dict[str, CodeList]
    formats: dict[str, str]  # format name -> regex
    profiles: dict[str, Profile]
    rules: dict[str, RuleSpec]  # in catalogue order

    def profile_for_version(self, idb_version: str) -> Profile | None:
        for p in self.profiles.values():
            if p.idb_version == idb_version:
                return p
        return None

    @property
    def table_order(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.tables)}
