"""Appointment (APP) table-specific rules.

Generic column rules (APP010, APP020, APP030, APP040, APP050, APP100, APP170, APP180, APP240), the duplicate
rule APP110 and parent resolution (APP120, APP130) come from ``records.py``.

"X is populated" / "X is blank" in a condition is a blankness test (spec 6.2 item 2): it holds for a populated
value whatever that value's own findings. Every other value a rule reads must be valid, otherwise the rule
(or that "or" alternative) is not evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from validation.engine.registry import Check, TableView, rule

ATTENDED = ("5", "6")
THERTYPES = ("THERTYPE1", "THERTYPE2", "THERTYPE3", "THERTYPE4")
SCORES = (
    "PHQ9_SCORE", "GAD7SCORE", "WSASWSCORE", "WSASHMSCORE", "WSASSLASCORE", "WSASPLASCORE", "WSASRSCORE",
    "AGORASCOREACC", "AGORASCOREALONE", "AGORASCORE", "SOCPHOBIASCORE", "SPECPHOBIASCORE", "GENANXSCORE",
    "HEALTHANXSCORE", "OCDSCORE", "PANICSCORE", "PTSDSCORE", "SOCPHOBIAINVSCORE",
)  # fmt: skip


def attended(t: TableView) -> pl.Expr:
    return t.code_in("ATTENDANCE", ATTENDED)


def not_attended(t: TableView) -> pl.Expr:
    """ATTENDANCE is a valid code other than 5 or 6."""
    return t.code_not_in("ATTENDANCE", ATTENDED)


@rule("APP140")
def app140(t: TableView) -> Iterable[Check]:
    for col in ("APPOINTMENT", "EMPSUPPORTREFERRAL"):
        yield t.check(col, t.date(col) > pl.lit(t.rp_end))


@rule("APP150")
def app150(t: TableView) -> Iterable[Check]:
    yield t.check("APPOINTMENT", t.date("APPOINTMENT") < t.parent_date("REFRECDATE"))


@rule("APP160")
def app160(t: TableView) -> Iterable[Check]:
    after_end = t.date("APPOINTMENT") > t.parent_date("ENDDATE")
    yield t.check("APPOINTMENT", after_end & t.code_not_in("APPTYPE", ("06",)))


@rule("APP190")
def app190(t: TableView) -> Iterable[Check]:
    yield t.check("FFCOMM", t.populated("FFCOMM") & t.code_not_in("CONSMEDIUM", ("01",)))


@rule("APP200")
def app200(t: TableView) -> Iterable[Check]:
    cancelled = (t.code_in("ATTENDANCE", ("2",)) & t.blank("CANCELLATION")).fill_null(False)
    other = (t.code_not_in("ATTENDANCE", ("2",)) & t.populated("CANCELLATION")).fill_null(False)
    yield t.check("CANCELLATION", cancelled | other)


@rule("APP210")
def app210(t: TableView) -> Iterable[Check]:
    # Reported on the later column: THERTYPEn with a blank lower-numbered column, or repeating the (valid)
    # code of a lower-numbered column. One finding per offending column.
    for i, col in enumerate(THERTYPES[1:], start=1):
        lower = THERTYPES[:i]
        gap = t.populated(col) & pl.any_horizontal([t.blank(c) for c in lower])
        repeat = pl.any_horizontal([t.same_value(col, c) for c in lower])
        yield t.check(col, gap.fill_null(False) | repeat)


@rule("APP220")
def app220(t: TableView) -> Iterable[Check]:
    yield t.check("THERTYPE1", attended(t) & t.code_in("APPTYPE", ("02", "03", "05")) & t.blank("THERTYPE1"))


@rule("APP230")
def app230(t: TableView) -> Iterable[Check]:
    for col in (*THERTYPES, *SCORES):
        yield t.check(col, not_attended(t) & t.populated(col))


@rule("APP250")
def app250(t: TableView) -> Iterable[Check]:
    scored = attended(t) & t.code_in("APPTYPE", ("01", "02", "03", "05"))
    for col in ("PHQ9_SCORE", "GAD7SCORE"):
        yield t.check(col, scored & t.blank(col))


@rule("APP260")
def app260(t: TableView) -> Iterable[Check]:
    # Rows taking part (this one and the earlier ones): attended with a valid ATTENDANCE, valid SERVICEID and
    # APPOINTMENT, APPOINTMENTTIME valid or blank (blank equals blank). An invalid value never matches.
    # The frame is in file order (ascending row numbers).
    eligible = (
        attended(t)
        & t.ok("SERVICEID")
        & t.ok("APPOINTMENT")
        & (t.ok("APPOINTMENTTIME") | t.blank("APPOINTMENTTIME"))
    )
    key = pl.when(eligible).then(t.key(("SERVICEID", "APPOINTMENT", "APPOINTMENTTIME")))
    # not the first eligible row of its (SERVICEID, APPOINTMENT, APPOINTMENTTIME) in file order
    yield t.check("APPOINTMENT", eligible & ~key.is_first_distinct())


@rule("APP270")
def app270(t: TableView) -> Iterable[Check]:
    ind_blank = t.blank("EMPSUPPORTIND")
    ind_not_y = t.code_not_in("EMPSUPPORTIND", ("Y",)).fill_null(False)
    yield t.check("EMPSUPPORTREFERRAL", t.populated("EMPSUPPORTREFERRAL") & (ind_blank | ind_not_y))


@rule("APP280")
def app280(t: TableView) -> Iterable[Check]:
    minutes = t.num("CONTACTDURATION")
    too_long = (minutes > 480).fill_null(False)
    zero_attended = ((minutes == 0) & attended(t)).fill_null(False)
    yield t.check("CONTACTDURATION", too_long | zero_attended)
