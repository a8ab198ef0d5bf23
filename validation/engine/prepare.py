"""Normalisation of a table's values (spec 4.5) and each column's own checks (spec 6.2 item 2).

``prepare_table`` turns a ``RawTable`` of positional String columns into a frame with, per spec column ``C``:
``C`` (value as received after trimming, null when blank), ``C.n`` (normalised value), ``C.e0``, ``C.e1`` ...
(the column's own checks in precedence order: length/number/date, format, code list, range), ``C.ok``
(populated and passing every check) and ``C.d`` / ``C.x`` (typed value of a valid date / number).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import polars as pl

from validation.dataset import DATASET
from validation.dataset.schema import Column, ColumnType, Table
from validation.engine.common import MIN_DATE, OK, WHITESPACE, D, N, X
from validation.model import ROW, RawTable

DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TIME_RE = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
INT_RE = r"^[0-9]+$"
DEC_RE = r"^[0-9]+(\.[0-9]+)?$"
UPPER_FORMATS = frozenset({"ORG_PROVIDER", "ORG_COMMISSIONER", "ORG_GP", "POSTCODE"})
TYPE_RULE_SUFFIXES = ("030", "040", "050")


@dataclass(frozen=True)
class ColumnBinding:
    """Which catalogue rules check one column (derived from the rule catalogue)."""

    column: Column
    mandatory_rule: str | None = None  # x010
    required_rule: str | None = None  # x020
    steps: tuple[tuple[str, str], ...] = ()  # (rule_id, kind) with kind in type/format/codelist/range

    @property
    def is_fk(self) -> bool:
        return bool(self.column.key and "FK" in self.column.key)


def _is_format_rule(condition: str) -> bool:
    return ("format" in condition and "number format" not in condition) or "NHS number check" in condition


@cache
def column_bindings(table_name: str) -> dict[str, ColumnBinding]:
    """Bind each column of a table to its mandatory/required/type/format/code-list/range rules.

    Header has no x0nn rules: its columns are checked by HDR020/HDR050/HDR070 in the HEADER and PROFILE
    stages, so its bindings are empty apart from the column itself.
    """
    table = DATASET.tables[table_name]
    rules = [r for r in DATASET.rules.values() if r.table == table_name]
    out: dict[str, ColumnBinding] = {}
    for col in table.columns:
        mandatory = required = type_rule = fmt_rule = code_rule = range_rule = None
        is_fk = bool(col.key and "FK" in col.key)
        for r in rules:
            if col.name not in r.columns or table.name == "Header":
                continue
            suffix = r.id[-3:]
            if r.id.startswith(table.prefix) and suffix == "010":
                mandatory = r.id
            elif r.id.startswith(table.prefix) and suffix == "020":
                required = r.id
            elif r.id.startswith(table.prefix) and suffix in TYPE_RULE_SUFFIXES:
                type_rule = r.id
            elif is_fk:
                continue  # foreign keys: length rule and parent resolution only (spec 3.5)
            elif col.format and r.columns[0] == col.name and _is_format_rule(r.condition):
                fmt_rule = r.id
            elif col.codelist and "not a code in" in r.condition:
                code_rule = r.id
            elif col.range and "valid number outside" in r.condition:
                range_rule = r.id
        steps: list[tuple[str, str]] = []
        if type_rule:
            steps.append((type_rule, "type"))
        if fmt_rule:
            steps.append((fmt_rule, "format"))
        if code_rule:
            steps.append((code_rule, "codelist"))
        if range_rule:
            steps.append((range_rule, "range"))
        out[col.name] = ColumnBinding(col, mandatory, required, tuple(steps))
    return out


def is_upper_cased(col: Column) -> bool:
    return bool(col.codelist) or col.format in UPPER_FORMATS


# --------------------------------------------------------------------------------------------- expressions
def type_fail(col: Column, v: pl.Expr) -> pl.Expr:
    """True where a populated normalised value fails the column's logical type (spec 4.5 step 3)."""
    if col.type is ColumnType.TEXT:
        assert col.length is not None
        return v.str.len_chars() > col.length
    if col.type is ColumnType.INTEGER:
        assert col.length is not None
        return ~v.str.contains(INT_RE) | (v.str.len_chars() > col.length)  # v has no leading zeros
    if col.type is ColumnType.DECIMAL:
        assert col.precision is not None and col.scale is not None
        int_part = v.str.extract(r"^([0-9]*)", 1).str.strip_chars_start("0")
        frac = v.str.extract(r"\.([0-9]+)$", 1).fill_null("")
        return (
            ~v.str.contains(DEC_RE)
            | (int_part.str.len_chars() > col.precision - col.scale)
            | (frac.str.len_chars() > col.scale)
        )
    if col.type is ColumnType.DATE:
        parsed = v.str.to_date("%Y-%m-%d", strict=False)
        return ~v.str.contains(DATE_RE) | parsed.is_null() | (parsed < pl.lit(MIN_DATE))
    return ~v.str.contains(TIME_RE)


def nhs_number_fail(v: pl.Expr) -> pl.Expr:
    """Spec 6.5: not 10 ASCII digits, check value 10 or wrong, or a palindrome."""
    d = [v.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(10)]
    s = sum(d[i] * (10 - i) for i in range(9))
    c = 11 - (s % 11)
    c = pl.when(c == 11).then(0).otherwise(c)
    palindrome = (d[0] == d[9]) & (d[1] == d[8]) & (d[2] == d[7]) & (d[3] == d[6]) & (d[4] == d[5])
    ok = v.str.contains(r"^[0-9]{10}$") & (c != 10) & (c == d[9]) & ~palindrome
    return ~ok.fill_null(False)


def format_fail(col: Column, v: pl.Expr, *, with_length: bool) -> pl.Expr:
    assert col.format is not None
    if col.format == "NHSNO":
        return nhs_number_fail(v)
    pattern = DATASET.formats[col.format]
    subject = v.str.replace_all(r"[. \-]", "") if col.format == "ICD10" else v
    fail = ~subject.str.contains(pattern)
    if with_length and col.length is not None:
        fail = (v.str.len_chars() > col.length) | fail
    return fail


def codelist_fail(col: Column, v: pl.Expr) -> pl.Expr:
    assert col.codelist is not None
    return ~v.is_in(list(DATASET.codelists[col.codelist].codes))


def range_fail(col: Column, v: pl.Expr) -> pl.Expr:
    assert col.range is not None
    lo, hi = (float(x) for x in col.range)
    num = v.cast(pl.Float64, strict=False)
    return (num < lo) | (num > hi)


def normalised(col: Column, t: pl.Expr) -> pl.Expr:
    """Normalised stored value (spec 4.5 step 4) from the trimmed value ``t``."""
    if col.type is ColumnType.TEXT:
        return t.str.to_uppercase() if is_upper_cased(col) else t
    if col.type is ColumnType.INTEGER:
        stripped = t.str.strip_chars_start("0")
        return (
            pl.when(t.str.contains(INT_RE))
            .then(pl.when(stripped == "").then(pl.lit("0")).otherwise(stripped))
            .otherwise(t)
        )
    if col.type is ColumnType.DECIMAL:
        ip = t.str.extract(r"^([0-9]+)", 1).str.strip_chars_start("0")
        ip = pl.when(ip == "").then(pl.lit("0")).otherwise(ip)
        fp = t.str.extract(r"\.([0-9]+)$", 1).fill_null("").str.strip_chars_end("0")
        dec = pl.when(fp == "").then(ip).otherwise(pl.concat_str([ip, pl.lit("."), fp]))
        return pl.when(t.str.contains(DEC_RE)).then(dec).otherwise(t)
    if col.type is ColumnType.TIME:
        return pl.when(t.str.contains(TIME_RE) & (t.str.len_chars() == 5)).then(t + ":00").otherwise(t)
    return t


def _normalisation_is_identity(df: pl.DataFrame, table: Table, skip: set[str]) -> set[str]:
    """Numeric columns whose normalised value is the trimmed value on every row (no shortcut otherwise).

    An integer changes only when it is all digits with a leading zero (other than "0" itself); a decimal
    only when its integer part has a leading zero (other than "0") or its fraction a trailing one. One cheap prefix/suffix scan per column decides, and
    saves the regular expressions and conditional copies of ``normalised`` on columns that need none.
    """
    probes: list[pl.Expr] = []
    for col in table.columns:
        if col.name in skip:
            continue
        v = pl.col(col.name)
        # "0" and "0.5" stay as they are; "007", "00.5" and "1.50" change.
        leading_zero = v.str.starts_with("0") & (v.str.len_bytes() > 1) & ~v.str.starts_with("0.")
        if col.type is ColumnType.INTEGER:
            probes.append(leading_zero.any().alias(col.name))
        elif col.type is ColumnType.DECIMAL:
            changes = leading_zero | (v.str.ends_with("0") & v.str.contains(".", literal=True))
            probes.append(changes.any().alias(col.name))
    if not probes:
        return set()
    row = df.select(probes).row(0, named=True)
    return {name for name, may_change in row.items() if not may_change}


# ------------------------------------------------------------------------------------------------ tables
@dataclass
class PreparedTable:
    table: Table
    raw: RawTable
    frame: pl.DataFrame
    bindings: dict[str, ColumnBinding] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def height(self) -> int:
        return self.frame.height


def column_positions(raw: RawTable, table: Table) -> dict[str, int]:
    """Spec column -> position in the raw frame (first occurrence; repeats are FILE013 earlier)."""
    pos: dict[str, int] = {}
    for i, h in enumerate(raw.headers):
        if h in table.column_names and h not in pos:
            pos[h] = i
    return pos


def trimmed(expr: pl.Expr) -> pl.Expr:
    # replace("", None) is the same as when(len == 0).then(None) and about five times cheaper.
    return expr.cast(pl.String).str.strip_chars(WHITESPACE).replace("", None)


def drop_blank_rows(frame: pl.DataFrame, n_cols: int) -> pl.DataFrame:
    """Remove rows whose every cell is blank (spec 4.5, last paragraph); row numbers are kept."""
    cols = [f"c{i}" for i in range(n_cols) if f"c{i}" in frame.columns]
    if not cols or frame.height == 0:
        return frame
    any_value = pl.any_horizontal([trimmed(pl.col(c)).is_not_null() for c in cols])
    return frame.filter(any_value)


def is_access_datetime(access_type: str | None) -> bool:
    return access_type is not None and access_type.strip().lower().replace("/", "") in {"datetime", "date"}


@cache
def _empty_frame(table_name: str) -> pl.DataFrame:
    """The prepared frame of an empty table (computed once: planning the expressions is the costly part)."""
    table = DATASET.tables[table_name]
    headers = list(table.column_names)
    schema = {f"c{i}": pl.String for i in range(len(headers))} | {ROW: pl.Int64}
    raw = RawTable(table_name, table_name, headers, pl.DataFrame(schema=schema))
    raw.frame = pl.DataFrame({k: [None] for k in schema}, schema=schema)
    return prepare_table(raw, table, skip_blank_rows=False).frame.clear()


def prepare_table(raw: RawTable, table: Table, *, skip_blank_rows: bool) -> PreparedTable:
    bindings = column_bindings(table.name)
    if raw.frame.height == 0:
        return PreparedTable(table=table, raw=raw, frame=_empty_frame(table.name), bindings=bindings)
    pos = column_positions(raw, table)
    first: list[pl.Expr] = [pl.col(ROW).cast(pl.Int64)]
    for col in table.columns:
        if col.name not in pos:
            first.append(pl.lit(None, dtype=pl.String).alias(col.name))
            continue
        access_type = raw.access_types[pos[col.name]] if raw.access_types else None
        t = trimmed(pl.col(f"c{pos[col.name]}"))
        if is_access_datetime(access_type):
            if col.type is ColumnType.DATE:
                t = t.str.split(" ").list.first()
            elif col.type is ColumnType.TIME:
                t = pl.when(t.str.contains(" ")).then(t.str.split(" ").list.last()).otherwise(t)
        first.append(t.alias(col.name))
    if skip_blank_rows:
        # Fully blank rows (every cell, spec column or not) are skipped; they keep their row numbers.
        spec_positions = set(pos.values())
        others = [
            trimmed(pl.col(f"c{i}")).is_not_null()
            for i in range(len(raw.headers))
            if i not in spec_positions and f"c{i}" in raw.frame.columns
        ]
        if others:
            # Computed eagerly: the lazy optimiser is quadratic in the number of expressions (a CSV with
            # 10,000 extra columns took over half an hour to plan; tests/reliability).
            first.append(pl.lit(raw.frame.select(pl.any_horizontal(others)).to_series()).alias("__any"))
        else:
            first.append(pl.lit(False).alias("__any"))
        keep = pl.any_horizontal([pl.col(c.name).is_not_null() for c in table.columns] + [pl.col("__any")])
        df = raw.frame.lazy().select(first).filter(keep).drop("__any").collect()
    else:
        df = raw.frame.select(first)
    if df.height == 0:
        return PreparedTable(table=table, raw=raw, frame=_empty_frame(table.name), bindings=bindings)

    # Columns that are blank on every row need no checks: their derived columns are constants.
    all_blank = {c for c, n in zip(df.columns, df.null_count().row(0), strict=True) if n == df.height}
    unchanged = _normalisation_is_identity(df, table, all_blank)
    lf = df.lazy().with_columns(
        [
            (
                pl.lit(None, dtype=pl.String)
                if c.name in all_blank
                else pl.col(c.name)
                if c.name in unchanged
                else normalised(c, pl.col(c.name))
            ).alias(c.name + N)
            for c in table.columns
        ]
    )

    fails: list[pl.Expr] = []
    for col in table.columns:
        b = bindings[col.name]
        v = pl.col(col.name + N)
        has_type_rule = any(kind == "type" for _, kind in b.steps)
        for i, (_, kind) in enumerate(b.steps):
            if col.name in all_blank:
                fails.append(pl.lit(False).alias(f"{col.name}.e{i}"))
                continue
            if kind == "type":
                e = type_fail(col, v)
            elif kind == "format":
                e = format_fail(col, v, with_length=not has_type_rule)
            elif kind == "codelist":
                e = codelist_fail(col, v)
            else:
                e = range_fail(col, v)
            fails.append((v.is_not_null() & e.fill_null(True)).alias(f"{col.name}.e{i}"))
    if fails:
        lf = lf.with_columns(fails)

    derived: list[pl.Expr] = []
    for col in table.columns:
        b = bindings[col.name]
        if col.name in all_blank:
            ok = pl.lit(False)
        else:
            ok = pl.col(col.name).is_not_null()
            if table.name == "Header":
                # Header values are judged by HDR rules; for later use only the type matters.
                ok = ok & ~type_fail(col, pl.col(col.name + N)).fill_null(True)
            for i in range(len(b.steps)):
                ok = ok & ~pl.col(f"{col.name}.e{i}")
        derived.append(ok.alias(col.name + OK))
        if col.type is ColumnType.DATE:
            parsed = pl.col(col.name + N).str.to_date("%Y-%m-%d", strict=False)
            derived.append(
                pl.when(ok).then(parsed).otherwise(pl.lit(None, dtype=pl.Date)).alias(col.name + D)
            )
        elif col.type in (ColumnType.INTEGER, ColumnType.DECIMAL):
            num = pl.col(col.name + N).cast(pl.Float64, strict=False)
            derived.append(
                pl.when(ok).then(num).otherwise(pl.lit(None, dtype=pl.Float64)).alias(col.name + X)
            )
    df = lf.with_columns(derived).collect()
    return PreparedTable(table=table, raw=raw, frame=df, bindings=bindings)
