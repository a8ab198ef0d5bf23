"""XLSX workbooks (spec 4.4), read with python-calamine.

* Every sheet is read, hidden ones included; row 1 is the header, row number = sheet row - 1.
* calamine gives Python values; each column is converted with the hint of the spec column its header names:
  numbers as shortest decimal text without exponent, whole numbers zero-padded in columns whose code list has
  ``xlsx_pad_width``; date cells as ``YYYY-MM-DD``, or ``HH:MM:SS`` (nearest second, 23:59:59 cap) in ``time``
  columns, or ``YYYY-MM`` in YEARMONTH columns; booleans ``TRUE``/``FALSE``; formulas by cached value.
* calamine honours the 1900/1904 date system for date cells. A date-formatted serial below 1 comes back as a
  ``time``; read as a date it is day 0 of the workbook's epoch (1899-12-30 or 1904-01-01), which this module
  takes from ``xl/workbook.xml``.
* calamine returns error cells (``t="e"``) as empty, so the sheet XML is scanned (streamed) for error cells
  and their cached text (``#N/A`` ...) is put back.
* A password-protected workbook is an OLE compound file, not a ZIP: FILE005.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

import polars as pl
from python_calamine import CalamineWorkbook

from validation.dataset.schema import DataSet
from validation.model import ROW, RawTable
from validation.readers.common import (
    NO_HINT,
    CannotOpen,
    Hint,
    empty_table,
    float_text,
    hints_for,
    log,
    round_seconds,
    trim,
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


# --- cell conversion ---------------------------------------------------------------------------------------


def _number(value: float | int, hint: Hint) -> str:
    if isinstance(value, int):
        text = str(value)
        whole: int | None = value
    else:
        text = float_text(value)
        whole = int(value) if value.is_integer() else None
    if hint.pad_width is not None and whole is not None and 0 <= whole < 10**hint.pad_width:
        return str(whole).zfill(hint.pad_width)
    return text


def _date_text(d: date, hint: Hint) -> str:
    if hint.yearmonth:
        return f"{d.year:04d}-{d.month:02d}"
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _convert(value: object, hint: Hint, epoch: date) -> str | None:
    """One calamine value -> text (spec 4.4). bool is tested before int (bool is an int)."""
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return _number(value, hint)
    if isinstance(value, datetime):
        if hint.is_time:
            return round_seconds(
                value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
            )
        return _date_text(value.date(), hint)
    if isinstance(value, date):
        return "00:00:00" if hint.is_time else _date_text(value, hint)
    if isinstance(value, time):
        if hint.is_time:
            return round_seconds(
                value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
            )
        return _date_text(epoch, hint)
    if isinstance(value, timedelta):  # duration-formatted cell: a serial counted from the epoch
        if hint.is_time:
            return round_seconds(value.total_seconds() % 86400)
        return _date_text(epoch + timedelta(days=value.days), hint)
    if value is None:
        return None
    return str(value)


def _convert_column(values: list[object], hint: Hint, epoch: date) -> pl.Series:
    if all(type(v) is str for v in values):  # the common case: a text column
        return pl.Series(values, dtype=pl.String).replace("", None)
    return pl.Series([_convert(v, hint, epoch) for v in values], dtype=pl.String)


# --- workbook structure ------------------------------------------------------------------------------------


def _sheet_paths(zf: zipfile.ZipFile) -> tuple[dict[str, str], bool]:
    """Sheet name -> worksheet XML path, and whether the workbook uses the 1904 date system."""
    root = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    pr = root.find(f"{_NS_MAIN}workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    rels: dict[str, str] = {}
    try:
        rel_root = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        for rel in rel_root.iter(f"{_NS_PKG_REL}Relationship"):
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            rels[rel.get("Id", "")] = target
    except KeyError:
        pass
    paths = {}
    for sheet in root.iter(f"{_NS_MAIN}sheet"):
        rid = sheet.get(f"{_NS_REL}id")
        if rid in rels:
            paths[sheet.get("name", "")] = rels[rid]
    return paths, date1904


_ERROR_CELL = re.compile(rb"<c\b[^>]*?\bt=\"e\"[^>]*>.*?</c>", re.S)
_CELL_REF = re.compile(rb"\br=\"([A-Z]+)([0-9]+)\"")
_CELL_VALUE = re.compile(rb"<v>([^<]*)</v>")


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _error_cells(zf: zipfile.ZipFile, sheet_path: str) -> dict[tuple[int, int], str]:
    """(0-based row, 0-based column) -> error text, from a streamed scan of the worksheet XML."""
    found: dict[tuple[int, int], str] = {}
    try:
        src = zf.open(sheet_path)
    except KeyError:
        return found
    carry = b""
    with src:
        while True:
            chunk = src.read(4 * 1024 * 1024)
            buf = carry + chunk
            if not chunk:
                cut = len(buf)
            else:
                cut = buf.rfind(b"</row>")
                cut = cut + len(b"</row>") if cut >= 0 else 0
            part, carry = buf[:cut], buf[cut:]
            if b't="e"' in part:
                for m in _ERROR_CELL.finditer(part):
                    cell = m.group(0)
                    ref = _CELL_REF.search(cell)
                    val = _CELL_VALUE.search(cell)
                    if ref and val:
                        text = val.group(1).decode("utf-8", "replace")
                        found[(int(ref.group(2)) - 1, _col_index(ref.group(1)))] = text
            if not chunk:
                break
    return found


# --- reader ------------------------------------------------------------------------------------------------


def read_xlsx(path: Path, *, dataset: DataSet | None) -> list[RawTable]:
    """All sheets of the workbook as RawTables. Raises CannotOpen (FILE005)."""
    with path.open("rb") as f:
        magic = f.read(8)
    if magic == OLE_MAGIC:
        raise CannotOpen("OLE compound file: a password-protected workbook or a legacy .xls")
    try:
        zf = zipfile.ZipFile(path)
        sheet_paths, date1904 = _sheet_paths(zf)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, ValueError) as exc:
        raise CannotOpen(f"not a readable XLSX: {exc}") from exc
    epoch = date(1904, 1, 1) if date1904 else date(1899, 12, 30)
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        zf.close()
        raise CannotOpen(f"calamine cannot open the workbook: {exc}") from exc
    tables: list[RawTable] = []
    with zf:
        for name in wb.sheet_names:
            source = name
            try:
                rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except Exception as exc:  # chart sheets and the like: no cells
                if "worksheets/" in sheet_paths.get(name, ""):
                    # A worksheet calamine cannot parse is a corrupt workbook, not an empty sheet.
                    raise CannotOpen(f"worksheet {name!r} cannot be read: {exc}") from exc
                log.info("sheet %r of %s has no readable cells: %s", name, path.name, exc)
                rows = []
            errors = _error_cells(zf, sheet_paths[name]) if name in sheet_paths else {}
            for (r, c), text in errors.items():
                if r < len(rows) and c < len(rows[r]):
                    rows[r][c] = text
            tables.append(_table(name, source, rows, dataset, epoch))
            del rows
    return tables


def _table(name: str, source: str, rows: list[list[Any]], dataset: DataSet | None, epoch: date) -> RawTable:
    if not rows:
        return empty_table(name, source)
    header_row = rows[0]
    # Header names: text as given; a typed header cell is read like an unhinted value.
    headers = [trim(_convert(v, NO_HINT, epoch) or "") for v in header_row]
    if not any(headers):
        return empty_table(name, source)
    width = len(headers)
    hints = hints_for(dataset, name, headers)
    data = rows[1:]
    columns = {}
    for i in range(width):
        values = [r[i] if i < len(r) else "" for r in data]
        columns[f"c{i}"] = _convert_column(values, hints[i], epoch)
    frame = pl.DataFrame(columns) if columns else pl.DataFrame()
    frame = frame.with_columns(pl.int_range(1, len(data) + 1, dtype=pl.Int64).alias(ROW))
    return RawTable(name=name, source=source, headers=headers, frame=frame)
