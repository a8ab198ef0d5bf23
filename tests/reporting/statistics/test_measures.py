"""Every 10.6 measure on hand-built derived frames, at national, provider and commissioner level."""

from __future__ import annotations

import polars as pl
import pytest

from reporting.statistics import (
    DETAIL_COLUMNS,
    MEASURES,
    OUTPUT_COLUMNS,
    SubmissionData,
    compute_statistics,
)

from .helpers import PERIOD, Builder, provider_one, provider_two

IDS = [f"M{i:02d}" for i in range(1, 23)]

# Expected VALUE per org, M01..M22, worked out by hand from the groups in helpers.py. TSTP1 unrounded:
# M01 13 (7 self + 6 GP), M04 22, M05 19, M06 16, M07 2, M08 9, M09 9/14, M10 13, M11 13/16 = 81.25,
# M16 11, M17 11/19, M18 16, M20 16, M21 5, M22 5/16 = 31.25. TSTP2: 5 self-referrals (C2) and 5 reliably
# recovered (C3). C2's finished referrals are 4, so its rates have denominator 4 and are suppressed.
EXPECTED = {
    ("National", ""): [
        "18", "12", "8", "27", "24", "21", "*", "14", "73.7", "18", "85.7",
        "14", "73.7", "*", "*", "16", "66.7", "21", "87.5", "21", "6", "28.6",
    ],
    ("Provider", "TSTP1"): [
        "15", "5", "10", "20", "20", "15", "*", "10", "64", "15", "81",
        "10", "64", "*", "*", "10", "58", "15", "84", "15", "5", "31",
    ],
    ("Provider", "TSTP2"): [
        "5", "5", "0", "5", "5", "5", "0", "5", "100", "5", "100",
        "5", "100", "0", "0", "5", "100", "5", "100", "5", "*", "*",
    ],
    ("Commissioner", "C1"): [
        "5", "5", "10", "20", "15", "10", "*", "10", "90", "10", "75",
        "10", "90", "*", "*", "10", "73", "10", "80", "10", "*", "*",
    ],
    ("Commissioner", "C2"): [
        "10", "5", "0", "*", "*", "*", "0", "0", "*", "*", "*",
        "0", "*", "0", "*", "0", "*", "*", "*", "5", "*", "*",
    ],
    ("Commissioner", "C3"): [
        "0", "0", "0", "5", "5", "5", "0", "5", "100", "5", "100",
        "5", "100", "0", "0", "5", "100", "5", "100", "5", "*", "*",
    ],
}  # fmt: skip

# Unrounded counts of TSTP1 (NUMERATOR of the count measures).
TSTP1_COUNTS = {
    "M01": 13, "M02": 7, "M03": 8, "M04": 22, "M05": 19, "M06": 16, "M07": 2, "M08": 9, "M10": 13,
    "M12": 9, "M14": 1, "M16": 11, "M18": 16, "M20": 16, "M21": 5,
}  # fmt: skip


@pytest.fixture(scope="module")
def stats() -> pl.DataFrame:
    subs = [provider_one().submission(), provider_two().submission()]
    return compute_statistics(subs, period=PERIOD, status="Final", detail=True)


def values(stats: pl.DataFrame, level: str, org: str) -> list[str]:
    f = stats.filter((pl.col("LEVEL") == level) & (pl.col("ORG_CODE") == org))
    assert f["MEASURE_ID"].to_list() == IDS
    return f["VALUE"].to_list()


@pytest.mark.parametrize(("level", "org"), list(EXPECTED))
def test_every_measure(stats: pl.DataFrame, level: str, org: str) -> None:
    got = values(stats, level, org)
    assert dict(zip(IDS, got, strict=True)) == dict(zip(IDS, EXPECTED[(level, org)], strict=True))


def test_layout_and_order(stats: pl.DataFrame) -> None:
    assert stats.columns == [*OUTPUT_COLUMNS, *DETAIL_COLUMNS]
    assert stats.height == 22 * 6
    orgs = stats.select("LEVEL", "ORG_CODE").unique(maintain_order=True).rows()
    assert orgs == list(EXPECTED)
    assert set(stats["REPORTING_PERIOD"]) == {PERIOD} and set(stats["STATUS"]) == {"Final"}
    assert stats.select(pl.col(*OUTPUT_COLUMNS).is_null().any()).row(0) == (False,) * 7
    names = dict(zip(stats["MEASURE_ID"], stats["MEASURE_NAME"], strict=False))
    assert names["M09"] == "Recovery rate (%)" and names["M16"] == "Finished treatment, waited ≤ 6 weeks"
    assert [m.id for m in MEASURES] == IDS
    plain = compute_statistics([provider_one().submission()], period=PERIOD, status="Final")
    assert plain.columns == list(OUTPUT_COLUMNS)
    assert all(dtype == pl.String for dtype in plain.dtypes)


def test_detail_columns(stats: pl.DataFrame) -> None:
    p1 = stats.filter((pl.col("LEVEL") == "Provider") & (pl.col("ORG_CODE") == "TSTP1"))
    counts = p1.filter(pl.col("KIND") == "count")
    assert dict(zip(counts["MEASURE_ID"], counts["NUMERATOR"], strict=True)) == TSTP1_COUNTS
    assert counts["DENOMINATOR"].null_count() == counts.height
    m09 = p1.filter(pl.col("MEASURE_ID") == "M09").row(0, named=True)
    assert (m09["NUMERATOR"], m09["DENOMINATOR"]) == (9, 14)  # M08 / (M06 - M07)
    assert m09["RAW"] == pytest.approx(900 / 14)
    m22 = p1.filter(pl.col("MEASURE_ID") == "M22").row(0, named=True)
    assert (m22["NUMERATOR"], m22["DENOMINATOR"], m22["VALUE"]) == (5, 16, "31")


def test_appointments_join_within_the_provider(stats: pl.DataFrame) -> None:
    """TSTP2 reuses TSTP1's SERVICEIDs: its appointments must take TSTP2's commissioner (C3), not C1."""
    c = stats.filter(pl.col("MEASURE_ID").is_in(["M20", "M21"]) & (pl.col("LEVEL") == "Commissioner"))
    got = {(r["ORG_CODE"], r["MEASURE_ID"]): r["NUMERATOR"] for r in c.iter_rows(named=True)}
    assert got == {
        ("C1", "M20"): 11,
        ("C1", "M21"): 3,
        ("C2", "M20"): 5,
        ("C2", "M21"): 2,
        ("C3", "M20"): 5,
        ("C3", "M21"): 1,
    }


def test_national_is_the_sum_of_providers_and_of_commissioners(stats: pl.DataFrame) -> None:
    counts = stats.filter(pl.col("KIND") == "count")
    sums = counts.group_by("LEVEL", "MEASURE_ID").agg(pl.col("NUMERATOR").sum())
    wide = sums.pivot("LEVEL", index="MEASURE_ID", values="NUMERATOR")
    assert (wide["National"] == wide["Provider"]).all()
    assert (wide["National"] == wide["Commissioner"]).all()  # every referral has one commissioner


@pytest.mark.parametrize(
    ("n", "provider_value", "national_value"),
    [
        (0, "0", "0"),
        (1, "*", "*"),
        (4, "*", "*"),
        (5, "5", "5"),
        (7, "5", "7"),
        (8, "10", "8"),
        (12, "10", "12"),
        (13, "15", "13"),
    ],
)
def test_count_edges_through_compute(n: int, provider_value: str, national_value: str) -> None:
    b = Builder("TSTP9")
    b.referrals(n, "C9", REFERRED_IN_RP="Y")
    out = compute_statistics([b.submission()], period=PERIOD, status="Provisional")
    m01 = {r["LEVEL"]: r["VALUE"] for r in out.filter(pl.col("MEASURE_ID") == "M01").iter_rows(named=True)}
    expected = {"National": national_value, "Provider": provider_value}
    if n:
        expected["Commissioner"] = provider_value
    assert m01 == expected


@pytest.mark.parametrize(
    ("num", "den", "provider_value", "national_value"),
    [
        (5, 8, "63", "62.5"),  # .5 rounds up (banker's rounding would give 62)
        (5, 16, "31", "31.3"),  # 31.25 -> 31.3 nationally (float round() gives 31.2)
        (29, 200, "15", "14.5"),  # 14.5 exactly; 29 / 200 * 100 is 14.499999999999998 in floating point
        (0, 5, "0", "0.0"),  # zero numerator over a sufficient base is shown
        (0, 4, "*", "*"),  # denominator 4
        (0, 0, "*", "*"),  # denominator 0
        (4, 100, "*", "*"),  # numerator 1-4
        (5, 5, "100", "100.0"),
    ],
)
def test_rate_edges_through_compute(num: int, den: int, provider_value: str, national_value: str) -> None:
    b = Builder("TSTP9")
    r = b.referrals(1, "C9")[0]
    b.appointments(r, num, "3")
    b.appointments(r, den - num, "5")
    out = compute_statistics([b.submission()], period=PERIOD, status="Final")
    m22 = {r["LEVEL"]: r["VALUE"] for r in out.filter(pl.col("MEASURE_ID") == "M22").iter_rows(named=True)}
    assert m22 == {"National": national_value, "Provider": provider_value, "Commissioner": provider_value}


def test_no_submissions_and_empty_submission() -> None:
    out = compute_statistics([], period=PERIOD, status="Provisional")
    assert out.height == 22 and set(out["LEVEL"]) == {"National"}
    counts = out.filter(~pl.col("MEASURE_NAME").str.contains("%", literal=True))
    assert set(counts["VALUE"]) == {"0"}
    assert set(out.filter(pl.col("MEASURE_NAME").str.contains("%", literal=True))["VALUE"]) == {"*"}
    empty = compute_statistics([Builder("TSTP9").submission()], period=PERIOD, status="Final")
    assert empty.select("LEVEL", "ORG_CODE").unique(maintain_order=True).rows() == [
        ("National", ""),
        ("Provider", "TSTP9"),
    ]


def test_provider_code_is_normalised_and_extra_columns_ignored() -> None:
    s = provider_two().submission()
    s = SubmissionData(" tstp2 ", s.referral.with_columns(pl.lit("x").alias("EXTRA")), s.appointment)
    out = compute_statistics([s], period=PERIOD, status="Final")
    assert "TSTP2" in out.filter(pl.col("LEVEL") == "Provider")["ORG_CODE"].to_list()


def test_input_errors() -> None:
    s = provider_one().submission()
    with pytest.raises(ValueError, match="more than one submission"):
        compute_statistics([s, s], period=PERIOD, status="Final")
    with pytest.raises(ValueError, match="status"):
        compute_statistics([s], period=PERIOD, status="final")
    with pytest.raises(ValueError, match="period"):
        compute_statistics([s], period="2017-13", status="Final")
    bad = SubmissionData("TSTP1", s.referral.drop("WAIT_6WK"), s.appointment)
    with pytest.raises(ValueError, match="WAIT_6WK"):
        compute_statistics([bad], period=PERIOD, status="Final")
    refresh = SubmissionData("TSTP1", s.referral, s.appointment, window_type="Refresh")
    with pytest.raises(ValueError, match="Primary"):
        compute_statistics([refresh], period=PERIOD, status="Provisional")
