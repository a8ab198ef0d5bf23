"""Rule binding: each table-specific rule ID is bound to a small function returning polars expressions.

A rule function receives a ``TableView`` of the table being checked and returns ``Check`` objects: the
column to report on and a Boolean expression that is true on every row where the finding is raised.
Adding a rule = writing one decorated function (see ``rules_person.py``, ``rules_referral.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from validation.dataset import DATASET
from validation.engine.common import CODE, OK, PARENT_COUNT, PARENT_PREFIX, D, N, X
from validation.engine.prepare import PreparedTable
from validation.model import UploadContext


@dataclass(frozen=True)
class Check:
    rule_id: str
    column: str | None
    expr: pl.Expr


@dataclass
class TableView:
    """What a rule function can read: this table's frame, the other prepared tables and the context."""

    prepared: PreparedTable
    tables: dict[str, PreparedTable]
    ctx: UploadContext
    rp_start: date
    rp_end: date
    rule_id: str = ""

    # -- this row's values
    def raw(self, col: str) -> pl.Expr:
        """Value as received after trimming (null when blank)."""
        return pl.col(col)

    def n(self, col: str) -> pl.Expr:
        """Normalised value."""
        return pl.col(col + N)

    def ok(self, col: str) -> pl.Expr:
        """Populated and passed every check of its column (spec 6.2 item 2)."""
        return pl.col(col + OK)

    def blank(self, col: str) -> pl.Expr:
        per_code = self.prepared.code_values.get(col)
        if per_code is not None:
            # Prepared per distinct value: the codes of the blank values (the text need not be spread).
            blank_codes = per_code.get_column(col).is_null().arg_true().cast(pl.UInt32)
            return pl.col(col + CODE).is_in(blank_codes.implode())
        return pl.col(col).is_null()

    def populated(self, col: str) -> pl.Expr:
        return ~self.blank(col)

    def date(self, col: str) -> pl.Expr:
        """Date of a valid date value, else null."""
        return pl.col(col + D)

    def num(self, col: str) -> pl.Expr:
        """Number of a valid numeric value, else null."""
        per_code = self.prepared.code_values.get(col)
        if per_code is not None and col + X in per_code.columns:
            return pl.lit(per_code.get_column(col + X)).gather(pl.col(col + CODE))
        return pl.col(col + X)

    def code_in(self, col: str, codes: Iterable[str]) -> pl.Expr:
        """Valid value that is one of ``codes``."""
        per_code = self.prepared.code_values.get(col)
        if per_code is not None:
            # Prepared per distinct value: an integer membership test on the row codes instead of a string one.
            hits = per_code.select((pl.col(col + OK) & pl.col(col + N).is_in(list(codes))).arg_true())
            return pl.col(col + CODE).is_in(hits.to_series().cast(pl.UInt32).implode())
        return self.ok(col) & self.n(col).is_in(list(codes))

    def code_not_in(self, col: str, codes: Iterable[str]) -> pl.Expr:
        """Valid value that is none of ``codes``."""
        per_code = self.prepared.code_values.get(col)
        if per_code is not None:
            hits = per_code.select((pl.col(col + OK) & ~pl.col(col + N).is_in(list(codes))).arg_true())
            return pl.col(col + CODE).is_in(hits.to_series().cast(pl.UInt32).implode())
        return self.ok(col) & ~self.n(col).is_in(list(codes))

    def same_value(self, a: str, b: str) -> pl.Expr:
        """``a`` and ``b`` both valid with equal normalised values (never null)."""
        per_a, per_b = self.prepared.code_values.get(a), self.prepared.code_values.get(b)
        if per_a is None or per_b is None:
            return (self.ok(a) & self.ok(b) & (self.n(a) == self.n(b))).fill_null(False)
        # Prepared per distinct value: each code's valid value as an id shared by both columns (null when
        # not valid), compared row by row as integers instead of spreading both texts.
        valid = [
            per.select(pl.when(pl.col(c + OK)).then(pl.col(c + N)).alias("v"))
            for per, c in ((per_a, a), (per_b, b))
        ]
        vocab = pl.concat(valid).drop_nulls().unique().with_row_index("id")
        ids = [v.join(vocab, on="v", how="left", maintain_order="left").get_column("id") for v in valid]
        left = pl.lit(ids[0]).gather(pl.col(a + CODE))
        right = pl.lit(ids[1]).gather(pl.col(b + CODE))
        return (left == right).fill_null(False)

    def of(self, table: str) -> TableView:
        """The same view of another prepared table (its rows, not this table's): for conditions on it."""
        return dataclasses.replace(self, prepared=self.tables[table])

    def key(self, cols: Sequence[str]) -> pl.Expr:
        """A value equal on two rows exactly when the normalised values of ``cols`` are equal on both (null
        equals null). When every column is prepared per distinct value and their value ids fit in 64 bits,
        it is one packed integer (hashing it is several times cheaper than hashing a struct of strings)."""
        ids: list[pl.Series] = []
        for col in cols:
            per_code = self.prepared.code_values.get(col)
            if per_code is None:
                return pl.struct([self.n(c).alias(f"__key{i}") for i, c in enumerate(cols)])
            # id 0 is the null value; equal normalised values share an id. Codes stand for distinct raw
            # values, so their normalised values are usually distinct too and the code is the id.
            n = per_code.get_column(col + N)
            if n.drop_nulls().is_unique().all():
                ids.append(
                    pl.select(pl.when(n.is_null()).then(0).otherwise(pl.int_range(1, n.len() + 1)))
                    .to_series()
                    .cast(pl.UInt64)
                )
            else:
                ids.append(n.rank("dense").fill_null(0).cast(pl.UInt64))
        bits = [max(int(s.max() or 0), 1).bit_length() for s in ids]  # type: ignore[arg-type]  # UInt64
        if sum(bits) > 64:
            return pl.struct([self.n(c).alias(f"__key{i}") for i, c in enumerate(cols)])
        packed: pl.Expr = pl.lit(0, dtype=pl.UInt64)
        for col, s, b in zip(cols, ids, bits, strict=True):
            packed = packed * pl.lit(1 << b, dtype=pl.UInt64) + pl.lit(s).gather(pl.col(col + CODE))
        return packed

    # -- parent values (spec 6.2 item 2: exactly one parent row with this key and a valid value)
    def parent_ok(self, col: str) -> pl.Expr:
        return (pl.col(PARENT_COUNT) == 1) & pl.col(PARENT_PREFIX + col + OK).fill_null(False)

    def parent_date(self, col: str) -> pl.Expr:
        return pl.when(self.parent_ok(col)).then(pl.col(PARENT_PREFIX + col + D))

    def parent_n(self, col: str) -> pl.Expr:
        return pl.when(self.parent_ok(col)).then(pl.col(PARENT_PREFIX + col + N))

    # -- other tables
    def other(self, table: str) -> PreparedTable | None:
        """Another prepared table (read its columns through ``PreparedTable.with_columns``)."""
        return self.tables.get(table)

    def check(self, column: str | None, expr: pl.Expr) -> Check:
        return Check(self.rule_id, column, expr)


RuleFn = Callable[[TableView], Iterable[Check]]

# rule ID -> function; filled by the @rule decorator in the rules_* modules.
TABLE_RULES: dict[str, RuleFn] = {}

# Parent columns each child's rules read (joined onto the child's rows as "P:<col>.n/.ok/.d").
PARENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "Referral": ("DOB",),
    "Appointment": ("REFRECDATE", "ENDDATE"),
    "AssessmentPEQ": ("REFRECDATE",),
    "TreatmentPEQ": ("REFRECDATE",),
    "WaitingTimePause": ("REFRECDATE",),
    "LTCAppointment": ("ATTENDANCE",),
    "EmploymentAdviser": ("EMPSTATUS",),
}


def rule(rule_id: str) -> Callable[[RuleFn], RuleFn]:
    if rule_id not in DATASET.rules:
        raise KeyError(f"{rule_id} is not in the rule catalogue")

    def deco(fn: RuleFn) -> RuleFn:
        if rule_id in TABLE_RULES:
            raise ValueError(f"{rule_id} bound twice")
        TABLE_RULES[rule_id] = fn
        return fn

    return deco
