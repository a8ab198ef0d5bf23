"""Assembling the result: findings frame in report line order (spec 10.1), counts (7.1), outcome (7.2)."""

from __future__ import annotations

import polars as pl

from validation.dataset import DATASET
from validation.dataset.schema import STAGE_ORDER, Severity, Stage
from validation.engine.common import VALUE_MAX_CHARS, Finding, N
from validation.engine.prepare import PARALLEL_ROWS, PreparedTable, thread_map
from validation.engine.records import TableResult
from validation.model import FINDING_COLUMNS, ROW, Outcome, TableCounts

_SORT_SCHEMA = {
    "rule_id": pl.String,
    "stage": pl.String,
    "table": pl.String,
    "row_number": pl.Int64,
    "record_key": pl.String,
    "column": pl.String,
    "value": pl.String,
    "_colpos": pl.Int64,
}
UNKNOWN_COLUMN_BASE = 1_000_000


def record_key_expr(table_name: str) -> pl.Expr | None:
    keys = DATASET.tables[table_name].report_key
    if not keys:
        return None
    parts = [pl.concat_str([pl.lit(f"{k}="), pl.col(k).fill_null("")]) for k in keys]
    return pl.concat_str(parts, separator=";")


def column_position(table: str | None, column: str | None, order: int | None) -> int | None:
    if column is None:
        return None
    t = DATASET.tables.get(table) if table else None
    if t is not None and column in t.column_names:
        return t.column_names.index(column)
    return UNKNOWN_COLUMN_BASE + (order or 0)


def file_findings_frame(findings: list[Finding]) -> pl.DataFrame:
    rows = [
        {
            "rule_id": f.rule_id,
            "stage": f.stage.value,
            "table": f.table,
            "row_number": f.row_number,
            "record_key": f.record_key,
            "column": f.column,
            "value": f.value,
            "_colpos": column_position(f.table, f.column, f.column_order),
        }
        for f in findings
    ]
    return pl.DataFrame(rows, schema=_SORT_SCHEMA)


def row_findings_frame(results: dict[str, TableResult]) -> pl.DataFrame:
    parts: list[pl.DataFrame] = []
    for name, res in results.items():
        hits = res.hits
        if hits.height == 0:
            continue
        key = record_key_expr(name)
        if key is not None:
            # Record keys only for the rows with findings (a small fraction of a big table); a deferred key
            # column is taken on those rows only.
            rows = hits.get_column("row_number").unique().implode()
            p = res.prepared
            mask = p.frame.select(pl.col(ROW).is_in(rows)).to_series()
            keys = pl.DataFrame(
                [
                    p.frame.get_column(ROW).filter(mask),
                    *[p.column_where(c, mask) for c in key.meta.root_names()],
                ]
            ).select(pl.col(ROW).alias("row_number"), key.alias("record_key"))
            hits = hits.join(keys, on="row_number", how="left")
        else:
            hits = hits.with_columns(pl.lit(None, dtype=pl.String).alias("record_key"))
        cols = DATASET.tables[name].column_names
        hits = hits.with_columns(
            pl.lit(Stage.RECORDS.value).alias("stage"),
            pl.lit(name).alias("table"),
            pl.col("column")
            .replace_strict(list(cols), list(range(len(cols))), default=None, return_dtype=pl.Int64)
            .alias("_colpos"),
        )
        parts.append(hits.select(list(_SORT_SCHEMA)))
    if not parts:
        return pl.DataFrame(schema=_SORT_SCHEMA)
    return pl.concat(parts)


def _rules_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "rule_id": list(DATASET.rules),
            "severity": [r.severity.value for r in DATASET.rules.values()],
            "message": [r.message for r in DATASET.rules.values()],
        }
    )


def assemble_findings(file_findings: list[Finding], results: dict[str, TableResult]) -> pl.DataFrame:
    frame = pl.concat([file_findings_frame(file_findings), row_findings_frame(results)])
    table_names = list(DATASET.tables)
    frame = frame.join(_rules_frame(), on="rule_id", how="left").with_columns(
        pl.col("value").str.slice(0, VALUE_MAX_CHARS),
        pl.col("stage").replace_strict(STAGE_ORDER, return_dtype=pl.Int64).alias("_st"),
        pl.when(pl.col("table").is_null())
        .then(-1)
        .otherwise(
            pl.col("table").replace_strict(
                table_names, list(range(len(table_names))), default=len(table_names), return_dtype=pl.Int64
            )
        )
        .alias("_tk"),
    )
    frame = frame.sort(["_st", "_tk", "table", "row_number", "rule_id", "_colpos"], nulls_last=False)
    return frame.select([pl.col(c).cast(t) for c, t in FINDING_COLUMNS.items()])


def count_table(
    height: int, hits: pl.DataFrame | None, file_rejected: bool
) -> tuple[TableCounts, pl.Series | None]:
    """Counts of spec 7.1 for one table and the row numbers of its rejected rows."""
    if hits is None or hits.height == 0:
        return TableCounts(height, 0 if file_rejected else height, 0, 0, 0), pl.Series(
            "row_number", [], pl.Int64
        )
    sev = hits.join(_rules_frame().select("rule_id", "severity"), on="rule_id", how="left")
    per_row = sev.group_by("row_number").agg(
        (pl.col("severity") == Severity.RECORD_REJECT.value).any().alias("rr"),
        (pl.col("severity") == Severity.GROUP_REJECT.value).any().alias("gr"),
        (pl.col("severity") == Severity.WARNING.value).any().alias("wa"),
    )
    rr = per_row.filter(pl.col("rr")).height
    gr = per_row.filter(~pl.col("rr") & pl.col("gr")).height
    rejected = per_row.filter(pl.col("rr") | pl.col("gr")).get_column("row_number")
    accepted = 0 if file_rejected else height - rr - gr
    warned = 0 if file_rejected else per_row.filter(~pl.col("rr") & ~pl.col("gr") & pl.col("wa")).height
    return TableCounts(height, accepted, rr, gr, warned), rejected


def accepted_rows(p: PreparedTable, rejected: pl.Series | None, *, release: bool = False) -> pl.DataFrame:
    """The accepted rows of a table. ``release``: the prepared frame is emptied as soon as the output columns
    are taken from it, and the rejected rows are removed one column at a time, so that only one column is
    ever held twice. A deferred ``C.n`` (prepared per distinct value) is spread over the accepted rows only."""
    frame = p.frame
    row = frame.get_column(ROW).cast(pl.Int64).alias("ROW_NUMBER")
    keep = None if rejected is None or rejected.len() == 0 else ~row.is_in(rejected.implode())
    sources: list[tuple[str, pl.Series | None]] = []
    for c in p.table.column_names:
        # Select the output columns first (zero-copy) so the filter gathers only those.
        s = frame.get_column(c + N) if c + N in frame.columns else p.built.get(c + N)
        sources.append((c, s))
    deferred = p.deferred
    if release:
        p.release()
        del frame
    columns: list[pl.Series] = [row if keep is None else row.filter(keep)]
    # The deferred columns are spread on a small thread pool (a large table's are most of the work here).
    spread = thread_map(
        lambda c: deferred[c + N].spread(c, keep),
        [c for c, s in sources if s is None],
        parallel=row.len() >= PARALLEL_ROWS,
    )
    spread_by_name = {s.name: s for s in spread}
    for i, (c, s) in enumerate(sources):
        sources[i] = (c, None)  # each column is held twice at most while it is filtered
        if s is None:
            columns.append(spread_by_name.pop(c))
        else:
            columns.append((s if keep is None else s.filter(keep)).alias(c))
    return pl.DataFrame(columns)


def outcome_of(findings: pl.DataFrame) -> Outcome:
    sev = set(findings.get_column("severity").unique().to_list())
    if Severity.FILE_REJECT.value in sev:
        return Outcome.REJECTED
    if Severity.RECORD_REJECT.value in sev or Severity.GROUP_REJECT.value in sev:
        return Outcome.PARTIALLY_ACCEPTED
    if Severity.WARNING.value in sev:
        return Outcome.ACCEPTED_WITH_WARNINGS
    return Outcome.ACCEPTED
