"""Referral (REF) table-specific rules.

Generic column rules (REF010, REF020, REF030, REF050, REF100, REF110, REF120, REF130, REF140, REF180, REF200,
REF210, REF230) are generated from the column metadata in ``records.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from validation.dataset import DATASET
from validation.engine.common import OK, D
from validation.engine.registry import Check, TableView, rule
from validation.engine.sets import values_where

TREATED = tuple(
    code for code, attrs in DATASET.codelists["EndCode"].attributes.items() if attrs.get("group") == "TREATED"
)


def year_month(d: pl.Expr) -> pl.Expr:
    return d.dt.strftime("%Y-%m")


@rule("REF150")
def ref150(t: TableView) -> Iterable[Check]:
    commissioners = sorted(t.ctx.register.commissioner_codes())
    yield t.check("ORGCODECOMM", t.ok("ORGCODECOMM") & ~t.n("ORGCODECOMM").is_in(commissioners))


@rule("REF160")
def ref160(t: TableView) -> Iterable[Check]:
    for col in ("REFRECDATE", "OPTINDATE", "ENDDATE"):
        yield t.check(col, t.date(col) > pl.lit(t.rp_end))


@rule("REF170")
def ref170(t: TableView) -> Iterable[Check]:
    yield t.check("REFRECDATE", t.date("REFRECDATE") < t.parent_date("DOB"))


@rule("REF190")
def ref190(t: TableView) -> Iterable[Check]:
    yield t.check("OPTINDATE", t.date("OPTINDATE") < t.date("REFRECDATE"))


@rule("REF220")
def ref220(t: TableView) -> Iterable[Check]:
    onset = t.n("ONSETDATE")
    after_referral = (onset > year_month(t.date("REFRECDATE"))).fill_null(False)
    before_birth = (onset < year_month(t.parent_date("DOB"))).fill_null(False)
    yield t.check("ONSETDATE", t.ok("ONSETDATE") & (after_referral | before_birth))


@rule("REF240")
def ref240(t: TableView) -> Iterable[Check]:
    yield t.check("ENDDATE", t.date("ENDDATE") < t.date("REFRECDATE"))


ACTIVITY_DATES = (
    ("Appointment", "APPOINTMENT"),
    ("AssessmentPEQ", "ASSESSPEQDATE"),
    ("TreatmentPEQ", "TREATPEQDATE"),
)


@rule("REF250")
def ref250(t: TableView) -> Iterable[Check]:
    active: list[pl.Series] = []
    for table, col in ACTIVITY_DATES:
        in_rp = pl.col(col + OK) & pl.col(col + D).is_between(pl.lit(t.rp_start), pl.lit(t.rp_end))
        active.append(values_where(t.other(table), "SERVICEID", in_rp).explode())
    ids: pl.Series | list[str] = pl.concat(active).drop_nulls().unique().implode() if active else []
    yield t.check(
        "ENDDATE",
        (t.date("ENDDATE") < pl.lit(t.rp_start)) & t.ok("SERVICEID") & ~t.n("SERVICEID").is_in(ids),
    )


@rule("REF260")
def ref260(t: TableView) -> Iterable[Check]:
    yield t.check("ENDDATE", t.blank("ENDDATE") != t.blank("ENDCODE"))


@rule("REF270")
def ref270(t: TableView) -> Iterable[Check]:
    attended = values_where(
        t.other("Appointment"),
        "SERVICEID",
        t.of("Appointment").code_in("ATTENDANCE", ("5", "6")) if "Appointment" in t.tables else None,
    )
    yield t.check(
        "ENDCODE", t.code_in("ENDCODE", ("50",)) & t.ok("SERVICEID") & t.n("SERVICEID").is_in(attended)
    )


@rule("REF280")
def ref280(t: TableView) -> Iterable[Check]:
    yield t.check("PROVDIAG", t.code_in("ENDCODE", TREATED) & t.blank("PROVDIAG"))
