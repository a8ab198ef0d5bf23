"""10.6 statistics over generator output for two providers: internal consistency and a plain-Python
reference count of every measure."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter

import polars as pl
import pytest

from reporting.derived import derive
from reporting.statistics import (
    MEASURE_BY_ID,
    SubmissionData,
    compute_statistics,
    display_count,
    display_rate,
)
from validation.synth import generate_idb

PERIOD, KEY = "2017-11", b"statistics-test-key"
PROVIDERS = (("TSTP1", 11), ("TSTP2", 12))


def derived_submission(provider: str, seed: int, persons: int) -> SubmissionData:
    raw = generate_idb(org=provider, period=PERIOD, persons=persons, seed=seed)
    tables = {
        k: v.with_row_index("ROW_NUMBER", offset=1).with_columns(pl.col("ROW_NUMBER").cast(pl.Int64))
        for k, v in raw.items()
    }
    return SubmissionData.from_derived(provider, derive(tables, period=PERIOD, provider=provider, key=KEY))


@pytest.fixture(scope="module")
def subs() -> list[SubmissionData]:
    return [derived_submission(p, seed, 1200) for p, seed in PROVIDERS]


@pytest.fixture(scope="module")
def stats(subs: list[SubmissionData]) -> pl.DataFrame:
    return compute_statistics(subs, period=PERIOD, status="Final", detail=True)


def reference_counts(subs: list[SubmissionData]) -> Counter:
    """Counts per (level, org, measure) straight from the spec text, row by row."""
    c: Counter = Counter()
    start, end = dt.date(2017, 11, 1), dt.date(2017, 11, 30)
    for s in subs:
        comm_of = {}
        for r in s.referral.iter_rows(named=True):
            comm_of[r["SERVICEID"]] = r["ORGCODECOMM"]
            y = {k: v == "Y" for k, v in r.items()}
            m05 = y["ENDED_IN_RP"] and y["FINISHED_TREATMENT"]
            m06 = m05 and y["OUTCOME_ELIGIBLE"]
            hits = {
                "M01": y["REFERRED_IN_RP"],
                "M02": y["REFERRED_IN_RP"] and r["SOURCEREFERRAL"] == "B1",
                "M03": y["ENTERED_TREATMENT_IN_RP"],
                "M04": y["ENDED_IN_RP"],
                "M05": m05,
                "M06": m06,
                "M07": m06 and r["CASENESS"] == "N",
                "M08": m06 and y["RECOVERY"],
                "M10": m06 and y["RELIABLE_IMPROVEMENT"],
                "M12": m06 and y["RELIABLE_RECOVERY"],
                "M14": m06 and y["RELIABLE_DETERIORATION"],
                "M16": m05 and y["WAIT_6WK"],
                "M18": m05 and y["WAIT_18WK"],
            }
            for m, hit in hits.items():
                if hit:
                    for key in (
                        ("National", ""),
                        ("Provider", s.provider),
                        ("Commissioner", r["ORGCODECOMM"]),
                    ):
                        c[(*key, m)] += 1
        for a in s.appointment.iter_rows(named=True):
            if not start <= dt.date.fromisoformat(a["APPOINTMENT"]) <= end:
                continue
            for m, codes in (("M20", {"3", "5", "6", "7"}), ("M21", {"3"})):
                if a["ATTENDANCE"] in codes:
                    for key in (
                        ("National", ""),
                        ("Provider", s.provider),
                        ("Commissioner", comm_of[a["SERVICEID"]]),
                    ):
                        c[(*key, m)] += 1
    return c


def test_matches_plain_python_reference(subs: list[SubmissionData], stats: pl.DataFrame) -> None:
    ref = reference_counts(subs)
    counts = stats.filter(pl.col("KIND") == "count")
    got = {(r["LEVEL"], r["ORG_CODE"], r["MEASURE_ID"]): r["NUMERATOR"] for r in counts.iter_rows(named=True)}
    assert {k: v for k, v in got.items() if v} == dict(ref)
    # every commissioner of the referrals appears
    comms = set().union(*(set(s.referral["ORGCODECOMM"]) for s in subs))
    assert set(stats.filter(pl.col("LEVEL") == "Commissioner")["ORG_CODE"]) == comms
    assert len(comms) > 1


def test_internal_consistency(stats: pl.DataFrame) -> None:
    counts = stats.filter(pl.col("KIND") == "count").pivot(
        "MEASURE_ID", index=["LEVEL", "ORG_CODE"], values="NUMERATOR"
    )
    c = pl.col
    checks = {
        "M02<=M01": c("M02") <= c("M01"),
        "M05<=M04": c("M05") <= c("M04"),
        "M06<=M05": c("M06") <= c("M05"),
        "M07<=M06": c("M07") <= c("M06"),
        "M08<=M06-M07": c("M08") <= c("M06") - c("M07"),
        "M12<=M08": c("M12") <= c("M08"),
        "M12<=M10": c("M12") <= c("M10"),
        "M10+M14<=M06": c("M10") + c("M14") <= c("M06"),
        "M16<=M18<=M05": (c("M16") <= c("M18")) & (c("M18") <= c("M05")),
        "M21<=M20": c("M21") <= c("M20"),
    }
    bad = counts.select(**{k: (~v).sum() for k, v in checks.items()}).row(0, named=True)
    assert bad == dict.fromkeys(checks, 0)
    # the data are not trivial: the main measures are populated at provider level
    prov = counts.filter(c("LEVEL") == "Provider")
    for m in ("M01", "M02", "M03", "M04", "M05", "M06", "M08", "M10", "M16", "M18", "M20", "M21"):
        assert prov[m].min() > 0, m


def test_rates_recomputed_from_counts(stats: pl.DataFrame) -> None:
    num_of = {
        (r["LEVEL"], r["ORG_CODE"], r["MEASURE_ID"]): r["NUMERATOR"]
        for r in stats.filter(pl.col("KIND") == "count").iter_rows(named=True)
    }
    n_rates = 0
    for r in stats.filter(pl.col("KIND") == "rate").iter_rows(named=True):
        m = MEASURE_BY_ID[r["MEASURE_ID"]]
        org = (r["LEVEL"], r["ORG_CODE"])
        den = num_of[(*org, m.denominator)] - (num_of[(*org, m.minus)] if m.minus else 0)
        assert r["NUMERATOR"] == num_of[(*org, m.numerator)]
        assert r["DENOMINATOR"] == den
        assert r["VALUE"] == display_rate(r["NUMERATOR"], den, r["LEVEL"])
        if den:
            assert r["RAW"] == pytest.approx(r["NUMERATOR"] * 100 / den)
            if r["VALUE"] != "*":
                assert abs(float(r["VALUE"]) - r["RAW"]) <= (0.05 if r["LEVEL"] == "National" else 0.5)
        n_rates += 1
    assert n_rates == 7 * stats.select("LEVEL", "ORG_CODE").n_unique()
    for r in stats.filter(pl.col("KIND") == "count").iter_rows(named=True):
        assert r["VALUE"] == display_count(r["NUMERATOR"], r["LEVEL"])


def test_national_is_the_sum_of_providers(stats: pl.DataFrame) -> None:
    counts = stats.filter(pl.col("KIND") == "count")
    totals = counts.group_by("LEVEL", "MEASURE_ID").agg(pl.col("NUMERATOR").sum())
    wide = totals.pivot("LEVEL", index="MEASURE_ID", values="NUMERATOR").sort("MEASURE_ID")
    assert wide["National"].to_list() == wide["Provider"].to_list()
    assert wide["National"].to_list() == wide["Commissioner"].to_list()
    nat = counts.filter(pl.col("LEVEL") == "National")
    big = nat.filter(pl.col("NUMERATOR") >= 5)
    assert big.height > 10 and (big["VALUE"] == big["NUMERATOR"].cast(pl.String)).all()  # national: unrounded


def test_provisional_and_final_differ_only_by_status(subs: list[SubmissionData], stats: pl.DataFrame) -> None:
    prov = compute_statistics(subs, period=PERIOD, status="Provisional", detail=True)
    assert prov.drop("STATUS").equals(stats.drop("STATUS"))


@pytest.mark.skipif(
    not os.environ.get("STATS_BENCH"), reason="set STATS_BENCH=1 for the 2 x 100k-person benchmark"
)
def test_benchmark() -> None:
    subs = [derived_submission(p, seed, 100_000) for p, seed in PROVIDERS]
    start = time.perf_counter()
    out = compute_statistics(subs, period=PERIOD, status="Final")
    elapsed = time.perf_counter() - start
    refs = sum(s.referral.height for s in subs)
    appts = sum(s.appointment.height for s in subs)
    print(f"compute_statistics: {elapsed:.3f}s for {refs} referrals, {appts} appointments, {out.height} rows")
    assert elapsed < 5
