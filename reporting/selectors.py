"""Reads of stored submission artefacts for pages (the caller has already scoped the submission)."""

from __future__ import annotations

from typing import Any

import polars as pl
from django.core.files.storage import default_storage

from .cascades import CASCADE_PARENT, REJECTS, cascade_roots


def submission_cascade_roots(
    *, findings_file: str, rule_ids: set[str], limit: int = 20
) -> list[dict[str, Any]]:
    """Root causes of cascaded rejections of one submission, read from its stored findings."""
    if not findings_file or not rule_ids & set(CASCADE_PARENT):
        return []
    with default_storage.open(findings_file, "rb") as fh:
        findings = pl.read_parquet(fh).filter(pl.col("severity").is_in(REJECTS))
    return cascade_roots(findings, limit=limit)
