"""Spec 10.6 monthly summary statistics for one RP, vectorised with polars (no Django).

Input: one :class:`SubmissionData` per provider — the provider code and the derived Referral and Appointment
frames of that provider's chosen submission for the RP, as produced by :func:`reporting.derived.derive`
(String columns, ``Y``/``N`` flags). **The caller chooses the submissions** (spec 7.3, 10.6):

* ``Provisional`` — the live **Primary** submission of each provider for the RP (computed after the window in
  which the RP is Primary closes);
* ``Final`` — the **effective** submission of each provider (the live Refresh if there is one, else the live
  Primary; computed after the window in which the RP is Refresh closes).

:func:`select_submissions` applies that choice to a list of live submissions tagged with their window type.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from reporting.derived import period_bounds

from .measures import (
    APPOINTMENT_COUNTS,
    COMMISSIONER,
    DUE_ATTENDANCE,
    LEVELS,
    MEASURE_BY_ID,
    MEASURES,
    NATIONAL,
    PROVIDER,
    REFERRAL_COUNTS,
    STATUSES,
    count_value_expr,
    rate_value_expr,
)

OUTPUT_COLUMNS: tuple[str, ...] = (
    "REPORTING_PERIOD",
    "STATUS",
    "LEVEL",
    "ORG_CODE",
    "MEASURE_ID",
    "MEASURE_NAME",
    "VALUE",
)
# Extra columns of ``compute_statistics(..., detail=True)``; never published (unsuppressed, unrounded).
DETAIL_COLUMNS: tuple[str, ...] = ("KIND", "NUMERATOR", "DENOMINATOR", "RAW")

REFERRAL_COLUMNS: tuple[str, ...] = (
    "SERVICEID",
    "ORGCODECOMM",
    "SOURCEREFERRAL",
    "REFERRED_IN_RP",
    "ENTERED_TREATMENT_IN_RP",
    "ENDED_IN_RP",
    "FINISHED_TREATMENT",
    "OUTCOME_ELIGIBLE",
    "CASENESS",
    "RECOVERY",
    "RELIABLE_IMPROVEMENT",
    "RELIABLE_RECOVERY",
    "RELIABLE_DETERIORATION",
    "WAIT_6WK",
    "WAIT_18WK",
)
APPOINTMENT_COLUMNS: tuple[str, ...] = ("SERVICEID", "APPOINTMENT", "ATTENDANCE")

PRIMARY = "Primary"
REFRESH = "Refresh"
_PERIOD_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class SubmissionData:
    """The derived tables of one provider's submission for the RP.

    ``referral``/``appointment`` need at least :data:`REFERRAL_COLUMNS`/:data:`APPOINTMENT_COLUMNS` (String);
    other columns are ignored. ``window_type`` (``Primary``/``Refresh``) is optional; when given it is used by
    :func:`select_submissions` and checked by :func:`compute_statistics` (no Refresh data in provisional
    statistics). ``submission_id`` is informational.
    """

    provider: str
    referral: pl.DataFrame
    appointment: pl.DataFrame
    window_type: str | None = None
    submission_id: str | None = None

    @classmethod
    def from_derived(
        cls,
        provider: str,
        tables: Mapping[str, pl.DataFrame],
        *,
        window_type: str | None = None,
        submission_id: str | None = None,
    ) -> SubmissionData:
        """From the ``{table: frame}`` returned by :func:`reporting.derived.derive`."""
        return cls(
            provider=provider,
            referral=tables["Referral"],
            appointment=tables["Appointment"],
            window_type=window_type,
            submission_id=submission_id,
        )


def select_submissions(live: Iterable[SubmissionData], status: str) -> list[SubmissionData]:
    """The input set of 10.6 from the **live** submissions of the RP (one per provider and window type).

    Provisional: each provider's live Primary. Final: each provider's effective submission (live Refresh,
    else live Primary; 7.3). Providers are returned in code order.
    """
    _check_status(status)
    by_key: dict[tuple[str, str], SubmissionData] = {}
    for s in live:
        if s.window_type not in (PRIMARY, REFRESH):
            raise ValueError(
                f"{s.provider}: window_type must be {PRIMARY!r} or {REFRESH!r}, not {s.window_type!r}"
            )
        key = (_org(s.provider), s.window_type)
        if key in by_key:
            raise ValueError(f"two live {s.window_type} submissions for provider {key[0]}")
        by_key[key] = s
    providers = sorted({p for p, _ in by_key})
    chosen: list[SubmissionData] = []
    for p in providers:
        if status == "Provisional":
            pick = by_key.get((p, PRIMARY))
        else:
            pick = by_key.get((p, REFRESH)) or by_key.get((p, PRIMARY))
        if pick is not None:
            chosen.append(pick)
    return chosen


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")


def _org(code: str) -> str:
    return code.strip().upper()


def _narrow(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> pl.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} lacks column(s) {', '.join(missing)} (pass the frames returned by derive())"
        )
    return frame.select(pl.col(c).cast(pl.String) for c in columns)


def _inputs(subs: list[SubmissionData], rp: tuple[dt.date, dt.date]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(referral indicators, appointment indicators), each with ``__prov`` and ``__comm``.

    Appointments are reduced to those dated in the RP with a due attendance code (the only ones M20/M21
    can count) before they are joined to their referral, which keeps the join small.
    """
    refs, appts = [], []
    for s in subs:
        prov = pl.lit(_org(s.provider))
        refs.append(
            _narrow(s.referral, REFERRAL_COLUMNS, f"{s.provider} Referral").lazy().with_columns(__prov=prov)
        )
        appts.append(
            _narrow(s.appointment, APPOINTMENT_COLUMNS, f"{s.provider} Appointment")
            .lazy()
            .with_columns(__prov=prov)
        )
    empty_ref = pl.LazyFrame(schema={**dict.fromkeys(REFERRAL_COLUMNS, pl.String), "__prov": pl.String})
    empty_app = pl.LazyFrame(schema={**dict.fromkeys(APPOINTMENT_COLUMNS, pl.String), "__prov": pl.String})
    ref = pl.concat(refs, how="vertical") if refs else empty_ref
    app = pl.concat(appts, how="vertical") if appts else empty_app

    ref = ref.with_columns(__comm=pl.col("ORGCODECOMM").str.strip_chars().str.to_uppercase())
    ref_ind = ref.select(
        "__prov",
        "__comm",
        *(_indicator(m) for m in REFERRAL_COUNTS),
    )
    # Accepted dates are normalised ISO text (4.5), so text order is date order.
    start, end = (d.isoformat() for d in rp)
    date = pl.col("APPOINTMENT").str.strip_chars()
    app = app.with_columns(
        __in_rp=((date >= start) & (date <= end)).fill_null(False),
        ATTENDANCE=pl.col("ATTENDANCE").str.strip_chars(),
    ).filter(pl.col("__in_rp") & pl.col("ATTENDANCE").is_in(DUE_ATTENDANCE))
    # Appointments take the commissioner of their referral (same submission, SERVICEID).
    parent = ref.select("__prov", "SERVICEID", "__comm").unique(["__prov", "SERVICEID"], keep="any")
    app_ind = app.join(parent, on=["__prov", "SERVICEID"], how="left").select(
        "__prov",
        "__comm",
        *(_indicator(m) for m in APPOINTMENT_COUNTS),
    )
    ref_df, app_df = pl.collect_all([ref_ind, app_ind])
    return ref_df, app_df


def _indicator(measure_id: str) -> pl.Expr:
    cond = MEASURE_BY_ID[measure_id].condition
    assert cond is not None
    return cond.fill_null(False).cast(pl.Int64).alias(measure_id)


def _level_counts(ind: pl.DataFrame, ids: tuple[str, ...]) -> pl.DataFrame:
    """Sums of the indicator columns per (LEVEL, ORG_CODE) for the three levels."""
    sums = [pl.col(m).sum().cast(pl.Int64) for m in ids]
    national = ind.select(pl.lit(NATIONAL).alias("LEVEL"), pl.lit("").alias("ORG_CODE"), *sums)
    provider = (
        ind.group_by("__prov")
        .agg(*sums)
        .select(pl.lit(PROVIDER).alias("LEVEL"), pl.col("__prov").alias("ORG_CODE"), *ids)
    )
    comm = (
        ind.filter(pl.col("__comm").is_not_null() & (pl.col("__comm") != ""))
        .group_by("__comm")
        .agg(*sums)
        .select(pl.lit(COMMISSIONER).alias("LEVEL"), pl.col("__comm").alias("ORG_CODE"), *ids)
    )
    return pl.concat([national, provider, comm], how="vertical")


def compute_statistics(
    submissions: Iterable[SubmissionData], *, period: str, status: str, detail: bool = False
) -> pl.DataFrame:
    """Spec 10.6 statistics M01-M22 for RP ``period`` at every level, one row per (level, org, measure).

    Columns :data:`OUTPUT_COLUMNS` (all String; ``ORG_CODE`` is ``""`` for national; ``VALUE`` as displayed
    after suppression and rounding). Rows: National, then each provider, then each commissioner (each
    distinct ``ORGCODECOMM`` of the referrals), codes in ascending order, measures M01-M22 within.

    ``detail=True`` adds :data:`DETAIL_COLUMNS` for charts and internal checks — ``KIND`` (``count``/``rate``),
    ``NUMERATOR`` (Int64: the unrounded count, or the rate's numerator count), ``DENOMINATOR`` (Int64, rates
    only), ``RAW`` (Float64: the count, or numerator / denominator x 100 unrounded; null when the
    denominator is 0). These are **unsuppressed** and must never be published.
    """
    _check_status(status)
    if not _PERIOD_RE.match(period):
        raise ValueError(f"period must be YYYY-MM, not {period!r}")
    subs = list(submissions)
    seen: set[str] = set()
    for s in subs:
        p = _org(s.provider)
        if not p:
            raise ValueError("a submission has a blank provider code")
        if p in seen:
            raise ValueError(f"more than one submission for provider {p}: choose one per provider (7.3)")
        seen.add(p)
        if status == "Provisional" and s.window_type == REFRESH:
            raise ValueError(f"{p}: provisional statistics use live Primary submissions only")

    ref_ind, app_ind = _inputs(subs, period_bounds(period))

    # Every org of the run, so that an org with no rows of one kind still gets zeros.
    orgs = pl.concat(
        [
            pl.DataFrame({"LEVEL": [NATIONAL], "ORG_CODE": [""]}),
            pl.DataFrame(
                {"LEVEL": PROVIDER, "ORG_CODE": sorted(seen)},
                schema={"LEVEL": pl.String, "ORG_CODE": pl.String},
            ),
            ref_ind.select(pl.lit(COMMISSIONER).alias("LEVEL"), pl.col("__comm").alias("ORG_CODE"))
            .filter(pl.col("ORG_CODE").is_not_null() & (pl.col("ORG_CODE") != ""))
            .unique(),
        ],
        how="vertical",
    )
    wide = (
        orgs.join(_level_counts(ref_ind, REFERRAL_COUNTS), on=["LEVEL", "ORG_CODE"], how="left")
        .join(_level_counts(app_ind, APPOINTMENT_COUNTS), on=["LEVEL", "ORG_CODE"], how="left")
        .with_columns(pl.col(*REFERRAL_COUNTS, *APPOINTMENT_COUNTS).fill_null(0))
    )

    parts = []
    for m in MEASURES:
        if m.kind == "count":
            num, den = pl.col(m.id), pl.lit(None, dtype=pl.Int64)
        else:
            assert m.numerator and m.denominator
            num = pl.col(m.numerator)
            den = pl.col(m.denominator) - (pl.col(m.minus) if m.minus else 0)
        parts.append(
            wide.select(
                "LEVEL",
                "ORG_CODE",
                pl.lit(m.id).alias("MEASURE_ID"),
                pl.lit(m.name).alias("MEASURE_NAME"),
                pl.lit(m.kind).alias("KIND"),
                num.cast(pl.Int64).alias("NUMERATOR"),
                den.cast(pl.Int64).alias("DENOMINATOR"),
            )
        )
    long = pl.concat(parts, how="vertical")
    num, den, level, kind = pl.col("NUMERATOR"), pl.col("DENOMINATOR"), pl.col("LEVEL"), pl.col("KIND")
    level_rank = pl.col("LEVEL").replace_strict(list(LEVELS), list(range(len(LEVELS))), return_dtype=pl.Int32)
    measure_rank = pl.col("MEASURE_ID").replace_strict(
        [m.id for m in MEASURES], list(range(len(MEASURES))), return_dtype=pl.Int32
    )
    out = (
        long.with_columns(
            pl.lit(period).alias("REPORTING_PERIOD"),
            pl.lit(status).alias("STATUS"),
            pl.when(kind == "count")
            .then(count_value_expr(num, level))
            .otherwise(rate_value_expr(num, den, level))
            .alias("VALUE"),
            pl.when(kind == "count")
            .then(num.cast(pl.Float64))
            .when(den > 0)
            .then(num.cast(pl.Float64) * 100 / den.cast(pl.Float64))
            .alias("RAW"),
        )
        .sort(level_rank, "ORG_CODE", measure_rank)
        .select(*OUTPUT_COLUMNS, *(DETAIL_COLUMNS if detail else ()))
    )
    return out
