"""AssessmentPEQ (APQ) and TreatmentPEQ (TPQ) table-specific rules.

Generic column rules, the duplicate rules (APQ100, TPQ100) and parent resolution come from ``records.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from validation.engine.registry import Check, TableView, rule

TREATMENT_ANSWERS = ("TREATMENT1", "TREATMENT2", "TREATMENT3", "TREATMENT4", "TREATMENT5")


@rule("APQ130")
def apq130(t: TableView) -> Iterable[Check]:
    yield t.check("ASSESSPEQDATE", t.date("ASSESSPEQDATE") > pl.lit(t.rp_end))


@rule("APQ140")
def apq140(t: TableView) -> Iterable[Check]:
    yield t.check("ASSESSPEQDATE", t.date("ASSESSPEQDATE") < t.parent_date("REFRECDATE"))


@rule("TPQ130")
def tpq130(t: TableView) -> Iterable[Check]:
    yield t.check("TREATPEQDATE", t.date("TREATPEQDATE") > pl.lit(t.rp_end))


@rule("TPQ140")
def tpq140(t: TableView) -> Iterable[Check]:
    yield t.check("TREATPEQDATE", t.date("TREATPEQDATE") < t.parent_date("REFRECDATE"))


@rule("TPQ160")
def tpq160(t: TableView) -> Iterable[Check]:
    yield t.check("TREATMENT1", pl.all_horizontal([t.blank(c) for c in TREATMENT_ANSWERS]))
