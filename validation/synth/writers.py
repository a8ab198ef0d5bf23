"""Writers for generated tables: a ZIP of ``<Table>.csv`` (spec 4.3), an XLSX workbook (spec 4.4) and an
Access .mdb (spec 4.2, through :mod:`validation.jet4`)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from validation.readers.common import plain_decimal

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
            series: list[tuple[str, list[Any], list[Any] | None]] = []
            for c, k in zip(cols, kinds, strict=True):
                s = frame[c].cast(pl.String)
                if k == "date":
                    parsed = s.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
                    series.append((k, s.to_list(), parsed.to_list()))
                else:
                    series.append((k, s.to_list(), None))
            for i in range(frame.height):
                row = i + 1
                for j, (k, raw, dates) in enumerate(series):
                    v = raw[i]
                    if v is None:
                        continue
                    if k == "date" and dates is not None and dates[i] is not None and dates[i].year >= 1900:
                        ws.write_datetime(row, j, dates[i], date_fmt)
                    elif v == "":
                        continue
                    else:
                        ws.write_string(row, j, v)
    finally:
        wb.close()
    return path


# --- Access (.mdb, Jet 4) ---------------------------------------------------------------------------------

_MDB_INT = re.compile(r"^[0-9]{1,9}$")
_MDB_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")


def _mdb_decimal_ok(text: str) -> bool:
    # stored as a Double, which the portal reads back as the shortest round-trip text: the value must
    # survive that exactly ("2.20" comes back as "2.2", the same number; "0.1234567890123456789" does not)
    if not re.fullmatch(r"^[0-9]{1,15}(\.[0-9]{1,15})?$", text):
        return False
    return Decimal(plain_decimal(repr(float(text)))) == Decimal(text)


def _mdb_date_ok(text: str) -> bool:
    # Date/Time from 1899-12-30 on: mdbtools (the portal's reader) misprints earlier dates (spec 4.2)
    if not re.fullmatch(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", text):
        return False
    try:
        return date.fromisoformat(text) >= date(1899, 12, 30)
    except ValueError:
        return False


def mdb_column_plan(table: str, frame: pl.DataFrame) -> list[tuple[str, str, int | None, list[int]]]:
    """Per column: (name, Access kind, Text size, rows whose value that kind cannot hold).

    Kinds follow spec 4.2: text -> "text" (Text of the data set's length, widened to the longest value;
    "memo" beyond 255 characters), integer -> "long", decimal -> "double", date -> "datetime", time ->
    "datetime" (time on 1899-12-30; the whole column falls back to "text", which 4.2 also allows, when a
    value is not a valid time). Values listed as not representable are ones Access itself could not hold
    in that column (e.g. "1.5" in a Long Integer).
    """
    spec = {c[0]: c for c in TABLES.get(table, {}).get("columns", ())}
    plan: list[tuple[str, str, int | None, list[int]]] = []
    for name in frame.columns:
        col = spec.get(name)
        ctype = col[1] if col else "text"
        values = frame[name].cast(pl.String).to_list()
        present = [(i, v) for i, v in enumerate(values) if v is not None and v != ""]
        if ctype == "integer":
            plan.append(
                (name, "long", None, [i for i, v in present if not (_MDB_INT.match(v) and str(int(v)) == v)])
            )
        elif ctype == "decimal":
            plan.append((name, "double", None, [i for i, v in present if not _mdb_decimal_ok(v)]))
        elif ctype == "date":
            plan.append((name, "datetime", None, [i for i, v in present if not _mdb_date_ok(v)]))
        elif ctype == "time" and all(_MDB_TIME.match(v) for _, v in present):
            plan.append((name, "datetime", None, []))
        else:
            longest = max((len(v) for _, v in present), default=0)
            size = max(
                col[2] if col and col[1] == "text" and col[2] else (8 if ctype == "time" else 255), longest
            )
            plan.append((name, "memo" if size > 255 else "text", min(size, 255), []))
    return plan


def write_mdb(
    tables: dict[str, pl.DataFrame], path: str | Path, *, unrepresentable: str = "error"
) -> dict[str, dict[str, int]]:
    """Write the tables as a Jet 4 Access database (spec 4.2 types), one Access table per frame, in order.

    Values are written as typed Access values: Long Integer, Double, Date/Time (dates; times as a time of
    day), Text (or Memo). A value that its column's Access type cannot hold (an injected "1.5" in an
    integer column, "2.20" in a decimal column, an invalid or pre-1899-12-30 date) is handled per
    ``unrepresentable``: "error" raises :class:`validation.jet4.Jet4Error`; "null" writes NULL instead;
    "text" writes that whole column as Text (so the planted value survives, and the portal answers
    FILE014 for a Text column holding integers, decimals or dates). Returns
    ``{table: {column: number of values not representable}}`` for the columns that had any.
    """
    from validation.jet4 import DateTime, Double, Jet4Error, Long, Memo, TableDef, Text
    from validation.jet4 import write_mdb as jet4_write

    if unrepresentable not in ("error", "null", "text"):
        raise ValueError(f"unrepresentable={unrepresentable!r}: use error, null or text")
    defs: list[TableDef] = []
    data: dict[str, Any] = {}
    report: dict[str, Any] = {}
    for table, frame in tables.items():
        plan = mdb_column_plan(table, frame)
        columns, converters = [], []
        bad_by_col: dict[str, set[int]] = {}
        for name, kind, size, bad in plan:
            if bad:
                report.setdefault(table, {})[name] = len(bad)
                if unrepresentable == "error":
                    row = bad[0]
                    raise Jet4Error(
                        f"{table}.{name} row {row + 1}: {frame[name][row]!r} cannot be stored as {kind} in Access"
                    )
                if unrepresentable == "text":
                    longest = max((len(v) for v in frame[name].cast(pl.String).to_list() if v), default=1)
                    kind, size, bad = ("memo" if longest > 255 else "text"), min(max(longest, 1), 255), []
            bad_by_col[name] = set(bad)
            if kind == "text":
                columns.append(Text(name, size or 255))
            elif kind == "memo":
                columns.append(Memo(name))
            elif kind == "long":
                columns.append(Long(name))
            elif kind == "double":
                columns.append(Double(name))
            else:
                columns.append(DateTime(name))
            converters.append(kind)
        defs.append(TableDef(table, tuple(columns)))
        series = []
        for (name, _, _, _), kind in zip(plan, converters, strict=True):
            values = frame[name].cast(pl.String).to_list()
            bad_rows = bad_by_col[name]
            out: list = []
            for i, v in enumerate(values):
                if v is None or i in bad_rows or (v == "" and kind != "text" and kind != "memo"):
                    out.append(None)
                elif kind == "long":
                    out.append(int(v))
                elif kind == "double":
                    out.append(float(v))
                else:
                    out.append(v)  # ISO dates and HH:MM[:SS] times are parsed by the Jet 4 writer
            series.append(out)
        data[table] = list(zip(*series, strict=True)) if series else []
    jet4_write(path, defs, data)
    return report


def mdb_compatible(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The tables with every value an Access column could not hold (see :func:`mdb_column_plan`) set to
    null: content that a ZIP of CSVs, an XLSX and an .mdb carry identically."""
    out = {}
    for table, frame in tables.items():
        exprs = []
        for name, _, _, bad in mdb_column_plan(table, frame):
            if bad:
                hit = pl.int_range(0, pl.len()).is_in(bad)
                exprs.append(pl.when(hit).then(None).otherwise(pl.col(name)).alias(name))
        out[table] = frame.with_columns(exprs) if exprs else frame
    return out
