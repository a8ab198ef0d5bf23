"""Spec section 9 derived items, vectorised with polars (no Django).

``derive(tables, period=..., provider=..., key=...)`` takes the accepted rows of one successful submission
(``{table: DataFrame}``, ``ROW_NUMBER`` Int64 then the spec columns as normalised String) and returns the same
tables with the derived columns appended in the order of spec 10.4. Every derived column is String, written
as the spec's extracts show it: ``Y``/``N`` flags, ISO dates, whole numbers without leading zeros, scores in
their normalised decimal form (``3.1``), null = blank = "not derivable".
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal

import polars as pl

from validation.dataset import DATASET

from . import constants as K
from .pseudonyms import hmac_series, pathway_message, person_message, valid_postcode

# ----------------------------------------------------------------------------------------- helpers
Y = pl.lit("Y")
N = pl.lit("N")


def _v(col: str) -> pl.Expr:
    """Column value with blank (null, empty or whitespace) as null."""
    c = pl.col(col)
    return pl.when(c.str.strip_chars() != "").then(c)


def _date(col: str) -> pl.Expr:
    """ISO date; blank or malformed is null."""
    return pl.col(col).str.to_date("%Y-%m-%d", strict=False)


def _yn(cond: pl.Expr) -> pl.Expr:
    """``Y`` where ``cond`` is true, ``N`` where false or null."""
    return pl.when(cond.fill_null(False)).then(Y).otherwise(N)


def _flag(codes: Mapping[str, str], col: str) -> pl.Expr:
    """Y/N from a code-list attribute; a blank or unknown code is N."""
    yes = [c for c, v in codes.items() if v == "Y"]
    return _yn(pl.col(col).is_in(yes))


def _age(on: pl.Expr, dob: pl.Expr) -> pl.Expr:
    """9.2: completed years of ``dob`` on date ``on``; null if either is null or ``on`` < ``dob``."""
    md_on = on.dt.month().cast(pl.Int32) * 100 + on.dt.day().cast(pl.Int32)
    md_dob = dob.dt.month().cast(pl.Int32) * 100 + dob.dt.day().cast(pl.Int32)
    years = on.dt.year().cast(pl.Int32) - dob.dt.year().cast(pl.Int32) - (md_on < md_dob).cast(pl.Int32)
    return pl.when(on >= dob).then(years)


def _str_int(e: pl.Expr) -> pl.Expr:
    return e.cast(pl.Int64).cast(pl.String)


def _str_date(e: pl.Expr) -> pl.Expr:
    return e.dt.to_string("%Y-%m-%d")


def _scaled_score(col: str) -> pl.Expr:
    """Score as whole hundredths (Int64) when populated, well-formed and within the column's range; else null.

    Integer columns accept ``^[0-9]+$``; decimal columns ``^[0-9]+(\\.[0-9]{1,scale})?$``. Exact: no floats.
    """
    c = DATASET.tables["Appointment"].column(col)
    v = pl.col(col)  # blank (null, empty, whitespace) fails the patterns below
    places = c.scale or 0
    if places:
        ok = v.str.contains(rf"^[0-9]+(\.[0-9]{{1,{places}}})?$")
        ip = v.str.extract(r"^([0-9]+)", 1).cast(pl.Int64, strict=False)
        fp = v.str.extract(r"\.([0-9]+)$", 1).fill_null("").str.pad_end(2, "0").cast(pl.Int64, strict=False)
        num = ip * K.SCALE + fp
    else:
        ok = v.str.contains(r"^[0-9]+$") & (v.str.len_chars() <= 15)
        num = v.cast(pl.Int64, strict=False) * K.SCALE
    assert c.range is not None
    lo, hi = (K.scaled(Decimal(x)) for x in c.range)
    return pl.when(ok & (num >= lo) & (num <= hi)).then(num)


def _render_scaled(e: pl.Expr) -> pl.Expr:
    """Hundredths back to the normalised decimal text (4.5): ``1500`` -> ``15``, ``310`` -> ``3.1``, ``157`` -> ``1.57``."""
    ip = (e // K.SCALE).cast(pl.String)
    fp = e % K.SCALE
    frac = (
        pl.when(fp % 10 == 0)
        .then((fp // 10).cast(pl.String))
        .otherwise(fp.cast(pl.String).str.pad_start(2, "0"))
    )
    return pl.when(e.is_null()).then(None).when(fp == 0).then(ip).otherwise(ip + pl.lit(".") + frac)


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """RP start and end dates of ``YYYY-MM``."""
    year, month = (int(p) for p in period.split("-"))
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _frame(tables: Mapping[str, pl.DataFrame], name: str) -> pl.DataFrame:
    """The table, or an empty String frame with its spec columns if it was not supplied."""
    frame = tables.get(name)
    if frame is not None:
        return frame
    cols = {K.ROW_NUMBER: pl.Int64, **{c: pl.String for c in DATASET.tables[name].column_names}}
    return pl.DataFrame(schema=cols)


# ------------------------------------------------------------------------------------------ Person
def derive_person(person: pl.DataFrame, *, period: str, provider: str, key: bytes) -> pl.DataFrame:
    start, end = period_bounds(period)
    dob = _date("DOB")
    out = person.with_columns(
        person_message(provider).alias("__msg"),
        _str_int(_age(pl.lit(start), dob)).alias("AGE_RP_START"),
        _str_int(_age(pl.lit(end), dob)).alias("AGE_RP_END"),
        _str_int(dob.dt.year()).alias("YEAR_OF_BIRTH"),
        valid_postcode().str.extract(r"^([^ ]+) ", 1).alias("POSTCODE_DISTRICT"),
    )
    out = out.with_columns(hmac_series(out.get_column("__msg"), key).alias("PERSON_ID"))
    return out.select(*person.columns, *K.PERSON_DERIVED)


# ------------------------------------------------------------------------------------- Appointment
WSAS_COLUMNS = ("WSASWSCORE", "WSASHMSCORE", "WSASSLASCORE", "WSASPLASCORE", "WSASRSCORE")
ORDER_KEYS = ["SERVICEID", "__date", "APPOINTMENTTIME", "APPTID"]  # 9.1 appointment order


def _appointment_work(
    appt: pl.DataFrame, referral: pl.DataFrame, rp_end: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(Appointment with its 10.4 derived columns, narrow work frame sorted in 9.1 order per referral).

    Only the columns the derivations read are carried through the joins and the sort.
    """
    ref = referral.select(
        pl.col("SERVICEID"),
        _date("REFRECDATE").alias("__ref"),
        _date("ENDDATE").alias("__end"),
    )
    score_cols = sorted({t.column for t in K.THRESHOLDS.values()} | set(WSAS_COLUMNS))
    ther_cols = [f"THERTYPE{i}" for i in range(1, 5)]
    # Scaled scores are staged as columns first so that the expressions reusing them stay small.
    wsas = [pl.when(pl.col(f"__s_{c}") <= 8 * K.SCALE).then(pl.col(f"__s_{c}")) for c in WSAS_COLUMNS]
    ther = [pl.col(c) for c in ther_cols]
    narrow = (
        appt.lazy()
        .select(
            "SERVICEID",
            "APPTID",
            "APPOINTMENT",
            "APPOINTMENTTIME",
            "ATTENDANCE",
            "APPTYPE",
            *ther_cols,
            *score_cols,
        )
        .with_row_index("__i")
        .join(ref.lazy(), on="SERVICEID", how="left", maintain_order="left")
        .with_columns(*[_scaled_score(c).alias(f"__s_{c}") for c in score_cols])
        .with_columns(
            _date("APPOINTMENT").alias("__date"),
            _flag(K.ATTENDED, "ATTENDANCE").alias("ATTENDED"),
            _flag(K.IS_ASSESSMENT, "APPTYPE").alias("IS_ASSESSMENT"),
            _flag(K.IS_TREATMENT, "APPTYPE").alias("IS_TREATMENT"),
            _flag(K.IS_FOLLOWUP, "APPTYPE").alias("IS_FOLLOWUP"),
            _yn(pl.any_horizontal([t.is_in(list(K.LOW_THERAPIES)) for t in ther])).alias("LOW_INTENSITY"),
            _yn(pl.any_horizontal([t.is_in(list(K.HIGH_THERAPIES)) for t in ther])).alias("HIGH_INTENSITY"),
            pl.when(pl.any_horizontal([w.is_not_null() for w in wsas]))
            .then(_str_int(pl.sum_horizontal(wsas) // K.SCALE))
            .alias("WSAS_TOTAL"),
        )
        .with_columns(
            (
                (pl.col("ATTENDED") == "Y")
                & (pl.col("__date") >= pl.col("__ref"))
                & (pl.col("__date") <= pl.col("__end").fill_null(pl.lit(rp_end)))
            )
            .fill_null(False)
            .alias("__counted"),
        )
        .with_columns(
            (pl.col("__counted") & (pl.col("IS_TREATMENT") == "Y")).alias("__ct"),
            (pl.col("__counted") & pl.col("APPTYPE").is_in(list(K.SCORING_APPTYPES)).fill_null(False)).alias(
                "__scoring"
            ),
        )
        .with_columns(
            pl.when(pl.col("__scoring")).then(pl.col(f"__s_{t.column}")).alias(f"__m_{m}")
            for m, t in K.THRESHOLDS.items()
        )
        .drop(*ther_cols, *score_cols, *[f"__s_{c}" for c in score_cols])
        .collect()
    )
    # The work frame holds only what ``_activity`` reads, flags as booleans, in 9.1 order: the order is
    # computed as a permutation, so the sort keys (APPTID, APPOINTMENTTIME) are not carried along.
    order = narrow.select(
        pl.arg_sort_by(ORDER_KEYS, nulls_last=[False] * len(ORDER_KEYS), maintain_order=True)
    ).to_series()
    work = (
        narrow.select(
            "__i",
            "SERVICEID",
            "__date",
            "__counted",
            "__ct",
            (pl.col("IS_ASSESSMENT") == "Y").alias("__assess"),
            (pl.col("ATTENDED") == "Y").alias("__attended"),
            (_v("ATTENDANCE") == K.DNA_CODE).fill_null(False).alias("__dna"),
            (pl.col("LOW_INTENSITY") == "Y").alias("__low"),
            (pl.col("HIGH_INTENSITY") == "Y").alias("__high"),
            *(f"__m_{m}" for m in K.THRESHOLDS),
        )
        .select(pl.all().gather(order))
        .with_columns(
            pl.when(pl.col("__ct"))
            .then(pl.col("__ct").cast(pl.Int64).cum_sum().over("SERVICEID"))
            .alias("__rank")
        )
    )
    del order
    rank = work.select("__i", "__rank").sort("__i").get_column("__rank")
    appointment = pl.concat(
        [
            appt,
            narrow.select(*K.APPOINTMENT_DERIVED[:-1]),
            pl.DataFrame({"TREATMENT_RANK": rank}).select(
                _str_int(pl.col("TREATMENT_RANK")).alias("TREATMENT_RANK")
            ),
        ],
        how="horizontal",
    )
    return appointment, work


# ---------------------------------------------------------------------------------------- Referral
def _activity(work: pl.DataFrame) -> pl.DataFrame:
    """Per-referral aggregates of the (sorted) appointment work frame: 9.5 activity and 9.6 first/last scores."""
    ct = pl.col("__ct")
    d = pl.col("__date")
    aggs = [
        d.filter(pl.col("__counted") & pl.col("__assess")).min().alias("__first_assess"),
        d.filter(ct).min().alias("__first_treat"),
        d.filter(pl.col("__rank") == 2).first().alias("__second_treat"),
        d.filter(ct).max().alias("__last_treat"),
        ct.sum().alias("__n_treat"),
        pl.col("__attended").sum().alias("__n_attended"),
        pl.col("__dna").sum().alias("__n_dna"),
        (ct & pl.col("__low")).any().alias("__li"),
        (ct & pl.col("__high")).any().alias("__hi"),
    ]
    for m in K.THRESHOLDS:
        col = pl.col(f"__m_{m}")
        aggs += [
            col.drop_nulls().first().alias(f"__first_{m}"),
            col.drop_nulls().last().alias(f"__last_{m}"),
            col.count().alias(f"__n_{m}"),
        ]
    return work.group_by("SERVICEID").agg(aggs)


def _paused_days(pauses: pl.DataFrame, ref: pl.DataFrame) -> pl.DataFrame:
    """9.8 PAUSED_DAYS per referral with a first treatment: distinct days in [REFRECDATE, first treatment)."""
    p = (
        pauses.select(
            pl.col("SERVICEID"),
            _date("PAUSESTARTDATE").alias("__ps"),
            _date("PAUSEENDDATE").alias("__pe"),
        )
        .join(ref, on="SERVICEID", how="inner")
        .filter(pl.col("__first_treat").is_not_null() & pl.col("__ps").is_not_null())
        .with_columns((pl.col("__first_treat").cast(pl.Int32) - 1).alias("__limit"))
        .with_columns(
            pl.max_horizontal(pl.col("__ps").cast(pl.Int32), pl.col("__ref").cast(pl.Int32)).alias("__s"),
            pl.min_horizontal(
                pl.col("__pe").cast(pl.Int32).fill_null(pl.col("__limit")), pl.col("__limit")
            ).alias("__e"),
        )
        .filter(pl.col("__s") <= pl.col("__e"))
        .sort(["SERVICEID", "__s", "__e"])
        .with_columns(pl.col("__e").cum_max().shift(1).over("SERVICEID").alias("__prev"))
        .with_columns(
            pl.max_horizontal(
                pl.lit(0),
                pl.col("__e") - pl.max_horizontal(pl.col("__s"), pl.col("__prev") + 1) + 1,
            ).alias("__days")
        )
    )
    return p.group_by("SERVICEID").agg(pl.col("__days").sum().alias("__paused"))


def _pd_lookup() -> tuple[pl.Expr, pl.Expr]:
    """9.5 PD_CATEGORY, ADSM_FOR_PD from PROVDIAG by the longest listed prefix (5.13)."""
    raw = _v("PROVDIAG").str.to_uppercase()
    norm = raw.str.replace_all(r"[. \-]", "")
    valid = (raw.str.len_chars() <= K.PROVDIAG_MAX) & norm.str.contains(K.ICD10_RE)
    lengths = sorted({len(c) for c in K.PD_CATEGORY}, reverse=True)
    cat_parts, adsm_parts = [], []
    for n in lengths:
        keys = [c for c in K.PD_CATEGORY if len(c) == n]
        prefix = norm.str.slice(0, n)
        hit = (norm.str.len_chars() >= n) & prefix.is_in(keys)
        cat_parts.append(
            pl.when(hit).then(prefix.replace_strict(keys, [K.PD_CATEGORY[k] for k in keys], default=None))
        )
        adsm_parts.append(
            pl.when(hit).then(prefix.replace_strict(keys, [K.PD_ADSM[k] for k in keys], default=None))
        )
    is_f = norm.str.starts_with("F")
    cat = (
        pl.when(valid.fill_null(False).not_())
        .then(pl.lit(K.PD_NOT_RECORDED[0]))
        .otherwise(
            pl.coalesce(
                *cat_parts,
                pl.when(is_f).then(pl.lit(K.PD_OTHER_F[0])).otherwise(pl.lit(K.PD_OTHER[0])),
            )
        )
    )
    adsm = (
        pl.when(valid.fill_null(False).not_())
        .then(pl.lit(K.PD_NOT_RECORDED[1]))
        .otherwise(
            pl.coalesce(
                *adsm_parts,
                pl.when(is_f).then(pl.lit(K.PD_OTHER_F[1])).otherwise(pl.lit(K.PD_OTHER[1])),
            )
        )
    )
    return cat, adsm


def _select_adsm() -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """9.6 ADSM selection and the first/last values of the selected measure (scaled)."""

    def paired(m: str) -> pl.Expr:
        return pl.col(f"__first_{m}").is_not_null() & pl.col(f"__last_{m}").is_not_null()

    # Steps 2-3 of 9.6: the PD's own measure (at most one condition holds) before the GAD-7 fallback.
    chosen = [((pl.col("ADSM_FOR_PD") == m) & paired(m), m) for m in K.ADSM_MEASURES]
    chosen.append((paired("GAD7"), "GAD7"))
    adsm = pl.coalesce([pl.when(c).then(pl.lit(m)) for c, m in chosen])
    first = pl.coalesce([pl.when(c).then(pl.col(f"__first_{m}")) for c, m in chosen])
    last = pl.coalesce([pl.when(c).then(pl.col(f"__last_{m}")) for c, m in chosen])
    return adsm, first, last


def _threshold(measure_col: str, attr: str) -> pl.Expr:
    """Caseness or reliable-change value (scaled) of the measure named in ``measure_col``."""
    keys = list(K.THRESHOLDS)
    vals = [K.scaled(getattr(K.THRESHOLDS[k], attr)) for k in keys]
    return pl.col(measure_col).replace_strict(keys, vals, default=None, return_dtype=pl.Int64)


def derive_referral(
    referral: pl.DataFrame,
    person: pl.DataFrame,
    work: pl.DataFrame,
    pauses: pl.DataFrame,
    *,
    period: str,
    provider: str,
    key: bytes,
) -> pl.DataFrame:
    start, end = period_bounds(period)
    lit_start, lit_end = pl.lit(start), pl.lit(end)
    people = person.select(pl.col("LPTID"), _date("DOB").alias("__dob"), pl.col("PERSON_ID").alias("__pid"))
    act = _activity(work)
    pd_cat, pd_adsm = _pd_lookup()

    r = (
        referral.with_row_index("__i")
        .join(people, on="LPTID", how="left", maintain_order="left")
        .join(act, on="SERVICEID", how="left", maintain_order="left")
        .with_columns(
            _date("REFRECDATE").alias("__ref"),
            _date("ENDDATE").alias("__end"),
            pd_cat.alias("PD_CATEGORY"),
            pd_adsm.alias("ADSM_FOR_PD"),
            pl.col("__n_treat", "__n_attended", "__n_dna").fill_null(0),
            pl.col("__li", "__hi").fill_null(False),
        )
    )
    r = r.with_columns(
        hmac_series(r.select(pathway_message(provider, "__pid")).to_series(), key).alias("PATHWAY_ID")
    )

    # 9.6 / 9.7 scores (scaled ints)
    ended = pl.col("__end").is_not_null()
    for m in K.THRESHOLDS:
        # LAST_x only when ENDDATE is populated and two or more scoring appointments have a usable value.
        r = r.with_columns(
            pl.when(ended & (pl.col(f"__n_{m}") >= 2)).then(pl.col(f"__last_{m}")).alias(f"__last_{m}")
        )
    adsm, first_adsm, last_adsm = _select_adsm()
    r = r.with_columns(adsm.alias("ADSM"), first_adsm.alias("__fa"), last_adsm.alias("__la"))

    finished = ended & (pl.col("__n_treat") >= 2)
    paired = (
        pl.col("__first_PHQ9").is_not_null()
        & pl.col("__last_PHQ9").is_not_null()
        & pl.col("ADSM").is_not_null()
    )
    r = r.with_columns(
        finished.alias("__finished"),
        paired.alias("__paired"),
        (finished & paired).alias("__eligible"),
        _threshold("ADSM", "caseness").alias("__cA"),
        _threshold("ADSM", "reliable_change").alias("__rcA"),
    )
    cD = K.scaled(K.THRESHOLDS["PHQ9"].caseness)
    rcD = K.scaled(K.THRESHOLDS["PHQ9"].reliable_change)
    dD = pl.col("__first_PHQ9") - pl.col("__last_PHQ9")
    dA = pl.col("__fa") - pl.col("__la")
    better = (dD >= rcD) | (dA >= pl.col("__rcA"))
    worse = (-dD >= rcD) | (-dA >= pl.col("__rcA"))
    caseness = (pl.col("__first_PHQ9") >= cD) | (pl.col("__fa") >= pl.col("__cA"))
    recovery = (pl.col("__last_PHQ9") < cD) & (pl.col("__la") < pl.col("__cA"))
    r = r.with_columns(
        caseness.alias("__case"),
        recovery.alias("__recov"),
        (better & ~worse).alias("__ri"),
        (worse & ~better).alias("__rd"),
    )
    elig = pl.col("__eligible")
    at_case = elig & pl.col("__case")

    # 9.8 waiting times
    wait = (pl.col("__first_treat") - pl.col("__ref")).dt.total_days()
    paused = _paused_days(pauses, r.select("SERVICEID", "__ref", "__first_treat"))
    r = r.join(paused, on="SERVICEID", how="left", maintain_order="left").with_columns(
        wait.alias("__wait"),
        pl.when(pl.col("__first_treat").is_not_null())
        .then(pl.col("__paused").fill_null(0))
        .alias("__paused"),
    )

    def in_rp(e: pl.Expr) -> pl.Expr:
        return _yn((e >= lit_start) & (e <= lit_end))

    def when_elig(e: pl.Expr, cond: pl.Expr = elig) -> pl.Expr:
        return pl.when(cond).then(e)

    out = r.with_columns(
        _str_int(_age(pl.col("__ref"), pl.col("__dob"))).alias("AGE_AT_REFERRAL"),
        in_rp(pl.col("__ref")).alias("REFERRED_IN_RP"),
        in_rp(pl.col("__end")).alias("ENDED_IN_RP"),
        _v("ENDCODE").replace_strict(K.END_GROUP, default=None, return_dtype=pl.String).alias("END_GROUP"),
        _str_date(pl.col("__first_assess")).alias("FIRST_ASSESSMENT_DATE"),
        _str_date(pl.col("__first_treat")).alias("FIRST_TREATMENT_DATE"),
        _str_date(pl.col("__second_treat")).alias("SECOND_TREATMENT_DATE"),
        _str_date(pl.col("__last_treat")).alias("LAST_TREATMENT_DATE"),
        _str_int(pl.col("__n_treat")).alias("COUNT_TREATMENT_APPTS"),
        _str_int(pl.col("__n_attended")).alias("COUNT_ATTENDED_APPTS"),
        _str_int(pl.col("__n_dna")).alias("COUNT_DNA_APPTS"),
        in_rp(pl.col("__first_treat")).alias("ENTERED_TREATMENT_IN_RP"),
        _yn(pl.col("__finished")).alias("FINISHED_TREATMENT"),
        _yn(pl.col("__li")).alias("LI_TREATED"),
        _yn(pl.col("__hi")).alias("HI_TREATED"),
        _render_scaled(pl.col("__first_PHQ9")).alias("FIRST_PHQ9"),
        _render_scaled(pl.col("__last_PHQ9")).alias("LAST_PHQ9"),
        _render_scaled(pl.col("__first_GAD7")).alias("FIRST_GAD7"),
        _render_scaled(pl.col("__last_GAD7")).alias("LAST_GAD7"),
        _render_scaled(pl.col("__fa")).alias("FIRST_ADSM"),
        _render_scaled(pl.col("__la")).alias("LAST_ADSM"),
        _yn(pl.col("__paired")).alias("PAIRED_SCORES"),
        _yn(elig).alias("OUTCOME_ELIGIBLE"),
        when_elig(_yn(pl.col("__case"))).alias("CASENESS"),
        when_elig(_yn(pl.col("__recov")), at_case).alias("RECOVERY"),
        when_elig(_yn(pl.col("__ri"))).alias("RELIABLE_IMPROVEMENT"),
        when_elig(_yn(pl.col("__rd"))).alias("RELIABLE_DETERIORATION"),
        when_elig(_yn(~(pl.col("__ri") | pl.col("__rd")))).alias("NO_RELIABLE_CHANGE"),
        when_elig(_yn(pl.col("__recov") & pl.col("__ri")), at_case).alias("RELIABLE_RECOVERY"),
        _str_int(pl.col("__wait")).alias("WAIT_DAYS"),
        pl.when(pl.col("__wait").is_not_null())
        .then(_yn(pl.col("__wait") <= K.WAIT_6WK_DAYS))
        .alias("WAIT_6WK"),
        pl.when(pl.col("__wait").is_not_null())
        .then(_yn(pl.col("__wait") <= K.WAIT_18WK_DAYS))
        .alias("WAIT_18WK"),
        _str_int(pl.col("__paused")).alias("PAUSED_DAYS"),
        _str_int(pl.col("__wait") - pl.col("__paused")).alias("WAIT_DAYS_ADJUSTED"),
    )
    return out.sort("__i").select(*referral.columns, *K.REFERRAL_DERIVED)


# -------------------------------------------------------------------------------------------- entry
DERIVED_TABLES = ("Person", "Appointment", "Referral")  # in the order derive_iter gives them


def derived_table_order(tables: Mapping[str, pl.DataFrame]) -> list[str]:
    """The tables ``derive_iter`` gives, in its order: the input tables it passes through unchanged (input
    order), then Person, Appointment, Referral."""
    return [name for name in tables if name not in DERIVED_TABLES] + list(DERIVED_TABLES)


def derive_iter(
    tables: Mapping[str, pl.DataFrame], *, period: str, provider: str, key: bytes
) -> Iterator[tuple[str, pl.DataFrame]]:
    """The tables of ``derive`` one at a time, each as soon as it is ready (``derived_table_order``), so a
    caller can store one while the next is being derived. Same frames as ``derive``."""
    provider = provider.strip().upper()
    _, rp_end = period_bounds(period)
    for name, frame in tables.items():
        if name not in DERIVED_TABLES:
            yield name, frame
    person_in = _frame(tables, "Person")
    referral_in = _frame(tables, "Referral")
    appt_in = _frame(tables, "Appointment")
    pauses_in = _frame(tables, "WaitingTimePause")

    person = derive_person(person_in, period=period, provider=provider, key=key)
    yield "Person", person
    appointment, work = _appointment_work(appt_in, referral_in, rp_end)
    yield "Appointment", appointment
    del appointment
    referral = derive_referral(
        referral_in, person, work, pauses_in, period=period, provider=provider, key=key
    )
    yield "Referral", referral


def derive(
    tables: Mapping[str, pl.DataFrame], *, period: str, provider: str, key: bytes
) -> dict[str, pl.DataFrame]:
    """Derived items of spec 9 for the accepted rows of one successful submission.

    Returns every input table (same order, same rows in the same order); Person, Referral and Appointment
    get the columns of 10.4 appended. Missing Person/Referral/Appointment/WaitingTimePause tables are read
    as empty.
    """
    ready = dict(derive_iter(tables, period=period, provider=provider, key=key))
    out: dict[str, pl.DataFrame] = {name: ready[name] for name in tables}
    for name in ("Person", "Referral", "Appointment"):
        out.setdefault(name, ready[name])
    return out
