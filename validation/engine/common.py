"""Small shared pieces of the rule engine: whitespace set, internal finding records, column naming."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date

from validation.dataset.schema import Severity, Stage

# Every character for which str.isspace() is true (spec 4.5 step 1). polars' strip_chars() without
# arguments does not strip all of them (e.g. U+00A0, U+2003), so we always pass this set explicitly.
WHITESPACE: str = "".join(ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace())

# Internal column names added to a table frame next to the spec columns. A spec column ``C`` holds the
# value as received after trimming (null when blank); ``C.n`` the normalised value, ``C.ok`` whether it is
# populated and passed all its column's own checks, ``C.d`` the date (dates), ``C.x`` the number (numbers).
N, OK, D, X = ".n", ".ok", ".d", ".x"
CODE = ".c"  # row -> distinct-value code of a column prepared per distinct value (``prepare.py``)
PARENT_COUNT = "__parent_count"  # number of parent rows carrying this row's foreign-key value
PARENT_PREFIX = "P:"  # parent value columns joined onto a child row: "P:DOB.d", "P:DOB.ok"

MIN_DATE = date(1890, 1, 1)
VALUE_MAX_CHARS = 200

ROW_SEVERITIES = (Severity.RECORD_REJECT.value, Severity.GROUP_REJECT.value)


@dataclass(frozen=True)
class Finding:
    """One finding raised outside the vectorised row stage (FILE and HDR rules)."""

    rule_id: str
    stage: Stage
    table: str | None = None
    column: str | None = None
    row_number: int | None = None
    value: str | None = None
    record_key: str | None = None
    column_order: int | None = None  # sort position for columns not defined for the table (FILE016)


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a YYYY-MM reporting period."""
    year, month = int(period[:4]), int(period[5:7])
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)
