"""Streaming XLSX helpers on xlsxwriter in ``constant_memory`` mode.

Every text cell is written with ``write_string`` (never ``write``), so NHS numbers, codes such as
``01``, values such as ``1E5`` or ``2017-11-20`` and text such as ``=cmd|' /C calc'!A0`` stay literal
strings: Excel does not turn them into numbers, dates or formulas. Only columns declared numeric
(row numbers, counts) are written as numbers. xlsxwriter escapes control characters and literal
``_xHHHH_`` sequences as OOXML requires, so Excel shows the text as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO

import polars as pl
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

# Excel limits.
EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, header row included
EXCEL_MAX_CELL_CHARS = 32_767  # characters per cell; longer text is cut (documented)
EXCEL_MAX_URLS = 65_530  # hyperlinks per worksheet; further cells are written as plain strings
_ITER_BUFFER = 10_000

TEXT = "text"
NUMBER = "number"


@contextmanager
def open_workbook(out: BinaryIO) -> Iterator[tuple[Workbook, Any]]:
    """A constant-memory workbook writing to ``out``; yields (workbook, bold header format)."""
    wb = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            # Belt and braces: write_string/write_number are used throughout, but make sure nothing
            # is ever converted if a generic write() slips in.
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    try:
        header = wb.add_format({"bold": True})
        yield wb, header
    finally:
        wb.close()


def column_widths(frame: pl.DataFrame, headers: Sequence[str], *, cap: int = 60) -> list[float]:
    """Width per column: longest of header and data (in characters) + 2, between 8 and ``cap``."""
    if frame.height:
        lengths = frame.select(
            pl.col(c).cast(pl.String).str.len_chars().max().alias(c) for c in frame.columns
        ).row(0)
    else:
        lengths = (0,) * len(frame.columns)
    return [float(min(cap, max(8, len(h) + 2, (n or 0) + 2))) for h, n in zip(headers, lengths, strict=True)]


def write_frame_sheets(
    wb: Workbook,
    header_format: Any,
    frame: pl.DataFrame,
    *,
    sheet_name: str,
    kinds: Sequence[str],
    widths: Sequence[float] | None = None,
    max_rows: int = EXCEL_MAX_ROWS,
    split: bool = True,
    links: Mapping[int, Callable[[str], str | None]] | None = None,
) -> list[str]:
    """Write ``frame`` (header = its column names) to ``sheet_name``.

    When the frame does not fit one sheet (``max_rows`` including the header) and ``split`` is true,
    the rows continue on ``<sheet_name> (2)``, ``<sheet_name> (3)`` ... each with its own header row.
    ``links`` maps a text column position to a function giving the URL for a cell's text (or None):
    such cells become hyperlinks showing the same text, up to Excel's ``EXCEL_MAX_URLS`` per sheet;
    later cells are plain strings. Returns the sheet names written.
    """
    headers = frame.columns
    per_sheet = max_rows - 1
    if widths is None:
        widths = column_widths(frame, headers)
    text_cols = [i for i, k in enumerate(kinds) if k == TEXT]
    num_cols = [i for i, k in enumerate(kinds) if k == NUMBER]
    # Cut text cells to Excel's limit up front (vectorised) rather than per cell.
    frame = frame.with_columns(
        pl.col(headers[i]).cast(pl.String).str.slice(0, EXCEL_MAX_CELL_CHARS) for i in text_cols
    )

    n = frame.height
    if n > per_sheet and not split:
        raise ExcelRowLimitError(f"{sheet_name}: {n} rows do not fit one sheet ({per_sheet} data rows)")
    names: list[str] = []
    offset = 0
    part = 1
    while True:
        name = sheet_name if part == 1 else f"{sheet_name} ({part})"
        chunk = frame.slice(offset, per_sheet)
        ws = wb.add_worksheet(name)
        names.append(name)
        _sheet_header(ws, header_format, headers, widths, chunk.height)
        if links:
            _write_rows_linked(ws, chunk, text_cols, num_cols, links)
        else:
            _write_rows(ws, chunk, text_cols, num_cols)
        offset += per_sheet
        part += 1
        if offset >= n:
            break
    return names


def write_rows_sheet(
    wb: Workbook,
    header_format: Any,
    *,
    sheet_name: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    kinds: Sequence[str],
    widths: Sequence[float],
) -> None:
    """A small sheet from Python rows (e.g. Counts)."""
    ws = wb.add_worksheet(sheet_name)
    _sheet_header(ws, header_format, headers, widths, len(rows))
    text_cols = [i for i, k in enumerate(kinds) if k == TEXT]
    num_cols = [i for i, k in enumerate(kinds) if k == NUMBER]
    for r, row in enumerate(rows, start=1):
        _write_one(ws, r, row, text_cols, num_cols)


class ExcelRowLimitError(ValueError):
    """A table has more rows than one Excel sheet holds and cannot be split."""


def _sheet_header(
    ws: Worksheet, header_format: Any, headers: Sequence[str], widths: Sequence[float], n_rows: int
) -> None:
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    for i, h in enumerate(headers):
        ws.write_string(0, i, h, header_format)
    ws.freeze_panes(1, 0)
    if headers:
        ws.autofilter(0, 0, max(n_rows, 0), len(headers) - 1)


def _write_rows(ws: Worksheet, frame: pl.DataFrame, text_cols: list[int], num_cols: list[int]) -> None:
    write_string = ws.write_string
    write_number = ws.write_number
    r = 1
    if not num_cols:
        for row in frame.iter_rows(buffer_size=_ITER_BUFFER):
            for c in text_cols:
                v = row[c]
                if v:
                    write_string(r, c, v)
            r += 1
        return
    for row in frame.iter_rows(buffer_size=_ITER_BUFFER):
        for c in text_cols:
            v = row[c]
            if v:  # null and "" are blank: leave the cell empty
                write_string(r, c, v)
        for c in num_cols:
            v = row[c]
            if v is not None:
                write_number(r, c, v)
        r += 1


def _write_rows_linked(
    ws: Worksheet,
    frame: pl.DataFrame,
    text_cols: list[int],
    num_cols: list[int],
    links: Mapping[int, Callable[[str], str | None]],
) -> None:
    """Like ``_write_rows``, with hyperlinks (text unchanged) in the ``links`` columns."""
    budget = EXCEL_MAX_URLS
    r = 1
    for row in frame.iter_rows(buffer_size=_ITER_BUFFER):
        for c in text_cols:
            v = row[c]
            if not v:
                continue
            link = links.get(c)
            url = link(v) if link is not None and budget > 0 else None
            if url:
                ws.write_url(r, c, url, string=v)
                budget -= 1
            else:
                ws.write_string(r, c, v)
        for c in num_cols:
            v = row[c]
            if v is not None:
                ws.write_number(r, c, v)
        r += 1


def _write_one(ws: Worksheet, r: int, row: Sequence[Any], text_cols: list[int], num_cols: list[int]) -> None:
    for c in text_cols:
        v = row[c]
        if v is not None and v != "":
            ws.write_string(r, c, str(v)[:EXCEL_MAX_CELL_CHARS])
    for c in num_cols:
        v = row[c]
        if v is not None:
            ws.write_number(r, c, v)
