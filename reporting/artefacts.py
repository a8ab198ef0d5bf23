"""Writes a validated submission's files to storage: findings, validation report, pre-deadline extract.

Each artefact is written to a local temporary file first and then streamed to storage, so nothing
big is held in memory and S3 works the same as local disk.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
from django.core.files import File
from django.core.files.storage import default_storage

from validation.dataset import DATASET
from validation.model import FINDING_COLUMNS, ValidationResult

from .writers import write_extract_zip, write_report_csv, write_report_xlsx

# zlib level of the pre-deadline extract ZIP: 1 deflates 1 M rows in ~0.9 s of CPU against ~3 s at 6,
# for a ZIP about a third larger (25.6 MB against 19.2 MB); it is written before the final status.
EXTRACT_ZIP_LEVEL = 1


def _save(name: str, local: Path) -> str:
    with local.open("rb") as fh:
        return default_storage.save(name, File(fh, name=Path(name).name))


def write_submission_artefacts(
    result: ValidationResult,
    *,
    submission_id: str,
    prefix: str,
    progress: Callable[[float], None] | None = None,
) -> dict[str, str]:
    names: dict[str, str] = {}
    step = (lambda f: progress(f)) if progress else (lambda f: None)
    with tempfile.TemporaryDirectory(prefix="iapt-artefacts-") as tmp:
        tmpdir = Path(tmp)
        findings_path = tmpdir / "findings.parquet"
        result.findings.write_parquet(findings_path)
        names["findings_file"] = _save(f"{prefix}/findings.parquet", findings_path)
        step(0.1)
        csv_path = tmpdir / "report.csv"
        with csv_path.open("wb") as out:
            write_report_csv(result.findings, submission_id=submission_id, out=out)
        names["report_csv"] = _save(f"{prefix}/validation.csv", csv_path)
        step(0.3)
        xlsx_path = tmpdir / "report.xlsx"
        with xlsx_path.open("wb") as out:
            write_report_xlsx(result.findings, result.counts, submission_id=submission_id, out=out)
        names["report_xlsx"] = _save(f"{prefix}/validation.xlsx", xlsx_path)
        step(0.5)
        if result.outcome.successful and result.accepted:
            # The accepted rows themselves are stored in the database (reporting.loading); the
            # ``<accepted_dir>/<Table>.parquet`` copies of earlier versions are no longer written.
            zip_path = tmpdir / "extract.zip"
            with zip_path.open("wb") as out:
                write_extract_zip(
                    result.accepted, submission_id=submission_id, out=out, compresslevel=EXTRACT_ZIP_LEVEL
                )
            names["extract_zip"] = _save(f"{prefix}/pre_deadline_extract.zip", zip_path)
        step(1.0)
    return names


def findings_for_rules(rule_ids: list[str]) -> pl.DataFrame:
    """A findings frame for file-level rules without table, row or column (GATE and early READ refusals)."""
    rows = []
    for rule_id in rule_ids:
        spec = DATASET.rules[rule_id]
        rows.append(
            {
                "rule_id": rule_id,
                "severity": spec.severity.value,
                "stage": spec.stage.value,
                "table": None,
                "row_number": None,
                "record_key": None,
                "column": None,
                "value": None,
                "message": spec.message,
            }
        )
    return pl.DataFrame(rows, schema=FINDING_COLUMNS)


def write_findings_only(*, rule_ids: list[str], submission_id: str, prefix: str) -> dict[str, str]:
    findings = findings_for_rules(rule_ids)
    names: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="iapt-artefacts-") as tmp:
        tmpdir = Path(tmp)
        p = tmpdir / "findings.parquet"
        findings.write_parquet(p)
        names["findings_file"] = _save(f"{prefix}/findings.parquet", p)
        csv_path = tmpdir / "report.csv"
        with csv_path.open("wb") as out:
            write_report_csv(findings, submission_id=submission_id, out=out)
        names["report_csv"] = _save(f"{prefix}/validation.csv", csv_path)
        xlsx_path = tmpdir / "report.xlsx"
        with xlsx_path.open("wb") as out:
            write_report_xlsx(findings, None, submission_id=submission_id, out=out)
        names["report_xlsx"] = _save(f"{prefix}/validation.xlsx", xlsx_path)
    return names


def commissioner_counts(result: ValidationResult) -> dict[str, int]:
    """Accepted referrals per commissioner code (scopes the commissioner pages)."""
    referrals = result.accepted.get("Referral") if result.outcome.successful else None
    if referrals is None or referrals.height == 0:
        return {}
    grouped = referrals.group_by("ORGCODECOMM").len().drop_nulls("ORGCODECOMM")
    return dict(zip(grouped["ORGCODECOMM"].to_list(), grouped["len"].to_list(), strict=True))
