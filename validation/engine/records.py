"""RECORDS stage (spec 6.1 stage 5): generic column rules, table rules, duplicates, parents and cascades.

Everything is vectorised: each rule is a polars expression over a whole table; duplicates use window
expressions and parent resolution uses group-by + join. Python loops run per table, rule and column only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from validation.dataset import DATASET
from validation.dataset.schema import Severity, Stage, Table
from validation.engine import (  # noqa: F401  (registers the rules)
    rules_appointment,
    rules_disability,
    rules_pause,
    rules_peq,
    rules_person,
    rules_pilot,
    rules_referral,
)
from validation.engine.common import (
    CODE,
    OK,
    PARENT_COUNT,
    PARENT_PREFIX,
    ROW_SEVERITIES,
    D,
    Finding,
    N,
)
from validation.engine.prepare import ENGINE, PARALLEL_ROWS, PreparedTable
from validation.engine.registry import PARENT_COLUMNS, TABLE_RULES, Check, TableView
from validation.model import ROW, UploadContext

# Duplicate-key rule per table (spec 6.2 item 4). GROUP_REJECT rules reject every copy; the RECORD_REJECT
# ones (code-only tables) keep the first row and reject the later ones.
DUPLICATE_RULES: dict[str, str] = {
    "Person": "PER110",
    "Disability": "DIS130",
    "Referral": "REF110",
    "Appointment": "APP110",
    "AssessmentPEQ": "APQ100",
    "TreatmentPEQ": "TPQ100",
    "WaitingTimePause": "WTP110",
    "LTCCondition": "LTC130",
    "MUSSymptom": "MUS130",
    "LTCAppointment": "LTA100",
    "EmploymentAdviser": "EA100",
}


def _orphan_cascade_rules() -> dict[str, tuple[str, str]]:
    """Child table -> (orphan rule, cascade rule), read from the catalogue's conditions."""
    out: dict[str, tuple[str, str]] = {}
    for t in DATASET.tables.values():
        if not t.parent:
            continue
        orphan = [
            r.id
            for r in DATASET.rules.values()
            if r.table == t.name and r.condition.startswith(f"No {t.parent} row has")
        ]
        cascade = [
            r.id
            for r in DATASET.rules.values()
            if r.table == t.name
            and re.match(rf"{t.parent} rows with this \w+ exist but every one", r.condition)
        ]
        assert len(orphan) == 1 and len(cascade) == 1, t.name
        out[t.name] = (orphan[0], cascade[0])
    return out


ORPHAN_CASCADE_RULES: dict[str, tuple[str, str]] = _orphan_cascade_rules()
LEVEL_ORDER: list[str] = sorted(
    DATASET.tables, key=lambda n: (DATASET.tables[n].level, list(DATASET.tables).index(n))
)


def generic_checks(t: TableView) -> list[Check]:
    """x010, x020 and each column's own chain (type, format, code list, range), from column metadata."""
    out: list[Check] = []
    for name, b in t.prepared.bindings.items():
        if b.mandatory_rule:
            out.append(Check(b.mandatory_rule, name, t.blank(name)))
        if b.required_rule:
            out.append(Check(b.required_rule, name, t.blank(name)))
        codes = t.prepared.step_codes.get(name)
        if codes is not None:
            # Prepared per distinct value: the rows whose value fails this check first.
            for (rule_id, _), fired in zip(b.steps, codes, strict=True):
                if fired:
                    out.append(Check(rule_id, name, pl.col(name + CODE).is_in(fired)))
            continue
        earlier: pl.Expr | None = None
        for i, (rule_id, _) in enumerate(b.steps):
            e = pl.col(f"{name}.e{i}")
            out.append(Check(rule_id, name, e if earlier is None else e & ~earlier))
            earlier = e if earlier is None else earlier | e
    return out


def duplicate_check(table: Table, prepared: PreparedTable | None = None) -> Check | None:
    """The duplicate-key check. With ``prepared`` the duplicates are found here: rows whose masked key's
    64-bit hash occurs more than once are the candidates (every copy of a duplicated key is one), and the
    key itself is compared on those rows only (hashing a million text keys is several times cheaper than
    grouping them); the check is then the membership of the rows found."""
    rule_id = DUPLICATE_RULES.get(table.name)
    if rule_id is None:
        return None
    spec = DATASET.rules[rule_id]
    keys = table.row_key
    valid = pl.lit(True)
    for k in keys:
        col = table.column(k)
        # mandatory components must be valid; optional ones valid or blank ("blank equals blank")
        part = pl.col(k + OK) if col.obligation.value == "M" else (pl.col(k + OK) | pl.col(k).is_null())
        valid = valid & part
    masked = [pl.when(valid).then(pl.col(k + N)).alias(f"__k{i}") for i, k in enumerate(keys)]
    if spec.severity is Severity.GROUP_REJECT:
        expr = valid & (pl.len().over(masked) > 1)
    else:
        expr = valid & (pl.int_range(pl.len()).over(masked) > 0)
    if prepared is None or prepared.height == 0:
        return Check(rule_id, spec.columns[0], expr)
    # (a valid row's key is never all null: each key has a mandatory component)
    hashed = masked[0].hash() if len(masked) == 1 else pl.struct(masked).hash()
    frame = prepared.with_columns([ROW, *(n for e in (valid, *masked) for n in e.meta.root_names())])
    candidates = frame.select((valid & hashed.is_duplicated()).fill_null(False)).to_series()
    rows = frame.filter(candidates).filter(expr.fill_null(False)).get_column(ROW)
    return Check(rule_id, spec.columns[0], pl.col(ROW).is_in(rows.implode()))


@dataclass
class TableResult:
    prepared: PreparedTable
    hits: pl.DataFrame  # __row, rule_id, column, value
    rejected: pl.Series = field(default_factory=lambda: pl.Series(dtype=pl.Boolean))


HIT_SCHEMA = {"row_number": pl.Int64, "rule_id": pl.String, "column": pl.String, "value": pl.String}


def evaluate(prepared: PreparedTable, checks: list[Check]) -> pl.DataFrame:
    """Run the checks over the table in one pass and return one line per finding occurrence.

    One pass computes every check's flag; the rows with at least one finding (a small share of a big table)
    are then gathered once, only for the columns the findings report, and split per check in check order.
    """
    if not checks or prepared.height == 0:
        return pl.DataFrame(schema=HIT_SCHEMA)
    df = prepared.with_columns(n for c in checks for n in c.expr.meta.root_names())
    flags = df.select(*[c.expr.fill_null(False).alias(f"__h{i}") for i, c in enumerate(checks)])
    fired = [i for i, n in enumerate(flags.sum().row(0)) if n]
    if not fired:
        return pl.DataFrame(schema=HIT_SCHEMA)
    any_hit = flags.select(pl.any_horizontal([f"__h{i}" for i in fired])).to_series()
    value_cols = list(dict.fromkeys(c.column for i in fired if (c := checks[i]).column))
    # (a deferred column's values are spread over the rows with findings only)
    hit_rows = pl.DataFrame(
        [df.get_column(ROW).filter(any_hit), *[prepared.column_where(c, any_hit) for c in value_cols]]
    )
    hit_flags = flags.select([f"__h{i}" for i in fired]).filter(any_hit)
    parts: list[pl.DataFrame] = []
    for i in fired:
        c = checks[i]
        parts.append(
            hit_rows.filter(hit_flags.get_column(f"__h{i}")).select(
                pl.col(ROW).alias("row_number"),
                pl.lit(c.rule_id).alias("rule_id"),
                pl.lit(c.column, dtype=pl.String).alias("column"),
                (pl.col(c.column) if c.column else pl.lit(None, dtype=pl.String)).alias("value"),
            )
        )
    return pl.concat(parts)


@dataclass
class ParentLink:
    """Which parent key group each child row belongs to, kept from ``with_parent_values`` for the cascade."""

    keys: pl.DataFrame  # fk, GROUP, PARENT_COUNT: one row per parent key (rows with a non-blank key)
    group: pl.Series  # GROUP of each child row; null when no parent row has its key


GROUP = "__group"


def with_parent_values(
    child: PreparedTable, tables: dict[str, PreparedTable]
) -> tuple[pl.DataFrame, ParentLink | None]:
    """Join the parent's key count and the parent values the child's rules read (spec 6.2 item 2)."""
    t = child.table
    if not t.parent or t.parent not in tables or t.fk is None:
        return child.frame, None
    parent_table = tables[t.parent]
    cols = PARENT_COLUMNS.get(t.name, ())
    aggs = [pl.len().cast(pl.Int64).alias(PARENT_COUNT)]
    for c in cols:
        # Rules read a parent date through ``.d`` (parent_date), never its text.
        suffixes = (OK, D) if parent_table.has(c + D) else (N, OK)
        for suffix in suffixes:
            if parent_table.has(c + suffix):
                aggs.append(pl.col(c + suffix).first().alias(PARENT_PREFIX + c + suffix))
    parent = parent_table.with_columns([t.fk, *(n for a in aggs for n in a.meta.root_names())])
    parents = parent.lazy().filter(pl.col(t.fk).is_not_null())
    if 2 * child.frame.height < parent.height:
        # Only parent rows whose key some child row carries matter: a semi-join first keeps the group-by
        # small when a large parent (Appointment) has a smaller child table (EmploymentAdviser).
        keys = child.frame.lazy().select(pl.col(t.fk)).filter(pl.col(t.fk).is_not_null()).unique()
        parents = parents.join(keys, on=t.fk, how="semi")
    grouped = parents.group_by(t.fk).agg(aggs).with_row_index(GROUP).collect(engine=ENGINE)
    # Join on the key column alone (one output row per child row, in order: the keys are unique in
    # ``grouped``) and put the parent columns next to the child's; joining the whole frame would copy
    # every one of its columns. A key prepared per distinct value joins its distinct values only, and each
    # row takes its value's parent columns by its code.
    per_code = child.code_values.get(t.fk)
    if per_code is not None and t.fk + CODE in child.frame.columns:
        by_code = per_code.select(pl.col(t.fk)).join(grouped, on=t.fk, how="left", maintain_order="left")
        codes = child.frame.get_column(t.fk + CODE)
        extra = pl.DataFrame([s.gather(codes) for s in by_code.drop(t.fk).get_columns()]).with_columns(
            pl.col(PARENT_COUNT).fill_null(0)
        )
    else:
        extra = (
            child.with_columns([t.fk])
            .select(pl.col(t.fk))
            .join(grouped, on=t.fk, how="left", maintain_order="left")
            .drop(t.fk)
            .with_columns(pl.col(PARENT_COUNT).fill_null(0))
        )
    assert extra.height == child.frame.height
    link = ParentLink(grouped.select(t.fk, GROUP, PARENT_COUNT), extra.get_column(GROUP))
    return child.frame.hstack(extra.drop(GROUP).get_columns()), link


def cascade_hits(
    child: TableResult, parent: TableResult, link: ParentLink | None, orphan_id: str, cascade_id: str
) -> pl.DataFrame:
    """Orphan and cascade findings of the child rows with a valid foreign key (spec 6.2 item 5): no parent
    row has the key, or every parent row with it is rejected."""
    t = child.prepared.table
    fk = t.fk
    assert fk is not None
    assert link is not None  # run_records links every child table with its parent
    # Only the rejected parent rows are grouped (few); a key is dead when all its rows are rejected.
    rejected = (
        parent.prepared.with_columns([fk])
        .lazy()
        .select(pl.col(fk), pl.col(ROW))
        .filter(pl.col(fk).is_not_null() & pl.col(ROW).is_in(parent.rejected.implode()))
        .group_by(fk)
        .agg(pl.len().alias("__n_rej"))
        .collect(engine=ENGINE)
    )
    dead_groups = (
        link.keys.join(rejected, on=fk, how="inner")
        .filter(pl.col("__n_rej") == pl.col(PARENT_COUNT))
        .get_column(GROUP)
    )
    # The key's text is taken for the rows with a finding only (a deferred column is not spread).
    frame = child.prepared.with_columns([fk + OK])
    base = pl.DataFrame([frame.get_column(fk + OK), link.group])
    parts = []
    for cond, rule_id in (
        (pl.col(GROUP).is_null(), orphan_id),
        (pl.col(GROUP).is_in(dead_groups.implode()), cascade_id),
    ):
        hit = base.select((pl.col(fk + OK) & cond).fill_null(False)).to_series()
        parts.append(
            pl.DataFrame(
                [
                    frame.get_column(ROW).filter(hit).alias("row_number"),
                    child.prepared.column_where(fk, hit).alias("value"),
                ]
            ).select("row_number", pl.lit(rule_id).alias("rule_id"), pl.lit(fk).alias("column"), "value")
        )
    return pl.concat(parts)


def severity_of(rule_id: str) -> str:
    return DATASET.rules[rule_id].severity.value


def rejected_rows(hits: pl.DataFrame) -> pl.Series:
    rej_ids = [r for r in hits.get_column("rule_id").unique().to_list() if severity_of(r) in ROW_SEVERITIES]
    return hits.filter(pl.col("rule_id").is_in(rej_ids)).get_column("row_number").unique()


def run_records(
    tables: dict[str, PreparedTable],
    ctx: UploadContext,
    rp_start: date,
    rp_end: date,
    progress: Callable[[str, str | None, float], None] | None = None,
) -> tuple[dict[str, TableResult], list[Finding]]:
    """Row rules for every table, then parent resolution and cascades top-down, then FILE020/FILE021."""
    results: dict[str, TableResult] = {}
    links: dict[str, ParentLink | None] = {}
    names = [n for n in DATASET.tables if n in tables and n != "Header"]

    # Row rules first (they never depend on another row's acceptance).
    def row_rules(name: str) -> tuple[TableResult, ParentLink | None]:
        p = tables[name]
        frame, link = with_parent_values(p, tables)
        view_p = dataclasses.replace(p, frame=frame)
        view = TableView(view_p, tables, ctx, rp_start, rp_end)
        checks = generic_checks(view)
        dup = duplicate_check(p.table, view_p)
        if dup is not None:
            checks.append(dup)
        for rule_id, fn in TABLE_RULES.items():
            spec = DATASET.rules[rule_id]
            if spec.table == name:
                view.rule_id = rule_id
                checks.extend(fn(view))
        return TableResult(p, evaluate(view_p, checks)), link

    # Tables only read each other's prepared frames here, so a large submission checks them on a thread
    # pool (polars releases the GIL); progress is still reported from this thread, in table order.
    parallel = sum(tables[n].height for n in names) >= PARALLEL_ROWS and len(names) > 1
    with ThreadPoolExecutor(max_workers=max(pl.thread_pool_size(), 2) if parallel else 1) as pool:
        # The largest table first: it is the longest task, the others fill the second thread meanwhile.
        order = sorted(names, key=lambda n: -tables[n].height) if parallel else names
        submitted = {name: pool.submit(row_rules, name) for name in order}
        futures = [submitted[name] for name in names]
        for i, (name, future) in enumerate(zip(names, futures, strict=True)):
            if progress:
                progress("validating", name, i / max(len(names), 1))
            results[name], links[name] = future.result()

    # Parent resolution and cascade, level by level (spec 6.2 item 5).
    for name in LEVEL_ORDER:
        if name not in results:
            continue
        res = results[name]
        t = res.prepared.table
        if t.parent and t.parent in results and t.fk:
            orphan_id, cascade_id = ORPHAN_CASCADE_RULES[name]
            extra = cascade_hits(res, results[t.parent], links.get(name), orphan_id, cascade_id)
            if extra.height:
                res.hits = pl.concat([res.hits, extra])
        res.rejected = rejected_rows(res.hits)

    findings = file_content_findings(tables, rp_start, rp_end)
    if progress:
        progress("validating", None, 1.0)
    return results, findings


def file_content_findings(tables: dict[str, PreparedTable], rp_start: date, rp_end: date) -> list[Finding]:
    out: list[Finding] = []
    for name in ("Person", "Referral"):
        if name in tables and tables[name].height == 0:
            out.append(Finding("FILE020", Stage.RECORDS, name))
    ref = tables.get("Referral")
    if ref is not None and ref.height > 0:
        active = (
            pl.col("REFRECDATE" + OK)
            & (pl.col("REFRECDATE" + D) <= pl.lit(rp_end))
            & (~pl.col("ENDDATE" + OK) | (pl.col("ENDDATE" + D) >= pl.lit(rp_start)))
        )
        if not ref.with_columns(active.meta.root_names()).select(active.fill_null(False).any()).item():
            out.append(Finding("FILE021", Stage.RECORDS, "Referral", "REFRECDATE"))
    return out
