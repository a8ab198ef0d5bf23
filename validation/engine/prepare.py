"""Normalisation of a table's values (spec 4.5) and each column's own checks (spec 6.2 item 2).

``prepare_table`` turns a ``RawTable`` of positional String columns into a frame with, per spec column ``C``:
``C`` (value as received after trimming, null when blank), ``C.n`` (normalised value), ``C.ok`` (populated and
passing every check), ``C.d`` / ``C.x`` (typed value of a valid date / number) and either ``C.e0``, ``C.e1`` ...
(the column's own checks in precedence order: length/number/date, format, code list, range) or ``C.c``.

Performance (issue #4): every one of these depends on the value alone. A column with fewer distinct values
than half its rows (codes, dates, scores: most of them) is computed once per distinct value and spread over the
rows by a code per row (``C.c``, kept in the frame); its checks are then lists of failing codes
(``PreparedTable.step_codes``) instead of ``C.e<i>`` flags, and ``PreparedTable.code_values`` lets rules test
codes instead of strings (``TableView.code_in``, ``TableView.key``). ID-like columns are computed row by row.
Its number ``C.x`` is not spread over the rows (one rule reads one of them: ``TableView.num``).
The other columns of such a column (``C``, ``C.n``, ``C.ok``, ``C.d``) are ``PreparedTable.deferred``: spread
over the rows only when something reads them (``PreparedTable.with_columns`` with the names an expression reads;
blankness is tested on the codes), and ``C.n`` of the accepted rows is spread after the rejected rows are removed.
A large CSV entry's few-valued columns arrive as Categorical (``validation.readers.csvfile``): their categories
and physical codes are the distinct values and row codes, and ``C`` is spread from the distinct values.
Otherwise ``C`` and ``C.n`` reuse the raw string array when trimming/normalising changes nothing (blank values
become nulls through a validity mask), and every column of the frame is in one chunk (a frame mixing chunk layouts is
copied whole by each later ``select``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Final, TypeVar

import polars as pl

from validation.dataset import DATASET
from validation.dataset.schema import Column, ColumnType, Table
from validation.engine.common import CODE, MIN_DATE, OK, WHITESPACE, D, N, X
from validation.model import ROW, RawTable

DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TIME_RE = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
INT_RE = r"^[0-9]+$"
DEC_RE = r"^[0-9]+(\.[0-9]+)?$"
UPPER_FORMATS = frozenset({"ORG_PROVIDER", "ORG_COMMISSIONER", "ORG_GP", "POSTCODE"})
TYPE_RULE_SUFFIXES = ("030", "040", "050")
T = TypeVar("T")
R = TypeVar("R")


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


# ------------------------------------------------------------------------------------------------ tables
@dataclass
class PreparedTable:
    table: Table
    raw: RawTable
    frame: pl.DataFrame
    bindings: dict[str, ColumnBinding] = field(default_factory=dict)
    # column -> per check of the column, the codes (``C.c``) whose first failing check it is
    step_codes: dict[str, list[list[int]]] = field(default_factory=dict)
    # column -> ``C``, ``C.n``, ``C.ok`` (and ``C.x``) per code (row i is code i), for columns prepared per
    # distinct value; such a column has no ``C.x`` in the frame
    code_values: dict[str, pl.DataFrame] = field(default_factory=dict)
    # Columns of a column prepared per distinct value that are spread over the rows only when something
    # reads them (``with_columns``); shared with copies made by ``dataclasses.replace``, as are ``built``
    # (the columns spread so far) and the lock.
    deferred: dict[str, Deferred] = field(default_factory=dict)
    built: dict[str, pl.Series] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def height(self) -> int:
        return self.frame.height

    def has(self, name: str) -> bool:
        """``name`` is a column of the frame, built or deferred."""
        return name in self.deferred or name in self.frame.columns

    def with_columns(self, names: Iterable[str]) -> pl.DataFrame:
        """The frame, with the deferred columns among ``names`` spread over the rows (once per table)."""
        wanted = [n for n in dict.fromkeys(names) if n in self.deferred]
        if not wanted:
            return self.frame
        with self.lock:
            present = set(self.frame.columns)
            missing = [self._build(n) for n in wanted if n not in present]
            if missing:
                self.frame = self.frame.hstack(missing)
        return self.frame

    def column_where(self, name: str, mask: pl.Series) -> pl.Series:
        """``name``'s values on the rows where ``mask`` holds, without spreading a deferred column."""
        if name in self.frame.columns:
            return self.frame.get_column(name).filter(mask)
        with self.lock:
            built = self.built.get(name)
        if built is not None:
            return built.filter(mask)
        return self.deferred[name].spread(name, mask)

    def release(self) -> None:
        self.frame = self.frame.clear()
        self.deferred = {}
        self.built = {}

    def _build(self, name: str) -> pl.Series:
        s = self.built.get(name)
        if s is None:
            d = self.deferred[name]
            same = self.built.get(d.same_as) if d.same_as is not None else None
            s = same.alias(name) if same is not None else d.spread(name)
            self.built[name] = s
        return s


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


def single_chunk(series: pl.Series) -> pl.Series:
    return series.rechunk() if series.n_chunks() > 1 else series


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


_RAW = "__raw"


def value_columns(
    values: pl.Series, col: Column, binding: ColumnBinding, access_type: str | None, *, header: bool
) -> pl.DataFrame:
    """The prepared columns of one spec column computed from ``values`` (raw text): ``__raw`` (the input),
    ``C`` (trimmed, null when blank), ``C.n``, ``C.e0`` ..., ``C.ok`` and ``C.d`` / ``C.x``.

    Each depends on the value alone, so ``prepare_table`` computes them once per distinct value.
    """
    name = col.name
    t = trimmed(pl.col(_RAW))
    if is_access_datetime(access_type):
        if col.type is ColumnType.DATE:
            t = t.str.split(" ").list.first()
        elif col.type is ColumnType.TIME:
            t = pl.when(t.str.contains(" ")).then(t.str.split(" ").list.last()).otherwise(t)
    lf = values.alias(_RAW).to_frame().lazy().with_columns(t.alias(name))
    lf = lf.with_columns(normalised(col, pl.col(name)).alias(name + N))
    v = pl.col(name + N)
    has_type_rule = any(kind == "type" for _, kind in binding.steps)
    fails: list[pl.Expr] = []
    for i, (_, kind) in enumerate(binding.steps):
        if kind == "type":
            e = type_fail(col, v)
        elif kind == "format":
            e = format_fail(col, v, with_length=not has_type_rule)
        elif kind == "codelist":
            e = codelist_fail(col, v)
        else:
            e = range_fail(col, v)
        fails.append((v.is_not_null() & e.fill_null(True)).alias(f"{name}.e{i}"))
    if fails:
        lf = lf.with_columns(fails)
    ok = pl.col(name).is_not_null()
    if header:
        # Header values are judged by HDR rules; for later use only the type matters.
        ok = ok & ~type_fail(col, v).fill_null(True)
    for i in range(len(binding.steps)):
        ok = ok & ~pl.col(f"{name}.e{i}")
    lf = lf.with_columns(ok.alias(name + OK))
    if col.type is ColumnType.DATE:
        parsed = v.str.to_date("%Y-%m-%d", strict=False)
        lf = lf.with_columns(
            pl.when(pl.col(name + OK)).then(parsed).otherwise(pl.lit(None, dtype=pl.Date)).alias(name + D)
        )
    elif col.type in (ColumnType.INTEGER, ColumnType.DECIMAL):
        num = v.cast(pl.Float64, strict=False)
        lf = lf.with_columns(
            pl.when(pl.col(name + OK)).then(num).otherwise(pl.lit(None, dtype=pl.Float64)).alias(name + X)
        )
    # polars' in-memory engine: the default one's set-up is most of the cost of a few distinct values, and
    # it is no faster on a whole column.
    return lf.collect(engine=ENGINE)


@dataclass
class _Source:
    """One spec column on its way into the prepared frame: its values computed per distinct raw value (or
    per row), and how the rows map onto them."""

    values: pl.DataFrame  # output of ``value_columns`` (without ``__raw``)
    codes: pl.Series | None  # row -> row of ``values``; None when ``values`` has one row per table row
    raw: pl.Series | None  # the raw column (blank values as null), when trimming changes nothing else

    def spread(self, s: pl.Series) -> pl.Series:
        """One value of ``s`` (a column of ``values``) per row."""
        if self.codes is None:
            return single_chunk(s)
        if not s.has_nulls():
            return single_chunk(s.gather(self.codes))
        # polars gathers from a source with nulls several times slower than from one without: gather from
        # a null-free copy and put the nulls back by code.
        null_codes = s.is_null().arg_true()
        if null_codes.len() == s.len():
            return pl.repeat(None, self.codes.len(), dtype=s.dtype, eager=True).alias(s.name)
        filled = s.fill_null(strategy="forward").fill_null(strategy="backward")
        out = filled.gather(self.codes)
        is_null = self.codes.is_in(null_codes.cast(pl.UInt32).implode())
        if not is_null.any():
            return single_chunk(out)
        return single_chunk(pl.select(pl.when(is_null).then(None).otherwise(out)).to_series().alias(s.name))

    def has_blank_row(self, name: str) -> bool:
        blank = self.values.get_column(name).is_null()
        if self.codes is None:
            return bool(blank.any())
        blank_codes = blank.arg_true()
        return blank_codes.len() > 0 and bool(self.codes.is_in(blank_codes.implode()).any())


@dataclass(frozen=True)
class Deferred:
    """A column of a column prepared per distinct value, not yet spread over the rows."""

    source: _Source
    values: pl.Series  # per code
    same_as: str | None = None  # a column with the same values per code (its spread is shared once built)

    def spread(self, name: str, mask: pl.Series | None = None) -> pl.Series:
        """The column (on the rows where ``mask`` holds, when given)."""
        src = self.source
        if mask is not None:
            assert src.codes is not None
            src = _Source(src.values, src.codes.filter(mask), None)
        return src.spread(self.values).alias(name)


SAMPLE_ROWS = 20_000
ENGINE: Final = "in-memory"  # for the engine's lazy queries (as its eager ones)
PARALLEL_ROWS = 50_000  # tables at least this long prepare their columns on a thread pool


def _sources(raw: RawTable, table: Table, pos: dict[str, int], *, consume: bool) -> dict[str, _Source]:
    frame = raw.frame
    height = frame.height
    bindings = column_bindings(table.name)
    header = table.name == "Header"
    src = {name: f"c{i}" for name, i in pos.items()}
    # Columns with many distinct values (IDs) are computed row by row; a sample of the first rows decides,
    # so that their distinct values are never collected.
    sample = frame.head(SAMPLE_ROWS).select([pl.col(c).n_unique().alias(n) for n, c in src.items()])
    by_value = [n for n in src if 2 * sample.get_column(n)[0] <= min(height, SAMPLE_ROWS)]
    # With ``consume`` the raw columns leave the read frame here, so that each one is freed as soon as its
    # column is prepared (or kept as the trimmed column).
    raw_columns = {n: frame.drop_in_place(c) if consume else frame.get_column(c) for n, c in src.items()}

    def source(col: Column) -> _Source:
        name = col.name
        if name not in pos:
            values = value_columns(
                pl.Series([None], dtype=pl.String), col, bindings[name], None, header=False
            )
            return _Source(values.drop(_RAW), pl.zeros(height, dtype=pl.UInt32, eager=True), None)
        access_type = raw.access_types[pos[name]] if raw.access_types else None
        column = raw_columns.pop(name)  # the last reference when consuming: rechunking frees the original
        cats = codes = None
        read_as_codes = isinstance(column.dtype, pl.Categorical)
        if name in by_value and read_as_codes:
            # Parsed as a Categorical over categories of its own (the CSV reader): those are the distinct
            # values (and perhaps the header's name, which no row carries: its code is never used).
            cats = column.dtype.categories.to_series()  # type: ignore[attr-defined]
            codes = column.to_physical().cast(pl.UInt32)
        elif name in by_value:
            # One hashing pass gives the distinct values and each row's code: a Categorical over categories
            # of its own (freed with it; the global ones never shrink).
            categories = pl.Categories.random()
            encoded = column.cast(pl.Categorical(categories))
            cats = categories.to_series()
            codes = encoded.to_physical().cast(pl.UInt32)
            del encoded
        if (cats is None or 2 * cats.len() > height) and read_as_codes:
            column, cats, codes = column.cast(pl.String), None, None
        if cats is not None and codes is not None and 2 * cats.len() <= height:
            # Few distinct values (codes, dates, scores): computed once each, then gathered by row.
            assert not cats.has_nulls()
            values = value_columns(
                cats.extend_constant(None, 1), col, bindings[name], access_type, header=header
            )
            codes = single_chunk(codes.fill_null(cats.len()))
        else:
            values = value_columns(column, col, bindings[name], access_type, header=header)
            codes = None
        # (a column read as codes has no String column to keep: its values are spread from the distinct ones)
        keep_raw = (
            None
            if read_as_codes and codes is not None
            else _raw_as_trimmed(column, values.get_column(_RAW), values.get_column(name), codes)
        )
        return _Source(values.drop(_RAW), codes, keep_raw)

    sources = thread_map(source, table.columns, parallel=height >= PARALLEL_ROWS)
    return dict(zip(table.column_names, sources, strict=True))


def thread_map(fn: Callable[[T], R], items: Sequence[T], *, parallel: bool) -> list[R]:
    """``[fn(x) for x in items]``, on a small thread pool when ``parallel`` (polars releases the GIL)."""
    if not parallel or len(items) < 2:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(len(items), max(pl.thread_pool_size(), 2))) as pool:
        return list(pool.map(fn, items))


def _raw_as_trimmed(
    column: pl.Series, raw_values: pl.Series, trimmed_values: pl.Series, codes: pl.Series | None
) -> pl.Series | None:
    """The raw column itself as the trimmed column, when trimming changes no value except blank ones (""
    or only whitespace) to null: the nulls are then a validity mask over the raw strings, not a copy."""
    blanked = trimmed_values.is_null() & raw_values.is_not_null()
    if not (raw_values.eq_missing(trimmed_values) | blanked).all():
        return None
    column = single_chunk(column)
    if not blanked.any():
        return column
    to_null = blanked if codes is None else codes.is_in(blanked.arg_true().cast(pl.UInt32).implode())
    return pl.select(pl.when(to_null).then(None).otherwise(column)).to_series().alias(column.name)


def _fully_blank_possible(sources: dict[str, _Source], pos: dict[str, int]) -> bool:
    """False as soon as one present column is populated on every row (then no row is blank everywhere)."""
    return all(sources[name].has_blank_row(name) for name in pos)


def prepare_table(
    raw: RawTable, table: Table, *, skip_blank_rows: bool, consume: bool = False
) -> PreparedTable:
    """``consume``: the caller will not read ``raw.frame`` again; its columns may be taken out of it.

    A column computed per distinct value keeps its row -> value codes as ``C.c`` instead of the ``C.e<i>``
    flags; ``PreparedTable.step_codes`` lists, per check, the codes whose first failing check it is.
    """
    bindings = column_bindings(table.name)
    if raw.frame.height == 0:
        return PreparedTable(table=table, raw=raw, frame=_empty_frame(table.name), bindings=bindings)
    pos = column_positions(raw, table)
    row = single_chunk(raw.frame.get_column(ROW).cast(pl.Int64))
    sources = _sources(raw, table, pos, consume=consume)
    keep: pl.Series | None = None
    if skip_blank_rows and _fully_blank_possible(sources, pos):
        # Fully blank rows (every cell, spec column or not) are skipped; they keep their row numbers.
        populated = [src.spread(src.values.get_column(name).is_not_null()) for name, src in sources.items()]
        keep = (
            pl.DataFrame(populated, schema=[str(i) for i in range(len(populated))])
            .select(pl.any_horizontal(pl.all()))
            .to_series()
        )
        spec_positions = set(pos.values())
        others = [
            trimmed(pl.col(f"c{i}")).is_not_null()
            for i in range(len(raw.headers))
            if i not in spec_positions and f"c{i}" in raw.frame.columns
        ]
        if others:
            # Computed eagerly: the lazy optimiser is quadratic in the number of expressions (a CSV with
            # 10,000 extra columns took over half an hour to plan; tests/reliability).
            keep = keep | raw.frame.select(pl.any_horizontal(others)).to_series()
    if keep is not None and not keep.all():
        row = row.filter(keep)
        for src in sources.values():
            if src.codes is not None:
                src.codes = src.codes.filter(keep)
            else:
                src.values = src.values.filter(keep)
            if src.raw is not None:
                src.raw = src.raw.filter(keep)
    if row.len() == 0:
        return PreparedTable(table=table, raw=raw, frame=_empty_frame(table.name), bindings=bindings)

    def output(name: str) -> tuple[list[pl.Series], list[list[int]] | None, dict[str, Deferred]]:
        src = sources[name]
        columns: list[pl.Series] = []
        deferred: dict[str, Deferred] = {}
        per_code = src.codes is not None
        trimmed_values = src.values.get_column(name)
        normal = src.values.get_column(name + N)
        same = bool(normal.eq_missing(trimmed_values).all())
        if src.raw is not None or not per_code:
            trimmed_col = src.raw if src.raw is not None else src.spread(trimmed_values)
            columns.append(trimmed_col.alias(name))
            if same:
                columns.append(trimmed_col.alias(name + N))
            elif per_code:
                deferred[name + N] = Deferred(src, normal)
            else:
                columns.append(src.spread(normal))
        else:
            # Per distinct value: the text is spread over the rows only if something reads it (rules test
            # blankness and codes through ``C.c``; the accepted rows spread ``C.n`` after the filter).
            deferred[name] = Deferred(src, trimmed_values)
            deferred[name + N] = Deferred(src, normal, same_as=name if same else None)
        fails = [f"{name}.e{i}" for i in range(len(bindings[name].steps))]
        codes = None
        if per_code:
            assert src.codes is not None
            columns.append(src.codes.alias(name + CODE))
            codes = _first_failing_codes(src.values, fails)
            code_values[name] = src.values.select(
                name, name + N, name + OK, *[c for c in (name + X,) if c in src.values.columns]
            )
        for s in src.values.get_columns():
            if s.name in (name, name + N) or (per_code and s.name in fails):
                continue
            if per_code and s.name == name + X:
                continue  # read through TableView.num, per code, by the few rules that need it
            if per_code:
                deferred[s.name] = Deferred(src, s)
            else:
                columns.append(src.spread(s))
        return columns, codes, deferred

    columns: list[pl.Series] = [row]
    step_codes: dict[str, list[list[int]]] = {}
    code_values: dict[str, pl.DataFrame] = {}
    deferred: dict[str, Deferred] = {}
    outputs = thread_map(output, list(sources), parallel=row.len() >= PARALLEL_ROWS)
    for name, (cols, codes, later) in zip(sources, outputs, strict=True):
        columns.extend(cols)
        deferred.update(later)
        if codes is not None:
            step_codes[name] = codes
    return PreparedTable(
        table=table,
        raw=raw,
        frame=pl.DataFrame(columns),
        bindings=bindings,
        step_codes=step_codes,
        code_values=code_values,
        deferred=deferred,
    )


def _first_failing_codes(values: pl.DataFrame, fails: list[str]) -> list[list[int]]:
    """Per check of a column, the rows of ``values`` (codes) where it is the first check to fail."""
    if not fails:
        return []
    earlier = pl.lit(False)
    exprs: list[pl.Expr] = []
    for i, f in enumerate(fails):
        exprs.append((pl.col(f) & ~earlier).arg_true().implode().alias(str(i)))
        earlier = earlier | pl.col(f)
    row = values.select(exprs).row(0)
    return [list(r) for r in row]
