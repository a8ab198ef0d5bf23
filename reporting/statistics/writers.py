"""Writers for the 10.6 statistics: CSV, XLSX and JSON (UTF-8, no Django).

Only the published columns (:data:`~reporting.statistics.compute.OUTPUT_COLUMNS`) are written, in that order,
whatever extra (detail) columns the frame carries, so unsuppressed numbers can never leak into a file. Every
value is written as text exactly as displayed: ``*``, ``71``, ``71.2``, ``0.0`` and the blank national
``ORG_CODE``. CSV: header row, comma, RFC 4180 quoting, CRLF line ends, no byte-order mark unless ``bom``.
XLSX: one sheet ``Statistics``, every cell written with ``write_string`` (so Excel never turns ``71.2`` into
a number or ``*`` into anything else), bold frozen header, autofilter. JSON: an array of objects with the
output column names as keys, all values strings.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import BinaryIO

import polars as pl
import xlsxwriter

from .compute import OUTPUT_COLUMNS

CSV_LINE_TERMINATOR = "\r\n"
XLSX_SHEET = "Statistics"
# Fixed document creation time so that the same statistics give byte-identical workbooks.
XLSX_CREATED = dt.datetime(2000, 1, 1)


def published(frame: pl.DataFrame) -> pl.DataFrame:
    """The published columns only, nulls as ``""``."""
    missing = [c for c in OUTPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"statistics frame lacks column(s) {', '.join(missing)}")
    return frame.select(pl.col(c).cast(pl.String).fill_null("") for c in OUTPUT_COLUMNS)


def write_statistics_csv(frame: pl.DataFrame, out: BinaryIO, *, bom: bool = False) -> None:
    published(frame).write_csv(
        out,
        include_header=True,
        include_bom=bom,
        line_terminator=CSV_LINE_TERMINATOR,
        quote_style="necessary",
    )


def write_statistics_json(frame: pl.DataFrame, out: BinaryIO) -> None:
    rows = published(frame).to_dicts()
    out.write(json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8"))


def write_statistics_xlsx(frame: pl.DataFrame, out: BinaryIO) -> None:
    data = published(frame)
    wb = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    try:
        wb.set_properties({"created": XLSX_CREATED, "title": "IAPT monthly summary statistics"})
        bold = wb.add_format({"bold": True})
        ws = wb.add_worksheet(XLSX_SHEET)
        for c, name in enumerate(OUTPUT_COLUMNS):
            ws.write_string(0, c, name, bold)
        widths = [len(c) + 2 for c in OUTPUT_COLUMNS]
        for r, row in enumerate(data.iter_rows(), start=1):
            for c, value in enumerate(row):
                ws.write_string(r, c, value)
                widths[c] = max(widths[c], len(value) + 2)
        for c, w in enumerate(widths):
            ws.set_column(c, c, min(w, 60))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(data.height, 1), len(OUTPUT_COLUMNS) - 1)
    finally:
        wb.close()


def statistics_bytes(frame: pl.DataFrame, fmt: str) -> bytes:
    """The file for ``fmt`` (``csv``, ``xlsx`` or ``json``) as bytes."""
    writer = {"csv": write_statistics_csv, "xlsx": write_statistics_xlsx, "json": write_statistics_json}.get(
        fmt
    )
    if writer is None:
        raise ValueError(f"unknown format {fmt!r}")
    buf = io.BytesIO()
    writer(frame, buf)
    return buf.getvalue()


def statistics_file_name(period: str, status: str, fmt: str) -> str:
    """Portal convention: ``IAPT_STATS_<YYYY-MM>_<Provisional|Final>.<fmt>``."""
    return f"IAPT_STATS_{period}_{status}.{fmt}"
