"""Spec 10.6 measure catalogue (M01-M22) and the suppression/rounding rules.

Counts are defined as boolean expressions over one derived Referral row (or, for M20/M21, one Appointment
row); rates name their numerator measure and their denominator as a measure minus an optional measure.
The display rules exist twice: as scalar functions on Python ints (:func:`display_count`,
:func:`display_rate`, exact Fraction arithmetic, the readable reference) and as polars expressions
(:func:`count_value_expr`, :func:`rate_value_expr`, exact integer arithmetic) used by the computation; a
test checks that both agree on every numerator/denominator pair in a grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

import polars as pl

NATIONAL = "National"
PROVIDER = "Provider"
COMMISSIONER = "Commissioner"
LEVELS: tuple[str, ...] = (NATIONAL, PROVIDER, COMMISSIONER)
STATUSES: tuple[str, ...] = ("Provisional", "Final")

SUPPRESSED = "*"
SMALL_MAX = 4  # counts 1-4 are suppressed
MIN_DENOMINATOR = 5  # a rate needs a denominator of at least 5
ROUND_TO = 5  # provider/commissioner counts are rounded to the nearest 5

# Appointment ATTENDANCE codes (5.15) of M20 (due: DNA, attended, attended late, late and not seen) and M21.
DUE_ATTENDANCE: tuple[str, ...] = ("3", "5", "6", "7")
DNA_ATTENDANCE: tuple[str, ...] = ("3",)


def _y(col: str) -> pl.Expr:
    return pl.col(col) == "Y"


@dataclass(frozen=True)
class Measure:
    id: str
    name: str
    kind: Literal["count", "rate"]
    unit: Literal["referral", "appointment", "rate"]
    # count: row condition (True = counted); rate: numerator id, denominator id minus optional id
    condition: pl.Expr | None = None
    numerator: str | None = None
    denominator: str | None = None
    minus: str | None = None


def _counts() -> dict[str, pl.Expr]:
    m01 = _y("REFERRED_IN_RP")
    m04 = _y("ENDED_IN_RP")
    m05 = m04 & _y("FINISHED_TREATMENT")
    m06 = m05 & _y("OUTCOME_ELIGIBLE")
    return {
        "M01": m01,
        "M02": m01 & (pl.col("SOURCEREFERRAL") == "B1"),
        "M03": _y("ENTERED_TREATMENT_IN_RP"),
        "M04": m04,
        "M05": m05,
        "M06": m06,
        "M07": m06 & (pl.col("CASENESS") == "N"),
        "M08": m06 & _y("RECOVERY"),
        "M10": m06 & _y("RELIABLE_IMPROVEMENT"),
        "M12": m06 & _y("RELIABLE_RECOVERY"),
        "M14": m06 & _y("RELIABLE_DETERIORATION"),
        "M16": m05 & _y("WAIT_6WK"),
        "M18": m05 & _y("WAIT_18WK"),
    }


_C = _counts()


def _count(id_: str, name: str) -> Measure:
    return Measure(id_, name, "count", "referral", condition=_C[id_])


def _rate(id_: str, name: str, num: str, den: str, minus: str | None = None) -> Measure:
    return Measure(id_, name, "rate", "rate", numerator=num, denominator=den, minus=minus)


# Appointment conditions need the RP bounds; compute.py supplies ``__in_rp`` (APPOINTMENT within the RP).
_IN_RP = pl.col("__in_rp")
_ATT = pl.col("ATTENDANCE")

MEASURES: tuple[Measure, ...] = (
    _count("M01", "Referrals received"),
    _count("M02", "Self-referrals received"),
    _count("M03", "Entered treatment"),
    _count("M04", "Referrals ended"),
    _count("M05", "Finished treatment"),
    _count("M06", "Finished treatment with paired scores"),
    _count("M07", "Not at caseness"),
    _count("M08", "Recovered"),
    _rate("M09", "Recovery rate (%)", "M08", "M06", "M07"),
    _count("M10", "Reliable improvement"),
    _rate("M11", "Reliable improvement rate (%)", "M10", "M06"),
    _count("M12", "Reliable recovery"),
    _rate("M13", "Reliable recovery rate (%)", "M12", "M06", "M07"),
    _count("M14", "Reliable deterioration"),
    _rate("M15", "Deterioration rate (%)", "M14", "M06"),
    _count("M16", "Finished treatment, waited ≤ 6 weeks"),
    _rate("M17", "% waiting ≤ 6 weeks", "M16", "M05"),
    _count("M18", "Finished treatment, waited ≤ 18 weeks"),
    _rate("M19", "% waiting ≤ 18 weeks", "M18", "M05"),
    Measure("M20", "Appointments due", "count", "appointment", condition=_IN_RP & _ATT.is_in(DUE_ATTENDANCE)),
    Measure("M21", "Did not attend", "count", "appointment", condition=_IN_RP & _ATT.is_in(DNA_ATTENDANCE)),
    _rate("M22", "DNA rate (%)", "M21", "M20"),
)
MEASURE_BY_ID: dict[str, Measure] = {m.id: m for m in MEASURES}
MEASURE_IDS: tuple[str, ...] = tuple(m.id for m in MEASURES)
REFERRAL_COUNTS: tuple[str, ...] = tuple(m.id for m in MEASURES if m.unit == "referral")
APPOINTMENT_COUNTS: tuple[str, ...] = tuple(m.id for m in MEASURES if m.unit == "appointment")
RATES: tuple[str, ...] = tuple(m.id for m in MEASURES if m.kind == "rate")


# ------------------------------------------------------------------------------ display: scalar reference
def display_count(n: int, level: str) -> str:
    """10.6 display of an unrounded count ``n`` at ``level``: ``0``; ``*`` for 1-4; national as is;
    provider/commissioner rounded to the nearest 5 (remainder 1-2 down, 3-4 up)."""
    if n < 0:
        raise ValueError(f"negative count {n}")
    if n == 0:
        return "0"
    if n <= SMALL_MAX:
        return SUPPRESSED
    if level == NATIONAL:
        return str(n)
    return str((n + 2) // ROUND_TO * ROUND_TO)


def display_rate(numerator: int, denominator: int, level: str) -> str:
    """10.6 display of ``numerator / denominator x 100``: ``*`` when the denominator is below 5 or the
    numerator is 1-4; else rounded half-up from the exact value to a whole number (provider, commissioner)
    or one decimal place (national). A zero numerator over a denominator of 5 or more shows ``0``/``0.0``.

    Exact: the percentage is a :class:`~fractions.Fraction`, rounded half-up as floor(x·s + ½)."""
    if denominator < MIN_DENOMINATOR or 1 <= numerator <= SMALL_MAX:
        return SUPPRESSED
    places = 1 if level == NATIONAL else 0
    scaled = Fraction(numerator * 100, denominator) * 10**places
    q = math.floor(scaled + Fraction(1, 2))
    return str(Decimal(q).scaleb(-places))


# ------------------------------------------------------------------------------ display: polars expressions
def count_value_expr(n: pl.Expr, level: pl.Expr) -> pl.Expr:
    """Vectorised :func:`display_count` (Int64 ``n``, String ``level``)."""
    rounded = ((n + 2) // ROUND_TO * ROUND_TO).cast(pl.String)
    return (
        pl.when(n == 0)
        .then(pl.lit("0"))
        .when(n <= SMALL_MAX)
        .then(pl.lit(SUPPRESSED))
        .when(level == NATIONAL)
        .then(n.cast(pl.String))
        .otherwise(rounded)
    )


def rate_value_expr(num: pl.Expr, den: pl.Expr, level: pl.Expr) -> pl.Expr:
    """Vectorised :func:`display_rate`: half-up rounding as floor((2·num·100·s + den) / (2·den)), s = 1 or 10.

    Integer arithmetic only (Int64; counts up to ~10^15 are safe), so ``.5`` cases are never mis-rounded
    the way ``round(float)`` would (banker's rounding, binary representation)."""
    whole = (num * 200 + den) // (den * 2)
    tenths = (num * 2000 + den) // (den * 2)
    one_dp = (tenths // 10).cast(pl.String) + pl.lit(".") + (tenths % 10).cast(pl.String)
    suppressed = (den < MIN_DENOMINATOR) | ((num >= 1) & (num <= SMALL_MAX))
    return (
        pl.when(suppressed)
        .then(pl.lit(SUPPRESSED))
        .when(level == NATIONAL)
        .then(one_dp)
        .otherwise(whole.cast(pl.String))
    )
