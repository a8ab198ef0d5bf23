"""Synthetic IDB generator: determinism, scale, validity invariants and writers."""

from __future__ import annotations

import io
import re
import time
import zipfile
from datetime import date

import openpyxl
import polars as pl
import pytest

from validation.synth import generate_idb, is_valid_nhs_number, write_csvzip, write_xlsx
from validation.synth._specdata import CODE_ATTRIBUTES, CODELISTS, FORMATS, PROFILES, TABLES

PERIOD = "2017-10"
RP_START, RP_END = date(2017, 10, 1), date(2017, 10, 31)


@pytest.fixture(scope="module")
def ltc_tables() -> dict[str, pl.DataFrame]:
    return generate_idb(org="TSTP1", period=PERIOD, persons=1500, profile="P15LTC", with_ea=True, seed=11)


@pytest.fixture(scope="module")
def std_tables() -> dict[str, pl.DataFrame]:
    return generate_idb(org="TSTP1", period=PERIOD, persons=800, seed=3)


def _frames_equal(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> bool:
    return list(a) == list(b) and all(a[k].equals(b[k], null_equal=True) for k in a)


def test_tables_and_columns_follow_the_spec(std_tables, ltc_tables):
    assert list(std_tables) == list(PROFILES["P15STD"]["required"])
    assert list(ltc_tables) == [*PROFILES["P15LTC"]["required"], "EmploymentAdviser"]
    for tables in (std_tables, ltc_tables):
        for name, df in tables.items():
            assert df.columns == [c[0] for c in TABLES[name]["columns"]], name
            assert all(dt == pl.String for dt in df.dtypes), name
    h = std_tables["Header"].row(0, named=True)
    assert h == {
        "IDBVERSION": "1.5.05",
        "ORGCODEPROVIDER": "TSTP1",
        "START_DATE": "2017-10-01",
        "END_DATE": "2017-10-31",
    }
    assert ltc_tables["Header"]["IDBVERSION"][0] == "1.5.4"
    for name in ("LTCCondition", "MUSSymptom", "LTCAppointment", "EmploymentAdviser"):
        assert ltc_tables[name].height > 0


def test_deterministic_for_a_seed(tmp_path):
    kw = dict(org="TSTP1", period=PERIOD, persons=300, profile="P15LTC", with_ea=True)
    a, b = generate_idb(seed=7, **kw), generate_idb(seed=7, **kw)
    assert _frames_equal(a, b)
    assert not _frames_equal(a, generate_idb(seed=8, **kw))
    for writer, ext in ((write_csvzip, "zip"), (write_xlsx, "xlsx")):
        p1, p2 = tmp_path / f"a.{ext}", tmp_path / f"b.{ext}"
        writer(a, p1)
        writer(b, p2)
        assert p1.read_bytes() == p2.read_bytes(), ext


def test_row_counts_scale():
    small = generate_idb(org="TSTP1", period=PERIOD, persons=500, seed=1)
    big = generate_idb(org="TSTP1", period=PERIOD, persons=5000, seed=1)
    assert small["Person"].height == 500 and big["Person"].height == 5000
    for name in ("Referral", "Appointment"):
        ratio = big[name].height / small[name].height
        assert 8 < ratio < 12, (name, ratio)
    per_ref = big["Appointment"].height / big["Referral"].height
    refs_per_person = big["Referral"].height / 5000
    assert 4 < per_ref < 8 and 1.1 < refs_per_person < 1.3


def test_nhs_numbers_and_people(ltc_tables):
    p = ltc_tables["Person"]
    nhs = p["NHSNO"].to_list()
    assert all(is_valid_nhs_number(v) for v in nhs)
    assert len(set(nhs)) == len(nhs)
    assert p["LPTID"].n_unique() == p.height
    assert set(p["NHSNOSTATUS"].unique()) <= {"01", "02"}
    assert all(re.fullmatch(FORMATS["POSTCODE"], v) for v in p["POSTCODE"].to_list())
    assert "ZZ99 3VZ" in p["POSTCODE"].to_list()
    assert all(re.fullmatch(FORMATS["ORG_GP"], v) for v in p["GMPC"].to_list())
    ages = [
        (RP_START.year - d.year) - ((RP_START.month, RP_START.day) < (d.month, d.day))
        for d in map(date.fromisoformat, p["DOB"].to_list())
    ]
    assert min(ages) >= 16 and max(ages) <= 90


def test_nhs_check_examples():
    assert is_valid_nhs_number("9434765919")
    assert not is_valid_nhs_number("9434765918")
    assert not is_valid_nhs_number("1111111111")  # palindrome
    assert not is_valid_nhs_number("943476591")


def _date_columns(name: str) -> list[str]:
    return [c[0] for c in TABLES[name]["columns"] if c[1] == "date" and name != "Header"]


def test_all_dates_valid_and_not_after_rp_end(ltc_tables):
    for name, df in ltc_tables.items():
        for col in _date_columns(name):
            s = df[col].drop_nulls()
            parsed = s.str.to_date("%Y-%m-%d", strict=True)
            assert parsed.len() == s.len()
            if s.len() and name != "Person":
                assert parsed.max() <= RP_END, (name, col)


def test_referential_integrity(ltc_tables):
    t = ltc_tables
    persons = set(t["Person"]["LPTID"])
    refs = set(t["Referral"]["SERVICEID"])
    appts = set(t["Appointment"]["APPTID"])
    assert set(t["Disability"]["LPTID"]) <= persons
    assert set(t["Referral"]["LPTID"]) == persons  # every person has a referral (no PER180)
    for name in (
        "Appointment",
        "AssessmentPEQ",
        "TreatmentPEQ",
        "WaitingTimePause",
        "LTCCondition",
        "MUSSymptom",
    ):
        assert set(t[name]["SERVICEID"]) <= refs, name
    for name in ("LTCAppointment", "EmploymentAdviser"):
        assert set(t[name]["APPTID"]) <= appts
        assert t[name]["APPTID"].n_unique() == t[name].height
    for name in ("Referral", "Appointment"):
        key = "SERVICEID" if name == "Referral" else "APPTID"
        assert t[name][key].n_unique() == t[name].height
        assert all(re.fullmatch(FORMATS["ID"], v) for v in t[name][key].to_list())
    # composite keys
    for name, key in (
        ("Disability", ["LPTID", "DISABILITY"]),
        ("AssessmentPEQ", ["SERVICEID", "ASSESSPEQDATE", "ASSESSPEQTIME"]),
        ("TreatmentPEQ", ["SERVICEID", "TREATPEQDATE", "TREATPEQTIME"]),
        ("WaitingTimePause", ["SERVICEID", "PAUSEID"]),
        ("LTCCondition", ["SERVICEID", "LTCCODE"]),
        ("MUSSymptom", ["SERVICEID", "MUSCODE"]),
    ):
        assert t[name].select(key).is_duplicated().sum() == 0, name


def test_every_coded_column_uses_its_code_list(ltc_tables):
    for name, df in ltc_tables.items():
        for col in TABLES[name]["columns"]:
            cname, codelist = col[0], col[6]
            if not codelist:
                continue
            values = set(df[cname].drop_nulls().unique().to_list())
            if codelist == "ProblemDescriptor":
                assert all(re.fullmatch(FORMATS["ICD10"], v.replace(".", "")) for v in values)
            else:
                assert values <= set(CODELISTS[codelist]), (name, cname, values - set(CODELISTS[codelist]))


def test_value_lengths_numbers_and_ranges(ltc_tables):
    for name, df in ltc_tables.items():
        for cname, typ, length, _p, _s, _m, _cl, _fmt, rng in TABLES[name]["columns"]:
            s = df[cname].drop_nulls()
            if not s.len():
                continue
            if typ == "text":
                assert s.str.len_chars().max() <= length, (name, cname)
            if typ == "integer":
                assert s.str.contains(r"^[0-9]+$").all(), (name, cname)
            if typ == "decimal":
                assert s.str.contains(r"^[0-9]\.[0-9]{2}$").all(), (name, cname)
            if typ == "time":
                assert s.str.contains(r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$").all(), (name, cname)
            if rng:
                v = s.cast(pl.Float64)
                assert float(rng[0]) <= v.min() and v.max() <= float(rng[1]), (name, cname)
            if name == "Referral" and cname == "ONSETDATE":
                assert s.str.contains(FORMATS["YEARMONTH"]).all()


def test_clinical_consistency(ltc_tables):
    """The cross-column rules of spec 6.4 that a clean file must respect."""
    t = ltc_tables
    ref = t["Referral"]
    app = t["Appointment"].join(
        ref.select("SERVICEID", "REFRECDATE", "ENDDATE", "ENDCODE"), on="SERVICEID", how="left"
    )
    att = pl.col("ATTENDANCE").is_in(["5", "6"])
    # FILE021 / REF250: every referral active in the RP
    assert ref.filter(pl.col("REFRECDATE") > "2017-10-31").height == 0
    assert ref.filter(pl.col("ENDDATE") < "2017-10-01").height == 0
    # REF240, REF260, REF280, REF270
    assert ref.filter(pl.col("ENDDATE") < pl.col("REFRECDATE")).height == 0
    assert ref.filter(pl.col("ENDDATE").is_null() != pl.col("ENDCODE").is_null()).height == 0
    treated = [c for c, a in CODE_ATTRIBUTES["EndCode"].items() if a["group"] == "TREATED"]
    assert ref.filter(pl.col("ENDCODE").is_in(treated) & pl.col("PROVDIAG").is_null()).height == 0
    attended_refs = app.filter(att)["SERVICEID"].unique().to_list()
    assert ref.filter((pl.col("ENDCODE") == "50") & pl.col("SERVICEID").is_in(attended_refs)).height == 0
    assert ref.filter(pl.col("OPTINDATE") < pl.col("REFRECDATE")).height == 0
    # APP150, APP160
    assert app.filter(pl.col("APPOINTMENT") < pl.col("REFRECDATE")).height == 0
    assert app.filter((pl.col("APPOINTMENT") > pl.col("ENDDATE")) & (pl.col("APPTYPE") != "06")).height == 0
    # APP200, APP190, APP220, APP230, APP250, APP270, APP280
    assert app.filter((pl.col("ATTENDANCE") == "2") != pl.col("CANCELLATION").is_not_null()).height == 0
    assert app.filter(pl.col("FFCOMM").is_not_null() & (pl.col("CONSMEDIUM") != "01")).height == 0
    treat = att & pl.col("APPTYPE").is_in(["02", "03", "05"])
    assert app.filter(treat & pl.col("THERTYPE1").is_null()).height == 0
    clinical = [c[0] for c in TABLES["Appointment"]["columns"][12:16]] + [
        c[0] for c in TABLES["Appointment"]["columns"][21:]
    ]
    assert app.filter(~att & pl.any_horizontal(pl.col(clinical).is_not_null())).height == 0
    scored = att & pl.col("APPTYPE").is_in(["01", "02", "03", "05"])
    assert app.filter(scored & (pl.col("PHQ9_SCORE").is_null() | pl.col("GAD7SCORE").is_null())).height == 0
    assert (
        app.filter(pl.col("EMPSUPPORTREFERRAL").is_not_null() & (pl.col("EMPSUPPORTIND") != "Y")).height == 0
    )
    assert (
        app.filter(
            att
            & (
                pl.col("CONTACTDURATION").cast(pl.Int64).is_in([0])
                | (pl.col("CONTACTDURATION").cast(pl.Int64) > 480)
            )
        ).height
        == 0
    )
    # APP210: no repeated therapy type
    assert app.filter(pl.col("THERTYPE1") == pl.col("THERTYPE2")).height == 0
    # APP260: no two attended appointments of a referral at the same date and time
    assert app.filter(att).select("SERVICEID", "APPOINTMENT", "APPOINTMENTTIME").is_duplicated().sum() == 0
    # DIS140 / LTC140: NN/ZZ and 97/98/99 never alongside other codes
    dis = (
        t["Disability"]
        .group_by("LPTID")
        .agg(pl.len(), pl.col("DISABILITY").is_in(["NN", "ZZ"]).any().alias("x"))
    )
    assert dis.filter(pl.col("x") & (pl.col("len") > 1)).height == 0
    ltc = (
        t["LTCCondition"]
        .group_by("SERVICEID")
        .agg(pl.len(), pl.col("LTCCODE").is_in(["97", "98", "99"]).any().alias("x"))
    )
    assert ltc.filter(pl.col("x") & (pl.col("len") > 1)).height == 0
    # LTA150: outcome scores only at attended appointments
    lta = t["LTCAppointment"].join(t["Appointment"].select("APPTID", "ATTENDANCE"), on="APPTID")
    assert (
        lta.filter(~att & (pl.col("PHQ15SCORE").is_not_null() | pl.col("IBSSSSCORE").is_not_null())).height
        == 0
    )
    # EA160 / EA170
    ea = t["EmploymentAdviser"].join(t["Appointment"].select("APPTID", "EMPSTATUS"), on="APPTID")
    benefits = ["JSAIND", "ESAIND", "UCIND", "PIPIND", "OTHERBENEFITIND"]
    assert (
        ea.filter((pl.col("BENEFITRECIND") == "N") & pl.any_horizontal(pl.col(benefits) == "Y")).height == 0
    )
    assert (
        ea.filter(
            pl.col("WEEKHOURSWORKED").is_in(["01", "02", "03", "04"])
            & pl.col("EMPSTATUS").is_not_null()
            & (pl.col("EMPSTATUS") != "01")
        ).height
        == 0
    )
    # WTP150/WTP160/WTP180
    wtp = t["WaitingTimePause"].join(ref.select("SERVICEID", "REFRECDATE"), on="SERVICEID")
    assert wtp.filter(pl.col("PAUSESTARTDATE") < pl.col("REFRECDATE")).height == 0
    assert wtp.filter(pl.col("PAUSEENDDATE") < pl.col("PAUSESTARTDATE")).height == 0
    prev = wtp.with_columns(pl.col("PAUSEENDDATE").fill_null("2017-10-31")).with_columns(
        pl.col("PAUSEENDDATE").shift().over("SERVICEID").alias("prev_end")
    )
    assert prev.filter(pl.col("PAUSESTARTDATE") <= pl.col("prev_end")).height == 0


def test_outcomes_are_meaningful(ltc_tables):
    """Most treated referrals start at caseness and many recover (spec 9.6-9.7)."""
    app = (
        ltc_tables["Appointment"]
        .filter(pl.col("PHQ9_SCORE").is_not_null() & (pl.col("APPTYPE") != "06"))
        .with_columns(pl.col("PHQ9_SCORE", "GAD7SCORE").cast(pl.Int64))
    )
    ended = ltc_tables["Referral"].filter(pl.col("ENDCODE").is_in(["46", "47", "48"]))["SERVICEID"]
    fl = (
        app.filter(pl.col("SERVICEID").is_in(ended.to_list()))
        .sort("SERVICEID", "APPOINTMENT")
        .group_by("SERVICEID")
        .agg(
            pl.len(),
            pl.col("PHQ9_SCORE", "GAD7SCORE").first().name.prefix("f_"),
            pl.col("PHQ9_SCORE", "GAD7SCORE").last().name.prefix("l_"),
        )
        .filter(pl.col("len") >= 3)
    )
    case = fl.filter((pl.col("f_PHQ9_SCORE") >= 10) | (pl.col("f_GAD7SCORE") >= 8))
    assert case.height / fl.height > 0.75
    recovered = case.filter((pl.col("l_PHQ9_SCORE") < 10) & (pl.col("l_GAD7SCORE") < 8))
    assert 0.3 < recovered.height / case.height < 0.8


def test_csvzip_is_readable(tmp_path, ltc_tables):
    path = write_csvzip(ltc_tables, tmp_path / "idb.zip")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == sorted(f"{n}.csv" for n in ltc_tables)
        raw = zf.read("Appointment.csv")
        assert b"\r\n" not in raw
        raw.decode("utf-8")
        for name, df in ltc_tables.items():
            back = pl.read_csv(io.BytesIO(zf.read(f"{name}.csv")), infer_schema=False)
            assert back.columns == df.columns
            assert back.equals(df, null_equal=True), name


def test_xlsx_is_readable(tmp_path, std_tables):
    path = write_xlsx(std_tables, tmp_path / "idb.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == list(std_tables)
    rows = list(wb["Referral"].iter_rows(min_row=1, max_row=3, values_only=True))
    assert list(rows[0]) == std_tables["Referral"].columns
    recdate = rows[1][rows[0].index("REFRECDATE")]
    assert hasattr(recdate, "year")  # a real date cell
    assert recdate.date().isoformat() == std_tables["Referral"]["REFRECDATE"][0]
    app = list(wb["Appointment"].iter_rows(min_row=1, max_row=2, values_only=True))
    assert app[1][app[0].index("APPTYPE")] == std_tables["Appointment"]["APPTYPE"][0]  # text "01", not 1
    assert isinstance(app[1][app[0].index("APPTYPE")], str)
    assert wb["Person"].max_row == std_tables["Person"].height + 1
    wb.close()


def test_generation_speed(capsys):
    for n in (1_000, 20_000):
        t0 = time.perf_counter()
        t = generate_idb(org="TSTP1", period=PERIOD, persons=n, profile="P15LTC", with_ea=True, seed=2)
        dt = time.perf_counter() - t0
        rows = sum(df.height for df in t.values())
        with capsys.disabled():
            print(f"\n[synth] {n} persons: {rows} rows in {dt:.2f}s ({rows / dt:,.0f} rows/s)")
        assert dt < 60
