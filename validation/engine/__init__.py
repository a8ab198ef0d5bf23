"""The IAPT v1.5 rule engine: HEADER, PROFILE, RECORDS and FINAL stages over a ``ReadResult``.

Public API: ``run_engine(read, ctx, *, progress=None) -> ValidationResult`` and ``NOT_IMPLEMENTED`` (rule IDs of
the catalogue the engine does not evaluate yet). GATE rules (FILE001-FILE002) belong to the upload handling and
READ rules (FILE003-FILE007) to the readers; their findings arrive in ``read.findings``.
"""

from __future__ import annotations

import polars as pl

from validation.dataset import DATASET
from validation.dataset.schema import Severity, Stage
from validation.engine.common import Finding, period_bounds
from validation.engine.prepare import PARALLEL_ROWS, PreparedTable, column_bindings, prepare_table, thread_map
from validation.engine.records import DUPLICATE_RULES, ORPHAN_CASCADE_RULES, TableResult, run_records
from validation.engine.registry import TABLE_RULES
from validation.engine.report import accepted_rows, assemble_findings, count_table, outcome_of
from validation.engine.structure import header_stage, profile_stage
from validation.model import (
    ProgressCallback,
    ReadResult,
    TableCounts,
    UploadContext,
    ValidationResult,
)

__all__ = ["IMPLEMENTED", "NOT_IMPLEMENTED", "run_engine"]

# Rules evaluated outside the row machinery (stages HEADER, PROFILE, FINAL and file-content rules).
_STRUCTURAL = {
    "FILE010", "FILE011", "FILE012", "FILE013", "FILE014", "FILE015", "FILE016",
    "FILE020", "FILE021", "FILE090",
    "HDR010", "HDR020", "HDR030", "HDR040", "HDR050", "HDR060", "HDR070", "HDR080",
}  # fmt: skip
# Rules handled before the engine runs (upload gate, readers).
_OUTSIDE_ENGINE = {"FILE001", "FILE002", "FILE003", "FILE004", "FILE005", "FILE006", "FILE007"}


def _implemented() -> frozenset[str]:
    ids: set[str] = set(_STRUCTURAL) | set(TABLE_RULES) | set(DUPLICATE_RULES.values())
    for pair in ORPHAN_CASCADE_RULES.values():
        ids.update(pair)
    for name in DATASET.tables:
        for b in column_bindings(name).values():
            ids.update(r for r in (b.mandatory_rule, b.required_rule) if r)
            ids.update(r for r, _ in b.steps)
    return frozenset(ids)


IMPLEMENTED: frozenset[str] = _implemented()
# Catalogue rules the engine does not evaluate yet (table-specific x100+ rules of the next milestone).
NOT_IMPLEMENTED: list[str] = [r for r in DATASET.rules if r not in IMPLEMENTED and r not in _OUTSIDE_ENGINE]


def _has_file_reject(findings: list[Finding]) -> bool:
    return any(DATASET.rules[f.rule_id].severity is Severity.FILE_REJECT for f in findings)


def _result(findings: list[Finding], profile: str | None) -> ValidationResult:
    frame = assemble_findings(findings, {})
    return ValidationResult(
        outcome=outcome_of(frame),
        profile=profile,
        findings=frame,
        counts=None,
        accepted={},
        findings_by_rule=_by_rule(frame),
    )


def _by_rule(frame: pl.DataFrame) -> dict[str, int]:
    if frame.height == 0:
        return {}
    counts = frame.group_by("rule_id").len().sort("rule_id")
    return dict(zip(counts.get_column("rule_id").to_list(), counts.get_column("len").to_list(), strict=True))


def run_engine(
    read: ReadResult,
    ctx: UploadContext,
    *,
    progress: ProgressCallback | None = None,
    release_raw: bool = False,
) -> ValidationResult:
    """Run the stages. ``release_raw`` lets the engine empty each raw table's frame once the table is
    prepared (the caller hands the ``ReadResult`` over and will not read its frames again): the raw text
    and the prepared columns are then never all in memory together."""
    findings: list[Finding] = [
        Finding(
            f.rule_id, DATASET.rules[f.rule_id].stage, f.table, f.column, f.row_number, f.value, f.record_key
        )
        for f in read.findings
    ]
    if _has_file_reject(findings):
        return _result(findings, None)

    skip_blank = read.kind != "mdb"  # spec 4.5: fully blank rows are skipped in CSV and XLSX files
    if progress:
        progress("validating", "Header", 0.0)
    head = header_stage(read.tables, skip_blank_rows=skip_blank)
    findings.extend(head.findings)
    if _has_file_reject(findings) or head.profile is None or head.header is None:
        return _result(findings, None)
    profile = head.profile

    prof_findings, chosen = profile_stage(read.tables, profile, head.header, ctx)
    findings.extend(prof_findings)
    if _has_file_reject(findings):
        return _result(findings, profile.id)

    def prepare(name: str) -> PreparedTable:
        raw = chosen[name]
        p = prepare_table(raw, DATASET.tables[name], skip_blank_rows=skip_blank, consume=release_raw)
        if release_raw:
            raw.frame = raw.frame.clear()
        return p

    # A large submission prepares its tables two at a time, the largest first: a smaller table's few
    # columns (Person's NHSNO check is most of its work) leave a thread of its own pool idle.
    names = [n for n in chosen if n != "Header"]
    parallel = sum(chosen[n].frame.height for n in names) >= PARALLEL_ROWS
    order = sorted(names, key=lambda n: -chosen[n].frame.height) if parallel else names
    done = dict(zip(order, thread_map(prepare, order, parallel=parallel), strict=True))
    prepared = {"Header": head.header} | {n: done[n] for n in names}
    if release_raw:
        for raw in read.tables:  # tables not chosen (repeated or not in the profile) are not read again
            raw.frame = raw.frame.clear()
    rp_start, rp_end = period_bounds(ctx.period)
    results, content_findings = run_records(prepared, ctx, rp_start, rp_end, progress)
    findings.extend(content_findings)
    row_file_reject = any(
        DATASET.rules[r].severity is Severity.FILE_REJECT
        for res in results.values()
        for r in res.hits.get_column("rule_id").unique().to_list()
    )

    # Counts and rejected rows (spec 7.1); FINAL stage (FILE090) only when RECORDS had no file reject.
    file_rejected = _has_file_reject(findings) or row_file_reject
    tables_counted = ["Header", *[n for n in DATASET.tables if n in results]]
    rejected_by_table: dict[str, pl.Series | None] = {}
    if not file_rejected:
        ref = results.get("Referral")
        if ref is not None and ref.prepared.height > 0 and ref.rejected.len() >= ref.prepared.height:
            findings.append(Finding("FILE090", Stage.FINAL, "Referral"))
            file_rejected = True
    counts: dict[str, TableCounts] = {}
    for name in tables_counted:
        if name == "Header":
            counts[name], rejected_by_table[name] = count_table(head.header.height, None, file_rejected)
            continue
        res: TableResult = results[name]
        counts[name], rejected_by_table[name] = count_table(res.prepared.height, res.hits, file_rejected)

    frame = assemble_findings(findings, results)
    accepted = {}
    if not file_rejected:
        # The prepared frames are not read after this: each is released once its accepted rows are taken.
        accepted = {
            name: accepted_rows(prepared[name], rejected_by_table[name], release=True)
            for name in tables_counted
        }
    return ValidationResult(
        outcome=outcome_of(frame),
        profile=profile.id,
        findings=frame,
        counts=counts,
        accepted=accepted,
        findings_by_rule=_by_rule(frame),
    )
