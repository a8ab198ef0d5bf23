"""Names, orders and small helpers shared by the report and extract writers (spec 1, 3, 7.1, 10.1).

Nothing here imports Django or the data-set definition, so the writers run from a command, a
Celery task or a test. The table order and report keys are copied from spec section 3; a caller
that has the data-set definition at hand may pass its own ``report_keys`` instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import polars as pl

from validation.model import FINDING_COLUMNS, TableCounts

# Tables in spec section 3 order.
TABLE_ORDER: tuple[str, ...] = (
    "Header",
    "Person",
    "Disability",
    "Referral",
    "Appointment",
    "AssessmentPEQ",
    "TreatmentPEQ",
    "WaitingTimePause",
    "LTCCondition",
    "MUSSymptom",
    "LTCAppointment",
    "EmploymentAdviser",
)

# "Report key (shown in findings)" of every table, spec 3.5.
DEFAULT_REPORT_KEYS: dict[str, tuple[str, ...]] = {
    "Header": (),
    "Person": ("LPTID",),
    "Disability": ("LPTID", "DISABILITY"),
    "Referral": ("SERVICEID", "LPTID"),
    "Appointment": ("APPTID", "SERVICEID"),
    "AssessmentPEQ": ("SERVICEID", "ASSESSPEQDATE", "ASSESSPEQTIME"),
    "TreatmentPEQ": ("SERVICEID", "TREATPEQDATE", "TREATPEQTIME"),
    "WaitingTimePause": ("SERVICEID", "PAUSEID"),
    "LTCCondition": ("SERVICEID", "LTCCODE"),
    "MUSSymptom": ("SERVICEID", "MUSCODE"),
    "LTCAppointment": ("APPTID",),
    "EmploymentAdviser": ("APPTID",),
}

# Validation report columns (spec 10.1), mapped from the findings frame columns (validation.model).
REPORT_COLUMNS: tuple[str, ...] = (
    "SUBMISSION_ID",
    "RULE_ID",
    "SEVERITY",
    "TABLE",
    "ROW_NUMBER",
    "RECORD_KEY",
    "COLUMN",
    "VALUE",
    "MESSAGE",
)
_FINDING_TO_REPORT: dict[str, str] = {
    "rule_id": "RULE_ID",
    "severity": "SEVERITY",
    "table": "TABLE",
    "row_number": "ROW_NUMBER",
    "record_key": "RECORD_KEY",
    "column": "COLUMN",
    "value": "VALUE",
    "message": "MESSAGE",
}

# Row counts (spec 7.1): key used in JSON and in counts_rows() -> column name in CSV/XLSX -> label for a page.
COUNT_FIELDS: tuple[str, ...] = (
    "table",
    "rows_read",
    "rows_accepted",
    "rows_rejected_record",
    "rows_rejected_group",
    "rows_with_warnings",
)
COUNT_HEADERS: dict[str, str] = {f: f.upper() for f in COUNT_FIELDS}
COUNT_LABELS: dict[str, str] = {
    "table": "Table",
    "rows_read": "Rows read",
    "rows_accepted": "Rows accepted",
    "rows_rejected_record": "Rows rejected (record)",
    "rows_rejected_group": "Rows rejected (group)",
    "rows_with_warnings": "Accepted rows with warnings",
}

WINDOW_TYPES: tuple[str, ...] = ("Primary", "Refresh")
_PROVIDER_RE = re.compile(r"^[A-Za-z0-9]{1,12}$")
_PERIOD_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def table_sort_key(name: str) -> tuple[int, str]:
    """Section 3 order, then other names in code-point order (spec 0)."""
    try:
        return (TABLE_ORDER.index(name), "")
    except ValueError:
        return (len(TABLE_ORDER), name)


# --------------------------------------------------------------------------------------------- names


def format_bsp_unique_id(bsp_unique_id: int | str) -> str:
    """``12`` -> ``0000012`` (spec 1: shown zero-padded to 7 digits; longer numbers are not cut)."""
    text = str(bsp_unique_id)
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ValueError(f"BSP_UNIQUE_ID must be a positive whole number, got {bsp_unique_id!r}")
    return f"{int(text):07d}"


def submission_id(provider: str, bsp_unique_id: int | str) -> str:
    """``SUBMISSION_ID`` = provider code + ``-`` + 7-digit number, e.g. ``TSTP1-0000012`` (spec 1)."""
    return f"{_check_provider(provider)}-{format_bsp_unique_id(bsp_unique_id)}"


def report_file_name(provider: str, period: str, window_type: str, bsp_unique_id: int | str, ext: str) -> str:
    """``<provider>_<YYYY-MM>_<Primary|Refresh>_<BSP_UNIQUE_ID>_validation.<csv|xlsx|json>`` (spec 10.1).

    ``BSP_UNIQUE_ID`` is zero-padded to 7 digits, as in ``SUBMISSION_ID``:
    ``report_file_name("TSTP1", "2017-11", "Primary", 12, "csv")`` -> ``TSTP1_2017-11_Primary_0000012_validation.csv``.
    """
    return _file_name(
        provider, period, window_type, bsp_unique_id, "validation", ext, ("csv", "xlsx", "json")
    )


def extract_file_name(
    provider: str, period: str, window_type: str, bsp_unique_id: int | str, ext: str
) -> str:
    """Pre-deadline extract (10.3; the spec gives no name, portal convention of this module):
    ``<provider>_<YYYY-MM>_<Primary|Refresh>_<BSP_UNIQUE_ID>_extract.<zip|xlsx>``."""
    return _file_name(provider, period, window_type, bsp_unique_id, "extract", ext, ("zip", "xlsx"))


def _file_name(
    provider: str,
    period: str,
    window_type: str,
    bsp_unique_id: int | str,
    kind: str,
    ext: str,
    allowed: tuple[str, ...],
) -> str:
    if not _PERIOD_RE.match(period or ""):
        raise ValueError(f"reporting period must be YYYY-MM, got {period!r}")
    if window_type not in WINDOW_TYPES:
        raise ValueError(f"window type must be Primary or Refresh, got {window_type!r}")
    ext = ext.lower().lstrip(".")
    if ext not in allowed:
        raise ValueError(f"extension must be one of {allowed}, got {ext!r}")
    provider = _check_provider(provider)
    return f"{provider}_{period}_{window_type}_{format_bsp_unique_id(bsp_unique_id)}_{kind}.{ext}"


def _check_provider(provider: str) -> str:
    # Provider codes are ODS codes (letters and digits); anything else would be unsafe in a file name
    # or a Content-Disposition header.
    if not _PROVIDER_RE.match(provider or ""):
        raise ValueError(f"provider code must be letters and digits, got {provider!r}")
    return provider


# --------------------------------------------------------------------------------------------- counts


def counts_rows(counts: Mapping[str, TableCounts] | None) -> list[dict[str, str | int]]:
    """Section 7.1 counts as rows ``{"table", "rows_read", "rows_accepted", "rows_rejected_record",
    "rows_rejected_group", "rows_with_warnings"}`` in section 3 table order (unknown names last, in
    code-point order). ``None`` (a submission rejected before stage 5 has no counts) gives ``[]``.

    Used for the XLSX ``Counts`` sheet (headers ``COUNT_HEADERS``), the JSON ``counts`` array and
    the submission web page (labels ``COUNT_LABELS``).
    """
    if not counts:
        return []
    rows: list[dict[str, str | int]] = []
    for table in sorted(counts, key=table_sort_key):
        c = counts[table]
        rows.append(
            {
                "table": table,
                "rows_read": c.read,
                "rows_accepted": c.accepted,
                "rows_rejected_record": c.rejected_record,
                "rows_rejected_group": c.rejected_group,
                "rows_with_warnings": c.with_warnings,
            }
        )
    return rows


# --------------------------------------------------------------------------------------------- frames


def check_findings(findings: pl.DataFrame) -> None:
    missing = [c for c in FINDING_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"findings frame lacks columns {missing}")


def report_frame(findings: pl.DataFrame, submission_id: str) -> pl.DataFrame:
    """Findings (validation.model.FINDING_COLUMNS) -> the report columns of 10.1, order kept.

    Values are not altered, except that an empty string is written like a null (both are blank).
    """
    check_findings(findings)
    exprs: list[pl.Expr] = [pl.lit(submission_id, dtype=pl.String).alias("SUBMISSION_ID")]
    for src, dst in _FINDING_TO_REPORT.items():
        if src == "row_number":
            exprs.append(pl.col(src).cast(pl.Int64).alias(dst))
        else:
            col = pl.col(src).cast(pl.String)
            exprs.append(pl.when(col == "").then(None).otherwise(col).alias(dst))
    return findings.select(exprs)


def blank_to_null(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    if not columns:
        return frame
    return frame.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in columns
    )
