"""Helpers for rules that look at other rows or tables: sets of valid values, vectorised."""

from __future__ import annotations

import polars as pl

from validation.engine.common import CODE, OK, N
from validation.engine.prepare import ENGINE, PreparedTable


def values_where(table: PreparedTable | None, col: str, cond: pl.Expr | None = None) -> pl.Series:
    """Distinct normalised values of ``col`` over rows where it is valid (and ``cond`` holds), as an
    imploded Series suitable for ``Expr.is_in``. An invalid value in another row never matches (6.2)."""
    if table is None or table.height == 0:
        return pl.Series([[]], dtype=pl.List(pl.String))
    mask = pl.col(col + OK)
    if cond is not None:
        mask = mask & cond.fill_null(False)
    if col + N in table.deferred and col + CODE in table.frame.columns:
        # Prepared per distinct value: the codes of the rows, then their values (the text is not spread).
        frame = table.with_columns(mask.meta.root_names())
        codes = frame.select(pl.col(col + CODE).filter(mask).unique()).to_series()
        values = table.code_values[col].get_column(col + N).gather(codes)
        return values.unique().implode()
    frame = table.with_columns([col + N, *mask.meta.root_names()])
    return (
        frame.lazy()
        .filter(mask)
        .select(pl.col(col + N).unique())
        .collect(engine=ENGINE)
        .get_column(col + N)
        .implode()
    )


def other_value_in_group(key: str, col: str) -> pl.Expr:
    """True where another row with the same valid ``key`` holds a different valid ``col`` value.

    Only valid values take part (spec 6.2 items 2 and 4): rows whose key or value is blank or invalid are
    masked out, so an invalid code in another row never counts as "a different code". Null for rows whose
    own key is not valid."""
    k = pl.when(pl.col(key + OK)).then(pl.col(key + N))
    v = pl.when(pl.col(key + OK) & pl.col(col + OK)).then(pl.col(col + N))
    return pl.when(k.is_not_null()).then(v.drop_nulls().n_unique().over(k) > 1)
