"""Data quality summary (spec 10.2, VODIM) over a submission's accepted rows, and its writers.

Pure Python + polars; no Django. ``dq_summary`` gives one line per column of every table present:
``VALID``, ``OTHER``, ``DEFAULT``, ``INVALID``, ``MISSING`` (they add up to ``TOTAL`` = accepted rows)
and ``VALID_PCT``. Values in the accepted frames are the normalised strings of spec 4.5.

Classification of a populated value (first match wins):

* ``INVALID`` only where a failing check merely warns, so the row was loaded: a code not in a
  closed code list (PER170, REF180, APP180, ... and, defensively, the rejecting lists), a number
  outside its range (APP240, APQ160, TPQ150, LTA140), a ``POSTCODE`` failing PER150 and a
  ``PROVDIAG`` failing REF200;
* ``DEFAULT``: a code of DQ kind ``default`` (``CodeList.defaults``), a ``POSTCODE`` starting
  ``ZZ99`` (that passes PER150), a ``GMPC`` of ``V81997``, ``V81998`` or ``V81999``;
* ``OTHER``: a code of DQ kind ``other`` (``CodeList.others``);
* ``VALID``: everything else. Identifier, key, date, time and other format-checked columns of
  accepted rows are therefore always ``VALID`` or ``MISSING`` (their failures reject the row).

``VALID_PCT`` = VALID / TOTAL x 100 computed with integers and rounded half-up to one decimal
place (1 of 16 -> ``6.3``); blank when TOTAL is 0.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any, BinaryIO

import polars as pl

from validation.dataset import DATASET
from validation.dataset.schema import Column, ColumnType, DataSet
from validation.model import TableCounts

from .writers.common import COUNT_FIELDS, COUNT_HEADERS, counts_rows
from .writers.xlsx import NUMBER, TEXT, open_workbook, write_rows_sheet

DQ_COLUMNS: tuple[str, ...] = (
    "TABLE",
    "COLUMN",
    "VALID",
    "OTHER",
    "DEFAULT",
    "INVALID",
    "MISSING",
    "TOTAL",
    "VALID_PCT",
)
MEASURES: tuple[str, ...] = ("VALID", "OTHER", "DEFAULT", "INVALID", "MISSING")
DQ_SCHEMA: dict[str, type[pl.DataType]] = {
    "TABLE": pl.String,
    "COLUMN": pl.String,
    "VALID": pl.Int64,
    "OTHER": pl.Int64,
    "DEFAULT": pl.Int64,
    "INVALID": pl.Int64,
    "MISSING": pl.Int64,
    "TOTAL": pl.Int64,
    "VALID_PCT": pl.String,
}

GMPC_DEFAULTS: tuple[str, ...] = ("V81997", "V81998", "V81999")
POSTCODE_DEFAULT_PREFIX = "ZZ99"
NOT_APPLICABLE = "n/a"

# Category codes used inside the vectorised classification.
_VALID, _OTHER, _DEFAULT, _INVALID, _MISSING = range(5)


def valid_pct(valid: int, total: int) -> str | None:
    """VALID / TOTAL x 100, exact, rounded half-up to one decimal place; None when TOTAL is 0."""
    if total <= 0:
        return None
    tenths = (2 * valid * 1000 + total) // (2 * total)  # floor(x + 1/2) with x = valid*1000/total
    return f"{tenths // 10}.{tenths % 10}"


def _icd10_invalid(c: pl.Expr, col: Column, dataset: DataSet) -> pl.Expr:
    """REF200: longer than the column's length, or the normalised form does not match ICD10."""
    normalised = c.str.to_uppercase().str.replace_all(r"[.\s\-]", "")
    too_long = c.str.len_chars() > (col.length or 6)
    return too_long | ~normalised.str.contains(dataset.formats["ICD10"])


def _category(col: Column, dataset: DataSet) -> pl.Expr:
    """Polars expression giving the category code of every value of ``col`` (a String column)."""
    c = pl.col(col.name)
    missing = c.is_null() | (c.str.strip_chars() == "")
    expr: Any = pl.when(missing).then(pl.lit(_MISSING))  # Then / ChainedThen
    if col.name == "POSTCODE":
        bad = (c.str.len_chars() > (col.length or 8)) | ~c.str.contains(dataset.formats["POSTCODE"])
        expr = expr.when(bad).then(pl.lit(_INVALID))
        expr = expr.when(c.str.starts_with(POSTCODE_DEFAULT_PREFIX)).then(pl.lit(_DEFAULT))
    elif col.name == "GMPC":
        expr = expr.when(c.is_in(GMPC_DEFAULTS)).then(pl.lit(_DEFAULT))
    elif col.format == "ICD10":
        expr = expr.when(_icd10_invalid(c, col, dataset)).then(pl.lit(_INVALID))
    if col.codelist and col.format != "ICD10":  # ProblemDescriptor is an open list (spec 5.13)
        cl = dataset.codelists[col.codelist]
        expr = expr.when(~c.is_in(list(cl.codes))).then(pl.lit(_INVALID))
        if cl.defaults:
            expr = expr.when(c.is_in(list(cl.defaults))).then(pl.lit(_DEFAULT))
        if cl.others:
            expr = expr.when(c.is_in(list(cl.others))).then(pl.lit(_OTHER))
    if col.range and col.type in (ColumnType.INTEGER, ColumnType.DECIMAL):
        # Accepted numbers are well-formed (x040 rejects the rest); compare exactly as decimals.
        dtype = pl.Decimal(precision=38, scale=col.scale or 0)
        low, high = (pl.lit(Decimal(b), dtype=dtype) for b in col.range)
        number = c.cast(dtype, strict=False)
        expr = expr.when((number < low) | (number > high)).then(pl.lit(_INVALID))
    result: pl.Expr = expr.otherwise(pl.lit(_VALID))
    return result


def _table_lines(name: str, frame: pl.DataFrame | None, dataset: DataSet) -> list[dict[str, Any]]:
    table = dataset.tables[name]
    total = 0 if frame is None else frame.height
    lines: list[dict[str, Any]] = []
    if frame is None or total == 0:
        for col in table.columns:
            lines.append(_line(name, col.name, [0, 0, 0, 0, 0], total))
        return lines
    present = [c for c in table.columns if c.name in frame.columns]
    exprs: list[pl.Expr] = []
    for col in present:
        cat = _category(col, dataset)
        for code, measure in enumerate(MEASURES):
            exprs.append((cat == code).sum().cast(pl.Int64).alias(f"{col.name}\x1f{measure}"))
    sums = frame.select(pl.col(c.name).cast(pl.String) for c in present).select(exprs).row(0, named=True)
    for col in table.columns:
        if col.name in frame.columns:
            values = [int(sums[f"{col.name}\x1f{m}"]) for m in MEASURES]
        else:  # column not stored (should not happen): every row counts as missing
            values = [0, 0, 0, 0, total]
        lines.append(_line(name, col.name, values, total))
    return lines


def _line(table: str, column: str, values: list[int], total: int) -> dict[str, Any]:
    line: dict[str, Any] = {"TABLE": table, "COLUMN": column}
    line.update(dict(zip(MEASURES, values, strict=True)))
    line["TOTAL"] = total
    line["VALID_PCT"] = valid_pct(values[0], total)
    return line


def dq_summary(
    accepted: Mapping[str, pl.DataFrame],
    counts: Mapping[str, TableCounts] | None = None,
    dataset: DataSet = DATASET,
) -> pl.DataFrame:
    """One line per column of every table in ``accepted`` or ``counts`` (spec 3.5 table and column order).

    ``TOTAL`` is the number of accepted rows (the frame's height); a table named in ``counts`` without
    a frame has ``TOTAL`` 0. Tables not defined by the data set are ignored.
    """
    names = [n for n in dataset.tables if n in accepted or (counts is not None and n in counts)]
    lines: list[dict[str, Any]] = []
    for name in names:
        lines.extend(_table_lines(name, accepted.get(name), dataset))
    return pl.DataFrame(lines, schema=DQ_SCHEMA, orient="row")


# ---------------------------------------------------------------------------------- pathway continuity


def open_serviceids(referrals: pl.DataFrame | None) -> set[str]:
    """SERVICEIDs of accepted referrals with a blank ENDDATE (for the next month's continuity check)."""
    if referrals is None or referrals.height == 0 or "SERVICEID" not in referrals.columns:
        return set()
    if "ENDDATE" in referrals.columns:
        end = pl.col("ENDDATE")
        referrals = referrals.filter(end.is_null() | (end.cast(pl.String).str.strip_chars() == ""))
    return set(referrals.get_column("SERVICEID").drop_nulls().to_list())


def pathway_continuity(
    referrals: pl.DataFrame | None, previous_open_serviceids: set[str] | None
) -> int | str:
    """Open referrals of the previous RP's effective submission missing from this one; ``"n/a"`` without one."""
    if previous_open_serviceids is None:
        return NOT_APPLICABLE
    present: set[str] = set()
    if referrals is not None and "SERVICEID" in referrals.columns:
        present = set(referrals.get_column("SERVICEID").drop_nulls().to_list())
    return len(previous_open_serviceids - present)


# ---------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class DQReport:
    submission_id: str
    columns: pl.DataFrame  # dq_summary
    counts: list[dict[str, Any]] = field(default_factory=list)  # writers.common.counts_rows
    pathway_continuity: int | str = NOT_APPLICABLE

    def tables(self) -> list[dict[str, Any]]:
        """Per table: its 7.1 counts (if known) and its column lines, for a page."""
        by_table: dict[str, dict[str, Any]] = {}
        counts = {r["table"]: r for r in self.counts}
        for line in self.columns.iter_rows(named=True):
            entry = by_table.setdefault(
                line["TABLE"], {"table": line["TABLE"], "counts": counts.get(line["TABLE"]), "lines": []}
            )
            entry["lines"].append(line)
        return list(by_table.values())


def dq_report(
    accepted: Mapping[str, pl.DataFrame],
    counts: Mapping[str, TableCounts] | None,
    *,
    submission_id: str,
    previous_open_serviceids: set[str] | None = None,
    dataset: DataSet = DATASET,
) -> DQReport:
    return DQReport(
        submission_id=submission_id,
        columns=dq_summary(accepted, counts, dataset),
        counts=counts_rows(counts) if counts else [],
        pathway_continuity=pathway_continuity(accepted.get("Referral"), previous_open_serviceids),
    )


def dq_file_name(provider: str, period: str, window_type: str, bsp_unique_id: int, ext: str) -> str:
    """``<provider>_<YYYY-MM>_<Primary|Refresh>_<BSP_UNIQUE_ID>_dq.<csv|xlsx|json>`` (like the report names)."""
    from .writers import report_file_name

    return report_file_name(provider, period, window_type, bsp_unique_id, ext).replace("_validation.", "_dq.")


def _with_submission(frame: pl.DataFrame, submission_id: str) -> pl.DataFrame:
    return frame.select(pl.lit(submission_id).alias("SUBMISSION_ID"), *DQ_COLUMNS)


def write_dq_csv(report: DQReport, out: BinaryIO) -> None:
    """CSV of the column lines: ``SUBMISSION_ID`` then the DQ columns; UTF-8, no BOM, CRLF (as the report).

    The per-table counts are in the validation report; the XLSX and JSON also carry them and the
    pathway continuity figure.
    """
    _with_submission(report.columns, report.submission_id).write_csv(
        out, line_terminator="\r\n", quote_style="necessary", null_value=""
    )


def write_dq_xlsx(report: DQReport, out: BinaryIO) -> None:
    """Sheets ``DQ`` (column lines), ``Counts`` (spec 7.1) and ``Summary`` (pathway continuity)."""
    frame = _with_submission(report.columns, report.submission_id)
    headers = list(frame.columns)
    kinds = [NUMBER if frame.schema[h] == pl.Int64 else TEXT for h in headers]
    widths = [16.0, 20.0, 22.0] + [10.0] * (len(headers) - 3)
    with open_workbook(out) as (wb, bold):
        write_rows_sheet(
            wb, bold, sheet_name="DQ", headers=headers, rows=frame.rows(), kinds=kinds, widths=widths
        )
        count_headers = [COUNT_HEADERS[f] for f in COUNT_FIELDS]
        write_rows_sheet(
            wb,
            bold,
            sheet_name="Counts",
            headers=count_headers,
            rows=[[r[f] for f in COUNT_FIELDS] for r in report.counts],
            kinds=[TEXT] + [NUMBER] * (len(COUNT_FIELDS) - 1),
            widths=[20.0] + [max(12.0, len(h) + 2.0) for h in count_headers[1:]],
        )
        continuity = report.pathway_continuity
        write_rows_sheet(
            wb,
            bold,
            sheet_name="Summary",
            headers=["SUBMISSION_ID", "PATHWAY_CONTINUITY"],
            rows=[[report.submission_id, continuity]],
            kinds=[TEXT, NUMBER if isinstance(continuity, int) else TEXT],
            widths=[18.0, 22.0],
        )


def dq_json_object(report: DQReport) -> dict[str, Any]:
    columns = []
    for line in report.columns.iter_rows(named=True):
        obj = {k.lower(): line[k] for k in DQ_COLUMNS}
        pct = obj["valid_pct"]
        obj["valid_pct"] = None if pct is None else float(pct)  # "6.3" -> 6.3 (repr is exact at 1 d.p.)
        columns.append(obj)
    return {
        "submission_id": report.submission_id,
        "counts": report.counts,
        "pathway_continuity": report.pathway_continuity,
        "columns": columns,
    }


def write_dq_json(report: DQReport, out: IO[str] | IO[bytes]) -> None:
    text = json.dumps(dq_json_object(report), ensure_ascii=False, indent=1) + "\n"
    if isinstance(out, io.TextIOBase):
        out.write(text)
    else:
        out.write(text.encode("utf-8"))  # type: ignore[arg-type]


__all__ = [
    "DQ_COLUMNS",
    "DQReport",
    "dq_file_name",
    "dq_json_object",
    "dq_report",
    "dq_summary",
    "open_serviceids",
    "pathway_continuity",
    "valid_pct",
    "write_dq_csv",
    "write_dq_json",
    "write_dq_xlsx",
]
