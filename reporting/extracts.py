"""Post-deadline files (spec 10.4, 10.5) from polars frames: no Django, no database.

* **Post-deadline extract (10.4)**: one provider's live submission for one (RP, window type): every table
  with its submitted columns (3.5 order) then its derived columns (10.4 order), rows in row-number order,
  and a ``Submission`` sheet/CSV first. ZIP of ``<Table>.csv`` or one XLSX workbook.
* **Commissioner extract (10.5)**: the rows of one commissioner code from every provider, in the 10.5 layout
  (``ORGCODEPROVIDER`` first, identifiers removed or pseudonymised), appended provider by provider to one
  temporary CSV per table (:class:`CommissionerExtractBuilder`), then packed as a ZIP (and an XLSX).

Files are written to local paths (temporary files) a table at a time, never built whole in memory; the
caller streams them to storage. CSV as every other extract: UTF-8 without BOM, RFC 4180, CRLF.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

import polars as pl

from validation.dataset import DATASET

from .derived import DERIVED_COLUMNS
from .writers.common import table_sort_key
from .writers.report import format_received_at, write_csv_chunked
from .writers.xlsx import EXCEL_MAX_ROWS, TEXT, ExcelRowLimitError, open_workbook, write_frame_sheets

ROW_NUMBER = "ROW_NUMBER"
SUBMISSION_SHEET = "Submission"
CSV_CHUNK_ROWS = 50_000
# Columns a commissioner file must never hold (spec 10.5): checked before anything is written.
FORBIDDEN_COMMISSIONER_COLUMNS: frozenset[str] = frozenset(
    {"NHSNO", "LPTID", "DOB", "POSTCODE", "SERVICEID", "APPTID"}
)
# Fixed workbook creation date, so the same data gives the same workbook content.
XLSX_CREATED = dt.datetime(2000, 1, 1)
ZIP_DATE = (2000, 1, 1, 0, 0, 0)


def post_deadline_columns(table: str) -> list[str]:
    """Spec 10.4: the table's submitted columns (3.5 order) followed by its derived columns (10.4 order)."""
    return [*DATASET.tables[table].column_names, *DERIVED_COLUMNS.get(table, ())]


def post_deadline_table(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The 10.4 layout of one table's accepted rows (``ROW_NUMBER`` order; ``ROW_NUMBER`` itself not shown)."""
    if ROW_NUMBER in frame.columns:
        frame = frame.sort(ROW_NUMBER)
    columns = post_deadline_columns(table)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{table}: derived or submitted columns missing: {missing}")
    return frame.select(pl.col(c).cast(pl.String) for c in columns)


def submission_columns(tables: Iterable[str]) -> list[str]:
    """Columns of the ``Submission`` sheet: the 10.4 list, then ``ROWS_ACCEPTED_<Table>`` per table."""
    return [
        "SUBMISSION_ID",
        "BSP_UNIQUE_ID",
        "FILE_TYPE",
        "PROFILE",
        "RECEIVED_AT",
        "TOTAL_RECORDS",
        *(f"ROWS_ACCEPTED_{t}" for t in sorted(tables, key=table_sort_key)),
    ]


def submission_frame(
    *,
    submission_id: str,
    bsp_unique_id: int,
    file_type: str,
    profile: str,
    received_at: dt.datetime,
    total_records: int | None,
    accepted: Mapping[str, int],
) -> pl.DataFrame:
    """The one-row ``Submission`` sheet of the post-deadline extract (all values text)."""
    ordered = sorted(accepted, key=table_sort_key)
    values = [
        submission_id,
        f"{bsp_unique_id:07d}",
        file_type,
        profile,
        format_received_at(received_at),
        "" if total_records is None else str(total_records),
        *(str(accepted[t]) for t in ordered),
    ]
    return pl.DataFrame([values], schema={c: pl.String for c in submission_columns(ordered)}, orient="row")


def _zip_entry(zf: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _zip(out: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6, allowZip64=True)


def write_post_deadline_zip(
    tables: Mapping[str, pl.DataFrame], *, submission: pl.DataFrame, out: Path
) -> None:
    """ZIP of ``Submission.csv`` then ``<Table>.csv`` per table in section 3 order (10.4 layout)."""
    with _zip(out) as zf:
        with zf.open(_zip_entry(zf, f"{SUBMISSION_SHEET}.csv"), "w", force_zip64=True) as entry:
            write_csv_chunked(submission, entry, chunk_rows=CSV_CHUNK_ROWS)
        for table in sorted(tables, key=table_sort_key):
            frame = post_deadline_table(table, tables[table])
            with zf.open(_zip_entry(zf, f"{table}.csv"), "w", force_zip64=True) as entry:
                write_csv_chunked(frame, entry, chunk_rows=CSV_CHUNK_ROWS)


def write_post_deadline_xlsx(
    tables: Mapping[str, pl.DataFrame], *, submission: pl.DataFrame, out: Path
) -> None:
    """One workbook: sheet ``Submission``, then one sheet per table named as the table (section 3 order).

    A table over Excel's row limit raises :class:`ExcelRowLimitError` before anything is written (the ZIP
    has every row)."""
    ordered = sorted(tables, key=table_sort_key)
    too_big = [t for t in ordered if tables[t].height > EXCEL_MAX_ROWS - 1]
    if too_big:
        raise ExcelRowLimitError(f"table(s) {', '.join(too_big)} exceed one Excel sheet")
    with out.open("wb") as fh, open_workbook(fh) as (wb, bold):
        wb.set_properties({"created": XLSX_CREATED, "title": "IAPT post-deadline extract"})
        write_frame_sheets(
            wb, bold, submission, sheet_name=SUBMISSION_SHEET, kinds=[TEXT] * submission.width, split=False
        )
        for table in ordered:
            frame = post_deadline_table(table, tables[table])
            write_frame_sheets(wb, bold, frame, sheet_name=table, kinds=[TEXT] * frame.width, split=False)


class CommissionerExtractBuilder:
    """Collects one commissioner code's 10.5 rows provider by provider into one temporary CSV per table.

    ``add(frames)`` takes one provider's frames already in the 10.5 layout (``reporting.derived.
    commissioner_view``); the first provider that has a table fixes its columns. ``write_zip``/``write_xlsx``
    pack the CSVs in section 3 order.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.columns: dict[str, list[str]] = {}
        self.rows: dict[str, int] = {}

    def _path(self, table: str) -> Path:
        return self.workdir / f"{table}.csv"

    def add(self, frames: Mapping[str, pl.DataFrame]) -> None:
        for table, frame in frames.items():
            if table == "Header":
                continue
            forbidden = FORBIDDEN_COMMISSIONER_COLUMNS & set(frame.columns)
            if forbidden:
                raise ValueError(f"{table}: identifiers in a commissioner extract: {sorted(forbidden)}")
            if frame.columns[:1] != ["ORGCODEPROVIDER"]:
                raise ValueError(f"{table}: ORGCODEPROVIDER must be the first column")
            first = table not in self.columns
            if first:
                self.columns[table] = list(frame.columns)
                self.rows[table] = 0
            elif list(frame.columns) != self.columns[table]:
                raise ValueError(f"{table}: providers' columns differ")
            with self._path(table).open("ab") as fh:
                if first:
                    write_csv_chunked(frame, fh, chunk_rows=CSV_CHUNK_ROWS)
                else:
                    _append_csv(frame, fh)
            self.rows[table] += frame.height

    def tables(self) -> list[str]:
        return sorted(self.columns, key=table_sort_key)

    def write_zip(self, out: Path) -> None:
        with _zip(out) as zf:
            for table in self.tables():
                with (
                    zf.open(_zip_entry(zf, f"{table}.csv"), "w", force_zip64=True) as entry,
                    self._path(table).open("rb") as src,
                ):
                    while chunk := src.read(1024 * 1024):
                        entry.write(chunk)

    def write_xlsx(self, out: Path) -> None:
        """One sheet per table (a table longer than one sheet continues on ``<Table> (2)`` ...)."""
        with out.open("wb") as fh, open_workbook(fh) as (wb, bold):
            wb.set_properties({"created": XLSX_CREATED, "title": "IAPT commissioner extract"})
            for table in self.tables():
                frame = pl.read_csv(self._path(table), infer_schema=False)
                write_frame_sheets(
                    wb, bold, frame, sheet_name=table, kinds=[TEXT] * frame.width, max_rows=EXCEL_MAX_ROWS
                )


def _append_csv(frame: pl.DataFrame, fh: BinaryIO) -> None:
    n, offset = frame.height, 0
    while offset < n:
        frame.slice(offset, CSV_CHUNK_ROWS).write_csv(
            fh,
            include_header=False,
            line_terminator="\r\n",
            quote_style="necessary",
        )
        offset += CSV_CHUNK_ROWS


def commissioner_file_name(code: str, period: str, window_type: str, ext: str = "zip") -> str:
    """Spec 10.5: ``COMM_<code>_<YYYY-MM>_<Primary|Refresh>.zip`` (the XLSX has the same stem)."""
    return f"COMM_{code}_{period}_{window_type}.{ext}"


def post_deadline_file_name(
    provider: str, period: str, window_type: str, bsp_unique_id: int, ext: str
) -> str:
    """Portal convention: ``<provider>_<YYYY-MM>_<Primary|Refresh>_<BSP_UNIQUE_ID>_post_deadline.<zip|xlsx>``."""
    return f"{provider}_{period}_{window_type}_{bsp_unique_id:07d}_post_deadline.{ext}"
