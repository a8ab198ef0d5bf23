"""Writers for generated tables: a ZIP of ``<Table>.csv`` (spec 4.3) and an XLSX workbook (spec 4.4)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from ._specdata import TABLES

# fixed timestamp for ZIP entries so that the same tables give byte-identical files
_ZIP_TIME = (2017, 1, 1, 0, 0, 0)


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_csv(buf, line_terminator="\n", include_header=True)
    return buf.getvalue()


def write_csvzip(tables: dict[str, pl.DataFrame], path: str | Path) -> Path:
    """Write a ZIP with one UTF-8, LF-terminated ``<Table>.csv`` per table (in the dict's order)."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, frame in tables.items():
            info = zipfile.ZipInfo(f"{name}.csv", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, _csv_bytes(frame), compresslevel=1)
    return path


def _column_kinds(table: str, columns: list[str]) -> list[str]:
    """'date' for date columns (written as real date cells), else 'text'."""
    types = {c[0]: c[1] for c in TABLES.get(table, {}).get("columns", ())}
    return ["date" if types.get(c) == "date" else "text" for c in columns]


def write_xlsx(tables: dict[str, pl.DataFrame], path: str | Path) -> Path:
    """Write one sheet per table: dates as real date cells, everything else (codes included) as text cells.

    Valid ``YYYY-MM-DD`` values in date columns become date cells; anything else (e.g. an injected invalid
    date) is written as text so that the reader sees exactly the planted value.
    """
    path = Path(path)
    wb = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
    )
    wb.set_properties({"created": datetime(2017, 1, 1, tzinfo=UTC)})  # fixed so that output is reproducible
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    try:
        for name, frame in tables.items():
            ws = wb.add_worksheet(name)
            cols = frame.columns
            kinds = _column_kinds(name, cols)
            for j, c in enumerate(cols):
                ws.write_string(0, j, c)
            if frame.height == 0:
                continue
            series = []
            for c, k in zip(cols, kinds, strict=True):
                s = frame[c].cast(pl.String)
                if k == "date":
                    parsed = s.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
                    series.append((k, s.to_list(), parsed.to_list()))
                else:
                    series.append((k, s.to_list(), None))
            for i in range(frame.height):
                row = i + 1
                for j, (k, raw, parsed) in enumerate(series):
                    v = raw[i]
                    if v is None:
                        continue
                    if k == "date" and parsed[i] is not None and parsed[i].year >= 1900:
                        ws.write_datetime(row, j, parsed[i], date_fmt)
                    elif v == "":
                        continue
                    else:
                        ws.write_string(row, j, v)
    finally:
        wb.close()
    return path
