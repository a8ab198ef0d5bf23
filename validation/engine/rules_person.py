"""Person (PER) table-specific rules and the Person file-content rule FILE023.

Generic column rules (PER010, PER020, PER030, PER050, PER100, PER110, PER150, PER160, PER170, FILE022) are
generated from the column metadata in ``records.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import polars as pl

from validation.engine.registry import Check, TableView, rule
from validation.engine.sets import values_where


@rule("PER120")
def per120(t: TableView) -> Iterable[Check]:
    yield t.check("DOB", t.date("DOB") > pl.lit(t.rp_end))


def age_on(dob: pl.Expr, when_date: date) -> pl.Expr:
    """Age in completed years on ``when_date`` (spec 9.2); null when dob is null or after the date."""
    years = pl.lit(when_date.year) - dob.dt.year()
    before_birthday = (dob.dt.month() > when_date.month) | (
        (dob.dt.month() == when_date.month) & (dob.dt.day() > when_date.day)
    )
    age = years - before_birthday.cast(pl.Int32)
    return pl.when(dob <= pl.lit(when_date)).then(age)


@rule("PER130")
def per130(t: TableView) -> Iterable[Check]:
    yield t.check("DOB", age_on(t.date("DOB"), t.rp_start) > 120)


@rule("PER140")
def per140(t: TableView) -> Iterable[Check]:
    missing = t.code_in("NHSNOSTATUS", ("01", "02")) & t.blank("NHSNO")
    present = t.code_in("NHSNOSTATUS", ("07",)) & t.populated("NHSNO")
    yield t.check("NHSNOSTATUS", missing.fill_null(False) | present.fill_null(False))


@rule("PER180")
def per180(t: TableView) -> Iterable[Check]:
    referred = values_where(t.other("Referral"), "LPTID")
    yield t.check("LPTID", t.ok("LPTID") & ~t.n("LPTID").is_in(referred))


@rule("FILE023")
def file023(t: TableView) -> Iterable[Check]:
    eligible = t.ok("NHSNO") & t.ok("LPTID")
    nhs = pl.when(eligible).then(t.n("NHSNO"))
    lptid = pl.when(eligible).then(t.n("LPTID"))
    yield t.check("NHSNO", eligible & (lptid.n_unique().over(nhs) > 1))
