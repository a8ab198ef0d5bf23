"""Group cascaded rejections under the row whose own problem caused them (spec 6.2 item 5).

A provider fixes one Person rather than forty appointments: for every rejected Person, Referral or
Appointment key whose rejection is its own (not a cascade), count the rows of each table that were
rejected because of it, however many levels down.
"""

from __future__ import annotations

import polars as pl

from validation.dataset import DATASET
from validation.engine.records import ORPHAN_CASCADE_RULES

REJECTS = ("RECORD_REJECT", "GROUP_REJECT")
# cascade rule -> (child table, parent table)
CASCADE_PARENT = {
    cascade: (child, DATASET.tables[child].parent)
    for child, (_orphan, cascade) in ORPHAN_CASCADE_RULES.items()
}
KEYED = {name: t.row_key[0] for name, t in DATASET.tables.items() if len(t.row_key) == 1}


def _own_key(frame: pl.DataFrame) -> pl.Expr:
    """The row key of Person/Referral/Appointment rows: the first report-key component."""
    return pl.col("record_key").str.extract(r"^[A-Z_]+=([^;]*)", 1)


def cascade_roots(findings: pl.DataFrame, *, limit: int = 50) -> list[dict[str, object]]:
    """Root causes of cascaded rejections, largest first.

    Each item: table, key (row key value), rows (row numbers), rules (own reject rule IDs),
    descendants {table: rejected rows}.
    """
    if findings.height == 0:
        return []
    rejects = findings.filter(pl.col("severity").is_in(REJECTS) & pl.col("row_number").is_not_null())
    cascades = rejects.filter(pl.col("rule_id").is_in(list(CASCADE_PARENT)))
    if cascades.height == 0:
        return []
    parent_table = pl.col("rule_id").replace_strict({k: v[1] for k, v in CASCADE_PARENT.items()})
    edges = cascades.select(
        pl.col("table").alias("child_table"),
        pl.col("row_number").alias("child_row"),
        _own_key(cascades).alias("child_key"),
        parent_table.alias("parent_table"),
        pl.col("value").alias("parent_key"),
    ).unique()
    # Walk up: a parent that is itself cascaded hands its children to its own parent (at most 3 levels).
    for _ in range(3):
        up = edges.select(
            pl.col("child_table").alias("parent_table"),
            pl.col("child_key").alias("parent_key"),
            pl.col("parent_table").alias("grand_table"),
            pl.col("parent_key").alias("grand_key"),
        ).unique(subset=["parent_table", "parent_key"])
        joined = edges.join(up, on=["parent_table", "parent_key"], how="left")
        if joined.filter(pl.col("grand_table").is_not_null()).height == 0:
            break
        edges = joined.select(
            "child_table",
            "child_row",
            "child_key",
            pl.coalesce("grand_table", "parent_table").alias("parent_table"),
            pl.coalesce("grand_key", "parent_key").alias("parent_key"),
        )
    own = (
        rejects.filter(~pl.col("rule_id").is_in(list(CASCADE_PARENT)) & pl.col("table").is_in(list(KEYED)))
        .with_columns(_own_key(rejects).alias("key"))
        .group_by("table", "key")
        .agg(
            pl.col("row_number").unique().sort().alias("rows"),
            pl.col("rule_id").unique().sort().alias("rules"),
        )
    )
    counts = edges.group_by("parent_table", "parent_key", "child_table").agg(pl.len().alias("n"))
    totals = counts.group_by("parent_table", "parent_key").agg(pl.col("n").sum().alias("total"))
    top = totals.sort(["total", "parent_table", "parent_key"], descending=[True, False, False]).head(limit)
    out: list[dict[str, object]] = []
    order = DATASET.table_order
    for row in top.iter_rows(named=True):
        per_table = counts.filter(
            (pl.col("parent_table") == row["parent_table"]) & (pl.col("parent_key") == row["parent_key"])
        )
        cause = own.filter((pl.col("table") == row["parent_table"]) & (pl.col("key") == row["parent_key"]))
        out.append(
            {
                "table": row["parent_table"],
                "key": row["parent_key"],
                "rows": cause["rows"][0].to_list() if cause.height else [],
                "rules": cause["rules"][0].to_list() if cause.height else [],
                "descendants": {
                    r["child_table"]: r["n"]
                    for r in sorted(
                        per_table.iter_rows(named=True), key=lambda r: order.get(r["child_table"], 99)
                    )
                },
                "total": row["total"],
            }
        )
    return out
