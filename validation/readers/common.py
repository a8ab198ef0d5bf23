"""Helpers shared by the readers: errors, column hints, value-to-text conversions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from validation.dataset.schema import Column, ColumnType, DataSet
from validation.model import ROW, RawTable

log = logging.getLogger("validation.readers")


class CannotOpen(Exception):
    """The file (or the IDB inside a ZIP) cannot be opened as its type: FILE005."""


class BadZipContent(Exception):
    """The ZIP's content breaks the rules of spec 4.1: FILE006."""


class CsvInvalid(Exception):
    """A CSV entry is not valid UTF-8 CSV: FILE007."""


def trim(text: str) -> str:
    """Spec 4.5 trimming: str.strip() without arguments (str.isspace semantics)."""
    return text.strip()


def col_names(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


def empty_frame(n_cols: int) -> pl.DataFrame:
    data: dict[str, pl.Series] = {c: pl.Series(c, [], dtype=pl.String) for c in col_names(n_cols)}
    data[ROW] = pl.Series(ROW, [], dtype=pl.Int64)
    return pl.DataFrame(data)


def empty_table(name: str, source: str) -> RawTable:
    """A table without a header row (0-byte CSV, empty row 1): every column is missing (FILE012)."""
    return RawTable(name=name, source=source, headers=[], frame=empty_frame(0))


def with_row_numbers(frame: pl.DataFrame, first: int = 1) -> pl.DataFrame:
    """Rename the positional columns to c0..cN (all String) and append the 1-based ROW column."""
    frame = frame.rename(dict(zip(frame.columns, col_names(frame.width), strict=True)))
    # (a Categorical column of the CSV reader stays so)
    frame = frame.with_columns(
        [
            pl.col(c).cast(pl.String)
            for c, dtype in frame.schema.items()
            if not isinstance(dtype, pl.Categorical)
        ]
    )
    return frame.with_columns(pl.int_range(first, first + frame.height, dtype=pl.Int64).alias(ROW))


@dataclass(frozen=True)
class Hint:
    """How a reader must render a typed cell of one column (spec 4.2 and 4.4)."""

    is_time: bool = False
    yearmonth: bool = False
    pad_width: int | None = None


NO_HINT = Hint()


def column_for(dataset: DataSet | None, table: str, header: str) -> Column | None:
    """The spec column a header names (exact, case-sensitive), or None."""
    if dataset is None:
        return None
    t = dataset.tables.get(table)
    if t is None:
        return None
    try:
        return t.column(header)
    except KeyError:
        return None


def hints_for(dataset: DataSet | None, table: str, headers: Sequence[str]) -> list[Hint]:
    hints: list[Hint] = []
    for h in headers:
        col = column_for(dataset, table, h)
        if col is None:
            hints.append(NO_HINT)
            continue
        pad = None
        if col.codelist and dataset is not None and col.codelist in dataset.codelists:
            pad = dataset.codelists[col.codelist].xlsx_pad_width
        hints.append(
            Hint(
                is_time=col.type == ColumnType.TIME,
                yearmonth=col.format == "YEARMONTH",
                pad_width=pad,
            )
        )
    return hints


def plain_decimal(text: str) -> str:
    """A float's repr (shortest round-trip text) written without exponent; '-0' becomes '0'."""
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def float_text(value: float) -> str:
    """Shortest decimal text of a 64-bit float, without exponent (7.0 -> '7', 2.3 -> '2.3')."""
    if value != value or value in (float("inf"), float("-inf")):  # NaN / infinities: not in XLSX or Access
        return str(value)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return plain_decimal(repr(value))


def round_seconds(total: float) -> str:
    """Seconds since midnight -> HH:MM:SS rounded to the nearest second, 24:00:00 capped to 23:59:59."""
    secs = int(total + 0.5)
    secs = min(max(secs, 0), 86399)
    return f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
