"""Pilot tables: LTCCondition (LTC), LTCAppointment (LTA) and EmploymentAdviser (EA) table-specific rules.

MUSSymptom has no rule beyond the generic ones. Generic column rules, duplicate rules and parent resolution
come from ``records.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import polars as pl

from validation.engine.registry import Check, TableView, rule
from validation.engine.sets import other_value_in_group

EA_FIRST_WINDOW = date(2017, 10, 6)
BENEFITS = ("JSAIND", "ESAIND", "UCIND", "PIPIND", "OTHERBENEFITIND")


@rule("LTC140")
def ltc140(t: TableView) -> Iterable[Check]:
    # Same reading as DIS140: only valid codes of other rows with the same valid SERVICEID count.
    yield t.check(
        "LTCCODE", t.code_in("LTCCODE", ("97", "98", "99")) & other_value_in_group("SERVICEID", "LTCCODE")
    )


@rule("LTA150")
def lta150(t: TableView) -> Iterable[Check]:
    attendance = t.parent_n("ATTENDANCE")
    not_attended = t.parent_ok("ATTENDANCE") & ~attendance.is_in(["5", "6"])
    for col in ("PHQ15SCORE", "IBSSSSCORE"):
        yield t.check(col, t.populated(col) & not_attended)


@rule("EA130")
def ea130(t: TableView) -> Iterable[Check]:
    # A context without a window (validation outside an upload window) has no opening date to compare:
    # the rule is not evaluated, as a rule reading a blank value is not (decision recorded in the docs).
    opens = t.ctx.window_opens_on
    yield t.check("APPTID", pl.lit(opens is not None and opens < EA_FIRST_WINDOW))


@rule("EA140")
def ea140(t: TableView) -> Iterable[Check]:
    entry = t.ctx.register.get(t.ctx.org_code)
    yield t.check("APPTID", pl.lit(entry is None or not entry.ea_pilot))


@rule("EA160")
def ea160(t: TableView) -> Iterable[Check]:
    no_benefits = t.code_in("BENEFITRECIND", ("N",))
    for col in BENEFITS:
        yield t.check(col, no_benefits & t.code_in(col, ("Y",)))


@rule("EA170")
def ea170(t: TableView) -> Iterable[Check]:
    # The parent's EMPSTATUS is read only when exactly one Appointment row has this APPTID and its EMPSTATUS
    # is valid (6.2 item 2); "populated and not 01" then means a valid code other than 01.
    not_employed = t.parent_ok("EMPSTATUS") & (t.parent_n("EMPSTATUS") != "01")
    yield t.check("WEEKHOURSWORKED", t.code_in("WEEKHOURSWORKED", ("01", "02", "03", "04")) & not_employed)


@rule("EA180")
def ea180(t: TableView) -> Iterable[Check]:
    yield t.check("EMPSUPPORTDISCHDATE", t.date("EMPSUPPORTDISCHDATE") > pl.lit(t.rp_end))
