"""Helpers for rules that look at other rows or tables: sets of valid values, vectorised."""

from __future__ import annotations

import polars as pl

from validation.engine.common import OK, N


def values_where(frame: pl.DataFrame | None, col: str, cond: pl.Expr | None = None) -> pl.Series:
    """Distinct normalised values of ``col`` over rows where it is valid (and ``cond`` holds), as an
    imploded Series suitable for ``Expr.is_in``. An invalid value in another row never matches (6.2)."""
    if frame is None or frame.height == 0:
        return pl.Series([[]], dtype=pl.List(pl.String))
    mask = pl.col(col + OK)
    if cond is not None:
        mask = mask & cond.fill_null(False)
    return frame.lazy().filter(mask).select(pl.col(col + N).unique()).collect().get_column(col + N).implode()
