"""Spec 10.5 commissioner view and row selection."""

from __future__ import annotations

import os
import time

import polars as pl
import pytest

from reporting.derived import (
    appt_refs,
    commissioner_extract,
    commissioner_rows,
    commissioner_view,
    derive,
    pseudonym,
)

from .examples import KEY, PERIOD, PROVIDER, frame, tables


@pytest.fixture
def derived() -> dict[str, pl.DataFrame]:
    t = tables()
    t["Referral"] = t["Referral"].with_columns(
        pl.when(pl.col("SERVICEID") == "R0002")
        .then(pl.lit("OTHC1"))
        .otherwise(pl.col("ORGCODECOMM"))
        .alias("ORGCODECOMM")
    )
    t["Disability"] = frame(
        "Disability", [{"LPTID": "P0003", "DISABILITY": "NN"}, {"LPTID": "P0002", "DISABILITY": "04"}]
    )
    t["EmploymentAdviser"] = frame(
        "EmploymentAdviser",
        [{"APPTID": "A0002", "EASESSIONIND": "Y"}, {"APPTID": "B0002", "EASESSIONIND": "N"}],
    )
    return derive(t, period=PERIOD, provider=PROVIDER, key=KEY)


def test_layout_of_every_table(derived: dict[str, pl.DataFrame]) -> None:
    c = commissioner_extract(derived, code="TSTC1", provider=PROVIDER, key=KEY)
    assert list(c) == [
        "Person",
        "Disability",
        "Referral",
        "Appointment",
        "AssessmentPEQ",
        "TreatmentPEQ",
        "WaitingTimePause",
        "EmploymentAdviser",
    ]
    assert c["Person"].columns == [
        "ORGCODEPROVIDER",
        "PERSON_ID",
        "NHSNOSTATUS",
        "GENDER",
        "GMPC",
        "ETHNICITY",
        "RELIGION",
        "SEXUALORIENTATION",
        "BAFINDICATOR",
        "LTCONDITION",
        "AGE_RP_START",
        "AGE_RP_END",
        "YEAR_OF_BIRTH",
        "POSTCODE_DISTRICT",
    ]
    assert c["Disability"].columns == ["ORGCODEPROVIDER", "PERSON_ID", "DISABILITY"]
    ref_cols = c["Referral"].columns
    assert ref_cols[:5] == ["ORGCODEPROVIDER", "PATHWAY_ID", "PERSON_ID", "ORGCODECOMM", "REFRECDATE"]
    assert ref_cols.count("PATHWAY_ID") == 1 and ref_cols[-1] == "WAIT_DAYS_ADJUSTED"
    assert ref_cols[ref_cols.index("ENDCODE") + 1] == "AGE_AT_REFERRAL"
    assert c["Appointment"].columns[:4] == ["ORGCODEPROVIDER", "APPT_REF", "PATHWAY_ID", "APPOINTMENT"]
    assert c["Appointment"].columns[-1] == "TREATMENT_RANK"
    assert c["WaitingTimePause"].columns[:3] == ["ORGCODEPROVIDER", "PATHWAY_ID", "PAUSEID"]
    assert c["EmploymentAdviser"].columns[:3] == ["ORGCODEPROVIDER", "APPT_REF", "EASESSIONIND"]


def test_rows_follow_the_commissioner(derived: dict[str, pl.DataFrame]) -> None:
    rows = commissioner_rows(derived, code="OTHC1")
    assert rows["Referral"].get_column("SERVICEID").to_list() == ["R0002"]
    assert rows["Person"].get_column("LPTID").to_list() == ["P0002"]
    assert rows["Disability"].get_column("LPTID").to_list() == ["P0002"]
    assert rows["Appointment"].get_column("APPTID").to_list() == [f"B000{i}" for i in range(1, 6)]
    assert rows["WaitingTimePause"].height == 1
    assert rows["EmploymentAdviser"].get_column("APPTID").to_list() == ["B0002"]
    c = commissioner_view(rows, provider=PROVIDER, key=KEY)
    assert c["EmploymentAdviser"].get_column("APPT_REF").to_list() == [pseudonym("A|TSTP1|B0002", KEY)]
    pathway = derived["Referral"].filter(pl.col("SERVICEID") == "R0002").get_column("PATHWAY_ID").item()
    assert set(c["Appointment"].get_column("PATHWAY_ID")) == {pathway}
    assert set(c["WaitingTimePause"].get_column("PATHWAY_ID")) == {pathway}


def test_view_keeps_rows_and_needs_key_only_without_stored_appt_ref(derived: dict[str, pl.DataFrame]) -> None:
    with pytest.raises(ValueError, match="APPT_REF"):
        commissioner_view(derived, provider=PROVIDER)
    stored = dict(derived)
    stored["Appointment"] = derived["Appointment"].with_columns(
        appt_refs(derived["Appointment"], provider=PROVIDER, key=KEY)
    )
    stored.pop("EmploymentAdviser")
    c = commissioner_view(stored, provider=PROVIDER)
    assert c["Appointment"].columns.count("APPT_REF") == 1 and c["Appointment"].columns[1] == "APPT_REF"
    assert c["Appointment"].height == derived["Appointment"].height
    assert c["Appointment"].get_column("APPT_REF").to_list() == [
        pseudonym(f"A|TSTP1|{a}", KEY) for a in derived["Appointment"].get_column("APPTID")
    ]


@pytest.mark.skipif(
    not os.environ.get("DERIVED_BENCH"), reason="set DERIVED_BENCH=1 for the 100k-person benchmark"
)
def test_benchmark_100k_persons() -> None:
    from validation.synth import generate_idb

    raw = generate_idb(org="TSTP1", period="2017-11", persons=100_000, seed=1)
    t = {
        k: v.with_row_index("ROW_NUMBER", offset=1).with_columns(pl.col("ROW_NUMBER").cast(pl.Int64))
        for k, v in raw.items()
    }
    start = time.perf_counter()
    derive(t, period="2017-11", provider="TSTP1", key=b"k" * 32)
    elapsed = time.perf_counter() - start
    print(
        f"derive: {elapsed:.2f}s for {t['Person'].height} persons, {t['Referral'].height} referrals, "
        f"{t['Appointment'].height} appointments"
    )
    assert elapsed < 10
