"""WaitingTimePause (WTP) table-specific rules.

Generic column rules, the duplicate rule WTP110 and parent resolution (WTP120, WTP130) come from
``records.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from validation.engine.common import OK, D, N
from validation.engine.prepare import ENGINE
from validation.engine.registry import Check, TableView, rule
from validation.model import ROW


@rule("WTP140")
def wtp140(t: TableView) -> Iterable[Check]:
    for col in ("PAUSESTARTDATE", "PAUSEENDDATE"):
        yield t.check(col, t.date(col) > pl.lit(t.rp_end))


@rule("WTP150")
def wtp150(t: TableView) -> Iterable[Check]:
    yield t.check("PAUSESTARTDATE", t.date("PAUSESTARTDATE") < t.parent_date("REFRECDATE"))


@rule("WTP160")
def wtp160(t: TableView) -> Iterable[Check]:
    yield t.check("PAUSEENDDATE", t.date("PAUSEENDDATE") < t.date("PAUSESTARTDATE"))


_NEG, _POS = -(2**31), 2**31 - 1


def overlaps_earlier_row(frame: pl.DataFrame) -> pl.Series:
    """Row numbers of intervals that share at least one day with an interval of an earlier row of the same
    group. ``frame`` has columns ROW, ``g`` (group key), ``s`` and ``e`` (inclusive day numbers, s <= e).

    Two inclusive ranges overlap when max(starts) <= min(ends). For a row i and an earlier row j that is:
    s_j <= s_i and e_j >= s_i, or s_j >= s_i and s_j <= e_i. The "earlier" condition makes this a 2-D query,
    answered by divide and conquer over each group's rows in row order (CDQ): at level L every block of 2^(L+1)
    consecutive rows is split into an earlier half and a later half, and each later-half row asks the earlier
    half for max(e_j) over s_j <= s_i and for min(s_j) over s_j >= s_i, with one sort and one cumulative
    max/min per level. O(n log^2 n) whatever the group sizes; no pairwise join, no Python loop per row.
    """
    if frame.height < 2:
        return pl.Series(ROW, [], dtype=pl.Int64)
    df = frame.sort(ROW).with_columns(
        pl.int_range(pl.len()).over("g").alias("r"), pl.int_range(pl.len()).alias("i")
    )
    size = int(df.group_by("g").len().get_column("len").max() or 0)  # type: ignore[arg-type]  # a count
    found: list[pl.Series] = []
    for level in range(max(size - 1, 0).bit_length()):
        d = df.with_columns(
            (pl.col("r") // (2 ** (level + 1))).alias("b"),
            ((pl.col("r") // (2**level)) % 2 == 1).alias("later"),
        )
        # earlier j with s_j <= s_i: the largest such e_j must reach s_i (ties: earlier half sorts first)
        best_end = pl.when(pl.col("later")).then(pl.lit(_NEG)).otherwise(pl.col("e")).cum_max()
        found.append(
            d.sort(["g", "b", "s", "later"])
            .with_columns(best_end.over(["g", "b"]).alias("m"))
            .filter(pl.col("later") & (pl.col("m") >= pl.col("s")))
            .get_column("i")
        )
        # earlier j with s_j >= s_i: the smallest such s_j must not be after e_i
        best_start = pl.when(pl.col("later")).then(pl.lit(_POS)).otherwise(pl.col("s")).cum_min()
        found.append(
            d.sort(["g", "b", "s", "later"], descending=[False, False, True, False])
            .with_columns(best_start.over(["g", "b"]).alias("m"))
            .filter(pl.col("later") & (pl.col("m") <= pl.col("e")))
            .get_column("i")
        )
    if not found:
        return pl.Series(ROW, [], dtype=pl.Int64)
    return df.filter(pl.col("i").is_in(pl.concat(found).unique().implode())).get_column(ROW)


@rule("WTP180")
def wtp180(t: TableView) -> Iterable[Check]:
    # Rows taking part (this one and the earlier ones, whatever their findings): valid SERVICEID and
    # PAUSESTARTDATE, PAUSEENDDATE valid or blank (blank = RP end). Dates are inclusive; a range whose end is
    # before its start (WTP160) contains no day and overlaps nothing.
    start = pl.col("PAUSESTARTDATE" + D)
    end = (
        pl.when(pl.col("PAUSEENDDATE").is_null()).then(pl.lit(t.rp_end)).otherwise(pl.col("PAUSEENDDATE" + D))
    )
    eligible = (
        pl.col("SERVICEID" + OK)
        & pl.col("PAUSESTARTDATE" + OK)
        & (pl.col("PAUSEENDDATE" + OK) | pl.col("PAUSEENDDATE").is_null())
    )
    columns = [
        pl.col(ROW),
        pl.col("SERVICEID" + N).alias("g"),
        start.cast(pl.Int64).alias("s"),
        end.cast(pl.Int64).alias("e"),
        eligible.alias("__eligible"),
    ]
    frame = t.prepared.with_columns(n for c in columns for n in c.meta.root_names())
    ranges = (
        frame.lazy()
        .select(columns)
        .filter(pl.col("__eligible") & (pl.col("s") <= pl.col("e")))
        .drop("__eligible")
        .collect(engine=ENGINE)
    )
    rows = overlaps_earlier_row(ranges)
    yield t.check("PAUSESTARTDATE", pl.col(ROW).is_in(rows.implode()))
